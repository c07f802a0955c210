"""torchvision's detection ``warmup_lr_scheduler``: its linear warmup multiplier."""

from __future__ import annotations

import math
from typing import Any

from .. import _check
from ..core import Phase, Schedule, register
from ..params import param
from ._dropin import _drop_in_warning

__all__ = ["TorchvisionWarmup", "torchvision_drop_in"]

_INF = math.inf


@register("torchvision_warmup")
class TorchvisionWarmup(Schedule):
    """The multiplier of torchvision's detection ``warmup_lr_scheduler``: linear from ``warmup_factor`` to 1.

    ::

        m(x) = 1                                          if x >= warmup_iters
             = warmup_factor * (1 - a) + a,  a = x / warmup_iters    otherwise

    ``warmup_iters = 0`` means no warmup (1 from the start). ``warmup_factor`` is any
    finite number ``>= 0``: above 1 the multiplier starts above 1 and falls to 1. Each
    param group's lr is ``base_lr * m(x)``, ``x`` counting scheduler steps from 0 at
    construction.

    >>> TorchvisionWarmup(warmup_iters=5, warmup_factor=0.1)(0)
    0.1
    """

    value_name = "multiplier of the base lr"

    # warmup_factor above 1 is valid, as in the original: the multiplier then falls to 1
    formula = '`warmup_factor (1 - x/W) + x/W` for `x < W`, then 1 (a multiplier)'
    example = {"warmup_iters": 500, "warmup_factor": 0.001}
    warmup_iters: float = param("length0", doc="warmup length (0: no warmup)")
    warmup_factor: float = param("factor", doc="the multiplier at 0")

    def _warm(self, x: Any, xp: Any) -> Any:
        a = x / self.warmup_iters
        return self.warmup_factor * (1 - a) + a

    def _kernel(self, x: Any, xp: Any) -> Any:
        return xp.hold(x, self.warmup_iters, self._warm, 1.0)

    @property
    def length(self) -> float:
        return self.warmup_iters

    @property
    def max_value(self) -> float:
        return max(1.0, self.warmup_factor)

    def phases(self) -> list[Phase]:
        wi = self.warmup_iters
        if wi == 0:
            return [Phase("constant", 0.0, _INF, 1.0, 1.0, True)]
        name = "warmup (linear)" if self.warmup_factor <= 1 else "ramp down (linear)"
        return [Phase(name, 0.0, wi, self.warmup_factor, 1.0, True), Phase("constant", wi, _INF, 1.0, 1.0, True)]


def torchvision_drop_in(warmup_iters: Any, warmup_factor: Any) -> TorchvisionWarmup:
    """The multiplier the ``warmup_lr_scheduler`` drop-ins use: a negative ``warmup_iters``
    (the original then never warms up) is taken as 0, with a :class:`DropInWarning`."""
    wi = _check.real("warmup_iters", warmup_iters)
    if wi < 0:
        _drop_in_warning("warmup_lr_scheduler", f"warmup_iters={warmup_iters!r} is negative: no warmup")
        wi = 0.0
    return TorchvisionWarmup(wi, warmup_factor)


# -- the recipe, declared once (the command line, lrkit list and the README derive from it) ----------------
from .registry import Option, Recipe, declare  # noqa: E402

declare(
    Recipe(
        "torchvision-warmup",
        "torchvision detection warmup_lr_scheduler(optimizer, warmup_iters, warmup_factor): the "
        "multiplier per iteration",
        params=(
            Option("warmup_iters", "length0", doc="warmup iterations", metavar="N"),
            Option(
                "warmup_factor",
                "factor",
                0.001,
                "multiplier at iteration 0 (default: 0.001, torchvision's 1/1000)",
                metavar="F",
            ),
        ),
        build=TorchvisionWarmup,
        original="torchvision detection `warmup_lr_scheduler(optimizer, warmup_iters, warmup_factor)`",
        does="multiplier `m(x) = warmup_factor * (1 - x/W) + x/W` for `x < W = warmup_iters`, then 1; applied at "
        "construction; `W = 0` means no warmup",
    )
)
