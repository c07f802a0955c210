"""``lrkit compare``: several schedules over the same positions, where each departs from
the first and where the difference is largest (:func:`lrkit.tables.comparison_report`);
with ``-o``, drawn overlaid (:func:`lrkit.plot.save_overlay`)."""

from __future__ import annotations

import argparse
import os
from typing import TextIO

from .._format import number
from ..core import Schedule
from ..plot import positions, save_overlay, spec_label
from ..tables import comparison_report
from .common import (
    MAX_DPI,
    MAX_PIXELS,
    MAX_POSITIONS,
    CLIError,
    _check_picture,
    _default_n,
    _figure_args,
    _whole,
    add_spec_arguments,
    command,
)
from .sources import RECIPES


@command(
    "compare",
    "overlay several schedules and show where they differ most",
    "Evaluate every SPEC over the same positions and print, for each one after the first, "
    "where it first departs from the first and where the difference is largest; with -o, "
    "also draw them overlaid with a legend.",
    takes_spec=False,
)
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("specs", nargs="+", metavar="SPEC", help="two or more .json/.yaml files or inline JSON/YAML")
    add_spec_arguments(p, spec=False)
    g = p.add_argument_group("output")
    g.add_argument("-o", "--output", metavar="FILE", help="also draw the curves to FILE (.png/.svg/.pdf)")
    g.add_argument("--log", action="store_true", help="log-scale y axis")
    g.add_argument("--title", help="plot title (default: what is compared over which positions)")
    g.add_argument(
        "--dpi",
        type=_whole("dpi", 10, MAX_DPI),
        default=150,
        help=f"resolution of PNG output, at most {MAX_DPI}, and at most {MAX_PIXELS // 1_000_000} "
        "megapixels with --size: (W x dpi) x (H x dpi) (default: 150)",
    )
    _figure_args(g)


def _source_name(text: str, schedule: Schedule) -> str:
    """How a compared SPEC is named in the legend: its file name, its recipe name, else its spec."""
    if os.path.isfile(text):
        return os.path.basename(text)
    if text.replace("_", "-") in {r.replace("_", "-") for r in RECIPES}:
        return text
    return spec_label(schedule)


@add_arguments.runner
def run(args: argparse.Namespace, out: TextIO) -> int:
    if len(args.specs) < 2:
        raise CLIError("compare needs at least two SPECs")
    if args.output:
        _check_picture(args, 0.25 * len(args.specs))  # save_overlay's room for the legend
    sources = [args.resolve_source(text) for text in args.specs]
    scheds = [src.build(args) for src in sources]
    n = args.n_steps or max(_default_n(src, args, s) for src, s in zip(sources, scheds))
    if n * args.subdivide > MAX_POSITIONS:
        raise CLIError(f"-n {n} x --subdivide {args.subdivide} is more than {MAX_POSITIONS:,} positions")
    x = positions(n, args.subdivide)
    out.write("\n".join(comparison_report(scheds, x, [spec_label(s) for s in scheds])) + "\n")
    if args.output:
        legend = [f"{i + 1}: {_source_name(t, sc)}" for i, (t, sc) in enumerate(zip(args.specs, scheds))]
        title = (
            args.title
            if args.title is not None
            else (
                f"{len(scheds)} schedules over positions {number(x[0])} .. {number(x[-1])}: rings mark the largest "
                "difference from 1"
            )
        )
        save_overlay(
            dict(zip(legend, scheds)),
            args.output,
            x,
            log=args.log,
            title=title,
            dpi=args.dpi,
            size=tuple(args.size),
            font_size=args.font_size,
        )
        out.write(f"wrote {args.output}\n")
    return 0
