"""CAWB, CosineAnnealingWarmbootingLR: cosine warm restarts ("warm booting") at given epochs, as it computes them."""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, Literal, get_args

from .. import _check
from .. import _num as m
from ..core import Phase, Schedule, register
from ..params import derived, param

__all__ = ["CAWB", "CawbLf", "cawb_lf", "LF_SHAPES"]

_INF = math.inf
_PI = math.pi

LfShape = Literal["cos", "linear"]
#: The named CAWB decay functions usable in configs (see :class:`CawbLf`).
LF_SHAPES: tuple[str, ...] = get_args(LfShape)


class CawbLf:
    """A named CAWB decay function ``lf(x, gap)``, safe to write in a config (no code).

    ::

        "cos":     ((1 + cos(x * pi / gap)) / 2) * amplitude + floor
        "linear":  (1 - x / gap) * amplitude + floor

    ``CawbLf("cos", 0.8, 0.2)`` is the text ``((1 + cos(x*pi/gap)) / 2) * 0.8 + 0.2``;
    ``CawbLf("linear", 0.9, 0.1)`` is ``(1 - x/gap) * 0.9 + 0.1``. CAWB's built-in
    decay (``lf=None``) is ``CawbLf("cos", 1 - eta_min, eta_min)``.

    >>> CawbLf("linear", 0.9, 0.1)(5, 10)
    0.55
    """

    __slots__ = ("shape", "amplitude", "floor")
    kind: ClassVar[str] = "cawb_lf"  # the name lrkit explain knows it by

    def __init__(self, shape: str, amplitude: float, floor: float) -> None:
        _check.choice("lf", shape, LF_SHAPES)
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "amplitude", _check.rate("lf_amplitude", amplitude))
        object.__setattr__(self, "floor", _check.rate("lf_floor", floor))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("CawbLf is immutable")

    def __call__(self, x: float, gap: float) -> float:
        if self.shape == "cos":
            return ((1 + m.cos(x * _PI / gap)) / 2) * self.amplitude + self.floor
        return (1 - x / gap) * self.amplitude + self.floor

    def __reduce__(self) -> tuple[Any, ...]:
        return (CawbLf, (self.shape, self.amplitude, self.floor))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CawbLf) and (self.shape, self.amplitude, self.floor) == (
            other.shape,
            other.amplitude,
            other.floor,
        )

    def __hash__(self) -> int:
        return hash((CawbLf, self.shape, self.amplitude, self.floor))

    def __repr__(self) -> str:
        return f"CawbLf({self.shape!r}, {self.amplitude!r}, {self.floor!r})"


def cawb_lf(fn: Callable[[float, float], Any] | None, eta_min: float, x: float, gap: float) -> float:
    """CAWB's decay factor ``lf(x, gap)`` as the original computes it, whatever its sign.

    ``fn=None`` is the built-in ``((1 + cos(x * pi / gap)) / 2) * (1 - eta_min) + eta_min``.
    Used by :class:`CAWB` and by the drop-ins' counters: the formula lives here only.
    ``ValueError`` where the original fails (``gap == 0``, an angle past float64's
    range), ``TypeError`` when ``fn`` returns no number.
    """
    try:
        if fn is None:
            return ((1 + m.cos(x * _PI / gap)) / 2) * (1.0 - eta_min) + eta_min
        v = fn(x, gap)
    except ZeroDivisionError:
        raise ValueError(
            f"CAWB: lf({x!r}, {gap!r}) divides by zero: no segment has been reached yet (the original fails here too)"
        ) from None
    except (ValueError, OverflowError) as e:
        if "math domain" not in str(e) and not isinstance(e, OverflowError):
            raise
        raise ValueError(
            f"CAWB: position {x!r} is too far past the run for lf({x!r}, {gap!r}) to be computed in float64"
        ) from None
    if isinstance(v, (str, bytes, bool)) or not hasattr(v, "__float__"):
        raise TypeError(f"lf must return a number, got {_check.show(v)} from lf({x!r}, {gap!r})")
    return float(v)


def _steps_tuple(steps: Any) -> tuple[float, ...]:
    if isinstance(steps, (str, bytes)) or not isinstance(steps, Iterable):
        raise TypeError(f"steps must be a list of epoch numbers, got {steps!r}")
    return tuple(_check.real(f"steps[{i}]", s) for i, s in enumerate(steps))


#: What CAWB's ``lf`` takes: a named decay, a :class:`CawbLf`, a function ``lf(x, gap)``, or None.
CawbLfArg = LfShape | CawbLf | Callable[[float, float], float] | None


@register("cawb")
class CAWB(Schedule):
    """Cosine annealing with warm restarts ("warm booting") at given epochs, as CAWB computes it.

    Boundaries ``B = [warmup_epoch] + sorted(s in steps, warmup_epoch < s < epochs) + [epochs]``;
    the caller's ``steps`` are copied, never sorted in place. Steps outside that range
    are ignored, as in the original.

    **What ``step()`` sets** after it was called ``iters + 1`` times (``t = iters + last_epoch``),
    as a factor of each group's base lr (:meth:`step_terms`)::

        i     = first segment with t <= B[i+1]
        gap   = B[i+1] - B[i] (+ epoch_scale unless i is the last segment)
        scale = step_scale ** i       (a running product, as the original multiplies)
        lr    = scale * base_lr * lf(t - B[i], gap)
        lf(x, gap) = ((1 + cos(x * pi / gap)) / 2) * (1 - eta_min) + eta_min     (lf=None)

    ``eta_min`` is a ratio of the base lr. Past ``epochs`` no segment matches: ``scale``
    has been multiplied once per segment, ``t`` is not shifted, and ``gap`` is the one
    of the segment of the last position ``<= epochs`` that the step-by-step run went
    through (see :meth:`locate`). During warmup ``t - B[0]`` is negative; the first
    epoch after warmup uses ``t - B[0] = -1``.

    **What ``step_batch()`` sets** at its ``k``-th call (from 0): ``k / warmup_iters`` while
    ``k < warmup_iters = batchs * warmup_epoch``, else nothing (:meth:`warmup_factor`).
    With ``batchs == 0`` there is no warmup ramp whatever ``warmup_epoch`` is, but
    ``warmup_epoch`` is still the first boundary: epoch 0 keeps the base lr and the
    cosine starts from ``t - warmup_epoch``, as in the original.

    **As a schedule**, position ``p = epoch * batchs + batch`` (or the epoch, when
    ``batchs == 0``) gives the multiplier the canonical loop applies to each batch
    (``step_batch()`` before every batch, ``step()`` after every epoch): the warmup
    value while ``p < warmup_iters``, 1 during epoch 0 when there is no warmup, and
    otherwise ``step_factor(epoch - 1)``. A fractional position inside batch ``k`` gets
    batch ``k``'s value: the curve is a staircase, one step per batch (one per epoch
    after the warmup), as the loop applies it.

    ``lf``: ``None`` (the cosine above), ``"cos"`` or ``"linear"`` with ``lf_amplitude``
    and ``lf_floor`` (see :class:`CawbLf`; they default to ``1 - eta_min`` and
    ``eta_min``), a :class:`CawbLf`, or any Python callable ``lf(x, gap)`` (which
    cannot be written to a config).

    >>> s = CAWB(epochs=150, steps=[50, 100], step_scale=0.8, batchs=4)
    >>> s(4), s.step_factor(0)
    (1.0, 1.0)
    """

    value_name = "multiplier of the base lr"

    formula = "CAWB's multiplier per iteration: linear warmup, then cosine segments between restarts (see the recipes)"
    example = {"epochs": 45, "steps": [15, 30], "step_scale": 0.7, "batchs": 20, "warmup_epoch": 5}
    epochs: float = param("positive", doc="number of epochs")
    eta_min: float = param("real", default=0.05, doc="floor of each cosine, a ratio of the base lr in [0, 1]")
    steps: Sequence[float] = param("any", default=(), doc="restart epochs")
    step_scale: float = param("positive", default=0.8, doc="peak factor at each restart")
    lf: CawbLfArg = param("any", default=None, doc="None, 'cos', 'linear', a CawbLf or a function lf(x, gap)")
    batchs: float = param("real", default=0, doc="batches per epoch (0: per epoch)")
    warmup_epoch: float = param("length0", default=0, doc="linear warmup epochs")
    epoch_scale: float = param("factor", default=1.0, doc="added to every cosine period but the last")
    lf_amplitude: float | None = param(
        "rate", default=None, doc="amplitude of a named lf (default: 1 - eta_min)", optional=True
    )
    lf_floor: float | None = param("rate", default=None, doc="floor of a named lf (default: eta_min)", optional=True)
    warmup_iters: float = derived(doc="W = batchs * warmup_epoch, the warmup's iterations")
    boundaries: tuple[float, ...] = derived(doc="warmup_epoch, the restarts inside the run, epochs")
    _ends: tuple[float, ...] = derived(doc="where each segment ends")
    _scales: tuple[float, ...] = derived(doc="each segment's peak factor, step_scale ** i")
    _gaps: tuple[float, ...] = derived(doc="each segment's cosine period, in epochs")
    _gaps_past: tuple[float, ...] = derived(doc="_gaps, and the gap kept past epochs")
    _fn: Callable[[float, float], float] | None = derived(doc="lf(x, gap), None for the plain cosine")
    _k_last: float = derived(doc="the batch counter of the last warmup write (-1: none)")
    _warm_end: float = derived(doc="the position where the warmup's last write ends")
    _per_epoch: float = derived(doc="positions per epoch (batchs, or 1)")
    _starts0: tuple[float, ...] = derived(doc="where each segment starts, and 0")
    _top: float = derived(doc="an upper bound of the values")

    def _setup(
        self,
        epochs: float,
        eta_min: float,
        steps: Any,
        step_scale: float,
        lf: Any,
        batchs: float,
        warmup_epoch: float,
        epoch_scale: float,
        lf_amplitude: float | None,
        lf_floor: float | None,
    ) -> None:
        E = epochs
        eta = _check.real("eta_min", eta_min)
        if not 0 <= eta <= 1:
            raise ValueError(f"eta_min must be in [0, 1] (a ratio of each group's base lr), got {eta_min!r}")
        st = _steps_tuple(steps)
        ss = _check.positive("step_scale", step_scale)
        nb = _check.real("batchs", batchs)
        if nb < 0 or not nb.is_integer():
            raise ValueError(f"batchs must be an integer >= 0 (batches per epoch), got {batchs!r}")
        we = _check.length("warmup_epoch", warmup_epoch, allow_zero=True)
        if not we < E:
            raise ValueError(
                f"warmup_epoch ({warmup_epoch!r}) must be below epochs ({epochs!r}): the first "
                f"segment would have no length (the original divides by zero)"
            )
        # warmup_epoch > 0 with batchs == 0 is valid: no warmup ramp (batchs * warmup_epoch
        # = 0 iterations), but the first boundary still shifts the cosine, as in the original.
        es = _check.rate("epoch_scale", epoch_scale)

        if isinstance(lf, CawbLf):
            if lf_amplitude is not None or lf_floor is not None:
                raise ValueError("lf_amplitude and lf_floor are given by the CawbLf itself; do not pass them")
            lf, lf_amplitude, lf_floor = lf.shape, lf.amplitude, lf.floor
        if isinstance(lf, str):
            _check.choice("lf", lf, LF_SHAPES)
            amp = 1.0 - eta if lf_amplitude is None else _check.rate("lf_amplitude", lf_amplitude)
            flo = eta if lf_floor is None else _check.rate("lf_floor", lf_floor)
            fn: Callable[[float, float], float] | None = CawbLf(lf, amp, flo)
        elif lf is None or callable(lf):
            if lf_amplitude is not None or lf_floor is not None:
                raise ValueError(f"lf_amplitude and lf_floor apply to lf='cos' or 'linear' only, got lf={lf!r}")
            amp = flo = None
            fn = lf
        else:
            raise TypeError(f"lf must be None, 'cos', 'linear', a CawbLf or a function lf(x, gap), got {lf!r}")

        # a restart at the last epoch changes nothing and the original's own configs list it:
        # ignored without a word; others outside the run are probably a mistake
        ignored = [x for x in st if not we < x < E and x != E]
        if ignored:
            from ._dropin import _drop_in_warning

            _drop_in_warning(
                "CAWB",
                f"restart epochs {', '.join(f'{x:g}' for x in ignored)} are not between warmup_epoch "
                f"({we:g}) and epochs ({E:g}): the recipe ignores them",
            )
        B = (we,) + tuple(sorted(s for s in st if we < s < E)) + (E,)
        nseg = len(B) - 1
        scales = [1.0]
        for _ in range(nseg):
            scales.append(scales[-1] * ss)
        top = max(scales) * (1.0 if fn is None else (amp + flo if amp is not None else 1.0))
        if not top < _INF:
            raise ValueError(
                f"step_scale={_check.show(step_scale)} overflows float64: the peak after "
                f"{nseg} restarts, step_scale ** {nseg}, must be finite"
            )
        gaps = tuple(B[i + 1] - B[i] + es if i != nseg - 1 else B[i + 1] - B[i] for i in range(nseg))
        for i, g in enumerate(gaps):
            if not _check.MIN_LENGTH <= g <= _check.MAX_LENGTH:
                raise ValueError(
                    f"CAWB segment {i + 1} runs {g!r} epochs (from {B[i]!r} to {B[i + 1]!r}"
                    f"{' plus epoch_scale' if i != nseg - 1 else ''}); each must be between "
                    f"{_check.MIN_LENGTH:g} and {_check.MAX_LENGTH:g}"
                )
        W = nb * we
        if not W <= _check.MAX_LENGTH:
            raise ValueError(
                f"batchs * warmup_epoch = {W!r} warmup iterations is past lrkit's limit of "
                f"{_check.MAX_LENGTH:g} (batchs={_check.show(batchs)}, "
                f"warmup_epoch={_check.show(warmup_epoch)})"
            )
        # Warmup writes happen at batch counters 0 .. ceil(W) - 1; a fractional warmup
        # leaves the last one in force until the step() that ends its epoch.
        k_last = math.ceil(W) - 1 if W > 0 else -1
        warm_end = (k_last // nb + 1) * nb if W > 0 else 0.0
        self._set(
            epochs=E,
            eta_min=eta,
            steps=st,
            step_scale=ss,
            lf=lf,
            batchs=nb,
            warmup_epoch=we,
            epoch_scale=es,
            lf_amplitude=amp,
            lf_floor=flo,
            warmup_iters=W,
            boundaries=B,
            _ends=B[1:],
            _scales=tuple(scales),
            _gaps=gaps,
            _fn=fn,
            _k_last=float(k_last),
            _warm_end=float(warm_end),
            _per_epoch=nb if nb > 0 else 1.0,
            _starts0=B[:-1] + (0.0,),
            _top=max(1.0, top) if fn is None or isinstance(fn, CawbLf) else _INF,
        )
        # past epochs, every step-by-step run (whole epochs) keeps the gap of the last whole epoch's segment
        self._set(_gaps_past=gaps + (gaps[self._last_walk_segment(float(math.floor(E) + 1), 0.0)],))

    # -- the original's per-call factors (for stateful bindings) -----------------------------
    def locate(self, iters: float, last_epoch: float = 0) -> tuple[float, float, float]:
        """``(scale, x, gap)`` that ``step()`` uses when its counter is ``iters``: ``lr = scale * base * lf(x, gap)``.

        Past ``epochs`` the original keeps the ``gap`` of the last segment it found, a
        value carried between calls. Here it is the gap of the segment holding the
        last position ``<= epochs`` on the unit-step walk ``..., iters - 1, iters``
        (offset by ``last_epoch``). That is exactly the original's value whenever the
        walk went through that position, i.e. for every run stepped one epoch at a
        time, resumed or not, including ``step(external_iter=j)`` jumps that land at
        or below ``epochs``. It differs only after a jump straight from one position
        ``<= epochs`` to one past ``epochs`` (the original then reuses the jumped-from
        segment's gap) or when no call was ever at or below ``epochs`` (the original
        divides by zero); lrkit continues the curve a step-by-step run would give.
        """
        it = _check.real("iters", iters)
        L = _check.real("last_epoch", last_epoch)
        t = it + L
        ends = self._ends
        i = bisect.bisect_left(ends, t)
        if i < len(ends):
            return self._scales[i], t - self.boundaries[i], self._gaps[i]
        return self._scales[-1], t, self._gaps[self._last_walk_segment(it, L)]

    def _last_walk_segment(self, it: float, L: float) -> int:
        """The segment of the last position ``j + L <= epochs`` of the walk ``..., it - 1, it``."""
        E = self.epochs
        # j keeps it's fractional part: j = frac + floor(E - L - frac), computed directly (a
        # walk from ``it`` down would take ``it - E`` steps); then rounding is corrected.
        frac = it - math.floor(it)
        j = frac + math.floor(E - L - frac)
        for _ in range(4):
            if (j + 1) + L <= E:
                j += 1
            elif j + L > E:
                j -= 1
            else:
                break
        return bisect.bisect_left(self._ends, j + L)

    def _lf_raw(self, x: float, gap: float) -> float:
        return cawb_lf(self._fn, self.eta_min, x, gap)

    def lf_value(self, x: float, gap: float) -> float:
        """The decay factor ``lf(x, gap)`` exactly as the original computes it, whatever its sign.

        ``ValueError`` where the original fails (``gap == 0``: a division by zero; an
        angle past float64's range) or ``lf`` gives no finite number.
        """
        v = self._lf_raw(x, gap)
        if v != v or v in (_INF, -_INF):
            raise ValueError(f"CAWB: lf({x!r}, {gap!r}) = {v!r} at position {x!r}; the decay factor must be finite")
        return v

    def _lf(self, x: float, gap: float) -> float:
        """:meth:`lf_value`, where the schedule needs it ``>= 0``: a named ``lf`` (``'linear'``
        runs below 0 past the run) holds 0 there; a user function must not go below 0."""
        named = self._fn is None or isinstance(self._fn, CawbLf)
        v = self._lf_raw(x, gap)
        if named and v < 0:
            return 0.0
        v = self.lf_value(x, gap) if not 0 <= v < _INF else v
        if v >= 0:
            return v
        if named:
            return 0.0
        raise ValueError(
            f"lf({x!r}, {gap!r}) = {v!r}; the decay factor of an lrkit CAWB schedule must be >= 0 "
            "(the drop-in CosineAnnealingWarmbootingLR takes it as it is)"
        )

    def step_terms(self, iters: float, last_epoch: float = 0) -> tuple[float, float]:
        """``(scale, factor)`` of the ``step()`` whose counter is ``iters``: ``lr = scale * base_lr * factor``."""
        scale, x, gap = self.locate(iters, last_epoch)
        return scale, self._lf(x, gap)

    def step_factor(self, iters: float, last_epoch: float = 0) -> float:
        """The multiplier of each base lr that ``step()`` sets at counter ``iters`` (``scale * factor``)."""
        scale, factor = self.step_terms(iters, last_epoch)
        return scale * factor

    def step_lr(self, base_lr: float, iters: float, last_epoch: float = 0) -> float:
        """The lr ``step()`` writes into a group with ``base_lr``, in the original's order of operations."""
        scale, factor = self.step_terms(iters, last_epoch)
        return scale * base_lr * factor

    def warmup_factor(self, batch_iter: float) -> float | None:
        """What ``step_batch()`` sets at its counter ``batch_iter`` (from 0): ``batch_iter / warmup_iters``, or None after warmup."""
        k = _check.real("batch_iter", batch_iter)
        if k < self.warmup_iters:
            return k / self.warmup_iters
        return None

    def position(self, epoch: float, batch: float = 0) -> float:
        """The schedule position of ``batch`` in ``epoch``: ``epoch * batchs + batch``."""
        return epoch * self._per_epoch + batch

    def batch_lr(self, base_lr: float, position: float) -> float:
        """The lr the canonical loop applies at ``position`` to a group with ``base_lr``, in the original's order.

        Equal to ``base_lr * self(position)`` up to an ulp; this one is bit-identical to
        the original (``scale * base_lr * factor`` rather than ``base_lr * (scale * factor)``).
        """
        p = _check.length("position", position, allow_zero=True)
        if p < self._warm_end or (p // self._per_epoch) < 1:
            return base_lr * self._scalar(p)
        return self.step_lr(base_lr, p // self._per_epoch - 1.0)

    @property
    def max_value(self) -> float:
        return self._top

    @property
    def scales(self) -> tuple[float, ...]:
        """The peak factor of each segment, ``step_scale ** i`` (and the one past the end, last)."""
        return self._scales

    @property
    def gaps(self) -> tuple[float, ...]:
        """The cosine period of each segment (``epoch_scale`` added to all but the last)."""
        return self._gaps

    @property
    def positions_per_epoch(self) -> float:
        """Schedule positions per epoch: ``batchs``, or 1 when ``batchs`` is 0."""
        return self._per_epoch

    @property
    def decay_function(self) -> Any:
        """The decay ``lf(x, gap)`` in use: ``None`` for the built-in cosine, a :class:`CawbLf`, or a function."""
        return self._fn

    # -- the canonical loop as a schedule ------------------------------------------------------
    def _kernel(self, p: Any, xp: Any) -> Any:
        return xp.branch(p < self._warm_end, self._warming, self._epochs, p)

    def _warming(self, p: Any, xp: Any) -> Any:
        # A batch is applied whole: a position inside batch k gets batch k's value; a
        # fractional warmup leaves its last value until the epoch ends.
        return xp.minimum(xp.floor(p), self._k_last) / self.warmup_iters

    def _epochs(self, p: Any, xp: Any) -> Any:
        e = xp.floordiv(p, self._per_epoch)
        if not (self._fn is None or isinstance(self._fn, CawbLf)):
            return xp.per_index(self._epoch_factor, e)  # a user's lf(x, gap): Python, cycle by cycle
        return xp.branch(e < 1, self._first_epoch, self._stepped, e)

    def _first_epoch(self, e: Any, xp: Any) -> Any:
        return xp.full(e, 1.0)

    def _stepped(self, e: Any, xp: Any) -> Any:
        """:meth:`step_factor` ``(e - 1)`` of a named ``lf``, as operations: the segment by a count
        of the boundaries, its scale, start and gap looked up (past ``epochs``: the last scale, no
        shift, the gap of the last whole epoch's segment), then ``scale * lf(x, gap)``."""
        t = e - 1.0
        i = xp.count_lt(self._ends, t)
        x = t - xp.take(self._starts0, i)
        return xp.take(self._scales, i) * self._lf_ops(x, xp.take(self._gaps_past, i), i, xp)

    def _within_period(self, x: Any, gap: Any, i: Any, xp: Any) -> Any:
        """``x`` less a whole number ``k`` of cosine periods ``2 * gap``, on a device computing in a
        float narrower than float64: past the run ``x`` grows without end and the angle
        ``x * pi / gap`` would keep few exact bits. ``x - k * P`` with the period ``P`` as the dtype
        holds it (an exact remainder), plus ``k`` times what rounding took from the period."""
        import numpy

        dt = numpy.dtype(xp.dtype)
        lost = tuple(2.0 * g - 2.0 * float(numpy.asarray(g, dtype=numpy.float64).astype(dt)) for g in self._gaps_past)
        P = 2.0 * gap
        r = xp.fmod(x, P)
        k = xp.floor((x - r) / P + 0.5)
        return r + k * xp.take(lost, i)

    def _lf_ops(self, x: Any, gap: Any, i: Any, xp: Any) -> Any:
        """:func:`cawb_lf` of a named ``lf``, as :meth:`_lf` takes it (0 where it is below 0)."""
        fn = self._fn
        if not (fn is None or isinstance(fn, CawbLf)):  # _epochs sends a user's lf(x, gap) elsewhere
            raise TypeError(f"CAWB: lf={fn!r} is Python code, not a named decay to evaluate as operations")
        if fn is None or fn.shape == "cos":
            amp, flo = (1.0 - self.eta_min, self.eta_min) if fn is None else (fn.amplitude, fn.floor)
            if xp.name == "traced" and xp.float_bits < 64:
                x = self._within_period(x, gap, i, xp)
            angle = xp.guard(x * _PI / gap, self._too_far)
            v = ((1 + xp.cos(angle)) / 2) * amp + flo
        else:
            v = (1 - x / gap) * fn.amplitude + fn.floor
        return xp.where(v < 0, 0.0, v)

    def _too_far(self) -> str:
        return "CAWB: a position is too far past the run for lf to be computed in float64"

    def _epoch_factor(self, e: float) -> float:
        """The multiplier during epoch ``e``: the base lr in epoch 0, then what ``step()`` set after epoch ``e - 1``."""
        return 1.0 if e < 1 else self.step_factor(e - 1.0)

    def restart_epochs(self) -> list[int]:
        """The epochs whose applied multiplier jumps up from the epoch before: the restarts as
        the canonical loop applies them (``step()`` after each epoch sets the next epoch's
        value), read off the schedule. Empty past 100,000 epochs (not listed)."""
        E = math.ceil(self.epochs)
        if E > 100_000:
            return []
        import numpy

        per = self._per_epoch
        vals = self(numpy.arange(E, dtype=numpy.float64) * per)
        first = math.floor(self.warmup_epoch) + 2  # each segment only decreases: a rise after warmup is a restart
        return [e for e in range(max(2, first), E) if vals[e] > vals[e - 1]]

    def phases(self) -> list[Phase]:
        out = []
        start = 0.0
        if self.warmup_iters > 0:
            start = self._warm_end
            out.append(Phase("warmup (linear from 0)", 0.0, start, 0.0, self._scalar(math.nextafter(start, 0.0)), True))
        per, end = self._per_epoch, self.epochs * self._per_epoch
        ups = [e * per for e in self.restart_epochs() if start < e * per < end]
        if math.ceil(self.epochs) > 100_000:
            out.append(Phase("cosine warm restarts", start, _INF, self._scalar(start), None, not out))
            return out
        bounds = [start] + ups + [end]
        for i in range(len(bounds) - 1):
            a, b = bounds[i], bounds[i + 1]
            if b <= a:
                continue
            out.append(Phase(f"cycle {i + 1}", a, b, self._scalar(a), self._scalar(math.nextafter(b, 0.0)), not out))
        out.append(Phase("past epochs", end, _INF, self._scalar(end), None, True))
        return out

    def to_dict(self) -> dict[str, Any]:
        if self._fn is not None and not isinstance(self._fn, CawbLf):
            raise TypeError(
                f"this CAWB schedule uses a Python function lf={self.lf!r}, which cannot be written "
                f"as a config; use lf='cos' or 'linear' with lf_amplitude and lf_floor"
            )
        d = super().to_dict()
        if self.lf is None:
            for k in ("lf", "lf_amplitude", "lf_floor"):
                del d[k]
        return d


# -- the recipe, declared once (the command line, lrkit list and the README derive from it) ----------------
from .registry import Option, Recipe, declare, run_length  # noqa: E402


def _cawb_per_epoch(v: Any) -> float:
    return v.batchs if v.batchs > 0 else 1.0


declare(
    Recipe(
        "cawb",
        "CosineAnnealingWarmbootingLR(epochs, eta_min, steps, step_scale, lf, batchs, warmup_epoch, "
        "epoch_scale): the multiplier per batch (or per epoch with batchs 0)",
        params=(
            Option("epochs", "positive", doc="number of epochs", metavar="E"),
            Option("eta_min", "real", 0.05, "floor of each cosine, a ratio of the base lr", metavar="R"),
            Option("steps", "reals", (), "restart epochs (the number of positions is then -n)", metavar="EPOCH"),
            Option("step_scale", "positive", 0.8, "peak factor at each restart", metavar="S"),
            Option(
                "lf",
                "choice",
                None,
                "named decay function instead of the built-in cosine, with --lf-amplitude and --lf-floor",
                choices=("cos", "linear"),
                optional=True,
            ),
            Option("lf_amplitude", "rate", None, "lf amplitude (default: 1 - eta_min)", optional=True, metavar="A"),
            Option("lf_floor", "rate", None, "lf floor (default: eta_min)", optional=True, metavar="F"),
            Option(
                "batchs",
                "real",
                0,
                "batches per epoch; > 0 gives one position per batch, warmup included (default: 0, per epoch)",
                metavar="B",
            ),
            Option(
                "warmup_epoch",
                "length0",
                0,
                "linear warmup epochs (a ramp with --batchs; with batchs 0 it only shifts the cosine)",
                metavar="E",
            ),
            Option("epoch_scale", "factor", 1.0, "added to every cosine period but the last", metavar="S"),
        ),
        build=CAWB,
        original="`CosineAnnealingWarmbootingLR(optimizer, epochs, eta_min, steps, step_scale, lf, batchs, "
        "warmup_epoch, epoch_scale)` (CAWB)",
        does="a linear warmup from 0 over `batchs * warmup_epoch` batches, then cosine segments between "
        "`[warmup_epoch, *steps, epochs]`, each restart's peak times `step_scale`, `eta_min` a **ratio** of the "
        "base lr, every segment but the last lengthened by `epoch_scale`",
        positions_per_epoch=_cawb_per_epoch,
        default_steps=lambda v: run_length(v.epochs * _cawb_per_epoch(v)),
        run_steps=lambda v: float(v.epochs * _cawb_per_epoch(v)),
    )
)
