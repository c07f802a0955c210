"""Schedules that only PaddlePaddle's built-in schedulers need.

Pure numpy, no Paddle import: :func:`lrkit.paddle.from_paddle` builds them, and
they can be evaluated, plotted and bound anywhere.
"""

from __future__ import annotations

import math

from . import _check
from . import _num as m
from ._num import np
from .core import Phase, Schedule

__all__ = ["PolynomialCycle"]

_INF = math.inf


class PolynomialCycle(Schedule):
    """Paddle's ``PolynomialDecay(cycle=True)``: the decay horizon grows to the next multiple of ``T``.

    With ``T = decay_steps`` and ``k = ceil(t / T)`` (``k = 1`` at ``t = 0``)::

        f(t) = (peak_lr - end_lr) * (1 - t / (T * k)) ** power + end_lr

    Each horizon ``((k - 1) T, k T]`` is a polynomial decay to ``end_lr`` starting
    from ``end_lr + (peak_lr - end_lr) * k ** -power``: the value reaches ``end_lr``
    at every multiple of ``T`` and jumps back up right after it.

    Not written to configs (it exists to mirror Paddle's scheduler exactly).

    >>> PolynomialCycle(1.0, 10, 0.0)(15)
    0.25
    """

    __slots__ = ("peak_lr", "decay_steps", "end_lr", "power")
    _fields = ("peak_lr", "decay_steps", "end_lr", "power")
    kind = "polynomial_cycle"

    def __init__(self, peak_lr: float, decay_steps: float, end_lr: float = 0.0, power: float = 1.0) -> None:
        self._set(peak_lr=_check.rate("peak_lr", peak_lr), decay_steps=_check.length("decay_steps", decay_steps),
                  end_lr=_check.rate("end_lr", end_lr), power=_check.positive("power", power))

    def _scalar(self, t: float) -> float:
        T = self.decay_steps
        if not t / T < _INF:
            raise ValueError(f"position {t!r} is too many decay_steps of {T!r} in to count (overflows float64)")
        k = math.ceil(t / T) if t > 0 else 1
        return (self.peak_lr - self.end_lr) * m.fpow(1.0 - t / (T * k), self.power) + self.end_lr

    def _array(self, t: np.ndarray) -> np.ndarray:
        T = self.decay_steps
        k = np.ceil(t / T)
        if k.size and not k.max() < _INF:
            raise ValueError(f"position {float(t.max())!r} is too many decay_steps of {T!r} in to count "
                             "(overflows float64)")
        k[t <= 0] = 1.0
        return (self.peak_lr - self.end_lr) * m.vfpow(1.0 - t / (T * k), self.power) + self.end_lr

    def phases(self) -> list[Phase]:
        T = self.decay_steps
        out = [Phase("cycle 1", 0.0, T, self.peak_lr, self.end_lr, True)]
        out.append(Phase("cycles 2...", T, _INF, self.end_lr, None, True))
        return out

    def to_dict(self) -> dict:
        raise TypeError("PolynomialCycle (Paddle's PolynomialDecay with cycle=True) cannot be written as a config")
