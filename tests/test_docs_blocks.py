"""Every code block of the documentation site runs as written.

* ```python blocks: each on its own, in a fresh namespace and an empty folder, as a reader copies
  one (a block that starts a distributed engine, or saves a Keras model, runs in a process of its
  own: Keras' saving imports TensorFlow, after which Paddle's import crashes in that process);
* ```bash blocks made only of ``lrkit ...`` lines: each line through ``lrkit.cli.main``, from the
  repository root (outputs go to a temporary folder);
* ```text blocks of ``$ lrkit ...`` samples: the command's real output is the sample.

The other bash blocks are set-up commands (``pip install ...``, ``python examples/...``, ``mkdocs
serve``): the README's commands run in CI, the examples in tests/test_examples.py. docs/gallery.md
and docs/coming-from.md have tests of their own (test_gallery.py, test_coming_from.py), and the
API reference's examples are the docstrings' doctests (test_doctests.py).
"""

from __future__ import annotations

import io
import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from lrkit import cli

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# pages tested elsewhere (see the module docstring)
ELSEWHERE = {"gallery.md", "coming-from.md"}
PAGES = sorted(p for p in DOCS.rglob("*.md") if p.relative_to(DOCS).as_posix() not in ELSEWHERE)
OUTPUT_OPTIONS = ("-o", "--output", "--csv")


def blocks(lang: str) -> list[tuple[str, int, str]]:
    """``(page, index, text)`` of every ```lang block of the site's pages (fences at any indent)."""
    out = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        found = re.findall(rf"^( *)```{lang}\n(.*?)^\1```", text, flags=re.S | re.M)
        name = page.relative_to(DOCS).as_posix()
        for i, (indent, body) in enumerate(found):
            lines = [ln[len(indent) :] if ln.startswith(indent) else ln for ln in body.splitlines()]
            out.append((name, i, "\n".join(lines) + "\n"))
    return out


PYTHON = blocks("python")
CLI_LINES = [
    (page, line)
    for page, _, body in blocks("bash")
    for line in [ln.strip() for ln in body.splitlines() if ln.strip()]
    if all(ln.strip().startswith("lrkit ") for ln in body.splitlines() if ln.strip())
]
SAMPLES = [
    (page, parts[i], parts[i + 1])
    for page, _, body in blocks("text")
    for parts in [re.split(r"^\$ (lrkit .*)\n", body, flags=re.M)]
    for i in range(1, len(parts), 2)
]


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(argv, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_the_site_has_blocks_of_each_kind() -> None:
    pages = {p for p, _, _ in PYTHON}
    assert {"tutorials/training-loop.md", "tutorials/recipes.md", "zh/index.md", "zh/recipes.md"} <= pages
    assert len(PYTHON) >= 30 and len(CLI_LINES) >= 15 and len(SAMPLES) >= 3


@pytest.mark.parametrize("page, i, code", PYTHON, ids=[f"{p}:{i}" for p, i, _ in PYTHON])
def test_every_python_block_runs_on_its_own(page, i, code, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    # a block that picks its Keras backend needs a process where Keras is not imported yet
    own_process = "import deepspeed" in code or ("keras" in code and ".save(" in code) or "KERAS_BACKEND" in code
    if own_process:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = str(sock.getsockname()[1])
        r = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=600,
            env=dict(os.environ, MASTER_PORT=port),
        )
        assert r.returncode == 0, r.stderr[-3000:]
        return
    exec(compile(code, f"docs/{page} block {i}", "exec"), {"__name__": "docs"})


@pytest.mark.parametrize("page, line", CLI_LINES, ids=[f"{p}:{ln[:60]}" for p, ln in CLI_LINES])
def test_every_lrkit_command_line_runs(page, line, tmp_path, monkeypatch) -> None:
    argv = shlex.split(line, comments=True)[1:]
    monkeypatch.chdir(ROOT)  # the pages' paths are relative to the repository root
    outputs = {j + 1 for j, a in enumerate(argv[:-1]) if a in OUTPUT_OPTIONS}
    for j, a in enumerate(argv):
        if j not in outputs and re.search(r"\.(ya?ml|json|csv)$", a):
            assert (ROOT / a).is_file(), f"docs/{page} names {a}, which is not in the repository"
    written = []
    for j, a in enumerate(argv[:-1]):
        if a in OUTPUT_OPTIONS and argv[j + 1] != "-":
            argv[j + 1] = str(tmp_path / Path(argv[j + 1]).name)
            written.append(Path(argv[j + 1]))
    if argv and argv[0] == "plot" and not any(a in ("-o", "--output") for a in argv):
        argv += ["-o", str(tmp_path / "lr.png")]
        written.append(tmp_path / "lr.png")
    code, out, err = run_cli(argv)
    assert code == 0, f"{line}\n{err}"
    for f in written:
        assert f.is_file() and f.stat().st_size > 0, f"{line}: {f.name} was not written"


@pytest.mark.parametrize("page, command, expected", SAMPLES, ids=[f"{p}:{c[:50]}" for p, c, _ in SAMPLES])
def test_every_sample_output_is_the_real_output(page, command, expected, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(shlex.split(command)[1:])
    assert code == 0, err
    assert out.rstrip("\n").splitlines() == expected.rstrip("\n").splitlines()
