"""PyTorch and Paddle train the same tiny model with the same lrkit schedule and with CAWB:
the lr applied at every optimizer step, for every param group, is the same in both.

The model (a 4 -> 2 linear layer, weight and bias in two param groups with different
lrs) starts from the same weights and sees the same batches. Each group also holds a
scalar probe ``p_g`` added to the loss: one SGD update moves it by exactly ``-lr_g``
(it is reset to 0 before each update), which measures the lr each framework applied.

float64 parameters: both frameworks apply the float64 value (Paddle's lr tensor takes
the parameters' dtype). float32 parameters: PyTorch's SGD rounds the lr to float32
(``add_(grad, alpha=-lr)`` in float32) and Paddle holds it in a float32 tensor; the
applied lrs are compared at that precision.
"""

from __future__ import annotations

import numpy as np
import paddle
import pytest
import torch

import lrkit as lk
from lrkit.paddle import CosineAnnealingWarmbootingLR as PaddleCAWB
from lrkit.paddle import ScheduleLR as PaddleScheduleLR
from lrkit.torch import CosineAnnealingWarmbootingLR as TorchCAWB
from lrkit.torch import ScheduleLR as TorchScheduleLR

LRS = (0.1, 0.05)  # weight group, bias group
RNG = np.random.default_rng(0)
W0 = RNG.normal(size=(4, 2))
B0 = RNG.normal(size=2)
X = RNG.normal(size=(12, 4))
Y = RNG.normal(size=(12, 2))
BATCH = 4


class TorchRun:
    def __init__(self, dtype: str) -> None:
        dt = getattr(torch, dtype)
        self.dt = dt
        self.w = torch.tensor(W0, dtype=dt, requires_grad=True)  # x @ w + b
        self.b = torch.tensor(B0, dtype=dt, requires_grad=True)
        self.probes = [torch.zeros(1, dtype=dt, requires_grad=True) for _ in LRS]
        self.opt = torch.optim.SGD(
            [{"params": [self.w, self.probes[0]], "lr": LRS[0]}, {"params": [self.b, self.probes[1]], "lr": LRS[1]}]
        )

    def update(self, i: int) -> list[float]:
        with torch.no_grad():
            for p in self.probes:
                p.zero_()
        x = torch.tensor(X[i * BATCH : (i + 1) * BATCH], dtype=self.dt)
        y = torch.tensor(Y[i * BATCH : (i + 1) * BATCH], dtype=self.dt)
        loss = ((x @ self.w + self.b - y) ** 2).mean() + sum(p.sum() for p in self.probes)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return [-float(p.item()) for p in self.probes]


class PaddleRun:
    def __init__(self, dtype: str, lr) -> None:
        const = paddle.nn.initializer.Assign
        self.dtype = dtype
        self.w = paddle.create_parameter([4, 2], dtype, default_initializer=const(W0.astype(dtype)))
        self.b = paddle.create_parameter([2], dtype, default_initializer=const(B0.astype(dtype)))
        self.probes = [
            paddle.create_parameter([1], dtype, default_initializer=paddle.nn.initializer.Constant(0.0)) for _ in LRS
        ]
        # Paddle's multipliers: PyTorch's group lrs relative to the first
        self.groups = [
            {"params": [self.w, self.probes[0]], "learning_rate": 1.0},
            {"params": [self.b, self.probes[1]], "learning_rate": LRS[1] / LRS[0]},
        ]
        self.make_opt = lambda sched: paddle.optimizer.SGD(learning_rate=sched, parameters=self.groups)

    def update(self, opt, i: int) -> list[float]:
        for p in self.probes:
            p.set_value(paddle.zeros([1], self.dtype))
        x = paddle.to_tensor(X[i * BATCH : (i + 1) * BATCH].astype(self.dtype))
        y = paddle.to_tensor(Y[i * BATCH : (i + 1) * BATCH].astype(self.dtype))
        loss = ((x @ self.w + self.b - y) ** 2).mean() + paddle.add_n([p.sum() for p in self.probes])
        loss.backward()
        opt.step()
        opt.clear_grad()
        return [-float(p.numpy()[0]) for p in self.probes]


BATCHES = len(X) // BATCH
SCHEDULE = lk.WarmupCosine(1.0, 60, 6, min_lr=0.01)  # a multiplier of each group's lr


def _compare(dtype, t_lrs, p_lrs, exact: bool):
    t_lrs, p_lrs = np.array(t_lrs), np.array(p_lrs)
    assert t_lrs.shape == p_lrs.shape
    if exact:
        assert np.array_equal(t_lrs, p_lrs)
    else:
        assert np.allclose(t_lrs, p_lrs, rtol=5e-16 if dtype == "float64" else 0, atol=0)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_same_lrkit_schedule_same_applied_lrs(dtype):
    """One lrkit schedule as a multiplier of each group's lr: bit-identical in both frameworks."""
    tr = TorchRun(dtype)
    t_sched = TorchScheduleLR(tr.opt, SCHEDULE)
    pr = PaddleRun(dtype, None)
    # one schedule per group on Paddle: group g gets m_g * schedule(t) in one product,
    # the same b_g * schedule(t) PyTorch computes
    p_sched = PaddleScheduleLR([SCHEDULE, SCHEDULE], learning_rate=LRS[0], parameters=pr.groups)
    p_opt = pr.make_opt(p_sched)
    t_lrs, p_lrs = [], []
    for step in range(60):
        i = step % BATCHES
        t_lrs.append(tr.update(i))
        t_sched.step()
        p_lrs.append(pr.update(p_opt, i))
        p_sched.step()
    _compare(dtype, t_lrs, p_lrs, exact=True)
    # and the lrs are the schedule's: b_g * schedule(t), rounded to the parameters' dtype
    want = np.array([[b * SCHEDULE(t) for b in LRS] for t in range(60)]).astype(dtype).astype(np.float64)
    assert np.array_equal(np.array(p_lrs), want)
    # same training: the weights followed the same path
    assert np.allclose(tr.w.detach().numpy(), pr.w.numpy(), rtol=1e-10 if dtype == "float64" else 1e-4)


def test_global_lr_with_multipliers_matches_to_an_ulp():
    """Paddle's usual form, one global lr times the group multiplier: (L * s) * m vs PyTorch's (L * m) * s."""
    tr = TorchRun("float64")
    t_sched = TorchScheduleLR(tr.opt, SCHEDULE)
    pr = PaddleRun("float64", None)
    p_sched = PaddleScheduleLR(SCHEDULE, learning_rate=LRS[0])
    p_opt = pr.make_opt(p_sched)
    t_lrs, p_lrs = [], []
    for step in range(60):
        t_lrs.append(tr.update(step % BATCHES))
        t_sched.step()
        p_lrs.append(pr.update(p_opt, step % BATCHES))
        p_sched.step()
    assert np.allclose(t_lrs, p_lrs, rtol=5e-16, atol=0)
    assert np.array_equal(np.array(t_lrs)[:, 0], np.array(p_lrs)[:, 0])  # multiplier 1: bit-identical


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cawb_same_applied_lrs(dtype):
    """CAWB with warmup, restarts and a custom lf, stepped per batch and per epoch in both."""
    kw = dict(
        epochs=12,
        steps=[4, 8],
        step_scale=0.7,
        batchs=BATCHES,
        warmup_epoch=2,
        lf=lambda x, gap: (1 - x / gap) * 0.9 + 0.1,
        epoch_scale=1.0,
    )
    tr = TorchRun(dtype)
    t_sched = TorchCAWB(tr.opt, **kw)
    pr = PaddleRun(dtype, None)
    p_opt = pr.make_opt(LRS[0])
    p_sched = PaddleCAWB(p_opt, **kw)  # attaches itself to the optimizer
    t_lrs, p_lrs, t_ret, p_ret = [], [], [], []
    for _ in range(kw["epochs"]):
        for i in range(BATCHES):
            t_sched.step_batch()
            p_sched.step_batch()
            t_lrs.append(tr.update(i))
            p_lrs.append(pr.update(p_opt, i))
        t_ret.append(t_sched.step())
        p_ret.append(p_sched.step())
    # group 1's multiplier is 0.5, a power of two: no extra rounding on Paddle's side.
    # The warmup values may differ by an ulp: base * k / W (torch drop-in) vs base * (k / W) (here,
    # which is the reference's value).
    _compare(dtype, t_lrs, p_lrs, exact=False)
    assert np.allclose(t_ret, p_ret, rtol=5e-16, atol=0)
    assert np.array_equal(np.array(t_lrs)[2 * BATCHES :], np.array(p_lrs)[2 * BATCHES :])  # after warmup: exact


def _jax_lrs(steps: int) -> list[list[float]]:
    """The same model, data and probes in JAX (x64), one optax SGD per group via multi_transform."""
    import jax
    import jax.numpy as jnp
    import optax

    from lrkit.jax import to_optax

    with jax.enable_x64(True):
        params = {"w": jnp.asarray(W0), "b": jnp.asarray(B0), "p0": jnp.zeros(1), "p1": jnp.zeros(1)}
        labels = {"w": "g0", "p0": "g0", "b": "g1", "p1": "g1"}
        tx = optax.multi_transform(
            {f"g{g}": optax.sgd(to_optax(lk.Scale(SCHEDULE, b))) for g, b in enumerate(LRS)}, labels
        )
        state = tx.init(params)

        def loss(p, x, y):
            return ((x @ p["w"] + p["b"] - y) ** 2).mean() + p["p0"].sum() + p["p1"].sum()

        @jax.jit
        def update(p, st, x, y):
            p = dict(p, p0=jnp.zeros(1), p1=jnp.zeros(1))
            g = jax.grad(loss)(p, x, y)
            upd, st = tx.update(g, st, p)
            return optax.apply_updates(p, upd), st

        out = []
        for step in range(steps):
            i = step % BATCHES
            params, state = update(
                params, state, jnp.asarray(X[i * BATCH : (i + 1) * BATCH]), jnp.asarray(Y[i * BATCH : (i + 1) * BATCH])
            )
            out.append([-float(params["p0"][0]), -float(params["p1"][0])])
        return out, np.asarray(params["w"])


def _keras_lrs(steps: int) -> list[float]:
    """Keras' SGD with ScheduleLR, applying a gradient of 1 to a probe (float32)."""
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    from lrkit.keras import ScheduleLR

    probe = keras.Variable(0.0, dtype="float32")
    opt = keras.optimizers.SGD(learning_rate=ScheduleLR(lk.Scale(SCHEDULE, LRS[0])))
    out = []
    for _ in range(steps):
        probe.assign(0.0)
        opt.apply_gradients([(keras.ops.ones(()), probe)])
        out.append(-float(keras.ops.convert_to_numpy(probe)))
    return out


def test_four_frameworks_apply_the_same_lrs():
    """PyTorch, Paddle and JAX (x64): bit-identical float64 lrs at every step, every group;
    Keras (float32): their float32 rounding."""
    steps = 60
    tr = TorchRun("float64")
    t_sched = TorchScheduleLR(tr.opt, SCHEDULE)
    pr = PaddleRun("float64", None)
    p_sched = PaddleScheduleLR([SCHEDULE, SCHEDULE], learning_rate=LRS[0], parameters=pr.groups)
    p_opt = pr.make_opt(p_sched)
    t_lrs, p_lrs = [], []
    for step in range(steps):
        t_lrs.append(tr.update(step % BATCHES))
        t_sched.step()
        p_lrs.append(pr.update(p_opt, step % BATCHES))
        p_sched.step()
    j_lrs, j_w = _jax_lrs(steps)
    assert np.array_equal(t_lrs, p_lrs) and np.array_equal(t_lrs, j_lrs)
    assert np.allclose(j_w, tr.w.detach().numpy(), rtol=1e-10)  # the same training
    k_lrs = _keras_lrs(steps)
    assert np.array_equal(np.array(k_lrs), np.array(t_lrs)[:, 0].astype(np.float32).astype(np.float64))
