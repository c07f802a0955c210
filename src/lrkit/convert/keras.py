"""Keras 3's learning-rate schedules (``keras.optimizers.schedules``) as lrkit schedules.

The position is Keras' ``step`` (the optimizer's ``iterations``: updates done so far).
Read from the schedule's own settings (its ``get_config()``):

==========================  =====================================================================
Keras                       lrkit
==========================  =====================================================================
ExponentialDecay            ``Exponential(lr0, decay_rate, decay_steps, staircase)``; ``decay_rate=0``
                            (continuous): ``lr0`` at step 0, 0 from step 1 (``Piecewise``, at whole
                            steps as for ``PiecewiseConstantDecay``)
PiecewiseConstantDecay      ``Piecewise(values, [b + 1 ...])``: Keras' boundaries are inclusive
                            (``values[0]`` up to and including step ``b0``)
PolynomialDecay             ``Polynomial(lr0, decay_steps, end_lr, power)``; ``cycle=True``:
                            ``PolynomialCycle`` (decays over multiples of ``decay_steps``);
                            ``end_lr > lr0`` (a rise): ``Ramp(lr0, end_lr, decay_steps)`` for
                            ``power=1``, ``Hold(PolynomialCycle(...), decay_steps)`` for another
                            power (the same horizon up to ``decay_steps``); ``power=0``: ``lr0``
InverseTimeDecay            ``InverseTime(lr0, decay_steps, decay_rate, staircase)``
CosineDecay                 ``Cosine(lr0, decay_steps, alpha * lr0)``; with ``warmup_target``:
                            a linear ramp from ``lr0`` over ``warmup_steps``, then the cosine from
                            the target; ``alpha > 1`` (a rise to ``alpha * lr0``): a cosine ``Ramp``
CosineDecayRestarts         ``CosineRestarts(lr0, first_decay_steps, t_mul, alpha * lr0,
                            amplitude_decay=m_mul)``: ``m_mul`` scales the height above the floor
==========================  =====================================================================

Refused, with the reason: an ``ExponentialDecay`` with ``decay_rate > 1`` (it grows to inf) or
``< 0``, settings that give a negative lr (``alpha < 0``, a negative ``decay_rate`` of
``InverseTimeDecay``), and a ``CosineDecayRestarts`` whose restarts grow (``m_mul > 1``), rise
(``alpha > 1``) or that Keras itself turns to NaN (``t_mul < 1``).
"""

from __future__ import annotations

import math
import sys
from typing import Any

from ..core import Schedule
from ..schedules.algebra import Piecewise, Ramp
from ..schedules.compose import Hold
from ..schedules.cycles import CosineRestarts
from ..schedules.decays import Constant, Cosine, Exponential, InverseTime, Polynomial
from ..schedules.paddle_compat import PolynomialCycle
from . import qualname, ramp_then, unconvertible

__all__ = ["from_keras"]

_KINDS = (
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "InverseTimeDecay",
    "CosineDecay",
    "CosineDecayRestarts",
)


#: Methods a subclass may override without changing the values (``__call__`` computes them).
_HARMLESS = frozenset({"__init__", "__repr__", "__str__", "get_config", "from_config"})


def _num(x: Any) -> float:
    return float(x.item() if hasattr(x, "item") else x)


def from_keras(schedule: Any) -> Schedule:
    """The lrkit schedule equal to a Keras ``LearningRateSchedule``: ``s(t)`` = its value at step ``t``.

    Supported: ``ExponentialDecay``, ``PiecewiseConstantDecay``, ``PolynomialDecay`` (``cycle``
    both ways), ``InverseTimeDecay``, ``CosineDecay`` (with ``alpha`` and a warmup),
    ``CosineDecayRestarts``, and a subclass of one that does not override how it computes
    (``__call__``). Anything else raises ``TypeError`` naming the class and the reason (a
    subclass overriding ``__call__``: the override).

    >>> class CosineDecay:  # the settings a keras.optimizers.schedules.CosineDecay holds
    ...     __module__ = "keras.src.optimizers.schedules.learning_rate_schedule"
    ...     def get_config(self):
    ...         return {"initial_learning_rate": 0.1, "decay_steps": 1000, "alpha": 0.01,
    ...                 "warmup_target": None, "warmup_steps": 0}
    >>> from_keras(CosineDecay())
    Cosine(peak_lr=0.1, total_steps=1000, min_lr=0.001, k=1, exponent=1, cycles=0.5, after='hold')
    """
    mro = type(schedule).__mro__
    base = next((c for c in mro if c.__module__.startswith("keras") and c.__name__ in _KINDS), None)
    if base is None:
        raise TypeError(
            f"cannot convert {qualname(schedule)}: from_keras reads the settings of Keras' "
            f"{', '.join(_KINDS)}; a schedule of your own computes its values in its own code, "
            "which has no settings to read"
        )
    name = base.__name__
    for c in mro[: mro.index(base)]:
        for attr, val in vars(c).items():
            if attr not in _HARMLESS and callable(val) and hasattr(base, attr):
                raise unconvertible(
                    schedule,
                    f"it overrides {c.__qualname__}.{attr} of Keras' {name}: its values "
                    "come from its own code, not from the settings a conversion reads",
                )
    cfg = schedule.get_config()
    try:
        return _convert(schedule, name, cfg)
    except ValueError as e:
        raise unconvertible(schedule, str(e)) from None


def _convert(obj: Any, name: str, cfg: dict[str, Any]) -> Schedule:
    if name == "PiecewiseConstantDecay":
        bounds = [_num(b) for b in cfg["boundaries"]]
        values = [_num(v) for v in cfg["values"]]
        # values[i + 1] from the first whole step past bounds[i]
        starts = [math.floor(b) + 1.0 for b in bounds]
        keep_from = sum(1 for s in starts if s <= 0)  # pieces that already ended before step 0
        values, starts = values[keep_from:], starts[keep_from:]
        return Constant(values[0]) if not starts else Piecewise(values, starts)
    lr0 = _num(cfg["initial_learning_rate"])
    if name == "ExponentialDecay":
        rate = _num(cfg["decay_rate"])
        D, stair = _num(cfg["decay_steps"]), bool(cfg["staircase"])
        if rate > 1:
            where = D * (math.log(sys.float_info.max) - math.log(lr0)) / math.log(rate) if lr0 > 0 else math.inf
            raise ValueError(
                f"decay_rate={rate:g} grows the lr without bound (past float64's largest value, to "
                f"inf, from step {where:.6g}); a growth converts with a cap: Exponential(lr0, "
                "decay_rate, decay_steps, max_lr=...)"
            )
        if rate == 0 and not stair:
            # Keras: lr0 * 0 ** (t / D), lr0 at step 0 (0 ** 0 = 1) and 0 at every step after it
            return Piecewise([lr0, 0.0], [1.0])
        return Exponential(lr0, rate, D, staircase=stair)
    if name == "InverseTimeDecay":
        return InverseTime(lr0, _num(cfg["decay_steps"]), _num(cfg["decay_rate"]), staircase=bool(cfg["staircase"]))
    if name == "PolynomialDecay":
        D, end, power = _num(cfg["decay_steps"]), _num(cfg["end_learning_rate"]), _num(cfg["power"])
        if power == 0:  # (lr0 - end) * (1 - p) ** 0 + end, with 0 ** 0 = 1: lr0 throughout
            return Constant(lr0)
        if cfg.get("cycle"):
            return PolynomialCycle(lr0, D, end, power)
        if end > lr0:  # a rise to end, held from D: Keras' horizon is D up to there, as PolynomialCycle's
            return Ramp(lr0, end, D) if power == 1 else Hold(PolynomialCycle(lr0, D, end, power), D)
        return Polynomial(lr0, D, end, power)
    if name == "CosineDecay":
        D, alpha = _num(cfg["decay_steps"]), _num(cfg["alpha"])
        if alpha < 0:
            raise ValueError(f"alpha={alpha:g} is below 0: the lr ends at alpha * lr, below 0")
        target = cfg.get("warmup_target")
        if target is None:
            return _cosine(lr0, D, alpha)
        top = _num(target)
        return ramp_then(lr0, top, _num(cfg.get("warmup_steps") or 0), _cosine(top, D, alpha))
    # CosineDecayRestarts
    alpha, t_mul, m_mul = _num(cfg["alpha"]), _num(cfg["t_mul"]), _num(cfg["m_mul"])
    first = _num(cfg["first_decay_steps"])
    if alpha < 0 or alpha > 1:
        raise ValueError(
            f"alpha={alpha:g} puts the floor alpha * lr {'below 0' if alpha < 0 else 'above the peak'}: "
            "each restart would "
            + ("end below 0" if alpha < 0 else "rise to the floor")
            + ", and lrkit's CosineRestarts decays from its peak to a floor in [0, peak]"
        )
    if m_mul > 1:
        raise ValueError(f"m_mul={m_mul:g} multiplies each restart's height by more than 1: the lr grows without bound")
    if t_mul < 1:
        raise ValueError(
            f"t_mul={t_mul:g} shortens each restart: the restarts end at step "
            f"{first / (1 - t_mul):.6g}, where Keras' own value turns to NaN"
        )
    return CosineRestarts(lr0, first, t_mul, lr0 * alpha, amplitude_decay=m_mul)


def _cosine(top: float, D: float, alpha: float) -> Schedule:
    """Keras' ``top * ((1 - alpha) c + alpha)``, ``c`` from 1 to 0 (half a cosine): a decay to
    ``alpha * top``, or for ``alpha > 1`` a cosine rise to it."""
    if alpha > 1:
        return Ramp(top, top * alpha, D, shape="cosine")
    return Cosine(top, D, top * alpha)
