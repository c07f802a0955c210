"""lrkit.rangetest.keras.RangeTestCallback (the range test inside ``model.fit``) on the jax
backend, in its own process (this file is also the worker: ``KERAS_BACKEND=jax python
tests/test_rangetest_keras_callback.py OUT.json``).

On the same model, seed and batches (digits, 64 a batch, in order), the callback's run is the
``train_on_batch`` helper's (``lrkit.rangetest.keras.range_test``) value for value, and both
are a hand-written ``train_on_batch`` loop's at torch-lr-finder's lr formula (written out here,
on a model with a plain float lr: a ``LearningRateSchedule`` model must train at the sweep's lrs
too, in the compiled JAX step). After ``fit`` every model, optimizer and metric variable holds
its value from before, bit for bit: when the test ran to ``num_iter``, stopped at divergence,
ran out of epochs, or the data raised (``with cb:``, or ``cb.restore()``); and training goes on
as if the test had never run. Gradient accumulation (``gradient_accumulation_steps=2``):
updates of two batches at one lr, the loss ``l_0 / 2 + l_1 / 2`` in float32, against the hand
loop, and the trained weights against gradients averaged by hand (``jax.value_and_grad`` of
the stateless model, the mean applied with an optimizer without accumulation).
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import sys

import numpy as np
import pytest

HERE = pathlib.Path(__file__).resolve()
# name: (optimizer, schedule lr, start_lr, end_lr, num_iter, step_mode, gradient_accumulation_steps, epochs)
CASES = {
    "adam-exp": ("adam", False, 1e-5, 3.0, 40, "exp", None, 2),
    "adam-schedule": ("adam", True, 1e-5, 3.0, 40, "exp", None, 2),
    "sgd-diverges": ("sgd", False, 1e-4, 1000.0, 60, "exp", None, 3),
    "sgd-linear-schedule": ("sgd", True, 1e-4, 4.0, 30, "linear", None, 2),
    "adam-accumulate-2": ("adam", False, 1e-5, 3.0, 25, "exp", 2, 2),
    "sgd-accumulate-3-schedule": ("sgd", True, 1e-4, 100.0, 20, "exp", 3, 3),
}
BATCH = 64
#: the cases whose loss diverges before num_iter (SGD with momentum at large lrs)
DIVERGES = {"sgd-diverges", "sgd-linear-schedule", "sgd-accumulate-3-schedule"}


def sweep_lrs(a: float, b: float, n: int, mode: str) -> list[float]:
    """torch-lr-finder's lrs, written out (not lrkit's code)."""
    if mode == "exp":
        return [a * (b / a) ** (i / (n - 1)) for i in range(n)]
    return [a + (i / (n - 1)) * (b - a) for i in range(n)]


# -- the Keras half (its own process, KERAS_BACKEND=jax) ---------------------------------------


def worker(out: str) -> None:
    import jax
    import keras
    from sklearn.datasets import load_digits

    from lrkit.rangetest.keras import RangeTestCallback, range_test

    x, y = load_digits(return_X_y=True)
    X, Y = (x / 16.0).astype("float32"), y.astype("int64")
    nb = math.ceil(len(X) / BATCH)

    def batch(k: int) -> tuple:
        j = k % nb
        return X[j * BATCH : (j + 1) * BATCH], Y[j * BATCH : (j + 1) * BATCH]

    def make(opt: str, schedule: bool, acc, seed: int = 0, dropout: float = 0.0):
        keras.utils.set_random_seed(seed)
        layers = [keras.Input((64,)), keras.layers.Dense(32, activation="relu")]
        if dropout:
            layers.append(keras.layers.Dropout(dropout, seed=7))
        model = keras.Sequential(layers + [keras.layers.Dense(10)])
        lr = keras.optimizers.schedules.ExponentialDecay(1e-3, 5, 0.5) if schedule else 1e-3
        if opt == "adam":
            o = keras.optimizers.Adam(lr, gradient_accumulation_steps=acc)
        else:
            o = keras.optimizers.SGD(lr, momentum=0.9, gradient_accumulation_steps=acc)
        model.compile(optimizer=o, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.optimizer.build(model.trainable_variables)
        return model

    def state(model) -> list[np.ndarray]:
        vs = list(model.variables) + list(model.optimizer.variables) + list(model.metrics_variables)
        return [np.array(keras.ops.convert_to_numpy(v), copy=True) for v in vs]

    def same(a: list, b: list) -> bool:
        return len(a) == len(b) and all(u.dtype == v.dtype and u.tobytes() == v.tobytes() for u, v in zip(a, b))

    def as_dict(r) -> dict:
        return {"lrs": r.lrs, "raw": r.raw_losses, "losses": r.losses, "reason": r.stop_reason, "n": r.num_iter}

    class Count(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.n = 0

        def on_train_batch_end(self, batch, logs=None):
            self.n += 1

    res: dict = {}
    for name, (opt, sched, a, b, n, mode, acc, epochs) in CASES.items():
        k = acc or 1
        m1 = make(opt, sched, acc)
        before = state(m1)
        r1 = range_test(m1, x=X, y=Y, batch_size=BATCH, start_lr=a, end_lr=b, num_iter=n, step_mode=mode)
        helper_restored = same(before, state(m1))
        m2 = make(opt, sched, acc)
        before = state(m2)
        cb, count = RangeTestCallback(a, b, n, mode), Count()
        m2.fit(X, Y, batch_size=BATCH, epochs=epochs, shuffle=False, verbose=0, callbacks=[cb, count])
        cb_restored = same(before, state(m2))
        # the hand-written loop: a float lr, set before each update; k batches per update
        m3 = make(opt, False, acc)
        lrs = sweep_lrs(a, b, n, mode)
        manual = []
        for i in range(len(r1)):
            m3.optimizer.learning_rate.assign(lrs[i])
            parts = [float(m3.train_on_batch(*batch(i * k + j), return_dict=True)["loss"]) for j in range(k)]
            if k == 1:
                manual.append(parts[0])
            else:
                total = np.float32(parts[0]) / np.float32(k)
                for p in parts[1:]:
                    total = total + np.float32(p) / np.float32(k)
                manual.append(float(total))
        res[name] = {
            "helper": as_dict(r1),
            "callback": as_dict(cb.result),
            "helper_restored": helper_restored,
            "callback_restored": cb_restored,
            "batches": count.n,
            "manual": manual,
            "manual_weights": [w.tolist() for w in state(m3)[: len(m3.trainable_variables)]],
        }

    # gradient accumulation against gradients averaged by hand (no accumulation in the optimizer)
    for name in ("adam-accumulate-2",):
        opt, sched, a, b, n, mode, acc, _ = CASES[name]
        m = make(opt, False, None)
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        ntv = [v.value for v in m.non_trainable_variables]

        def f(tv, xb, yb, m=m, ntv=ntv, loss_fn=loss_fn):
            pred, _ = m.stateless_call(tv, ntv, xb, training=True)
            return loss_fn(yb, pred)

        vg = jax.value_and_grad(f)
        lrs = sweep_lrs(a, b, n, mode)
        losses = []
        for i in range(n):
            m.optimizer.learning_rate.assign(lrs[i])
            total = None
            ls = []
            for j in range(acc):
                loss, g = vg([v.value for v in m.trainable_variables], *batch(i * acc + j))
                ls.append(float(loss))
                total = g if total is None else [u + w for u, w in zip(total, g)]
            m.optimizer.apply([t / acc for t in total], m.trainable_variables)
            losses.append(sum(ls) / acc)
        res[name]["by_hand"] = {
            "losses": losses,
            "weights": [np.asarray(keras.ops.convert_to_numpy(v)).tolist() for v in m.trainable_variables],
        }

    # training goes on as if the test had never run (dropout, a schedule, warmed up)
    def train(with_test: bool) -> list[np.ndarray]:
        model = make("adam", True, None, seed=1, dropout=0.3)
        for k in range(2):
            model.train_on_batch(*batch(k))
        if with_test:
            cb = RangeTestCallback(1e-5, 1.0, 12)
            model.fit(X, Y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0, callbacks=[cb])
            assert cb.result is not None and len(cb.result) == 12
        model.fit(X[:640], Y[:640], batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
        return state(model)

    res["continues"] = same(train(True), train(False))

    # fit runs out of epochs before num_iter
    m = make("adam", False, None)
    before = state(m)
    cb = RangeTestCallback(1e-5, 1.0, 40)
    m.fit(X, Y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0, callbacks=[cb])
    res["ran_out"] = {"len": len(cb.result), "reason": cb.result.stop_reason, "restored": same(before, state(m))}

    # the data raises in the middle of fit: restored by the context manager, or by restore()
    def gen():
        for k in range(5):
            yield batch(k)
        raise RuntimeError("boom in user data")

    for how in ("with", "restore"):
        m = make("sgd", True, None, dropout=0.2)
        m.train_on_batch(*batch(7))
        before = state(m)
        cb = RangeTestCallback(1e-4, 1.0, 30)
        err = None
        try:
            if how == "with":
                with cb:
                    m.fit(gen(), epochs=1, verbose=0, callbacks=[cb])
            else:
                try:
                    m.fit(gen(), epochs=1, verbose=0, callbacks=[cb])
                finally:
                    cb.restore()
        except RuntimeError as e:
            err = str(e)
        lr_is_schedule = isinstance(m.optimizer._learning_rate, keras.optimizers.schedules.LearningRateSchedule)
        res[f"raises_{how}"] = {
            "error": err,
            "len": len(cb.result),
            "reason": cb.result.stop_reason,
            "restored": same(before, state(m)),
            "schedule_back": lr_is_schedule,
        }

    # refusals
    errors = {}
    m = make("adam", False, None)
    m.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", steps_per_execution=2)
    try:
        m.fit(X[:128], np.zeros((128, 10), "float32"), verbose=0, callbacks=[RangeTestCallback(1e-4, 1.0, 10)])
    except ValueError as e:
        errors["steps_per_execution"] = str(e)
    m = make("adam", False, 2)
    m.train_on_batch(*batch(0))  # one micro-batch into an accumulation of 2
    try:
        m.fit(X, Y, verbose=0, callbacks=[RangeTestCallback(1e-4, 1.0, 10)])
    except ValueError as e:
        errors["mid_accumulation"] = str(e)
    try:
        m.fit(X, Y, verbose=0, callbacks=[RangeTestCallback(1e-4, 1.0, 10, accumulation_steps=3)])
    except ValueError as e:
        errors["accumulation_mismatch"] = str(e)
    res["errors"] = errors
    pathlib.Path(out).write_text(json.dumps(res))


# -- the tests (this process) -------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras_jax(tmp_path_factory):
    from conftest import run_keras_jax  # here, not at the top: this file also runs as the Keras script

    out = tmp_path_factory.mktemp("keras") / "float32.json"
    return run_keras_jax(HERE, out, "float32")


def smoothed(raw: list[float], f: float = 0.05, th: float = 5.0) -> list[float]:
    """torch-lr-finder's smoothing and stop rule, written out: the curve up to the stop."""
    out: list[float] = []
    best = None
    for i, v in enumerate(raw):
        s = v if i == 0 else f * v + (1 - f) * out[-1]
        best = s if best is None else min(best, s)
        out.append(s)
        if s > th * best or not math.isfinite(v):
            break
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_callback_is_the_helper_and_the_hand_written_loop(keras_jax, name):
    opt, sched, a, b, n, mode, acc, epochs = CASES[name]
    r = keras_jax[name]
    cb, helper = r["callback"], r["helper"]
    assert cb == helper  # lrs, raw and smoothed losses, stop reason, value for value
    sm = smoothed(r["manual"])
    m = len(sm)
    assert cb["lrs"] == sweep_lrs(a, b, n, mode)[:m]
    assert cb["raw"] == r["manual"][:m] and cb["losses"] == sm
    assert r["helper_restored"] and r["callback_restored"]
    k = acc or 1
    assert r["batches"] == m * k  # fit stopped right after the last update
    if name in DIVERGES:
        assert m < n and cb["reason"].startswith(("diverged", "non-finite"))
    else:
        assert m == n and cb["reason"] is None


def test_accumulation_is_the_mean_gradient_by_hand(keras_jax):
    r = keras_jax["adam-accumulate-2"]
    hand = r["by_hand"]
    np.testing.assert_allclose(r["callback"]["raw"], hand["losses"], rtol=2e-6)
    for w, h in zip(r["manual_weights"], hand["weights"]):
        np.testing.assert_allclose(np.array(w), np.array(h), rtol=1e-4, atol=1e-4)  # weights up to ~6


def test_training_continues_as_if_the_test_never_ran(keras_jax):
    assert keras_jax["continues"]


def test_fit_running_out_first(keras_jax):
    r = keras_jax["ran_out"]
    assert r["len"] == 29 and r["reason"].startswith("training ended after 29 updates") and r["restored"]


@pytest.mark.parametrize("how", ["with", "restore"])
def test_restored_when_the_data_raises(keras_jax, how):
    r = keras_jax[f"raises_{how}"]
    assert r["error"] == "boom in user data"
    assert r["len"] == 5
    if how == "with":
        assert r["reason"] == "fit raised RuntimeError after 5 updates: boom in user data"
    else:
        assert r["reason"].startswith("training ended after 5 updates")
    assert r["restored"] and r["schedule_back"]


def test_refusals(keras_jax):
    e = keras_jax["errors"]
    assert "steps_per_execution=1" in e["steps_per_execution"] and "got 2" in e["steps_per_execution"]
    assert "1 micro-batch(es) into an accumulation of gradient_accumulation_steps=2" in e["mid_accumulation"]
    assert "accumulation_steps=3" in e["accumulation_mismatch"] and "over 2" in e["accumulation_mismatch"]


if __name__ == "__main__":
    import keras

    keras.config.set_floatx(os.environ.get("KERAS_FLOATX", "float32"))
    worker(sys.argv[1])
