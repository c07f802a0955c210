"""The ``lrkit`` command line: look at a schedule before training with it.

::

    lrkit show    [SPEC]                 phase table and a terminal plot
    lrkit plot    [SPEC] -o lr.png       PNG/SVG/PDF plot, phases and key points marked
    lrkit export  [SPEC] -n N            position,lr rows (CSV)
    lrkit explain [SPEC] [--lang zh]     what the schedule does, in words (English or Chinese)
    lrkit compare SPEC SPEC ... [-o F]   where schedules differ; overlaid plot
    lrkit list    [KIND]                 the built-in schedule kinds

SPEC may also name a recipe, with the original's parameter names as options:
``lrkit plot yolox-cos --lr 0.01 --min-lr 1e-4 --total-iters 300`` (see :data:`RECIPES`).

How it fits together, so that commands and kinds of SPEC can be added without
touching the rest:

* each command is a :class:`Command` (name, help, ``add_arguments``, ``run``) in
  :data:`COMMANDS`; commands that read a SPEC get the common options from
  :func:`add_spec_arguments`;
* a SPEC is turned into a :class:`SpecSource` by the first function in
  :data:`SPEC_SOURCES` that accepts it (today: a JSON/YAML file or inline text, or
  the default schedule, or a recipe by name). A source may declare options of its
  own (a recipe's original parameter names), its positions per epoch (for
  ``--x-unit epochs``) and how many positions to show by default;
* so the command line is parsed twice: a lenient pass finds the command and SPEC,
  then a strict pass with the source's options added. Those override common options
  of the same name (``conflict_handler="resolve"``): CAWB claims ``--steps`` (its
  restart epochs); the number of positions is ``-n``/``--positions`` everywhere, and
  ``--steps`` on any other SPEC is an error naming ``-n``. A SPEC given by name must
  come right after the command;
* every expected failure (bad spec, file, option) ends as one line,
  ``lrkit: error: ...``, and exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import sys
import textwrap
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Sequence, TextIO

import numpy as np

from .. import __version__
from .._format import number
from ..config import from_dict, load
from ..core import Schedule, registered
from ..tables import compare, comparison_table, distinct_curves, write_columns_csv, write_csv

__all__ = ["main", "Command", "COMMANDS", "SpecSource", "SPEC_SOURCES", "add_spec_arguments", "CLIError",
           "DEFAULT_SPEC", "Recipe", "RECIPES"]

#: The schedule used when SPEC is left out: a 100-step linear warmup into a cosine decay.
DEFAULT_SPEC: dict[str, Any] = {"type": "warmup_cosine", "peak_lr": 0.1, "total_steps": 1000,
                                "warmup_steps": 100, "min_lr": 0.001}

#: More positions than this is almost certainly a typo, and would need gigabytes.
MAX_POSITIONS = 50_000_000
#: show and plot draw a longer run from a sample of SAMPLES positions (every phase
#: boundary kept, at most MAX_MARKS of them); export writes every position.
SAMPLE_ABOVE = 200_000
SAMPLES = 20_000
MAX_MARKS = 20_000
#: Bounds of the drawing options (a larger terminal plot or image is a typo, and takes minutes).
MAX_WIDTH = 1000
MAX_HEIGHT = 500
MAX_DPI = 1000
#: The most pixels of a drawn picture, (W x dpi) x (H x dpi) (lrkit.plot, which imports matplotlib lazily).
from ..plot import MAX_PIXELS  # noqa: E402


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
    from .._files import atomic_open as _open

    return _open(path, "w", what="--csv", encoding="utf-8", newline="")


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
        p.add_argument("spec", nargs="?", metavar="SPEC",
                       help="a .json/.yaml/.yml file, or inline JSON/YAML (default: the warmup_cosine "
                            "in 'lrkit --help')")
    g = p.add_argument_group("positions")
    g.add_argument("-n", "--positions", dest="n_steps", type=_whole("positions"), metavar="N",
                   help="evaluate positions 0 .. N-1 (default: a tenth past the schedule's end, or 1000)")
    # --steps once meant the number of positions, and means CAWB's restart epochs: it is
    # refused with the right name rather than read one way or the other
    g.add_argument("--steps", dest="steps_was_positions", nargs="*", help=argparse.SUPPRESS)
    g.add_argument("--subdivide", type=_whole("subdivide"), default=1, metavar="K",
                   help="K evenly spaced points per position, e.g. the steps per epoch to see an "
                        "epoch schedule per iteration (default: 1)")
    g.add_argument("--steps-per-epoch", type=_positive("steps_per_epoch"), metavar="S",
                   help="converts lengths written in epochs ('2ep') in the spec")
    g.add_argument("--run-steps", type=_positive("run_steps"), metavar="R",
                   help="the whole run, in positions: converts fractions ('10%%') in the spec")


COMMANDS: dict[str, Command] = {}


def command(name: str, help: str, description: str = "", takes_spec: bool = True
            ) -> Callable[[Callable[[argparse.ArgumentParser], None]], Callable[..., Any]]:
    """Decorator pair: ``@command(...)`` on ``add_arguments``, then ``.runner`` on ``run``."""

    def deco(add: Callable[[argparse.ArgumentParser], None]) -> Any:
        def runner(run: Callable[[argparse.Namespace, TextIO], int]) -> Callable[[argparse.Namespace, TextIO], int]:
            COMMANDS[name] = Command(name, help, add, run, description, takes_spec)
            return run

        add.runner = runner  # type: ignore[attr-defined]
        return add

    return deco


def _epilog() -> str:
    kinds = ", ".join(registered())
    default = json.dumps(DEFAULT_SPEC)
    return "\n".join([
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
        *[f"  {r.name}: {r.help}" for r in RECIPES.values()],
        "  lrkit plot yolox-cos --lr 0.01 --min-lr 1e-4 --total-iters 300",
        "  lrkit plot cawb --epochs 45 --steps 15 30 --step-scale 0.7 --batchs 50 --warmup-epoch 5 --x-unit epochs",
        "  lrkit explain yolox-cos --lr 0.01 --min-lr 1e-4 --total-iters 300 --lang zh",
        "  lrkit compare 'yolox-cos --lr 0.01 --min-lr 1e-4 --total-iters 300' "
        "'{\"type\": \"cosine\", \"peak_lr\": 0.01, \"total_steps\": 300}'",
    ])


def build_parser(*, strict: bool = True, source: SpecSource | None = None,
                 command_name: str | None = None) -> argparse.ArgumentParser:
    """The full parser; ``source`` adds its options to the ``command_name`` sub-parser.

    With ``strict=False`` (the first pass) option values are not type-checked and
    ``--help`` is not handled, so the pass can only locate the command and SPEC.
    """
    parser = _Parser(prog="lrkit", formatter_class=_HelpFormatter, allow_abbrev=False, add_help=strict,
                     description="Learning-rate schedules in closed form: look at them, plot them, export them.",
                     epilog=_epilog())
    parser.add_argument("--version", action="version", version=f"lrkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands", parser_class=_Parser)
    sub.required = True
    for cmd in COMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=textwrap.fill(cmd.description or cmd.help, 79),
                           formatter_class=_HelpFormatter, allow_abbrev=False, add_help=strict,
                           conflict_handler="resolve", epilog=_epilog() if cmd.takes_spec else None)
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


# -- where a schedule comes from ------------------------------------------------------------------
def _units(args: argparse.Namespace) -> dict[str, Any]:
    return {"steps_per_epoch": getattr(args, "steps_per_epoch", None), "run_steps": getattr(args, "run_steps", None)}


def _load_text(spec: str, units: dict[str, Any]) -> Schedule:
    text = spec.strip()
    if not text:
        raise CLIError("SPEC is empty: give a .json/.yaml file or inline JSON/YAML")
    if not os.path.exists(text) and re.fullmatch(r"[\w.\-]+", text) and not text.endswith((".json", ".yaml",
                                                                                             ".yml")):
        # a bare word: say what a spec looks like instead of a confusing YAML error
        raise CLIError(f"{text!r} is neither a spec file nor inline JSON/YAML "
                       f"(e.g. '{{\"type\": \"cosine\", \"peak_lr\": 0.1, \"total_steps\": 100}}')")
    try:
        try:
            return load(spec, **units)
        except ValueError as e:
            # inline YAML flow style ({type: cosine, ...}) starts like JSON; read it as YAML
            if str(e).startswith("invalid JSON") and text.startswith("{") and not os.path.exists(text):
                data = _yaml_mapping(text)
                if data is not None:
                    return from_dict(data, **units)
            raise
    except ValueError as e:
        # the loader names its keyword arguments; on the command line they are options
        msg = str(e)
        for name, flag in (("steps_per_epoch", "--steps-per-epoch"), ("run_steps", "--run-steps")):
            msg = msg.replace(f"give {name}", f"give {flag}").replace(f"as the {name}= argument", f"with {flag}")
        if msg == str(e):
            raise
        raise CLIError(msg) from None


def _yaml_mapping(text: str) -> Any:
    try:
        import yaml
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def _text_source(spec: str | None) -> SpecSource:
    if spec is None:
        return SpecSource("default", lambda args: from_dict(DEFAULT_SPEC, **_units(args)))
    if spec == "-":
        return SpecSource("standard input", lambda args: _load_text(_stdin_spec(), _units(args)))
    return SpecSource(spec, lambda args: _load_text(spec, _units(args)))


def _stdin_spec() -> str:
    """The spec piped in (``lrkit show - < spec.yaml``), read once (bounded), as inline text."""
    from .._files import read_text
    from ..config import MAX_SPEC_BYTES

    stream = getattr(sys.stdin, "buffer", sys.stdin)  # bytes where there are: UTF-8 whatever the locale
    if stream is None:
        raise CLIError("SPEC '-' reads the spec from standard input, which is closed")
    text = read_text(stream, "standard input (SPEC '-')", MAX_SPEC_BYTES)
    if not text.strip():
        raise CLIError("SPEC '-' reads the spec from standard input, which is empty")
    return text if "\n" in text.strip() or text.lstrip().startswith(("{", "[")) else text.strip() + "\n"


# -- recipes by name, with the originals' parameter names -------------------------------------------
@dataclass
class Recipe:
    """A recipe usable as SPEC: ``lrkit plot NAME --opt value ...``.

    ``add_arguments`` declares the options (the original's parameter names, written
    with dashes; the underscore spelling is accepted too), ``build`` makes the
    schedule from them. ``positions_per_epoch`` and ``default_steps`` are as in :class:`SpecSource`.
    """

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    build: Callable[[argparse.Namespace], Schedule]
    positions_per_epoch: Callable[[argparse.Namespace], float | None] | None = None
    default_steps: Callable[[argparse.Namespace], int | None] | None = None
    #: several curves of one run (ultralytics' lr per group and momentum), as in :class:`SpecSource`
    series: Callable[[argparse.Namespace], Any] | None = None


def _opt(p: argparse.ArgumentParser, name: str, **kw: Any) -> None:
    """``--min-lr`` and its original spelling ``--min_lr``, same dest."""
    flags = [f"--{name.replace('_', '-')}"] + ([f"--{name}"] if "_" in name else [])
    p.add_argument(*flags, dest=name, **kw)


def _yolox_common(p: argparse.ArgumentParser) -> None:
    _opt(p, "lr", type=float, required=True, metavar="LR", help="peak learning rate")
    _opt(p, "min_lr", type=float, required=True, metavar="LR", help="floor learning rate")
    _opt(p, "total_iters", type=float, required=True, metavar="T",
         help="run length, in the positions f is called with (epochs in the YOLOX-style scripts)")


def _yolox_cos_args(p: argparse.ArgumentParser) -> None:
    _yolox_common(p)
    _opt(p, "warmup_iters_ratio", type=float, default=0.1, metavar="R",
         help="warmup length = R * total_iters, clamped to [1, 3] (default: 0.1)")
    _opt(p, "warmup_lr_ratio", type=float, default=0.1, metavar="R",
         help="warmup start = max(R * lr, 1e-6) (default: 0.1)")
    _opt(p, "no_aug_iter_ratio", type=float, default=0.3, metavar="R",
         help="flat min_lr tail = R * total_iters, clamped to [1, 15] (default: 0.3)")


def _yolox_step_args(p: argparse.ArgumentParser) -> None:
    _yolox_common(p)
    _opt(p, "step_num", type=float, default=10, metavar="K", help="number of plateaus, >= 2 (default: 10)")


def _cawb_args(p: argparse.ArgumentParser) -> None:
    _opt(p, "epochs", type=float, required=True, metavar="E", help="number of epochs")
    _opt(p, "eta_min", type=float, default=0.05, metavar="R",
         help="floor of each cosine, a ratio of the base lr (default: 0.05)")
    _opt(p, "steps", type=float, nargs="*", default=[], metavar="EPOCH",
         help="restart epochs (the number of positions is then -n)")
    _opt(p, "step_scale", type=float, default=0.8, metavar="S", help="peak factor at each restart (default: 0.8)")
    _opt(p, "lf", choices=["cos", "linear"], default=None,
         help="named decay function instead of the built-in cosine, with --lf-amplitude and --lf-floor")
    _opt(p, "lf_amplitude", type=float, default=None, metavar="A", help="lf amplitude (default: 1 - eta_min)")
    _opt(p, "lf_floor", type=float, default=None, metavar="F", help="lf floor (default: eta_min)")
    _opt(p, "batchs", type=float, default=0, metavar="B",
         help="batches per epoch; > 0 gives one position per batch, warmup included (default: 0, per epoch)")
    _opt(p, "warmup_epoch", type=float, default=0, metavar="E",
         help="linear warmup epochs (a ramp with --batchs; with batchs 0 it only shifts the cosine)")
    _opt(p, "epoch_scale", type=float, default=1.0, metavar="S",
         help="added to every cosine period but the last (default: 1.0)")


def _cawb_build(a: argparse.Namespace) -> Schedule:
    from ..recipes import CAWB

    return CAWB(a.epochs, eta_min=a.eta_min, steps=a.steps, step_scale=a.step_scale, lf=a.lf, batchs=a.batchs,
                warmup_epoch=a.warmup_epoch, epoch_scale=a.epoch_scale, lf_amplitude=a.lf_amplitude,
                lf_floor=a.lf_floor)


def _tv_args(p: argparse.ArgumentParser) -> None:
    _opt(p, "warmup_iters", type=float, required=True, metavar="N", help="warmup iterations")
    _opt(p, "warmup_factor", type=float, default=0.001, metavar="F",
         help="multiplier at iteration 0 (default: 0.001, torchvision's 1/1000)")


def _yolox_cos(a: argparse.Namespace) -> Schedule:
    from ..recipes import YoloxCos

    return YoloxCos(a.lr, a.min_lr, a.total_iters, a.warmup_iters_ratio, a.warmup_lr_ratio, a.no_aug_iter_ratio)


def _yolox_step(a: argparse.Namespace) -> Schedule:
    from ..recipes import YoloxStep

    return YoloxStep(a.lr, a.min_lr, a.total_iters, a.step_num)


def _tv_build(a: argparse.Namespace) -> Schedule:
    from ..recipes import TorchvisionWarmup

    return TorchvisionWarmup(a.warmup_iters, a.warmup_factor)


def _ultralytics_args(p: argparse.ArgumentParser) -> None:
    from ..recipes.ultralytics import CHECKED

    _opt(p, "lr0", type=float, default=0.01, metavar="LR", help="initial lr of every group (default: 0.01)")
    _opt(p, "lrf", type=float, default=0.01, metavar="F", help="final lr = lr0 * lrf (default: 0.01)")
    _opt(p, "epochs", type=_whole("epochs"), required=True, metavar="E", help="number of epochs")
    _opt(p, "batches", type=_whole("batches"), required=True, metavar="NB", help="batches (iterations) per epoch")
    _opt(p, "warmup_epochs", type=float, default=3.0, metavar="W", help="warmup epochs (default: 3.0)")
    _opt(p, "warmup_bias_lr", type=float, default=0.1, metavar="LR", help="the biases' lr at iteration 0 "
         "(default: 0.1)")
    _opt(p, "warmup_momentum", type=float, default=0.8, metavar="M", help="momentum at iteration 0 (default: 0.8)")
    _opt(p, "momentum", type=float, default=0.937, metavar="M", help="momentum after the warmup (default: 0.937)")
    _opt(p, "cos_lr", action="store_true", help="lf a cosine (one_cycle) instead of a straight line")
    _opt(p, "version", default=CHECKED, metavar="V",
         help=f"the trainer's rules: an ultralytics 8.x version or yolov5 (default: {CHECKED})")


def _ultralytics_recipe(a: argparse.Namespace) -> Any:
    from ..recipes import ultralytics_schedules

    return ultralytics_schedules(a.lr0, a.lrf, a.epochs, a.batches, warmup_epochs=a.warmup_epochs,
                                 warmup_bias_lr=a.warmup_bias_lr, warmup_momentum=a.warmup_momentum,
                                 momentum=a.momentum, cos_lr=a.cos_lr, version=a.version)


def _read_config(path: str) -> Any:
    """A PaddleDetection / PaddleClas YAML file (PaddleDetection's ``!Name`` tags read as data)."""
    from .._files import read_text
    from ..config import MAX_SPEC_BYTES
    from ..convert.ppdet import load_ppdet_yaml

    data = load_ppdet_yaml(read_text(path, "--config", MAX_SPEC_BYTES))
    if not isinstance(data, dict):
        raise CLIError(f"--config {path!r} is not a YAML mapping")
    return data


def _ppdet_args(p: argparse.ArgumentParser) -> None:
    _opt(p, "config", required=True, metavar="FILE",
         help="PaddleDetection YAML holding LearningRate (its base_lr and schedulers; _BASE_ files are not followed)")
    _opt(p, "step_per_epoch", type=_whole("step_per_epoch"), required=True, metavar="N", help="iterations per epoch")


def _ppdet_build(a: argparse.Namespace) -> Schedule:
    from ..convert.ppdet import from_ppdet

    data = _read_config(a.config)
    if "LearningRate" not in data and "schedulers" not in data:
        raise CLIError(f"--config {a.config!r} has no LearningRate section (PaddleDetection's _BASE_ files are not "
                       "followed: give the file that holds it, often configs/*/_base_/optimizer_*.yml)")
    return from_ppdet(data, a.step_per_epoch)


def _ppcls_args(p: argparse.ArgumentParser) -> None:
    _opt(p, "config", required=True, metavar="FILE", help="PaddleClas YAML holding Optimizer.lr (or the lr section)")
    _opt(p, "epochs", type=_whole("epochs"), default=None, metavar="E", help="epochs (default: the config's "
         "Global.epochs)")
    _opt(p, "step_each_epoch", type=_whole("step_each_epoch"), required=True, metavar="N",
         help="iterations per epoch")


def _ppcls_build(a: argparse.Namespace) -> Schedule:
    from ..convert.ppcls import from_ppcls

    data = _read_config(a.config)
    top = data.get("Global")
    epochs = a.epochs if a.epochs is not None else top.get("epochs") if isinstance(top, dict) else None
    if epochs is None:
        raise CLIError(f"--config {a.config!r} has no Global.epochs: give --epochs")
    lr = data["Optimizer"]["lr"] if isinstance(data.get("Optimizer"), dict) and "lr" in data["Optimizer"] else data
    return from_ppcls(lr, epochs, a.step_each_epoch)


def _run_length(value: float) -> int:
    return max(2, math.ceil(value))


#: The recipes SPEC can name; both ``yolox-cos`` and ``yolox_cos`` are accepted.
RECIPES: dict[str, Recipe] = {r.name: r for r in [
    Recipe("yolox-cos", "YOLOX get_lr_scheduler('cos', lr, min_lr, total_iters, ...)", _yolox_cos_args, _yolox_cos,
           default_steps=lambda a: _run_length(a.total_iters)),
    Recipe("yolox-step", "YOLOX get_lr_scheduler('step', lr, min_lr, total_iters, step_num=...)", _yolox_step_args,
           _yolox_step, default_steps=lambda a: _run_length(a.total_iters)),
    Recipe("cawb", "CosineAnnealingWarmbootingLR(epochs, eta_min, steps, step_scale, lf, batchs, warmup_epoch, "
           "epoch_scale): the multiplier per batch (or per epoch with batchs 0)", _cawb_args, _cawb_build,
           positions_per_epoch=lambda a: a.batchs if a.batchs > 0 else 1.0,
           default_steps=lambda a: _run_length(a.epochs * (a.batchs if a.batchs > 0 else 1.0))),
    Recipe("torchvision-warmup", "torchvision detection warmup_lr_scheduler(optimizer, warmup_iters, "
           "warmup_factor): the multiplier per iteration", _tv_args, _tv_build),
    Recipe("ultralytics", "ultralytics YOLO trainer (lr0, lrf, epochs, batches, warmup_epochs, warmup_bias_lr, "
           "warmup_momentum, momentum, cos_lr): the lr of each param group and the momentum per iteration",
           _ultralytics_args, lambda a: _ultralytics_recipe(a).lr[0],
           positions_per_epoch=lambda a: float(a.batches), default_steps=lambda a: a.epochs * a.batches,
           series=_ultralytics_recipe),
    Recipe("ppdet", "PaddleDetection LearningRate config (--config FILE --step-per-epoch N): the lr per iteration",
           _ppdet_args, _ppdet_build, positions_per_epoch=lambda a: float(a.step_per_epoch)),
    Recipe("ppcls", "PaddleClas Optimizer.lr config (--config FILE --step-each-epoch N [--epochs E]): the lr per "
           "iteration (needs paddle)", _ppcls_args, _ppcls_build, positions_per_epoch=lambda a: float(a.step_each_epoch)),
]}


def _recipe_source(spec: str | None) -> SpecSource | None:
    """A recipe by name; ``"NAME --opt v ..."`` in one argument (for compare) carries its own options."""
    if spec is None:
        return None
    head, _, rest = spec.strip().partition(" ")
    recipe = RECIPES.get(head.replace("_", "-"))
    if recipe is None:
        return None
    if not rest.strip():
        return SpecSource(recipe.name, recipe.build, recipe.add_arguments, recipe.positions_per_epoch, recipe.default_steps,
                          recipe.series)
    import shlex

    p = _Parser(prog=f"lrkit: {recipe.name}", add_help=False, allow_abbrev=False)
    recipe.add_arguments(p)
    try:
        own = p.parse_args(shlex.split(rest))
    except CLIError as e:
        raise CLIError(f"in SPEC {spec!r}: {str(e).split(' (see ')[0]}") from None

    def per(fn: Callable[[argparse.Namespace], Any] | None) -> Callable[[argparse.Namespace], Any] | None:
        return None if fn is None else (lambda args: fn(own))

    return SpecSource(recipe.name, lambda args: recipe.build(own), None, per(recipe.positions_per_epoch),
                      per(recipe.default_steps))


# -- built-in kinds by name, with flags generated from their declarations ---------------------------
_KIND_PREFIX = "kind__"


def _kind_value(param: Any) -> Callable[[str], Any]:
    """Parse one flag's text for ``param``: numbers as numbers, lengths may carry a unit
    ("2ep", "10%"), nested schedules are JSON/YAML specs, choices and booleans as words."""
    def parse(text: str) -> Any:
        if param.unit in ("schedule", "schedules"):
            data = _yaml_mapping(text) if not text.lstrip().startswith("[") else None
            if data is None:
                try:
                    data = json.loads(text)
                except ValueError:
                    raise argparse.ArgumentTypeError(f"must be a schedule spec (JSON or YAML), got {_short(text)}")
            return data
        if param.unit == "bool":
            low = text.strip().lower()
            if low in ("true", "yes", "1"):
                return True
            if low in ("false", "no", "0"):
                return False
            raise argparse.ArgumentTypeError(f"must be true or false, got {_short(text)}")
        if param.unit == "choice":
            return text
        try:
            return float(text)
        except ValueError:
            if param.is_length:
                return text  # "2ep", "10%": converted with --steps-per-epoch / --run-steps
            raise argparse.ArgumentTypeError(f"must be a number, got {_short(text)}") from None

    parse.__name__ = param.name
    return parse


def _kind_source(spec: str | None) -> SpecSource | None:
    """A built-in kind by name (``cosine``, ``warmup-cosine``): its parameters become flags."""
    if spec is None or spec.strip() != spec or not re.fullmatch(r"[A-Za-z][\w-]*", spec):
        return None
    kind = spec.replace("-", "_").lower()
    cls = registered().get(kind)
    if cls is None or os.path.exists(spec):
        return None

    def add(p: argparse.ArgumentParser) -> None:
        for param in cls.params:
            flags = [f"--{param.name.replace('_', '-')}"] + ([f"--{param.name}"] if "_" in param.name else [])
            kw: dict[str, Any] = {"dest": _KIND_PREFIX + param.name, "type": _kind_value(param),
                                  "help": param.doc or param.unit}
            if param.unit == "choice":
                kw["choices"] = list(param.choices)
            if param.unit in ("lengths", "reals", "rates", "schedules"):
                kw["nargs"] = "+"
            if param.required:
                kw["required"] = True
            else:
                kw["help"] += f" (default: {param.default!r})"
            metavar = {"choice": None, "bool": "BOOL", "schedule": "SPEC", "schedules": "SPEC"}.get(
                param.unit, "LEN" if param.is_length else "X")
            if metavar:
                kw["metavar"] = metavar
            p.add_argument(*flags, **kw)

    def build(args: argparse.Namespace) -> Schedule:
        data: dict[str, Any] = {"type": kind}
        for param in cls.params:
            v = getattr(args, _KIND_PREFIX + param.name, None)
            if v is not None:
                data[param.name] = v
        return from_dict(data, **_units(args))

    return SpecSource(kind, build, add)


#: Functions ``SPEC text (or None) -> SpecSource or None``, tried in order; the last accepts anything.
SPEC_SOURCES: list[Callable[[str | None], SpecSource | None]] = [_recipe_source, _kind_source, _text_source]


def resolve_source(spec: str | None) -> SpecSource:
    for resolve in SPEC_SOURCES:
        src = resolve(spec)
        if src is not None:
            return src
    raise CLIError(f"cannot read SPEC {spec!r}")  # pragma: no cover - _text_source accepts everything


def _schedule(args: argparse.Namespace) -> Schedule:
    if getattr(args, "steps_was_positions", None) is not None:
        raise CLIError("--steps is not an option here: the number of positions is -n/--positions "
                       "(--steps is CAWB's restart epochs)")
    return args.source.build(args)


def _default_n(source: SpecSource | None, args: argparse.Namespace, schedule: Schedule) -> int:
    from ..plot import default_steps

    if source is not None and source.default_steps is not None:
        n = source.default_steps(args)
        if n is not None:
            return n
    n = default_steps(schedule)
    if not math.isfinite(schedule.length) and args.run_steps is not None:
        n = math.ceil(args.run_steps)
    return n


def _positions(args: argparse.Namespace, schedule: Schedule, *, sample: bool = False) -> np.ndarray:
    """The positions to evaluate: all of them (export), or, for a picture of a long run
    (``sample=True``), an even sample with every phase boundary kept exactly."""
    from ..plot import positions

    n = args.n_steps
    if n is None:
        n = _default_n(getattr(args, "source", None), args, schedule)
    if sample and n * args.subdivide > SAMPLE_ABOVE:
        return sampled_positions(schedule, n, args.subdivide)
    if n * args.subdivide > MAX_POSITIONS:
        raise CLIError(f"-n {n} x --subdivide {args.subdivide} is {n * args.subdivide:,} positions; "
                       f"at most {MAX_POSITIONS:,}")
    return positions(n, args.subdivide)


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
    marks = []
    for p in schedule.phases():
        if len(marks) >= 2 * MAX_MARKS:
            break
        if 0 < p.start < n:
            j = math.ceil(p.start * k)
            marks += [j - 1, j]
    # a stepwise phase (step, multistep) has no phase per drop: its drops are every step_size
    for name in ("step_size",):
        size = getattr(schedule, name, None)
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
        raise CLIError("--x-unit epochs needs the positions per epoch: give --steps-per-epoch "
                       "(a recipe like cawb knows its own, --batchs)")
    return k


def _evaluate(args: argparse.Namespace, schedule: Schedule, x: np.ndarray, desc: str) -> np.ndarray:
    """``schedule(x)`` in chunks, with a progress line on stderr if it takes more than a second."""
    from ..lrlog import Progress

    chunk = 1 << 20
    if x.size <= chunk:
        return schedule(x)
    out = np.empty_like(x)
    with Progress(x.size, desc, stream=_err(args), unit="positions", enabled=_tty(_err(args))) as bar:
        for i in range(0, x.size, chunk):
            out[i:i + chunk] = schedule(x[i:i + chunk])
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
    g.add_argument("--base-lrs", "--group-lrs", dest="base_lrs", type=_positive("base_lrs"), nargs="+",
                   metavar="LR", help="one curve per param group: LR * schedule, e.g. --base-lrs 0.1 0.01 for a "
                                      "multiplier schedule (torchvision-warmup, cawb)")


# -- commands ----------------------------------------------------------------------------------------
@command("show", "print the phase table and a terminal plot",
         "Print the schedule's phases (name, start, end, values) and a compact plot drawn with "
         "text characters (braille dots, or ASCII with --ascii); works over SSH.")
def _show_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("plot")
    g.add_argument("--width", type=_whole("width", 10, MAX_WIDTH), default=None,
                   help=f"plot width in characters, at most {MAX_WIDTH} (default: the terminal's width, "
                        "or 60 when the output is not a terminal)")
    g.add_argument("--height", type=_whole("height", 3, MAX_HEIGHT), default=15,
                   help=f"plot height in lines, at most {MAX_HEIGHT} (default: 15)")
    g.add_argument("--ascii", action="store_true", help="plain ASCII instead of braille dots")
    g.add_argument("--log", action="store_true", help="log-scale y axis")
    g.add_argument("--no-plot", action="store_true", help="only the phase table")


@_show_args.runner
def _show(args: argparse.Namespace, out: TextIO) -> int:
    from ..plot import spec_label
    from ..textplot import can_encode_unicode, text_plot

    if _series_of(args) is not None:
        return _show_series(args, out)
    s = _schedule(args)
    parts = [spec_label(s), "", s.describe()]
    if not args.no_plot:
        x = _positions(args, s, sample=True)
        ascii_only = args.ascii or not can_encode_unicode(out)
        marks = sorted({p.start for p in s.phases()})
        parts += ["", text_plot(x, s(x), width=_plot_width(args, out), height=args.height, marks=marks, log=args.log,
                                ascii=ascii_only)]
    out.write("\n".join(parts) + "\n")
    return 0


def _series_of(args: argparse.Namespace) -> Any:
    """The source's several curves (ultralytics' groups and momentum), or None."""
    src = getattr(args, "source", None)
    fn = getattr(src, "series", None)
    if fn is None:
        return None
    if getattr(args, "base_lrs", None):
        raise CLIError(f"--base-lrs does not apply to {src.name}: it gives each param group's lr itself")
    return fn(args)


def _show_series(args: argparse.Namespace, out: TextIO) -> int:
    from ..textplot import can_encode_unicode, text_plot

    u = _series_of(args)
    curves = u.series()
    first = next(iter(curves.values()))
    x = _positions(args, first, sample=True)
    parts = [f"{args.source.name}: " + ", ".join(curves), "", u.explain("en")]
    if not args.no_plot:
        ascii_only = args.ascii or not can_encode_unicode(out)
        marks = [float(u.warmup_iters)] if u.warmup_iters else []
        for names, y in distinct_curves(curves, x):
            parts += ["", " = ".join(names), text_plot(x, y, width=_plot_width(args, out), height=args.height, marks=marks,
                                          log=args.log, ascii=ascii_only)]
    out.write("\n".join(parts) + "\n")
    return 0


@command("export", "write position,lr rows (CSV)",
         "Evaluate the schedule once over positions 0 .. N-1 (K points each with --subdivide) and "
         "write 'position,lr' rows, to stdout or to --csv FILE. Values are printed in full "
         "precision (they read back as the same float64). With --base-lrs, one column per param "
         "group (group0, group1, ...: base * schedule).")
def _export_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("output")
    g.add_argument("--csv", metavar="FILE", help="write to FILE instead of stdout ('-': stdout)")
    g.add_argument("--every", type=_whole("every"), default=1, metavar="K",
                   help="keep every K-th row (default: 1, all)")
    g.add_argument("--no-header", action="store_true", help="leave out the 'position,lr' header")
    _base_lrs_arg(g)


@_export_args.runner
def _export(args: argparse.Namespace, out: TextIO) -> int:
    from ..lrlog import Progress

    u = _series_of(args)
    s = _schedule(args) if u is None else next(iter(u.series().values()))
    x = _positions(args, s)[::args.every]
    to_file = bool(args.csv and args.csv != "-")
    with contextlib.ExitStack() as stack:
        fh = stack.enter_context(atomic_open(args.csv)) if to_file else out
        bar = stack.enter_context(Progress(x.size, "export", stream=_err(args), unit="rows",
                                           enabled=_tty(_err(args))))
        if u is None:
            write_csv(fh, s, x, base_lrs=args.base_lrs, header=not args.no_header, progress=bar.update)
        else:
            write_columns_csv(fh, {k.replace(" ", "_"): v for k, v in u.series().items()}, x,
                              header=not args.no_header, progress=bar.update)
    if to_file:
        _err(args).write(f"wrote {args.csv} ({x.size:,} rows)\n")
    return 0


@command("plot", "draw the schedule to a PNG, SVG or PDF file",
         "Draw the schedule with matplotlib (needs lrkit[plot]); the file type follows the "
         "extension of -o. Phase boundaries are dashed lines with the phase names on top; the peak, "
         "the restarts, the start of a flat tail and the final value are marked; the title shows "
         "the spec.")
def _plot_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("output")
    g.add_argument("-o", "--output", default="lr.png", metavar="FILE",
                   help="output file, .png/.svg/.pdf (default: lr.png)")
    g.add_argument("--log", action="store_true", help="log-scale y axis")
    g.add_argument("--title", help="title (default: the spec)")
    g.add_argument("--dpi", type=_whole("dpi", 10, MAX_DPI), default=150,
                   help=f"resolution of PNG output, at most {MAX_DPI}, and at most {MAX_PIXELS // 1_000_000} "
                        "megapixels with --size: (W x dpi) x (H x dpi) (default: 150)")
    g.add_argument("--x-unit", choices=["steps", "epochs"], default="steps",
                   help="x axis in positions (steps) or epochs: position / positions per epoch (a recipe's "
                        "own, e.g. cawb --batchs, else --steps-per-epoch)")
    g.add_argument("--no-annotate", action="store_true", help="leave out the key-point labels")
    _figure_args(g)
    _base_lrs_arg(g)


def _check_picture(args: argparse.Namespace, legend_height: float = 0.0) -> None:
    """--size at --dpi within MAX_PIXELS, said before any schedule is built or evaluated."""
    from ..plot import _check_pixels

    w, h = args.size
    _check_pixels((w, h), args.dpi, (w, h + legend_height) if legend_height else None, names=("--size", "--dpi"))


@_plot_args.runner
def _plot(args: argparse.Namespace, out: TextIO) -> int:
    from ..plot import save_plot

    _check_picture(args)
    u = _series_of(args)
    if u is not None:
        from ..plot import save_series

        curves = u.series()
        x = _positions(args, next(iter(curves.values())), sample=True)
        lrs = {k: v for k, v in curves.items() if k != "momentum"}
        title = args.title if args.title is not None else (
            f"{args.source.name} {u.rules.version}: lr per param group and momentum, "
            f"{u.settings['epochs']} epochs x {u.settings['batches']} batches")
        save_series(lrs, args.output, x, secondary={"momentum": curves["momentum"]},
                    marks=[("warmup end", float(u.warmup_iters))] if u.warmup_iters else [], log=args.log,
                    title=title, steps_per_epoch=_x_unit(args), dpi=args.dpi, size=tuple(args.size),
                    font_size=args.font_size)
        out.write(f"wrote {args.output}\n")
        return 0
    s = _schedule(args)
    per = _x_unit(args)
    x = _positions(args, s, sample=True)
    y = _evaluate(args, s, x, "evaluate")
    save_plot(s, args.output, x, log=args.log, title=args.title if args.title is not None else True,
              dpi=args.dpi, steps_per_epoch=per, groups=args.base_lrs, annotate=not args.no_annotate, values=y,
              size=tuple(args.size), font_size=args.font_size)
    out.write(f"wrote {args.output}\n")
    return 0


@command("explain", "describe the schedule in words (English or Chinese)",
         "Say what the schedule does in plain language: its phases with their lengths and values, "
         "the clamps and quirks of the recipes, generated from the schedule itself. --lang zh "
         "writes Simplified Chinese.")
def _explain_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="language (default: en)")


@_explain_args.runner
def _explain(args: argparse.Namespace, out: TextIO) -> int:
    from ..explain import explain

    u = _series_of(args)
    if u is not None:
        out.write(u.explain(args.lang) + "\n")
        return 0
    s = _schedule(args)
    out.write(explain(s, args.lang, steps_per_epoch=_per_epoch(args)) + "\n")
    return 0


@command("compare", "overlay several schedules and show where they differ most",
         "Evaluate every SPEC over the same positions and print, for each one after the first, "
         "where it first departs from the first and where the difference is largest; with -o, "
         "also draw them overlaid with a legend.", takes_spec=False)
def _compare_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("specs", nargs="+", metavar="SPEC", help="two or more .json/.yaml files or inline JSON/YAML")
    add_spec_arguments(p, spec=False)
    g = p.add_argument_group("output")
    g.add_argument("-o", "--output", metavar="FILE", help="also draw the curves to FILE (.png/.svg/.pdf)")
    g.add_argument("--log", action="store_true", help="log-scale y axis")
    g.add_argument("--title", help="plot title (default: what is compared over which positions)")
    g.add_argument("--dpi", type=_whole("dpi", 10, MAX_DPI), default=150,
                   help=f"resolution of PNG output, at most {MAX_DPI}, and at most {MAX_PIXELS // 1_000_000} "
                        "megapixels with --size: (W x dpi) x (H x dpi) (default: 150)")
    _figure_args(g)


def _figure_args(g: Any) -> None:
    g.add_argument("--size", type=float, nargs=2, metavar=("W", "H"), default=(8.0, 4.5),
                   help="figure width and height in inches, 1 to 50 (default: 8 4.5)")
    g.add_argument("--font-size", type=float, metavar="PT", default=None,
                   help="base font size in points, 4 to 40 (default: matplotlib's, 10)")


def _source_name(text: str, schedule: Schedule) -> str:
    """How a compared SPEC is named in the legend: its file name, its recipe name, else its spec."""
    from ..plot import spec_label

    if os.path.isfile(text):
        return os.path.basename(text)
    if text.replace("_", "-") in {r.replace("_", "-") for r in RECIPES}:
        return text
    return spec_label(schedule)


@_compare_args.runner
def _compare(args: argparse.Namespace, out: TextIO) -> int:
    from ..plot import positions, spec_label

    if len(args.specs) < 2:
        raise CLIError("compare needs at least two SPECs")
    if args.output:
        _check_picture(args, 0.25 * len(args.specs))  # save_overlay's room for the legend
    sources = [resolve_source(text) for text in args.specs]
    scheds = [src.build(args) for src in sources]
    n = args.n_steps or max(_default_n(src, args, s) for src, s in zip(sources, scheds))
    if n * args.subdivide > MAX_POSITIONS:
        raise CLIError(f"-n {n} x --subdivide {args.subdivide} is more than {MAX_POSITIONS:,} positions")
    x = positions(n, args.subdivide)
    names = [spec_label(s) for s in scheds]
    lines = [f"{i + 1}  {name}" for i, name in enumerate(names)]
    lines += ["", f"compared with 1 over positions {_num(x[0])} .. {_num(x[-1])}:", ""]
    lines += comparison_table(compare(scheds, x))
    out.write("\n".join(lines) + "\n")
    if args.output:
        from ..plot import save_overlay

        legend = [f"{i + 1}: {_source_name(t, sc)}" for i, (t, sc) in enumerate(zip(args.specs, scheds))]
        title = args.title if args.title is not None else (
            f"{len(scheds)} schedules over positions {_num(x[0])} .. {_num(x[-1])}: rings mark the largest "
            "difference from 1")
        save_overlay(dict(zip(legend, scheds)), args.output, x, log=args.log, title=title, dpi=args.dpi,
                     size=tuple(args.size), font_size=args.font_size)
        out.write(f"wrote {args.output}\n")
    return 0


def _num(v: float) -> str:
    return number(v)


@command("list", "list the built-in schedule kinds",
         "List every built-in schedule kind with its parameters and a one-line summary; "
         "'lrkit list KIND' prints that kind's full documentation.", takes_spec=False)
def _list_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", nargs="?", metavar="KIND", help="one schedule kind (or recipe) to document in full")


@_list_args.runner
def _list(args: argparse.Namespace, out: TextIO) -> int:
    kinds = registered()
    recipe = RECIPES.get((args.kind or "").replace("_", "-"))
    if recipe is not None and args.kind.replace("-", "_") not in kinds:
        # a recipe that is not a kind (ultralytics, ppdet, ppcls): what it is and its options
        p = _Parser(prog=f"lrkit plot {recipe.name}", add_help=False, allow_abbrev=False,
                    formatter_class=_HelpFormatter)
        recipe.add_arguments(p)
        out.write(f"{recipe.name} (a recipe): {recipe.help}\n\n{p.format_help()}")
        return 0
    if args.kind is not None:
        args.kind = args.kind.replace("-", "_")
        if args.kind not in kinds:
            from ..core import suggest

            raise CLIError(f"unknown schedule kind {args.kind!r}{suggest(args.kind, kinds)}")
        cls = kinds[args.kind]
        out.write(f"{args.kind}: {_signature(cls)}\n\n{_plain(_doc(cls))}\n")
        return 0
    from ..catalog import summary

    width = max(len(k) for k in kinds)
    for k, cls in kinds.items():
        out.write(f"{k.ljust(width)}  {_signature(cls)}\n{' ' * (width + 2)}{summary(cls)}\n"
                  f"{' ' * (width + 2)}{_plain(cls.formula).replace('`', '')}\n")
    return 0


def _doc(cls: type) -> str:
    import inspect

    return inspect.getdoc(cls) or ""


def _plain(text: str) -> str:
    return text.replace("``", "")


def _signature(cls: type) -> str:
    from ..catalog import signature

    return signature(cls)[len(cls.__name__):]


# -- entry point --------------------------------------------------------------------------------------
def _one_line(e: BaseException) -> str:
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
            source, name = resolve_source(first.spec), cmd.name
    except CLIError:
        pass  # the strict pass reports it properly
    args, extra = build_parser(source=source, command_name=name).parse_known_args(argv)
    if extra:
        raise CLIError(f"unrecognized arguments: {' '.join(extra)} (see 'lrkit {args.command} --help')")
    if COMMANDS[args.command].takes_spec:
        args.source = source if source is not None else resolve_source(args.spec)
    return args


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 2 error, 130 interrupted)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    try:
        with contextlib.redirect_stdout(out):  # --help and --version print through argparse
            args = _parse(argv)
        args.err_stream = err  # progress lines for long runs
        with warnings.catch_warnings():
            # an error is one line: no numpy RuntimeWarning before it
            warnings.simplefilter("ignore", RuntimeWarning)
            # a warning (a drop-in's probable mistake) is one line too, said as lrkit says things
            warnings.showwarning = lambda message, category, *rest: err.write(  # type: ignore[assignment]
                f"lrkit: warning: {_one_line(message)}\n")
            return COMMANDS[args.command].run(args, out)
    except SystemExit as e:  # --help, --version
        return e.code if isinstance(e.code, int) else 0
    except BrokenPipeError:  # e.g. lrkit export | head: the reader has what it wanted
        try:
            sys.stdout = open(os.devnull, "w")  # keep the interpreter's final flush quiet
        except OSError:  # pragma: no cover
            pass
        return 0
    except KeyboardInterrupt:
        err.write("lrkit: interrupted\n")
        return 130
    except (CLIError, ValueError, TypeError, OSError, ImportError, MemoryError, OverflowError,
            RecursionError, Warning) as e:  # Warning: one the user made an error (python -W error)
        err.write(f"lrkit: error: {_one_line(e)}\n")
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
