"""timm's schedulers (``timm.scheduler``) as lrkit schedules.

The position is timm's ``t``: the epoch for ``t_in_epochs=True`` (``scheduler.step(epoch)``),
the update count otherwise (``scheduler.step_update(num_updates)``). For a group with base
lr ``v`` (times its ``lr_scale``, if it has one):

* warmup (``warmup_t = W > 0``): ``warmup_lr_init + t * s`` for ``t < W``, a
  :class:`~lrkit.Ramp`; with ``warmup_prefix=True`` the main schedule starts after it, with
  ``False`` (timm's default) it runs on the global clock and the warmup covers its start
  (:class:`~lrkit.Shift`);
* ``CosineLRScheduler``: :class:`~lrkit.CosineRestarts` (``period=t_initial``,
  ``period_mult=cycle_mul``, ``peak_decay=cycle_decay``, ``max_cycles=cycle_limit``, ``k=k_decay``);
* ``TanhLRScheduler``, ``PolyLRScheduler``: one :class:`~lrkit.Tanh` / :class:`~lrkit.Polynomial`
  per cycle (at most 64 cycles), then ``lr_min``;
* ``StepLRScheduler``: :class:`~lrkit.Step`; ``MultiStepLRScheduler``: :class:`~lrkit.MultiStep`
  at ``m - 1`` for each of timm's milestones ``m`` (timm's convention);
* noise (``noise_range_t``) is random, not a closed form: ``TypeError``.
"""

from __future__ import annotations

import math
from typing import Any

from ..core import Schedule
from ..schedules.cycles import CosineRestarts
from ..schedules.decays import Constant, Polynomial, Step, Tanh
from . import chain, multistep, ramp_then, scaled, shifted, unconvertible

__all__ = ["is_timm", "convert"]

_MAX_CYCLES = 64


def is_timm(obj: Any) -> bool:
    return any(c.__module__.startswith("timm.scheduler") for c in type(obj).__mro__)


def convert(obj: Any, g: int) -> Schedule:
    """Group ``g``'s lr as a schedule of timm's ``t``."""
    name = type(obj).__name__
    if getattr(obj, "noise_range_t", None) is not None:
        raise unconvertible(obj, "noise (noise_range_t) makes the lr random, not a closed form; set "
                                 "noise_range_t=None to convert the schedule without it")
    if getattr(obj, "param_group_field", "lr") != "lr":
        raise unconvertible(obj, f"it drives {obj.param_group_field!r}, not the lr")
    v = float(obj.base_values[g])
    if name == "CosineLRScheduler":
        main = _cosine(obj, v)
    elif name in ("TanhLRScheduler", "PolyLRScheduler"):
        main = _cycles(obj, v, name)
    elif name == "StepLRScheduler":
        main = Step(v, float(obj.decay_t), float(obj.decay_rate))
    elif name == "MultiStepLRScheduler":
        main = multistep(v, [m - 1 for m in obj.decay_t], float(obj.decay_rate))
    else:
        raise unconvertible(obj, "supported timm schedulers: CosineLRScheduler, TanhLRScheduler, "
                                 "PolyLRScheduler, StepLRScheduler, MultiStepLRScheduler")
    W = float(obj.warmup_t or 0)
    if W > 0:
        start = float(obj.warmup_lr_init)
        end = start + W * float(obj.warmup_steps[g])  # where timm's warmup line would arrive
        main = ramp_then(start, end, W, main if obj.warmup_prefix else shifted(main, W))
    group = obj.optimizer.param_groups[g]
    return scaled(main, float(group["lr_scale"])) if "lr_scale" in group else main


def _cycle_peaks(obj: Any, v: float, n: int) -> list[float]:
    return [v * float(obj.cycle_decay) ** i for i in range(n)]


def _cosine(obj: Any, v: float) -> Schedule:
    lo, limit = float(obj.lr_min), int(obj.cycle_limit)
    if limit < 1:
        return Constant(lo)
    d = float(obj.cycle_decay)
    if d < 1 and lo > 0:
        last = v * d ** (limit - 1) if limit < 10_000 else 0.0
        if last < lo:
            raise unconvertible(obj, f"with cycle_decay={d:g} the peak of a later cycle drops below lr_min "
                                     f"({lo:g}), where timm's cosine turns upside down")
    return CosineRestarts(v, float(obj.t_initial), float(obj.cycle_mul), lo, peak_decay=d,
                          max_cycles=limit, k=float(getattr(obj, "k_decay", 1.0)))


def _cycles(obj: Any, v: float, name: str) -> Schedule:
    lo, limit, T0, mul = float(obj.lr_min), int(obj.cycle_limit), float(obj.t_initial), float(obj.cycle_mul)
    if limit > _MAX_CYCLES:
        raise unconvertible(obj, f"cycle_limit={limit}: at most {_MAX_CYCLES} cycles convert (one segment each)")
    parts: list[tuple[float, Schedule]] = []
    for i, peak in enumerate(_cycle_peaks(obj, v, limit)):
        T = T0 * mul ** i
        if peak < lo:
            raise unconvertible(obj, f"cycle {i}'s peak {peak:g} is below lr_min ({lo:g})")
        if name == "TanhLRScheduler":
            seg: Schedule = Tanh(peak, T, lo, float(obj.lb), float(obj.ub))
        else:
            seg = Polynomial(peak, T, lo, float(obj.power), float(getattr(obj, "k_decay", 1.0)))
        parts.append((T, seg))
    if not parts:
        return Constant(lo)
    if not all(math.isfinite(n) for n, _ in parts):
        raise unconvertible(obj, "a cycle's length overflows")
    return chain(parts + [(0.0, Constant(lo))])
