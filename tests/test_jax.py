"""lrkit.jax.to_optax: the schedule inside jax.jit, vmap, optax updates, per-group transforms."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import lrkit as lk
from lrkit import catalog
from lrkit.jax import to_optax

KINDS = sorted(lk.registered())
N = 1500


def run(f, counts):
    """f jitted, counts one by one for the first few (scalar calls) and vmapped for the rest;
    returns the values and how many times f was traced."""
    traces = []

    def g(c):
        traces.append(1)
        return f(c)

    jg = jax.jit(g)
    first = [float(jg(jnp.asarray(c, dtype=jnp.int32))) for c in counts[:20]]
    rest = np.asarray(jg(jnp.asarray(counts[20:], dtype=jnp.int32)), dtype=np.float64)
    return np.array(first + rest.tolist()), len(traces)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_jitted_in_x64_is_lrkits_float64(kind):
    s = catalog.example(kind)
    counts = np.arange(N)
    ref = s(counts.astype(np.float64))
    with jax.enable_x64(True):
        got, traces = run(to_optax(s, total_steps=N), counts)
        assert got.tolist() == ref.tolist(), kind  # the table: the same bits
        assert traces <= 2  # one shape for the scalars, one for the batch: never one per count
        f = None
        try:
            f = to_optax(s, method="formula")
        except ValueError as e:
            assert "cannot be traced" in str(e)
        if f is not None:
            got, _ = run(f, counts)
            np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15 * float(ref.max()), err_msg=kind)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_in_32_bit_mode_is_within_1e_6_of_the_peak(kind):
    s = catalog.example(kind)
    counts = np.arange(N)
    ref = s(counts.astype(np.float64))
    with jax.enable_x64(False):
        for method in ("table", "formula"):
            try:
                f = to_optax(s, total_steps=N, method=method)
            except ValueError:
                continue
            got, _ = run(f, counts)
            assert np.abs(got - ref).max() <= 1e-6 * ref.max(), (kind, method)


def test_past_the_table_the_formula_goes_on_and_a_constant_tail_holds():
    s = lk.WarmupCosine(0.1, 1000, 100).replace()  # constant from 1000: a 1001-value table
    f = to_optax(s)
    assert f.method == "table"
    with jax.enable_x64(True):
        assert float(jax.jit(f)(10**6)) == s(10**6) == 0.0
        e = lk.Exponential(0.1, 0.999)  # never constant: the table covers the run, the formula the rest
        g = to_optax(e, total_steps=500)
        vals = np.asarray(jax.vmap(jax.jit(g))(jnp.arange(1000)))
        assert vals[:500].tolist() == e(np.arange(500.0)).tolist()
        np.testing.assert_allclose(vals[500:], e(np.arange(500.0, 1000.0)), rtol=1e-12)
        # a restart schedule without end: a table, then its formula (a search over its cycle starts)
        r = lk.CosineRestarts(0.1, 37, 1.5)
        np.testing.assert_allclose(
            np.asarray(jax.jit(to_optax(r))(jnp.arange(10**6, 10**6 + 500))),
            r(np.arange(10**6, 10**6 + 500.0)),
            rtol=1e-12,
        )
        h = to_optax(r, total_steps=3000)
        assert np.asarray(jax.jit(h)(jnp.arange(3000))).tolist() == r(np.arange(3000.0)).tolist()


def test_bad_arguments_are_value_errors():
    s = lk.Cosine(0.1, 100)
    with pytest.raises(ValueError, match="method must be one of"):
        to_optax(s, method="fast")
    for bad in (0, -5, 2.5, True, 10**9):
        with pytest.raises(ValueError, match="total_steps must be a whole number"):
            to_optax(s, total_steps=bad)
    with pytest.raises(TypeError, match="schedule must be an lrkit Schedule"):
        to_optax(lambda c: 0.1)
    with pytest.raises(ValueError, match="cannot be traced"):
        to_optax(lk.FunctionSchedule(lambda t: 0.1), method="formula")


def test_an_sgd_update_applies_exactly_the_schedule():
    s = lk.WarmupCosine(0.05, 300, 30, min_lr=1e-4)
    with jax.enable_x64(True):
        tx = optax.sgd(learning_rate=to_optax(s))
        params = {"w": jnp.zeros(3, dtype=jnp.float64)}
        state = tx.init(params)
        grads = {"w": jnp.ones(3, dtype=jnp.float64)}

        @jax.jit
        def step(params, state):
            updates, state = tx.update(grads, state, params)
            return optax.apply_updates(params, updates), state, updates

        for k in range(320):
            params, state, updates = step(params, state)
            assert float(-updates["w"][0]) == s(k), k


def test_inject_hyperparams_and_multi_transform_with_two_schedules():
    a, b = lk.WarmupCosine(0.1, 200, 20), lk.Step(0.01, 50, 0.5)
    with jax.enable_x64(True):
        inj = optax.inject_hyperparams(optax.sgd)(learning_rate=to_optax(a))
        p = {"w": jnp.zeros(2)}
        st = inj.init(p)
        seen = []
        for _ in range(60):
            _, st = inj.update({"w": jnp.ones(2)}, st, p)
            seen.append(float(st.hyperparams["learning_rate"]))
        assert seen == [a(k) for k in range(60)]  # the lr of the update just made

        tx = optax.multi_transform(
            {"body": optax.sgd(to_optax(a)), "head": optax.sgd(to_optax(b))}, {"body": "body", "head": "head"}
        )
        params = {"body": jnp.zeros(2), "head": jnp.zeros(2)}
        state = tx.init(params)
        grads = {"body": jnp.ones(2), "head": jnp.ones(2)}
        step = jax.jit(lambda s_: tx.update(grads, s_, params))
        for k in range(120):
            updates, state = step(state)
            assert float(-updates["body"][0]) == a(k) and float(-updates["head"][0]) == b(k)


def test_sharded_over_two_devices():
    code = textwrap.dedent("""
        import os
        import jax, jax.numpy as jnp, numpy as np, optax
        from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
        import lrkit
        from lrkit.jax import to_optax
        jax.config.update("jax_enable_x64", True)
        assert len(jax.devices()) == 2
        s = lrkit.WarmupCosine(0.1, 100, 10)
        tx = optax.sgd(to_optax(s))
        mesh = Mesh(np.array(jax.devices()), ("d",))
        sh = NamedSharding(mesh, P("d"))
        params = jax.device_put(jnp.zeros(8), sh)
        grads = jax.device_put(jnp.ones(8), sh)
        state = tx.init(params)
        step = jax.jit(lambda g, st, p: tx.update(g, st, p), out_shardings=(sh, None))
        for k in range(30):
            upd, state = step(grads, state, params)
            assert len({d.device for d in upd.addressable_shards}) == 2  # split over both devices
            assert np.asarray(-upd).tolist() == [s(k)] * 8, k
        print("ok")
    """)
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2", JAX_PLATFORMS="cpu")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip().endswith("ok"), out.stderr[-2000:]
