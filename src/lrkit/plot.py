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
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from .core import Phase, Schedule, registered

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_schedule", "plot_schedules", "save_plot", "save_overlay", "figure", "positions", "default_steps", "spec_label"]

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
def default_steps(schedule: Schedule) -> int:
    """How many positions to show: a tenth past the schedule's end, or 1000 if it never ends."""
    n = schedule.length
    if math.isfinite(n) and n > 0:
        return max(2, math.ceil(n * 1.1))
    return 1000


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
            defaults = {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items()
                        if p.default is not inspect.Parameter.empty}
        args = [f"{k}={_label(v)}" for k, v in spec.items()
                if k != "type" and not (k in defaults and _same(defaults[k], v))]
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
def plot_schedule(schedule: Schedule, steps: int | Sequence[float] | np.ndarray | None = None,
                  ax: "Axes | None" = None, *, subdivide: int = 1, label: str | None = None,
                  log: bool = False, phases: bool = True, title: str | bool | None = None,
                  xlabel: str = "step", ylabel: str = "learning rate", **line_kw: Any) -> "Axes":
    """Draw ``schedule`` on ``ax`` (default: pyplot's current Axes) and return the Axes.

    ``steps`` is a number of positions (``0 .. steps-1``, each split into
    ``subdivide`` points) or an explicit sorted array of positions; by default a
    tenth past the schedule's end. Phase boundaries are drawn as dashed lines with
    the phase names on top. ``title=True`` uses :func:`spec_label`. ``log`` uses a
    log y axis. With few positions each value is drawn held until the next one
    (``drawstyle="steps-post"``); with many, a line whose jumps at discontinuous phase
    starts are upright. Extra keywords go to ``Axes.plot`` (colour, line width, ...); call
    again on the same Axes with ``phases=False`` to overlay more curves.
    """
    if isinstance(steps, (int, np.integer)) or steps is None:
        x = positions(default_steps(schedule) if steps is None else steps, subdivide)
    else:
        x = np.asarray(steps, dtype=np.float64).ravel()
        if x.size == 0 or np.any(np.diff(x) < 0):
            raise ValueError("positions to plot must be a non-empty, sorted array")
    y = schedule(x)
    if ax is None:
        _matplotlib()
        import matplotlib.pyplot as plt

        ax = plt.gca()
    log = log or ax.get_yscale() == "log"  # an overlay keeps the scale it is drawn on
    if log and not np.any(y > 0):
        raise ValueError("log scale needs positive values, but every value is <= 0")

    line_kw.setdefault("linewidth", 1.6)
    if x.size == 1:
        line_kw.setdefault("marker", "o")
    px, py = x, y
    if "drawstyle" not in line_kw:
        if x.size <= _FEW_POINTS:
            # few positions: each value holds until the next position, as in training
            line_kw["drawstyle"] = "steps-post"
        else:  # many: a line, but a jump is drawn upright instead of as a slope between two samples
            px, py = _with_jumps(x, y, schedule.phases())
    ax.plot(px, py, label=label, **line_kw)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3, linewidth=0.6)
    if x[-1] > x[0]:
        ax.set_xlim(float(x[0]), float(x[-1]))
    if log:
        ax.set_yscale("log")
    rows = _mark_phases(ax, schedule.phases(), float(x[0]), float(x[-1])) if phases else 0
    # overlays drawn later must keep the room made for the names drawn earlier
    rows = max(rows, getattr(ax, "_lrkit_label_rows", 0))
    ax._lrkit_label_rows = rows
    _fit_ylim(ax, [ln for ln in ax.lines if ln.get_gid() != _BOUNDARY], log=log, label_rows=rows)
    if title is True:
        title = spec_label(schedule)
    if title:
        ax.set_title(_wrap(str(title), ax), fontsize=10)
    return ax


def _with_jumps(x: np.ndarray, y: np.ndarray, phases: Sequence[Phase]) -> tuple[np.ndarray, np.ndarray]:
    """Add a point (start, value before it) at each discontinuous phase start inside the range."""
    at = [p.start for p in phases if not p.continuous and x[0] < p.start <= x[-1]]
    if not at:
        return x, y
    idx = np.searchsorted(x, at)  # first sample at or after each jump
    return np.insert(x, idx, at), np.insert(y, idx, y[idx - 1])


def plot_schedules(schedules: "dict[str, Schedule]", steps: int | Sequence[float] | np.ndarray | None = None,
                   ax: "Axes | None" = None, *, subdivide: int = 1, log: bool = False,
                   title: str | None = None, legend_below: bool = False, **kw: Any) -> "Axes":
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
        ax = plot_schedule(s, steps, ax, subdivide=subdivide, log=log, phases=False, label=name,
                           color=f"C{i % 10}", linestyle=styles[i % len(styles)], **kw)
    assert ax is not None
    if legend_below:  # long spec labels: under the axes, not over the curves
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(0.0, -0.14), frameon=False)
    else:
        ax.legend(fontsize=8, loc="best", framealpha=0.9)
    if title:
        ax.set_title(_wrap(str(title), ax), fontsize=10)
    return ax


def _wrap(text: str, ax: "Axes") -> str:
    # about 1 character per 7 px at 10 pt; keeps a long nested spec inside the figure
    width_px = ax.figure.get_figwidth() * ax.figure.dpi
    return "\n".join(textwrap.wrap(text, max(30, int(width_px / 7)), break_long_words=False,
                                   break_on_hyphens=False))


def _fit_ylim(ax: "Axes", lines: Sequence[Any], *, log: bool, label_rows: int) -> None:
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


def _mark_phases(ax: "Axes", phases: Sequence[Phase], x0: float, x1: float) -> int:
    """Dashed lines at the interior phase boundaries and the names on top; returns label rows used."""
    from matplotlib.transforms import blended_transform_factory

    shown = [p for p in phases if p.start < x1 or (p.start == x0 == x1)]
    for p in shown:
        if x0 < p.start < x1:
            ax.axvline(p.start, color="0.45", linestyle="--", linewidth=0.8, zorder=1, gid=_BOUNDARY)
    if len(phases) < 2:  # a single-phase schedule: naming it is the title's job
        return 0
    fig = ax.figure
    try:
        renderer = fig.canvas.get_renderer()
    except AttributeError:  # pragma: no cover - non-Agg canvases
        renderer = None
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    box = ax.get_window_extent(renderer) if renderer is not None else None
    rows: list[list[tuple[float, float]]] = [[], [], []]
    used = 0
    for p in shown:
        a, b = max(p.start, x0), min(p.end, x1)
        mid = (a + b) / 2
        t = ax.text(mid, 0.985, p.name, transform=trans, ha="center", va="top", fontsize=_LABEL_FONTSIZE,
                    color="0.25", zorder=3, clip_on=False,
                    bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.85))
        if renderer is None or box is None:
            used = max(used, 1)
            continue
        ext = t.get_window_extent(renderer)
        w, h = ext.width + 4, ext.height + 2
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
def figure(size: tuple[float, float] = (8.0, 4.5), dpi: float = 100) -> "Figure":
    """A new Figure on the Agg canvas (no pyplot, no display needed)."""
    _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_plot(schedule: Schedule, path: str | os.PathLike[str], steps: int | None = None, *,
              subdivide: int = 1, log: bool = False, title: str | bool | None = True,
              size: tuple[float, float] = (8.0, 4.5), dpi: float = 150, **kw: Any) -> str:
    """Draw ``schedule`` into a PNG, SVG or PDF file (chosen by the extension); returns the path."""
    path = os.fspath(path)
    fig = figure(size)
    _check_format(fig, path)
    ax = fig.add_subplot()
    plot_schedule(schedule, steps, ax, subdivide=subdivide, log=log, title=title, **kw)
    fig.savefig(path, dpi=dpi)
    return path


def save_overlay(schedules: "dict[str, Schedule]", path: str | os.PathLike[str],
                 steps: int | Sequence[float] | np.ndarray | None = None, *, subdivide: int = 1, log: bool = False,
                 title: str | None = None, size: tuple[float, float] = (8.0, 4.5), dpi: float = 150) -> str:
    """:func:`plot_schedules` into a PNG, SVG or PDF file; returns the path."""
    path = os.fspath(path)
    fig = figure((size[0], size[1] + 0.25 * len(schedules)))
    _check_format(fig, path)
    ax = fig.add_subplot()
    labels = {"\n".join(textwrap.wrap(k, 70, break_long_words=False)): v for k, v in schedules.items()}
    plot_schedules(labels, steps, ax, subdivide=subdivide, log=log, title=title, legend_below=True)
    fig.savefig(path, dpi=dpi)
    return path


def _check_format(fig: "Figure", path: str) -> None:
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    supported = fig.canvas.get_supported_filetypes()
    if ext not in supported:
        valid = ", ".join(f".{e}" for e in sorted(supported))
        got = f"'.{ext}'" if ext else "no extension"
        raise ValueError(f"output file {path!r} has {got}; use one of {valid} (e.g. lr.png, lr.svg, lr.pdf)")
