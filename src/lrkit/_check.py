"""Argument validation shared by every schedule.

Every check raises ``TypeError`` for a value of the wrong kind and ``ValueError``
for a value out of range, and the message names the parameter, the value and
what would be valid.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

__all__ = [
    "real",
    "rate",
    "length",
    "positive",
    "fraction",
    "choice",
    "lengths_increasing",
    "not_above",
]


def real(name: str, value: Any) -> float:
    """Return ``value`` as a finite float, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return v


def rate(name: str, value: Any) -> float:
    """A learning rate (or any schedule value): finite and ``>= 0``."""
    v = real(name, value)
    if v < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return v


def length(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """A length in positions: finite and ``> 0`` (``>= 0`` with ``allow_zero``)."""
    v = real(name, value)
    if v < 0 or (v == 0 and not allow_zero):
        valid = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {valid}, got {value!r}")
    return v


def positive(name: str, value: Any) -> float:
    v = real(name, value)
    if v <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return v


def fraction(name: str, value: Any, *, low_open: bool = True, high_open: bool = False) -> float:
    """A number in (0, 1] by default; the bounds' openness is configurable."""
    v = real(name, value)
    lo_ok = v > 0 if low_open else v >= 0
    hi_ok = v < 1 if high_open else v <= 1
    if not (lo_ok and hi_ok):
        lo = "(0" if low_open else "[0"
        hi = "1)" if high_open else "1]"
        raise ValueError(f"{name} must be in {lo}, {hi}, got {value!r}")
    return v


def choice(name: str, value: Any, valid: Sequence[str]) -> str:
    if value not in valid:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, valid))}, got {value!r}")
    return value


def lengths_increasing(name: str, values: Any, *, allow_zero_first: bool = False) -> tuple[float, ...]:
    """A strictly increasing sequence of finite positions (> 0, or >= 0 for the first)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a list of numbers, got {values!r}")
    values = list(values)  # also takes a generator, read once
    out = tuple(length(f"{name}[{i}]", v, allow_zero=allow_zero_first and i == 0) for i, v in enumerate(values))
    for i in range(1, len(out)):
        if not out[i] > out[i - 1]:
            raise ValueError(
                f"{name} must be strictly increasing, got {values!r} "
                f"({name}[{i}]={values[i]!r} is not above {name}[{i - 1}]={values[i - 1]!r})"
            )
    return out


def not_above(low_name: str, low: float, high_name: str, high: float) -> None:
    if low > high:
        raise ValueError(f"{low_name} ({low!r}) must not be above {high_name} ({high!r})")
