"""lrkit.rangetest.from_deepspeed and RangeTest.from_schedule: DeepSpeed's LRRangeTest scheduler
(``deepspeed.runtime.lr_schedules.LRRangeTest``, stepped once per update on a torch optimizer)
gives the lr of each update, and the range test's lrs are those, float for float, for several
parameter sets, from each form of the config; the torch helper sets them on the optimizer
(per param group with per-group ``lr_range_test_min_lr``); a field DeepSpeed would refuse is a
ValueError naming it."""

from __future__ import annotations

import math

import deepspeed.runtime.lr_schedules as ds  # noqa: F401  (a test dependency: never skipped)
import numpy as np
import pytest
import torch

import lrkit as lk
from lrkit.rangetest import RangeTest, RangeTestResult, from_deepspeed
from lrkit.rangetest.torch import range_test

PARAMS = [
    {},  # DeepSpeed's defaults
    {"lr_range_test_min_lr": 1e-5, "lr_range_test_step_size": 7, "lr_range_test_step_rate": 3.3},
    {
        "lr_range_test_min_lr": 1e-5,
        "lr_range_test_step_size": 7,
        "lr_range_test_step_rate": 3.3,
        "lr_range_test_staircase": True,
    },
    {"lr_range_test_min_lr": 0.00123, "lr_range_test_step_size": 3, "lr_range_test_step_rate": 0.7},
    {"lr_range_test_min_lr": 3e-7, "lr_range_test_step_size": 1, "lr_range_test_step_rate": 10},
    {
        "lr_range_test_min_lr": 0.1,
        "lr_range_test_step_size": 50,
        "lr_range_test_step_rate": 2.5,
        "lr_range_test_staircase": True,
    },
]


def deepspeed_lrs(n: int, groups: int = 1, **params) -> list[list[float]]:
    """Each group's lr at updates 0 .. n - 1: DeepSpeed's scheduler stepped after each update."""
    ps = [torch.nn.Parameter(torch.zeros(1)) for _ in range(groups)]
    opt = torch.optim.SGD([{"params": [p]} for p in ps], lr=0.5)
    sched = ds.LRRangeTest(opt, **params)
    out = []
    for _ in range(n):
        out.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
    return out


@pytest.mark.parametrize("params", PARAMS, ids=[f"set{i}" for i in range(len(PARAMS))])
def test_lrs_are_deepspeeds(params):
    n = 400
    want = [row[0] for row in deepspeed_lrs(n, **params)]
    opt_lr = {"type": "Adam", "params": {"lr": 0.5}}
    forms = [
        params,
        {"type": "LRRangeTest", "params": params},
        {"optimizer": opt_lr, "scheduler": {"type": "LRRangeTest", "params": params}},
    ]
    for form in forms:
        rt = from_deepspeed(form, num_iter=n)
        assert rt.lrs() == want
        assert rt.step_mode == "schedule" and rt.start_lr == want[0] and rt.end_lr == want[-1]
    # the scheduler object itself
    p = torch.nn.Parameter(torch.zeros(1))
    sched = ds.LRRangeTest(torch.optim.SGD([p], lr=0.5), **params)
    assert from_deepspeed(sched, num_iter=n).lrs() == want


def test_the_torch_helper_sets_deepspeeds_lrs_per_group():
    params = {"lr_range_test_min_lr": [1e-4, 3e-3], "lr_range_test_step_size": 4, "lr_range_test_step_rate": 1.5}
    n = 30
    want = deepspeed_lrs(n, groups=2, **params)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    opt = torch.optim.SGD([{"params": model[0].parameters()}, {"params": model[2].parameters(), "lr": 0.2}], lr=0.1)
    x, y = torch.randn(64, 4), torch.randn(64, 1)
    data = [(x[i : i + 8], y[i : i + 8]) for i in range(0, 64, 8)]
    seen = []

    def step(batch):
        seen.append([g["lr"] for g in opt.param_groups])
        return torch.nn.functional.mse_loss(model(batch[0]), batch[1])

    res = range_test(model, opt, data=data, step=step, test=from_deepspeed(params, num_iter=n), diverge_th=None)
    assert seen == want and res.lrs == [row[0] for row in want]
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.2]  # put back
    with pytest.raises(TypeError, match="not both: test= carries its own start_lr"):
        range_test(model, opt, data=data, step=step, test=from_deepspeed(params, num_iter=n), start_lr=1e-3)


def test_the_jax_helper_runs_a_deepspeed_test():
    import lrkit.rangetest.jax as jax_rt

    params = {"lr_range_test_min_lr": 2e-4, "lr_range_test_step_size": 5, "lr_range_test_staircase": True}
    want = [row[0] for row in deepspeed_lrs(20, **params)]
    seen = []

    def step(p, s, batch, lr):
        seen.append(lr)
        return p, s, 1.0

    res = jax_rt.range_test(step, 0.0, 0.0, [0], test=from_deepspeed(params, num_iter=20))
    assert seen == want == res.lrs


@pytest.mark.parametrize(
    "field,value",
    [
        ("lr_range_test_step_size", 0),
        ("lr_range_test_step_size", 2.5),
        ("lr_range_test_min_lr", -1e-3),
        ("lr_range_test_step_rate", "fast"),
        ("lr_range_test_step_rate", -1.0),
        ("lr_range_test_staircase", "yes"),
        ("lr_range_test_warmup", 10),
        ("last_batch_iteration", 5),
        ("lr_range_test_min_lr", 0.0),
        ("lr_range_test_step_rate", 0),
    ],
)
def test_a_bad_field_is_named(field, value):
    with pytest.raises(ValueError, match=field):
        from_deepspeed({field: value})
    with pytest.raises(ValueError, match=field):
        from_deepspeed({"scheduler": {"type": "LRRangeTest", "params": {field: value}}})


def test_other_refusals():
    with pytest.raises(ValueError, match="lr_range_test_step_size .* past the test's num_iter"):
        from_deepspeed({"lr_range_test_step_size": 100, "lr_range_test_staircase": True}, num_iter=50)
    with pytest.raises(ValueError, match="type must be 'LRRangeTest'"):
        from_deepspeed({"type": "WarmupLR", "params": {}})
    with pytest.raises(ValueError, match="needs a DeepSpeed config"):
        from_deepspeed([1, 2])
    with pytest.raises(ValueError, match="num_iter must be >= 2"):
        from_deepspeed({}, num_iter=1)
    p = torch.nn.Parameter(torch.zeros(1))
    with pytest.raises(ValueError, match="needs DeepSpeed's LRRangeTest scheduler, got WarmupLR"):
        from_deepspeed(ds.WarmupLR(torch.optim.SGD([p], lr=0.1)))


def test_from_schedule():
    s = lk.WarmupCosine(peak_lr=0.1, total_steps=100, warmup_steps=50)
    rt = RangeTest.from_schedule(s, num_iter=40, flavor="lightning")
    assert rt.lrs() == [float(v) for v in s(np.arange(40.0))]
    res = rt.run(lambda i, lr: 1.0 + lr)
    assert res.step_mode == "schedule" and res.flavor == "lightning" and len(res) == 40
    with pytest.raises(TypeError, match="schedule must be an lrkit Schedule"):
        RangeTest.from_schedule(lambda t: t, num_iter=5)
    with pytest.raises(ValueError, match="schedule must grow over the test"):
        RangeTest.from_schedule(lk.Constant(0.1), num_iter=5)
    two = RangeTest.from_schedule(s, num_iter=40, group_schedules=[s, lk.Scale(s, 2.0)])
    assert two.groups_lrs(2)[1] == [2 * v for v in rt.lrs()]
    with pytest.raises(ValueError, match="group_schedules holds 2 schedules for 3 param groups"):
        two.groups_lrs(3)
    with pytest.raises(ValueError, match="cannot move its start for a param group"):
        rt.group_lrs(0.5)


def test_a_schedule_test_writes_and_reads_its_csv(tmp_path):
    rt = from_deepspeed({"lr_range_test_min_lr": 1e-4, "lr_range_test_step_size": 3}, num_iter=12)
    res = rt.run(lambda i, lr: math.exp(-i / 5) + lr)
    res.to_csv(tmp_path / "rt.csv")
    back = RangeTestResult.from_csv(tmp_path / "rt.csv")
    assert back == res and back.step_mode == "schedule"
