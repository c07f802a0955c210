"""ultralytics YOLO's schedule (8.x trainer): a per-epoch factor ``lf`` and a per-iteration warmup
that interpolates each param group, and the momentum, as lrkit schedules of the iteration.

With ``E`` epochs, ``nb`` batches per epoch, ``ni`` the iteration and ``e = floor(ni / nb)``:

* ``lf(e) = ((1 - cos(pi e / E)) / 2)(lrf - 1) + 1`` (``cos_lr``), else
  ``max(1 - e / E, 0)(1 - lrf) + lrf``; each group's lr is ``lr0 * lf(e)``;
* warmup over ``nw = round(min(warmup_epochs, E - 1) nb)`` iterations (none for
  ``warmup_epochs = 0``): for ``ni <= nw`` each group moves in a straight line from its
  start (``warmup_bias_lr`` for the biases, 0 for the weights and BN weights) towards
  ``lr0 * lf(e)``, ``start + (ni / nw)(lr0 lf(e) - start)``, and the momentum from
  ``warmup_momentum`` to ``momentum``.

The groups are ultralytics' three: weights (with decay), BN weights, biases.

>>> s = ultralytics_schedules(lr0=0.01, lrf=0.01, epochs=100, batches=500, warmup_epochs=3)
>>> # halfway through the warmup, in epoch 1 (lf(1) = 0.9901): half of 0.01 * 0.9901, and the bias halfway down
>>> [round(g(750), 6) for g in s["lr"]], round(s["momentum"](750), 4)
([0.004951, 0.004951, 0.05495], 0.8685)
"""

from __future__ import annotations

import math
from typing import Any

from .. import _check
from ..core import Schedule
from ..schedules.algebra import Piecewise, Product, Ramp, Sum
from ..schedules.compose import Scale
from ..schedules.decays import Constant

__all__ = ["ultralytics_schedules", "GROUPS"]

#: ultralytics' param groups, in the order its build_optimizer makes them
GROUPS = ("weight", "bn", "bias")


def _lf(e: int, epochs: int, lrf: float, cos_lr: bool) -> float:
    if cos_lr:
        return max((1 - math.cos(e * math.pi / epochs)) / 2, 0) * (lrf - 1.0) + 1.0
    return max(1 - e / epochs, 0) * (1.0 - lrf) + lrf


def ultralytics_schedules(lr0: float, lrf: float, epochs: int, batches: int, *, warmup_epochs: float = 3.0,
                          warmup_bias_lr: float = 0.1, warmup_momentum: float = 0.8, momentum: float = 0.937,
                          cos_lr: bool = False) -> dict[str, Any]:
    """``{"lr": [weight, bn, bias], "momentum": schedule, "warmup_iters": nw}``: ultralytics'
    lr of each param group and momentum at iteration ``ni`` (see the module docstring).

    Bind them per iteration: ``ScheduleLR(opt, s["lr"], absolute=True)`` and
    ``ScheduleLR(opt, s["momentum"], key="momentum", absolute=True)``.
    """
    lr0 = _check.positive("lr0", lr0)
    lrf = _check.rate("lrf", lrf)
    for name, v in (("epochs", epochs), ("batches", batches)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {v!r}")
    w = _check.real("warmup_epochs", warmup_epochs)
    if w < 0:
        raise ValueError(f"warmup_epochs must be >= 0, got {warmup_epochs!r}")
    bias0 = _check.rate("warmup_bias_lr", warmup_bias_lr)
    m0, m1 = _check.rate("warmup_momentum", warmup_momentum), _check.rate("momentum", momentum)
    nw = round(min(w, max(epochs - 1, 0)) * batches) if w > 0 else 0
    lf = [_lf(e, epochs, lrf, bool(cos_lr)) for e in range(epochs + 1)]
    per_epoch: Schedule = Piecewise(lf, [float(batches * e) for e in range(1, epochs + 1)])
    target = Scale(per_epoch, lr0)
    if nw == 0:
        return {"lr": [target] * 3, "momentum": Constant(m1), "warmup_iters": 0}
    rising = Product([Ramp(0.0, 1.0, float(nw)), target])  # (ni / nw) lr0 lf(e), then lr0 lf(e)
    bias = Sum([Ramp(bias0, 0.0, float(nw)), rising]) if bias0 > 0 else rising
    return {"lr": [rising, rising, bias], "momentum": Ramp(m0, m1, float(nw)), "warmup_iters": nw}
