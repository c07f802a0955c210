"""``lrkit explain``: what the schedule does, in words (English or Chinese), from
:func:`lrkit.explain.explain`."""

from __future__ import annotations

import argparse
from typing import TextIO

from ..explain import explain
from .common import _per_epoch, _schedule, _series_of, command


@command(
    "explain",
    "describe the schedule in words (English or Chinese)",
    "Say what the schedule does in plain language: its phases with their lengths and values, "
    "the clamps and quirks of the recipes, generated from the schedule itself. --lang zh "
    "writes Simplified Chinese.",
)
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="language (default: en)")


@add_arguments.runner
def run(args: argparse.Namespace, out: TextIO) -> int:
    u = _series_of(args)
    if u is not None:
        out.write(u.explain(args.lang) + "\n")
        return 0
    s = _schedule(args)
    out.write(explain(s, args.lang, steps_per_epoch=_per_epoch(args)) + "\n")
    return 0
