"""The one layer through which lrkit reads a foreign config: PaddleDetection's ``LearningRate``,
PaddleClas's ``Optimizer.lr``, DeepSpeed's ``scheduler`` section and ultralytics' settings.

Every field is read through a :class:`Section`, which checks it before anything is
computed from it: a missing, mistyped or out-of-range field is a ``ValueError`` naming
the section, the field, the value (cut short) and what is valid. A number is an ``int``
or a ``float`` (never a ``bool`` or a string: ``"2" * n`` repeats text), finite, within
lrkit's limits (a length at most :data:`lrkit._check.MAX_LENGTH` positions, a list at
most :data:`lrkit._check.MAX_ITEMS` items); a whole number is an ``int`` (where a peer
loops ``range(n)``, ``12.0`` is its refusal). :func:`reading` turns what a schedule's own
checks raise while a reader builds it into the same kind of error, prefixed with the
section.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import reprlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .. import _check

__all__ = ["MISSING", "Section", "show", "whole", "real", "bounded", "reading"]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


#: A field's default when it has none: the field is required.
MISSING: Any = _Missing()

_REPR = reprlib.Repr()
_REPR.maxstring = 60
_REPR.maxother = 60
_REPR.maxlist = _REPR.maxtuple = 6
_REPR.maxdict = 4
_REPR.maxset = _REPR.maxfrozenset = 4
_REPR.maxlevel = 3
_REPR.maxlong = 40


def show(value: Any) -> str:
    """``repr(value)`` cut short, however long or deep the value (a 100-million-character
    string, a list nested 20,000 deep): at most about 80 characters, built without
    writing the whole ``repr`` first."""
    if isinstance(value, (bool, float)) or value is None:
        return repr(value)
    if isinstance(value, int):
        return _check.show(value)
    try:
        text = _REPR.repr(value)
    except Exception:  # a foreign object whose repr fails
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."


def _hint(value: Any) -> str:
    """Why a value is not what it looks like, when that is not obvious."""
    if isinstance(value, str):
        import re

        if re.fullmatch(r"\s*[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?[eE][-+]?[0-9]+\s*", value) and (
            "." not in value or not re.search(r"[eE][-+]", value)
        ):
            return (
                " (text, not a number: YAML reads an exponent without a dot and a sign, such as 1e-3, as "
                "text; write 0.001 or 1.0e-3)"
            )
        try:
            float(value.replace("_", ""))
        except ValueError:
            return " (text)"
        return " (text, not a number: write it without quotes)"
    if isinstance(value, bool):
        return " (a bool)"
    return ""


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except OverflowError:  # an int past float64's range
        return math.inf if value > 0 else -math.inf


def _range_text(lo: float | None, lo_open: bool, hi: float | None, hi_open: bool) -> str:
    if lo is not None and hi is not None:
        return f"in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {lo:g}"
    if hi is not None:
        return f"{'<' if hi_open else '<='} {hi:g}"
    return ""


def _number_text(lo: float | None, lo_open: bool, hi: float | None, hi_open: bool) -> str:
    bounds = _range_text(lo, lo_open, hi, hi_open)
    return f"{bounds} (a finite number)" if bounds else "a finite number"


def _whole_text(lo: int | None, hi: float | None) -> str:
    if lo is not None and hi is not None:
        return f"a whole number from {lo:g} to {hi:g}"
    if lo is not None:
        return f"a whole number >= {lo:g}"
    return "a whole number"


class Section:
    """A mapping of a foreign config, read field by field with checks.

    ``where`` locates it (``"PaddleClas Optimizer.lr"``), ``label`` names what it
    configures (``"Step"``): messages read ``"<where>: <label> <field> must be <valid>,
    got <value>"``. ``known``: the fields the peer takes; any other is an error, with
    the closest valid name (the peer refuses an unknown keyword too). ``None`` accepts
    any field (a peer that ignores the others).
    """

    __slots__ = ("where", "label", "data")

    def __init__(self, where: str, data: Any, *, label: str = "", known: Iterable[str] | None = None) -> None:
        self.where, self.label = where, label
        if not isinstance(data, Mapping):
            what = f"{where}{f' ({label})' if label else ''}"
            raise ValueError(f"{what} must be a mapping of fields to values, got {show(data)}")
        self.data = data
        if known is not None:
            known = tuple(known)
            for key in data:
                if not isinstance(key, str) or key not in known:
                    from ..core import suggest

                    raise ValueError(
                        f"{self._prefix()}{label + ' ' if label else ''}has no field {show(key)}"
                        f"{suggest(str(key), known)}"
                    )

    # -- messages ------------------------------------------------------------------------
    def _prefix(self) -> str:
        return f"{self.where}: " if self.where else ""

    def name(self, field: str) -> str:
        """How a message names ``field``: with the section's label."""
        return f"{self.label} {field}" if self.label else field

    def fail(self, field: str, value: Any, valid: str, why: str = "") -> ValueError:
        """The error for ``field`` holding ``value``, which is not ``valid``."""
        return ValueError(
            f"{self._prefix()}{self.name(field)} must be {valid}, got {show(value)}{_hint(value)}"
            f"{'; ' + why if why else ''}"
        )

    def error(self, text: str) -> ValueError:
        """An error about the section as a whole (``text`` names the fields)."""
        return ValueError(f"{self._prefix()}{self.label + ' ' if self.label else ''}{text}")

    def need(self, field: str, valid: str) -> ValueError:
        who = f"{self.label} needs" if self.label else "needs"
        return ValueError(f"{self._prefix()}{who} {field} ({valid})")

    # -- fields --------------------------------------------------------------------------
    def has(self, field: str) -> bool:
        """Whether ``field`` is given (``None`` counts as given)."""
        return field in self.data

    def value(self, field: str, default: Any = MISSING, valid: str = "given") -> Any:
        """The raw value of ``field`` (``default`` when it is not given; required without one)."""
        if field in self.data:
            return self.data[field]
        if default is MISSING:
            raise self.need(field, valid)
        return default

    def number(
        self,
        field: str,
        default: Any = MISSING,
        *,
        lo: float | None = None,
        lo_open: bool = False,
        hi: float | None = None,
        hi_open: bool = False,
        optional: bool = False,
    ) -> Any:
        """A finite ``int`` or ``float`` in the given bounds, as given (an ``int`` stays one);
        ``None`` when ``optional`` and the value is ``None``."""
        valid = _number_text(lo, lo_open, hi, hi_open)
        v = self.value(field, default, valid)
        if v is None and optional:
            return None
        return self.check_number(field, v, lo=lo, lo_open=lo_open, hi=hi, hi_open=hi_open)

    def check_number(
        self,
        field: str,
        v: Any,
        *,
        lo: float | None = None,
        lo_open: bool = False,
        hi: float | None = None,
        hi_open: bool = False,
    ) -> Any:
        """``v`` (the value of ``field``) checked as :meth:`number` does."""
        valid = _number_text(lo, lo_open, hi, hi_open)
        if not _is_number(v):
            raise self.fail(field, v, valid)
        f = _as_float(v)
        if not math.isfinite(f):
            raise self.fail(field, v, valid)
        if lo is not None and not (f > lo if lo_open else f >= lo):
            raise self.fail(field, v, valid)
        if hi is not None and not (f < hi if hi_open else f <= hi):
            raise self.fail(field, v, valid)
        if isinstance(v, numbers.Integral):
            return int(v)  # numpy's ints too: counted with as Python counts
        return v if isinstance(v, float) else f

    def rate(self, field: str, default: Any = MISSING) -> float:
        """A value ``>= 0`` (an lr, a ratio, a factor), as a float."""
        return float(self.number(field, default, lo=0.0))

    def whole(
        self,
        field: str,
        default: Any = MISSING,
        *,
        lo: int | None = 1,
        hi: float | None = _check.MAX_LENGTH,
        why: str = "",
        hi_why: str = "",
    ) -> int:
        """An ``int`` (not a ``bool``, not ``12.0``) from ``lo`` to ``hi``; ``why``: why an int,
        ``hi_why``: why at most ``hi`` (for the message)."""
        v = self.value(field, default, _whole_text(lo, hi))
        return self.check_whole(field, v, lo=lo, hi=hi, why=why, hi_why=hi_why)

    def check_whole(
        self,
        field: str,
        v: Any,
        *,
        lo: int | None = 1,
        hi: float | None = _check.MAX_LENGTH,
        why: str = "",
        hi_why: str = "",
    ) -> int:
        valid = _whole_text(lo, hi)
        if not isinstance(v, numbers.Integral) or isinstance(v, bool):
            raise self.fail(field, v, valid, why)
        n = int(v)  # exact for any Integral (numpy's too)
        if lo is not None and n < lo:
            raise self.fail(field, v, valid)
        if hi is not None and n > hi:
            raise self.fail(field, v, valid, hi_why or f"lrkit's limit is {hi:g}")
        return n

    def start(self, field: str) -> None:
        """A peer's "last step" argument: only ``-1`` (not given: the schedule from its start) converts."""
        v = self.value(field, -1)
        if not (isinstance(v, numbers.Integral) and not isinstance(v, bool) and v == -1):
            raise self.fail(
                field,
                v,
                "-1 (a scheduler that starts at the beginning)",
                "a resumed scheduler is not converted: convert the config, then step on to where it was",
            )

    def flag(self, field: str, default: Any = MISSING) -> bool:
        """``true`` or ``false`` (a string or a number is refused: ``"false"`` is true in Python)."""
        v = self.value(field, default, "true or false")
        if not isinstance(v, bool):
            raise self.fail(field, v, "true or false")
        return v

    def choice(self, field: str, default: Any, choices: Iterable[str]) -> str:
        choices = tuple(choices)
        valid = f"one of {', '.join(map(repr, choices))}"
        v = self.value(field, default, valid)
        if not isinstance(v, str) or v not in choices:
            raise self.fail(field, v, valid)
        return v

    def items(self, field: str, default: Any = MISSING, *, min_items: int = 0) -> list:
        """A list (or tuple) of at most :data:`~lrkit._check.MAX_ITEMS` items."""
        valid = f"a list{f' of at least {min_items} item' + ('s' if min_items > 1 else '') if min_items else ''}"
        v = self.value(field, default, valid)
        if not isinstance(v, (list, tuple)):
            raise self.fail(field, v, valid)
        if len(v) > _check.MAX_ITEMS:
            raise self.fail(
                field, v, f"a list of at most {_check.MAX_ITEMS:,} items (lrkit's limit)", f"it holds {len(v):,}"
            )
        if len(v) < min_items:
            raise self.fail(field, v, valid)
        return list(v)

    def numbers(
        self,
        field: str,
        default: Any = MISSING,
        *,
        lo: float | None = None,
        lo_open: bool = False,
        hi: float | None = None,
        hi_open: bool = False,
        min_items: int = 0,
    ) -> list:
        """A list of numbers, each checked as :meth:`number` does (named ``field[i]``)."""
        return [
            self.check_number(f"{field}[{i}]", x, lo=lo, lo_open=lo_open, hi=hi, hi_open=hi_open)
            for i, x in enumerate(self.items(field, default, min_items=min_items))
        ]

    def section(self, field: str, *, label: str = "", known: Iterable[str] | None = None) -> Section:
        """The mapping held by ``field``, as a section of its own."""
        where = f"{self.where}.{field}" if self.where else field
        if field not in self.data:
            raise self.need(field, "a mapping")
        return Section(where, self.data[field], label=label, known=known)

    def bounded(self, what: str, value: float, limit: float = _check.MAX_LENGTH) -> float:
        """``value`` (a product of fields, named by ``what``) finite and at most ``limit``."""
        return bounded(f"{self._prefix()}{what}", value, limit)


def whole(name: str, value: Any, *, lo: int = 1, hi: float = _check.MAX_LENGTH) -> int:
    """A function argument that counts something: an ``int`` from ``lo`` to ``hi``."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or not lo <= int(value) <= hi:
        raise ValueError(f"{name} must be a whole number >= {lo} (at most {hi:g}), got {show(value)}{_hint(value)}")
    return int(value)


def real(
    name: str,
    value: Any,
    *,
    lo: float | None = None,
    lo_open: bool = False,
    hi: float | None = None,
    hi_open: bool = False,
) -> float:
    """A function argument that is a number: finite, in the given bounds, as a float."""
    return float(Section("", {name: value}).check_number(name, value, lo=lo, lo_open=lo_open, hi=hi, hi_open=hi_open))


def bounded(what: str, value: float, limit: float = _check.MAX_LENGTH) -> float:
    """``value`` finite and at most ``limit`` (lrkit's longest length), else a ``ValueError``
    saying ``what`` it is (the fields it is made of)."""
    v = _as_float(value) if _is_number(value) else math.nan
    if not (math.isfinite(v) and abs(v) <= limit):
        raise ValueError(f"{what} = {show(value)} is past lrkit's limit of {limit:g} positions")
    return v


@contextlib.contextmanager
def reading(where: str) -> Iterator[None]:
    """Inside: a schedule built from checked fields. What its own checks raise (a
    ``ValueError`` naming its parameter, a ``TypeError``, float64 arithmetic giving up)
    comes out as a ``ValueError`` that starts with ``where``."""
    try:
        yield
    except ValueError as e:
        if str(e).startswith(where):
            raise
        raise ValueError(f"{where}: {e}") from None
    except (TypeError, ArithmeticError, RecursionError) as e:
        raise ValueError(f"{where}: {e}") from None
