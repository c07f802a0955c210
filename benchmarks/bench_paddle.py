"""step() overhead: lrkit's Paddle scheduler vs Paddle's own LinearWarmup(CosineAnnealingDecay).

Both give the same curve (linear warmup over 1000 steps to 0.1, cosine to 0 over the
next 99,000). Each figure is the median of REPEATS runs of N steps, in one process,
interleaved so both see the same machine state. Run: python benchmarks/bench_paddle.py
"""

from __future__ import annotations

import statistics
import sys
import time

import paddle

import lrkit as lk
from lrkit.paddle import ScheduleLR

N = 20_000
REPEATS = 7
WARM, TOTAL, PEAK = 1000, 100_000, 0.1


def ours():
    return ScheduleLR(lk.WarmupCosine(PEAK, TOTAL, WARM))


def theirs():
    L = paddle.optimizer.lr
    return L.LinearWarmup(L.CosineAnnealingDecay(PEAK, TOTAL - WARM), WARM, 0.0, PEAK)


def per_step_us(make) -> float:
    s = make()
    step = s.step
    t0 = time.perf_counter()
    for _ in range(N):
        step()
    return (time.perf_counter() - t0) / N * 1e6


def main() -> int:
    a, b = ours(), theirs()
    for _ in range(3000):  # same values (to rounding), checked before timing
        assert abs(a() - b()) <= 1e-12 * PEAK, (a.last_epoch, a(), b())
        a.step()
        b.step()
    runs = {"lrkit ScheduleLR(WarmupCosine)": [], "paddle LinearWarmup(CosineAnnealingDecay)": []}
    for _ in range(REPEATS):
        runs["lrkit ScheduleLR(WarmupCosine)"].append(per_step_us(ours))
        runs["paddle LinearWarmup(CosineAnnealingDecay)"].append(per_step_us(theirs))
    med = {k: statistics.median(v) for k, v in runs.items()}
    print(f"paddle {paddle.__version__}, python {sys.version.split()[0]}; median of {REPEATS} x {N} steps")
    for k, v in med.items():
        print(f"  {k:45s} {v:6.3f} us/step")
    ratio = med["lrkit ScheduleLR(WarmupCosine)"] / med["paddle LinearWarmup(CosineAnnealingDecay)"]
    print(f"  ratio lrkit / paddle: {ratio:.2f} (target <= 1.5)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
