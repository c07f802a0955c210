"""Re-planning at scale: step() after 10,000 re-plans, and what one re-plan costs.

A run that re-plans often (a cooldown started, a run lengthened, a plateau reduction every
few epochs) must not slow down. This script builds, in one process:

* ``fresh``: a torch ``ScheduleLR(WarmupCosine)`` never re-planned, and
* ``replanned``: the same scheduler re-planned 10,000 times (a new length, a cooldown and a
  new tail in turn, a few steps apart),

then times ``step()`` on both (interleaved repeats, medians) beside torch's ``LambdaLR`` (the
peer figure), and the cost of a re-plan early and late in the 10,000 (it must not grow with
the number made before it), and the same for Paddle's binding with ``--paddle``.

Run: python benchmarks/bench_replan.py [--paddle]
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import sys
import time

import lrkit

N = 20_000  # steps per timing run
REPEATS = 15
REPLANS = 10_000
PLAN = dict(peak_lr=1.0, total_steps=10**8, warmup_steps=1000, min_lr=1e-4)


def replan_many(sched, n: int) -> list[float]:
    """Re-plan ``sched`` ``n`` times, three steps apart; the seconds each re-plan took."""
    took = []
    for i in range(n):
        for _ in range(3):
            sched.step()
        t0 = time.perf_counter()
        if i % 3 == 0:
            sched.replan(total_steps=10**8 + i)
        elif i % 3 == 1:
            sched.replan(cooldown=10**7 + i, min_lr=1e-4)
        else:
            sched.replan(tail=lrkit.Cosine(0.5 + i * 1e-7, 10**7), jump=True)
        took.append(time.perf_counter() - t0)
    return took


def per_step_us(sched) -> float:
    step = sched.step
    t0 = time.perf_counter()
    for _ in range(N):
        step()
    return (time.perf_counter() - t0) / N * 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--paddle", action="store_true", help="time lrkit.paddle.ScheduleLR too")
    args = ap.parse_args()

    import torch

    from lrkit.torch import ScheduleLR

    def torch_sched():
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        return ScheduleLR(opt, lrkit.WarmupCosine(**PLAN))

    def lambda_lr():
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        s = lrkit.WarmupCosine(**PLAN)
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda t: s(t))

    makers = {"torch": (torch_sched, lambda_lr, "torch LambdaLR(WarmupCosine)")}
    if args.paddle:
        import paddle

        from lrkit.paddle import ScheduleLR as PaddleLR

        def paddle_sched():
            return PaddleLR(lrkit.WarmupCosine(**PLAN), learning_rate=0.1)

        def paddle_own():
            L = paddle.optimizer.lr
            return L.LinearWarmup(L.CosineAnnealingDecay(0.1, PLAN["total_steps"] - 1000), 1000, 0.0, 0.1)

        makers["paddle"] = (paddle_sched, paddle_own, "paddle LinearWarmup(CosineAnnealingDecay)")

    print(f"python {sys.version.split()[0]}, torch {torch.__version__}; step(): median of {REPEATS} x {N} steps")
    for name, (make, peer, peer_name) in makers.items():
        replanned = make()
        took = replan_many(replanned, REPLANS)
        plan = replanned.schedules[0]
        fresh = make()
        for _ in range(3 * REPLANS):  # the same position, so both run the same part of the curve
            fresh.step()
        other = peer()
        runs: dict[str, list[float]] = {"fresh": [], "replanned": [], "peer": []}
        for _ in range(REPEATS):
            runs["fresh"].append(per_step_us(fresh))
            runs["replanned"].append(per_step_us(replanned))
            runs["peer"].append(per_step_us(other))
        med = {k: statistics.median(v) for k, v in runs.items()}
        early, late = statistics.median(took[:500]) * 1e6, statistics.median(took[-500:]) * 1e6
        state = len(pickle.dumps(replanned.state_dict()))
        print(f"{name}:")
        print(f"  lrkit ScheduleLR, never re-planned          {med['fresh']:7.3f} us/step")
        print(f"  lrkit ScheduleLR after {REPLANS:,} re-plans      {med['replanned']:7.3f} us/step")
        print(f"  {peer_name:44s}{med['peer']:7.3f} us/step")
        print(f"  ratio re-planned / never re-planned: {med['replanned'] / med['fresh']:.2f} (target <= 1.1)")
        print(
            f"  ratio re-planned / {peer_name.split()[0]} {peer_name.split()[1].split('(')[0]}: "
            f"{med['replanned'] / med['peer']:.2f}"
        )
        print(
            f"  one re-plan: {early:.0f} us (re-plans 1-500), {late:.0f} us (re-plans {REPLANS - 499:,}-{REPLANS:,})"
            f"; ratio {late / early:.2f}"
        )
        print(
            f"  plan after {REPLANS:,} re-plans: depth {plan.extent[0]}, {plan.extent[1]:,} schedules; "
            f"state {state / 1e3:.0f} kB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
