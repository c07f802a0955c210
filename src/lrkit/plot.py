"""Drawing schedules with matplotlib (``pip install 'lrkit[plot]'``).

matplotlib is imported only when a drawing function runs, so ``import lrkit``
stays light. :func:`plot_schedule` draws on a given Axes (or the current pyplot
Axes); :func:`save_plot` renders straight to a file through the Agg canvas
without touching pyplot's global state or needing a display.

>>> import lrkit
>>> from lrkit.plot import plot_schedule
>>> s = lrkit.WarmupCosine(peak_lr=0.1, total_steps=1000, warmup_steps=100)
>>> ax = plot_schedule(s, 1100)            # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import math
import os
import textwrap
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._format import number
from .core import Phase, Schedule, registered

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "plot_schedule",
    "plot_schedules",
    "save_plot",
    "save_overlay",
    "save_series",
    "series_figure",
    "run_figure",
    "save_run",
    "figure",
    "positions",
    "default_steps",
    "spec_label",
    "key_points",
    "sampled_positions",
    "check_picture",
    "MAX_POSITIONS",
    "SAMPLE_ABOVE",
    "SAMPLES",
    "MAX_MARKS",
    "MAX_PIXELS",
    "MAX_DPI",
]

#: The rows of phase names drawn on each Axes so far: an overlay drawn later keeps their room.
_LABEL_ROWS: weakref.WeakKeyDictionary[Axes, int] = weakref.WeakKeyDictionary()


def _root_figure(ax: Axes) -> Figure:
    """The top-level figure ``ax`` is drawn in (``figure`` of a Figure is the Figure itself,
    of a SubFigure the Figure that holds it)."""
    return ax.figure.figure


_LABEL_FONTSIZE = 8
_FEW_POINTS = 120  # up to this many positions, draw held values (stairs) rather than a line
_BOUNDARY = "lrkit-phase-boundary"  # gid of boundary lines, so they are not taken for data


def _matplotlib() -> Any:
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("plotting needs matplotlib: pip install 'lrkit[plot]'") from None
    return matplotlib


# -- what to evaluate ---------------------------------------------------------------------
def default_steps(schedule: Schedule, run_steps: float | None = None) -> int:
    """How many positions to show: a tenth past the schedule's end (where it turns constant,
    else where its last phase starts), or 1000 if it has no such point. A schedule without
    an end (``length`` infinite) is shown over ``ceil(run_steps)`` when the run's length is given.

    >>> import lrkit
    >>> default_steps(lrkit.Cosine(0.1, 300)), default_steps(lrkit.Step(0.1, 10), run_steps=250.5)
    (330, 251)
    """
    n = schedule.length
    if not (math.isfinite(n) and n > 0):
        n = max((p.start for p in schedule.phases() if math.isfinite(p.start)), default=0.0)
    if math.isfinite(n) and n > 0:
        shown = max(2, math.ceil(n * 1.1))
    else:
        shown = 1000
    if run_steps is not None and not math.isfinite(schedule.length):
        shown = math.ceil(run_steps)
    return shown


#: More positions than this is almost certainly a typo, and would need gigabytes.
MAX_POSITIONS = 50_000_000
#: A picture of more positions than this is drawn from :func:`sampled_positions`
#: (``SAMPLES`` of them, with every phase boundary kept, at most ``MAX_MARKS`` of those).
SAMPLE_ABOVE = 200_000
SAMPLES = 20_000
MAX_MARKS = 20_000


def sampled_positions(schedule: Schedule, n: int, k: int = 1, samples: int = SAMPLES) -> np.ndarray:
    """About ``samples`` of the positions ``0, 1/k, ..., n - 1/k``, evenly spread, plus each
    phase boundary below ``n`` and the grid position just before it (so every jump and
    turn is drawn where it is), and the last position. Enough for any picture; the
    values at these positions are exact.

    >>> import lrkit
    >>> x = sampled_positions(lrkit.Step(0.1, 1_000_000, 0.5), 40_000_000, samples=100)
    >>> x.size < 200, 999_999.0 in x, 1_000_000.0 in x, float(x[-1])
    (True, True, True, 39999999.0)
    """
    grid = n * k  # grid index i is position i / k
    idx = np.linspace(0, grid - 1, samples).round().astype(np.int64)
    marks: list[int] = []
    for p in schedule.phases():
        if len(marks) >= 2 * MAX_MARKS:
            break
        if 0 < p.start < n:
            j = math.ceil(p.start * k)
            marks += [j - 1, j]
    # a stepwise phase (step, multistep) has no phase per drop: its drops are every step_size
    size = getattr(schedule, "step_size", None)
    if isinstance(size, float) and size > 0 and n / size <= MAX_MARKS:
        drops = np.arange(1, math.ceil(n / size)) * size
        j = np.ceil(drops * k).astype(np.int64)
        marks += (j - 1).tolist() + j.tolist()
    for m in getattr(schedule, "milestones", ())[:MAX_MARKS]:
        if 0 < m < n:
            j = math.ceil(m * k)
            marks += [j - 1, j]
    idx = np.unique(np.concatenate([idx, np.asarray(marks, dtype=np.int64)]))
    idx = idx[(idx >= 0) & (idx < grid)]
    return idx / k


def positions(steps: int, subdivide: int = 1) -> np.ndarray:
    """Positions ``0, 1/k, 2/k, ...`` below ``steps`` (``k = subdivide``), as float64.

    >>> positions(2, subdivide=2).tolist()
    [0.0, 0.5, 1.0, 1.5]
    """
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a whole number >= 1, got {steps!r}")
    if isinstance(subdivide, bool) or not isinstance(subdivide, (int, np.integer)) or subdivide < 1:
        raise ValueError(f"subdivide must be a whole number >= 1, got {subdivide!r}")
    # integer counts divided once, so position i/k is exactly what a user would compute
    return np.arange(int(steps) * int(subdivide), dtype=np.float64) / int(subdivide)


# -- a readable name for a schedule ------------------------------------------------------------
def spec_label(schedule: Schedule) -> str:
    """A one-line description, ``kind(param=value, ...)``, leaving out default values.

    >>> import lrkit
    >>> spec_label(lrkit.Cosine(peak_lr=0.1, total_steps=100))
    'cosine(peak_lr=0.1, total_steps=100)'
    """
    try:
        spec = schedule.to_dict()
    except TypeError:
        return repr(schedule)
    return _label(spec)


def _label(spec: Any) -> str:
    if isinstance(spec, dict) and "type" in spec:
        cls = registered().get(spec["type"])
        defaults = {}
        if cls is not None:
            defaults = {
                k: p.default
                for k, p in inspect.signature(cls.__init__).parameters.items()
                if p.default is not inspect.Parameter.empty
            }
        args = [
            f"{k}={_label(v)}" for k, v in spec.items() if k != "type" and not (k in defaults and _same(defaults[k], v))
        ]
        return f"{spec['type']}({', '.join(args)})"
    if isinstance(spec, (list, tuple)):
        return "[" + ", ".join(_label(v) for v in spec) + "]"
    if isinstance(spec, float):
        return f"{spec:g}"
    return str(spec)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # pragma: no cover - exotic defaults
        return False


# -- drawing -----------------------------------------------------------------------------------
def plot_schedule(
    schedule: Schedule,
    steps: int | Sequence[float] | np.ndarray | None = None,
    ax: Axes | None = None,
    *,
    subdivide: int = 1,
    label: str | None = None,
    log: bool = False,
    phases: bool = True,
    title: str | bool | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    steps_per_epoch: float | None = None,
    groups: Sequence[float] | None = None,
    annotate: bool = False,
    values: np.ndarray | None = None,
    run_end: float | None = None,
    **line_kw: Any,
) -> Axes:
    """Draw ``schedule`` on ``ax`` (default: pyplot's current Axes) and return the Axes.

    ``steps`` is a number of positions (``0 .. steps-1``, each split into
    ``subdivide`` points) or an explicit sorted array of positions; by default a
    tenth past the schedule's end. Phase boundaries are drawn as dashed lines with
    the phase names on top. ``title=True`` uses :func:`spec_label`. ``log`` uses a
    log y axis. With few positions each value is drawn held until the next one
    (``drawstyle="steps-post"``); with many, a line whose jumps at discontinuous phase
    starts are upright. Extra keywords go to ``Axes.plot`` (colour, line width, ...); call
    again on the same Axes with ``phases=False`` to overlay more curves.

    ``steps_per_epoch`` (positions per epoch) draws the x axis in epochs. ``groups`` (base
    lrs) draws one line per param group, ``base * schedule``, with a legend.
    ``annotate`` marks and labels the key points: the peak, the restarts (upward
    jumps), the start of a flat tail and the final value. ``values`` are
    ``schedule(positions)`` when already computed. Very long curves are drawn from
    the minimum and maximum of each small run of positions, so jumps stay visible.
    ``run_end`` (the run's length in positions, when known) marks where training ends:
    positions past it are shaded and named as such, and the last trained value is
    labelled instead of the last one drawn.
    """
    if isinstance(steps, (int, np.integer)) or steps is None:
        x = positions(default_steps(schedule) if steps is None else steps, subdivide)
    else:
        x = np.asarray(steps, dtype=np.float64).ravel()
        if x.size == 0 or np.any(np.diff(x) < 0):
            raise ValueError("positions to plot must be a non-empty, sorted array")
    if values is None:
        y = schedule(x)
    else:
        y = np.asarray(values, dtype=np.float64).ravel()
        if y.shape != x.shape:
            raise ValueError(f"values must hold one value per position: {y.size} values for {x.size} positions")
    if steps_per_epoch is not None and not (steps_per_epoch > 0 and math.isfinite(steps_per_epoch)):
        raise ValueError(f"steps_per_epoch must be a finite number > 0 (positions per epoch), got {steps_per_epoch!r}")
    bases = [1.0] if groups is None else [float(b) for b in groups]
    if not bases or any(not (b > 0 and math.isfinite(b)) for b in bases):
        raise ValueError(f"groups must be base learning rates > 0, one per param group, got {groups!r}")
    if ax is None:
        _matplotlib()
        import matplotlib.pyplot as plt

        ax = plt.gca()
    log = log or ax.get_yscale() == "log"  # an overlay keeps the scale it is drawn on
    if log and not np.any(y > 0):
        raise ValueError("log scale needs positive values, but every value is <= 0")

    k = 1.0 if steps_per_epoch is None else float(steps_per_epoch)
    sched_phases = schedule.phases()
    line_kw.setdefault("linewidth", 1.6)
    if x.size == 1:
        line_kw.setdefault("marker", "o")
    px, py = x, y
    if "drawstyle" not in line_kw:
        if x.size <= _FEW_POINTS:
            # few positions: each value holds until the next position, as in training
            line_kw["drawstyle"] = "steps-post"
        else:  # many: a line, but a jump is drawn upright instead of as a slope between two samples
            px, py = _with_jumps(*_decimate(x, y), sched_phases)
    for i, base in enumerate(bases):
        kw = dict(line_kw)
        lab = label
        if groups is not None:
            kw.setdefault("color", f"C{i % 10}")
            lab = f"group {i}: {base:g} x schedule" if label is None else f"{label}, group {i}"
        ax.plot(px / k, py * base if groups is not None else py, label=lab, **kw)
    if xlabel is None:
        xlabel = "epoch" if steps_per_epoch is not None else "step"
    # a multiplier of the base lr (CAWB, torchvision warmup) is said as one
    y_label: str = ylabel if ylabel is not None else "learning rate" if groups is not None else schedule.value_name
    ax.set_xlabel(xlabel)
    ax.set_ylabel(y_label)
    ax.grid(True, alpha=0.3, linewidth=0.6)
    if x[-1] > x[0]:
        # a little room on the right: the last value's marker is drawn whole
        ax.set_xlim(float(x[0]) / k, (float(x[-1]) + 0.02 * float(x[-1] - x[0])) / k)
    if log:
        ax.set_yscale("log")
    else:
        _plain_ticks(ax)
    if steps_per_epoch is not None and (x[-1] - x[0]) / k >= 4:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    shown = [p._replace(start=p.start / k, end=p.end / k) for p in sched_phases]
    rows = _mark_phases(ax, shown, float(x[0]) / k, float(x[-1]) / k) if phases else 0
    # overlays drawn later must keep the room made for the names drawn earlier
    rows = max(rows, _LABEL_ROWS.get(ax, 0))
    _LABEL_ROWS[ax] = rows
    _fit_ylim(ax, [ln for ln in ax.lines if ln.get_gid() not in (_BOUNDARY, _KEY)], log=log, label_rows=rows)
    if title is True:
        title = spec_label(schedule)
    if title:
        ax.set_title(_wrap(str(title), ax), fontsize=10)
    if groups is not None:
        ax.legend(fontsize=8, loc="best", framealpha=0.9)
    end = None
    if run_end is not None:
        if not (isinstance(run_end, (int, float)) and run_end > 0 and math.isfinite(run_end)):
            raise ValueError(f"run_end must be a finite number of positions > 0, got {run_end!r}")
        if x[0] < run_end < x[-1]:
            end = float(run_end)
            _mark_run_end(ax, end / k, float(x[-1]) / k)
    if annotate:
        b0 = bases[0] if groups is not None else 1.0
        _annotate(ax, key_points(schedule, x, y, sched_phases, run_end=end), k, b0, px / k, py * b0)
    return ax


def _mark_run_end(ax: Axes, end: float, last: float) -> None:
    """A solid line where training ends and the positions past it shaded, named as not trained."""
    ax.axvline(end, color="0.25", linewidth=1.0, zorder=1, gid=_BOUNDARY)
    ax.axvspan(end, last, color="0.5", alpha=0.12, linewidth=0, zorder=0)
    ax.text(
        (end + last) / 2,
        0.5,
        "past the run's end",
        transform=ax.get_xaxis_transform(),
        rotation=90,
        ha="center",
        va="center",
        fontsize=8,
        color="0.3",
        gid=_RUN_END,
    )


def _plain_ticks(ax: Axes) -> None:
    """Linear y ticks written out (0.002, not 2 with a '1e-3' offset far away in the corner)."""
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:.4g}"))


_DECIMATE_ABOVE = 20_000  # more samples than pixels: keep each run's first, min, max and last


def _decimate(x: np.ndarray, y: np.ndarray, runs: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """At most ``4 * runs`` samples with the same look: each run keeps its first, lowest, highest and last."""
    n = x.size
    if n <= _DECIMATE_ABOVE:
        return x, y
    size = -(-n // runs)
    m = -(-n // size)
    pad = m * size - n
    yy = np.concatenate([y, np.full(pad, y[-1])]).reshape(m, size)
    base = np.arange(m) * size
    idx = np.concatenate([base, base + yy.argmin(axis=1), base + yy.argmax(axis=1), np.minimum(base + size - 1, n - 1)])
    idx = np.unique(np.minimum(idx, n - 1))
    return x[idx], y[idx]


# -- key points ----------------------------------------------------------------------------------
_KEY = "lrkit-key-point"  # gid of key-point markers
_RUN_END = "lrkit-run-end"  # gid of the "past the run's end" label
_RESTART_JUMP = 0.25  # an upward step of at least this share of the value range counts as a restart
_MAX_RESTART_LABELS = 3


def key_points(
    schedule: Schedule,
    x: np.ndarray,
    y: np.ndarray,
    phases: Sequence[Phase] | None = None,
    *,
    run_end: float | None = None,
) -> list[tuple[str, float, float]]:
    """The points worth a label, as ``(kind, position, value)``: ``"peak"``, ``"restart"``,
    ``"flat"``, ``"final"`` (or ``"end"``).

    The peak is the first largest value; restarts are upward jumps after it of at
    least a quarter of the value range between neighbouring samples; ``"flat"`` is
    where the last phase, constant for ever, starts (inside the range); ``"final"``
    is the last sample. With ``run_end`` (where training ends) inside the samples,
    only the samples before it count, and ``"end"`` is the last of them: the last
    trained value.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    out: list[tuple[str, float, float]] = []
    last_kind = "final"
    if run_end is not None and x.size and x[0] < run_end <= x[-1]:
        keep = x < run_end
        x, y, last_kind = x[keep], y[keep], "end"
    if x.size == 0:
        return out
    i = int(np.argmax(y))
    out.append(("peak", float(x[i]), float(y[i])))
    rng = float(y.max() - y.min())
    if rng > 0 and x.size > 2:
        d = np.diff(y[i:])
        for j in np.flatnonzero(d > _RESTART_JUMP * rng)[:50]:
            out.append(("restart", float(x[i + j + 1]), float(y[i + j + 1])))
    ph = schedule.phases() if phases is None else phases
    last = ph[-1]
    if last.end == math.inf and last.end_value == last.start_value and x[0] < last.start <= x[-1] and len(ph) > 1:
        out.append(("flat", float(last.start), float(last.start_value)))
    if x[-1] != x[i] or last_kind == "end":
        out.append((last_kind, float(x[-1]), float(y[-1])))
    return out


def _num(v: float) -> str:
    return number(v, digits=4)


def _annotate(
    ax: Axes, points: list[tuple[str, float, float]], k: float, base: float, cx: np.ndarray, cy: np.ndarray
) -> None:
    """Mark the key points and label them where a label overlaps neither another label nor the curve."""
    if not points:
        return
    fig = ax.figure
    # get_renderer is the Agg canvas' (what lrkit draws with), not in FigureCanvasBase's stubs
    renderer = fig.canvas.get_renderer()  # pyright: ignore[reportAttributeAccessIssue]
    box = ax.get_window_extent(renderer)
    taken = [t.get_window_extent(renderer) for t in ax.texts]
    leg = ax.get_legend()
    if leg is not None:
        taken.append(leg.get_window_extent(renderer))
    curve = ax.transData.transform(np.column_stack([cx, cy]))
    curve = curve[np.all(np.isfinite(curve), axis=1)]
    restarts = 0
    for kind, pos, val in points:
        xd, yd = pos / k, val * base
        ax.plot(
            [xd],
            [yd],
            marker="^" if kind == "restart" else "o",
            markersize=4,
            color="0.15",
            linestyle="none",
            zorder=4,
            gid=_KEY,
        )
        if kind == "restart":
            restarts += 1
            if restarts > _MAX_RESTART_LABELS:
                continue
        where = _num(pos / k)
        text = {
            "peak": f"peak {val * base:.3g} at {where}",
            "restart": f"restart at {where}",
            "flat": f"flat {val * base:.3g} from {where}",
            "final": f"final {val * base:.3g}",
            "end": f"end of run: {val * base:.3g} at {where}",
        }[kind]
        best = None
        for dx, dy, ha in (
            (8, 8, "left"),
            (-8, 8, "right"),
            (8, -16, "left"),
            (-8, -16, "right"),
            (8, 22, "left"),
            (-8, 22, "right"),
            (8, -30, "left"),
            (-8, -30, "right"),
        ):
            style: dict[str, Any] = dict(
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va="bottom",
                fontsize=7.5,
                color="0.1",
                zorder=5,
                gid=_KEY,
                bbox=dict(boxstyle="round,pad=0.2", facecolor="white", edgecolor="0.7", alpha=0.9),
            )
            # measured without its leader line: a point on the axes' edge (a value at the bottom
            # of the y range) can still be labelled
            probe = ax.annotate(text, (xd, yd), **style)
            ext = probe.get_window_extent(renderer).expanded(1.04, 1.1)
            probe.remove()
            t = ax.annotate(
                text,
                (xd, yd),
                arrowprops=dict(arrowstyle="-", color="0.5", linewidth=0.6, shrinkA=0, shrinkB=2),
                **style,
            )
            inside = box.x0 <= ext.x0 and ext.x1 <= box.x1 and box.y0 <= ext.y0 and ext.y1 <= box.y1
            whole = t.get_window_extent(renderer).expanded(1.04, 1.1)  # its leader line too
            if not inside or any(whole.overlaps(o) for o in taken):
                t.remove()
                continue
            hits = int(
                np.count_nonzero(
                    (curve[:, 0] >= ext.x0)
                    & (curve[:, 0] <= ext.x1)
                    & (curve[:, 1] >= ext.y0)
                    & (curve[:, 1] <= ext.y1)
                )
            )
            if best is None or hits < best[0]:
                if best is not None:
                    best[1].remove()
                best = (hits, t, whole)
                if hits == 0:
                    break
            else:
                t.remove()
        if best is not None:
            taken.append(best[2])


def _with_jumps(x: np.ndarray, y: np.ndarray, phases: Sequence[Phase]) -> tuple[np.ndarray, np.ndarray]:
    """Add a point (start, value before it) at each jump, so a jump is drawn upright:
    each discontinuous phase start inside the range, and each sample where the curve
    steps while it is flat on both sides (a step decay's drops inside one phase)."""
    at = {p.start for p in phases if not p.continuous and x[0] < p.start <= x[-1]}
    if x.size >= 3:
        d = np.diff(y)
        flat = np.abs(d) <= 1e-12 * max(float(np.max(np.abs(y))), 1e-300)
        # a change between two flat stretches (or a flat stretch and an end): a drop
        before = np.concatenate(([True], flat[:-1]))
        after = np.concatenate((flat[1:], [True]))
        steps = np.flatnonzero(~flat & before & after) + 1  # the sample that takes the new value
        at.update(float(v) for v in x[steps])
    at = sorted(a for a in at if x[0] < a <= x[-1])
    if not at:
        return x, y
    idx = np.searchsorted(x, at)  # first sample at or after each jump
    return np.insert(x, idx, at), np.insert(y, idx, y[idx - 1])


def plot_schedules(
    schedules: dict[str, Schedule],
    steps: int | Sequence[float] | np.ndarray | None = None,
    ax: Axes | None = None,
    *,
    subdivide: int = 1,
    log: bool = False,
    title: str | None = None,
    legend_below: bool = False,
    **kw: Any,
) -> Axes:
    """Several schedules on one Axes, labelled by their keys, with a legend; returns the Axes.

    Phase boundaries are not drawn (each schedule has its own). ``steps`` defaults
    to the longest of the defaults of :func:`plot_schedule`.
    """
    if not schedules:
        raise ValueError("plot_schedules needs at least one schedule")
    if steps is None:
        steps = max(default_steps(s) for s in schedules.values())
    styles = ("-", "--", "-.", ":")  # equal curves stay visible on top of each other
    for i, (name, s) in enumerate(schedules.items()):
        ax = plot_schedule(
            s,
            steps,
            ax,
            subdivide=subdivide,
            log=log,
            phases=False,
            label=name,
            color=f"C{i % 10}",
            linestyle=styles[i % len(styles)],
            **kw,
        )
    assert ax is not None
    if legend_below:  # long spec labels: under the axes, not over the curves
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0.0, -0.14), frameon=False)
    else:
        ax.legend(fontsize=8, loc="best", framealpha=0.9)
    if title:
        ax.set_title(_wrap(str(title), ax), fontsize=10)
    return ax


def _wrap(text: str, ax: Axes) -> str:
    # a 10 pt character is about 6 pt wide on average (DejaVu Sans, mostly lower case, digits and
    # punctuation): wrap a long nested spec to the figure's width, with a margin
    width_pt = _root_figure(ax).get_figwidth() * 72 * 0.92
    return "\n".join(textwrap.wrap(text, max(30, int(width_pt / 6.2)), break_long_words=False, break_on_hyphens=False))


def _fit_ylim(ax: Axes, lines: Sequence[Any], *, log: bool, label_rows: int) -> None:
    """Y range from the data (from 0 on a linear axis), with room on top for the phase names."""
    ys = [np.asarray(line.get_ydata(), dtype=np.float64) for line in lines]
    y = np.concatenate(ys) if ys else np.zeros(0)
    y = y[np.isfinite(y) & (y > 0)] if log else y[np.isfinite(y)]
    if y.size == 0:
        return
    lo, hi = float(y.min()), float(y.max())
    # fraction of the axes height kept free above the curve for the phase names
    room = 0.04 + 0.075 * label_rows
    if log:
        llo, lhi = math.log10(lo), math.log10(hi)
        if lhi == llo:
            llo, lhi = llo - 0.5, lhi + 0.5
        span = (lhi - llo) / (1 - room - 0.04)
        ax.set_ylim(10 ** (llo - 0.04 * span), 10 ** (llo - 0.04 * span + span))
    else:
        lo = min(lo, 0.0)
        if hi == lo:
            hi = lo + 1.0 if lo == 0 else lo + abs(lo)
        ax.set_ylim(lo, lo + (hi - lo) / (1 - room))


def _mark_phases(ax: Axes, phases: Sequence[Phase], x0: float, x1: float) -> int:
    """Dashed lines at the interior phase boundaries and the names on top; returns label rows used."""
    from matplotlib.transforms import blended_transform_factory

    shown = [p for p in phases if p.start < x1 or (p.start == x0 == x1)]
    for p in shown:
        if x0 < p.start < x1:
            ax.axvline(p.start, color="0.45", linestyle="--", linewidth=0.8, zorder=1, gid=_BOUNDARY)
    if len(phases) < 2:  # a single-phase schedule: naming it is the title's job
        return 0
    fig = _root_figure(ax)
    try:
        # get_renderer is the Agg canvas' (what lrkit draws with), not in FigureCanvasBase's stubs
        renderer = fig.canvas.get_renderer()  # pyright: ignore[reportAttributeAccessIssue]
    except AttributeError:  # pragma: no cover - non-Agg canvases
        renderer = None
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    if renderer is not None and fig.get_layout_engine() is not None:
        fig.draw_without_rendering()  # settle the layout first: labels are kept inside the final axes
    box = ax.get_window_extent(renderer) if renderer is not None else None
    rows: list[list[tuple[float, float]]] = [[], [], []]
    used = 0
    for p in shown:
        a, b = max(p.start, x0), min(p.end, x1)
        mid = (a + b) / 2
        t = ax.text(
            mid,
            0.985,
            p.name,
            transform=trans,
            ha="center",
            va="top",
            fontsize=_LABEL_FONTSIZE,
            color="0.25",
            zorder=3,
            clip_on=False,
            bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.85),
        )
        if renderer is None or box is None:
            used = max(used, 1)
            continue
        ext = t.get_window_extent(renderer)
        w, h = ext.width + 10, ext.height + 2  # the text plus its padded box
        cx = trans.transform((mid, 0.5))[0]  # (not transData: y=0 is -inf on a log axis)
        span_lo, span_hi = trans.transform((a, 0.5))[0], trans.transform((b, 0.5))[0]
        for k, row in enumerate(rows):
            # centred on its phase if free; else just right of the label in the way, if that
            # is still over the phase
            tries = [cx] + [rb + w / 2 for _, rb in row if span_lo <= rb + w / 2 <= span_hi]
            spot = next((c for c in tries if _free(row, _inside(c, w, box))), None)
            if spot is not None:
                lo, hi = _inside(spot, w, box)
                row.append((lo, hi))
                xd = trans.inverted().transform(((lo + hi) / 2, 0.5))[0]
                t.set_position((xd, 0.985 - k * (h / box.height)))
                used = max(used, k + 1)
                break
        else:  # no room on any row: the phase table (lrkit show) still lists it
            t.remove()
    return used


def _inside(cx: float, w: float, box: Any) -> tuple[float, float]:
    """Pixel interval of a label of width ``w`` centred near ``cx``, kept inside the axes."""
    cx = min(max(cx, box.x0 + w / 2), box.x1 - w / 2)
    return cx - w / 2, cx + w / 2


def _free(row: Sequence[tuple[float, float]], span: tuple[float, float]) -> bool:
    lo, hi = span
    return all(hi <= ra or lo >= rb for ra, rb in row)


# -- whole figures -------------------------------------------------------------------------------
def figure(size: tuple[float, float] = (8.0, 4.5), dpi: float = 100) -> Figure:
    """A new Figure on the Agg canvas (no pyplot, no display needed); ``size`` x ``dpi`` at
    most :data:`MAX_PIXELS` pixels."""
    _check_pixels(size, dpi)
    _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _style(size: Any, font_size: float | None) -> Any:
    """Checks the figure size (inches) and opens matplotlib's settings for ``font_size`` (points)."""
    import contextlib

    if (
        not isinstance(size, (tuple, list))
        or len(size) != 2
        or not all(isinstance(v, (int, float)) and 1 <= v <= 50 for v in size)
    ):
        raise ValueError(f"size must be (width, height) in inches, each between 1 and 50, got {size!r}")
    if font_size is None:
        return contextlib.nullcontext()
    if not (isinstance(font_size, (int, float)) and 4 <= font_size <= 40):
        raise ValueError(f"font_size must be a number of points between 4 and 40, got {font_size!r}")
    _matplotlib()
    import matplotlib

    return matplotlib.rc_context({"font.size": font_size})


def save_plot(
    schedule: Schedule,
    path: str | os.PathLike[str],
    steps: int | Sequence[float] | np.ndarray | None = None,
    *,
    subdivide: int = 1,
    log: bool = False,
    title: str | bool | None = True,
    size: tuple[float, float] = (8.0, 4.5),
    dpi: float = 150,
    annotate: bool = True,
    font_size: float | None = None,
    **kw: Any,
) -> str:
    """Draw ``schedule`` into a PNG, SVG or PDF file (chosen by the extension); returns the path.

    Key points are labelled (``annotate``); ``size`` is the figure's (width, height) in
    inches and ``font_size`` the base font size in points (matplotlib's default 10);
    other keywords go to :func:`plot_schedule`.
    """
    with _style(size, font_size):
        _check_pixels(size, dpi)
        return _save_plot(
            schedule,
            path,
            steps,
            subdivide=subdivide,
            log=log,
            title=title,
            size=size,
            dpi=dpi,
            annotate=annotate,
            **kw,
        )


def _save_plot(
    schedule: Schedule,
    path: str | os.PathLike[str],
    steps: Any,
    *,
    subdivide: int,
    log: bool,
    title: str | bool | None,
    size: tuple[float, float],
    dpi: float,
    annotate: bool,
    **kw: Any,
) -> str:
    path = os.fspath(path)
    w, h = size
    fig = figure((w, h))
    _check_format(fig, path)
    ax = fig.add_subplot()
    if title:  # the title first, so the layout leaves it its room before labels are placed
        ax.set_title(_wrap(spec_label(schedule) if title is True else str(title), ax), fontsize=10)
        fig.canvas.draw()
    plot_schedule(schedule, steps, ax, subdivide=subdivide, log=log, title=title, annotate=annotate, **kw)
    _save(fig, path, dpi)
    return path


def save_overlay(
    schedules: dict[str, Schedule],
    path: str | os.PathLike[str],
    steps: int | Sequence[float] | np.ndarray | None = None,
    *,
    subdivide: int = 1,
    log: bool = False,
    title: str | None = None,
    size: tuple[float, float] = (8.0, 4.5),
    dpi: float = 150,
    font_size: float | None = None,
    mark_largest: bool = True,
) -> str:
    """:func:`plot_schedules` into a PNG, SVG or PDF file; returns the path.

    With ``mark_largest`` each schedule after the first is marked (a ring on both curves
    and a dotted line between them) where it differs most from the first.
    """
    with _style(size, font_size):
        _check_pixels(size, dpi, (size[0], size[1] + 0.25 * len(schedules)))
        path = os.fspath(path)
        fig = figure((size[0], size[1] + 0.25 * len(schedules)))
        _check_format(fig, path)
        ax = fig.add_subplot()
        labels = {"\n".join(textwrap.wrap(k, 70, break_long_words=False)): v for k, v in schedules.items()}
        plot_schedules(labels, steps, ax, subdivide=subdivide, log=log, title=title, legend_below=True)
        if mark_largest and len(schedules) > 1:
            _mark_largest(ax, list(schedules.values()), steps, subdivide)
        _save(fig, path, dpi)
    return path


def save_series(
    curves: dict[str, Schedule],
    path: str | os.PathLike[str],
    steps: Any,
    *,
    secondary: dict[str, Schedule] | None = None,
    secondary_label: str = "momentum",
    marks: Sequence[tuple[str, float]] = (),
    log: bool = False,
    title: str | None = None,
    steps_per_epoch: float | None = None,
    size: tuple[float, float] = (8.0, 4.5),
    dpi: float = 150,
    font_size: float | None = None,
) -> str:
    """Several named curves of one run into a PNG, SVG or PDF file; returns the path.

    ``curves`` (the lr of each param group) share the left axis; ``secondary`` curves
    (the momentum) are drawn dotted against a right axis labelled ``secondary_label``.
    Curves equal to an earlier one at every position are drawn once, their names joined
    in the legend. ``marks`` are ``(name, position)`` lines (the warmup's end);
    ``steps_per_epoch`` puts the x axis in epochs.
    """
    with _style(size, font_size):
        _check_pixels(size, dpi, (size[0], size[1] + 0.2 * (len(curves) + len(secondary or {}))))
        path = os.fspath(path)
        fig = series_figure(
            curves,
            steps,
            secondary=secondary,
            secondary_label=secondary_label,
            marks=marks,
            log=log,
            title=title,
            steps_per_epoch=steps_per_epoch,
            size=size,
            path=path,
        )
        _save(fig, path, dpi)
    return path


def series_figure(
    curves: dict[str, Schedule],
    steps: Any,
    *,
    secondary: dict[str, Schedule] | None = None,
    secondary_label: str = "momentum",
    marks: Sequence[tuple[str, float]] = (),
    log: bool = False,
    title: str | None = None,
    steps_per_epoch: float | None = None,
    size: tuple[float, float] = (8.0, 4.5),
    path: str | None = None,
) -> Figure:
    """The Figure :func:`save_series` draws (the lr axis first, the secondary axis second)."""
    if not curves:
        raise ValueError("curves must name at least one schedule")
    fig = figure((size[0], size[1] + 0.2 * (len(curves) + len(secondary or {}))))
    if path is not None:
        _check_format(fig, path)
    ax = fig.add_subplot()
    x = np.asarray(steps, dtype=np.float64)
    k = float(steps_per_epoch) if steps_per_epoch else 1.0
    xs = x / k
    handles = []
    for side, group in ((ax, curves), (None, secondary or {})):
        if not group:
            continue
        if side is None:
            side = ax.twinx()
            side.set_ylabel(secondary_label)
        from .tables import distinct_curves

        for i, (names, y) in enumerate(distinct_curves(group, x)):
            color = f"C{(i + (len(curves) if group is not curves else 0)) % 10}"
            (line,) = side.plot(
                xs,
                y,
                color=color,
                linewidth=1.6,
                label=" = ".join(names),
                linestyle=":" if group is not curves else "-",
            )
            handles.append(line)
        if log and group is curves:
            side.set_yscale("log")
    for name, at in marks:
        ax.axvline(at / k, color="0.45", linestyle="--", linewidth=0.8, zorder=1, gid=_BOUNDARY)
        ax.annotate(
            name,
            (at / k, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -12),
            textcoords="offset points",
            fontsize="small",
            color="0.3",
            gid=_BOUNDARY,
        )
    ax.set_xlabel("epoch" if steps_per_epoch else "step")
    ax.set_ylabel("learning rate")
    _plain_ticks(ax)
    ax.grid(True, alpha=0.3)
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(0.0, -0.14), frameon=False)
    if title:
        ax.set_title(_wrap(str(title), ax), fontsize=10)
    return fig


def _mark_largest(ax: Axes, scheds: list[Schedule], steps: Any, subdivide: int) -> None:
    """Where each schedule after the first differs most from it: rings on both curves, a dotted line."""
    from .tables import compare

    x = (
        positions(default_steps(scheds[0]) if steps is None else int(steps), subdivide)
        if isinstance(steps, (int, np.integer)) or steps is None
        else np.asarray(steps, dtype=np.float64)
    )
    for i, d in enumerate(compare(scheds, x), start=1):
        if d.at is None or d.reference is None or d.value is None:  # identical: nothing to mark
            continue
        color = f"C{i % 10}"
        ax.plot([d.at, d.at], [d.reference, d.value], linestyle=":", color=color, linewidth=1.2, gid=_KEY)
        ax.plot(
            [d.at, d.at],
            [d.reference, d.value],
            linestyle="none",
            marker="o",
            markersize=7,
            markerfacecolor="none",
            markeredgecolor=color,
            markeredgewidth=1.5,
            gid=_KEY,
        )
        ax.annotate(
            f"largest difference: {number(d.largest)} at {number(d.at)}",
            (d.at, max(d.reference, d.value)),
            xytext=(6, 6),
            textcoords="offset points",
            fontsize="small",
            color=color,
            gid=_KEY,
        )


#: The largest dpi :func:`save_plot` takes (an 8 x 4.5 inch figure is then 36 megapixels).
MAX_DPI = 1000
#: The most pixels a figure is drawn with: (width x dpi) x (height x dpi), 50 megapixels
#: (about 200 MB to draw); past it the size or the dpi must come down.
MAX_PIXELS = 50_000_000
#: Formats matplotlib lists that need more than matplotlib (LaTeX): refused up front.
_NEEDS_LATEX = ("pgf",)


def check_picture(size: Any, dpi: Any, legend_height: float = 0.0, names: tuple[str, str] = ("size", "dpi")) -> None:
    """Refuse, before anything is computed or drawn, a ``dpi`` outside 1 .. :data:`MAX_DPI` or a
    picture of ``size`` inches (plus ``legend_height`` inches of legend below it) at ``dpi``
    of more than :data:`MAX_PIXELS` pixels: a ``ValueError`` that says what would fit.
    ``names`` name the two values in the message (the command line's ``--size``, ``--dpi``).

    >>> check_picture((8, 4.5), 150)
    >>> check_picture((50, 50), 1000)
    Traceback (most recent call last):
    ...
    ValueError: size 50 x 50 inches at dpi 1000 is 50,000 x 50,000 = 2,500,000,000 pixels; lrkit draws at most 50,000,000 (50 megapixels): lower dpi (at most 141 at this size) or size
    """
    w, h = size
    _check_pixels((w, h), dpi, (w, h + legend_height) if legend_height else None, names=names)


def _check_pixels(size: Any, dpi: Any, drawn: Any = None, names: tuple[str, str] = ("size", "dpi")) -> None:
    """Refuse a ``dpi`` out of range, or ``size`` (inches) at ``dpi`` over :data:`MAX_PIXELS`
    pixels, before anything is drawn. ``drawn`` is the figure's size when it is larger than
    ``size`` (room for a legend); ``names`` name the two in the message (CLI flags)."""
    sname, dname = names
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float, np.integer, np.floating)) or not 1 <= dpi <= MAX_DPI:
        raise ValueError(f"{dname} must be a number between 1 and {MAX_DPI}, got {_show(dpi)}")
    try:
        w, h = (float(v) for v in (size if drawn is None else drawn))
    except (TypeError, ValueError):
        raise ValueError(f"{sname} must be (width, height) in inches, got {_show(size)}") from None
    if not (math.isfinite(w) and math.isfinite(h) and w > 0 and h > 0):
        raise ValueError(f"{sname} must be (width, height) in inches, each > 0, got {_show(size)}")
    pw, ph = math.ceil(w * dpi), math.ceil(h * dpi)
    if pw * ph > MAX_PIXELS:
        fit = math.floor(math.sqrt(MAX_PIXELS / (w * h)))
        while fit >= 1 and math.ceil(w * fit) * math.ceil(h * fit) > MAX_PIXELS:  # whole pixels round up
            fit -= 1
        shown = f"{sname} {number(w)} x {number(h)} inches"
        if drawn is not None:
            shown = (
                f"{sname} {number(size[0])} x {number(size[1])} inches ({number(w)} x {number(h)} with the "
                "legend's room)"
            )
        raise ValueError(
            f"{shown} at {dname} {number(float(dpi))} is {pw:,} x {ph:,} = {pw * ph:,} pixels; lrkit draws at "
            f"most {MAX_PIXELS:,} (50 megapixels): lower {dname}"
            + (f" (at most {fit} at this size)" if fit >= 1 else "")
            + f" or {sname}"
        )


def _show(value: Any) -> str:
    from ._check import show

    return show(value)


def _save(fig: Figure, path: str, dpi: float) -> None:
    """``fig.savefig`` into a file beside ``path`` (a symlink's target), renamed to it on
    success: a failure, or a termination signal, leaves an existing file as it was and no
    partial one."""
    from ._files import atomic_path

    _check_pixels(tuple(fig.get_size_inches()), dpi)
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    with atomic_path(path, "." + ext) as tmp:
        fig.savefig(tmp, dpi=dpi, format=ext)


def _check_format(fig: Figure, path: str) -> None:
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    supported = {k: v for k, v in fig.canvas.get_supported_filetypes().items() if k not in _NEEDS_LATEX}
    if ext not in supported:
        valid = ", ".join(f".{e}" for e in sorted(supported))
        got = f"'.{ext}'" if ext else "no extension"
        raise ValueError(f"output file {path!r} has {got}; use one of {valid} (e.g. lr.png, lr.svg, lr.pdf)")


# -- a saved run: the realised lr, the plan before reductions, the reductions ----------------------
_RUN_LR = "lrkit-run-lr"  # gid of the realised lr lines (one per group)
_RUN_PLAN = "lrkit-run-plan"  # gid of the plan lines (dashed)
_RUN_CUT = "lrkit-run-reduction"  # gid of a reduction's vertical line and label
_RUN_SAVED = "lrkit-run-saved"  # gid of the saved position's line


def run_figure(
    run: Any,
    steps: Any,
    *,
    plan: bool = True,
    log: bool = False,
    title: str | None = None,
    steps_per_epoch: float | None = None,
    size: tuple[float, float] = (8.0, 4.5),
    path: str | None = None,
    lang: str = "en",
) -> Figure:
    """A saved run (:class:`lrkit._plateau_plan.PlateauRun`) drawn at positions ``steps``.

    Per param group ``g``: the realised lr ``base_g * realised_g(t)`` (solid, gid
    ``lrkit-run-lr``) and, with ``plan=True``, the plan before the reductions
    ``base_g * plan_g(t)`` (dashed, same colour, gid ``lrkit-run-plan``; left out where it
    equals the realised lr everywhere). Each reduction is a vertical line at its position with
    its label and reason (``"x0.1 @ 12,000: no improvement of val_loss for 5 evaluations"``,
    in ``lang``); a dotted line marks the position the state was saved at (the curves go on
    past it as the run would). ``steps_per_epoch`` puts the x axis in epochs.
    """
    fig = figure((size[0], size[1] + 0.2 * len(run.groups) * (2 if plan else 1)))
    if path is not None:
        _check_format(fig, path)
    ax = fig.add_subplot()
    x = np.asarray(steps, dtype=np.float64)
    k = float(steps_per_epoch) if steps_per_epoch else 1.0
    xs = x / k
    handles = []
    plans = run.plan() if plan else [None] * len(run.groups)
    for i, (name, s, p) in enumerate(zip(run.groups, run.realised(), plans)):
        color = f"C{i % 10}"
        y = s(x)
        (line,) = ax.plot(xs, y, color=color, linewidth=1.6, label=name, gid=_RUN_LR, zorder=3)
        handles.append(line)
        if p is not None:
            yp = p(x)
            if not np.array_equal(yp, y):
                (dashed,) = ax.plot(
                    xs, yp, color=color, linewidth=1.0, linestyle="--", alpha=0.7, label=f"{name}, plan", gid=_RUN_PLAN
                )
                handles.append(dashed)
    if log:
        ax.set_yscale("log")
    else:
        _plain_ticks(ax)
    n = len(run.groups)
    for note in run.reductions(lang):
        at = note["at"] / k
        ax.axvline(at, color="0.35", linestyle="-", linewidth=0.9, zorder=2, gid=_RUN_CUT)
        who = "" if len(note["groups"]) == n or n == 1 else f" (group {', '.join(map(str, note['groups']))})"
        ax.annotate(
            f"{note['label']}{who}: {note['reason']}",
            (at, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -4),
            textcoords="offset points",
            rotation=-90,
            va="top",
            ha="left",
            fontsize=7,
            color="0.25",
            bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.75},
            gid=_RUN_CUT,
        )
    if x.size and x[0] <= run.position <= x[-1]:
        ax.axvline(run.position / k, color="0.55", linestyle=":", linewidth=1.0, zorder=1, gid=_RUN_SAVED)
        ax.annotate(
            f"saved @ {run.position:,.0f}",
            (run.position / k, 0.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, 3),
            textcoords="offset points",
            fontsize=7,
            color="0.45",
            gid=_RUN_SAVED,
        )
    ax.set_xlabel("epoch" if steps_per_epoch else "step")
    ax.set_ylabel("learning rate")
    ax.grid(True, alpha=0.3)
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(0.0, -0.14), frameon=False, ncols=2)
    if title:
        ax.set_title(_wrap(str(title), ax), fontsize=10)
    return fig


def save_run(
    run: Any,
    path: str | os.PathLike[str],
    steps: Any,
    *,
    plan: bool = True,
    log: bool = False,
    title: str | None = None,
    steps_per_epoch: float | None = None,
    size: tuple[float, float] = (8.0, 4.5),
    dpi: float = 150,
    font_size: float | None = None,
    lang: str = "en",
) -> str:
    """:func:`run_figure` into a PNG, SVG or PDF file; returns the path."""
    with _style(size, font_size):
        _check_pixels(size, dpi, (size[0], size[1] + 0.2 * len(run.groups) * (2 if plan else 1)))
        path = os.fspath(path)
        fig = run_figure(
            run,
            steps,
            plan=plan,
            log=log,
            title=title,
            steps_per_epoch=steps_per_epoch,
            size=size,
            path=path,
            lang=lang,
        )
        _save(fig, path, dpi)
    return path
