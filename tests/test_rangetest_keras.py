"""lrkit.rangetest.keras on a compiled Keras 3 model (the torch backend, see conftest): the
lrs and losses of a hand-written train_on_batch loop at torch-lr-finder's lr formula (written
out here), and every model, optimizer and metric variable put back bit for bit."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

# Keras' torch backend converts with np.array(copy=False) through torch's __array__: numpy's
# DeprecationWarning about it, once per conversion, says nothing about lrkit
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
import sklearn  # noqa: F401, E402  (a test dependency: never skipped)

from lrkit.rangetest import from_deepspeed  # noqa: E402
from lrkit.rangetest.keras import RangeTestCallback, range_test  # noqa: E402


def _digits():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return (x / 16.0).astype("float32"), y.astype("int64")


X, Y = _digits()
DATA = [(X[i : i + 64], Y[i : i + 64]) for i in range(0, len(X), 64)]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """One torch thread for these tests (many small ops: threads only contend on a shared
    machine), put back after."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def make(opt: str = "adam", dropout: float = 0.0, schedule: bool = False, seed: int = 0, acc=None):
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
    return model


def state_of(model) -> list:
    vs = list(model.variables) + list(model.optimizer.variables) + list(model.metrics_variables)
    return [(v.path, np.array(keras.ops.convert_to_numpy(v), copy=True)) for v in vs]


def assert_same(a, b):
    assert [p for p, _ in a] == [p for p, _ in b]
    for (p, va), (_, vb) in zip(a, b):
        assert va.dtype == vb.dtype and va.tobytes() == vb.tobytes(), p


def warm(model, steps=3):
    for xb, yb in DATA[:steps]:
        model.train_on_batch(xb, yb)


@pytest.mark.parametrize(
    "opt,a,b,n,mode",
    [("adam", 1e-5, 3.0, 40, "exp"), ("sgd", 1e-4, 1000.0, 60, "exp"), ("sgd", 1e-4, 4.0, 30, "linear")],
)
def test_same_run_as_a_hand_written_loop(opt, a, b, n, mode):
    lrs = (
        [a * (b / a) ** (i / (n - 1)) for i in range(n)]
        if mode == "exp"
        else [a + (i / (n - 1)) * (b - a) for i in range(n)]
    )
    ref = make(opt)
    raw, sm, best = [], [], None
    for i in range(n):
        ref.optimizer.learning_rate.assign(lrs[i])
        loss_i = float(ref.train_on_batch(*DATA[i % len(DATA)], return_dict=True)["loss"])
        raw.append(loss_i)
        s = loss_i if i == 0 else 0.05 * loss_i + (1 - 0.05) * sm[-1]
        best = s if best is None else min(best, s)
        sm.append(s)
        if s > 5 * best or not math.isfinite(loss_i):
            break
    model = make(opt)
    model.optimizer.build(model.trainable_variables)
    before = state_of(model)
    res = range_test(model, DATA, start_lr=a, end_lr=b, num_iter=n, step_mode=mode)
    assert_same(state_of(model), before)
    assert res.lrs == lrs[: len(sm)] and res.raw_losses == raw and res.losses == sm
    if b == 1000.0:
        assert res.stopped_early and res.stop_reason is not None


def test_array_input_and_restore_after_a_nan_from_the_first_update():
    model = make("adam")
    warm(model)
    before = state_of(model)
    res = range_test(model, x=np.full_like(X[:128], np.nan), y=Y[:128], batch_size=64, start_lr=1e-4, num_iter=10)
    assert len(res) == 1 and res.stop_reason.startswith("non-finite loss at update 0")
    assert_same(state_of(model), before)


def test_restores_when_the_data_raises():
    model = make("sgd")
    warm(model)
    before = state_of(model)

    def gen():
        yield from DATA[:3]
        raise RuntimeError("boom in user data")

    with pytest.raises(RuntimeError, match="boom in user data"):
        range_test(model, gen(), start_lr=1e-4, num_iter=10)
    assert_same(state_of(model), before)


@pytest.mark.parametrize("schedule", [False, True])
def test_training_continues_as_if_the_test_never_ran(schedule):
    def train(with_test: bool):
        model = make("adam", dropout=0.3, schedule=schedule, seed=1)
        warm(model, 2)
        sched = model.optimizer._learning_rate
        if with_test:
            res = range_test(model, DATA, start_lr=1e-5, end_lr=1.0, num_iter=12)
            assert len(res) == 12
        assert model.optimizer._learning_rate is sched
        model.fit(X[:640], Y[:640], batch_size=64, epochs=1, shuffle=False, verbose=0)
        # two models of one process have different paths (sequential_1, ...): the values in order
        return [(k, v) for k, (_, v) in enumerate(state_of(model))]

    assert_same(train(True), train(False))


def test_bad_arguments():
    model = make("adam")
    with pytest.raises(ValueError, match="start_lr .* must be below end_lr"):
        range_test(model, DATA, start_lr=1.0, end_lr=0.1)
    with pytest.raises(TypeError, match="needs data"):
        range_test(model)
    with pytest.raises(ValueError, match="batch_size"):
        range_test(model, x=X, y=Y, batch_size=0)
    uncompiled = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10)])
    with pytest.raises(ValueError, match="must be compiled"):
        range_test(uncompiled, DATA)


def test_accumulation_against_a_hand_written_loop():
    """gradient_accumulation_steps=2: an update is two train_on_batch calls at one lr, its loss
    l_0 / 2 + l_1 / 2 in float32 (the torch helper's sum of divided losses)."""
    a, b, n, k = 1e-4, 1.0, 12, 2
    lrs = [a * (b / a) ** (i / (n - 1)) for i in range(n)]
    ref = make("adam", acc=k)
    raw = []
    for i in range(n):
        ref.optimizer.learning_rate.assign(lrs[i])
        parts = [
            np.float32(ref.train_on_batch(*DATA[(i * k + j) % len(DATA)], return_dict=True)["loss"]) for j in range(k)
        ]
        raw.append(float(parts[0] / np.float32(k) + parts[1] / np.float32(k)))
    model = make("adam", acc=k)
    model.optimizer.build(model.trainable_variables)
    before = state_of(model)
    res = range_test(model, DATA, start_lr=a, end_lr=b, num_iter=n, accumulation_steps=k, diverge_th=math.inf)
    assert res.lrs == lrs and res.raw_losses == raw
    assert_same(state_of(model), before)
    with pytest.raises(ValueError, match="accumulation_steps=3 but the optimizer accumulates over 2"):
        range_test(model, DATA, start_lr=a, accumulation_steps=3)
    with pytest.raises(ValueError, match="accumulates over 1 micro-batch"):
        range_test(make("adam"), DATA, start_lr=a, accumulation_steps=2)
    model.train_on_batch(*DATA[0])
    with pytest.raises(ValueError, match="1 micro-batch\\(es\\) into an accumulation"):
        range_test(model, DATA, start_lr=a)


def test_the_callback_on_the_torch_backend():
    """The fit callback is the train_on_batch helper's run here too (the jax backend:
    test_rangetest_keras_callback.py)."""
    m1 = make("sgd", schedule=True)
    r1 = range_test(m1, x=X[:640], y=Y[:640], batch_size=64, start_lr=1e-4, end_lr=1.0, num_iter=15)
    m2 = make("sgd", schedule=True)
    m2.optimizer.build(m2.trainable_variables)
    before = state_of(m2)
    cb = RangeTestCallback(1e-4, 1.0, 15)
    m2.fit(X[:640], Y[:640], batch_size=64, epochs=2, shuffle=False, verbose=0, callbacks=[cb])
    assert cb.result == r1 and len(r1) == 15
    assert_same(state_of(m2), before)
    assert isinstance(m2.optimizer._learning_rate, keras.optimizers.schedules.LearningRateSchedule)


def test_a_deepspeed_sweep():
    params = {"lr_range_test_min_lr": 1e-4, "lr_range_test_step_size": 4, "lr_range_test_step_rate": 2.0}
    want = [1e-4 * (1 + 2.0 * (i / 4)) for i in range(10)]  # DeepSpeed's formula (tests/test_rangetest_deepspeed.py)
    res = range_test(make("adam"), DATA, test=from_deepspeed(params, num_iter=10))
    assert res.lrs == want and res.step_mode == "schedule"
    with pytest.raises(TypeError, match="test= carries its own end_lr"):
        range_test(make("adam"), DATA, test=from_deepspeed(params), end_lr=1.0)
