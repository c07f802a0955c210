"""lrkit.torch.ScheduleLR(..., plateau=Plateau(...)) against an independent reference.

The reference runs the plan by hand and lets torch's own ReduceLROnPlateau decide: before each
metric its (shadow) optimizer gets the values the run has now; when torch's class changes a
group's lr, that group's multiplier is multiplied by ``factor``, and from then on the group's lr
is the documented ``base_g * max(plan(t) * m_g, min_lr_g / base_g)``. After every step and every
observation the param groups must equal the reference (==). Resume at random positions (mid-
patience, mid-cooldown, after reductions, with re-plans in between) through torch.save/load
must give the uninterrupted run; the realised schedule must reproduce every value written.
"""

from __future__ import annotations

import io
import os
import time

import numpy as np
import pytest
import torch
from test_plateau_policy import metric_sequence

import lrkit
from lrkit.plateau import Plateau
from lrkit.torch import ScheduleLR

CI = bool(os.environ.get("CI"))
N = 150 if CI else 600
PLANS = [
    lrkit.Cosine(peak_lr=1.0, total_steps=120),
    lrkit.WarmupCosine(peak_lr=1.0, total_steps=150, warmup_steps=10, min_lr=0.01),
    lrkit.Constant(1.0),
    lrkit.MultiStep(1.0, [40, 80], 0.5),
    lrkit.Linear(1.0, 90, 0.0),
]


def _opt(lrs):
    return torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs], lr=0.1)


def _config(rng):
    n = int(rng.integers(1, 4))
    lrs = [float(rng.choice([0.1, 0.05, 1e-3, 0.3])) for _ in range(n)]
    floors = [float(rng.choice([0.0, 1e-4, 1e-3, 0.02])) for _ in range(n)]
    pol = dict(
        mode=str(rng.choice(["min", "max"])),
        factor=float(rng.choice([0.1, 0.5, 0.9, 0.0])),
        patience=int(rng.choice([0, 1, 2, 3])),
        threshold=float(rng.choice([0.0, 1e-4, 0.01])),
        threshold_mode=str(rng.choice(["rel", "abs"])),
        cooldown=int(rng.choice([0, 1, 2])),
        min_lr=floors if rng.random() < 0.7 else floors[0],
        eps=float(rng.choice([1e-8, 0.0, 1e-3])),
    )
    plan = PLANS[int(rng.integers(0, len(PLANS)))]
    every = int(rng.integers(1, 8))
    return lrs, pol, plan, every


class Reference:
    """The documented formula, with torch's ReduceLROnPlateau deciding."""

    def __init__(self, lrs, pol, plan):
        self.bases, self.plan = list(lrs), plan
        n = len(lrs)
        floors = pol["min_lr"] if isinstance(pol["min_lr"], list) else [pol["min_lr"]] * n
        self.floors = [0.0 if b == 0 else f / b for f, b in zip(floors, self.bases)]
        self.m, self.reduced, self.factor = [1.0] * n, [False] * n, pol["factor"]
        self.shadow = _opt(lrs)
        self.peer = torch.optim.lr_scheduler.ReduceLROnPlateau(self.shadow, **pol)
        self.t = 0

    def values(self):
        p = self.plan(self.t)
        return [
            b * max(p * m, fl) if r else b * p for b, m, fl, r in zip(self.bases, self.m, self.floors, self.reduced)
        ]

    def observe(self, metric):
        now = self.values()
        for g, v in zip(self.shadow.param_groups, now):
            g["lr"] = v
        self.peer.step(metric)
        for i, (g, v) in enumerate(zip(self.shadow.param_groups, now)):
            if g["lr"] != v:
                self.m[i] *= self.factor
                self.reduced[i] = True


def _save_load(state):
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


def _run(lrs, pol, plan, every, metrics, steps, cut=None):
    ref = Reference(lrs, pol, plan)
    opt = _opt(lrs)
    sched = ScheduleLR(opt, plan, plateau=Plateau(**pol))
    written = []
    ctx = f"lrs={lrs} pol={pol} plan={plan} every={every} cut={cut}\nmetrics={metrics}"
    k = 0
    for t in range(1, steps + 1):
        if t == cut:
            saved_opt, state = opt.state_dict(), _save_load(sched.state_dict())
            opt = _opt([9.0] * len(lrs))
            opt.load_state_dict(saved_opt)
            sched = ScheduleLR(opt, plan, plateau=Plateau(**pol))
            sched.load_state_dict(state)
            assert [g["lr"] for g in opt.param_groups] == ref.values(), ctx
        opt.step()
        sched.step()
        ref.t = t
        assert [g["lr"] for g in opt.param_groups] == ref.values(), f"step {t}\n{ctx}"
        if t % every == 0 and k < len(metrics):
            sched.observe(metrics[k])
            ref.observe(metrics[k])
            k += 1
            assert [g["lr"] for g in opt.param_groups] == ref.values(), f"observe at {t}\n{ctx}"
        written.append((t, [g["lr"] for g in opt.param_groups]))
    # the run as it happened, as ordinary schedules: every value written since the last
    # reduction (values before it were written under the earlier curve at the same positions)
    real = sched.realised()
    for t, vals in written:
        assert [s(t) for s in real] == vals, f"realised at {t}\n{ctx}"
    for s in real:
        assert lrkit.from_dict(s.to_dict()) == s
    return sched


def test_random_runs_match_the_formula_with_torch_deciding():
    rng = np.random.default_rng(41)
    reduced = 0
    for _ in range(N):
        lrs, pol, plan, every = _config(rng)
        metrics = metric_sequence(rng, (pol["threshold"],), 40)
        s = _run(lrs, pol, plan, every, metrics, 160)
        reduced += len(s.state_dict()["plateau"]["reductions"]) > 0
    assert reduced > N // 3


def test_resume_at_any_step():
    rng = np.random.default_rng(43)
    for _ in range(N // 2):
        lrs, pol, plan, every = _config(rng)
        metrics = metric_sequence(rng, (pol["threshold"],), 40)
        _run(lrs, pol, plan, every, metrics, 160, cut=int(rng.integers(2, 160)))


def test_replans_and_reductions_interleaved_resume_exactly():
    plan = lrkit.WarmupCosine(peak_lr=1.0, total_steps=200, warmup_steps=10)
    pol = Plateau(factor=0.5, patience=1, cooldown=1, min_lr=1e-4)

    def run(cut=None):
        opt = _opt([0.1, 0.02])
        s = ScheduleLR(opt, plan, plateau=pol)
        out = []
        for t in range(1, 200):
            if t == cut:
                st = _save_load(s.state_dict())
                opt2 = _opt([0.1, 0.02])
                opt2.load_state_dict(opt.state_dict())
                opt, s = opt2, ScheduleLR(opt2, plan, plateau=pol)
                s.load_state_dict(st)
            opt.step()
            s.step()
            if t == 60:
                s.replan(total_steps=300)
            if t == 130:
                s.replan(cooldown=40, min_lr=0.0)
            if t % 10 == 0:
                s.observe(1.0 if t < 150 else 1.0 - t * 1e-3)
            out.append([g["lr"] for g in opt.param_groups])
        return out, s

    full, s = run()
    assert len(s.state_dict()["plateau"]["reductions"]) >= 3
    for cut in (25, 45, 61, 75, 131, 135, 160, 181):
        assert run(cut)[0] == full, cut


def test_explain_show_plot_take_the_realised_run():
    opt = _opt([0.1])
    s = ScheduleLR(opt, lrkit.Cosine(1.0, 100), plateau=Plateau(factor=0.1, patience=0))
    for t in range(1, 60):
        opt.step()
        s.step()
        if t % 10 == 0:
            s.observe(1.0)
    (real,) = s.realised()
    for lang in ("en", "zh"):
        assert lrkit.explain(real, lang)
    assert real(59) == opt.param_groups[0]["lr"]


def test_errors():
    opt = _opt([0.1, 0.2])
    with pytest.raises(RuntimeError, match="plateau"):
        ScheduleLR(opt, lrkit.Constant(1.0)).observe(1.0)
    with pytest.raises(ValueError, match="min_lr"):
        ScheduleLR(opt, lrkit.Constant(1.0), plateau=Plateau(min_lr=[0.0, 0.0, 0.0]))
    with pytest.raises(ValueError, match="flavor"):
        ScheduleLR(opt, lrkit.Constant(1.0), plateau=Plateau.optax())
    with pytest.raises(ValueError, match="begin"):
        ScheduleLR(opt, lrkit.Constant(1.0), plateau=Plateau.mmengine(begin=2))
    with pytest.raises(TypeError, match="plateau"):
        ScheduleLR(opt, lrkit.Constant(1.0), plateau=0.1)  # type: ignore[arg-type]
    s = ScheduleLR(opt, lrkit.Constant(1.0), plateau=Plateau(patience=0))
    s.observe(1.0)
    s.observe(2.0)
    state = s.state_dict()
    plain = ScheduleLR(_opt([0.1, 0.2]), lrkit.Constant(1.0))
    with pytest.raises(ValueError, match="plateau"):
        plain.load_state_dict(state)
    other = ScheduleLR(_opt([0.1, 0.2]), lrkit.Constant(1.0), plateau=Plateau(patience=3))
    with pytest.raises(ValueError, match="plateau"):
        other.load_state_dict(state)
    assert other.values() == [0.1, 0.2]


def _per_step(sched, opt, n):
    t0 = time.perf_counter()
    for _ in range(n):
        sched.step()
    return (time.perf_counter() - t0) / n


def test_step_cost_between_reductions_is_a_plain_steps():
    """Between reductions step() is the plain ScheduleLR's hot path (reported by -s)."""
    plan = lrkit.WarmupCosine(peak_lr=1.0, total_steps=10**7, warmup_steps=1000)
    o1, o2 = _opt([0.1]), _opt([0.1])
    plain = ScheduleLR(o1, plan)
    red = ScheduleLR(o2, plan, plateau=Plateau(patience=0, factor=0.5))
    for _ in range(2000):  # past the warmup (from 0)
        plain.step()
        red.step()
    for m in (1.0, 2.0, 3.0, 4.0):  # three reductions
        red.observe(m)
    assert len(red.state_dict()["plateau"]["reductions"]) == 3
    n = 20000 if CI else 200000
    a = min(_per_step(plain, o1, n) for _ in range(3))
    b = min(_per_step(red, o2, n) for _ in range(3))
    print(f"\nplain ScheduleLR.step: {a * 1e9:.0f} ns; after 3 reductions: {b * 1e9:.0f} ns")
    assert b < 3 * a + 2e-7


def test_explain_tells_each_reduction_in_en_and_zh():
    opt = torch.optim.SGD(
        [
            {"params": [torch.nn.Parameter(torch.zeros(1))]},
            {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.0011},
        ],
        lr=0.1,
    )
    s = ScheduleLR(opt, lrkit.Constant(1.0), plateau=Plateau(factor=0.5, patience=1, min_lr=1e-3))
    assert "No reduction" in s.explain()
    for t in range(1, 60):
        s.step()
        if t % 10 == 0:
            s.observe(1.0)
    en, zh = s.explain(), s.explain("zh")
    # the positions, factor and patience are the run's own: reductions at the 3rd and 5th evaluation
    assert "reduced x0.5 at step 30: no improvement of the metric for 2 evaluations" in en
    assert "reduced x0.5 at step 50" in en and "held at the floor: group 1" in en
    assert "第 30 步降为 x0.5" in zh and "连续 2 次评估没有改进" in zh
    with pytest.raises(ValueError, match="lang"):
        s.explain("fr")
    with pytest.raises(RuntimeError, match="plateau"):
        ScheduleLR(_opt([0.1]), lrkit.Constant(1.0)).explain()


def test_pickle_and_deepcopy_of_a_scheduler_with_a_plateau():
    import copy
    import pickle

    opt = _opt([0.1])
    s = ScheduleLR(opt, lrkit.Cosine(1.0, 100), plateau=Plateau(patience=0, factor=0.5))
    for t in range(1, 30):
        s.step()
        if t % 5 == 0:
            s.observe(float(t))
    o2, s2 = copy.deepcopy((opt, s))
    o3, s3 = pickle.loads(pickle.dumps((opt, s)))
    for t in range(30, 60):
        for sc in (s, s2, s3):
            sc.step()
            if t % 5 == 0:
                sc.observe(float(t))
        assert opt.param_groups[0]["lr"] == o2.param_groups[0]["lr"] == o3.param_groups[0]["lr"]
