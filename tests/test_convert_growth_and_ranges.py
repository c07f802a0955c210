"""Rising and unbounded schedules, compared with the peers that define them.

Paddle's PolynomialDecay rising to end_lr, DeepSpeed's LRRangeTest (continuous and
staircase) and a whole ds_config whose lr is in its optimizer section, pytorch-warmup's
RAdamWarmup factor, optax's exponential_decay growing to its end_value.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

os.environ.setdefault("DS_ACCELERATOR", "cpu")

from peer import assert_same_curve  # noqa: E402

import lrkit as lk  # noqa: E402
from lrkit.torch import from_deepspeed, from_torch  # noqa: E402

N = 2000


def _native(s):
    assert isinstance(s, lk.Schedule) and not s.runs_python
    assert lk.from_dict(s.to_dict()) == s


# -- Paddle: PolynomialDecay with end_lr above learning_rate ---------------------------------------


@pytest.mark.parametrize(
    "b,T,end,power",
    [
        (0.01, 100, 0.1, 2.0),
        (0.01, 100, 0.1, 0.5),
        (0.0, 77, 0.3, 1.0),
        (1e-4, 999, 1e-3, 3.7),
        (0.05, 1, 0.06, 1.0),
    ],
)
def test_paddle_rising_polynomial(b, T, end, power):
    import paddle

    import lrkit.paddle as lp

    sched = paddle.optimizer.lr.PolynomialDecay(b, T, end, power)
    ref = []
    for _ in range(N):
        ref.append(sched())
        sched.step()
    s = lp.from_paddle(sched)
    _native(s)
    assert_same_curve(ref, s(np.arange(float(N))).tolist(), f"PolynomialDecay({b}, {T}, {end}, {power})")
    assert s(1e12) == end  # held at end_lr, as Paddle holds it


# -- DeepSpeed ---------------------------------------------------------------------------------------


def _opt(lrs=(0.1, 0.01), cls=torch.optim.SGD, **kw):
    return cls([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs], **kw)


def _deepspeed(kind, params, opt):
    import deepspeed.runtime.lr_schedules as L

    s = getattr(L, kind)(opt, **params)
    out = [[g["lr"] for g in s.optimizer.param_groups]]
    for _ in range(N - 1):
        s.step()
        out.append([g["lr"] for g in s.optimizer.param_groups])
    return np.array(out), s


RANGE_TESTS = {
    "defaults": {},
    "continuous": dict(lr_range_test_min_lr=0.001, lr_range_test_step_size=7, lr_range_test_step_rate=0.3),
    "staircase": dict(
        lr_range_test_min_lr=0.002,
        lr_range_test_step_size=50,
        lr_range_test_step_rate=1.5,
        lr_range_test_staircase=True,
    ),
    "staircase-per-group": dict(
        lr_range_test_min_lr=[0.001, 0.02],
        lr_range_test_step_size=13,
        lr_range_test_step_rate=2.5,
        lr_range_test_staircase=True,
    ),
    "rate-0": dict(lr_range_test_min_lr=0.004, lr_range_test_step_size=3, lr_range_test_step_rate=0.0),
    "step-1": dict(
        lr_range_test_min_lr=[1e-5, 3e-5],
        lr_range_test_step_size=1,
        lr_range_test_step_rate=0.01,
        lr_range_test_staircase=True,
    ),
}


@pytest.mark.parametrize("name", list(RANGE_TESTS))
def test_deepspeed_lr_range_test(name):
    params = RANGE_TESTS[name]
    ref, obj = _deepspeed("LRRangeTest", params, _opt())
    for how, mine in (
        ("config", from_deepspeed({"type": "LRRangeTest", "params": params})),
        ("object", from_torch(obj)),
    ):
        per = mine if isinstance(mine, list) else [mine, mine]
        for g in range(2):
            _native(per[g])
            assert per[g].kind == "linear_growth"
            assert_same_curve(ref[:, g], per[g](np.arange(float(N))).tolist(), f"{name} {how} group {g}")


def test_deepspeed_lr_range_test_refusals():
    with pytest.raises(ValueError, match="lr_range_test_step_size"):
        from_deepspeed({"type": "LRRangeTest", "params": {"lr_range_test_step_size": 2.5}})
    with pytest.raises(ValueError, match="lr_range_test_step_rate"):
        from_deepspeed({"type": "LRRangeTest", "params": {"lr_range_test_step_rate": -1.0}})
    with pytest.raises(ValueError, match="lr_range_test_staircase"):
        from_deepspeed({"type": "LRRangeTest", "params": {"lr_range_test_staircase": "yes"}})


@pytest.mark.parametrize(
    "kind,params",
    [
        ("WarmupCosineLR", dict(total_num_steps=700, warmup_num_steps=40, cos_min_ratio=0.05)),
        ("WarmupCosineLR", dict(total_num_steps=300, warmup_num_steps=500, warmup_type="linear")),
        ("WarmupLR", dict(warmup_min_lr=1e-5, warmup_num_steps=90)),
    ],
)
def test_a_whole_ds_config_gives_the_optimizer_lr(kind, params):
    lr = 3e-4
    config = {
        "train_batch_size": 8,
        "optimizer": {"type": "AdamW", "params": {"lr": lr, "weight_decay": 0.01}},
        "scheduler": {"type": kind, "params": params},
    }
    ref, _ = _deepspeed(kind, params, _opt((lr,), torch.optim.AdamW))
    s = from_deepspeed(config)
    _native(s)
    assert_same_curve(ref[:, 0], s(np.arange(float(N))).tolist(), f"{kind} from the whole config")
    # lrs= still wins (one per group of the optimizer the caller built)
    ref2, _ = _deepspeed(kind, params, _opt((0.1, 0.01)))
    per = from_deepspeed(config, lrs=[0.1, 0.01])
    for g in range(2):
        assert_same_curve(ref2[:, g], per[g](np.arange(float(N))).tolist(), f"{kind} lrs= group {g}")


def test_a_whole_ds_config_without_an_lr_still_asks_for_lrs():
    config = {
        "optimizer": {"type": "AdamW", "params": {"weight_decay": 0.01}},
        "scheduler": {"type": "WarmupCosineLR", "params": {"total_num_steps": 100}},
    }
    with pytest.raises(ValueError, match="give lrs="):
        from_deepspeed(config)
    config["optimizer"]["params"]["lr"] = -1.0
    with pytest.raises(ValueError, match="lr"):
        from_deepspeed(config)


# -- pytorch-warmup's RAdamWarmup ------------------------------------------------------------------


@pytest.mark.parametrize("beta2", [0.61, 0.8, 0.95, 0.99, 0.999, 0.9999])
def test_radam_dampening_is_pytorch_warmups_factor(beta2):
    import pytorch_warmup

    opt = _opt((1.0,), torch.optim.Adam, betas=(0.9, beta2))
    w = pytorch_warmup.RAdamWarmup(opt)
    ref = []
    for _ in range(N):
        ref.append(opt.param_groups[0]["lr"])
        with w.dampening():
            pass
    d = lk.RAdamDampening(beta2)
    _native(d)
    assert d.offset == w.warmup_params[0]["offset"]
    assert_same_curve(ref, d(np.arange(float(N))).tolist(), f"RAdamWarmup beta2={beta2}")
    assert [d(float(t)) for t in range(0, N, 97)] == d(np.arange(0.0, N, 97.0)).tolist()


@pytest.mark.parametrize("beta2", [0.6, 0.3, 1.0, 1.5])
def test_radam_dampening_outside_its_domain_is_refused(beta2):
    with pytest.raises(ValueError, match="beta2"):
        lk.RAdamDampening(beta2)


def test_radam_warmup_over_schedulers_per_group():
    import pytorch_warmup
    from torch.optim import lr_scheduler as tl

    opt = torch.optim.AdamW(
        [
            {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.003},
            {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.001, "betas": (0.9, 0.98)},
        ],
        betas=(0.9, 0.999),
    )
    main = tl.CosineAnnealingLR(opt, T_max=1200, eta_min=1e-6)
    w = pytorch_warmup.RAdamWarmup(opt)
    conv = from_torch(main, warmup=w)
    ref = [[], []]
    for _ in range(N):
        for g in range(2):
            ref[g].append(opt.param_groups[g]["lr"])
        opt.step()
        with w.dampening():
            main.step()
    for g in range(2):
        _native(conv[g])
        assert_same_curve(ref[g], conv[g](np.arange(float(N))).tolist(), f"RAdamWarmup group {g}")


# -- optax: exponential_decay with decay_rate > 1, capped at end_value -----------------------------


@pytest.mark.parametrize(
    "init,steps,rate,begin,stair,end",
    [
        (0.001, 37, 1.05, 0, False, 0.05),
        (0.001, 37, 1.05, 0, True, 0.05),
        (0.01, 1, 1.001, 120, False, 0.02),
        (0.2, 10, 1.3, 5, True, 0.1),  # above end_value from the start: end_value throughout
        (0.0, 7, 2.0, 0, False, 1.0),
        (1e-4, 3, 1.5, 60, False, 1e300),  # reaches float64's limit only through the cap
    ],
)
def test_optax_exponential_growth(init, steps, rate, begin, stair, end):
    import jax
    import optax

    with jax.enable_x64(True):
        f = optax.exponential_decay(init, steps, rate, transition_begin=begin, staircase=stair, end_value=end)
        ref = [float(f(np.int64(t))) for t in range(N)]
    grow = lk.Exponential(init, rate, steps, staircase=stair, max_lr=end)
    s = lk.Sequence([lk.Constant(min(init, end)), grow], [begin]) if begin else grow
    _native(s)
    assert_same_curve(ref, s(np.arange(float(N))).tolist(), f"exponential_decay({init}, {steps}, {rate})")
    assert s(1e300) == min(end, max(init, end)) if init > 0 else True


def test_exponential_growth_needs_a_cap():
    with pytest.raises(ValueError, match="max_lr"):
        lk.Exponential(0.1, 1.01)
    e = lk.Exponential(0.1, 1.01, max_lr=0.5)
    assert e.max_value == 0.5 and e(1e308) == 0.5
    assert lk.Exponential(0.1, 0.9, max_lr=0.05)(0.0) == 0.05  # a cap lowers a decay too


# -- the kinds' formulas, written out ---------------------------------------------------------------


@pytest.mark.parametrize(
    "s,f",
    [
        (lk.LinearGrowth(0.01, 100, 0.5), lambda t: 0.01 * (1 + 0.5 * t / 100)),
        (lk.LinearGrowth(0.01, 100, 0.5, staircase=True), lambda t: 0.01 * (1 + 0.5 * (t // 100))),
        (lk.LinearGrowth(0.2), lambda t: 0.2 * (1 + t)),
        (lk.Exponential(0.1, 1.1, 10, max_lr=0.3), lambda t: min(0.1 * 1.1 ** (t / 10), 0.3)),
        (lk.Exponential(0.1, 1.1, 10, staircase=True, max_lr=0.3), lambda t: min(0.1 * 1.1 ** (t // 10), 0.3)),
    ],
)
def test_formula_rows(s, f):
    ts = [0.0, 1.0, 99.5, 100.0, 250.0, 1e4]
    np.testing.assert_allclose(s(np.array(ts)), [f(t) for t in ts], rtol=1e-12)
    assert [s(t) for t in ts] == s(np.array(ts)).tolist()
