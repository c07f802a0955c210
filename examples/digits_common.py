"""What the digits examples share: the data, the schedules, the batches and the reports.

The scripts train the same tiny MLP on scikit-learn's handwritten digits (8x8 images,
1797 samples, shipped inside scikit-learn: no download). ``train_digits_*.py`` use the
hand-tuned schedule (:func:`make_schedule`), so their lr curves are the same curve;
``digits_rangetest_*.py`` replace its peak by an LR range test's suggestion and
``digits_plateau_*.py`` run a warmup then a constant lr cut on plateaus of the
validation loss (:data:`PLATEAU`). Only the framework calls differ.
"""

from __future__ import annotations

import argparse
import csv
import json
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

#: The LR range test of ``digits_rangetest_*.py``: an exponential sweep from 1e-4 to 10
#: over at most 100 updates (torch-lr-finder's smoothing and stop rule).
RANGE_TEST = {"start_lr": 1e-4, "end_lr": 10.0, "num_iter": 100}

#: The plateau policy of ``digits_plateau_*.py`` (``ReduceLROnPlateau``'s parameters): halve
#: the rest of the plan when the validation loss has not improved on its best by 5 %
#: (``val_loss < best * (1 - 0.05)``) for three evaluations in a row (patience 2), never
#: below 1e-3.
PLATEAU = {"factor": 0.5, "patience": 2, "threshold": 0.05, "min_lr": 1e-3}


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


def example_parser(description: str, out: str) -> argparse.ArgumentParser:
    """The options of the range-test and plateau examples: ``--epochs``, ``--out``, ``--no-plots``."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--epochs", type=int, default=30, help="epochs (default: 30)")
    p.add_argument("--out", default=out, help=f"folder for the CSVs and PNGs (default: {out})")
    p.add_argument("--no-plots", action="store_true", help="write the CSVs only")
    return p


def plateau_args(framework: str) -> argparse.Namespace:
    """The plateau examples' options (:func:`example_parser` and ``--resume-at``), checked, with
    ``--out`` created."""
    p = example_parser(
        f"Warmup + constant lr on the digits MLP ({framework}), cut on plateaus of the validation loss; "
        "save mid-run and show that the resumed run goes on with the same lrs.",
        f"runs/digits_plateau_{framework.lower().replace('pytorch', 'torch')}",
    )
    p.add_argument("--resume-at", type=int, default=None, help="checkpoint after this epoch (default: mid-patience)")
    args = p.parse_args()
    if args.epochs < 2 or (args.resume_at is not None and not 1 <= args.resume_at < args.epochs):
        p.error("--epochs must be >= 2 and --resume-at in [1, epochs)")
    os.makedirs(args.out, exist_ok=True)
    return args


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


def plateau_plan(spe: int) -> lrkit.Schedule:
    """The plateau examples' plan: a linear warmup over the first epoch to PEAK_LR, then PEAK_LR."""
    return lrkit.Warmup(lrkit.Constant(PEAK_LR), spe)


def sweep_batches(n_train: int, num_iter: int) -> list[np.ndarray]:
    """The range test's batches: ``num_iter`` of them, the training batches of the first epochs in order."""
    out: list[np.ndarray] = []
    epoch = 0
    while len(out) < num_iter:
        out.extend(batches(n_train, epoch))
        epoch += 1
    return out[:num_iter]


def mid_patience(sched_state: dict[str, Any]) -> bool:
    """Whether a plateau scheduler's state (``sched.state_dict()``) holds bad evaluations towards
    its first reduction: the place to stop a run and show that a resumed one goes on alike."""
    p = sched_state["plateau"]["state"]
    return p["num_bad_epochs"] > 0 and p["reductions"] == 0


def patience_note(sched_state: dict[str, Any]) -> str:
    """``"2 bad of 3"``: the bad evaluations in a row so far and how many make a reduction."""
    p = sched_state["plateau"]["state"]
    return f"{p['num_bad_epochs']} bad of {PLATEAU['patience'] + 1}"


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


def write_rows(path: str, header: list[str], rows: list[tuple[Any, ...]]) -> str:
    """A CSV with floats written as ``repr`` (read back as the same floats)."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for row in rows:
            w.writerow([repr(v) if isinstance(v, float) else v for v in row])
    return path


def write_json(path: str, obj: dict[str, Any]) -> str:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=1)
        fh.write("\n")
    return path


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


# -- the range-test and plateau examples ---------------------------------------------------------
def report_range_test(result: Any, rule: str | None, peak: float) -> str:
    """One line: how the sweep went and the suggested peak."""
    end = result.stop_reason or f"all {result.num_iter} updates ran"
    name = rule or "steepest (torch-lr-finder's default)"
    return (
        f"range test: {len(result)} updates, lr {result.lrs[0]:.3g} to {result.lrs[-1]:.3g} ({end}); "
        f"suggested peak lr, rule {name}: {peak:.4g}"
    )


def report_accuracies(script: str, hand: float, suggested: float, peak: float) -> str:
    """The suggested-peak run next to the hand-tuned example's (same model, data, seeds and schedule shape)."""
    return "\n".join(
        [
            f"{'run':<42} {'peak lr':>8} {'validation accuracy':>20}",
            f"{'hand-tuned (' + script + ')':<42} {PEAK_LR:>8.4g} {hand:>20.4f}",
            f"{'range-test suggestion':<42} {peak:>8.4g} {suggested:>20.4f}",
            f"difference: {suggested - hand:+.4f} ({round((suggested - hand) * 360):+d} of the 360 held-out digits)",
        ]
    )


def plot_range_test(out: str, result: Any, rule: str | None, framework: str) -> str:
    """rangetest.png: the smoothed loss against the lr, the suggestion marked."""
    from lrkit.plot import figure

    fig = figure((7.0, 4.0))
    ax = fig.add_subplot()
    result.plot(ax, rule=rule, raw=True)
    ax.set_title(f"digits MLP, {framework}: LR range test", fontsize=10)
    ax.grid(True, alpha=0.3)
    path = os.path.join(out, "rangetest.png")
    fig.savefig(path, dpi=100)
    return path


def plot_plateau(
    out: str,
    lrs: list[float],
    evals: list[tuple[int, float, float, bool, float]],
    spe: int,
    resumed_at: int | None,
    resumed_lrs: list[float],
    framework: str,
) -> str:
    """plateau.png: the applied lr per step (the resumed run's over it) and the validation loss per epoch."""
    from lrkit.plot import figure

    fig = figure((8.0, 4.5))
    ax = fig.add_subplot()
    ax.plot(np.arange(len(lrs)), lrs, color="C0", label="lr (uninterrupted run)")
    if resumed_at is not None and resumed_lrs:
        first = resumed_at * spe
        ax.plot(
            np.arange(first, first + len(resumed_lrs)),
            resumed_lrs,
            linestyle="none",
            marker="o",
            markersize=2.5,
            color="C1",
            markevery=max(1, len(resumed_lrs) // 60),
            label=f"lr (resumed after epoch {resumed_at})",
        )
    for epoch, *_rest in (e for e in evals if e[3]):
        ax.axvline((epoch + 1) * spe, color="C3", linewidth=0.8, alpha=0.6)
    ax.set_yscale("log")
    ax.set_ylim(PLATEAU["min_lr"] / 2, PEAK_LR * 1.5)  # the floor in view (the warmup starts at 0)
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.grid(True, alpha=0.3)
    ax2 = ax.twinx()
    ax2.plot([(e[0] + 1) * spe for e in evals], [e[1] for e in evals], color="C2", marker=".", label="validation loss")
    ax2.set_yscale("log")
    ax2.set_ylabel("validation loss")
    lines = ax.get_legend_handles_labels()
    more = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize=8, loc="upper right")
    ax.set_title(f"digits MLP, {framework}: warmup + constant lr, cut on plateau (red: reductions)", fontsize=10)
    path = os.path.join(out, "plateau.png")
    fig.savefig(path, dpi=100)
    return path


def explain_tail(text: str) -> str:
    """``sched.explain()`` from its phases on (the reductions included), without the opening
    paragraphs that spell out the realised schedule's pieces (explain.txt keeps the whole)."""
    i = text.find("Phases:")
    return text[i:] if i >= 0 else text


def report_resume(
    resumed_at: int,
    spe: int,
    lrs: list[float],
    resumed_lrs: list[float],
    evals: list[tuple[int, float, float, bool, float]],
    resumed_evals: list[tuple[int, float, float, bool, float]],
) -> tuple[bool, str]:
    """Whether the resumed run's lrs (and validation losses) are the uninterrupted run's from
    the checkpoint on, bit for bit, and a line saying so (or where they first differ)."""
    want, want_evals = lrs[resumed_at * spe :], evals[resumed_at:]
    if resumed_lrs == want and [e[1] for e in resumed_evals] == [e[1] for e in want_evals]:
        return True, (
            f"resumed from the checkpoint after epoch {resumed_at}: its {len(resumed_lrs)} lrs and "
            f"{len(resumed_evals)} validation losses are the uninterrupted run's, bit for bit "
            f"(reductions at the same steps; accuracy {resumed_evals[-1][2]:.4f} both)"
        )
    for i, (a, b) in enumerate(zip(resumed_lrs, want)):
        if a != b:
            return False, f"RESUME MISMATCH at step {resumed_at * spe + i}: lr {a!r} resumed, {b!r} uninterrupted"
    return False, (
        f"RESUME MISMATCH: {len(resumed_lrs)} lrs resumed against {len(want)}, or other validation losses "
        f"({[e[1] for e in resumed_evals]} against {[e[1] for e in want_evals]})"
    )


def write_plateau_run(
    args: Any,
    framework: str,
    lrs: list[float],
    evals: list[tuple[Any, ...]],
    spe: int,
    resumed_at: int | None,
    resumed_lrs: list[float],
    reductions: list[int],
    same: bool,
) -> None:
    """What a plateau example writes to ``--out``: lrs.csv (each step's lr and the resumed run's),
    epochs.csv (the validations and the reductions), the picture, summary.json."""
    first = len(lrs) if resumed_at is None else resumed_at * spe  # the resumed run's first step
    write_rows(
        os.path.join(args.out, "lrs.csv"),
        ["step", "epoch", "lr", "resumed_lr"],
        [(t, t // spe, lr, resumed_lrs[t - first] if t >= first else "") for t, lr in enumerate(lrs)],
    )
    write_rows(os.path.join(args.out, "epochs.csv"), ["epoch", "val_loss", "val_accuracy", "reduced", "next_lr"], evals)
    if not args.no_plots:
        plot_plateau(
            args.out, lrs, evals, spe, resumed_at, resumed_lrs, {"torch": "PyTorch", "paddle": "Paddle"}[framework]
        )
    write_json(
        os.path.join(args.out, "summary.json"),
        {
            "framework": framework,
            "epochs": args.epochs,
            "steps_per_epoch": spe,
            "plateau": PLATEAU,
            "reductions_after_epochs": reductions,
            "accuracy": evals[-1][2],
            "resumed_after_epoch": resumed_at,
            "resumed_identical": same,
        },
    )
    print(f"wrote {args.out}")


def write_rangetest_run(
    args: Any, framework: str, result: Any, peak: float, acc: float, hand_acc: float, lrs: list[float]
) -> None:
    """What a range-test example writes and prints: lr.csv, the accuracies side by side, summary.json."""
    write_rows(os.path.join(args.out, "lr.csv"), ["step", "lr"], list(enumerate(lrs)))
    print(report_accuracies(f"train_digits_{framework}.py", hand_acc, acc, peak))
    write_json(
        os.path.join(args.out, "summary.json"),
        {
            "framework": framework,
            "epochs": args.epochs,
            "rule": args.rule or "steepest",
            "suggested_peak_lr": peak,
            "suggested_accuracy": acc,
            "hand_tuned_peak_lr": PEAK_LR,
            "hand_tuned_accuracy": hand_acc,
            "range_test_updates": len(result),
            "stop_reason": result.stop_reason,
        },
    )
    print(f"wrote {args.out}")
