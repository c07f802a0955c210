"""Cross-checks against the schedulers of PyTorch and PaddlePaddle, run step by step.

Each peer scheduler is stepped (>= 1000 steps) with a dummy optimizer; the lr it
sets at step ``k`` must match the lrkit schedule at position ``k`` (rtol 1e-9: the
peers that update recursively drift by a few ulps).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as tls

import lrkit as lk

BASE = 0.1
N = 1200


def torch_lrs(make, n: int = N, base: float = BASE) -> np.ndarray:
    """The lr of a torch scheduler at steps 0..n-1."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base)
    sched = make(opt)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(n):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
    return np.array(out)


def check(schedule: lk.Schedule, peer: np.ndarray, rtol: float = 1e-9) -> None:
    steps = np.arange(len(peer))
    ours = schedule(steps)
    np.testing.assert_allclose(ours, peer, rtol=rtol, atol=1e-300)
    # and one by one through the scalar path
    assert [schedule(int(k)) for k in steps] == ours.tolist()


def test_step_lr():
    check(lk.Step(BASE, 30, 0.5), torch_lrs(lambda o: tls.StepLR(o, step_size=30, gamma=0.5)))


def test_multistep_lr():
    ms = [100, 250, 251, 900]
    check(lk.MultiStep(BASE, ms, 0.3), torch_lrs(lambda o: tls.MultiStepLR(o, milestones=ms, gamma=0.3)))


def test_exponential_lr():
    check(lk.Exponential(BASE, 0.995), torch_lrs(lambda o: tls.ExponentialLR(o, gamma=0.995)))


@pytest.mark.parametrize("eta_min", [0.0, 0.001])
def test_cosine_annealing_lr(eta_min):
    T = 1000
    peer = torch_lrs(lambda o: tls.CosineAnnealingLR(o, T_max=T, eta_min=eta_min), n=T + 1)
    ours = lk.Cosine(BASE, T, eta_min)
    # the recursive update loses relative accuracy as the lr approaches 0: absolute check there
    np.testing.assert_allclose(ours(np.arange(T + 1)), peer, rtol=1e-9, atol=1e-15)
    # and the closed form, which PyTorch documents, at every step
    sched = tls.CosineAnnealingLR(
        torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=BASE), T_max=T, eta_min=eta_min
    )
    closed = []
    for k in range(T + 1):
        sched.last_epoch = k
        closed.append(sched._get_closed_form_lr()[0])
    np.testing.assert_allclose(ours(np.arange(T + 1)), closed, rtol=1e-12, atol=1e-17)


@pytest.mark.parametrize("T_mult", [1, 2])
def test_cosine_annealing_warm_restarts(T_mult):
    peer = torch_lrs(lambda o: tls.CosineAnnealingWarmRestarts(o, T_0=50, T_mult=T_mult, eta_min=0.001), n=1600)
    check(lk.CosineRestarts(BASE, 50, float(T_mult), 0.001), peer)


@pytest.mark.parametrize("start_factor", [0.0001, 0.1, 0.5])
def test_linear_lr_is_a_linear_warmup(start_factor):
    peer = torch_lrs(lambda o: tls.LinearLR(o, start_factor=start_factor, end_factor=1.0, total_iters=700))
    check(lk.Warmup(lk.Constant(BASE), 700, "linear", start_factor), peer)


@pytest.mark.parametrize("power", [1.0, 2.0, 0.5])
def test_polynomial_lr(power):
    peer = torch_lrs(lambda o: tls.PolynomialLR(o, total_iters=1000, power=power))
    check(lk.Polynomial(BASE, 1000, 0.0, power), peer)


@pytest.mark.parametrize("anneal", ["cos", "linear"])
@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("pct", [0.3, 0.25])
def test_one_cycle_lr(anneal, three_phase, pct):
    T = 1500
    peer = torch_lrs(
        lambda o: tls.OneCycleLR(
            o,
            max_lr=BASE,
            total_steps=T,
            pct_start=pct,
            anneal_strategy=anneal,
            three_phase=three_phase,
            cycle_momentum=False,
        ),
        n=T,
    )
    check(lk.OneCycle(BASE, T, pct, "cosine" if anneal == "cos" else "linear", three_phase=three_phase), peer)


def test_one_cycle_lr_with_explicit_factors():
    T = 1000
    peer = torch_lrs(
        lambda o: tls.OneCycleLR(
            o, max_lr=0.5, total_steps=T, div_factor=10, final_div_factor=100, cycle_momentum=False
        ),
        n=T,
    )
    check(lk.OneCycle(0.5, T, start_lr=0.05, min_lr=0.0005), peer)


@pytest.mark.parametrize("mode, gamma", [("triangular", 1.0), ("triangular2", 1.0), ("exp_range", 0.999)])
@pytest.mark.parametrize("down", [None, 300])
def test_cyclic_lr(mode, gamma, down):
    peer = torch_lrs(
        lambda o: tls.CyclicLR(
            o,
            base_lr=0.001,
            max_lr=BASE,
            step_size_up=100,
            step_size_down=down,
            mode=mode,
            gamma=gamma,
            cycle_momentum=False,
        ),
        n=2000,
    )
    check(lk.Cyclic(BASE, 100, down, mode=mode, gamma=gamma, min_lr=0.001), peer)


def test_lambda_lr_with_an_lrkit_schedule_matches_direct_evaluation():
    s = lk.WarmupCosine(1.0, 1000, 100, min_lr=0.01)
    peer = torch_lrs(lambda o: tls.LambdaLR(o, lambda k: s(k)), n=1100)
    check(s.scaled(BASE), peer, rtol=1e-15)


# -- PaddlePaddle ----------------------------------------------------------------------------------


def paddle_lrs(sched, n: int = N) -> np.ndarray:
    out = []
    for _ in range(n):
        out.append(sched())
        sched.step()
    return np.array(out)


@pytest.fixture(scope="module")
def plr():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import paddle.optimizer.lr as plr
    return plr


def test_paddle_cosine_annealing_decay(plr):
    T = 1000
    peer = paddle_lrs(plr.CosineAnnealingDecay(learning_rate=BASE, T_max=T, eta_min=0.001), n=T + 1)
    np.testing.assert_allclose(lk.Cosine(BASE, T, 0.001)(np.arange(T + 1)), peer, rtol=1e-9)


@pytest.mark.parametrize("power", [1.0, 2.0])
def test_paddle_polynomial_decay(plr, power):
    peer = paddle_lrs(plr.PolynomialDecay(learning_rate=BASE, decay_steps=1000, end_lr=0.001, power=power))
    check(lk.Polynomial(BASE, 1000, 0.001, power), peer)


@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("anneal", ["cos", "linear"])
def test_paddle_one_cycle(plr, three_phase, anneal):
    T = 1200
    peer = paddle_lrs(
        plr.OneCycleLR(
            max_learning_rate=BASE,
            total_steps=T,
            end_learning_rate=0.0001,
            phase_pct=0.3,
            anneal_strategy=anneal,
            three_phase=three_phase,
        ),
        n=T,
    )
    check(
        lk.OneCycle(
            BASE,
            T,
            0.3,
            "cosine" if anneal == "cos" else "linear",
            start_lr=BASE / 25,
            min_lr=0.0001,
            three_phase=three_phase,
        ),
        peer,
    )
