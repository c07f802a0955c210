"""from_torch(main, warmup=w) on pytorch-warmup's warmups, driven as its README drives them."""

from __future__ import annotations

import pytest
import pytorch_warmup as warmup
import torch
from peer import assert_same_curve
from torch.optim import lr_scheduler as tl

import lrkit as lk
from lrkit.torch import from_torch

BASES = (0.003, 0.0011)


def opt2():
    a, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    return torch.optim.AdamW(
        [{"params": [a]}, {"params": [b], "lr": BASES[1], "betas": (0.9, 0.99)}], lr=BASES[0], betas=(0.9, 0.999)
    )


WARMUPS = {
    "linear": lambda o: warmup.LinearWarmup(o, warmup_period=137),
    "linear-per-group": lambda o: warmup.LinearWarmup(o, warmup_period=[50, 220]),
    "exponential": lambda o: warmup.ExponentialWarmup(o, warmup_period=90),
    "untuned-linear": lambda o: warmup.UntunedLinearWarmup(o),
    "untuned-exponential": lambda o: warmup.UntunedExponentialWarmup(o),
    "radam": lambda o: warmup.RAdamWarmup(o),  # per group: beta2 0.999 and 0.99
}
MAINS = {
    "cosine": lambda o: tl.CosineAnnealingLR(o, T_max=1500, eta_min=1e-6),
    "step": lambda o: tl.StepLR(o, step_size=333, gamma=0.5),
}


@pytest.mark.parametrize("main", list(MAINS))
@pytest.mark.parametrize("name", list(WARMUPS))
def test_matches_pytorch_warmup(name, main):
    opt = opt2()
    sched = MAINS[main](opt)
    w = WARMUPS[name](opt)
    conv = from_torch(sched, warmup=w)
    mine = conv if isinstance(conv, list) else [conv, conv]
    peer = [[], []]
    for _ in range(2500):
        for g in range(2):
            peer[g].append(opt.param_groups[g]["lr"])
        opt.step()
        with w.dampening():
            sched.step()
    for g in range(2):
        assert_same_curve(peer[g], [mine[g](t) for t in range(2500)], f"{name} over {main}, group {g}")
        assert lk.from_dict(mine[g].to_dict()) == mine[g]


def test_a_warmup_of_its_own_is_refused_with_the_reason():
    class Mine(warmup.base.BaseWarmup):
        def warmup_factor(self, step, **params):
            return 1.0

    opt = opt2()
    with pytest.raises(TypeError, match="Mine.*no known factor"):
        from_torch(tl.StepLR(opt, 10), warmup=Mine(opt, [{}, {}]))
