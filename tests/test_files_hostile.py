"""Files as an attacker gives them: reads that never end, writes that are killed, links, huge pictures.

* Every read of user text (specs, ``-`` standard input, ``--config`` of PaddleDetection /
  PaddleClas, ``lrkit.load``) is bounded while reading: ``/dev/zero``, an endless stream, a
  folder, a named pipe nobody writes to are refused fast, by name, as ``ValueError``.
* Every written file (CSV exports, plots) goes through a temporary file beside its final
  target: a symlink is written through (the link kept, its target replaced), a symlink loop
  is refused, and a SIGTERM / SIGHUP / SIGINT mid-write leaves no temporary file and the old
  target as it was (checked on real processes killed mid-export).
* A picture's pixel count (size x dpi, squared) is bounded before anything is drawn.
"""

from __future__ import annotations

import io
import math
import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import lrkit as lk
from lrkit import cli
from lrkit._files import atomic_open, atomic_path, read_text
from lrkit.config import MAX_SPEC_BYTES

SPEC = '{"type": "cosine", "peak_lr": 0.1, "total_steps": 10}'


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


class Endless(io.RawIOBase):
    """A binary stream that never ends (as /dev/zero, or a pipe fed forever); counts what was read."""

    def __init__(self, byte: bytes = b"0") -> None:
        self.byte, self.given = byte, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        n = len(b)
        b[:n] = self.byte * n
        self.given += n
        return n


class Counting:
    """A file object that records the largest read asked of it."""

    def __init__(self, data: bytes | str) -> None:
        self.data, self.asked = data, []

    def read(self, n: int = -1):
        self.asked.append(n)
        return self.data if n is None or n < 0 else self.data[:n]


# == 4. unbounded reads ================================================================================


def test_read_text_stops_at_the_limit_of_an_endless_stream():
    raw = Endless()
    t = time.perf_counter()
    with pytest.raises(ValueError, match=r"standard input holds more than 1,000 bytes; lrkit reads at most 1,000"):
        read_text(io.BufferedReader(raw), "standard input", limit=1000)
    assert time.perf_counter() - t < 1
    assert raw.given <= 1001 + io.DEFAULT_BUFFER_SIZE  # what was asked of the source, not a byte more
    c = Counting(b"x" * 10_000)
    with pytest.raises(ValueError, match="10 bytes"):
        read_text(c, "the spec", limit=10)
    assert c.asked == [11]


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_devices_are_read_bounded(device):
    t = time.perf_counter()
    with pytest.raises(ValueError, match=rf"spec file '{device}' holds more than {MAX_SPEC_BYTES:,} bytes"):
        lk.load(device)
    with pytest.raises(ValueError, match=rf"'{device}' holds more than 1,234 bytes"):
        read_text(device, "file", limit=1234)
    assert time.perf_counter() - t < 2


def test_a_regular_file_too_large_is_refused_by_its_size_before_reading(tmp_path, monkeypatch):
    big = tmp_path / "big.yaml"
    size = MAX_SPEC_BYTES + 17
    big.write_bytes(b"#" * size)
    with pytest.raises(ValueError, match=rf"big.yaml' is {size:,} bytes; lrkit reads at most {MAX_SPEC_BYTES:,}"):
        lk.load(big)
    with pytest.raises(ValueError, match=rf"is {size:,} bytes"):
        lk.load(str(big))
    exact = tmp_path / "exact.yaml"  # the limit itself is accepted
    body = "type: constant\nlr: 0.5\n"
    exact.write_text(body + "#" * (MAX_SPEC_BYTES - len(body) - 1) + "\n")
    assert lk.load(exact) == lk.Constant(0.5)


def test_folders_loops_pipes_and_binary_text_are_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match="is a folder"):
        lk.load(tmp_path)
    with pytest.raises(ValueError, match="is a folder"):
        lk.load(str(tmp_path))
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    with pytest.raises(ValueError, match="a.yaml' is a symlink loop"):
        lk.load(tmp_path / "a.yaml")
    nul = tmp_path / "nul.json"
    nul.write_bytes(b'{"type": "constant", "lr": 1}\x00')
    with pytest.raises(ValueError, match="nul.json' is a binary file"):
        lk.load(nul)
    latin = tmp_path / "latin.yaml"
    body = "type: constant # caf\xe9\nlr: 1\n"
    latin.write_bytes(body.encode("latin-1"))
    at = body.index("\xe9")
    with pytest.raises(ValueError, match=rf"latin.yaml' is not UTF-8 text \(byte 0xe9 at offset {at}\)"):
        lk.load(latin)
    bom = tmp_path / "bom.json"  # a byte-order mark (Windows editors) is not part of the text
    bom.write_bytes(b"\xef\xbb\xbf" + SPEC.encode())
    assert lk.load(bom) == lk.Cosine(0.1, 10)
    with pytest.raises(ValueError, match="must be a path or an open file"):
        read_text(3.5, "source")
    with pytest.raises(ValueError, match="limit must be a whole number"):
        read_text(str(bom), "file", limit=-1)


def test_a_named_pipe_without_a_writer_is_not_waited_for(tmp_path):
    """Reading a FIFO nobody writes to returns at once, refused; with a writer it is read."""
    fifo = tmp_path / "spec.fifo"
    os.mkfifo(fifo)
    code = textwrap.dedent(f"""
        import lrkit
        try:
            lrkit.load({str(fifo)!r})
        except ValueError as e:
            print(e)
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "is a named pipe with nothing written to it" in r.stdout, r.stderr
    # a pipe with a writer (as `lrkit show <(cat spec.json)` gives) is read as it comes
    r = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m lrkit show <(printf '%s' '{SPEC}') -n 3"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0 and "0.1" in r.stdout, r.stderr


def test_load_reads_an_open_file_bounded(tmp_path):
    p = tmp_path / "s.json"
    p.write_text(SPEC)
    with open(p, encoding="utf-8") as fh:
        assert lk.load(fh) == lk.Cosine(0.1, 10)
    with open(p, "rb") as fh:
        assert lk.load(fh) == lk.Cosine(0.1, 10)
    raw = Endless(b" ")
    with pytest.raises(ValueError, match=f"the spec holds more than {MAX_SPEC_BYTES:,} bytes"):
        lk.load(io.BufferedReader(raw))
    assert raw.given < 2 * MAX_SPEC_BYTES
    with pytest.raises(TypeError, match="source must be a path, an open file or spec text"):
        lk.load(42)


def test_cli_stdin_is_read_bounded(monkeypatch):
    class Stdin:
        buffer = io.BufferedReader(Endless(b"{"))

    monkeypatch.setattr(sys, "stdin", Stdin())
    code, out, err = run("show", "-")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"standard input (SPEC '-') holds more than {MAX_SPEC_BYTES:,} bytes" in err
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(SPEC.encode())))
    code, out, err = run("show", "-", "-n", "3")
    assert code == 0, err


def test_cli_show_dev_zero_in_a_real_process():
    """`lrkit show - < /dev/zero` and `lrkit show /dev/zero`: an error line at once, little memory."""
    with open("/dev/zero", "rb") as zero:
        r = subprocess.run(
            [sys.executable, "-m", "lrkit", "show", "-"], stdin=zero, capture_output=True, text=True, timeout=60
        )
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "holds more than" in r.stderr, r.stderr
    r = subprocess.run([sys.executable, "-m", "lrkit", "show", "/dev/zero"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "'/dev/zero' holds more than 1,000,000 bytes" in r.stderr, r.stderr


@pytest.mark.parametrize(
    "recipe,opts", [("ppdet", ["--step-per-epoch", "10"]), ("ppcls", ["--step-each-epoch", "10", "--epochs", "5"])]
)
def test_cli_foreign_configs_are_read_bounded(recipe, opts, tmp_path):
    t = time.perf_counter()
    code, out, err = run("show", recipe, "--config", "/dev/zero", *opts)
    assert code == 2 and err.count("\n") == 1 and f"--config '/dev/zero' holds more than {MAX_SPEC_BYTES:,}" in err
    big = tmp_path / "big.yml"
    big.write_bytes(b"LearningRate:\n  base_lr: 0.01\n" + b"# padding\n" * 1_400_000)  # 14 MB
    code, out, err = run("show", recipe, "--config", str(big), *opts)
    assert code == 2 and f"is {big.stat().st_size:,} bytes; lrkit reads at most {MAX_SPEC_BYTES:,}" in err
    code, out, err = run("show", recipe, "--config", str(tmp_path), *opts)
    assert code == 2 and "is a folder" in err
    code, out, err = run("show", recipe, "--config", str(tmp_path / "missing.yml"), *opts)
    assert code == 2 and "cannot read --config" in err and "No such file" in err
    assert time.perf_counter() - t < 5


def test_no_unbounded_read_is_left_in_the_sources():
    """Every read of user text goes through read_text: no bare read() / read_text() / getsize in lrkit."""
    import re

    root = os.path.dirname(lk.__file__)
    bare = re.compile(r"\.read\(\)|\.read_text\(|\.read_bytes\(|getsize\(|sys\.stdin\.read")
    found = []
    for folder, _, files in os.walk(root):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as fh:
                    for i, line in enumerate(fh, 1):
                        if bare.search(line) and "catalog.py" not in path:  # the catalog reads README.md (dev)
                            found.append(f"{os.path.relpath(path, root)}:{i}: {line.strip()}")
    assert not found, found


def _undecodable(data: bytes) -> bool:
    try:
        data.decode("utf-8-sig")
        return False
    except UnicodeDecodeError:
        return True


# == 10. output files ==================================================================================


def _leftovers(*folders) -> list[str]:
    return sorted(n for f in folders for n in os.listdir(f) if n.startswith("."))


def test_write_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path):
    real_dir, link_dir = tmp_path / "real", tmp_path / "links"
    real_dir.mkdir()
    link_dir.mkdir()
    target = real_dir / "lr.csv"
    target.write_text("old\n")
    os.chmod(target, 0o640)
    ino = target.stat().st_ino
    link = link_dir / "lr.csv"
    link.symlink_to(os.path.relpath(target, link_dir))
    seen = []
    with atomic_path(link, ".csv") as tmp:
        seen.append(os.path.dirname(tmp))
        with open(tmp, "w") as fh:
            fh.write("new\n")
        assert target.read_text() == "old\n"  # nothing changes before the block ends
    assert seen == [str(real_dir)]  # the temporary file is beside the target, so the rename is atomic there
    assert link.is_symlink() and os.readlink(link) == os.path.relpath(target, link_dir)
    assert target.read_text() == "new\n" and target.stat().st_ino != ino  # replaced by a rename, not rewritten
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the replaced file's mode
    assert _leftovers(real_dir, link_dir) == []
    # a chain of links: the last one's target
    link2 = tmp_path / "chain.csv"
    link2.symlink_to(link)
    with atomic_open(link2) as fh:
        fh.write("chained\n")
    assert link2.is_symlink() and link.is_symlink() and target.read_text() == "chained\n"


def test_cli_and_plots_write_through_symlinks(tmp_path):
    target = tmp_path / "data" / "lr.csv"
    target.parent.mkdir()
    target.write_text("old\n")
    link = tmp_path / "lr.csv"
    link.symlink_to(target)
    code, out, err = run("export", "-n", "5", "--csv", str(link))
    assert code == 0, err
    assert link.is_symlink() and target.read_text().splitlines()[:2] == ["position,lr", "0,0.0"]
    import matplotlib  # noqa: F401  (a test dependency: installed in CI)

    from lrkit.plot import save_plot

    png = tmp_path / "data" / "lr.png"
    png.write_bytes(b"old")
    plink = tmp_path / "lr.png"
    plink.symlink_to(png)
    save_plot(lk.Cosine(0.1, 10), plink, dpi=20, size=(2, 2))
    assert plink.is_symlink() and png.read_bytes()[:4] == b"\x89PNG"
    assert _leftovers(tmp_path, tmp_path / "data") == []


def test_a_dangling_symlink_gets_its_target(tmp_path):
    link = tmp_path / "out.csv"
    link.symlink_to("made/later.csv")
    (tmp_path / "made").mkdir()
    with atomic_open(link) as fh:
        fh.write("x\n")
    assert link.is_symlink() and (tmp_path / "made" / "later.csv").read_text() == "x\n"
    gone = tmp_path / "gone.csv"
    gone.symlink_to("nowhere/x.csv")
    with pytest.raises(ValueError, match=r"gone.csv'.*No such file or directory.*does not exist"):
        with atomic_open(gone) as fh:
            fh.write("x\n")
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("shape", ["self", "pair", "folder"])
def test_a_symlink_loop_is_a_value_error(tmp_path, shape):
    if shape == "self":
        path = tmp_path / "self.csv"
        path.symlink_to(path)
    elif shape == "pair":
        (tmp_path / "b.csv").symlink_to(tmp_path / "a.csv")
        path = tmp_path / "a.csv"
        path.symlink_to(tmp_path / "b.csv")
    else:
        (tmp_path / "d").symlink_to(tmp_path / "d")
        path = tmp_path / "d" / "x.csv"
    with pytest.raises(ValueError, match="symlink loop"):
        with atomic_open(path) as fh:
            fh.write("x")
    code, out, err = run("export", "-n", "3", "--csv", str(path))
    assert code == 2 and err.count("\n") == 1 and "--csv" in err and "symlink loop" in err
    assert _leftovers(tmp_path) == []


def test_folders_and_devices_as_output(tmp_path):
    code, out, err = run("export", "-n", "3", "--csv", str(tmp_path))
    assert code == 2 and "is a folder" in err
    # an existing device or pipe is written directly: never replaced by a file (as root, /dev/null could be)
    code, out, err = run("export", "-n", "3", "--csv", os.devnull)
    assert code == 0, err
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_handlers_are_installed_for_the_write_only_and_chain_to_the_previous(tmp_path):
    target = tmp_path / "t.csv"
    target.write_text("old\n")
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    calls = []

    class Stop(Exception):
        pass

    def raising(signum, frame):
        calls.append(signum)
        raise Stop

    def returning(signum, frame):
        calls.append(signum)

    old = signal.signal(signal.SIGTERM, raising)
    try:
        with pytest.raises(Stop):
            with atomic_open(target) as fh:
                fh.write("half")
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(100):  # the handler runs between bytecodes
                    time.sleep(0.001)
        assert calls == [signal.SIGTERM] and target.read_text() == "old\n" and _leftovers(tmp_path) == []
        assert signal.getsignal(signal.SIGTERM) is raising
        signal.signal(signal.SIGTERM, returning)  # a handler that returns: the write goes on
        with atomic_open(target) as fh:
            fh.write("first ")
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
            fh.write("whole\n")
        assert calls == [signal.SIGTERM] * 2 and target.read_text() == "first whole\n"
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # ignored stays ignored
        with atomic_open(target) as fh:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)
            fh.write("kept\n")
        assert target.read_text() == "kept\n"
    finally:
        signal.signal(signal.SIGTERM, old)
    with pytest.raises(KeyboardInterrupt):  # Python's own SIGINT handler
        with atomic_open(target) as fh:
            fh.write("x")
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
    assert target.read_text() == "kept\n" and _leftovers(tmp_path) == []
    assert {s: signal.getsignal(s) for s in before} == before


def test_writes_from_other_threads_still_work(tmp_path):
    errors = []

    def write(i):
        try:
            with atomic_open(tmp_path / f"{i}.csv") as fh:
                fh.write(f"{i}\n")
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and sorted(p.name for p in tmp_path.iterdir()) == [f"{i}.csv" for i in range(4)]


def _kill_mid_write(argv, target, sig, env=None):
    """Start ``argv``, wait until its temporary file beside ``target`` holds data, send ``sig``."""
    folder = os.path.dirname(target)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            temps = [n for n in os.listdir(folder) if n.startswith("." + os.path.basename(target))]
            if temps and os.path.getsize(os.path.join(folder, temps[0])) > 0:
                break
            if proc.poll() is not None:
                pytest.fail(f"the writer ended before it was killed: {proc.communicate()}")
            time.sleep(0.01)
        else:  # pragma: no cover
            pytest.fail("no temporary file appeared")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:  # pragma: no cover
            proc.kill()
            proc.wait()
    return proc.returncode, err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=["TERM", "HUP", "INT"])
def test_a_killed_export_leaves_no_temporary_file_and_the_old_target(tmp_path, sig):
    target = tmp_path / "rows.csv"
    target.write_text("precious\n")
    code, err = _kill_mid_write(
        [sys.executable, "-m", "lrkit", "export", "-n", "40000000", "--csv", str(target)], str(target), sig
    )
    if sig == signal.SIGINT:
        assert code == 130 and "interrupted" in err
    else:
        assert code == -sig, err  # ended by the signal, as the default action would
    assert target.read_text() == "precious\n"
    assert sorted(os.listdir(tmp_path)) == ["rows.csv"]


def test_a_killed_slow_plot_leaves_no_temporary_file(tmp_path):
    import matplotlib  # noqa: F401  (a test dependency: installed in CI)

    target = tmp_path / "lr.png"
    target.write_bytes(b"old picture")
    link = tmp_path / "link.png"
    link.symlink_to(target)
    child = textwrap.dedent(f"""
        import time
        import lrkit
        from matplotlib.figure import Figure
        from lrkit.plot import save_plot

        def slow(self, fname, **kw):  # a writer slow enough to be killed mid-write
            with open(fname, "wb") as fh:
                for _ in range(10_000):
                    fh.write(b"x" * 1000)
                    fh.flush()
                    time.sleep(0.01)

        Figure.savefig = slow
        save_plot(lrkit.Cosine(0.1, 10), {str(link)!r}, dpi=20, size=(2, 2))
    """)
    code, err = _kill_mid_write([sys.executable, "-c", child], str(target), signal.SIGTERM)
    assert code == -signal.SIGTERM, err
    assert target.read_bytes() == b"old picture" and link.is_symlink()
    assert sorted(os.listdir(tmp_path)) == ["link.png", "lr.png"]


# == 11. picture size =====================================================================================

PIXEL_CASES = [
    ((50, 50), 1000),
    ((50, 50), 150),
    ((8, 4.5), 1000),
    ((20, 20), 400),
    ((1, 1), 1000),
    ((50, 1), 1000),
    ((10, 10), 707),
    ((10, 10), 708),
    ((7.07, 7.07), 1000),
    ((25, 40), 224),
]


@pytest.mark.parametrize("size,dpi", PIXEL_CASES)
def test_pixel_count_is_bounded_before_drawing(size, dpi, tmp_path, monkeypatch):
    import matplotlib  # noqa: F401  (a test dependency: installed in CI)

    from lrkit import plot

    pixels = math.ceil(size[0] * dpi) * math.ceil(size[1] * dpi)
    drew = []
    monkeypatch.setattr(plot, "plot_schedule", lambda *a, **k: drew.append(1))
    monkeypatch.setattr(plot, "_save", lambda *a, **k: None)  # no real drawing: only the check is measured
    if pixels <= 50_000_000:
        plot.save_plot(lk.Constant(1.0), tmp_path / "a.png", size=size, dpi=dpi)
        assert drew == [1]
        return
    with pytest.raises(ValueError) as e:
        plot.save_plot(lk.Constant(1.0), tmp_path / "a.png", size=size, dpi=dpi)
    msg = str(e.value)
    assert f"{pixels:,} pixels" in msg and "50,000,000" in msg and f"dpi {dpi}" in msg and "size" in msg
    assert drew == [] and not (tmp_path / "a.png").exists()
    for save in (
        lambda: plot.save_overlay(
            {"a": lk.Constant(1.0), "b": lk.Constant(2.0)}, tmp_path / "b.png", 10, size=size, dpi=dpi
        ),
        lambda: plot.save_series({"lr": lk.Constant(1.0)}, tmp_path / "c.png", [0, 1], size=size, dpi=dpi),
    ):
        with pytest.raises(ValueError, match="50,000,000"):
            save()
    assert os.listdir(tmp_path) == []


def test_the_legend_room_counts_and_figure_is_bounded_too():
    import matplotlib  # noqa: F401  (a test dependency: installed in CI)

    from lrkit import plot

    many = {str(i): lk.Constant(1.0 + i) for i in range(20)}  # 8 x (4.5 + 5) inches at 1000 dpi: 76 Mpx
    with pytest.raises(ValueError, match=r"8 x 9.5 with the legend's room\) at dpi 1000 is 8,000 x 9,500"):
        plot.save_overlay(many, "x.png", 10, dpi=1000)
    with pytest.raises(ValueError, match="2,500,000,000 pixels"):
        plot.figure((50, 50), dpi=1000)
    for dpi in (0, -5, math.nan, math.inf, 1001, True, "150"):
        with pytest.raises(ValueError, match="dpi must be a number between 1 and 1000"):
            plot.save_plot(lk.Constant(1.0), "x.png", dpi=dpi)


def test_cli_refuses_a_huge_picture_in_one_line_before_any_work(tmp_path):
    out_file = tmp_path / "lr.png"
    t = time.perf_counter()
    code, out, err = run("plot", "-o", str(out_file), "--size", "50", "50", "--dpi", "1000")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "--size 50 x 50 inches at --dpi 1000 is 50,000 x 50,000 = 2,500,000,000 pixels" in err
    assert "at most 50,000,000 (50 megapixels)" in err and "at most 141 at this size" in err
    code, out, err = run("compare", SPEC, SPEC, "-o", str(out_file), "--size", "20", "20", "--dpi", "400")
    assert code == 2 and "8,000 x 8,200 = 65,600,000 pixels" in err
    assert time.perf_counter() - t < 5 and not out_file.exists()
    code, help_text, _ = run("plot", "--help")
    assert "50 megapixels" in " ".join(help_text.split())
