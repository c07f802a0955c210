"""Numeric kernels with one result per input, whether called on a float or an array.

numpy's vectorised ``exp``, ``log``, ``tanh`` and ``power`` can differ from the C
library's by an ulp, so a scalar path written with :mod:`math` would not always
agree with the array path. The scalar kernels below call numpy's ufuncs on a
Python float (same loop, same bits). ``cos`` and ``sqrt`` go straight to the C
library on both paths, so :mod:`math` is used for speed; the test-suite checks the
agreement of every kernel.

Integer powers (``gamma ** k`` in step decays, ``decay ** cycle`` in restarts) are
computed with Python's float power in both paths, because that is what the
reference implementations (PyTorch's closed forms, the recipes) do.

Naming: ``f`` takes a float, ``vf`` the same function on an array (``vcos``, ``vipow``...).
"""

from __future__ import annotations

import importlib
import math
from typing import Any


class _Lazy:
    """numpy, imported on first use: ``import lrkit`` stays light, and a caller that
    evaluates arrays has imported numpy already."""

    def __getattr__(self, name: str) -> Any:
        value = getattr(importlib.import_module("numpy"), name)
        self.__dict__[name] = value  # later look-ups skip __getattr__
        return value


np: Any = _Lazy()

cos = math.cos
sqrt = math.sqrt
pi = math.pi


def vcos(x: Any) -> Any:
    return np.cos(x)


def vsqrt(x: Any) -> Any:
    return np.sqrt(x)


def exp(x: float) -> float:
    return float(np.exp(x))


def expm1(x: float) -> float:
    return float(np.expm1(x))


def tanh(x: float) -> float:
    return float(np.tanh(x))


def log(x: float) -> float:
    return float(np.log(x))


def fpow(base: float, exponent: float) -> float:
    """``base ** exponent`` with numpy's power, for an exponent fixed by the schedule.

    Pairs with ``vfpow(array, exponent)``: both take numpy's scalar-exponent route
    (which squares exactly for an exponent of 2).
    """
    return float(np.power(base, exponent))


def xpow(base: float, x: float) -> float:
    """``base ** x`` for an exponent that varies with the position.

    Pairs with ``vfpow(base, array)``. With a scalar exponent numpy squares exactly
    for ``x == 2`` while an array exponent goes through the general power, so the
    exponent is passed as a one-element array to take the same route.
    """
    return float(np.power(base, np.array([x]))[0])


def vexp(x: Any) -> Any:
    return np.exp(x)


def vexpm1(x: Any) -> Any:
    return np.expm1(x)


def vtanh(x: Any) -> Any:
    return np.tanh(x)


def vlog(x: Any) -> Any:
    return np.log(x)


def vfpow(base: Any, exponent: Any) -> Any:
    return np.power(base, exponent)


def vfloordiv(t: Any, d: float) -> Any:
    """Python's ``t // d`` element-wise; a quotient past the float range is ``inf``
    (then ``gamma ** inf = 0``), without numpy's overflow warning."""
    with np.errstate(over="ignore", invalid="ignore"):
        q = np.floor_divide(t, d)
    q[np.isnan(q)] = np.inf  # inf // tiny: only reachable through overflow
    return q


def ipow(base: float, k: float) -> float:
    """``base ** k`` for an integer-valued ``k`` (Python float power); ``inf`` past the float range."""
    try:
        return base**k
    except OverflowError:
        return math.inf


def vtable(fn: Any, i: Any) -> Any:
    """``fn(i)`` element-wise for whole-number ``i`` (cycles, plateaus, exponents): one call of
    ``fn`` per distinct value, from a table over their range (O(n), no sort) or, for a wide
    range, over the distinct values."""
    if i.size == 0:
        return np.empty(0)
    lo, hi = float(i.min()), float(i.max())
    if hi - lo <= 65536:
        table = np.array([fn(lo + j) for j in range(int(hi - lo) + 1)], dtype=np.float64)
        if i.dtype.kind in "iu":  # whole numbers already: index directly
            return table[i - int(lo) if lo else i]
        return table[(i - lo).astype(np.intp)]
    uniq, inverse = np.unique(i, return_inverse=True)
    return np.array([fn(float(u)) for u in uniq], dtype=np.float64)[inverse].reshape(i.shape)


def vipow(base: float, k: Any) -> Any:
    """Element-wise ``base ** k`` for integer-valued ``k``, with Python's float power (:func:`ipow`)."""
    return vtable(lambda n: ipow(base, n), k)
