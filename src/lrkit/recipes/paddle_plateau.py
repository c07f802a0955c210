"""``ReduceOnPlateau`` on Paddle, its decisions made by :class:`lrkit.plateau.Plateau`.

:class:`ReduceOnPlateau` (public as :class:`lrkit.paddle.ReduceOnPlateau`) takes the signature
of ``paddle.optimizer.lr.ReduceOnPlateau`` and its protocol (the optimizer holds it as its
``learning_rate``; ``scheduler.step(metrics)`` once per evaluation; ``last_lr``, ``scheduler()``,
``state_dict()`` / ``set_state_dict()``): code written for Paddle's class changes its import
line only. After every call ``last_lr`` is the one of Paddle's class, to the last bit, for
Python-float metrics (the rule: :mod:`lrkit.plateau`, flavor ``paddle``).

It *is* a ``paddle.optimizer.lr.ReduceOnPlateau`` (a subclass). Its state has Paddle's keys
(``cooldown_counter``, ``best``, ``num_bad_epochs``, ``last_epoch``, ``last_lr``) plus the
policy's state under ``"lrkit_plateau"``; a state saved by Paddle's class loads here.

Difference: every metric is taken as a Python float (``float(metrics)``), as torch does; Paddle
keeps a float32 Tensor or array metric as it is and compares it in float32.

This module imports paddle; ``import lrkit`` does not import it.

>>> from lrkit.paddle import ReduceOnPlateau
>>> sched = ReduceOnPlateau(learning_rate=0.1, factor=0.5, patience=1)
>>> for val_loss in [1.0, 0.9, 0.95, 0.92]:
...     sched.step(val_loss)
>>> sched.last_lr, sched()
(0.05, 0.05)
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy
import paddle
from paddle.optimizer import lr as _pl

from ..plateau import Plateau

__all__ = ["ReduceOnPlateau"]

_POLICY_KEY = "lrkit_plateau"
_PADDLE_KEYS = ("cooldown_counter", "best", "num_bad_epochs", "last_epoch", "last_lr")


def _metric(metrics: Any) -> float:
    """Paddle's accepted metric types, as one float (a one-element Tensor or array)."""
    if isinstance(metrics, (paddle.Tensor, numpy.ndarray)):
        if metrics.size != 1:
            raise ValueError(
                f"metrics must hold one value (numel 1), got a {type(metrics).__name__} of size {metrics.size}: "
                "reduce it first (e.g. paddle.mean)"
            )
        value: Any = metrics.item()
        return float(value)
    if isinstance(metrics, bool) or not isinstance(metrics, (int, float, numpy.floating)):
        raise TypeError(
            "metrics must be an int, float, numpy float, a one-element numpy.ndarray or "
            f"paddle.Tensor, got {type(metrics).__name__}"
        )
    return float(metrics)


class ReduceOnPlateau(_pl.ReduceOnPlateau):
    """Paddle's ``ReduceOnPlateau(learning_rate, mode, factor, patience, threshold, threshold_mode,
    cooldown, min_lr, epsilon, verbose)``: reduce the lr by ``factor`` when the metric stops improving.

    The rule, at each ``step(metrics)`` (``min`` mode, ``rel``; see :meth:`lrkit.plateau.Plateau.paddle`)::

        if cooldown_counter > 0:  cooldown_counter -= 1             # the metric is not looked at
        else:
            if best is None or metric < best - best * threshold:  best, bad = metric, 0
            else:  bad += 1
            if bad > patience:
                cooldown_counter, bad = cooldown, 0
                new = max(lr * factor, min_lr);  if lr - new > epsilon: lr = new

    Stricter than Paddle's: a NaN/inf or negative parameter raises ``ValueError`` naming it.
    Extra: :attr:`policy` (the deciding :class:`~lrkit.plateau.Plateau`), :attr:`reductions`.
    """

    def __init__(
        self,
        learning_rate: float,
        mode: Literal["min", "max"] = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: Literal["rel", "abs"] = "rel",
        cooldown: int = 0,
        min_lr: float = 0,
        epsilon: float = 1e-8,
        verbose: bool = False,
    ) -> None:
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, (float, int)):
            raise TypeError(f"learning_rate must be a float, got {type(learning_rate).__name__}")
        # the policy checks the configuration (ValueError/TypeError naming the parameter)
        self._policy = Plateau.paddle(
            learning_rate, mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, epsilon
        )
        super().__init__(
            learning_rate, mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, epsilon, verbose
        )
        self._sync_from_policy()

    def _sync_from_policy(self) -> None:
        p = self._policy
        self.best, self.num_bad_epochs, self.cooldown_counter = p.best, p.num_bad_epochs, p.cooldown_counter
        self.last_lr = p.lrs[0]

    def _policy_state(self) -> dict[str, Any]:
        """The policy's state with the counters and lr taken from Paddle's attributes."""
        st = self._policy.state_dict()
        best = self.best
        if best is not None:
            best = float(best)
            if not math.isfinite(best):
                best = "nan" if math.isnan(best) else ("inf" if best > 0 else "-inf")
        st.update(
            best=best,
            num_bad_epochs=int(self.num_bad_epochs),
            cooldown_counter=int(self.cooldown_counter),
            lrs=[float(self.last_lr)],
        )
        return st

    @property
    def policy(self) -> Plateau:
        """The :class:`~lrkit.plateau.Plateau` (flavor ``paddle``) that decides the reductions."""
        return self._policy

    @property
    def reductions(self) -> int:
        """How many reductions have been decided so far."""
        return self._policy.reductions

    def step(self, metrics: Any, epoch: int | None = None) -> None:  # type: ignore[override]
        """Observe one metric; reduce ``last_lr`` when decided (Paddle's ``step``)."""
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        current = metrics if metrics.__class__ is float else _metric(metrics)
        p = self._policy
        if (
            self.best is not p._best
            or self.num_bad_epochs != p._bad
            or self.cooldown_counter != p._cooldown_counter
            or self.last_lr != p._lrs[0]
        ):
            p.load_state_dict(self._policy_state())  # attributes set from outside (a loaded state, a user)
        p._observations += 1  # p.observe(current) by Paddle's rule, called directly
        if p._observe_paddle(current) and self.verbose:
            print(f"Epoch {self.last_epoch}: {self.__class__.__name__} set learning rate to {p._lrs[0]}.")
        self.best, self.num_bad_epochs, self.cooldown_counter = p._best, p._bad, p._cooldown_counter
        self.last_lr = p._lrs[0]

    def state_keys(self) -> None:
        self.keys = list(_PADDLE_KEYS)

    def state_dict(self) -> dict[str, Any]:  # type: ignore[override]
        """Paddle's keys (``cooldown_counter``, ``best``, ``num_bad_epochs``, ``last_epoch``,
        ``last_lr``) and the policy's state under ``"lrkit_plateau"``."""
        out: dict[str, Any] = {k: getattr(self, k) for k in _PADDLE_KEYS}
        out[_POLICY_KEY] = self._policy_state()
        return out

    def set_state_dict(self, state_dict: dict[str, Any]) -> None:  # type: ignore[override]
        """Load a state from :meth:`state_dict` or from Paddle's ``ReduceOnPlateau.state_dict()``:
        the next ``step(metrics)`` continues as the saved scheduler would have."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict from state_dict(), got {type(state_dict).__name__}")
        missing = [k for k in _PADDLE_KEYS if k not in state_dict]
        if missing:
            raise ValueError(f"state_dict is not a ReduceOnPlateau state: it lacks {', '.join(missing)}")
        keep = {k: getattr(self, k) for k in _PADDLE_KEYS}
        old_policy = self._policy.state_dict()
        try:
            for k in _PADDLE_KEYS:
                v = state_dict[k]
                setattr(self, k, float(v) if isinstance(v, paddle.Tensor) else v)
            if _POLICY_KEY in state_dict:
                self._policy.load_state_dict(dict(state_dict[_POLICY_KEY]))
            self._policy.load_state_dict(self._policy_state())
        except BaseException:
            for k, v in keep.items():
                setattr(self, k, v)
            self._policy.load_state_dict(old_policy)
            raise
        self._sync_from_policy()

    set_dict = set_state_dict


ReduceOnPlateau.__module__ = "lrkit.paddle"
