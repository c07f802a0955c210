"""The recipes' drop-ins on PyTorch: the originals' names and signatures, driven by lrkit.

* :func:`warmup_lr_scheduler` -- torchvision detection's linear warmup;
* :class:`UltralyticsLR` -- ultralytics YOLO's lr and momentum, per iteration;
* :func:`set_optimizer_lr` -- the YOLOX-style companion of :func:`lrkit.recipes.get_lr_scheduler`;
* :class:`CosineAnnealingWarmbootingLR` -- CAWB, with the original's ``step`` / ``step_batch``.

Each one takes its values from the recipe's schedule (:mod:`lrkit.recipes`) and writes
them with the PyTorch binding (:class:`lrkit.torch.ScheduleLR`). Import them from
:mod:`lrkit.torch` (``from lrkit.torch import UltralyticsLR``), where they are public.

This module imports torch; ``import lrkit`` does not import it.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence as SequenceT
from typing import Any, cast

from torch import Tensor
from torch.optim import Optimizer
from torch.optim import lr_scheduler as _tl

from .._bindutil import base_values
from .._check import real as _check_real
from .._torch_binding import ScheduleLR, _plain, _run_eagerly_under_compile
from ..core import fingerprint
from ._cawb_dropin import CawbCounters, cawb_state_keys
from .torchvision import torchvision_drop_in
from .ultralytics import CHECKED as ULTRALYTICS_CHECKED
from .ultralytics import TrainerRules, ultralytics_schedules

__all__ = ["warmup_lr_scheduler", "UltralyticsLR", "set_optimizer_lr", "CosineAnnealingWarmbootingLR"]


def warmup_lr_scheduler(optimizer: Optimizer, warmup_iters: float, warmup_factor: float) -> ScheduleLR:
    """torchvision detection's linear warmup: each group's lr times ``m(x)``, ``x`` = steps so far.

    ``m(x) = warmup_factor * (1 - x / warmup_iters) + x / warmup_iters`` for
    ``x < warmup_iters``, then 1 (:class:`lrkit.recipes.TorchvisionWarmup`). As with the
    original (a ``LambdaLR``), ``m(0)`` is applied when the scheduler is built and each
    ``step()`` advances ``x`` by one; ``warmup_iters = 0`` means no warmup. Unlike the
    original, bad arguments raise ``ValueError`` and the state dict loads with
    ``weights_only=True``.

    >>> import torch
    >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.02)
    >>> sched = warmup_lr_scheduler(opt, warmup_iters=1000, warmup_factor=0.001)
    >>> opt.param_groups[0]["lr"]
    2e-05
    """
    return ScheduleLR(optimizer, torchvision_drop_in(warmup_iters, warmup_factor))


class UltralyticsLR(ScheduleLR):
    """ultralytics YOLO's schedule on a torch optimizer, stepped once per iteration (batch):
    each param group's lr and the momentum its trainer sets, by the rules of its ``version``
    (see :mod:`lrkit.recipes.ultralytics`; default: the newest checked).

    Group ``g`` starts from its own lr (``initial_lr``, else ``lr``), as the trainer's
    ``x["initial_lr"] * lf(epoch)``; the biases' group (``param_group="bias"`` from
    ultralytics 8.4.3, the first group before) starts its warmup at ``warmup_bias_lr``.
    The momentum of every group that has one goes from ``warmup_momentum`` to
    ``momentum`` (default: the optimizer's, kept in ``initial_momentum``) over the warmup.
    Call :meth:`step` after each
    ``optimizer.step()``; :meth:`state_dict` resumes mid-warmup exactly (the trainer's
    ``ni`` is the position).

    >>> import torch
    >>> w, bn, b = (torch.zeros(1, requires_grad=True) for _ in range(3))
    >>> opt = torch.optim.SGD([{"params": [w], "param_group": "weight"}, {"params": [bn], "param_group": "bn"},
    ...                        {"params": [b], "param_group": "bias"}], lr=0.01, momentum=0.937, nesterov=True)
    >>> sched = UltralyticsLR(opt, lrf=0.01, epochs=100, batches=500)
    >>> for _ in range(750):
    ...     opt.step(); sched.step()
    >>> [round(g["lr"], 6) for g in opt.param_groups], round(opt.param_groups[0]["momentum"], 4)
    ([0.004951, 0.004951, 0.05495], 0.8685)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        *,
        lrf: float = 0.01,
        epochs: int,
        batches: int,
        warmup_epochs: float = 3.0,
        warmup_bias_lr: float = 0.1,
        warmup_momentum: float = 0.8,
        momentum: float | None = None,
        cos_lr: bool = False,
        version: str = ULTRALYTICS_CHECKED,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a torch optimizer, got {optimizer!r}")
        groups = optimizer.param_groups
        lr0s = [_plain(g.get("initial_lr", g["lr"])) for g in groups]
        with_m = [i for i, g in enumerate(groups) if "momentum" in g]
        if momentum is None:
            # the optimizer's own, kept in "initial_momentum" (as torch keeps "initial_lr"), so a
            # scheduler built after optimizer.load_state_dict mid-warmup targets the same value
            for i in with_m:
                groups[i].setdefault("initial_momentum", _plain(groups[i]["momentum"]))
            momentum_used: float = groups[with_m[0]]["initial_momentum"] if with_m else 0.937
        else:
            momentum_used = momentum
        self.recipe = ultralytics_schedules(
            lr0s[0],
            lrf,
            epochs,
            batches,
            warmup_epochs=warmup_epochs,
            warmup_bias_lr=warmup_bias_lr,
            warmup_momentum=warmup_momentum,
            momentum=momentum_used,
            cos_lr=cos_lr,
            version=version,
            lr0s=lr0s,
            groups=[g.get("param_group") for g in groups],
        )
        # the trainer writes the momentum of the groups that have one, during its warmup
        self._momentum_groups = with_m if self.recipe.warmup_iters else []
        self._momentum = self.recipe.momentum.checked
        _run_eagerly_under_compile(__name__)
        super().__init__(optimizer, self.recipe.lr, absolute=True, last_epoch=last_epoch)

    @property
    def rules(self) -> TrainerRules:
        """The trainer's rules in force (:func:`lrkit.recipes.ultralytics.trainer_rules` of
        ``version``): warmup length, lag, group layout, which group starts at warmup_bias_lr."""
        return self.recipe.rules

    @property
    def version(self) -> str:
        """The ultralytics version whose trainer rules this scheduler follows."""
        return self.recipe.rules.version

    def step(self, epoch: float | None = None) -> None:
        """Advance one iteration (``step(ni)`` jumps to iteration ``ni``) and write each group's
        lr and the momentum."""
        with self._lock:
            super().step(epoch)
            if self._momentum_groups:
                m = self._momentum(self._t)
                groups = self.optimizer.param_groups
                for i in self._momentum_groups:
                    cur = groups[i]["momentum"]
                    if isinstance(cur, Tensor):
                        cur.fill_(m)
                    else:
                        groups[i]["momentum"] = m

    def _identity(self) -> dict[str, Any]:
        out = super()._identity()
        out["class"] = "lrkit.torch.UltralyticsLR"
        # everything else that decides the values written: the momentum plan and the groups it drives
        out["momentum"] = fingerprint(self.recipe.momentum)
        out["momentum_groups"] = list(self._momentum_groups)
        return out


def set_optimizer_lr(optimizer: Optimizer, lr_scheduler_func: Callable[[float], float], epoch: float) -> None:
    """Write ``lr_scheduler_func(epoch)`` into every param group (the YOLOX-style companion of ``get_lr_scheduler``).

    The same value goes to every group (an absolute lr, not a multiplier), as in the
    original; a tensor lr is filled in place.

    >>> import torch
    >>> from lrkit.recipes import get_lr_scheduler
    >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    >>> set_optimizer_lr(opt, get_lr_scheduler("cos", 0.01, 0.0001, 300), 3)
    >>> opt.param_groups[0]["lr"]
    0.010000000000000002
    """
    lr = lr_scheduler_func(epoch)
    for g in optimizer.param_groups:
        if isinstance(g["lr"], Tensor):
            g["lr"].fill_(lr)
        else:
            g["lr"] = lr


class CosineAnnealingWarmbootingLR(CawbCounters, _tl.LRScheduler):
    """CAWB: cosine annealing with warm restarts at ``steps``, each restart's peak times ``step_scale``.

    A drop-in for the original class (same arguments, attributes and calls): call
    :meth:`step_batch` before every batch (the linear warmup from 0 over
    ``batchs * warmup_epoch`` batches) and :meth:`step` after every epoch. With
    ``B = [warmup_epoch] + sorted(s in steps, warmup_epoch < s < epochs) + [epochs]``
    and ``t = iters + last_epoch``, ``step()`` writes into each group::

        lr = step_scale ** i * base_lr * lf(t - B[i], gap)     (i: first segment with t <= B[i+1])
        gap = B[i+1] - B[i] (+ epoch_scale except in the last segment)
        lf(x, gap) = ((1 + cos(x * pi / gap)) / 2) * (1 - eta_min) + eta_min   (lf=None)

    ``eta_min`` is a ratio of each group's base lr (its lr when the scheduler is
    built). The values come from :class:`lrkit.recipes.CAWB`, which documents the
    behaviour past ``epochs`` and during warmup. Resume either by setting
    ``last_epoch`` (positions shift by it, as in the original) or with
    :meth:`state_dict` / :meth:`load_state_dict` (plain values). Unlike the original,
    the caller's ``steps`` list is not sorted in place and bad arguments
    (``epochs <= 0``, ``batchs < 0``, ...) raise ``ValueError`` at construction.

    >>> import torch
    >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    >>> sched = CosineAnnealingWarmbootingLR(opt, epochs=150, steps=[50, 100], batchs=4)
    >>> sched.step()
    0.1
    """

    def __init__(
        self,
        optimizer: Optimizer,
        epochs: float = 0,
        eta_min: float = 0.05,
        steps: SequenceT[float] = (),
        step_scale: float = 0.8,
        lf: Callable[[float, float], float] | None = None,
        batchs: int = 0,
        warmup_epoch: float = 0,
        epoch_scale: float = 1.0,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        self._init_counters(epochs, eta_min, steps, step_scale, lf, batchs, warmup_epoch, epoch_scale)
        self.base_lr = base_values("the param groups' lr", [_plain(g["lr"]) for g in optimizer.param_groups])
        for g in optimizer.param_groups:
            g.setdefault("initial_lr", g["lr"])
        _run_eagerly_under_compile(__name__)
        super().__init__(optimizer)
        self.last_epoch = 0  # the original's resume offset, not torch's step counter
        self._last_lr = [_plain(g["lr"]) for g in optimizer.param_groups]

    def _initial_step(self) -> None:
        # The original leaves the lrs alone until the first step_batch() or step().
        self._step_count = 0

    def _write(self, values: list[float]) -> None:
        for g, v in zip(self.optimizer.param_groups, values, strict=True):
            if isinstance(g["lr"], Tensor):
                g["lr"].fill_(v)
            else:
                g["lr"] = v
        self._last_lr = list(values)  # torch declares it list[float | Tensor]: a copy of that type

    # the original's signature (external_iter=, the lr returned), not the base class's
    def step(self, external_iter: int | None = None) -> float:  # pyright: ignore[reportIncompatibleMethodOverride]
        """End of an epoch: advance the epoch counter (or set it to ``external_iter``), write the lrs, return group 0's."""
        scale, factor = self._step_terms(external_iter)
        values = [scale * b * factor for b in self.base_lr]
        self._write(values)
        return values[0]

    def step_batch(self) -> float | None:
        """Before a batch: during warmup write ``base_lr * (k / warmup_iters)`` (``k``-th call) and return group 0's; else None."""
        r = self._next_batch()
        if r is None:
            return None
        values = [b * r for b in self.base_lr]
        self._write(values)
        return values[0]

    # floats, not torch's list[float | Tensor]: this scheduler writes plain numbers (the original's API)
    def get_last_lr(self) -> list[float]:  # pyright: ignore[reportIncompatibleMethodOverride]
        """The lrs written by the last :meth:`step` or :meth:`step_batch` (the groups' lrs before any)."""
        return cast("list[float]", list(self._last_lr))  # plain floats only: __init__ and _write store them

    def state_dict(self) -> dict[str, Any]:
        """Counters (``gap``'s history included), resume offset, base lrs and the lrs in force, as plain values."""
        out = self._counter_state()
        out.update({"base_lr": list(self.base_lr), "last_lr": list(self._last_lr)})
        return out

    def load_state_dict(self, state_dict: dict[str, Any], *, strict: bool = True) -> None:
        """Restore :meth:`state_dict` and write back the lrs that were in force.

        Another scheduler's state, or one saved with other boundaries (``strict=False``
        accepts those), raises ``ValueError`` and changes nothing.
        """
        cawb_state_keys(state_dict)
        bases = base_values("the state's base_lr", state_dict["base_lr"])
        if len(bases) != len(self.optimizer.param_groups):
            raise ValueError(
                f"the state holds {len(bases)} base lrs but the optimizer has "
                f"{len(self.optimizer.param_groups)} param groups"
            )
        last = state_dict.get("last_lr")
        if last is not None:
            last = [_check_real("the state's last_lr", v) for v in last]
            if len(last) != len(bases):
                raise ValueError(f"the state holds {len(last)} lrs in force for {len(bases)} param groups")
        self._restore_counters(state_dict, strict)
        self.base_lr = bases
        if last is not None:
            self._write(last)


# public as lrkit.torch.X (pickles and reprs name them there)
UltralyticsLR.__module__ = CosineAnnealingWarmbootingLR.__module__ = "lrkit.torch"
