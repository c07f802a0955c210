"""A schedule evaluated inside a compiled step (JAX, Keras): the shared part of the bindings.

Two ways, both from the kind's one formula:

* ``"table"``: lrkit's own float64 values (numpy) at the whole positions ``0 .. N - 1``,
  put on the device once and looked up by the step count: the same bits as lrkit on
  the host, O(1) per step, memory ``8 N`` bytes. ``N`` is the run's length: the
  schedule's own (where it turns constant) or ``total_steps``.
* ``"formula"``: the kind's kernel traced with the array library (:mod:`lrkit._traced`):
  no length needed, any count; the library's ``cos``/``exp`` and its compiler's
  arithmetic may differ from numpy's by an ulp or two (about 1e-15 relative).

``"auto"`` (the default) takes the table when the run's length is known and at most
:data:`AUTO_TABLE` positions, else the formula; past the table's end, the formula
continues (a schedule constant there holds its last value, exactly). A schedule
whose formula cannot be traced (a user's Python function, a search in Python)
needs the table, and so a length.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from . import _check
from ._num import np
from ._traced import NotTraceable, namespace
from .core import Schedule

__all__ = ["Plan", "AUTO_TABLE", "MAX_TABLE", "METHODS"]

AUTO_TABLE = 2_000_000  # positions: 16 MB of float64
MAX_TABLE = 50_000_000  # positions: 400 MB of float64
METHODS = ("auto", "table", "formula")


def _is_number(x: Any) -> bool:
    return isinstance(x, (bool, int, float)) or type(x).__module__ == "numpy" and np.ndim(x) == 0


class Plan:
    """How one schedule is evaluated in a compiled step (see the module docstring)."""

    def __init__(self, schedule: Schedule, total_steps: float | None, method: str, who: str) -> None:
        if not isinstance(schedule, Schedule):
            raise TypeError(f"{who}: schedule must be an lrkit Schedule, got {_check.show(schedule)} "
                            f"({type(schedule).__name__})")
        if method not in METHODS:
            raise ValueError(f"{who}: method must be one of {', '.join(map(repr, METHODS))}, got {method!r}")
        if total_steps is not None:
            if isinstance(total_steps, bool) or not isinstance(total_steps, (int, float, np.integer, np.floating)) \
                    or not (1 <= total_steps <= MAX_TABLE) or not float(total_steps).is_integer():
                raise ValueError(f"{who}: total_steps must be a whole number of steps in [1, {MAX_TABLE:,}], "
                                 f"got {total_steps!r}")
            total_steps = int(total_steps)
        self.schedule, self.who = schedule, who
        L = schedule.length
        # positions 0 .. n - 1; a schedule constant from L on needs ceil(L) + 1 of them
        own = math.ceil(L) + 1 if math.isfinite(L) else None
        n = total_steps if total_steps is not None else own
        if own is not None and n is not None and own <= n:
            n, self.constant_after = own, True  # every later count is the last value, exactly
        else:
            self.constant_after = False
        self.traceable = self._traceable()
        if method == "auto":
            method = "table" if not self.traceable or (n is not None and n <= AUTO_TABLE) else "formula"
        if method == "formula" and not self.traceable:
            raise ValueError(f"{who}: {schedule!r} cannot be traced ({self.why}); use method='table' "
                             "(the default when the run's length is known)")
        if method == "table":
            if n is None:
                raise ValueError(f"{who}: {schedule!r} never turns constant and cannot be traced ({self.why}); "
                                 "give total_steps= (the run's length) to evaluate it from a table"
                                 if not self.traceable else
                                 f"{who}: method='table' needs the run's length: give total_steps=")
            if n > MAX_TABLE:
                raise ValueError(f"{who}: a table of {n:,} positions is more than {MAX_TABLE:,}; use "
                                 "method='formula'")
            self.table = schedule(np.arange(n, dtype=np.float64))
        self.method, self.n = method, n
        self._cache: dict[Any, Any] = {}

    def _traceable(self) -> bool:
        import numpy

        probe = namespace(_Probe, numpy.float64, is_traced=lambda x: isinstance(x, _ProbeArray))
        try:
            self.schedule._kernel(_ProbeArray(), probe)
        except NotTraceable as e:
            self.why = str(e)
            return False
        self.why = ""
        return True

    def evaluate(self, count: Any, xp: Any, dtype: Any, key: Any, convert: Callable[[Any], Any]) -> Any:
        """The lr at ``count`` (an integer array of the library ``xp``), as ``dtype``.

        ``convert(numpy_array)`` makes the table an array of the library (inside a trace:
        a constant of the compiled function); the table rounded to ``dtype`` is kept
        under ``key``.
        """
        is_traced = lambda x: not _is_number(x)  # noqa: E731
        t = xp.maximum(xp.cast(count, dtype) if hasattr(xp, "cast") else count.astype(dtype), 0.0)
        if self.method == "formula":
            return self.schedule._kernel(t, namespace(xp, dtype, is_traced=is_traced))
        host = self._cache.get(key)
        if host is None:
            import numpy

            host = self._cache[key] = numpy.asarray(self.table, dtype=numpy.dtype(dtype))
        i = xp.clip(count, 0, self.n - 1)
        looked = xp.take(convert(host), i)
        if self.constant_after or not self.traceable:
            return looked  # past the end: constant (exactly), or held (documented)
        beyond = self.schedule._kernel(t, namespace(xp, dtype, is_traced=is_traced))
        return xp.where(count < self.n, looked, beyond)


class _ProbeArray:
    """A stand-in traced array: any arithmetic gives another one, any comparison too."""

    def _op(self, *a: Any) -> "_ProbeArray":
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _op
    __pow__ = __rpow__ = __neg__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __abs__ = _op
    __lt__ = __le__ = __gt__ = __ge__ = __eq__ = __ne__ = __and__ = __or__ = __invert__ = _op
    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        raise NotTraceable("a comparison needs a concrete number")

    def __float__(self) -> float:
        raise NotTraceable("a conversion to float needs a concrete number")

    __index__ = __int__ = __float__

    def astype(self, *a: Any) -> "_ProbeArray":
        return self


class _ProbeModule:
    """numpy's API on :class:`_ProbeArray`: tells, without a framework, whether a kernel traces."""

    def __getattr__(self, name: str) -> Any:
        def f(*a: Any, **k: Any) -> Any:
            return _ProbeArray()

        return f


_Probe = _ProbeModule()
