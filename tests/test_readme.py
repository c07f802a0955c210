"""The README's Python examples run as written, and its set-up commands match CI."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_python_blocks_run_in_order(tmp_path, monkeypatch) -> None:
    # The blocks read as one session: later ones use names defined earlier.
    assert BLOCKS
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme"}
    for i, code in enumerate(BLOCKS):
        exec(compile(code, f"README.md block {i}", "exec"), namespace)


def test_readme_starts_with_two_setup_commands_and_ci_runs_the_test_one() -> None:
    first = re.search(r"```bash\n(.*?)```", README, flags=re.S)
    assert first is not None
    commands = [line for line in first.group(1).splitlines() if line.strip()]
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci.splitlines(), "CI must run the README's test command word for word"
    assert "torch==" in commands[1], "torch must be pinned"
