"""Decays: each starts at ``peak_lr`` at position 0 (local) and goes down.

Bounded decays (``total_steps`` given) hold ``min_lr`` after ``total_steps``.
Put a warmup in front with :meth:`Schedule.with_warmup` or :class:`lrkit.Warmup`.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any, Literal

from .. import _check
from .. import _num as m
from ..core import Phase, Schedule, explainer, register, words
from ..ops import SCALAR
from ..params import Param, derived, param

__all__ = [
    "Constant",
    "Cosine",
    "Linear",
    "Polynomial",
    "Step",
    "MultiStep",
    "Exponential",
    "InverseSqrt",
    "InverseTime",
    "LinearGrowth",
    "RAdamDampening",
    "Tanh",
    "OneCycle",
    "WarmupStableDecay",
]

_INF = math.inf
_FMAX = sys.float_info.max
_PI = math.pi


# Shared declarations: ``peak_lr: float = param(PEAK)``, ``min_lr: float = param(MIN, default=0.0)``.
PEAK = Param("peak_lr", "rate", doc="the value at the start (the peak)")
MIN = Param("min_lr", "rate", doc="the floor, held after the end")
TOTAL = Param("total_steps", "length", doc="length of the decay")


def _stored(value: float | None, name: str) -> float:
    """A field given as ``None`` for a default that ``_setup`` computes and stores (so an
    instance always holds a float: ``max_lr=None`` is kept as ``inf``)."""
    if value is None:
        raise AssertionError(f"{name} is stored by _setup as a float")
    return value


class _BoundedAttributes:
    """The two parameters every :class:`_Bounded` kind declares, for type checkers (not a
    schedule: no constructor parameters)."""

    total_steps: float
    min_lr: float


class _Bounded(Schedule, _BoundedAttributes):
    """A decay from ``peak_lr`` over ``total_steps``, then ``min_lr`` for ever.

    Each subclass declares ``total_steps`` and ``min_lr`` among its parameters, where its
    constructor has them (not here: a field declared in a base keeps the base's place)."""

    __slots__ = ()

    @property
    def length(self) -> float:
        return self.total_steps

    def _tail_continuous(self) -> bool:
        return True

    def phases(self) -> list[Phase]:
        t_end = self.total_steps
        lo = self.min_lr
        return [
            self._phase(self.kind, 0.0, t_end, end_value=self._left_end()),
            Phase("hold min_lr", t_end, _INF, lo, lo, self._tail_continuous()),
        ]

    def _left_end(self) -> float:
        return self.min_lr


@register("constant")
class Constant(Schedule):
    """``f(t) = lr``.

    >>> Constant(0.01)(1000)
    0.01
    """

    formula = '`lr`'
    example = {"lr": 0.01}
    lr: float = param("rate", doc="the value")

    def _kernel(self, t: Any, xp: Any) -> Any:
        return xp.full(t, self.lr)

    @property
    def length(self) -> float:
        return 0.0

    @property
    def max_value(self) -> float:
        return self.lr

    def phases(self) -> list[Phase]:
        return [Phase("constant", 0.0, _INF, self.lr, self.lr, True)]


CosineAfter = Literal["hold", "continue"]


@register("cosine")
class Cosine(_Bounded):
    """Half-cosine from ``peak_lr`` to ``min_lr`` over ``total_steps`` (``T``), then ``min_lr``.

    ``f(t) = min_lr + (peak_lr - min_lr) * (1 + cos(pi * (t / T)**k)) / 2``; ``k = 1``
    is the usual cosine annealing, ``k > 1`` the k-decay variant (as in timm).

    Two generalisations: ``exponent`` raises the cosine factor to a power (optax's
    ``exponent``), and ``cycles`` sets how many cosine periods fit in ``T``: with ``u =
    (t / T)**k`` the factor is ``((1 + cos(2 pi cycles u)) / 2) ** exponent``; the default
    ``cycles = 0.5`` is the half cosine, other values go on past the trough (transformers'
    ``num_cycles``). From ``T`` on the value at ``T`` is held (``min_lr`` by default);
    with ``after="continue"`` the formula goes on past ``T`` instead, as PyTorch's
    ``CosineAnnealingLR`` and transformers' cosine schedules do when stepped beyond
    their length (back up along the cosine).

    >>> Cosine(peak_lr=1.0, total_steps=10)(5)
    0.5
    >>> Cosine(peak_lr=1.0, total_steps=10, cycles=1.0)(10)
    1.0
    >>> Cosine(peak_lr=1.0, total_steps=10, after="continue")(20)
    1.0
    """

    formula = (
        '`min + (peak - min) ((1 + cos(2 pi cycles (t/T)^k))/2)^exponent`, then its value at `T` '
        '(defaults: half a cosine down to `min`; `k` > 1: k-decay)'
    )
    example = {"peak_lr": 0.1, "total_steps": 1000, "min_lr": 0.001}
    peak_lr: float = param(PEAK)
    total_steps: float = param(TOTAL)
    min_lr: float = param(MIN, default=0.0)
    k: float = param("positive", default=1.0, doc="k-decay exponent of t / T (1: plain cosine)")
    exponent: float = param("positive", default=1.0, doc="power of the cosine factor")
    cycles: float = param("positive", default=0.5, doc="cosine periods over total_steps (0.5: down to min_lr once)")
    after: CosineAfter = param("choice", default="hold", doc="past total_steps: hold its value, or continue the cosine")
    _amp: float = derived(doc="(peak_lr - min_lr) / 2")
    _plain: bool = derived(doc="exponent 1 and half a period: the plain cosine's formula")
    _end: float = derived(doc="the value at total_steps")

    def _setup(
        self, peak_lr: float, total_steps: float, min_lr: float, k: float, exponent: float, cycles: float, after: str
    ) -> None:
        _check.not_above("min_lr", min_lr, "peak_lr", peak_lr)
        self._set(
            peak_lr=peak_lr,
            total_steps=total_steps,
            min_lr=min_lr,
            k=k,
            exponent=exponent,
            cycles=cycles,
            after=after,
            _amp=(peak_lr - min_lr) * 0.5,
            _plain=exponent == 1.0 and cycles == 0.5,
            _end=min_lr,
        )
        if not self._plain:
            self._set(_end=self._kernel(total_steps, SCALAR))

    @property
    def length(self) -> float:
        return self.total_steps if self.after == "hold" else _INF

    def _kernel(self, t: Any, xp: Any) -> Any:
        # From T on the value at T: the formula on min(t, T) (at T the half cosine is
        # min_lr exactly, as cos(pi) = -1).
        T = self.total_steps
        tc = xp.minimum(t, T) if self.after == "hold" else t
        if self._plain:
            # k != 1: (t / T) ** k rather than t**k / T**k, which overflows for long runs
            x = _PI * tc / T if self.k == 1.0 else _PI * xp.pow(tc / T, self.k)
            return self.min_lr + self._amp * (1.0 + xp.cos(x))
        u = tc / T if self.k == 1.0 else xp.pow(tc / T, self.k)
        c = (1.0 + xp.cos((2.0 * _PI * self.cycles) * u)) * 0.5
        if self.exponent != 1.0:
            c = xp.pow(c, self.exponent)
        return self.min_lr + (self.peak_lr - self.min_lr) * c

    def _left_end(self) -> float:
        return self._end

    def phases(self) -> list[Phase]:
        T = self.total_steps
        if self.after == "continue":
            return [
                self._phase("cosine", 0.0, T, end_value=self._end if self.cycles <= 0.5 else None),
                Phase("cosine, continued", T, _INF, self._end, None, True),
            ]
        if self._plain:
            return super().phases()
        name = "cosine" if self.cycles <= 0.5 else f"cosine ({self.cycles:g} cycles)"
        return [
            self._phase(name, 0.0, T, end_value=self._end if self.cycles <= 0.5 else None),
            Phase("hold", T, _INF, self._end, self._end, True),
        ]


@register("linear")
class Linear(_Bounded):
    """Straight line from ``peak_lr`` to ``min_lr`` over ``total_steps``, then ``min_lr``.

    ``f(t) = min_lr + (peak_lr - min_lr) * (1 - t / T)``

    >>> Linear(peak_lr=1.0, total_steps=10, min_lr=0.5)(5)
    0.75
    """

    formula = '`min + (peak - min)(1 - t/T)`, then `min`'
    example = {"peak_lr": 0.1, "total_steps": 1000, "min_lr": 0.01}
    peak_lr: float = param(PEAK)
    total_steps: float = param(TOTAL)
    min_lr: float = param(MIN, default=0.0)

    def _setup(self, peak_lr: float, total_steps: float, min_lr: float) -> None:
        _check.not_above("min_lr", min_lr, "peak_lr", peak_lr)
        self._set(peak_lr=peak_lr, total_steps=total_steps, min_lr=min_lr)

    def _kernel(self, t: Any, xp: Any) -> Any:
        u = xp.minimum(t, self.total_steps) / self.total_steps  # from T on: min_lr, as 1 - 1 = 0
        return self.min_lr + (self.peak_lr - self.min_lr) * (1.0 - u)


@register("polynomial")
class Polynomial(_Bounded):
    """Polynomial decay: ``f(t) = min_lr + (peak_lr - min_lr) * (1 - (t / T) ** k) ** power``, then ``min_lr``.

    ``k = 1`` is the usual polynomial decay; ``k > 1`` the k-decay variant (as in timm).

    >>> Polynomial(peak_lr=1.0, total_steps=10, power=2)(5)
    0.25
    >>> Polynomial(peak_lr=1.0, total_steps=10, k=2)(5)
    0.75
    """

    formula = '`min + (peak - min)(1 - (t/T)^k)^power`, then `min`'
    example = {"peak_lr": 0.1, "total_steps": 1000, "power": 2.0}
    peak_lr: float = param(PEAK)
    total_steps: float = param(TOTAL)
    min_lr: float = param(MIN, default=0.0)
    power: float = param("positive", default=1.0, doc="exponent of (1 - (t / T) ** k)")
    k: float = param("positive", default=1.0, doc="k-decay exponent of t / T (1: plain polynomial)")

    def _setup(self, peak_lr: float, total_steps: float, min_lr: float, power: float, k: float) -> None:
        _check.not_above("min_lr", min_lr, "peak_lr", peak_lr)
        self._set(peak_lr=peak_lr, total_steps=total_steps, min_lr=min_lr, power=power, k=k)

    def _kernel(self, t: Any, xp: Any) -> Any:
        u = xp.minimum(t, self.total_steps) / self.total_steps  # from T on: min_lr, as 0 ** power = 0
        if self.k != 1.0:
            u = xp.pow(u, self.k)
        return self.min_lr + (self.peak_lr - self.min_lr) * xp.pow(1.0 - u, self.power)


@register("step")
class Step(Schedule):
    """Multiply by ``gamma`` every ``step_size``: ``f(t) = peak_lr * gamma ** floor(t / step_size)``.

    >>> Step(peak_lr=1.0, step_size=10, gamma=0.5)(25)
    0.25
    """

    formula = '`peak * gamma^floor(t / step_size)`'
    example = {"peak_lr": 0.1, "step_size": 30, "gamma": 0.5}
    peak_lr: float = param(PEAK)
    step_size: float = param("length", doc="positions between two multiplications")
    gamma: float = param("factor", default=0.1, doc="the factor, in [0, 1]")

    def _setup(self, peak_lr: float, step_size: float, gamma: float) -> None:
        # a growth factor (gamma > 1) would overflow to inf after enough steps
        g = _check.fraction("gamma", gamma, low_open=False)
        self._set(peak_lr=peak_lr, step_size=step_size, gamma=g)

    def _kernel(self, t: Any, xp: Any) -> Any:
        return self.peak_lr * xp.ipow(self.gamma, xp.floordiv(t, self.step_size))

    def phases(self) -> list[Phase]:
        return [self._phase(f"step (x{self.gamma:g} every {self.step_size:g})", 0.0, _INF, end_value=None)]


@register("multistep")
class MultiStep(Schedule):
    """Multiply by ``gamma`` at each milestone: ``f(t) = peak_lr * gamma ** #{m in milestones: m <= t}``.

    >>> MultiStep(peak_lr=1.0, milestones=[10, 20], gamma=0.5)(15)
    0.5
    """

    formula = '`peak * gamma^(number of milestones <= t)`'
    example = {"peak_lr": 0.1, "milestones": [30, 60, 80], "gamma": 0.1}
    peak_lr: float = param(PEAK)
    milestones: Sequence[float] = param("lengths", doc="positions where the value is multiplied by gamma")
    gamma: float = param("factor", default=0.1, doc="the factor at each milestone")

    def _setup(self, peak_lr: float, milestones: tuple, gamma: float) -> None:
        p, ms, g = peak_lr, milestones, gamma
        # gamma > 1 is allowed (finitely many milestones) as long as the last plateau is finite
        try:
            last = p * g ** len(ms)
        except OverflowError:
            last = _INF
        if not last < _INF:
            raise ValueError(
                f"gamma={gamma!r} overflows: peak_lr * gamma ** {len(ms)} (one factor per "
                f"milestone) must be finite, with peak_lr={peak_lr!r}"
            )
        self._set(peak_lr=p, milestones=ms, gamma=g)

    def _kernel(self, t: Any, xp: Any) -> Any:
        return self.peak_lr * xp.ipow(self.gamma, xp.count_le(self.milestones, t))

    @property
    def length(self) -> float:
        return self.milestones[-1] if self.milestones else 0.0

    @property
    def max_value(self) -> float:
        return max(self.peak_lr, self.peak_lr * m.ipow(self.gamma, len(self.milestones)))

    def phases(self) -> list[Phase]:
        starts = (0.0, *self.milestones)
        ends = (*self.milestones, _INF)
        return [
            Phase(f"plateau {i}", s, e, self._scalar(s), self._scalar(s), i == 0)
            for i, (s, e) in enumerate(zip(starts, ends))
        ]


@register("exponential")
class Exponential(Schedule):
    """Exponential decay: ``f(t) = min(peak_lr * gamma ** (t / step_size), max_lr)``.

    With ``staircase=True`` the exponent is ``floor(t / step_size)`` (same values as
    :class:`Step`). ``step_size=1`` is PyTorch's ``ExponentialLR``. ``gamma > 1`` (a
    growth) needs a finite ``max_lr``, where it stops (optax's ``exponential_decay``
    with ``decay_rate > 1`` and ``end_value``).

    >>> Exponential(peak_lr=1.0, gamma=0.5, step_size=10)(20)
    0.25
    >>> Exponential(peak_lr=1.0, gamma=2.0, step_size=10, max_lr=3.0)([20, 30])
    array([3., 3.])
    """

    formula = '`min(peak * gamma^(t / step_size), max_lr)` (floored with `staircase`)'
    example = {"peak_lr": 0.1, "gamma": 0.97}
    peak_lr: float = param(PEAK)
    gamma: float = param("factor", doc="the factor per step_size, in [0, 1] (> 1 with a max_lr)")
    step_size: float = param("length", default=1.0, doc="positions per factor gamma")
    staircase: bool = param("bool", default=False, doc="whole steps only: floor(t / step_size)")
    max_lr: float | None = param(
        "rate",
        default=None,
        doc="values above are lowered to it (default: none; needed for gamma > 1)",
        optional=True,
        unbounded=True,
    )
    _cut: float = derived(doc="the exponent past which the value is max_lr")

    def _setup(self, peak_lr: float, gamma: float, step_size: float, staircase: bool, max_lr: float | None) -> None:
        if max_lr is None or max_lr == _INF:
            # a growth factor (gamma > 1) would overflow to inf after enough steps
            if gamma > 1:
                raise ValueError(
                    f"gamma must be in [0, 1], got {gamma!r}: a growth (gamma > 1) needs a finite max_lr where it stops"
                )
            g = _check.fraction("gamma", gamma, low_open=False)
            hi, cut = _INF, _INF
        else:
            g = gamma
            hi = max_lr
            # past the exponent where the growth reaches max_lr the value is max_lr: the
            # exponent is bounded there (one more for rounding), so no inf * 0 and no overflow
            cut = math.log(hi / peak_lr) / math.log(g) + 1.0 if g > 1 and 0 < peak_lr < hi else 0.0 if g > 1 else _INF
        if g == 0 and not staircase:
            raise ValueError("gamma must be > 0 for a continuous exponential decay, got 0")
        self._set(peak_lr=peak_lr, gamma=g, step_size=step_size, staircase=staircase, max_lr=hi)
        object.__setattr__(self, "_cut", max(0.0, cut))

    def _kernel(self, t: Any, xp: Any) -> Any:
        if self.staircase:
            x = xp.floordiv(t, self.step_size)
            if self._cut < _INF:
                x = xp.minimum(x, float(math.ceil(self._cut)))
            v = self.peak_lr * xp.ipow(self.gamma, x)
        else:
            x = t / self.step_size
            if self._cut < _INF:
                x = xp.minimum(x, self._cut)
            v = self.peak_lr * xp.xpow(self.gamma, x)
        return v if self.max_lr == _INF else xp.minimum(v, self.max_lr)

    @property
    def max_value(self) -> float:
        cap = _stored(self.max_lr, "max_lr")
        if self.gamma > 1:
            return cap
        return min(self.peak_lr, cap)

    def to_dict(self) -> dict[str, Any]:
        d = super().to_dict()
        if self.max_lr == _INF:
            del d["max_lr"]  # JSON has no infinity
        return d

    def phases(self) -> list[Phase]:
        return [self._phase("exponential" if self.gamma <= 1 else "exponential growth", 0.0, _INF, end_value=None)]


words(
    "en",
    {
        "exponential.grow": "Starts at {peak} and grows by a factor {gamma} every {size}{stair}, up to {cap} (reached at "
        "position {at}), then stays there.",
        "exponential.cap": "Starts at {peak} and is multiplied by {gamma} every {size}{stair}, never above {cap}.",
        "exponential.staircase": " in whole steps",
    },
)
words(
    "zh",
    {
        "exponential.grow": "从 {peak} 开始，每 {size} 乘以 {gamma}{stair}，增长到 {cap}（在位置 {at} 达到），之后保持不变。",
        "exponential.cap": "从 {peak} 开始，每 {size} 乘以 {gamma}{stair}，始终不超过 {cap}。",
        "exponential.staircase": "（按整步取整）",
    },
)


@explainer("exponential.capped")
def _capped_exponential(s: Exponential, w: Any) -> tuple[list[str], list[str]]:
    """The explainer :func:`lrkit.explain` calls for an :class:`Exponential` with a ``max_lr``."""
    return explain_capped_exponential(s, w), []


def explain_capped_exponential(s: Exponential, w: Any) -> list[str]:
    """The words of an :class:`Exponential` with a ``max_lr`` (a growth, or a capped decay)."""
    stair = w.say("exponential.staircase") if s.staircase else ""
    cap = _stored(s.max_lr, "max_lr")
    if s.gamma > 1:
        x = math.log(cap / s.peak_lr) / math.log(s.gamma) if 0 < s.peak_lr < cap else 0.0
        at = s.step_size * (math.ceil(x) if s.staircase else x)
        return [
            w.say(
                "exponential.grow",
                peak=w.n(s.peak_lr),
                gamma=w.n(s.gamma),
                size=w.span(s.step_size),
                stair=stair,
                cap=w.n(s.max_lr),
                at=w.at(at) if s.peak_lr > 0 else w.at(_INF),
            )
        ]
    return [
        w.say(
            "exponential.cap",
            peak=w.n(s.peak_lr),
            gamma=w.n(s.gamma),
            size=w.span(s.step_size),
            stair=stair,
            cap=w.n(s.max_lr),
        )
    ]


@register("inverse_sqrt")
class InverseSqrt(Schedule):
    """Inverse square root: ``f(t) = peak_lr * sqrt(timescale / (t + timescale))``.

    After a warmup of ``W = timescale`` steps this is the Transformer schedule
    ``peak_lr * sqrt(W / step)``.

    >>> InverseSqrt(peak_lr=1.0, timescale=100)(300)
    0.5
    """

    formula = '`peak * sqrt(timescale / (t + timescale))`'
    example = {"peak_lr": 0.001, "timescale": 400}
    peak_lr: float = param(PEAK)
    timescale: float = param("length", doc="positions until the value is peak_lr / sqrt(2)")

    def _kernel(self, t: Any, xp: Any) -> Any:
        # Where t + timescale overflows, both terms are scaled by 1/4 (exact): the same ratio.
        d = t + self.timescale
        big = d == _INF
        q = self.timescale * 0.25
        return self.peak_lr * xp.sqrt(xp.where(big, q / (t * 0.25 + q), self.timescale / d))

    def phases(self) -> list[Phase]:
        return [self._phase("inverse sqrt", 0.0, _INF, end_value=None)]


@register("inverse_time")
class InverseTime(Schedule):
    """Inverse-time decay: ``f(t) = peak_lr / (1 + decay_rate * t / step_size) ** power``.

    With ``staircase=True`` the quotient is floored: ``floor(t / step_size)``. Keras'
    ``InverseTimeDecay`` (``decay_steps`` is ``step_size``) and Paddle's
    ``InverseTimeDecay`` (``step_size=1``, ``gamma`` is ``decay_rate``). ``power`` other
    than 1 is the inverse-power decay (timm's ``WSDLRScheduler`` with ``stable_fn="power"``:
    ``decay_rate=1``, ``step_size`` its ``stable_timescale``).

    >>> InverseTime(peak_lr=1.0, step_size=10, decay_rate=0.5)(20)
    0.5
    >>> InverseTime(peak_lr=1.0, step_size=10, power=2.0)(10)
    0.25
    """

    formula = "`peak / (1 + decay_rate * t / step_size)^power` (`t / step_size` floored with `staircase`)"
    example = {"peak_lr": 0.1, "step_size": 100, "decay_rate": 1.0}
    peak_lr: float = param(PEAK)
    step_size: float = param("length", default=1.0, doc="positions per unit of decay_rate")
    decay_rate: float = param(
        "factor", default=1.0, doc="how fast it decays: with power 1 the value halves at t = step_size / rate"
    )
    staircase: bool = param("bool", default=False, doc="whole steps only: floor(t / step_size)")
    power: float = param("positive", default=1.0, doc="exponent of the denominator (1: inverse time)")

    def _kernel(self, t: Any, xp: Any) -> Any:
        # t / step_size past the float range counts as the largest float (no inf * 0); the
        # staircase's whole steps exact on a device too (see lrkit._traced)
        q = xp.divfloor(t, self.step_size) if self.staircase else t / self.step_size
        x = xp.minimum(q, _FMAX)
        if self.power == 1.0:
            return self.peak_lr / (1.0 + self.decay_rate * x)
        # a negative exponent (as timm writes it): far out the power goes to 0, never past the float range
        return self.peak_lr * xp.pow(1.0 + self.decay_rate * x, -self.power)

    def phases(self) -> list[Phase]:
        return [self._phase("inverse time", 0.0, _INF, end_value=None)]


words(
    "en",
    {
        "inverse_time": "Starts at {peak} and decays as 1 / (1 + {rate} t / {size}){pw}{stair}: half the start at position "
        "{half}, a third at {third}, for ever.",
        "inverse_time.staircase": " in whole steps",
    },
)
words(
    "zh",
    {
        "inverse_time": "从 {peak} 开始，按 1 / (1 + {rate} t / {size}){pw} 衰减{stair}：在位置 {half} 降到一半，在 {third} "
        "降到三分之一，永不停止。",
        "inverse_time.staircase": "（按整步取整）",
    },
)


@explainer("inverse_time")
def _explain_inverse_time(s: InverseTime, w: Any) -> tuple[list[str], list[str]]:
    # the value is 1 / k of the start where (1 + rate t / size) ** power = k
    unit = s.step_size / s.decay_rate if s.decay_rate > 0 else _INF

    def reach(k: float) -> float:
        try:
            return unit * math.expm1(math.log(k) / s.power)
        except OverflowError:  # a tiny power: past every float
            return _INF

    half, third = reach(2.0), reach(3.0)
    return [
        w.say(
            "inverse_time",
            peak=w.n(s.peak_lr),
            rate=w.n(s.decay_rate),
            size=w.n(s.step_size),
            pw="" if s.power == 1.0 else f"^{w.n(s.power)}",
            stair=w.say("inverse_time.staircase") if s.staircase else "",
            half=w.at(half),
            third=w.at(third),
        )
    ], []


@register("linear_growth")
class LinearGrowth(Schedule):
    """Unbounded linear growth: ``f(t) = start_lr * (1 + rate * t / step_size)``.

    With ``staircase=True`` the quotient is floored, ``floor(t / step_size)``: a staircase
    of equal steps without end. DeepSpeed's ``LRRangeTest`` (``lr_range_test_min_lr``,
    ``lr_range_test_step_rate``, ``lr_range_test_step_size``, ``lr_range_test_staircase``).

    >>> LinearGrowth(start_lr=0.1, step_size=10, rate=0.5)(20)
    0.2
    >>> LinearGrowth(start_lr=0.1, step_size=10, rate=0.5, staircase=True)(29)
    0.2
    """

    formula = "`start * (1 + rate * t / step_size)` (`t / step_size` floored with `staircase`)"
    example = {"start_lr": 0.001, "step_size": 100, "rate": 0.5}
    start_lr: float = param("rate", doc="the value at position 0")
    step_size: float = param("length", default=1.0, doc="positions per increase of rate x start_lr")
    rate: float = param("factor", default=1.0, doc="the increase per step_size, as a fraction of start_lr")
    staircase: bool = param("bool", default=False, doc="whole steps only: floor(t / step_size)")

    def _kernel(self, t: Any, xp: Any) -> Any:
        x = xp.divfloor(t, self.step_size) if self.staircase else t / self.step_size
        return self.start_lr * (1.0 + self.rate * x)

    @property
    def max_value(self) -> float:
        return self.start_lr if self.rate == 0 or self.start_lr == 0 else _INF

    def phases(self) -> list[Phase]:
        return [self._phase("linear growth", 0.0, _INF, end_value=None)]


words(
    "en",
    {
        "linear_growth": "Starts at {start} and grows by {step} every {size}{stair}, without end: twice the start at "
        "position {double}.",
        "linear_growth.staircase": " (in whole steps)",
    },
)
words(
    "zh",
    {
        "linear_growth": "从 {start} 开始，每 {size} 增加 {step}{stair}，没有终点：在位置 {double} 达到起始值的两倍。",
        "linear_growth.staircase": "（按整步取整）",
    },
)


@explainer("linear_growth")
def _explain_linear_growth(s: LinearGrowth, w: Any) -> tuple[list[str], list[str]]:
    double = (s.step_size * math.ceil(1.0 / s.rate) if s.staircase else s.step_size / s.rate) if s.rate > 0 else _INF
    return [
        w.say(
            "linear_growth",
            start=w.n(s.start_lr),
            step=w.n(s.start_lr * s.rate),
            size=w.span(s.step_size),
            stair=w.say("linear_growth.staircase") if s.staircase else "",
            double=w.at(double),
        )
    ], []


def _radam_rho(t: float, beta2: float, rho_inf: float) -> float:
    b2t = beta2**t
    return rho_inf - 2 * t * b2t / (1 - b2t)


@register("radam_dampening")
class RAdamDampening(Schedule):
    """RAdam's warmup factor (pytorch-warmup's ``RAdamWarmup``), from Adam's ``beta2`` alone.

    With ``rho_inf = 2 / (1 - beta2) - 1``, ``rho(s) = rho_inf - 2 s beta2^s / (1 - beta2^s)``
    and ``d`` the first whole ``s >= 1`` with ``rho(s) > 4``, the factor at ``t`` is
    ``sqrt((rho - 4)(rho - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho))`` at ``rho = rho(t + d)``:
    it rises from near 0 towards 1. Multiply a schedule by it (``Product``), as
    ``with warmup.dampening(): scheduler.step()`` does.

    >>> round(RAdamDampening(beta2=0.999)(1000), 4)
    0.6466
    """

    value_name = "multiplier of the base lr"
    formula = "`sqrt((rho - 4)(rho - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho))`, `rho = rho(t + offset)`"
    example = {"beta2": 0.999}
    beta2: float = param("positive", default=0.999, doc="Adam's second discount factor, in (0.6, 1)")
    rho_inf: float = derived(doc="2 / (1 - beta2) - 1")
    offset: int = derived(doc="the first whole s >= 1 with rho(s) > 4")

    def _setup(self, beta2: float) -> None:
        if not 0.6 < beta2 < 1:
            raise ValueError(f"beta2 must be in (0.6, 1) (RAdam's warmup is defined there), got {beta2!r}")
        rho_inf = 2.0 / (1 - beta2) - 1
        offset = 1
        while not _radam_rho(offset, beta2, rho_inf) > 4:
            offset += 1
        self._set(beta2=beta2)
        object.__setattr__(self, "rho_inf", rho_inf)
        object.__setattr__(self, "offset", offset)

    def _kernel(self, t: Any, xp: Any) -> Any:
        # rho = rho_inf - 2 s b^s / (1 - b^s), written without its cancellations (so that a
        # float32 device holds it too): with L = -ln(beta2) and x = s L,
        # rho = (rho_inf - 2 / L) + (2 / L)(1 - x / expm1(x)), the bracket a series for small x
        s = t + float(self.offset)
        L = -math.log(self.beta2)
        x = s * L
        x2 = x * x
        series = x * (0.5 + x * (-1.0 / 12 + x2 * (1.0 / 720 + x2 * (-1.0 / 30240 + x2 * (1.0 / 1209600)))))
        # past x = 700, x / expm1(x) is below 1e-300 and the bracket is 1 exactly: clamped there
        # so expm1 never overflows
        xc = xp.minimum(xp.maximum(x, 0.1), 700.0)
        direct = 1.0 - xc / xp.expm1(xc)
        one_minus_g = xp.where(x < 0.1, series, direct)
        ri = self.rho_inf
        rho = (ri - 2.0 / L) + (2.0 / L) * one_minus_g
        return xp.sqrt((rho - 4.0) * (rho - 2.0) * ri / ((ri - 4.0) * (ri - 2.0) * rho))

    @property
    def max_value(self) -> float:
        return 1.0 + 1e-12  # tends to 1 from below (a rounding may touch it)

    def phases(self) -> list[Phase]:
        return [self._phase("warmup (RAdam)", 0.0, _INF, end_value=None)]


words(
    "en",
    {
        "radam_dampening": "RAdam's warmup factor for beta2 = {beta2}: {v0} at the start, {v1} at position {t1}, tending "
        "to 1.",
    },
)
words(
    "zh",
    {
        "radam_dampening": "RAdam 的预热系数（beta2 = {beta2}）：开始时为 {v0}，在位置 {t1} 为 {v1}，趋于 1。",
    },
)


@explainer("radam_dampening")
def _explain_radam_dampening(s: RAdamDampening, w: Any) -> tuple[list[str], list[str]]:
    t1 = round(2.0 / (1 - s.beta2))
    return [w.say("radam_dampening", beta2=w.n(s.beta2), v0=w.n(s(0.0)), v1=w.n(s(float(t1))), t1=w.at(t1))], []


@register("tanh")
class Tanh(_Bounded):
    """Hyperbolic-tangent decay (as in timm), then ``min_lr``.

    ``f(t) = min_lr + (peak_lr - min_lr) * (1 - tanh(lower + (upper - lower) * t / T)) / 2``.
    With the defaults (-7, 3) it starts within 1e-6 of ``peak_lr`` and ends 0.25 %
    of the range above ``min_lr``, where it drops to ``min_lr``.

    >>> round(Tanh(peak_lr=1.0, total_steps=100)(70), 6)
    0.5
    """

    formula = '`min + (peak - min)(1 - tanh(lower + (upper - lower) t/T))/2`'
    example = {"peak_lr": 0.1, "total_steps": 1000, "min_lr": 0.001}
    peak_lr: float = param(PEAK)
    total_steps: float = param(TOTAL)
    min_lr: float = param(MIN, default=0.0)
    lower: float = param("real", default=-7.0, doc="tanh argument at the start")
    upper: float = param("real", default=3.0, doc="tanh argument at the end")

    def _setup(self, peak_lr: float, total_steps: float, min_lr: float, lower: float, upper: float) -> None:
        _check.not_above("min_lr", min_lr, "peak_lr", peak_lr)
        if not lower < upper:
            raise ValueError(f"lower ({lower!r}) must be below upper ({upper!r})")
        self._set(peak_lr=peak_lr, total_steps=total_steps, min_lr=min_lr, lower=lower, upper=upper)

    def _tanh(self, t: Any, xp: Any) -> Any:
        u = t / self.total_steps
        return self.min_lr + 0.5 * (self.peak_lr - self.min_lr) * (
            1.0 - xp.tanh(self.lower * (1.0 - u) + self.upper * u)
        )

    def _kernel(self, t: Any, xp: Any) -> Any:
        return xp.hold(t, self.total_steps, self._tanh, self.min_lr)

    def _left_end(self) -> float:
        return self._tanh(self.total_steps, SCALAR)

    @property
    def end_value(self) -> float:
        """The value the tanh reaches just before ``total_steps`` (then ``min_lr`` is held)."""
        return self._left_end()

    def _tail_continuous(self) -> bool:
        return self._left_end() == self.min_lr


OneCycleShape = Literal["cosine", "linear"]


@register("one_cycle")
class OneCycle(Schedule):
    """The one-cycle policy (Smith), with PyTorch ``OneCycleLR``'s positions.

    Two phases: ``start_lr -> peak_lr`` on ``[0, a]`` and ``peak_lr -> min_lr`` on
    ``[a, T - 1]`` with ``a = pct_start * T - 1``. Three phases
    (``three_phase=True``): ``start_lr -> peak_lr`` on ``[0, a]``, back to
    ``start_lr`` on ``[a, 2 pct_start T - 2]``, then to ``min_lr`` at ``T - 1``.
    Each phase follows ``shape``: ``cosine``: ``end + (start - end) * (1 + cos(pi p)) / 2``;
    ``linear``: ``start + (end - start) * p``, where ``p`` is the fraction of the phase
    done. ``min_lr`` is held after ``T - 1``. Defaults: ``start_lr = peak_lr / 25``,
    ``min_lr = start_lr / 1e4`` (PyTorch's ``div_factor`` and ``final_div_factor``).

    >>> OneCycle(peak_lr=1.0, total_steps=100)(29)
    1.0
    """

    formula = "up to `peak`, down to `min_lr` (three-phase: back to `start_lr` first); PyTorch `OneCycleLR`'s positions"
    example = {"peak_lr": 0.1, "total_steps": 1000}
    peak_lr: float = param("rate", doc="the top of the cycle")
    total_steps: float = param("length", doc="run length")
    pct_start: float = param("real", default=0.3, doc="fraction of the run spent rising, in (0, 1)")
    shape: OneCycleShape = param("choice", default="cosine", doc="shape of each phase")
    start_lr: float | None = param("rate", default=None, doc="the value at 0 (default: peak_lr / 25)", optional=True)
    min_lr: float | None = param(
        "rate", default=None, doc="the value at the end (default: start_lr / 1e4)", optional=True
    )
    three_phase: bool = param("bool", default=False, doc="go back to start_lr before the final decay")
    _ends: tuple[float, ...] = derived(doc="where each phase ends")
    _levels: tuple[float, ...] = derived(doc="the values at the phases' ends, start_lr first")
    _starts: tuple[float, ...] = derived(doc="where each phase starts")
    _stops: tuple[float, ...] = derived(doc="_ends, and one past the last")

    def _setup(
        self,
        peak_lr: float,
        total_steps: float,
        pct_start: float,
        shape: str,
        start_lr: float | None,
        min_lr: float | None,
        three_phase: bool,
    ) -> None:
        p, T = peak_lr, total_steps
        pct = _check.fraction("pct_start", pct_start, high_open=True)
        s = p / 25.0 if start_lr is None else start_lr
        lo = s / 1e4 if min_lr is None else min_lr
        _check.not_above("start_lr", s, "peak_lr", p)
        _check.not_above("min_lr", lo, "peak_lr", p)
        if three_phase:
            ends = (float(pct * T) - 1, float(2 * pct * T) - 2, float(T - 1))
            levels = (s, p, s, lo)
        else:
            ends = (float(pct * T) - 1, float(T - 1))
            levels = (s, p, lo)
        prev = 0.0
        for i, e in enumerate(ends):
            if not e > prev:
                raise ValueError(
                    f"one_cycle phase {i + 1} is empty: with total_steps={total_steps!r} and "
                    f"pct_start={pct_start!r} it would run from {prev:g} to {e:g}; "
                    "use a longer run or another pct_start"
                )
            prev = e
        self._set(
            peak_lr=p,
            total_steps=T,
            pct_start=pct,
            shape=shape,
            start_lr=s,
            min_lr=lo,
            three_phase=bool(three_phase),
            _ends=ends,
            _levels=levels,
            _starts=(0.0,) + ends,
            _stops=ends + (ends[-1] * 2.0 + 1.0,),
        )

    def _kernel(self, t: Any, xp: Any) -> Any:
        # Phase i covers (start_i, end_i]; past the last end both levels are min_lr.
        i = xp.count_lt(self._ends, t)
        start, end = xp.take(self._starts, i), xp.take(self._stops, i)
        a, b = xp.take(self._levels[:-1] + (self.min_lr,), i), xp.take(self._levels[1:] + (self.min_lr,), i)
        p = (t - start) / (end - start)
        if self.shape == "cosine":
            # PyTorch's expression; rounding (a - b) / 2 can take it one ulp below a level,
            # which is below 0 for a level of 0 next to a subnormal peak: never below 0
            return xp.maximum(b + (a - b) / 2.0 * (xp.cos(_PI * p) + 1), 0.0)
        return (b - a) * p + a

    @property
    def phase_ends(self) -> tuple[float, ...]:
        """Where each phase ends (PyTorch's ``pct_start * T - 1``, ..., ``T - 1``)."""
        return self._ends

    @property
    def length(self) -> float:
        return self._ends[-1]

    def phases(self) -> list[Phase]:
        names = ("warm up", "anneal down", "anneal to min") if self.three_phase else ("warm up", "anneal down")
        out, start = [], 0.0
        for i, e in enumerate(self._ends):
            out.append(Phase(names[i], start, e, self._levels[i], self._levels[i + 1], True))
            start = e
        lo = _stored(self.min_lr, "min_lr")
        out.append(Phase("hold min_lr", start, _INF, lo, lo, True))
        return out


WsdShape = Literal["linear", "cosine", "1-sqrt"]


@register("wsd")
class WarmupStableDecay(_Bounded):
    """Warmup-stable-decay: a linear warmup over ``W``, ``peak_lr`` until ``T - D``, a decay to ``min_lr``.

    ``total_steps`` (``T``) counts the whole run, warmup included, as in every kind
    that has a ``warmup_steps``. The warmup rises linearly from 0, ``peak_lr * t / W``
    (``warmup_steps=0``: none; other shapes: :meth:`Schedule.with_warmup`, which adds
    its length in front). With ``D = decay_steps`` and ``u = (t - (T - D)) / D`` in the decay::

        linear:  min_lr + (peak_lr - min_lr) * (1 - u)
        cosine:  min_lr + (peak_lr - min_lr) * (1 + cos(pi u)) / 2
        1-sqrt:  min_lr + (peak_lr - min_lr) * (1 - sqrt(u))

    then ``min_lr``.

    >>> WarmupStableDecay(peak_lr=1.0, total_steps=100, decay_steps=20)(90)
    0.5
    >>> WarmupStableDecay(peak_lr=1.0, total_steps=100, decay_steps=20, warmup_steps=10)(5)
    0.5
    """

    formula = '`peak t/W` up to `W`, `peak` until `T - D`, then a `linear` / `cosine` / `1-sqrt` decay to `min`'
    example = {"peak_lr": 0.1, "total_steps": 1000, "decay_steps": 200, "shape": "1-sqrt", "warmup_steps": 100}
    peak_lr: float = param(PEAK)
    total_steps: float = param("length", doc="length of the whole run, warmup included")
    decay_steps: float = param("length", doc="length of the decay at the end")
    min_lr: float = param(MIN, default=0.0)
    shape: WsdShape = param("choice", default="linear", doc="shape of the decay")
    warmup_steps: float = param("length0", default=0.0, doc="length of the linear warmup from 0 (0: none)")
    _t0: float = derived(doc="where the decay starts, total_steps - decay_steps")

    def _setup(
        self, peak_lr: float, total_steps: float, decay_steps: float, min_lr: float, shape: str, warmup_steps: float
    ) -> None:
        _check.not_above("min_lr", min_lr, "peak_lr", peak_lr)
        p, lo, T, D, W = peak_lr, min_lr, total_steps, decay_steps, warmup_steps
        if not D + W <= T:
            raise ValueError(
                f"decay_steps ({decay_steps!r}) plus warmup_steps ({warmup_steps!r}) must not exceed "
                f"total_steps ({total_steps!r}): total_steps counts the whole run"
            )
        self._set(peak_lr=p, total_steps=T, decay_steps=D, min_lr=lo, shape=shape, warmup_steps=W, _t0=T - D)

    @property
    def decay_start(self) -> float:
        """Where the decay starts: ``total_steps - decay_steps``."""
        return self._t0

    def _decay(self, u: Any, xp: Any) -> Any:
        u = u / self.decay_steps  # the fraction of the decay done
        span = self.peak_lr - self.min_lr
        if self.shape == "linear":
            return self.min_lr + span * (1.0 - u)
        if self.shape == "cosine":
            # span * 0.5 first: the same bits as (span * c) / 2, without overflowing
            return self.min_lr + span * 0.5 * (1.0 + xp.cos(_PI * u))
        return self.min_lr + span * (1.0 - xp.sqrt(u))

    def _flat(self, t: Any, xp: Any) -> Any:
        return xp.full(t, self.peak_lr)

    def _warm(self, t: Any, xp: Any) -> Any:
        return self.peak_lr * (t / self.warmup_steps)

    def _stable(self, t: Any, xp: Any) -> Any:
        if self.warmup_steps == 0:
            return xp.full(t, self.peak_lr)
        return xp.split(t, self.warmup_steps, self._warm, self._flat)

    def _before_end(self, t: Any, xp: Any) -> Any:
        return xp.split(t, self._t0, self._stable, self._decay)

    def _kernel(self, t: Any, xp: Any) -> Any:
        return xp.hold(t, self.total_steps, self._before_end, self.min_lr)

    def phases(self) -> list[Phase]:
        out, W = [], self.warmup_steps
        if W > 0:
            out.append(Phase("warmup (linear)", 0.0, W, 0.0, self.peak_lr, True))
        if self._t0 > W:
            out.append(Phase("stable", W, self._t0, self.peak_lr, self.peak_lr, True))
        out.append(Phase(f"decay ({self.shape})", self._t0, self.total_steps, self.peak_lr, self.min_lr, True))
        out.append(Phase("hold min_lr", self.total_steps, _INF, self.min_lr, self.min_lr, True))
        return out
