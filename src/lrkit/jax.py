"""JAX / optax: an lrkit schedule as optax's ``learning_rate`` (``count -> lr``).

>>> import jax, optax, lrkit
>>> from lrkit.jax import to_optax
>>> lr = to_optax(lrkit.WarmupCosine(peak_lr=1e-3, total_steps=10_000, warmup_steps=500))
>>> opt = optax.adamw(learning_rate=lr)
>>> round(float(jax.jit(lr)(5_250)), 6)
0.0005

The function runs inside ``jax.jit`` (one compilation for every count), under
``jax.vmap`` and on sharded runs, and never calls back to the host. How it is
evaluated (a table of lrkit's float64 values, or the kind's formula traced with
``jax.numpy``) is explained in :mod:`lrkit._device`: with ``jax_enable_x64`` the
table gives lrkit's values bit for bit; in JAX's default 32-bit mode, their
float32 rounding.

This module imports jax; ``import lrkit`` does not.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from ._device import Plan
from .core import Schedule

__all__ = ["to_optax", "OptaxSchedule"]


class OptaxSchedule:
    """``count -> lr`` for optax (see :func:`to_optax`); ``schedule``, ``method`` and
    ``total_steps`` say what it evaluates and how."""

    def __init__(self, schedule: Schedule, total_steps: int | None = None, method: str = "auto") -> None:
        self._plan = Plan(schedule, total_steps, method, "to_optax")
        self.schedule, self.method, self.total_steps = schedule, self._plan.method, total_steps

    def __call__(self, count: Any) -> Any:
        dtype = jnp.float64 if jax.config.read("jax_enable_x64") else jnp.float32
        count = jnp.asarray(count)
        if not jnp.issubdtype(count.dtype, jnp.integer):
            count = jnp.floor(count).astype(jnp.int64 if dtype == jnp.float64 else jnp.int32)
        return self._plan.evaluate(count, jnp, dtype, dtype, jnp.asarray)

    def __repr__(self) -> str:
        return f"to_optax({self.schedule!r}, method={self.method!r})"


def to_optax(schedule: Schedule, *, total_steps: int | None = None, method: str = "auto") -> OptaxSchedule:
    """A function ``count -> lr`` for optax's ``learning_rate`` (and ``inject_hyperparams``,
    ``multi_transform`` for one schedule per parameter group).

    ``count`` is optax's step count (updates applied so far), the schedule's position.
    ``total_steps`` is the run's length, needed only for a schedule that never turns
    constant and cannot be traced (``CosineRestarts`` without ``max_cycles``, a
    function); ``method`` is ``"auto"``, ``"table"`` or ``"formula"`` (see
    :mod:`lrkit._device`).
    """
    return OptaxSchedule(schedule, total_steps, method)
