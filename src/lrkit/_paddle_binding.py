"""PaddlePaddle binding: the scheduler class that drives a Paddle optimizer's lr.

:class:`ScheduleLR` (public as :class:`lrkit.paddle.ScheduleLR`) is a real
``paddle.optimizer.lr.LRScheduler`` whose whole state is a step counter and base values:
each ``step()`` evaluates the closed-form schedule at the new position. No schedule math
and no conversion live here: the conversion of Paddle's schedulers is
:mod:`lrkit.convert.paddle`, the recipes' drop-ins built on this class are
:mod:`lrkit.recipes.paddle_dropins`, and :mod:`lrkit.paddle` gathers the public names.

This module imports paddle; ``import lrkit`` does not import it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from collections.abc import Sequence as SequenceT
from typing import TYPE_CHECKING, Any

import paddle
from paddle.optimizer import Optimizer
from paddle.optimizer import lr as _pl

from ._binding import PositionCounter
from ._bindutil import (
    base_value,
    base_values,
    check_group_count,
    check_identity,
    check_intent,
    check_last_epoch,
    check_saved,
    per_step,
    same_steps_per_epoch,
    schedule_tuple,
)
from .core import Schedule, fingerprint
from .replan import apply_ops, loaded_ops, prepared

if TYPE_CHECKING:
    from .plateau import Plateau

__all__ = ["ScheduleLR"]

_INF = float("inf")


def _groups_of(parameters: Any) -> list[dict]:
    """The param groups (dicts with ``'params'``) of an optimizer, a list of groups or a list of parameters."""
    if isinstance(parameters, Optimizer):
        groups = getattr(parameters, "_param_groups", None)
        if not groups or not isinstance(groups[0], dict):
            # an optimizer built from a plain parameter list keeps no dicts: one group
            params = groups or parameters._parameter_list
            if params is None:  # a static-graph optimizer built without parameters
                raise TypeError(
                    f"parameters: the optimizer {parameters!r} holds no parameter list; give the parameters"
                )
            return [{"params": list(params)}]
        return list(groups)
    if isinstance(parameters, (str, bytes, dict)) or not hasattr(parameters, "__iter__"):
        raise TypeError(
            f"parameters must be a Paddle optimizer, a list of param groups (dicts with 'params') "
            f"or a list of parameters, got {parameters!r}"
        )
    items = list(parameters)
    if items and all(isinstance(g, dict) for g in items):
        for i, g in enumerate(items):
            if "params" not in g:
                raise ValueError(f"param group {i} has no 'params' entry (it has: {', '.join(sorted(g))})")
        return items
    if any(isinstance(g, dict) for g in items):
        raise TypeError("parameters mixes param groups (dicts) and parameters; give one kind")
    return [{"params": items}]


def _params(group: dict) -> list:
    p = group["params"]
    return [p] if isinstance(p, paddle.Tensor) else list(p)


class ScheduleLR(PositionCounter, _pl.LRScheduler):
    """A Paddle LR scheduler driven by an lrkit schedule: ``global lr = learning_rate * schedule(t)``.

    ``t`` counts the calls to :meth:`step` (``t = 0`` right after construction, as
    with Paddle's own schedulers). Use it as ``learning_rate=`` of any Paddle
    optimizer. Param groups with a ``'learning_rate'`` multiplier ``m_g`` get Paddle's
    usual ``global lr * m_g``.

    **One schedule per group**: give a list of schedules and ``parameters`` (the
    param groups, the same list the optimizer gets, or the optimizer itself). Then
    group ``g`` gets ``learning_rate * m_g * schedule[g](t)``, computed in one
    product and written into each of its parameters' multiplier
    (``param.optimize_attr['learning_rate']``) right before each optimizer update,
    while the global lr is held at 1.0. That is exact (``1.0 * x == x``) and never
    divides by a global value that may be 0; ``optimizer.get_lr()`` then reads 1.0,
    :meth:`get_last_lr` reads the per-group values. Per-group schedules need
    Paddle's dynamic graph (the default mode).

    Args:
        schedule: an lrkit :class:`~lrkit.Schedule`, or a list of them (one per group).
        learning_rate: the base the schedule multiplies (Paddle's ``base_lr``). Default
            1.0, so the schedule's values are the learning rates; when
            ``parameters`` is an optimizer built with a float lr, that lr.
        parameters: the param groups (needed for per-group schedules), or an
            optimizer: the scheduler then attaches itself to it
            (``optimizer.set_lr_scheduler``).
        steps_per_epoch: the schedule is defined in epochs but :meth:`step` is called
            every iteration: position ``t`` is evaluated as epoch ``t / steps_per_epoch``.
        last_epoch: Paddle's resume argument (``-1`` for a fresh run); prefer
            :meth:`set_state_dict`.
        verbose: print each new lr, as Paddle's schedulers do.
        plateau: a :class:`~lrkit.plateau.Plateau` policy on the plan (the global lr, or
            each group's in per-group mode): :meth:`observe` a metric and each reduction
            scales the rest of the plan, ``lr(t) = base * max(plan(t) * m, min_lr / base)``
            (see :mod:`lrkit._plateau_plan`); a torch ScheduleLR state with the same plan
            loads here (one group into the global lr, G groups into G per-group schedules).

    :meth:`state_dict` (also inside ``optimizer.state_dict()['LR_Scheduler']``) holds
    the position and the base values, plain Python values only; after
    :meth:`set_state_dict` the following lrs are exactly those of an uninterrupted run.

    Paddle keeps the global lr in a tensor of the dtype of the optimizer's first
    parameter (float32 for a float32 model, float64 for a float64 one; float32 for
    float16/bfloat16 parameters; the default dtype only when the optimizer has no
    parameters) and multiplies it by a group's multiplier in that dtype: the lr an
    update applies is the float64 value rounded there.

    >>> import lrkit
    >>> s = ScheduleLR(lrkit.Linear(peak_lr=1.0, total_steps=10), learning_rate=0.5)
    >>> s.step(); s()
    0.45
    """

    by_epoch: bool  # set by lrkit.paddle.scheduler_from_ppcls only: PaddleClas's engine reads it

    def __init__(
        self,
        schedule: Schedule | SequenceT[Schedule],
        *,
        learning_rate: float | None = None,
        parameters: Any = None,
        steps_per_epoch: float | None = None,
        last_epoch: int = -1,
        verbose: bool = False,
        plateau: Plateau | None = None,
    ) -> None:
        optimizer = parameters if isinstance(parameters, Optimizer) else None
        groups = None if parameters is None else _groups_of(parameters)
        schedules, per_group = schedule_tuple(schedule)
        if per_group:
            if groups is None:
                raise ValueError(
                    "one schedule per group needs parameters= (the param groups given to the "
                    "optimizer, or the optimizer)"
                )
            check_group_count(schedules, len(groups))
        self._plan = schedules  # as given (before per_step): what a saved state is checked against
        schedules = per_step(schedules, steps_per_epoch)
        if learning_rate is None:
            own = getattr(optimizer, "_learning_rate", None) if optimizer is not None else None
            learning_rate = own if isinstance(own, float) else 1.0
        base = base_value("learning_rate", learning_rate)
        check_last_epoch(last_epoch)

        self._schedules = schedules
        self._planned = schedules  # before any re-plan (see replan)
        self._replans: list[dict[str, Any]] = []
        self._per_group = per_group
        self._steps_per_epoch = steps_per_epoch
        # (per-group mode only; empty otherwise)
        self._group_params: list[list[Any]] = [_params(g) for g in groups] if groups is not None else []
        # a group's own 'learning_rate' multiplier, read once (the optimizer copies it
        # into each parameter, where per-group mode later writes its values)
        self._multipliers = (
            [base_value(f"param group {i} 'learning_rate'", g.get("learning_rate", 1.0)) for i, g in enumerate(groups)]
            if groups is not None
            else None
        )
        self._t = -1.0
        self._lock = threading.RLock()
        if last_epoch == -1:
            bases = [base * m for m in self._multipliers] if self._multipliers else [base]
            check_intent(
                schedules,
                bases,
                multiplier=True,
                who="ScheduleLR",
                absolute_hint="leave learning_rate at 1.0 (the schedule's values are then the lr)",
            )
        self._set_fast_path(base)
        self._plateau: Any = None
        super().__init__(1.0 if per_group else base, last_epoch, verbose)
        self.base_lr = base
        if plateau is not None:  # see lrkit._plateau_plan for the formula
            from ._plateau_plan import PlanPlateau

            self._plateau = PlanPlateau(plateau, self._plateau_values(), self._plateau_bases())
        if optimizer is not None:
            optimizer.set_lr_scheduler(self)

    def _set_fast_path(self, base: float) -> None:
        # step() is a counter increment and one schedule call (global mode)
        self._base = base
        self._fn = None if self._per_group else self._schedules[0].checked
        self._fns = tuple(s.checked for s in self._schedules)
        # per-group mode only (it always knows the groups); empty otherwise
        self._group_bases: list[float] = (
            [base * mg for mg in self._multipliers] if self._per_group and self._multipliers is not None else []
        )

    # -- Paddle's LRScheduler protocol --------------------------------------------------
    def step(self, epoch: float | None = None) -> None:
        """Advance one position; ``step(t)`` jumps to position ``t``. Call it after ``optimizer.step()``.

        Steps from several threads are taken one at a time: none is lost."""
        with self._lock:
            if epoch is None:
                t = self._t + 1.0
            else:
                t = self._position(epoch)
            fn = self._fn
            if fn is not None:
                v = self._base * fn(t)  # raises before anything changes: a failed step changes nothing
                if not v < _INF:
                    raise ValueError(
                        f"the value at position {t!r} times learning_rate {self._base!r} overflows float64"
                    )
                self.last_lr = v
            else:
                self.values(t)  # per group: checked now, written by __call__ before the update
            self._t = t
        if self.verbose:
            print(f"Epoch {self.last_epoch}: {type(self).__name__} set learning rate to {self.get_last_lr()}.")

    def __call__(self) -> float:
        """The global lr for the coming update (the optimizer reads it before every update).

        In per-group mode this also writes each group's value into its parameters'
        multipliers, so they are right whatever happened since (the optimizer's
        constructor resetting them, a checkpoint load).
        """
        if self._per_group:
            t = self._t
            for params, b, f in zip(self._group_params, self._group_bases, self._fns):
                v = b * f(t)
                for p in params:
                    p.optimize_attr["learning_rate"] = v
            return 1.0
        return self.last_lr

    def get_lr(self) -> float:
        return self.last_lr

    def values(self, t: float | None = None) -> list[float]:
        """The lr each group gets at position ``t`` (default: the current one), in float64.

        Global mode: ``learning_rate * schedule(t) * m_g`` (one value if the groups are
        unknown); per-group mode: ``learning_rate * m_g * schedule[g](t)``.
        """
        t = self._t if t is None else self._position(t)
        if t < 0:
            raise RuntimeError("the scheduler has not made its first step yet")
        if self._per_group:
            return [b * f(t) for b, f in zip(self._group_bases, self._fns)]
        v = self._base * self._fns[0](t)
        if self._multipliers is None:
            return [v]
        return [v if mg == 1.0 else v * mg for mg in self._multipliers]

    def get_last_lr(self) -> list[float]:
        """The lr each param group gets from the current position, one float per group."""
        return self.values()

    @property
    def schedules(self) -> tuple[Schedule, ...]:
        """The schedules driving the lr (one, or one per group), as evaluated per step."""
        return self._built()

    def _built(self) -> tuple[Schedule, ...]:
        """The schedules, with the plateau's reductions (applied at once, built on demand) built."""
        if self._plateau is None:
            return self._schedules
        from ._plateau_plan import built

        return built(self._schedules)

    def replan(
        self,
        *,
        at: float | None = None,
        total_steps: float | None = None,
        cooldown: float | None = None,
        min_lr: float | None = None,
        shape: str | None = None,
        tail: Schedule | None = None,
        jump: bool | None = None,
        keep_warmup: bool | None = None,
    ) -> None:
        """Change the rest of the run from position ``at`` (default: now), as
        :meth:`lrkit.torch.ScheduleLR.replan` does: a new length, a cooldown from the current
        value, or a new tail (:func:`lrkit.replan.replan` on every schedule; ``keep_warmup``
        as there). Recorded in
        :meth:`state_dict`; to re-plan from an older checkpoint, load it first."""
        new, record = prepared(
            max(self._t, 0.0),
            self._built(),
            at,
            total_steps=total_steps,
            cooldown=cooldown,
            min_lr=min_lr,
            shape=shape,
            tail=tail,
            jump=jump,
            keep_warmup=keep_warmup,
        )
        with self._lock:
            # checked whole (the values at the current position too), then applied whole
            old = self._schedules
            self._schedules = new
            self._set_fast_path(self._base)
            try:
                if self._t >= 0:
                    self.step(self._t)
            except BaseException:
                self._schedules = old
                self._set_fast_path(self._base)
                raise
            self._replans.append(record)

    # -- a plateau policy on the plan (lrkit._plateau_plan) -------------------------------
    def _plateau_bases(self) -> list[float]:
        return list(self._group_bases) if self._per_group else [self._base]

    def _plateau_values(self) -> list[float]:
        """The lrs the plateau policy sees: the global lr, or each group's in per-group mode."""
        return self.values() if self._per_group else [self._base * self._fns[0](self._t)]

    def observe(self, metric: Any) -> bool:
        """Give a metric to the ``plateau`` policy; True when it reduces the rest of the plan from
        the current position (``lr(t) = base * max(plan(t) * m, min_lr / base)``, see
        :mod:`lrkit._plateau_plan`). Call it whenever a metric is available; keep calling
        :meth:`step` once per update."""
        if self._plateau is None:
            raise RuntimeError(
                "observe(metric) needs a plateau policy: ScheduleLR(..., plateau=lrkit.plateau.Plateau(...))"
            )
        with self._lock:
            new = self._plateau.observe(metric, self._t, self._plateau_values, self._schedules, len(self._replans))
            if new is None:
                return False
            self._schedules = new
            self._fns = tuple(s.checked for s in new)
            if not self._per_group and not self.verbose:  # step(self._t) of the global lr, quietly
                fn = self._fn = new[0].checked
                v = self._base * fn(self._t)
                if v < _INF:
                    self.last_lr = v
                    return True
            self._set_fast_path(self._base)
            self.step(self._t)
            return True

    def realised(self) -> list[Schedule]:
        """The lr as it went (the plan, its re-plans and the plateau's reductions so far) as
        ordinary lrkit schedules: the global lr's (one), or each group's in per-group mode."""
        from ._plateau_plan import realised

        bases = self._plateau_bases()
        return realised(self._built(), bases, len(bases))

    def explain(self, lang: str = "en") -> str:
        """:meth:`realised` in words (:func:`lrkit.explain`, ``lang`` "en" or "zh"), then each
        plateau reduction: its factor, step and reason."""
        from ._plateau_plan import explain_run

        if self._plateau is None:
            raise RuntimeError(
                "explain() tells a plateau policy's reductions: ScheduleLR(..., plateau=lrkit.plateau.Plateau(...))"
            )
        return explain_run(self._plateau, self.realised(), lang)

    # -- checkpoints ---------------------------------------------------------------------
    def state_keys(self) -> None:
        self.keys = ["last_epoch", "last_lr", "base_lr"]

    def _identity(self) -> dict[str, Any]:
        """What a saved state must match to be this scheduler's (see :meth:`set_state_dict`)."""
        return {
            "class": "lrkit.paddle.ScheduleLR",
            "per_group": self._per_group,
            "schedules": [fingerprint(s) for s in self._plan],
            "base_lr": self._base,
            "multipliers": None if self._multipliers is None else list(self._multipliers),
        }

    # Paddle's stubs declare a TypedDict of two keys; the state is a plain dict (as Paddle's own
    # schedulers return at run time) with more keys: what the plan is, the re-plans
    def state_dict(self) -> dict[str, Any]:  # pyright: ignore[reportIncompatibleMethodOverride]
        """The resumable state, plain Python values only: position, base values, ``steps_per_epoch``
        and what the state belongs to (class, per-group setting, the schedules' configs)."""
        spe = self._steps_per_epoch
        out = self._identity()
        out.update(
            {
                "last_epoch": self.last_epoch,
                "last_lr": self.last_lr,
                "steps_per_epoch": None if spe is None else float(spe),
                "replans": [dict(op) for op in self._replans],
            }
        )
        if self._plateau is not None:
            out["plateau"] = self._plateau.state_dict()
        return out

    def set_state_dict(self, state_dict: Mapping[str, Any], *, strict: bool = True) -> None:
        """Restore :meth:`state_dict`: the lr is recomputed from the schedule at the saved position.

        The state must be this class's for the same plan: the same schedules, per-group
        setting, ``learning_rate`` and group multipliers, else ``ValueError`` says what
        differs; ``strict=False`` loads the position anyway and this scheduler's own plan
        applies from there (a re-planned run). A state saved with another
        ``steps_per_epoch`` is refused either way (its position counts other steps).
        """
        with self._lock:
            self._load(state_dict, strict)

    def _load(self, state_dict: Mapping[str, Any], strict: bool) -> None:
        if not isinstance(state_dict, dict) or "last_epoch" not in state_dict:
            raise ValueError(f"not a ScheduleLR state dict (no 'last_epoch'), got {state_dict!r}")
        if state_dict.get("class") == "lrkit.torch.ScheduleLR":  # a torch run's state, same plan
            from ._plateau_plan import torch_state_for_paddle

            state_dict = torch_state_for_paddle(self, state_dict)
        check_saved(state_dict, "steps_per_epoch", self._steps_per_epoch, same_steps_per_epoch)
        base_value("the state's base_lr", state_dict.get("base_lr", self._base))
        if state_dict.get("multipliers") is not None:
            base_values("the state's multipliers", state_dict["multipliers"])
        check_identity(state_dict, "ScheduleLR", self._identity(), strict)
        ops = loaded_ops(state_dict, self._replans, strict)
        old, old_sched, old_ops = self._t, self._schedules, self._replans
        if strict and ops != self._replans:  # the state's re-plans, on the plan this scheduler was built with
            self._schedules = tuple(apply_ops(sch, ops) for sch in self._planned)
            self._replans = [dict(op) for op in ops]
            self._set_fast_path(self._base)
        old_plateau = None if self._plateau is None else self._plateau.copy()
        try:
            if self._plateau is not None or "plateau" in state_dict:  # see lrkit._plateau_plan
                from ._plateau_plan import load_plateau

                self._schedules = load_plateau(self, state_dict)
                self._set_fast_path(self._base)
            self.last_epoch = state_dict["last_epoch"]
            if self._t >= 0:
                self.step(self._t)
        except ValueError:
            self._t, self._schedules, self._replans = old, old_sched, old_ops  # a failed load changes nothing
            self._plateau = old_plateau
            self._set_fast_path(self._base)
            raise

    set_dict = set_state_dict
    load_state_dict = set_state_dict

    # -- copies --------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        for k in ("_fn", "_fns", "_lock"):
            d.pop(k, None)
        return d

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()
        self._set_fast_path(self._base)


ScheduleLR.__module__ = "lrkit.paddle"  # its public path (pickles and reprs name it there)
