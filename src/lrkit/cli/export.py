"""``lrkit export``: ``position,lr`` rows (CSV) of every position, in full precision
(:func:`lrkit.tables.write_csv`, :func:`lrkit.tables.write_columns_csv`)."""

from __future__ import annotations

import argparse
import contextlib
from typing import TextIO

from ..lrlog import Progress
from ..tables import write_columns_csv, write_csv
from .common import _base_lrs_arg, _err, _positions, _schedule, _series_of, _tty, _whole, atomic_open, command


@command(
    "export",
    "write position,lr rows (CSV)",
    "Evaluate the schedule once over positions 0 .. N-1 (K points each with --subdivide) and "
    "write 'position,lr' rows, to stdout or to --csv FILE. Values are printed in full "
    "precision (they read back as the same float64). With --base-lrs, one column per param "
    "group (group0, group1, ...: base * schedule).",
)
def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("output")
    g.add_argument("--csv", metavar="FILE", help="write to FILE instead of stdout ('-': stdout)")
    g.add_argument(
        "--every", type=_whole("every"), default=1, metavar="K", help="keep every K-th row (default: 1, all)"
    )
    g.add_argument("--no-header", action="store_true", help="leave out the 'position,lr' header")
    _base_lrs_arg(g)


@add_arguments.runner
def run(args: argparse.Namespace, out: TextIO) -> int:
    u = _series_of(args)
    s = _schedule(args) if u is None else next(iter(u.series().values()))
    x = _positions(args, s)[:: args.every]
    to_file = bool(args.csv and args.csv != "-")
    with contextlib.ExitStack() as stack:
        fh = stack.enter_context(atomic_open(args.csv)) if to_file else out
        bar = stack.enter_context(Progress(x.size, "export", stream=_err(args), unit="rows", enabled=_tty(_err(args))))
        if u is None:
            write_csv(fh, s, x, base_lrs=args.base_lrs, header=not args.no_header, progress=bar.update)
        else:
            write_columns_csv(
                fh,
                {k.replace(" ", "_"): v for k, v in u.series().items()},
                x,
                header=not args.no_header,
                progress=bar.update,
            )
    if to_file:
        _err(args).write(f"wrote {args.csv} ({x.size:,} rows)\n")
    return 0
