"""The range-test and plateau examples (examples/digits_rangetest_*.py, examples/digits_plateau_*.py).

Each example runs in full (30 epochs, a few seconds) in a subprocess; its CSVs are checked
against independent formulas and peers:

* range test: the sweep's lrs against ``a (b/a) ** (i/(N-1))``, the smoothed loss against
  the EMA recomputed from the raw losses, the suggestion against torch-lr-finder's rule
  (``argmin(numpy.gradient(loss[10:-5]))``), the trained lrs against the warmup + cosine
  formula with the suggested peak, and the accuracy of the suggested-peak run against the
  hand-tuned example's, which is also run (train_digits_*.py) to check the figure the
  example prints for it.
* plateau: the validation losses the run recorded are fed to the peer's own plateau
  scheduler (torch's ReduceLROnPlateau, Paddle's ReduceOnPlateau), whose lrs must be the
  run's; at least one reduction; the checkpoint was taken mid-patience (the peer's
  num_bad_epochs > 0 there); the resumed run's lrs are the uninterrupted run's, bit for bit.

Figures measured (2026-12-07, 2 cores, one torch thread): the suggested peak is 0.2719
(torch, the sweep diverged at update 90) and 0.2420 (Paddle, all 100 updates ran);
validation accuracy 0.9917 with it against 0.9861 hand-tuned (torch), 0.9806 against
0.9806 (Paddle). The plateau runs reduce 5 (torch) and 6 (Paddle) times, final accuracy
0.9861 and 0.9806.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, os.pardir, "examples")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SPE = math.ceil(1437 / 64)  # 80 % of the 1797 digits in batches of 64
EPOCHS = 30
PEAK = 0.1
#: how far below the hand-tuned example's validation accuracy the suggested-peak run may end:
#: 0.01 is 3.6 of the 360 held-out digits (measured: +0.0056 torch, +0.0000 Paddle)
TOLERANCE = 0.01
#: the plateau examples' policy (examples/digits_common.py's PLATEAU), restated
FACTOR, PATIENCE, THRESHOLD, MIN_LR = 0.5, 2, 0.05, 1e-3


def run(script: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    r = subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, script), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=None if env is None else {**os.environ, **env},
    )
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


def rows(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def warmup_cosine(t: int, total: int, peak: float) -> float:
    """The examples' schedule shape: linear warmup over total // 10 steps, cosine to peak / 100 at total."""
    W, floor = max(1, total // 10), peak / 100
    if t < W:
        return peak * t / W
    return floor + (peak - floor) * (1 + math.cos(math.pi * (t - W) / (total - W))) / 2


# -- the range test ------------------------------------------------------------------------------
@pytest.mark.parametrize("framework", ["torch", "paddle"])
def test_rangetest_example_suggested_peak_reaches_the_hand_tuned_accuracy(framework, tmp_path):
    out = tmp_path / "run"
    r = run(f"digits_rangetest_{framework}.py", "--out", str(out))
    summary = json.loads((out / "summary.json").read_text())
    peak, acc, hand = summary["suggested_peak_lr"], summary["suggested_accuracy"], summary["hand_tuned_accuracy"]

    # the point of the issue: the suggested peak trains as well as the hand-tuned one
    assert acc >= hand - TOLERANCE, summary
    assert hand > 0.97 and acc > 0.97
    assert 0.01 < peak < 1.0 and peak != PEAK  # a suggestion read off the curve, not the hand-tuned value
    assert f"{hand:.4f}" in r.stdout and f"{acc:.4f}" in r.stdout and f"{peak:.4g}" in r.stdout

    # the sweep: torch-lr-finder's exponential lrs and smoothing, recomputed here
    sweep = [line for line in (out / "rangetest.csv").read_text().splitlines() if not line.startswith("#")]
    data = list(csv.DictReader(sweep))
    a, b, n = 1e-4, 10.0, 100
    lrs = np.array([float(d["lr"]) for d in data])
    raw = [float(d["raw_loss"]) for d in data]
    smooth = [float(d["loss"]) for d in data]
    assert 20 < len(data) <= n and len(data) == summary["range_test_updates"]
    np.testing.assert_allclose(lrs, [a * (b / a) ** (i / (n - 1)) for i in range(len(data))], rtol=1e-12)
    ema = [raw[0]]
    for x in raw[1:]:
        ema.append(0.05 * x + 0.95 * ema[-1])
    np.testing.assert_allclose(smooth, ema, rtol=1e-12)
    if len(data) < n:  # stopped early: only by divergence (5x the best smoothed loss)
        assert smooth[-1] > 5 * min(smooth) and "diverged" in summary["stop_reason"]
    j = 10 + int(np.argmin(np.gradient(np.array(smooth[10:-5]))))  # torch-lr-finder's suggestion
    assert peak == lrs[j]

    # the trained run follows warmup + cosine with the suggested peak, stepped every update
    total = EPOCHS * SPE
    applied = [float(d["lr"]) for d in rows(out / "lr.csv")]
    assert len(applied) == total
    np.testing.assert_allclose(applied, [warmup_cosine(t, total, peak) for t in range(total)], rtol=1e-12, atol=1e-15)
    assert (out / "rangetest.png").read_bytes().startswith(PNG_MAGIC)

    # the hand-tuned figure is the hand-tuned example's (one torch thread, as the range-test example runs)
    ref = run(
        f"train_digits_{framework}.py", "--out", str(tmp_path / "hand"), "--no-plots", env={"OMP_NUM_THREADS": "1"}
    )
    printed = float(re.search(r"test accuracy (\d\.\d+)", ref.stdout).group(1))
    assert abs(printed - hand) <= 0.0005, (printed, hand)


# -- reduce on plateau -----------------------------------------------------------------------------
def peer_lrs(framework: str, metrics: list[float]) -> tuple[list[float], list[int]]:
    """The peer plateau scheduler fed ``metrics`` from lr 0.1 (the plan's value after its one-epoch
    warmup): its lr and its num_bad_epochs after each."""
    lrs, bad = [], []
    if framework == "torch":
        import torch

        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=PEAK)
        s = torch.optim.lr_scheduler.ReduceLROnPlateau(
            opt, factor=FACTOR, patience=PATIENCE, threshold=THRESHOLD, min_lr=MIN_LR
        )
        for m in metrics:
            s.step(m)
            lrs.append(opt.param_groups[0]["lr"])
            bad.append(s.num_bad_epochs)
    else:
        import paddle

        s = paddle.optimizer.lr.ReduceOnPlateau(
            learning_rate=PEAK, factor=FACTOR, patience=PATIENCE, threshold=THRESHOLD, min_lr=MIN_LR
        )
        for m in metrics:
            s.step(m)
            lrs.append(float(s.last_lr))
            bad.append(s.num_bad_epochs)
    return lrs, bad


@pytest.mark.parametrize("framework", ["torch", "paddle"])
def test_plateau_example_reduces_and_resumes_with_the_same_lrs(framework, tmp_path):
    out = tmp_path / "run"
    r = run(f"digits_plateau_{framework}.py", "--out", str(out))
    summary = json.loads((out / "summary.json").read_text())
    evals = rows(out / "epochs.csv")
    assert [int(e["epoch"]) for e in evals] == list(range(EPOCHS))
    metrics = [float(e["val_loss"]) for e in evals]
    next_lr = [float(e["next_lr"]) for e in evals]
    reduced = [e["reduced"] == "True" for e in evals]

    # the peer, given the same validation losses, makes the same reductions to the same lrs
    want, bad = peer_lrs(framework, metrics)
    np.testing.assert_allclose(next_lr, want, rtol=1e-12)
    assert reduced == [want[i] < (want[i - 1] if i else PEAK) for i in range(EPOCHS)]
    cuts = [i + 1 for i, x in enumerate(reduced) if x]
    assert len(cuts) >= 1 and cuts == summary["reductions_after_epochs"]
    assert min(next_lr) >= MIN_LR

    # every update's lr: the one-epoch warmup, then the lr left by the last evaluation
    lr_rows = rows(out / "lrs.csv")
    applied = [float(x["lr"]) for x in lr_rows]
    assert len(applied) == EPOCHS * SPE
    np.testing.assert_allclose(applied[:SPE], [PEAK * t / SPE for t in range(SPE)], rtol=1e-12)
    assert applied[SPE:] == [next_lr[t // SPE - 1] for t in range(SPE, EPOCHS * SPE)]

    # the checkpoint was taken mid-patience, before the first reduction; the resumed run's lrs
    # are the uninterrupted run's, bit for bit (as written: repr of the floats), and it saw reductions
    k = summary["resumed_after_epoch"]
    assert summary["resumed_identical"] is True and k is not None
    assert bad[k - 1] > 0 and k < cuts[0]
    resumed = [x["resumed_lr"] for x in lr_rows]
    assert all(v == "" for v in resumed[: k * SPE])
    assert resumed[k * SPE :] == [x["lr"] for x in lr_rows[k * SPE :]]
    assert f"resumed from the checkpoint after epoch {k}" in r.stdout and "bit for bit" in r.stdout

    # the reductions in words (sched.explain())
    text = (out / "explain.txt").read_text()
    assert "Reductions on plateau" in text and text.count("reduced x0.5") == len(cuts)
    assert "Reductions on plateau" in r.stdout
    assert summary["accuracy"] > 0.97 and f"final validation accuracy {summary['accuracy']:.4f}" in r.stdout
    assert (out / "plateau.png").read_bytes().startswith(PNG_MAGIC)
    ckpt = out / ("checkpoint.pt" if framework == "torch" else "checkpoint.pdparams")
    assert ckpt.stat().st_size > 1000


def test_plateau_example_resumes_after_a_reduction(tmp_path):
    """--resume-at after the first reduction: the resumed run keeps the reduced lr and the later ones."""
    out = tmp_path / "run"
    r = run("digits_plateau_torch.py", "--out", str(out), "--epochs", "14", "--resume-at", "12", "--no-plots")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["resumed_after_epoch"] == 12 and summary["resumed_identical"] is True
    assert summary["reductions_after_epochs"] and summary["reductions_after_epochs"][0] <= 12
    lr_rows = rows(out / "lrs.csv")
    tail = lr_rows[12 * SPE :]
    assert [x["resumed_lr"] for x in tail] == [x["lr"] for x in tail]
    assert float(tail[0]["lr"]) < PEAK  # resumed at a reduced lr
    assert not (out / "plateau.png").exists()
    assert "bit for bit" in r.stdout
