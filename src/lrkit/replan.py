"""Changing a plan: re-plan a run at step ``k``, rescale a schedule, rebind it to a new batch size.

Every result is an ordinary schedule (composed of registered kinds): it writes to a
config, plots, explains and binds like any other. The bindings' ``replan`` methods
(:meth:`lrkit.torch.ScheduleLR.replan`, :meth:`lrkit.paddle.ScheduleLR.replan`) apply
:func:`replan` to a running scheduler and record it in its state.

>>> import lrkit
>>> s = lrkit.WarmupCosine(peak_lr=0.1, total_steps=10_000, warmup_steps=500)
>>> longer = replan(s, at=6_000, total_steps=15_000)       # the rest re-timed to end at 15,000
>>> longer(6_000) == s(6_000), longer(15_000) == s(10_000)
(True, True)
>>> cool = replan(s, at=6_000, cooldown=1_000, min_lr=1e-4)  # a cooldown from the current value
>>> cool(6_000) == s(6_000), cool(7_000)
(True, 0.0001)
"""

from __future__ import annotations

import math
from typing import Any

from . import _check
from .core import Schedule, check_schedule
from .schedules.algebra import Ramp, Shift
from .schedules.compose import PerStep, Scale, Sequence

__all__ = ["replan", "rescale", "batch_scaled", "rebind"]


def replan(schedule: Schedule, at: float, *, total_steps: float | None = None, cooldown: float | None = None,
           min_lr: float = 0.0, shape: str = "linear", tail: Schedule | None = None, jump: bool = False) -> Schedule:
    """``schedule`` up to position ``at``, then a new plan from there. Give exactly one of:

    * ``total_steps``: the run now ends at ``total_steps`` (longer or shorter): the rest
      of the schedule, from ``at`` to where it turns constant (``L``), is re-timed to
      fit between ``at`` and ``total_steps``:
      ``f(t) = schedule(at + (t - at) * (L - at) / (total_steps - at))``, continuous at ``at``;
    * ``cooldown``: a ramp of ``cooldown`` positions from the current value
      ``schedule(at)`` to ``min_lr`` (``shape`` "linear" or "cosine"), then ``min_lr``
      (the "start the cooldown now" of warmup-stable-decay runs);
    * ``tail``: any schedule, on its own clock from ``at``. It must start at the current
      value ``schedule(at)`` unless ``jump=True``.

    Values before ``at`` never change.
    """
    s = check_schedule("schedule", schedule)
    k = _check.length("at", at, allow_zero=True)
    given = [n for n, v in (("total_steps", total_steps), ("cooldown", cooldown), ("tail", tail)) if v is not None]
    if len(given) != 1:
        raise ValueError(f"replan takes exactly one of total_steps, cooldown or tail, got "
                         f"{', '.join(given) if given else 'none'}")
    now = s(k)
    if total_steps is not None:
        L = s.length
        if not math.isfinite(L):
            raise ValueError(f"replan(total_steps=...) re-times the rest of a schedule up to where it turns "
                             f"constant, but {s!r} never does; give a cooldown or a tail instead")
        if not k < L:
            raise ValueError(f"at ({k:g}) must be before the end of the schedule ({L:g}) to re-time the rest")
        T = _check.length("total_steps", total_steps)
        if not T > k:
            raise ValueError(f"total_steps ({total_steps!r}) must be after at ({k:g})")
        rest: Schedule = Shift(s, k) if k > 0 else s
        if T - k != L - k:
            rest = PerStep(rest, (T - k) / (L - k))  # rest(u) = s(k + u * (L - k) / (T - k))
        new = rest
    elif cooldown is not None:
        D = _check.length("cooldown", cooldown)
        new = Ramp(now, _check.rate("min_lr", min_lr), D, shape)
    else:
        new = check_schedule("tail", tail)
        if not isinstance(jump, bool):
            raise TypeError(f"jump must be True or False, got {jump!r}")
        start = new(0.0)
        if start != now and not jump:
            raise ValueError(f"the tail starts at {start!r} but the schedule is at {now!r} at {k:g}: "
                             "pass jump=True to jump there, or start the tail at the current value")
    return new if k == 0 else Sequence([s, new], [k])


def rescale(schedule: Schedule, *, time: float = 1.0, value: float = 1.0) -> Schedule:
    """``schedule`` stretched in time by ``time`` (every length times ``time``, as Composer's
    ``scale_schedule_ratio``: ``f(t) = schedule(t / time)``) and scaled in value by ``value``.

    >>> import lrkit
    >>> rescale(lrkit.Cosine(0.1, 1000), time=2.0)(1000) == lrkit.Cosine(0.1, 1000)(500)
    True
    """
    s = check_schedule("schedule", schedule)
    r = _check.positive("time", time)
    v = _check.rate("value", value)
    out = s if r == 1.0 else PerStep(s, r)
    return out if v == 1.0 else Scale(out, v)


_BATCH_RULES = ("linear", "sqrt")


def batch_scaled(schedule: Schedule, batch_size: float, new_batch_size: float, *, rule: str = "linear") -> Schedule:
    """``schedule``'s values for another batch size: times ``new / old`` (the linear scaling
    rule of Goyal et al.) or its square root (``rule="sqrt"``, for adaptive optimizers).
    Lengths are left alone: they count optimizer updates; see :func:`rebind` for a schedule
    defined in epochs.

    >>> import lrkit
    >>> batch_scaled(lrkit.Constant(0.1), 256, 1024)(0)
    0.4
    """
    b0 = _check.positive("batch_size", batch_size)
    b1 = _check.positive("new_batch_size", new_batch_size)
    _check.choice("rule", rule, _BATCH_RULES)
    f = b1 / b0 if rule == "linear" else math.sqrt(b1 / b0)
    return rescale(schedule, value=f)


def rebind(schedule: Schedule, steps_per_epoch: float) -> Schedule:
    """An epoch-defined schedule stepped per iteration (a :class:`~lrkit.PerStep`) with a new
    number of iterations per epoch (a new batch size): the same curve in epochs.

    >>> import lrkit
    >>> s = lrkit.Step(0.1, 30, 0.5).per_step(500)
    >>> rebind(s, 250)(250 * 30) == s(500 * 30)
    True
    """
    s = check_schedule("schedule", schedule)
    if not isinstance(s, PerStep):
        raise ValueError(f"rebind needs an epoch-defined schedule stepped per iteration (schedule.per_step(n), "
                         f"a PerStep), got {type(s).__name__}; a schedule counted in updates needs no rebinding")
    return PerStep(s.schedule, _check.length("steps_per_epoch", steps_per_epoch))


def make_op(now: float, at: float | None, **kw: Any) -> dict[str, Any]:
    """A binding's re-plan as an operation: ``at`` (default ``now``) and the arguments given."""
    op: dict[str, Any] = {"at": now if at is None else _check.length("at", at, allow_zero=True)}
    op.update({k: v for k, v in kw.items() if v is not None})
    return op


def op_dict(op: dict[str, Any]) -> dict[str, Any]:
    """A re-plan as plain data (what a binding's state records): its tail as a config."""
    out = dict(op)
    if out.get("tail") is not None:
        out["tail"] = out["tail"].to_dict()
    return out


def loaded_ops(state: Any, mine: list[dict[str, Any]], strict: bool) -> list[dict[str, Any]]:
    """The re-plans a binding's saved state holds, checked against the binding's own."""
    ops = check_ops(state.get("replans", []))
    if strict and mine and ops != mine:
        raise ValueError(f"this scheduler was re-planned ({len(mine)} re-plan(s)) but the state was saved with "
                         f"{len(ops)} other(s): load the state first, then re-plan; or load it with strict=False "
                         "to keep this scheduler's plan")
    return ops


def apply_ops(schedule: Schedule, ops: list[dict[str, Any]]) -> Schedule:
    """``schedule`` re-planned by each recorded operation in turn (see the bindings)."""
    from .config import from_dict

    for op in ops:
        kw = dict(op)
        if isinstance(kw.get("tail"), dict):
            kw["tail"] = from_dict(kw["tail"])
        schedule = replan(schedule, **kw)
    return schedule


def check_ops(ops: Any) -> list[dict[str, Any]]:
    """A state's recorded re-plans, checked: a list of dicts with the keys :func:`replan` takes."""
    keys = {"at", "total_steps", "cooldown", "min_lr", "shape", "tail", "jump"}
    if not isinstance(ops, list) or not all(isinstance(o, dict) and set(o) <= keys and "at" in o for o in ops):
        raise ValueError(f"the state's 'replans' must be a list of re-plans (dicts with 'at' and one of "
                         f"total_steps, cooldown, tail), got {_check.show(ops)}")
    return ops
