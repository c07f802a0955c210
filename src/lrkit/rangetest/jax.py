"""The LR range test with JAX (and optax): a user step function, jax imported when called.

:func:`range_test` drives ``step(params, opt_state, batch, lr) -> (params, opt_state,
loss)`` at the sweep's learning rates. JAX arrays are immutable, so the caller's
``params`` and ``opt_state`` are never changed; the first update gets copies of them
(``copy_inputs=True``), so a step that donates its inputs (``jax.jit(...,
donate_argnums=...)``) cannot delete the caller's buffers either. The state the test
trained to is thrown away: the caller carries on with its own ``params`` / ``opt_state``.

:func:`optax_step` builds such a step from a loss and an optax optimizer made with
``optax.inject_hyperparams`` (the lr is then a value in the optimizer state)::

    opt = optax.inject_hyperparams(optax.adam)(learning_rate=1e-3)
    step = optax_step(loss_fn, opt)                  # loss_fn(params, batch) -> scalar
    res = range_test(step, params, opt.init(params), batches, start_lr=1e-6, end_lr=1.0)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .core import RangeTest, RangeTestResult, batches

__all__ = ["range_test", "optax_step"]


def optax_step(loss_fn: Callable[[Any, Any], Any], optimizer: Any, jit: bool = True) -> Callable[..., Any]:
    """``step(params, opt_state, batch, lr)`` for an optax optimizer wrapped in
    ``optax.inject_hyperparams``: ``opt_state.hyperparams["learning_rate"] = lr``, then
    ``value_and_grad(loss_fn)``, ``optimizer.update``, ``optax.apply_updates``."""
    import jax
    import jax.numpy as jnp
    import optax

    def step(params: Any, opt_state: Any, batch: Any, lr: Any) -> tuple[Any, Any, Any]:
        hp = getattr(opt_state, "hyperparams", None)
        if hp is None or "learning_rate" not in hp:
            raise TypeError(
                "optax_step needs an optimizer made with optax.inject_hyperparams(...)"
                "(learning_rate=...): its state holds the lr"
            )
        hp = dict(hp)
        hp["learning_rate"] = jnp.asarray(lr, dtype=jnp.asarray(opt_state.hyperparams["learning_rate"]).dtype)
        opt_state = opt_state._replace(hyperparams=hp)
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return jax.jit(step) if jit else step


def range_test(
    step: Callable[[Any, Any, Any, float], tuple[Any, Any, Any]],
    params: Any,
    opt_state: Any,
    data: Iterable[Any],
    *,
    start_lr: float,
    end_lr: float = 10.0,
    num_iter: int = 100,
    step_mode: str = "exp",
    smooth_f: float | None = None,
    diverge_th: float | None = None,
    flavor: str = "torch-lr-finder",
    copy_inputs: bool = True,
) -> RangeTestResult:
    """Run the LR range test with ``step``; ``params`` and ``opt_state`` stay as they are.

    ``data``: an iterable of batches (re-iterated when exhausted; a one-shot iterator that
    runs out ends the test). ``lr`` reaches ``step`` as a Python float. The other
    arguments are :class:`lrkit.rangetest.RangeTest`'s (``start_lr`` is required: a step
    function has no lr of its own to start from).
    """
    import jax
    import jax.numpy as jnp

    if not callable(step):
        raise TypeError(f"step must be callable as step(params, opt_state, batch, lr), got {type(step).__name__}")
    test = RangeTest(start_lr, end_lr, num_iter, step_mode, smooth_f, diverge_th, flavor)
    next_batch = batches(data)
    if copy_inputs:
        state = [jax.tree_util.tree_map(jnp.copy, params), jax.tree_util.tree_map(jnp.copy, opt_state)]
    else:
        state = [params, opt_state]

    def update(i: int, lr: float) -> float:
        p, s, loss = step(state[0], state[1], next_batch(), lr)
        state[0], state[1] = p, s
        return float(loss)

    return test.run(update)
