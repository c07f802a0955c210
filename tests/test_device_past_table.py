"""Device evaluation past a table (issue 21): ``to_optax`` and ``lrkit.keras.ScheduleLR`` take every
kind without ``total_steps`` and, past any table, go on with the kind's formula (a restart
schedule's cycle search and CAWB's segments included), never holding the table's last value.
A Python function (``FunctionSchedule``) is the one exception: known only in its table, refused
past it (``nan`` in a compiled step, ``ValueError`` in an eager call).

Compared with lrkit's float64 values at counts past the table: with x64, within ``1e-12``
relative (and ``1e-15`` of the schedule's largest value, for values near 0); in float32, the
table gives the float32 rounding of lrkit's values and the formula is within ``1e-6`` of the
schedule's largest value (the bound ``lrkit._device`` documents). lrkit's values a few of the
dtype's ulps either side of the count are accepted, as ``Plan.check`` does (the jumps themselves
are exact: tests/test_device_exact_multiples.py).

The Keras schedule runs on the jax backend in its own process (this file is also the worker:
``KERAS_BACKEND=jax python tests/test_device_past_table.py OUT.json``), compiled with ``jax.jit``
as a train step compiles it, in float32 and in float64 (``jax_enable_x64``).
"""

from __future__ import annotations

import json
import os
import pathlib
import sys

import numpy as np
import pytest

import lrkit as lk
from lrkit import catalog
from lrkit.recipes.cawb import CAWB

HERE = pathlib.Path(__file__).resolve()
KINDS = sorted(lk.registered())
N = 300  # the table's length given as total_steps
PAST32 = np.concatenate(
    [
        np.arange(N, N + 1500),
        np.arange(65_530, 65_600),
        np.arange(10**5, 10**5 + 300),
        np.arange(10**6, 10**6 + 300),
        np.arange(10**7, 10**7 + 200),
    ]
)  # float32-exact counts
PAST64 = np.concatenate([PAST32, np.arange(10**9, 10**9 + 100), np.arange(10**12, 10**12 + 100)])

VARIANTS = {  # the kinds that were not traceable before, with other parameters
    "restarts, period_mult 1": lk.CosineRestarts(0.1, 37, min_lr=1e-3),
    "restarts, period_mult 1.5": lk.CosineRestarts(0.1, 37, 1.5),
    "restarts, peak_decay, fractional period": lk.CosineRestarts(0.1, 12.5, 2, 0.0, 0.9),
    "restarts, amplitude_decay, k-decay": lk.CosineRestarts(0.1, 50, 1.25, 1e-3, k=2.0, amplitude_decay=0.8),
    "restarts, very many short cycles": lk.CosineRestarts(0.1, 3, 1.00001, 1e-3),
    "restarts, slow peak decay, period_mult 1": lk.CosineRestarts(0.1, 7, 1.0, 0.0, 0.99999),
    "restarts, max_cycles (a Sum with an endless one)": lk.Sum(
        [lk.CosineRestarts(0.05, 20, 2, max_cycles=3), lk.CosineRestarts(0.05, 30, 1.0)]
    ),
    "cawb, per epoch, linear": CAWB(epochs=45.5, steps=[15, 30], step_scale=0.7, lf="linear"),
    "cawb, epoch_scale, fractional warmup": CAWB(
        epochs=20,
        steps=[3, 7, 19],
        epoch_scale=0.5,
        batchs=3,
        warmup_epoch=1.5,
        lf="cos",
        lf_amplitude=0.5,
        lf_floor=0.1,
    ),
    "cawb, fractional period": CAWB(epochs=30, steps=[10], epoch_scale=0.3, batchs=4, warmup_epoch=2),
}


def top(s: lk.Schedule, ref: np.ndarray) -> float:
    v = s.max_value
    return v if np.isfinite(v) else float(np.max(ref))


def window(s: lk.Schedule, counts: np.ndarray, eps: float, dtype) -> np.ndarray:
    """lrkit's values at each count as ``dtype`` rounds it, and 4 of its ulps either side (rows)."""
    at = counts.astype(np.float64).astype(dtype).astype(np.float64)
    return np.stack([s(at + d * 4 * eps * np.maximum(at, 1.0)) for d in (-1, 0, 1)], axis=1)


def check_x64(s, counts, got, what):
    w = window(s, counts, np.finfo(np.float64).eps, np.float64)
    tol = 1e-12 * np.abs(w).max(axis=1) + 1e-15 * top(s, w)
    ok = (got >= w.min(axis=1) - tol) & (got <= w.max(axis=1) + tol)
    assert ok.all(), (what, counts[~ok][:5], got[~ok][:5], w[~ok][:5, 1])


def check_f32(s, counts, got, what):
    w = window(s, counts, float(np.finfo(np.float32).eps), np.float32)
    tol = 1e-6 * top(s, w)
    ok = (got >= w.min(axis=1) - tol) & (got <= w.max(axis=1) + tol)
    assert ok.all(), (what, counts[~ok][:5], got[~ok][:5], w[~ok][:5, 1])


def f32(x):
    return np.asarray(x, dtype=np.float64).astype(np.float32).astype(np.float64)


# -- JAX / optax, in this process -----------------------------------------------------------


def jax_values(f, counts, wide):
    import jax
    import jax.numpy as jnp

    return np.asarray(jax.jit(f)(jnp.asarray(counts, dtype=jnp.int64 if wide else jnp.int32)), dtype=np.float64)


def jax_case(s, wide):
    import jax

    from lrkit.jax import to_optax

    with jax.enable_x64(wide):
        for f in (to_optax(s), to_optax(s, total_steps=N)):
            n = f._plan.n if f._plan.method == "table" else 0
            head = np.arange(min(n, 2000))
            ref = s(head.astype(np.float64))
            got = jax_values(f, head, wide)
            assert got.tolist() == (ref if wide else f32(ref)).tolist(), repr(f)  # the table: exact
            past = PAST64 if wide else PAST32
            past = past[past >= n] if n else past
            (check_x64 if wide else check_f32)(s, past, jax_values(f, past, wide), repr(f))
            assert "formula" in f.runs or "its last value" in f.runs, f.runs


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("wide", [True, False], ids=["x64", "float32"])
def test_jax_every_kind_without_total_steps_and_past_a_table(kind, wide):
    jax_case(catalog.example(kind), wide)


@pytest.mark.parametrize("name", sorted(VARIANTS))
@pytest.mark.parametrize("wide", [True, False], ids=["x64", "float32"])
def test_jax_restarts_and_cawb_past_a_table(name, wide):
    jax_case(VARIANTS[name], wide)


def test_every_kind_is_traceable():
    from lrkit.jax import to_optax

    for kind in KINDS:
        f = to_optax(catalog.example(kind), method="formula")
        assert f.runs.startswith("formula"), kind


def test_a_restart_schedule_is_not_held_past_its_table():
    # the case: a run extended past its plan used to get the table's last value for ever
    import jax

    from lrkit.jax import to_optax

    s = lk.CosineRestarts(0.01, 100, 2, 1e-4)
    with jax.enable_x64(True):
        f = to_optax(s, total_steps=350)
        got = jax_values(f, np.arange(340, 3000), True)
    ref = s(np.arange(340, 3000.0))
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    assert (np.diff(got) != 0).all()  # no held value: every step moves
    assert "then the formula" in repr(f)


def test_a_python_function_is_refused_past_its_table():
    import jax

    from lrkit.jax import to_optax

    s = lk.FunctionSchedule(lambda t: 0.1 / (1.0 + t))
    with pytest.raises(ValueError, match=r"Python.*total_steps="):
        to_optax(s)
    with pytest.raises(ValueError, match="cannot be traced"):
        to_optax(s, method="formula")
    with jax.enable_x64(True):
        f = to_optax(s, total_steps=N)
        got = jax_values(f, np.arange(N + 50), True)
        assert got[:N].tolist() == [s(float(k)) for k in range(N)]
        assert np.isnan(got[N:]).all()  # a compiled step cannot raise: nan, never a held value
        assert float(f(N - 1)) == s(N - 1.0)
        with pytest.raises(ValueError, match=rf"table of {N} steps.*step {N} is past it"):
            f(N)  # an eager call knows the count: a clear error
        with pytest.raises(ValueError, match="past it"):
            f(np.array([3, 5, N + 7]))
    assert "then nan" in repr(f)


# -- Keras (jax backend), in its own process ---------------------------------------------------

CASES = {f"kind {k}": (lambda k=k: catalog.example(k)) for k in KINDS}
CASES.update({name: (lambda s=s: s) for name, s in VARIANTS.items()})


def worker(out: str) -> None:
    """Every case's ScheduleLR, without and with ``total_steps=N``, jitted at the table's head and
    past it, under the current floatx (and x64 setting); written to ``out`` as JSON."""
    import jax
    import keras

    from lrkit.keras import ScheduleLR

    wide = keras.config.floatx() == "float64"
    res = {}
    for name, make in CASES.items():
        s = make()
        rows = []
        for lr in (ScheduleLR(s), ScheduleLR(s, total_steps=N)):
            plan = lr._plan
            n = plan.n if plan.method == "table" else 0
            head = np.arange(min(n, 2000))
            past = PAST64 if wide else PAST32
            past = past[past >= n] if n else past
            fn = jax.jit(lambda c, lr=lr: lr(c))
            vals = [
                np.asarray(fn(keras.ops.convert_to_tensor(c)), dtype=np.float64).tolist() if c.size else []
                for c in (head, past)
            ]
            rows.append({"n": n, "runs": lr.runs, "repr": repr(lr), "head": vals[0], "past": vals[1]})
        res[name] = rows
    pathlib.Path(out).write_text(json.dumps(res))


@pytest.fixture(scope="module", params=["float32", "float64"])
def keras_jax(request, tmp_path_factory):
    from conftest import run_keras_jax  # here, not at the top: this file also runs as the Keras script

    out = tmp_path_factory.mktemp("keras") / f"{request.param}.json"
    return request.param, run_keras_jax(HERE, out, request.param)


@pytest.mark.parametrize("name", sorted(CASES))
def test_keras_jax_backend_without_total_steps_and_past_a_table(keras_jax, name):
    floatx, res = keras_jax
    wide = floatx == "float64"
    s = CASES[name]()
    for row in res[name]:
        n = row["n"]
        head = np.arange(min(n, 2000))
        ref = s(head.astype(np.float64))
        assert row["head"] == (ref if wide else f32(ref)).tolist(), row["repr"]
        past = PAST64 if wide else PAST32
        past = past[past >= n] if n else past
        (check_x64 if wide else check_f32)(s, past, np.array(row["past"]), row["repr"])
        assert floatx in row["runs"] and ("formula" in row["runs"] or "its last value" in row["runs"])


if __name__ == "__main__":
    import keras

    keras.config.set_floatx(os.environ.get("KERAS_FLOATX", "float32"))
    worker(sys.argv[1])
