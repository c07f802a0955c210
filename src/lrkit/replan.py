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

import bisect
import math
from typing import Any

from . import _check
from .core import Schedule, check_schedule, warmup_end
from .ops import SCALAR
from .schedules.algebra import Ramp, Retime
from .schedules.compose import PerStep, Scale, Sequence

__all__ = ["replan", "rescale", "batch_scaled", "rebind", "warmup_end"]


def replan(
    schedule: Schedule,
    at: float,
    *,
    total_steps: float | None = None,
    cooldown: float | None = None,
    min_lr: float = 0.0,
    shape: str = "linear",
    tail: Schedule | None = None,
    jump: bool = False,
    keep_warmup: bool = False,
) -> Schedule:
    """``schedule`` up to position ``at``, then a new plan from there. Give exactly one of:

    * ``total_steps``: the run now ends at ``total_steps`` (longer or shorter): the rest
      of the schedule, from ``at`` to where it turns constant (``L``), is re-timed to
      fit between ``at`` and ``total_steps``:
      ``f(t) = schedule(at + (t - at) * (L - at) / (total_steps - at))``, continuous at ``at``.
      A re-plan **during the warmup** re-times the rest of the warmup too (it gets longer or
      shorter in proportion). With ``keep_warmup=True`` the warmup runs as planned and only
      what follows it is re-timed: the formula above with ``at`` replaced by
      ``W = max(at, warmup end)``, the end of the schedule's leading phases named "warmup"
      (as ``describe()`` lists them; ``W = at`` without a warmup);
    * ``cooldown``: a ramp of ``cooldown`` positions from the current value
      ``schedule(at)`` to ``min_lr`` (``shape`` "linear" or "cosine"), then ``min_lr``
      (the "start the cooldown now" of warmup-stable-decay runs);
    * ``tail``: any schedule, on its own clock from ``at``. It must start at the current
      value ``schedule(at)`` unless ``jump=True``.

    Values before ``at`` never change.

    >>> import lrkit
    >>> s = lrkit.WarmupCosine(peak_lr=0.1, total_steps=10_000, warmup_steps=500)
    >>> stretched = replan(s, at=200, total_steps=15_000)   # the warmup's rest stretched too
    >>> kept = replan(s, at=200, total_steps=15_000, keep_warmup=True)
    >>> stretched(500) < s(500), kept(500) == s(500), kept(15_000) == s(10_000)
    (True, True, True)
    """
    s = check_schedule("schedule", schedule)
    k = _check.length("at", at, allow_zero=True)
    given = [n for n, v in (("total_steps", total_steps), ("cooldown", cooldown), ("tail", tail)) if v is not None]
    if len(given) != 1:
        raise ValueError(
            f"replan takes exactly one of total_steps, cooldown or tail, got {', '.join(given) if given else 'none'}"
        )
    now = _value(s, k)
    if total_steps is not None:
        L = s.length
        if not math.isfinite(L):
            raise ValueError(
                f"replan(total_steps=...) re-times the rest of a schedule up to where it turns "
                f"constant, but {s!r} never does; give a cooldown or a tail instead"
            )
        if not k < L:
            raise ValueError(f"at ({k:g}) must be before the end of the schedule ({L:g}) to re-time the rest")
        T = _check.length("total_steps", total_steps)
        if not T > k:
            raise ValueError(f"total_steps ({total_steps!r}) must be after at ({k:g})")
        if not isinstance(keep_warmup, bool):
            raise TypeError(f"keep_warmup must be True or False, got {_check.show(keep_warmup)}")
        if keep_warmup:
            w = warmup_end(s)
            if w > k:
                if not w < L:
                    raise ValueError(
                        f"keep_warmup=True: the warmup ends at {w:g}, where the schedule turns constant "
                        "(nothing after it to re-time)"
                    )
                if not T > w:
                    raise ValueError(
                        f"total_steps ({total_steps!r}) must be after the end of the warmup ({w:g}) "
                        "with keep_warmup=True"
                    )
                return _retimed(s, w, T)
        return _retimed(s, k, T)
    if keep_warmup is not False:
        raise ValueError("keep_warmup is for a re-plan with total_steps (a cooldown or a tail starts at 'at')")
    if cooldown is not None:
        D = _check.length("cooldown", cooldown)
        # the ramp's shape as its declared type: "linear" or "cosine" (anything else is a ValueError)
        sh = "cosine" if _check.choice("shape", shape, ("linear", "cosine")) == "cosine" else "linear"
        new = Ramp(now, _check.rate("min_lr", min_lr), D, sh)
    else:
        new = check_schedule("tail", tail)
        if not isinstance(jump, bool):
            raise TypeError(f"jump must be True or False, got {jump!r}")
        start = new(0.0)
        if start != now and not jump:
            raise ValueError(
                f"the tail starts at {start!r} but the schedule is at {now!r} at {k:g}: "
                "pass jump=True to jump there, or start the tail at the current value"
            )
    return _followed(s, k, new)


def _value(s: Schedule, t: float) -> float:
    """``s(t)`` through its kernel as it is (the same bits as its traced scalar path): a plan
    re-planned many times in a row (a state's re-plans replayed) compiles no code for the plans
    it passes through."""
    v = s._kernel(t, SCALAR)
    return v if 0 <= v < math.inf else s(t)  # s(t) says what is wrong


# -- keeping a re-planned plan flat ------------------------------------------------------------
# A re-plan replaces the part of the plan after ``at``; it does not wrap the plan it changes. A
# plan re-planned any number of times is one Sequence of pieces (the past ones kept as they were,
# their values bit for bit), whose last piece may be one Retime of the original schedule: its
# nesting depth stays constant and its size grows by one piece per re-plan, so a re-plan costs the
# same whatever came before it (a copy of the tuples of pieces, no walk over them).


def _followed(s: Schedule, k: float, new: Schedule) -> Schedule:
    """``s`` before ``k``, then ``new`` on its own clock from ``k``."""
    if k == 0:
        return new
    if not isinstance(s, Sequence):
        return Sequence([s, new], [k])
    j = bisect.bisect_right(s.starts, k) - 1  # the piece that holds k
    return _sequence(s, j + (s.starts[j] < k), new, k)  # a piece starting at k is replaced whole


def _sequence(s: Sequence, keep: int, new: Schedule, k: float) -> Schedule:
    """The first ``keep`` pieces of ``s`` (``keep >= 1``), then ``new`` from ``k``: built from
    checked parts without a walk over them (its depth and size follow from those of ``s``)."""
    segs, bounds = (*s.segments[:keep], new), (*s.boundaries[: keep - 1], k)
    d0, n0 = s.extent
    depth = max(d0, new.extent[0] + 1)
    size = n0 - sum(x.extent[1] for x in s.segments[keep:]) + new.extent[1]
    if depth > _check.MAX_DEPTH:
        raise ValueError(f"the re-planned plan would nest {depth} levels deep; lrkit's limit is {_check.MAX_DEPTH}")
    if size > _check.MAX_ITEMS:
        raise ValueError(f"the re-planned plan expands to {size:,} schedules; lrkit's limit is {_check.MAX_ITEMS:,}")
    out = Sequence.__new__(Sequence)
    out._setup(segments=segs, boundaries=bounds)
    object.__setattr__(out, "_extent", (depth, size))
    object.__setattr__(out, "_py", s.runs_python or new.runs_python)
    return out


def _retime(schedule: Schedule, boundaries: tuple, origins: tuple, inner: tuple, outer: tuple) -> Retime:
    """A :class:`Retime` of checked parts, without a walk over its pieces."""
    out = Retime.__new__(Retime)
    out._fill(schedule, boundaries, origins, inner, outer)
    d, n = schedule.extent
    object.__setattr__(out, "_extent", (d + 1, n + 1))
    object.__setattr__(out, "_py", schedule.runs_python)
    return out


def _retimed(s: Schedule, k: float, T: float) -> Schedule:
    """``s`` before ``k``; from ``k``, the rest of ``s`` up to where it turns constant (``L``)
    re-timed to end at ``T``: ``s(k + (t - k) * (L - k) / (T - k))``."""
    try:
        return _clocked(s, k, s.length - k, T - k, whole=True)
    except ValueError as e:
        raise ValueError(
            f"total_steps ({T!r}): the rest of the plan from at ({k:g}) cannot be re-timed to end there: {e}"
        ) from None


def _clocked(p: Schedule, c: float, num: float, den: float, whole: bool) -> Schedule:
    """``p`` before its position ``c``, then read at ``num / den`` times its speed:
    ``p(c + (u - c) * num / den)``. ``whole``: the rest of ``p`` from ``c`` up to where it turns
    constant is ``num`` long (it then ends exactly ``den`` after ``c``).

    Clocks compose instead of nesting: a Sequence keeps its pieces (each later one on the new
    clock), a Retime gets new pieces. The result is as deep as ``p``.
    """
    if isinstance(p, Sequence):
        starts = p.starts
        j = bisect.bisect_right(starts, c) - 1
        b = starts[j]
        last = j == len(starts) - 1
        piece = _clocked(p.segments[j], c - b, num, den, whole and last)
        if last:  # where a running scheduler re-plans: the pieces before j kept as they are
            return piece if j == 0 else _sequence(p, j, piece, b)
        # later pieces start later on the new clock, each read at the new speed
        later = [c + (x - c) * den / num for x in starts[j + 1 :]]
        if not all(math.isfinite(x) for x in later):
            raise ValueError("re-timing the rest of the plan moves its later pieces past float64's range")
        segs = (*p.segments[:j], piece, *(_clocked(x, 0.0, num, den, False) for x in p.segments[j + 1 :]))
        return Sequence(segs, (*p.boundaries[:j], *later))
    if isinstance(p, Retime):
        starts = p._starts
        j = bisect.bisect_right(starts, c) - 1
        keep = j + (starts[j] < c)  # the pieces before c keep their clocks (and values)
        o = p.clock(c)
        L = p.schedule.length
        bounds, origins = (*p.boundaries[: keep - 1], c) if keep else (), (*p.origins[:keep], o)
        if whole and j == len(starts) - 1:
            if not o < L:
                raise ValueError(f"at must be before the end of the schedule ({p.length:g}) to re-time the rest")
            # the rest of the inner schedule, from o to L, now takes den: ends exactly there
            return _retime(p.schedule, bounds, origins, (*p.inner_spans[:keep], L - o), (*p.outer_spans[:keep], den))
        inner, outer = list(p.inner_spans[:keep]), list(p.outer_spans[:keep])
        inner.append(p.inner_spans[j] * num)
        outer.append(p.outer_spans[j] * den)
        for m in range(j + 1, len(starts)):  # later pieces: later on the new clock, at the new speed
            bounds += (c + (starts[m] - c) * den / num,)
            origins += (p.origins[m],)
            inner.append(p.inner_spans[m] * num)
            outer.append(p.outer_spans[m] * den)
        if not all(0 < x < math.inf for x in (*bounds, *inner, *outer)) or list(bounds) != sorted(set(bounds)):
            raise ValueError("re-timing the rest of the plan takes its clock past float64's range")
        return _retime(p.schedule, bounds, origins, tuple(inner), tuple(outer))
    if c == 0:
        return Retime(p, (), (0.0,), (num,), (den,))
    return Retime(p, (c,), (0.0, c), (1.0, num), (1.0, den))


def rescale(schedule: Schedule, *, time: float = 1.0, value: float = 1.0) -> Schedule:
    """``schedule`` stretched in time by ``time`` (every length times ``time``, as Composer's
    ``scale_schedule_ratio``: ``f(t) = schedule(t / time)``) and scaled in value by ``value``.

    >>> import lrkit
    >>> rescale(lrkit.Cosine(0.1, 1000), time=2.0)(1000) == lrkit.Cosine(0.1, 1000)(500)
    True
    """
    s = check_schedule("schedule", schedule)
    r = _check.positive("time", time)
    if not _check.MIN_LENGTH <= r <= _check.MAX_LENGTH:
        raise ValueError(f"time must be a stretch between {_check.MIN_LENGTH:g} and {_check.MAX_LENGTH:g}, got {r!r}")
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
    if not 0 < f < math.inf:
        raise ValueError(
            f"new_batch_size / batch_size ({b1!r} / {b0!r}) is out of float64's range; give batch "
            "sizes of the same order"
        )
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
        raise ValueError(
            f"rebind needs an epoch-defined schedule stepped per iteration (schedule.per_step(n), "
            f"a PerStep), got {type(s).__name__}; a schedule counted in updates needs no rebinding"
        )
    return PerStep(s.schedule, _check.length("steps_per_epoch", steps_per_epoch))


def make_op(now: float, at: float | None, **kw: Any) -> dict[str, Any]:
    """A binding's re-plan as an operation: ``at`` (default ``now``) and the arguments given."""
    op: dict[str, Any] = {"at": now if at is None else _check.length("at", at, allow_zero=True)}
    op.update({k: v for k, v in kw.items() if v is not None})
    return op


def prepared(
    now: float, schedules: tuple[Schedule, ...], at: float | None, **kw: Any
) -> tuple[tuple[Schedule, ...], dict[str, Any]]:
    """A binding's re-plan at its position ``now``, checked whole before anything changes: the
    re-planned schedules and the operation as its state records it (a tail written as a config).

    ``at`` before ``now`` is refused: the state would claim a past the run never had, and the
    current value would jump without ``jump=True``.
    """
    op = make_op(now, at, **kw)
    if op["at"] < now:
        raise ValueError(
            f"at ({op['at']:g}) is before the scheduler's position ({now:g}): a re-plan changes the "
            "rest of the run, not its past; re-plan at the current position or later (load an "
            "older checkpoint first to re-plan from there)"
        )
    new = tuple(apply_ops(sch, [op]) for sch in schedules)
    return new, op_dict(op)


def op_dict(op: dict[str, Any]) -> dict[str, Any]:
    """A re-plan as plain data (what a binding's state records): its tail as a config."""
    out = dict(op)
    if out.get("tail") is not None:
        try:
            out["tail"] = out["tail"].to_dict()
        except (TypeError, ValueError) as e:
            raise ValueError(
                f"the tail cannot be recorded in the scheduler's state (a checkpoint could not resume it): {e}"
            ) from None
    return out


def loaded_ops(state: Any, mine: list[dict[str, Any]], strict: bool) -> list[dict[str, Any]]:
    """The re-plans a binding's saved state holds, checked against the binding's own."""
    ops = check_ops(state.get("replans", []))
    if strict and mine and ops != mine:
        raise ValueError(
            f"this scheduler was re-planned ({len(mine)} re-plan(s)) but the state was saved with "
            f"{len(ops)} other(s): load the state first, then re-plan; or load it with strict=False "
            "to keep this scheduler's plan"
        )
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
    keys = {"at", "total_steps", "cooldown", "min_lr", "shape", "tail", "jump", "keep_warmup"}
    if not isinstance(ops, list) or not all(isinstance(o, dict) and set(o) <= keys and "at" in o for o in ops):
        raise ValueError(
            f"the state's 'replans' must be a list of re-plans (dicts with 'at' and one of "
            f"total_steps, cooldown, tail), got {_check.show(ops)}"
        )
    return ops
