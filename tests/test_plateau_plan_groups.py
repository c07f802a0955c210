"""A ScheduleLR state of several param groups with plateau reductions, moved between frameworks.

A torch run of 3 groups saves its state (through JSON) mid-run, after reductions; a per-group
Paddle scheduler of the same plan loads it and goes on; and the converse (a per-group Paddle
run loading into torch). After loading and at every later step and observation, the lrs must
equal (==) the independent reference of test_plateau_plan_torch: the plan run by hand with
torch's own ReduceLROnPlateau deciding the reductions.
"""

from __future__ import annotations

import json
import os

import numpy as np
import paddle
import pytest
from test_plateau_plan_torch import PLANS, Reference, _opt
from test_plateau_policy import metric_sequence

import lrkit.paddle as lp
import lrkit.torch as lt
from lrkit.plateau import Plateau

CI = bool(os.environ.get("CI"))
N = 40 if CI else 150
G = 3


def _policy(rng):
    return dict(
        mode="min",
        factor=float(rng.choice([0.1, 0.5])),
        patience=int(rng.choice([0, 1, 2])),
        cooldown=int(rng.choice([0, 1])),
        min_lr=[float(rng.choice([0.0, 1e-4, 0.003])) for _ in range(G)],
        eps=1e-8,
    )


def _paddle(plan, mults, pol, base=0.1):
    layers = [paddle.nn.Linear(1, 1) for _ in range(G)]
    groups = [{"params": lin.parameters(), "learning_rate": m} for lin, m in zip(layers, mults)]
    return lp.ScheduleLR([plan] * G, learning_rate=base, parameters=groups, plateau=Plateau(**pol))


def _json(state):
    return json.loads(json.dumps(state))


@pytest.mark.parametrize("shared", [True, False])
def test_a_torch_run_of_three_groups_goes_on_in_paddle(shared):
    rng = np.random.default_rng(71 + shared)
    reduced = 0
    for i in range(N):
        pol = _policy(rng)
        plan = PLANS[int(rng.integers(0, len(PLANS)))]
        mults = [float(rng.choice([1.0, 0.5, 2.0])) for _ in range(G)]
        lrs = [0.1 * m for m in mults]
        metrics = metric_sequence(rng, (1e-4,), 60)
        opt = _opt(lrs)
        ts = lt.ScheduleLR(opt, plan if shared else [plan] * G, plateau=Plateau(**pol))
        ref = Reference(lrs, pol, plan)
        cut = int(rng.integers(20, 120))
        ps = None
        for t in range(1, 150):
            opt.step()
            ts.step()
            ref.t = t
            if ps is not None:
                ps.step()
            if t % 2 == 0 and t // 2 < len(metrics):
                ts.observe(metrics[t // 2])
                ref.observe(metrics[t // 2])
                if ps is not None:
                    ps.observe(metrics[t // 2])
            if t == cut:
                reduced += len(ts.state_dict()["plateau"]["reductions"]) > 0
                ps = _paddle(plan, mults, pol)
                ps.set_state_dict(_json(ts.state_dict()))
            want = ref.values()
            assert [g["lr"] for g in opt.param_groups] == want, (i, t)
            if ps is not None:
                assert ps.get_last_lr() == want, (i, t, cut, pol, plan, mults)
    assert reduced > N // 3  # most cuts come after reductions


def test_a_paddle_run_of_three_groups_goes_on_in_torch():
    rng = np.random.default_rng(79)
    reduced = 0
    for i in range(N):
        pol = _policy(rng)
        plan = PLANS[int(rng.integers(0, len(PLANS)))]
        mults = [float(rng.choice([1.0, 0.5, 2.0])) for _ in range(G)]
        lrs = [0.1 * m for m in mults]
        metrics = metric_sequence(rng, (1e-4,), 60)
        ps = _paddle(plan, mults, pol)
        ref = Reference(lrs, pol, plan)
        cut = int(rng.integers(20, 120))
        shared = bool(rng.random() < 0.5)
        ts = opt = None
        for t in range(1, 150):
            ps.step()
            ref.t = t
            if ts is not None:
                opt.step()
                ts.step()
            if t % 2 == 0 and t // 2 < len(metrics):
                ps.observe(metrics[t // 2])
                ref.observe(metrics[t // 2])
                if ts is not None:
                    ts.observe(metrics[t // 2])
            if t == cut:
                reduced += len(ps.state_dict()["plateau"]["reductions"]) > 0
                opt = _opt(lrs)
                ts = lt.ScheduleLR(opt, plan if shared else [plan] * G, plateau=Plateau(**pol))
                ts.load_state_dict(_json(ps.state_dict()))
            want = ref.values()
            assert ps.get_last_lr() == want, (i, t)
            if ts is not None:
                assert [g["lr"] for g in opt.param_groups] == want, (i, t, cut, pol, plan, mults)
    assert reduced > N // 3


def test_the_global_lr_goes_to_one_torch_group_and_back():
    rng = np.random.default_rng(83)
    pol = dict(mode="min", factor=0.5, patience=1, min_lr=1e-4)
    plan = PLANS[1]
    metrics = metric_sequence(rng, (1e-4,), 60)
    ps = lp.ScheduleLR(plan, learning_rate=0.05, plateau=Plateau(**pol))
    ref = Reference([0.05], pol, plan)
    for t in range(1, 80):
        ps.step()
        ref.t = t
        if t % 2 == 0:
            ps.observe(metrics[t // 2])
            ref.observe(metrics[t // 2])
    assert ps.state_dict()["plateau"]["reductions"]
    opt = _opt([0.05])
    ts = lt.ScheduleLR(opt, plan, plateau=Plateau(**pol))
    ts.load_state_dict(_json(ps.state_dict()))
    assert [g["lr"] for g in opt.param_groups] == ref.values() == [ps.last_lr]
    back = lp.ScheduleLR(plan, learning_rate=0.05, plateau=Plateau(**pol))
    back.set_state_dict(_json(ts.state_dict()))
    assert back.last_lr == ps.last_lr


def test_mismatches_are_refused_naming_what_differs():
    pol = dict(mode="min", factor=0.5, patience=1, min_lr=[0.0] * G)
    plan = PLANS[0]
    ts = lt.ScheduleLR(_opt([0.1, 0.05, 0.2]), plan, plateau=Plateau(**pol))
    ts.step()
    state = _json(ts.state_dict())
    # three torch groups into Paddle's global lr
    glob = lp.ScheduleLR(plan, learning_rate=0.1, plateau=Plateau(mode="min", factor=0.5, patience=1))
    with pytest.raises(ValueError, match="per-group Paddle scheduler"):
        glob.set_state_dict(state)
    # other values per group: the lrs would differ
    other = _paddle(plan, [1.0, 1.0, 1.0], pol)
    with pytest.raises(ValueError, match="lrs would differ"):
        other.set_state_dict(state)
    # a Paddle state of three groups into a torch optimizer of two
    ps = _paddle(plan, [1.0, 0.5, 2.0], pol)
    ps.step()
    two = lt.ScheduleLR(_opt([0.1, 0.05]), plan, plateau=Plateau(mode="min", factor=0.5, patience=1))
    with pytest.raises(ValueError, match="3 lr.*2 param groups"):
        two.load_state_dict(_json(ps.state_dict()))
    before = [g["lr"] for g in two.optimizer.param_groups]
    assert [g["lr"] for g in two.optimizer.param_groups] == before  # nothing changed
