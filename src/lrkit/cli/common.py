"""What every command shares: the parser classes, the value parsers, the command
registry, where a schedule comes from (:class:`SpecSource`) and the positions to
evaluate. No command's own code is here (each is a module of this package)."""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np

from .._files import atomic_open as _atomic_open
from ..core import Schedule
from ..lrlog import Progress
from ..plot import MAX_DPI, MAX_PIXELS, MAX_POSITIONS, SAMPLE_ABOVE, check_picture, sampled_positions
from ..plot import default_steps as _schedule_steps
from ..plot import positions as _grid

__all__ = [
    "CLIError",
    "Command",
    "COMMANDS",
    "command",
    "SpecSource",
    "add_spec_arguments",
    "DEFAULT_SPEC",
    "MAX_POSITIONS",
    "MAX_WIDTH",
    "MAX_HEIGHT",
    "MAX_DPI",
    "MAX_PIXELS",
    "sampled_positions",
]

#: The schedule used when SPEC is left out: a 100-step linear warmup into a cosine decay.
DEFAULT_SPEC: dict[str, Any] = {
    "type": "warmup_cosine",
    "peak_lr": 0.1,
    "total_steps": 1000,
    "warmup_steps": 100,
    "min_lr": 0.001,
}

#: Bounds of the drawing options (a larger terminal plot or image is a typo, and takes minutes).
MAX_WIDTH = 1000
MAX_HEIGHT = 500


def _short(text: Any) -> str:
    """``text`` for a message: long runs of digits as ``1.1e+308``, long text cut."""

    def sci(mt: re.Match) -> str:
        d = mt.group(0)
        return f"{d[0]}.{d[1]}e+{len(d) - 1}"

    out = re.sub(r"\d{17,}", sci, str(text))
    return repr(out if len(out) <= 80 else out[:77] + "...")


class CLIError(Exception):
    """An expected failure: printed as one ``lrkit: error:`` line, exit status 2."""


# -- argument parsing ---------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """argparse, but errors are raised (one line at the top level) instead of printed with usage."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        hint = f" (see '{self.prog} --help')"
        raise CLIError(message + hint)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30)


def _whole(name: str, low: int = 1, high: int | None = None) -> Callable[[str], int]:
    valid = f">= {low}" if high is None else f"from {low} to {high}"

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number {valid}, got {_short(text)}") from None
        if v < low or (high is not None and v > high):
            raise argparse.ArgumentTypeError(f"must be a whole number {valid}, got {_short(text)}")
        return v

    parse.__name__ = name
    return parse


def _positive(name: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}") from None
        if not (v > 0 and math.isfinite(v)):
            raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
        return v

    parse.__name__ = name
    return parse


def atomic_open(path: str) -> Any:
    """A text file written beside ``path`` (a symlink's target) and renamed to it only when the
    block succeeds: a failure or a termination signal half-way leaves an existing file as it
    was, and no partial one (:func:`lrkit._files.atomic_open`)."""
    return _atomic_open(path, "w", what="--csv", encoding="utf-8", newline="")


@dataclass
class SpecSource:
    """Where a schedule comes from: ``build(args)`` makes it after the strict parse.

    ``add_arguments`` (optional) adds the source's own options to the command's
    parser; they win over common options of the same name.
    """

    name: str
    build: Callable[[argparse.Namespace], Schedule]
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None
    #: positions per epoch (e.g. CAWB's ``batchs``), for ``--x-unit epochs`` and epoch numbers in text
    positions_per_epoch: Callable[[argparse.Namespace], float | None] | None = None
    #: how many positions to show when ``-n`` is not given (default: a tenth past the schedule's end)
    default_steps: Callable[[argparse.Namespace], int | None] | None = None
    #: several curves of one run: ``series(args)`` has ``series()`` (name -> schedule; the
    #: momentum on its own axis) and ``explain(lang)``; ``build`` gives the first curve
    series: Callable[[argparse.Namespace], Any] | None = None
    #: where the run's training ends (its length in positions), when the source knows it (a
    #: recipe's config: epochs x iterations per epoch); else ``--run-steps``
    run_end: Callable[[argparse.Namespace], float | None] | None = None


@dataclass
class Command:
    """One sub-command: ``run(args, out)`` returns the exit status."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, TextIO], int]
    description: str = ""
    takes_spec: bool = True


def add_spec_arguments(p: argparse.ArgumentParser, spec: bool = True) -> None:
    """The SPEC argument (unless ``spec=False``) and the options shared by commands that evaluate."""
    if spec:
        p.add_argument(
            "spec",
            nargs="?",
            metavar="SPEC",
            help="a .json/.yaml/.yml file, or inline JSON/YAML (default: the warmup_cosine in 'lrkit --help')",
        )
    g = p.add_argument_group("positions")
    g.add_argument(
        "-n",
        "--positions",
        dest="n_steps",
        type=_whole("positions"),
        metavar="N",
        help="evaluate positions 0 .. N-1 (default: a tenth past the schedule's end, or 1000)",
    )
    # --steps once meant the number of positions, and means CAWB's restart epochs: it is
    # refused with the right name rather than read one way or the other
    g.add_argument("--steps", dest="steps_was_positions", nargs="*", help=argparse.SUPPRESS)
    g.add_argument(
        "--subdivide",
        type=_whole("subdivide"),
        default=1,
        metavar="K",
        help="K evenly spaced points per position, e.g. the steps per epoch to see an "
        "epoch schedule per iteration (default: 1)",
    )
    g.add_argument(
        "--steps-per-epoch",
        type=_positive("steps_per_epoch"),
        metavar="S",
        help="converts lengths written in epochs ('2ep') in the spec",
    )
    g.add_argument(
        "--run-steps",
        type=_positive("run_steps"),
        metavar="R",
        help="the whole run, in positions: converts fractions ('10%%') in the spec",
    )


COMMANDS: dict[str, Command] = {}


class CommandArguments:
    """A command's ``add_arguments`` as ``@command(...)`` returns it: still called with the
    parser, and ``.runner`` decorates the command's ``run``, which registers the command."""

    __slots__ = ("add", "name", "help", "description", "takes_spec")

    def __init__(
        self, add: Callable[[argparse.ArgumentParser], None], name: str, help: str, description: str, takes_spec: bool
    ) -> None:
        self.add, self.name, self.help = add, name, help
        self.description, self.takes_spec = description, takes_spec

    def __call__(self, p: argparse.ArgumentParser) -> None:
        self.add(p)

    def runner(self, run: Callable[[argparse.Namespace, TextIO], int]) -> Callable[[argparse.Namespace, TextIO], int]:
        """Registers the command in :data:`COMMANDS` with ``run``; returns ``run`` unchanged."""
        COMMANDS[self.name] = Command(self.name, self.help, self.add, run, self.description, self.takes_spec)
        return run


def command(
    name: str, help: str, description: str = "", takes_spec: bool = True
) -> Callable[[Callable[[argparse.ArgumentParser], None]], CommandArguments]:
    """Decorator pair: ``@command(...)`` on ``add_arguments``, then ``.runner`` on ``run``."""

    def deco(add: Callable[[argparse.ArgumentParser], None]) -> CommandArguments:
        return CommandArguments(add, name, help, description, takes_spec)

    return deco


# -- what a command evaluates --------------------------------------------------------------------------------
def units(args: argparse.Namespace) -> dict[str, Any]:
    """The spec loader's unit arguments from the options (``--steps-per-epoch``, ``--run-steps``)."""
    return {"steps_per_epoch": getattr(args, "steps_per_epoch", None), "run_steps": getattr(args, "run_steps", None)}


def _schedule(args: argparse.Namespace) -> Schedule:
    if getattr(args, "steps_was_positions", None) is not None:
        raise CLIError(
            "--steps is not an option here: the number of positions is -n/--positions "
            "(--steps is CAWB's restart epochs)"
        )
    return args.source.build(args)


def _run_end(args: argparse.Namespace) -> float | None:
    """Where training ends: the source's own run length (a recipe's config), else ``--run-steps``."""
    source = getattr(args, "source", None)
    if source is not None and source.run_end is not None:
        end = source.run_end(args)
        if end is not None:
            return end
    return getattr(args, "run_steps", None)


def _default_n(source: SpecSource | None, args: argparse.Namespace, schedule: Schedule) -> int:
    if source is not None and source.default_steps is not None:
        n = source.default_steps(args)
        if n is not None:
            return n
    if source is not None and source.run_end is not None:
        end = source.run_end(args)
        if end is not None:  # the run the config trains (not the schedule's own end), a tenth past it
            return max(2, math.ceil(end * 1.1))
    return _schedule_steps(schedule, run_steps=args.run_steps)


def _positions(args: argparse.Namespace, schedule: Schedule, *, sample: bool = False) -> np.ndarray:
    """The positions to evaluate: all of them (export), or, for a picture of a long run
    (``sample=True``), an even sample with every phase boundary kept exactly
    (:func:`lrkit.plot.sampled_positions`)."""
    n = args.n_steps
    if n is None:
        n = _default_n(getattr(args, "source", None), args, schedule)
    if sample and n * args.subdivide > SAMPLE_ABOVE:
        return sampled_positions(schedule, n, args.subdivide)
    if n * args.subdivide > MAX_POSITIONS:
        raise CLIError(
            f"-n {n} x --subdivide {args.subdivide} is {n * args.subdivide:,} positions; at most {MAX_POSITIONS:,}"
        )
    return _grid(n, args.subdivide)


def _per_epoch(args: argparse.Namespace, source: SpecSource | None = None) -> float | None:
    """Positions per epoch: the recipe's own (CAWB's batchs), else --steps-per-epoch."""
    source = source if source is not None else getattr(args, "source", None)
    if source is not None and source.positions_per_epoch is not None:
        v = source.positions_per_epoch(args)
        if v:
            return float(v)
    return getattr(args, "steps_per_epoch", None)


def _x_unit(args: argparse.Namespace, source: SpecSource | None = None) -> float | None:
    """Positions per unit of the x axis for --x-unit epochs (None: steps)."""
    if getattr(args, "x_unit", "steps") != "epochs":
        return None
    k = _per_epoch(args, source)
    if k is None:
        raise CLIError(
            "--x-unit epochs needs the positions per epoch: give --steps-per-epoch "
            "(a recipe like cawb knows its own, --batchs)"
        )
    return k


def _evaluate(args: argparse.Namespace, schedule: Schedule, x: np.ndarray, desc: str) -> np.ndarray:
    """``schedule(x)`` in chunks, with a progress line on stderr if it takes more than a second."""
    chunk = 1 << 20
    if x.size <= chunk:
        return schedule(x)
    out = np.empty_like(x)
    with Progress(x.size, desc, stream=_err(args), unit="positions", enabled=_tty(_err(args))) as bar:
        for i in range(0, x.size, chunk):
            out[i : i + chunk] = schedule(x[i : i + chunk])
            bar.update(min(chunk, x.size - i))
    return out


def _plot_width(args: argparse.Namespace, out: TextIO) -> int:
    """--width, else the terminal's columns less the y labels' room (60 off a terminal)."""
    if args.width is not None:
        return args.width
    if not _tty(out):
        return 60
    import shutil

    return max(20, min(MAX_WIDTH, shutil.get_terminal_size((80, 24)).columns - 14))


def _tty(stream: Any) -> bool:
    """Progress lines only on a terminal, where a failure can erase them: in a log or a pipe
    the one error line must stand alone."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _err(args: argparse.Namespace) -> TextIO:
    return getattr(args, "err_stream", None) or sys.stderr


def _base_lrs_arg(g: Any) -> None:
    g.add_argument(
        "--base-lrs",
        "--group-lrs",
        dest="base_lrs",
        type=_positive("base_lrs"),
        nargs="+",
        metavar="LR",
        help="one curve per param group: LR * schedule, e.g. --base-lrs 0.1 0.01 for a "
        "multiplier schedule (torchvision-warmup, cawb)",
    )


def _figure_args(g: Any) -> None:
    g.add_argument(
        "--size",
        type=float,
        nargs=2,
        metavar=("W", "H"),
        default=(8.0, 4.5),
        help="figure width and height in inches, 1 to 50 (default: 8 4.5)",
    )
    g.add_argument(
        "--font-size",
        type=float,
        metavar="PT",
        default=None,
        help="base font size in points, 4 to 40 (default: matplotlib's, 10)",
    )


def _series_of(args: argparse.Namespace) -> Any:
    """The source's several curves (ultralytics' groups and momentum), or None."""
    src = getattr(args, "source", None)
    if src is None:
        return None
    fn = getattr(src, "series", None)
    if fn is None:
        return None
    if getattr(args, "base_lrs", None):
        raise CLIError(f"--base-lrs does not apply to {src.name}: it gives each param group's lr itself")
    return fn(args)


def _check_picture(args: argparse.Namespace, legend_height: float = 0.0) -> None:
    """--size at --dpi within MAX_PIXELS, said before any schedule is built or evaluated
    (:func:`lrkit.plot.check_picture`)."""
    check_picture(args.size, args.dpi, legend_height, names=("--size", "--dpi"))
