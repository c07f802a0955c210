"""``lrkit plot``: the schedule drawn to a PNG, SVG or PDF file (:func:`lrkit.plot.save_plot`;
matplotlib is imported when a picture is drawn)."""

from __future__ import annotations

import argparse
from typing import TextIO

from .. import plot as _plot
from ..plot import save_plot, save_series
from .common import (
    MAX_DPI,
    MAX_PIXELS,
    CLIError,
    _base_lrs_arg,
    _check_picture,
    _evaluate,
    _figure_args,
    _positions,
    _run_end,
    _schedule,
    _series_of,
    _whole,
    _x_unit,
    command,
)
from .runsource import RunSource
from .sources import RangeTestSource


@command(
    "plot",
    "draw the schedule to a PNG, SVG or PDF file",
    "Draw the schedule with matplotlib (needs lrkit[plot]); the file type follows the "
    "extension of -o. Phase boundaries are dashed lines with the phase names on top; the peak, "
    "the restarts, the start of a flat tail and the final value are marked; the title shows "
    "the spec. SPEC may also be a range test's CSV (the loss against the lr) or a ScheduleLR "
    "state saved as JSON, json.dump(sched.state_dict(), f): the lr per param group as the run "
    "went, the plan before its plateau reductions dashed, each reduction marked with its reason.",
)
def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("output")
    g.add_argument(
        "-o", "--output", default="lr.png", metavar="FILE", help="output file, .png/.svg/.pdf (default: lr.png)"
    )
    g.add_argument("--log", action="store_true", help="log-scale y axis")
    g.add_argument("--title", help="title (default: the spec)")
    g.add_argument(
        "--dpi",
        type=_whole("dpi", 10, MAX_DPI),
        default=150,
        help=f"resolution of PNG output, at most {MAX_DPI}, and at most {MAX_PIXELS // 1_000_000} "
        "megapixels with --size: (W x dpi) x (H x dpi) (default: 150)",
    )
    g.add_argument(
        "--x-unit",
        choices=["steps", "epochs"],
        default="steps",
        help="x axis in positions (steps) or epochs: position / positions per epoch (a recipe's "
        "own, e.g. cawb --batchs, else --steps-per-epoch)",
    )
    g.add_argument("--no-annotate", action="store_true", help="leave out the key-point labels")
    _figure_args(g)
    _base_lrs_arg(g)


@add_arguments.runner
def run(args: argparse.Namespace, out: TextIO) -> int:
    _check_picture(args)
    if isinstance(args.source, RangeTestSource):
        return plot_rangetest(args, args.source, out)
    if isinstance(args.source, RunSource):
        return plot_run(args, args.source, out)
    u = _series_of(args)
    if u is not None:
        curves = u.series()
        x = _positions(args, next(iter(curves.values())), sample=True)
        lrs = {k: v for k, v in curves.items() if k != "momentum"}
        title = (
            args.title
            if args.title is not None
            else (
                f"{args.source.name} {u.rules.version}: lr per param group and momentum, "
                f"{u.settings['epochs']} epochs x {u.settings['batches']} batches"
            )
        )
        save_series(
            lrs,
            args.output,
            x,
            secondary={"momentum": curves["momentum"]},
            marks=[("warmup end", float(u.warmup_iters))] if u.warmup_iters else [],
            log=args.log,
            title=title,
            steps_per_epoch=_x_unit(args),
            dpi=args.dpi,
            size=tuple(args.size),
            font_size=args.font_size,
        )
        out.write(f"wrote {args.output}\n")
        return 0
    s = _schedule(args)
    per = _x_unit(args)
    x = _positions(args, s, sample=True)
    y = _evaluate(args, s, x, "evaluate")
    save_plot(
        s,
        args.output,
        x,
        log=args.log,
        title=args.title if args.title is not None else True,
        dpi=args.dpi,
        steps_per_epoch=per,
        groups=args.base_lrs,
        annotate=not args.no_annotate,
        values=y,
        size=tuple(args.size),
        font_size=args.font_size,
        run_end=_run_end(args),
    )
    out.write(f"wrote {args.output}\n")
    return 0


def plot_rangetest(args: argparse.Namespace, source: RangeTestSource, out: TextIO) -> int:
    """A range test's CSV: the loss against the lr (log x axis), the suggestion marked
    (:meth:`lrkit.rangetest.RangeTestResult.plot`), into -o like a schedule's picture."""
    if getattr(args, "base_lrs", None):
        raise CLIError(f"--base-lrs does not apply to {source.name}: it draws a loss, not a schedule")
    if args.x_unit != "steps":
        raise CLIError(f"--x-unit does not apply to {source.name}: its x axis is the learning rate")
    result = source.result()
    size = tuple(args.size)
    path = str(args.output)
    with _plot._style(size, args.font_size):
        fig = _plot.figure(size)
        _plot._check_format(fig, path)
        ax = fig.add_subplot()
        result.plot(
            ax,
            rule=args.rule,
            skip_start=args.skip_start,
            skip_end=args.skip_end,
            raw=args.raw,
            suggest_lr=not args.no_annotate,
        )
        if args.log:
            ax.set_yscale("log")
        ended = f", stopped: {result.stop_reason}" if result.stop_reason else ""
        title = (
            args.title
            if args.title is not None
            else f"LR range test: {len(result)} of {result.num_iter} updates, "
            f"lr {result.start_lr:.3g} to {result.end_lr:.3g} ({result.flavor}{ended})"
        )
        ax.set_title(_plot._wrap(title, ax), fontsize=10)
        _plot._save(fig, path, args.dpi)
    out.write(f"wrote {args.output}\n")
    return 0


def plot_run(args: argparse.Namespace, source: RunSource, out: TextIO) -> int:
    """A saved ``ScheduleLR`` run: the realised lr per param group, the plan before the
    reductions dashed, each reduction a vertical line with its label and reason
    (:func:`lrkit.plot.save_run`), into -o like a schedule's picture."""
    if getattr(args, "base_lrs", None):
        raise CLIError(f"--base-lrs does not apply to {source.name}: the run's state holds each group's lr")
    run = source.run()
    first = run.realised()[0]
    x = _positions(args, first, sample=True)
    notes = run.reductions()
    title = (
        args.title
        if args.title is not None
        else f"{run.framework} run saved at step {run.position:,.0f}: lr per param group, "
        + (
            f"{len(notes)} reduction(s) on plateau ({run.plateau.policy.flavor})"
            if run.plateau is not None
            else "no plateau policy"
        )
    )
    _plot.save_run(
        run,
        args.output,
        x,
        plan=not args.no_plan,
        log=args.log,
        title=title,
        steps_per_epoch=_x_unit(args),
        size=tuple(args.size),
        dpi=args.dpi,
        font_size=args.font_size,
        lang=args.lang,
    )
    out.write(f"wrote {args.output}\n")
    return 0
