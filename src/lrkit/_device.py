"""A schedule evaluated inside a compiled step (JAX, Keras): the shared part of the bindings.

Two ways, both from the kind's one formula:

* ``"table"``: lrkit's own float64 values (numpy) at the whole positions ``0 .. N - 1``,
  put on the device once and looked up by the step count: the same bits as lrkit on
  the host, O(1) per step, memory ``8 N`` bytes. ``N`` is the run's length: the
  schedule's own (where it turns constant) or ``total_steps``.
* ``"formula"``: the kind's kernel traced with the array library (:mod:`lrkit._traced`):
  no length needed, any count; the library's ``cos``/``exp`` and its compiler's
  arithmetic may differ from numpy's by an ulp or two (about 1e-15 relative).

``"auto"`` (the default) takes the most exact method available: a table (exact in any
dtype) wherever it is known, the formula past it. The table covers the run's length
(the schedule's own, where it turns constant, or ``total_steps``); without one, the
schedule's plan (its last finite phase boundary: a cosine's ``total_steps``, the listed
cycles of a restart schedule); at most :data:`AUTO_TABLE` (past that, the formula
alone; a schedule with no finite boundary, such as ``Exponential``, runs the formula). Past the table's end the formula
continues (a schedule constant there holds its last value, exactly), so every kind runs
at any count without ``total_steps``: restart schedules search a table of their cycle
starts, CAWB counts its boundaries. The bindings' ``repr`` (and ``runs``) say which
method runs. Where the formula runs, a device in float64 gives lrkit's values within
about 1e-12 relative; in float32 within 1e-6 of the schedule's largest value (near a
cosine's floor, the formula's float32 ``cos`` is what a table avoids). A jump (a step,
a restart, a new horizon) is where lrkit puts it: the whole number of periods in a position,
``floor(t / d)`` or ``ceil(t / d)``, is computed exactly (XLA computes ``t / d`` as
``t * (1 / d)``, whose floor is one low at some multiples of ``d``; see
:mod:`lrkit._traced`), and ``CosineRestarts`` looks its cycle starts up exactly (in float32,
every cycle before ``2 ** 31`` as three float32 numbers: a ``period_mult`` so close to 1 that
more than 2 ** 20 cycles start there is refused in float32, with what to do).

The one exception is a schedule that runs a user's Python function (``FunctionSchedule``,
a converted ``LambdaLR``, a CAWB with a Python ``lf``): a compiled step cannot call it,
so it is known only in its table, and so needs ``total_steps``. Past the table the
device gives ``nan`` (a compiled step cannot raise; a ``nan`` lr stops a run at once,
where a held value would train on silently at a wrong lr), and an eager call at such a
count (``f(step)`` outside ``jax.jit``) raises ``ValueError``.

Every value the device can give is checked when a binding is made or loaded (and again
the first time it is used in another dtype: JAX's x64 switched, Keras' ``floatx``
changed), as lrkit checks every float64 value it returns (:meth:`Plan.check`): a
compiled step cannot raise, so what the device's dtype cannot hold is refused, with a
``ValueError`` naming the schedule, the value, the dtype and what to do, before the
first step.

* The table: value by value, as rounded to the dtype the device really computes in
  (the jax backend of Keras computes float64 as float32 without ``jax_enable_x64``).
* Where the formula runs (``"formula"``, or past the end of a table of a schedule that
  never turns constant): the schedule's bound :attr:`~lrkit.Schedule.max_value` must be
  :data:`HEADROOM` times below the dtype's largest number (the compiler may compute
  ``(e - s) / (1 - exp(-5))`` before multiplying by a factor below 1: results on the
  way exceed the value), and the formula is compiled as the train step compiles it
  and run at a few thousand counts (every count up to 256, each phase boundary and
  its neighbours, the table's end, powers of two and ten up to the largest count the
  step counter holds, even grids over the phases and after the table): every result
  must be a finite number ``>= 0``, and up to count :data:`COMPARED_UP_TO` (and as far
  past a table's end) within ``max(1e-3, 16 eps)`` of the largest of lrkit's values
  there (lrkit's at the count as the dtype rounds it; the formula's own rounding is far
  smaller). That refuses a parameter the dtype cannot hold which the formula needs
  (``timescale=1e300`` is ``inf`` in float32; ``gamma=0.9999`` is 1 in float16), a
  result on the way past the dtype's range that a ``min`` or a ``where`` hides, and
  counts the dtype turns into ``inf`` (float16 from 65520).
* A schedule that declares no bound (a user's subclass, ``max_value`` ``inf``) is bounded
  by the largest value lrkit gives at those counts, with the same headroom.

A check that passed is remembered for the process (schedules are values), so making
the same binding again costs nothing.

A positive value smaller than the dtype's smallest number is not refused: it becomes
0 (float32: below 1.4e-45, or 1.2e-38 where XLA flushes subnormals; float16: below
6e-8), a learning rate too small to move that dtype's weights in practice (a run
that needs such rates needs a wider dtype: JAX's x64, ``floatx`` float64).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

from . import _check
from ._num import np
from ._traced import NotTraceable, namespace
from .core import Schedule

__all__ = ["Plan", "AUTO_TABLE", "MAX_TABLE", "METHODS"]

AUTO_TABLE = 2_000_000  # positions: 16 MB of float64
MAX_TABLE = 50_000_000  # positions: 400 MB of float64
METHODS = ("auto", "table", "formula")
PROBE_SIZE = 8192  # counts at which Plan.check runs a formula on the device
COMPARED_UP_TO = 4096  # ... and compares its values with lrkit's up to this count
HEADROOM = 256.0  # a formula's bound must be this much below the dtype's largest number
_PASSED: dict[Any, None] = {}  # the checks passed in this process (schedules are values), oldest first
_PASSED_LOCK = threading.Lock()


def _is_number(x: Any) -> bool:
    return isinstance(x, (bool, int, float)) or type(x).__module__ == "numpy" and np.ndim(x) == 0


class Plan:
    """How one schedule is evaluated in a compiled step (see the module docstring)."""

    def __init__(self, schedule: Schedule, total_steps: float | None, method: str, who: str) -> None:
        if not isinstance(schedule, Schedule):
            raise TypeError(
                f"{who}: schedule must be an lrkit Schedule, got {_check.show(schedule)} ({type(schedule).__name__})"
            )
        if method not in METHODS:
            raise ValueError(f"{who}: method must be one of {', '.join(map(repr, METHODS))}, got {method!r}")
        if total_steps is not None:
            if (
                isinstance(total_steps, bool)
                or not isinstance(total_steps, (int, float, np.integer, np.floating))
                or not (1 <= total_steps <= MAX_TABLE)
                or not float(total_steps).is_integer()
            ):
                raise ValueError(
                    f"{who}: total_steps must be a whole number of steps in [1, {MAX_TABLE:,}], got {total_steps!r}"
                )
            total_steps = int(total_steps)
        self.schedule, self.who, self.total_steps = schedule, who, total_steps
        L = schedule.length
        # positions 0 .. n - 1; a schedule constant from L on needs ceil(L) + 1 of them
        own = math.ceil(L) + 1 if math.isfinite(L) else None
        n = total_steps if total_steps is not None else own
        if own is not None and n is not None and own <= n:
            n, self.constant_after = own, True  # every later count is the last value, exactly
        else:
            self.constant_after = False
        self.traceable = self._traceable()
        if method == "auto" and n is None and self.traceable:
            # no length given, a schedule that never turns constant: a table up to its last phase
            # boundary (exact in any dtype; the formula in float32 is not, near a cosine's floor),
            # then the formula
            h = _horizon(schedule)
            if h is not None:
                n = min(math.ceil(h) + 1, AUTO_TABLE)
        if method == "auto":
            method = "table" if not self.traceable or (n is not None and n <= AUTO_TABLE) else "formula"
        if method == "formula" and not self.traceable:
            raise ValueError(
                f"{who}: {_check.show(schedule)} cannot be traced ({self.why}); use method='table' "
                "(the default when the run's length is known)"
            )
        if method == "table":
            if n is None:
                raise ValueError(
                    f"{who}: {_check.show(schedule)} never turns constant and runs Python code "
                    f"({self.why}), which a compiled step cannot call: give total_steps= (the "
                    "run's length) to evaluate it from a table of its values (past the table's end "
                    "the device gives nan, and an eager call raises ValueError)"
                    if not self.traceable
                    else f"{who}: method='table' needs the run's length: give total_steps="
                )
            if n > MAX_TABLE:
                raise ValueError(f"{who}: a table of {n:,} positions is more than {MAX_TABLE:,}; use method='formula'")
            self.table = schedule(np.arange(n, dtype=np.float64))
        self.method, self.n = method, n
        self._cache: dict[Any, Any] = {}
        self._checked: set[Any] = set()

    @property
    def past_end(self) -> str:
        """What the device gives past the table's end: ``"constant"`` (the schedule's last value,
        exactly), ``"formula"`` (the kind's formula), ``"nan"`` (a user's Python function: not
        known there), or ``""`` (no table: the formula everywhere)."""
        if self.method != "table":
            return ""
        return "constant" if self.constant_after else "formula" if self.traceable else "nan"

    def runs(self, dtype: str) -> str:
        """Which method runs, for a ``repr``: ``"formula (float32)"``, ``"table of 1,000 steps,
        then the formula (float32)"``, ..."""
        if self.method == "formula":
            return f"formula ({dtype})"
        head = f"table of {self.n:,} step{'' if self.n == 1 else 's'} ({dtype} rounding of lrkit's values)"
        return {
            "constant": f"{head}, then its last value",
            "formula": f"{head}, then the formula ({dtype})",
            "nan": f"{head}, then nan (a Python function, known only in the table)",
        }[self.past_end]

    def refuse_past_table(self, largest: int) -> None:
        """``ValueError`` if ``largest`` (an eager call's largest step count, known on the host) is past
        the table of a schedule that runs Python code: the device would give nan there."""
        if self.past_end == "nan" and self.n is not None and largest >= self.n:
            raise ValueError(
                f"{self.who}: {_check.show(self.schedule)} runs a Python function, known on the "
                f"device only in its table of {self.n:,} steps (total_steps={self.n:,}); step "
                f"{largest:,} is past it (a compiled step gives nan there): give total_steps= the "
                "run's whole length"
            )

    @property
    def formula_used(self) -> bool:
        """Whether the device runs the formula at some count (else every count reads the table)."""
        return self.method == "formula" or not (self.constant_after or not self.traceable)

    def probe_counts(self, max_count: int) -> Any:
        """The counts :meth:`check` runs the device at (int64, at most ``max_count``, :data:`PROBE_SIZE`).

        Every whole count up to 256, the neighbours of each phase boundary, of the length and
        of the table's end, powers of two and ten (and their neighbours) up to ``max_count``,
        an even grid over the schedule's phases (up to twice the last boundary) and over the
        :data:`COMPARED_UP_TO` counts after a table's end, padded with 0.
        """
        import numpy

        M = int(max_count)
        pts: set[int] = set(range(257))
        k = 1
        while k <= M:
            pts.update((k - 1, k, k + 1, k + k // 2))
            k *= 2
        pts.update(10**e for e in range(19))
        marks = [self.schedule.length, self.n if self.n is not None else math.inf]
        try:
            phases = self.schedule.phases()
        except Exception:  # noqa: BLE001 - the grid and the powers still probe the formula
            phases = []
        if len(phases) > 512:
            phases = [phases[i] for i in numpy.linspace(0, len(phases) - 1, 512).astype(int)]
        for ph in phases:
            marks += [ph.start, ph.end]
        finite = [b for b in marks if math.isfinite(b) and b <= M]
        for b in finite:
            f = math.floor(b)
            pts.update((f - 1, f, f + 1, f + 2))
        hi = min(M, 2 * max(finite, default=0.0) + 4096)
        pts.update(numpy.linspace(0.0, hi, 2049).astype(numpy.int64).tolist())
        if self.n is not None:  # where the formula takes over from the table: compared as the start is
            pts.update((self.n + numpy.linspace(0, COMPARED_UP_TO, 257).astype(numpy.int64)[1:]).tolist())
        out = numpy.array(sorted(p for p in pts if 0 <= p <= M), dtype=numpy.int64)
        # one size (at most 257 + 4 * 64 + 19 + 4 * 1026 + 2049 + 256 points): the library compiles each
        # operation once per shape, and every schedule's probe then reuses it
        return numpy.concatenate([out, numpy.zeros(PROBE_SIZE - len(out), dtype=numpy.int64)])

    def is_checked(self, key: Any) -> bool:
        """Whether :meth:`check` passed under ``key`` (a binding's dtype)."""
        return key in self._checked

    def check(self, key: Any, run: Callable[[Any], Any], max_count: int, fix: Callable[[str], str]) -> None:
        """Refuse (``ValueError``) a schedule whose values the device's dtype cannot hold.

        ``run(counts)`` evaluates the binding on the device at an int64 numpy array of counts,
        compiled as a train step compiles it, at once (also when called inside a trace), and
        returns the results as a numpy array of the dtype the device computed in;
        ``max_count`` is the largest count its step counter holds; ``fix(dtype)`` says what
        to do instead (a wider dtype), or ``""``. Checked once per ``key`` (the binding's
        dtype settings; see the module docstring).
        """
        if key in self._checked:
            return
        memo: Any = (self.schedule, self.method, self.n, key, max_count)
        try:
            with _PASSED_LOCK:
                known = memo in _PASSED
        except TypeError:  # a schedule holding something unhashable: checked every time
            memo, known = None, False
        if known:
            self._checked.add(key)
            return
        import warnings

        import numpy

        counts = self.probe_counts(max_count) if self.formula_used else numpy.zeros(1, dtype=numpy.int64)
        with warnings.catch_warnings(), numpy.errstate(all="ignore"):
            # constants past the dtype's range become inf as the library converts them: checked below
            warnings.simplefilter("ignore", RuntimeWarning)
            got = numpy.asarray(run(counts))
        dt = got.dtype
        name = str(dt)
        big = _largest(dt)
        s, who = _check.show(self.schedule), self.who
        if self.method == "table":
            top = float(self.table.max())
            if not _fits(top, dt):
                with numpy.errstate(over="ignore"):
                    i = int(numpy.flatnonzero(~numpy.isfinite(self.table.astype(dt)))[0])
                raise ValueError(
                    f"{who}: {s} is {float(self.table[i])!r} at step {i}, more than {name} holds "
                    f"(its largest number is {big:.6g}): the device would compute inf; "
                    + _todo(fix(name), "use smaller values")
                )
        if self.formula_used:
            bound = self.schedule.max_value
            if math.isfinite(bound):
                if not bound * HEADROOM <= big:
                    raise ValueError(
                        f"{who}: {s} reaches up to {bound!r} (its max_value), more than its formula can "
                        f"be computed with in {name}: its results on the way need room up to "
                        f"{HEADROOM:g} times the value, and {name}'s largest number is {big:.6g}; "
                        + _todo(fix(name), "use smaller values")
                    )
            else:
                top = max((_value_or_zero(self.schedule, c) for c in set(counts.tolist())), default=0.0)
                if not top * HEADROOM <= big:
                    raise ValueError(
                        f"{who}: {s} declares no bound of its values (max_value is inf) and reaches "
                        f"{top!r}, within {HEADROOM:g} times the largest number {name} holds "
                        f"({big:.6g}): "
                        f"it may overflow on the device; "
                        f"{_todo(fix(name), 'give the class a max_value (a bound of its values)')}"
                    )
        vals = got.astype(numpy.float64)
        bad = ~(numpy.isfinite(vals) & (vals >= 0))
        if bad.any():
            i = int(numpy.flatnonzero(bad)[0])
            raise self._refused(int(counts[i]), float(vals[i]), name, big, fix)
        if self.formula_used:
            self._compare(counts, vals, dt, name, big, fix)
        if memo is not None:
            with _PASSED_LOCK:
                if len(_PASSED) >= 512:
                    _PASSED.pop(next(iter(_PASSED)))
                _PASSED[memo] = None
        self._checked.add(key)

    def _compare(self, counts: Any, vals: Any, dt: Any, name: str, big: float, fix: Callable[[str], str]) -> None:
        """Refuse a formula whose device values early in the run are far from lrkit's (an intermediate
        result past the dtype's range, masked by a min or a where; a parameter the dtype rounds to
        another schedule, as gamma=0.999 is 1.0 in bfloat16): at the counts up to
        :data:`COMPARED_UP_TO` and as many past a table's end (where the formula takes over),
        lrkit's values at the count as the dtype rounds it (and 4 ulps either side), within
        ``max(1e-3, 16 eps)`` of the largest of those values (the formula's rounding is far smaller)."""
        import numpy

        eps = _eps(dt)
        seen: dict[int, float] = {}
        n = self.n if self.method == "table" else None  # the table's end, from where the formula goes on
        for i, c in enumerate(counts.tolist()):
            if (c <= COMPARED_UP_TO or n is not None and n <= c <= n + COMPARED_UP_TO) and c not in seen:
                seen[c] = float(vals[i])
        cs = numpy.array(sorted(seen), dtype=numpy.int64)
        at = cs.astype(numpy.float64).astype(dt).astype(numpy.float64)  # the position the device computes at
        # and a few of the dtype's ulps either side: at a jump (a restart, a milestone) the device's
        # rounding of t / period may fall on the other side of it
        ref = numpy.array(
            [
                [_value_or_nan(self.schedule, float(t) + d * 4 * eps * max(float(t), 1.0)) for d in (-1, 0, 1)]
                for t in at
            ]
        )
        ok = numpy.isfinite(ref).all(axis=1)
        if not ok.any():
            return
        dev = numpy.array([seen[c] for c in cs.tolist()])
        scale = float(numpy.abs(ref[ok]).max())
        lo, hi = ref.min(axis=1), ref.max(axis=1)
        tol = max(1e-3, 16 * eps) * scale + 4 * eps * numpy.abs(hi) + float(_finfo(dt).tiny)
        bad = ok & ~((dev >= lo - tol) & (dev <= hi + tol))
        if bad.any():
            i = int(numpy.flatnonzero(bad)[0])
            raise self._refused(int(cs[i]), float(dev[i]), name, big, fix)

    def _refused(self, c: int, got: float, name: str, big: float, fix: Callable[[str], str]) -> ValueError:
        try:
            ref = repr(self.schedule(float(c)))
        except ValueError as e:
            ref = f"refused ({e})"
        return ValueError(
            f"{self.who}: {_check.show(self.schedule)} evaluated on the device in {name} by its formula "
            f"gives {got!r} at step {c:,} (lrkit: {ref}): {name} cannot hold a number its formula "
            f"needs (a parameter, a result on the way, or the step count itself); "
            + _todo(fix(name), f"keep every parameter well within {name}'s range (its largest number is {big:.6g})")
        )

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
        import numpy

        # A parameter past the dtype's range becomes inf as the library converts it (numpy warns):
        # check() ran the same evaluation and refused whatever that would make inf or nan.
        with numpy.errstate(over="ignore"):
            return self._evaluate(count, xp, dtype, key, convert)

    def host_table(self, key: Any, dtype: Any) -> Any:
        """The table rounded to ``dtype`` (numpy), kept under ``key``; ``None`` without a table."""
        if self.method != "table":
            return None
        host = self._cache.get(key)
        if host is None:
            import numpy

            with numpy.errstate(over="ignore"):  # check() refuses a table the dtype cannot hold
                host = self._cache[key] = numpy.asarray(self.table, dtype=numpy.dtype(dtype))
        return host

    def _evaluate(self, count: Any, xp: Any, dtype: Any, key: Any, convert: Callable[[Any], Any]) -> Any:
        is_traced = lambda x: not _is_number(x)  # noqa: E731
        t = xp.maximum(xp.cast(count, dtype) if hasattr(xp, "cast") else count.astype(dtype), 0.0)
        if self.method == "formula":
            return self.schedule._kernel(t, namespace(xp, dtype, is_traced=is_traced))
        n = self.n
        if n is None:  # method "table" always has its length (__init__ refuses a table without one)
            raise AssertionError(f"{self.who}: a table without a length")
        i = xp.clip(count, 0, n - 1)
        looked = xp.take(convert(self.host_table(key, dtype)), i)
        if self.constant_after:
            return looked  # past the end: constant (exactly)
        if not self.traceable:  # a Python function, not known past its table: nan there (documented)
            return xp.where(count < n, looked, float("nan"))
        beyond = self.schedule._kernel(t, namespace(xp, dtype, is_traced=is_traced))
        return xp.where(count < self.n, looked, beyond)


def _horizon(schedule: Schedule) -> float | None:
    """The last finite phase boundary of a schedule that never turns constant (where its plan
    ends: a cosine's ``total_steps``, the listed cycles), or ``None`` (no finite boundary past 0)."""
    try:
        phases = schedule.phases()
    except Exception:  # noqa: BLE001 - no phases: no table, the formula
        return None
    ends = [b for ph in phases for b in (ph.start, ph.end) if math.isfinite(b) and b > 0]
    return max(ends) if ends else None


def _todo(fix: str, other: str) -> str:
    """What to do: the binding's advice (a wider dtype), or ``other``."""
    return f"{fix}, or {other}" if fix else other


def _value_or_nan(schedule: Schedule, t: float) -> float:
    try:
        return schedule(t)
    except ValueError:
        return math.nan


def _value_or_zero(schedule: Schedule, c: int) -> float:
    """lrkit's value at count ``c``; 0 where lrkit refuses it (the device's result is checked there)."""
    try:
        return schedule(float(c))
    except ValueError:
        return 0.0


def _finfo(dt: Any) -> Any:
    import numpy

    try:
        return numpy.finfo(dt)
    except (TypeError, ValueError):
        import ml_dtypes  # bfloat16 and the other machine-learning floats (installed with jax and keras)

        return ml_dtypes.finfo(dt)


def _largest(dt: Any) -> float:
    """The largest finite number of the float dtype ``dt``."""
    return float(_finfo(dt).max)


def _eps(dt: Any) -> float:
    return float(_finfo(dt).eps)


def _fits(v: float, dt: Any) -> bool:
    """Whether ``v`` rounds to a finite number in ``dt`` (round to nearest: up to half an ulp above the largest)."""
    import numpy

    with numpy.errstate(over="ignore"):
        return bool(numpy.isfinite(numpy.asarray(v, dtype=numpy.float64).astype(dt)))


class _ProbeArray:
    """A stand-in traced array: any arithmetic gives another one, any comparison too."""

    def _op(self, *a: Any) -> _ProbeArray:
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _op
    __pow__ = __rpow__ = __neg__ = __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __abs__ = _op
    __lt__ = __le__ = __gt__ = __ge__ = __and__ = __or__ = __invert__ = _op
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> Any:  # another array, as numpy's (object's gives a bool)
        return self

    __ne__ = __eq__

    def __bool__(self) -> bool:
        raise NotTraceable("a comparison needs a concrete number")

    def __float__(self) -> float:
        raise NotTraceable("a conversion to float needs a concrete number")

    __index__ = __int__ = __float__

    def astype(self, *a: Any) -> _ProbeArray:
        return self


class _ProbeModule:
    """numpy's API on :class:`_ProbeArray`: tells, without a framework, whether a kernel traces."""

    def __getattr__(self, name: str) -> Any:
        def f(*a: Any, **k: Any) -> Any:
            return _ProbeArray()

        return f


_Probe = _ProbeModule()
