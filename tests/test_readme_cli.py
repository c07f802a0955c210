"""The README's command-line section runs as written, and its sample outputs are the real ones."""

from __future__ import annotations

import io
import re
import shlex
from pathlib import Path

import pytest

from lrkit import cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")

# Options whose value is a file the command writes.
OUTPUT_OPTIONS = ("-o", "--output", "--csv")


def cli_commands() -> list[str]:
    """Every line of the README's bash blocks made only of ``lrkit`` commands (the CLI section)."""
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", README, flags=re.S):
        cmds = [ln.strip() for ln in block.splitlines() if ln.strip()]
        if cmds and all(c.startswith("lrkit ") or c == "lrkit" for c in cmds):
            lines += cmds
    return lines


def samples() -> list[tuple[str, str]]:
    """``(command, output)`` for each ``$ lrkit ...`` sample in the README's text blocks."""
    out = []
    for block in re.findall(r"```text\n(.*?)```", README, flags=re.S):
        parts = re.split(r"^\$ (lrkit .*)\n", block, flags=re.M)
        # parts: [before, cmd1, output1, cmd2, output2, ...]
        out += [(parts[i], parts[i + 1]) for i in range(1, len(parts), 2)]
    return out


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(argv, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_the_readme_has_a_cli_section_with_spec_files():
    cmds = cli_commands()
    assert len(cmds) >= 5
    assert any("examples/specs/" in c for c in cmds)
    assert {s[0].split()[1] for s in samples()} >= {"show", "explain"}


@pytest.mark.parametrize("line", cli_commands())
def test_readme_cli_line_runs(line, tmp_path, monkeypatch):
    argv = shlex.split(line, comments=True)[1:]
    # Inputs are read from the repository root (the README's paths are relative to it);
    # outputs go to a temporary folder, never into the checkout.
    monkeypatch.chdir(ROOT)
    written = []
    for i, a in enumerate(argv[:-1]):
        if a in OUTPUT_OPTIONS and argv[i + 1] != "-":
            argv[i + 1] = str(tmp_path / Path(argv[i + 1]).name)
            written.append(Path(argv[i + 1]))
    if argv[0] == "plot" and not any(a in ("-o", "--output") for a in argv):
        argv += ["-o", str(tmp_path / "lr.png")]  # plot's default output file is lr.png in the cwd
        written.append(tmp_path / "lr.png")
    for a in argv:
        if re.search(r"\.(ya?ml|json)$", a):
            assert (ROOT / a).is_file(), f"the README names {a}, which is not in the repository"
    code, out, err = run(argv)
    assert code == 0, f"{line}\n{err}"
    for f in written:
        assert f.is_file() and f.stat().st_size > 0, f"{line}: {f.name} was not written"


@pytest.mark.parametrize("command, expected", samples(), ids=[s[0].split()[1] for s in samples()])
def test_readme_sample_output_is_the_real_output(command, expected, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(shlex.split(command)[1:])
    assert code == 0, err
    # The sample ends where the next "$ ..." line or the block begins: blank lines there are layout.
    assert out.rstrip("\n").splitlines() == expected.rstrip("\n").splitlines()
