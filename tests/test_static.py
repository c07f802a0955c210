"""Lint, format and type check, as part of the suite (so the README's test command, which CI
runs, runs them): ruff with the configuration in pyproject.toml, pyright in standard mode
over src/ (``[tool.pyright]``)."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
PATHS = ["src", "tests", "benchmarks", "examples", "docs"]


def _tool(name: str) -> str:
    # the one installed beside this interpreter (the test dependencies), else on PATH
    here = pathlib.Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    assert found, f"{name} is a test dependency (pip install -e '.[test]')"
    return found


def test_ruff_lint():
    r = subprocess.run(
        [_tool("ruff"), "check", "--output-format", "concise", *PATHS], cwd=ROOT, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]


def test_ruff_format():
    r = subprocess.run([_tool("ruff"), "format", "--check", *PATHS], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]


def test_pyright_on_the_package():
    # the interpreter running the tests tells pyright where the optional frameworks are installed
    r = subprocess.run(
        [_tool("pyright"), "--outputjson", "--pythonpath", sys.executable, "-p", str(ROOT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    report = json.loads(r.stdout)
    assert report["summary"]["filesAnalyzed"] > 40  # it read the package
    errors = [
        f"{d['file']}:{d['range']['start']['line'] + 1}: {d['message']}"
        for d in report["generalDiagnostics"]
        if d["severity"] == "error"
    ]
    assert not errors, f"{len(errors)} pyright errors:\n" + "\n".join(errors[:60])


def test_no_blanket_ignores():
    # a type checker that passes because it is told to look away passes nothing
    for p in (ROOT / "src").rglob("*.py"):
        text = p.read_text(encoding="utf-8")
        assert "# pyright: basic" not in text and "# pyright: ignore\n" not in text, p
        assert "# type: ignore\n" not in text and "# mypy: ignore-errors" not in text, p
        assert "# ruff: noqa\n" not in text and "# noqa\n" not in text, p
