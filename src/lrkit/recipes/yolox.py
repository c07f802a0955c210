"""YOLOX's ``get_lr_scheduler``: the "warm cos" schedule and the geometric step decay, same name and values."""

from __future__ import annotations

import math
from typing import Any

from .. import _check
from ..core import Phase, Schedule, register
from ..params import derived, param
from ._dropin import _drop_in_build, _drop_in_warning, _lenient_pair, _lenient_ratio, _lr_pair, _ratio

__all__ = ["get_lr_scheduler", "YoloxCos", "YoloxStep", "LR_DECAY_TYPES"]

_INF = math.inf
_PI = math.pi

#: ``lr_decay_type`` values :func:`get_lr_scheduler` accepts.
LR_DECAY_TYPES = ("cos", "step")


def _sq(u: float) -> float:
    # The original squares with Python's pow(u, 2), which is the C library's pow and
    # can differ from u * u by an ulp; keep it for bit-identical values.
    return u**2


@register("yolox_cos")
class YoloxCos(Schedule):
    """YOLOX "warm cos": quadratic warmup, half-cosine, then a flat ``min_lr`` tail.

    With ``T = total_iters``::

        W = min(max(warmup_iters_ratio * T, 1), 3)     # warmup length, clamped to [1, 3]
        s = max(warmup_lr_ratio * lr, 1e-6)            # warmup start value
        N = min(max(no_aug_iter_ratio * T, 1), 15)     # tail length, clamped to [1, 15]
        f(x) = (lr - s) * (x / W) ** 2 + s                                  if x <= W
             = min_lr                                                       elif x >= T - N
             = min_lr + 0.5 * (lr - min_lr) * (1 + cos(pi * (x - W) / (T - W - N)))

    The branches are tested in that order (the warmup wins on very short runs). When
    ``T - W - N <= 0`` there is no cosine phase: ``f`` is the warmup up to ``W`` and
    ``min_lr`` after it, for every ``x`` (the original divides by zero if a fractional
    ``x`` lands there; at the integer positions it accepts the values are the same).

    >>> YoloxCos(lr=0.01, min_lr=0.0001, total_iters=300)(0)
    0.001
    """

    formula = 'YOLOX warm cos: quadratic warmup, half cosine, flat `min_lr` tail (see the recipes)'
    example = {"lr": 0.01, "min_lr": 0.0001, "total_iters": 300}
    lr: float = param("real", doc="the peak, > 0")
    min_lr: float = param("real", doc="the floor (tail) value")
    total_iters: float = param("real", doc="run length, in the positions f is called with")
    warmup_iters_ratio: float = param("real", default=0.1, doc="warmup length = ratio * total_iters, clamped to [1, 3]")
    warmup_lr_ratio: float = param("real", default=0.1, doc="warmup start = max(ratio * lr, 1e-6)")
    no_aug_iter_ratio: float = param("real", default=0.3, doc="flat tail = ratio * total_iters, clamped to [1, 15]")
    warmup_iters: float = derived(doc="W, the warmup's length")
    warmup_lr_start: float = derived(doc="the value at 0")
    no_aug_iters: float = derived(doc="N, the flat tail's length")
    _rise: float = derived(doc="lr - warmup_lr_start")
    _half: float = derived(doc="(lr - min_lr) / 2")
    _tail: float = derived(doc="where the flat tail starts, total_iters - N")
    _span: float = derived(doc="the cosine's length, total_iters - W - N")
    _strict: bool = derived(doc="False when built by the drop-in with arguments the class refuses")

    def _setup(
        self,
        lr: float,
        min_lr: float,
        total_iters: float,
        warmup_iters_ratio: float,
        warmup_lr_ratio: float,
        no_aug_iter_ratio: float,
    ) -> None:
        self._init(lr, min_lr, total_iters, warmup_iters_ratio, warmup_lr_ratio, no_aug_iter_ratio, True)

    def _init(
        self,
        lr: float,
        min_lr: float,
        total_iters: float,
        warmup_iters_ratio: float,
        warmup_lr_ratio: float,
        no_aug_iter_ratio: float,
        strict: bool,
    ) -> None:
        if strict:
            lr, min_lr = _lr_pair(lr, min_lr)
            wr = _ratio("warmup_iters_ratio", warmup_iters_ratio)
            sr = _ratio("warmup_lr_ratio", warmup_lr_ratio)
            nr = _ratio("no_aug_iter_ratio", no_aug_iter_ratio)
        else:
            lr, min_lr = _lenient_pair(lr, min_lr)
            wr, sr, nr = (
                _lenient_ratio(n, v)
                for n, v in (
                    ("warmup_iters_ratio", warmup_iters_ratio),
                    ("warmup_lr_ratio", warmup_lr_ratio),
                    ("no_aug_iter_ratio", no_aug_iter_ratio),
                )
            )
        T = _check.positive("total_iters", total_iters)
        W = float(min(max(wr * T, 1), 3))
        s = float(max(sr * lr, 1e-6))
        if not s < _INF:
            raise ValueError(
                f"warmup_lr_ratio ({_check.show(warmup_lr_ratio)}) times lr ({_check.show(lr)}) "
                "overflows float64: the warmup would start at inf"
            )
        N = float(min(max(nr * T, 1), 15))
        self._set(
            lr=lr,
            min_lr=min_lr,
            total_iters=T,
            warmup_iters_ratio=wr,
            warmup_lr_ratio=sr,
            no_aug_iter_ratio=nr,
            warmup_iters=W,
            warmup_lr_start=s,
            no_aug_iters=N,
            _rise=lr - s,
            _half=0.5 * (lr - min_lr),
            _tail=T - N,
            _span=T - W - N,
            _strict=strict,
        )

    def _kernel(self, x: Any, xp: Any) -> Any:
        # the branches in the original's order: x <= W (warmup wins on short runs), then the tail
        return xp.branch(x <= self.warmup_iters, self._warm, self._after, x)

    def _warm(self, x: Any, xp: Any) -> Any:
        # The original squares with Python's pow(u, 2), the C library's pow (which can
        # differ from u * u by an ulp): libm_pow keeps it bit-identical.
        return self._rise * xp.libm_pow(x / self.warmup_iters, 2) + self.warmup_lr_start

    def _after(self, x: Any, xp: Any) -> Any:
        if self._span <= 0:
            return xp.full(x, self.min_lr)
        return xp.hold(x, self._tail, self._cosine, self.min_lr)

    def _cosine(self, x: Any, xp: Any) -> Any:
        W = self.warmup_iters
        a = _PI * (x - W)
        # past float64's range both sides are scaled by 1/4 (exact): the same quotient
        a = xp.where(a == _INF, (_PI * ((x - W) * 0.25)) / (self._span * 0.25), a / self._span)
        return self.min_lr + self._half * (1.0 + xp.cos(a))

    @property
    def length(self) -> float:
        return max(self._tail, math.nextafter(self.warmup_iters, _INF))

    @property
    def max_value(self) -> float:
        return max(self.lr, self.warmup_lr_start)

    @property
    def cosine_steps(self) -> float:
        """Length of the cosine, ``T - W - N`` (``<= 0``: no cosine, the warmup hands over to the tail)."""
        return self._span

    def phases(self) -> list[Phase]:
        W = self.warmup_iters
        # x == W still belongs to the warmup branch; the phases follow the branches.
        warm_name = "warmup (quadratic)" if self.warmup_lr_start <= self.lr else "ramp down (quadratic)"
        if self._span > 0 and self._tail > W:
            return [
                Phase(warm_name, 0.0, W, self._scalar(0.0), self._scalar(W), True),
                self._phase("cosine", W, self._tail, end_value=self.min_lr),
                Phase("hold min_lr", self._tail, _INF, self.min_lr, self.min_lr, True),
            ]
        end = math.nextafter(W, _INF)
        return [
            Phase(warm_name, 0.0, end, self._scalar(0.0), self._scalar(W), True),
            Phase("hold min_lr", end, _INF, self.min_lr, self.min_lr, self._scalar(W) == self.min_lr),
        ]


def _step_num(value: Any) -> float:
    v = _check.real("step_num", value)
    if v < 2 or not v.is_integer():
        raise ValueError(
            f"step_num must be an integer >= 2 (the number of plateaus from lr down to min_lr), got {value!r}"
        )
    return v


@register("yolox_step")
class YoloxStep(Schedule):
    """Geometric step decay: ``step_num`` plateaus from ``lr`` down to ``min_lr`` over ``total_iters``.

    ::

        r = (min_lr / lr) ** (1 / (step_num - 1))
        D = total_iters / step_num                 # plateau length (a float, must be >= 1)
        f(x) = lr * r ** (x // D)                  # Python's float floor division

    The last plateau (``x >= (step_num - 1) * D``) is ``min_lr``; past ``total_iters``
    the decay goes on below ``min_lr``, as in the original.

    >>> YoloxStep(lr=0.01, min_lr=0.0001, total_iters=300, step_num=3)(150)
    0.001
    """

    formula = '`lr * r^floor(x / (T / step_num))`, `r = (min_lr / lr)^(1 / (step_num - 1))`'
    example = {"lr": 0.01, "min_lr": 0.0001, "total_iters": 300, "step_num": 5}
    lr: float = param("real", doc="the first plateau, > 0")
    min_lr: float = param("real", doc="the last plateau")
    total_iters: float = param("real", doc="run length")
    step_num: float = param("real", default=10, doc="number of plateaus, a whole number >= 2")
    decay_rate: float = derived(doc="the factor per plateau, (min_lr / lr) ** (1 / (step_num - 1))")
    step_size: float = derived(doc="a plateau's length, total_iters / step_num")
    _strict: bool = derived(doc="False when built by the drop-in with arguments the class refuses")

    def _setup(self, lr: float, min_lr: float, total_iters: float, step_num: float) -> None:
        self._init(lr, min_lr, total_iters, step_num, True)

    def _init(self, lr: float, min_lr: float, total_iters: float, step_num: float, strict: bool) -> None:
        if not strict and _check.real("lr", lr) == 0:  # the original divides by zero: min_lr / lr
            raise ValueError("lr must be > 0 for the step decay (the original divides min_lr by it), got 0")
        lr, min_lr = _lr_pair(lr, min_lr) if strict else _lenient_pair(lr, min_lr)
        T = _check.positive("total_iters", total_iters)
        if strict:
            n = _step_num(step_num)
        else:
            n = _check.real("step_num", step_num)
            if n < 2:
                _step_num(step_num)  # the original divides by zero or decays nowhere: refused
            if not n.is_integer():
                _drop_in_warning("get_lr_scheduler", f"step_num={step_num!r} is not a whole number of plateaus")
        D = T / n
        if D < 1:  # the original raises when called ("step_size must above 1.")
            raise ValueError(
                f"total_iters / step_num must be >= 1 (each plateau at least one position "
                f"long), got total_iters={total_iters!r}, step_num={step_num!r} ({D!r})"
            )
        self._set(
            lr=lr,
            min_lr=min_lr,
            total_iters=T,
            step_num=n,
            decay_rate=(min_lr / lr) ** (1 / (n - 1)) if lr > 0 else 0.0,
            step_size=D,
            _strict=strict,
        )

    def _kernel(self, x: Any, xp: Any) -> Any:
        # x // D with the fmod-based rule of Python's float floor division, as the original
        return self.lr * xp.ipow(self.decay_rate, xp.floordiv(x, self.step_size))

    @property
    def max_value(self) -> float:
        return self.lr if self.decay_rate <= 1 else _INF  # min_lr above lr (drop-in only): it grows

    def phases(self) -> list[Phase]:
        """One phase per plateau (up to 64 whole plateaus), then the decay going on past ``total_iters``."""
        n, D, T = self.step_num, self.step_size, self.total_iters
        if not (float(n).is_integer() and n <= 64):
            return [Phase("step decay", 0.0, _INF, self.lr, None, True)]

        def start(i: int) -> float:
            # where x // D (the kernel's floor division) first reaches i: i * D, moved by the
            # ulps its rounding is off (5.0 // (5 / 3) is 2.0, so plateau 4 starts just after 5.0)
            a = i * D
            while a // D < i:
                a = math.nextafter(a, _INF)
            while a > 0 and math.nextafter(a, -_INF) // D >= i:
                a = math.nextafter(a, -_INF)
            return a

        out = []
        for i in range(int(n)):
            a, b = start(i), min(start(i + 1), T)
            v = self._scalar(a)
            out.append(Phase(f"plateau {i + 1}", a, b, v, v, i == 0))
        out.append(Phase("past total_iters", T, _INF, self._scalar(T), None, self._scalar(T) == out[-1].end_value))
        return out


def get_lr_scheduler(
    lr_decay_type: str,
    lr: float,
    min_lr: float,
    total_iters: float,
    warmup_iters_ratio: float = 0.1,
    warmup_lr_ratio: float = 0.1,
    no_aug_iter_ratio: float = 0.3,
    step_num: int = 10,
) -> YoloxCos | YoloxStep:
    """The YOLOX-style ``f(iters) -> lr`` factory, same signature, same values.

    ``"cos"`` gives :class:`YoloxCos` (quadratic warmup, half-cosine, flat ``min_lr``
    tail; uses the three ratios), ``"step"`` gives :class:`YoloxStep` (``step_num``
    geometric plateaus; uses ``step_num``). The parameters the chosen type does not
    use are ignored, as in the original. Unlike the original, any other
    ``lr_decay_type`` and bad arguments raise ``ValueError`` here, not when ``f`` is
    first called. The result is an lrkit schedule: call it on a number or an array.

    The function is copied across repositories with **two sets of defaults**: the ones
    here (``warmup_iters_ratio=0.1, warmup_lr_ratio=0.1, no_aug_iter_ratio=0.3``), and
    ``0.05, 0.1, 0.05`` in other widely used YOLOX-style training scripts. The formula is
    the same; pass the ratios of the script you come from:

    >>> f = get_lr_scheduler("cos", 0.01, 0.0001, 300)
    >>> f(3)
    0.010000000000000002
    >>> g = get_lr_scheduler("cos", 0.01, 0.0001, 300, warmup_iters_ratio=0.05, warmup_lr_ratio=0.1,
    ...                      no_aug_iter_ratio=0.05)
    >>> g(3) == f(3), g(100) == f(100)   # the same at 300 iterations: both ratios are clamped (3, 15)
    (True, True)
    >>> a = get_lr_scheduler("cos", 0.01, 0.0001, 40)
    >>> b = get_lr_scheduler("cos", 0.01, 0.0001, 40, warmup_iters_ratio=0.05, no_aug_iter_ratio=0.05)
    >>> a(2), b(2)          # a short run: warmup 3 vs 2 iterations
    (0.005, 0.010000000000000002)
    >>> a(30), round(b(30), 6)   # flat min_lr tail of 12 vs 2 iterations
    (0.0001, 0.001258)
    """
    if lr_decay_type == "cos":
        return _drop_in_build(YoloxCos, lr, min_lr, total_iters, warmup_iters_ratio, warmup_lr_ratio, no_aug_iter_ratio)
    if lr_decay_type == "step":
        return _drop_in_build(YoloxStep, lr, min_lr, total_iters, step_num)
    raise ValueError(f"lr_decay_type must be one of {', '.join(map(repr, LR_DECAY_TYPES))}, got {lr_decay_type!r}")


# -- the recipes, declared once (the command line, lrkit list and the README derive from them) --------------
from .registry import Option, Recipe, declare, run_length  # noqa: E402

_YOLOX_COMMON = (
    Option("lr", "real", doc="peak learning rate", metavar="LR"),
    Option("min_lr", "real", doc="floor learning rate", metavar="LR"),
    Option(
        "total_iters",
        "real",
        doc="run length, in the positions f is called with (epochs in the YOLOX-style scripts)",
        metavar="T",
    ),
)

declare(
    Recipe(
        "yolox-cos",
        "YOLOX get_lr_scheduler('cos', lr, min_lr, total_iters, ...)",
        params=_YOLOX_COMMON
        + (
            Option(
                "warmup_iters_ratio", "real", 0.1, "warmup length = R * total_iters, clamped to [1, 3]", metavar="R"
            ),
            Option("warmup_lr_ratio", "real", 0.1, "warmup start = max(R * lr, 1e-6)", metavar="R"),
            Option(
                "no_aug_iter_ratio", "real", 0.3, "flat min_lr tail = R * total_iters, clamped to [1, 15]", metavar="R"
            ),
        ),
        build=YoloxCos,
        original='YOLOX `get_lr_scheduler("cos", lr, min_lr, total_iters, ...)`',
        does="a **quadratic** warmup from `s = max(0.1 lr, 1e-6)` to `lr` over `W = clamp(0.1 T, 1, 3)`, a half "
        "cosine down to `min_lr`, then a **flat `min_lr` tail** of `N = clamp(0.3 T, 1, 15)` — not \"cosine "
        "warmup then constant\"",
        default_steps=lambda v: run_length(v.total_iters),
        run_steps=lambda v: float(v.total_iters),
    )
)

declare(
    Recipe(
        "yolox-step",
        "YOLOX get_lr_scheduler('step', lr, min_lr, total_iters, step_num=...)",
        params=_YOLOX_COMMON + (Option("step_num", "real", 10, "number of plateaus, >= 2", metavar="K"),),
        build=YoloxStep,
        original='YOLOX `get_lr_scheduler("step", lr, min_lr, total_iters, step_num=10)`',
        does="`lr * r^floor(x / (T / step_num))`, `r = (min_lr / lr)^(1 / (step_num - 1))`: `step_num` geometric "
        "plateaus, still decaying past `T`",
        default_steps=lambda v: run_length(v.total_iters),
        run_steps=lambda v: float(v.total_iters),
    )
)
