"""lrkit.jax.plateau_scale: reduce-on-plateau as optax state, against optax.contrib.reduce_on_plateau.

The scale (and best value, plateau and cooldown counts) after every update must equal optax's
(==) for random metric sequences, in float32 and in float64; the train step compiles once
whatever the reductions; the state checkpoints and restores exactly; and the realised
schedule (an ordinary lrkit schedule) gives the learning rates an SGD run applied.
"""

from __future__ import annotations

import os
import pickle

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from optax.contrib import reduce_on_plateau

import lrkit as lk
from lrkit.jax import PlateauScaleState, plateau_scale, realised_schedule, to_optax
from lrkit.plateau import Plateau

CI = bool(os.environ.get("CI"))
CONFIGS = 5 if CI else 24
SEQS = 16 if CI else 64
LENGTH = 60


def _metrics(rng: np.random.Generator, n: int) -> np.ndarray:
    """Sequences with plateaus, ties, improvements, NaN and inf (as the policy tests draw them)."""
    out = np.empty((n, LENGTH))
    for i in range(n):
        kind = rng.integers(4)
        if kind == 0:
            out[i] = rng.random(LENGTH)
        elif kind == 1:  # slow improvement with noise: plateaus come and go
            out[i] = np.linspace(1.0, 0.5, LENGTH) + 0.05 * rng.standard_normal(LENGTH)
        elif kind == 2:  # a few levels: exact ties
            out[i] = rng.choice([0.3, 0.5, 0.5, 0.7], LENGTH)
        else:
            out[i] = rng.random(LENGTH)
            out[i][rng.random(LENGTH) < 0.1] = rng.choice([np.nan, np.inf, -np.inf, 0.0, 1e-40])
    return out


def _config(rng: np.random.Generator) -> dict:
    factor, rtol, atol = [(0.1, 1e-4, 0.0), (0.5, 0.0, 1e-3), (0.5, 0.1, 0.01), (0.9, 1.0, 0.0), (0.3, 0.5, 1.0)][
        rng.integers(5)
    ]
    return dict(
        factor=factor,
        rtol=rtol,
        atol=atol,
        patience=int(rng.choice([0, 1, 2, 3, 5])),
        cooldown=int(rng.choice([0, 0, 1, 3])),
        accumulation_size=int(rng.choice([1, 1, 2, 3])),
        min_scale=float(rng.choice([0.0, 0.0, 1e-3, 0.05, 0.5, 1.5])),
    )


def _scan(tx, dtype, values):
    params = jnp.zeros((), dtype)

    def run(vals):
        def body(state, v):
            _, state = tx.update(params, state, params, value=v)
            return state, (state.scale, state.best_value, state.plateau_count, state.cooldown_count)

        return jax.lax.scan(body, tx.init(params), vals)[1]

    return [np.asarray(o) for o in jax.jit(jax.vmap(run))(values)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_scales_are_optaxs_for_random_metrics(dtype):
    rng = np.random.default_rng(31 if dtype == "float32" else 37)
    with jax.enable_x64(dtype == "float64"):
        for _ in range(CONFIGS):
            kw = _config(rng)
            values = jnp.asarray(_metrics(rng, SEQS), jnp.float64 if dtype == "float64" else jnp.float32)
            ours = _scan(plateau_scale(Plateau.optax(**kw, dtype=dtype)), dtype, values)
            theirs = _scan(reduce_on_plateau(**kw), dtype, values)
            for name, a, b in zip(["scale", "best", "plateau count", "cooldown"], ours, theirs):
                assert a.dtype == b.dtype, (name, kw)
                same = (a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else a == b
                assert same.all(), f"{name} differs for {kw}:\nours={a[~same.all(1)][0]}\noptax={b[~same.all(1)][0]}"


def test_one_compilation_for_a_run_with_reductions_and_the_realised_schedule_is_what_sgd_applied():
    with jax.enable_x64(True):
        plan = lk.WarmupCosine(peak_lr=0.1, total_steps=80, warmup_steps=10, min_lr=1e-3)
        tx = optax.chain(optax.sgd(to_optax(plan)), plateau_scale(Plateau.optax(factor=0.5, patience=2, cooldown=1)))
        params = {"w": jnp.zeros((), jnp.float64)}
        traces = []

        @jax.jit
        def step(params, state, value):
            traces.append(1)
            grads = {"w": jnp.ones((), jnp.float64)}  # gradient 1: the update is -lr(t) * m(t)
            updates, state = tx.update(grads, state, params, value=value)
            return optax.apply_updates(params, updates), state

        state = tx.init(params)
        rng = np.random.default_rng(5)
        metrics = np.concatenate([np.linspace(1.0, 0.6, 20), 0.6 + 0.01 * rng.random(60)])
        applied = []
        for m in metrics:
            before = float(params["w"])
            params, state = step(params, state, jnp.asarray(m))
            applied.append(before - float(params["w"]))
        assert len(traces) == 1
        inner = state[1]
        assert isinstance(inner, PlateauScaleState)
        assert int(inner.changes) >= 5  # several reductions happened
        run = realised_schedule(plan, state)
        assert lk.from_dict(run.to_dict()) == run
        expected = run(np.arange(len(metrics)))
        # w - (w - lr*m) can round away the last bit of lr*m: compare to the spacing of w
        tol = np.spacing(np.abs(np.cumsum(expected))) * 2
        assert np.all(np.abs(np.array(applied) - expected) <= tol), (applied, expected)
        # and the realised schedule is the plan times the scale the state held at each update
        scales = np.ones(len(metrics))
        for i in range(int(inner.changes)):
            scales[int(inner.change_at[i]) :] = float(inner.change_scale[i])
        assert np.array_equal(run(np.arange(len(metrics))), plan(np.arange(len(metrics))) * scales)


def test_updates_without_a_metric_keep_the_scale():
    tx = plateau_scale(Plateau.optax(factor=0.5, patience=0))
    params = jnp.zeros(())
    state = tx.init(params)
    _, state = tx.update(params, state, params, value=1.0)  # patience 0: the first improvement reduces
    assert float(state.scale) == 0.5
    for _ in range(3):
        u, state = tx.update(jnp.ones(()), state, params)
        assert float(u) == 0.5 and float(state.scale) == 0.5
    assert int(state.step) == 4 and int(state.changes) == 1 and int(state.change_at[0]) == 0


def test_the_state_checkpoints_and_restores_exactly():
    kw = dict(factor=0.3, patience=3, cooldown=2, accumulation_size=2)
    tx = plateau_scale(Plateau.optax(**kw))
    params = jnp.zeros((), jnp.float32)
    rng = np.random.default_rng(11)
    metrics = rng.random(60).astype(np.float32)
    upd = jax.jit(lambda s, v: tx.update(params, s, params, value=v)[1])
    whole = tx.init(params)
    for m in metrics:
        whole = upd(whole, m)
    for cut in (7, 23, 41):
        part = tx.init(params)
        for m in metrics[:cut]:
            part = upd(part, m)
        saved = pickle.dumps(jax.tree.map(np.asarray, part))
        part = jax.tree.map(jnp.asarray, pickle.loads(saved))
        assert isinstance(part, PlateauScaleState)
        for m in metrics[cut:]:
            part = upd(part, m)
        for a, b in zip(jax.tree.leaves(part), jax.tree.leaves(whole)):
            assert np.array_equal(np.asarray(a), np.asarray(b))
    ref = reduce_on_plateau(**kw)
    ref_upd = jax.jit(lambda s, v: ref.update(params, s, params, value=v)[1])
    s = ref.init(params)
    for m in metrics:
        s = ref_upd(s, m)
    assert float(s.scale) == float(whole.scale) and float(whole.scale) < 1


def test_bad_arguments():
    with pytest.raises(ValueError, match="optax flavor"):
        plateau_scale(Plateau.keras())
    with pytest.raises(TypeError, match="policy"):
        plateau_scale({"factor": 0.5})
    with pytest.raises(ValueError, match="history"):
        plateau_scale(Plateau.optax(), history=0)
    tx = plateau_scale(Plateau.optax(factor=0.5, patience=0), history=2)
    params = jnp.zeros(())
    state = tx.init(params)
    for v in [3.0, 2.0, 1.0]:  # three improvements, three reductions, two recorded
        _, state = tx.update(params, state, params, value=v)
    assert int(state.changes) == 3
    with pytest.raises(ValueError, match="history"):
        realised_schedule(lk.Constant(0.1), state)
    with pytest.raises(TypeError, match="PlateauScaleState"):
        realised_schedule(lk.Constant(0.1), {"scale": 1.0})
