"""The kernels' operations for a traced array library (``jax.numpy``, ``keras.ops``).

A kind's single formula (its ``_kernel``) is written against the names of
:mod:`lrkit.ops`; :func:`namespace` gives them for an array module with numpy's API,
so the same formula runs inside ``jax.jit`` or a compiled Keras train step. Every
structural operation becomes a ``where`` over both sides (each side on positions
clamped into its own range), so nothing depends on the values of the positions at
trace time: one compilation serves every position.

What a trace cannot express raises :class:`NotTraceable`: a user's Python function
(``apply``, or a per-cycle function of the user's that cannot take a traced number,
``per_index``); a search written in Python (``host``) as well, but no kind of lrkit's
uses one on a device any more (``CosineRestarts`` searches a table of its cycle starts
there: ``int_index``, ``take``, ``count_le``). The bindings then evaluate such a
schedule in float64 with numpy over the run and look the values up on the device,
``nan`` past the table (see :mod:`lrkit._device`). ``name`` is ``"traced"``; ``dtype``
and ``float_bits`` say what the device computes in (CAWB reduces its angle past the run
in a float narrower than float64).

A whole number of periods of a position, ``floordiv(t, d)`` (Python's ``t // d``) and
``divfloor(t, d)`` / ``divceil(t, d)`` (``floor`` / ``ceil`` of ``t / d``), is exact here
for a constant ``d``: a compiler computes ``t / d`` as ``t * (1 / d)`` (XLA under
``jax.jit``), whose floor is one low at some exact multiples (``d = 3``: 1,398,101 of the
``2 ** 24`` whole positions in float32). The quotient comes from the exact remainder
``r = fmod(t, d)`` (IEEE's remainder has no rounding) as ``q = round((t - r) / d)``,
Python's rule for ``t // d``, exact for ``q`` below about ``2 ** 21`` in float32 and
``2 ** 50`` in float64; a whole ``d`` and a whole position (a step count) divide as
integers instead (int32 or int64: exact over the integer type's range). ``d`` is the
parameter as the dtype holds it: a ``d`` that float32 cannot hold (``10 / 3``) has its
multiples where float32's ``d`` has them (float64 is exact). ``floor``/``ceil`` of
``t / d`` round the quotient first (lrkit's float64 path does): in float64 so does the
device (``q + r / d``, then its floor or ceiling); in float32 the device gives the exact
quotient's, which is float64's but within ``2 ** -52`` of a whole number.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

__all__ = ["NotTraceable", "namespace", "MAX_SEGMENTS"]

MAX_SEGMENTS = 256  # a Sequence with more segments is evaluated from a table


class NotTraceable(Exception):
    """The formula needs Python on concrete numbers at this point."""


def namespace(xp: Any, dtype: Any, *, is_traced: Callable[[Any], bool]) -> SimpleNamespace:
    """The operations of :mod:`lrkit.ops` on arrays of ``xp`` (numpy's API) of ``dtype``.

    ``is_traced(x)`` tells a traced value (an array of the library) from a Python number.
    """

    import numpy

    big = float(numpy.finfo(numpy.dtype(dtype)).max)

    def c(v: Any) -> Any:
        # a float64 constant past this dtype's range acts as infinity (min(t, FMAX) = t)
        if isinstance(v, float) and abs(v) > big and v == v:
            return math.copysign(math.inf, v)
        return v

    def arr(v: Any) -> Any:
        return xp.asarray(v, dtype=dtype)

    def fl(x: Any) -> Any:
        return xp.cast(x, dtype) if hasattr(xp, "cast") else xp.asarray(x, dtype=dtype)

    def power(b: Any, e: Any) -> Any:
        return xp.power(b if is_traced(b) else arr(b), e if is_traced(e) else arr(e))

    def ipow(b: Any, n: Any) -> Any:
        return power(b, fl(n) if is_traced(n) else n)

    def full(t: Any, v: float) -> Any:
        return xp.full_like(t, v)

    def count(s: Any, t: Any, side: str) -> Any:
        if len(s) == 0:
            return xp.zeros_like(t, dtype="int32")
        return xp.searchsorted(arr(s if isinstance(s, numpy.ndarray) else list(s)), t, side=side)

    def take(table: Any, i: Any) -> Any:
        return xp.take(arr(table if isinstance(table, numpy.ndarray) else list(table)), i)

    def hold(t: Any, end: float, f: Callable[[Any, Any], Any], v: float) -> Any:
        return xp.where(t < end, f(xp.minimum(t, end), ns), v)

    def split(t: Any, b: float, lo: Callable[[Any, Any], Any], hi: Callable[[Any, Any], Any]) -> Any:
        return xp.where(t < b, lo(xp.minimum(t, b), ns), hi(xp.maximum(t - b, 0.0), ns))

    def segments(t: Any, starts: tuple[float, ...], fs: tuple[Callable[[Any, Any], Any], ...]) -> Any:
        if len(fs) > MAX_SEGMENTS:
            raise NotTraceable(f"{len(fs)} segments")
        out = fs[0](xp.maximum(t - starts[0], 0.0), ns)
        for s, f in zip(starts[1:], fs[1:]):
            out = xp.where(t >= s, f(xp.maximum(t - s, 0.0), ns), out)
        return out

    def branch(c: Any, f: Callable[..., Any], g: Callable[..., Any], *args: Any) -> Any:
        if not is_traced(c):
            return f(*args, ns) if c else g(*args, ns)
        return xp.where(c, f(*args, ns), g(*args, ns))

    def per_index(fn: Callable[[float], float], i: Any) -> Any:
        if not is_traced(i):
            return fn(i)
        try:
            return fn(fl(i))  # a closed form in i (powers of i) takes the traced number
        except NotTraceable:
            raise
        except Exception:
            raise NotTraceable(f"{getattr(fn, '__qualname__', fn)} needs a concrete number") from None

    def by_index(i: Any, body: Callable[..., Any], *args: Any) -> Any:
        return body(i, *args, ns)

    def guard(x: Any, why: Callable[[], str]) -> Any:
        return x  # a compiled step cannot raise: the numpy path checks the same formula

    def apply(fn: Callable[[float], float], t: Any) -> Any:
        raise NotTraceable("a Python function")

    def host(fn: Callable[..., Any], *args: Any) -> Any:
        if any(is_traced(a) for a in args):
            raise NotTraceable(f"{getattr(fn, '__qualname__', fn)} is a search in Python")
        return fn(*args)

    def int_index(x: Any) -> Any:
        # a whole number (a float of the dtype) as an index for take
        it = "int64" if numpy.dtype(dtype).itemsize >= 8 else "int32"
        return xp.cast(x, it) if hasattr(xp, "cast") else x.astype(it)

    def fmod(a: Any, b: Any) -> Any:
        return xp.fmod(a, b) if hasattr(xp, "fmod") else xp.mod(a, b)

    fdt = numpy.dtype(dtype)
    int_name = "int64" if fdt.itemsize >= 8 else "int32"
    # the largest whole position converted to the integer type: float32's largest below 2 ** 31
    int_top = 2.0**62 if fdt.itemsize >= 8 else 2.0**31 - 2.0**7

    def to_int(x: Any) -> Any:
        return xp.cast(x, int_name) if hasattr(xp, "cast") else xp.asarray(x, dtype=int_name)

    def in_dtype(d: float) -> float:
        with numpy.errstate(over="ignore"):
            return float(numpy.asarray(d, dtype=numpy.float64).astype(fdt))

    def exact_div(t: Any, d: float) -> tuple[Any, Any, float]:
        """``(q, r, dd)``: ``q = floor(t / dd)`` of the exact quotient, as a whole number of the dtype,
        the remainder ``r = t - q dd`` in ``[0, dd)`` (exact) and ``dd``, ``d`` as the dtype holds it."""
        dd = in_dtype(d)
        # the remainder is exact (IEEE fmod); t - r is then within rounding a multiple of dd, and
        # that multiple, rounded to the nearest whole number, is the quotient (Python's float //)
        r = fmod(t, dd)
        q = xp.floor((t - r) * (1.0 / dd) + 0.5)
        neg = r < 0.0  # t < 0: the truncated quotient, one more down
        q = xp.where(neg, q - 1.0, q)
        r = xp.where(neg, r + dd, r)
        q = xp.where(r == r, q, t * (1.0 / dd))  # t infinite: an infinite quotient
        if dd == d and float(d).is_integer() and 1.0 <= d <= int_top:
            # a whole divisor: a whole position (a step count) by integer division, exact up to
            # the integer type's range (the float estimate drifts past 2 ** 22 quotients in float32)
            whole = (xp.floor(t) == t) & (t <= int_top) & (t >= -int_top)
            ti = to_int(xp.where(whole, t, 0.0))
            di = int(d)
            qi = xp.floor_divide(ti, di)
            q = xp.where(whole, fl(qi), q)
            r = xp.where(whole, fl(ti - qi * di), r)
        return q, r, dd

    def floordiv(t: Any, d: Any) -> Any:
        if is_traced(d) or not is_traced(t):
            return xp.floor_divide(t, d)
        return exact_div(t, float(d))[0]

    def rounded_div(t: Any, d: Any, up: bool) -> Any:
        if is_traced(d) or not is_traced(t):
            return (xp.ceil if up else xp.floor)(t / d)
        q, r, dd = exact_div(t, float(d))
        if fdt.itemsize >= 8:
            # float64: the quotient as float64 division rounds it, q + r / d, then its floor or ceiling
            x = q + r * (1.0 / dd)
            return xp.ceil(x) if up else xp.floor(x)
        # narrower: float64's rounding of t / d, the schedule's own, is the exact quotient's but
        # within 2 ** -52 of a whole number; the dtype's own rounding is far coarser
        return xp.where(r != 0.0, q + 1.0, q) if up else q

    ns = SimpleNamespace(
        name="traced",
        dtype=dtype,
        float_bits=8 * numpy.dtype(dtype).itemsize,
        cos=xp.cos,
        sqrt=xp.sqrt,
        exp=xp.exp,
        expm1=xp.expm1,
        tanh=xp.tanh,
        log=xp.log,
        floor=xp.floor,
        ceil=xp.ceil,
        fmod=fmod,
        libm_pow=power,
        pow=power,
        xpow=power,
        ipow=ipow,
        floordiv=floordiv,
        divfloor=lambda t, d: rounded_div(t, d, False),
        divceil=lambda t, d: rounded_div(t, d, True),
        minimum=lambda a, b: xp.minimum(c(a), c(b)),
        maximum=lambda a, b: xp.maximum(c(a), c(b)),
        where=lambda k, a, b: xp.where(k, c(a), c(b)),
        full=lambda t, v: full(t, c(v)),
        count_le=lambda s, t: count(s, t, "right"),
        count_lt=lambda s, t: count(s, t, "left"),
        take=take,
        hold=hold,
        split=split,
        segments=segments,
        branch=branch,
        per_index=per_index,
        by_index=by_index,
        guard=guard,
        apply=apply,
        host=host,
        int_index=int_index,
    )
    return ns
