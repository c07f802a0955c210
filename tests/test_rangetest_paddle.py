"""lrkit.rangetest.paddle: the lrs and losses of a hand-written Paddle loop at torch-lr-finder's
and Lightning's lr formulas (written out here), and the model and optimizer put back bit for bit."""

from __future__ import annotations

import math

import numpy as np
import paddle
import pytest
import sklearn  # noqa: F401  (a test dependency: never skipped)

from lrkit.rangetest.paddle import range_test  # noqa: E402

paddle.set_device("cpu")


def _batches(bs: int = 64):
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    return [
        (paddle.to_tensor(x[i : i + bs]), paddle.to_tensor(y[i : i + bs].astype("int64"))) for i in range(0, len(x), bs)
    ]


DATA = _batches()
LOSS = paddle.nn.CrossEntropyLoss()


def make(opt: str = "adam", lr: float = 1e-3, seed: int = 0, dropout: float = 0.0, scheduler: bool = False):
    paddle.seed(seed)
    layers = [paddle.nn.Linear(64, 32), paddle.nn.ReLU()]
    if dropout:
        layers.append(paddle.nn.Dropout(dropout))
    m = paddle.nn.Sequential(*layers, paddle.nn.Linear(32, 10))
    rate = paddle.optimizer.lr.StepDecay(lr, step_size=2, gamma=0.5) if scheduler else lr
    o = (
        paddle.optimizer.Adam(rate, parameters=m.parameters())
        if opt == "adam"
        else paddle.optimizer.Momentum(rate, momentum=0.9, parameters=m.parameters())
    )
    return m, o


def state_of(model, optimizer) -> list:
    out = [("p", k, v.numpy().copy()) for k, v in model.state_dict().items()]
    out += [("g", p.name, None if p.grad is None else p.grad.numpy().copy()) for p in model.parameters()]
    out += [
        ("s", k, v.numpy().copy() if hasattr(v, "numpy") else v)
        for k, v in optimizer.state_dict().items()
        if k != "LR_Scheduler"
    ]
    out.append(("lr", None, optimizer.get_lr()))
    out.append(("modes", None, [m.training for m in model.sublayers(include_self=True)]))
    return out


def assert_same(a: list, b: list) -> None:
    assert [x[:2] for x in a] == [x[:2] for x in b]
    for (k, n, va), (_, _, vb) in zip(a, b):
        if isinstance(va, np.ndarray):
            assert va.dtype == vb.dtype and va.tobytes() == vb.tobytes(), (k, n)
        else:
            assert va == vb, (k, n)


def warm(model, optimizer, steps: int = 3) -> None:
    for x, y in DATA[:steps]:
        optimizer.clear_grad()
        LOSS(model(x), y).backward()
        optimizer.step()


def reference(opt, lrs, num_iter, smooth, th, lightning=False):
    """A hand-written loop at the given lrs with the peers' smoothing and stop rules."""
    model, optimizer = make(opt)
    raw, sm, best, avg = [], [], None, 0.0
    for i in range(num_iter):
        x, y = DATA[i % len(DATA)]
        optimizer.set_lr(lrs[i])
        optimizer.clear_grad()
        loss = LOSS(model(x), y)
        loss.backward()
        optimizer.step()
        loss_i = float(loss)
        raw.append(loss_i)
        if lightning:  # Lightning: beta = 1 - smooth, bias correction with its global_step + 1
            beta = 1.0 - smooth
            avg = beta * avg + (1 - beta) * loss_i
            s = avg / (1 - beta ** (i + 2))
            stop = i >= 1 and s > th * best
            best = s if i == 0 or s < best else best
        else:  # torch-lr-finder
            s = loss_i if i == 0 else smooth * loss_i + (1 - smooth) * sm[-1]
            best = s if best is None else min(best, s)
            stop = s > th * best
        sm.append(s)
        if stop:
            break
    return lrs[: len(sm)], raw, sm


@pytest.mark.parametrize(
    "opt,a,b,n,mode,flavor",
    [
        ("adam", 1e-5, 3.0, 60, "exp", "torch-lr-finder"),
        ("momentum", 1e-4, 1000.0, 80, "exp", "torch-lr-finder"),  # diverges
        ("momentum", 1e-4, 5.0, 40, "linear", "torch-lr-finder"),
        ("adam", 1e-5, 3.0, 50, "exp", "lightning"),
    ],
)
def test_same_run_as_a_hand_written_loop(opt, a, b, n, mode, flavor):
    if flavor == "torch-lr-finder":
        lrs = (
            [a * (b / a) ** (i / (n - 1)) for i in range(n)]
            if mode == "exp"
            else [a + (i / (n - 1)) * (b - a) for i in range(n)]
        )
        smooth, th = 0.05, 5.0
    else:
        lrs = [a] + (
            [a * (b / a) ** ((i + 1) / n) for i in range(1, n)]
            if mode == "exp"
            else [a + ((i + 1) / n) * (b - a) for i in range(1, n)]
        )
        smooth, th = 0.02, 4.0
    want_lrs, want_raw, want = reference(opt, lrs, n, smooth, th, lightning=flavor == "lightning")
    model, optimizer = make(opt)
    before = state_of(model, optimizer)
    res = range_test(model, optimizer, LOSS, DATA, start_lr=a, end_lr=b, num_iter=n, step_mode=mode, flavor=flavor)
    assert_same(state_of(model, optimizer), before)
    assert res.lrs == want_lrs and res.raw_losses == want_raw and res.losses == want
    assert len(res) == n or res.stop_reason is not None
    if b == 1000.0:
        assert res.stop_reason.startswith("diverged") and len(res) < n


def test_the_optimizer_runs_at_the_recorded_lr():
    model, optimizer = make("adam")
    seen = []

    def step(batch):
        seen.append(optimizer.get_lr())
        return LOSS(model(batch[0]), batch[1])

    res = range_test(model, optimizer, step=step, data=DATA, start_lr=1e-4, end_lr=1.0, num_iter=12)
    assert seen == res.lrs
    assert optimizer.get_lr() == 1e-3


@pytest.mark.parametrize("scheduler", [False, True])
def test_restores_bit_for_bit_after_a_nan_from_the_first_update(scheduler):
    model, optimizer = make("adam", scheduler=scheduler)
    warm(model, optimizer)
    before = state_of(model, optimizer)
    # (NaN inputs would not do: Paddle's ReLU maps NaN to 0)
    res = range_test(
        model, optimizer, step=lambda b: LOSS(model(b[0]), b[1]) * math.nan, data=DATA, start_lr=1e-4, num_iter=20
    )
    assert len(res) == 1 and res.stop_reason.startswith("non-finite loss at update 0")
    assert_same(state_of(model, optimizer), before)


def test_restores_bit_for_bit_when_user_code_raises():
    model, optimizer = make("momentum")
    warm(model, optimizer)
    before = state_of(model, optimizer)
    calls = []

    def step(batch):
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("boom in user code")
        return LOSS(model(batch[0]), batch[1])

    with pytest.raises(RuntimeError, match="boom in user code"):
        range_test(model, optimizer, step=step, data=DATA, start_lr=1e-3, num_iter=20)
    assert_same(state_of(model, optimizer), before)


@pytest.mark.parametrize("warm_first", [0, 2])
@pytest.mark.parametrize("scheduler", [False, True])
def test_training_continues_as_if_the_test_never_ran(warm_first, scheduler):
    """Dropout draws from Paddle's generator; a fresh optimizer (warm_first=0) has no
    accumulators yet: the test's are dropped and made afresh at the next real step."""

    def train(with_test: bool):
        model, optimizer = make("adam", seed=1, dropout=0.3, scheduler=scheduler)
        warm(model, optimizer, warm_first)
        if with_test:
            range_test(model, optimizer, LOSS, DATA, start_lr=1e-5, end_lr=1.0, num_iter=15)
        for x, y in DATA[5:15]:
            optimizer.clear_grad()
            LOSS(model(x), y).backward()
            optimizer.step()
            if scheduler:
                optimizer._learning_rate.step()
        # layer names differ between two models of one process (linear_0, linear_2): compare
        # the optimizer's keys with the layer prefix cut
        return [(k, n.split(".", 1)[-1] if isinstance(n, str) else n, v) for k, n, v in state_of(model, optimizer)]

    assert_same(train(True), train(False))


def test_bad_arguments():
    model, optimizer = make("adam")
    with pytest.raises(ValueError, match="start_lr .* must be below end_lr"):
        range_test(model, optimizer, LOSS, DATA, start_lr=1.0, end_lr=0.1)
    with pytest.raises(ValueError, match="num_iter must be >= 2"):
        range_test(model, optimizer, LOSS, DATA, num_iter=1)
    with pytest.raises(TypeError, match="loss_fn"):
        range_test(model, optimizer, data=DATA)


@pytest.mark.parametrize("scheduler", [False, True])
def test_a_deepspeed_sweep(scheduler):
    """test= (DeepSpeed's LRRangeTest, its formula written out): the optimizer runs at those lrs
    and gets its own lr (or scheduler) back."""
    from lrkit.rangetest import from_deepspeed

    params = {"lr_range_test_min_lr": 1e-4, "lr_range_test_step_size": 3, "lr_range_test_step_rate": 2.0}
    want = [1e-4 * (1 + 2.0 * (i / 3)) for i in range(10)]
    model, optimizer = make("adam", scheduler=scheduler)
    before = state_of(model, optimizer)
    seen = []

    def step(batch):
        seen.append(optimizer.get_lr())
        return LOSS(model(batch[0]), batch[1])

    res = range_test(model, optimizer, step=step, data=DATA, test=from_deepspeed(params, num_iter=10))
    assert seen == want == res.lrs
    assert_same(state_of(model, optimizer), before)
    with pytest.raises(TypeError, match="test= carries its own num_iter"):
        range_test(model, optimizer, step=step, data=DATA, test=from_deepspeed(params), num_iter=5)
