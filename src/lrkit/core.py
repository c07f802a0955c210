"""The schedule model: immutable, closed-form functions of the position.

A :class:`Schedule` maps a position ``t >= 0`` (a step, or an epoch, possibly
fractional) to a value. It is computed from ``t`` alone: no recurrence on the
previous value and no hidden counter, so any position can be evaluated in any
order, on a scalar or on a numpy array, with the same float64 result.

Each kind writes its formula once, ``_kernel(t, xp)``, with the operations of
:mod:`lrkit.ops`: ``xp = ops.SCALAR`` evaluates one position (the hot path of a
training loop), ``xp = ops.NUMPY`` a 1-D float64 array, with the same bits.

``__call__`` validates the position, evaluates and checks the value. Each kind
declares its constructor parameters once, as annotated fields made by
:func:`lrkit.params.param` (``Schedule`` is a PEP 681 ``dataclass_transform`` base,
so type checkers see the constructor and the attributes' types), from which its
``params``, constructor, ``_fields`` (``to_dict``, ``repr``, equality, pickling),
config units and CLI flags derive, and registers itself under a ``kind`` name for
the config loader.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Callable, Iterable
from collections.abc import Sequence as SequenceT
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    NamedTuple,
    TypeAlias,
    TypeVar,
    Union,
    cast,
)

from . import _check
from ._num import np
from .ops import NUMPY, SCALAR, ready
from .params import UNITS, collect, derived, make_init, param

if TYPE_CHECKING:  # annotations only: `import lrkit` imports numpy lazily (``_num.np``)
    import numpy

if TYPE_CHECKING:
    # What type checkers read, whatever pythonVersion they check for: pyright and mypy ship
    # typing_extensions' stubs, so they always see the real PEP 681 decorator (the Python 3.10
    # fallback below would make every kind `Any` for them). Not a runtime dependency.
    from typing_extensions import dataclass_transform
elif sys.version_info >= (3, 11):
    from typing import dataclass_transform
else:  # pragma: no cover - Python 3.10: typing_extensions' if installed, else a no-op (no new dependency)
    try:
        from typing_extensions import dataclass_transform
    except ImportError:

        def dataclass_transform(**kwargs: Any) -> Callable[[Any], Any]:
            return lambda cls: cls


__all__ = [
    "Schedule",
    "Phase",
    "register",
    "registered",
    "schedule_class",
    "check_schedule",
    "check_schedules",
    "fingerprint",
    "ArrayLike",
]

ArrayLike: TypeAlias = Union[float, int, SequenceT[float], "numpy.ndarray"]

_INF = math.inf
_FMAX = sys.float_info.max
_REGISTRY: dict[str, type[Schedule]] = {}


class ScheduleWarning(UserWarning):
    """lrkit's own classes used in a way that is probably a mistake (the values are still
    what was asked for): e.g. a schedule of learning rates used as a multiplier of the
    optimizer's learning rate. Silence it with
    ``warnings.filterwarnings("ignore", category=lrkit.ScheduleWarning)``."""


class Phase(NamedTuple):
    """One phase of a schedule: ``[start, end)`` in positions, with the values there.

    ``end`` is ``inf`` for a phase that lasts for ever. ``end_value`` is the value
    approached at ``end`` from the left; the values inside the phase lie between
    ``start_value`` and ``end_value``. It is ``None`` when no such bound is given: a
    phase that lasts for ever with changing values, or a run of several cycles.
    ``continuous`` says whether the curve is continuous where the phase starts.
    """

    name: str
    start: float
    end: float
    start_value: float
    end_value: float | None
    continuous: bool = True

    def shifted(self, offset: float) -> Phase:
        return self._replace(start=self.start + offset, end=self.end + offset)

    def mapped(self, fn: Callable[[float], float]) -> Phase:
        ev = None if self.end_value is None else fn(self.end_value)
        return self._replace(start_value=fn(self.start_value), end_value=ev)


_C = TypeVar("_C", bound=type)
_F = TypeVar("_F", bound=Callable[..., Any])


def register(kind: str) -> Callable[[_C], _C]:
    """Class decorator: make a schedule buildable from a config dict as ``kind``."""

    def deco(cls: _C) -> _C:
        if kind in _REGISTRY and _REGISTRY[kind] is not cls:
            raise RuntimeError(f"schedule kind {kind!r} registered twice")
        declare(cls)
        cls.kind = kind  # type: ignore[attr-defined]
        _REGISTRY[kind] = cls  # type: ignore[assignment]
        return cls

    return deco


def declare(cls: _C) -> _C:
    """Derive a class's constructor and ``_fields`` from its ``params`` (its fields, collected
    when the class was made, or a ``params = (...)`` tuple of its own); a constructor the class
    defines itself is kept, as dataclasses keep one."""
    if "params" in cls.__dict__:
        params = cls.params  # type: ignore[attr-defined]
        init = cls.__dict__.get("__init__")
        made = getattr(init, "_lrkit_params", None)
        if made is params:  # declared from these params already (a kind is registered once made)
            return cls
        cls._fields = tuple([p.name for p in params])  # type: ignore[attr-defined]
        if init is None or made is not None:
            cls.__init__ = make_init(cls)  # type: ignore[misc]
    return cls


# -- words for lrkit explain ----------------------------------------------------------------------
# lrkit.explain, the layer of words above the kinds, is imported on first use (not by `import
# lrkit`): a kind's module declares its templates and explainers here, and lrkit.explain takes
# them when it is imported; declared after that, they go to it directly.
_WORDS: list[tuple[str, dict[str, str]]] = []
_EXPLAINERS: dict[str, Callable[..., Any]] = {}
#: lrkit.explain's ``(words, EXPLAINERS)``, set when it has taken the declarations above.
_explain_tables: tuple[Callable[[str, dict[str, str]], None], dict[str, Callable[..., Any]]] | None = None


def words(lang: str, table: dict[str, str]) -> None:
    """:func:`lrkit.explain.words` for a kind's module: its templates in language ``lang``
    (``key -> template``), for ``w.say(key, ...)`` in its explainers. They join lrkit explain's
    table of that language when lrkit.explain is imported (a key defined twice is an error then)."""
    if _explain_tables is None:
        _WORDS.append((lang, table))
    else:
        _explain_tables[0](lang, table)


def explainer(kind: str) -> Callable[[_F], _F]:
    """:func:`lrkit.explain.explainer` for a kind's module: a decorator registering the function
    ``(schedule, words) -> (summary sentences, notes)`` that explains schedules of ``kind``."""

    def deco(fn: _F) -> _F:
        (_EXPLAINERS if _explain_tables is None else _explain_tables[1])[kind] = fn
        return fn

    return deco


#: Modules above the core whose kinds are registered when they are imported (the recipes): read
#: the first time the registry is asked for a kind it does not hold, or for every kind. By name, as
#: :meth:`Schedule.plot` finds the plotting layer: the core imports no layer above it.
_LATER_KINDS = [
    "lrkit.recipes",
    # the kinds' own modules: ``import lrkit`` loads them when a kind is first named
    "lrkit.schedules.paddle_compat",
    "lrkit.schedules.presets",
    "lrkit.schedules.cycles",
    "lrkit.schedules.algebra",
    "lrkit.schedules.compose",
    "lrkit.schedules.decays",
]


def _load_later_kinds() -> None:
    import importlib

    while _LATER_KINDS:
        importlib.import_module(_LATER_KINDS.pop())


def registered() -> dict[str, type[Schedule]]:
    """The built-in schedule kinds, by name."""
    _load_later_kinds()
    return dict(sorted(_REGISTRY.items()))


def schedule_class(kind: Any) -> type[Schedule]:
    """The class registered as ``kind``; unknown names raise, suggesting the closest."""
    if not isinstance(kind, str):
        raise TypeError(f"schedule type must be a string, got {kind!r}")
    if kind not in _REGISTRY:
        _load_later_kinds()
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise ValueError(f"unknown schedule type {kind!r}{suggest(kind, _REGISTRY)}") from None


def _kind(name: str) -> Callable[..., Schedule]:
    """The constructor of a built-in kind, from the registry: the core imports no kind, so it
    knows none's signature (the kind checks its arguments when called)."""
    if name not in _REGISTRY:
        _load_later_kinds()
    return _REGISTRY[name]


def suggest(name: str, valid: Iterable[str]) -> str:
    import difflib

    valid = list(valid)
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{hint} (valid: {', '.join(sorted(valid))})"


def warmup_end(schedule: Schedule) -> float:
    """Where the schedule's warmup ends: the end of its leading phases named "warmup" (as
    ``describe()`` lists them), 0 without one.

    >>> import lrkit
    >>> warmup_end(lrkit.WarmupCosine(peak_lr=0.1, total_steps=1000, warmup_steps=50))
    50.0
    """
    end = 0.0
    for phase in check_schedule("schedule", schedule).phases():
        if not phase.name.startswith("warmup"):
            break
        end = phase.end
    return end


def check_schedule(name: str, value: Any) -> Schedule:
    """``value`` if it is an lrkit :class:`Schedule` that may be nested once more.

    ``TypeError`` naming ``name`` for anything else; ``ValueError`` when nesting it
    would pass :data:`~lrkit._check.MAX_DEPTH` levels or it expands to more than
    :data:`~lrkit._check.MAX_ITEMS` schedules.
    """
    if not isinstance(value, Schedule):
        raise TypeError(f"{name} must be an lrkit Schedule, got {_check.show(value)} ({type(value).__name__})")
    depth, size = value.extent
    if depth >= _check.MAX_DEPTH:
        raise ValueError(f"{name} is nested {depth} levels deep; lrkit's limit is {_check.MAX_DEPTH} levels")
    if size > _check.MAX_ITEMS:
        raise ValueError(f"{name} expands to {size:,} schedules; lrkit's limit is {_check.MAX_ITEMS:,}")
    return value


def check_schedules(name: str, values: Any) -> tuple[Schedule, ...]:
    """A non-empty list of schedules, each checked as by :func:`check_schedule`, whose
    sizes add up to at most :data:`~lrkit._check.MAX_ITEMS` (a shared one counts at each use)."""
    if isinstance(values, Schedule) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a list of schedules, got {_check.show(values)}")
    items = tuple(check_schedule(f"{name}[{i}]", s) for i, s in enumerate(_check.items(name, values)))
    if not items:
        raise ValueError(f"{name} must hold at least one schedule, got []")
    total = sum(s.extent[1] for s in items)
    if total > _check.MAX_ITEMS:
        raise ValueError(f"{name} expands to {total:,} schedules; lrkit's limit is {_check.MAX_ITEMS:,}")
    return items


# the units whose values are schedules: checked here, where a Schedule is known (params sits below the core)
UNITS["schedule"] = (check_schedule, "a schedule")
UNITS["schedules"] = (check_schedules, "a list of schedules")


def _bad_value(s: Schedule, t: float, v: Any) -> ValueError:
    what = "overflows float64" if v == _INF else "cannot be represented in float64 here"
    return ValueError(
        f"{s.kind or type(s).__name__}: the value at position {t!r} is {v!r}, not a finite number >= 0 (it {what})"
    )


def _bad_position(t: Any) -> ValueError | TypeError:
    if isinstance(t, numbers.Real) and not isinstance(t, bool):
        return ValueError(f"position must be a finite number >= 0, got {t!r}")
    return TypeError(f"position must be a number or an array of numbers, got {t!r} ({type(t).__name__})")


def _positions(t: Any) -> numpy.ndarray:
    """``t`` as a float64 array; strings, booleans, complex numbers and None are refused."""
    try:
        a = np.asarray(t)
    except (TypeError, ValueError):
        raise _bad_position(t) from None
    kind = a.dtype.kind
    if kind in "iuf":
        return a.astype(np.float64, copy=False)
    if kind == "O" and all(isinstance(x, numbers.Real) and not isinstance(x, bool) for x in a.flat):
        try:
            return np.array([float(x) for x in a.flat], dtype=np.float64).reshape(a.shape)
        except OverflowError:
            raise ValueError(f"position must be a finite number >= 0, got {t!r}") from None
    raise _bad_position(t)


@dataclass_transform(frozen_default=True, field_specifiers=(param, derived))
class Schedule:
    """Base class of every schedule. Call it with a position to get the value.

    A kind declares its constructor parameters as fields,
    ``name: type = param(unit, default=..., doc=...)`` (:func:`lrkit.params.param`).
    """

    __slots__ = ("_extent", "_fast", "_py")
    kind: ClassVar[str] = ""
    #: The formula, one line of markdown (``lrkit list``, the README's table).
    formula: ClassVar[str]
    #: The parameters of an example instance (a config without its ``type``).
    example: ClassVar[dict[str, Any]]
    _fields: ClassVar[tuple[str, ...]] = ()
    #: What the values are, as a plot's y axis says it: learning rates, or (for the recipes
    #: whose values multiply each group's base lr) "multiplier of the base lr".
    value_name: ClassVar[str] = "learning rate"
    #: The constructor parameters (:class:`lrkit.params.Param`), declared once per kind.
    params: ClassVar[tuple[Any, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        params = collect(cls)
        if params is not None:
            cls.params = params
        declare(cls)

    def _setup(self, *args: Any, **values: Any) -> None:
        """Cross-parameter checks and derived values, after each parameter was checked.

        Called with the checked parameters as keywords. A kind overrides it with the
        parameters it needs by name (``def _setup(self, peak_lr, total_steps, **rest)``);
        ``*args: Any, **values: Any`` here lets type checkers accept any such override."""
        self._set(**values)

    # -- evaluation ----------------------------------------------------------------
    def __call__(self, t: ArrayLike) -> Any:
        """Value at position ``t``: a float for a number, an array for an array."""
        # Every value is checked on the way out (finite, >= 0): a value float64 cannot
        # represent is a ValueError, never a NaN, an inf or a negative learning rate.
        tt = type(t)
        if tt is float or tt is int:
            # `t` is exactly a float or an int here: tested once through `tt` for speed,
            # which type checkers do not narrow through, hence the cast.
            given = x = cast(float, t)
            if tt is int:
                # Kernels see floats only, as the array path does; ints beyond the float
                # range are out of range rather than an OverflowError further down.
                try:
                    x = float(given)
                except OverflowError:
                    raise _bad_position(given) from None
            if 0.0 <= x < _INF:
                try:
                    v = self._fast(x)
                except AttributeError:
                    v = self._scalar(x)
                if 0.0 <= v < _INF:
                    return v
                raise _bad_value(self, x, v)
            raise _bad_position(given)
        if isinstance(t, numbers.Real) and not isinstance(t, bool):
            try:
                x = float(t)
            except OverflowError:
                raise _bad_position(t) from None
            if 0 <= x < _INF:
                return self(x)
            raise _bad_position(t)
        a = _positions(t)
        flat = a.ravel()
        # min() and max() propagate NaN, so one pair of reductions checks everything.
        if flat.size and not (flat.min() >= 0 and flat.max() < _INF):
            bad = flat[~((flat >= 0) & np.isfinite(flat))][0]
            raise ValueError(f"position must be a finite number >= 0, got {bad!r} in the array")
        out = self._array(flat)
        if out.size and not (out.min() >= 0 and out.max() < _INF):
            i = int(np.flatnonzero(~((out >= 0) & (out < _INF)))[0])
            raise _bad_value(self, float(flat[i]), float(out[i]))
        return out.reshape(a.shape)

    def checked(self, t: float) -> float:
        """The value at a position already known to be a float ``>= 0``, checked like ``self(t)``.

        For bindings' hot paths: skips the position's type dispatch, keeps the value check.
        """
        v = self._scalar(t)
        if 0 <= v < _INF:
            return v
        raise _bad_value(self, t, v)

    def _kernel(self, t: Any, xp: Any, /) -> Any:  # pragma: no cover - abstract
        """The kind's formula at ``t`` (a float or an array), with the operations ``xp`` (:mod:`lrkit.ops`).

        Always called positionally (``_kernel(t, SCALAR)``), so a kind names the two as it likes."""
        raise NotImplementedError

    def _scalar(self, t: float) -> float:
        """The unchecked value at one position (a float ``>= 0``): ``_kernel(t, SCALAR)``, through
        the flat function traced from it on first use (:mod:`lrkit._trace`; same bits, fewer calls)."""
        try:
            return self._fast(t)
        except AttributeError:
            pass
        from ._trace import compile_scalar

        ready()  # the operations traced are SCALAR's own (its searches are imported on first use)
        fast: Callable[[float], float]
        compiled = compile_scalar(self._kernel, self.kind or type(self).__name__)
        if compiled is not None:
            fast = compiled
        else:
            kernel = self._kernel

            def plain(t: float) -> float:
                return kernel(t, SCALAR)

            fast = plain

        object.__setattr__(self, "_fast", fast)
        return fast(t)

    def _array(self, t: numpy.ndarray) -> numpy.ndarray:
        """The unchecked values at a 1-D float64 array of positions (``>= 0``)."""
        # Overflow inside a formula gives inf, which the caller's value check reports.
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            return self._kernel(t, NUMPY)

    # -- introspection ---------------------------------------------------------------
    @property
    def runs_python(self) -> bool:
        """Whether evaluating it calls Python code of a user's (a function, an unregistered kind),
        which a binding must not call ahead of the position it is at. Computed once."""
        try:
            return self._py
        except AttributeError:
            pass
        out = type(self).kind not in _REGISTRY
        for f in self._fields:
            if out:
                break
            v = getattr(self, f)
            for x in v if isinstance(v, (tuple, list)) else (v,):
                if isinstance(x, Schedule) and x.runs_python or (callable(x) and not isinstance(x, (Schedule, type))):
                    out = True
                    break
        object.__setattr__(self, "_py", out)
        return out

    @property
    def extent(self) -> tuple[int, int]:
        """``(depth, size)``: how deep schedules nest in this one (1 for a leaf) and how many
        it is made of, itself included (a schedule used twice counts twice)."""
        try:
            return self._extent
        except AttributeError:
            pass
        depth, size = 1, 1
        for v in self._values():
            for x in v if isinstance(v, (tuple, list)) else (v,):
                if isinstance(x, Schedule):
                    d, n = x.extent
                    depth, size = max(depth, d + 1), size + n
        object.__setattr__(self, "_extent", (depth, size))
        return depth, size

    @property
    def max_value(self) -> float:
        """An upper bound of the values: no position gives more (``inf`` when unknown).

        Every built-in kind gives its largest value (or a bound of it); composition
        uses it to refuse, when it is built, a product that float64 cannot hold.
        """
        return getattr(self, "peak_lr", _INF)

    @property
    def length(self) -> float:
        """Position after which the schedule is constant (``inf`` if never)."""
        return _INF

    def phases(self) -> list[Phase]:
        """The schedule's phases, as data: consecutive, from 0 to ``inf``.

        This default knows only ``length``: one phase up to it (with no end value,
        as nothing is known of the values in between), then the constant after it.
        """
        L = self.length
        v0 = self._scalar(0.0)
        if L == 0:
            return [Phase(self.kind or type(self).__name__, 0.0, _INF, v0, v0, True)]
        first = Phase(self.kind or type(self).__name__, 0.0, L, v0, None, True)
        if L == _INF:
            return [first]
        v = self._scalar(L)
        return [first, Phase("constant", L, _INF, v, v, False)]

    def _phase(
        self, name: str, start: float, end: float, *, continuous: bool = True, end_value: float | None | bool = True
    ) -> Phase:
        """A phase whose values come from this schedule at ``start`` and ``end``."""
        if end_value is True:
            end_value = self._scalar(end) if end < _INF else None
        return Phase(name, start, end, self._scalar(start), end_value, continuous)

    def describe(self) -> str:
        """A short human-readable table of the phases."""
        rows = [("phase", "start", "end", "value at start", "value at end")]
        for p in self.phases():
            rows.append(
                (
                    p.name,
                    _fmt(p.start),
                    _fmt(p.end),
                    _fmt(p.start_value),
                    "..." if p.end_value is None else _fmt(p.end_value),
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        lines = [
            "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()
            for r in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    def plot(self, steps: float | None = None, ax: Any = None, **kwargs: Any) -> Any:
        """Draw the schedule over ``[0, steps)`` with matplotlib (``lrkit[plot]``); returns the Axes.

        Phase boundaries are marked. Keyword arguments go to
        :func:`lrkit.plot.plot_schedule` (``log=True``, ``label=...``, line styles).
        """
        import importlib  # the plotting layer is optional (matplotlib) and depends on the core, not back

        return importlib.import_module("lrkit.plot").plot_schedule(self, steps, ax=ax, **kwargs)

    def explain(self, lang: str = "en", *, steps_per_epoch: float | None = None, title: bool = True) -> str:
        """What the schedule does, in words: a summary, the phase list and notes, in ``lang``
        (``"en"`` or ``"zh"``); the same text as ``lrkit explain`` and :func:`lrkit.explain`.

        ``steps_per_epoch`` (positions per epoch) adds the epoch to the positions named;
        ``title`` starts the text with the schedule's spec.

        >>> import lrkit
        >>> print(lrkit.Constant(0.1).explain(title=False).splitlines()[0])
        A constant 0.1 at every position.
        """
        import importlib  # the words are a layer above the core (they read every kind), not a dependency of it

        return importlib.import_module("lrkit.explain").explain(
            self, lang, steps_per_epoch=steps_per_epoch, title=title
        )

    # -- config ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A plain JSON-serialisable dict; :func:`lrkit.from_dict` rebuilds it."""
        if getattr(self, "_strict", True) is False:
            raise ValueError(
                f"this {type(self).__name__} was built by a drop-in with arguments lrkit's own class "
                f"refuses ({self!r}); it cannot be written as a config"
            )
        if self.kind not in _REGISTRY:
            raise TypeError(f"{type(self).__name__} cannot be written as a config (it wraps Python code)")
        out: dict[str, Any] = {"type": self.kind}
        for f in self._fields:
            out[f] = _to_plain(getattr(self, f))
        return out

    # -- composition helpers ----------------------------------------------------------
    def replace(self, **changes: Any) -> Schedule:
        """A copy of this schedule with some parameters changed (validated as in the constructor).

        >>> from lrkit import Cosine
        >>> Cosine(0.1, 1000, after="continue").replace(after="hold")
        Cosine(peak_lr=0.1, total_steps=1000, min_lr=0, k=1, exponent=1, cycles=0.5, after='hold')
        """
        unknown = sorted(set(changes) - set(self._fields))
        if unknown:
            raise ValueError(
                f"{type(self).__name__}.replace: unknown parameter {unknown[0]!r}; valid: {', '.join(self._fields)}"
            )
        values = {f: getattr(self, f) for f in self._fields}
        values.update(changes)
        return type(self)(**values)

    def with_warmup(
        self, warmup_steps: float, shape: str = "linear", start_factor: float = 0.0, **shape_params: float
    ) -> Schedule:
        """This schedule preceded by a warmup ending at its starting value."""
        Warmup = _kind("warmup")

        return Warmup(self, warmup_steps, shape=shape, start_factor=start_factor, **shape_params)

    def hold_after(self, end: float, value: float | None = None) -> Schedule:
        Hold = _kind("hold")

        return Hold(self, end, value)

    def scaled(self, factor: float) -> Schedule:
        Scale = _kind("scale")

        return Scale(self, factor)

    def clipped(self, min_lr: float = 0.0, max_lr: float = _INF) -> Schedule:
        Clip = _kind("clip")

        return Clip(self, min_lr, max_lr)

    def per_step(self, steps_per_epoch: float) -> Schedule:
        """This epoch-defined schedule evaluated per iteration: ``s(step / steps_per_epoch)``."""
        PerStep = _kind("per_step")

        return PerStep(self, steps_per_epoch)

    def __mul__(self, factor: float) -> Schedule:
        return self.scaled(factor)

    __rmul__ = __mul__

    # -- value semantics ---------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _set(self, **kw: Any) -> None:
        for k, v in kw.items():
            object.__setattr__(self, k, v)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in self._fields)

    def __reduce__(self) -> tuple[Any, ...]:
        if getattr(self, "_strict", True) is False:  # a drop-in's lenient build: rebuilt the same way
            return (_rebuild_lenient, (type(self), self._values()))
        return (type(self), self._values())

    def __copy__(self) -> Schedule:
        return self

    def __deepcopy__(self, memo: dict) -> Schedule:
        return self

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        try:
            return hash((type(self), self._values()))
        except TypeError:
            return id(self)

    def __repr__(self) -> str:
        args = ", ".join(f"{f}={_repr_value(getattr(self, f))}" for f in self._fields)
        return f"{type(self).__name__}({args})"


def _rebuild_lenient(cls: type, values: tuple) -> Schedule:
    import warnings

    obj = object.__new__(cls)
    with warnings.catch_warnings():  # warned when it was built
        warnings.simplefilter("ignore")
        obj._init(*values, False)
    return obj


def fingerprint(s: Schedule) -> Any:
    """What a schedule is, as plain data: its config (``to_dict``), with Python code that
    cannot be written to a config (a user function) named by its qualified name.

    Bindings store it in their state, so a checkpoint can tell which schedule it was
    saved with. Equal schedules have equal fingerprints, in any process.
    """
    out: dict[str, Any] = {"type": s.kind or type(s).__name__}
    for f in s._fields:
        out[f] = _plain_code(getattr(s, f))
    return out


def _plain_code(v: Any) -> Any:
    if isinstance(v, Schedule):
        return fingerprint(v)
    if isinstance(v, (list, tuple)):
        return [_plain_code(x) for x in v]
    if v is None or isinstance(v, (bool, int, float, str)):
        return _to_plain(v)
    fn = getattr(v, "fn", v)  # IntPositions and similar wrappers
    return "python:" + getattr(fn, "__module__", "?") + "." + getattr(fn, "__qualname__", type(fn).__name__)


def _repr_value(v: Any) -> str:
    """A field as ``repr`` shows it: whole-number floats (step counts) without ``.0``."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return str(int(v))
    if isinstance(v, tuple) and v and all(isinstance(x, float) for x in v):
        return "(" + ", ".join(_repr_value(x) for x in v) + ("," if len(v) == 1 else "") + ")"
    return repr(v)


def _to_plain(v: Any) -> Any:
    if isinstance(v, Schedule):
        return v.to_dict()
    if isinstance(v, (list, tuple)):
        return [_to_plain(x) for x in v]
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    return v


def _fmt(x: float) -> str:
    from ._format import number

    return number(x)
