"""A schedule kind's parameters, declared once.

Each kind declares its constructor parameters as annotated class attributes made by
:func:`param` (unit, default, one line of doc), in the order of the constructor::

    @register("step")
    class Step(Schedule):
        peak_lr: float = param(PEAK)
        step_size: float = param("length", doc="positions between two multiplications")
        gamma: float = param("factor", default=0.1, doc="the factor, in [0, 1]")

:class:`~lrkit.core.Schedule` is a PEP 681 ``dataclass_transform`` base with
:func:`param` as its field specifier, so type checkers (pyright, mypy) see the
constructor ``Step(peak_lr: float, step_size: float, gamma: float = ...)`` and the
attributes' types. At run time the fields become the kind's ``params`` tuple of
:class:`Param` (inherited fields first, as in dataclasses). From that one declaration
come the constructor and its signature, the per-parameter checks (with the unit's error messages), ``_fields``
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

A ``choice`` parameter takes its choices from its ``Literal[...]`` annotation.

A kind may add cross-parameter checks and derived values in ``_setup(**values)``; the
attributes it computes there are declared with :func:`derived`
(``_end: float = derived()``), so type checkers know them without taking them for
constructor parameters.
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Union, get_args, get_origin

from . import _check

if TYPE_CHECKING:  # imported where a signature is built (on first use), not by `import lrkit`
    import inspect

__all__ = ["Param", "param", "derived", "REQUIRED", "UNITS", "LENGTH_UNITS"]


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


#: The default of a parameter that must be given.
REQUIRED: Any = _Required()


def _bool(name: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise TypeError(f"{name} must be True or False, got {_check.show(v)}")
    return v


_MAX_COUNT = 2**53  # float64 counts every whole number up to here


def _count(name: str, v: Any) -> int:
    n = 0  # not a whole number: refused below
    if (isinstance(v, numbers.Integral) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()):
        n = int(v)
    if not 1 <= n <= _MAX_COUNT:
        raise ValueError(f"{name} must be a whole number from 1 to 2**53, got {_check.show(v)}")
    return n


def _reals(name: str, v: Any) -> tuple[float, ...]:
    return tuple(_check.real(f"{name}[{i}]", x) for i, x in enumerate(_check.items(name, v)))


def _rates(name: str, v: Any) -> tuple[float, ...]:
    return tuple(_check.rate(f"{name}[{i}]", x) for i, x in enumerate(_check.items(name, v)))


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
    "reals": (_reals, "a list of numbers"),
    "rates": (_rates, "a list of values >= 0"),
    "any": (lambda n, v: v, "see the kind"),
}

#: Units whose values are positions: configs convert ``"2ep"`` and ``"10%"`` for them.
LENGTH_UNITS = frozenset({"length", "length0", "lengths"})


class Param:
    """One constructor parameter of a schedule kind.

    ``optional`` lets ``None`` through (meaning "not given", e.g. a default computed
    from other parameters) without the unit's check. ``unbounded``: ``inf`` is taken,
    meaning "no bound" (a clip's ``max_lr``).

    Immutable, compared and hashed by its fields (as a frozen dataclass, without
    importing :mod:`dataclasses` when ``lrkit`` is imported). A subclass adds fields
    by extending ``_fields`` (and ``__slots__``) and taking them in ``__init__``.
    """

    __slots__ = ("name", "unit", "default", "doc", "choices", "optional", "unbounded")
    _fields: ClassVar[tuple[str, ...]] = __slots__
    __match_args__ = __slots__

    name: str
    unit: str
    default: Any
    doc: str
    choices: tuple[str, ...]
    optional: bool
    unbounded: bool

    def __init__(
        self,
        name: str,
        unit: str,
        default: Any = REQUIRED,
        doc: str = "",
        choices: tuple[str, ...] = (),
        optional: bool = False,
        unbounded: bool = False,
    ) -> None:
        if unit not in UNITS:
            raise ValueError(f"parameter {name}: unknown unit {unit!r} (valid: {', '.join(UNITS)})")
        _set = object.__setattr__
        _set(self, "name", name)
        _set(self, "unit", unit)
        _set(self, "default", default)
        _set(self, "doc", doc)
        _set(self, "choices", choices)
        _set(self, "optional", optional)
        _set(self, "unbounded", unbounded)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: a {type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: a {type(self).__name__} is immutable")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in self._fields)

    def _replace(self, **changes: Any) -> Param:
        """A copy with ``changes`` (field name -> value), as ``dataclasses.replace``."""
        unknown = [k for k in changes if k not in self._fields]
        if unknown:
            raise TypeError(f"{type(self).__name__}: no field {unknown[0]!r} (fields: {', '.join(self._fields)})")
        return type(self)(**{f: changes.get(f, getattr(self, f)) for f in self._fields})

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__qualname__}({fields})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self._values())

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


def param(
    unit: str | Param,
    *,
    default: Any = REQUIRED,
    doc: str | None = None,
    choices: tuple[str, ...] = (),
    optional: bool = False,
    unbounded: bool = False,
) -> Any:
    """Declare a constructor parameter of a kind: ``name: type = param(unit, default=..., doc=...)``.

    The field specifier of :class:`~lrkit.core.Schedule` (PEP 681): type checkers take a
    parameter as optional exactly when ``default=`` is given, so a default is always
    given here, as a keyword. ``unit`` is a unit name (see the module's table) or a
    :class:`Param` shared by several kinds (its unit and doc; ``doc=`` replaces the doc);
    a shared :class:`Param` carries no default: each use gives its own ``default=``.
    A ``choice`` parameter's choices are those of its ``Literal[...]`` annotation.
    The parameter's name is the attribute's; the kind's class holds none of these
    objects once built (its instances hold the values).
    """
    if isinstance(unit, Param):
        if not unit.required:
            raise TypeError(
                f"param({unit.name}): a shared Param declares no default; give default= where it "
                f"is used, so type checkers see it"
            )
        # one constructor call (not _replace: every kind's fields are made at import)
        return Param(
            "",
            unit.unit,
            default,
            unit.doc if doc is None else doc,
            choices or unit.choices,
            optional or unit.optional,
            unbounded or unit.unbounded,
        )
    if isinstance(unit, str):  # the constructor checks the unit's name
        return Param("", unit, default, "" if doc is None else doc, choices, optional, unbounded)
    raise TypeError(f"param: unit must be a unit name ({', '.join(UNITS)}) or a Param, got {unit!r}")


class Derived:
    """The marker :func:`derived` leaves in a kind's body until the class is made."""

    __slots__ = ("doc",)

    def __init__(self, doc: str) -> None:
        self.doc = doc

    def __repr__(self) -> str:
        return f"derived(doc={self.doc!r})"


def derived(*, init: bool = False, doc: str = "") -> Any:
    """Declare an attribute a kind computes in ``_setup`` (``self._set(...)``), not a parameter:
    ``_end: float = derived(doc="the value at total_steps")``.

    The second field specifier of :class:`~lrkit.core.Schedule` (PEP 681): ``init``
    defaults to ``False`` in this signature, so type checkers leave the attribute out of
    the constructor and know its type. At run time it is no parameter (not in ``params``,
    ``_fields``, ``to_dict``, equality) and the class holds nothing under its name: reading
    it before ``_setup`` sets it is an ``AttributeError``, as without the declaration.
    ``init`` is accepted for the type checkers' sake only and must stay ``False``.
    """
    if init is not False:
        raise TypeError(
            f"derived(init={init!r}): a derived attribute is never a constructor parameter; "
            f"declare a parameter with param(...)"
        )
    return Derived(doc)


def _is_classvar(annotation: Any) -> bool:
    if isinstance(annotation, str):
        return annotation.replace("typing.", "").startswith("ClassVar")
    return annotation is ClassVar or get_origin(annotation) is ClassVar


def _own_annotations(cls: type) -> dict[str, Any]:
    """The annotations of a class's own body, as ``inspect.get_annotations(cls)`` reads them
    (without importing :mod:`inspect` for every kind made when lrkit is imported)."""
    annotations = cls.__dict__.get("__annotations__")
    if isinstance(annotations, dict):
        return annotations
    if sys.version_info >= (3, 14):  # pragma: no cover - annotations evaluated on demand (PEP 649)
        import inspect

        return inspect.get_annotations(cls)
    return {}


def _quoted_literal(annotation: str) -> tuple[str, ...] | None:
    """The strings of an annotation written ``Literal["a", 'b']`` (alone, or in a union with
    ``None``: ``Literal[...] | None``), read from the text without evaluating it, as
    ``typing.Literal`` keeps them (in order, each once); ``None`` for any other form."""
    found: tuple[str, ...] | None = None
    for member in annotation.split("|"):
        member = member.strip()
        if member == "None":
            continue
        if found is not None or not (member.startswith("Literal[") and member.endswith("]")):
            return None
        items: list[str] = []
        for item in member[8:-1].split(","):
            item = item.strip()
            if len(item) < 2 or item[0] not in "'\"" or item[-1] != item[0] or item[0] in item[1:-1] or "\\" in item:
                return None  # not a plain quoted string (an escape, a comma or "|" inside, ...)
            if item[1:-1] not in items:
                items.append(item[1:-1])
        found = tuple(items)
    return found


def _literal_choices(cls: type, name: str, annotation: Any) -> tuple[str, ...]:
    """The values of a ``Literal[...]`` annotation (alone, or in a union with ``None``)."""
    if isinstance(annotation, str):
        module = sys.modules.get(cls.__module__)
        # the usual forms are read without compiling the text: a name (``Shape = Literal[...]``),
        # looked up as eval would, or ``Literal["a", "b"]`` itself
        where = None
        if annotation.isidentifier():
            where = next((ns for ns in (vars(cls), vars(module) if module else {}) if annotation in ns), None)
        elif getattr(module, "Literal", Literal) is Literal and "Literal" not in vars(cls):
            quoted = _quoted_literal(annotation)
            if quoted is not None:
                return quoted
        if where is not None:
            annotation = where[annotation]
        else:
            scope = dict(vars(module)) if module is not None else {}
            scope.setdefault("Literal", Literal)
            try:
                annotation = eval(annotation, scope, dict(vars(cls)))  # the kind's own module's names
            except Exception as e:
                raise TypeError(
                    f"{cls.__qualname__}.{name}: cannot read the choices of its annotation {annotation!r} ({e})"
                ) from None
    members = (
        get_args(annotation)
        if get_origin(annotation) is Union or type(annotation).__name__ == "UnionType"
        else (annotation,)
    )
    out: list[str] = []
    for m in members:
        if get_origin(m) is Literal:
            out.extend(get_args(m))
        elif m is not type(None):
            break
    else:
        if out and all(isinstance(c, str) for c in out):
            return tuple(out)
    raise TypeError(
        f"{cls.__qualname__}.{name}: a choice parameter is annotated Literal[...] with its choices, got {annotation!r}"
    )


def collect(cls: type) -> tuple[Param, ...] | None:
    """The parameters of a kind that declares fields with :func:`param` in its own body:
    the inherited ones first (one redeclared keeps its place), then its own in the order
    written. ``None`` when the class declares no field. The :class:`Param` objects are
    taken out of the class, so the names are the instances' attributes."""
    ns = cls.__dict__
    where = cls.__qualname__
    own: dict[str, Param] = {}
    computed: list[str] = []
    for k, v in ns.items():
        if isinstance(v, Param):
            own[k] = v
        elif isinstance(v, Derived):
            computed.append(k)
    annotations = _own_annotations(cls) if own or computed else {}
    if computed:
        bare = [k for k in computed if k not in annotations]
        if bare:
            raise TypeError(
                f"{where}.{bare[0]}: a derived attribute needs a type annotation, e.g. {bare[0]}: float = derived()"
            )
        for name in computed:  # set by _setup on each instance; the class keeps no marker
            delattr(cls, name)
    if not own:
        return None
    if "params" in ns:
        raise TypeError(
            f"{where}: declare the parameters either as params = (...) or as fields with param(...), not both"
        )
    out = {p.name: p for p in getattr(cls, "params", ())}
    for name, annotation in annotations.items():
        if name in own:
            p = own[name]
            choices = p.choices
            if p.unit == "choice":
                declared = _literal_choices(cls, name, annotation)
                if choices and tuple(choices) != declared:
                    raise TypeError(f"{where}.{name}: choices {choices!r} differ from its annotation's {declared!r}")
                choices = declared
            if type(p) is Param and p.name == "" and choices is p.choices and type(choices) is tuple:
                # made by param() for this field (no name yet, nothing to change but the name): named
                # in place rather than copied (a Param used again for another field is copied then)
                object.__setattr__(p, "name", name)
                out[name] = p
            else:
                out[name] = (
                    Param(name, p.unit, p.default, p.doc, tuple(choices), p.optional, p.unbounded)
                    if type(p) is Param
                    else p._replace(name=name, choices=tuple(choices))
                )
        elif name not in computed and not _is_classvar(annotation):
            raise TypeError(
                f"{where}.{name} is annotated but not declared with param(...): type checkers take "
                f"it for a constructor parameter; declare it with param(...) or as ClassVar[...]"
            )
    missing = [k for k in own if k not in annotations]
    if missing:
        raise TypeError(
            f"{where}.{missing[0]}: a parameter needs a type annotation, e.g. {missing[0]}: float = param(...)"
        )
    for name in own:
        delattr(cls, name)
    params = tuple(out.values())
    optional = False
    for p in params:  # a parameter without a default after one with a default: refused, as in a def
        if p.default is not REQUIRED:
            optional = True
        elif optional:
            raise TypeError(f"{where}: parameter {p.name} has no default but follows one that has")
    return params


def signature(params: tuple[Param, ...]) -> inspect.Signature:
    """The constructor signature the parameters declare."""
    import inspect  # here: `import lrkit` builds no signature (see _Declared)

    P = inspect.Parameter
    return inspect.Signature(
        [P("self", P.POSITIONAL_OR_KEYWORD)]
        + [P(p.name, P.POSITIONAL_OR_KEYWORD, default=P.empty if p.required else p.default) for p in params]
    )


class _Declared:
    """The constructor a kind declares, as :mod:`inspect` reads it.

    A kind's generated ``__init__`` takes ``(self, *args, **kwargs)`` and binds them itself; it
    names this object as what it wraps (``__init__.__wrapped__``, as :func:`functools.wraps`
    does), so :func:`inspect.signature` of the kind or of its ``__init__`` (and ``help()``,
    editors, :func:`typing.get_type_hints`) read the declared ``(self, name, ..., name=default)``.
    The :class:`inspect.Signature` is built when first read: importing lrkit builds none.
    """

    __slots__ = ("params", "_signature")
    #: The globals :func:`typing.get_type_hints` resolves ``__init__``'s annotations in.
    __globals__ = globals()

    def __init__(self, params: tuple[Param, ...]) -> None:
        self.params = params

    def __repr__(self) -> str:
        return f"<the declared constructor ({', '.join(['self'] + [p.name for p in self.params])})>"

    @property
    def __signature__(self) -> inspect.Signature:
        try:
            return self._signature
        except AttributeError:
            self._signature = signature(self.params)
            return self._signature


def make_init(cls: type) -> Callable[..., None]:
    """``__init__`` for a kind that declares ``params``: bind, check each parameter, then
    ``cls._setup(**values)`` for cross-checks and derived values.

    Arguments are bound as :meth:`inspect.Signature.bind` binds them to the declared signature
    (``self, name, ..., name=default``); a call that does not fit is refused with its message."""
    params: tuple[Param, ...] = cls.params
    declared = _Declared(params)
    names = tuple([p.name for p in params])
    known = frozenset(names)
    n = len(names)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        values: dict[str, Any] | None = dict(zip(names, args))
        if len(args) > n or (kwargs and not (known.issuperset(kwargs) and values.keys().isdisjoint(kwargs))):
            values = None
        else:
            values.update(kwargs)
            if len(values) < n:
                for p in params:  # the defaults of those not given
                    if p.name not in values:
                        if p.default is REQUIRED:
                            values = None
                            break
                        values[p.name] = p.default
        if values is None:  # a call the signature refuses: inspect's words for it
            try:
                bound = declared.__signature__.bind(self, *args, **kwargs)
            except TypeError as e:
                raise TypeError(f"{type(self).__name__}: {e}") from None
            bound.apply_defaults()
            values = bound.arguments
        self._setup(**{p.name: p.check(values[p.name]) for p in params})

    __init__.__wrapped__ = declared  # type: ignore[attr-defined]
    __init__._lrkit_params = params  # type: ignore[attr-defined]
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__doc__ = f"Build a {cls.__name__}; see the class docstring."
    return __init__
