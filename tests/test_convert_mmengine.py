"""from_torch on mmengine's parameter schedulers, stepped as its ParamSchedulerHook steps them."""

from __future__ import annotations

import warnings

import pytest
import torch
from mmengine.optim import scheduler as ms
from peer import assert_same_curve

import lrkit as lk
from lrkit.torch import from_torch

BASES = (0.02, 0.0071)


def opt2():
    a, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    return torch.optim.SGD([{"params": [a]}, {"params": [b], "lr": BASES[1]}], lr=BASES[0], momentum=0.9)


def hook_run(scheds, iters, epoch_length):
    """The lr of each group at every iteration, as mmengine's runner and hook step them."""
    opt = scheds[0].optimizer
    out = [[], []]
    for i in range(iters):
        for g in range(2):
            out[g].append(opt.param_groups[g]["lr"])
        opt.step()
        for s in scheds:
            if not s.by_epoch:
                s.step()
        if (i + 1) % epoch_length == 0:
            for s in scheds:
                if s.by_epoch:
                    s.step()
    return out


L = 37  # iterations per epoch
CASES = {
    "mmdet-1x": lambda o: [
        ms.LinearLR(o, start_factor=0.001, by_epoch=False, begin=0, end=500),
        ms.MultiStepLR(o, begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1),
    ],
    "yolox": lambda o: [
        ms.CosineAnnealingLR(o, eta_min=0.0005 * 0.05, begin=5, T_max=20, end=25, by_epoch=True),
        ms.ConstantLR(o, factor=1, begin=25, end=30, by_epoch=True),
    ],
    "warmup-then-cosine-iters": lambda o: [
        ms.LinearLR(o, start_factor=0.01, by_epoch=False, begin=0, end=200),
        ms.CosineAnnealingLR(o, eta_min_ratio=0.05, begin=200, end=1000, by_epoch=False),
    ],
    "cosine-past-T_max": lambda o: [ms.CosineAnnealingLR(o, T_max=300, eta_min=1e-4, by_epoch=False)],
    "poly-eta-min": lambda o: [
        ms.LinearLR(o, start_factor=0.1, by_epoch=False, begin=0, end=100),
        ms.PolyLR(o, eta_min=1e-4, power=0.9, begin=100, end=1100, by_epoch=False),
    ],
    "poly-multiplying": lambda o: [
        ms.LinearLR(o, start_factor=0.1, by_epoch=False, begin=0, end=300),
        ms.PolyLR(o, eta_min=0.0, power=1.3, begin=0, end=1200, by_epoch=False),
    ],
    "restarts": lambda o: [
        ms.CosineRestartLR(
            o, periods=[150, 300, 450], restart_weights=[1, 0.6, 0.3], eta_min_ratio=0.01, by_epoch=False
        )
    ],
    "step-exp-constant": lambda o: [
        ms.ConstantLR(o, factor=0.3, begin=0, end=4, by_epoch=True),
        ms.StepLR(o, step_size=150, gamma=0.7, by_epoch=False),
        ms.ExponentialLR(o, gamma=0.95, begin=10, by_epoch=True),
    ],
    "onecycle-groups": lambda o: [
        ms.OneCycleLR(o, eta_max=[0.3, 0.05], total_steps=1301, pct_start=0.123, by_epoch=False)
    ],
    "onecycle-3-linear": lambda o: [
        ms.OneCycleLR(
            o,
            eta_max=0.2,
            total_steps=1300,
            pct_start=0.27,
            anneal_strategy="linear",
            three_phase=True,
            div_factor=7.0,
            final_div_factor=300.0,
            by_epoch=False,
        )
    ],
    "warmup-then-onecycle": lambda o: [
        ms.LinearLR(o, start_factor=0.01, by_epoch=False, begin=0, end=100),
        ms.OneCycleLR(o, eta_max=0.25, begin=100, end=1300, by_epoch=False),
    ],
    "linear-epochs": lambda o: [
        ms.LinearLR(o, start_factor=0.2, end_factor=0.9, begin=2, end=9, by_epoch=True),
        ms.MultiStepLR(o, milestones=[300, 300, 900], gamma=0.5, by_epoch=False),
    ],
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_the_hook(name):
    iters = 1300
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer_opt = opt2()
        peer = hook_run(CASES[name](peer_opt), iters, L)
        scheds = CASES[name](opt2())
    mixed = len({s.by_epoch for s in scheds}) == 2
    conv = from_torch(scheds if len(scheds) > 1 else scheds[0], epoch_length=L if mixed else None)
    mine = conv if isinstance(conv, list) else [conv, conv]
    if not mixed and scheds[0].by_epoch:  # positions are epochs: the value of iteration i is at i // L
        got = [[mine[g](i // L) for i in range(iters)] for g in range(2)]
    else:
        got = [[mine[g](i) for i in range(iters)] for g in range(2)]
    for g in range(2):
        assert_same_curve(peer[g], got[g], f"{name} group {g}")
        assert lk.from_dict(mine[g].to_dict()) == mine[g]


def test_mixed_lists_need_the_epoch_length():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scheds = CASES["mmdet-1x"](opt2())
    with pytest.raises(ValueError, match="epoch_length"):
        from_torch(scheds)


def test_overlapping_setting_schedulers_are_refused_with_the_reason():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        o = opt2()
        scheds = [
            ms.LinearLR(o, start_factor=0.1, by_epoch=False, begin=0, end=100),
            ms.PolyLR(o, eta_min=1e-4, power=0.9, begin=0, end=1000, by_epoch=False),
        ]
    with pytest.raises(TypeError, match="PolyLR.*overlaps"):
        from_torch(scheds)
