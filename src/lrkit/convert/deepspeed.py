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
LRRangeTest         ``LinearGrowth(min, step_size, step_rate, staircase)``: ``min (1 + step_rate
                    t / step_size)``, ``t / step_size`` floored with ``lr_range_test_staircase``
==================  ===========================================================================

A whole DeepSpeed config (``{"optimizer": ..., "scheduler": ...}``) gives the optimizer's
lr (``optimizer.params.lr``) where a scheduler needs it, unless ``lrs=`` is given.

Every parameter is checked first (:mod:`lrkit.convert._fields`), with DeepSpeed's own
rules: ``warmup_num_steps`` an ``int >= 1``, an unknown parameter refused (DeepSpeed
passes them as keywords), a fractional ``total_num_steps``, step size or stair count
taken as DeepSpeed computes with it; lrs below 0, negative counts and strings are
refused. A OneCycle staircase is built from its steps (found where each stair starts,
not by walking the cycle), at most :data:`lrkit._check.MAX_ITEMS` of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from .. import _check
from ..core import Schedule
from ..schedules.algebra import Piecewise, Ramp, Shift
from ..schedules.compose import Scale, Warmup
from ..schedules.decays import Constant, Cosine, InverseTime, Linear, LinearGrowth
from . import chain, qualname
from ._fields import Section, reading, show

__all__ = ["from_deepspeed", "is_deepspeed"]

_TYPES = ("WarmupLR", "WarmupDecayLR", "WarmupCosineLR", "OneCycle", "LRRangeTest")
_WARMUP = ("warmup_min_lr", "warmup_max_lr", "warmup_num_steps", "warmup_type", "last_batch_iteration")
#: the keyword arguments of each DeepSpeed scheduler (the optimizer aside)
_PARAMS = {
    "WarmupLR": _WARMUP,
    "WarmupDecayLR": ("total_num_steps",) + _WARMUP,
    "WarmupCosineLR": (
        "total_num_steps",
        "warmup_min_ratio",
        "warmup_num_steps",
        "cos_min_ratio",
        "warmup_type",
        "last_batch_iteration",
    ),
    "OneCycle": (
        "cycle_min_lr",
        "cycle_max_lr",
        "decay_lr_rate",
        "cycle_first_step_size",
        "cycle_second_step_size",
        "cycle_first_stair_count",
        "cycle_second_stair_count",
        "decay_step_size",
        "cycle_momentum",
        "cycle_min_mom",
        "cycle_max_mom",
        "decay_mom_rate",
        "last_batch_iteration",
    ),
    "LRRangeTest": (
        "lr_range_test_min_lr",
        "lr_range_test_step_size",
        "lr_range_test_step_rate",
        "lr_range_test_staircase",
        "last_batch_iteration",
    ),
}
_WHERE = "DeepSpeed scheduler"


def is_deepspeed(obj: Any) -> bool:
    return any(c.__module__.startswith("deepspeed.") for c in type(obj).__mro__)


def _per_group(p: Section, field: str, value: Any, n: int) -> list[float]:
    """One lr per param group: a list of ``n``, or one number for every group (DeepSpeed's
    ``_format_param``)."""
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise p.error(f"{field}: {len(value)} values for {n} param groups")
        return [float(p.check_number(f"{field}[{i}]", v, lo=0.0)) for i, v in enumerate(value)]
    return [float(p.check_number(field, value, lo=0.0))] * n


def _rise(lo: float, hi: float, W: int, kind: str) -> Schedule:
    """DeepSpeed's warmup for ``1 <= t <= W``, on the clock ``u = t - 1``: ``lo + (hi - lo)
    log(t) / log(W)`` (log) or ``lo + (hi - lo)(t - 1) / W`` (linear)."""
    if kind == "log":
        return Shift(Warmup(Constant(hi), W, "log", start_lr=lo), 1.0)
    return Ramp(lo, lo + (hi - lo) * (W - 1) / W, W - 1.0)


def _planned(first: float, rise: Schedule, W: int, after: Schedule) -> Schedule:
    """The value before the first step, the warmup for ``1 <= t <= W``, then ``after`` from ``W + 1``."""
    return chain([(1.0, Constant(first)), (float(W), rise), (0.0, after)])


def _warmup_type(p: Section) -> str:
    kind = p.value("warmup_type", "log")
    try:
        hash(kind)
    except TypeError:  # DeepSpeed's "not in {'log', 'linear'}" raises
        raise p.fail("warmup_type", kind, "'log' or 'linear'") from None
    return kind if kind in ("log", "linear") else "log"  # DeepSpeed falls back to log, with a warning


def _lrs(lrs: Any) -> list[float] | None:
    if lrs is None:
        return None
    p = Section("from_deepspeed", {"lrs": lrs})
    if isinstance(lrs, (list, tuple)):
        return [float(v) for v in p.numbers("lrs", lo=0.0, min_items=1)]
    return [p.rate("lrs")]


def from_deepspeed(config: Mapping[str, Any], lrs: Any = None) -> Schedule | list[Schedule]:
    """The lrkit schedule of a DeepSpeed ``scheduler`` config section (``{"type": ...,
    "params": {...}}``, or a whole DeepSpeed config holding one) — absolute lrs, one schedule,
    or a list with one per param group when they differ. A parameter DeepSpeed would not
    take, or lrkit cannot, is a ``ValueError`` naming it.

    ``lrs`` is the optimizer's lr (one number, or one per group): DeepSpeed takes it for
    ``WarmupCosineLR`` (a multiplier of each group's lr) and for ``WarmupLR`` without
    ``warmup_max_lr``. Given a whole DeepSpeed config, its ``optimizer`` section's
    ``params.lr`` is that lr when ``lrs`` is not given.

    >>> s = from_deepspeed({"type": "WarmupDecayLR", "params": {"warmup_min_lr": 0, "warmup_max_lr": 0.001,
    ...     "warmup_num_steps": 100, "total_num_steps": 1000}})
    >>> round(s(550), 12)  # 0.001 * (1000 - 550 + 1) / (1000 - 100)
    0.000501111111
    """
    if not isinstance(config, Mapping):
        raise ValueError(f"a DeepSpeed scheduler config must be a mapping, got {show(config)}")
    if "scheduler" in config:
        if lrs is None:
            lrs = _optimizer_lr(config)
        config = config["scheduler"]
        if not isinstance(config, Mapping):
            raise ValueError(f"DeepSpeed scheduler must be a mapping with a type and params, got {show(config)}")
    kind = config.get("type")
    if not isinstance(kind, str) or kind not in _TYPES:
        raise ValueError(f"DeepSpeed scheduler type must be one of {', '.join(_TYPES)}, got {show(kind)}")
    params = config.get("params")
    p = Section(f"{_WHERE}.params", {} if params is None else params, label=kind, known=_PARAMS[kind])
    p.start("last_batch_iteration")
    group_lrs = _lrs(lrs)
    # the number of param groups: the optimizer's (lrs=), else the longest per-group list;
    # a list of another length is an error (_per_group)
    n = (
        len(group_lrs)
        if group_lrs is not None and len(group_lrs) > 1
        else max(
            [
                len(v)
                for v in (
                    p.value(k, None)
                    for k in ("warmup_min_lr", "warmup_max_lr", "cycle_min_lr", "cycle_max_lr", "lr_range_test_min_lr")
                )
                if isinstance(v, (list, tuple))
            ]
            + [1]
        )
    )

    def need_lrs(what: str) -> list[float]:
        if group_lrs is None:
            raise p.error(f"{what}: give lrs= (the optimizer's lr, or one per group)")
        if len(group_lrs) not in (1, n):
            raise p.error(f"for {n} param groups: lrs= holds {len(group_lrs)} values")
        return group_lrs * n if len(group_lrs) == 1 else group_lrs

    with reading(f"{p.where}: {kind}"):
        if kind == "OneCycle":
            out = _one_cycle_config(p, n)
        elif kind == "LRRangeTest":
            out = _range_test(p, n)
        else:
            out = _warmups(p, kind, n, need_lrs)
    return out[0] if all(s == out[0] for s in out[1:]) else out


def _optimizer_lr(config: Mapping[str, Any]) -> Any:
    """The lr of a whole DeepSpeed config's ``optimizer`` section (``params.lr``), or ``None``."""
    opt = config.get("optimizer")
    if opt is None:
        return None
    if not isinstance(opt, Mapping):
        raise ValueError(f"DeepSpeed optimizer must be a mapping with a type and params, got {show(opt)}")
    params = opt.get("params")
    if params is None or not isinstance(params, Mapping) or "lr" not in params:
        return None
    return Section("DeepSpeed optimizer.params", params).rate("lr")


def _range_test(p: Section, n: int) -> list[Schedule]:
    """DeepSpeed's ``LRRangeTest``: ``min_lr (1 + step_rate interval)`` with ``interval = t /
    step_size`` (floored with ``staircase``), from the constructor's ``min_lr`` at 0, without end."""
    lo = _per_group(p, "lr_range_test_min_lr", p.value("lr_range_test_min_lr", 1e-3), n)
    # DeepSpeed: "lr_range_test_step_size must be a positive integer"
    size = p.whole("lr_range_test_step_size", 2000, why="DeepSpeed takes a positive int")
    rate = p.number("lr_range_test_step_rate", 1.0, lo=0.0)  # below 0 the lr would turn negative
    stair = p.value("lr_range_test_staircase", False)
    if not isinstance(stair, (bool, int)) or isinstance(stair, float):
        raise p.fail("lr_range_test_staircase", stair, "true or false")
    return [LinearGrowth(a, float(size), float(rate), staircase=bool(stair)) for a in lo]


def _warmups(p: Section, kind: str, n: int, need_lrs: Callable[[str], list[float]]) -> list[Schedule]:
    # DeepSpeed: an int >= 1 ("warmup_num_steps must be a positive integer"), then max(2, .)
    W = max(2, p.whole("warmup_num_steps", 1000, why="DeepSpeed takes a positive int"))
    wt = _warmup_type(p)
    out: list[Schedule] = []
    if kind in ("WarmupLR", "WarmupDecayLR"):
        # WarmupDecayLR's total (DeepSpeed computes with it as given: (T - i) / max(1, T - W));
        # WarmupLR has none (and does not read T)
        T = float(p.number("total_num_steps", lo=0.0, hi=_check.MAX_LENGTH)) if kind == "WarmupDecayLR" else 0.0
        lo = _per_group(p, "warmup_min_lr", p.value("warmup_min_lr", 0.0), n)
        if kind == "WarmupLR" and p.value("warmup_max_lr", None) is None:
            hi = need_lrs("without warmup_max_lr takes each group's lr as the maximum")
        else:
            hi = _per_group(p, "warmup_max_lr", p.value("warmup_max_lr", 0.001), n)
        for a, b in zip(lo, hi):
            if kind == "WarmupLR":
                after: Schedule = Constant(b)
            else:  # min + (max - min) max(0, (T - t + 1) / max(1, T - W)) from W + 1, down to min at T + 1
                D = T - W
                if D >= 1:
                    after = Linear(b, D, a) if a <= b else Ramp(b, a, D)
                elif D > 0:  # one step at min + (max - min)(T - W), then min
                    after = Piecewise([a + (b - a) * D, a], [1.0])
                else:
                    after = Constant(a)
            out.append(_planned(a, _rise(a, b, W, wt), W, after))
        return out
    # WarmupCosineLR
    T = float(p.number("total_num_steps", lo=0.0, hi=_check.MAX_LENGTH))
    wmin = p.rate("warmup_min_ratio", 0.0)
    cmin = p.rate("cos_min_ratio", 0.0001)
    # from W + 1 the cosine at progress (t - W) / max(1, T - W), held at cos_min_ratio from T
    if T - W > 1:
        cos: Schedule = Shift(Cosine(1.0, T - W, cmin) if cmin <= 1 else Ramp(1.0, cmin, T - W, "cosine"), 1.0)
    else:
        cos = Constant(cmin)
    ratio = _planned(0.0, _rise(wmin, 1.0, W, wt), W, cos)  # 0 before the first step
    return [ratio if r == 1.0 else Scale(ratio, r) for r in need_lrs("multiplies each group's lr")]


def _one_cycle_config(p: Section, n: int) -> list[Schedule]:
    lo = _per_group(p, "cycle_min_lr", p.value("cycle_min_lr", valid="an lr >= 0, or one per group"), n)
    hi = _per_group(p, "cycle_max_lr", p.value("cycle_max_lr", valid="an lr >= 0, or one per group"), n)
    # DeepSpeed: float(size), the first > 0, the second >= 0 (default: the first)
    # (and lrkit's: a length from MIN_LENGTH to MAX_LENGTH positions)
    F = float(p.number("cycle_first_step_size", 2000, lo=_check.MIN_LENGTH, hi=_check.MAX_LENGTH))
    S = (
        F
        if p.value("cycle_second_step_size", None) is None
        else float(p.number("cycle_second_step_size", lo=0.0, hi=_check.MAX_LENGTH))
    )
    if 0 < S < _check.MIN_LENGTH:
        raise p.fail("cycle_second_step_size", S, f"0 or at least {_check.MIN_LENGTH:g} (lrkit's shortest length)")
    p.bounded(f"OneCycle cycle_first_step_size + cycle_second_step_size = {F!r} + {S!r}", F + S)
    # a stair count of 0 (the default) is a continuous half; DeepSpeed takes any number (floor(pos) / count)
    c1 = float(p.number("cycle_first_stair_count", 0, lo=0.0))
    c2 = (
        c1 if p.value("cycle_second_stair_count", None) is None else float(p.number("cycle_second_stair_count", lo=0.0))
    )
    D = float(p.number("decay_step_size", 0, lo=0.0, hi=_check.MAX_LENGTH))
    if 0 < D < _check.MIN_LENGTH:
        raise p.fail("decay_step_size", D, f"0 (no decay) or at least {_check.MIN_LENGTH:g} (lrkit's shortest length)")
    rate = p.rate("decay_lr_rate", 0.0)
    stairs = _stair_count(F, c1) + _stair_count(S, c2)
    if stairs > _check.MAX_ITEMS:
        raise p.error(
            f"staircase of {stairs:,} stairs (cycle_first_stair_count={show(c1)} over "
            f"cycle_first_step_size={F!r}, cycle_second_stair_count={show(c2)} over "
            f"cycle_second_step_size={S!r}) is past lrkit's limit of {_check.MAX_ITEMS:,} values"
        )
    out = []
    for a, b in zip(lo, hi):
        # DeepSpeed skips the decay when math.isclose(decay_step_size, 0) or math.isclose(decay_lr_rate, 0)
        tail: Schedule = InverseTime(a, D, rate) if D != 0 and not math.isclose(rate, 0) else Constant(a)
        out.append(_one_cycle(a, b, F, S, c1, c2, tail))
    return out


def _stair_count(size: float, count: float) -> int:
    """How many stairs a half of ``size`` positions with ``count`` stairs has at most (0: continuous)."""
    if count <= 0:
        return 0
    return min(math.floor(count), math.ceil(size)) + 1


def _one_cycle(a: float, b: float, F: float, S: float, c1: float, c2: float, tail: Schedule) -> Schedule:
    """DeepSpeed's OneCycle lr: the cycle at each step ``t`` with ``t - 1 < F + S``, then ``tail``
    on the clock ``t - (F + S)``."""
    total = F + S
    if c1 <= 0 and c2 <= 0 and total.is_integer():
        cycle = chain([(F, Ramp(a, b, F)), (0.0, Ramp(b, a, S) if S > 0 else Constant(a))])
        return chain([(total, cycle), (0.0, tail)])
    step_ratio = F / total

    def lr(t: Any) -> Any:
        # DeepSpeed's _get_scale_factor at batch_iteration t (an array of steps), operation by
        # operation as it computes it (IEEE float64: numpy gives Python's bits)
        import numpy as np

        with np.errstate(all="ignore"):
            cycle = np.floor(1 + t / total)
            x = 1.0 + t / total - cycle
            first = x <= step_ratio
            scale = np.where(first, x / step_ratio, (x - 1) / (step_ratio - 1))
            count = np.where(first, c1, c2)
            ci = np.remainder(t, total)
            pos = np.where(ci <= F, ci * count / F, (total - ci) * count / S)
            scale = np.where(count > 0, np.floor(pos) / count, scale)
            return a + (b - a) * scale

    def at(t: int) -> float:
        import numpy as np

        return float(lr(np.array([float(t)]))[0])

    f0 = math.floor(F)  # the last step of the first half; its value is computed as DeepSpeed does
    e2 = math.ceil(total)  # the first step past the second half (the next cycle's first, or the decay's)
    parts: list[tuple[float, Schedule]] = []
    if c1 > 0:
        parts.append((float(f0), _runs(0, f0, _stair_starts(F, c1, lambda k: k * F / c1), lr)))
    else:
        parts.append((float(f0), Ramp(a, b, F)))
    parts.append((1.0, Constant(at(f0))))
    if e2 > f0 + 1:
        if c2 > 0:
            starts = _stair_starts(S, c2, lambda k: total - k * S / c2)
            parts.append((float(e2 - f0 - 1), _runs(f0 + 1, e2, starts, lr)))
        else:
            parts.append((float(e2 - f0 - 1), Shift(Ramp(b, a, S), f0 + 1 - F)))
    if e2 > total:  # a fractional cycle: step e2 (t - 1 < total) is the next cycle's first
        parts.append((1.0, Constant(at(e2))))
    start = sum(n for n, _ in parts)  # where the decay starts, on its clock t - total
    parts.append((0.0, Shift(tail, start - total) if start > total else tail))
    return chain(parts)


def _stair_starts(size: float, count: float, at: Callable[[Any], Any]) -> Any:
    """Where the stairs of a half change, about: ``at(k)`` for each stair ``k`` (an array), or
    ``None`` (every step) when the half has more stairs than steps."""
    import numpy as np

    if math.floor(count) > math.ceil(size):
        return None
    with np.errstate(all="ignore"):  # a tiny count: its stairs start past float64's range (none is reached)
        return at(np.arange(1.0, math.floor(count) + 2.0))


def _runs(lo: int, hi: int, near: Any, lr: Callable[[Any], Any]) -> Schedule:
    """The values of steps ``lo .. hi - 1`` (``lr`` of an array of steps: a staircase), as a
    Piecewise on the clock ``t - lo``. Its value changes only near the positions ``near``
    (``None``: anywhere): each is tried with its neighbours, which finds every change
    whatever the rounding."""
    import numpy as np

    if near is None:
        cands = np.arange(float(lo), float(max(hi, lo + 1)))
    else:
        g = np.ceil(near[np.isfinite(near)])
        cands = (g[:, None] + np.arange(-2.0, 3.0)).ravel()
        cands = np.unique(np.concatenate([[float(lo)], cands[(cands > lo) & (cands < hi)]]))
    vals = lr(cands)
    change = np.concatenate([[True], vals[1:] != vals[:-1]])
    values = vals[change].tolist()
    bounds = (cands[change][1:] - lo).tolist()
    return Piecewise(values, bounds) if bounds else Constant(values[0])


def from_scheduler(obj: Any) -> Schedule | list[Schedule]:
    """A DeepSpeed scheduler object (what ``deepspeed.initialize`` returns) as lrkit schedules."""
    name = type(obj).__name__
    if name not in _TYPES:
        raise TypeError(f"cannot convert {qualname(obj)}: supported DeepSpeed schedulers are {', '.join(_TYPES)}")
    if name == "LRRangeTest":
        cfg = {
            "lr_range_test_min_lr": list(obj.min_lr),
            "lr_range_test_step_size": obj.step_size,
            "lr_range_test_step_rate": obj.step_rate,
            "lr_range_test_staircase": bool(obj.staircase),
        }
        return from_deepspeed({"type": name, "params": cfg})
    wt = "linear" if getattr(obj, "warmup_type", "log") == "linear" else "log"
    if name == "WarmupCosineLR":
        cfg = {
            "warmup_num_steps": obj.warmup_num_steps,
            "total_num_steps": obj.total_num_steps,
            "warmup_min_ratio": obj.warmup_min_ratio,
            "cos_min_ratio": obj.cos_min_ratio,
            "warmup_type": wt,
        }
        return from_deepspeed({"type": name, "params": cfg}, lrs=[float(v) for v in obj.org_lrs])
    if name in ("WarmupLR", "WarmupDecayLR"):
        cfg = {
            "warmup_num_steps": obj.warmup_num_steps,
            "warmup_min_lr": list(obj.min_lrs),
            "warmup_max_lr": list(obj.max_lrs),
            "warmup_type": wt,
        }
        if name == "WarmupDecayLR":
            cfg["total_num_steps"] = obj.total_num_steps
        return from_deepspeed({"type": name, "params": cfg})
    cfg = {
        "cycle_min_lr": list(obj.min_lrs),
        "cycle_max_lr": list(obj.max_lrs),
        "cycle_first_step_size": obj.first_step_size,
        "cycle_second_step_size": obj.second_step_size,
        "cycle_first_stair_count": obj.first_stair_count,
        "cycle_second_stair_count": obj.second_stair_count,
        "decay_step_size": obj.decay_step_size,
        "decay_lr_rate": obj.decay_lr_rate,
    }
    return from_deepspeed({"type": name, "params": cfg})
