"""Argument validation shared by every schedule.

Every check raises ``TypeError`` for a value of the wrong kind and ``ValueError``
for a value out of range, and the message names the parameter, the value and
what would be valid.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

__all__ = [
    "show",
    "MAX_DEPTH",
    "MAX_ITEMS",
    "MIN_LENGTH",
    "MAX_LENGTH",
    "real",
    "rate",
    "length",
    "positive",
    "fraction",
    "choice",
    "lengths_increasing",
    "not_above",
]


#: How deep schedules may nest (a schedule inside a schedule inside ...).
MAX_DEPTH = 64
#: How many items a list parameter (milestones, boundaries, segments, steps) may hold,
#: and how many schedules one schedule may expand to, counting each use of a shared one.
MAX_ITEMS = 100_000


def show(value: Any) -> str:
    """``repr(value)`` for a message, with a long integer shortened (``1.0e+400``)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**16:
        digits = len(str(abs(value)))
        return f"{'-' if value < 0 else ''}{str(abs(value))[0]}.{str(abs(value))[1:3]}e+{digits - 1} (an integer)"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def real(name: str, value: Any) -> float:
    """Return ``value`` as a finite float, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {show(value)} ({type(value).__name__})")
    try:
        v = float(value)
    except OverflowError:  # an int past the float range
        v = math.inf
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {show(value)}")
    return v


def rate(name: str, value: Any) -> float:
    """A learning rate (or any schedule value): finite and ``>= 0``."""
    v = real(name, value)
    if v < 0:
        raise ValueError(f"{name} must be >= 0, got {show(value)}")
    return v


#: The shortest length lrkit takes (a shorter one is 0 or a mistake; its reciprocals
#: and counts would leave float64's range), and the longest.
MIN_LENGTH = 1e-9
MAX_LENGTH = 1e300


def length(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """A length in positions: ``0`` (with ``allow_zero``) or in ``[MIN_LENGTH, MAX_LENGTH]``."""
    v = real(name, value)
    if v < 0 or (v == 0 and not allow_zero):
        valid = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {valid}, got {show(value)}")
    if v != 0 and not MIN_LENGTH <= v <= MAX_LENGTH:
        zero = "0 or " if allow_zero else ""
        raise ValueError(
            f"{name} must be {zero}between {MIN_LENGTH:g} and {MAX_LENGTH:g} positions "
            f"(lrkit's limits), got {show(value)}"
        )
    return v


def positive(name: str, value: Any) -> float:
    v = real(name, value)
    if v <= 0:
        raise ValueError(f"{name} must be > 0, got {show(value)}")
    return v


def fraction(name: str, value: Any, *, low_open: bool = True, high_open: bool = False) -> float:
    """A number in (0, 1] by default; the bounds' openness is configurable."""
    v = real(name, value)
    lo_ok = v > 0 if low_open else v >= 0
    hi_ok = v < 1 if high_open else v <= 1
    if not (lo_ok and hi_ok):
        lo = "(0" if low_open else "[0"
        hi = "1)" if high_open else "1]"
        raise ValueError(f"{name} must be in {lo}, {hi}, got {show(value)}")
    return v


def choice(name: str, value: Any, valid: Sequence[str]) -> str:
    if value not in valid:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, valid))}, got {show(value)}")
    return value


def lengths_increasing(name: str, values: Any, *, allow_zero_first: bool = False) -> tuple[float, ...]:
    """A strictly increasing sequence of finite positions (> 0, or >= 0 for the first)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a list of numbers, got {show(values)}")
    values = items(name, values)
    out = tuple(length(f"{name}[{i}]", v, allow_zero=allow_zero_first and i == 0) for i, v in enumerate(values))
    for i in range(1, len(out)):
        if not out[i] > out[i - 1]:
            raise ValueError(
                f"{name} must be strictly increasing, got {show(values)} "
                f"({name}[{i}]={values[i]!r} is not above {name}[{i - 1}]={values[i - 1]!r})"
            )
    return out


def items(name: str, values: Any) -> list:
    """``values`` as a list (a generator is read once), at most :data:`MAX_ITEMS` long."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a list, got {show(values)}")
    out = []
    for v in values:
        out.append(v)
        if len(out) > MAX_ITEMS:
            raise ValueError(f"{name} holds more than {MAX_ITEMS:,} items; lrkit's limit is {MAX_ITEMS:,}")
    return out


def not_above(low_name: str, low: float, high_name: str, high: float) -> None:
    if low > high:
        raise ValueError(f"{low_name} ({low!r}) must not be above {high_name} ({high!r})")
