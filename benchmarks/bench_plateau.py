"""step() cost of ScheduleLR with a plateau policy, between reductions, against a plain ScheduleLR;
and the cost of one observation against torch's ReduceLROnPlateau.step(metric).

    python benchmarks/bench_plateau.py [--quick]

The plan is bench_torch.py's (a linear warmup over WARM steps into a cosine to 0 at TOTAL, a
multiplier of lr=PEAK). Each row builds a fresh scheduler, steps it past the warmup, lets the
plateau policy decide three reductions (``observe`` of a rising metric with patience 0), then
times STEPS calls of ``step()``; the figure is the median µs per step over the repeats, the
rows interleaved. Rows: torch with 1 and 8 param groups (one floor for all, so the groups keep
one schedule; and one floor per group, which makes the schedules per group: compare with a plain
ScheduleLR given per-group schedules), and Paddle's ScheduleLR (global lr). The lrs are checked
against the formula ``base * max(plan(t) * m, floor / base)`` after each repeat.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import lrkit
from lrkit.plateau import Plateau
from lrkit.torch import ScheduleLR

PEAK, TOTAL, WARM = 0.1, 100_000, 5_000
PLAN = lrkit.WarmupCosine(peak_lr=1.0, total_steps=TOTAL, warmup_steps=WARM)


def optimizer(groups: int) -> torch.optim.Optimizer:
    return torch.optim.SGD(
        [{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": PEAK} for _ in range(groups)], lr=PEAK
    )


def torch_row(groups: int, plateau: bool, floors: bool = False, per_group_plan: bool = False):
    def make():
        opt = optimizer(groups)
        mins = [1e-5 * (i + 1) for i in range(groups)] if floors else 0.0
        plan = [lrkit.Clip(PLAN, 1e-4 * (i + 1)) for i in range(groups)] if per_group_plan else PLAN
        s = ScheduleLR(opt, plan, plateau=Plateau(patience=0, factor=0.5, min_lr=mins) if plateau else None)
        for _ in range(WARM):
            s.step()
        if plateau:
            for m in (1.0, 2.0, 3.0, 4.0):  # the 2nd, 3rd and 4th are bad: three reductions
                s.observe(m)

        def check(t: int) -> None:
            if plateau and not floors:
                assert opt.param_groups[0]["lr"] == PEAK * max(PLAN(t) * 0.125, 0.0)

        return s.step, check

    return make


def paddle_row(plateau: bool):
    def make():
        import lrkit.paddle as lp

        s = lp.ScheduleLR(PLAN, learning_rate=PEAK, plateau=Plateau(patience=0, factor=0.5) if plateau else None)
        for _ in range(WARM):
            s.step()
        if plateau:
            for m in (1.0, 2.0, 3.0, 4.0):
                s.observe(m)

        def check(t: int) -> None:
            if plateau:
                assert s.last_lr == PEAK * max(PLAN(t) * 0.125, 0.0)

        return s.step, check

    return make


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    steps, repeat = (5_000, 5) if a.quick else (20_000, 15)
    rows = {
        "torch, 1 group, plain": torch_row(1, False),
        "torch, 1 group, plateau (3 reductions)": torch_row(1, True),
        "torch, 8 groups, plain": torch_row(8, False),
        "torch, 8 groups, plateau, one floor": torch_row(8, True),
        "torch, 8 groups, plateau, a floor per group": torch_row(8, True, floors=True),
        "torch, 8 groups, plain, a schedule per group": torch_row(8, False, per_group_plan=True),
        "paddle, plain": paddle_row(False),
        "paddle, plateau (3 reductions)": paddle_row(True),
    }
    times: dict[str, list[float]] = {k: [] for k in rows}
    for _ in range(repeat):
        for name, make in rows.items():
            step, check = make()
            t0 = time.perf_counter()
            for _ in range(steps):
                step()
            times[name].append((time.perf_counter() - t0) / steps * 1e6)
            check(WARM + steps)
    for name, ts in times.items():
        print(f"{name:48s} {statistics.median(ts):7.3f} µs/step")
    plain, plat = (
        statistics.median(times["torch, 1 group, plain"]),
        statistics.median(times["torch, 1 group, plateau (3 reductions)"]),
    )
    print(f"{'ratio plateau / plain step(), torch 1 group':48s} {plat / plain:7.3f}")
    observations(a.quick)


def _cases(quick: bool) -> tuple[dict[str, tuple[list[float], int]], int]:
    """The two metric sequences (with their patience) and the repeat count."""
    import random

    n, repeat = (2_000, 5) if quick else (10_000, 15)
    rnd = random.Random(0)
    return {
        # a loss falling by about 0.1% per evaluation (beyond torch's default threshold of 1e-4 relative)
        "improving (no reduction)": ([0.999**i * (1 + 1e-5 * rnd.random()) for i in range(n)], 5),
        # factor 0.99 and patience 0: each of these observations lowers every group's lr (by more than eps)
        "every observation reduces": ([1.0] * (n // 10), 0),
        # a run's loss that stalls for 3 evaluations in every 8 (patience 1: one reduction per stall)
        # (n // 4 of them: the lr stays well above eps * 100 over the run's reductions)
        "a run with reductions (1 in 8 reduces)": ([0.9 ** (i // 8 * 5 + min(i % 8, 5)) for i in range(n // 4)], 1),
    }, repeat


def _time_rows(title: str, peer: str, rows: dict, metrics: list[float], patience: int, repeat: int) -> None:
    """Each row's ``make()`` gives ``(call, result)``: ``call(metric)`` is timed over ``metrics``
    (rows interleaved, medians of ``repeat``), ``result()`` read after each run: the peer's and the
    drop-in's (rows 0 and 1) must be equal, and with patience 0 the plan (row 2) must have reduced
    at every observation but the first (which sets the best)."""
    times: dict[str, list[float]] = {k: [] for k in rows}
    for _ in range(repeat):
        seen = []
        for name, make in rows.items():
            call, result = make()
            t0 = time.perf_counter()
            for m in metrics:
                call(m)
            times[name].append((time.perf_counter() - t0) / len(metrics) * 1e6)
            seen.append(result())
        assert seen[0] == seen[1], seen
        if patience == 0:
            assert seen[2] == len(metrics) - 1, seen
        elif patience == 1:  # the stalling run: one reduction per stall of 3 evaluations
            assert seen[2] == len(metrics) // 8, seen
    base = statistics.median(times[next(iter(rows))])
    print(f"{title}:")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"  {name:48s} {med:7.3f} µs/observation  ({med / base:.2f} x {peer})")


def observations(quick: bool) -> None:
    """Per observation: ``ScheduleLR.observe(metric)`` (a plan with a plateau policy) and the
    drop-in ``lrkit.torch.ReduceLROnPlateau.step(metric)`` against torch's
    ``ReduceLROnPlateau.step(metric)``, 8 param groups. Two sequences: a validation loss going
    down with noise (patience 5: a run's usual case, no reduction decided), one that never
    improves with patience 0 (every observation reduces every group's lr: the cost of a
    reduction; the plan's is applied at once and built as a schedule only when asked for), and
    a run whose loss stalls for 3 evaluations in every 8 (patience 1: one reduction per stall)."""
    from lrkit.torch import ReduceLROnPlateau as DropIn

    cases, repeat = _cases(quick)
    for case, (metrics, patience) in cases.items():

        def torch_peer(patience=patience):
            sched = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer(8), factor=0.99, patience=patience)
            return sched.step, lambda: sched.optimizer.param_groups[0]["lr"]

        def drop_in(patience=patience):
            sched = DropIn(optimizer(8), factor=0.99, patience=patience)
            return sched.step, lambda: sched.optimizer.param_groups[0]["lr"]

        def plan_observe(patience=patience):
            s = ScheduleLR(optimizer(8), PLAN, plateau=Plateau(factor=0.99, patience=patience))
            s.step(float(WARM))  # at the peak: every reduction lowers the lr by more than eps
            return s.observe, lambda: len(s._plateau.reductions)

        rows = {
            "torch ReduceLROnPlateau.step(metric)": torch_peer,
            "lrkit drop-in .step(metric)": drop_in,
            "lrkit ScheduleLR(plan, plateau=).observe(metric)": plan_observe,
        }
        _time_rows(f"per observation, {case}", "torch's", rows, metrics, patience, repeat)
    paddle_observations(quick)


def paddle_observations(quick: bool) -> None:
    """The same two sequences on Paddle (one global lr): ``lrkit.paddle.ScheduleLR(plan,
    plateau=Plateau.paddle(...)).observe(metric)`` and the drop-in ``lrkit.paddle.ReduceOnPlateau``
    against Paddle's ``ReduceOnPlateau.step(metric)``."""
    import paddle

    import lrkit.paddle as lp

    cases, repeat = _cases(quick)
    for case, (metrics, patience) in cases.items():

        def peer(patience=patience):
            s = paddle.optimizer.lr.ReduceOnPlateau(learning_rate=PEAK, factor=0.99, patience=patience)
            return s.step, lambda: s.last_lr

        def drop_in(patience=patience):
            s = lp.ReduceOnPlateau(learning_rate=PEAK, factor=0.99, patience=patience)
            return s.step, lambda: s.last_lr

        def plan_observe(patience=patience):
            pol = Plateau.paddle(learning_rate=PEAK, factor=0.99, patience=patience)
            s = lp.ScheduleLR(PLAN, learning_rate=PEAK, plateau=pol)
            s.step(float(WARM))
            return s.observe, lambda: len(s._plateau.reductions)

        rows = {
            "Paddle ReduceOnPlateau.step(metric)": peer,
            "lrkit.paddle drop-in .step(metric)": drop_in,
            "lrkit.paddle ScheduleLR(plan, plateau=).observe": plan_observe,
        }
        _time_rows(f"per observation (Paddle, one lr), {case}", "Paddle's", rows, metrics, patience, repeat)


if __name__ == "__main__":
    main()
