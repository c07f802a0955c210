"""The README's Python examples run as written, and its set-up commands match CI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


@pytest.mark.parametrize("i", range(len(BLOCKS)))
def test_every_readme_python_block_runs_on_its_own(i, tmp_path, monkeypatch) -> None:
    # a reader copies one snippet: each block runs in a fresh namespace, in an empty folder;
    # one that starts a distributed engine runs in a process of its own (on a free port)
    monkeypatch.chdir(tmp_path)
    if "import deepspeed" in BLOCKS[i]:
        import os
        import socket
        import subprocess
        import sys

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = str(sock.getsockname()[1])
        r = subprocess.run(
            [sys.executable, "-c", BLOCKS[i]],
            capture_output=True,
            text=True,
            timeout=600,
            env=dict(os.environ, MASTER_PORT=port),
        )
        assert r.returncode == 0, r.stderr[-3000:]
        return
    exec(compile(BLOCKS[i], f"README.md block {i}", "exec"), {"__name__": "readme"})


def test_the_readme_starts_with_a_training_loop() -> None:
    first = BLOCKS[0]
    for piece in ("ScheduleLR", "load_state_dict", "weights_only=True", "ACCUM", "param_groups"):
        assert piece in first


def test_readme_starts_with_two_setup_commands_and_ci_runs_the_test_one() -> None:
    first = re.search(r"```bash\n(.*?)```", README, flags=re.S)
    assert first is not None
    commands = [line for line in first.group(1).splitlines() if line.strip()]
    assert len(commands) == 2
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci.splitlines(), "CI must run the README's test command word for word"
    assert "torch==" in commands[1], "torch must be pinned"


def test_the_set_up_command_is_stated_once() -> None:
    """DEVELOPERS.md points at the README's test command instead of restating it (a copy
    drifted once: without the second pip install the suite collected nothing)."""
    dev = (ROOT / "DEVELOPERS.md").read_text(encoding="utf-8")
    assert "pip install" not in dev.split("## Set-up")[1].split("\n## ")[0]
    assert "README's second command" in dev
