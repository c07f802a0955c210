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
"""

from __future__ import annotations

import math

import numpy as np

cos = math.cos
sqrt = math.sqrt
acos = np.cos
asqrt = np.sqrt
pi = math.pi


def exp(x: float) -> float:
    return float(np.exp(x))


def expm1(x: float) -> float:
    return float(np.expm1(x))


def tanh(x: float) -> float:
    return float(np.tanh(x))


def log(x: float) -> float:
    return float(np.log(x))


def fpow(base: float, exponent: float) -> float:
    """``base ** exponent`` with numpy's power, for real-valued exponents."""
    return float(np.power(base, exponent))


aexp = np.exp
aexpm1 = np.expm1
atanh = np.tanh
alog = np.log
afpow = np.power


def ipow(base: float, k: float) -> float:
    """``base ** k`` for an integer-valued ``k`` (Python float power)."""
    return base ** k


def aipow(base: float, k: np.ndarray) -> np.ndarray:
    """Element-wise ``base ** k`` for integer-valued ``k``, with Python's float power.

    The exponents of a schedule take few distinct values (one per plateau or
    cycle), so each distinct one is computed once.
    """
    if k.size == 0:
        return np.empty(0)
    lo, hi = float(k.min()), float(k.max())
    if hi - lo <= 65536:
        # A table over the exponents' range: O(n), no sort.
        table = np.array([base ** (lo + j) for j in range(int(hi - lo) + 1)], dtype=np.float64)
        return table[(k - lo).astype(np.intp)]
    uniq, inverse = np.unique(k, return_inverse=True)
    vals = np.array([base ** float(u) for u in uniq], dtype=np.float64)
    return vals[inverse].reshape(k.shape)
