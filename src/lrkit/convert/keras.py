"""Keras 3's learning-rate schedules (``keras.optimizers.schedules``) as lrkit schedules.

The position is Keras' ``step`` (the optimizer's ``iterations``: updates done so far).
Read from the schedule's own settings (its ``get_config()``):

==========================  =====================================================================
Keras                       lrkit
==========================  =====================================================================
ExponentialDecay            ``Exponential(lr0, decay_rate, decay_steps, staircase)``
PiecewiseConstantDecay      ``Piecewise(values, [b + 1 ...])``: Keras' boundaries are inclusive
                            (``values[0]`` up to and including step ``b0``)
PolynomialDecay             ``Polynomial(lr0, decay_steps, end_lr, power)``; ``cycle=True``:
                            ``PolynomialCycle`` (decays over multiples of ``decay_steps``)
InverseTimeDecay            ``InverseTime(lr0, decay_steps, decay_rate, staircase)``
CosineDecay                 ``Cosine(lr0, decay_steps, alpha * lr0)``; with ``warmup_target``:
                            a linear ramp from ``lr0`` over ``warmup_steps``, then the cosine from
                            the target
CosineDecayRestarts         ``CosineRestarts(lr0, first_decay_steps, t_mul, alpha * lr0,
                            amplitude_decay=m_mul)``: ``m_mul`` scales the height above the floor
==========================  =====================================================================
"""

from __future__ import annotations

import math
from typing import Any

from ..core import Schedule
from ..schedules.algebra import Piecewise, Ramp
from ..schedules.cycles import CosineRestarts
from ..schedules.decays import Constant, Cosine, Exponential, InverseTime, Polynomial
from ..schedules.paddle_compat import PolynomialCycle
from . import qualname, ramp_then, unconvertible

__all__ = ["from_keras"]

_KINDS = ("ExponentialDecay", "PiecewiseConstantDecay", "PolynomialDecay", "InverseTimeDecay", "CosineDecay",
          "CosineDecayRestarts")


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
        raise TypeError(f"cannot convert {qualname(schedule)}: from_keras reads the settings of Keras' "
                        f"{', '.join(_KINDS)}; a schedule of your own computes its values in its own code, "
                        "which has no settings to read")
    name = base.__name__
    for c in mro[: mro.index(base)]:
        for attr, val in vars(c).items():
            if attr not in _HARMLESS and callable(val) and hasattr(base, attr):
                raise unconvertible(schedule, f"it overrides {c.__qualname__}.{attr} of Keras' {name}: its values "
                                              "come from its own code, not from the settings a conversion reads")
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
        if rate > 1:
            raise ValueError(f"decay_rate={rate:g} grows the lr without bound; lrkit's Exponential decays")
        return Exponential(lr0, rate, _num(cfg["decay_steps"]), staircase=bool(cfg["staircase"]))
    if name == "InverseTimeDecay":
        return InverseTime(lr0, _num(cfg["decay_steps"]), _num(cfg["decay_rate"]), staircase=bool(cfg["staircase"]))
    if name == "PolynomialDecay":
        D, end, power = _num(cfg["decay_steps"]), _num(cfg["end_learning_rate"]), _num(cfg["power"])
        if cfg.get("cycle"):
            return PolynomialCycle(lr0, D, end, power)
        if end > lr0:
            if power != 1:
                raise ValueError(f"end_learning_rate ({end:g}) above initial_learning_rate with power {power:g}")
            return Ramp(lr0, end, D)
        return Polynomial(lr0, D, end, power)
    if name == "CosineDecay":
        D, alpha = _num(cfg["decay_steps"]), _num(cfg["alpha"])
        target = cfg.get("warmup_target")
        if target is None:
            return Cosine(lr0, D, lr0 * alpha)
        top = _num(target)
        return ramp_then(lr0, top, _num(cfg.get("warmup_steps") or 0), Cosine(top, D, top * alpha))
    # CosineDecayRestarts
    alpha = _num(cfg["alpha"])
    return CosineRestarts(lr0, _num(cfg["first_decay_steps"]), _num(cfg["t_mul"]), lr0 * alpha,
                          amplitude_decay=_num(cfg["m_mul"]))
