"""Schedules that only PaddlePaddle's built-in schedulers need.

Pure numpy, no Paddle import: :func:`lrkit.paddle.from_paddle` builds them, and
they can be evaluated, plotted and bound anywhere.
"""

from __future__ import annotations

import math
from typing import Any

from ..core import Phase, Schedule, register
from ..params import param

__all__ = ["PolynomialCycle"]

_INF = math.inf


@register("polynomial_cycle")
class PolynomialCycle(Schedule):
    """Paddle's ``PolynomialDecay(cycle=True)``: the decay horizon grows to the next multiple of ``T``.

    With ``T = decay_steps`` and ``k = ceil(t / T)`` (``k = 1`` at ``t = 0``)::

        f(t) = (peak_lr - end_lr) * (1 - t / (T * k)) ** power + end_lr

    Each horizon ``((k - 1) T, k T]`` is a polynomial decay to ``end_lr`` starting
    from ``end_lr + (peak_lr - end_lr) * k ** -power``: the value reaches ``end_lr``
    at every multiple of ``T`` and jumps back up right after it.

    >>> PolynomialCycle(1.0, 10, 0.0)(15)
    0.25
    """

    formula = "`(peak - end)(1 - t/(T k))^power + end`, `k = ceil(t / T)` (Paddle's `PolynomialDecay(cycle=True)`)"
    example = {"peak_lr": 0.1, "decay_steps": 300, "end_lr": 0.001, "power": 2.0}
    peak_lr: float = param("rate", doc="the value at 0")
    decay_steps: float = param("length", doc="length of the first decay; later ones are multiples of it")
    end_lr: float = param("rate", default=0.0, doc="the value each decay reaches")
    power: float = param("positive", default=1.0, doc="exponent of the decay")

    def _kernel(self, t: Any, xp: Any) -> Any:
        T = self.decay_steps
        xp.guard(t / T, self._too_far)  # a quotient past float64's range is refused
        k = xp.maximum(xp.divceil(t, T), 1.0)  # the horizon: k = 1 at t = 0 (exact on a device too)
        return (self.peak_lr - self.end_lr) * xp.pow(xp.maximum(1.0 - t / (T * k), 0.0), self.power) + self.end_lr

    def _too_far(self) -> str:
        return f"a position is too many decay_steps of {self.decay_steps!r} in to count (overflows float64)"

    @property
    def max_value(self) -> float:
        # every value lies between peak_lr and end_lr, and end_lr may be the larger (Paddle allows it)
        return max(self.peak_lr, self.end_lr)

    def phases(self) -> list[Phase]:
        T = self.decay_steps
        out = [Phase("cycle 1", 0.0, T, self.peak_lr, self.end_lr, True)]
        out.append(Phase("cycles 2...", T, _INF, self.end_lr, None, True))
        return out
