"""pytorch-warmup's warmups as lrkit schedules: the same lr at every update, every group."""

from __future__ import annotations

import math

import numpy as np
import pytest
import pytorch_warmup
import torch

import lrkit as lk


def run_peer(make_warmup, make_sched, lr=0.1, n=400, beta2=0.999):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.AdamW([p], lr=lr, betas=(0.9, beta2))
    sched = make_sched(opt)
    warm = make_warmup(opt)
    lrs = []
    for _ in range(n):
        lrs.append(opt.param_groups[0]["lr"])  # the lr this update uses
        opt.step()
        with warm.dampening():
            if sched is not None:
                sched.step()
    return np.array(lrs)


@pytest.mark.parametrize(
    "shape, peer", [("linear", pytorch_warmup.LinearWarmup), ("exponential", pytorch_warmup.ExponentialWarmup)]
)
@pytest.mark.parametrize("period", [1, 7, 150])
def test_dampened_equals_pytorch_warmup(shape, peer, period):
    cos = lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=400)  # noqa: E731
    want = run_peer(lambda opt: peer(opt, warmup_period=period), cos)
    got = lk.dampened(lk.Cosine(0.1, 400), period, shape)(np.arange(400.0))
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("beta2", [0.999, 0.99, 0.98])
def test_untuned_overlays_equal_pytorch_warmup(beta2):
    const = lambda opt: None  # noqa: E731
    for fn, peer in (
        (lk.untuned_linear_warmup, pytorch_warmup.UntunedLinearWarmup),
        (lk.untuned_exponential_warmup, pytorch_warmup.UntunedExponentialWarmup),
    ):
        want = run_peer(lambda opt: peer(opt), const, beta2=beta2, n=3000)
        got = fn(lk.Constant(0.1), beta2, overlay=True)(np.arange(3000.0))
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-15)
    # the period is pytorch-warmup's int(2 / (1 - beta2)): 1999 for 0.999, not 2000
    s = lk.untuned_linear_warmup(lk.Constant(1.0), 0.999, overlay=True)
    assert s(1997) < 1.0 and s(1998) == 1.0


def test_dampening_values_and_errors():
    d = lk.Dampening(4)
    assert [d(t) for t in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert lk.Dampening(10, "exponential")(9) == pytest.approx(1 - math.exp(-1), rel=1e-15)
    with pytest.raises(ValueError, match="period"):
        lk.Dampening(0)
    assert lk.from_dict(lk.dampened(lk.Cosine(0.1, 10), 3).to_dict()) == lk.dampened(lk.Cosine(0.1, 10), 3)
