"""A schedule kind's parameters, declared once.

Each kind lists its constructor parameters as :class:`Param` objects (name, unit,
default, one line of doc). From that one declaration come the constructor and its
signature, the per-parameter checks (with the unit's error messages), ``_fields``
(and so ``to_dict``, ``repr``, equality, hashing, pickling), the length units of
configs (``"2ep"``, ``"10%"`` for every length, no global list of names), the
command line's flags for the kind, and ``lrkit list``.

A unit says what a value is and how it is checked:

==============  =====================================================================
unit            a value that is ...
==============  =====================================================================
``rate``        a learning rate or other value of the curve: finite, ``>= 0``
``length``      a number of positions, ``> 0`` (``"2ep"``, ``"10%"`` in configs)
``length0``     a number of positions, ``>= 0``
``lengths``     a strictly increasing list of positions (``> 0``)
``factor``      a finite number ``>= 0`` that multiplies
``positive``    a finite number ``> 0``
``real``        any finite number
``count``       a whole number ``>= 1``
``choice``      one of the declared ``choices``
``bool``        ``True`` or ``False``
``schedule``    an lrkit schedule (nested in configs)
``schedules``   a non-empty list of schedules
``reals``       a list of finite numbers
``rates``       a list of values ``>= 0``
``any``         checked by the kind itself
==============  =====================================================================

A kind may add cross-parameter checks and derived values in ``_setup(**values)``.
"""

from __future__ import annotations

import inspect
import numbers
from dataclasses import dataclass
from typing import Any, Callable

from . import _check

__all__ = ["Param", "REQUIRED", "UNITS", "LENGTH_UNITS"]


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: The default of a parameter that must be given.
REQUIRED: Any = _Required()


def _bool(name: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise TypeError(f"{name} must be True or False, got {_check.show(v)}")
    return v


_MAX_COUNT = 2 ** 53  # float64 counts every whole number up to here


def _count(name: str, v: Any) -> int:
    ok = (isinstance(v, numbers.Integral) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    if not ok or not 1 <= v <= _MAX_COUNT:
        raise ValueError(f"{name} must be a whole number from 1 to 2**53, got {_check.show(v)}")
    return int(v)


def _reals(name: str, v: Any) -> tuple[float, ...]:
    return tuple(_check.real(f"{name}[{i}]", x) for i, x in enumerate(_check.items(name, v)))


def _rates(name: str, v: Any) -> tuple[float, ...]:
    return tuple(_check.rate(f"{name}[{i}]", x) for i, x in enumerate(_check.items(name, v)))


def _schedule(name: str, v: Any) -> Any:
    from .core import check_schedule

    return check_schedule(name, v)


def _schedules(name: str, v: Any) -> Any:
    from .core import check_schedules

    return check_schedules(name, v)


#: unit -> (check(name, value) -> value, what it is, for help texts)
UNITS: dict[str, tuple[Callable[[str, Any], Any], str]] = {
    "rate": (_check.rate, "a value >= 0"),
    "length": (_check.length, "a length in positions, > 0"),
    "length0": (lambda n, v: _check.length(n, v, allow_zero=True), "a length in positions, >= 0"),
    "lengths": (_check.lengths_increasing, "increasing positions"),
    "factor": (_check.rate, "a factor >= 0"),
    "positive": (_check.positive, "a number > 0"),
    "real": (_check.real, "a finite number"),
    "count": (_count, "a whole number >= 1"),
    "choice": (lambda n, v: v, "one of the choices"),
    "bool": (_bool, "true or false"),
    "schedule": (_schedule, "a schedule"),
    "schedules": (_schedules, "a list of schedules"),
    "reals": (_reals, "a list of numbers"),
    "rates": (_rates, "a list of values >= 0"),
    "any": (lambda n, v: v, "see the kind"),
}

#: Units whose values are positions: configs convert ``"2ep"`` and ``"10%"`` for them.
LENGTH_UNITS = frozenset({"length", "length0", "lengths"})


@dataclass(frozen=True)
class Param:
    """One constructor parameter of a schedule kind.

    ``optional`` lets ``None`` through (meaning "not given", e.g. a default computed
    from other parameters) without the unit's check.
    """

    name: str
    unit: str
    default: Any = REQUIRED
    doc: str = ""
    choices: tuple[str, ...] = ()
    optional: bool = False
    #: ``inf`` is taken, meaning "no bound" (a clip's ``max_lr``)
    unbounded: bool = False

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"parameter {self.name}: unknown unit {self.unit!r} (valid: {', '.join(UNITS)})")

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def is_length(self) -> bool:
        return self.unit in LENGTH_UNITS

    def check(self, value: Any) -> Any:
        """``value`` checked (and converted) as this parameter's unit says."""
        if value is None and (self.optional or self.default is None):
            return None
        if self.unbounded and isinstance(value, (int, float)) and value == float("inf"):
            return float("inf")
        if self.unit == "choice":
            return _check.choice(self.name, value, self.choices)
        return UNITS[self.unit][0](self.name, value)


def signature(params: tuple[Param, ...]) -> inspect.Signature:
    """The constructor signature the parameters declare."""
    P = inspect.Parameter
    return inspect.Signature([P("self", P.POSITIONAL_OR_KEYWORD)] + [
        P(p.name, P.POSITIONAL_OR_KEYWORD, default=P.empty if p.required else p.default) for p in params])


def make_init(cls: type) -> Callable[..., None]:
    """``__init__`` for a kind that declares ``params``: bind, check each parameter, then
    ``cls._setup(**values)`` for cross-checks and derived values."""
    params: tuple[Param, ...] = cls.params
    sig = signature(params)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        try:
            bound = sig.bind(self, *args, **kwargs)
        except TypeError as e:
            raise TypeError(f"{type(self).__name__}: {e}") from None
        bound.apply_defaults()
        values = {p.name: p.check(bound.arguments[p.name]) for p in params}
        self._setup(**values)

    __init__.__signature__ = sig  # type: ignore[attr-defined]
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__doc__ = f"Build a {cls.__name__}; see the class docstring."
    return __init__
