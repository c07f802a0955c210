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
  a cosine cycle whose peak (``cycle_decay``) fell below ``lr_min`` rises from its peak to
  ``lr_min`` (``Ramp(..., shape="cosine")``), as timm's formula does;
* ``StepLRScheduler``: :class:`~lrkit.Step`; ``MultiStepLRScheduler``: timm's
  ``bisect_right(decay_t, t + 1)`` decays, on the list as given (sorted or not: the count
  only grows with ``t``, so it is a staircase whatever the order);
* ``WSDLRScheduler`` (``sched="wsd"`` / ``"rsqrt"``): the warmup, then ``lr_min + (max(v s(t_s),
  lr_min) - lr_min) d(frac)`` with ``s`` its stable function (``constant``; ``rsqrt``:
  :class:`~lrkit.InverseSqrt`; ``power``: :class:`~lrkit.InverseTime` with ``power=stable_power``)
  and ``d`` its decay (``linear``, ``cosine``, ``1-sqrt``, ``power``, ``exp``: falling
  :class:`~lrkit.Ramp` shapes, ``exp`` the exponential one with ``tau = decay_t / ln(1 / decay_ratio)``),
  with any ``lr_min``;
* a param group added after the scheduler was built (``add_param_group``) is never
  written by timm: its lr, held;
* noise (``noise_range_t``), a metric (``PlateauLRScheduler``), a user's ``decay_fn`` or a
  subclass overriding the computation: ``TypeError`` with the reason.
"""

from __future__ import annotations

import math
from typing import Any

from ..core import Schedule
from ..schedules.algebra import Product, Ramp, Shift, Sum
from ..schedules.compose import Clip, Scale
from ..schedules.cycles import CosineRestarts
from ..schedules.decays import (
    Constant,
    Cosine,
    InverseSqrt,
    InverseTime,
    Polynomial,
    Step,
    Tanh,
    WarmupStableDecay,
)
from . import chain, multistep, ramp_then, scaled, shifted, unconvertible

__all__ = ["convert", "is_timm"]

_MAX_CYCLES = 64


def is_timm(obj: Any) -> bool:
    return any(c.__module__.startswith("timm.scheduler") for c in type(obj).__mro__)


_SUPPORTED = (
    "CosineLRScheduler",
    "TanhLRScheduler",
    "PolyLRScheduler",
    "StepLRScheduler",
    "MultiStepLRScheduler",
    "WSDLRScheduler",
)
#: Methods a subclass may override without changing the values (everything else computes them).
_HARMLESS = frozenset({"__init__", "__repr__", "__str__", "state_dict", "load_state_dict", "get_cycle_length"})


def _timm_class(obj: Any) -> type:
    """The first timm class in ``obj``'s MRO; refused when a class of the user's, before it,
    overrides a method that computes the lr."""
    mro = type(obj).__mro__
    base = next(c for c in mro if c.__module__.startswith("timm.scheduler"))
    for c in mro[: mro.index(base)]:
        for attr, val in vars(c).items():
            if attr not in _HARMLESS and callable(val) and hasattr(base, attr):
                raise unconvertible(
                    obj,
                    f"it overrides {c.__qualname__}.{attr} of timm's {base.__name__}: the lr "
                    "comes from its own code, not from the settings a conversion reads",
                )
    return base


def convert(obj: Any, g: int) -> Schedule:
    """Group ``g``'s lr as a schedule of timm's ``t``."""
    name = _timm_class(obj).__name__
    if name == "PlateauLRScheduler":
        raise unconvertible(
            obj,
            "it follows a metric (scheduler.step(epoch, metric)), so its lr is not a "
            "function of t; keep it, or choose a fixed schedule",
        )
    if name not in _SUPPORTED:
        raise unconvertible(obj, f"lrkit has no conversion of timm's {name} (supported: {', '.join(_SUPPORTED)})")
    if g >= len(obj.base_values):  # added by add_param_group: timm's update_groups never reaches it
        return Constant(float(obj.optimizer.param_groups[g][getattr(obj, "param_group_field", "lr")]))
    if getattr(obj, "noise_range_t", None) is not None:
        raise unconvertible(
            obj,
            "noise (noise_range_t) makes the lr random, not a closed form; set "
            "noise_range_t=None to convert the schedule without it",
        )
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
        main = multistep(v, _bisect_milestones(list(obj.decay_t)), float(obj.decay_rate))
    else:  # WSDLRScheduler: its warmup is always a prefix
        main = _wsd(obj, v)
    W = float(obj.warmup_t or 0)
    if W > 0:
        start = float(obj.warmup_lr_init)
        end = start + W * float(obj.warmup_steps[g])  # where timm's warmup line would arrive
        prefix = getattr(obj, "warmup_prefix", True)
        main = ramp_then(start, end, W, main if prefix else shifted(main, W))
    group = obj.optimizer.param_groups[g]
    return scaled(main, float(group["lr_scale"])) if "lr_scale" in group else main


def _cycle_peaks(obj: Any, v: float, n: int) -> list[float]:
    return [v * float(obj.cycle_decay) ** i for i in range(n)]


def _bisect_milestones(decay_t: list[Any]) -> list[float]:
    """Milestones ``m - 1`` (repeated) whose count ``<= t`` is timm's ``bisect_right(decay_t, t + 1)``,
    whatever the order of ``decay_t``: that count grows with ``t`` and changes only where ``t + 1``
    reaches one of its values."""
    import bisect

    for m in decay_t:
        if isinstance(m, bool) or not isinstance(m, (int, float)) or not math.isfinite(m):
            raise ValueError(f"decay_t holds {m!r}: timm compares t + 1 with numbers")
    out: list[float] = []
    prev = 0
    for m in sorted(set(decay_t)):
        n = bisect.bisect_right(decay_t, m)
        out += [float(m) - 1.0] * (n - prev)
        prev = n
    return out


def _wsd(obj: Any, v: float) -> Schedule:
    """timm's WSD after its warmup: ``lr_min + (max(v s(t), lr_min) - lr_min) d(frac)``.

    With ``S = max(v s, lr_min)`` that is ``S d + lr_min (1 - d)``: the decay factor ``d`` and
    its complement ``1 - d`` are each a schedule (a falling and a rising :class:`~lrkit.Ramp`
    of the same shape), and ``s`` is :class:`~lrkit.InverseSqrt` (``rsqrt``) or
    :class:`~lrkit.InverseTime` with ``power=stable_power``.
    """
    lo, T, D = float(obj.lr_min), float(obj.t_initial), float(obj.decay_t)
    if v <= lo:  # max(v s, lr_min) is lr_min throughout
        return Constant(lo)
    fn, stable = obj.decay_fn, obj.stable_fn
    if callable(fn):
        raise unconvertible(
            obj, f"its decay_fn is user code ({getattr(fn, '__qualname__', fn)!r}), not a closed form lrkit can read"
        )
    # the decay factor d(frac), 1 to 0 over D positions, and its complement 1 - d(frac), 0 to 1
    if fn == "linear":
        d, rest = Ramp(1.0, 0.0, D), Ramp(0.0, 1.0, D)
    elif fn == "cosine":
        d, rest = Ramp(1.0, 0.0, D, shape="cosine"), Ramp(0.0, 1.0, D, shape="cosine")
    elif fn == "1-sqrt":  # 1 - sqrt(frac); sqrt(frac)
        d, rest = WarmupStableDecay(1.0, D, D, 0.0, "1-sqrt"), Ramp(0.0, 1.0, D, shape="power", power=0.5)
    elif fn == "power":  # 1 - frac ** q; frac ** q
        q = float(obj.decay_power)
        d, rest = Polynomial(1.0, D, 0.0, 1.0, q), Ramp(0.0, 1.0, D, shape="power", power=q)
    else:  # exp: (r ** frac - r) / (1 - r) = 1 - (1 - e^(-t/tau)) / (1 - e^(-D/tau)), tau = D / ln(1/r)
        tau = D / -math.log(float(obj.decay_ratio))
        d = Ramp(1.0, 0.0, D, shape="exponential", tau=tau)
        rest = Ramp(0.0, 1.0, D, shape="exponential", tau=tau)
    if stable == "constant":
        if fn in ("linear", "cosine", "1-sqrt"):
            return WarmupStableDecay(v, T, D, lo, fn)
        top = Sum([Constant(lo), Scale(d, v - lo)]) if lo > 0 else scaled(d, v)
        return chain([(T - D, Constant(v)), (D, top), (0.0, Constant(lo))])
    p = 0.5 if stable == "rsqrt" else float(obj.stable_power)
    ts = float(obj.stable_timescale)
    s: Schedule = InverseSqrt(v, ts) if p == 0.5 else InverseTime(v, ts, 1.0, power=p)
    s = Clip(s, min_lr=lo) if lo > 0 else s
    held = Product([shifted(s, T - D), d])  # the decay phase, on its own clock
    if lo > 0:
        held = Sum([held, Scale(rest, lo)])
    return chain([(T - D, s), (D, held), (0.0, Constant(lo))])


def _cosine(obj: Any, v: float) -> Schedule:
    lo, limit = float(obj.lr_min), int(obj.cycle_limit)
    if limit < 1:
        return Constant(lo)
    d = float(obj.cycle_decay)
    if d < 1 and lo > 0:
        last = v * d ** (limit - 1) if limit < 10_000 else 0.0
        if last < lo:
            return _cosine_cycles(obj, v)
    rs = CosineRestarts(
        v,
        float(obj.t_initial),
        float(obj.cycle_mul),
        lo,
        peak_decay=d,
        max_cycles=limit,
        k=float(getattr(obj, "k_decay", 1.0)),
    )
    if float(obj.cycle_mul) == 1.0 or _same_cycle_starts(obj, v, rs, limit):
        return rs
    # timm's float cycle index puts a whole t in another cycle than the exact starts do
    if limit > _MAX_CYCLES:
        raise unconvertible(
            obj,
            f"timm's float arithmetic places a cycle start one step off the exact one, "
            f"and cycle_limit={limit}: at most {_MAX_CYCLES} cycles convert one by one",
        )
    return _cosine_cycles(obj, v)


def _timm_cosine(obj: Any, v: float, t: int) -> float:
    """timm's cosine after its warmup, at a whole ``t`` of its main clock (its own formula)."""
    T0, mul, lo, k = obj.t_initial, obj.cycle_mul, obj.lr_min, getattr(obj, "k_decay", 1.0)
    i = _timm_index(obj, t)
    if i >= obj.cycle_limit:
        return float(lo)
    t_i = mul**i * T0
    t_curr = t - (1 - mul**i) / (1 - mul) * T0
    peak = v * obj.cycle_decay**i
    return float(lo + 0.5 * (peak - lo) * (1 + math.cos(math.pi * t_curr**k / t_i**k)))


def _same_cycle_starts(obj: Any, v: float, rs: Schedule, limit: int) -> bool:
    """Whether ``rs`` gives timm's values on both sides of every cycle start it reaches."""
    T0, mul = float(obj.t_initial), float(obj.cycle_mul)
    for i in range(1, min(limit, _MAX_CYCLES) + 1):
        nominal = (1 - mul**i) / (1 - mul) * T0
        if not math.isfinite(nominal) or nominal > 2.0**52:
            break
        for t in range(max(math.floor(nominal) - 1, 0), math.ceil(nominal) + 2):
            try:
                want = _timm_cosine(obj, v, t)
            except (ValueError, ZeroDivisionError, OverflowError):  # past where timm's log is defined
                return True
            except TypeError:  # timm fails there itself: a cycle position of -1e-14 ** k_decay is complex
                return False
            got = float(rs(float(t)))
            if not math.isclose(got, want, rel_tol=1e-11, abs_tol=1e-15 * v):
                return False
    return True


def _cycles(obj: Any, v: float, name: str) -> Schedule:
    lo, limit = float(obj.lr_min), int(obj.cycle_limit)
    if limit > _MAX_CYCLES:
        raise unconvertible(obj, f"cycle_limit={limit}: at most {_MAX_CYCLES} cycles convert (one segment each)")
    segs: list[Schedule] = []
    for i, peak in enumerate(_cycle_peaks(obj, v, limit)):
        T = float(obj.t_initial) * float(obj.cycle_mul) ** i
        if peak < lo:
            raise unconvertible(obj, f"cycle {i}'s peak {peak:g} is below lr_min ({lo:g})")
        if name == "TanhLRScheduler":
            segs.append(Tanh(peak, T, lo, float(obj.lb), float(obj.ub)))
        else:
            segs.append(Polynomial(peak, T, lo, float(obj.power), float(getattr(obj, "k_decay", 1.0))))
    return _timm_chain(obj, segs, lo)


def _cosine_cycles(obj: Any, v: float) -> Schedule:
    """timm's cosine cycle by cycle, each from the first whole ``t`` timm places in it; a peak below
    ``lr_min`` makes a cycle rise to ``lr_min``."""
    lo, limit = float(obj.lr_min), int(obj.cycle_limit)
    k = float(getattr(obj, "k_decay", 1.0))
    if limit > _MAX_CYCLES:
        raise unconvertible(
            obj,
            f"cycle_limit={limit} with cycles whose peak drops below lr_min ({lo:g}): at most "
            f"{_MAX_CYCLES} such cycles convert (one segment each)",
        )
    segs: list[Schedule] = []
    for i, peak in enumerate(_cycle_peaks(obj, v, limit)):
        T = float(obj.t_initial) * float(obj.cycle_mul) ** i
        if peak >= lo:
            segs.append(Cosine(peak, T, lo, k=k))
            continue
        if k != 1.0:
            raise unconvertible(
                obj,
                f"k_decay={k:g} with a cycle whose peak drops below lr_min ({lo:g}): that "
                "cycle rises along a k-decay cosine, which lrkit has only falling",
            )
        segs.append(Ramp(peak, lo, T, shape="cosine"))
    return _timm_chain(obj, segs, lo)


def _timm_index(obj: Any, t: float) -> int:
    """The cycle timm's ``_get_lr`` computes for ``t`` (its float formula, rounding included)."""
    T0, mul = obj.t_initial, obj.cycle_mul
    if mul != 1:
        return math.floor(math.log(1 - t / T0 * (1 - mul), mul))
    return int(t // T0)


def _timm_chain(obj: Any, segs: list[Schedule], lo: float) -> Schedule:
    """Cycle ``i`` (``segs[i]``, on its own clock from its start ``T0 (1 - mul^i) / (1 - mul)``) from the
    first whole ``t`` timm places in it, then ``lr_min``."""
    if not segs:
        return Constant(lo)
    T0, mul = float(obj.t_initial), float(obj.cycle_mul)
    parts: list[tuple[float, Schedule]] = []
    at = 0.0  # where the previous part starts
    for i, seg in enumerate(segs + [Constant(lo)]):
        nominal = T0 * i if mul == 1 else (1 - mul**i) / (1 - mul) * T0
        if not math.isfinite(nominal):
            raise unconvertible(obj, "a cycle's length overflows")
        if i == 0:
            parts.append((0.0, seg))
            continue
        first = math.ceil(nominal)  # the first whole t timm places in cycle i (or later)
        while first - 1 >= 0 and _timm_index(obj, first - 1) >= i:
            first -= 1
        while _timm_index(obj, first) < i:
            first += 1
        start = nominal if first - 1 < nominal <= first else float(first)
        if nominal - start > 1e-12 * nominal:  # a clock that far behind: not a rounding
            raise unconvertible(
                obj,
                f"timm's float arithmetic places t={first} in cycle {i}, which starts at "
                f"{nominal!r}: no schedule on that cycle's clock gives it",
            )
        if start > nominal and i < len(segs):
            seg = Shift(seg, start - nominal)
        parts[-1] = (start - at, parts[-1][1])
        parts.append((0.0, seg))
        at = start
    return chain(parts)
