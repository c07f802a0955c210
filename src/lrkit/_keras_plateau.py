"""Keras 3: a plan with reduce-on-plateau (re-exported by :mod:`lrkit.keras`).

:class:`PlateauScheduleLR` is a Keras ``LearningRateSchedule``: a plan (a
:class:`~lrkit.keras.ScheduleLR`) that a :class:`lrkit.plateau.Plateau` policy scales; :class:`PlateauCallback` feeds the policy the
monitored metric at the end of every epoch of ``model.fit``::

    lr = PlateauScheduleLR(lrkit.WarmupCosine(1e-3, 10_000, 500), Plateau.keras(patience=3))
    model.compile(optimizer=keras.optimizers.AdamW(lr), ...)
    model.fit(..., callbacks=[PlateauCallback()])          # monitor: the policy's, or val_loss

The learning rate at iteration ``t`` is::

    lr(t) = plan(t)                      before the first reduction
    lr(t) = max(plan(t) * m, floor)      from it on

where ``m`` starts at 1 and, when the policy decides a reduction that lowers the learning rate
(the policy's rule applied to ``lr`` now), becomes ``m * factor`` (rounded to ``floatx``, as
Keras stores a learning rate); ``floor`` is the policy's ``min_lr``. (For the optax flavor
``m`` is the policy's own scale, floored at its ``min_scale``, and there is no lr floor.) So
a reduction decided at iteration ``p`` scales the rest of the plan from ``p`` on, as the torch
and Paddle bindings' ``ScheduleLR(..., plateau=...)`` do. ``m`` and the floor are
non-trainable variables the compiled train step reads: a reduction changes their values, not
the compiled step (no retracing).

The policy's state, ``m`` and the reductions so far are in the schedule's config, which
``model.save`` writes into the ``.keras`` file: ``keras.models.load_model`` restores them,
and a resumed ``fit`` goes on exactly (mid-patience, mid-cooldown). :meth:`PlateauScheduleLR.realised`
is the schedule followed so far, an ordinary lrkit schedule.

With a constant plan and ``Plateau.keras(...)``, the learning rates are those of Keras'
``ReduceLROnPlateau`` callback (for a plan value that is a power of two, bit for bit; else
Keras rounds ``lr * factor`` to float32 at each reduction where this rounds ``plan * m``
once: within a float32 rounding).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import keras
import numpy as np
from keras import ops

from . import _check
from ._plateau_run import history as _history
from ._plateau_run import realised
from .core import Schedule
from .plateau import Plateau

__all__ = ["PlateauScheduleLR", "PlateauCallback"]

_FIELDS = ("plan", "policy", "state", "scale", "history")


def _host(x: Any) -> float:
    """A backend scalar tensor (or variable) as a Python float."""
    x = ops.convert_to_tensor(x)
    if keras.backend.backend() == "torch":  # through numpy without torch's __array__ warning
        return float(x.detach().cpu().numpy())  # pyright: ignore[reportOptionalMemberAccess, reportAttributeAccessIssue]
    return float(np.asarray(ops.convert_to_numpy(x)))


def _plan_lr(schedule: Any, total_steps: int | None, method: str) -> Any:
    """``schedule`` as lrkit's Keras ``ScheduleLR`` (an lrkit schedule or its config is wrapped;
    a ``ScheduleLR`` is kept)."""
    cls = keras.saving.get_registered_object("lrkit>ScheduleLR")
    if cls is None:  # registered by lrkit.keras, which imports this module
        raise RuntimeError("import lrkit.keras first (it registers ScheduleLR with Keras)")
    if isinstance(schedule, cls):
        if total_steps is not None or method != "auto":
            raise ValueError("total_steps and method are the ScheduleLR's: pass them to it, not here")
        return schedule
    if isinstance(schedule, (Schedule, Mapping)):
        return cls(schedule, total_steps, method)
    raise TypeError(
        f"schedule must be an lrkit schedule, its config or an lrkit.keras.ScheduleLR, got "
        f"{_check.show(schedule)} ({type(schedule).__name__})"
    )


def _policy(policy: Any) -> Plateau:
    if isinstance(policy, Mapping):
        policy = Plateau.from_dict(dict(policy))
    if not isinstance(policy, Plateau):
        raise TypeError(
            f"policy must be an lrkit.plateau.Plateau (or its to_dict()), got {_check.show(policy)} "
            f"({type(policy).__name__})"
        )
    if policy.flavor == "timm":
        raise ValueError(
            "policy: the timm flavor drives its own warmup; use Plateau.keras, Plateau.torch, "
            "Plateau.optax, Plateau.paddle or Plateau.mmengine with a plan"
        )
    if len(policy.lrs) != 1:
        raise ValueError(f"policy must have one group (one learning rate), got {len(policy.lrs)}")
    return policy


@keras.saving.register_keras_serializable(package="lrkit")
class PlateauScheduleLR(keras.optimizers.schedules.LearningRateSchedule):
    """``lr(t) = max(plan(t) * m, floor)`` (the plan alone before the first reduction): a plan scaled
    by the reductions a plateau policy decides
    (see the module docstring); :class:`PlateauCallback` observes the metrics.

    ``schedule``, ``total_steps``, ``method``: the plan, as for :class:`~lrkit.keras.ScheduleLR`
    (or a ``ScheduleLR``, evaluated as it says).
    ``policy``: a :class:`~lrkit.plateau.Plateau` of one group (any flavor but timm; its ``lr``
    is not used: the policy is shown the learning rate the optimizer applies now). The
    policy object is kept (not copied): its state is the run's.
    """

    def __init__(
        self, schedule: Any, policy: Plateau | Mapping[str, Any], total_steps: int | None = None, method: str = "auto"
    ) -> None:
        super().__init__()
        self._plan_lr = _plan_lr(schedule, total_steps, method)
        self._policy = _policy(policy)
        self._scale = keras.Variable(
            1.0,
            dtype=keras.config.floatx(),
            trainable=False,
            name="lrkit_plateau_scale",
            aggregation="only_first_replica",
        )
        # the floor applies from the first reduction on (before it the plan runs as it is)
        self._floor = keras.Variable(
            0.0,
            dtype=keras.config.floatx(),
            trainable=False,
            name="lrkit_plateau_floor",
            aggregation="only_first_replica",
        )
        self._changes: list[tuple[int, float]] = []

    @property
    def schedule(self) -> Schedule:
        """The plan (an lrkit schedule)."""
        return self._plan_lr.schedule

    @property
    def plan_lr(self) -> Any:
        """The plan as a ``ScheduleLR`` (``plan(t)``, unscaled)."""
        return self._plan_lr

    @property
    def policy(self) -> Plateau:
        """The plateau policy (its state is the run's)."""
        return self._policy

    @property
    def variables(self) -> list[Any]:
        """The variables the compiled step reads: ``m`` and the floor (0 until the first reduction)."""
        return [self._scale, self._floor]

    @property
    def scale(self) -> float:
        """``m`` now."""
        return _host(self._scale)

    @property
    def floor(self) -> float:
        """The learning-rate floor: the policy's ``min_lr`` (0 for the optax flavor, which floors ``m``)."""
        return 0.0 if self._policy.flavor == "optax" else self._policy.min_lrs[0]

    @property
    def history(self) -> list[tuple[int, float]]:
        """``[(iteration, m), ...]``: where ``m`` changed and its new value."""
        return list(self._changes)

    def realised(self) -> Schedule:
        """The schedule followed so far as an lrkit schedule: the plan, then ``max(plan(t) * m_i,
        floor)`` from each change ``(p_i, m_i)`` of :attr:`history` (a ``Sequence`` of pieces)."""
        return realised(self.schedule, self._changes, self.floor)

    def __call__(self, step: Any) -> Any:
        v = self._plan_lr(step)
        out = v * ops.cast(self._scale, v.dtype)
        if self.floor > 0:  # max(out, floor), by a comparison (Keras' maximum on torch is float32)
            floor = ops.cast(self._floor, v.dtype)
            out = ops.where(ops.less(out, floor), floor, out)
        return out

    def observe(self, metric: Any, iteration: int) -> bool:
        """Show the policy ``metric`` at ``iteration`` (the updates done); True when it decides a
        reduction, which then applies from ``iteration`` on."""
        if isinstance(iteration, bool) or not isinstance(iteration, (int, np.integer)) or iteration < 0:
            raise ValueError(f"iteration must be an integer >= 0, got {_check.show(iteration)}")
        p, m = self._policy, self.scale
        if p.flavor == "optax":
            decided = p.observe(metric)
            new = p.scale
        else:
            now = _host(self(ops.convert_to_tensor(int(iteration))))  # what the optimizer applies
            decided = p.observe(metric, lrs=[now])
            # m changes only when the policy reduced the lr (a group at its floor keeps its m)
            new = m * p.factor if decided and p.lrs[0] != now else m
        if new != m:
            self._scale.assign(new)
            self._floor.assign(self.floor)
            self._changes.append((int(iteration), self.scale))
        return decided

    def get_config(self) -> dict[str, Any]:
        cfg = dict(
            plan=keras.saving.serialize_keras_object(self._plan_lr),
            policy=self._policy.to_dict(),
            state=self._policy.state_dict(),
            scale=self.scale,
            history=[list(c) for c in self._changes],
        )
        return json.loads(json.dumps(cfg))

    @classmethod
    def from_config(cls, config: Any) -> PlateauScheduleLR:
        """A ``PlateauScheduleLR`` from :meth:`get_config`'s dict (a ``.keras`` file's), every field checked."""
        where = "PlateauScheduleLR config"
        if not isinstance(config, Mapping):
            raise ValueError(
                f"{where} must be a mapping with the fields {', '.join(_FIELDS)}, got {_check.show(config)}"
            )
        if set(config) != set(_FIELDS):
            raise ValueError(f"{where} must have the fields {', '.join(_FIELDS)}, got {', '.join(map(str, config))}")
        plan = keras.saving.deserialize_keras_object(config["plan"])
        try:
            out = cls(plan, config["policy"])
            out._policy.load_state_dict(dict(config["state"]))
            changes = _history(config["history"])
        except (TypeError, ValueError) as e:
            raise ValueError(f"{where}: {e}") from None
        scale = config["scale"]
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not np.isfinite(scale) or scale < 0:
            raise ValueError(f"{where}: the field 'scale' must be a finite number >= 0, got {_check.show(scale)}")
        out._scale.assign(float(scale))
        out._changes = changes
        if changes:
            out._floor.assign(out.floor)
        return out

    def __repr__(self) -> str:
        return f"PlateauScheduleLR({self._plan_lr!r}, {self._policy!r})  # m = {self.scale!r}"


class PlateauCallback(keras.callbacks.Callback):
    """Feeds the monitored metric of each epoch to the optimizer's :class:`PlateauScheduleLR`.

    ``monitor``: the log key (default: the Keras flavor's ``monitor``, else ``"val_loss"``); an
    epoch without it is not observed. ``reset_on_train_begin``: forget the best value and the
    counters at each ``fit`` as Keras' ``ReduceLROnPlateau`` does (default False: a resumed fit
    goes on where the policy was).

    During an epoch the scale variable is among the optimizer's variables (the jax backend's
    compiled step takes its state from them); between epochs it is not, so a model saved at an
    epoch's end (after this callback: list it before a ``ModelCheckpoint``) loads into a fresh
    optimizer. Returns nothing; :attr:`decisions` lists the epochs that decided a reduction.
    """

    def __init__(self, monitor: str | None = None, *, reset_on_train_begin: bool = False) -> None:
        super().__init__()
        if monitor is not None and not isinstance(monitor, str):
            raise TypeError(f"monitor must be a str or None, got {_check.show(monitor)}")
        if not isinstance(reset_on_train_begin, bool):
            raise TypeError(f"reset_on_train_begin must be True or False, got {_check.show(reset_on_train_begin)}")
        self.monitor_arg, self.reset_on_train_begin = monitor, reset_on_train_begin
        self.decisions: list[int] = []

    def _schedule(self) -> PlateauScheduleLR:
        opt = getattr(self.model, "optimizer", None)
        lr = getattr(opt, "_learning_rate", None)
        if not isinstance(lr, PlateauScheduleLR):
            raise TypeError(
                "PlateauCallback: the model's optimizer must have learning_rate=PlateauScheduleLR(...), "
                f"got {type(lr).__name__}"
            )
        return lr

    @property
    def monitor(self) -> str:
        if self.monitor_arg is not None:
            return self.monitor_arg
        d = self._schedule().policy.to_dict()
        return str(d.get("monitor", "val_loss")) if d["flavor"] == "keras" else "val_loss"

    def _attach(self, on: bool) -> None:
        opt: Any = getattr(self.model, "optimizer", None)
        held = opt._variables  # the list optimizer.variables copies
        for var in self._schedule().variables:
            there = any(v is var for v in held)
            if on and not there:
                opt._track_variable(var)
            elif not on and there:
                held[:] = [v for v in held if v is not var]

    def on_train_begin(self, logs: Any = None) -> None:
        if self.reset_on_train_begin:
            self._schedule().policy.reset()

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self._attach(True)

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        sched = self._schedule()
        value = (logs or {}).get(self.monitor)
        if value is not None:
            opt: Any = getattr(self.model, "optimizer", None)
            it = int(_host(opt.iterations))
            if sched.observe(float(value), it):
                self.decisions.append(epoch)
        self._attach(False)

    def on_train_end(self, logs: Any = None) -> None:
        self._attach(False)
