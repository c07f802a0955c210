"""Device evaluation at the jumps of a floored (or ceiled) quotient (issue 21): under ``jax.jit``
XLA computes ``t / T`` as ``t * (1 / T)``, so ``floor(t / T)`` came out one low at some exact
multiples of ``T`` (``T = 3, 10, 49``...). Every kind whose formula floors or ceils a quotient of
the position by a parameter is run here on the device by its formula (``method="formula"``), in
float32 (JAX's default) and with ``jax_enable_x64``, with JAX/optax and with Keras (jax backend,
in its own process), at ``k T - 1``, ``k T`` and ``k T + 1`` for many ``T`` and ``k`` up to large
counts, and compared with lrkit's float64 value at the position as the device's dtype holds it,
rounded to that dtype. The tolerance is a few of the dtype's ulps of the value (more where the
device computes a power ``gamma ** k`` or a cosine in float32), always far below the jump that a
count put on the wrong side of a multiple makes.

The Keras worker: ``KERAS_BACKEND=jax python tests/test_device_exact_multiples.py OUT.json``.
"""

from __future__ import annotations

import json
import os
import pathlib
import sys

import numpy as np
import pytest

import lrkit as lk
from lrkit.recipes.cawb import CAWB
from lrkit.recipes.yolox import YoloxStep

HERE = pathlib.Path(__file__).resolve()
TS = (2, 3, 7, 10, 13, 49, 100, 365, 4999, 65_537)

# name -> (schedule of T, ulps of the value, ulps of the schedule's largest value, and that many
# times the count of periods: Cyclic's float64 reference, 1 + t / L - c, loses the bits of c)
CASES = {
    "step": (lambda T: lk.Step(1.0, T, 0.75), 512, 0, 0),
    "exponential staircase": (lambda T: lk.Exponential(1.0, 0.75, T, staircase=True), 512, 0, 0),
    "exponential staircase, growth to max_lr": (
        lambda T: lk.Exponential(1e-6, 1.25, T, staircase=True, max_lr=1e30),
        512,
        0,
        0,
    ),
    "inverse time staircase": (lambda T: lk.InverseTime(1.0, T, 1.0, staircase=True), 4, 0, 0),
    "linear growth staircase": (lambda T: lk.LinearGrowth(1.0, T, 1.0, staircase=True), 4, 0, 0),
    "polynomial cycle": (lambda T: lk.PolynomialCycle(1.0, T, 0.0, 1.0), 8, 8, 0),
    "polynomial cycle, power 2": (lambda T: lk.PolynomialCycle(1.0, T, 0.01, 2.0), 16, 8, 0),
    "cyclic triangular2": (lambda T: lk.Cyclic(peak_lr=1.0, step_size_up=T, min_lr=0.0, mode="triangular2"), 16, 8, 8),
    "cyclic, unequal sides": (
        lambda T: lk.Cyclic(peak_lr=1.0, step_size_up=T, step_size_down=2 * T, min_lr=0.25),
        16,
        8,
        8,
    ),
    "cosine restarts, period_mult 1": (lambda T: lk.CosineRestarts(1.0, T, 1.0, 0.0, 0.75), 64, 64, 0),
    "yolox step": (lambda T: YoloxStep(lr=1.0, min_lr=0.75**7, total_iters=8 * T, step_num=8), 512, 0, 0),
    "cawb, batchs = T": (lambda T: CAWB(epochs=1000, steps=[300, 600], batchs=T, warmup_epoch=0), 64, 64, 0),
}


def counts_for(T: int, wide: bool) -> np.ndarray:
    """``k T - 1``, ``k T``, ``k T + 1`` for ``k`` from 1 to a large count (float32: positions up to
    ``2 ** 24``, every one exact; x64: up to ``2 ** 40``)."""
    top = 2**40 if wide else 2**24
    kmax = max(top // T, 1)
    ks = np.unique(
        np.concatenate([np.arange(1, 100), np.geomspace(1, kmax, 150).astype(np.int64), kmax - np.arange(5)])
    )
    ks = ks[ks >= 1]
    c = (ks[:, None] * T + np.array([-1, 0, 1])[None, :]).ravel()
    return np.unique(c[(c >= 0) & (c <= top)])


def reference(s: lk.Schedule, counts: np.ndarray, dtype) -> np.ndarray:
    """lrkit's float64 values at the positions as ``dtype`` holds them, rounded to ``dtype``."""
    at = counts.astype(np.float64).astype(dtype).astype(np.float64)
    return s(at).astype(dtype).astype(np.float64)


def compare(name: str, T: int, counts: np.ndarray, got: np.ndarray, wide: bool) -> None:
    make, ulps, top_ulps, per_period = CASES[name]
    s = make(T)
    dt = np.float64 if wide else np.float32
    eps = float(np.finfo(dt).eps)
    ref = reference(s, counts, dt)
    top = s.max_value if np.isfinite(s.max_value) else 0.0
    tol = ulps * eps * np.abs(ref) + (top_ulps + per_period * counts / T) * eps * top + 2 * float(np.finfo(dt).tiny)
    bad = ~(np.abs(got - ref) <= tol)
    assert not bad.any(), (
        name,
        T,
        "float64" if wide else "float32",
        counts[bad][:6].tolist(),
        got[bad][:6].tolist(),
        ref[bad][:6].tolist(),
    )


# -- JAX / optax ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("wide", [True, False], ids=["x64", "float32"])
def test_jax_exact_at_multiples(name, wide):
    import jax
    import jax.numpy as jnp

    from lrkit.jax import to_optax

    with jax.enable_x64(wide):
        for T in TS:
            f = to_optax(CASES[name][0](T), method="formula")
            c = counts_for(T, wide)
            got = np.asarray(jax.jit(f)(jnp.asarray(c, dtype=jnp.int64 if wide else jnp.int32)), dtype=np.float64)
            compare(name, T, c, got, wide)


@pytest.mark.parametrize("wide", [True, False], ids=["x64", "float32"])
def test_traced_quotients_under_jit(wide):
    """The traced ``floordiv``, ``divfloor`` and ``divceil`` under ``jax.jit`` against numpy's
    ``floor_divide``, ``floor(t / d)`` and ``ceil(t / d)`` in float64 (with ``d`` as the dtype holds
    it): every whole position up to ``2 ** 22``, and (x64) positions a quarter past them and far out."""
    import jax
    import jax.numpy as jnp

    from lrkit._traced import namespace

    with jax.enable_x64(wide):
        dt = jnp.float64 if wide else jnp.float32
        ns = namespace(jnp, dt, is_traced=lambda x: not isinstance(x, (int, float)))
        t = np.arange(-1000.0, 2.0**22)
        if wide:
            t = np.concatenate([t, t + 0.25, t + 2.0**40, t[::64] + 2.0**50])
        for d in (2, 3, 7, 10, 49, 12.5, 100, 1000 / 3, 0.1, 65537, 2.0**35 / 3):
            f = jax.jit(lambda x, d=d: (ns.floordiv(x, d), ns.divfloor(x, d), ns.divceil(x, d)))
            got = [np.asarray(v, dtype=np.float64) for v in f(jnp.asarray(t, dtype=dt))]
            dd = float(np.float32(d)) if not wide else d
            if not wide and dd != d:
                continue  # float32 puts the multiples where its own d does (documented); checked below
            assert (got[0] == np.floor_divide(t, dd)).all(), d
            assert (got[1] == np.floor(t / dd)).all(), d
            assert (got[2] == np.ceil(t / dd)).all(), d
        if not wide:  # d = 0.1 as float32 holds it: its multiples, exactly (quotients below 2 ** 21)
            d32 = float(np.float32(0.1))
            t = t[t < 2.0**21 * d32]
            got = np.asarray(jax.jit(lambda x: ns.floordiv(x, 0.1))(jnp.asarray(t, dtype=dt)), dtype=np.float64)
            assert (got == np.floor_divide(t, d32)).all()


# -- CosineRestarts with period_mult near 1, in float32 -------------------------------------------


def restart_counts(s: lk.CosineRestarts, top: float) -> np.ndarray:
    """The whole counts either side of every cycle start below ``top`` (a sample of them when
    there are many): where a cycle chosen one off shows (the start of a cycle is its peak)."""
    n = int(s._index(top)) + 1
    idx = np.unique(np.concatenate([np.arange(min(n, 2000)), np.linspace(0, n - 1, 4000).astype(np.int64)]))
    st = np.array([s._cycle_start(float(i)) for i in idx])
    c = (np.ceil(st)[:, None] + np.array([-1, 0, 1])[None, :]).ravel()
    return np.unique(c[(c >= 0) & (c < top)]).astype(np.int64)


@pytest.mark.parametrize(
    "args",
    [
        (0.1, 3, 1.00001, 1e-3),
        (0.1, 12.5, 1.0001, 0.0, 0.9),
        (0.1, 37, 1.5),
        (0.1, 5, 1.0003, 1e-3, 1.0, None, 2.0, 0.8),
    ],
    ids=["887,622 cycles", "peak decay", "few cycles", "k-decay, amplitude decay"],
)
def test_jax_float32_restarts_exact_at_every_cycle_start(args):
    """float32 (JAX's default): the count just before a restart is in the old cycle (near the floor),
    at and after it in the new one (near the peak), for every cycle an int32 count reaches; the
    value within a few float32 ulps of lrkit's."""
    import jax
    import jax.numpy as jnp

    from lrkit.jax import to_optax

    s = lk.CosineRestarts(*args)
    c = restart_counts(s, 2.0**31 - 1)
    with jax.enable_x64(False):
        f = to_optax(s, method="formula")
        got = np.asarray(jax.jit(f)(jnp.asarray(c, dtype=jnp.int32)), dtype=np.float64)
    ref = reference(s, c, np.float32)
    eps = float(np.finfo(np.float32).eps)
    # x = t - start exact to an ulp: the cosine's float32 error, at most a few ulps of the peak
    assert np.abs(got - ref).max() <= 16 * eps * s.max_value, np.abs(got - ref).max()


def test_float32_refuses_too_many_cycles_and_x64_runs_them():
    import jax
    import jax.numpy as jnp

    from lrkit.jax import to_optax
    from lrkit.schedules.cycles import DEVICE_CYCLES_NARROW

    s = lk.CosineRestarts(0.1, 3, 1 + 1e-7, 1e-3)  # about 2 ** 31 / 3 cycles before step 2 ** 31
    with jax.enable_x64(False):
        with pytest.raises(
            ValueError,
            match=rf"cycles before step 2\*\*31, more than the "
            rf"{DEVICE_CYCLES_NARROW:,}.*jax_enable_x64",
        ):
            to_optax(s, method="formula")
        with pytest.raises(ValueError, match="jax_enable_x64"):
            to_optax(s)
    with jax.enable_x64(True):
        f = to_optax(s, method="formula")
        c = np.arange(10**9, 10**9 + 200)
        got = np.asarray(jax.jit(f)(jnp.asarray(c, dtype=jnp.int64)))
    ref = s(c.astype(np.float64))
    # float64 past its table of 65,536 cycles: the closed form with the device's powers (as before)
    assert np.isfinite(got).all() and np.abs(got - ref).max() <= 1e-6 * 0.1


# -- Keras (jax backend), in its own process -------------------------------------------------


def worker(out: str) -> None:
    import jax
    import keras

    from lrkit.keras import ScheduleLR

    wide = keras.config.floatx() == "float64"
    res = {}
    for name, (make, *_) in CASES.items():
        for T in TS:
            lr = ScheduleLR(make(T), method="formula")
            c = counts_for(T, wide)
            fn = jax.jit(lambda x, lr=lr: lr(x))
            res[f"{name}|{T}"] = np.asarray(fn(keras.ops.convert_to_tensor(c)), dtype=np.float64).tolist()
    pathlib.Path(out).write_text(json.dumps(res))


@pytest.fixture(scope="module", params=["float32", "float64"])
def keras_jax(request, tmp_path_factory):
    from conftest import run_keras_jax  # here, not at the top: this file also runs as the Keras script

    out = tmp_path_factory.mktemp("keras") / f"{request.param}.json"
    return request.param, run_keras_jax(HERE, out, request.param)


@pytest.mark.parametrize("name", sorted(CASES))
def test_keras_jax_backend_exact_at_multiples(keras_jax, name):
    floatx, res = keras_jax
    wide = floatx == "float64"
    for T in TS:
        compare(name, T, counts_for(T, wide), np.array(res[f"{name}|{T}"]), wide)


if __name__ == "__main__":
    import keras

    keras.config.set_floatx(os.environ.get("KERAS_FLOATX", "float32"))
    worker(sys.argv[1])
