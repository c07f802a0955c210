"""More of the algebra: a shifted clock, sums, ramps in either direction, piecewise constants.

With these, what peers write as a flag becomes an expression: a warmup that overlays
a schedule running on the global clock (timm's ``warmup_prefix=False``, detectron2's
``WarmupParamScheduler``) is ``Sequence([ramp, Shift(s, W)], [W])``; a floor plus a
decaying amplitude (Keras' ``CosineDecayRestarts`` with ``alpha``) is a ``Sum``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

from .. import _check
from .. import _num as m
from ..core import Phase, Schedule, explainer, register, warmup_end, words
from ..ops import SCALAR, Positions
from ..params import derived, param

__all__ = ["Shift", "Retime", "Sum", "Product", "Ramp", "Piecewise", "Dampening", "dampened"]

_INF = math.inf
_PI = math.pi
_PAST = 2 * _check.MAX_LENGTH  # a position past every schedule's length


@register("shift")
class Shift(Schedule):
    """A schedule on a clock that runs ahead: ``f(t) = schedule(t + offset)``.

    It starts ``offset`` positions into ``schedule``. Put after a warmup of ``W``
    positions with ``offset = W``, the schedule keeps the global clock: the warmup
    overlays its first ``W`` positions instead of delaying it.

    >>> from lrkit import Linear
    >>> Shift(Linear(1.0, 10), offset=4)(1)
    0.5
    """

    formula = "`schedule(t + offset)`"
    example = {"schedule": {"type": "cosine", "peak_lr": 0.1, "total_steps": 1000, "min_lr": 0.001}, "offset": 300}
    schedule: Schedule = param("schedule", doc="the schedule read ahead")
    offset: float = param("length0", doc="how far ahead its clock runs")

    def _kernel(self, t: Any, xp: Any) -> Any:
        return self.schedule._kernel(t + self.offset, xp)

    @property
    def length(self) -> float:
        return max(self.schedule.length - self.offset, 0.0)

    @property
    def max_value(self) -> float:
        return self.schedule.max_value

    def phases(self) -> list[Phase]:
        out = []
        for p in self.schedule.phases():
            if p.end <= self.offset:
                continue
            q = p.shifted(-self.offset)
            if q.start < 0:
                q = q._replace(start=0.0, start_value=self.schedule._scalar(self.offset), continuous=True)
            out.append(q)
        return out


class _Clocks:
    """Piece ``i``'s clock of a :class:`Retime` as a kernel function, made when used
    (a run re-timed many times is built without a loop over its pieces)."""

    __slots__ = ("_o", "_a", "_b")

    def __init__(self, origins: tuple, inner: tuple, outer: tuple) -> None:
        self._o, self._a, self._b = origins, inner, outer

    def __len__(self) -> int:
        return len(self._o)

    def _one(self, i: int) -> Any:
        o, a, b = self._o[i], self._a[i], self._b[i]
        if o == 0.0 and a == b:
            return lambda u, xp: u  # the schedule's own clock
        return lambda u, xp: o + u * a / b

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return tuple(self._one(j) for j in range(len(self._o))[i])
        return self._one(i if i >= 0 else len(self._o) + i)


@register("retime")
class Retime(Schedule):
    """``schedule`` read on a clock whose speed changes at given positions: a run
    re-timed where its plan changed (:func:`lrkit.replan.replan` with ``total_steps``).

    With ``b_0 = 0`` and the ``boundaries`` ``b_1 < ... < b_n``, piece ``i`` starts
    where the schedule's own clock reads ``origins[i]`` and runs ``inner_spans[i]``
    of the schedule's positions in ``outer_spans[i]`` of its own::

        f(t) = schedule(origins[i] + (t - b_i) * inner_spans[i] / outer_spans[i])
                                                   for b_i <= t < b_(i+1)

    >>> from lrkit import Linear
    >>> s = Retime(Linear(1.0, 100), boundaries=[50], origins=[0, 50], inner_spans=[1, 50], outer_spans=[1, 100])
    >>> s(25), s(50), s(100), s(150)
    (0.75, 0.5, 0.25, 0.0)
    """

    formula = "`schedule(origins[i] + (t - b_i) * inner_spans[i] / outer_spans[i])` for `b_i <= t < b_(i+1)`"
    PAST: ClassVar[float] = _PAST
    example = {
        "schedule": {"type": "cosine", "peak_lr": 0.1, "total_steps": 1000, "min_lr": 0.001},
        "boundaries": [400],
        "origins": [0, 400],
        "inner_spans": [1, 600],
        "outer_spans": [1, 1200],
    }
    schedule: Schedule = param("schedule", doc="the schedule read on the new clock")
    boundaries: Sequence[float] = param("lengths", doc="where each piece after the first starts")
    origins: Sequence[float] = param("reals", doc="the schedule's position at the start of each piece (>= 0)")
    inner_spans: Sequence[float] = param("reals", doc="per piece: positions of the schedule (> 0) ...")
    outer_spans: Sequence[float] = param("reals", doc="... run in this many positions (> 0)")
    _starts: Positions = derived(doc="where each piece starts, 0 first")
    _clocks: _Clocks = derived(doc="each piece's clock")

    def _setup(
        self, schedule: Schedule, boundaries: tuple, origins: tuple, inner_spans: tuple, outer_spans: tuple
    ) -> None:
        n = len(boundaries) + 1
        for name, v in (("origins", origins), ("inner_spans", inner_spans), ("outer_spans", outer_spans)):
            if len(v) != n:
                raise ValueError(
                    f"retime: {name} must hold one entry per piece (len(boundaries) + 1 = {n}), got {len(v)}"
                )
        for i, o in enumerate(origins):
            if not o >= 0:
                raise ValueError(f"retime: origins[{i}] must be a position >= 0, got {o!r}")
        for name, v in (("inner_spans", inner_spans), ("outer_spans", outer_spans)):
            for i, x in enumerate(v):
                if not x > 0:
                    raise ValueError(f"retime: {name}[{i}] must be > 0 (a clock runs forward), got {x!r}")
        self._fill(schedule, boundaries, origins, inner_spans, outer_spans)

    def _fill(self, schedule: Schedule, boundaries: tuple, origins: tuple, inner: tuple, outer: tuple) -> None:
        self._set(
            schedule=schedule,
            boundaries=boundaries,
            origins=origins,
            inner_spans=inner,
            outer_spans=outer,
            _starts=Positions((0.0,) + boundaries),
            _clocks=_Clocks(origins, inner, outer),
        )

    def clock(self, t: float) -> float:
        """The schedule's own position at position ``t`` (the kernel's clock, same rounding)."""
        i = SCALAR.count_le(self._starts, t) - 1
        return self._clocks[i](t - self._starts[i], None)

    def _kernel(self, t: Any, xp: Any) -> Any:
        w = xp.segments(t, self._starts, self._clocks)
        if self.schedule.length < _INF:
            # constant past its length (at most MAX_LENGTH): a clock read past float64's range reads its last value
            return self.schedule._kernel(xp.minimum(w, _PAST), xp)
        return self.schedule._kernel(xp.guard(w, self._too_far), xp)

    def _too_far(self) -> str:
        return "retime: a position on the re-timed clock overflows float64"

    @property
    def length(self) -> float:
        L = self.schedule.length
        if not L < _INF:
            return _INF
        b, o, a, d = self._starts[-1], self.origins[-1], self.inner_spans[-1], self.outer_spans[-1]
        if L <= o:
            return b
        return b + (d if L - o == a else (L - o) * d / a)

    @property
    def max_value(self) -> float:
        return self.schedule.max_value

    def phases(self) -> list[Phase]:
        out: list[Phase] = []
        inner = self.schedule.phases()
        ends = (*self.boundaries, _INF)
        for i, (b, e) in enumerate(zip(self._starts, ends)):
            o, a, d = self.origins[i], self.inner_spans[i], self.outer_spans[i]
            top = o + (e - b) * a / d if e < _INF else _INF
            for p in inner:
                if p.end <= o or p.start >= top:
                    continue
                lo = b + (max(p.start, o) - o) * d / a
                hi = min(b + (p.end - o) * d / a, e) if p.end < _INF else e
                if not lo < hi:
                    continue
                end_value = (
                    None
                    if p.end_value is None
                    else (p.end_value if p.end <= top else self._scalar(math.nextafter(hi, -_INF)))
                )
                out.append(
                    Phase(p.name, lo, hi, self._scalar(lo), end_value, True if (out and lo == b) else p.continuous)
                )
        return out


class _Fold(Schedule):
    """Several schedules combined position by position, left to right: ``s_1(t) op s_2(t) op ...``."""

    __slots__ = ()

    def _combine(self, a: Any, b: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _kernel(self, t: Any, xp: Any) -> Any:
        terms = self.schedules  # type: ignore[attr-defined]
        v = terms[0]._kernel(t, xp)
        for s in terms[1:]:
            v = self._combine(v, s._kernel(t, xp))
        return v

    @property
    def length(self) -> float:
        return max(s.length for s in self.schedules)  # type: ignore[attr-defined]

    def _checked_tops(self, schedules: tuple, total: float, what: str) -> None:
        """Refuse, when built, terms whose largest values combine past float64's range."""
        tops = [s.max_value for s in schedules]
        if all(x < _INF for x in tops) and not total < _INF:
            raise ValueError(
                f"{self.kind}: the largest values of the schedules {what} past float64's range "
                f"({', '.join(repr(x) for x in tops)})"
            )


@register("sum")
class Sum(_Fold):
    """The sum of several schedules: ``f(t) = s_1(t) + s_2(t) + ...``.

    A floor plus a decaying amplitude, say: ``Sum([Constant(floor), CosineRestarts(...)])``.

    >>> from lrkit import Constant, Linear
    >>> Sum([Constant(0.01), Linear(0.09, 10)])(5)
    0.055
    """

    formula = "`s_1(t) + s_2(t) + ...`"
    example = {
        "schedules": [
            {"type": "constant", "lr": 0.01},
            {"type": "cosine_restarts", "peak_lr": 0.09, "period": 200, "peak_decay": 0.6},
        ]
    }
    schedules: Sequence[Schedule] = param("schedules", doc="the terms, added left to right")

    def _setup(self, schedules: tuple) -> None:
        self._checked_tops(schedules, sum(s.max_value for s in schedules), "add up")
        self._set(schedules=schedules)

    def _combine(self, a: Any, b: Any) -> Any:
        return a + b

    @property
    def max_value(self) -> float:
        return sum(s.max_value for s in self.schedules)


@register("product")
class Product(_Fold):
    """The product of several schedules: ``f(t) = s_1(t) * s_2(t) * ... * s_n(t)``.

    Useful when independent multiplicative factors act at once, e.g. a warmup
    multiplier times a step decay (what PyTorch's ``ChainedScheduler`` does with
    multiplicative schedulers). The factors are multiplied left to right.

    >>> from lrkit import Constant, Step
    >>> Product([Constant(0.5), Step(0.1, 10, 0.1)])(10)
    0.005000000000000001
    """

    formula = '`s_1(t) * s_2(t) * ...`'
    example = {
        "schedules": [
            {"type": "step", "peak_lr": 0.1, "step_size": 300, "gamma": 0.5},
            {"type": "warmup", "schedule": {"type": "constant", "lr": 1.0}, "warmup_steps": 100},
        ]
    }
    schedules: Sequence[Schedule] = param("schedules", doc="the factors, multiplied left to right")

    def _setup(self, schedules: tuple) -> None:
        top = 1.0
        for s in schedules:
            top *= s.max_value
        self._checked_tops(schedules, top, "multiply")
        self._set(schedules=schedules)

    def _combine(self, a: Any, b: Any) -> Any:
        return a * b

    @property
    def max_value(self) -> float:
        tops = [s.max_value for s in self.schedules]
        if 0.0 in tops:
            return 0.0
        return math.prod(tops)


RampShape = Literal["linear", "cosine", "power", "exponential"]


@register("ramp")
class Ramp(Schedule):
    """From ``start_lr`` to ``end_lr`` over ``total_steps``, up or down, then ``end_lr``.

    With ``a = start_lr``, ``b = end_lr``, ``T = total_steps`` and ``u = t / T``::

        linear:       a + (b - a) * u
        cosine:       b + (a - b) * (1 + cos(pi u)) / 2
        power:        a + (b - a) * u ** power
        exponential:  a + (b - a) * (1 - exp(-t / tau)) / (1 - exp(-T / tau))

    Unlike the decays, ``end_lr`` may be above ``start_lr``: a rising segment. The
    exponential shape moves fast first and slowly near ``T`` (``tau`` defaults to
    ``T / 5``); with ``tau = T / ln(1 / r)`` its fraction done is
    ``(1 - r ** u) / (1 - r)``, timm's ``decay_fn="exp"`` with ``decay_ratio=r``.

    >>> Ramp(start_lr=0.0, end_lr=1.0, total_steps=10)(5)
    0.5
    >>> Ramp(start_lr=1.0, end_lr=0.0, total_steps=10, shape="power", power=0.5)(2.5)
    0.5
    >>> round(Ramp(0.0, 1.0, 10, shape="exponential", tau=10 / math.log(4))(5), 12)
    0.666666666667
    """

    formula = (
        "`start + (end - start) g(u)`, `u = t/T`, `g` = `u`, `(1 - cos(pi u))/2`, `u^power` or "
        "`(1 - e^(-t/tau))/(1 - e^(-T/tau))` (linear, cosine, power, exponential); then `end`"
    )
    example = {"start_lr": 0.001, "end_lr": 0.1, "total_steps": 800, "shape": "cosine"}
    start_lr: float = param("rate", doc="the value at 0")
    end_lr: float = param("rate", doc="the value reached at total_steps, and held")
    total_steps: float = param("length", doc="length of the ramp")
    shape: RampShape = param("choice", default="linear", doc="how it goes")
    power: float = param("positive", default=2.0, doc="the exponent of the power shape")
    tau: float | None = param(
        "positive", default=None, doc="time constant of the exponential shape (default: total_steps / 5)", optional=True
    )
    _tau: float = derived(doc="the exponential shape's time constant (total_steps / 5 unless given)")
    _den: float = derived(doc="-(1 - exp(-total_steps / tau)) for the exponential shape, else -1")

    def _setup(
        self, start_lr: float, end_lr: float, total_steps: float, shape: str, power: float, tau: float | None
    ) -> None:
        T = total_steps
        tau_v = tau if tau is not None else T / 5
        # the exponential shape's normalisation, 1 - exp(-T / tau), written as -expm1 (exact for small T / tau)
        den = m.expm1(-T / tau_v) if shape == "exponential" else -1.0
        if den == 0:
            raise ValueError(
                f"tau ({tau!r}) is too long for total_steps ({total_steps!r}): total_steps / tau must be above 1e-300"
            )
        self._set(
            start_lr=start_lr, end_lr=end_lr, total_steps=T, shape=shape, power=power, tau=tau, _tau=tau_v, _den=den
        )

    @property
    def time_constant(self) -> float:
        """The exponential shape's ``tau`` (``total_steps / 5`` unless given)."""
        return self._tau

    def _kernel(self, t: Any, xp: Any) -> Any:
        # from T on: end_lr, as the formula on min(t, T) gives there (u = 1, cos(pi) = -1)
        c = xp.minimum(t, self.total_steps)
        u = c / self.total_steps
        a, b = self.start_lr, self.end_lr
        if self.shape == "cosine":
            return b + (a - b) * 0.5 * (1.0 + xp.cos(_PI * u))
        if self.shape == "linear":
            g = u
        elif self.shape == "power":
            g = xp.pow(u, self.power)
        else:  # exponential: expm1(-t / tau) / expm1(-T / tau), both negative
            g = xp.expm1(-c / self._tau) / self._den
        return xp.where(u < 1.0, a + (b - a) * g, b)

    @property
    def length(self) -> float:
        return self.total_steps

    @property
    def max_value(self) -> float:
        return max(self.start_lr, self.end_lr)

    def phases(self) -> list[Phase]:
        name = f"ramp {'up' if self.end_lr >= self.start_lr else 'down'} ({self.shape})"
        return [
            Phase(name, 0.0, self.total_steps, self.start_lr, self.end_lr, True),
            Phase("hold", self.total_steps, _INF, self.end_lr, self.end_lr, True),
        ]


@register("piecewise")
class Piecewise(Schedule):
    """Piecewise constant: ``values[i]`` for ``boundaries[i-1] <= t < boundaries[i]``.

    ``values`` has one more entry than ``boundaries`` (the first value holds from 0,
    the last one for ever), as PyTorch's and Paddle's piecewise schedules and Keras'
    ``PiecewiseConstantDecay``.

    >>> Piecewise(values=[0.1, 0.01, 0.001], boundaries=[10, 20])(15)
    0.01
    """

    formula = "`values[i]` for `boundaries[i-1] <= t < boundaries[i]`"
    example = {"values": [0.1, 0.05, 0.01, 0.001], "boundaries": [300, 600, 800]}
    values: Sequence[float] = param("rates", doc="the value of each piece")
    boundaries: Sequence[float] = param("lengths", doc="where each piece after the first starts")

    def _setup(self, values: tuple, boundaries: tuple) -> None:
        if len(values) != len(boundaries) + 1:
            raise ValueError(
                f"values must hold one more entry than boundaries: got {len(values)} values for "
                f"{len(boundaries)} boundaries"
            )
        self._set(values=values, boundaries=boundaries)

    def _kernel(self, t: Any, xp: Any) -> Any:
        return xp.take(self.values, xp.count_le(self.boundaries, t))

    @property
    def length(self) -> float:
        return self.boundaries[-1] if self.boundaries else 0.0

    @property
    def max_value(self) -> float:
        return max(self.values)

    def phases(self) -> list[Phase]:
        starts = (0.0, *self.boundaries)
        ends = (*self.boundaries, _INF)
        return [
            Phase(f"piece {i + 1}", a, b, v, v, i == 0 or v == self.values[i - 1])
            for i, (a, b, v) in enumerate(zip(starts, ends, self.values))
        ]


DampeningShape = Literal["linear", "exponential"]


@register("dampening")
class Dampening(Schedule):
    """A warmup factor on the schedule's own clock, as pytorch-warmup defines it.

    With ``P = period``::

        linear:       min(1, (t + 1) / P)
        exponential:  1 - exp(-(t + 1) / P)

    Multiply a schedule by it (:func:`dampened`) to warm up without delaying the
    schedule: the factor of update ``t`` (from 0) is the one pytorch-warmup applies
    with ``with warmup.dampening(): scheduler.step()``.

    >>> Dampening(period=4)(1)
    0.5
    """

    value_name = "multiplier of the base lr"

    formula = "`min(1, (t + 1) / period)` or `1 - exp(-(t + 1) / period)`"
    example = {"period": 200, "shape": "exponential"}
    period: float = param("length", doc="the warmup period (pytorch-warmup's warmup_period)")
    shape: DampeningShape = param("choice", default="linear", doc="linear or exponential")

    def _kernel(self, t: Any, xp: Any) -> Any:
        u = (t + 1.0) / self.period
        if self.shape == "linear":
            return xp.minimum(u, 1.0)
        return 1.0 - xp.exp(-u)

    @property
    def length(self) -> float:
        return max(self.period - 1.0, 0.0) if self.shape == "linear" else _INF

    @property
    def max_value(self) -> float:
        return 1.0

    def phases(self) -> list[Phase]:
        if self.shape == "linear" and self.period > 1:
            return [
                Phase("warmup (linear)", 0.0, self.period - 1.0, self._scalar(0.0), 1.0, True),
                Phase("constant", self.period - 1.0, _INF, 1.0, 1.0, True),
            ]
        return [self._phase(f"warmup ({self.shape})", 0.0, _INF, end_value=None)]


def dampened(schedule: Schedule, warmup_period: float, shape: DampeningShape = "linear") -> Schedule:
    """``schedule`` times a :class:`Dampening` warmup factor: pytorch-warmup's ``LinearWarmup`` or
    ``ExponentialWarmup`` around a scheduler, as one schedule.

    >>> from lrkit import Constant
    >>> dampened(Constant(0.1), 10)(4)
    0.05
    """
    return Product([schedule, Dampening(warmup_period, shape)])


# -- words for lrkit explain, one table per language (lrkit.core.words) ---------------------------------------------------------
words(
    "en",
    {
        "shift": "Read {offset} positions ahead: {inner}",
        "sum": "The sum of {n} schedules: {parts}.",
        "retime": "The plan as first written: {inner} It is re-timed. {pieces}",
        "retime.warmup": "The warmup was re-timed too: it ends at {new}, not at {old} as first planned "
        "(lrkit.replan.replan(..., keep_warmup=True) keeps the warmup as planned).",
        "retime.piece": "From {a}, it goes on from its own position {o} at {r} times its speed{end}.",
        "retime.end": ", reaching its end at {at}",
        "ramp": "A {shape} ramp from {a} to {b} over {span}, then {b} for ever.",
        "ramp.linear": "linear",
        "ramp.cosine": "cosine",
        "ramp.power": "power (u^{p})",
        "ramp.exponential": "(1 - e^(-t/{tau}))-shaped",
        "piecewise": "Piecewise constant: {pieces}.",
        "piecewise.piece": "{v} from {a}",
        "dampening": "A warmup factor on the schedule's own clock: {formula} (pytorch-warmup's {name}){reach}.",
        "dampening.reach": ", 1 from position {at} on",
    },
)
words(
    "zh",
    {
        "shift": "提前 {offset} 个位置读取：{inner}",
        "sum": "{n} 个调度之和：{parts}。",
        "retime": "原计划：{inner}之后重新定时：{pieces}",
        "retime.warmup": "预热也被重新定时：在 {new} 结束，而不是原计划的 {old}"
        "（lrkit.replan.replan(..., keep_warmup=True) 可按原计划保留预热）。",
        "retime.piece": "从 {a} 起，它从自身位置 {o} 继续，速度为原来的 {r} 倍{end}。",
        "retime.end": "，在 {at} 到达终点",
        "ramp": "在 {span} 内从 {a} {shape}过渡到 {b}，之后一直保持 {b}。",
        "ramp.linear": "线性",
        "ramp.cosine": "余弦",
        "ramp.power": "按幂函数（u^{p}）",
        "ramp.exponential": "按 (1 - e^(-t/{tau})) 形状",
        "piecewise": "分段常数：{pieces}。",
        "piecewise.piece": "从 {a} 起为 {v}",
        "dampening": "与调度同一时钟的预热系数：{formula}（即 pytorch-warmup 的 {name}）{reach}。",
        "dampening.reach": "，从位置 {at} 起为 1",
    },
)


def _clause(text: str) -> str:
    """A sentence as a clause of a longer one: its final full stop dropped (an ellipsis kept)."""
    if text.endswith("。") or (text.endswith(".") and not text.endswith("...")):
        return text[:-1]
    return text


@explainer("shift")
def _explain_shift(s: Shift, w: Any) -> tuple[list[str], list[str]]:
    inner = s.schedule
    if isinstance(inner, Piecewise):
        # the pieces it shows, on this clock (those ending before the offset are never seen)
        k = sum(1 for b in inner.boundaries if b <= s.offset)
        seen = Piecewise(inner.values[k:], [b - s.offset for b in inner.boundaries[k:]])
        return _explain_piecewise(seen, w)
    # the inner schedule's position p is this one's p - offset: said on this clock
    return [w.say("shift", offset=w.n(s.offset), inner=w.shifted(-s.offset).summary(inner))], []


@explainer("retime")
def _explain_retime(s: Retime, w: Any) -> tuple[list[str], list[str]]:
    n = len(s.origins)
    L = s.length
    pieces = " ".join(
        w.say(
            "retime.piece",
            a=w.at(b),
            o=w.n(o),
            r=w.n(a / d),
            end=w.say("retime.end", at=w.at(L)) if i == n - 1 and L < _INF else "",
        )
        for i, (b, o, a, d) in enumerate(zip(s._starts, s.origins, s.inner_spans, s.outer_spans))
        if not (o == b and a == d)
    )
    notes = []
    before, after = warmup_end(s.schedule), warmup_end(s)
    if before > 0 and after != before:
        notes.append(w.say("retime.warmup", new=w.at(after), old=w.at(before)))
    return [w.say("retime", inner=w.summary(s.schedule), pieces=pieces)], notes


@explainer("sum")
def _explain_sum(s: Sum, w: Any) -> tuple[list[str], list[str]]:
    parts = w.join([_clause(w.summary(x)) for x in s.schedules])
    return [w.say("sum", n=len(s.schedules), parts=parts)], []


@explainer("ramp")
def _explain_ramp(s: Ramp, w: Any) -> tuple[list[str], list[str]]:
    shape = (
        w.say("ramp.power", p=w.n(s.power))
        if s.shape == "power"
        else w.say("ramp.exponential", tau=w.n(s.time_constant))
        if s.shape == "exponential"
        else w.say(f"ramp.{s.shape}")
    )
    return [w.say("ramp", shape=shape, a=w.n(s.start_lr), b=w.n(s.end_lr), span=w.span(s.total_steps))], []


@explainer("piecewise")
def _explain_piecewise(s: Piecewise, w: Any) -> tuple[list[str], list[str]]:
    starts = (0.0, *s.boundaries)
    pieces = w.join([w.say("piecewise.piece", v=w.n(v), a=w.at(a)) for v, a in zip(s.values, starts)])
    return [w.say("piecewise", pieces=pieces)], []


@explainer("dampening")
def _explain_dampening(s: Dampening, w: Any) -> tuple[list[str], list[str]]:
    P = w.n(s.period)
    if s.shape == "linear":
        formula, name = f"min(1, (t + 1) / {P})", "LinearWarmup"
        reach = w.say("dampening.reach", at=w.at(max(s.period - 1, 0)))
    else:
        formula, name, reach = f"1 - exp(-(t + 1) / {P})", "ExponentialWarmup", ""
    return [w.say("dampening", formula=formula, name=name, reach=reach)], []
