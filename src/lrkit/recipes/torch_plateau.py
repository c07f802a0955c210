"""``ReduceLROnPlateau`` on PyTorch, its decisions made by :class:`lrkit.plateau.Plateau`.

:class:`ReduceLROnPlateau` (public as :class:`lrkit.torch.ReduceLROnPlateau`) takes the
signature of ``torch.optim.lr_scheduler.ReduceLROnPlateau`` and its call protocol
(``scheduler.step(metric)`` once per evaluation, ``get_last_lr()``, ``_last_lr``,
``state_dict()`` / ``load_state_dict()``): code written for torch's class changes its import
line only. After every call each param group holds the same learning rate as with torch's
class, to the last bit (the rule: :mod:`lrkit.plateau`, flavor ``torch``).

It *is* a ``torch.optim.lr_scheduler.ReduceLROnPlateau`` (a subclass), so the trainers that
look for that class to pass a metric (PyTorch Lightning, transformers' ``Trainer``) take it.

Its :meth:`~ReduceLROnPlateau.state_dict` has torch's keys and meanings (plus the policy's own
state under ``"lrkit_plateau"``): a state saved by torch's class loads here and resumes
exactly, and torch's class loads this one's.

This module imports torch; ``import lrkit`` does not import it.

>>> import torch
>>> from lrkit.torch import ReduceLROnPlateau
>>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
>>> sched = ReduceLROnPlateau(opt, "min", factor=0.5, patience=1, cooldown=1)
>>> for val_loss in [1.0, 0.9, 0.95, 0.92, 0.97, 0.96, 0.99]:
...     sched.step(val_loss)
>>> sched.get_last_lr(), sched.reductions
([0.025], 2)
"""

from __future__ import annotations

import math
from typing import Any, Literal, SupportsFloat

from torch import Tensor
from torch.optim import Optimizer
from torch.optim import lr_scheduler as _tl

from ..plateau import Plateau

__all__ = ["ReduceLROnPlateau"]

_POLICY_KEY = "lrkit_plateau"


def _lr_of(group: dict) -> float:
    v = group["lr"]
    if type(v) is float:
        return v
    return float(v.item()) if isinstance(v, Tensor) else float(v)


class ReduceLROnPlateau(_tl.ReduceLROnPlateau):
    """Reduce each param group's lr by ``factor`` when ``metric`` stops improving (torch's class).

    Args (torch's, same defaults): ``optimizer``; ``mode`` 'min'/'max'; ``factor`` in [0, 1);
    ``patience`` >= 0; ``threshold`` >= 0; ``threshold_mode`` 'rel'/'abs'; ``cooldown`` >= 0;
    ``min_lr`` one floor or one per param group; ``eps`` >= 0.

    The rule, at each ``step(metric)`` (``min`` mode, ``rel``; see :mod:`lrkit.plateau`)::

        better = metric < best * (1 - threshold)          # best starts at +inf
        best, bad = (metric, 0) if better else (best, bad + 1)
        if cooldown_counter > 0:  cooldown_counter -= 1; bad = 0
        if bad > patience:
            for each group g:  new = max(lr_g * factor, min_lr_g);  if lr_g - new > eps: lr_g = new
            cooldown_counter, bad = cooldown, 0

    The lrs are read from the param groups at each step (so another scheduler or the user may
    move them in between, as with torch's class). Stricter than torch's: a NaN/inf or negative
    parameter raises ``ValueError`` naming it. Differences from torch's class: ``step(metric,
    epoch)`` with an explicit epoch sets ``last_epoch`` without torch's deprecation warning.

    Extra (not in torch's class): :attr:`policy` (the :class:`~lrkit.plateau.Plateau` deciding),
    :attr:`reductions` (how many were decided).

    >>> import torch
    >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    >>> sched = ReduceLROnPlateau(opt, factor=0.5, patience=1)
    >>> for loss in [1.0, 0.9, 0.95, 0.92]:
    ...     sched.step(loss)
    >>> sched.get_last_lr()
    [0.05]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: Literal["min", "max"] = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: Literal["rel", "abs"] = "rel",
        cooldown: int = 0,
        min_lr: list[float] | float = 0,
        eps: float = 1e-8,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)) and len(min_lr) != n:
            raise ValueError(
                f"min_lr has {len(min_lr)} values but the optimizer has {n} param groups (one value, or one per group)"
            )
        lrs = [_lr_of(g) for g in optimizer.param_groups]
        # the policy checks and keeps the configuration (ValueError/TypeError naming the parameter)
        self._policy = Plateau.torch(mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, eps, lr=lrs)
        self.optimizer = optimizer
        self.factor = factor
        if isinstance(min_lr, (list, tuple)):
            self.default_min_lr: float | None = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * n
        self.patience, self.cooldown, self.eps = patience, cooldown, eps
        self.last_epoch = 0
        self._last_lr = list[float | Tensor](lrs)
        self._init_is_better(mode=mode, threshold=threshold, threshold_mode=threshold_mode)
        self._sync_from_policy()

    # -- the policy's counters, mirrored on torch's attribute names -----------------------
    def _sync_from_policy(self) -> None:
        p = self._policy
        self.best = p.best
        self.num_bad_epochs = p.num_bad_epochs
        self.cooldown_counter = p.cooldown_counter

    def _sync_to_policy(self) -> None:
        """Carry torch-named attributes set from outside (a loaded state, a user's edit) into the policy."""
        p = self._policy
        st = p.state_dict()
        best_now: Any = self.best  # a float, or a tensor a user put there
        best = float(best_now)
        st["best"] = (
            "nan" if math.isnan(best) else ("inf" if best == math.inf else "-inf" if best == -math.inf else best)
        )
        st["num_bad_epochs"] = int(self.num_bad_epochs)
        st["cooldown_counter"] = int(self.cooldown_counter)
        p.load_state_dict(st)

    @property
    def policy(self) -> Plateau:
        """The :class:`~lrkit.plateau.Plateau` (flavor ``torch``) that decides the reductions."""
        return self._policy

    @property
    def reductions(self) -> int:
        """How many reductions have been decided so far."""
        return self._policy.reductions

    def _reset(self) -> None:
        self._policy.reset()
        self._sync_from_policy()

    def _regroup(self, n: int) -> None:
        """The optimizer's group count changed (``add_param_group``): torch's rule for ``min_lrs``."""
        if self.default_min_lr is None:
            raise RuntimeError(
                f"The number of param groups in the `optimizer` ({n}) differs from when `ReduceLROnPlateau` "
                f"was initialized ({len(self.min_lrs)}), usually due to a new param group being added to the "
                "optimizer. Please modify the `min_lrs` field to match the length of the `optimizer` param groups."
            )
        self.min_lrs = [self.default_min_lr] * n

    def _rebuild_policy(self) -> None:
        """A policy for the current configuration and group count, keeping the counters."""
        groups = self.optimizer.param_groups
        old = self._policy.state_dict()
        mode: Any = self.mode  # checked by the policy
        self._policy = Plateau.torch(
            mode,
            self.factor,
            self.patience,
            self.threshold,
            self.threshold_mode,
            self.cooldown,
            list(self.min_lrs),
            self.eps,
            lr=[_lr_of(g) for g in groups],
        )
        old["lrs"] = list(self._policy.lrs)
        self._policy.load_state_dict(old)

    def step(self, metrics: SupportsFloat, epoch: int | None = None) -> None:  # type: ignore[override]
        """Observe one metric (a float or a one-element tensor); reduce the lrs when decided."""
        current = float(metrics)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        groups = self.optimizer.param_groups
        policy = self._policy
        if (
            self.best is not policy._best
            or self.num_bad_epochs != policy._bad
            or self.cooldown_counter != policy._cooldown_counter
        ):
            self._sync_to_policy()
            policy = self._policy
        n = len(groups)
        if len(self.min_lrs) != n and self.default_min_lr is None:
            # torch's class fails only when a reduction is decided (in _reduce_lr)
            if policy.observe(current):
                self._sync_from_policy()
                self._regroup(n)
            self._sync_from_policy()
            self._last_lr = [g["lr"] for g in groups]
            return
        if n != len(policy._lrs) or len(self.min_lrs) != n:
            if len(self.min_lrs) != n:
                self._regroup(n)
            self._rebuild_policy()
            policy = self._policy
        policy._observations += 1  # observe(current, lrs=self._lrs_now) by torch's rule, called directly
        if policy._torch_counts(current):
            old = self._lrs_now()
            for g, before, new in zip(groups, old, policy._reduce_now(old)):
                if new != before:
                    cur = g["lr"]
                    if cur.__class__ is not float and isinstance(cur, Tensor):
                        cur.fill_(new)
                    else:
                        g["lr"] = new
        self.best, self.num_bad_epochs, self.cooldown_counter = policy._best, policy._bad, policy._cooldown_counter
        self._last_lr = [g["lr"] for g in groups]

    def _lrs_now(self) -> list[float] | tuple[float, ...]:
        """The groups' lrs now, checked as the policy checks lrs (read only when a reduction needs them)."""
        now = [g["lr"] for g in self.optimizer.param_groups]
        for v in now:
            if v.__class__ is not float or not 0.0 <= v < math.inf:
                break
        else:
            return now
        # a tensor is read as its value; a NaN or negative lr is refused (ValueError naming it)
        self._policy._set_lrs([_lr_of(g) for g in self.optimizer.param_groups])
        return self._policy._lrs

    def _reduce_lr(self, epoch: Any) -> None:  # torch's hook, kept for code that calls it
        groups = self.optimizer.param_groups
        if len(self.min_lrs) != len(groups):
            self._regroup(len(groups))
            self._rebuild_policy()
        old = [_lr_of(g) for g in groups]
        for g, before, new in zip(groups, old, self._policy.reduce(old)):
            if new != before:
                if isinstance(g["lr"], Tensor):
                    g["lr"].fill_(new)
                else:
                    g["lr"] = new

    def state_dict(self) -> dict[str, Any]:
        """torch's state (its keys: ``best``, ``num_bad_epochs``, ``cooldown_counter``, ``last_epoch``,
        ``_last_lr``, the configuration...) plus the policy's state under ``"lrkit_plateau"``."""
        out = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_policy")}
        out["_last_lr"] = [float(v.item()) if isinstance(v, Tensor) else v for v in self._last_lr]
        out[_POLICY_KEY] = self._policy.state_dict()
        return out

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state from :meth:`state_dict` or from torch's ``ReduceLROnPlateau.state_dict()``
        (whose configuration it carries, as torch's class does): the next ``step(metric)``
        continues exactly as the saved scheduler would have."""
        if not isinstance(state_dict, dict) or "num_bad_epochs" not in state_dict or "best" not in state_dict:
            raise ValueError(
                "state_dict must be a ReduceLROnPlateau state (with 'best', 'num_bad_epochs', 'cooldown_counter'), "
                f"got {type(state_dict).__name__} with keys {sorted(state_dict) if isinstance(state_dict, dict) else ''}"
            )
        state = dict(state_dict)
        policy_state = state.pop(_POLICY_KEY, None)
        keep = dict(self.__dict__)
        try:
            self.__dict__.update(state)
            self._init_is_better(mode=self.mode, threshold=self.threshold, threshold_mode=self.threshold_mode)
            self._rebuild_policy()
            if policy_state is not None:
                ps = dict(policy_state)
                ps["lrs"] = list(self._policy.lrs)
                self._policy.load_state_dict(ps)
            self._sync_to_policy()
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(keep)
            raise
        self._sync_from_policy()


ReduceLROnPlateau.__module__ = "lrkit.torch"
