"""The recipes' drop-ins on Paddle: the PyTorch originals' names and signatures, driven by lrkit.

* :func:`warmup_lr_scheduler` -- torchvision detection's linear warmup;
* :class:`UltralyticsLR` -- ultralytics YOLO's lr and momentum, per iteration;
* :func:`set_optimizer_lr` -- the YOLOX-style companion of :func:`lrkit.recipes.get_lr_scheduler`;
* :class:`CosineAnnealingWarmbootingLR` -- CAWB, with the original's ``step`` / ``step_batch``.

PyTorch gives each param group an absolute lr; Paddle has one global lr and a per-group
multiplier ``m_g`` (``'learning_rate'`` in the group dict). A PyTorch group with lr
``b_g`` is a Paddle group with global lr ``L`` and ``m_g = b_g / L`` (usually ``L`` = the
first group's lr and ``m_0 = 1``). The drop-ins take the optimizer first, built with a
float lr (``L``) as usual, and attach themselves to it (``optimizer.set_lr_scheduler``):
porting is the import line only. Their values come from the recipes' schedules
(:mod:`lrkit.recipes`), written by the Paddle binding (:class:`lrkit.paddle.ScheduleLR`).
Import them from :mod:`lrkit.paddle`, where they are public.

This module imports paddle; ``import lrkit`` does not import it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from collections.abc import Sequence as SequenceT
from typing import Any

from paddle.optimizer import Optimizer
from paddle.optimizer import lr as _pl

from .. import _check
from .._bindutil import base_value, real
from .._paddle_binding import ScheduleLR, _groups_of
from ..core import fingerprint
from ._cawb_dropin import CawbCounters, cawb_state_keys
from .torchvision import torchvision_drop_in
from .ultralytics import CHECKED as ULTRALYTICS_CHECKED
from .ultralytics import TrainerRules, ultralytics_schedules

__all__ = ["warmup_lr_scheduler", "UltralyticsLR", "set_optimizer_lr", "CosineAnnealingWarmbootingLR"]


def _optimizer(name: str, optimizer: Any) -> Optimizer:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{name}: optimizer must be a paddle.optimizer.Optimizer, got {type(optimizer).__name__}")
    return optimizer


def warmup_lr_scheduler(optimizer: Optimizer, warmup_iters: float, warmup_factor: float) -> ScheduleLR:
    """torchvision detection's linear warmup on Paddle: the optimizer's lr times ``m(x)``, ``x`` = steps so far.

    ``m(x) = warmup_factor * (1 - x / warmup_iters) + x / warmup_iters`` for
    ``x < warmup_iters``, then 1 (:class:`lrkit.recipes.TorchvisionWarmup`);
    ``warmup_iters = 0`` means no warmup. The scheduler attaches itself to
    ``optimizer`` (Paddle's optimizer holds one scheduler): the global lr becomes
    ``L * m(x)`` with ``L`` the optimizer's lr when this is called, and each group
    gets ``L * m(x) * m_g`` -- PyTorch's ``base_g * m(x)`` with ``base_g = L * m_g``.
    ``m(0)`` applies from construction; call ``step()`` after each ``optimizer.step()``.

    >>> import paddle
    >>> opt = paddle.optimizer.SGD(learning_rate=0.02, parameters=paddle.nn.Linear(2, 1).parameters())
    >>> sched = warmup_lr_scheduler(opt, warmup_iters=1000, warmup_factor=0.001)
    >>> opt.get_lr()
    2e-05
    """
    opt = _optimizer("warmup_lr_scheduler", optimizer)
    return ScheduleLR(torchvision_drop_in(warmup_iters, warmup_factor), learning_rate=opt.get_lr(), parameters=opt)


class UltralyticsLR(ScheduleLR):
    """ultralytics YOLO's schedule on a Paddle optimizer, stepped once per iteration (batch):
    each param group's lr and the momentum, as :class:`lrkit.torch.UltralyticsLR` sets them
    (same rules, same values; see :mod:`lrkit.recipes.ultralytics`).

    ``optimizer`` is the Paddle optimizer (built with a float ``learning_rate``, the
    trainer's ``lr0``); the scheduler attaches itself to it. Group ``g`` starts from
    ``lr0 * m_g`` (its ``'learning_rate'`` multiplier, 1 by default); the group whose
    ``param_group`` entry is ``"bias"`` (from ultralytics 8.4.3; the first group before)
    starts its warmup at ``warmup_bias_lr``. The momentum (``Momentum``'s, per group when
    the optimizer has param groups) goes from ``warmup_momentum`` to ``momentum``
    (default: the optimizer's) over the warmup. Paddle's momentum kernel reads the momentum
    as a float32 attribute: an update applies the float32 rounding of the value written.

    >>> import paddle
    >>> w, bn, b = (paddle.create_parameter([1], "float32") for _ in range(3))
    >>> opt = paddle.optimizer.Momentum(learning_rate=0.01, momentum=0.937, use_nesterov=True, parameters=[
    ...     {"params": [w], "param_group": "weight"}, {"params": [bn], "param_group": "bn"},
    ...     {"params": [b], "param_group": "bias"}])
    >>> sched = UltralyticsLR(opt, lrf=0.01, epochs=100, batches=500)
    >>> for _ in range(750):
    ...     sched.step()
    >>> [round(v, 6) for v in sched.get_last_lr()], round(opt._param_groups[0]["momentum"], 4)
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
        verbose: bool = False,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a Paddle optimizer (its momentum is driven too), got {optimizer!r}")
        lr0 = getattr(optimizer, "_learning_rate", None)
        if isinstance(lr0, UltralyticsLR):  # built again on the same optimizer: the same lr0
            lr0 = lr0.recipe.settings["lr0"]
        elif isinstance(lr0, _pl.LRScheduler):
            lr0 = getattr(lr0, "base_lr", None)
        if not isinstance(lr0, (int, float)) or isinstance(lr0, bool):
            raise ValueError(f"the optimizer's learning_rate must be a number (ultralytics' lr0), got {lr0!r}")
        raw = getattr(optimizer, "_param_groups", None)
        dict_groups = list(raw) if raw and isinstance(raw[0], dict) else None
        groups = _groups_of(optimizer)
        mults = [
            base_value(f"param group {i} 'learning_rate'", g.get("learning_rate", 1.0)) for i, g in enumerate(groups)
        ]
        # where the momentum lives: each group's dict, else the optimizer's own value
        self._momentum_at = None
        if hasattr(optimizer, "_momentum"):
            self._momentum_at = dict_groups if dict_groups is not None else optimizer
        if momentum is None:
            # the optimizer's own, kept in "initial_momentum" (a scheduler built again on the same
            # optimizer mid-warmup targets the same value)
            holder = dict_groups[0] if dict_groups else optimizer.__dict__
            if self._momentum_at is not None:
                now = dict_groups[0].get("momentum") if dict_groups else None
                own: Any = getattr(optimizer, "_momentum", None)  # there (hasattr above); not in Optimizer's stubs
                holder.setdefault("initial_momentum", float(own if now is None else now))
            momentum_used: float = holder.get("initial_momentum", 0.937)
        else:
            momentum_used = momentum
        lr0 = _check.positive("the optimizer's learning_rate (ultralytics' lr0)", lr0)
        self.recipe = ultralytics_schedules(
            lr0,
            lrf,
            epochs,
            batches,
            warmup_epochs=warmup_epochs,
            warmup_bias_lr=warmup_bias_lr,
            warmup_momentum=warmup_momentum,
            momentum=momentum_used,
            cos_lr=cos_lr,
            version=version,
            lr0s=[lr0 * m for m in mults],
            groups=[g.get("param_group") for g in groups],
        )
        if not self.recipe.warmup_iters:
            self._momentum_at = None  # the trainer leaves the momentum alone without a warmup
        self._momentum = self.recipe.momentum.checked
        super().__init__(
            self.recipe.lr, learning_rate=1.0, parameters=optimizer, last_epoch=last_epoch, verbose=verbose
        )

    def _set_fast_path(self, base: float) -> None:
        super()._set_fast_path(base)
        self._group_bases = [1.0] * len(self._group_bases)  # the schedules hold each group's lr

    def _write_momentum(self) -> None:
        at = getattr(self, "_momentum_at", None)
        if at is None or self._t < 0:
            return
        m = self._momentum(self._t)
        if isinstance(at, list):
            for g in at:
                g["momentum"] = m
        else:
            at._momentum = m

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
        """Advance one iteration (``step(ni)`` jumps to iteration ``ni``): each group's lr and the momentum."""
        with self._lock:
            super().step(epoch)
            self._write_momentum()

    def __call__(self) -> float:
        with self._lock:
            self._write_momentum()
            return super().__call__()

    def _identity(self) -> dict[str, Any]:
        out = super()._identity()
        out["class"] = "lrkit.paddle.UltralyticsLR"
        out["momentum"] = fingerprint(self.recipe.momentum)  # the other plan that decides the values written
        return out

    def __getstate__(self) -> dict[str, Any]:
        # A copy (pickle, deepcopy) keeps the plan, the position and the param groups' lrs. The
        # optimizer itself does not pickle (Paddle keeps a lambda in it): where the momentum is the
        # optimizer's own (no param groups), the copy leaves it alone.
        d = super().__getstate__()
        d.pop("_momentum", None)
        if isinstance(d.get("_momentum_at"), Optimizer):
            d["_momentum_at"] = None
        return d

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._momentum = self.recipe.momentum.checked


def set_optimizer_lr(optimizer: Optimizer, lr_scheduler_func: Callable[[float], float], epoch: float) -> None:
    """Set the optimizer's lr to ``lr_scheduler_func(epoch)`` (the YOLOX-style companion of ``get_lr_scheduler``).

    PyTorch's version writes the same absolute lr into every param group. Paddle's
    optimizer has one global lr: it is set to ``f(epoch)`` (``optimizer.set_lr``), so
    groups without a ``'learning_rate'`` multiplier (the usual case: YOLOX's groups
    differ in weight decay only) get exactly the PyTorch lrs, and a group with
    multiplier ``m_g`` gets ``m_g * f(epoch)``. The optimizer must hold a float lr,
    not a scheduler.

    >>> import paddle
    >>> from lrkit.recipes import get_lr_scheduler
    >>> opt = paddle.optimizer.SGD(learning_rate=1.0, parameters=paddle.nn.Linear(2, 1).parameters())
    >>> set_optimizer_lr(opt, get_lr_scheduler("cos", 0.01, 0.0001, 300), 3)
    >>> opt.get_lr()
    0.010000000000000002
    """
    opt = _optimizer("set_optimizer_lr", optimizer)
    if isinstance(opt._learning_rate, _pl.LRScheduler):
        raise TypeError(
            f"set_optimizer_lr sets a float lr, but this optimizer holds a scheduler "
            f"({type(opt._learning_rate).__name__}); build it with learning_rate=<float>, or drive it "
            "with ScheduleLR(get_lr_scheduler(...)) instead"
        )
    lr = lr_scheduler_func(epoch)
    opt.set_lr(float(lr))


class CosineAnnealingWarmbootingLR(CawbCounters, _pl.LRScheduler):
    """CAWB on Paddle: cosine annealing with warm restarts at ``steps``, each restart's peak times ``step_scale``.

    A drop-in for the PyTorch class (same arguments, attributes and calls): build the
    optimizer with a float lr as before, then this scheduler with it (it attaches
    itself, ``optimizer.set_lr_scheduler``); call :meth:`step_batch` before every batch
    (the linear warmup from 0 over ``batchs * warmup_epoch`` batches) and :meth:`step`
    after every epoch. With ``B = [warmup_epoch] + sorted(s in steps, warmup_epoch <
    s < epochs) + [epochs]`` and ``t = iters + last_epoch``, ``step()`` sets::

        global lr = step_scale ** i * L * lf(t - B[i], gap)     (i: first segment with t <= B[i+1])
        gap = B[i+1] - B[i] (+ epoch_scale except in the last segment)
        lf(x, gap) = ((1 + cos(x * pi / gap)) / 2) * (1 - eta_min) + eta_min   (lf=None)

    ``L`` is the optimizer's lr when the scheduler is built (:attr:`base_lr`, Paddle's
    meaning: one float). PyTorch's per-group base lrs ``b_g`` are Paddle's ``L * m_g``
    (``m_g`` = the group's ``'learning_rate'`` multiplier, see :attr:`base_lrs`): each
    group gets ``global lr * m_g``, the PyTorch value up to rounding (exact for groups
    with ``m_g = 1``). ``eta_min`` is a ratio of the base lr. The values come from
    :class:`lrkit.recipes.CAWB`. Resume by setting ``last_epoch`` (positions shift by
    it, as in the original) or with :meth:`state_dict` / :meth:`set_state_dict`
    (also through ``optimizer.state_dict()``).

    >>> import paddle
    >>> opt = paddle.optimizer.SGD(learning_rate=0.1, parameters=paddle.nn.Linear(2, 1).parameters())
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
        opt = _optimizer("CosineAnnealingWarmbootingLR", optimizer)
        self._init_counters(epochs, eta_min, steps, step_scale, lf, batchs, warmup_epoch, epoch_scale)
        # Paddle's base class is not initialised: its constructor would take a first
        # step, and the original leaves the lr alone until step_batch() or step().
        self.base_lr = base_value("the optimizer's lr", opt.get_lr())
        self.last_lr = self.base_lr
        self.multipliers = [
            base_value(f"param group {i} 'learning_rate'", g.get("learning_rate", 1.0))
            for i, g in enumerate(_groups_of(opt))
        ]
        self.last_epoch = 0  # the original's resume offset, not a step counter
        self.verbose = False
        self._var_name = None
        opt.set_lr_scheduler(self)

    @property
    def base_lrs(self) -> list[float]:
        """Each group's base lr (PyTorch's ``base_lr`` list): ``base_lr * m_g``."""
        return [self.base_lr * mg for mg in self.multipliers]

    # the original's signature (external_iter=, the lr returned), not the base class's
    def step(self, external_iter: int | None = None) -> float:  # pyright: ignore[reportIncompatibleMethodOverride]
        """End of an epoch: advance the epoch counter (or set it to ``external_iter``); return group 0's lr."""
        scale, factor = self._step_terms(external_iter)
        self.last_lr = scale * self.base_lr * factor
        return self.get_last_lr()[0]

    def step_batch(self) -> float | None:
        """Before a batch: during warmup set ``base_lr * (k / warmup_iters)`` (``k``-th call), return group 0's; else None."""
        factor = self._next_batch()
        if factor is None:
            return None
        self.last_lr = self.base_lr * factor
        return self.get_last_lr()[0]

    def get_lr(self) -> float:
        return self.last_lr

    def get_last_lr(self) -> list[float]:
        """The lr of each group now: ``global lr * m_g``."""
        v = self.last_lr
        return [v if mg == 1.0 else v * mg for mg in self.multipliers]

    def state_keys(self) -> None:
        self.keys = ["iters", "iters_batch", "last_epoch", "base_lr", "last_lr"]

    # Paddle's stubs declare a TypedDict of two keys; the state is a plain dict (as Paddle's own
    # schedulers return at run time) with the counters' keys besides
    def state_dict(self) -> dict[str, Any]:  # pyright: ignore[reportIncompatibleMethodOverride]
        """Counters (``gap``'s history included), resume offset, base lr and the lr in force, as plain values."""
        out = self._counter_state()
        out.update({"base_lr": self.base_lr, "last_lr": self.last_lr})
        return out

    def set_state_dict(self, state_dict: Mapping[str, Any], *, strict: bool = True) -> None:
        """Restore :meth:`state_dict` (the lr in force included); another scheduler's state, or
        one saved with other boundaries (``strict=False`` accepts those), raises ``ValueError``."""
        cawb_state_keys(state_dict)
        base = base_value("the state's base_lr", state_dict["base_lr"])
        last = real("the state's last_lr", state_dict.get("last_lr", base))
        self._restore_counters(state_dict, strict)
        self.base_lr, self.last_lr = base, last

    set_dict = set_state_dict
    load_state_dict = set_state_dict


# public as lrkit.paddle.X (pickles and reprs name them there)
UltralyticsLR.__module__ = CosineAnnealingWarmbootingLR.__module__ = "lrkit.paddle"
