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


def _policy_counters(s):
    """The policy's state and the reductions recorded (the multipliers start again from 1 when a
    re-plan is first noticed, which an observation does before deciding)."""
    return s._plateau.policy.state_dict(), len(s._plateau.reductions)


@pytest.mark.parametrize("flavor", ["torch", "keras"])
def test_a_reduction_that_cannot_be_built_is_refused_whole(flavor):
    """A reduction at a position the plan's pieces cannot start at (below lrkit's smallest length),
    or one that would make the plan larger than lrkit's limit, raises at observe() — as building
    it would — and leaves the policy, the multipliers, the recorded reductions and the lr as they
    were; the run goes on."""

    def make():
        o = _opt([0.1])
        pol = Plateau.torch(factor=0.5, patience=0) if flavor == "torch" else Plateau.keras(factor=0.5, patience=1)
        return o, ScheduleLR(o, lrkit.Cosine(peak_lr=1.0, total_steps=200), plateau=pol)

    o, s = make()
    s.step(5e-10)
    s.observe(1.0)
    before, lr, m = _policy_counters(s), o.param_groups[0]["lr"], list(s._plateau.m)
    with pytest.raises(ValueError, match="offset must be 0 or between"):
        s.observe(2.0)
    assert _policy_counters(s) == before and o.param_groups[0]["lr"] == lr and s._plateau.m == m
    s.step(3.0)
    assert s.observe(2.0)  # decided now, at a position a piece can start at
    assert o.param_groups[0]["lr"] == 0.5 * 0.1 * lrkit.Cosine(peak_lr=1.0, total_steps=200)(3.0)
    fresh = make()[1]
    fresh.load_state_dict(s.state_dict())
    assert fresh.get_last_lr() == s.get_last_lr()


def test_a_reduction_past_the_size_limit_is_refused_whole():
    o = _opt([0.1])
    s = ScheduleLR(o, lrkit.Cosine(peak_lr=1.0, total_steps=10_000), plateau=Plateau.torch(factor=0.9, patience=0))
    for k in range(1, 10):  # re-plans of a reduced plan nest it: the plan grows fast
        s.step(), s.observe(float(k)), s.step(), s.observe(k + 0.5)
        s.replan(total_steps=20_000 + k)
    s.step()
    before, lr = _policy_counters(s), o.param_groups[0]["lr"]
    with pytest.raises(ValueError, match="lrkit's limit"):
        s.observe(100.0)
    assert _policy_counters(s) == before and o.param_groups[0]["lr"] == lr
    copy.deepcopy(s)  # what is recorded builds and loads
    fresh = ScheduleLR(
        _opt([0.1]), lrkit.Cosine(peak_lr=1.0, total_steps=10_000), plateau=Plateau.torch(factor=0.9, patience=0)
    )
    fresh.load_state_dict(s.state_dict())
    assert fresh.get_last_lr() == s.get_last_lr() == [lr]


def test_concurrent_builds_see_the_schedule_whole():
    """Several threads asking for the built schedule at once (realised(), schedules) all get the
    same, whole schedule."""
    import sys
    import threading

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(30):
            s = ScheduleLR(
                _opt([0.1]), lrkit.Cosine(peak_lr=1.0, total_steps=500), plateau=Plateau(factor=0.9, patience=0)
            )
            s.step()
            s.observe(1.0)
            for _ in range(40):
                s.step()
                s.observe(1.0)
            go, out, errors = threading.Barrier(3), [], []

            def read(s=s, go=go, out=out, errors=errors):
                go.wait()
                try:
                    out.append(s.realised()[0].to_dict())
                except Exception as e:  # pragma: no cover - what the test looks for
                    errors.append(e)

            threads = [threading.Thread(target=read) for _ in range(3)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            assert not errors and len(out) == 3 and out[0] == out[1] == out[2]
    finally:
        sys.setswitchinterval(old)


def test_a_policy_pickled_without_the_newer_fields_reduces_as_before():
    a, b = _opt([0.1]), _opt([0.1])
    s = ScheduleLR(a, PLANS[0], plateau=Plateau(factor=0.5, patience=0))
    t = ScheduleLR(b, PLANS[0], plateau=Plateau(factor=0.5, patience=0))
    for x in (s, t):
        x.step(), x.observe(1.0)
    for k in ("_one_floor", "_one_min"):  # what an earlier lrkit's pickle lacks
        del s._plateau.__dict__[k]
    s = pickle.loads(pickle.dumps(s))
    a = s.optimizer
    for x in (s, t):
        x.step(), x.observe(2.0), x.step()
    assert a.param_groups[0]["lr"] == b.param_groups[0]["lr"] == 0.1 * 0.5 * PLANS[0](3)


def test_paddle_verbose_says_the_reduced_lr(capsys):
    import lrkit.paddle as lp

    s = lp.ScheduleLR(
        PLANS[1], learning_rate=0.1, verbose=True, plateau=Plateau.paddle(learning_rate=0.1, factor=0.5, patience=0)
    )
    s.step()
    s.observe(1.0)
    capsys.readouterr()
    assert s.observe(2.0)
    said = capsys.readouterr().out
    assert str(s.get_last_lr()) in said and "set learning rate" in said


@pytest.mark.parametrize("groups, floors", [(1, 0.02), (3, 0.02), (3, [0.02, 0.05, 0.01])])
def test_counters_follow_torch_at_the_floor(groups, floors):
    """A reduction decided with every group at its floor changes no lr but starts the cooldown and
    zeroes the bad count, as torch's class does: the counters after every observation equal torch's
    fed the same metrics and the same lrs, while the plan keeps the run at the floor."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        pol = dict(factor=0.5, patience=int(rng.integers(0, 3)), cooldown=int(rng.integers(0, 3)), min_lr=floors)
        a = _opt([0.1] * groups)
        s = ScheduleLR(a, lrkit.Constant(1.0), plateau=Plateau(**pol))
        shadow = _opt([0.1] * groups)
        peer = torch.optim.lr_scheduler.ReduceLROnPlateau(shadow, **pol)
        for k in range(60):
            s.step()
            m = float(rng.choice([1.0, 1.0, 0.9, 1.1]) * (0.999 ** (k // 10)))
            for g, h in zip(a.param_groups, shadow.param_groups):
                h["lr"] = g["lr"]
            s.observe(m)
            peer.step(m)
            st = s._plateau.policy.state_dict()
            assert (st["num_bad_epochs"], st["cooldown_counter"], st["best"]) == (
                peer.num_bad_epochs,
                peer.cooldown_counter,
                peer.best,
            ), (k, pol)
            assert [g["lr"] for g in a.param_groups] == [g["lr"] for g in shadow.param_groups], (k, pol)
