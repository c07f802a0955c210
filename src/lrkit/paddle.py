"""PaddlePaddle binding: drive any lrkit schedule from a Paddle optimizer.

Paddle's model is the reverse of PyTorch's: the optimizer holds the scheduler
(``paddle.optimizer.X(learning_rate=sched, ...)``), the user calls ``sched.step()``,
and a parameter group's ``'learning_rate'`` entry is a **multiplier** of the global
lr (Paddle stores it per parameter as ``param.optimize_attr['learning_rate']``).

:class:`ScheduleLR` is a real ``paddle.optimizer.lr.LRScheduler`` whose whole state
is a step counter and base values: each ``step()`` evaluates the closed-form schedule
at the new position. No schedule math lives here.

:func:`from_paddle` turns Paddle's own schedulers into the equal lrkit schedule;
:func:`scheduler_from_torch` turns a PyTorch scheduler into a Paddle one with the same lrs.

This module imports paddle; ``import lrkit`` does not import it.

>>> import paddle, lrkit
>>> from lrkit.paddle import ScheduleLR
>>> sched = ScheduleLR(lrkit.Cosine(peak_lr=0.1, total_steps=100))
>>> opt = paddle.optimizer.SGD(learning_rate=sched, parameters=paddle.nn.Linear(2, 1).parameters())
>>> for _ in range(50):
...     sched.step()
>>> round(opt.get_lr(), 6)
0.05
"""

from __future__ import annotations

import math
import threading
from typing import Any, Callable, Sequence as SequenceT

import paddle
from paddle.optimizer import Optimizer
from paddle.optimizer import lr as _pl

from .schedules.compose import FunctionSchedule, IntPositions, Scale, Sequence, Warmup
from . import _check
from ._binding import PositionCounter
from .replan import apply_ops, loaded_ops, prepared
from ._bindutil import (check_intent, CawbCounters, base_value, base_values, cawb_state_keys, check_group_count, check_identity, check_last_epoch,
                        check_saved, pct_start, per_step, real, same_steps_per_epoch, schedule_tuple)
from .core import Schedule, fingerprint
from .convert import NOT_CLOSED_FORM, RunningProduct, unconvertible
from .schedules.algebra import Ramp
from .schedules.cycles import CosineRestarts, Cyclic
from .schedules.decays import (Constant, Cosine, Exponential, InverseSqrt, InverseTime, MultiStep, OneCycle,
                               Polynomial, Step)
from .schedules.paddle_compat import PolynomialCycle
from .recipes import TorchvisionWarmup, torchvision_drop_in, ultralytics_schedules
from .recipes.ultralytics import CHECKED as ULTRALYTICS_CHECKED

_INF = float("inf")

__all__ = ["ScheduleLR", "from_paddle", "from_ppdet", "scheduler_from_ppdet", "scheduler_from_ppcls",
           "scheduler_from_torch", "warmup_lr_scheduler", "set_optimizer_lr", "UltralyticsLR",
           "CosineAnnealingWarmbootingLR"]


def _groups_of(parameters: Any) -> list[dict]:
    """The param groups (dicts with ``'params'``) of an optimizer, a list of groups or a list of parameters."""
    if isinstance(parameters, Optimizer):
        groups = getattr(parameters, "_param_groups", None)
        if not groups or not isinstance(groups[0], dict):
            # an optimizer built from a plain parameter list keeps no dicts: one group
            return [{"params": list(groups or parameters._parameter_list)}]
        return list(groups)
    if isinstance(parameters, (str, bytes, dict)) or not hasattr(parameters, "__iter__"):
        raise TypeError(f"parameters must be a Paddle optimizer, a list of param groups (dicts with 'params') "
                        f"or a list of parameters, got {parameters!r}")
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

    def __init__(self, schedule: Schedule | SequenceT[Schedule], *, learning_rate: float | None = None,
                 parameters: Any = None, steps_per_epoch: float | None = None, last_epoch: int = -1,
                 verbose: bool = False) -> None:
        optimizer = parameters if isinstance(parameters, Optimizer) else None
        groups = None if parameters is None else _groups_of(parameters)
        schedules, per_group = schedule_tuple(schedule)
        if per_group:
            if groups is None:
                raise ValueError("one schedule per group needs parameters= (the param groups given to the "
                                 "optimizer, or the optimizer)")
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
        self._group_params = [_params(g) for g in groups] if groups is not None else None
        # a group's own 'learning_rate' multiplier, read once (the optimizer copies it
        # into each parameter, where per-group mode later writes its values)
        self._multipliers = [base_value(f"param group {i} 'learning_rate'", g.get("learning_rate", 1.0))
                             for i, g in enumerate(groups)] if groups is not None else None
        self._t = -1.0
        self._lock = threading.RLock()
        if last_epoch == -1:
            bases = [base * m for m in self._multipliers] if self._multipliers else [base]
            check_intent(schedules, bases, multiplier=True, who="ScheduleLR",
                         absolute_hint="leave learning_rate at 1.0 (the schedule's values are then the lr)")
        self._set_fast_path(base)
        super().__init__(1.0 if per_group else base, last_epoch, verbose)
        self.base_lr = base
        if optimizer is not None:
            optimizer.set_lr_scheduler(self)

    def _set_fast_path(self, base: float) -> None:
        # step() is a counter increment and one schedule call (global mode)
        self._base = base
        self._fn = None if self._per_group else self._schedules[0].checked
        self._fns = tuple(s.checked for s in self._schedules)
        self._group_bases = [base * mg for mg in self._multipliers] if self._per_group else None

    # -- Paddle's LRScheduler protocol --------------------------------------------------
    def step(self, epoch: float | None = None) -> None:  # type: ignore[override]
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
                    raise ValueError(f"the value at position {t!r} times learning_rate {self._base!r} overflows "
                                     "float64")
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
        return self._schedules

    def replan(self, *, at: float | None = None, total_steps: float | None = None, cooldown: float | None = None,
               min_lr: float | None = None, shape: str | None = None, tail: Schedule | None = None,
               jump: bool | None = None) -> None:
        """Change the rest of the run from position ``at`` (default: now), as
        :meth:`lrkit.torch.ScheduleLR.replan` does: a new length, a cooldown from the current
        value, or a new tail (:func:`lrkit.replan.replan` on every schedule). Recorded in
        :meth:`state_dict`; to re-plan from an older checkpoint, load it first."""
        new, record = prepared(max(self._t, 0.0), self._schedules, at, total_steps=total_steps, cooldown=cooldown,
                               min_lr=min_lr, shape=shape, tail=tail, jump=jump)
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

    # -- checkpoints ---------------------------------------------------------------------
    def state_keys(self) -> None:
        self.keys = ["last_epoch", "last_lr", "base_lr"]

    def _identity(self) -> dict[str, Any]:
        """What a saved state must match to be this scheduler's (see :meth:`set_state_dict`)."""
        return {"class": "lrkit.paddle.ScheduleLR", "per_group": self._per_group,
                "schedules": [fingerprint(s) for s in self._plan], "base_lr": self._base,
                "multipliers": None if self._multipliers is None else list(self._multipliers)}

    def state_dict(self) -> dict[str, Any]:
        """The resumable state, plain Python values only: position, base values, ``steps_per_epoch``
        and what the state belongs to (class, per-group setting, the schedules' configs)."""
        spe = self._steps_per_epoch
        out = self._identity()
        out.update({"last_epoch": self.last_epoch, "last_lr": self.last_lr,
                    "steps_per_epoch": None if spe is None else float(spe),
                    "replans": [dict(op) for op in self._replans]})
        return out

    def set_state_dict(self, state_dict: dict[str, Any], *, strict: bool = True) -> None:
        """Restore :meth:`state_dict`: the lr is recomputed from the schedule at the saved position.

        The state must be this class's for the same plan: the same schedules, per-group
        setting, ``learning_rate`` and group multipliers, else ``ValueError`` says what
        differs; ``strict=False`` loads the position anyway and this scheduler's own plan
        applies from there (a re-planned run). A state saved with another
        ``steps_per_epoch`` is refused either way (its position counts other steps).
        """
        with self._lock:
            self._load(state_dict, strict)

    def _load(self, state_dict: dict[str, Any], strict: bool) -> None:
        if not isinstance(state_dict, dict) or "last_epoch" not in state_dict:
            raise ValueError(f"not a ScheduleLR state dict (no 'last_epoch'), got {state_dict!r}")
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
        try:
            self.last_epoch = state_dict["last_epoch"]
            if self._t >= 0:
                self.step(self._t)
        except ValueError:
            self._t, self._schedules, self._replans = old, old_sched, old_ops  # a failed load changes nothing
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


# =====================================================================================
# from_paddle
# =====================================================================================

def _linear_warmup(s: Any) -> Schedule:
    W = s.warmup_steps
    start, end = float(s.start_lr), float(s.end_lr)
    inner = s.learning_rate
    after = _build(inner) if isinstance(inner, _pl.LRScheduler) else Constant(float(inner))
    if end > 0 and after._scalar(0.0) == end and start <= end:
        return Warmup(after, W, "linear", start_factor=start / end)
    # the ramp ends somewhere else than where the next schedule starts: a jump at W
    ramp = Warmup(Constant(end), W, "linear", start_factor=start / end) if end > 0 else Constant(0.0)
    return Sequence([ramp, after], [W])


def _cosine(s: Any) -> Schedule:
    # past T_max Paddle goes back up along the cosine (its recurrence and its closed form)
    return Cosine(s.base_lr, s.T_max, s.eta_min, after="continue")


def _noam(s: Any) -> Schedule:
    # base * d**-0.5 * min(t**-0.5, t * W**-1.5): a linear rise to base * (d W)**-0.5 at W,
    # then the inverse square root peak * sqrt(W / t)
    W = float(s.warmup_steps)
    if not W > 0:
        raise ValueError(f"from_paddle: NoamDecay warmup_steps must be > 0, got {s.warmup_steps!r}")
    peak = s.base_lr * float(s.d_model) ** -0.5 * W ** -0.5
    return Warmup(InverseSqrt(peak, W), W)


def _natural_exp(s: Any) -> Schedule:
    return Exponential(s.base_lr, math.exp(-s.gamma))


def _inverse_time(s: Any) -> Schedule:
    try:
        return InverseTime(s.base_lr, 1.0, s.gamma)
    except ValueError as e:
        raise ValueError(f"from_paddle: InverseTimeDecay gamma={s.gamma!r}: {e}") from None


def _linear_lr(s: Any) -> Schedule:
    # Paddle's recurrence multiplies its way along the straight line from
    # base * start_factor to base * end_factor over total_steps, then holds
    a, b = s.base_lr * s.start_factor, s.base_lr * s.end_factor
    return Ramp(a, b, float(s.total_steps)) if a != b else Constant(a)


def _cyclic_lr(s: Any) -> Schedule:
    builtin = {"triangular": "_triangular_scale_fn", "triangular2": "_triangular2_scale_fn",
               "exp_range": "_exp_range_scale_fn"}
    fn = getattr(s.scale_fn, "__func__", None)
    if fn is None or fn is not getattr(_pl.CyclicLR, builtin.get(s.mode, ""), None):
        raise unconvertible(s, "a custom scale_fn is your own code; only the modes 'triangular', "
                               "'triangular2' and 'exp_range' convert")
    up = s.step_up_pct * s.cycle_size
    if float(round(up)) / s.cycle_size == s.step_up_pct:
        up = float(round(up))  # the integer step sizes Paddle was given
    return Cyclic(s.max_lr, up, s.cycle_size - up, min_lr=s.base_lr, mode=s.mode, gamma=s.gamma)


def _multiplicative(s: Any) -> Schedule:
    return FunctionSchedule(RunningProduct(s.lr_lambda, s.base_lr))


def _step(s: Any) -> Schedule:
    return Step(s.base_lr, float(s.step_size), s.gamma)


def _multistep(s: Any) -> Schedule:
    ms = [float(x) for x in s.milestones]
    before = sum(1 for x in ms if x <= 0)  # a milestone at 0 applies from the first step
    return MultiStep(s.base_lr * s.gamma ** before, [x for x in ms if x > 0], s.gamma)


def _piecewise(s: Any) -> Schedule:
    bounds = [float(b) for b in s.boundaries]
    values = [float(v) for v in s.values]
    # Paddle returns values[i] for the first boundary above t, and the LAST value once
    # t is past every boundary (whatever the number of values).
    segs = [Constant(v) for v in values[:len(bounds)]] + [Constant(values[-1])]
    while bounds and bounds[0] <= 0:
        bounds.pop(0)
        segs.pop(0)
    try:
        return Sequence(segs, bounds)
    except ValueError as e:
        raise ValueError(f"from_paddle: PiecewiseDecay boundaries {list(s.boundaries)!r}: {e}") from None


def _polynomial(s: Any) -> Schedule:
    if s.cycle:
        return PolynomialCycle(s.base_lr, s.decay_steps, s.end_lr, s.power)
    if s.end_lr > s.base_lr:
        # a rise to end_lr: up to decay_steps Paddle's cycle and non-cycle formulas agree
        # (horizon decay_steps), then end_lr is held
        from .schedules.compose import Hold

        return Hold(PolynomialCycle(s.base_lr, s.decay_steps, s.end_lr, s.power), s.decay_steps)
    return Polynomial(s.base_lr, s.decay_steps, s.end_lr, s.power)


def _exponential(s: Any) -> Schedule:
    return Exponential(s.base_lr, s.gamma)


def _lambda(s: Any) -> Schedule:
    return Scale(FunctionSchedule(IntPositions(s.lr_lambda)), s.base_lr)


def _restarts(s: Any) -> Schedule:
    return CosineRestarts(s.base_lr, s.T_0, s.T_mult, s.eta_min)


def _onecycle(s: Any) -> Schedule:
    lrs, ends = s._lr_config, s._step_config
    three = len(lrs) == 4
    T = s.total_steps
    pct = pct_start(ends[1], T, three, ends[2] if three else None)
    shape = "cosine" if getattr(s.anneal_func, "__func__", None) is _pl.OneCycleLR._cos_annealing else "linear"
    try:
        return OneCycle(lrs[1], T, pct, shape, start_lr=lrs[0], min_lr=lrs[-1], three_phase=three)
    except ValueError as e:
        raise ValueError(f"from_paddle: OneCycleLR: {e}") from None


def _ours(s: "ScheduleLR") -> Schedule | list[Schedule]:
    if s._per_group:
        return [sc if b == 1.0 else Scale(sc, b) for sc, b in zip(s._schedules, s._group_bases)]
    sc = s._schedules[0]
    return sc if s._base == 1.0 else Scale(sc, s._base)


_CONVERTERS: dict[type, Callable[[Any], Any]] = {
    _pl.LinearWarmup: _linear_warmup,
    _pl.CosineAnnealingDecay: _cosine,
    _pl.StepDecay: _step,
    _pl.MultiStepDecay: _multistep,
    _pl.PiecewiseDecay: _piecewise,
    _pl.PolynomialDecay: _polynomial,
    _pl.ExponentialDecay: _exponential,
    _pl.LambdaDecay: _lambda,
    _pl.CosineAnnealingWarmRestarts: _restarts,
    _pl.OneCycleLR: _onecycle,
    _pl.NoamDecay: _noam,
    _pl.NaturalExpDecay: _natural_exp,
    _pl.InverseTimeDecay: _inverse_time,
    _pl.LinearLR: _linear_lr,
    _pl.CyclicLR: _cyclic_lr,
    _pl.MultiplicativeDecay: _multiplicative,
    ScheduleLR: _ours,
}


def _build(s: Any) -> Any:
    conv = _CONVERTERS.get(type(s))
    if conv is None:
        if type(s).__name__ in NOT_CLOSED_FORM:
            raise unconvertible(s, NOT_CLOSED_FORM[type(s).__name__])
        supported = ", ".join(sorted(c.__name__ for c in _CONVERTERS))
        raise TypeError(f"from_paddle does not support {type(s).__module__}.{type(s).__qualname__} "
                        f"(supported: {supported})")
    return conv(s)


def from_paddle(scheduler: Any) -> Schedule | list[Schedule]:
    """The lrkit schedule equal to a Paddle scheduler: ``schedule(t)`` = its lr after ``t`` steps.

    Built from the scheduler's constructor arguments (not its current state), so it
    can be called at any point of the scheduler's life. Supported: ``LinearWarmup``
    (around a float or any supported scheduler), ``CosineAnnealingDecay``,
    ``StepDecay``, ``MultiStepDecay``, ``PiecewiseDecay``, ``PolynomialDecay``
    (``cycle=True`` gives :class:`~lrkit.PolynomialCycle`; an ``end_lr`` above
    ``learning_rate``, a rise, gives it held at ``decay_steps``), ``ExponentialDecay``,
    ``NaturalExpDecay``, ``InverseTimeDecay``, ``NoamDecay`` (a linear warmup into
    an inverse square root), ``LinearLR``, ``CyclicLR`` (its built-in modes),
    ``CosineAnnealingWarmRestarts``, ``OneCycleLR``, ``LambdaDecay`` and
    ``MultiplicativeDecay`` (wrapping the user's function: not writable as a
    config), and :class:`ScheduleLR` (its schedule, or one per group).
    ``ReduceOnPlateau`` follows a metric and cannot be converted; anything else
    raises ``TypeError`` naming the class. The values are absolute: bind them with
    ``ScheduleLR(schedule)``.

    ``CosineAnnealingDecay`` climbs back up along the cosine after ``T_max``, and so
    does the conversion (``.replace(after="hold")`` holds ``eta_min`` instead);
    ``OneCycleLR`` accepts one step past ``total_steps - 1`` (annealing slightly
    past ``end_learning_rate``) while lrkit holds it.

    >>> import paddle
    >>> from_paddle(paddle.optimizer.lr.StepDecay(0.1, step_size=30, gamma=0.5))
    Step(peak_lr=0.1, step_size=30, gamma=0.5)
    """
    if not isinstance(scheduler, _pl.LRScheduler):
        raise TypeError(f"from_paddle expects a paddle.optimizer.lr.LRScheduler, got "
                        f"{type(scheduler).__qualname__}")
    return _build(scheduler)


def scheduler_from_ppdet(config: Any, step_per_epoch: int, **kwargs: Any) -> "ScheduleLR":
    """A Paddle scheduler stepped per iteration from PaddleDetection's ``LearningRate`` config
    (a dict, or the text of its YAML with ``!PiecewiseDecay``-style tags): the same lr at
    every iteration as PaddleDetection's own scheduler (:func:`lrkit.convert.ppdet.from_ppdet`
    gives the schedule). ``kwargs`` go to :class:`ScheduleLR` (``parameters=``...).

    >>> import lrkit.paddle
    >>> sched = lrkit.paddle.scheduler_from_ppdet({"base_lr": 0.02, "schedulers": [
    ...     {"name": "CosineDecay", "max_epochs": 12}, {"name": "LinearWarmup", "steps": 300}]}, 500)
    >>> round(sched(), 12), type(sched).__name__  # start_factor 1/3 of 0.02
    (0.006666666667, 'ScheduleLR')
    """
    return ScheduleLR(from_ppdet(config, step_per_epoch), **kwargs)


def from_ppdet(config: Any, step_per_epoch: int) -> Schedule:
    """The schedule of PaddleDetection's ``LearningRate`` config (a dict, or the text of its YAML
    with ``!PiecewiseDecay``-style tags), per iteration: :func:`lrkit.convert.ppdet.from_ppdet`."""
    from .convert.ppdet import from_ppdet as _schedule, load_ppdet_yaml

    if isinstance(config, str):
        config = load_ppdet_yaml(config)
    return _schedule(config, step_per_epoch)


def scheduler_from_ppcls(config: Any, epochs: int, step_each_epoch: int, **kwargs: Any) -> "ScheduleLR":
    """A Paddle scheduler from PaddleClas's ``Optimizer.lr`` config: the same lr at every step
    as PaddleClas's own scheduler (:func:`lrkit.convert.ppcls.from_ppcls` gives the schedule;
    step it per iteration, or per epoch with ``by_epoch: true``). Its ``by_epoch`` attribute
    is the config's, as on PaddleClas's schedulers: PaddleClas's engine reads it to step
    the scheduler once per epoch instead of once per iteration. ``kwargs`` go to
    :class:`ScheduleLR`.

    >>> import lrkit.paddle
    >>> sched = lrkit.paddle.scheduler_from_ppcls({"name": "Cosine", "learning_rate": 0.1, "warmup_epoch": 5}, 120, 500)
    >>> sched(), type(sched).__name__, sched.by_epoch
    (0.0, 'ScheduleLR', False)
    """
    from .convert.ppcls import read_ppcls

    schedule, by_epoch = read_ppcls(config, epochs, step_each_epoch)
    sched = ScheduleLR(schedule, **kwargs)
    sched.by_epoch = by_epoch
    return sched


def scheduler_from_torch(torch_scheduler: Any, *, parameters: Any = None, group: int | None = None,
                         **kwargs: Any) -> ScheduleLR:
    """A Paddle scheduler with the same lrs as a PyTorch scheduler (via :func:`lrkit.torch.from_torch`).

    Converts everything ``lrkit.torch.from_torch`` does, including ``SequentialLR``,
    ``ChainedScheduler`` and ``LambdaLR``. The torch lrs are absolute per group; on
    Paddle they become the global lr (leave the groups' ``'learning_rate'`` at 1).
    When the torch groups follow different schedules, pass ``parameters=`` (the Paddle
    param groups, one per torch group) for one schedule per group, or ``group=i`` to
    take group ``i``'s. Other keyword arguments go to :class:`ScheduleLR`
    (``last_epoch``, ``steps_per_epoch``, ``verbose``). The Paddle scheduler starts at
    position 0, whatever the torch scheduler's current position.

    >>> import torch
    >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    >>> sched = scheduler_from_torch(torch.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.5))
    >>> sched()
    0.1
    """
    from .torch import from_torch as _torch_from_torch

    sched = _torch_from_torch(torch_scheduler, group)
    kwargs.setdefault("learning_rate", 1.0)  # the torch values are absolute lrs
    if isinstance(sched, list):
        if parameters is None:
            raise ValueError(f"the torch scheduler gives its {len(sched)} param groups different schedules; pass "
                             "parameters= (the Paddle param groups, one per torch group) or group=<index>")
        return ScheduleLR(sched, parameters=parameters, **kwargs)
    return ScheduleLR(sched, parameters=parameters, **kwargs)


# =====================================================================================
# The recipes on Paddle (same names and signatures as the PyTorch originals)
# =====================================================================================
#
# PyTorch gives each param group an absolute lr; Paddle has one global lr and a
# per-group multiplier m_g ('learning_rate' in the group dict). A PyTorch group with
# lr b_g is a Paddle group with global lr L and m_g = b_g / L (usually L = the first
# group's lr and m_0 = 1). The recipes below take the optimizer first, built with a
# float lr (L) as usual, and attach themselves to it (optimizer.set_lr_scheduler):
# porting is the import line only.

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

    def __init__(self, optimizer: Optimizer, *, lrf: float = 0.01, epochs: int, batches: int,
                 warmup_epochs: float = 3.0, warmup_bias_lr: float = 0.1, warmup_momentum: float = 0.8,
                 momentum: float | None = None, cos_lr: bool = False, version: str = ULTRALYTICS_CHECKED,
                 last_epoch: int = -1, verbose: bool = False) -> None:
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
        mults = [base_value(f"param group {i} 'learning_rate'", g.get("learning_rate", 1.0))
                 for i, g in enumerate(groups)]
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
                holder.setdefault("initial_momentum", float(optimizer._momentum if now is None else now))
            momentum = holder.get("initial_momentum", 0.937)
        lr0 = _check.positive("the optimizer's learning_rate (ultralytics' lr0)", lr0)
        self.recipe = ultralytics_schedules(lr0, lrf, epochs, batches, warmup_epochs=warmup_epochs,
                                            warmup_bias_lr=warmup_bias_lr, warmup_momentum=warmup_momentum,
                                            momentum=momentum, cos_lr=cos_lr, version=version,
                                            lr0s=[lr0 * m for m in mults],
                                            groups=[g.get("param_group") for g in groups])
        if not self.recipe.warmup_iters:
            self._momentum_at = None  # the trainer leaves the momentum alone without a warmup
        self._momentum = self.recipe.momentum.checked
        super().__init__(self.recipe.lr, learning_rate=1.0, parameters=optimizer, last_epoch=last_epoch, verbose=verbose)

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

    def step(self, epoch: float | None = None) -> None:  # type: ignore[override]
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
        raise TypeError(f"set_optimizer_lr sets a float lr, but this optimizer holds a scheduler "
                        f"({type(opt._learning_rate).__name__}); build it with learning_rate=<float>, or drive it "
                        "with ScheduleLR(get_lr_scheduler(...)) instead")
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

    def __init__(self, optimizer: Optimizer, epochs: float = 0, eta_min: float = 0.05,
                 steps: SequenceT[float] = (), step_scale: float = 0.8,
                 lf: Callable[[float, float], float] | None = None, batchs: int = 0,
                 warmup_epoch: float = 0, epoch_scale: float = 1.0) -> None:
        opt = _optimizer("CosineAnnealingWarmbootingLR", optimizer)
        self._init_counters(epochs, eta_min, steps, step_scale, lf, batchs, warmup_epoch, epoch_scale)
        # Paddle's base class is not initialised: its constructor would take a first
        # step, and the original leaves the lr alone until step_batch() or step().
        self.base_lr = base_value("the optimizer's lr", opt.get_lr())
        self.last_lr = self.base_lr
        self.multipliers = [base_value(f"param group {i} 'learning_rate'", g.get("learning_rate", 1.0))
                            for i, g in enumerate(_groups_of(opt))]
        self.last_epoch = 0  # the original's resume offset, not a step counter
        self.verbose = False
        self._var_name = None
        opt.set_lr_scheduler(self)

    @property
    def base_lrs(self) -> list[float]:
        """Each group's base lr (PyTorch's ``base_lr`` list): ``base_lr * m_g``."""
        return [self.base_lr * mg for mg in self.multipliers]

    def step(self, external_iter: int | None = None) -> float:  # type: ignore[override]
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

    def state_dict(self) -> dict[str, Any]:
        """Counters (``gap``'s history included), resume offset, base lr and the lr in force, as plain values."""
        out = self._counter_state()
        out.update({"base_lr": self.base_lr, "last_lr": self.last_lr})
        return out

    def set_state_dict(self, state_dict: dict[str, Any], *, strict: bool = True) -> None:
        """Restore :meth:`state_dict` (the lr in force included); another scheduler's state, or
        one saved with other boundaries (``strict=False`` accepts those), raises ``ValueError``."""
        cawb_state_keys(state_dict)
        base = base_value("the state's base_lr", state_dict["base_lr"])
        last = real("the state's last_lr", state_dict.get("last_lr", base))
        self._restore_counters(state_dict, strict)
        self.base_lr, self.last_lr = base, last

    set_dict = set_state_dict
    load_state_dict = set_state_dict
