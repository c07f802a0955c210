"""What the registry says about the built-in kinds, for people: signatures, the table of
kinds (docs/reference/kinds.md), one-line summaries, example instances. Derived from each
kind's declaration (``params``, ``formula``, ``example``, docstring); nothing here is
listed by hand. The recipe rows (docs/tutorials/recipes.md) come the same way from the
recipes' declarations (:func:`lrkit.recipes.registry.recipe_table`).
``python -m lrkit.catalog`` rewrites both pages' generated tables.

>>> print(signature(registered()["step"]))
Step(peak_lr, step_size, gamma=0.1)
"""

from __future__ import annotations

import inspect
from typing import Any

from .core import Schedule, registered
from .recipes.registry import RECIPES_BEGIN, RECIPES_END, recipe_table

__all__ = [
    "signature",
    "summary",
    "kind_table",
    "recipe_table",
    "example",
    "example_flags",
    "update_readme",
    "generated_tables",
    "TABLE_BEGIN",
    "TABLE_END",
    "RECIPES_BEGIN",
    "RECIPES_END",
]

TABLE_BEGIN = "<!-- kinds: generated from the registry by lrkit.catalog.kind_table(); do not edit -->"
TABLE_END = "<!-- end of kinds -->"


def _default(v: Any) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if isinstance(v, str):
        return f'"{v}"'
    return repr(v)


def signature(cls: type) -> str:
    """``Name(required, ..., optional=default)`` from the kind's declared parameters."""
    parts = [p.name if p.required else f"{p.name}={_default(p.default)}" for p in cls.params]
    return f"{cls.__name__}({', '.join(parts)})"


def summary(cls: type) -> str:
    """The first line of the kind's docstring, without reST markup."""
    doc = inspect.getdoc(cls) or ""
    return doc.splitlines()[0].replace("``", "") if doc else ""


def kind_table() -> str:
    """The table of kinds (markdown), one row per registered kind."""
    rows = ["| kind | class | formula |", "|---|---|---|"]
    for kind, cls in registered().items():
        rows.append(f"| `{kind}` | `{signature(cls)}` | {cls.formula} |")
    return "\n".join(rows)


def example(kind: str) -> Schedule:
    """The kind's declared example instance (its nested schedules built from their specs)."""
    from .config import from_dict

    return from_dict({"type": kind, **registered()[kind].example})


def example_flags(kind: str) -> list[str]:
    """The kind's example as command-line flags: ``lrkit plot KIND *example_flags(KIND)``."""
    import json

    out: list[str] = []
    for name, value in registered()[kind].example.items():
        flag = f"--{name.replace('_', '-')}"
        if isinstance(value, dict):
            out += [flag, json.dumps(value)]
        elif isinstance(value, list):
            out += [flag] + [json.dumps(v) if isinstance(v, dict) else str(v) for v in value]
        elif isinstance(value, bool):
            out += [flag, str(value).lower()]
        else:
            out += [flag, str(value)]
    return out


def generated_tables() -> dict[tuple[str, str], str]:
    """Each generated table by its ``(begin, end)`` markers: the kinds, the recipes."""
    return {(TABLE_BEGIN, TABLE_END): kind_table(), (RECIPES_BEGIN, RECIPES_END): recipe_table()}


def replace_between(text: str, begin: str, end: str, body: str) -> str:
    """``text`` with the lines between the markers ``begin`` and ``end`` replaced by ``body``."""
    start = text.index(begin) + len(begin) + 1
    stop = text.index(end, start)
    return text[:start] + body + "\n" + text[stop:]


def update_readme(path: str) -> bool:
    """Rewrite the generated tables (:func:`generated_tables`) between their markers in
    ``path`` (a table whose markers are not there is left out); True if it changed."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    new = text
    for (begin, end), body in generated_tables().items():
        if begin in new:
            new = replace_between(new, begin, end, body)
    if new != text:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(new)
    return new != text


#: the pages that hold the generated tables (from the repository root)
PAGES = ("docs/reference/kinds.md", "docs/tutorials/recipes.md")

if __name__ == "__main__":  # python -m lrkit.catalog [PAGE ...]
    import sys

    for p in sys.argv[1:] or PAGES:
        print(f"{p}: {'updated' if update_readme(p) else 'up to date'}")
