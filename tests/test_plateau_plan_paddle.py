"""lrkit.paddle.ScheduleLR(..., plateau=Plateau(...)): the documented formula with Paddle's own
ReduceOnPlateau deciding (flavor paddle), the same lrs as the torch binding (flavor torch, one
and several groups), and a state saved by a torch run loading into a Paddle run that goes on
with the same lrs (==), at random cut points with re-plans and reductions before them.
"""

from __future__ import annotations

import os

import numpy as np
import paddle
import torch
from paddle.optimizer.lr import ReduceOnPlateau as PaddleROP
from test_plateau_plan_torch import PLANS, Reference, _opt
from test_plateau_policy import metric_sequence

import lrkit
import lrkit.paddle as lp
import lrkit.torch as lt
from lrkit.plateau import Plateau

CI = bool(os.environ.get("CI"))
N = 120 if CI else 500


def _paddle_config(rng):
    return dict(
        learning_rate=float(rng.choice([0.1, 0.05, 1e-3])),
        mode=str(rng.choice(["min", "max"])),
        factor=float(rng.choice([0.1, 0.5, 0.9, 0.0])),
        patience=int(rng.choice([0, 1, 2])),
        threshold=float(rng.choice([0.0, 1e-4, 0.01])),
        threshold_mode=str(rng.choice(["rel", "abs"])),
        cooldown=int(rng.choice([0, 1, 2])),
        min_lr=float(rng.choice([0.0, 1e-4, 0.02])),
        epsilon=float(rng.choice([1e-8, 0.0, 1e-3])),
    )


def test_paddle_flavor_matches_the_formula_with_paddle_deciding():
    rng = np.random.default_rng(53)
    reduced = 0
    for _ in range(N):
        kw = _paddle_config(rng)
        plan = PLANS[int(rng.integers(0, len(PLANS)))]
        every = int(rng.integers(1, 6))
        metrics = metric_sequence(rng, (kw["threshold"],), 40)
        base = kw["learning_rate"]
        floor = 0.0 if base == 0 else kw["min_lr"] / base
        sched = lp.ScheduleLR(plan, learning_rate=base, plateau=Plateau.paddle(**kw))
        peer = PaddleROP(**kw)
        m, was_reduced, k = 1.0, False, 0
        for t in range(1, 150):
            sched.step()
            ref = base * max(plan(t) * m, floor) if was_reduced else base * plan(t)
            assert sched.last_lr == ref, (t, kw, plan)
            if t % every == 0 and k < len(metrics):
                peer.last_lr = ref
                peer.step(metrics[k])
                if peer.last_lr != ref:
                    m, was_reduced = m * kw["factor"], True
                sched.observe(metrics[k])
                k += 1
                ref = base * max(plan(t) * m, floor) if was_reduced else base * plan(t)
                assert sched.last_lr == ref == sched(), (t, kw, plan, metrics)
        reduced += was_reduced
        assert [s(149) for s in sched.realised()] == [sched.last_lr]
    assert reduced > N // 4


def _torch_config(rng, n):
    pol = dict(
        mode="min",
        factor=float(rng.choice([0.1, 0.5])),
        patience=int(rng.choice([0, 1, 2])),
        cooldown=int(rng.choice([0, 1])),
        min_lr=[float(rng.choice([0.0, 1e-4, 0.003])) for _ in range(n)],
        eps=1e-8,
    )
    return pol


def test_torch_flavor_same_lrs_as_the_torch_binding_per_group():
    rng = np.random.default_rng(59)
    for _ in range(N // 2):
        n = int(rng.integers(1, 4))
        pol = _torch_config(rng, n)
        plan = PLANS[int(rng.integers(0, len(PLANS)))]
        mults = [float(rng.choice([1.0, 0.5, 2.0])) for _ in range(n)]
        metrics = metric_sequence(rng, (1e-4,), 40)
        opt = _opt([0.1 * mg for mg in mults])
        ts = lt.ScheduleLR(opt, plan, plateau=Plateau(**pol))
        layers = [paddle.nn.Linear(1, 1) for _ in range(n)]
        groups = [{"params": lin.parameters(), "learning_rate": mg} for lin, mg in zip(layers, mults)]
        ps = lp.ScheduleLR([plan] * n, learning_rate=0.1, parameters=groups, plateau=Plateau(**pol))
        ref = Reference([0.1 * mg for mg in mults], pol, plan)
        for t in range(1, 120):
            opt.step()
            ts.step()
            ps.step()
            ref.t = t
            if t % 3 == 0 and t // 3 < len(metrics):
                ts.observe(metrics[t // 3])
                ps.observe(metrics[t // 3])
                ref.observe(metrics[t // 3])
            assert [g["lr"] for g in opt.param_groups] == ps.get_last_lr() == ref.values(), (t, pol, plan)


def test_a_torch_runs_state_loads_in_a_paddle_run(tmp_path):
    rng = np.random.default_rng(61)
    for i in range(N // 3):
        pol = _torch_config(rng, 1)
        plan = PLANS[int(rng.integers(0, len(PLANS)))]
        metrics = metric_sequence(rng, (1e-4,), 60)
        absolute = bool(rng.random() < 0.3)
        lr = 1.0 if absolute else float(rng.choice([0.1, 0.02]))
        opt = _opt([lr])
        ts = lt.ScheduleLR(opt, lrkit.Scale(plan, 0.1) if absolute else plan, absolute=absolute, plateau=Plateau(**pol))
        cut = int(rng.integers(2, 140))
        replan_at = int(rng.integers(1, 140))
        ps = None
        for t in range(1, 150):
            opt.step()
            ts.step()
            if ps is not None:
                ps.step()
            if t == replan_at and plan.length > t + 1 and plan.length < float("inf"):
                ts.replan(total_steps=plan.length + 50)
                if ps is not None:
                    ps.replan(total_steps=plan.length + 50)
            if t % 2 == 0 and t // 2 < len(metrics):
                ts.observe(metrics[t // 2])
                if ps is not None:
                    ps.observe(metrics[t // 2])
            if t == cut:
                paddle.save(
                    torch.load(_through(ts.state_dict(), tmp_path), weights_only=True), str(tmp_path / "s.pdparams")
                )
                ps = lp.ScheduleLR(
                    lrkit.Scale(plan, 0.1) if absolute else plan,
                    learning_rate=1.0 if absolute else lr,
                    plateau=Plateau(**pol),
                )
                ps.set_state_dict(paddle.load(str(tmp_path / "s.pdparams")))
            if ps is not None:
                assert ps.last_lr == opt.param_groups[0]["lr"], (i, t, cut, pol, plan)


def _through(state, tmp_path):
    p = tmp_path / "s.pt"
    torch.save(state, p)
    return p
