"""The operations a schedule's formula is written with, for a float and for an array.

Every kind writes its formula once, as ``_kernel(self, t, k)``, where ``t`` is a
position (a float, or a 1-D float64 array) and ``k`` one of the namespaces below.
The same kernel gives the scalar path (``k = SCALAR``: the hot path of a training
loop, plain Python floats) and the array path (``k = NUMPY``), with the same
float64 bits at every position; another array library (a JAX or Keras binding)
provides a namespace with the same names.

Elementwise functions (scalar kernels call numpy's ufuncs where the C library's
``math`` functions could differ by an ulp; see :mod:`lrkit._num`)::

    cos sqrt exp expm1 tanh log floor ceil fmod
    pow(x, p)        x ** p for an exponent p fixed by the schedule
    xpow(b, x)       b ** x for a base fixed by the schedule, x varying
    ipow(b, n)       b ** n for whole numbers n (Python's float power, as PyTorch's closed forms)
    libm_pow(x, p)   x ** p with the C library's pow, element by element (as Python's float power)
    floordiv(t, d)   t // d (inf past the float range): the floor of the exact quotient
    divfloor(t, d)   floor(t / d): the floor of the quotient as float division rounds it
    divceil(t, d)    ceil(t / d): likewise, its ceiling (both keep an infinite quotient)
    minimum maximum where(c, a, b)
    full(t, v)       the constant v at every position of t
    count_le(s, t)   how many of the sorted numbers s are <= t
    count_lt(s, t)   how many of the sorted numbers s are < t
    take(table, i)   table[i] (a tuple of floats, an index or an array of indices)

Structure (which formula applies where)::

    hold(t, end, f, v)        f(t, k) for t < end, then the constant v
    split(t, b, lo, hi)       lo(t, k) for t < b, then hi(t - b, k) (hi on its own clock)
    segments(t, starts, fs)   fs[i](t - starts[i], k) from starts[i] (starts[0] = 0)
    branch(c, f, g, *args)    f(*args, k) where c holds, else g(*args, k) (each only where it applies)
    per_index(fn, i)          fn(i) for whole numbers i (a cycle, a plateau): one call per distinct i
    by_index(i, body, *args)  body(i, *args, k) with i one whole number at a time where that is
                              cheaper (an array of positions in order: one slice per cycle)
    guard(x, why)             x, or ValueError(why()) where x is not finite
    apply(fn, t)              a user's Python function, position by position
    host(fn, *args)           a Python function of floats (a search): floats only, not arrays

The array versions evaluate a branch only on the positions it covers, or on
positions clamped into its range (so a formula never sees a position outside its
own domain and the array path raises no floating-point warnings there).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Sequence as SequenceT
from types import SimpleNamespace
from typing import Any

from . import _num as m
from ._num import np

__all__ = ["SCALAR", "NUMPY", "ready"]

_INF = math.inf
_SLICE = 2048  # positions per slice at least, on average, for the ordered fast paths


# -- floats -------------------------------------------------------------------------------


def _s_minimum(a: float, b: float) -> float:
    return a if a < b else b


def _s_maximum(a: float, b: float) -> float:
    return a if a > b else b


def _s_where(c: bool, a: float, b: float) -> float:
    return a if c else b


def _s_full(t: float, v: float) -> float:
    return v


def _s_floordiv(t: float, d: float) -> float:
    return t // d


def _s_divfloor(t: float, d: float) -> Any:
    q = t / d
    return math.floor(q) if q < _INF else q


def _s_divceil(t: float, d: float) -> Any:
    q = t / d
    return math.ceil(q) if q < _INF else q


def _s_libm_pow(x: float, p: float) -> float:
    return x**p


def _s_take(table: tuple[float, ...], i: int) -> float:
    return table[i]


def _s_hold(t: float, end: float, f: Callable[[float, Any], float], v: float) -> float:
    return f(t, SCALAR) if t < end else v


def _s_split(t: float, b: float, lo: Callable[[float, Any], float], hi: Callable[[float, Any], float]) -> float:
    return lo(t, SCALAR) if t < b else hi(t - b, SCALAR)


def _s_count_le(s: SequenceT[float], t: float) -> int:
    """``count_le`` until the first search: :func:`bisect.bisect_right` (see :func:`ready`)."""
    return ready().count_le(s, t)


def _s_count_lt(s: SequenceT[float], t: float) -> int:
    """``count_lt`` until the first search: :func:`bisect.bisect_left` (see :func:`ready`)."""
    return ready().count_lt(s, t)


def ready() -> SimpleNamespace:
    """:data:`SCALAR` with every operation its own: the searches ``count_le`` and ``count_lt``
    are :mod:`bisect`'s, imported on first use (``import lrkit`` imports no module a position
    needs before it is evaluated). A tracer reading ``SCALAR``'s functions asks for it first."""
    if SCALAR.count_le is _s_count_le:
        import bisect

        SCALAR.count_le = bisect.bisect_right
        SCALAR.count_lt = bisect.bisect_left
    return SCALAR


def _s_segments(t: float, starts: tuple[float, ...], fs: tuple[Callable[[float, Any], float], ...]) -> float:
    i = SCALAR.count_le(starts, t) - 1
    return fs[i](t - starts[i], SCALAR)


def _s_branch(c: bool, f: Callable[..., Any], g: Callable[..., Any], *args: Any) -> float:
    return f(*args, SCALAR) if c else g(*args, SCALAR)


def _s_per_index(fn: Callable[[float], float], i: float) -> float:
    return fn(i)


def _s_by_index(i: float, body: Callable[..., Any], *args: Any) -> Any:
    return body(i, *args, SCALAR)


def _s_guard(x: float, why: Callable[[], str]) -> float:
    if x < _INF:
        return x
    raise ValueError(why())


def _s_apply(fn: Callable[[float], float], t: float) -> float:
    return fn(t)


def _s_host(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


SCALAR = SimpleNamespace(
    name="scalar",
    cos=m.cos,
    sqrt=m.sqrt,
    exp=m.exp,
    expm1=m.expm1,
    tanh=m.tanh,
    log=m.log,
    floor=math.floor,
    ceil=math.ceil,
    fmod=math.fmod,
    libm_pow=_s_libm_pow,
    pow=m.fpow,
    xpow=m.xpow,
    ipow=m.ipow,
    floordiv=_s_floordiv,
    divfloor=_s_divfloor,
    divceil=_s_divceil,
    minimum=_s_minimum,
    maximum=_s_maximum,
    where=_s_where,
    full=_s_full,
    count_le=_s_count_le,
    count_lt=_s_count_lt,
    take=_s_take,
    hold=_s_hold,
    split=_s_split,
    segments=_s_segments,
    branch=_s_branch,
    per_index=_s_per_index,
    by_index=_s_by_index,
    guard=_s_guard,
    apply=_s_apply,
    host=_s_host,
)


# -- numpy arrays -----------------------------------------------------------------------


def _v_full(t: Any, v: float) -> Any:
    return np.full_like(t, v)


def _v_count_le(s: Any, t: Any) -> Any:
    return np.searchsorted(np.asarray(s, dtype=np.float64), t, side="right")


def _v_count_lt(s: Any, t: Any) -> Any:
    return np.searchsorted(np.asarray(s, dtype=np.float64), t, side="left")


def _v_divfloor(t: Any, d: float) -> Any:
    return np.floor(t / d)


def _v_divceil(t: Any, d: float) -> Any:
    return np.ceil(t / d)


def _v_libm_pow(x: Any, p: float) -> Any:
    return np.array([v**p for v in x.tolist()], dtype=np.float64)


def _v_take(table: Any, i: Any) -> Any:
    return np.asarray(table, dtype=np.float64)[i]


def _v_where(c: Any, a: Any, b: Any) -> Any:
    return np.where(c, a, b)


def _v_hold(t: Any, end: float, f: Callable[[Any, Any], Any], v: float) -> Any:
    after = t >= end
    if not after.any():
        return f(t, NUMPY)
    out = f(np.minimum(t, end), NUMPY)  # the formula on every position, clamped into its range
    out[after] = v
    return out


def _v_split(t: Any, b: float, lo: Callable[[Any, Any], Any], hi: Callable[[Any, Any], Any]) -> Any:
    n = t.size
    if n >= _SLICE and bool((t[1:] >= t[:-1]).all()):  # in order: two slices, no masks
        k = int(np.searchsorted(t, b, side="left"))
        if k == n:
            return lo(t, NUMPY)
        local = t - b
        if k == 0:
            return hi(local, NUMPY)
        local[:k] = 0.0  # hi at its start there (one array, no gather); lo's values replace them
        out = hi(local, NUMPY)
        if out is local or not out.flags.writeable:
            out = out.copy()
        out[:k] = lo(t[:k], NUMPY)
        return out
    below = t < b
    if below.all():
        return lo(t, NUMPY)
    local = t - b
    np.maximum(local, 0.0, out=local)
    # hi on every position (clamped to its start) is cheaper than gathering; the
    # positions before b are then overwritten
    out = hi(local, NUMPY)
    if below.any():
        out[below] = lo(t[below], NUMPY)
    return out


class Positions(tuple):
    """Increasing positions (a Sequence's segment starts) with their float64 array made once,
    so the array path's search does not convert a long tuple at every call."""

    @property
    def array(self) -> Any:
        try:
            return self.__dict__["array"]
        except KeyError:
            a = self.__dict__["array"] = np.asarray(self, dtype=np.float64)
            return a


def _v_segments(t: Any, starts: tuple[float, ...], fs: tuple[Callable[[Any, Any], Any], ...]) -> Any:
    at = starts.array if isinstance(starts, Positions) else np.asarray(starts, dtype=np.float64)
    idx = np.searchsorted(at, t, side="right") - 1
    if idx.size and idx.min() == idx.max():  # every position in one segment (a block of a run, mostly)
        i = int(idx[0])
        r = fs[i](t - starts[i], NUMPY)
        if isinstance(r, np.ndarray) and r.shape == t.shape:
            return r
        return np.broadcast_to(np.asarray(r, dtype=np.float64), t.shape).copy()
    out = np.empty_like(t)
    n_segments = len(fs)  # a plain int: a len() test would narrow fs to short tuple types
    if n_segments <= 8:
        for i in np.unique(idx):
            sel = idx == i
            out[sel] = fs[i](t[sel] - starts[i], NUMPY)
        return out
    # Many segments: group the positions by segment once (a stable sort), so the
    # cost is O(n log n) whatever the number of segments.
    order = np.argsort(idx, kind="stable")
    sidx = idx[order]
    cuts = np.flatnonzero(np.diff(sidx)) + 1
    for a, z in zip(np.concatenate(([0], cuts)), np.concatenate((cuts, [sidx.size]))):
        i = int(sidx[a])
        sel = order[a:z]
        out[sel] = fs[i](t[sel] - starts[i], NUMPY)
    return out


def _v_branch(c: Any, f: Callable[..., Any], g: Callable[..., Any], *args: Any) -> Any:
    if not isinstance(c, np.ndarray):
        return f(*args, NUMPY) if c else g(*args, NUMPY)
    if c.all():
        return f(*args, NUMPY)
    if not c.any():
        return g(*args, NUMPY)
    out = np.empty(c.shape)
    out[c] = f(*(a[c] if isinstance(a, np.ndarray) else a for a in args), NUMPY)
    nc = ~c
    out[nc] = g(*(a[nc] if isinstance(a, np.ndarray) else a for a in args), NUMPY)
    return out


def _v_per_index(fn: Callable[[float], float], i: Any) -> Any:
    return m.vtable(fn, i) if isinstance(i, np.ndarray) else fn(i)


def _v_by_index(i: Any, body: Callable[..., Any], *args: Any) -> Any:
    # Positions in order (the usual array: a whole run) have their whole numbers in
    # runs; each run is a slice of every argument (a view, no copy), evaluated with
    # its number as a float. The same operations in the same order as on the whole
    # array, so the same bits; otherwise (out of order, or short runs) the whole array.
    n = i.size
    if n < _SLICE or not bool((i[1:] >= i[:-1]).all()):
        return body(i, *args, NUMPY)
    if i[0] == i[-1]:
        return body(float(i[0]), *args, NUMPY)
    cuts = np.flatnonzero(i[1:] != i[:-1]) + 1
    if cuts.size * _SLICE > n:
        return body(i, *args, NUMPY)
    out = np.empty(n)
    a = 0
    for z in cuts.tolist() + [n]:
        out[a:z] = body(float(i[a]), *(x[a:z] for x in args), NUMPY)
        a = z
    return out


def _v_guard(x: Any, why: Callable[[], str]) -> Any:
    if x.size and not x.max() < _INF:
        raise ValueError(why())
    return x


def _v_host(fn: Callable[..., Any], *args: Any) -> Any:
    raise TypeError("host: a function of floats, not of arrays")


def _v_apply(fn: Callable[[float], float], t: Any) -> Any:
    return np.array([fn(float(x)) for x in t], dtype=np.float64)


def _ufunc(name: str) -> Callable[..., Any]:
    def f(*args: Any) -> Any:
        return getattr(np, name)(*args)

    f.__name__ = name
    return f


NUMPY = SimpleNamespace(
    name="numpy",
    cos=_ufunc("cos"),
    sqrt=_ufunc("sqrt"),
    exp=_ufunc("exp"),
    expm1=_ufunc("expm1"),
    tanh=_ufunc("tanh"),
    log=_ufunc("log"),
    floor=_ufunc("floor"),
    ceil=_ufunc("ceil"),
    fmod=_ufunc("fmod"),
    libm_pow=_v_libm_pow,
    pow=_ufunc("power"),
    xpow=_ufunc("power"),
    ipow=m.vipow,
    floordiv=m.vfloordiv,
    divfloor=_v_divfloor,
    divceil=_v_divceil,
    minimum=_ufunc("minimum"),
    maximum=_ufunc("maximum"),
    where=_v_where,
    full=_v_full,
    count_le=_v_count_le,
    count_lt=_v_count_lt,
    take=_v_take,
    hold=_v_hold,
    split=_v_split,
    segments=_v_segments,
    branch=_v_branch,
    per_index=_v_per_index,
    by_index=_v_by_index,
    guard=_v_guard,
    apply=_v_apply,
    host=_v_host,
)
