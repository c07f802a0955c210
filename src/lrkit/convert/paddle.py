"""Paddle's schedulers as lrkit schedules: :func:`from_paddle` (public as :func:`lrkit.paddle.from_paddle`).

Each converter reads a ``paddle.optimizer.lr`` scheduler's constructor arguments (never
its code) and builds the lrkit schedule with the same lr at every step; lrkit's own
:class:`lrkit.paddle.ScheduleLR` gives back its schedule. PaddleClas's and
PaddleDetection's configs are :mod:`lrkit.convert.ppcls` and :mod:`lrkit.convert.ppdet`.

This module does not import paddle: a Paddle scheduler exists only once paddle is
imported, and the table of Paddle's classes is made on first use.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any

from ..core import Schedule
from ..plateau import Plateau
from ..schedules.algebra import Ramp
from ..schedules.compose import FunctionSchedule, Hold, IntPositions, Scale, Sequence, Warmup
from ..schedules.cycles import CosineRestarts, Cyclic
from ..schedules.decays import (
    Constant,
    Cosine,
    Exponential,
    InverseSqrt,
    InverseTime,
    MultiStep,
    OneCycle,
    Polynomial,
    Step,
)
from ..schedules.paddle_compat import PolynomialCycle
from . import NOT_CLOSED_FORM, RunningProduct, pct_start, unconvertible
from . import plateau as _plateau

__all__ = ["from_paddle"]


class _PaddleSchedulers:
    """``paddle.optimizer.lr``, imported when first read (a Paddle scheduler exists by then,
    so paddle is loaded already)."""

    def __getattr__(self, name: str) -> Any:
        from paddle.optimizer import lr

        return getattr(lr, name)


_pl = _PaddleSchedulers()


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
    peak = s.base_lr * float(s.d_model) ** -0.5 * W**-0.5
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
    builtin = {
        "triangular": "_triangular_scale_fn",
        "triangular2": "_triangular2_scale_fn",
        "exp_range": "_exp_range_scale_fn",
    }
    fn = getattr(s.scale_fn, "__func__", None)
    if fn is None or fn is not getattr(_pl.CyclicLR, builtin.get(s.mode, ""), None):
        raise unconvertible(
            s, "a custom scale_fn is your own code; only the modes 'triangular', 'triangular2' and 'exp_range' convert"
        )
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
    return MultiStep(s.base_lr * s.gamma**before, [x for x in ms if x > 0], s.gamma)


def _piecewise(s: Any) -> Schedule:
    bounds = [float(b) for b in s.boundaries]
    values = [float(v) for v in s.values]
    # Paddle returns values[i] for the first boundary above t, and the LAST value once
    # t is past every boundary (whatever the number of values).
    segs = [Constant(v) for v in values[: len(bounds)]] + [Constant(values[-1])]
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


def _ours(s: Any) -> Schedule | list[Schedule]:
    """lrkit's own Paddle scheduler (:class:`lrkit.paddle.ScheduleLR`): its schedule, or one per group."""
    if s._per_group:
        return [sc if b == 1.0 else Scale(sc, b) for sc, b in zip(s.schedules, s._group_bases)]
    sc = s.schedules[0]
    return sc if s._base == 1.0 else Scale(sc, s._base)


def _converters() -> dict[type, Callable[[Any], Any]]:
    """Paddle's scheduler classes and lrkit's own, with their converters (made on first use:
    paddle is loaded then)."""
    if not _CONVERTERS:
        _CONVERTERS.update(_table())
    ours = sys.modules.get("lrkit._paddle_binding")  # loaded whenever one of its schedulers exists
    if ours is not None:
        _CONVERTERS.setdefault(ours.ScheduleLR, _ours)
    return _CONVERTERS


_CONVERTERS: dict[type, Callable[[Any], Any]] = {}


def _table() -> dict[type, Callable[[Any], Any]]:
    return {
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
    }


def _build(s: Any) -> Any:
    conv = _converters().get(type(s))
    if conv is None:
        if type(s).__name__ in NOT_CLOSED_FORM:
            raise unconvertible(s, NOT_CLOSED_FORM[type(s).__name__])
        supported = ", ".join(sorted({c.__name__ for c in _converters()} | {"ScheduleLR"}))
        raise TypeError(
            f"from_paddle does not support {type(s).__module__}.{type(s).__qualname__} (supported: {supported})"
        )
    return conv(s)


def from_paddle(scheduler: Any) -> Schedule | list[Schedule] | Plateau:
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
    ``ReduceOnPlateau`` follows a metric: it gives the :class:`~lrkit.plateau.Plateau`
    deciding as it does, with its state now, which continues exactly where it would
    (:func:`lrkit.convert.plateau.plateau_of`); anything else
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
    if "paddle" not in sys.modules or not isinstance(scheduler, _pl.LRScheduler):
        raise TypeError(f"from_paddle expects a paddle.optimizer.lr.LRScheduler, got {type(scheduler).__qualname__}")
    if _plateau.is_plateau(scheduler):
        return _plateau.plateau_of(scheduler)
    return _build(scheduler)
