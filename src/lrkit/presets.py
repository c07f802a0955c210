"""Common compositions under one name."""

from __future__ import annotations

from . import _check
from .compose import WARMUP_SHAPES, Warmup
from .core import register
from .decay import Cosine

__all__ = ["WarmupCosine"]


@register("warmup_cosine")
class WarmupCosine(Warmup):
    """A warmup then a cosine decay, ``total_steps`` counting both.

    ``Warmup(Cosine(peak_lr, total_steps - warmup_steps, min_lr), warmup_steps, shape, start_factor)``:
    from ``start_factor * peak_lr`` up to ``peak_lr`` over ``warmup_steps``, then
    ``min_lr + (peak_lr - min_lr) * (1 + cos(pi * (t - W) / (T - W))) / 2``, then ``min_lr``.

    >>> WarmupCosine(peak_lr=0.1, total_steps=100, warmup_steps=10)(5)
    0.05
    """

    __slots__ = ("peak_lr", "total_steps", "min_lr")
    _fields = ("peak_lr", "total_steps", "warmup_steps", "min_lr", "start_factor", "shape")

    def __init__(self, peak_lr: float, total_steps: float, warmup_steps: float, min_lr: float = 0.0,
                 start_factor: float = 0.0, shape: str = "linear") -> None:
        T = _check.length("total_steps", total_steps)
        W = _check.length("warmup_steps", warmup_steps, allow_zero=True)
        if not W < T:
            raise ValueError(f"warmup_steps ({warmup_steps!r}) must be shorter than the run, "
                             f"total_steps ({total_steps!r})")
        _check.choice("shape", shape, WARMUP_SHAPES)
        super().__init__(Cosine(peak_lr, T - W, min_lr), W, shape=shape, start_factor=start_factor)
        self._set(peak_lr=self.schedule.peak_lr, total_steps=T, min_lr=self.schedule.min_lr)
