"""Core speed: scalar calls, array evaluation, import time — lrkit and peers in one run.

    python benchmarks/bench_core.py [--quick]

Prints medians over repeats (the machines here are noisy) and ratios. Peers are
measured when installed: a hand-written Python warmup+cosine function (what
training scripts inline), transformers' cosine-with-warmup lambda, fvcore's
composite param scheduler, timm's CosineLRScheduler, PyTorch's LambdaLR.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import timeit

import numpy as np

import lrkit

PEAK, TOTAL, WARM, FLOOR = 0.1, 100_000, 5_000, 1e-5


def per_call_us(fn, arg, number: int, repeat: int) -> float:
    """Median µs per call of ``fn(arg)``."""
    times = timeit.repeat(lambda: fn(arg), number=number, repeat=repeat)
    return statistics.median(times) / number * 1e6


def hand_written(step: float) -> float:
    """The warmup + cosine function training scripts write inline."""
    if step < WARM:
        return PEAK * step / WARM
    progress = (step - WARM) / (TOTAL - WARM)
    if progress >= 1:
        return FLOOR
    return FLOOR + 0.5 * (PEAK - FLOOR) * (1 + math.cos(math.pi * progress))


def scalar_section(number: int, repeat: int) -> None:
    print("\n## Scalar call: linear warmup + cosine, one position per call (µs/call, median)")
    sched = lrkit.WarmupCosine(peak_lr=PEAK, total_steps=TOTAL, warmup_steps=WARM, min_lr=FLOOR)
    pos = 42_345
    assert math.isclose(sched(pos), hand_written(pos), rel_tol=1e-12)
    rows = [("lrkit WarmupCosine(t)", per_call_us(sched, pos, number, repeat))]
    rows.append(("hand-written Python function", per_call_us(hand_written, pos, number, repeat)))
    try:
        from functools import partial

        from transformers.optimization import _get_cosine_schedule_with_warmup_lr_lambda as tf_lambda

        f = partial(tf_lambda, num_warmup_steps=WARM, num_training_steps=TOTAL, num_cycles=0.5)
        rows.append(("transformers cosine-with-warmup lambda (multiplier)", per_call_us(f, pos, number, repeat)))
    except Exception as e:  # noqa: BLE001 - a missing or changed peer is reported, not fatal
        rows.append((f"transformers: not measured ({type(e).__name__})", math.nan))
    try:
        from fvcore.common.param_scheduler import CompositeParamScheduler, CosineParamScheduler, LinearParamScheduler

        fv = CompositeParamScheduler(
            [LinearParamScheduler(0.0, PEAK), CosineParamScheduler(PEAK, FLOOR)],
            lengths=[WARM / TOTAL, 1 - WARM / TOTAL],
            interval_scaling=["rescaled", "rescaled"],
        )
        rows.append(("fvcore CompositeParamScheduler(where)", per_call_us(fv, pos / TOTAL, number, repeat)))
    except Exception as e:  # noqa: BLE001
        rows.append((f"fvcore: not measured ({type(e).__name__})", math.nan))
    base = rows[0][1]
    for name, us in rows:
        ratio = "" if math.isnan(us) else f"  ({us / base:.2f}x lrkit)"
        print(f"  {name:<55} {us:7.3f} µs{ratio}")
    print(f"  target <= 1 µs per call: {'met' if base <= 1.0 else 'NOT met'}")


def array_section(n: int, repeat: int) -> None:
    print(f"\n## Array: warmup + scaled cosine restarts over {n:,} positions (ms, median)")
    sched = lrkit.CosineRestarts(peak_lr=PEAK, period=50_000, period_mult=2, min_lr=FLOOR, peak_decay=0.7).with_warmup(
        5_000
    )
    t = np.arange(n, dtype=np.float64)

    def by_hand(t: np.ndarray) -> np.ndarray:
        # the same curve written directly in numpy for this one case (ordered positions):
        # a slice per cycle, no checks; the floor of what an array path can cost here
        out = np.empty_like(t)
        u = t - 5_000.0
        starts = [50_000.0 * (2.0**c - 1.0) for c in range(64)]
        cuts = np.searchsorted(u, starts)
        for c in range(63):
            a, z = cuts[c], cuts[c + 1]
            if a < z:
                h = max(PEAK * 0.7**c, FLOOR) - FLOOR
                out[a:z] = FLOOR + h * 0.5 * (1.0 + np.cos((u[a:z] - starts[c]) * (math.pi / (50_000.0 * 2.0**c))))
        w = t < 5_000.0
        out[w] = t[w] / 5_000.0 * PEAK
        return out

    # interleaved, so that both see the same machine
    ours, hand = [], []
    for _ in range(repeat):
        ours += timeit.repeat(lambda: sched(t), number=1, repeat=1)
        hand += timeit.repeat(lambda: by_hand(t), number=1, repeat=1)
    vec, hand_ms = statistics.median(ours) * 1e3, statistics.median(hand) * 1e3
    assert np.allclose(by_hand(t), sched(t), rtol=1e-12, atol=0), "the hand-written curve is another curve"
    loop_t = [float(x) for x in range(n)]

    def py_loop():
        return [sched(x) for x in loop_t]

    loop = statistics.median(timeit.repeat(py_loop, number=1, repeat=3)) * 1e3
    assert np.array_equal(sched(t), np.array(py_loop())), "array and scalar paths disagree"
    print(f"  {'lrkit sched(array)':<55} {vec:9.1f} ms")
    print(
        f"  {'the same curve hand-written in numpy (no checks)':<55} {hand_ms:9.1f} ms  ({vec / hand_ms:.2f}x: lrkit / by hand)"
    )
    print(f"  {'Python loop over lrkit scalar path':<55} {loop:9.1f} ms  ({loop / vec:.0f}x the array path)")
    try:
        import torch

        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
        lam = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: sched(step))

        def torch_loop():
            out = []
            for _ in range(n):
                out.append(opt.param_groups[0]["lr"])
                opt.step()
                lam.step()
            return out

        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tl = statistics.median(timeit.repeat(torch_loop, number=1, repeat=1)) * 1e3
        print(f"  {'PyTorch LambdaLR stepped over the same curve':<55} {tl:9.1f} ms  ({tl / vec:.0f}x the array path)")
    except Exception as e:  # noqa: BLE001
        print(f"  PyTorch LambdaLR: not measured ({type(e).__name__})")
    print(
        f"  targets: <= 30 ms: {'met' if vec <= 30 else 'NOT met'}; >= 50x the scalar loop: "
        f"{'met' if loop / vec >= 50 else 'NOT met'}"
    )


def import_section(repeat: int) -> None:
    print(f"\n## Import time: python -c '...' wall time, median of {repeat} runs (ms)")
    env = dict(os.environ)

    def once(code: str) -> float:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
        return time.perf_counter() - t0

    once("import lrkit")  # warm the file cache
    codes = {
        "bare interpreter": "pass",
        "import numpy": "import numpy",
        "import lrkit": "import lrkit",
        "import numpy, then lrkit": "import numpy; import lrkit",
    }
    if _has("torch"):
        codes["import torch (the PyTorch scheduler peers)"] = "import torch"
    # round by round (bare, numpy, lrkit, ...), so that each figure sees the same machine
    times: dict[str, list[float]] = {k: [] for k in codes}
    for _ in range(repeat):
        for name, code in codes.items():
            times[name].append(once(code))
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    bare = med.pop("bare interpreter")
    print(f"  {'bare interpreter':<55} {bare:7.1f} ms")
    for name, ms in med.items():
        print(f"  {name:<55} {ms:7.1f} ms  (+{ms - bare:.1f} ms over bare)")
    # lrkit's own modules, from the interpreter's import timer (one process, no start-up noise)
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import lrkit"], env=env, capture_output=True, text=True, check=True
    ).stderr
    own = sum(
        int(line.split("|")[0].split(":")[1])
        for line in out.splitlines()
        if line.startswith("import time:")
        and "|" in line
        and line.split("|")[-1].strip().startswith("lrkit")
        and line.split("|")[0].split(":")[1].strip().isdigit()
    )
    print(f"  {'lrkit modules alone (-X importtime, self times)':<55} {own / 1e3:7.1f} ms")
    # what lrkit adds to a process that has numpy (lrkit itself loads numpy only when it evaluates an array)
    over = med["import numpy, then lrkit"] - med["import numpy"]
    paired = statistics.median(b - a for a, b in zip(times["import numpy"], times["import numpy, then lrkit"])) * 1e3
    print(f"  {'import lrkit after import numpy, the difference':<55} {over:7.1f} ms")
    print(f"  {'  the same, median of the per-round differences':<55} {paired:7.1f} ms")
    # the modules lrkit adds beyond its own (the rest it needs numpy has imported already)
    added = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, numpy; b = set(sys.modules); import lrkit; print(*sorted(set(sys.modules) - b))",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    print(
        f"  {'modules import lrkit adds after numpy, not lrkit.*':<55} {' '.join(m for m in added if not m.startswith('lrkit')) or '-'}"
    )
    print(f"  target: import lrkit <= 15 ms over import numpy: {'met' if over <= 15 else 'NOT met'}")


def _has(mod: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(mod) is not None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats (for a smoke test)")
    args = ap.parse_args()
    q = args.quick
    print(
        f"# lrkit {lrkit.__version__} core benchmark — {time.strftime('%Y-%m-%d')}, "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}"
    )
    scalar_section(number=20_000 if q else 200_000, repeat=3 if q else 7)
    array_section(n=100_000 if q else 1_000_000, repeat=3 if q else 9)
    import_section(repeat=3 if q else 15)


if __name__ == "__main__":
    main()
