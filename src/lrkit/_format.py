"""How lrkit writes a number for people (tables, plots, explanations, the CLI): one rule.

Whole numbers (step counts, epochs) print without a decimal point; other numbers with
``digits`` significant digits; infinity as ``inf``.

>>> number(9000.0), number(0.000123456789), number(float("inf")), number(0.5, digits=3)
('9000', '0.000123457', 'inf', '0.5')
"""

from __future__ import annotations

import math

__all__ = ["number"]


def number(v: float, digits: int = 6, whole_below: float = 1e15) -> str:
    """``v`` as text: an integer when it is a whole number below ``whole_below``, else ``digits`` significant digits."""
    v = float(v)
    if v == math.inf:
        return "inf"
    if v.is_integer() and abs(v) < whole_below:
        return str(int(v))
    return f"{v:.{digits}g}"
