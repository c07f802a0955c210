"""PyTorch scheduler step() overhead — lrkit.torch.ScheduleLR and peers in one run.

    python benchmarks/bench_torch.py [--quick] [--compile]

Every scheduler drives the same curve (linear warmup from 0 over WARM steps, then a
cosine to 0 at TOTAL, as a multiplier of lr=PEAK) on an SGD optimizer with 1 and 8
param groups. A repeat builds a fresh scheduler and calls its step() STEPS times
(the loop is part of every figure); the figure is the median µs per step over the
repeats. After each repeat the group lrs are checked against the curve, so every
row measured the same work. Peers are measured when installed: torch's LambdaLR
(wrapping the lrkit schedule, and wrapping a plain Python function), SequentialLR
(LinearLR, CosineAnnealingLR), timm's CosineLRScheduler.step_update, transformers'
get_cosine_schedule_with_warmup, and the loop training scripts write by hand.

--compile also counts torch.compile graphs for an Adam step over a changing
schedule with a tensor lr and with a float lr (slow: each compile takes seconds).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.util
import math
import os
import platform
import statistics
import sys
import time
import types
import warnings

import torch
from torch.optim import lr_scheduler as tl

import lrkit
from lrkit.torch import ScheduleLR

PEAK, TOTAL, WARM = 0.1, 100_000, 5_000
SCHEDULE = lrkit.WarmupCosine(peak_lr=1.0, total_steps=TOTAL, warmup_steps=WARM)  # the multiplier


def multiplier(step: int) -> float:
    """The same curve, hand-written: the function a LambdaLR user writes."""
    if step < WARM:
        return step / WARM
    progress = (step - WARM) / (TOTAL - WARM)
    if progress >= 1:
        return 0.0
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def hand_lr(step: int) -> float:
    """The absolute lr a training script computes inline before writing it into the groups."""
    if step < WARM:
        return PEAK * step / WARM
    progress = (step - WARM) / (TOTAL - WARM)
    if progress >= 1:
        return 0.0
    return PEAK * 0.5 * (1.0 + math.cos(math.pi * progress))


def optimizer(groups: int) -> torch.optim.Optimizer:
    params = [{"params": [torch.zeros(1, requires_grad=True)]} for _ in range(groups)]
    opt = torch.optim.SGD(params, lr=PEAK)
    return opt


def one_run(make, steps: int, groups: int) -> tuple[float, float]:
    """(seconds for ``steps`` scheduler steps, relative lr error at the end) for ``make(opt) -> run``."""
    opt = optimizer(groups)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        step = make(opt)
        opt.step()  # no gradients: changes nothing, but marks the optimizer as stepped for torch
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            step(steps)
            dt = time.perf_counter() - t0
        finally:
            gc.enable()
    want = PEAK * multiplier(steps)
    err = max(abs(float(g["lr"]) - want) / want for g in opt.param_groups)
    return dt, err


def timed_interleaved(rows, steps: int, repeat: int, groups: int) -> dict[str, tuple[float, float]]:
    """Median µs per step and worst lr error for every row, the rows' runs interleaved.

    Interleaving (row A, row B, ..., then again) spreads the machine's drift over
    every row instead of favouring whichever ran in a quiet moment.
    """
    times: dict[str, list[float]] = {name: [] for name, make in rows if not isinstance(make, str)}
    errs = dict.fromkeys(times, 0.0)
    for _ in range(repeat):
        for name, make in rows:
            if isinstance(make, str):
                continue
            dt, err = one_run(make, steps, groups)
            times[name].append(dt)
            errs[name] = max(errs[name], err)
    return {name: (statistics.median(ts) / steps * 1e6, errs[name]) for name, ts in times.items()}


# Each maker builds a scheduler on ``opt`` and returns ``run(n)``: n scheduler steps.


def lrkit_schedule_lr(opt):
    s = ScheduleLR(opt, SCHEDULE)
    step = s.step

    def run(n):
        for _ in range(n):
            step()

    return run


def lambdalr(fn):
    def make(opt):
        step = tl.LambdaLR(opt, fn).step

        def run(n):
            for _ in range(n):
                step()

        return run

    return make


def sequential(opt):
    warm = tl.LinearLR(opt, start_factor=1e-12, end_factor=1.0, total_iters=WARM)
    cos = tl.CosineAnnealingLR(opt, T_max=TOTAL - WARM, eta_min=0.0)
    step = tl.SequentialLR(opt, [warm, cos], milestones=[WARM]).step

    def run(n):
        for _ in range(n):
            step()

    return run


def hand_loop(opt):
    groups = opt.param_groups

    def run(n):
        step = 0
        for _ in range(n):
            step += 1
            lr = hand_lr(step)
            for g in groups:
                g["lr"] = lr

    return run


def hand_loop_tensors(opt):
    """The inline loop with the care torch's own schedulers take: a tensor lr is filled in place."""
    groups = opt.param_groups

    def run(n):
        step = 0
        for _ in range(n):
            step += 1
            lr = hand_lr(step)
            for g in groups:
                if isinstance(g["lr"], torch.Tensor):
                    g["lr"].fill_(lr)
                else:
                    g["lr"] = lr

    return run


def set_optimizer_lr(opt, lr_func, step):
    """The recipes' per-step helper (YOLOX style): compute the lr, write it into every group."""
    lr = lr_func(step)
    for g in opt.param_groups:
        g["lr"] = lr


def hand_recipe(opt):
    def run(n):
        for step in range(1, n + 1):
            set_optimizer_lr(opt, hand_lr, step)

    return run


def load_timm_cosine():
    """timm's CosineLRScheduler and a note; its scheduler module alone when ``import timm`` fails."""
    if importlib.util.find_spec("timm") is None:
        return None, "not installed"
    try:
        from timm.scheduler import CosineLRScheduler

        return CosineLRScheduler, ""
    except Exception as e:  # noqa: BLE001 - e.g. a torchvision build that does not match torch
        why = f"{type(e).__name__}: {e}".splitlines()[0][:80]
    # The scheduler files need only torch: load them without timm/__init__ (models, torchvision).
    root = importlib.util.find_spec("timm").submodule_search_locations[0]
    for name, path in (("timm", root), ("timm.scheduler", os.path.join(root, "scheduler"))):
        pkg = types.ModuleType(name)
        pkg.__path__ = [path]
        sys.modules[name] = pkg
    mod = importlib.import_module("timm.scheduler.cosine_lr")
    return mod.CosineLRScheduler, f" [scheduler module loaded alone; import timm: {why}]"


def timm_maker(cls):
    def make(opt):
        s = cls(
            opt,
            t_initial=TOTAL - WARM,
            lr_min=0.0,
            warmup_t=WARM,
            warmup_lr_init=0.0,
            warmup_prefix=True,
            t_in_epochs=False,
        )
        step_update = s.step_update

        def run(n):
            for i in range(1, n + 1):
                step_update(i)

        return run

    return make


def transformers_maker(fn):
    def make(opt):
        step = fn(opt, num_warmup_steps=WARM, num_training_steps=TOTAL).step

        def run(n):
            for _ in range(n):
                step()

        return run

    return make


def peers() -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = [
        ("lrkit ScheduleLR(WarmupCosine)", lrkit_schedule_lr),
        ("torch LambdaLR(lrkit schedule)", lambdalr(SCHEDULE)),
        ("torch LambdaLR(plain Python function)", lambdalr(multiplier)),
        ("torch SequentialLR(LinearLR, CosineAnnealingLR)", sequential),
    ]
    cls, note = load_timm_cosine()
    rows.append((f"timm CosineLRScheduler.step_update{note}", timm_maker(cls) if cls else note))
    try:
        from transformers import get_cosine_schedule_with_warmup

        rows.append(
            ("transformers get_cosine_schedule_with_warmup", transformers_maker(get_cosine_schedule_with_warmup))
        )
    except Exception as e:  # noqa: BLE001 - a missing or broken peer is reported, not fatal
        rows.append(("transformers get_cosine_schedule_with_warmup", f"not measured ({type(e).__name__})"))
    rows.append(("hand-written recipe: set_optimizer_lr(opt, f, step) per step", hand_recipe))
    rows.append(("hand-written inline, tensor lrs kept (isinstance, as torch does)", hand_loop_tensors))
    rows.append(("hand-written inline: lr = f(step); for g in groups: g['lr'] = lr", hand_loop))
    return rows


def step_section(steps: int, repeat: int) -> None:
    print(f"\n## step() overhead, µs per step: median of {repeat} x {steps:,} steps (ratio = peer / lrkit)")
    rows = peers()
    results: dict[int, dict[str, float]] = {}
    for groups in (1, 8):
        print(f"\n### {groups} param group{'s' if groups > 1 else ''}")
        res = results[groups] = {}
        measured = timed_interleaved(rows, steps, repeat, groups)
        for name, make in rows:
            if isinstance(make, str):
                print(f"  {name:<66} {make}")
                continue
            us, err = measured[name]
            res[name] = us
            base = res[rows[0][0]]
            flag = "" if err <= 1e-6 else f"  (lr differs from the curve by {err:.1e} relative)"
            print(f"  {name:<66} {us:7.3f} µs  {us / base:6.2f}x{flag}")
    print("\n## Targets")
    lk, lam, plain, recipe, careful, inline = (
        rows[0][0],
        rows[1][0],
        rows[2][0],
        rows[-3][0],
        rows[-2][0],
        rows[-1][0],
    )
    for groups, res in results.items():
        speedup = res[lam] / res[lk]
        print(
            f"  {groups} group(s): lrkit is {speedup:.1f}x faster than LambdaLR with the same schedule "
            f"(target >= 5x: {'met' if speedup >= 5 else 'NOT met'}), {res[plain] / res[lk]:.1f}x faster "
            f"than LambdaLR with a plain function"
        )
        print(
            f"    vs the hand-written recipe loop: {res[lk] / res[recipe]:.2f}x its time "
            f"(target <= 1: {'met' if res[lk] <= res[recipe] else 'NOT met'}); vs the same code inlined in the "
            f"training loop (no call per step): {res[lk] / res[inline]:.2f}x its time, and "
            f"{res[lk] / res[careful]:.2f}x the inlined loop that keeps tensor lrs as lrkit does"
        )


def compile_run(lr_kind: str, steps: int, sched_inside: bool, scheduler: str = "lrkit") -> dict:
    """Graphs compiled for an Adam step over ``steps`` steps of a changing schedule."""
    import torch._dynamo
    from torch._dynamo.testing import CompileCounterWithBackend

    torch._dynamo.reset()
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 4)
    lr = torch.tensor(0.01) if lr_kind == "tensor" else 0.01
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    curve = lrkit.WarmupCosine(1.0, steps, max(1, steps // 10), min_lr=0.01)
    sched = ScheduleLR(opt, curve) if scheduler == "lrkit" else tl.LambdaLR(opt, curve)
    counter = CompileCounterWithBackend("inductor")

    if sched_inside:

        @torch.compile(backend=counter)
        def update():
            opt.step()
            sched.step()
    else:

        @torch.compile(backend=counter)
        def update():
            opt.step()

    x = torch.randn(16, 8)
    times = []
    at = []
    for _ in range(steps):
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        n = counter.frame_count
        t0 = time.perf_counter()
        update()
        times.append(time.perf_counter() - t0)
        if counter.frame_count != n:
            at.append(len(times) - 1)
        if not sched_inside:
            sched.step()
    same = opt.param_groups[0]["lr"] is lr
    return {
        "graphs": counter.frame_count,
        "at": at,
        "compile_s": sum(times[i] for i in at),
        "steady_us": statistics.median(times[i] for i in range(steps) if i not in at) * 1e6,
        "same_tensor": same,
    }


def compile_section(steps: int) -> None:
    print(f"\n## torch.compile'd Adam step, {steps} steps of a changing WarmupCosine (inductor, CPU)")
    cases = [
        ("tensor lr, scheduler.step() outside the compiled function", "tensor", False, "lrkit"),
        ("float lr,  scheduler.step() outside the compiled function", "float", False, "lrkit"),
        ("tensor lr, ScheduleLR.step() inside the compiled function", "tensor", True, "lrkit"),
        ("tensor lr, LambdaLR.step() inside the compiled function", "tensor", True, "torch"),
    ]
    print("  (dynamo gives up on a function after 8 recompiles and runs it uncompiled from then on)")
    for name, kind, inside, which in cases:
        r = compile_run(kind, steps, inside, which)
        ident = "; lr tensor kept (same object)" if kind == "tensor" and r["same_tensor"] else ""
        print(
            f"  {name:<58} {r['graphs']} graph(s) = {r['graphs'] - 1} recompile(s); compiles at steps {r['at']}, "
            f"{r['compile_s']:.1f} s compiling, {r['steady_us']:.0f} µs/step after{ident}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps and repeats (a smoke test)")
    ap.add_argument("--compile", action="store_true", help="also count torch.compile graphs (slow)")
    args = ap.parse_args()
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    print(
        f"# lrkit {lrkit.__version__} PyTorch benchmark — {time.strftime('%Y-%m-%d %H:%M')}, {platform.node()}, "
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, torch {torch.__version__}, torch threads {torch.get_num_threads()}"
    )
    step_section(steps=2_000 if args.quick else 20_000, repeat=3 if args.quick else 5)
    if args.compile:
        compile_section(steps=20 if args.quick else 100)


if __name__ == "__main__":
    main()
