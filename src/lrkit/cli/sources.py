"""Where a SPEC comes from: a recipe by name (its declared parameters as options), a
built-in kind by name (its declared parameters as flags), a JSON/YAML file or inline
text, standard input (``-``), or the default schedule.

Each source function takes the SPEC text (or None) and gives a :class:`SpecSource`, or
None to let the next one try; :data:`SPEC_SOURCES` is their order.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .._files import read_text
from ..config import MAX_SPEC_BYTES, from_dict, load
from ..core import Schedule, registered
from ..rangetest import RULES, RangeTestResult
from ..recipes.registry import LIST_UNITS, Option, Recipe, registered_recipes
from .common import DEFAULT_SPEC, CLIError, SpecSource, _HelpFormatter, _Parser, _short, _whole, units
from .runsource import run_source

__all__ = [
    "RECIPES",
    "SPEC_SOURCES",
    "recipe_source",
    "kind_source",
    "text_source",
    "rangetest_source",
    "RangeTestSource",
    "add_recipe_arguments",
    "recipe_values",
    "recipe_parser",
]


def _load_text(spec: str, units: dict[str, Any]) -> Schedule:
    text = spec.strip()
    if not text:
        raise CLIError("SPEC is empty: give a .json/.yaml file or inline JSON/YAML")
    if _bare_word(text):
        raise CLIError(_unknown_word(text))
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


def _bare_word(text: str) -> bool:
    """Whether SPEC is a bare word (a name, not a file, not inline JSON/YAML)."""
    return (
        not os.path.exists(text)
        and re.fullmatch(r"[\w.\-]+", text) is not None
        and not text.endswith((".json", ".yaml", ".yml"))
    )


def _unknown_word(text: str) -> str:
    """What to say of a bare word that names no kind, recipe or file: the closest name, if any
    (``cosin`` -> ``cosine``), and what a spec looks like."""
    names = sorted({k.replace("_", "-") for k in registered()} | set(registered_recipes()))
    close = difflib.get_close_matches(text.replace("_", "-").lower(), names, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else " (lrkit list: the kinds and recipes by name)"
    return (
        f"{text!r} is not a built-in kind, a recipe, a spec file or inline JSON/YAML{hint} "
        f"(inline, e.g. '{{\"type\": \"cosine\", \"peak_lr\": 0.1, \"total_steps\": 100}}')"
    )


def unknown_name(spec: str | None) -> str | None:
    """The error for a SPEC that is a bare word naming no kind, recipe or file (with the
    closest name), or None."""
    if not spec or not _bare_word(spec.strip()) or recipe_source(spec) is not None or kind_source(spec) is not None:
        return None
    return _unknown_word(spec.strip())


def text_source(spec: str | None) -> SpecSource:
    """A .json/.yaml file or inline JSON/YAML (``-``: standard input; None: :data:`DEFAULT_SPEC`)."""
    if spec is None:
        return SpecSource("default", lambda args: from_dict(DEFAULT_SPEC, **units(args)))
    if spec == "-":
        return SpecSource("standard input", lambda args: _load_text(_stdin_spec(), units(args)))
    return SpecSource(spec, lambda args: _load_text(spec, units(args)))


def _stdin_spec() -> str:
    """The spec piped in (``lrkit show - < spec.yaml``), read once (bounded), as inline text."""
    stream = getattr(sys.stdin, "buffer", sys.stdin)  # bytes where there are: UTF-8 whatever the locale
    if stream is None:
        raise CLIError("SPEC '-' reads the spec from standard input, which is closed")
    text = read_text(stream, "standard input (SPEC '-')", MAX_SPEC_BYTES)
    if not text.strip():
        raise CLIError("SPEC '-' reads the spec from standard input, which is empty")
    return text if "\n" in text.strip() or text.lstrip().startswith(("{", "[")) else text.strip() + "\n"


# -- recipes by name: the options derive from each recipe's declaration (lrkit.recipes.registry) ------------
def add_recipe_arguments(p: Any, recipe: Recipe) -> None:
    """The recipe's declared parameters as options: ``--min-lr`` (and the original spelling
    ``--min_lr``), its metavar, its doc with the default as help; a ``count`` is a whole
    number ``>= 1``, a ``bool`` a switch, a list unit any number of values, a ``choice``
    one of its choices, ``any`` text, every other unit a number."""
    for o in recipe.params:
        kw: dict[str, Any] = {"dest": o.name, "help": o.help}
        if o.unit == "bool":
            kw["action"] = "store_true"
        else:
            if o.unit == "choice":
                kw["choices"] = list(o.choices)
            elif o.unit == "count":
                kw["type"] = _whole(o.name)
            elif o.unit != "any":
                kw["type"] = float
            if o.unit in LIST_UNITS:
                kw["nargs"] = "*"
            if o.required:
                kw["required"] = True
            else:
                kw["default"] = list(o.default) if isinstance(o.default, tuple) else o.default
            if o.metavar:
                kw["metavar"] = o.metavar
        p.add_argument(*o.flags, **kw)


def recipe_parser(recipe: Recipe, prog: str | None = None) -> argparse.ArgumentParser:
    """A parser of the recipe's options alone (``lrkit list NAME``, and ``"NAME --opt v"`` as one SPEC)."""
    p = _Parser(
        prog=prog or f"lrkit plot {recipe.name}", add_help=False, allow_abbrev=False, formatter_class=_HelpFormatter
    )
    add_recipe_arguments(p, recipe)
    return p


def recipe_values(recipe: Recipe, args: argparse.Namespace) -> dict[str, Any]:
    """The recipe's parameters by name, as parsed."""
    return {o.name: getattr(args, o.name) for o in recipe.params}


def _with_flags(message: str, params: tuple[Option, ...]) -> str:
    """A builder's message with parameter names said as the options that set them: a file
    (``config 'x.yml'`` -> ``--config 'x.yml'``) and ``give NAME``."""
    for o in params:
        if o.file:
            message = re.sub(rf"(?<![\w-]){re.escape(o.name)} (?=['\"])", o.flag + " ", message)
        message = re.sub(rf"\bgive {re.escape(o.name)}\b", f"give {o.flag}", message)
    return message


def call_recipe(recipe: Recipe, values: dict[str, Any]) -> Any:
    """``recipe(**values)``, the library's builder, its errors naming the options."""
    try:
        return recipe(**values)
    except (ValueError, TypeError) as e:
        msg = _with_flags(str(e), recipe.params)
        if msg == str(e):
            raise
        raise CLIError(msg) from None


def _recipe_schedule(recipe: Recipe, values: dict[str, Any]) -> Schedule:
    out = call_recipe(recipe, values)
    return recipe.schedule(out) if recipe.schedule is not None else out


def recipe_source(spec: str | None) -> SpecSource | None:
    """A recipe by name; ``"NAME --opt v ..."`` in one argument (for compare) carries its own options."""
    if spec is None:
        return None
    head, _, rest = spec.strip().partition(" ")
    recipe = registered_recipes().get(head.replace("_", "-"))
    if recipe is None:
        return None
    if not rest.strip():

        def values(args: argparse.Namespace) -> dict[str, Any]:
            return recipe_values(recipe, args)

        return SpecSource(
            recipe.name,
            lambda args: _recipe_schedule(recipe, values(args)),
            lambda p: add_recipe_arguments(p, recipe),
            None if recipe.positions_per_epoch is None else lambda args: recipe.per_epoch(values(args)),
            None if recipe.default_steps is None else lambda args: recipe.steps_to_show(values(args)),
            (lambda args: call_recipe(recipe, values(args))) if recipe.curves else None,
            None if recipe.run_steps is None else lambda args: recipe.run_length(values(args)),
        )
    p = recipe_parser(recipe, prog=f"lrkit: {recipe.name}")
    try:
        own = recipe_values(recipe, p.parse_args(shlex.split(rest)))
    except CLIError as e:
        raise CLIError(f"in SPEC {spec!r}: {str(e).split(' (see ')[0]}") from None
    return SpecSource(
        recipe.name,
        lambda args: _recipe_schedule(recipe, own),
        None,
        None if recipe.positions_per_epoch is None else lambda args: recipe.per_epoch(own),
        None if recipe.default_steps is None else lambda args: recipe.steps_to_show(own),
        run_end=None if recipe.run_steps is None else lambda args: recipe.run_length(own),
    )


#: The recipes SPEC can name (declared in lrkit.recipes; ``yolox-cos`` and ``yolox_cos`` both work).
RECIPES: dict[str, Recipe] = registered_recipes()


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
                    raise argparse.ArgumentTypeError(
                        f"must be a schedule spec (JSON or YAML), got {_short(text)}"
                    ) from None
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


def kind_source(spec: str | None) -> SpecSource | None:
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
            kw: dict[str, Any] = {
                "dest": _KIND_PREFIX + param.name,
                "type": _kind_value(param),
                "help": param.doc or param.unit,
            }
            if param.unit == "choice":
                kw["choices"] = list(param.choices)
            if param.unit in ("lengths", "reals", "rates", "schedules"):
                kw["nargs"] = "+"
            if param.required:
                kw["required"] = True
            else:
                kw["help"] += f" (default: {param.default!r})"
            metavar = {"choice": None, "bool": "BOOL", "schedule": "SPEC", "schedules": "SPEC"}.get(
                param.unit, "LEN" if param.is_length else "X"
            )
            if metavar:
                kw["metavar"] = metavar
            p.add_argument(*flags, **kw)

    def build(args: argparse.Namespace) -> Schedule:
        data: dict[str, Any] = {"type": kind}
        for param in cls.params:
            v = getattr(args, _KIND_PREFIX + param.name, None)
            if v is not None:
                data[param.name] = v
        return from_dict(data, **units(args))

    return SpecSource(kind, build, add)


# -- a range test's CSV (lrkit.rangetest.RangeTestResult.to_csv): drawn by plot and show -----------------
#: how much of a file is read to tell a range test's CSV by its first lines
_SNIFF_BYTES = 4096
_RANGETEST_HEADER = "update,lr,raw_loss,loss"


def _is_rangetest_csv(path: str) -> bool:
    """Whether ``path`` starts as :meth:`RangeTestResult.to_csv` writes: ``# key=value``
    settings lines (``# start_lr=`` among them), then the header ``update,lr,raw_loss,loss``."""
    try:
        if not os.path.isfile(path):
            return False
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return False
    settings = False
    for line in head.splitlines():
        if line.startswith("# ") and "=" in line:
            settings = settings or line.startswith("# start_lr=")
            continue
        return settings and line.strip() == _RANGETEST_HEADER
    return False


@dataclass
class RangeTestSource(SpecSource):
    """A range test's CSV: not a schedule (``build`` says so); ``lrkit plot`` and
    ``lrkit show`` read it with :meth:`result`."""

    path: str = ""

    def result(self) -> RangeTestResult:
        """The recorded test (:meth:`RangeTestResult.from_csv`)."""
        return RangeTestResult.from_csv(self.path)


def _add_rangetest_arguments(p: Any) -> None:
    p.add_argument(
        "--rule",
        choices=list(RULES),
        default=None,
        help="the suggestion rule (lrkit.rangetest.suggest; default: the flavor's, steepest for "
        "torch-lr-finder, steepest-lr for Lightning)",
    )
    p.add_argument("--skip-start", type=_whole("skip-start", 0), default=None, help="leave out the first N points")
    p.add_argument("--skip-end", type=_whole("skip-end", 0), default=None, help="leave out the last N points")
    p.add_argument("--raw", action="store_true", help="draw the raw (unsmoothed) loss too")


def rangetest_source(spec: str | None) -> SpecSource | None:
    """A CSV written by :meth:`lrkit.rangetest.RangeTestResult.to_csv`, told by its first lines."""
    if spec is None or not _is_rangetest_csv(spec):
        return None

    def build(args: argparse.Namespace) -> Schedule:
        raise CLIError(
            f"{spec!r} is a range test's CSV (lrkit.rangetest), not a schedule: "
            f"'lrkit plot {spec}' draws it and 'lrkit show {spec}' prints its suggestion"
        )

    return RangeTestSource(f"range test {spec}", build, _add_rangetest_arguments, path=spec)


#: Functions ``SPEC text (or None) -> SpecSource or None``, tried in order; the last accepts anything.
SPEC_SOURCES: list[Callable[[str | None], SpecSource | None]] = [
    rangetest_source,
    run_source,
    recipe_source,
    kind_source,
    text_source,
]
