"""The realised run of a plan under reduce-on-plateau: the plan times the reductions so far,
as an ordinary lrkit schedule (shared by :mod:`lrkit.keras` and :mod:`lrkit.jax`).

A reduction at position ``p_i`` (the updates done when it was decided) sets the multiplier to
``m_i`` from ``p_i`` on; the plan runs as it is before the first one (no floor)::

    lr(t) = plan(t)                               for t < p_1
    lr(t) = max(plan(t) * m_i, floor)             for p_i <= t < p_(i+1)

which is ``Sequence([plan, Clip(Scale(Shift(plan, p_1), m_1), floor), ...], [p_1, ...])`` (the
``Clip`` only with a floor): the same form as the torch and Paddle bindings' ``realised()``.
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
    """The schedule a run followed: ``plan`` until the first change, then ``max(plan(t) * m_i,
    floor)`` from each ``(position p_i, multiplier m_i)`` of ``changes`` (see the module docstring)."""
    from .schedules.algebra import Shift
    from .schedules.compose import Clip, Scale, Sequence

    pieces: list[Schedule] = []
    bounds: list[float] = []
    for p, m in history(changes):
        piece: Schedule = Scale(plan if p == 0 else Shift(plan, p), factor=m)
        if floor:
            piece = Clip(piece, min_lr=floor)
        if p == 0:
            pieces = [piece]
        else:
            if not pieces:
                pieces = [plan]
            pieces.append(piece)
            bounds.append(float(p))
    if not pieces:
        return plan
    return pieces[0] if len(pieces) == 1 else Sequence(pieces, bounds)
