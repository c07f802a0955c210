"""Reduce-on-plateau as a framework-free policy: metrics in, reductions (and new lrs) out.

:class:`Plateau` holds the decision logic of the plateau schedulers of the usual libraries,
each reproduced to the last bit by a named constructor that takes that library's parameter
names and defaults:

=====================  ==============================================================
constructor            reproduces
=====================  ==============================================================
``Plateau(...)``,      ``torch.optim.lr_scheduler.ReduceLROnPlateau``
``Plateau.torch``
``Plateau.keras``      ``keras.callbacks.ReduceLROnPlateau`` (Keras 3)
``Plateau.optax``      ``optax.contrib.reduce_on_plateau`` (its ``scale``, float32 or float64)
``Plateau.paddle``     ``paddle.optimizer.lr.ReduceOnPlateau``
``Plateau.mmengine``   ``mmengine.optim.ReduceOnPlateauLR``
``Plateau.timm``       ``timm.scheduler.PlateauLRScheduler`` (warmup included, no noise)
=====================  ==============================================================

The rule of the torch flavor (``mode="min"``; ``"max"`` mirrors it), for each observed
metric ``a``::

    better = a < best * (1 - threshold)        # threshold_mode "rel"
             a < best - threshold              # threshold_mode "abs"
    if better:  best, bad = a, 0
    else:       bad += 1
    if cooldown_counter > 0:  cooldown_counter -= 1; bad = 0
    if bad > patience:                          # a reduction is decided
        for each group g:  new = max(lr_g * factor, min_lr_g)
                           if lr_g - new > eps:  lr_g = new
        cooldown_counter, bad = cooldown, 0

with ``best`` starting at ``+inf`` (``-inf`` for ``"max"``). NaN is never better (it counts
as a bad observation), ``+inf`` is never better in ``"min"`` mode, and a ``-inf`` is the best
forever after (every later observation is bad). Each flavor's differences from this rule are listed on its
constructor and in :data:`DIFFERENCES`.

>>> p = Plateau(factor=0.5, patience=1, lr=[0.1, 0.01], min_lr=[0.0, 0.008])
>>> [p.observe(m) for m in [1.0, 0.9, 0.95, 0.92, 0.91]]
[False, False, False, True, False]
>>> p.lrs, p.scale
((0.05, 0.008), 0.5)
>>> q = Plateau.from_dict(p.to_dict()); q.load_state_dict(p.state_dict())
>>> q.observe(1.0), p.observe(1.0)         # the 2nd bad one in a row: both reduce again
(True, True)
>>> q.lrs == p.lrs == (0.025, 0.008)
True

The per-group arithmetic of a reduction is :func:`reduce_lrs` (a pure function), so a binding
can apply it to the learning rates an optimizer holds now.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any, Literal, TypeVar, cast

import numpy as np

from ._check import show

__all__ = ["Plateau", "reduce_lr", "reduce_lrs", "DIFFERENCES", "FLAVORS"]

Flavor = Literal["torch", "keras", "optax", "paddle", "mmengine", "timm"]
#: The peers a :class:`Plateau` can reproduce (the names of its named constructors).
FLAVORS: tuple[str, ...] = ("torch", "keras", "optax", "paddle", "mmengine", "timm")

#: mmengine's stand-in for infinity (``mmengine.optim.scheduler.param_scheduler.INF``): its
#: plateau scheduler starts ``best`` at +-1e9, and ``end`` defaults to it.
MMENGINE_INF = int(1e9)

#: How each peer differs from torch's ``ReduceLROnPlateau`` (each is reproduced by its flavor).
DIFFERENCES: dict[str, tuple[str, ...]] = {
    "torch": (
        "best starts at +inf (min) / -inf (max); the first finite metric is always better",
        "better: a < best*(1-threshold) (rel) or a < best-threshold (abs); a tie at the boundary is not better; "
        "NaN is never better; in rel mode a negative best moves the boundary towards worse values",
        "the comparison is made before the cooldown check: during cooldown best still improves, "
        "and the cooldown_counter is decremented and the bad-epoch count zeroed after it",
        "patience p: the (p+1)-th bad observation in a row decides a reduction; cooldown c: the c "
        "observations after a reduction count no bad epoch",
        "per group: new = max(lr*factor, min_lr), applied only if lr - new > eps; the cooldown is "
        "armed even when no group changes",
    ),
    "keras": (
        "the first observation after construction or reset() is always the best, NaN and inf included "
        "(a NaN first metric makes every later one a non-improvement)",
        "improvement: float32(a + min_delta) < float32(best) (min) or float32(a - min_delta) > float32(best) "
        "(max): the comparison is in float32 (keras.ops.less/greater), so values past the float32 range "
        "compare as +-inf and differences below float32 resolution are ties; min_delta is taken as abs(min_delta)",
        "mode 'auto' is 'min' for a monitor named 'loss' or 'val_loss' (Keras reads other directions "
        "from the model's metrics; here they raise); an unknown mode raises (Keras warns and uses 'auto')",
        "the cooldown check comes first: in cooldown the counter is decremented and wait zeroed, and a "
        "non-improvement is counted only if the counter is then 0, so cooldown c skips c-1 observations",
        "patience p: a reduction when wait >= p, so patience 0 and 1 act alike (Keras p is torch p-1)",
        "a group (optimizer) is reduced when float32(lr) > float32(min_lr): new = max(lr*factor, min_lr); "
        "no eps; one min_lr for all; cooldown armed and wait zeroed only if some group was reduced "
        "(else wait keeps growing and each later non-improvement tries again)",
        "an improvement during cooldown is still recorded as the best",
        "a real Keras optimizer stores the lr in float32: pass the lrs it holds to observe(lrs=...)",
    ),
    "optax": (
        "min mode only; the value is the mean of accumulation_size observations, accumulated as "
        "avg = (count*avg + value)/(count+1); the logic runs when count reaches accumulation_size",
        "improvement: avg < (1-rtol)*best - atol (rtol and atol together; rtol = 1 means never: 0*inf is NaN)",
        "patience p: reduce when the plateau count equals p (optax p is torch p-1); with patience 0 every "
        "improvement reduces and a non-improvement never does",
        "during cooldown (cooldown_count > 0 before this update) best still improves, the plateau count "
        "is zeroed, the counter decremented, the scale kept; outside it the cooldown counter is set to "
        "cooldown on a reduction and to 0 otherwise",
        "the scale (starting at 1) is floored at min_scale at every update outside cooldown, a reduction "
        "or not (min_scale > 1 raises it); no eps",
        "optax computes in the dtype of the parameters: float32 unless JAX runs with x64 and float64 "
        "parameters (Plateau.optax(dtype=...)); the metric is rounded to it, and the scale is a float32 "
        "(factor 0.1 gives 0.10000000149...)",
        "XLA (on CPU and GPU) flushes subnormal numbers to zero: a subnormal metric, mean or threshold counts as 0",
        "XLA fuses (1-rtol)*best - atol into one multiply-add (one rounding), and under jax.jit also the "
        "running mean's count*avg + value (Plateau.optax(jit=False): an eager update, two roundings)",
    ),
    "paddle": (
        "during cooldown the observation is skipped entirely (best is not updated); cooldown c skips c observations",
        "the first observation is always the best (NaN and +-inf included: a NaN or an inf best makes "
        "every later observation bad)",
        "better (rel): a < best - best*threshold (min), a > best + best*threshold (max): another float "
        "order than torch, so ties at the boundary differ in the last bit",
        "one learning rate and one min_lr (parameter epsilon for eps)",
        "the metric is kept as given: a float32 Tensor or array metric is compared in float32 (this policy "
        "takes every metric as a Python float, as torch does with float(metrics)); mmengine likewise",
        "the cooldown is armed and the bad count zeroed when a reduction is decided, even if lr - new <= epsilon",
    ),
    "mmengine": (
        "torch's rule with rule 'less'/'greater' and threshold_rule 'rel'/'abs'",
        "best starts at +-1e9 (mmengine's INF), not +-inf: a metric at or past 1e9*(1-threshold) never "
        "improves on the start value",
        "a negative threshold raises",
        "only observations while begin <= (steps without metrics so far) < end count (tick() counts those steps)",
    ),
    "timm": (
        "torch's ReduceLROnPlateau inside with mode 'max' by default, threshold_mode 'rel', eps 1e-8, one lr_min",
        "step(epoch, metric): while epoch <= warmup_t the lrs are warmup_lr_init + epoch*(base - "
        "warmup_lr_init)/warmup_t (times a group's lr_scale) and the metric is ignored; without warmup "
        "epoch 0 sets the lrs to warmup_lr_init (timm's own behaviour)",
        "at construction the lrs are warmup_lr_init (with warmup) or the base lrs, times lr_scale",
        "timm's state_dict keeps only best and last_epoch (the bad and cooldown counters restart on "
        "resume); this policy's state keeps everything",
        "noise (noise_range_t) is refused",
    ),
}

_MODES = ("min", "max")
#: the flavors whose rule decides a reduction without the groups' lrs (torch's)
_DECIDE_WITHOUT_LRS = frozenset(("torch", "mmengine", "timm"))
_THRESHOLD_MODES = ("rel", "abs")


# ----------------------------------------------------------------------------- checks


def _float(
    name: str,
    value: Any,
    *,
    low: float | None = 0.0,
    low_open: bool = False,
    high: float | None = None,
    high_open: bool = False,
) -> float:
    """``value`` as a finite float in the given range, else TypeError/ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {show(value)} ({type(value).__name__})")
    try:
        v = float(value)
    except OverflowError:
        v = math.inf
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {show(value)}")
    if low is not None and (v <= low if low_open else v < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low}, got {show(value)}")
    if high is not None and (v >= high if high_open else v > high):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high}, got {show(value)}")
    return v


def _int(name: str, value: Any, *, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {show(value)} ({type(value).__name__})")
    if int(value) < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {show(value)}")
    return int(value)


_S = TypeVar("_S", bound=str)


def _choice(name: str, value: Any, valid: Sequence[_S]) -> _S:
    if not isinstance(value, str) or value not in valid:
        raise ValueError(f"{name} must be one of {', '.join(repr(v) for v in valid)}, got {show(value)}")
    return next(v for v in valid if v == value)


def _factor(name: str, value: Any, *, low_open: bool = False) -> float:
    return _float(name, value, low=0.0, low_open=low_open, high=1.0, high_open=True)


def _one_or_list(values: tuple[float, ...]) -> float | list[float]:
    if len(values) == 1:
        return values[0]
    return list(values)


def _per_group(name: str, value: Any, n: int | None) -> tuple[float, ...]:
    """One value or one per group, each a finite float >= 0."""
    if isinstance(value, (list, tuple)):
        if len(value) == 0:
            raise ValueError(f"{name} must hold one value per group, got an empty list")
        out = tuple(_float(f"{name}[{i}]", v) for i, v in enumerate(value))
        if n is not None and len(out) != n:
            raise ValueError(f"{name} has {len(out)} values but there are {n} groups (one value, or one per group)")
        return out
    return (_float(name, value),) * (n or 1)


def _groups(
    lr: Any, min_lr: Any, lr_name: str = "lr", min_name: str = "min_lr"
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    n = len(lr) if isinstance(lr, (list, tuple)) else len(min_lr) if isinstance(min_lr, (list, tuple)) else 1
    return _per_group(lr_name, lr, n), _per_group(min_name, min_lr, n)


def _metric(value: Any) -> float:
    if type(value) is float:  # the common case
        return value
    if isinstance(value, (str, bytes)) or isinstance(value, bool):
        raise TypeError(f"metric must be a real number, got {show(value)} ({type(value).__name__})")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(
            f"metric must be a real number (or a one-element tensor/array), got {show(value)} ({type(value).__name__})"
        ) from None


def _f32(x: float) -> float:
    """``x`` rounded to float32 (past its range: +-inf), as keras.ops and numpy do."""
    with np.errstate(over="ignore"):
        return float(np.float32(x))


_TINY = 2.2250738585072014e-308  # the smallest normal float64
_TINY32 = 1.1754943508222875e-38  # the smallest normal float32


def _ftz(x: float, f32: bool = False) -> float:
    """``x`` with a subnormal flushed to a signed zero, as XLA computes on CPU and GPU."""
    return math.copysign(0.0, x) if abs(x) < (_TINY32 if f32 else _TINY) else x


def _op(x: float, f32: bool) -> float:
    """The result of one XLA operation computed exactly as ``x`` in float64: rounded to the
    dtype (float32: once more, which is exact for + - * / of float32 values) and flushed."""
    return _ftz(_f32(x), True) if f32 else _ftz(x)


def _to_f32(q: Fraction) -> float:
    """The exact rational ``q`` rounded once to float32 (nearest, ties to even)."""
    try:
        x = float(q)
    except OverflowError:
        return math.copysign(math.inf, q)
    c = np.float32(_f32(x))
    if not np.isfinite(c):
        return float(c)
    cands = [c, np.nextafter(c, np.float32(np.inf)), np.nextafter(c, np.float32(-np.inf))]
    best = min(
        (v for v in cands if np.isfinite(v)), key=lambda v: (abs(Fraction(float(v)) - q), int(v.view(np.uint32)) & 1)
    )
    return float(best)


def _fma(x: float, y: float, z: float, f32: bool = False) -> float:
    """``x*y + z`` rounded once to float64 (or float32) and flushed: a fused multiply-add, as
    XLA's CPU code computes ``a*b + c``."""
    if not (math.isfinite(x) and math.isfinite(y) and math.isfinite(z)):
        return _op(x * y + z, f32)
    q = Fraction(x) * Fraction(y) + Fraction(z)
    if f32:
        return _ftz(_to_f32(q), True)
    try:
        return _ftz(float(q))
    except OverflowError:
        return math.copysign(math.inf, q)


def _enc(x: float | None) -> float | str | None:
    """A float for JSON: non-finite values as the strings 'inf', '-inf', 'nan'."""
    if x is None or math.isfinite(x):
        return x
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def _dec(name: str, x: Any) -> float | None:
    if x is None:
        return None
    if isinstance(x, str):
        if x not in ("inf", "-inf", "nan"):
            raise ValueError(f"state {name} must be a number or 'inf', '-inf', 'nan', got {show(x)}")
        return float(x)
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"state {name} must be a number, got {show(x)} ({type(x).__name__})")
    return float(x)


# ----------------------------------------------------------------------------- the reduction


def reduce_lr(lr: float, factor: float, min_lr: float = 0.0, eps: float = 1e-8) -> float:
    """One group's learning rate after a reduction, by torch's rule (also Paddle's, mmengine's, timm's)::

        new = max(lr * factor, min_lr)
        return new if lr - new > eps else lr

    >>> reduce_lr(0.1, 0.5), reduce_lr(0.1, 0.5, min_lr=0.08), reduce_lr(1e-8, 0.1)
    (0.05, 0.08, 1e-08)
    """
    new = max(lr * factor, min_lr)
    return new if lr - new > eps else lr


def reduce_lrs(
    lrs: Sequence[float],
    factor: float,
    min_lr: float | Sequence[float] = 0.0,
    eps: float | None = 1e-8,
    *,
    rule: Literal["torch", "keras", "optax"] = "torch",
) -> tuple[float, ...]:
    """Every group's learning rate after a reduction, a pure function of the current ``lrs``.

    ``rule="torch"`` (torch, Paddle, mmengine, timm): :func:`reduce_lr` per group.
    ``rule="keras"``: ``max(lr*factor, min_lr)`` where ``float32(lr) > float32(min_lr)``, else ``lr``
    (no eps). ``rule="optax"``: ``max(lr*factor, min_lr)`` (no eps). ``min_lr`` is one value or
    one per group.

    >>> reduce_lrs([0.1, 0.01], 0.5, [0.0, 0.008])
    (0.05, 0.008)
    >>> reduce_lrs([0.1, 0.008], 0.5, 0.008, rule="keras")
    (0.05, 0.008)
    """
    lrs = tuple(float(v) for v in lrs)
    if isinstance(min_lr, (list, tuple)):
        floors: tuple[float, ...] = tuple(float(m) for m in min_lr)
    else:
        floors = (float(cast(float, min_lr)),) * len(lrs)
    if len(floors) != len(lrs):
        raise ValueError(f"min_lr has {len(floors)} values for {len(lrs)} learning rates")
    if rule == "torch":
        e = 0.0 if eps is None else eps
        return tuple(reduce_lr(lr, factor, m, e) for lr, m in zip(lrs, floors))
    if rule == "keras":
        return tuple(max(lr * factor, m) if _f32(lr) > _f32(m) else lr for lr, m in zip(lrs, floors))
    if rule == "optax":
        return tuple(max(lr * factor, m) for lr, m in zip(lrs, floors))
    raise ValueError(f"rule must be one of 'torch', 'keras', 'optax', got {show(rule)}")


# ----------------------------------------------------------------------------- the policy


class Plateau:
    """A reduce-on-plateau policy: :meth:`observe` a metric, get whether a reduction is decided.

    ``Plateau(...)`` takes torch's ``ReduceLROnPlateau`` parameters (and is :meth:`torch`); the
    named constructors :meth:`keras`, :meth:`optax`, :meth:`paddle`, :meth:`mmengine`,
    :meth:`timm` take those libraries' parameters and reproduce their rules exactly (see the
    module docstring for torch's rule and :data:`DIFFERENCES` for the others).

    The policy keeps one learning rate per group (``lr``: one value, or one per group; the
    default 1.0 makes them scales) and applies its reductions to them; a binding whose
    learning rates move by a plan passes the current ones to ``observe(metric, lrs=...)``.

    Parameters (torch's): ``mode`` 'min'/'max'; ``factor`` in [0, 1); ``patience`` >= 0;
    ``threshold`` >= 0 with ``threshold_mode`` 'rel'/'abs'; ``cooldown`` >= 0; ``min_lr`` one
    floor or one per group; ``eps`` >= 0; ``lr`` the starting learning rates. Stricter than
    the peers, NaN/inf parameters, a negative factor, threshold, patience, cooldown, eps or
    floor raise ValueError naming the parameter.
    """

    flavor: str
    mode: str
    factor: float
    patience: int
    cooldown: int
    threshold: float
    threshold_mode: str
    min_lrs: tuple[float, ...]
    eps: float | None

    def __init__(
        self,
        mode: Literal["min", "max"] = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: Literal["rel", "abs"] = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
        *,
        lr: float | Sequence[float] = 1.0,
    ) -> None:
        lrs, floors = _groups(lr, min_lr)
        self._setup(
            "torch",
            dict(
                mode=mode,
                factor=factor,
                patience=patience,
                threshold=threshold,
                threshold_mode=threshold_mode,
                cooldown=cooldown,
                min_lr=list(min_lr) if isinstance(min_lr, (list, tuple)) else min_lr,
                eps=eps,
                lr=_one_or_list(lrs),
            ),
            mode=_choice("mode", mode, _MODES),
            factor=_factor("factor", factor),
            patience=_int("patience", patience),
            cooldown=_int("cooldown", cooldown),
            threshold=_float("threshold", threshold),
            threshold_mode=_choice("threshold_mode", threshold_mode, _THRESHOLD_MODES),
            min_lrs=floors,
            eps=_float("eps", eps),
            lrs=lrs,
        )

    # ------------------------------------------------------------------ named constructors

    @classmethod
    def torch(
        cls,
        mode: Literal["min", "max"] = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: Literal["rel", "abs"] = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
        *,
        lr: float | Sequence[float] = 1.0,
    ) -> Plateau:
        """torch's ``ReduceLROnPlateau(optimizer, mode, factor, patience, threshold, threshold_mode,
        cooldown, min_lr, eps)``; ``lr``: the optimizer's learning rates (one per param group)."""
        return cls(mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, eps, lr=lr)

    @classmethod
    def keras(
        cls,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        mode: Literal["auto", "min", "max"] = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        *,
        lr: float | Sequence[float] = 1.0,
    ) -> Plateau:
        """Keras 3's ``ReduceLROnPlateau(monitor, factor, patience, verbose, mode, min_delta, cooldown,
        min_lr)``; ``lr``: the optimizer's learning rate, or one per optimizer of a multi-optimizer.

        Rule (min mode; max compares ``float32(a - d) > float32(best)``), ``d = abs(min_delta)``::

            if cooldown_counter > 0:  cooldown_counter -= 1; wait = 0
            if best is None or float32(a + d) < float32(best):  best, wait = a, 0
            elif cooldown_counter == 0:
                wait += 1
                if wait >= patience and any(float32(lr_g) > float32(min_lr)):   # decided
                    lr_g = max(lr_g * factor, min_lr) for those groups
                    cooldown_counter, wait = cooldown, 0
        """
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be a str, got {show(monitor)} ({type(monitor).__name__})")
        mode = _choice("mode", mode, ("auto", "min", "max"))
        resolved = mode
        if mode == "auto":
            if monitor.removeprefix("val_") != "loss":
                raise ValueError(
                    f"mode='auto' cannot tell whether monitor={monitor!r} should be minimized or "
                    "maximized (Keras reads it from the model's metrics): pass mode='min' or mode='max'"
                )
            resolved = "min"
        if isinstance(min_lr, (list, tuple)):
            raise TypeError("min_lr must be one number for Keras (one floor for every optimizer), got a list")
        lrs = _per_group("lr", lr, len(lr) if isinstance(lr, (list, tuple)) else 1)
        floor = _float("min_lr", min_lr)
        return cls._make(
            "keras",
            dict(
                monitor=monitor,
                factor=factor,
                patience=patience,
                mode=mode,
                min_delta=min_delta,
                cooldown=cooldown,
                min_lr=min_lr,
                lr=_one_or_list(lrs),
            ),
            mode=resolved,
            factor=_factor("factor", factor),
            patience=_int("patience", patience),
            cooldown=_int("cooldown", cooldown),
            threshold=abs(_float("min_delta", min_delta, low=None)),
            threshold_mode="abs",
            min_lrs=(floor,) * len(lrs),
            eps=None,
            lrs=lrs,
        )

    @classmethod
    def optax(
        cls,
        factor: float = 0.1,
        patience: int = 10,
        rtol: float = 1e-4,
        atol: float = 0.0,
        cooldown: int = 0,
        accumulation_size: int = 1,
        min_scale: float = 0.0,
        *,
        dtype: Literal["float32", "float64"] = "float32",
        jit: bool = True,
    ) -> Plateau:
        """optax's ``contrib.reduce_on_plateau(factor, patience, rtol, atol, cooldown,
        accumulation_size, min_scale)``: the one group's lr is optax's ``scale`` (from 1.0).

        Rule (each ``accumulation_size`` values, ``avg`` their running mean)::

            improved = avg < (1 - rtol) * best - atol          # best starts at +inf
            best = avg if improved else best
            count = 0 if improved else plateau_count + 1
            if cooldown_count > 0:  plateau_count = 0; cooldown_count -= 1
            else:
                reduce = count == patience                    # decided
                plateau_count = 0 if reduce else count
                scale = max(scale * factor if reduce else scale, min_scale)
                cooldown_count = cooldown if reduce else 0

        The threshold ``(1 - rtol) * best - atol`` is rounded once (XLA fuses it into a
        multiply-add), and so is the running mean's ``count*avg + value`` under ``jax.jit``
        (``jit=True``, the usual); ``jit=False`` reproduces an update run eagerly (two roundings).
        ``dtype``: the parameters' dtype, in which optax computes (float32, unless JAX runs with
        x64 and float64 parameters); XLA flushes subnormal results to zero.
        """
        f = _factor("factor", factor, low_open=True)
        r = _float("rtol", rtol, high=1.0)
        a = _float("atol", atol)
        if r == 0.0 and a == 0.0:
            raise ValueError("at least one of rtol and atol must be positive, got rtol = 0 and atol = 0")
        if not isinstance(jit, bool):
            raise TypeError(f"jit must be True or False, got {show(jit)}")
        dt = _choice("dtype", dtype, ("float32", "float64"))
        self = cls._make(
            "optax",
            dict(
                factor=factor,
                patience=patience,
                rtol=rtol,
                atol=atol,
                cooldown=cooldown,
                accumulation_size=accumulation_size,
                min_scale=min_scale,
                dtype=dtype,
                jit=jit,
            ),
            mode="min",
            factor=f,
            patience=_int("patience", patience),
            cooldown=_int("cooldown", cooldown),
            threshold=r,
            threshold_mode="rel",
            atol=a,
            accumulation_size=_int("accumulation_size", accumulation_size, low=1),
            min_lrs=(_float("min_scale", min_scale),),
            eps=None,
            lrs=(1.0,),
        )
        self.jit, self.dtype = jit, dt
        return self

    @classmethod
    def paddle(
        cls,
        learning_rate: float,
        mode: Literal["min", "max"] = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: Literal["rel", "abs"] = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        epsilon: float = 1e-8,
    ) -> Plateau:
        """Paddle's ``optimizer.lr.ReduceOnPlateau(learning_rate, mode, factor, patience, threshold,
        threshold_mode, cooldown, min_lr, epsilon)`` (one learning rate).

        Rule (min mode)::

            if cooldown_counter > 0:  cooldown_counter -= 1; (nothing else)
            else:
                if best is None or a < best - best * threshold (rel) / best - threshold (abs):
                    best, bad = a, 0
                else:  bad += 1
                if bad > patience:                           # decided
                    cooldown_counter, bad = cooldown, 0
                    new = max(lr * factor, min_lr); if lr - new > epsilon: lr = new
        """
        # Paddle reads both in any case
        mode_given: object = mode.lower() if isinstance(mode, str) else mode
        threshold_mode_given: object = threshold_mode.lower() if isinstance(threshold_mode, str) else threshold_mode
        lr = _float("learning_rate", learning_rate)
        return cls._make(
            "paddle",
            dict(
                learning_rate=learning_rate,
                mode=mode_given,
                factor=factor,
                patience=patience,
                threshold=threshold,
                threshold_mode=threshold_mode_given,
                cooldown=cooldown,
                min_lr=min_lr,
                epsilon=epsilon,
            ),
            mode=_choice("mode", mode_given, _MODES),
            factor=_factor("factor", factor),
            patience=_int("patience", patience),
            cooldown=_int("cooldown", cooldown),
            threshold=_float("threshold", threshold),
            threshold_mode=_choice("threshold_mode", threshold_mode_given, _THRESHOLD_MODES),
            min_lrs=(_float("min_lr", min_lr),),
            eps=_float("epsilon", epsilon),
            lrs=(lr,),
        )

    @classmethod
    def mmengine(
        cls,
        monitor: str = "loss",
        rule: Literal["less", "greater"] = "less",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_rule: Literal["rel", "abs"] = "rel",
        cooldown: int = 0,
        min_value: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
        begin: int = 0,
        end: int = MMENGINE_INF,
        *,
        lr: float | Sequence[float] = 1.0,
    ) -> Plateau:
        """mmengine's ``ReduceOnPlateauLR(optimizer, monitor, rule, factor, patience, threshold,
        threshold_rule, cooldown, min_value, eps, begin, end)``: torch's rule, with ``best``
        starting at +-1e9 and observations counted only while ``begin <= ticks < end`` (``ticks``:
        the steps without metrics so far, :meth:`tick`)."""
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be a str, got {show(monitor)} ({type(monitor).__name__})")
        lrs, floors = _groups(lr, min_value, min_name="min_value")
        b, e = _int("begin", begin), _int("end", end)
        if e <= b:
            raise ValueError(f"end must be larger than begin, got begin={b}, end={e}")
        return cls._make(
            "mmengine",
            dict(
                monitor=monitor,
                rule=rule,
                factor=factor,
                patience=patience,
                threshold=threshold,
                threshold_rule=threshold_rule,
                cooldown=cooldown,
                min_value=list(min_value) if isinstance(min_value, (list, tuple)) else min_value,
                eps=eps,
                begin=begin,
                end=end,
                lr=_one_or_list(lrs),
            ),
            mode="min" if _choice("rule", rule, ("less", "greater")) == "less" else "max",
            factor=_factor("factor", factor),
            patience=_int("patience", patience),
            cooldown=_int("cooldown", cooldown),
            threshold=_float("threshold", threshold),
            threshold_mode=_choice("threshold_rule", threshold_rule, _THRESHOLD_MODES),
            min_lrs=floors,
            eps=_float("eps", eps),
            lrs=lrs,
            begin=b,
            end=e,
        )

    @classmethod
    def timm(
        cls,
        decay_rate: float = 0.1,
        patience_t: int = 10,
        threshold: float = 1e-4,
        cooldown_t: int = 0,
        warmup_t: int = 0,
        warmup_lr_init: float = 0.0,
        lr_min: float = 0.0,
        mode: Literal["min", "max"] = "max",
        noise_range_t: Any = None,
        *,
        lr: float | Sequence[float] = 1.0,
        lr_scale: float | Sequence[float | None] | None = None,
    ) -> Plateau:
        """timm's ``PlateauLRScheduler(optimizer, decay_rate, patience_t, threshold, cooldown_t,
        warmup_t, warmup_lr_init, lr_min, mode)``: a torch ``ReduceLROnPlateau`` (threshold_mode
        'rel', eps 1e-8) after a linear warmup, driven by :meth:`step` (``step(epoch, metric)``).

        ``lr``: the groups' base (initial) learning rates; ``lr_scale``: a group's ``lr_scale``
        (None where the group has none). Noise is refused (``noise_range_t`` must be None)."""
        if noise_range_t is not None:
            raise ValueError(
                f"noise_range_t must be None: timm's lr noise is not reproduced, got {show(noise_range_t)}"
            )
        if isinstance(lr_min, (list, tuple)):
            raise TypeError("lr_min must be one number for timm (one floor for every group), got a list")
        base, floors = _groups(lr, lr_min, min_name="lr_min")
        n = len(base)
        if lr_scale is None:
            scales: tuple[float | None, ...] = (None,) * n
        elif isinstance(lr_scale, (list, tuple)):
            if len(lr_scale) != n:
                raise ValueError(f"lr_scale has {len(lr_scale)} values but there are {n} groups")
            scales = tuple(None if s is None else _float(f"lr_scale[{i}]", s) for i, s in enumerate(lr_scale))
        else:
            scales = (_float("lr_scale", lr_scale),) * n
        wt, wl = _int("warmup_t", warmup_t), _float("warmup_lr_init", warmup_lr_init)
        start = [wl if wt else b for b in base]
        lrs = tuple(v if s is None else v * s for v, s in zip(start, scales))
        return cls._make(
            "timm",
            dict(
                decay_rate=decay_rate,
                patience_t=patience_t,
                threshold=threshold,
                cooldown_t=cooldown_t,
                warmup_t=warmup_t,
                warmup_lr_init=warmup_lr_init,
                lr_min=lr_min,
                mode=mode,
                lr=_one_or_list(base),
                lr_scale=list(lr_scale) if isinstance(lr_scale, (list, tuple)) else lr_scale,
            ),
            mode=_choice("mode", mode, _MODES),
            factor=_factor("decay_rate", decay_rate),
            patience=_int("patience_t", patience_t),
            cooldown=_int("cooldown_t", cooldown_t),
            threshold=_float("threshold", threshold),
            threshold_mode="rel",
            min_lrs=floors,
            eps=1e-8,
            lrs=lrs,
            warmup_t=wt,
            warmup_lr_init=wl,
            base_lrs=base,
            lr_scale=scales,
        )

    @classmethod
    def _make(cls, flavor: str, peer_kwargs: dict[str, Any], **fields: Any) -> Plateau:
        self = cls.__new__(cls)
        self._setup(flavor, peer_kwargs, **fields)
        return self

    def _setup(
        self,
        flavor: str,
        peer_kwargs: dict[str, Any],
        *,
        mode: str,
        factor: float,
        patience: int,
        cooldown: int,
        threshold: float,
        threshold_mode: str,
        min_lrs: tuple[float, ...],
        eps: float | None,
        lrs: tuple[float, ...],
        atol: float = 0.0,
        accumulation_size: int = 1,
        begin: int = 0,
        end: int = MMENGINE_INF,
        warmup_t: int = 0,
        warmup_lr_init: float = 0.0,
        base_lrs: tuple[float, ...] = (),
        lr_scale: tuple[float | None, ...] = (),
    ) -> None:
        self.flavor = flavor
        self._peer_kwargs = peer_kwargs
        self.jit, self.dtype = True, "float64"
        self.mode, self.factor, self.patience, self.cooldown = mode, factor, patience, cooldown
        self.threshold, self.threshold_mode, self.atol = threshold, threshold_mode, atol
        self.min_lrs, self.eps = min_lrs, eps
        self.accumulation_size, self.begin, self.end = accumulation_size, begin, end
        self.warmup_t, self.warmup_lr_init, self.base_lrs, self.lr_scale = warmup_t, warmup_lr_init, base_lrs, lr_scale
        self._lrs = lrs
        self._scale = 1.0
        self._reductions = 0
        self._observations = 0
        self._ticks = 0
        self.reset()

    # ------------------------------------------------------------------ state

    def _start_best(self) -> float | None:
        if self.flavor in ("keras", "paddle"):
            return None
        if self.flavor == "mmengine":
            return float(MMENGINE_INF) if self.mode == "min" else float(-MMENGINE_INF)
        return math.inf if self.mode == "min" else -math.inf

    def reset(self) -> None:
        """Forget the best value and the counters (not the lrs): torch's ``_reset``, Keras'
        ``on_train_begin``."""
        self._best = self._start_best()
        self._bad = 0
        self._cooldown_counter = 0
        self._acc_count = 0
        self._acc_avg = 0.0

    @property
    def lrs(self) -> tuple[float, ...]:
        """The groups' learning rates now (for optax: ``(scale,)``)."""
        return self._lrs

    @property
    def scale(self) -> float:
        """The product of ``factor`` over the reductions decided so far (no floor), by repeated
        multiplication; for the optax flavor, optax's ``scale`` (floored at ``min_scale``)."""
        return self._lrs[0] if self.flavor == "optax" else self._scale

    @property
    def reductions(self) -> int:
        """How many reductions have been decided."""
        return self._reductions

    @property
    def best(self) -> float | None:
        """The best metric so far (None before the first one for Keras and Paddle)."""
        return self._best

    @property
    def num_bad_epochs(self) -> int:
        """The bad observations in a row (Keras' ``wait``, optax's ``plateau_count``)."""
        return self._bad

    @property
    def cooldown_counter(self) -> int:
        """Observations of cooldown left."""
        return self._cooldown_counter

    @property
    def in_cooldown(self) -> bool:
        """Whether the next observation falls in a cooldown."""
        return self._cooldown_counter > 0

    def state_dict(self) -> dict[str, Any]:
        """The state as plain JSON values (non-finite floats as 'inf', '-inf', 'nan'): with the
        same configuration, :meth:`load_state_dict` resumes exactly, mid-patience or mid-cooldown."""
        return {
            "flavor": self.flavor,
            "best": _enc(self._best),
            "num_bad_epochs": self._bad,
            "cooldown_counter": self._cooldown_counter,
            "lrs": list(self._lrs),
            "scale": self._scale,
            "reductions": self._reductions,
            "observations": self._observations,
            "ticks": self._ticks,
            "accumulated": self._acc_count,
            "average": _enc(self._acc_avg),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict` (of a policy of the same flavor and number of groups)."""
        if not isinstance(state, dict):
            raise TypeError(f"state must be a dict from state_dict(), got {type(state).__name__}")
        keys = set(self.state_dict())
        if set(state) != keys:
            raise ValueError(f"state must have the keys {sorted(keys)}, got {sorted(state)}")
        if state["flavor"] != self.flavor:
            raise ValueError(f"state is of a {state['flavor']!r} plateau policy, this one is {self.flavor!r}")
        lrs = state["lrs"]
        if not isinstance(lrs, (list, tuple)) or len(lrs) != len(self._lrs):
            raise ValueError(f"state lrs must be a list of {len(self._lrs)} learning rates, got {show(lrs)}")
        new_lrs = tuple(_float(f"state lrs[{i}]", v) for i, v in enumerate(lrs))
        ints = {
            k: _int(f"state {k}", state[k])
            for k in ("num_bad_epochs", "cooldown_counter", "reductions", "observations", "ticks", "accumulated")
        }
        best = _dec("best", state["best"])
        if best is None and self.flavor not in ("keras", "paddle"):
            raise ValueError(f"state best must be a number for the {self.flavor} flavor, got None")
        avg = _dec("average", state["average"])
        self._best = best
        self._lrs = new_lrs
        self._scale = _float("state scale", state["scale"])
        self._acc_avg = 0.0 if avg is None else avg
        self._bad, self._cooldown_counter = ints["num_bad_epochs"], ints["cooldown_counter"]
        self._reductions, self._observations, self._ticks = ints["reductions"], ints["observations"], ints["ticks"]
        self._acc_count = ints["accumulated"]

    def to_dict(self) -> dict[str, Any]:
        """The configuration: ``{"flavor": ..., **the named constructor's arguments}``."""
        return {"flavor": self.flavor, **self._peer_kwargs}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Plateau:
        """The policy :meth:`to_dict` describes (its state starts fresh)."""
        if not isinstance(d, dict) or "flavor" not in d:
            raise ValueError(f"expected a dict with a 'flavor' key (one of {', '.join(FLAVORS)}), got {show(d)}")
        rest = dict(d)
        flavor = _choice("flavor", rest.pop("flavor"), FLAVORS)
        return getattr(cls, flavor)(**rest)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._peer_kwargs.items())
        return f"Plateau.{self.flavor}({args})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Plateau) and self.to_dict() == other.to_dict()

    # (unhashable: with __eq__ defined in the class body, Python sets __hash__ to None)

    # ------------------------------------------------------------------ the rule

    def reduce(self, lrs: Sequence[float]) -> tuple[float, ...]:
        """``lrs`` after one reduction by this policy's factor, floors and eps (:func:`reduce_lrs`)."""
        rule = "keras" if self.flavor == "keras" else "optax" if self.flavor == "optax" else "torch"
        if rule == "torch" and lrs is self._lrs:  # checked floats: reduce_lr's rule, inline
            f, e = self.factor, self.eps or 0.0
            n, mins = len(lrs), self.min_lrs
            if lrs.count(lrs[0]) == n and mins.count(mins[0]) == n:  # every group alike: once
                return (self._reduce_one(lrs[0], mins[0]),) * n
            out = []
            for lr, m in zip(lrs, self.min_lrs):
                new = lr * f
                if m > new:  # max(lr * factor, min_lr), as reduce_lr takes it
                    new = m
                out.append(new if lr - new > e else lr)
            return tuple(out)
        return reduce_lrs(lrs, self.factor, list(self.min_lrs), self.eps, rule=rule)

    def _reduce_one(self, lr: float, floor: float) -> float:
        """One checked lr reduced by torch's rule (``reduce_lr``): ``max(lr * factor, floor)``,
        or ``lr`` if that lowers it by no more than eps."""
        new = lr * self.factor
        if floor > new:  # max(lr * factor, min_lr), as reduce_lr takes it
            new = floor
        return new if lr - new > (self.eps or 0.0) else lr

    def is_better(self, a: float, best: float | None) -> bool:
        """Whether metric ``a`` improves on ``best`` by this flavor's comparison (see the rules)."""
        if best is None:
            return True
        if self.flavor == "keras":
            if self.mode == "min":
                return _f32(a - -self.threshold) < _f32(best)
            return _f32(a - self.threshold) > _f32(best)
        if self.flavor == "optax":
            f32 = self.dtype == "float32"
            c, m = _op(1 - self.threshold, f32), _op(-self.atol, f32)
            return _op(a, f32) < _fma(c, _op(best, f32), m, f32)
        t = self.threshold
        if self.flavor == "paddle":
            if self.mode == "min":
                return a < best - best * t if self.threshold_mode == "rel" else a < best - t
            return a > best + best * t if self.threshold_mode == "rel" else a > best + t
        if self.mode == "min":
            return a < best * (1.0 - t) if self.threshold_mode == "rel" else a < best - t
        return a > best * (t + 1.0) if self.threshold_mode == "rel" else a > best + t

    def _set_lrs(self, lrs: Any) -> None:
        if not isinstance(lrs, (list, tuple)):
            lrs = [lrs]
        if len(lrs) != len(self._lrs):
            raise ValueError(f"lrs has {len(lrs)} values but the policy has {len(self._lrs)} groups")
        total = sum(lrs) if {v.__class__ for v in lrs} == {float} else math.nan
        if total < math.inf and min(lrs) >= 0.0:  # plain finite floats >= 0 (a NaN makes total NaN): as is
            self._lrs = tuple(lrs)
        else:
            self._lrs = tuple(_float(f"lrs[{i}]", v) for i, v in enumerate(lrs))

    def _decide(self) -> None:
        self._reductions += 1
        self._scale = self._scale * self.factor

    def observe(self, metric: Any, lrs: float | Sequence[float] | Callable[[], Sequence[float]] | None = None) -> bool:
        """Take one metric; True when this observation decides a reduction (then :attr:`lrs` holds
        the reduced learning rates; a group at its floor, or within eps of it, keeps its lr).

        "Decides" is where the peer arms its cooldown and zeroes its bad count: for torch, Paddle,
        mmengine, timm and optax even when no learning rate changes (all at their floors); for
        Keras only when some group's lr was above ``min_lr`` (in float32) and so was reduced.

        ``lrs``: the groups' learning rates now (e.g. read from the optimizer), used instead of the
        policy's own before deciding; or a function giving them, called only when they are needed
        (for torch's, mmengine's and timm's rule: when a reduction is decided). The metric may be NaN or +-inf (see each flavor's rule).
        """
        a = metric if metric.__class__ is float else _metric(metric)
        f = self.flavor
        later = None
        if lrs is not None:
            if not callable(lrs):
                self._set_lrs(lrs)
            elif f in _DECIDE_WITHOUT_LRS:  # read only when a reduction needs them
                later = lrs
            else:
                self._set_lrs(lrs())
        self._observations += 1
        if f == "keras":
            return self._observe_keras(a)
        if f == "optax":
            return self._observe_optax(a)
        if f == "paddle":
            return self._observe_paddle(a)
        if f == "mmengine" and not (self.begin <= self._ticks < self.end):
            return False
        return self._observe_torch(a, later)

    def _observe_torch(self, a: float, later: Callable[[], Sequence[float]] | None) -> bool:
        """torch's rule (also mmengine's and timm's) for the metric ``a``, counted already;
        ``later()`` gives the groups' lrs when a reduction needs them."""
        if not self._torch_counts(a):
            return False
        if later is not None:
            self._set_lrs(later())
        self._reduce_now()
        return True

    def _torch_counts(self, a: float) -> bool:
        """torch's counters for the metric ``a``: True when they call for a reduction (then
        :meth:`reduce` the lrs and :meth:`_arm`)."""
        if self.is_better(a, self._best):
            self._best, self._bad = a, 0
        else:
            self._bad += 1
        if self._cooldown_counter > 0:
            self._cooldown_counter -= 1
            self._bad = 0
        return self._bad > self.patience

    def _arm(self) -> None:
        """A reduction decided by torch's or Paddle's rule: the cooldown starts, the bad count is
        zeroed, the reduction is counted (:meth:`_decide`)."""
        self._cooldown_counter, self._bad = self.cooldown, 0
        self._decide()

    def _reduce_now(self, lrs: Sequence[float] | None = None) -> tuple[float, ...]:
        """A reduction decided by torch's or Paddle's rule: :attr:`lrs` (or ``lrs``, checked
        floats >= 0 already) reduced and kept, then :meth:`_arm`; the reduced lrs."""
        if lrs is not None:
            self._lrs = tuple(lrs)
        self._lrs = self.reduce(self._lrs)
        self._arm()
        return self._lrs

    def _observe_paddle(self, a: float) -> bool:
        if not self._paddle_counts(a):
            return False
        self._reduce_now()
        return True

    def _paddle_counts(self, a: float) -> bool:
        """Paddle's counters for the metric ``a`` (no count during a cooldown): True when they
        call for a reduction (then :meth:`reduce` the lr and :meth:`_arm`)."""
        if self._cooldown_counter > 0:
            self._cooldown_counter -= 1
            return False
        if self.is_better(a, self._best):
            self._best, self._bad = a, 0
        else:
            self._bad += 1
        return self._bad > self.patience

    def _observe_keras(self, a: float) -> bool:
        if self._cooldown_counter > 0:
            self._cooldown_counter -= 1
            self._bad = 0
        if self.is_better(a, self._best):
            self._best, self._bad = a, 0
        elif self._cooldown_counter <= 0:
            self._bad += 1
            if self._bad >= self.patience:
                floor = self.min_lrs[0]
                if any(_f32(lr) > _f32(floor) for lr in self._lrs):
                    self._lrs = self.reduce(self._lrs)
                    self._cooldown_counter, self._bad = self.cooldown, 0
                    self._decide()
                    return True
        return False

    def _observe_optax(self, a: float) -> bool:
        count = self._acc_count
        new_count = count + 1
        f32 = self.dtype == "float32"
        a = _op(a, f32)  # the value cast to the parameters' dtype
        if self.jit:
            total = _fma(count, self._acc_avg, a, f32)
        else:
            total = _op(_op(count * self._acc_avg, f32) + a, f32)
        self._acc_avg = _op(total / new_count, f32)
        self._acc_count = new_count
        if new_count != self.accumulation_size:
            return False
        avg = self._acc_avg
        assert self._best is not None
        improved = self.is_better(avg, self._best)
        if improved:
            self._best = avg
        count_now = 0 if improved else self._bad + 1
        decided = False
        if self._cooldown_counter > 0:
            self._bad = 0
            self._cooldown_counter -= 1
        else:
            decided = count_now == self.patience
            self._bad = 0 if decided else count_now
            scale = _op(self._lrs[0] * _op(self.factor, f32), f32) if decided else self._lrs[0]
            self._lrs = (max(scale, _op(self.min_lrs[0], f32)),)
            self._cooldown_counter = self.cooldown if decided else 0
            if decided:
                self._decide()
        self._acc_count, self._acc_avg = 0, 0.0
        return decided

    def tick(self) -> None:
        """One scheduler step without a metric (mmengine's ``step()`` after a training epoch,
        which its ``begin``/``end`` count); no effect on the other flavors' decisions."""
        self._ticks += 1

    def step(self, epoch: int, metric: Any = None) -> bool:
        """timm's protocol, ``step(epoch, metric)`` at the end of an epoch: while ``epoch <=
        warmup_t`` the warmup sets the lrs and the metric is ignored; after it, the metric (if
        not None) is observed. For the other flavors: :meth:`observe` when a metric is given."""
        e = _int("epoch", epoch, low=-(2**62))
        if self.flavor == "timm" and e <= self.warmup_t:
            t = self.warmup_t
            steps = [(b - self.warmup_lr_init) / t for b in self.base_lrs] if t else [1] * len(self.base_lrs)
            lrs = [self.warmup_lr_init + e * s for s in steps]
            self._lrs = tuple(float(v if s is None else v * s) for v, s in zip(lrs, self.lr_scale))
            return False
        if metric is None:
            return False
        return self.observe(metric)
