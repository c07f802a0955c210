"""The ``lrkit`` command line: look at a schedule before training with it.

::

    lrkit show    [SPEC]                 phase table and a terminal plot
    lrkit plot    [SPEC] -o lr.png       PNG/SVG/PDF plot, phases and key points marked
    lrkit export  [SPEC] -n N            position,lr rows (CSV)
    lrkit explain [SPEC] [--lang zh]     what the schedule does, in words (English or Chinese)
    lrkit compare SPEC SPEC ... [-o F]   where schedules differ; overlaid plot
    lrkit list    [NAME]                 the built-in schedule kinds and the recipes

SPEC may also name a recipe, with the original's parameter names as options:
``lrkit plot yolox-cos --lr 0.01 --min-lr 1e-4 --total-iters 300`` (see :data:`RECIPES`;
each recipe's options come from its declaration, :mod:`lrkit.recipes.registry`).

How it fits together, so that commands and kinds of SPEC can be added without
touching the rest:

* each command is a module of this package (:mod:`.show`, :mod:`.export`, :mod:`.plot`,
  :mod:`.explain`, :mod:`.compare`, :mod:`.listing`) declaring a :class:`Command`
  (name, help, ``add_arguments``, ``run``) in :data:`COMMANDS` with ``@command``;
  commands that read a SPEC get the common options from :func:`add_spec_arguments`.
  What a Python user could want of them is in the library (:mod:`lrkit.tables`,
  :mod:`lrkit.plot`): the commands parse, call it and print;
* a SPEC is turned into a :class:`SpecSource` by the first function in
  :data:`SPEC_SOURCES` that accepts it (:mod:`.sources`: a recipe by name, a built-in
  kind by name, a JSON/YAML file or inline text, or the default schedule). A source may
  declare options of its own (a recipe's or a kind's declared parameters), its
  positions per epoch (for ``--x-unit epochs``) and how many positions to show by default;
* so the command line is parsed twice: a lenient pass finds the command and SPEC,
  then a strict pass with the source's options added. Those override common options
  of the same name (``conflict_handler="resolve"``): CAWB claims ``--steps`` (its
  restart epochs); the number of positions is ``-n``/``--positions`` everywhere, and
  ``--steps`` on any other SPEC is an error naming ``-n``. A SPEC given by name must
  come right after the command. ``run(args, out)`` finds the resolved source in
  ``args.source`` and :func:`resolve_source` in ``args.resolve_source`` (compare's SPECs);
* every expected failure (bad spec, file, option) ends as one line,
  ``lrkit: error: ...``, and exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import textwrap
import warnings
from collections.abc import Callable, Sequence
from typing import TextIO

from .. import __version__
from ..core import registered
from ..plot import MAX_PIXELS, sampled_positions
from ..recipes.registry import Recipe, registered_recipes

# the commands, in the order 'lrkit --help' lists them (each registers itself in COMMANDS)
from . import show as _show  # noqa: F401  # isort: skip
from . import export as _export  # noqa: F401  # isort: skip
from . import plot as _plot  # noqa: F401  # isort: skip
from . import explain as _explain  # noqa: F401  # isort: skip
from . import compare as _compare  # noqa: F401  # isort: skip
from . import listing as _listing  # noqa: F401  # isort: skip
from .common import (
    COMMANDS,
    DEFAULT_SPEC,
    MAX_DPI,
    MAX_HEIGHT,
    MAX_POSITIONS,
    MAX_WIDTH,
    CLIError,
    Command,
    SpecSource,
    _HelpFormatter,
    _Parser,
    add_spec_arguments,
    command,
)
from .configsource import config_source
from .sources import RECIPES, kind_source, recipe_source, text_source, unknown_name
from .sources import SPEC_SOURCES as _DEFAULT_SOURCES

__all__ = [
    "main",
    "Command",
    "COMMANDS",
    "command",
    "SpecSource",
    "SPEC_SOURCES",
    "resolve_source",
    "add_spec_arguments",
    "CLIError",
    "DEFAULT_SPEC",
    "Recipe",
    "RECIPES",
    "registered_recipes",
    "sampled_positions",
    "build_parser",
    "recipe_source",
    "kind_source",
    "text_source",
    "MAX_POSITIONS",
    "MAX_WIDTH",
    "MAX_HEIGHT",
    "MAX_DPI",
    "MAX_PIXELS",
]

#: Functions ``SPEC text (or None) -> SpecSource or None``, tried in order; the last accepts
#: anything (:mod:`.sources`: a recipe by name, a kind by name, a file or inline text).
SPEC_SOURCES: list[Callable[[str | None], SpecSource | None]] = list(_DEFAULT_SOURCES)


def resolve_source(spec: str | None) -> SpecSource:
    """The :class:`SpecSource` of ``spec``: the first of :data:`SPEC_SOURCES` that accepts it."""
    for resolve in SPEC_SOURCES:
        src = resolve(spec)
        if src is not None:
            return src
    raise CLIError(f"cannot read SPEC {spec!r}")  # pragma: no cover - text_source accepts everything


def _epilog() -> str:
    kinds = ", ".join(registered())
    default = json.dumps(DEFAULT_SPEC)
    return "\n".join(
        [
            "built-in schedules (lrkit list: parameters and formulas):",
            textwrap.indent(textwrap.fill(kinds, 76), "  "),
            "",
            "SPEC is a .json/.yaml/.yml file or inline JSON/YAML; without SPEC lrkit uses",
            "  " + default,
            "Lengths in a spec may be '500', '2ep' (give --steps-per-epoch) or '10%' (give --run-steps).",
            "",
            "examples:",
            "  lrkit show",
            "  lrkit plot -o lr.png --log",
            "  lrkit show '{\"type\": \"cosine\", \"peak_lr\": 0.1, \"total_steps\": \"90ep\"}' --steps-per-epoch 100",
            "  lrkit export schedule.yaml -n 5000 --every 10 --csv lr.csv",
            "  lrkit compare a.yaml b.yaml -o both.png",
            "",
            "recipes by name, with the originals' parameter names (lrkit plot NAME --help):",
            *[f"  {r.name}: {r.summary}" for r in registered_recipes().values()],
            "",
            "recipe examples:",
            "  lrkit plot yolox-cos --lr 0.01 --min-lr 1e-4 --total-iters 300",
            "  lrkit plot cawb --epochs 45 --steps 15 30 --step-scale 0.7 --batchs 50 --warmup-epoch 5 --x-unit epochs",
            "  lrkit explain yolox-cos --lr 0.01 --min-lr 1e-4 --total-iters 300 --lang zh",
            "  lrkit compare 'yolox-cos --lr 0.01 --min-lr 1e-4 --total-iters 300' "
            "'{\"type\": \"cosine\", \"peak_lr\": 0.01, \"total_steps\": 300}'",
        ]
    )


def build_parser(
    *, strict: bool = True, source: SpecSource | None = None, command_name: str | None = None
) -> argparse.ArgumentParser:
    """The full parser; ``source`` adds its options to the ``command_name`` sub-parser.

    With ``strict=False`` (the first pass) option values are not type-checked and
    ``--help`` is not handled, so the pass can only locate the command and SPEC.
    """
    parser = _Parser(
        prog="lrkit",
        formatter_class=_HelpFormatter,
        allow_abbrev=False,
        add_help=strict,
        description="Learning-rate schedules in closed form: look at them, plot them, export them.",
        epilog=_epilog(),
    )
    parser.add_argument("--version", action="version", version=f"lrkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands", parser_class=_Parser)
    sub.required = True
    for cmd in COMMANDS.values():
        p = sub.add_parser(
            cmd.name,
            help=cmd.help,
            description=textwrap.fill(cmd.description or cmd.help, 79),
            formatter_class=_HelpFormatter,
            allow_abbrev=False,
            add_help=strict,
            conflict_handler="resolve",
            epilog=_epilog() if cmd.takes_spec else None,
        )
        if cmd.takes_spec:
            add_spec_arguments(p)
        cmd.add_arguments(p)
        if source is not None and source.add_arguments is not None and cmd.name == command_name:
            source.add_arguments(p.add_argument_group(f"{source.name} options"))  # type: ignore[arg-type]
        if not strict:
            for action in p._actions:  # the first pass only needs to find SPEC
                action.type = None
                action.choices = None
    return parser


# -- entry point --------------------------------------------------------------------------------------
def _one_line(e: BaseException | str) -> str:
    if isinstance(e, OSError) and e.strerror:
        msg = f"{e.strerror}: {e.filename!r}" if e.filename else e.strerror
    else:
        msg = str(e) or type(e).__name__
    msg = re.sub(r"\d{17,}", lambda mt: f"{mt.group(0)[0]}.{mt.group(0)[1]}e+{len(mt.group(0)) - 1}", msg)
    return " ".join(msg.split())


def _parse(argv: list[str]) -> argparse.Namespace:
    source, name = None, None
    try:  # first pass: which command, which SPEC (its source may bring options of its own)
        first, _ = build_parser(strict=False).parse_known_args(argv)
        cmd = COMMANDS.get(first.command)
        if cmd is not None and cmd.takes_spec:
            source, name = config_source(argv, first.spec) or resolve_source(first.spec), cmd.name
    except CLIError:
        pass  # the strict pass reports it properly
    args, extra = build_parser(source=source, command_name=name).parse_known_args(argv)
    unknown = unknown_name(args.spec) if extra and COMMANDS[args.command].takes_spec else None
    if unknown:
        raise CLIError(unknown)  # the flags of a misspelt kind: say the name first
    if extra:
        raise CLIError(f"unrecognized arguments: {' '.join(extra)} (see 'lrkit {args.command} --help')")
    if COMMANDS[args.command].takes_spec:
        args.source = source if source is not None else resolve_source(args.spec)
    args.resolve_source = resolve_source  # for the commands that read more SPECs (compare)
    return args


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 error, 130 interrupted)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    outs: TextIO = sys.stdout if out is None else out
    errs: TextIO = sys.stderr if err is None else err

    def show_warning(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        # a warning (a drop-in's probable mistake) is one line too, said as lrkit says things
        errs.write(f"lrkit: warning: {_one_line(message)}\n")

    try:
        with contextlib.redirect_stdout(outs):  # --help and --version print through argparse
            args = _parse(argv)
        args.err_stream = errs  # progress lines for long runs
        with warnings.catch_warnings():
            # an error is one line: no numpy RuntimeWarning before it
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.showwarning = show_warning
            return COMMANDS[args.command].run(args, outs)
    except SystemExit as e:  # --help, --version
        return e.code if isinstance(e.code, int) else 0
    except BrokenPipeError:  # e.g. lrkit export | head: the reader has what it wanted
        try:
            sys.stdout = open(os.devnull, "w")  # keep the interpreter's final flush quiet
        except OSError:  # pragma: no cover
            pass
        return 0
    except KeyboardInterrupt:
        errs.write("lrkit: interrupted\n")
        return 130
    except (
        CLIError,
        ValueError,
        TypeError,
        OSError,
        ImportError,
        MemoryError,
        OverflowError,
        RecursionError,
        Warning,
    ) as e:  # Warning: one the user made an error (python -W error)
        errs.write(f"lrkit: error: {_one_line(e)}\n")
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
