"""Keras 3: an lrkit schedule as a ``LearningRateSchedule`` (:class:`ScheduleLR`), and Keras'
schedules converted to lrkit (:func:`from_keras`).

>>> import keras, lrkit
>>> from lrkit.keras import ScheduleLR
>>> lr = ScheduleLR(lrkit.WarmupCosine(peak_lr=1e-3, total_steps=10_000, warmup_steps=500))
>>> opt = keras.optimizers.AdamW(learning_rate=lr)
>>> round(float(lr(5_250)), 6)
0.0005

Keras evaluates the schedule at its optimizer's ``iterations`` inside its train step,
on the jax, torch or tensorflow backend, in ``keras.config.floatx()`` (float32 by
default: the float32 rounding of lrkit's values). How it is evaluated (a table of
lrkit's float64 values, or the kind's formula with ``keras.ops``) is explained in
:mod:`lrkit._device`. The schedule is serialisable: ``get_config()`` holds its lrkit
spec, so a model saved to ``.keras`` and loaded back has the same schedule at the
same iteration.

This module imports keras (set ``KERAS_BACKEND`` first); ``import lrkit`` does not.
:func:`from_keras` reads a Keras schedule's settings and needs nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
from keras import ops

from ._device import Plan
from .config import from_dict
from .convert.keras import from_keras
from .core import Schedule

__all__ = ["ScheduleLR", "from_keras"]


class _Ops:
    """``keras.ops`` under the numpy names the kernels' namespace uses."""

    def __getattr__(self, name: str) -> Any:
        return getattr(ops, name)

    @staticmethod
    def asarray(v: Any, dtype: Any = None) -> Any:
        return ops.convert_to_tensor(v, dtype=dtype)

    @staticmethod
    def fmod(a: Any, b: Any) -> Any:
        return ops.mod(a, b)  # positions are >= 0: the same as C's fmod

    @staticmethod
    def zeros_like(x: Any, dtype: Any = None) -> Any:
        return ops.zeros_like(x, dtype=dtype)


_OPS = _Ops()


@keras.saving.register_keras_serializable(package="lrkit")
class ScheduleLR(keras.optimizers.schedules.LearningRateSchedule):
    """An lrkit schedule as a Keras ``LearningRateSchedule``: ``lr = schedule(iterations)``.

    ``schedule`` is an lrkit schedule (or its config dict). ``total_steps`` (the run's
    length) is needed only by a schedule that never turns constant and cannot be traced;
    ``method`` is ``"auto"``, ``"table"`` or ``"formula"`` (see :mod:`lrkit._device`).
    """

    def __init__(self, schedule: Schedule | Mapping[str, Any], total_steps: int | None = None,
                 method: str = "auto") -> None:
        super().__init__()
        if isinstance(schedule, Mapping):
            schedule = from_dict(schedule)
        self._plan = Plan(schedule, total_steps, method, "ScheduleLR")
        self.schedule, self.total_steps, self.method = schedule, total_steps, method

    def __call__(self, step: Any) -> Any:
        dtype = keras.config.floatx()
        count = ops.convert_to_tensor(step)
        if "int" not in str(count.dtype):  # a float step: the whole steps done
            count = ops.cast(ops.floor(count), "int32")
        key = (keras.backend.backend(), dtype)
        return self._plan.evaluate(count, _OPS, dtype, key, lambda a: ops.convert_to_tensor(a, dtype=dtype))

    def get_config(self) -> dict[str, Any]:
        return {"schedule": self.schedule.to_dict(), "total_steps": self.total_steps, "method": self.method}

    def __repr__(self) -> str:
        return f"ScheduleLR({self.schedule!r})"
