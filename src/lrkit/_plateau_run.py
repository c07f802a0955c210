"""The realised run of a plan under reduce-on-plateau: the plan times the reductions so far,
as an ordinary lrkit schedule (shared by :mod:`lrkit.keras` and :mod:`lrkit.jax`).

A reduction decided at position ``p_i`` (the updates done when it was decided) sets the
multiplier to ``m_i`` from ``p_i`` on::

    lr(t) = max(plan(t) * m(t), floor),    m(t) = m_i for p_i <= t < p_(i+1)  (m = 1 before p_1)

which is ``Clip(Product([plan, Piecewise([1, m_1, ...], [p_1, ...])]), min_lr=floor)`` (the
``Clip`` only with a floor, the ``Product`` only after a reduction).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

from ._check import show
from .core import Schedule


def history(changes: Iterable[Any]) -> list[tuple[int, float]]:
    """``[(position, multiplier), ...]`` checked: positions integers >= 0, not decreasing (a
    later change at the same position replaces the earlier one), multipliers finite >= 0."""
    out: list[tuple[int, float]] = []
    for i, item in enumerate(changes):
        try:
            p, m = item
        except (TypeError, ValueError):
            raise ValueError(f"history[{i}] must be a (position, multiplier) pair, got {show(item)}") from None
        if isinstance(p, bool) or not isinstance(p, numbers.Integral) or int(p) < 0:
            raise ValueError(f"history[{i}] position must be an integer >= 0, got {show(p)}")
        if isinstance(m, bool) or not isinstance(m, numbers.Real) or not math.isfinite(float(m)) or float(m) < 0:
            raise ValueError(f"history[{i}] multiplier must be a finite number >= 0, got {show(m)}")
        p, m = int(p), float(m)
        if out and p < out[-1][0]:
            raise ValueError(f"history positions must not decrease, got {out[-1][0]} then {p}")
        if out and p == out[-1][0]:
            out[-1] = (p, m)
        else:
            out.append((p, m))
    return out


def realised(plan: Schedule, changes: Iterable[Any], floor: float = 0.0) -> Schedule:
    """The schedule a run followed: ``max(plan(t) * m(t), floor)`` with ``m`` stepping to each
    ``(position, multiplier)`` of ``changes`` (see the module docstring)."""
    from .schedules.algebra import Piecewise, Product
    from .schedules.compose import Clip

    steps = [(p, m) for p, m in history(changes)]
    out: Schedule = plan
    if steps:
        if steps[0][0] == 0:  # a change before the first update: the multiplier from the start
            first, steps = steps[0][1], steps[1:]
        else:
            first = 1.0
        values = [first] + [m for _, m in steps]
        bounds = [float(p) for p, _ in steps]
        if bounds:
            out = Product([plan, Piecewise(values=values, boundaries=bounds)])
        elif first != 1.0:
            from .schedules.compose import Scale

            out = Scale(plan, factor=first)
    if floor:
        out = Clip(out, min_lr=floor)
    return out
