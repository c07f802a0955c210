"""What the two digits examples share: the data, the schedule, the batches and the reports.

Both scripts train the same tiny MLP on scikit-learn's handwritten digits (8x8 images,
1797 samples, shipped inside scikit-learn: no download) with the same lrkit schedule,
so their lr curves are the same curve. Only the framework calls differ.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

import lrkit

BATCH = 64
PEAK_LR = 0.1
HIDDEN = 64
SEED = 0


def parse_args(framework: str) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=f"Train a small MLP on scikit-learn's digits with {framework} and an "
        "lrkit schedule (linear warmup + cosine, stepped every batch)."
    )
    p.add_argument("--epochs", type=int, default=30, help="epochs (default: 30)")
    p.add_argument("--out", default=f"runs/digits_{framework.lower()}", help="folder for the CSVs and PNGs")
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many optimizer steps (smoke tests)")
    p.add_argument("--no-plots", action="store_true", help="write the CSVs only")
    a = p.parse_args()
    if a.epochs < 1 or (a.max_steps is not None and a.max_steps < 1):
        p.error("--epochs and --max-steps must be >= 1")
    return a


def load_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Digits as float32 in [0, 1], split 80/20 with a fixed permutation."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    idx = np.random.default_rng(SEED).permutation(len(x))
    cut = int(0.8 * len(x))
    tr, te = idx[:cut], idx[cut:]
    return x[tr], y[tr], x[te], y[te]


def steps_per_epoch(n_train: int) -> int:
    return math.ceil(n_train / BATCH)


def make_schedule(total_steps: int) -> lrkit.Schedule:
    """The schedule both scripts use: 10 % linear warmup to PEAK_LR, cosine down to PEAK_LR / 100."""
    return lrkit.WarmupCosine(
        peak_lr=PEAK_LR, total_steps=total_steps, warmup_steps=max(1, total_steps // 10), min_lr=PEAK_LR / 100
    )


def batches(n: int, epoch: int) -> Iterator[np.ndarray]:
    order = np.random.default_rng(SEED + 1 + epoch).permutation(n)
    for i in range(0, n, BATCH):
        yield order[i : i + BATCH]


def bar(total: int, desc: str):
    """A progress bar on stderr: tqdm when installed, else lrkit's own one-line bar."""
    try:
        from tqdm import tqdm
    except ImportError:
        from lrkit.lrlog import Progress

        return Progress(total, desc, delay=0.0, every=2.0, unit="steps")
    return tqdm(total=total, desc=desc, file=sys.stderr, unit="step", dynamic_ncols=True)


def set_postfix(b, text: str) -> None:
    if hasattr(b, "set_postfix_str"):
        b.set_postfix_str(text, refresh=False)
    else:
        b.postfix = text


def write_metrics(out: str, rows: list[tuple[int, int, float, float]]) -> str:
    path = os.path.join(out, "metrics.csv")
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["step", "epoch", "lr", "loss"])
        for step, epoch, lr, loss in rows:
            w.writerow([step, epoch, repr(lr), repr(loss)])
    return path


def save_plots(
    out: str, rows: list[tuple[int, int, float, float]], schedule: lrkit.Schedule, spe: int, framework: str
) -> list[str]:
    """loss.png (per step, and its running mean) and lr.png (applied lr per step over the schedule)."""
    from lrkit.plot import figure, plot_schedule

    steps = np.array([r[0] for r in rows], dtype=np.float64)
    lrs = np.array([r[2] for r in rows])
    losses = np.array([r[3] for r in rows])

    fig = figure((8.0, 4.0))
    ax = fig.add_subplot()
    ax.plot(steps, losses, color="0.7", linewidth=0.8, label="batch loss")
    k = min(spe, len(losses))
    if k > 1:
        run = np.convolve(losses, np.ones(k) / k, mode="valid")
        ax.plot(steps[k - 1 :], run, color="C3", linewidth=1.6, label=f"mean of the last {k} batches")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy loss")
    ax.set_title(f"digits MLP, {framework}: training loss", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    loss_png = os.path.join(out, "loss.png")
    fig.savefig(loss_png, dpi=100)

    fig = figure((8.0, 4.0))
    ax = fig.add_subplot()
    plot_schedule(schedule, int(steps[-1]) + 1, ax, label="schedule", color="C0", title=f"lr applied by {framework}")
    # every k-th logged value, so the schedule's line stays visible between the dots
    ax.plot(
        steps,
        lrs,
        linestyle="none",
        marker="o",
        markersize=3,
        color="C1",
        label="applied (logged)",
        markevery=max(1, len(steps) // 60),
    )
    ax.legend(fontsize=8, loc="upper right")
    lr_png = os.path.join(out, "lr.png")
    fig.savefig(lr_png, dpi=100)
    return [loss_png, lr_png]


def train(
    args: argparse.Namespace,
    n_train: int,
    total: int,
    desc: str,
    one_step: Callable[[int, np.ndarray, Callable[[Any], float]], float],
) -> list[tuple[int, int, float, float]]:
    """The loop every example shares: epochs of shuffled batches, up to ``--max-steps``.

    ``one_step(epoch, idx, log_lr)`` makes one optimizer update on the batch ``idx`` and
    returns its loss; it calls ``log_lr(source)`` with what holds the lr that update
    applies (an optimizer, or a number), which writes ``lr.csv``. Returns the rows
    ``(step, epoch, lr, loss)``.
    """
    from lrkit.lrlog import LRLogger

    rows: list[tuple[int, int, float, float]] = []
    limit = total if args.max_steps is None else min(total, args.max_steps)
    with LRLogger(os.path.join(args.out, "lr.csv")) as lrlog:
        b = bar(limit, desc)
        try:
            for epoch in range(args.epochs):
                for idx in batches(n_train, epoch):
                    if len(rows) >= limit:
                        break
                    step, seen = len(rows), []

                    def log_lr(source: Any) -> float:
                        seen.append(lrlog.log(step, source)[0])
                        return seen[-1]

                    loss = one_step(epoch, idx, log_lr)
                    rows.append((step, epoch, seen[0], float(loss)))
                    set_postfix(b, f"loss {rows[-1][3]:.3f} lr {seen[0]:.4g}")
                    b.update(1)
                if len(rows) >= limit:
                    break
        finally:
            b.close()
    return rows


def finish(
    args: argparse.Namespace,
    rows: list[tuple[int, int, float, float]],
    schedule: lrkit.Schedule,
    spe: int,
    framework: str,
    accuracy: float,
) -> None:
    """The end of every example: metrics.csv, the plots (unless --no-plots) and one line of results."""
    write_metrics(args.out, rows)
    if not args.no_plots:
        save_plots(args.out, rows, schedule, spe, framework)
    print(
        f"{len(rows)} steps, final loss {np.mean([r[3] for r in rows[-spe:]]):.4f}, test accuracy {accuracy:.3f}; "
        f"wrote {args.out}"
    )
