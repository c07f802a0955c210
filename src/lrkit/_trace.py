"""The scalar path of a schedule, traced from its kernel into one flat Python function.

A composed schedule evaluated one position at a time goes through a Python call per
kind and per operation (``Warmup -> split -> Cosine -> minimum``). Tracing runs the
schedule's ``_kernel`` once with a symbolic position: every arithmetic operation and
every operation of :mod:`lrkit.ops` is recorded as a line of Python, the parameters
become constants, choices made on parameters (a shape, a flag) are taken once, and
the structure operations (``hold``, ``split``, ``branch``, ``segments``) become
``if`` blocks. The result is one function ``f(t) -> float`` doing exactly the float
operations of ``_kernel(t, SCALAR)``, in the same order, so the same bits — without
the calls in between.

A kernel that makes a Python decision on the position itself (a search, say) cannot
be traced; such a schedule keeps ``_kernel(t, SCALAR)``. The test-suite compares the
two paths for every kind.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from .ops import SCALAR

__all__ = ["compile_scalar"]

_MAX_LINES = 2000
_MAX_SEGMENTS = 16


class _Untraceable(Exception):
    """The kernel needs the position's value (a Python decision on it)."""


class _Code:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 1
        self.consts: dict[str, Any] = {}
        self._ids: dict[int, str] = {}
        self.n = 0

    def emit(self, line: str) -> None:
        if len(self.lines) > _MAX_LINES:
            raise _Untraceable("too long")
        self.lines.append("    " * self.depth + line)

    def var(self, expr: str) -> _T:
        self.n += 1
        name = f"v{self.n}"
        self.emit(f"{name} = {expr}")
        return _T(self, name)

    def slot(self) -> str:
        self.n += 1
        return f"v{self.n}"

    def lit(self, x: Any) -> str:
        if isinstance(x, _T):
            return x.name
        if type(x) is float and math.isfinite(x):
            return f"({x!r})"
        if type(x) in (int, bool):
            return f"({x!r})"
        key = id(x)
        if key not in self._ids:
            name = f"c{len(self._ids)}"
            self._ids[key] = name
            self.consts[name] = x
        return self._ids[key]

    def call(self, fn: Callable[..., Any], *args: Any) -> _T:
        return self.var(f"{self.lit(fn)}({', '.join(self.lit(a) for a in args)})")


def _binary(op: str) -> tuple[Callable[[_T, Any], _T], Callable[[_T, Any], _T]]:
    def fwd(self: _T, other: Any) -> _T:
        return self.code.var(f"{self.name} {op} {self.code.lit(other)}")

    def rev(self: _T, other: Any) -> _T:
        return self.code.var(f"{self.code.lit(other)} {op} {self.name}")

    return fwd, rev


class _T:
    """A traced value: the name of a local variable of the function being written."""

    __slots__ = ("code", "name")

    def __init__(self, code: _Code, name: str) -> None:
        self.code, self.name = code, name

    __add__, __radd__ = _binary("+")
    __sub__, __rsub__ = _binary("-")
    __mul__, __rmul__ = _binary("*")
    __truediv__, __rtruediv__ = _binary("/")
    __floordiv__, __rfloordiv__ = _binary("//")
    __pow__, __rpow__ = _binary("**")
    __and__, __rand__ = _binary("&")
    __or__, __ror__ = _binary("|")
    __lt__ = _binary("<")[0]
    __le__ = _binary("<=")[0]
    __gt__ = _binary(">")[0]
    __ge__ = _binary(">=")[0]
    # a traced comparison gives another traced value, not object's bool (and, with __eq__ in the
    # class body, Python sets __hash__ to None: unhashable)
    __eq__: Callable[[_T, object], Any] = _binary("==")[0]
    __ne__: Callable[[_T, object], Any] = _binary("!=")[0]

    def __neg__(self) -> _T:
        return self.code.var(f"-{self.name}")

    def __bool__(self) -> bool:
        raise _Untraceable("a Python decision on the position")

    def __float__(self) -> float:
        raise _Untraceable("the position's value is needed")

    __int__ = __index__ = __float__

    def __getattr__(self, name: str) -> Any:
        raise _Untraceable(f"array attribute {name!r}")


def _ops(code: _Code) -> SimpleNamespace:
    def plain(name: str) -> Callable[..., Any]:
        fn = getattr(SCALAR, name)
        return lambda *args: code.call(fn, *args)

    def minimum(a: Any, b: Any) -> Any:
        return code.var(f"{code.lit(a)} if {code.lit(a)} < {code.lit(b)} else {code.lit(b)}")

    def maximum(a: Any, b: Any) -> Any:
        return code.var(f"{code.lit(a)} if {code.lit(a)} > {code.lit(b)} else {code.lit(b)}")

    def where(c: Any, a: Any, b: Any) -> Any:
        return code.var(f"{code.lit(a)} if {code.lit(c)} else {code.lit(b)}")

    def full(t: Any, v: Any) -> Any:
        return v

    def cases(test: str, first: Callable[[], Any], second: Callable[[], Any]) -> Any:
        out = code.slot()
        code.emit(f"if {test}:")
        code.depth += 1
        code.emit(f"{out} = {code.lit(first())}")
        code.depth -= 1
        code.emit("else:")
        code.depth += 1
        code.emit(f"{out} = {code.lit(second())}")
        code.depth -= 1
        return _T(code, out)

    def hold(t: Any, end: Any, f: Callable[..., Any], v: Any) -> Any:
        return cases(f"{code.lit(t)} < {code.lit(end)}", lambda: f(t, ns), lambda: v)

    def split(t: Any, b: Any, lo: Callable[..., Any], hi: Callable[..., Any]) -> Any:
        return cases(f"{code.lit(t)} < {code.lit(b)}", lambda: lo(t, ns), lambda: hi(t - b, ns))

    def branch(c: Any, f: Callable[..., Any], g: Callable[..., Any], *args: Any) -> Any:
        return cases(code.lit(c), lambda: f(*args, ns), lambda: g(*args, ns))

    def segments(t: Any, starts: tuple[float, ...], fs: tuple[Callable[..., Any], ...]) -> Any:
        if len(fs) > _MAX_SEGMENTS:
            # many segments (a run re-planned many times): a search, except in the last segment,
            # where a running scheduler is, traced inline
            return cases(
                f"{code.lit(t)} < {code.lit(starts[-1])}",
                lambda: code.call(SCALAR.segments, t, starts, fs),
                lambda: fs[-1](t - starts[-1], ns),
            )

        def from_(i: int) -> Any:
            if i == len(fs) - 1:
                return fs[i](t - starts[i], ns)
            return cases(
                f"{code.lit(t)} < {code.lit(starts[i + 1])}", lambda: fs[i](t - starts[i], ns), lambda: from_(i + 1)
            )

        return from_(0)

    def by_index(i: Any, body: Callable[..., Any], *args: Any) -> Any:
        return body(i, *args, ns)

    ns = SimpleNamespace(**{name: plain(name) for name in vars(SCALAR) if name != "name"})
    ns.name = "trace"
    ns.minimum, ns.maximum, ns.where, ns.full = minimum, maximum, where, full
    ns.hold, ns.split, ns.branch, ns.segments, ns.by_index = hold, split, branch, segments, by_index
    return ns


def compile_scalar(kernel: Callable[[Any, Any], Any], label: str = "schedule") -> Callable[[float], float] | None:
    """``kernel(t, SCALAR)`` as one flat function of ``t``, or None when it cannot be traced."""
    code = _Code()
    try:
        out = kernel(_T(code, "t"), _ops(code))
    except _Untraceable:
        return None
    except (TypeError, AttributeError, ValueError, ZeroDivisionError, OverflowError, IndexError):
        return None  # a kernel doing something else with its position: keep the generic path
    src = "def f(t):\n" + "\n".join(code.lines) + f"\n    return {code.lit(out)}\n"
    scope: dict[str, Any] = dict(code.consts)
    exec(compile(src, f"<lrkit scalar path of {label}>", "exec"), scope)  # noqa: S102 - our own generated code
    fn = scope["f"]
    fn.source = src
    return fn
