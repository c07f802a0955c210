"""``lrkit list``: the built-in schedule kinds (parameters, summary, formula) and the
recipes (summary), all from their declarations; ``lrkit list NAME``: one kind's full
documentation, or one recipe's options."""

from __future__ import annotations

import argparse
import inspect
from typing import TextIO

from ..catalog import signature, summary
from ..core import registered, suggest
from ..recipes.registry import Recipe, registered_recipes
from .common import CLIError, command
from .sources import recipe_parser


@command(
    "list",
    "list the built-in schedule kinds and the recipes",
    "List every built-in schedule kind with its parameters and a one-line summary, then the "
    "recipes; 'lrkit list KIND' prints that kind's full documentation, 'lrkit list RECIPE' "
    "the recipe's options.",
    takes_spec=False,
)
def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", nargs="?", metavar="KIND", help="one schedule kind (or recipe) to document in full")


def recipe_help(recipe: Recipe) -> str:
    """What ``lrkit list NAME`` says of a recipe: its summary and its options (from its declaration)."""
    return f"{recipe.name} (a recipe): {recipe.summary}\n\n{recipe_parser(recipe).format_help()}"


@add_arguments.runner
def run(args: argparse.Namespace, out: TextIO) -> int:
    kinds = registered()
    recipes = registered_recipes()
    recipe = recipes.get((args.kind or "").replace("_", "-"))
    if recipe is not None and args.kind.replace("-", "_") not in kinds:
        # a recipe that is not a kind (ultralytics, ppdet, ppcls): what it is and its options
        out.write(recipe_help(recipe))
        return 0
    if args.kind is not None:
        args.kind = args.kind.replace("-", "_")
        if args.kind not in kinds:
            raise CLIError(f"unknown schedule kind {args.kind!r}{suggest(args.kind, kinds)}")
        cls = kinds[args.kind]
        out.write(f"{args.kind}: {_signature(cls)}\n\n{_plain(_doc(cls))}\n")
        if recipe is not None:  # a kind that is also a recipe (yolox-cos): the recipe's options too
            out.write("\n" + recipe_help(recipe))
        return 0
    width = max(len(k) for k in kinds)
    for k, cls in kinds.items():
        said, formula = summary(cls), _plain(cls.formula).replace("`", "")
        out.write(f"{k.ljust(width)}  {_signature(cls)}\n{' ' * (width + 2)}{said}\n")
        if not _says(said, formula):
            out.write(f"{' ' * (width + 2)}{formula}\n")
    if recipes:
        out.write("\nrecipes, with the originals' parameter names (lrkit list NAME: the options):\n")
        width = max(len(r) for r in recipes)
        for name, r in recipes.items():
            out.write(f"  {name.ljust(width)}  {r.summary}\n")
    return 0


def _says(summary_line: str, formula: str) -> bool:
    """Whether the summary already holds the formula (``clip``: the same text twice), spaces,
    backticks and the final period aside."""

    def bare(text: str) -> str:
        return "".join(text.replace("`", "").split()).rstrip(".")

    return bare(formula) in bare(summary_line)


def _doc(cls: type) -> str:
    return inspect.getdoc(cls) or ""


def _plain(text: str) -> str:
    return text.replace("``", "")


def _signature(cls: type) -> str:
    return signature(cls)[len(cls.__name__) :]
