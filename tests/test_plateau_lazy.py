"""A plateau reduction of a plan is applied at once and built as a schedule only when asked for.

``ScheduleLR(plan, plateau=...).observe(metric)`` writes the reduced values from the moment of the
reduction without building the rest of the plan as a schedule (a ``Clip(Scale(Shift(...)))``
piece in a ``Sequence``, traced on first use): the bindings evaluate
``min(max(m * base((t - at) + at), floor), inf)`` with the kernels' own operations, and build
the schedule for ``realised()``, ``schedules``, a re-plan, a copy, or a position before the
reduction. These tests hold the two ways to each other bit for bit: a twin scheduler that builds
the schedule at every reduction (what step() evaluated before) must write the same lrs at every
step, in torch and Paddle, one group and several (per-group floors, groups held at their floor),
at whole and fractional positions, with re-plans and backward jumps in between; and the built
schedule (``realised()``, a resumed state) must give every value written.
"""

from __future__ import annotations

import copy
import os
import pickle

import numpy as np
import pytest
import torch

import lrkit
from lrkit.plateau import Plateau
from lrkit.torch import ScheduleLR

CI = bool(os.environ.get("CI"))
RUNS = 40 if CI else 120
PLANS = [
    lrkit.WarmupCosine(peak_lr=1.0, total_steps=300, warmup_steps=30, min_lr=0.01),
    lrkit.Cosine(peak_lr=1.0, total_steps=200),
    lrkit.MultiStep(1.0, [60, 140], 0.5),
    lrkit.Linear(1.0, 250, 0.0),
]


def _opt(lrs):
    return torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs], lr=0.1)


def _eager(s) -> None:
    """The twin's way: the reduced schedules built (and traced) at once, as step() used them before."""
    s._schedules = s.schedules
    if hasattr(s, "_base") and not hasattr(s, "optimizer"):
        s._set_fast_path(s._base)
    else:
        s._set_fast_path()


def _config(rng):
    n = int(rng.integers(1, 4))
    same = rng.random() < 0.5
    lrs = [0.1] * n if same else [float(rng.choice([0.1, 0.05, 0.3])) for _ in range(n)]
    floors = [float(rng.choice([0.0, 1e-4, 2e-3, 0.02])) for _ in range(n)]
    pol = dict(
        factor=float(rng.choice([0.1, 0.5, 0.9])),
        patience=int(rng.choice([0, 1, 2])),
        cooldown=int(rng.choice([0, 1])),
        min_lr=floors[0] if same or rng.random() < 0.4 else floors,
        eps=float(rng.choice([1e-8, 0.0])),
    )
    return lrs, pol, PLANS[int(rng.integers(0, len(PLANS)))]


def _positions(rng, fractional: bool):
    """Whole steps, or positions moved by step(t) in fractional increments (0.1, 1/3, ...)."""
    if not fractional:
        return None
    inc = float(rng.choice([0.1, 1 / 3, 0.7, 1.3]))
    return [inc * k for k in range(1, 260)]


@pytest.mark.parametrize("fractional", [False, True])
def test_torch_lazy_equals_eager_and_the_built_schedule(fractional):
    rng = np.random.default_rng(7 + fractional)
    reductions = 0
    for _ in range(RUNS):
        lrs, pol, plan = _config(rng)
        a, b = _opt(lrs), _opt(lrs)
        lazy = ScheduleLR(a, plan, plateau=Plateau(**pol))
        twin = ScheduleLR(b, plan, plateau=Plateau(**pol))
        ts = _positions(rng, fractional)
        written, at, jumped = [], [], False
        for k in range(1, 260):
            if ts is None:
                lazy.step(), twin.step()
            else:
                lazy.step(ts[k - 1]), twin.step(ts[k - 1])
            if k % 4 == 0:
                m = float(rng.choice([1.0, 1.0, 0.5, 2.0]))  # mostly no improvement: many reductions
                if lazy.observe(m):
                    reductions += 1
                twin.observe(m)
                _eager(twin)
            if k == 130 and rng.random() < 0.4:  # a re-plan between reductions
                lazy.replan(cooldown=60), twin.replan(cooldown=60)
            if k == 200 and rng.random() < 0.3:  # back before the last reductions, then on
                back = lazy.last_epoch / 3
                lazy.step(back), twin.step(back)
                jumped = True
            got = [g["lr"] for g in a.param_groups]
            assert got == [g["lr"] for g in b.param_groups], (k, pol, plan, lrs)
            written.append(got)
            at.append(lazy.last_epoch)
        # the built schedule gives every value written (traced and array paths); after a jump back,
        # reductions observed there re-plan positions written before, so only the twin is compared
        realised = lazy.realised()
        if not jumped:
            for g, s in enumerate(realised):
                vals = s(np.array(at))
                assert [w[g] for w in written] == [s(t) for t in at] == vals.tolist(), (g, pol, plan)
        # a state loads into a fresh scheduler with the same lrs
        c = _opt(lrs)
        fresh = ScheduleLR(c, plan, plateau=Plateau(**pol))
        fresh.load_state_dict(lazy.state_dict())
        assert [g["lr"] for g in c.param_groups] == written[-1]
    assert reductions > RUNS  # the runs did reduce (several times each, on average)


def test_paddle_lazy_equals_eager_global_and_per_group():
    import paddle

    import lrkit.paddle as lp

    rng = np.random.default_rng(11)
    for run in range(RUNS // 2):
        per_group = run % 2 == 1
        factor = float(rng.choice([0.1, 0.5]))
        plan = PLANS[int(rng.integers(0, len(PLANS)))]
        if per_group:
            mults = [1.0, 0.5, 2.0]

            def make(mults=mults, factor=factor):
                layers = [paddle.nn.Linear(1, 1) for _ in mults]
                groups = [{"params": lin.parameters(), "learning_rate": mg} for lin, mg in zip(layers, mults)]
                pol = Plateau(factor=factor, patience=0, min_lr=[0.0, 1e-3, 0.02])
                return lp.ScheduleLR([plan] * 3, learning_rate=0.1, parameters=groups, plateau=pol)
        else:

            def make(factor=factor):
                pol = Plateau.paddle(learning_rate=0.1, factor=factor, patience=0, min_lr=1e-3)
                return lp.ScheduleLR(plan, learning_rate=0.1, plateau=pol)

        lazy, twin = make(), make()
        written = []
        for k in range(1, 220):
            lazy.step(), twin.step()
            if k % 5 == 0:
                m = float(rng.choice([1.0, 2.0, 0.5]))
                lazy.observe(m)
                twin.observe(m)
                _eager(twin)
            assert lazy.get_last_lr() == twin.get_last_lr(), (k, run)
            written.append(lazy.get_last_lr())
        for g, s in enumerate(lazy.realised()):
            assert [s(t) for t in range(1, 220)] == [w[g] for w in written], (g, run)


def test_many_pending_reductions_build_flat_without_recursion():
    """5,000 reductions, none built: realised(), a jump back to the start, a copy and a state all work
    (built iteratively, a flat Sequence), and the values are those of the eager way."""
    a = _opt([0.1])
    s = ScheduleLR(a, lrkit.Constant(1.0), plateau=Plateau(factor=0.999, patience=0, eps=0.0))
    s.step()
    s.observe(1.0)
    n = 5_000
    for _ in range(n):
        s.step()
        s.observe(1.0)
    assert len(s._plateau.reductions) == n
    last = a.param_groups[0]["lr"]
    dup = copy.deepcopy(s)
    assert pickle.loads(pickle.dumps(s)).get_last_lr() == [last] == dup.get_last_lr()
    (r,) = s.schedules  # the plan's multiplier (the lr is 0.1 times it)
    assert r.kind == "sequence" and len(r.segments) == n + 1  # flat: one piece per reduction
    assert 0.1 * r(float(n + 1)) == last == s.realised()[0](float(n + 1))
    s.step(0.0)  # before every reduction: the plan
    assert a.param_groups[0]["lr"] == 0.1
    s.step(float(n + 1))
    assert a.param_groups[0]["lr"] == last
    # the same reductions, each built at once, give the same value
    b = _opt([0.1])
    e = ScheduleLR(b, lrkit.Constant(1.0), plateau=Plateau(factor=0.999, patience=0, eps=0.0))
    e.step()
    e.observe(1.0)
    for _ in range(300):
        e.step()
        e.observe(1.0)
        _eager(e)
    s.step(301.0)
    assert a.param_groups[0]["lr"] == b.param_groups[0]["lr"]


def test_a_failed_value_after_a_reduction_is_the_schedules_error():
    """A pending reduction whose value cannot be written (a user's function returning NaN) raises
    the schedule's own error, as the built schedule would."""

    def fn(t):
        return float("nan") if t >= 9 else 1.0

    a = _opt([0.1])
    s = ScheduleLR(a, lrkit.FunctionSchedule(fn), plateau=Plateau(factor=0.5, patience=0))
    for _ in range(5):
        s.step()
    s.observe(1.0)
    assert s.observe(2.0)
    for _ in range(3):
        s.step()
    with pytest.raises(ValueError, match="finite"):
        s.step()
    assert s.last_epoch == 8
