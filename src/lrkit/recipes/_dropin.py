"""What the drop-ins share: the warning for probable mistakes, lenient argument rules, the lenient build."""

from __future__ import annotations

import math
from typing import Any

from .. import _check

__all__ = ["DropInWarning"]

_INF = math.inf
_PI = math.pi


class DropInWarning(UserWarning):
    """A drop-in recipe was given arguments that are probably a mistake.

    The drop-ins (``get_lr_scheduler``, ``warmup_lr_scheduler``,
    ``CosineAnnealingWarmbootingLR``) return the original's value for every input on
    which the original returns one, however odd, and warn once, naming the parameter.
    Silence it with ``warnings.filterwarnings("ignore", category=lrkit.DropInWarning)``.
    """


def _lr_pair(lr: Any, min_lr: Any) -> tuple[float, float]:
    v = _check.positive("lr", lr)
    lo = _check.rate("min_lr", min_lr)
    _check.not_above("min_lr", lo, "lr", v)
    return v, lo


def _ratio(name: str, value: Any) -> float:
    v = _check.real(name, value)
    if v < 0:
        raise ValueError(f"{name} must be >= 0 (a fraction of total_iters or lr), got {value!r}")
    return v


def _drop_in_warning(where: str, text: str) -> None:
    import warnings

    warnings.warn(f"{where}: {text} (the original's values are kept)", DropInWarning, stacklevel=_caller())


def _caller() -> int:
    """The ``stacklevel`` of the first frame outside lrkit: warnings point at the user's line."""
    import os
    import sys

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # the lrkit package
    f, level = sys._getframe(1), 1
    while f is not None and os.path.abspath(f.f_code.co_filename).startswith(here):
        f, level = f.f_back, level + 1
    return level


def _lenient_pair(lr: Any, min_lr: Any) -> tuple[float, float]:
    """``lr`` and ``min_lr`` as the drop-in takes them: finite and ``>= 0``, in any order (with a warning)."""
    v = _check.rate("lr", lr)
    lo = _check.rate("min_lr", min_lr)
    if lo > v:
        _drop_in_warning("get_lr_scheduler", f"min_lr ({min_lr!r}) is above lr ({lr!r})")
    elif v == 0:
        _drop_in_warning("get_lr_scheduler", "lr is 0")
    return v, lo


def _lenient_ratio(name: str, value: Any) -> float:
    v = _check.real(name, value)
    if v < 0:
        _drop_in_warning("get_lr_scheduler", f"{name}={value!r} is negative")
    return v


def _drop_in_build(cls: type, *args: Any) -> Any:
    """``cls(*args)``, or, where the strict class refuses arguments on which the original returns
    values, the same schedule built leniently (with a :class:`DropInWarning`; not writable as a config)."""
    try:
        return cls(*args)
    except ValueError:
        obj = object.__new__(cls)
        obj._init(*args, False)
        return obj
