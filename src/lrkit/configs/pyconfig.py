"""OpenMMLab's ``.py`` configs read as data, never executed.

The file is parsed with :mod:`ast` and only these forms are evaluated:

* an assignment ``name = value`` at the top level (one name; the last one wins, as
  Python's would);
* values: numbers, strings, ``True`` / ``False`` / ``None``, lists, tuples (read as lists), ``{...}``
  with string keys, ``dict(key=value, ...)``, a name assigned earlier in the file, a sign
  on a number, and ``+ - * / //`` on two numbers (``max_epochs // 2``), giving a finite
  number of at most ``1e15`` in size;
* docstrings and other lone constants (comments are not in the tree).

Anything else (an import, a call other than ``dict(...)``, an attribute, a
comprehension, ``**`` ...) is a ``ValueError`` naming the line and the construct:
nothing in the file runs. ``_base_`` lists are kept as data, not followed.
"""

from __future__ import annotations

import ast
import math
from typing import Any

__all__ = ["read_py_config"]

_LIMIT = 1e15
_OPS: dict[type, str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//"}


def _what(node: ast.AST) -> str:
    """How a message names a construct: its source form when short, else its kind."""
    try:
        text = ast.unparse(node)
    except Exception:  # pragma: no cover - ast.unparse handles every parsed node
        text = type(node).__name__
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _refuse(where: str, node: ast.AST, why: str) -> ValueError:
    line = getattr(node, "lineno", "?")
    return ValueError(
        f"{where}, line {line}: {_what(node)!r} is {why}; lrkit reads .py configs without running them: "
        "numbers, strings, True/False/None, lists, tuples, dicts, dict(...), names assigned before, "
        "and + - * / // on numbers"
    )


class _Reader:
    def __init__(self, where: str) -> None:
        self.where = where
        self.names: dict[str, Any] = {}

    def value(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            v = node.value
            if v is None or isinstance(v, (bool, int, float, str)):
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    return self._number(node, v)
                return v
            raise _refuse(self.where, node, f"a {type(v).__name__} constant")
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.value(x) for x in node.elts]  # a tuple too: as a dumped config holds it
        if isinstance(node, ast.Dict):
            out: dict[str, Any] = {}
            for k, v in zip(node.keys, node.values):
                if k is None:
                    raise _refuse(self.where, v, "a ** unpacking")
                key = self.value(k)
                if not isinstance(key, str):
                    raise _refuse(self.where, k, "a key that is not a string")
                out[key] = self.value(v)
            return out
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id == "dict") or node.args:
                raise _refuse(self.where, node, "a call (only dict(key=value, ...) is read)")
            out = {}
            for kw in node.keywords:
                if kw.arg is None:
                    raise _refuse(self.where, kw.value, "a ** unpacking")
                out[kw.arg] = self.value(kw.value)
            return out
        if isinstance(node, ast.Name):
            if node.id in self.names:
                return self.names[node.id]
            raise _refuse(self.where, node, "a name not assigned earlier in the file")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = self.value(node.operand)
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise _refuse(self.where, node, "a sign on something that is not a number")
            return self._number(node, -v if isinstance(node.op, ast.USub) else v)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            a, b = self.value(node.left), self.value(node.right)
            for x in (a, b):
                if isinstance(x, bool) or not isinstance(x, (int, float)):
                    raise _refuse(self.where, node, f"{_OPS[type(node.op)]} on something that is not a number")
            try:
                if isinstance(node.op, ast.Add):
                    r = a + b
                elif isinstance(node.op, ast.Sub):
                    r = a - b
                elif isinstance(node.op, ast.Mult):
                    r = a * b
                elif isinstance(node.op, ast.Div):
                    r = a / b
                else:
                    r = a // b
            except (ZeroDivisionError, OverflowError):
                raise _refuse(self.where, node, "a division by zero or an overflow") from None
            return self._number(node, r)
        raise _refuse(self.where, node, f"a {type(node).__name__} expression")

    def _number(self, node: ast.AST, v: float) -> Any:
        f = float(v) if abs(v) < 1e300 else math.inf
        if not math.isfinite(f) or abs(f) > _LIMIT:
            raise _refuse(self.where, node, f"a number past lrkit's limit of {_LIMIT:g}")
        return v

    def statement(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Assign):
            if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
                raise _refuse(self.where, node, "an assignment to something other than one name")
            self.names[node.targets[0].id] = self.value(node.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            self.names[node.target.id] = self.value(node.value)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            return  # a docstring
        else:
            kind = {ast.Import: "an import", ast.ImportFrom: "an import"}.get(type(node), f"a {type(node).__name__}")
            raise _refuse(self.where, node, f"{kind} statement")


def read_py_config(text: str, where: str = "the .py config") -> dict[str, Any]:
    """The top-level names of the OpenMMLab ``.py`` config ``text`` and their values, read
    as the module docstring says (never executed). ``ValueError`` on anything else."""
    if "\x00" in text:
        raise ValueError(f"{where} holds NUL characters: not a Python file")
    try:
        tree = ast.parse(text, filename=where)
    except SyntaxError as e:
        raise ValueError(f"{where}, line {e.lineno}: not valid Python ({e.msg})") from None
    except (RecursionError, MemoryError):
        raise ValueError(f"{where} nests expressions too deeply to read") from None
    r = _Reader(where)
    try:
        for node in tree.body:
            r.statement(node)
    except RecursionError:
        raise ValueError(f"{where} nests values too deeply to read") from None
    from ..config import _extent

    try:  # names used again count each time, as a YAML alias does: a bounded expansion
        _extent(r.names)
    except ValueError as e:
        raise ValueError(str(e).replace("the spec", where, 1).replace("YAML aliases", "names")) from None
    return r.names
