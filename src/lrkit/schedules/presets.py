"""Common compositions under one name."""

from __future__ import annotations

from .compose import WARMUP_SHAPES, Warmup
from ..core import register
from ..params import Param
from .decays import Cosine

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

    formula = 'a warmup then a cosine, `total_steps` counting both'
    example = {"peak_lr": 0.1, "total_steps": 1000, "warmup_steps": 100, "min_lr": 0.001}
    params = (Param("peak_lr", "rate", doc="the value the warmup reaches, where the cosine starts"),
              Param("total_steps", "length", doc="length of the whole run, warmup included"),
              Param("warmup_steps", "length0", doc="length of the warmup"),
              Param("min_lr", "rate", 0.0, "the floor the cosine reaches at total_steps"),
              Param("start_factor", "factor", 0.0, "the warmup starts at start_factor * peak_lr"),
              Param("shape", "choice", "linear", "how the warmup rises", choices=WARMUP_SHAPES))

    def _setup(self, peak_lr: float, total_steps: float, warmup_steps: float, min_lr: float,
               start_factor: float, shape: str) -> None:
        T, W = total_steps, warmup_steps
        if not W < T:
            raise ValueError(f"warmup_steps ({warmup_steps!r}) must be shorter than the run, "
                             f"total_steps ({total_steps!r})")
        super()._setup(Cosine(peak_lr, T - W, min_lr), W, shape=shape, start_factor=start_factor, power=2.0,
                       tau=None, start_lr=None)
        self._set(peak_lr=peak_lr, total_steps=T, min_lr=min_lr)
