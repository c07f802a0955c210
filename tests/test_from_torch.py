"""from_torch: each PyTorch scheduler stepped side by side with the lrkit schedule it converts to."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as tl

import lrkit as lk
from lrkit import Product
from lrkit.torch import ScheduleLR, from_torch

STEPS = 1200
BASES = (0.1, 0.03)


def opt2(**kw):
    a = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    return torch.optim.SGD([{"params": [a]}, {"params": [b], "lr": BASES[1]}], lr=BASES[0], momentum=0.9, **kw)


def _tri_lambda(e):
    return 1.0 / (1.0 + 0.01 * e)


CASES = {
    "StepLR": lambda o: tl.StepLR(o, step_size=7, gamma=0.8),
    "MultiStepLR": lambda o: tl.MultiStepLR(o, [30, 200, 201, 900], gamma=0.5),
    "MultiStepLR-repeated-and-zero": lambda o: tl.MultiStepLR(o, [0, 10, 50, 50, 50, 400], gamma=0.5),
    "ExponentialLR": lambda o: tl.ExponentialLR(o, gamma=0.997),
    "CosineAnnealingLR": lambda o: tl.CosineAnnealingLR(o, T_max=STEPS, eta_min=0.001),
    "CosineAnnealingWarmRestarts": lambda o: tl.CosineAnnealingWarmRestarts(o, T_0=13, eta_min=0.002),
    "CosineAnnealingWarmRestarts-mult": lambda o: tl.CosineAnnealingWarmRestarts(o, T_0=10, T_mult=2),
    "LinearLR-up": lambda o: tl.LinearLR(o, start_factor=0.01, end_factor=1.0, total_iters=300),
    "LinearLR-down": lambda o: tl.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=700),
    "LinearLR-zero-iters": lambda o: tl.LinearLR(o, start_factor=0.5, total_iters=0),
    "ConstantLR": lambda o: tl.ConstantLR(o, factor=0.25, total_iters=40),
    "PolynomialLR": lambda o: tl.PolynomialLR(o, total_iters=1000, power=2.0),
    "OneCycleLR": lambda o: tl.OneCycleLR(o, max_lr=[1.0, 0.3], total_steps=STEPS + 1),
    "OneCycleLR-3-linear": lambda o: tl.OneCycleLR(
        o, max_lr=0.5, total_steps=STEPS + 1, pct_start=0.27, anneal_strategy="linear", three_phase=True
    ),
    "CyclicLR": lambda o: tl.CyclicLR(
        o, base_lr=[0.001, 0.0005], max_lr=[0.1, 0.05], step_size_up=37, step_size_down=13
    ),
    "CyclicLR-triangular2": lambda o: tl.CyclicLR(o, 0.001, 0.1, step_size_up=20, mode="triangular2"),
    "CyclicLR-exp_range": lambda o: tl.CyclicLR(o, 0.001, 0.1, step_size_up=25, mode="exp_range", gamma=0.999),
    "LambdaLR": lambda o: tl.LambdaLR(o, _tri_lambda),
    "LambdaLR-per-group": lambda o: tl.LambdaLR(o, [lambda e: 0.99**e, lambda e: 1.0 / math.sqrt(e + 1)]),
    "SequentialLR": lambda o: tl.SequentialLR(
        o, [tl.LinearLR(o, 0.01, 1.0, 100), tl.CosineAnnealingLR(o, STEPS - 100, 0.0005)], milestones=[100]
    ),
    "SequentialLR-3": lambda o: tl.SequentialLR(
        o, [tl.ConstantLR(o, 0.1, 1000), tl.ExponentialLR(o, 0.99), tl.StepLR(o, 50, 0.5)], milestones=[20, 400]
    ),
    "ChainedScheduler": lambda o: tl.ChainedScheduler(
        [tl.LinearLR(o, 0.1, 1.0, 100), tl.ExponentialLR(o, 0.999), tl.StepLR(o, 100, 0.5)]
    ),
    "ChainedScheduler-cosine": lambda o: tl.ChainedScheduler(
        [tl.ConstantLR(o, 0.5, 30), tl.CosineAnnealingLR(o, STEPS), tl.MultiStepLR(o, [300, 600], 0.3)]
    ),
    "MultiplicativeLR": lambda o: tl.MultiplicativeLR(o, lambda e: 0.99 if e % 3 else 0.9),
    "MultiplicativeLR-per-group": lambda o: tl.MultiplicativeLR(o, [lambda e: 0.999, lambda e: 1.0 - 1 / (e + 50)]),
}


def side_by_side(make, steps=STEPS):
    """Worst relative difference between torch's lrs and from_torch's, every group, every step."""
    opt = opt2()
    sched = make(opt)
    mine = [from_torch(sched, group=g) for g in range(2)]
    worst = 0.0
    for t in range(steps):
        for g in range(2):
            a, b = opt.param_groups[g]["lr"], mine[g](t)
            if a != b:
                worst = max(worst, abs(a - b) / abs(a))
        opt.step()
        sched.step()
    return worst


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch_step_by_step(name):
    # torch's chainable schedulers multiply the previous lr at every step, the lrkit
    # schedule is closed form: they agree to a few ulps per step, hence rtol 1e-9.
    assert side_by_side(CASES[name]) <= 1e-9


@pytest.mark.parametrize(
    "name",
    [
        "OneCycleLR",
        "OneCycleLR-3-linear",
        "CyclicLR",
        "CyclicLR-triangular2",
        "LambdaLR",
        "LambdaLR-per-group",
        "MultiplicativeLR",
        "MultiplicativeLR-per-group",
    ],
)
def test_closed_form_peers_match_exactly(name):
    # These torch schedulers compute each lr from scratch with the same formula: no rounding drift.
    # (CyclicLR's exp_range is an ulp off: torch uses Python's gamma ** t, lrkit numpy's power.
    # CosineAnnealingWarmRestarts is an ulp off since lrkit computes the angle as x * (pi / P).)
    assert side_by_side(CASES[name]) == 0.0


def test_built_from_constructor_arguments_at_any_point():
    for name, make in CASES.items():
        opt = opt2()
        sched = make(opt)
        before = [from_torch(sched, group=g) for g in range(2)]
        for _ in range(500):
            opt.step()
            sched.step()
        assert [from_torch(sched, group=g) for g in range(2)] == before, name


def test_groups():
    opt = opt2()
    sched = tl.StepLR(opt, 10, 0.5)
    both = from_torch(sched)
    assert both == [lk.Step(0.1, 10, 0.5), lk.Step(0.03, 10, 0.5)]
    a = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    same = torch.optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1)
    assert from_torch(tl.StepLR(same, 10, 0.5)) == lk.Step(0.1, 10, 0.5)
    with pytest.raises(ValueError, match="group"):
        from_torch(sched, group=2)


def test_types_of_the_result():
    opt = opt2()
    assert isinstance(
        from_torch(tl.ChainedScheduler([tl.LinearLR(opt, 0.1, 1.0, 10), tl.ExponentialLR(opt, 0.9)]), group=0).schedule,
        Product,
    )
    opt = opt2()
    assert isinstance(from_torch(tl.OneCycleLR(opt, 1.0, total_steps=100), group=0), lk.OneCycle)
    opt = opt2()
    assert isinstance(from_torch(tl.CosineAnnealingWarmRestarts(opt, 10), group=1), lk.CosineRestarts)
    opt = opt2()
    spec = from_torch(
        tl.SequentialLR(opt, [tl.LinearLR(opt, 0.1, 1.0, 5), tl.CosineAnnealingLR(opt, 50)], [5]), group=0
    ).to_dict()
    assert lk.from_dict(spec)(20) == pytest.approx(0.1 * (1 + math.cos(math.pi * 15 / 50)) / 2, rel=1e-12)


def test_drives_scheduler_lr_with_absolute_values():
    opt_t, opt_l = opt2(), opt2()
    torch_s = CASES["SequentialLR"](opt_t)
    mine = ScheduleLR(opt_l, from_torch(torch_s), absolute=True)
    for _ in range(300):
        for gt, gl in zip(opt_t.param_groups, opt_l.param_groups):
            assert gl["lr"] == pytest.approx(gt["lr"], rel=1e-9)
        opt_t.step(), opt_l.step()
        torch_s.step(), mine.step()


def test_unsupported_schedulers_name_the_class():
    opt = opt2()
    # a plateau scheduler gives its policy (tests/test_plateau_convert.py)
    assert type(from_torch(tl.ReduceLROnPlateau(opt))).__name__ == "Plateau"
    with pytest.raises(TypeError, match="LambdaLR"):
        from_torch(tl.ChainedScheduler([tl.LambdaLR(opt, lambda e: 1.0), tl.StepLR(opt, 3)]))
    with pytest.raises(TypeError, match="scale_fn"):
        from_torch(tl.CyclicLR(opt, 0.01, 0.1, scale_fn=lambda x: 1.0))

    class MyStep(tl.StepLR):
        pass

    with pytest.raises(TypeError, match="MyStep"):
        from_torch(MyStep(opt, 3))
    with pytest.raises(TypeError, match="scheduler"):
        from_torch("StepLR")


def test_cosine_annealing_past_t_max_climbs_back_as_torch_does():
    # CosineAnnealingLR past T_max goes back up along the cosine; the conversion follows it,
    # alone and inside a SequentialLR, for every group; .replace(after="hold") gives the held variant.
    opt = opt2()
    s = tl.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
    mine = from_torch(s)
    assert isinstance(mine, list) and len(mine) == 2
    got = [[], []]
    for _ in range(45):
        for g in range(2):
            got[g].append(opt.param_groups[g]["lr"])
        opt.step()
        s.step()
    for g in range(2):
        np.testing.assert_allclose(mine[g](np.arange(45)), got[g], rtol=1e-9, atol=1e-15)
    assert got[0][15] > 0.001 and got[0][20] > 0.09  # back up at 2 T_max
    held = mine[0].replace(after="hold")
    assert held(15) == held(40) == 0.001

    opt = opt2()
    seq = tl.SequentialLR(
        opt, [tl.LinearLR(opt, 0.1, total_iters=3), tl.CosineAnnealingLR(opt, T_max=8)], milestones=[3]
    )
    mine = from_torch(seq, group=1)
    got = []
    for _ in range(30):
        got.append(opt.param_groups[1]["lr"])
        opt.step()
        seq.step()
    np.testing.assert_allclose(mine(np.arange(30)), got, rtol=1e-9, atol=1e-15)
    assert got[3 + 12] > got[3 + 8]
