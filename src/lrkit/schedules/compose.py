"""Composition: segments, warmups, holds, scaling, clipping, units, user functions."""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Sequence as SequenceT
from typing import Any, Literal

from .. import _check
from .. import _num as m
from ..core import Phase, Schedule, register
from ..ops import Positions
from ..params import derived, param

__all__ = ["Sequence", "Warmup", "Hold", "Scale", "Clip", "PerStep", "FunctionSchedule"]

_INF = math.inf
_PI = math.pi
WarmupShape = Literal["linear", "power", "exponential", "constant", "cosine", "1-sqrt", "log"]


def _nonempty(phases: list[Phase]) -> list[Phase]:
    """Drop the phases that shifting made empty (a length below the offset's rounding)."""
    return [p for p in phases if p.start < p.end]


def _left(s: Schedule, t: float) -> float:
    """The value ``s`` approaches at ``t`` from the left: ``s(t)`` where ``s`` is continuous
    at ``t``, else its value just before ``t`` (a step of a staircase, say)."""
    at = s._scalar(t)
    if t <= 0:
        return at
    before = s._scalar(math.nextafter(t, -_INF))
    return at if _meets(before, at) else before


def _meets(left: float | None, right: float) -> bool:
    """Whether a curve arriving at ``left`` and leaving from ``right`` is continuous there
    (up to the rounding of a position one ulp before the join)."""
    return left is not None and math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-300)


class Kernels:
    """The ``_kernel`` of each schedule of a tuple, looked up when used: a long
    :class:`Sequence` (a run re-planned many times) is built without a loop over its segments."""

    __slots__ = ("_of",)

    def __init__(self, schedules: tuple[Schedule, ...]) -> None:
        self._of = schedules

    def __len__(self) -> int:
        return len(self._of)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return tuple(s._kernel for s in self._of[i])
        return self._of[i]._kernel


@register("sequence")
class Sequence(Schedule):
    """Segments run back to back; segment ``i`` sees its own local position.

    With boundaries ``b_1 < ... < b_{n-1}`` (and ``b_0 = 0``)::

        f(t) = segments[i](t - b_i)    for b_i <= t < b_{i+1}

    The last segment runs for ever. Example: ``Sequence([Constant(0.1), Cosine(0.1, 90)], [10])``.

    >>> from lrkit import Constant
    >>> Sequence([Constant(0.1), Constant(0.01)], boundaries=[10])(10)
    0.01
    """

    formula = '`segments[i](t - b_i)` for `b_i <= t < b_(i+1)`'
    example = {
        "segments": [
            {"type": "constant", "lr": 0.01},
            {"type": "cosine", "peak_lr": 0.1, "total_steps": 700},
            {"type": "constant", "lr": 0.001},
        ],
        "boundaries": [100, 800],
    }
    segments: SequenceT[Schedule] = param("schedules", doc="the schedules, in order")
    boundaries: SequenceT[float] = param("lengths", doc="where each segment after the first starts")
    _starts: Positions = derived(doc="where each segment starts, 0 first")
    _kernels: Kernels = derived(doc="the segments' kernels")
    _max: float = derived(doc="max_value, computed on first use")

    def _setup(self, segments: tuple, boundaries: tuple) -> None:
        segs, bounds = segments, boundaries
        if len(bounds) != len(segs) - 1:
            raise ValueError(
                f"boundaries must hold len(segments) - 1 = {len(segs) - 1} positions, "
                f"got {len(bounds)}: {list(boundaries)!r}"
            )
        self._set(segments=segs, boundaries=bounds, _starts=Positions((0.0,) + bounds), _kernels=Kernels(segs))

    def _kernel(self, t: Any, xp: Any) -> Any:
        return xp.segments(t, self._starts, self._kernels)

    @property
    def max_value(self) -> float:
        try:
            return self._max
        except AttributeError:
            pass
        m_ = max(s.max_value for s in self.segments)
        object.__setattr__(self, "_max", m_)
        return m_

    @property
    def length(self) -> float:
        return self._starts[-1] + self.segments[-1].length

    @property
    def starts(self) -> tuple[float, ...]:
        """Where each segment starts: ``(0, *boundaries)``."""
        return self._starts

    def phases(self) -> list[Phase]:
        out: list[Phase] = []
        for i, (seg, start) in enumerate(zip(self.segments, self._starts)):
            end = self.boundaries[i] if i < len(self.boundaries) else _INF
            for p in seg.phases():
                if p.start >= end - start:
                    break
                if p.end > end - start:
                    # a phase with no end value (unbounded, or a run of cycles) is not
                    # bounded by its ends once cut either: it keeps None
                    p = p._replace(
                        end=end - start,
                        end_value=_left(seg, end - start) if end < _INF and p.end_value is not None else p.end_value,
                    )
                if p.start == 0 and i > 0:
                    p = p._replace(continuous=_meets(out[-1].end_value, p.start_value))
                out.append(p.shifted(start))
        return _nonempty(out)


class _WarmupAttributes:
    """The attributes of every warmup, for type checkers (not a schedule: no constructor parameters)."""

    schedule: Schedule
    warmup_steps: float
    shape: WarmupShape
    start_factor: float
    power: float
    tau: float | None
    start_lr: float | None


class _Warmup(Schedule, _WarmupAttributes):
    """A warmup in front of a schedule: what :class:`Warmup` and :class:`~lrkit.WarmupCosine` share
    (``_setup_warmup`` with Warmup's parameters builds it; each declares its own constructor
    parameters and its own ``_setup``)."""

    _end: float = derived(doc="the value the warmup reaches, schedule(0)")
    _start: float = derived(doc="the value at 0")
    _span: float = derived(doc="_end - _start")
    _den: float = derived(doc="the exponential shape's normalisation, 1 - exp(-warmup_steps / tau)")
    _tau: float = derived(doc="the exponential shape's time constant (warmup_steps / 5 unless given)")
    _inner: Callable[[Any, Any], Any] = derived(doc="the schedule's kernel")
    _inv_log: float = derived(doc="1 / log(warmup_steps) for the log shape, else 0")
    _rise_fn: Callable[[Any, Any], Any] = derived(doc="the bound _rise")

    def _setup_warmup(
        self,
        schedule: Schedule,
        warmup_steps: float,
        shape: str,
        start_factor: float,
        power: float,
        tau: float | None,
        start_lr: float | None,
    ) -> None:
        w, sf, p = warmup_steps, start_factor, power
        if sf > 1:
            raise ValueError(
                f"start_factor must be in [0, 1] (a fraction of the value the warmup reaches), got {start_factor!r}"
            )
        if start_lr is not None and sf != 0:
            raise ValueError(f"give start_lr ({start_lr!r}) or start_factor ({start_factor!r}), not both")
        tau_v = tau if tau is not None else (w / 5 if w > 0 else 1.0)
        end = schedule._scalar(0.0)
        den = -m.expm1(-w / tau_v) if (w > 0 and shape == "exponential") else 1.0
        if shape == "log" and w < 2:
            raise ValueError(
                f"the log warmup needs warmup_steps >= 2 (it divides by log(warmup_steps)), got {warmup_steps!r}"
            )
        if den == 0:  # warmup_steps / tau underflows: the normalisation would divide by zero
            raise ValueError(
                f"tau ({tau!r}) is too long for warmup_steps ({warmup_steps!r}): "
                "warmup_steps / tau must be above 1e-300"
            )
        start = sf * end if start_lr is None else start_lr
        self._set(
            schedule=schedule,
            warmup_steps=w,
            shape=shape,
            start_factor=sf,
            power=p,
            tau=tau,
            start_lr=start_lr,
            _end=end,
            _start=start,
            _span=end - start,
            _den=den,
            _tau=tau_v,
            _inner=schedule._kernel,
            _inv_log=1.0 / m.log(w) if shape == "log" else 0.0,
        )
        self._set(_rise_fn=self._rise)

    def _rise(self, t: Any, xp: Any) -> Any:
        """The warmup's formula: from the start value up to ``schedule(0)`` over ``[0, W)``."""
        shape, u = self.shape, t / self.warmup_steps
        if shape == "linear":
            g = u
        elif shape == "power":
            g = u * u if self.power == 2.0 else xp.pow(u, self.power)
        elif shape == "exponential":
            g = -xp.expm1(-t / self._tau) / self._den
        elif shape == "cosine":
            g = 0.5 * (1.0 - xp.cos(_PI * u))
        elif shape == "1-sqrt":
            g = 1.0 - xp.sqrt(1.0 - u)
        elif shape == "log":
            g = self._inv_log * xp.log(xp.maximum(t, 1.0))
        else:  # constant
            g = u * 0.0
        return self._start + self._span * g

    def _kernel(self, t: Any, xp: Any) -> Any:
        return xp.split(t, self.warmup_steps, self._rise_fn, self._inner)

    @property
    def length(self) -> float:
        return self.warmup_steps + self.schedule.length

    @property
    def start_value(self) -> float:
        """The value at 0, where the warmup starts."""
        return self._start

    @property
    def target(self) -> float:
        """The value the warmup reaches at ``warmup_steps``: ``schedule(0)``."""
        return self._end

    @property
    def time_constant(self) -> float:
        """The exponential shape's ``tau`` (``warmup_steps / 5`` unless given)."""
        return self._tau

    @property
    def max_value(self) -> float:
        return max(self._start, self.schedule.max_value)

    def phases(self) -> list[Phase]:
        inner = [p.shifted(self.warmup_steps) for p in self.schedule.phases()]
        if self.warmup_steps == 0:
            return inner
        end_value = self._start if self.shape == "constant" else self._end
        warm = Phase(f"warmup ({self.shape})", 0.0, self.warmup_steps, self._start, end_value, True)
        inner[0] = inner[0]._replace(continuous=self.shape != "constant")
        return _nonempty([warm] + inner)


@register("warmup")
class Warmup(_Warmup):
    """A warmup of ``warmup_steps`` prepended to ``schedule``, ending at its first value.

    With ``W = warmup_steps``, ``e = schedule(0)``, ``s = start_factor * e`` and
    ``u = t / W``::

        linear:       s + (e - s) * u
        power:        s + (e - s) * u ** power                     (quadratic by default)
        exponential:  s + (e - s) * (1 - exp(-t/tau)) / (1 - exp(-W/tau))
        log:          s + (e - s) * log(max(t, 1)) / log(W)         (DeepSpeed's, W >= 2)
        constant:     s                                             (then a jump to e)
        f(t) = schedule(t - W)   for t >= W

    The exponential shape is the ``1 - exp(-t/tau)`` warmup, normalised so it
    reaches ``e`` exactly at ``W`` (``tau`` defaults to ``W / 5``). ``warmup_steps=0``
    means no warmup.

    >>> from lrkit import Constant
    >>> Warmup(Constant(0.1), 10)(5)
    0.05
    """

    formula = '`s + (e - s) g(t/W)` with `g` linear, power, exponential, cosine, 1-sqrt, log or 0 (constant), `e = schedule(0)`; then `schedule(t - W)`'
    example = {
        "schedule": {"type": "cosine", "peak_lr": 0.1, "total_steps": 900, "min_lr": 0.001},
        "warmup_steps": 100,
        "shape": "exponential",
    }
    schedule: Schedule = param("schedule", doc="what follows the warmup")
    warmup_steps: float = param("length0", doc="length of the warmup (0: none)")
    shape: WarmupShape = param("choice", default="linear", doc="how the warmup rises")
    start_factor: float = param("factor", default=0.0, doc="start at this fraction of schedule(0), in [0, 1]")
    power: float = param("positive", default=2.0, doc="the exponent of the power shape")
    tau: float | None = param(
        "positive",
        default=None,
        doc="time constant of the exponential shape (default: warmup_steps / 5)",
        optional=True,
    )
    start_lr: float | None = param(
        "rate", default=None, doc="an absolute start value instead of start_factor", optional=True
    )

    def _setup(
        self,
        schedule: Schedule,
        warmup_steps: float,
        shape: str,
        start_factor: float,
        power: float,
        tau: float | None,
        start_lr: float | None,
    ) -> None:
        self._setup_warmup(schedule, warmup_steps, shape, start_factor, power, tau, start_lr)


@register("hold")
class Hold(Schedule):
    """``schedule`` until ``end``, then a constant: ``value`` if given, else ``schedule(end)``.

    >>> from lrkit import Linear
    >>> Hold(Linear(1.0, 10), end=5)(8)
    0.5
    """

    formula = '`schedule(t)` until `end`, then `value` (default `schedule(end)`)'
    example = {"schedule": {"type": "cosine", "peak_lr": 0.1, "total_steps": 1000}, "end": 600}
    schedule: Schedule = param("schedule", doc="followed until end")
    end: float = param("length0", doc="where the value is frozen")
    value: float | None = param(
        "rate", default=None, doc="the value held from end (default: schedule(end))", optional=True
    )
    _held: float = derived(doc="the value held from end")

    def _setup(self, schedule: Schedule, end: float, value: float | None) -> None:
        e, v = end, value
        self._set(schedule=schedule, end=e, value=v, _held=schedule._scalar(e) if v is None else v)

    def _kernel(self, t: Any, xp: Any) -> Any:
        return xp.hold(t, self.end, self.schedule._kernel, self._held)

    @property
    def max_value(self) -> float:
        return max(self.schedule.max_value, self._held)

    @property
    def held_value(self) -> float:
        """The value from ``end`` on: ``value``, or ``schedule(end)`` when it is not given."""
        return self._held

    @property
    def length(self) -> float:
        # An explicit value can jump at ``end``: the curve is constant only from there.
        return min(self.end, self.schedule.length) if self.value is None else self.end

    def phases(self) -> list[Phase]:
        out = []
        for p in self.schedule.phases():
            if p.start >= self.end:
                break
            if p.end > self.end:
                ev = None if p.end_value is None else _left(self.schedule, self.end)
                p = p._replace(end=self.end, end_value=ev)
            out.append(p)
        prev = _left(self.schedule, self.end) if out else None
        out.append(Phase("hold", self.end, _INF, self._held, self._held, _meets(prev, self._held)))
        return out


class _Map(Schedule):
    """A schedule whose values are a fixed function of another's."""

    __slots__ = ()

    def _map(self, v: float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def length(self) -> float:
        return self.schedule.length  # type: ignore[attr-defined]

    @property
    def max_value(self) -> float:
        return self._map(self.schedule.max_value)  # type: ignore[attr-defined]

    def phases(self) -> list[Phase]:
        return [p.mapped(self._map) for p in self.schedule.phases()]  # type: ignore[attr-defined]


@register("scale")
class Scale(_Map):
    """``factor * schedule(t)``.

    >>> from lrkit import Constant
    >>> Scale(Constant(0.5), factor=0.1)(3)
    0.05
    """

    formula = '`factor * schedule(t)`'
    example = {"schedule": {"type": "cosine", "peak_lr": 1.0, "total_steps": 1000}, "factor": 0.05}
    schedule: Schedule = param("schedule", doc="the schedule scaled")
    factor: float = param("factor", doc="the multiplier")

    def _setup(self, schedule: Schedule, factor: float) -> None:
        f = factor
        top = schedule.max_value
        if top < _INF and not f * top < _INF:
            raise ValueError(
                f"factor ({_check.show(factor)}) times the schedule's largest value ({top!r}) overflows float64"
            )
        self._set(schedule=schedule, factor=f)

    def _map(self, v: float) -> float:
        return self.factor * v

    def _kernel(self, t: Any, xp: Any) -> Any:
        # A product past float64's range is inf here, which the value check reports.
        return self.factor * self.schedule._kernel(t, xp)


@register("clip")
class Clip(_Map):
    """``min(max(schedule(t), min_lr), max_lr)``.

    >>> from lrkit import Cosine
    >>> Clip(Cosine(1.0, 100), min_lr=0.1)(99)
    0.1
    """

    formula = '`min(max(schedule(t), min_lr), max_lr)`'
    example = {"schedule": {"type": "cosine", "peak_lr": 0.1, "total_steps": 1000}, "min_lr": 0.01, "max_lr": 0.08}
    schedule: Schedule = param("schedule", doc="the schedule clipped")
    min_lr: float = param("rate", default=0.0, doc="values below are raised to it")
    max_lr: float | None = param(
        "rate", default=None, doc="values above are lowered to it (default: none)", optional=True, unbounded=True
    )

    def _setup(self, schedule: Schedule, min_lr: float, max_lr: float | None) -> None:
        hi = _INF if max_lr is None else max_lr
        _check.not_above("min_lr", min_lr, "max_lr", hi)
        self._set(schedule=schedule, min_lr=min_lr, max_lr=hi)

    def _map(self, v: float) -> float:
        hi = self.max_lr  # _setup stores inf for "no upper bound"
        return min(max(v, self.min_lr), _INF if hi is None else hi)

    def _kernel(self, t: Any, xp: Any) -> Any:
        return xp.minimum(xp.maximum(self.schedule._kernel(t, xp), self.min_lr), self.max_lr)

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        if self.max_lr == _INF:
            del d["max_lr"]  # JSON has no infinity
        return d


@register("per_step")
class PerStep(Schedule):
    """An epoch-defined ``schedule`` evaluated per iteration: ``schedule(t / steps_per_epoch)``.

    >>> from lrkit import Step
    >>> PerStep(Step(1.0, step_size=2, gamma=0.5), steps_per_epoch=100)(250)
    0.5
    """

    formula = '`schedule(t / steps_per_epoch)`'
    example = {
        "schedule": {"type": "multistep", "peak_lr": 0.1, "milestones": [3, 6], "gamma": 0.1},
        "steps_per_epoch": 100,
    }
    schedule: Schedule = param("schedule", doc="a schedule in epochs")
    steps_per_epoch: float = param("length", doc="positions (steps) per epoch")

    def _kernel(self, t: Any, xp: Any) -> Any:
        return self.schedule._kernel(xp.guard(t / self.steps_per_epoch, self._too_far), xp)

    def _too_far(self) -> str:
        return f"a position / steps_per_epoch {self.steps_per_epoch!r} overflows float64"

    @property
    def length(self) -> float:
        return self.schedule.length * self.steps_per_epoch

    @property
    def max_value(self) -> float:
        return self.schedule.max_value

    def phases(self) -> list[Phase]:
        k = self.steps_per_epoch
        return [p._replace(start=p.start * k, end=p.end * k) for p in self.schedule.phases()]


class FunctionSchedule(Schedule):
    """A user function ``fn(t) -> value`` as a schedule (not serialisable to a config).

    Each value is checked: a negative, NaN or infinite result raises ``ValueError``.
    """

    __slots__ = ("fn",)
    _fields = ("fn",)
    kind = "function"

    def __init__(self, fn: Callable[[float], float]) -> None:
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {fn!r}")
        self._set(fn=fn)

    def _one(self, t: float) -> float:
        r = self.fn(t)
        if isinstance(r, (str, bytes, bool)) or not hasattr(r, "__float__"):
            raise TypeError(
                f"the schedule function returned {_check.show(r)} ({type(r).__name__}) at position "
                f"{t!r}; it must return a number"
            )
        v = float(r)
        if not (0 <= v < _INF):
            raise ValueError(f"the schedule function returned {v!r} at position {t!r}; values must be finite and >= 0")
        return v

    def _kernel(self, t: Any, xp: Any) -> Any:
        return xp.apply(self._one, t)


class IntPositions:
    """Wraps ``fn`` so whole-number positions reach it as ``int`` (PyTorch's ``LambdaLR`` and
    Paddle's ``LambdaDecay`` call their functions with an int step; some functions index
    with it). Fractional positions pass through as floats. Picklable when ``fn`` is.
    """

    __slots__ = ("fn",)

    def __init__(self, fn: Callable[[float], float]) -> None:
        self.fn = fn

    def __call__(self, t: float) -> float:
        k = int(t)
        return self.fn(k if k == t else t)

    def __eq__(self, other: object) -> bool:
        return type(other) is IntPositions and other.fn == self.fn  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self.fn)

    def __repr__(self) -> str:
        return f"{getattr(self.fn, '__qualname__', self.fn)!r}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (IntPositions, (self.fn,))
