"""Train a small MLP on scikit-learn's digits with JAX/optax and an lrkit schedule.

    python examples/train_digits_jax.py --epochs 30 --out runs/digits_jax

Writes to --out: metrics.csv (step, epoch, applied lr, loss), lr.csv (the lr of each
step, read from optax's state: the lr the update applied), loss.png and lr.png. The
schedule is optax's learning_rate through lrkit.jax.to_optax, evaluated inside the
jitted update; the same schedule runs in the PyTorch, Paddle and Keras examples.
JAX computes in float32 here, so the applied lr is the float32 rounding of lrkit's value.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import digits_common as common  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

from lrkit.jax import to_optax  # noqa: E402


def init(key: jax.Array) -> dict[str, jax.Array]:
    k1, k2 = jax.random.split(key)
    return {
        "w1": jax.random.normal(k1, (64, common.HIDDEN)) * (1 / 8),
        "b1": jnp.zeros(common.HIDDEN),
        "w2": jax.random.normal(k2, (common.HIDDEN, 10)) * (1 / common.HIDDEN**0.5),
        "b2": jnp.zeros(10),
    }


def logits(p: dict[str, jax.Array], x: jax.Array) -> jax.Array:
    return jax.nn.relu(x @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]


def main() -> int:
    args = common.parse_args("JAX")
    os.makedirs(args.out, exist_ok=True)
    xtr, ytr, xte, yte = common.load_data()
    spe = common.steps_per_epoch(len(xtr))
    total = args.epochs * spe
    schedule = common.make_schedule(total)

    # inject_hyperparams keeps the lr of each update in the optimizer state, to log it
    tx = optax.inject_hyperparams(optax.sgd)(learning_rate=to_optax(schedule), momentum=0.9)
    params = init(jax.random.PRNGKey(common.SEED))
    state = tx.init(params)

    def loss_fn(p, x, y):
        return optax.softmax_cross_entropy_with_integer_labels(logits(p, x), y).mean()

    @jax.jit
    def update(p, st, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(p, x, y)
        upd, st = tx.update(grads, st, p)
        return optax.apply_updates(p, upd), st, loss

    def one_step(epoch, idx, log_lr):
        nonlocal params, state
        params, state, loss = update(params, state, xtr[idx], ytr[idx])
        log_lr(float(state.hyperparams["learning_rate"]))  # the lr this update applied
        return loss

    rows = common.train(args, len(xtr), total, "jax digits", one_step)
    acc = float((np.asarray(logits(params, xte)).argmax(1) == yte).mean())
    common.finish(args, rows, schedule, spe, "JAX/optax", acc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
