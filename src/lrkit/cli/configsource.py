"""A trainer's config as the source of ``lrkit show|plot|explain|export``:
``--config FILE [--section S] [--format F] [--steps-per-epoch N] [--group G]``.

The file is read by :func:`lrkit.configs.from_config` (ultralytics' args.yaml,
transformers' TrainingArguments, timm's args.yaml, OpenMMLab's param_scheduler in JSON,
YAML or .py, a LightningCLI config, DeepSpeed, PaddleDetection, PaddleClas). The commands
show the lr of param group ``--group`` (default 0) per position of the config's own unit
(:attr:`~lrkit.configs.ConfigSchedule.unit`), over the run when the config says how long
it is; an ultralytics config shows every group and the momentum, as the ``ultralytics``
recipe does. What the reader assumed is printed on standard error as ``lrkit: note:``
lines.

:func:`config_source` is called with the command line before the SPEC sources: it takes
over when ``--config`` is given and SPEC does not name a recipe (``ppdet`` and ``ppcls``
take a ``--config`` of their own).
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Sequence
from typing import Any

from ..core import Schedule
from ..recipes.registry import registered_recipes
from .common import CLIError, SpecSource, _whole

__all__ = ["config_source", "add_config_arguments"]

_FLAG = "--config"


def _given(argv: Sequence[str]) -> str | None:
    """The value of ``--config`` on the command line (``--config F`` or ``--config=F``), if any."""
    for i, tok in enumerate(argv):
        if tok == "--":
            return None
        if tok == _FLAG:
            return argv[i + 1] if i + 1 < len(argv) else ""
        if tok.startswith(_FLAG + "="):
            return tok[len(_FLAG) + 1 :]
    return None


def add_config_arguments(p: Any) -> None:
    """The options of a config source."""
    from ..configs import FORMATS

    p.add_argument(
        "--config",
        dest="config_file",
        metavar="FILE",
        required=True,
        help="a trainer's config: ultralytics or timm args.yaml, transformers training_args.json, "
        "an OpenMMLab config (.py read without running it, .json, .yaml), a LightningCLI config.yaml, "
        "a DeepSpeed JSON, a PaddleDetection or PaddleClas YAML",
    )
    p.add_argument(
        "--section",
        metavar="S",
        help="the key path of the part to read in a larger file (e.g. scheduler, model.lr_scheduler)",
    )
    p.add_argument(
        "--format",
        dest="config_format",
        choices=list(FORMATS),
        help="the config's format (default: recognised from its keys)",
    )
    p.add_argument(
        "--group", type=_whole("group", 0), default=0, metavar="G", help="the param group to show (default: 0)"
    )
    p.add_argument(
        "--option",
        dest="config_options",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an option of the format's reader (lrkit.configs.from_config), e.g. --option world_size=8, "
        "--option nc=80, --option version=8.3.0; VALUE is read as a YAML scalar or list",
    )


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """``--option NAME=VALUE`` as keyword arguments (VALUE read as YAML: numbers, lists, text)."""
    from ..config import parse_yaml

    out: dict[str, Any] = {}
    for item in args.config_options:
        name, eq, text = item.partition("=")
        name = name.strip().replace("-", "_")
        if not eq or not name.isidentifier():
            raise CLIError(f"--option must be NAME=VALUE (e.g. world_size=8), got {item!r}")
        if name in out:
            raise CLIError(f"--option {name} is given twice")
        try:
            out[name] = parse_yaml(text, f"--option {name}") if text.strip() else None
        except ValueError as e:
            raise CLIError(str(e)) from None
    return out


def _spe(args: argparse.Namespace) -> int | None:
    v = getattr(args, "steps_per_epoch", None)
    if v is None:
        return None
    if not float(v).is_integer():
        raise CLIError(f"--steps-per-epoch must be a whole number of batches with --config, got {v!r}")
    return int(v)


class _Read:
    """The config read once per command (the source's callbacks share it)."""

    def __init__(self) -> None:
        self.got: Any = None

    def __call__(self, args: argparse.Namespace) -> Any:
        if self.got is None:
            from ..configs import from_config

            if getattr(args, "spec", None) is not None:
                raise CLIError(f"give SPEC or --config, not both (SPEC {args.spec!r}; --config {args.config_file!r})")
            try:
                self.got = from_config(
                    args.config_file,
                    format=args.config_format,
                    section=args.section,
                    steps_per_epoch=_spe(args),
                    **_options(args),
                )
            except ValueError as e:
                msg = re.sub(
                    r"\bsteps_per_epoch=",
                    "--steps-per-epoch ",
                    str(e).replace("give steps_per_epoch=", "give --steps-per-epoch"),
                )
                msg = re.sub(r"\bgive (\w+)=", r"give --option \1=", msg)
                raise CLIError(msg) from None
            err = getattr(args, "err_stream", None)
            if err is not None:
                how = "as given by --format" if args.config_format else "recognised from its keys"
                where = f", section {args.section!r}" if args.section else ""
                err.write(f"lrkit: note: read {args.config_file} as {self.got.format} ({how}{where})\n")
                for note in self.got.notes:
                    err.write(f"lrkit: note: {note}\n")
        return self.got


def config_source(argv: Sequence[str], spec: str | None) -> SpecSource | None:
    """The source of ``--config FILE`` (None when it is not given, or SPEC names a recipe that
    takes a ``--config`` of its own)."""
    value = _given(argv)
    if value is None:
        return None
    if spec is not None and spec != value and spec.strip().partition(" ")[0].replace("_", "-") in registered_recipes():
        return None
    read = _Read()

    def build(args: argparse.Namespace) -> Schedule:
        got = read(args)
        lrs = got.schedules
        g = args.group
        if g >= len(lrs):
            if not isinstance(got.lr, list):
                return got.lr  # every group has this lr
            raise CLIError(f"--group {g}: the config has {len(lrs)} param groups (0 to {len(lrs) - 1})")
        return lrs[g]

    def per_epoch(args: argparse.Namespace) -> float | None:
        return read(args).steps_per_epoch  # 1 for a config counted in epochs

    def default_steps(args: argparse.Namespace) -> int | None:
        got = read(args)
        if got.total is None or not math.isfinite(got.total) or got.total < 1:
            return None
        return int(math.ceil(got.total))

    def series(args: argparse.Namespace) -> Any:
        return read(args).recipe

    name = f"--config {value}"

    def run_end(args: argparse.Namespace) -> float | None:
        got = read(args)
        return got.total if got.total is not None and math.isfinite(got.total) and got.total > 0 else None

    src = SpecSource(name, build, add_config_arguments, per_epoch, default_steps, run_end=run_end)
    # an ultralytics config: every group and the momentum, as the ultralytics recipe shows them
    src.series = lambda args: series(args)  # None for the other formats: one curve
    return src
