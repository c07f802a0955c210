"""Reduce-on-plateau as optax optimizer state: :func:`plateau_scale` (re-exported by :mod:`lrkit.jax`).

Chained after an optimizer built with an lrkit plan, it multiplies the updates by a scale
``m`` that a :class:`lrkit.plateau.Plateau` policy (the optax flavor) reduces from the
metrics passed as ``value=`` to ``update``::

    tx = optax.chain(optax.adamw(to_optax(plan)), plateau_scale(Plateau.optax(patience=3)))
    updates, state = tx.update(grads, state, params, value=val_loss)   # value: optional

so the update at count ``t`` applies ``plan(t) * m`` (``m`` after observing that update's
value). The policy's rule (optax's ``contrib.reduce_on_plateau``, see ``Plateau.optax``) runs
inside the compiled step: one compilation for the whole run, whatever the reductions. An
update without a metric (``value`` omitted) keeps the scale; it is a second compilation
(one per pattern, not per reduction).

The state is a pytree of arrays (checkpoints with any pytree checkpointer, restores
exactly). :func:`realised_schedule` turns it into the lrkit schedule the run followed:
``plan(t) * m(t)`` with ``m`` stepping at each position where the scale changed.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ._check import show
from ._plateau_run import realised
from .core import Schedule
from .plateau import Plateau

__all__ = ["PlateauScaleState", "plateau_scale", "realised_schedule"]


class PlateauScaleState(NamedTuple):
    """The state of :func:`plateau_scale` (the field names of optax's ``ReduceLROnPlateauState``
    where they mean the same).

    ``scale``: the multiplier now; ``best_value``, ``plateau_count``, ``cooldown_count``,
    ``count`` (values accumulated), ``avg_value``: the policy's; ``step``: the updates done (the
    plan's position); ``changes``: how many times the scale changed; ``change_at`` /
    ``change_scale``: the first ``history`` of them (position, new scale)."""

    scale: Any
    best_value: Any
    plateau_count: Any
    cooldown_count: Any
    count: Any
    avg_value: Any
    step: Any
    changes: Any
    change_at: Any
    change_scale: Any


def _dtypes(params: Any) -> tuple[Any, Any]:
    """(lowest, highest) floating dtype of the parameters (float32 when there is none), as
    optax's ``reduce_on_plateau`` picks them for its scale and for its best value."""
    floats = [
        jnp.asarray(x).dtype for x in jax.tree.leaves(params) if jnp.issubdtype(jnp.asarray(x).dtype, jnp.floating)
    ]
    if not floats:
        return jnp.dtype(jnp.float32), jnp.dtype(jnp.float32)
    by_size = sorted(floats, key=lambda d: d.itemsize)
    return by_size[0], by_size[-1]


def plateau_scale(policy: Plateau, *, history: int = 64) -> Any:
    """An optax ``GradientTransformationExtraArgs`` multiplying the updates by the scale the
    plateau ``policy`` (``Plateau.optax(...)``) sets from ``update(..., value=metric)``.

    Per update with a value ``v`` (``count``, ``avg``: values accumulated, their mean)::

        avg = (count * avg + v) / (count + 1); count += 1
        if count == accumulation_size:
            improved = avg < (1 - rtol) * best - atol;  best = avg if improved else best
            bad = 0 if improved else plateau_count + 1
            if cooldown_count > 0:  plateau_count = 0; cooldown_count -= 1
            else:
                reduce = bad == patience
                plateau_count = 0 if reduce else bad
                scale = max(scale * factor if reduce else scale, min_scale)
                cooldown_count = cooldown if reduce else 0
            count, avg = 0, 0
        updates = scale * updates

    computed in the parameters' dtypes as optax does (the scale in the lowest, best and avg in
    the highest): the scales equal ``optax.contrib.reduce_on_plateau``'s bit for bit.
    ``history``: how many scale changes the state records (positions and scales) for
    :func:`realised_schedule`; more changes still run, but the realised schedule then raises.
    """
    import optax

    if not isinstance(policy, Plateau):
        raise TypeError(f"policy must be an lrkit.plateau.Plateau, got {show(policy)} ({type(policy).__name__})")
    if policy.flavor != "optax":
        raise ValueError(
            f"policy must be of the optax flavor (Plateau.optax(...)): its rule runs inside the "
            f"compiled update; got a {policy.flavor!r} policy"
        )
    if isinstance(history, bool) or not isinstance(history, int) or history < 1:
        raise ValueError(f"history must be an integer >= 1, got {show(history)}")
    factor, patience, cooldown = policy.factor, policy.patience, policy.cooldown
    rtol, atol, acc_size, min_scale = policy.threshold, policy.atol, policy.accumulation_size, policy.min_lrs[0]

    def init(params: Any) -> PlateauScaleState:
        low, high = _dtypes(params)
        i32 = jnp.int32
        return PlateauScaleState(
            scale=jnp.asarray(1.0, low),
            best_value=jnp.asarray(np.inf, high),
            plateau_count=jnp.asarray(0, i32),
            cooldown_count=jnp.asarray(0, i32),
            count=jnp.asarray(0, i32),
            avg_value=jnp.asarray(0.0, high),
            step=jnp.asarray(0, i32),
            changes=jnp.asarray(0, i32),
            change_at=jnp.zeros((history,), i32),
            change_scale=jnp.zeros((history,), low),
        )

    def decide(s: PlateauScaleState) -> PlateauScaleState:
        avg = s.avg_value
        improved = avg < (1 - rtol) * s.best_value - atol
        best = jnp.where(improved, avg, s.best_value)
        bad = jnp.where(improved, 0, s.plateau_count + 1).astype(jnp.int32)
        cooling = s.cooldown_count > 0
        reduce = jnp.logical_and(jnp.logical_not(cooling), bad == patience)
        scaled = jnp.where(reduce, s.scale * jnp.asarray(factor, s.scale.dtype), s.scale)
        scale = jnp.where(cooling, s.scale, jnp.maximum(scaled, jnp.asarray(min_scale, s.scale.dtype)))
        plateau = jnp.where(cooling | reduce, 0, bad).astype(jnp.int32)
        cool = jnp.where(cooling, s.cooldown_count - 1, jnp.where(reduce, cooldown, 0)).astype(jnp.int32)
        return s._replace(
            scale=scale.astype(s.scale.dtype),
            best_value=best.astype(s.best_value.dtype),
            plateau_count=plateau,
            cooldown_count=cool,
            count=jnp.asarray(0, jnp.int32),
            avg_value=jnp.zeros_like(s.avg_value),
        )

    def observe(s: PlateauScaleState, value: Any) -> PlateauScaleState:
        n = s.count + 1
        avg = (s.count * s.avg_value + jnp.asarray(value).astype(s.avg_value.dtype)) / n
        s = s._replace(count=n, avg_value=avg.astype(s.avg_value.dtype))
        return jax.lax.cond(n == acc_size, decide, lambda x: x, s)

    def update(updates: Any, state: Any, params: Any = None, *, value: Any = None, **extra: Any) -> tuple[Any, Any]:
        del params, extra
        new = state if value is None else observe(state, value)
        changed = new.scale != state.scale
        k = jnp.minimum(state.changes, history - 1)
        write = jnp.logical_and(changed, state.changes < history)
        new = new._replace(
            step=state.step + 1,
            changes=state.changes + changed.astype(jnp.int32),
            change_at=jnp.where(write, state.change_at.at[k].set(state.step), state.change_at),
            change_scale=jnp.where(write, state.change_scale.at[k].set(new.scale), state.change_scale),
        )
        out = jax.tree.map(lambda u: (jnp.asarray(new.scale, u.dtype) * u) if u is not None else None, updates)
        return out, new

    return optax.GradientTransformationExtraArgs(init, update)


def realised_schedule(plan: Schedule, state: Any) -> Schedule:
    """The schedule the run followed so far: ``plan(t) * m(t)`` (a ``Sequence`` of ``Scale(Shift(plan,
    p_i), m_i)`` pieces), ``m`` the scale of
    :func:`plateau_scale`'s ``state`` (or of an ``optax.chain`` state holding one), stepping
    at each recorded change. Raises ValueError when more changes happened than it recorded."""
    found = _find(state)
    if found is None:
        raise TypeError(
            f"state must be a PlateauScaleState (or an optax state holding one), got {type(state).__name__}"
        )
    n = int(np.asarray(found.changes))
    at, sc = np.asarray(found.change_at), np.asarray(found.change_scale)
    if n > at.shape[0]:
        raise ValueError(
            f"the scale changed {n} times but the state recorded {at.shape[0]} of them: "
            f"make plateau_scale(..., history=) at least {n}"
        )
    return realised(plan, [(int(at[i]), float(sc[i])) for i in range(n)])


def _find(state: Any) -> PlateauScaleState | None:
    if isinstance(state, PlateauScaleState):
        return state
    if isinstance(state, (tuple, list)):
        for s in state:
            got = _find(s)
            if got is not None:
                return got
    return None
