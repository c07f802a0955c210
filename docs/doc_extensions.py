"""A griffe extension for the API reference (mkdocs.yml: mkdocstrings' ``extensions``).

lrkit's docstrings are written for ``help()`` and doctest: reStructuredText roles
(``:class:`lrkit.Warmup```), literal blocks introduced by ``::`` and ``>>>`` examples. Markdown
would show the roles as text and read ``>>>`` as nested quotes, so before rendering each docstring:

* ``:class:`X``` / ``:func:`X``` / ... becomes the code span ```X``` (a leading ``~`` dropped);
* a paragraph ending in ``::`` ends in ``:`` (its indented block is a code block in Markdown too);
* each run of ``>>>`` / ``...`` lines and their output becomes a fenced ``pycon`` block;
* a reStructuredText simple table (rows between ``=====  ====`` rules) becomes a ``text`` block.

The schedule kinds' constructors are generated from their declared parameters when their module
is imported (``lrkit.core.declare``): griffe's static analysis sees a class without ``__init__``.
For those classes the constructor's signature is read by dynamic inspection (importing the class,
which needs numpy only) and given to the class. Inspecting the whole package instead would import
torch, Paddle, TensorFlow and JAX into one process, in an order that crashes Paddle's import.

The docstrings themselves are not changed (``help()`` and the doctests read them as they are).
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import griffe

_RULE = re.compile(r"^\s*=+(\s+=+)+\s*$")
_ROLE = re.compile(r":(?:class|meth|func|attr|mod|data|exc|obj|py:\w+):`~?([^`]+)`")


def markdown_of(text: str) -> str:
    """The Markdown form of one docstring (see the module docstring)."""
    text = _ROLE.sub(r"`\1`", text)
    out: list[str] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.lstrip()
        if _RULE.match(line):  # a simple table: three rules (top, under the header, bottom)
            indent = line[: len(line) - len(stripped)]
            block, rules = [], 0
            while i < len(lines) and rules < 3:
                rules += bool(_RULE.match(lines[i]))
                block.append(lines[i][len(indent) :])
                i += 1
            out += ["", indent + "```text", *(indent + b for b in block), indent + "```", ""]
            continue
        if stripped.startswith(">>>"):
            indent = line[: len(line) - len(stripped)]
            block = []
            while i < len(lines) and lines[i].strip() and lines[i].startswith(indent):
                block.append(lines[i][len(indent) :])
                i += 1
            if out and out[-1].strip():
                out.append("")
            out += [indent + "```pycon", *(indent + b for b in block), indent + "```", ""]
            continue
        if line.rstrip().endswith("::") and not line.strip() == "::":
            line = line.rstrip()[:-1]
        out.append(line)
        i += 1
    return "\n".join(out)


_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: griffe.ParameterKind.positional_only,
    inspect.Parameter.POSITIONAL_OR_KEYWORD: griffe.ParameterKind.positional_or_keyword,
    inspect.Parameter.VAR_POSITIONAL: griffe.ParameterKind.var_positional,
    inspect.Parameter.KEYWORD_ONLY: griffe.ParameterKind.keyword_only,
    inspect.Parameter.VAR_KEYWORD: griffe.ParameterKind.var_keyword,
}


# The modules that define schedule kinds (numpy only), and the framework modules among them.
_LIGHT = ("lrkit.core", "lrkit.schedules.", "lrkit.recipes.")
_HEAVY = ("dropins", "_dropin", "plateau")


def generated_init(cls: griffe.Class) -> griffe.Function | None:
    """The ``__init__`` of a class whose constructor lrkit generates at import, read by dynamic
    inspection; ``None`` for any other class (its source says all)."""
    module = cls.module.path
    if "__init__" in cls.members or not module.startswith(_LIGHT) or module.endswith(_HEAVY):
        return None
    runtime = griffe.dynamic_import(cls.path)
    init = runtime.__dict__.get("__init__")
    if getattr(init, "_lrkit_params", None) is None:
        return None
    params = [
        griffe.Parameter(
            p.name,
            kind=_KINDS[p.kind],
            default=None if p.default is inspect.Parameter.empty else repr(p.default),
        )
        for p in inspect.signature(init).parameters.values()
    ]
    return griffe.Function("__init__", parameters=griffe.Parameters(*params), parent=cls)


class DoctestBlocks(griffe.Extension):
    """Rewrites every docstring into Markdown when griffe loads its object, and gives the
    generated constructors their signatures."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown_of(obj.docstring.value)

    def on_class_members(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        init = generated_init(cls)
        if init is not None:
            cls.set_member("__init__", init)
