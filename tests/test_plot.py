"""Plotting with matplotlib (plot.py) and the terminal plot (textplot.py)."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import matplotlib
import numpy as np
import pytest

import lrkit
from lrkit import cli
from lrkit.plot import default_steps, figure, plot_schedule, positions, save_plot, spec_label
from lrkit.textplot import can_encode_unicode, text_plot

matplotlib.use("Agg")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
WC = lrkit.WarmupCosine(peak_lr=0.1, total_steps=1000, warmup_steps=100, min_lr=0.001)


# -- positions, default length, labels ---------------------------------------------------------------------
def test_positions():
    assert positions(3).tolist() == [0.0, 1.0, 2.0]
    assert positions(2, subdivide=4).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
    for bad in (0, -1, 2.5, True, "3"):
        with pytest.raises(ValueError, match="steps"):
            positions(bad)
    with pytest.raises(ValueError, match="subdivide"):
        positions(3, subdivide=0)


def test_default_steps():
    assert default_steps(WC) == 1100
    assert default_steps(lrkit.Cosine(peak_lr=1.0, total_steps=45)) == 50  # ceil(49.5)
    assert default_steps(lrkit.Constant(lr=0.1)) == 1000
    assert default_steps(lrkit.InverseSqrt(peak_lr=0.1, timescale=10)) == 1000


def test_spec_label_leaves_out_defaults_and_nests():
    assert spec_label(WC) == "warmup_cosine(peak_lr=0.1, total_steps=1000, warmup_steps=100, min_lr=0.001)"
    nested = lrkit.Warmup(lrkit.Cosine(peak_lr=0.5, total_steps=90, k=2.0), warmup_steps=10)
    assert spec_label(nested) == "warmup(schedule=cosine(peak_lr=0.5, total_steps=90, k=2), warmup_steps=10)"
    fn = lrkit.FunctionSchedule(lambda t: 1.0)
    assert spec_label(fn) == repr(fn)  # not writable as a config: falls back to repr


# -- plot_schedule ----------------------------------------------------------------------------------------------
def _data_lines(ax):
    return [ln for ln in ax.lines if ln.get_gid() != "lrkit-phase-boundary"]


def test_plot_schedule_draws_the_values_and_the_phases():
    fig = figure()
    ax = fig.add_subplot()
    assert plot_schedule(WC, 1100, ax) is ax
    (line,) = _data_lines(ax)
    x, y = line.get_xdata(), line.get_ydata()
    np.testing.assert_array_equal(x, np.arange(1100.0))
    np.testing.assert_array_equal(y, WC(np.arange(1100.0)))
    bounds = sorted(ln.get_xdata()[0] for ln in ax.lines if ln.get_gid() == "lrkit-phase-boundary")
    assert bounds == [100, 1000]
    names = {t.get_text() for t in ax.texts}
    assert names == {p.name for p in WC.phases()}
    lo, hi = ax.get_ylim()
    assert lo == 0 and hi > 0.1  # from zero, room above the peak for the names
    assert ax.get_xlim() == (0, 1099 * 1.02)  # 2 % of room on the right: the last marker is drawn whole


def test_jumps_are_upright_and_few_positions_are_stairs():
    s = lrkit.MultiStep(peak_lr=0.1, milestones=[300, 600], gamma=0.1)
    fig = figure()
    ax = fig.add_subplot()
    plot_schedule(s, 1000, ax)
    (line,) = _data_lines(ax)
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    assert line.get_drawstyle() == "default" and len(x) == 1002
    for m, before, after in [(300, 0.1, 0.1 * 0.1), (600, 0.1 * 0.1, 0.1 * 0.1 * 0.1)]:
        (i,) = np.flatnonzero(x == m)[:1]
        assert x[i + 1] == m and y[i] == pytest.approx(before) and y[i + 1] == pytest.approx(after)
    # every original sample is still there, with its value
    keep = np.ones(len(x), bool)
    keep[[np.flatnonzero(x == 300)[0], np.flatnonzero(x == 600)[0]]] = False
    np.testing.assert_array_equal(x[keep], np.arange(1000.0))
    np.testing.assert_array_equal(y[keep], s(np.arange(1000.0)))

    ax2 = figure().add_subplot()
    plot_schedule(s, 100, ax2, subdivide=1)
    assert _data_lines(ax2)[0].get_drawstyle() == "steps-post"


def test_plot_schedule_title_log_and_overlay():
    fig = figure()
    ax = fig.add_subplot()
    plot_schedule(WC, 1100, ax, title=True, log=True, label="a")
    plot_schedule(WC.scaled(0.5), 1100, ax, phases=False, label="b", color="C1")
    assert ax.get_title().replace("\n", " ") == spec_label(WC)
    assert ax.get_yscale() == "log"
    assert len(_data_lines(ax)) == 2
    lo, hi = ax.get_ylim()
    assert 0 < lo <= 0.0005 and hi > 0.1  # both curves fit: the scaled floor is 0.0005


def test_plot_schedule_on_pyplot_current_axes():
    import matplotlib.pyplot as plt

    fig = plt.figure()
    try:
        ax = plot_schedule(lrkit.Cosine(peak_lr=1.0, total_steps=10))
        assert ax is plt.gca() and ax.figure is fig
        assert len(_data_lines(ax)) == 1 and len(_data_lines(ax)[0].get_xdata()) == 11  # ceil(1.1 * 10)
    finally:
        plt.close(fig)


def test_plot_schedule_explicit_positions_and_errors():
    fig = figure()
    ax = fig.add_subplot()
    plot_schedule(WC, np.linspace(0, 50, 11), ax)
    np.testing.assert_array_equal(_data_lines(ax)[0].get_ydata(), WC(np.linspace(0, 50, 11)))
    with pytest.raises(ValueError, match="sorted"):
        plot_schedule(WC, [3.0, 1.0], ax)
    with pytest.raises(ValueError, match="log scale"):
        plot_schedule(lrkit.Constant(lr=0.0), 10, ax, log=True)


def test_phase_names_do_not_overlap():
    """Many short phases: names go on a second row or are left out, never drawn over each other."""
    s = lrkit.MultiStep(peak_lr=0.1, milestones=[30, 60, 62, 64, 66, 90])
    fig = figure()
    ax = fig.add_subplot()
    plot_schedule(s, 100, ax)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(r) for t in ax.texts]
    assert len(boxes) >= 4
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)
    axbox = ax.get_window_extent(r)
    for b in boxes:
        assert axbox.x0 - 1 <= b.x0 and b.x1 <= axbox.x1 + 1


@pytest.mark.parametrize("ext,magic", [("png", PNG_MAGIC), ("svg", b"<?xml"), ("pdf", b"%PDF")])
def test_save_plot_formats(tmp_path, ext, magic):
    path = tmp_path / f"lr.{ext}"
    assert save_plot(WC, path) == str(path)
    data = path.read_bytes()
    assert data.startswith(magic) and len(data) > 1000
    if ext == "svg":
        assert b"warmup (linear)" in data or b"warmup" in data


def test_save_plot_rejects_unknown_formats(tmp_path):
    with pytest.raises(ValueError, match=r"\.png"):
        save_plot(WC, tmp_path / "lr.nope")
    assert not list(tmp_path.iterdir())


# -- lrkit plot ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name,magic", [("lr.png", PNG_MAGIC), ("lr.svg", b"<?xml"), ("lr.pdf", b"%PDF")])
def test_cli_plot_formats(tmp_path, name, magic):
    out, err = io.StringIO(), io.StringIO()
    spec = json.dumps({"type": "cosine_restarts", "peak_lr": 0.1, "period": 100, "period_mult": 2, "max_cycles": 3})
    code = cli.main(["plot", spec, "-o", str(tmp_path / name), "--log", "--subdivide", "2"], out=out, err=err)
    assert code == 0, err.getvalue()
    data = (tmp_path / name).read_bytes()
    assert data.startswith(magic) and len(data) > 1000


def test_cli_plot_subprocess_png(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "lrkit", "plot", "-o", "out.png", "-n", "1500", "--title", "mine"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out.png").read_bytes()[:8] == PNG_MAGIC


def test_import_lrkit_does_not_import_matplotlib():
    code = (
        "import sys, lrkit, lrkit.cli, lrkit.plot, lrkit.textplot; "
        "lrkit.schedule_of(lrkit.Cosine(0.1, 10)); "
        "bad = [m for m in ('matplotlib', 'torch', 'paddle', 'jax', 'keras', 'optax') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# -- text_plot ----------------------------------------------------------------------------------------------------
def _grid(plot: str) -> list[str]:
    """The plot area only: the lines above the x axis, without the y labels and the axis."""
    out = []
    for line in plot.splitlines()[:-2]:
        i = min(line.index(c) for c in "|\u2502\u2524" if c in line)
        out.append(line[i + 1 :])
    return out


def test_text_plot_rising_line_goes_from_bottom_left_to_top_right():
    x = np.arange(100.0)
    plot = text_plot(x, x / 99, width=20, height=5, ascii=True)
    rows = [r.ljust(20) for r in _grid(plot)]
    assert len(rows) == 5
    assert rows[-1][0] == "*" and rows[0][-1] == "*"
    assert rows[0][0] == " " and rows[-1][-1] == " "
    lines = plot.splitlines()
    assert lines[0].lstrip().startswith("1 |") and lines[2].startswith("0.5 |") and lines[4].lstrip().startswith("0 |")
    assert lines[-1].split() == ["0", "99"]


def test_text_plot_jump_is_a_vertical_stroke():
    x = np.arange(60.0)
    y = np.where(x < 30, 1.0, 0.0)
    rows = [r.ljust(60) for r in _grid(text_plot(x, y, width=60, height=6, ascii=True))]
    col = next(c for c in range(60) if rows[2][c] == "*")  # the middle rows are crossed only by the jump
    assert all(rows[r][col] == "*" for r in range(6))
    assert abs(col - 29.5) <= 1


def test_text_plot_braille_and_marks():
    x = np.arange(1100.0)
    plot = text_plot(x, WC(x), marks=[100, 1000])
    assert all(ord(ch) < 128 or "\u2500" <= ch <= "\u257f" or "\u2800" <= ch <= "\u28ff" for ch in plot)
    axis, labels = plot.splitlines()[-2:]
    assert axis.count("\u252c") == 2  # ticks at 100 and 1000
    assert labels.split() == ["0", "100", "1000", "1099"]
    assert len(plot.splitlines()) == 17


def test_text_plot_log_and_flat():
    x = np.arange(10.0)
    plot = text_plot(x, 10.0**-x, width=10, height=4, log=True, ascii=True)
    assert plot.splitlines()[0].lstrip().startswith("1 |") and plot.splitlines()[3].startswith("1e-09 |")
    flat = text_plot(x, np.full(10, 0.5), width=10, height=5, ascii=True)
    assert "0.5" in flat and flat.count("*") == 10
    with pytest.raises(ValueError, match="log scale"):
        text_plot(x, np.zeros(10), log=True)


def test_text_plot_few_points_hold_their_value():
    plot = text_plot(np.arange(3.0), np.array([0.0, 1.0, 2.0]), width=9, height=3, ascii=True)
    rows = [r.ljust(9) for r in _grid(plot)]
    assert rows[2][:4] == "****"  # value 0 holds until the next position


def test_text_plot_errors():
    with pytest.raises(ValueError, match="size"):
        text_plot(np.arange(3.0), np.arange(3.0), width=2)
    with pytest.raises(ValueError, match="as many"):
        text_plot(np.arange(3.0), np.arange(2.0))
    with pytest.raises(ValueError, match="sorted"):
        text_plot(np.array([2.0, 1.0, 0.0]), np.arange(3.0), width=10)


def test_can_encode_unicode():
    class Stream:
        def __init__(self, encoding):
            self.encoding = encoding

    assert can_encode_unicode(Stream("utf-8"))
    assert not can_encode_unicode(Stream("ascii"))
    assert can_encode_unicode(io.StringIO())


def test_show_falls_back_to_ascii_when_the_terminal_cannot_print_braille(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "lrkit", "show"],
        capture_output=True,
        timeout=60,
        env={"PYTHONIOENCODING": "ascii", "PATH": ""},
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.isascii() and b"*" in r.stdout


def test_plot_schedules_overlay_with_legend(tmp_path):
    from lrkit.plot import plot_schedules, save_overlay

    a, b = WC, lrkit.Cosine(peak_lr=0.1, total_steps=1000)
    ax = figure().add_subplot()
    plot_schedules({"a": a, "b": b}, None, ax)
    lines = _data_lines(ax)
    assert [ln.get_label() for ln in lines] == ["a", "b"]
    assert lines[0].get_linestyle() != lines[1].get_linestyle()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    assert len(lines[0].get_xdata()) == 1100  # the longer default of the two
    np.testing.assert_array_equal(lines[1].get_ydata(), b(np.arange(1100.0)))
    assert not [ln for ln in ax.lines if ln.get_gid() == "lrkit-phase-boundary"]
    with pytest.raises(ValueError):
        plot_schedules({}, 10, ax)
    path = save_overlay({"a": a, "b": b}, tmp_path / "o.png", 500, log=True)
    assert open(path, "rb").read(8) == PNG_MAGIC


# -- key points, groups, epochs, long curves -------------------------------------------------------------------
def test_key_points_of_warmup_cosine():
    x = np.arange(1100.0)
    pts = {k: (p, v) for k, p, v in __import__("lrkit.plot", fromlist=["key_points"]).key_points(WC, x, WC(x))}
    assert pts["peak"] == (100.0, pytest.approx(0.1))
    assert pts["flat"] == (1000.0, pytest.approx(0.001))
    assert pts["final"] == (1099.0, pytest.approx(0.001))
    assert "restart" not in pts


def test_key_points_find_the_restarts():
    from lrkit.plot import key_points

    s = lrkit.CosineRestarts(peak_lr=0.1, period=100, period_mult=2, max_cycles=3)
    x = np.arange(800.0)
    restarts = [p for k, p, _ in key_points(s, x, s(x)) if k == "restart"]
    assert restarts == [100.0, 300.0]  # cycle starts: 100, 100 + 200
    cawb = lrkit.CAWB(45, steps=[15, 30], step_scale=0.7, batchs=50, warmup_epoch=5)
    x = np.arange(2250.0)
    # step() after each epoch: the restarts at epochs 15 and 30 apply from epochs 17 and 32
    assert [p / 50 for k, p, _ in key_points(cawb, x, cawb(x)) if k == "restart"] == [17.0, 32.0]


def test_annotated_plot_labels_do_not_overlap():
    s = lrkit.CosineRestarts(peak_lr=0.1, period=100, period_mult=2, max_cycles=3)
    fig = figure()
    ax = fig.add_subplot()
    plot_schedule(s, 800, ax, annotate=True, title=True)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    labels = [t for t in ax.texts if t.get_gid() == "lrkit-key-point"]
    assert any(t.get_text().startswith("peak 0.1") for t in labels)
    assert any(t.get_text() == "restart at 100" for t in labels)
    boxes = [t.get_window_extent(r) for t in ax.texts]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)
    # the markers do not count as data
    assert len(_data_lines(ax)) == 1 + sum(ln.get_gid() == "lrkit-key-point" for ln in ax.lines)


def test_groups_and_epochs():
    s = lrkit.TorchvisionWarmup(warmup_iters=100, warmup_factor=0.001)
    fig = figure()
    ax = fig.add_subplot()
    plot_schedule(s, 200, ax, groups=[0.1, 0.01], steps_per_epoch=50)
    lines = _data_lines(ax)
    assert [ln.get_label() for ln in lines] == ["group 0: 0.1 x schedule", "group 1: 0.01 x schedule"]
    x = np.asarray(lines[0].get_xdata())
    np.testing.assert_allclose(x, np.arange(200) / 50)
    np.testing.assert_allclose(lines[1].get_ydata(), 0.01 * s(np.arange(200.0)))
    assert ax.get_xlabel() == "epoch" and ax.get_legend() is not None
    bounds = [ln.get_xdata()[0] for ln in ax.lines if ln.get_gid() == "lrkit-phase-boundary"]
    assert bounds == [2.0]  # warmup ends at 100 positions = 2 epochs
    with pytest.raises(ValueError, match="groups"):
        plot_schedule(s, 10, ax, groups=[0.1, -1])
    with pytest.raises(ValueError, match="steps_per_epoch"):
        plot_schedule(s, 10, ax, steps_per_epoch=0)
    with pytest.raises(ValueError, match="values"):
        plot_schedule(s, 10, ax, values=np.zeros(3))


def test_long_curves_keep_their_extremes_and_jumps():
    s = lrkit.CosineRestarts(peak_lr=1.0, period=1000, min_lr=0.1)
    ax = figure().add_subplot()
    plot_schedule(s, 200_000, ax)
    (line,) = _data_lines(ax)
    x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    assert len(x) <= 4 * 4000 + 10 and np.all(np.diff(x) >= 0)
    full = s(np.arange(200_000.0))
    assert y.max() == full.max() and y.min() == full.min()
    # each restart is still a jump from near the floor to the peak
    at = y[x == 1000.0]  # drawn upright: the value before and the value after, at the same x
    assert at.min() < 0.2 and at.max() == 1.0


def test_figure_options_and_what_the_y_axis_says(tmp_path):
    import lrkit as lk
    from lrkit.plot import plot_schedule, save_plot

    fig = figure()
    ax = fig.add_subplot()
    plot_schedule(lk.CAWB(45, steps=[15, 30], batchs=10), ax=ax)
    assert ax.get_ylabel() == "multiplier of the base lr"
    ax = figure().add_subplot()
    plot_schedule(lk.CAWB(45, steps=[15, 30], batchs=10), ax=ax, groups=[0.1, 0.01])
    assert ax.get_ylabel() == "learning rate"  # base lrs given: the values drawn are lrs
    ax = figure().add_subplot()
    plot_schedule(lk.Cosine(0.1, 10), ax=ax)
    assert ax.get_ylabel() == "learning rate"
    small, big = tmp_path / "s.png", tmp_path / "b.png"
    save_plot(lk.Cosine(0.1, 100), small, dpi=100)
    save_plot(lk.Cosine(0.1, 100), big, dpi=100, size=(12, 6), font_size=14)
    from PIL import Image

    assert Image.open(small).size == (800, 450) and Image.open(big).size == (1200, 600)
    with pytest.raises(ValueError, match="size must be"):
        save_plot(lk.Cosine(0.1, 100), small, size=(0, 3))
    with pytest.raises(ValueError, match="font_size must be"):
        save_plot(lk.Cosine(0.1, 100), small, font_size=400)


def test_compare_names_the_files_titles_the_plot_and_marks_the_largest_difference(tmp_path):
    from lrkit import cli

    a = tmp_path / "cos.yaml"
    a.write_text("type: cosine\npeak_lr: 0.1\ntotal_steps: 1000\n")
    out = tmp_path / "cmp.svg"
    inline = '{"type": "warmup_cosine", "peak_lr": 0.1, "total_steps": 1000, "warmup_steps": 100}'
    code = cli.main(
        ["compare", str(a), inline, "-o", str(out), "--size", "9", "5", "--font-size", "11"],
        out=io.StringIO(),
        err=io.StringIO(),
    )
    svg = out.read_text()
    assert code == 0 and "1: cos.yaml" in svg and "2: warmup_cosine(peak_lr=0.1" in svg
    assert "2 schedules over positions 0 .. 1099" in svg
    assert "largest difference" in svg


def test_drops_inside_a_phase_are_drawn_upright():
    import lrkit as lk

    ax = figure().add_subplot()
    plot_schedule(lk.Step(0.1, 30, 0.5), 150, ax)
    line = ax.lines[0]
    xs, ys = line.get_xdata(), line.get_ydata()
    for drop in (30, 60, 90, 120):
        i = [j for j in range(1, len(xs)) if xs[j] == drop and xs[j - 1] == drop]
        assert i, f"no upright segment at {drop}"  # (drop, old value) then (drop, new value)
        assert ys[i[0] - 1] > ys[i[0]]
    # a smooth curve gains no extra points
    ax = figure().add_subplot()
    plot_schedule(lk.Cosine(0.1, 150), 150, ax)
    assert len(ax.lines[0].get_xdata()) == 150


def test_written_files_get_the_usual_permissions(tmp_path):
    """A plot or CSV written through a temporary file is readable as any new file (umask), not
    owner-only, and a replaced file keeps its own mode."""
    import io
    import os
    import stat

    from lrkit import cli

    old = os.umask(0o022)
    try:
        png, csv_path = tmp_path / "a.png", tmp_path / "a.csv"
        assert cli.main(["plot", "-o", str(png)], out=io.StringIO(), err=io.StringIO()) == 0
        assert cli.main(["export", "--csv", str(csv_path)], out=io.StringIO(), err=io.StringIO()) == 0
        assert stat.S_IMODE(png.stat().st_mode) == 0o644
        assert stat.S_IMODE(csv_path.stat().st_mode) == 0o644
        os.chmod(png, 0o640)
        assert cli.main(["plot", "-o", str(png)], out=io.StringIO(), err=io.StringIO()) == 0
        assert stat.S_IMODE(png.stat().st_mode) == 0o640
    finally:
        os.umask(old)
