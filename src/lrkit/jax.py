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

A value the dtype cannot hold is refused when the function is made (and when it is
first called in the other mode): ``to_optax(Constant(1e39))`` is a ``ValueError`` in
32-bit mode (float32 holds up to 3.4e38), where the compiled step would apply ``inf``.
Enable x64 (``jax.config.update("jax_enable_x64", True)``) for such values. A positive
value below float32's smallest number becomes 0 (see :mod:`lrkit._device`).

This module imports jax; ``import lrkit`` does not.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.core  # jax.core.Tracer: the submodule, imported by name for type checkers
import jax.numpy as jnp
import numpy as np

from ._device import Plan
from .core import Schedule

__all__ = ["to_optax", "OptaxSchedule", "plateau_scale", "PlateauScaleState", "realised_schedule"]


def _fix(dtype: str) -> str:
    if dtype == "float64":
        return ""  # JAX's widest float
    return "enable float64 before making it (jax.config.update('jax_enable_x64', True))"


class OptaxSchedule:
    """``count -> lr`` for optax (see :func:`to_optax`); ``schedule``, ``method`` and
    ``total_steps`` say what it evaluates and how."""

    def __init__(self, schedule: Schedule, total_steps: int | None = None, method: str = "auto") -> None:
        self._plan = Plan(schedule, total_steps, method, "to_optax")
        self.schedule, self.method, self.total_steps = schedule, self._plan.method, self._plan.total_steps
        self._check(self._dtype())

    @staticmethod
    def _dtype() -> Any:
        return jnp.float64 if jax.config.read("jax_enable_x64") else jnp.float32

    def _check(self, dtype: Any) -> None:
        """Refuse values ``dtype`` cannot hold (see :meth:`lrkit._device.Plan.check`)."""
        if self._plan.is_checked(dtype):
            return
        wide = dtype == jnp.float64
        ints = np.int64 if wide else np.int32
        plan = self._plan

        def run(counts: np.ndarray) -> np.ndarray:
            # compiled as a train step compiles it (XLA rewrites arithmetic: eager results differ),
            # the table an argument rather than a constant; at once, also when first called in a trace
            with jax.ensure_compile_time_eval():
                host = plan.host_table(dtype, dtype)
                table = None if host is None else jnp.asarray(host)
                f = jax.jit(lambda c, tab: plan.evaluate(c, jnp, dtype, dtype, lambda _: tab))
                return np.asarray(f(jnp.asarray(counts.astype(ints)), table))

        plan.check(dtype, run, int(np.iinfo(ints).max), _fix)

    def _evaluate(self, count: Any, dtype: Any) -> Any:
        if not jnp.issubdtype(count.dtype, jnp.integer):
            count = jnp.floor(count).astype(jnp.int64 if dtype == jnp.float64 else jnp.int32)
        return self._plan.evaluate(count, jnp, dtype, dtype, jnp.asarray)

    def __call__(self, count: Any) -> Any:
        dtype = self._dtype()
        self._check(dtype)  # at once when checked already (in this mode, when it was made)
        count = jnp.asarray(count)
        if self._plan.past_end == "nan" and not isinstance(count, jax.core.Tracer) and count.size:
            self._plan.refuse_past_table(int(jnp.max(count)))  # eager: a clear error, not nan
        return self._evaluate(count, dtype)

    @property
    def runs(self) -> str:
        """Which method runs, in JAX's current mode (also in ``repr``): ``"formula (float32)"``,
        ``"table of 1,001 steps (float32 rounding of lrkit's values), then the formula (float32)"``, ..."""
        return self._plan.runs("float64" if self._dtype() == jnp.float64 else "float32")

    def __repr__(self) -> str:
        ts = "" if self.total_steps is None else f", total_steps={self.total_steps!r}"
        return f"to_optax({self.schedule!r}{ts}, method={self.method!r})  # {self.runs}"


def to_optax(schedule: Schedule, *, total_steps: int | None = None, method: str = "auto") -> OptaxSchedule:
    """A function ``count -> lr`` for optax's ``learning_rate`` (and ``inject_hyperparams``,
    ``multi_transform`` for one schedule per parameter group).

    ``count`` is optax's step count (updates applied so far), the schedule's position.
    Every kind runs without ``total_steps`` and at any count. ``total_steps`` (the run's
    length) sets how far a table of lrkit's values reaches; past it the kind's formula
    goes on (a schedule constant there: its last value, exactly). Only a schedule that
    runs a Python function (``FunctionSchedule``, a converted ``LambdaLR``, a CAWB with a
    Python ``lf``) needs it: such a function cannot run in a compiled step, so it is
    known only in its table; past it the compiled function gives ``nan`` (an eager call
    raises ``ValueError``), never a held value. ``method`` is ``"auto"`` (the most exact:
    the table where it is known, the formula past it), ``"table"`` or ``"formula"`` (see
    :mod:`lrkit._device`); ``repr`` and :attr:`OptaxSchedule.runs` say which runs.
    """
    return OptaxSchedule(schedule, total_steps, method)


# reduce-on-plateau as optax state (defined in _jax_plateau, which imports this module's peers only)
from ._jax_plateau import PlateauScaleState, plateau_scale, realised_schedule  # noqa: E402
