"""Schedules as tables: where two schedules differ, and the values written as CSV.

The command line's ``lrkit compare`` and ``lrkit export`` are these functions; use
them directly from Python to check a conversion or write a schedule for a tool of
your own.

>>> import lrkit, numpy as np
>>> a = lrkit.Cosine(peak_lr=0.1, total_steps=100)
>>> b = lrkit.Cosine(peak_lr=0.1, total_steps=100, min_lr=0.001)
>>> d = compare([a, b], np.arange(200.0))[0]
>>> d.first, d.at, d.largest
(1.0, 100.0, 0.001)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TextIO

from ._format import number
from ._num import np
from .core import Schedule, check_schedule

__all__ = [
    "Difference",
    "compare",
    "comparison_table",
    "comparison_report",
    "write_csv",
    "write_columns_csv",
    "distinct_curves",
]


class Difference(NamedTuple):
    """How one schedule differs from a reference over the positions compared.

    ``first`` is the first position where the values differ (``None``: identical
    everywhere), ``largest`` the largest absolute difference and ``at`` where it is,
    ``reference`` and ``value`` the two values there.
    """

    first: float | None
    largest: float
    at: float | None
    reference: float | None
    value: float | None


def compare(schedules: Sequence[Schedule], positions: Any) -> list[Difference]:
    """Each of ``schedules[1:]`` against ``schedules[0]``, position by position (exact comparison)."""
    items = [check_schedule(f"schedules[{i}]", s) for i, s in enumerate(schedules)]
    if len(items) < 2:
        raise ValueError(f"compare needs at least two schedules, got {len(items)}")
    x = np.asarray(positions, dtype=np.float64).ravel()
    ref = items[0](x)
    out = []
    for s in items[1:]:
        y = s(x)
        d = np.abs(y - ref)
        if not np.any(d > 0):
            out.append(Difference(None, 0.0, None, None, None))
            continue
        first, k = int(np.argmax(d > 0)), int(np.argmax(d))
        out.append(Difference(float(x[first]), float(d[k]), float(x[k]), float(ref[k]), float(y[k])))
    return out


def comparison_table(differences: Sequence[Difference]) -> list[str]:
    """The lines of a table of :func:`compare`'s result, one row per schedule (numbered from 2)."""
    rows = [("", "first differs at", "largest |difference|", "at position", "value of 1", "value there")]
    for i, d in enumerate(differences, start=2):
        if d.first is None:
            rows.append((str(i), "identical", "0", "", "", ""))
        elif d.at is None or d.reference is None or d.value is None:
            raise ValueError(
                f"difference {i} starts at {d.first!r} but does not say where it is largest "
                f"and the two values there (at, reference, value): {d!r}"
            )
        else:
            rows.append(
                (str(i), number(d.first), number(d.largest), number(d.at), number(d.reference), number(d.value))
            )
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    return ["  ".join(c.rjust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def comparison_report(schedules: Sequence[Schedule], positions: Any, names: Sequence[str]) -> list[str]:
    """The lines ``lrkit compare`` prints: the schedules numbered from 1 with their ``names``
    (the command line names each by its spec, :func:`lrkit.plot.spec_label`), the positions
    compared, then :func:`comparison_table` of :func:`compare`.

    >>> import lrkit
    >>> print("\\n".join(comparison_report([lrkit.Constant(1.0), lrkit.Linear(1.0, 4)], [0, 1, 2],
    ...                                     ["flat", "linear"])))
    1  flat
    2  linear
    <BLANKLINE>
    compared with 1 over positions 0 .. 2:
    <BLANKLINE>
       first differs at  largest |difference|  at position  value of 1  value there
    2                 1                   0.5            2           1          0.5
    """
    items = list(schedules)
    x = np.asarray(positions, dtype=np.float64).ravel()
    if x.size == 0:
        raise ValueError("positions must hold at least one position, got none")
    differences = compare(items, x)
    labels = [str(n) for n in names]
    if len(labels) != len(items):
        raise ValueError(f"names must name each of the {len(items)} schedules, got {len(labels)}")
    lines = [f"{i + 1}  {name}" for i, name in enumerate(labels)]
    lines += ["", f"compared with 1 over positions {number(x[0])} .. {number(x[-1])}:", ""]
    return lines + comparison_table(differences)


def write_csv(
    out: TextIO,
    schedule: Schedule,
    positions: Any,
    *,
    base_lrs: Sequence[float] | None = None,
    header: bool = True,
    progress: Callable[[int], Any] | None = None,
    chunk: int = 1 << 18,
) -> int:
    """Write ``position,lr`` rows (or ``position,group0,group1,...`` with ``base_lrs``) to ``out``; the row count.

    Values are written with ``repr`` (they read back as the same float64); whole-number
    positions as integers. ``progress(n)`` is called after each block of ``n`` rows.
    """
    s = check_schedule("schedule", schedule)
    x = np.asarray(positions, dtype=np.float64).ravel()
    whole = bool(x.size) and bool(np.all(x == np.floor(x))) and float(np.max(np.abs(x))) < 2.0**53
    if header:
        out.write("position," + (",".join(f"group{i}" for i in range(len(base_lrs))) if base_lrs else "lr") + "\n")
    for i in range(0, x.size, chunk):
        xs = x[i : i + chunk]
        ys = s(xs)
        xt = [str(int(v)) for v in xs.tolist()] if whole else [repr(v) for v in xs.tolist()]
        if base_lrs:
            cols = [(b * ys).tolist() for b in base_lrs]
            rows = [a + "," + ",".join(repr(c[j]) for c in cols) for j, a in enumerate(xt)]
        else:
            rows = [f"{a},{b!r}" for a, b in zip(xt, ys.tolist())]
        out.write("\n".join(rows) + "\n")
        if progress is not None:
            progress(len(rows))
    return int(x.size)


def write_columns_csv(
    out: TextIO,
    columns: dict[str, Schedule],
    positions: Any,
    *,
    header: bool = True,
    progress: Callable[[int], Any] | None = None,
    chunk: int = 1 << 18,
) -> int:
    """Write ``position,<name>,...`` rows, one column per schedule of ``columns`` (the lr of each
    param group and the momentum of one run), as :func:`write_csv` writes its values; the row count.

    >>> import io, lrkit
    >>> buf = io.StringIO()
    >>> write_columns_csv(buf, {"lr": lrkit.Linear(1.0, 2), "momentum": lrkit.Constant(0.9)}, [0, 1])
    2
    >>> print(buf.getvalue(), end="")
    position,lr,momentum
    0,1.0,0.9
    1,0.5,0.9
    """
    if not columns:
        raise ValueError("columns must name at least one schedule")
    scheds = {str(k): check_schedule(f"columns[{k!r}]", v) for k, v in columns.items()}
    bad = [k for k in scheds if not k or any(c in k for c in ',"\n')]
    if bad:
        raise ValueError(f"column names must be non-empty without commas, quotes or line breaks, got {bad!r}")
    x = np.asarray(positions, dtype=np.float64).ravel()
    whole = bool(x.size) and bool(np.all(x == np.floor(x))) and float(np.max(np.abs(x))) < 2.0**53
    if header:
        out.write("position," + ",".join(scheds) + "\n")
    for i in range(0, x.size, chunk):
        xs = x[i : i + chunk]
        cols = [s(xs).tolist() for s in scheds.values()]
        xt = [str(int(v)) for v in xs.tolist()] if whole else [repr(v) for v in xs.tolist()]
        out.write("\n".join(a + "," + ",".join(repr(c[j]) for c in cols) for j, a in enumerate(xt)) + "\n")
        if progress is not None:
            progress(len(xt))
    return int(x.size)


def distinct_curves(curves: dict[str, Schedule], positions: Any) -> list[tuple[list[str], Any]]:
    """The curves' values over ``positions``, equal curves once with all their names
    (the weights' and BN weights' lr of an ultralytics run).

    >>> import lrkit
    >>> [names for names, _ in distinct_curves({"a": lrkit.Constant(1.0), "b": lrkit.Constant(1.0),
    ...                                         "c": lrkit.Constant(2.0)}, [0, 1])]
    [['a', 'b'], ['c']]
    """
    x = np.asarray(positions, dtype=np.float64)
    out: list[tuple[list[str], Any]] = []
    for name, sch in curves.items():
        y = np.asarray(sch(x), dtype=np.float64)
        for names, prev in out:
            if np.array_equal(prev, y):
                names.append(name)
                break
        else:
            out.append(([name], y))
    return out
