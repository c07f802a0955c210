"""The training examples (PyTorch, Paddle, JAX/optax and Keras on scikit-learn's digits) and lrkit.lrlog."""

from __future__ import annotations

import csv
import io
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

import lrkit
from lrkit.lrlog import LRLogger, Progress, current_lrs, progress

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, os.pardir, "examples")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def expected_lr(t: float, total: int) -> float:
    """Linear warmup over total // 10 steps to 0.1, then a cosine to 0.001 at total (the examples' schedule)."""
    W, peak, floor = max(1, total // 10), 0.1, 0.001
    if t < W:
        return peak * t / W
    return floor + (peak - floor) * (1 + math.cos(math.pi * (t - W) / (total - W))) / 2


@pytest.mark.parametrize(
    "script", ["train_digits_torch.py", "train_digits_paddle.py", "train_digits_jax.py", "train_digits_keras.py"]
)
def test_example_runs_and_applies_the_schedule(script, tmp_path):
    out = tmp_path / "run"
    r = subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, script), "--epochs", "2", "--max-steps", "6", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert "6 steps" in r.stdout and "test accuracy" in r.stdout
    assert "6/6" in r.stderr  # the progress bar
    for png in ("loss.png", "lr.png"):
        data = (out / png).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5000
    rows = list(csv.DictReader((out / "metrics.csv").open()))
    assert [int(row["step"]) for row in rows] == list(range(6))
    total = 2 * math.ceil(1437 / 64)  # 80 % of the 1797 digits, batches of 64, two epochs
    sched = lrkit.WarmupCosine(peak_lr=0.1, total_steps=total, warmup_steps=total // 10, min_lr=0.001)
    applied = [float(row["lr"]) for row in rows]
    want = [sched(t) for t in range(6)]
    if script in ("train_digits_jax.py", "train_digits_keras.py"):  # float32 training: float32 of the values
        want = np.array(want).astype(np.float32).astype(np.float64).tolist()
    assert applied == want  # exactly the schedule's values
    np.testing.assert_allclose(
        applied,
        [expected_lr(t, total) for t in range(6)],
        atol=1e-15,
        rtol=1e-12 if want == [sched(t) for t in range(6)] else 1e-7,
    )
    assert all(math.isfinite(float(row["loss"])) and float(row["loss"]) > 0 for row in rows)
    logged = list(csv.reader((out / "lr.csv").open()))
    assert logged[0] == ["step", "group", "lr"]
    assert [(int(s), int(g), float(v)) for s, g, v in logged[1:]] == [(t, 0, applied[t]) for t in range(6)]


# -- LRLogger --------------------------------------------------------------------------------------------------
def test_lrlogger_csv_from_a_torch_optimizer(tmp_path):
    w = torch.zeros(2, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([{"params": [w], "lr": 0.1}, {"params": [b], "lr": 0.01}], lr=0.1)
    from lrkit.torch import ScheduleLR

    s = lrkit.Linear(peak_lr=1.0, total_steps=4)
    sched = ScheduleLR(opt, s)
    path = tmp_path / "sub" / "lr.csv"
    with LRLogger(path) as log:
        for t in range(5):
            assert log.log(t, opt) == [0.1 * s(t), 0.01 * s(t)]
            opt.step()
            sched.step()
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["step", "group", "lr"]
    got = [(int(a), int(g), float(v)) for a, g, v in rows[1:]]
    want = [(t, g, base * s(t)) for t in range(5) for g, base in enumerate([0.1, 0.01])]
    assert got == want  # full precision: the same floats read back


def test_current_lrs_sources():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=torch.tensor(0.25))
    assert current_lrs(opt) == [0.25]  # a tensor lr
    assert current_lrs(0.5) == [0.5]
    assert current_lrs([0.1, np.float64(0.2)]) == [0.1, 0.2]

    class Sched:
        def get_last_lr(self):
            return [0.3, 0.03]

    class PaddleLike:
        def get_lr(self):
            return 0.7

    assert current_lrs(Sched()) == [0.3, 0.03]
    assert current_lrs(PaddleLike()) == [0.7]
    for bad in ("0.1", None, object(), [0.1, "x"], True):
        with pytest.raises(TypeError):
            current_lrs(bad)


def test_lrlogger_stream_errors_and_close():
    buf = io.StringIO()
    log = LRLogger(buf)
    log.log(2.5, 0.1)
    log.close()
    log.close()  # twice is fine
    assert buf.getvalue() == "step,group,lr\n2.5,0,0.1\n"
    with pytest.raises(ValueError, match="closed"):
        log.log(3, 0.1)
    with pytest.raises(TypeError, match="step"):
        LRLogger(io.StringIO()).log(float("nan"), 0.1)
    with pytest.raises(ValueError, match="flush_every"):
        LRLogger(io.StringIO(), flush_every=0)


def test_lrlogger_tensorboard_is_optional(tmp_path):
    try:
        import torch.utils.tensorboard  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="tensorboard"):
            LRLogger(tmp_path / "lr.csv", tensorboard_dir=tmp_path / "tb")
    else:
        with LRLogger(tmp_path / "lr.csv", tensorboard_dir=tmp_path / "tb") as log:
            log.log(0, [0.1, 0.2])
        assert any(name.startswith("events.") for name in os.listdir(tmp_path / "tb"))
    assert (tmp_path / "lr.csv").exists() or not (tmp_path / "tb").exists()


# -- Progress ----------------------------------------------------------------------------------------------------
class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_silent_for_quick_work_and_draws_after_the_delay():
    quiet = io.StringIO()
    with Progress(10, "quick", stream=quiet, delay=60) as p:
        p.update(10)
    assert quiet.getvalue() == ""

    log = io.StringIO()
    with Progress(4, "work", stream=log, delay=0.0, every=0.0, unit="rows") as p:
        for _ in range(4):
            p.update(1)
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("work: [") and "1/4 rows" in lines[0]
    assert "4/4 rows" in lines[-1] and "100%" in lines[-1] and len(lines) == 4  # no repeated last line

    tty = Tty()
    with Progress(2, "tty", stream=tty, delay=0.0) as p:
        p.update(2)
    assert tty.getvalue().startswith("\r") and tty.getvalue().endswith("\n")


def test_progress_wrapper_without_tqdm():
    out = io.StringIO()
    assert list(progress(range(3), desc="it", stream=out, use_tqdm=False)) == [0, 1, 2]
    assert "3/3" in out.getvalue()
