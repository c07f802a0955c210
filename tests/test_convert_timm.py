"""from_torch on timm's schedulers: the same lr at every t, every group, both warmup conventions."""

from __future__ import annotations

import pytest
import torch
from peer import assert_same_curve, import_timm_scheduler

import lrkit as lk
from lrkit.torch import from_torch

ts = import_timm_scheduler()
T = 1300
BASES = (0.05, 0.0137)


def opt2(scale=False):
    a, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    second = {"params": [b], "lr": BASES[1]}
    if scale:
        second["lr_scale"] = 0.3
    return torch.optim.SGD([{"params": [a]}, second], lr=BASES[0], momentum=0.9)


def peer_values(sched, opt, n, updates):
    out = [[], []]
    for t in range(n):
        (sched.step_update if updates else sched.step)(t)
        for g in range(2):
            out[g].append(opt.param_groups[g]["lr"])
    return out


CASES = {
    "cosine": lambda o, w: ts.CosineLRScheduler(o, t_initial=400, lr_min=1e-4, **w),
    "cosine-cycles": lambda o, w: ts.CosineLRScheduler(
        o, t_initial=150, lr_min=2e-4, cycle_decay=0.8, cycle_limit=5, **w
    ),
    "cosine-cycle-mul": lambda o, w: ts.CosineLRScheduler(
        o, t_initial=100, cycle_mul=1.7, cycle_decay=0.9, cycle_limit=4, lr_min=1e-5, **w
    ),
    "cosine-k-decay": lambda o, w: ts.CosineLRScheduler(o, t_initial=700, k_decay=1.8, lr_min=1e-4, **w),
    "tanh": lambda o, w: ts.TanhLRScheduler(o, t_initial=800, lr_min=1e-5, lb=-5.0, ub=4.0, **w),
    "tanh-cycles": lambda o, w: ts.TanhLRScheduler(
        o, t_initial=200, cycle_mul=1.5, cycle_decay=0.7, cycle_limit=3, **w
    ),
    "poly": lambda o, w: ts.PolyLRScheduler(o, t_initial=900, power=0.7, lr_min=1e-5, **w),
    "poly-k-cycles": lambda o, w: ts.PolyLRScheduler(
        o, t_initial=300, power=1.5, k_decay=0.6, cycle_limit=3, cycle_decay=0.5, **w
    ),
    "step": lambda o, w: ts.StepLRScheduler(o, decay_t=90, decay_rate=0.6, **w),
    "multistep": lambda o, w: ts.MultiStepLRScheduler(o, decay_t=[1, 150, 400, 400, 1000], decay_rate=0.4, **w),
}
WARMUPS = {
    "none": {},
    "prefix": {"warmup_t": 50, "warmup_lr_init": 1e-4, "warmup_prefix": True},
    "overlay": {"warmup_t": 50, "warmup_lr_init": 1e-4},
}


@pytest.mark.parametrize("updates", [False, True], ids=["epochs", "updates"])
@pytest.mark.parametrize("warm", list(WARMUPS))
@pytest.mark.parametrize("name", list(CASES))
def test_matches_timm(name, warm, updates):
    opt = opt2(scale=name == "cosine")
    sched = CASES[name](opt, dict(WARMUPS[warm], t_in_epochs=not updates))
    conv = from_torch(sched)
    mine = conv if isinstance(conv, list) else [conv, conv]
    peer = peer_values(sched, opt, T, updates)
    for g in range(2):
        assert_same_curve(peer[g], [mine[g](t) for t in range(T)], f"{name} {warm} group {g}")
        assert lk.from_dict(mine[g].to_dict()) == mine[g]


def test_noise_is_refused_with_the_reason():
    opt = opt2()
    with pytest.raises(TypeError, match="CosineLRScheduler.*noise"):
        from_torch(ts.CosineLRScheduler(opt, t_initial=100, noise_range_t=50))


def test_plateau_gives_its_policy():  # (tests/test_plateau_convert.py: exact continuation)
    opt = opt2()
    assert type(from_torch(ts.PlateauLRScheduler(opt))).__name__ == "Plateau"
