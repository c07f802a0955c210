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

Gradient accumulation (``accumulation_steps=k``): an update is ``k`` calls of ``step`` at one
lr, and its loss ``l_0 / k + ... + l_(k-1) / k`` summed in order in the loss's dtype (the
torch and Paddle helpers' sum of divided losses). The step accumulates: with
``optax.MultiSteps(opt, every_k_schedule=k)`` (``optax_step`` finds the lr in its inner
state) the inner optimizer applies the mean gradient at every ``k``-th call; the state's
``mini_step`` must then be 0 at the start and after each update, or a ``ValueError`` says
the step does not update every ``k`` calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .core import RangeTest, RangeTestResult, batches, resolve

__all__ = ["range_test", "optax_step"]


def optax_step(loss_fn: Callable[[Any, Any], Any], optimizer: Any, jit: bool = True) -> Callable[..., Any]:
    """``step(params, opt_state, batch, lr)`` for an optax optimizer wrapped in
    ``optax.inject_hyperparams`` (or ``optax.MultiSteps`` around one):
    ``opt_state.hyperparams["learning_rate"] = lr`` (the inner state's), then
    ``value_and_grad(loss_fn)``, ``optimizer.update``, ``optax.apply_updates``."""
    import jax
    import jax.numpy as jnp
    import optax

    def with_lr(state: Any, lr: Any) -> Any:
        hp = getattr(state, "hyperparams", None)
        if hp is None and isinstance(state, optax.MultiStepsState):
            return state._replace(inner_opt_state=with_lr(state.inner_opt_state, lr))
        if hp is None or "learning_rate" not in hp:
            raise TypeError(
                "optax_step needs an optimizer made with optax.inject_hyperparams(...)"
                "(learning_rate=...), or optax.MultiSteps around one: its state holds the lr"
            )
        hp = dict(hp)
        hp["learning_rate"] = jnp.asarray(lr, dtype=jnp.asarray(state.hyperparams["learning_rate"]).dtype)
        return state._replace(hyperparams=hp)

    def step(params: Any, opt_state: Any, batch: Any, lr: Any) -> tuple[Any, Any, Any]:
        opt_state = with_lr(opt_state, lr)
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
    start_lr: float | None = None,
    end_lr: float = 10.0,
    num_iter: int = 100,
    step_mode: str = "exp",
    smooth_f: float | None = None,
    diverge_th: float | None = None,
    flavor: str = "torch-lr-finder",
    copy_inputs: bool = True,
    accumulation_steps: int = 1,
    test: RangeTest | None = None,
) -> RangeTestResult:
    """Run the LR range test with ``step``; ``params`` and ``opt_state`` stay as they are.

    ``data``: an iterable of batches (re-iterated when exhausted; a one-shot iterator that
    runs out ends the test). ``lr`` reaches ``step`` as a Python float. The other
    arguments are :class:`lrkit.rangetest.RangeTest`'s (``start_lr`` is required: a step
    function has no lr of its own to start from), or ``test=`` a ``RangeTest`` to run
    (e.g. :func:`lrkit.rangetest.from_deepspeed`'s). ``accumulation_steps``: calls of
    ``step`` per update (see the module docstring).
    """
    import jax
    import jax.numpy as jnp

    if not callable(step):
        raise TypeError(f"step must be callable as step(params, opt_state, batch, lr), got {type(step).__name__}")
    if not isinstance(accumulation_steps, int) or isinstance(accumulation_steps, bool) or accumulation_steps < 1:
        raise ValueError(f"accumulation_steps must be an int >= 1, got {accumulation_steps!r}")
    rt = resolve(test, start_lr, end_lr, num_iter, step_mode, smooth_f, diverge_th, flavor)
    k = accumulation_steps
    _check_mini_step(opt_state, k, "at the start")
    next_batch = batches(data)
    if copy_inputs:
        state = [jax.tree_util.tree_map(jnp.copy, params), jax.tree_util.tree_map(jnp.copy, opt_state)]
    else:
        state = [params, opt_state]

    def update(i: int, lr: float) -> float:
        if k == 1:  # the loss as the step returns it
            p, s, loss = step(state[0], state[1], next_batch(), lr)
            state[0], state[1] = p, s
            return float(loss)
        total = None
        for _ in range(k):
            p, s, loss = step(state[0], state[1], next_batch(), lr)
            state[0], state[1] = p, s
            part = jnp.asarray(loss) / k
            total = part if total is None else total + part
        _check_mini_step(state[1], k, f"after update {i}")
        if total is None:  # k >= 2: the loop ran
            raise RuntimeError("no loss accumulated")
        return float(total)

    return rt.run(update)


def _check_mini_step(opt_state: Any, k: int, when: str) -> None:
    """An ``optax.MultiSteps`` state (found at the top of ``opt_state``) must be at the start
    of an accumulation (``mini_step == 0``) at the start and after each update."""
    mini = getattr(opt_state, "mini_step", None)
    if mini is None or not hasattr(opt_state, "acc_grads"):
        return
    m = int(mini)
    if m != 0:
        raise ValueError(
            f"the optimizer state's mini_step is {m} {when} (optax.MultiSteps): "
            + (
                "start the range test at the start of an update"
                if when == "at the start"
                else f"its every_k_schedule does not match accumulation_steps={k}"
            )
        )
