"""``lrkit show``: the phase table and a terminal plot (text characters; works over SSH)."""

from __future__ import annotations

import argparse
from typing import TextIO

import numpy as np

from .._format import number
from ..plot import spec_label
from ..rangetest import defaults
from ..tables import distinct_curves
from ..textplot import can_encode_unicode, text_plot
from .common import (
    MAX_HEIGHT,
    MAX_WIDTH,
    _plot_width,
    _positions,
    _run_end,
    _schedule,
    _series_of,
    _whole,
    command,
)
from .runsource import RunSource
from .sources import RangeTestSource


@command(
    "show",
    "print the phase table and a terminal plot",
    "Print the schedule's phases (name, start, end, values) and a compact plot drawn with "
    "text characters (braille dots, or ASCII with --ascii); works over SSH. A ScheduleLR state "
    "saved as JSON prints the run's explanation (--lang en/zh: each plateau reduction with its "
    "step and reason) and the lr per param group.",
)
def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("plot")
    g.add_argument(
        "--width",
        type=_whole("width", 10, MAX_WIDTH),
        default=None,
        help=f"plot width in characters, at most {MAX_WIDTH} (default: the terminal's width, "
        "or 60 when the output is not a terminal)",
    )
    g.add_argument(
        "--height",
        type=_whole("height", 3, MAX_HEIGHT),
        default=15,
        help=f"plot height in lines, at most {MAX_HEIGHT} (default: 15)",
    )
    g.add_argument("--ascii", action="store_true", help="plain ASCII instead of braille dots")
    g.add_argument("--log", action="store_true", help="log-scale y axis")
    g.add_argument("--no-plot", action="store_true", help="only the phase table")


@add_arguments.runner
def run(args: argparse.Namespace, out: TextIO) -> int:
    if isinstance(args.source, RangeTestSource):
        return show_rangetest(args, args.source, out)
    if isinstance(args.source, RunSource):
        return show_run(args, args.source, out)
    if _series_of(args) is not None:
        return show_series(args, out)
    s = _schedule(args)
    parts = [spec_label(s), "", s.describe()]
    end = _run_end(args)
    if not args.no_plot:
        x = _positions(args, s, sample=True)
        ascii_only = args.ascii or not can_encode_unicode(out)
        marks = sorted({p.start for p in s.phases()})
        if end is not None and x[0] < end < x[-1]:
            marks = sorted({*marks, float(end)})
            parts += ["", _past_the_end(end, float(x[-1]), float(s(max(end - 1.0, 0.0))))]
        parts += [
            "",
            text_plot(
                x, s(x), width=_plot_width(args, out), height=args.height, marks=marks, log=args.log, ascii=ascii_only
            ),
        ]
    out.write("\n".join(parts) + "\n")
    return 0


def _past_the_end(end: float, last: float, value: float) -> str:
    """The line that says where the run's training ends, inside the positions shown."""
    return (
        f"The run trains {number(end)} positions (last lr {number(value)} at {number(end - 1)}); "
        f"the plot goes on to {number(last)}, past the run's end."
    )


def show_series(args: argparse.Namespace, out: TextIO) -> int:
    u = _series_of(args)
    curves = u.series()
    first = next(iter(curves.values()))
    x = _positions(args, first, sample=True)
    parts = [f"{args.source.name}: " + ", ".join(curves), "", u.explain("en")]
    if not args.no_plot:
        ascii_only = args.ascii or not can_encode_unicode(out)
        marks = [float(u.warmup_iters)] if u.warmup_iters else []
        for names, y in distinct_curves(curves, x):
            parts += [
                "",
                " = ".join(names),
                text_plot(
                    x, y, width=_plot_width(args, out), height=args.height, marks=marks, log=args.log, ascii=ascii_only
                ),
            ]
    out.write("\n".join(parts) + "\n")
    return 0


def show_rangetest(args: argparse.Namespace, source: RangeTestSource, out: TextIO) -> int:
    """A range test's CSV: its settings, the suggested lr by ``--rule`` and a text plot of the
    (smoothed) loss against log10(lr), the suggestion ticked on the x axis."""
    r = source.result()
    rule = args.rule if args.rule is not None else defaults(r.flavor)["rule"]
    ended = f"stopped: {r.stop_reason}" if r.stop_reason else "ran to the end"
    parts = [
        f"{source.name}: {len(r)} of {r.num_iter} updates, lr {r.start_lr:.6g} to {r.end_lr:.6g} "
        f"({r.step_mode}, {r.flavor}), {ended}"
    ]
    lr, j = r.suggestion_point(rule, args.skip_start, args.skip_end)
    parts.append(f"suggested lr ({rule}): {lr!r} (loss {r.losses[j]:.6g} at lr {r.lrs[j]:.6g})")
    if not args.no_plot:
        x = np.log10(np.asarray(r.lrs, dtype=np.float64))
        y = np.asarray(r.raw_losses if args.raw else r.losses, dtype=np.float64)
        keep = np.isfinite(x) & np.isfinite(y)
        ascii_only = args.ascii or not can_encode_unicode(out)
        parts += [
            "",
            f"{'raw' if args.raw else 'smoothed'} loss against log10(lr); the tick marks the suggestion",
            text_plot(
                x[keep],
                y[keep],
                width=_plot_width(args, out),
                height=args.height,
                marks=[m for m in [float(np.log10(lr))] if x[keep].min() <= m <= x[keep].max()],
                log=args.log,
                ascii=ascii_only,
            ),
        ]
    out.write("\n".join(parts) + "\n")
    return 0


def show_run(args: argparse.Namespace, source: RunSource, out: TextIO) -> int:
    """A saved ``ScheduleLR`` run: its explanation (``--lang``: the realised lr per group and each
    reduction with its reason), then per group a text plot of the realised lr, the reductions
    ticked on the x axis."""
    run = source.run()
    parts = [f"{source.name}:", "", run.explain(args.lang)]
    if not args.no_plot:
        first = run.realised()[0]
        x = _positions(args, first, sample=True)
        ascii_only = args.ascii or not can_encode_unicode(out)
        marks = [n["at"] for n in run.reductions()]
        for names, y in distinct_curves(run.series(), x):
            parts += [
                "",
                " = ".join(names),
                text_plot(
                    x, y, width=_plot_width(args, out), height=args.height, marks=marks, log=args.log, ascii=ascii_only
                ),
            ]
    out.write("\n".join(parts) + "\n")
    return 0
