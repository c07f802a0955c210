"""What every framework binding keeps: the position of the values it has applied.

A binding's whole state is this counter (and the base values): the values come from
the schedule at the position, so resuming, jumping and converting are exact.
"""

from __future__ import annotations

import math
import numbers
from typing import Any


class PositionCounter:
    """Mixin for a scheduler class: ``last_epoch`` as a float position ``_t`` (-1 before the first step)."""

    _t: float

    @property
    def last_epoch(self) -> int | float:
        """The position of the values now applied (the number of ``step()`` calls since ``t = 0``)."""
        t = self._t
        return int(t) if t.is_integer() else t

    @last_epoch.setter
    def last_epoch(self, value: float) -> None:
        try:
            ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and -1 <= float(value) < math.inf
        except OverflowError:  # an int past the float range
            ok = False
        if not ok:
            raise ValueError(f"last_epoch must be a finite number >= -1, got {value!r}")
        self._t = float(value)
        self._moved()

    def _moved(self) -> None:
        """Called when the position is set from outside (a jump or a resume)."""

    @staticmethod
    def _position(epoch: Any) -> float:
        try:
            ok = not isinstance(epoch, bool) and isinstance(epoch, numbers.Real) and 0 <= float(epoch) < math.inf
        except OverflowError:
            ok = False
        if not ok:
            raise ValueError(f"step(epoch) needs a finite position >= 0, got {epoch!r}")
        return float(epoch)
