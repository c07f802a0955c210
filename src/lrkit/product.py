"""Product of schedules: several multiplicative effects applied together."""

from __future__ import annotations

import math

from typing import Sequence as SequenceT

from ._num import np

from .core import Schedule, register
from .params import Param

__all__ = ["Product"]


@register("product")
class Product(Schedule):
    """The product of several schedules: ``f(t) = s_1(t) * s_2(t) * ... * s_n(t)``.

    Useful when independent multiplicative factors act at once, e.g. a warmup
    multiplier times a step decay (what PyTorch's ``ChainedScheduler`` does with
    multiplicative schedulers). The factors are multiplied left to right.

    >>> from lrkit import Constant, Step
    >>> Product([Constant(0.5), Step(0.1, 10, 0.1)])(10)
    0.005000000000000001
    """

    formula = '`s_1(t) * s_2(t) * ...`'
    example = {"schedules": [{"type": "step", "peak_lr": 0.1, "step_size": 300, "gamma": 0.5}, {"type": "warmup", "schedule": {"type": "constant", "lr": 1.0}, "warmup_steps": 100}]}
    params = (Param("schedules", "schedules", doc="the factors, multiplied left to right"),)

    def _setup(self, schedules: tuple) -> None:
        items = schedules
        top = 1.0
        for s in items:
            top *= s.max_value
        if not top < math.inf and all(s.max_value < math.inf for s in items):
            raise ValueError("product: the largest values of the schedules multiply past float64's range "
                             f"({' * '.join(repr(s.max_value) for s in items)})")
        self._set(schedules=items)

    def _scalar(self, t: float) -> float:
        it = iter(self.schedules)
        v = next(it)._scalar(t)
        for s in it:
            v = v * s._scalar(t)
        if not v < math.inf:
            raise ValueError(f"product: the value at position {t!r} overflows float64")
        return v

    def _array(self, t: np.ndarray) -> np.ndarray:
        it = iter(self.schedules)
        v = next(it)._array(t)
        with np.errstate(over="ignore"):
            for s in it:
                v = v * s._array(t)
        if v.size and not v.max() < math.inf:
            raise ValueError(f"product: the value at position {float(t[~(v < math.inf)][0])!r} overflows float64")
        return v

    @property
    def length(self) -> float:
        return max(s.length for s in self.schedules)

    @property
    def max_value(self) -> float:
        tops = [s.max_value for s in self.schedules]
        if 0.0 in tops:
            return 0.0
        return math.prod(tops)
