"""Common compositions under one name."""

from __future__ import annotations

from .. import _check
from ..core import Schedule, register
from ..params import param
from .algebra import dampened
from .compose import Warmup, WarmupShape, _Warmup
from .decays import Cosine

__all__ = ["WarmupCosine", "untuned_linear_warmup", "untuned_exponential_warmup"]


@register("warmup_cosine")
class WarmupCosine(_Warmup):
    """A warmup then a cosine decay, ``total_steps`` counting both.

    ``Warmup(Cosine(peak_lr, total_steps - warmup_steps, min_lr), warmup_steps, shape, start_factor)``:
    from ``start_factor * peak_lr`` up to ``peak_lr`` over ``warmup_steps``, then
    ``min_lr + (peak_lr - min_lr) * (1 + cos(pi * (t - W) / (T - W))) / 2``, then ``min_lr``.

    >>> WarmupCosine(peak_lr=0.1, total_steps=100, warmup_steps=10)(5)
    0.05
    """

    formula = 'a warmup then a cosine, `total_steps` counting both'
    example = {"peak_lr": 0.1, "total_steps": 1000, "warmup_steps": 100, "min_lr": 0.001}
    peak_lr: float = param("rate", doc="the value the warmup reaches, where the cosine starts")
    total_steps: float = param("length", doc="length of the whole run, warmup included")
    warmup_steps: float = param("length0", doc="length of the warmup")
    min_lr: float = param("rate", default=0.0, doc="the floor the cosine reaches at total_steps")
    start_factor: float = param("factor", default=0.0, doc="the warmup starts at start_factor * peak_lr")
    shape: WarmupShape = param("choice", default="linear", doc="how the warmup rises")

    def _setup(
        self, peak_lr: float, total_steps: float, warmup_steps: float, min_lr: float, start_factor: float, shape: str
    ) -> None:
        T, W = total_steps, warmup_steps
        if not W < T:
            raise ValueError(
                f"warmup_steps ({warmup_steps!r}) must be shorter than the run, total_steps ({total_steps!r})"
            )
        self._setup_warmup(
            Cosine(peak_lr, T - W, min_lr),
            W,
            shape=shape,
            start_factor=start_factor,
            power=2.0,
            tau=None,
            start_lr=None,
        )
        self._set(peak_lr=peak_lr, total_steps=T, min_lr=min_lr)


def _decimal(x: float) -> float:
    """``x``, or the whole number it is within a few ulps of: ``2 / (1 - 0.999)`` is
    1999.9999999999982 in float64 (``1 - 0.999`` is not 0.001), meant as 2000."""
    r = round(x)
    return float(r) if abs(x - r) <= 1e-12 * abs(x) else x


def untuned_linear_warmup(schedule: Schedule, beta2: float = 0.999, *, overlay: bool = False) -> Schedule:
    """Linear warmup from 0 over ``2 / (1 - beta2)`` steps (Ma & Yarats, 2019).

    The paper's "untuned" rule for Adam: the warmup length follows from the
    second-moment decay rate, ``omega(t) = min(1, t * (1 - beta2) / 2)``, prepended to
    ``schedule``. With ``overlay=True`` it is pytorch-warmup's ``UntunedLinearWarmup``
    instead: the factor ``min(1, (t + 1) / P)`` with the integer period
    ``P = int(2 / (1 - beta2))`` multiplied onto ``schedule`` on the same clock.
    """
    b2 = _check.fraction("beta2", beta2, low_open=False, high_open=True)
    if overlay:
        return dampened(schedule, float(int(2.0 / (1.0 - b2))), "linear")
    return Warmup(schedule, _decimal(2.0 / (1.0 - b2)), "linear")


def untuned_exponential_warmup(schedule: Schedule, beta2: float = 0.999, *, overlay: bool = False) -> Schedule:
    """Exponential warmup with time constant ``tau = 1 / (1 - beta2)`` steps (Ma & Yarats, 2019).

    The paper's factor is ``1 - exp(-t / tau)``; here it hands over to ``schedule``
    at ``3 * tau`` (where the paper's factor is 0.95), normalised so the join is
    continuous. With ``overlay=True`` it is pytorch-warmup's ``UntunedExponentialWarmup``:
    ``1 - exp(-(t + 1) / P)``, ``P = int(1 / (1 - beta2))``, multiplied onto ``schedule``.
    """
    b2 = _check.fraction("beta2", beta2, low_open=False, high_open=True)
    tau = 1.0 / (1.0 - b2)
    if overlay:  # pytorch-warmup's int() of the float quotient: 999 for beta2 = 0.999, as it does
        return dampened(schedule, float(int(tau)), "exponential")
    tau = _decimal(tau)
    return Warmup(schedule, 3.0 * tau, "exponential", tau=tau)
