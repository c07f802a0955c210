"""pytorch-warmup's warmups over a main scheduler, as lrkit schedules.

pytorch-warmup multiplies the main scheduler's lr of update ``t`` by a warmup factor
``omega(t)``, driven as its README shows (``with warmup.dampening(): scheduler.step()``).
``from_torch(main, warmup=w)`` gives ``main(t) * Dampening(P, shape)(t)`` per group:

* ``LinearWarmup(opt, P)``: ``min(1, (t + 1) / P)``; ``UntunedLinearWarmup``: ``P = int(2 / (1 - beta2))``;
* ``ExponentialWarmup(opt, P)``: ``1 - exp(-(t + 1) / P)``; ``UntunedExponentialWarmup``: ``P = int(1 / (1 - beta2))``;
* ``RAdamWarmup(opt)``: RAdam's factor, a function of ``t`` and each group's ``beta2`` only
  (:class:`lrkit.RAdamDampening`).

The periods are read from the warmup object (one per group), not recomputed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from ..core import Schedule
from ..schedules.algebra import Dampening, Product
from ..schedules.decays import RAdamDampening
from . import unconvertible

__all__ = ["builder"]


def _shape(w: Any) -> Literal["linear", "exponential", "radam"]:
    for c in type(w).__mro__:
        if c.__module__.startswith("pytorch_warmup"):
            if c.__name__ in ("LinearWarmup", "UntunedLinearWarmup"):
                return "linear"
            if c.__name__ in ("ExponentialWarmup", "UntunedExponentialWarmup"):
                return "exponential"
            if c.__name__ == "RAdamWarmup":
                return "radam"
    raise unconvertible(
        w,
        "supported warmups: LinearWarmup, ExponentialWarmup, UntunedLinearWarmup, "
        "UntunedExponentialWarmup, RAdamWarmup (a warmup of its own has no known factor)",
    )


def builder(main: Any, warmup: Any, build: Callable[[int], Schedule]) -> Callable[[int], Schedule]:
    shape = _shape(warmup)
    params = list(getattr(warmup, "warmup_params", []))
    if getattr(warmup, "optimizer", None) is not getattr(main, "optimizer", None):
        raise ValueError("warmup and scheduler must drive the same optimizer")
    if len(params) != len(main.optimizer.param_groups):
        raise unconvertible(warmup, "its warmup periods do not match the optimizer's param groups")

    def one(g: int) -> Schedule:
        if shape == "radam":
            factor: Schedule = RAdamDampening(float(params[g]["beta2"]))
            if factor.offset != params[g]["offset"]:
                raise unconvertible(
                    warmup,
                    f"its offset for group {g} ({params[g]['offset']}) is not RAdam's "
                    f"for beta2={params[g]['beta2']} ({factor.offset})",
                )
        else:
            factor = Dampening(float(params[g]["warmup_period"]), shape)
        return Product([build(g), factor])

    return one
