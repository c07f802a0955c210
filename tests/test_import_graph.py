"""The layers are visible in the imports: lrkit's module graph has no cycle.

The graph is read from the source (every ``import`` of an lrkit module, at the top of a
module or inside a function), so an import put inside a function to break a circle is
still seen. A lazy import of an optional framework (torch, paddle, jax, keras,
matplotlib, yaml) is not an lrkit module and is not an edge.
"""

from __future__ import annotations

import ast
import pathlib

import lrkit

ROOT = pathlib.Path(lrkit.__file__).parent


def modules() -> dict[str, tuple[pathlib.Path, bool]]:
    out = {}
    for p in sorted(ROOT.rglob("*.py")):
        parts = list(p.relative_to(ROOT.parent).with_suffix("").parts)
        pkg = parts[-1] == "__init__"
        out[".".join(parts[:-1] if pkg else parts)] = (p, pkg)
    return out


def targets(mod: str, pkg: bool, node: ast.Import | ast.ImportFrom, known: dict) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "lrkit"]
    if node.level:
        base = mod.split(".") if pkg else mod.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    elif (node.module or "").split(".")[0] == "lrkit":
        target = node.module or ""
    else:
        return []
    # ``from .pkg import name`` is the submodule pkg.name when there is one, else pkg itself
    return [f"{target}.{a.name}" if f"{target}.{a.name}" in known else target for a in node.names]


def graph() -> dict[str, set[str]]:
    known = modules()
    g: dict[str, set[str]] = {}
    for mod, (path, pkg) in known.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                deps.update(t for t in targets(mod, pkg, node, known) if t in known and t != mod)
        g[mod] = deps
    return g


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    for root in sorted(g):
        if root in index:
            continue
        work = [(root, iter(sorted(g[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(g[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    x = stack.pop()
                    on.discard(x)
                    comp.append(x)
                    if x == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def test_the_reader_sees_a_cycle():
    # the test can fail: a cycle planted in a graph of the same shape is found
    g = graph()
    g["lrkit.core"] = g["lrkit.core"] | {"lrkit.explain"}
    assert any({"lrkit.core", "lrkit.explain"} <= set(c) for c in cycles(g))
    assert "lrkit.core" in graph()["lrkit.schedules.decays"]  # imports are read


def test_no_import_cycle():
    found = cycles(graph())
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)
