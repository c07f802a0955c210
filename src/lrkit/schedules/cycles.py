"""Cycles: cosine annealing with warm restarts, and cyclical learning rates."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

from .. import _check
from .. import _num as m
from .._num import np
from ..core import Phase, Schedule, register
from ..params import derived, param

if TYPE_CHECKING:
    from numpy import ndarray

__all__ = ["CosineRestarts", "Cyclic"]

_INF = math.inf
_PI = math.pi
_MAX_LISTED = 12
_MAX_TABLE = 65536
DEVICE_CYCLES = 65536  # cycles whose starts, heights and rates a device looks up (float64)
#: a device narrower than float64 (float32: step counts are int32, positions below 2 ** 31) looks
#: up every cycle that starts before 2 ** 31, at most this many (20 bytes each on the device)
DEVICE_CYCLES_NARROW = 2**20
NARROW_POSITIONS = 2.0**31


def _resolvable(q: float, t: float, what: str, length: float) -> None:
    """Refuse a position ``t`` whose count of periods ``q`` overflows the float range."""
    if not q < _INF:
        raise ValueError(
            f"position {t!r} is too many {what}s of {length!r} in to count "
            f"(the count overflows float64); use a longer {what} or an earlier position"
        )


@register("cosine_restarts")
class CosineRestarts(Schedule):
    """Cosine annealing with warm restarts (SGDR), the peak scaled at each restart.

    Cycle ``i`` (from 0) lasts ``P_i = period * period_mult ** i`` and starts at
    ``S_i = period * (period_mult ** i - 1) / (period_mult - 1)`` (``i * period``
    when ``period_mult == 1``). Within it, with ``x = t - S_i``::

        f(t) = min_lr + (peak_i - min_lr) * (1 + cos(pi * (x / P_i) ** k)) / 2
        peak_i = max(peak_lr * peak_decay ** i, min_lr)                    (peak_decay)
               = min_lr + (peak_lr - min_lr) * amplitude_decay ** i        (amplitude_decay)

    Peaks never fall below the floor: once decayed that far, cycles are flat at ``min_lr``.
    ``peak_decay`` scales the peak (timm's ``cycle_decay``, torch-style restarts);
    ``amplitude_decay`` scales the height above the floor instead. ``k > 1`` is k-decay
    within each cycle (timm's ``k_decay``).

    After ``max_cycles`` cycles (if given) ``min_lr`` is held.

    >>> CosineRestarts(peak_lr=1.0, period=10)(15)
    0.5
    """

    formula = (
        'cycle `i` lasts `period * period_mult^i`, peaks at `max(peak * peak_decay^i, min)` (or `min + (peak - min) '
        'amplitude_decay^i`), cosine of `pi (x / P_i)^k`; `min` after `max_cycles`'
    )
    example = {"peak_lr": 0.1, "period": 100, "period_mult": 2, "min_lr": 0.001, "peak_decay": 0.7, "max_cycles": 4}
    peak_lr: float = param("rate", doc="the first cycle's peak")
    period: float = param("length", doc="length of the first cycle")
    period_mult: float = param("real", default=1.0, doc="each cycle is this many times longer than the previous, >= 1")
    min_lr: float = param("rate", default=0.0, doc="the floor of every cycle")
    peak_decay: float = param(
        "factor", default=1.0, doc="each restart's peak is the previous one times this, in [0, 1]"
    )
    max_cycles: int | None = param(
        "count", default=None, doc="cycles before min_lr is held (default: no end)", optional=True
    )
    k: float = param("positive", default=1.0, doc="k-decay exponent of the position within a cycle (1: plain cosine)")
    amplitude_decay: float = param(
        "factor", default=1.0, doc="each restart's height above min_lr is the previous one times this, in [0, 1]"
    )
    _logm: float = derived(doc="log(period_mult) (0 for period_mult 1)")
    _end: float = derived(doc="where the last cycle ends (inf without max_cycles)")

    def _setup(
        self,
        peak_lr: float,
        period: float,
        period_mult: float,
        min_lr: float,
        peak_decay: float,
        max_cycles: int | None,
        k: float,
        amplitude_decay: float,
    ) -> None:
        p, lo, P, pm, pd = peak_lr, min_lr, period, period_mult, peak_decay
        if amplitude_decay > 1:
            raise ValueError(f"amplitude_decay must be in [0, 1], got {amplitude_decay!r}")
        if amplitude_decay != 1 and pd != 1:
            raise ValueError(f"give peak_decay ({peak_decay!r}) or amplitude_decay ({amplitude_decay!r}), not both")
        _check.not_above("min_lr", lo, "peak_lr", p)
        if pm < 1:
            raise ValueError(f"period_mult must be >= 1, got {period_mult!r}")
        if pd > 1:
            raise ValueError(
                f"peak_decay must be in [0, 1] (each restart's peak is the previous one times it), got {peak_decay!r}"
            )
        self._set(
            peak_lr=p,
            period=P,
            period_mult=pm,
            min_lr=lo,
            peak_decay=pd,
            max_cycles=max_cycles,
            k=k,
            amplitude_decay=amplitude_decay,
            _logm=math.log(pm) if pm > 1 else 0.0,
        )
        self._set(_end=_INF if max_cycles is None else self._cycle_start(max_cycles))

    def cycle_start(self, i: int) -> float:
        """Where cycle ``i`` (from 0) starts: ``period * (period_mult ** i - 1) / (period_mult - 1)``."""
        return self._cycle_start(float(i))

    @property
    def end(self) -> float:
        """Where ``min_lr`` starts to be held (after ``max_cycles``; ``inf`` without them)."""
        return self._end

    def _cycle_start(self, i: float) -> float:
        if self.period_mult == 1.0:
            return i * self.period
        a = m.ipow(self.period_mult, i) - 1
        v = self.period * a
        if v < _INF:
            return v / (self.period_mult - 1)
        if a < _INF:
            return self.period * (a / (self.period_mult - 1))  # P * a overflows, the start may not
        return self._far_start(i)

    def _far_start(self, i: float) -> float:
        """The start of a cycle ``i`` whose ``period_mult ** i`` is past float64's range, by logs
        (``- 1`` is below the last bit there); ``inf`` if the start itself is."""
        e = m.log(self.period) + i * self._logm - m.log(self.period_mult - 1)
        if not e < 710.0:  # log(float64 max) is 709.78...
            return _INF
        with np.errstate(over="ignore"):
            return m.exp(e)

    def _index(self, t: float) -> float:
        """The cycle of ``t``: the largest ``i`` with ``_cycle_start(i) <= t``."""
        P, pm = self.period, self.period_mult
        if pm == 1.0:
            q = t / P
            _resolvable(q, t, "period", P)
            i = float(math.floor(q))
        else:
            q = t * (pm - 1) / P
            if q < _INF:
                i = float(math.floor(math.log1p(q) / self._logm))
            else:  # log1p(q) = log(q) to the last bit for such a q; its log has no overflow
                i = float(math.floor((m.log(t) + m.log(pm - 1) - m.log(P)) / self._logm))
        if self._cycle_start(i + 1) <= t:
            i += 1
        elif self._cycle_start(i) > t:
            i -= 1
        return i

    def _acycle_start(self, i: ndarray) -> ndarray:
        if self.period_mult == 1.0:
            with np.errstate(over="ignore"):
                return i * self.period
        a = m.vipow(self.period_mult, i) - 1
        with np.errstate(over="ignore"):
            v = self.period * a
        big = ~(v < _INF)
        v /= self.period_mult - 1
        if big.any():
            v[big] = self.period * (a[big] / (self.period_mult - 1))
            far = a == _INF
            if far.any():
                v[far] = [self._far_start(c) for c in i[far].tolist()]
        return v

    def _aindex(self, t: ndarray) -> ndarray:
        """:meth:`_index` element-wise, with the same corrections."""
        P, pm = self.period, self.period_mult
        if pm == 1.0:
            i = np.floor(t / P)
        else:
            with np.errstate(over="ignore"):
                q = t * (pm - 1) / P
            big = ~(q < _INF)
            if big.any():
                q[big] = 1.0
            i = np.floor(np.log1p(q) / self._logm)
            if big.any():
                i[big] = np.floor((m.vlog(t[big]) + m.log(pm - 1) - m.log(P)) / self._logm)
        up = self._acycle_start(i + 1) <= t
        down = ~up & (self._acycle_start(i) > t)
        return i + up - down

    def _kernel(self, t: Any, xp: Any) -> Any:
        if self._end < _INF:
            return xp.hold(t, self._end, self._cycling, self.min_lr)
        return self._cycling(t, xp)

    def _cycling(self, t: Any, xp: Any) -> Any:
        if xp.name == "traced":
            return self._device_cycling(t, xp)
        i, x = self._locate(t, xp)
        return xp.by_index(i, self._in_cycle, x)

    # -- on a device (jax.numpy, keras.ops): the search over a table of the cycle starts ----------
    def _device_tables(self) -> tuple[tuple[float, ...], ...]:
        """The float64 starts, heights and rates (``pi / P_i``) or periods of the cycles a device's
        count can reach (a count is at most ``2 ** 63``), at most :data:`DEVICE_CYCLES` of them: the
        same numbers as the scalar path's, computed once on the host."""
        try:
            return self.__dict__["_dev"]
        except KeyError:
            pass
        n = DEVICE_CYCLES
        if self.period_mult != 1.0:
            n = min(n, int(self._index(float(2**63))) + 2)
        elif self.peak_decay == 1.0 and self.amplitude_decay == 1.0:
            n = 1  # every cycle alike
        else:  # the heights decay to a constant (the floor, or 0): the cycles up to there
            last = self._height(0.0)
            for c in range(1, DEVICE_CYCLES):
                h = self._height(float(c))
                if h == last and h == self._height(1e300):
                    n = c
                    break
                last = h
        if self.max_cycles is not None:
            n = min(n, self.max_cycles + 1)
        idx = [float(i) for i in range(max(n, 1))]
        starts = tuple(self._cycle_start(i) for i in idx)
        heights = tuple(self._height(i) for i in idx)
        per = tuple(self._rate(i) if self.k == 1.0 else self._period_of(i) for i in idx)
        out = (starts, heights, per)
        self.__dict__["_dev"] = out
        return out

    def _narrow_tables(self) -> tuple[Any, Any, Any, Any, Any]:
        """For a device narrower than float64 (``period_mult != 1``): every cycle starting before
        ``2 ** 31`` (the positions an int32 step count reaches), as float32 numpy arrays: the starts
        as three numbers each, ``hi + mid + lo`` (exactly the float64 start: 3 x 24 bits hold its 53), then
        the heights and the rates (or periods) rounded to float32. ``ValueError`` past
        :data:`DEVICE_CYCLES_NARROW` cycles: float32 cannot compute such a start (give the device
        float64)."""
        try:
            return self.__dict__["_dev_narrow"]
        except KeyError:
            pass
        n = int(self._index(NARROW_POSITIONS)) + 2
        if self.max_cycles is not None:
            n = min(n, self.max_cycles + 1)
        if n > DEVICE_CYCLES_NARROW:
            raise ValueError(
                f"{_check.show(self)} has {n - 1:,} cycles before step 2**31, more than the "
                f"{DEVICE_CYCLES_NARROW:,} a float32 device looks up (period_mult={self.period_mult!r} is "
                f"too close to 1 for period={self.period!r}): float32 cannot compute the start of a cycle past "
                "them exactly; evaluate it in float64 (JAX: jax.config.update('jax_enable_x64', True); "
                "Keras: keras.config.set_floatx('float64'), with JAX's x64 on the jax backend), or use a "
                "period_mult further from 1 or a longer period"
            )

        def powers(b: float) -> Any:  # b ** i as m.ipow computes it (Python's float power), i < n
            return np.array([b**c for c in range(n)], dtype=np.float64)

        P, pm = self.period, self.period_mult
        grow = powers(pm)
        with np.errstate(over="ignore"):
            starts = P * (grow - 1) / (pm - 1)  # _cycle_start's operations: the same bits
        if not np.isfinite(starts).all():  # not reached below 2 ** 31 starts; kept exact regardless
            starts = self._acycle_start(np.arange(n, dtype=np.float64))
        hi = starts.astype(np.float32)
        rest = starts - hi.astype(np.float64)  # exact in float64, as is the next
        mid = rest.astype(np.float32)
        lo = (rest - mid.astype(np.float64)).astype(np.float32)  # the last bits: exact in float32
        if self.amplitude_decay != 1.0:
            peaks = self.min_lr + (self.peak_lr - self.min_lr) * powers(self.amplitude_decay)
        elif self.peak_decay != 1.0:
            peaks = np.maximum(self.peak_lr * powers(self.peak_decay), self.min_lr)
        else:
            peaks = np.full(n, max(self.peak_lr, self.min_lr))
        per = _PI / (P * grow) if self.k == 1.0 else P * grow
        with np.errstate(over="ignore"):  # a rate past float32's range: refused by the binding's check
            out = (hi, mid, lo, (peaks - self.min_lr).astype(np.float32), per.astype(np.float32))
        self.__dict__["_dev_narrow"] = out
        return out

    def _narrow_cycling(self, t: Any, xp: Any) -> Any:
        """:meth:`_cycling` on a device narrower than float64 (``period_mult != 1``): the cycle by a
        search over the float32 starts ``hi``, corrected by one with the rest of the exact start
        ``hi + mid + lo``: the sign of ``t - start = ((t - hi) - mid) - lo`` is exact (``t - hi`` is,
        ``t`` and ``hi`` being close; ``(t - hi) - mid`` is exact where it is not far larger than
        ``lo``), and ``x`` is that difference (within an ulp or two of float32). The table ends at
        the last cycle starting before ``2 ** 31`` (an int32 count's positions; a later position
        stays in it)."""
        hi, mid, lo, heights, per = self._narrow_tables()

        def past(i: Any) -> Any:  # t - start_i, its sign exact
            return ((t - xp.take(hi, i)) - xp.take(mid, i)) - xp.take(lo, i)

        last = len(hi) - 1
        j = xp.count_le(hi, t) - 1  # hi[0] == 0 <= t
        j = xp.where(j > last, last, xp.where(j < 0, 0, j))
        down = past(j) < 0.0  # the start is past t
        j1 = xp.where(j + 1 > last, last, j + 1)
        up = (j + 1 <= last) & (past(j1) >= 0.0)  # the next one is not
        j = xp.where(up, j1, xp.where(down & (j > 0), j - 1, j))
        x = xp.maximum(past(j), 0.0)
        h = xp.take(heights, j)
        v = xp.take(per, j)
        angle = x * v if self.k == 1.0 else _PI * xp.pow(x / v, self.k)
        return self.min_lr + h * 0.5 * (1.0 + xp.cos(angle))

    def _device_cycling(self, t: Any, xp: Any) -> Any:
        """:meth:`_cycling` as a device computes it: the cycle by a search over the table of starts
        (``period_mult == 1``: ``floor(t / period)``, corrected by one), the cycle's height and
        rate looked up (float64 values rounded to the device's dtype); past the table (more than
        :data:`DEVICE_CYCLES` cycles before step ``2 ** 63``: ``period_mult`` within about 1e-3 of
        1 with short periods) the closed form of the cycle number with the device's powers, exact
        to about 1e-12 in float64. A device narrower than float64 (float32) looks up every cycle
        its positions reach instead (:meth:`_narrow_cycling`)."""
        if self.period_mult != 1.0 and xp.float_bits < 64:
            return self._narrow_cycling(t, xp)
        starts, heights, per = self._device_tables()
        n = len(starts)
        P, pm = self.period, self.period_mult
        far: tuple[Any, Any] | None = None  # past the table: (the cycle number q, whether t is there)
        if pm == 1.0:
            # the exact whole number of periods and the exact remainder (see lrkit._traced)
            i = xp.maximum(xp.floordiv(t, P), 0.0)
            x = xp.maximum(xp.fmod(t, P), 0.0)
            jj = xp.int_index(xp.minimum(i, float(n - 1)))
        else:
            j = xp.count_le(starts, t) - 1  # starts[0] == 0 <= t
            x = xp.maximum(t - xp.take(starts, j), 0.0)
            i = jj = j
            if n == DEVICE_CYCLES:  # very many short cycles: past the table, the closed form
                q = xp.floor(xp.log(1.0 + t * ((pm - 1) / P)) / self._logm)
                q = xp.maximum(q, float(n - 1))
                s0 = P * (xp.xpow(pm, q) - 1.0) / (pm - 1)
                q = xp.where(s0 > t, q - 1.0, q)
                xs = xp.maximum(t - P * (xp.xpow(pm, q) - 1.0) / (pm - 1), 0.0)
                beyond = t >= starts[-1]
                x = xp.where(beyond, xs, x)
                far = (q, beyond)
        h = xp.take(heights, jj)
        v = xp.take(per, jj)
        tail = n == DEVICE_CYCLES and not (self._height(float(n - 1)) == self._height(float(n)) == self._height(1e300))
        if far is not None:  # pm != 1.0 and n == DEVICE_CYCLES
            q, beyond = far
            qf = xp.where(beyond, q, float(n - 1))
            if self.k == 1.0:
                v = xp.where(beyond, _PI / (P * xp.xpow(pm, qf)), v)
            else:
                v = xp.where(beyond, P * xp.xpow(pm, qf), v)
            i_far = qf
        else:
            i_far = i
        if tail:  # heights still changing past the table: the device's power of the cycle number
            if self.amplitude_decay != 1.0:
                hf = (self.peak_lr - self.min_lr) * xp.xpow(self.amplitude_decay, i_far)
            else:
                hf = xp.maximum(self.peak_lr * xp.xpow(self.peak_decay, i_far), self.min_lr) - self.min_lr
            h = xp.where(i_far >= float(n - 1), hf, h)
        angle = x * v if self.k == 1.0 else _PI * xp.pow(x / v, self.k)
        return self.min_lr + h * 0.5 * (1.0 + xp.cos(angle))

    def _in_cycle(self, i: Any, x: Any, xp: Any) -> Any:
        """The value at ``x`` positions into cycle ``i``."""
        if self.k != 1.0:
            angle = _PI * xp.pow(x / xp.per_index(self._period_of, i), self.k)
        else:
            r = xp.per_index(self._rate, i)
            angle = xp.branch(r > 0, self._near_angle, self._far_or_start, x, r, i)
        # (peak - min) * 0.5 first: the same bits as (... * c) / 2, without overflowing
        return self.min_lr + xp.per_index(self._height, i) * 0.5 * (1.0 + xp.cos(angle))

    def _near_angle(self, x: Any, r: Any, i: Any, xp: Any) -> Any:
        return x * r

    def _far_or_start(self, x: Any, r: Any, i: Any, xp: Any) -> Any:
        return xp.branch(x == 0, self._near_angle, self._far_angle, x, r, i)

    def _far_angle(self, x: Any, r: Any, i: Any, xp: Any) -> Any:
        """``pi * x / P_i`` for a cycle whose length ``P_i`` is past float64's range, by logs."""
        return _PI * xp.exp(xp.log(x) - m.log(self.period) - i * self._logm)

    def _locate(self, t: Any, xp: Any) -> tuple[Any, Any]:
        """The cycle ``i`` of ``t`` and the position ``x`` within it.

        Finding the cycle is a search (the cycle whose start is the last <= t): one
        position takes the closed-form index and corrects it by one; an array searches
        a table of the starts of the cycles it spans (or corrects element-wise when it
        spans very many). Both give the same ``i`` and ``x``.
        """
        P, pm = self.period, self.period_mult
        if xp.name != "numpy":
            i = xp.host(self._index, t)
            return i, xp.host(self._offset, t, i)
        if t.size == 0:
            return t.copy(), t.copy()
        ordered = bool((t[1:] >= t[:-1]).all())
        lo, hi = (t[0], t[-1]) if ordered else (t.min(), t.max())
        first, last = self._index(float(lo)), self._index(float(hi))
        if last - first <= _MAX_TABLE:
            starts = np.array([self._cycle_start(first + c) for c in range(int(last - first) + 1)])
            if ordered:  # positions in order: each cycle is a run of them
                cuts = [0] + np.searchsorted(t, starts[1:], side="left").tolist() + [t.size]
                x = np.empty_like(t)
                for c in range(starts.size):
                    np.subtract(t[cuts[c] : cuts[c + 1]], starts[c], out=x[cuts[c] : cuts[c + 1]])
                # whole numbers, as integers when exact
                cycles = (
                    np.arange(int(first), int(first) + starts.size)
                    if first < 2.0**53
                    else first + np.arange(starts.size)
                )
                i = np.repeat(cycles, np.diff(cuts))
            else:
                j = np.searchsorted(starts, t, side="right") - 1
                x = t - starts[j]  # >= 0: t >= starts[j], and rounding keeps the order
                i = j + int(first) if first < 2.0**53 else j + first
            if pm != 1.0:
                return i, x  # x < inf always: nothing to correct
        else:
            i = self._aindex(t)
            x = t - self._acycle_start(i)
        off = ~((x >= 0) & (x < (P if pm == 1.0 else _INF)))
        if off.any():  # as for one position
            x[off] = np.fmod(t[off], P) if pm == 1.0 else 0.0
        return i, x

    def _offset(self, t: float, i: float) -> float:
        """The position ``t`` within its cycle ``i``."""
        x = t - self._cycle_start(i)
        if not 0 <= x < (self.period if self.period_mult == 1.0 else _INF):
            # far out, i * period rounds away from t: the exact remainder
            x = math.fmod(t, self.period) if self.period_mult == 1.0 else 0.0
        return x

    def _period_of(self, i: float) -> float:
        return self.period * m.ipow(self.period_mult, i)

    def _height(self, i: float) -> float:
        return self._peak(i) - self.min_lr

    def _peak(self, i: float) -> float:
        """Cycle ``i``'s peak: ``peak_lr * peak_decay ** i``, never below ``min_lr`` (or the floor
        plus the height times ``amplitude_decay ** i``)."""
        if self.amplitude_decay != 1.0:
            return self.min_lr + (self.peak_lr - self.min_lr) * m.ipow(self.amplitude_decay, i)
        return max(self.peak_lr * m.ipow(self.peak_decay, i), self.min_lr)

    def _rate(self, i: float) -> float:
        """``pi / P_i``: the cosine's angle per position in cycle ``i``."""
        return _PI / (self.period * m.ipow(self.period_mult, i))

    @property
    def length(self) -> float:
        return self._end

    def phases(self) -> list[Phase]:
        out = []
        n = self.max_cycles if self.max_cycles is not None else _MAX_LISTED
        for i in range(min(n, _MAX_LISTED)):
            s, e = self._cycle_start(i), self._cycle_start(i + 1)
            out.append(Phase(f"cycle {i + 1}", s, e, self._scalar(s), self.min_lr, i == 0))
            if e == _INF:
                return out  # the cycles after this one start past float64's range
        if self.max_cycles is None:
            s = out[-1].end
            out.append(Phase(f"cycles {_MAX_LISTED + 1}...", s, _INF, self._scalar(s), None, False))
        elif self.max_cycles > _MAX_LISTED:
            s = out[-1].end
            out.append(
                Phase(f"cycles {_MAX_LISTED + 1}-{self.max_cycles}", s, self._end, self._scalar(s), self.min_lr, False)
            )
        if self.max_cycles is not None:
            out.append(Phase("hold min_lr", self._end, _INF, self.min_lr, self.min_lr, True))
        return out


CyclicMode = Literal["triangular", "triangular2", "exp_range"]


@register("cyclic")
class Cyclic(Schedule):
    """Cyclical learning rate (Smith, 2017), PyTorch ``CyclicLR``'s formula.

    With ``L = step_size_up + step_size_down``, ``r = step_size_up / L``,
    ``c = floor(1 + t / L)`` and ``x = 1 + t / L - c``::

        h = x / r              if x <= r  (rising)
          = (x - 1) / (r - 1)  otherwise  (falling)
        f(t) = min_lr + (peak_lr - min_lr) * h * g

    with ``g = 1`` (``triangular``), ``1 / 2 ** (c - 1)`` (``triangular2``) or
    ``gamma ** t`` (``exp_range``).

    >>> Cyclic(peak_lr=1.0, step_size_up=10, min_lr=0.0)(15)
    0.5
    """

    formula = 'triangle waves; `triangular2` halves each cycle, `exp_range` multiplies by `gamma^t`'
    example = {"peak_lr": 0.1, "step_size_up": 100, "min_lr": 0.001, "mode": "triangular2"}
    peak_lr: float = param("rate", doc="the top of the first triangle")
    step_size_up: float = param("length", doc="positions from bottom to top")
    step_size_down: float | None = param(
        "length", default=None, doc="positions from top to bottom (default: step_size_up)", optional=True
    )
    min_lr: float = param("rate", default=0.0, doc="the bottom of each triangle")
    mode: CyclicMode = param("choice", default="triangular", doc="how the height changes from cycle to cycle")
    gamma: float = param("factor", default=1.0, doc="exp_range's factor per position, in (0, 1]")
    _L: float = derived(doc="a cycle's length, step_size_up + step_size_down")
    _r: float = derived(doc="the rising part of a cycle, step_size_up / L")
    _rm1: float = derived(doc="r - 1 (-1 when r is 1)")

    def _setup(
        self, peak_lr: float, step_size_up: float, step_size_down: float | None, min_lr: float, mode: str, gamma: float
    ) -> None:
        lo, p, up, g = min_lr, peak_lr, step_size_up, gamma
        _check.not_above("min_lr", lo, "peak_lr", p)
        down = up if step_size_down is None else step_size_down
        if not 0 < g <= 1:
            raise ValueError(f"gamma must be in (0, 1], got {gamma!r}")
        L = up + down
        self._set(
            min_lr=lo,
            peak_lr=p,
            step_size_up=up,
            step_size_down=None if step_size_down is None else down,
            mode=mode,
            gamma=g,
            _L=L,
            _r=up / L,
            _rm1=up / L - 1 if up / L < 1 else -1.0,
        )

    def _kernel(self, t: Any, xp: Any) -> Any:
        if xp.name == "traced":
            # on a device, the cycle and the position in it from the exact quotient and remainder:
            # floor(t * (1 / L)), as a compiler computes t / L, falls one short at some multiples
            c = xp.divfloor(t, self._L) + 1.0
            x = xp.fmod(t, self._L) / self._L
        else:
            q = xp.guard(t / self._L, self._too_far)
            c = xp.floor(1 + q)
            x = 1.0 + q - c
        r = self._r
        h = xp.where(x <= r, x / r, (x - 1) / self._rm1)
        height = (self.peak_lr - self.min_lr) * h
        if self.mode == "triangular":
            return self.min_lr + height * 1.0
        if self.mode == "triangular2":
            # 0.5 ** (c - 1) equals PyTorch's 1 / 2.0 ** (c - 1) exactly (powers of two) and,
            # unlike it, underflows to 0 instead of overflowing after 1024 cycles
            return self.min_lr + height * xp.ipow(0.5, c - 1)
        return self.min_lr + height * xp.xpow(self.gamma, t)

    def _too_far(self) -> str:
        return (
            f"a position is too many cycles of {self._L!r} in to count (the count overflows float64); "
            "use a longer cycle or an earlier position"
        )

    def phases(self) -> list[Phase]:
        out = []
        # exp_range's rise h(t) * gamma ** t peaks before the top of the triangle when
        # step_size_up * |log gamma| > 1: that phase is not bounded by its ends
        up_end: bool | None = None if self.step_size_up * -math.log(self.gamma) > 1 else True
        for c in range(3):
            s = c * self._L
            mid = s + self.step_size_up
            out.append(self._phase(f"cycle {c + 1} up", s, mid, continuous=True, end_value=up_end))
            out.append(self._phase(f"cycle {c + 1} down", mid, s + self._L, continuous=True))
        s = 3 * self._L
        out.append(self._phase("cycles 4...", s, _INF, end_value=None))
        return out
