"""A plan and a plateau policy together: what the bindings' ``ScheduleLR(..., plateau=...)`` do.

A binding drives its groups by a plan (``value_g(t) = base_g * plan_g(t)``, ``base_g = 1`` for an
absolute plan); with a :class:`~lrkit.plateau.Plateau` attached, each ``observe(metric)`` goes to
the policy, and a reduction it decides at position ``t_r`` scales the rest of the plan from
``t_r`` on. Group ``g``'s value is then, for ``t >= t_r`` (until the next reduction)::

    value_g(t) = base_g * max(plan_g(t) * m_g, floor_g / base_g)

``m_g`` starts at 1 and is multiplied by the policy's ``factor`` (repeated multiplication, in
order) at each reduction in which the policy reduces group ``g``: the policy's own rule decides
that on the value written now, ``v = value_g(t_r)`` (torch's: ``new = max(v*factor, floor_g)``;
the group is reduced if ``v - new > eps``; a group at its floor keeps its ``m_g``). ``floor_g`` is
the policy's ``min_lr`` for the group (absolute; divided by ``base_g`` into plan units, and 0
where ``base_g`` is 0). Before the first reduction the plan runs as it is (no floor).

The realised curve is an ordinary schedule: the plan up to ``t_r``, then
``Clip(Scale(Shift(plan_g, t_r), m_g), floor_g / base_g)`` (a :class:`~lrkit.Sequence` piece per
reduction, kept flat as :mod:`lrkit.replan` keeps re-plans). A reduction does not build it: the
binding goes on with ``min(max(m_g * plan_g((t - t_r) + t_r), floor_g / base_g), inf)``, the
same operations as that piece's kernels (the same bits), and the schedule is built when asked
for (``realised()``, ``schedules``, a re-plan, a copy, a position before ``t_r``). So an
observation that reduces costs about what torch's ``ReduceLROnPlateau.step`` does, and a step
between reductions what a plain ``ScheduleLR`` step does. A re-plan (the binding's
``replan``) after reductions re-plans the realised curve, which becomes the plan the later
reductions scale (their ``m_g`` starting again from 1).

The state (:meth:`PlanPlateau.state_dict`) is plain JSON: the policy's configuration and state,
and each reduction (its position, the multipliers after it, how many re-plans preceded it, the
metric); loading it rebuilds the realised curve from the binding's plan exactly. Saved as JSON
(``json.dump(sched.state_dict(), f)``), a run reads back without its framework
(:class:`PlateauRun`: the plan, the realised lr per group, the reductions and their reasons);
``lrkit plot STATE.json`` and ``lrkit show STATE.json`` draw and explain it. A torch state of
``G`` param groups loads into a per-group Paddle scheduler of ``G`` groups and back
(:func:`torch_state_for_paddle`, :func:`paddle_state_for_torch`) when each group's plan
multiplies the same value.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from collections.abc import Sequence as SequenceT
from typing import Any

import numpy as np

from ._check import MAX_DEPTH, MAX_ITEMS, MAX_LENGTH, MIN_LENGTH, show
from ._format import number
from .core import Schedule, words
from .ops import NUMPY
from .plateau import MMENGINE_INF, Plateau
from .replan import _followed, apply_ops
from .schedules.algebra import Shift
from .schedules.compose import Clip, Scale, Sequence

__all__ = ["PlanPlateau"]

_INF = math.inf

_FLAVORS = ("torch", "paddle", "mmengine", "keras")


def _fitted(policy: Plateau, values: SequenceT[float]) -> Plateau:
    """``policy``'s configuration and counters for ``len(values)`` groups starting at ``values``."""
    if not isinstance(policy, Plateau):
        raise TypeError(f"plateau must be an lrkit.plateau.Plateau, got {show(policy)} ({type(policy).__name__})")
    if policy.flavor not in _FLAVORS:
        raise ValueError(
            f"plateau: the {policy.flavor!r} flavor cannot drive a plan ("
            + ("optax's policy is a scale of its own" if policy.flavor == "optax" else "timm's policy runs a warmup")
            + f"); use one of {', '.join(_FLAVORS)}"
        )
    n = len(values)
    d = policy.to_dict()
    if policy.flavor == "mmengine" and (policy.begin != 0 or policy.end != MMENGINE_INF):
        raise ValueError(
            f"plateau: mmengine's begin/end count its own steps without metrics (begin={policy.begin}, "
            f"end={policy.end}); on a plan, leave them at 0 and their default (the plan's positions decide)"
        )
    if policy.flavor == "paddle":
        if n != 1:
            raise ValueError(f"plateau: Paddle's policy has one learning rate, but the scheduler drives {n} groups")
        d["learning_rate"] = values[0]
    else:
        d["lr"] = list(values) if n > 1 else values[0]
        floors = d.get("min_value" if policy.flavor == "mmengine" else "min_lr")
        if isinstance(floors, list) and len(floors) != n:
            raise ValueError(f"plateau: min_lr has {len(floors)} values but the scheduler drives {n} groups")
    out = Plateau.from_dict(d)
    state = policy.state_dict()
    state["lrs"] = list(out.lrs)
    out.load_state_dict(state)
    return out


class _Reduced:
    """One group's curve right after a reduction, before it is built as a schedule.

    Before ``at`` it is ``prev``; from ``at`` on, the reduced rest of ``base``: the value of
    ``Clip(Scale(Shift(base, at), m), floor)`` on its own clock ``t - at``, which is
    ``min(max(m * base((t - at) + at), floor), inf)``, computed here with the very operations
    of those kinds' kernels (so the same bits as the built schedule, :meth:`real`). A reduction
    thus costs no schedule construction and no compiled fast path; :meth:`real` builds the
    ordinary schedule (``realised()``, a re-plan, a state, a position before ``at``), iteratively
    however many reductions are pending. The bindings call ``checked``, ``_scalar``, ``_array``
    and ``runs_python``, as on a schedule.
    """

    __slots__ = ("prev", "at", "m", "floor", "base", "_real", "_fast", "runs_python", "_bext", "extent", "buildable")

    def __init__(self, prev: Any, at: float, m: float, floor: float, base: Schedule) -> None:
        self.prev, self.at, self.m, self.floor, self.base = prev, at, m, floor, base
        self._real: Schedule | None = None
        # extent: the (depth, size) the built schedule has at most (_bound); buildable: that and
        # the position are within what the kinds accept, so building it cannot fail
        if prev.__class__ is _Reduced and prev.base is base and prev.at != 0 and at != 0:
            # the next reduction of the same plan (a Sequence takes one more piece): _bound, inline
            self._fast, self.runs_python, self._bext = prev._fast, prev.runs_python, prev._bext
            pd, pn = prev.extent
            bd, bn = self._bext
            ext = self.extent = (pd if pd > bd + 4 else bd + 4, pn + bn + 3)
        else:
            self._fast = getattr(base, "_fast", None) or base._scalar  # its traced path, once it has one
            self.runs_python = prev.runs_python or base.runs_python
            self._bext = base.extent
            ext = self.extent = _bound(prev, at, self._bext)
        self.buildable = ext[0] <= MAX_DEPTH and ext[1] <= MAX_ITEMS and (at == 0 or MIN_LENGTH <= at <= MAX_LENGTH)

    def _scalar(self, t: float) -> float:
        at = self.at
        if t >= at:
            v = self.m * self._fast((t - at) + at)
            if not v > self.floor:  # the kernels' maximum(v, floor), then minimum(., inf)
                v = self.floor
            return v if v < _INF else _INF
        return self.real()._scalar(t)

    def checked(self, t: float) -> float:
        at = self.at
        if t >= at:  # _scalar's formula, inline (a binding's step calls this)
            v = self.m * self._fast((t - at) + at)
            if not v > self.floor:
                v = self.floor
            if 0 <= v < _INF:
                return v
        return self.real().checked(t)  # before at, or the schedule's own error

    def _array(self, t: Any) -> Any:
        at = self.at
        if not t.size or t.min() >= at:  # (an empty array needs nothing built)
            with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
                return NUMPY.minimum(NUMPY.maximum(self.m * self.base._array((t - at) + at), self.floor), _INF)
        return self.real()._array(t)

    def real(self) -> Schedule:
        """The ordinary schedule: ``prev`` followed from ``at`` by ``Clip(Scale(Shift(base, at), m),
        floor)``, as :meth:`PlanPlateau.rebuilt` builds it from a state. Built once."""
        r = self._real
        if r is not None:
            return r
        with _BUILDING:  # one build at a time: threads (or bindings sharing a curve) see it whole
            if self._real is not None:
                return self._real
            chain = []
            s: Any = self
            while s.__class__ is _Reduced and s._real is None:
                chain.append(s)
                s = s.prev
            cur = s._real if s.__class__ is _Reduced else s
            for x in reversed(chain):
                cur = _followed(cur, x.at, _piece(x.base, x.at, x.m, x.floor))
                x._real, x.prev = cur, None
            assert self._real is not None
            return self._real

    def __reduce__(self) -> Any:  # a copy or a pickle holds the built schedule
        return (_identity, (self.real(),))


def _identity(s: Schedule) -> Schedule:
    return s


_BUILDING = threading.RLock()
#: the flavors whose rule a plan's observation calls directly (their decisions do not read the lrs)
_DIRECT = frozenset(("torch", "mmengine", "paddle"))


def _bound(prev: Any, at: float, bext: tuple[int, int]) -> tuple[int, int]:
    """At most the ``(depth, size)`` of ``prev`` followed from ``at`` by the reduced rest of a
    base of extent ``bext`` (:func:`lrkit.replan._followed` of ``Clip(Scale(Shift(base)))``):
    a Sequence ``prev`` takes the piece in (a piece it drops only makes it smaller), another
    schedule becomes a Sequence of two."""
    k = 2 if at == 0 else 3
    d, n = bext[0] + k, bext[1] + k
    if at == 0:
        return d, n
    pd, pn = prev.extent
    if (prev.at != 0) if prev.__class__ is _Reduced else isinstance(prev, Sequence):
        return max(pd, d + 1), pn + n
    return max(pd, d) + 1, pn + n + 1


def _buildable(t: float, schedules: tuple[Any, ...], base: tuple[Schedule, ...] | None) -> bool:
    """Whether a reduction at ``t`` of any of ``schedules`` (the rest of ``base``; None: the
    schedules are the base) builds for sure (the bound :class:`_Reduced` keeps)."""
    if t != 0 and not MIN_LENGTH <= t <= MAX_LENGTH:
        return False
    bases = base or schedules
    n = max(len(schedules), len(bases))
    for s, b in zip(schedules if len(schedules) == n else schedules * n, bases if len(bases) == n else bases * n):
        d, n = _bound(s, t, b.extent)
        if d > MAX_DEPTH or n > MAX_ITEMS:
            return False
    return True


def _piece(plan: Schedule, t: float, m: float, floor: float) -> Schedule:
    inner = plan if t == 0 else Shift(plan, t)
    return Clip(Scale(inner, m), floor)


def built(schedules: tuple[Any, ...]) -> tuple[Schedule, ...]:
    """``schedules`` with every pending reduction (:class:`_Reduced`) built as a schedule."""
    return tuple(s.real() if s.__class__ is _Reduced else s for s in schedules)


class PlanPlateau:
    """The plateau part of a binding (framework-free): the policy, the multipliers and the reductions."""

    def __init__(self, policy: Plateau, values: SequenceT[float], bases: SequenceT[float]) -> None:
        self.policy = _fitted(policy, list(values))
        n = len(bases)
        floors = self.policy.min_lrs
        if len(floors) == 1 and n > 1:
            floors = floors * n
        self.floors = tuple(0.0 if b == 0 else f / b for f, b in zip(floors, bases))  # in plan units
        self._one_floor = len(set(self.floors)) == 1
        self._one_min = len(set(self.policy.min_lrs)) == 1
        # one value per step for every group: the same base, floor and min_lr (see _observe_shared)
        self._shared = self._one_floor and self._one_min and len(set(bases)) == 1
        self.n = n
        self.m = [1.0] * n
        self.reductions: list[dict[str, Any]] = []
        self._base_plan: tuple[Schedule, ...] | None = None  # the plan the multipliers scale
        self._replans_seen = 0

    # -- the reduction -------------------------------------------------------------------
    def _scaled(
        self, schedules: tuple[Schedule, ...], base: tuple[Schedule, ...], t: float, m: list[float], changed: list[bool]
    ) -> tuple[Schedule, ...]:
        """``schedules`` followed from ``t`` by the base plan times ``m`` (groups in ``changed``)."""
        n = self.n
        shared = len(schedules) == 1 and len(set(zip(m, self.floors))) == 1
        if shared:
            return (_followed(schedules[0], t, _piece(base[0], t, m[0], self.floors[0])),)
        scheds = schedules if len(schedules) == n else schedules * n
        bases = base if len(base) == n else base * n
        return tuple(
            _followed(s, t, _piece(b, t, mg, fl)) if c else s
            for s, b, mg, fl, c in zip(scheds, bases, m, self.floors, changed)
        )

    def observe(
        self,
        metric: Any,
        t: float,
        values: Callable[[], list[float]],
        schedules: tuple[Any, ...],
        replans: int,
    ) -> tuple[Any, ...] | None:
        """Give ``metric`` to the policy at position ``t`` (``values()``: the values written now,
        a fresh list, read only when the policy needs them); the new schedules when a reduction
        changes some group, else None. A reduced group's is a :class:`_Reduced` (evaluated as a
        schedule is; :func:`built` makes it one)."""
        if t < 0:
            raise RuntimeError("observe(metric) before the scheduler's first step: step() first")
        if replans != self._replans_seen or self._base_plan is None:
            # a re-plan since the last reduction (or none yet): the current curve is the plan
            if replans != self._replans_seen:
                self.m = [1.0] * self.n
            self._base_plan, self._replans_seen = built(schedules), replans
        pol = self.policy
        flavor = pol.flavor
        fast = metric.__class__ is float and flavor in _DIRECT  # (the policy has one lr per group: _fitted)
        if fast and self._shared and len(schedules) == 1:
            return self._observe_shared(metric, t, values, schedules[0], replans)
        undo: Any
        if fast:
            # observe(metric, lrs=values) by torch's or Paddle's rule (neither decides on the lrs),
            # the values read only for a reduction (checked floats already: the binding's)
            undo = (pol._best, pol._bad, pol._cooldown_counter, pol._lrs)
            pol._observations += 1
            if not (pol._paddle_counts(metric) if flavor == "paddle" else pol._torch_counts(metric)):
                return None
            before = values()
            n = self.n
            if self._one_min and before.count(before[0]) == n:  # one value, one floor: reduced once
                after = pol._lrs = (pol._reduce_one(before[0], pol.min_lrs[0]),) * n
            else:
                pol._lrs = tuple(before)
                after = pol._lrs = pol.reduce(pol._lrs)
        else:
            # a reduction here could fail to build (see _buildable): the policy's state to restore
            undo = pol.state_dict() if not _buildable(t, schedules, self._base_plan) else None
            read: list[list[float]] = []

            def now() -> list[float]:
                read.append(values())  # a fresh list from the binding
                return read[-1]

            if not pol.observe(metric, lrs=now):
                return None
            before = read[-1] if read else values()
            after = pol._lrs
        n, f = self.n, pol.factor
        m = self.m
        changed: list[bool] | None = None
        alike = before.count(before[0]) == n and after.count(after[0]) == n and m.count(m[0]) == n
        if alike:  # every group the same value and multiplier (one schedule, mostly): decided once
            if after[0] == before[0]:
                if fast:
                    pol._arm()  # decided, though no lr changes (all at their floors)
                return None
            m = [m[0] * f] * n
        else:
            changed = [a != b for a, b in zip(after, before)]
            if not any(changed):
                if fast:
                    pol._arm()
                return None
            m = [mg * f if c else mg for mg, c in zip(m, changed)]
        # The rest of the plan times m, as cheap objects (_Reduced): built as schedules on demand
        base, floors = self._base_plan, self.floors
        if alike and len(schedules) == 1 and self._one_floor:
            out: tuple[Any, ...] = (_Reduced(schedules[0], t, m[0], floors[0], base[0]),)
        else:
            flags = changed if changed is not None else [True] * n
            scheds = schedules if len(schedules) == n else schedules * n
            bases = base if len(base) == n else base * n
            out = tuple(
                _Reduced(s, t, mg, fl, b) if c else s for s, b, mg, fl, c in zip(scheds, bases, m, floors, flags)
            )
        if not (out[0].buildable if len(out) == 1 else all(x.buildable for x in out if x.__class__ is _Reduced)):
            self._build_or_undo(out, undo)
        if fast:
            pol._arm()
        self._record(t, m, replans, metric)
        return out

    def _build_or_undo(self, out: tuple[Any, ...], undo: Any) -> None:
        """Build the reductions in ``out`` now (near lrkit's limits, or at a position a Shift
        cannot take: building tells whether they can be); if one cannot be built, put the policy
        back as ``undo`` has it (its counters and lrs before the observation, or its state dict;
        None: not known) and raise the kinds' ValueError."""
        try:
            for x in out:
                if x.__class__ is _Reduced:
                    x.real()
        except ValueError:
            pol = self.policy
            if isinstance(undo, tuple):
                pol._best, pol._bad, pol._cooldown_counter, pol._lrs = undo
                pol._observations -= 1
            elif undo is not None:
                pol.load_state_dict(undo)
            raise

    def _record(self, t: float, m: list[float], replans: int, metric: Any) -> None:
        """The multipliers after a reduction at ``t``, and the reduction as the state keeps it."""
        a = metric if metric.__class__ is float else float(metric)
        self.m = m  # (shared with the record: neither is changed in place; states copy it)
        self.reductions.append(
            {
                "at": t,
                "m": m,
                "replans": replans,
                "metric": a if a - a == 0.0 else _enc(a),
                "observation": self.policy._observations,
            }
        )

    def _observe_shared(
        self, a: float, t: float, values: Callable[[], list[float]], schedule: Any, replans: int
    ) -> tuple[Any, ...] | None:
        """:meth:`observe` when every group runs one schedule with one base and one floor (so one
        value, one multiplier): torch's or Paddle's rule on that one value."""
        pol = self.policy
        undo = (pol._best, pol._bad, pol._cooldown_counter, pol._lrs)
        pol._observations += 1
        if not (pol._paddle_counts(a) if pol.flavor == "paddle" else pol._torch_counts(a)):
            return None
        v = values()[0]
        new = pol._reduce_one(v, pol.min_lrs[0])
        pol._lrs = (new,) * self.n
        if new == v:  # decided, though the lr stays (at its floor)
            pol._arm()
            return None
        m = self.m[0] * pol.factor
        base = self._base_plan
        assert base is not None  # set by observe()
        x = _Reduced(schedule, t, m, self.floors[0], base[0])
        if not x.buildable:
            self._build_or_undo((x,), undo)
        pol._arm()
        self._record(t, [m] * self.n, replans, a)
        return (x,)

    # -- state -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy.to_dict(),
            "state": self.policy.state_dict(),
            "reductions": [{**r, "m": list(r["m"])} for r in self.reductions],
        }

    def rebuilt(self, state: Any, planned: tuple[Schedule, ...], replans: list[dict[str, Any]]) -> tuple[Schedule, ...]:
        """Load ``state`` (from :meth:`state_dict`) and return the realised schedules: ``planned``
        with the re-plans and reductions in the order they were made. Nothing changes on error."""
        if not isinstance(state, dict) or set(state) != {"policy", "state", "reductions"}:
            raise ValueError(
                f"the state's 'plateau' entry must be a dict with policy, state, reductions, got {show(state)}"
            )
        if _config(state["policy"]) != _config(self.policy.to_dict()):
            raise ValueError(
                f"the state was saved with another plateau policy ({state['policy']!r}, this scheduler has "
                f"{self.policy.to_dict()!r})"
            )
        reds = state["reductions"]
        if not isinstance(reds, list) or not all(
            isinstance(r, dict)
            and {"at", "m", "replans"} <= set(r)
            and isinstance(r["m"], list)
            and len(r["m"]) == self.n
            for r in reds
        ):
            raise ValueError(f"the state's plateau reductions must be a list of reductions, got {show(reds)}")
        policy = Plateau.from_dict(self.policy.to_dict())
        policy.load_state_dict(state["state"])
        scheds, base, done, m = planned, planned, 0, [1.0] * self.n
        for r in reds:
            k = int(r["replans"])
            if not done <= k <= len(replans):
                raise ValueError(f"the state's plateau reduction {r!r} does not follow its re-plans")
            if k > done:
                scheds = tuple(apply_ops(s, replans[done:k]) for s in scheds)
                base, done, m = scheds, k, [1.0] * self.n
            new_m = [float(v) for v in r["m"]]
            changed = [a != b for a, b in zip(new_m, m)]
            scheds = self._scaled(scheds, base, float(r["at"]), new_m, changed)
            m = new_m
        seen = done
        if len(replans) > done:
            scheds = tuple(apply_ops(s, replans[done:]) for s in scheds)
        self.policy, self.reductions, self.m = policy, [{**r, "m": list(r["m"])} for r in reds], m
        # a re-plan after the last reduction is noticed (the base plan reset) at the next observation
        self._base_plan = base if reds else None
        self._replans_seen = seen if reds else 0
        return scheds

    def fresh(self) -> None:
        """Back to no observation and no reduction (a state saved without a plateau part)."""
        policy = Plateau.from_dict(self.policy.to_dict())
        self.policy = policy
        self.m, self.reductions, self._base_plan, self._replans_seen = [1.0] * self.n, [], None, 0

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "_one_floor" not in state:  # pickled by an earlier lrkit
            self._one_floor = len(set(self.floors)) == 1
            self._one_min = len(set(self.policy.min_lrs)) == 1
            self._shared = False  # (the bases are not kept: the general path)
        self._one_min = len(set(self.policy.min_lrs)) == 1

    def copy(self) -> PlanPlateau:
        out = PlanPlateau.__new__(PlanPlateau)
        out.__dict__.update(self.__dict__)
        out.policy = Plateau.from_dict(self.policy.to_dict())
        out.policy.load_state_dict(self.policy.state_dict())
        out.m, out.reductions = list(self.m), [dict(r) for r in self.reductions]
        return out


def load_plateau(sched: Any, state: dict[str, Any]) -> tuple[Schedule, ...]:
    """A binding's schedules after loading ``state``: its plan (``sched._planned``) with its
    re-plans (``sched._replans``, loaded already) and the state's reductions, in order."""
    pp: PlanPlateau | None = sched._plateau
    saved = state.get("plateau")
    if pp is None:
        raise ValueError(
            "the state holds a plateau policy's reductions but this scheduler has no plateau policy: "
            "build it with plateau=... (the same policy) to resume that run"
        )
    planned, ops = sched._planned, sched._replans
    if saved is None:
        pp.fresh()
        return tuple(apply_ops(s, ops) for s in planned) if ops else planned
    return pp.rebuilt(saved, planned, ops)


def _config(d: Any) -> Any:
    """A policy's configuration without its starting lrs (the scheduler's values when it was built)."""
    return {k: v for k, v in d.items() if k not in ("lr", "learning_rate")} if isinstance(d, dict) else d


def _enc(x: float) -> float | str:
    return x if math.isfinite(x) else ("nan" if math.isnan(x) else ("inf" if x > 0 else "-inf"))


def realised(schedules: tuple[Schedule, ...], bases: SequenceT[float], n: int) -> list[Schedule]:
    """Per group, the values written as one schedule: ``base_g * schedule_g`` (``Scale`` when ``base_g != 1``)."""
    scheds = schedules if len(schedules) == n else schedules * n
    return [s if b == 1.0 else Scale(s, b) for s, b in zip(scheds, bases)]


def _paddle_bases(state: Any) -> list[float]:
    """The values a Paddle ``ScheduleLR`` state's plan multiplies: ``[learning_rate]`` (the global
    lr), or ``learning_rate * m_g`` per group in per-group mode (``m_g`` the group multipliers)."""
    base = state.get("base_lr")
    if isinstance(base, bool) or not isinstance(base, (int, float)) or not math.isfinite(base):
        raise ValueError(f"the Paddle state's base_lr must be a finite number, got {show(base)}")
    if not state.get("per_group"):
        return [float(base)]
    mults = state.get("multipliers")
    if not isinstance(mults, list) or not mults or not all(isinstance(m, (int, float)) for m in mults):
        raise ValueError(
            f"the Paddle state's multipliers must be a list of numbers (per-group mode), got {show(mults)}"
        )
    return [float(base) * float(m) for m in mults]


def _torch_bases(state: Any) -> list[float]:
    """The values a torch ``ScheduleLR`` state's plan multiplies: 1.0 per group for
    ``absolute=True``, else each group's base value (its initial lr)."""
    bases = state.get("base_values")
    if not isinstance(bases, list) or not bases or not all(isinstance(b, (int, float)) for b in bases):
        raise ValueError(f"the torch state's base_values must be a list of numbers, got {show(bases)}")
    if state.get("groups", len(bases)) != len(bases):
        raise ValueError(f"the torch state has groups={state.get('groups')!r} but {len(bases)} base_values")
    return [1.0] * len(bases) if state.get("absolute") else [float(b) for b in bases]


def _same_bases(mine: list[float], theirs: list[float], who: str, hint: str) -> None:
    if mine != theirs:
        raise ValueError(
            f"{who}: the plan multiplies {theirs} in the saved run but {mine} here (per group); "
            f"the lrs would differ. {hint}"
        )


def _schedules_for(saved: Any, n_mine: int, who: str) -> Any:
    """The saved plan's fingerprints as a scheduler of ``n_mine`` schedules lists them: one shared
    schedule repeated (or the same one per group said once), else as saved."""
    if not isinstance(saved, list) or not saved:
        raise ValueError(f"{who}: the state's schedules must be a non-empty list, got {show(saved)}")
    if n_mine > 1 and len(saved) == 1:
        return saved * n_mine
    if n_mine == 1 and len(saved) > 1 and all(s == saved[0] for s in saved):
        return saved[:1]
    return saved


def torch_state_for_paddle(sched: Any, state: dict[str, Any]) -> dict[str, Any]:
    """A state saved by :class:`lrkit.torch.ScheduleLR` (driving ``lr``) as the state of a Paddle
    :class:`lrkit.paddle.ScheduleLR` ``sched`` of the same plan: the same position, re-plans and
    plateau reductions, so the Paddle run goes on with the same lrs.

    One torch param group loads into the global lr (Paddle's global mode); ``G`` groups load into
    a per-group Paddle scheduler of ``G`` groups (a list of ``G`` schedules; a torch scheduler with
    one schedule for all groups is the same schedule ``G`` times). The values the plan multiplies
    must be equal per group: torch's base value ``b_g`` (1.0 for ``absolute=True``) against
    Paddle's ``learning_rate * m_g`` (``m_g`` the group's ``learning_rate`` multiplier)."""
    who = "a torch ScheduleLR state loading into a Paddle ScheduleLR"
    groups, key = state.get("groups"), state.get("key", "lr")
    if key != "lr":
        raise ValueError(f"{who}: the torch scheduler drove {key!r}, not 'lr'")
    theirs = _torch_bases(state)
    if sched._per_group:
        mine = [sched._base * m for m in (sched._multipliers or [])]
        hint = "Give the Paddle scheduler learning_rate=1.0 and group multipliers equal to torch's lrs."
    else:
        if groups != 1:
            raise ValueError(
                f"{who}: {groups!r} torch param groups load only into a per-group Paddle scheduler "
                "(a list of schedules, one per group, and parameters=the param groups); this one drives the global lr"
            )
        mine = [sched._base]
        hint = "Give the Paddle scheduler learning_rate= torch's lr (1.0 for absolute=True)."
    if len(mine) != len(theirs):
        raise ValueError(f"{who}: the torch state has {len(theirs)} param groups, this scheduler {len(mine)}")
    _same_bases(mine, theirs, who, hint)
    out: dict[str, Any] = {
        "class": "lrkit.paddle.ScheduleLR",
        "per_group": sched._per_group,
        "schedules": _schedules_for(state.get("schedules"), len(sched._plan), who),
        "base_lr": sched._base,
        "multipliers": sched._identity()["multipliers"],
        "last_epoch": state["last_epoch"],
        "steps_per_epoch": state.get("steps_per_epoch"),
        "replans": state.get("replans", []),
    }
    if "plateau" in state:
        out["plateau"] = state["plateau"]
    return out


def paddle_state_for_torch(sched: Any, state: dict[str, Any]) -> dict[str, Any]:
    """A state saved by :class:`lrkit.paddle.ScheduleLR` as the state of a torch
    :class:`lrkit.torch.ScheduleLR` ``sched`` (driving ``lr``) of the same plan: the converse of
    :func:`torch_state_for_paddle`. The global lr loads into one param group; a per-group Paddle
    scheduler of ``G`` groups into ``G`` param groups, each plan multiplying the same value
    (Paddle's ``learning_rate * m_g`` against torch's base value, 1.0 for ``absolute=True``)."""
    who = "a Paddle ScheduleLR state loading into a torch ScheduleLR"
    if sched._key != "lr":
        raise ValueError(f"{who}: this scheduler drives {sched._key!r}; a Paddle state is an lr's")
    theirs = _paddle_bases(state)
    mine = list(sched._bases)
    if len(mine) != len(theirs):
        raise ValueError(
            f"{who}: the Paddle state drives {len(theirs)} lr(s) "
            f"({'one per group' if state.get('per_group') else 'the global lr'}), this optimizer has "
            f"{len(mine)} param groups"
        )
    _same_bases(
        mine,
        theirs,
        who,
        "Give torch's param groups lr = Paddle's learning_rate * multiplier (or absolute=True with "
        "learning_rate=1.0 and no multipliers).",
    )
    out: dict[str, Any] = {
        "class": "lrkit.torch.ScheduleLR",
        "groups": len(mine),
        "per_group": sched._per_group,
        "schedules": _schedules_for(state.get("schedules"), len(sched._plan), who),
        "base_values": list(sched.base_values),
        "last_epoch": state["last_epoch"],
        "key": "lr",
        "absolute": sched._absolute,
        "steps_per_epoch": state.get("steps_per_epoch"),
        "replans": state.get("replans", []),
    }
    if "plateau" in state:
        out["plateau"] = state["plateau"]
    return out


# -- the run in words: registered once, as every kind's are (lrkit.core.words: they join lrkit.explain's
# tables when it loads, so building a scheduler does not load the explain layer) -----------------------
words(
    "en",
    {
        "plateau_run.head": "Reductions on plateau ({x0}):",
        "plateau_run.cut": "  reduced x{x0} at step {x1}: {x2} (evaluation {x3}, value {x4}){x5}",
        "plateau_run.reason": "no improvement of {x0} for {x1} evaluations",
        "plateau_run.reason1": "no improvement of {x0} at the last evaluation",
        "plateau_run.label": "x{x0} @ {x1}",
        "plateau_run.floor": "; held at the floor: group {x0}",
        "plateau_run.none": "No reduction on plateau so far ({x0} evaluations of {x1}).",
        "plateau_run.metric": "the metric",
        "plateau_run.group": "Group {x0}:",
        "plateau_run.state": "A {x0} run saved at step {x1}, {x2} param group(s).",
    },
)
words(
    "zh",
    {
        "plateau_run.head": "平台期降低学习率（{x0}）：",
        "plateau_run.cut": "  第 {x1} 步降为 x{x0}：{x2}（第 {x3} 次评估，值 {x4}）{x5}",
        "plateau_run.reason": "{x0} 连续 {x1} 次评估没有改进",
        "plateau_run.reason1": "{x0} 在最近一次评估中没有改进",
        "plateau_run.label": "x{x0} @ {x1}",
        "plateau_run.floor": "；已在下限的组：{x0}",
        "plateau_run.none": "到目前为止没有因平台期降低学习率（{x1} 共评估 {x0} 次）。",
        "plateau_run.metric": "指标",
        "plateau_run.group": "第 {x0} 组：",
        "plateau_run.state": "{x0} 训练保存于第 {x1} 步，{x2} 个参数组。",
    },
)


def _say(lang: str, key: str, **values: Any) -> str:
    from .explain import LANGS, TEXTS

    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(map(repr, LANGS))}, got {lang!r}")
    return TEXTS[lang][key].format(**values)


def _step(at: float) -> str:
    """A position as a label shows it: whole numbers with thousands separators (``12,000``)."""
    return f"{int(at):,}" if float(at).is_integer() else number(at)


def _monitor(p: Plateau, lang: str) -> str:
    return p.to_dict().get("monitor") or _say(lang, "plateau_run.metric")


def _needed(p: Plateau) -> int:
    """How many evaluations without improvement a reduction takes: Keras' ``patience`` (at least
    1), the others' ``patience + 1`` (torch's rule: ``num_bad_epochs > patience``)."""
    return max(p.patience, 1) if p.flavor == "keras" else p.patience + 1


def reduction_notes(pp: PlanPlateau, lang: str = "en") -> list[dict[str, Any]]:
    """Per reduction of ``pp``: ``at`` (its position), ``factor``, ``groups`` (the groups it
    reduced; the others were held at their floor), ``m`` (each group's multiplier after it),
    ``label`` (``"x0.1 @ 12,000"``) and ``reason`` (``"no improvement of val_loss for 5
    evaluations"``), in ``lang``."""
    p = pp.policy
    need = _needed(p)
    reason = _say(lang, "plateau_run.reason" if need != 1 else "plateau_run.reason1", x0=_monitor(p, lang), x1=need)
    out: list[dict[str, Any]] = []
    prev, seen = [1.0] * pp.n, 0
    for r in pp.reductions:
        if r.get("replans", 0) != seen:  # a re-plan before it: its multipliers start again from 1
            prev, seen = [1.0] * pp.n, r.get("replans", 0)
        m = [float(v) for v in r["m"]]
        at = float(r["at"])
        out.append(
            {
                "at": at,
                "factor": p.factor,
                "groups": [g for g, (a, b) in enumerate(zip(m, prev)) if a != b],
                "m": m,
                "metric": r.get("metric"),
                "observation": r.get("observation"),
                "label": _say(lang, "plateau_run.label", x0=number(p.factor), x1=_step(at)),
                "reason": reason,
            }
        )
        prev = m
    return out


def explain_run(pp: PlanPlateau | None, realised_schedules: SequenceT[Schedule], lang: str = "en") -> str:
    """The realised schedule(s) explained (:func:`lrkit.explain`), then one line per reduction:
    its factor, position, the reason (no improvement of the monitored metric for the patience's
    evaluations) and the groups held at their floor (a run without a plateau policy: the
    schedules alone)."""
    from .explain import explain

    _say(lang, "plateau_run.metric")  # checks lang
    parts = []
    for g, s in enumerate(realised_schedules):
        head = _say(lang, "plateau_run.group", x0=g) + "\n" if len(realised_schedules) > 1 else ""
        parts.append(head + explain(s, lang))
    if pp is None:
        return "\n\n".join(parts)
    p = pp.policy
    lines = []
    if not pp.reductions:
        lines.append(_say(lang, "plateau_run.none", x0=p.state_dict()["observations"], x1=_monitor(p, lang)))
    else:
        lines.append(_say(lang, "plateau_run.head", x0=p.flavor))
        for note in reduction_notes(pp, lang):
            held = [str(g) for g in range(pp.n) if g not in note["groups"]]
            metric = note["metric"]
            lines.append(
                _say(
                    lang,
                    "plateau_run.cut",
                    x0=number(p.factor),
                    x1=number(note["at"]),
                    x2=note["reason"],
                    x3=note["observation"] if note["observation"] is not None else "?",
                    x4=metric if isinstance(metric, str) else number(float(metric)) if metric is not None else "?",
                    x5=_say(lang, "plateau_run.floor", x0=", ".join(held)) if held else "",
                )
            )
    return "\n\n".join(parts) + "\n\n" + "\n".join(lines)


# -- a saved run read back without its framework (lrkit plot/show STATE.json) ----------------------------
#: the classes whose saved state :class:`PlateauRun` reads
RUN_CLASSES = ("lrkit.torch.ScheduleLR", "lrkit.paddle.ScheduleLR")


class PlateauRun:
    """A ``ScheduleLR`` run (torch or Paddle, with or without a plateau policy) read back from
    its :meth:`state_dict`, without the framework: the plan, the re-plans and the reductions.

    The state is plain JSON (``json.dump(sched.state_dict(), f)``); it holds the plan's config
    (``schedules``), the values it multiplies (torch's ``base_values``, 1.0 each for
    ``absolute=True``; Paddle's ``learning_rate``, times each group's multiplier in per-group
    mode), the re-plans and the plateau part (:meth:`PlanPlateau.state_dict`). Group ``g``'s
    realised lr is then ``base_g * realised_g(t)`` as :meth:`lrkit.torch.ScheduleLR.realised`
    gives it, and the plan before reductions ``base_g * plan_g(t)`` (re-plans applied).
    ``lrkit.explain(run)`` is :meth:`explain`.
    """

    def __init__(self, state: Any) -> None:
        from .config import from_dict

        if not isinstance(state, dict) or state.get("class") not in RUN_CLASSES:
            raise ValueError(
                f"state must be a ScheduleLR state dict (its 'class' one of {', '.join(RUN_CLASSES)}), "
                f"got {show(state)}"
            )
        self.state = state
        self.framework = "torch" if state["class"] == RUN_CLASSES[0] else "paddle"
        pos = state.get("last_epoch")
        if isinstance(pos, bool) or not isinstance(pos, (int, float)) or not math.isfinite(pos):
            raise ValueError(f"the state's last_epoch must be a finite number, got {show(pos)}")
        self.position = float(pos)
        if self.framework == "torch" and state.get("key", "lr") != "lr":
            raise ValueError(f"the state drives {state.get('key')!r}, not the lr")
        self.bases = _torch_bases(state) if self.framework == "torch" else _paddle_bases(state)
        self.n = len(self.bases)
        fps = state.get("schedules")
        if not isinstance(fps, list) or len(fps) not in (1, self.n):
            raise ValueError(f"the state's schedules must be a list of 1 or {self.n} configs, got {show(fps)}")
        code = _python_names(fps)
        if code:
            raise ValueError(
                f"the state's plan calls Python code ({', '.join(code)}) that a saved state does not carry: "
                "only plans built from lrkit's kinds can be read back"
            )
        spe = state.get("steps_per_epoch")
        plan = tuple(from_dict(f) for f in fps)
        if spe is not None:
            plan = tuple(s.per_step(spe) for s in plan)
        self.planned: tuple[Schedule, ...] = plan
        from .replan import check_ops

        self.replans = check_ops(state.get("replans", []))
        saved = state.get("plateau")
        self.plateau: PlanPlateau | None = None
        if saved is not None:
            if not isinstance(saved, dict) or not isinstance(saved.get("policy"), dict):
                raise ValueError(
                    f"the state's 'plateau' entry must be a dict with policy, state, reductions, got {show(saved)}"
                )
            policy = Plateau.from_dict(saved["policy"])
            pp = PlanPlateau(policy, list(self.bases) if policy.flavor != "paddle" else self.bases[:1], self.bases)
            self._schedules = pp.rebuilt(saved, self.planned, self.replans)
            self.plateau = pp
        else:
            self._schedules = tuple(apply_ops(s, self.replans) for s in self.planned) if self.replans else plan

    @classmethod
    def load(cls, path: Any) -> PlateauRun:
        """The run saved as JSON at ``path`` (``json.dump(sched.state_dict(), f)``), read bounded."""
        import json

        from ._files import read_text

        text = read_text(path, "run file")
        try:
            data = json.loads(text)
        except ValueError as e:
            raise ValueError(f"run file {str(path)!r} is not JSON: {e}") from None
        return cls(data)

    @property
    def groups(self) -> list[str]:
        """The curves' names: ``group 0``, ``group 1``, ... (``lr`` for Paddle's global lr)."""
        if self.framework == "paddle" and not self.state.get("per_group"):
            return ["lr"]
        return [f"group {g}" for g in range(self.n)]

    def realised(self) -> list[Schedule]:
        """Per group, the lr the run wrote (and goes on with): ``base_g`` times the plan, its
        re-plans and the reductions, as the binding's ``realised()``."""
        return realised(self._schedules, self.bases, self.n)

    def plan(self) -> list[Schedule]:
        """Per group, the lr before any reduction: ``base_g`` times the plan with its re-plans."""
        replanned = tuple(apply_ops(s, self.replans) for s in self.planned) if self.replans else self.planned
        return realised(replanned, self.bases, self.n)

    def reductions(self, lang: str = "en") -> list[dict[str, Any]]:
        """Each reduction's position, factor, groups, label and reason (:func:`reduction_notes`)."""
        return [] if self.plateau is None else reduction_notes(self.plateau, lang)

    def series(self) -> dict[str, Schedule]:
        """The realised lr per group, by name (what ``lrkit export`` writes)."""
        return dict(zip(self.groups, self.realised()))

    def explain(self, lang: str = "en") -> str:
        """The run in words (``lang`` "en" or "zh"): where it was saved, each group's realised lr
        (:func:`lrkit.explain`) and each reduction with its reason."""
        head = _say(lang, "plateau_run.state", x0=self.framework, x1=_step(self.position), x2=self.n)
        return head + "\n\n" + explain_run(self.plateau, self.realised(), lang)


def _python_names(fp: Any) -> list[str]:
    """The ``python:...`` names (user code) anywhere in a fingerprint."""
    if isinstance(fp, str):
        return [fp] if fp.startswith("python:") else []
    if isinstance(fp, dict):
        return [n for v in fp.values() for n in _python_names(v)]
    if isinstance(fp, list):
        return [n for v in fp for n in _python_names(v)]
    return []
