"""ScheduleLR under DistributedDataParallel: 2 CPU processes (torchrun, gloo, 127.0.0.1).

Checks that every rank applies the same lrs at every step (the schedule's values), and
that a run resumed from rank 0's checkpoint continues exactly like the uninterrupted one.
The worker is tests/ddp_worker.py; each launch has a bounded timeout.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import ddp_worker as W  # noqa: E402  (the schedule and base lrs the workers use)

STEPS, SAVE_AT, WORLD = 30, 11, 2
TIMEOUT = 120  # seconds per launch


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(out: Path, *extra: str) -> list[dict]:
    """Run the worker on WORLD processes; return each rank's record."""
    out.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        f"--nproc_per_node={WORLD}",
        "--nnodes=1",
        "--master_addr=127.0.0.1",
        f"--master_port={free_port()}",
        str(HERE / "ddp_worker.py"),
        "--out",
        str(out),
        "--steps",
        str(STEPS),
        *extra,
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1", GLOO_SOCKET_IFNAME="lo", MASTER_ADDR="127.0.0.1")
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT, cwd=out)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"torchrun did not finish within {TIMEOUT} s\nstdout:\n{e.stdout}\nstderr:\n{e.stderr}")
    assert proc.returncode == 0, f"torchrun failed ({proc.returncode})\n{proc.stdout}\n{proc.stderr[-4000:]}"
    records = [json.loads((out / f"rank{r}.json").read_text()) for r in range(WORLD)]
    assert [r["rank"] for r in records] == list(range(WORLD)) and all(r["world"] == WORLD for r in records)
    return records


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The uninterrupted run (rank 0 checkpointing after SAVE_AT updates), then a run resumed from it."""
    full_dir = tmp_path_factory.mktemp("ddp_full")
    full = launch(full_dir, "--save-at", str(SAVE_AT))
    ckpt = full_dir / "ckpt.pt"
    assert ckpt.exists(), "rank 0 did not write its checkpoint"
    resumed = launch(tmp_path_factory.mktemp("ddp_resumed"), "--resume", str(ckpt))
    return full, resumed, ckpt


def expected(step: int) -> list[float]:
    """The lr each group must use at a step: base lr times the schedule (computed here, not by the worker)."""
    return [b * W.SCHEDULE(step) for b in W.BASE_LRS]


def test_every_rank_applies_the_schedule_at_every_step(runs):
    full, _, _ = runs
    for rec in full:
        assert rec["steps"] == list(range(STEPS))
        assert rec["lrs"] == [expected(t) for t in range(STEPS)]
        assert rec["last_epoch"] == list(range(1, STEPS + 1))
        # What SGD really did to the probe (float32): lr of group 1.
        assert rec["applied"] == pytest.approx([e[1] for e in (expected(t) for t in range(STEPS))], rel=1e-6)
    # The lrs gathered from all ranks at each step are identical across ranks...
    for t in range(STEPS):
        gathered = full[0]["gathered"][t]
        assert all(g == gathered[0] for g in gathered)
        assert all(rec["gathered"][t] == gathered for rec in full)
    # ... and so are the trained weights (DDP averaged the gradients).
    assert full[0]["weights"] == full[1]["weights"]
    # The schedule really changed the lr over the run (warmup, then decay).
    lr0 = [lrs[0] for lrs in full[0]["lrs"]]
    assert lr0[0] == 0.0 and max(lr0) == W.BASE_LRS[0] and lr0[-1] < lr0[10]


def test_checkpoint_holds_plain_state(runs):
    _, _, ckpt = runs
    ck = torch.load(ckpt, map_location="cpu", weights_only=True)
    assert ck["step"] == SAVE_AT
    assert {k: v for k, v in ck["scheduler"].items() if k != "schedules"} == {
        "last_epoch": SAVE_AT,
        "base_values": list(W.BASE_LRS),
        "key": "lr",
        "absolute": False,
        "steps_per_epoch": None,
        "class": "lrkit.torch.ScheduleLR",
        "groups": 2,
        "per_group": False,
        "replans": [],
    }


def test_resumed_run_continues_exactly(runs):
    full, resumed, _ = runs
    for rec_full, rec in zip(full, resumed):
        assert rec["start"] == SAVE_AT and rec["steps"] == list(range(SAVE_AT, STEPS))
        # Exactly the lrs of the uninterrupted run from the checkpoint on, on every rank
        # (even ranks built the scheduler before loading the optimizer state, odd ones after).
        assert rec["lrs"] == rec_full["lrs"][SAVE_AT:]
        assert rec["applied"] == rec_full["applied"][SAVE_AT:]
        assert rec["last_epoch"] == rec_full["last_epoch"][SAVE_AT:]
        assert rec["final_lrs"] == rec_full["final_lrs"]
        # Same data, same states, same operations: the same weights, bit for bit.
        assert rec["weights"] == rec_full["weights"]
    assert resumed[0]["gathered"] == full[0]["gathered"][SAVE_AT:]
