"""DeepSpeed's learning-rate schedulers (its JSON ``scheduler`` section) as lrkit schedules.

Position ``t`` counts the scheduler's steps, as DeepSpeed's engine takes them (one per
optimizer update); DeepSpeed's ``last_batch_iteration`` is ``t - 1`` (the value before the
first step is the one its constructor writes). With ``W = max(2, warmup_num_steps)``:

==================  ===========================================================================
DeepSpeed           lrkit schedule
==================  ===========================================================================
WarmupLR            log warmup: ``Warmup(Constant(max), W, "log", start_lr=min)``
                    (``min + (max - min) log(max(t, 1)) / log(W)``); linear warmup:
                    ``min`` at 0, ``min + (max - min)(t - 1) / W`` up to ``t = W``, then ``max``
WarmupDecayLR       the same warmup, then from ``W + 1`` a straight line to ``min`` at
                    ``total_num_steps + 1``, then ``min``
WarmupCosineLR      each group's lr times: the warmup from ``warmup_min_ratio`` to 1, then
                    from ``W + 1`` the cosine ``cos_min_ratio + (1 - cos_min_ratio)(1 +
                    cos(pi (t - W) / (T - W))) / 2``, held at ``cos_min_ratio`` from ``T``
OneCycle            ``min`` up to ``max`` over ``cycle_first_step_size``, down to ``min`` over
                    ``cycle_second_step_size``, then ``min / (1 + decay_lr_rate (t - total) /
                    decay_step_size)`` (or ``min``); stair counts as a piecewise staircase
==================  ===========================================================================
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from ..core import Schedule
from ..schedules.algebra import Piecewise, Ramp, Shift
from ..schedules.compose import Scale, Warmup
from ..schedules.decays import Constant, Cosine, InverseTime, Linear
from . import chain, qualname

__all__ = ["from_deepspeed", "is_deepspeed"]

_TYPES = ("WarmupLR", "WarmupDecayLR", "WarmupCosineLR", "OneCycle")


def is_deepspeed(obj: Any) -> bool:
    return any(c.__module__.startswith("deepspeed.") for c in type(obj).__mro__)


def _per_group(value: Any, n: int, name: str) -> list[float]:
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"DeepSpeed {name}: {len(value)} values for {n} param groups")
        return [float(v) for v in value]
    return [float(value)] * n


def _rise(lo: float, hi: float, W: int, kind: str) -> Schedule:
    """DeepSpeed's warmup for ``1 <= t <= W``, on the clock ``u = t - 1``: ``lo + (hi - lo)
    log(t) / log(W)`` (log) or ``lo + (hi - lo)(t - 1) / W`` (linear)."""
    if kind == "log":
        return Shift(Warmup(Constant(hi), W, "log", start_lr=lo), 1.0)
    return Ramp(lo, lo + (hi - lo) * (W - 1) / W, W - 1.0)


def _planned(first: float, rise: Schedule, W: int, after: Schedule) -> Schedule:
    """The value before the first step, the warmup for ``1 <= t <= W``, then ``after`` from ``W + 1``."""
    return chain([(1.0, Constant(first)), (float(W), rise), (0.0, after)])


def _warmup_type(p: Mapping[str, Any]) -> str:
    kind = p.get("warmup_type", "log")
    return kind if kind in ("log", "linear") else "log"  # DeepSpeed falls back to log, with a warning


def from_deepspeed(config: Mapping[str, Any], lrs: Any = None) -> Schedule | list[Schedule]:
    """The lrkit schedule of a DeepSpeed ``scheduler`` config section (``{"type": ...,
    "params": {...}}``, or a whole DeepSpeed config holding one) — absolute lrs, one schedule,
    or a list with one per param group when they differ.

    ``lrs`` is the optimizer's lr (one number, or one per group): DeepSpeed takes it for
    ``WarmupCosineLR`` (a multiplier of each group's lr) and for ``WarmupLR`` without
    ``warmup_max_lr``.

    >>> s = from_deepspeed({"type": "WarmupDecayLR", "params": {"warmup_min_lr": 0, "warmup_max_lr": 0.001,
    ...     "warmup_num_steps": 100, "total_num_steps": 1000}})
    >>> round(s(550), 12)  # 0.001 * (1000 - 550 + 1) / (1000 - 100)
    0.000501111111
    """
    if not isinstance(config, Mapping):
        raise ValueError(f"a DeepSpeed scheduler config must be a mapping, got {config!r}")
    if "scheduler" in config and isinstance(config["scheduler"], Mapping):
        config = config["scheduler"]
    kind, p = config.get("type"), dict(config.get("params") or {})
    if kind not in _TYPES:
        raise ValueError(f"DeepSpeed scheduler type must be one of {', '.join(_TYPES)}, got {kind!r}")
    group_lrs = None if lrs is None else ([float(v) for v in lrs] if isinstance(lrs, (list, tuple)) else [float(lrs)])
    # the number of param groups: the optimizer's (lrs=), else the longest per-group list;
    # a list of another length is an error (_per_group)
    n = len(group_lrs) if group_lrs is not None and len(group_lrs) > 1 else max(
        [len(p[k]) for k in ("warmup_min_lr", "warmup_max_lr", "cycle_min_lr", "cycle_max_lr")
         if isinstance(p.get(k), (list, tuple))] or [1])

    def need_lrs(what: str) -> list[float]:
        if group_lrs is None:
            raise ValueError(f"DeepSpeed {kind} {what}: give lrs= (the optimizer's lr, or one per group)")
        return _per_group(group_lrs, n, "lrs")

    out: list[Schedule] = []
    W = max(2, int(p.get("warmup_num_steps", 1000)))
    if kind in ("WarmupLR", "WarmupDecayLR"):
        lo = _per_group(p.get("warmup_min_lr", 0.0), n, "warmup_min_lr")
        if kind == "WarmupLR" and p.get("warmup_max_lr") is None:
            hi = need_lrs("without warmup_max_lr takes each group's lr as the maximum")
        else:
            hi = _per_group(p.get("warmup_max_lr", 0.001), n, "warmup_max_lr")
        for a, b in zip(lo, hi):
            if kind == "WarmupLR":
                after: Schedule = Constant(b)
            else:  # min + (max - min)(T - t + 1) / max(1, T - W) from W + 1, down to min at T + 1
                T = float(p["total_num_steps"])
                after = Linear(b, T - W, a) if T - W >= 1 else Constant(a)
            out.append(_planned(a, _rise(a, b, W, _warmup_type(p)), W, after))
    elif kind == "WarmupCosineLR":
        T = int(p["total_num_steps"])
        wmin, cmin = float(p.get("warmup_min_ratio", 0.0)), float(p.get("cos_min_ratio", 0.0001))
        # from W + 1 the cosine at progress (t - W) / (T - W), held at cos_min_ratio from T
        cos: Schedule = Shift(Cosine(1.0, T - W, cmin), 1.0) if T > W else Constant(cmin)
        ratio = _planned(0.0, _rise(wmin, 1.0, W, _warmup_type(p)), W, cos)  # 0 before the first step
        out = [ratio if r == 1.0 else Scale(ratio, r) for r in need_lrs("multiplies each group's lr")]
    else:  # OneCycle
        lo = _per_group(p["cycle_min_lr"], n, "cycle_min_lr")
        hi = _per_group(p["cycle_max_lr"], n, "cycle_max_lr")
        F = float(p.get("cycle_first_step_size", 2000))
        S = float(p.get("cycle_second_step_size") if p.get("cycle_second_step_size") is not None else F)
        c1 = int(p.get("cycle_first_stair_count", 0) or 0)
        c2 = p.get("cycle_second_stair_count")
        c2 = c1 if c2 is None else int(c2)
        D, rate = float(p.get("decay_step_size", 0) or 0), float(p.get("decay_lr_rate", 0.0) or 0.0)
        for a, b in zip(lo, hi):
            cycle = _one_cycle(a, b, F, S, c1, c2)
            tail: Schedule = InverseTime(a, D, rate) if D != 0 and not math.isclose(rate, 0) else Constant(a)
            out.append(chain([(F + S, cycle), (0.0, tail)]))
    return out[0] if all(s == out[0] for s in out[1:]) else out


def _one_cycle(a: float, b: float, F: float, S: float, c1: int, c2: int) -> Schedule:
    total = F + S
    if c1 <= 0 and c2 <= 0:
        return chain([(F, Ramp(a, b, F)), (0.0, Ramp(b, a, S) if S > 0 else Constant(a))])
    # a staircase: the value of each whole position of the cycle, as runs
    vals, bounds = [], []
    for t in range(int(math.ceil(total)) + 1):
        x = t % total
        if x <= F:
            c, frac = c1, (x * c1 / F if c1 > 0 else x / F)
        else:
            c, frac = c2, ((total - x) * c2 / S if c2 > 0 else (total - x) / S)
        scale = math.floor(frac) / c if c > 0 else frac
        v = a + (b - a) * scale
        if not vals or v != vals[-1]:
            if vals:
                bounds.append(float(t))
            vals.append(v)
    return Piecewise(vals, bounds) if bounds else Constant(vals[0])


def from_scheduler(obj: Any) -> Schedule | list[Schedule]:
    """A DeepSpeed scheduler object (what ``deepspeed.initialize`` returns) as lrkit schedules."""
    name = type(obj).__name__
    if name not in _TYPES:
        raise TypeError(f"cannot convert {qualname(obj)}: supported DeepSpeed schedulers are {', '.join(_TYPES)}")
    wt = "linear" if getattr(obj, "warmup_type", "log") == "linear" else "log"
    if name == "WarmupCosineLR":
        cfg = {"warmup_num_steps": obj.warmup_num_steps, "total_num_steps": obj.total_num_steps,
               "warmup_min_ratio": obj.warmup_min_ratio, "cos_min_ratio": obj.cos_min_ratio, "warmup_type": wt}
        return from_deepspeed({"type": name, "params": cfg}, lrs=[float(v) for v in obj.org_lrs])
    if name in ("WarmupLR", "WarmupDecayLR"):
        cfg = {"warmup_num_steps": obj.warmup_num_steps, "warmup_min_lr": list(obj.min_lrs),
               "warmup_max_lr": list(obj.max_lrs), "warmup_type": wt}
        if name == "WarmupDecayLR":
            cfg["total_num_steps"] = obj.total_num_steps
        return from_deepspeed({"type": name, "params": cfg})
    cfg = {"cycle_min_lr": list(obj.min_lrs), "cycle_max_lr": list(obj.max_lrs),
           "cycle_first_step_size": obj.first_step_size, "cycle_second_step_size": obj.second_step_size,
           "cycle_first_stair_count": obj.first_stair_count, "cycle_second_stair_count": obj.second_stair_count,
           "decay_step_size": obj.decay_step_size, "decay_lr_rate": obj.decay_lr_rate}
    return from_deepspeed({"type": name, "params": cfg})
