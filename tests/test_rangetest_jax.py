"""lrkit.rangetest.jax: the driver against a hand-written loop over the same step function at
torch-lr-finder's lr formula (exact), optax_step against Adam by hand (exact, both eager), and the
caller's params and optimizer state untouched."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp  # noqa: E402
import numpy as np
import optax
import pytest
import sklearn  # noqa: F401  (a test dependency: never skipped)

from lrkit.rangetest.jax import optax_step, range_test  # noqa: E402


def _data():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = jnp.asarray(x / 16.0, dtype=jnp.float32)
    y = jnp.asarray(y)
    return [(x[i : i + 64], y[i : i + 64]) for i in range(0, len(x), 64)]


DATA = _data()


def init(seed=0):
    k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
    return {
        "w1": jax.random.normal(k1, (64, 32)) * 0.1,
        "b1": jnp.zeros(32),
        "w2": jax.random.normal(k2, (32, 10)) * 0.1,
        "b2": jnp.zeros(10),
    }


def loss_fn(p, batch):
    x, y = batch
    h = jax.nn.relu(x @ p["w1"] + p["b1"])
    return optax.softmax_cross_entropy_with_integer_labels(h @ p["w2"] + p["b2"], y).mean()


OPT = optax.inject_hyperparams(optax.adam)(learning_rate=1e-3)
STEP = optax_step(loss_fn, OPT)


def leaves(tree):
    return [np.asarray(v).copy() for v in jax.tree_util.tree_leaves(tree)]


@pytest.mark.parametrize("a,b,n,mode", [(1e-5, 3.0, 40, "exp"), (1e-4, 1e4, 60, "exp"), (1e-4, 2.0, 30, "linear")])
def test_same_run_as_a_hand_written_loop(a, b, n, mode):
    lrs = (
        [a * (b / a) ** (i / (n - 1)) for i in range(n)]
        if mode == "exp"
        else [a + (i / (n - 1)) * (b - a) for i in range(n)]
    )
    params = init()
    state = OPT.init(params)
    p, s = params, state
    raw, sm, best = [], [], None
    for i in range(n):
        p, s, loss = STEP(p, s, DATA[i % len(DATA)], lrs[i])
        loss_i = float(loss)
        raw.append(loss_i)
        v = loss_i if i == 0 else 0.05 * loss_i + (1 - 0.05) * sm[-1]
        best = v if best is None else min(best, v)
        sm.append(v)
        if v > 5 * best or not math.isfinite(loss_i):
            break
    before = leaves(params) + leaves(state)
    res = range_test(STEP, params, state, DATA, start_lr=a, end_lr=b, num_iter=n, step_mode=mode)
    assert res.lrs == lrs[: len(sm)] and res.raw_losses == raw and res.losses == sm
    after = leaves(params) + leaves(state)
    assert all(x.tobytes() == y.tobytes() for x, y in zip(before, after))
    if b == 1e4:
        assert res.stopped_early and res.stop_reason is not None


def test_optax_step_is_plain_optax():
    """optax_step at lr equals Adam applied by hand. inject_hyperparams keeps b1, b2 and eps
        as float32 arrays (float32(0.999) moves 1 - b2 by 1e-5 relative), so the hand-written Adam
        gets them so too. Both eager: the same floats (under jit XLA fuses differently, and Adam's
    normalisation of tiny gradients magnifies an ulp over a few steps)."""
    step = optax_step(loss_fn, OPT, jit=False)
    params = init(1)
    state = OPT.init(params)
    p1, s1 = params, state
    adam = optax.scale_by_adam(b1=jnp.float32(0.9), b2=jnp.float32(0.999), eps=jnp.float32(1e-8))
    p2, inner = params, adam.init(params)
    for i, lr in enumerate([1e-3, 3e-3, 1e-2, 3e-2]):
        p1, s1, l1 = step(p1, s1, DATA[i], lr)
        l2, g = jax.value_and_grad(loss_fn)(p2, DATA[i])
        u, inner = adam.update(g, inner, p2)
        p2 = jax.tree_util.tree_map(lambda w, d, lr=lr: w - jnp.float32(lr) * d, p2, u)
        assert float(l1) == float(l2)
        for x, y in zip(jax.tree_util.tree_leaves(p1), jax.tree_util.tree_leaves(p2)):
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_lightning_flavor_and_nan_stop():
    params = init()
    seen = []

    def step(p, s, batch, lr):
        seen.append(lr)
        p, s, loss = STEP(p, s, batch, lr)
        return p, s, loss * (math.nan if len(seen) == 5 else 1.0)

    res = range_test(step, params, OPT.init(params), DATA, start_lr=1e-4, end_lr=1.0, num_iter=20, flavor="lightning")
    assert seen == [1e-4] + [1e-4 * (1.0 / 1e-4) ** ((i + 1) / 20) for i in range(1, 5)]
    assert len(res) == 5 and res.stop_reason.startswith("non-finite loss at update 4")


def test_user_error_propagates_and_inputs_untouched():
    params = init()
    state = OPT.init(params)
    before = leaves(params) + leaves(state)

    def step(p, s, batch, lr):
        if lr > 1e-3:
            raise RuntimeError("boom in user code")
        return STEP(p, s, batch, lr)

    with pytest.raises(RuntimeError, match="boom"):
        range_test(step, params, state, DATA, start_lr=1e-5, end_lr=1.0, num_iter=10)
    assert all(x.tobytes() == y.tobytes() for x, y in zip(before, leaves(params) + leaves(state)))


def test_bad_arguments():
    params = init()
    with pytest.raises(ValueError, match="start_lr .* must be below end_lr"):
        range_test(STEP, params, OPT.init(params), DATA, start_lr=1.0, end_lr=0.5)
    with pytest.raises(TypeError, match="step must be callable"):
        range_test(None, params, OPT.init(params), DATA, start_lr=1e-3)
    plain = optax.adam(1e-3)
    with pytest.raises(TypeError, match="inject_hyperparams"):
        range_test(optax_step(loss_fn, plain, jit=False), params, plain.init(params), DATA, start_lr=1e-3)


# -- gradient accumulation ----------------------------------------------------------------------


def test_accumulation_is_k_calls_at_one_lr_and_the_mean_loss():
    """An update of k = 3 calls of the step at one lr; its loss l_0/3 + l_1/3 + l_2/3 in the
    loss's dtype (float32), as the torch helper sums its divided losses."""
    a, b, n, k = 1e-4, 1.0, 12, 3
    lrs = [a * (b / a) ** (i / (n - 1)) for i in range(n)]
    params = init()
    p, s = params, OPT.init(params)
    raw = []
    for i in range(n):
        total = None
        for j in range(k):
            p, s, loss = STEP(p, s, DATA[(i * k + j) % len(DATA)], lrs[i])
            total = loss / 3 if total is None else total + loss / 3
        raw.append(float(total))
    calls = []

    def step(p, s, batch, lr):
        calls.append(lr)
        return STEP(p, s, batch, lr)

    res = range_test(step, params, OPT.init(params), DATA, start_lr=a, end_lr=b, num_iter=n, accumulation_steps=k)
    assert calls == [lr for lr in lrs for _ in range(k)]
    assert res.lrs == lrs and res.raw_losses == raw
    one = range_test(STEP, params, OPT.init(params), DATA, start_lr=a, end_lr=b, num_iter=n)
    assert one.raw_losses != raw  # the grouping shows


def test_multisteps_against_gradients_averaged_by_hand():
    """optax.MultiSteps around inject_hyperparams(adam), driven by optax_step with
    accumulation_steps=2, against Adam applied by hand to (g_0 + g_1) / 2 at each update's lr
    (MultiSteps keeps a running mean: a few ulps apart)."""
    a, b, n, k = 1e-3, 0.3, 15, 2
    ms = optax.MultiSteps(optax.inject_hyperparams(optax.adam)(learning_rate=1e-3), every_k_schedule=k)
    params = init(2)
    res = range_test(
        optax_step(loss_fn, ms), params, ms.init(params), DATA, start_lr=a, end_lr=b, num_iter=n, accumulation_steps=k
    )
    lrs = [a * (b / a) ** (i / (n - 1)) for i in range(n)]
    adam = optax.scale_by_adam(b1=jnp.float32(0.9), b2=jnp.float32(0.999), eps=jnp.float32(1e-8))
    p, inner, raw = params, adam.init(params), []
    for i in range(n):
        (l0, g0), (l1, g1) = (jax.value_and_grad(loss_fn)(p, DATA[(i * k + j) % len(DATA)]) for j in range(k))
        u, inner = adam.update(jax.tree_util.tree_map(lambda x, y: (x + y) / 2, g0, g1), inner, p)
        p = jax.tree_util.tree_map(lambda w, d, lr=lrs[i]: w - jnp.float32(lr) * d, p, u)
        raw.append(float(l0 / 2 + l1 / 2))
    assert res.lrs == lrs and len(res) == n
    np.testing.assert_allclose(res.raw_losses, raw, rtol=1e-5)
    assert max(abs(v - raw[0]) for v in raw) > 0.2  # the updates moved the loss


def test_accumulation_refusals():
    params = init()
    ms3 = optax.MultiSteps(optax.inject_hyperparams(optax.sgd)(learning_rate=1e-3), every_k_schedule=3)
    step3 = optax_step(loss_fn, ms3)
    with pytest.raises(ValueError, match="does not match accumulation_steps=2"):
        range_test(step3, params, ms3.init(params), DATA, start_lr=1e-4, num_iter=5, accumulation_steps=2)
    _, mid, _ = step3(params, ms3.init(params), DATA[0], 1e-3)
    with pytest.raises(ValueError, match="mini_step is 1 at the start"):
        range_test(step3, params, mid, DATA, start_lr=1e-4, num_iter=5, accumulation_steps=3)
    with pytest.raises(ValueError, match="accumulation_steps must be an int >= 1, got 0"):
        range_test(STEP, params, OPT.init(params), DATA, start_lr=1e-4, accumulation_steps=0)
