"""``lrkit plot``: the schedule drawn to a PNG, SVG or PDF file (:func:`lrkit.plot.save_plot`;
matplotlib is imported when a picture is drawn)."""

from __future__ import annotations

import argparse
from typing import TextIO

from ..plot import save_plot, save_series
from .common import (
    MAX_DPI,
    MAX_PIXELS,
    _base_lrs_arg,
    _check_picture,
    _evaluate,
    _figure_args,
    _positions,
    _schedule,
    _series_of,
    _whole,
    _x_unit,
    command,
)


@command(
    "plot",
    "draw the schedule to a PNG, SVG or PDF file",
    "Draw the schedule with matplotlib (needs lrkit[plot]); the file type follows the "
    "extension of -o. Phase boundaries are dashed lines with the phase names on top; the peak, "
    "the restarts, the start of a flat tail and the final value are marked; the title shows "
    "the spec.",
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
    )
    out.write(f"wrote {args.output}\n")
    return 0
