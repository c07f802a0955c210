"""Re-planning a run: lrkit.replan (the schedules) and the bindings' replan (a running scheduler)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lrkit as lk
from lrkit.replan import batch_scaled, rebind, replan, rescale
from lrkit.torch import ScheduleLR

S = lk.WarmupCosine(peak_lr=1.0, total_steps=100, warmup_steps=10, min_lr=0.01)


# -- the schedules -------------------------------------------------------------------------------
@pytest.mark.parametrize("new_total", [60, 100, 150, 1000])
def test_a_new_length_re_times_the_rest_continuously(new_total):
    k = 40
    n = replan(S, k, total_steps=new_total)
    t = np.arange(0, k + 1, dtype=float)
    assert n(t).tolist() == S(t).tolist()  # before k (and at k): unchanged
    # the rest follows the old curve on a clock stretched to end at new_total
    u = np.linspace(k, new_total, 57)
    np.testing.assert_allclose(n(u), S(k + (u - k) * (100 - k) / (new_total - k)), rtol=1e-12)
    assert n(new_total) == pytest.approx(S(100), rel=1e-12) and n(10 * new_total) == S(100)
    assert lk.from_dict(n.to_dict()) == n


def test_a_cooldown_starts_from_the_current_value_and_a_tail_jumps_only_when_asked():
    wsd = lk.WarmupStableDecay(0.1, 10_000, 2_000, warmup_steps=100)  # stable until 8,000
    n = replan(wsd, 5_000, cooldown=500, min_lr=1e-4, shape="cosine")
    assert n(4_999) == wsd(4_999) and n(5_000) == wsd(5_000) == 0.1
    assert n(5_250) == pytest.approx(1e-4 + (0.1 - 1e-4) / 2, rel=1e-12) and n(5_500) == n(9_999) == 1e-4
    with pytest.raises(ValueError, match=r"the tail starts at 0.05 but the schedule is at 0.1 at 5000: pass jump=True"):
        replan(wsd, 5_000, tail=lk.Constant(0.05))
    j = replan(wsd, 5_000, tail=lk.Constant(0.05), jump=True)
    assert j(4_999) == 0.1 and j(5_000) == 0.05
    assert replan(wsd, 5_000, tail=lk.Linear(0.1, 100)).__call__(5_050) == pytest.approx(0.05)


def test_replan_says_what_is_wrong():
    with pytest.raises(ValueError, match="exactly one of total_steps, cooldown or tail, got none"):
        replan(S, 10)
    with pytest.raises(ValueError, match="exactly one of .* got total_steps, cooldown"):
        replan(S, 10, total_steps=200, cooldown=5)
    with pytest.raises(ValueError, match="must be after at"):
        replan(S, 50, total_steps=40)
    with pytest.raises(ValueError, match="before the end of the schedule"):
        replan(S, 150, total_steps=300)
    with pytest.raises(ValueError, match="never does"):
        replan(lk.Exponential(0.1, 0.99), 10, total_steps=300)
    with pytest.raises(ValueError, match="at must be"):
        replan(S, -1, cooldown=5)


def test_rescale_batch_rules_and_rebind():
    s = lk.WarmupCosine(0.1, 1000, 100)
    r = rescale(s, time=1.5)
    assert r(1500) == s(1000) and r(150) == s(100)
    assert rescale(s, value=0.5)(500) == 0.5 * s(500)
    assert batch_scaled(s, 256, 1024)(500) == 4 * s(500)
    assert batch_scaled(s, 256, 1024, rule="sqrt")(500) == 2 * s(500)
    with pytest.raises(ValueError, match="rule must be one of"):
        batch_scaled(s, 256, 1024, rule="cube")
    e = lk.MultiStep(0.1, [30, 60], 0.1).per_step(500)
    b = rebind(e, 250)
    assert b(250 * 30) == e(500 * 30) and b(250 * 30 - 1) == e(500 * 30 - 1)
    with pytest.raises(ValueError, match="per_step"):
        rebind(s, 250)


# -- a running PyTorch scheduler ----------------------------------------------------------------------
def build(schedule=S):
    ps = [torch.zeros(1, requires_grad=True) for _ in range(2)]
    opt = torch.optim.SGD([{"params": [ps[0]], "lr": 0.1}, {"params": [ps[1]], "lr": 0.02}])
    return opt, ScheduleLR(opt, schedule)


def run(opt, sched, n):
    out = []
    for _ in range(n):
        opt.step()
        sched.step()
        out.append([g["lr"] for g in opt.param_groups])
    return out


def test_torch_resume_with_a_new_length_then_a_cooldown_every_lr_as_planned():
    opt, sched = build()
    got = run(opt, sched, 40)
    ckpt1 = {"opt": opt.state_dict(), "sched": sched.state_dict()}
    # resume at 40 with a longer run: built with the original plan, loaded, then re-planned
    opt, sched = build()
    opt.load_state_dict(ckpt1["opt"])
    sched.load_state_dict(ckpt1["sched"])
    sched.replan(total_steps=160)
    got += run(opt, sched, 30)
    ckpt2 = {"opt": opt.state_dict(), "sched": sched.state_dict()}
    assert ckpt2["sched"]["replans"] == [{"at": 40.0, "total_steps": 160}]
    # resume again: the original plan's code, the state brings the re-plan back
    opt, sched = build()
    opt.load_state_dict(ckpt2["opt"])
    sched.load_state_dict(ckpt2["sched"])
    sched.replan(cooldown=20, min_lr=0.0)  # at 70: start the cooldown now
    got += run(opt, sched, 40)
    ckpt3 = sched.state_dict()
    plan = replan(replan(S, 40, total_steps=160), 70, cooldown=20)
    want = [[0.1 * plan(t), 0.02 * plan(t)] for t in range(1, 111)]
    assert got == want
    # a third resume from the last state: the same curve on
    opt, sched = build()
    sched.load_state_dict(ckpt3)
    assert [g["lr"] for g in opt.param_groups] == want[-1]


def test_torch_an_old_checkpoint_into_a_re_planned_scheduler_is_explicit():
    opt, sched = build()
    run(opt, sched, 30)
    old = sched.state_dict()
    opt, sched = build()
    sched.replan(at=20, total_steps=300)
    with pytest.raises(ValueError, match="load the state first, then re-plan"):
        sched.load_state_dict(old)
    sched.load_state_dict(old, strict=False)  # this scheduler's own plan from the saved position
    assert opt.param_groups[0]["lr"] == 0.1 * replan(S, 20, total_steps=300)(30)
    # a re-plan that cannot be made changes nothing
    before = [g["lr"] for g in opt.param_groups]
    with pytest.raises(ValueError, match="exactly one of"):
        sched.replan()
    assert [g["lr"] for g in opt.param_groups] == before and len(sched.state_dict()["replans"]) == 1
    with pytest.raises(ValueError, match="'replans' must be a list"):
        build()[1].load_state_dict(dict(old, replans="cooldown"))


def test_a_re_planned_schedule_plots_old_and_new_and_explains(tmp_path):
    from lrkit.explain import explain
    from lrkit.plot import save_overlay

    n = replan(S, 40, total_steps=160)
    path = save_overlay({"plan": S, "re-planned at 40": n}, tmp_path / "replan.png", 180)
    assert (tmp_path / "replan.png").stat().st_size > 5000 and path.endswith("replan.png")
    assert "From 40" in explain(n)


# -- a running Paddle scheduler ----------------------------------------------------------------------
def test_paddle_resume_with_a_new_length_and_a_cooldown_every_lr_as_planned():
    import paddle

    from lrkit.paddle import ScheduleLR as PaddleScheduleLR

    def build_p():
        return PaddleScheduleLR(S, learning_rate=0.1)

    sched = build_p()
    got = []
    for _ in range(40):
        sched.step()
        got.append(sched())
    state = sched.state_dict()
    sched = build_p()
    sched.set_state_dict(state)
    sched.replan(total_steps=160)
    for _ in range(30):
        sched.step()
        got.append(sched())
    state2 = sched.state_dict()
    assert state2["replans"] == [{"at": 40.0, "total_steps": 160}]
    sched = build_p()
    sched.set_state_dict(state2)  # the original plan's code: the state brings the re-plan back
    sched.replan(cooldown=20, min_lr=0.0)
    for _ in range(40):
        sched.step()
        got.append(sched())
    plan = replan(replan(S, 40, total_steps=160), 70, cooldown=20)
    assert got == [0.1 * plan(t) for t in range(1, 111)]
    fresh = build_p()
    fresh.replan(at=5, total_steps=50)
    with pytest.raises(ValueError, match="load the state first, then re-plan"):
        fresh.set_state_dict(state2)
    assert isinstance(fresh, paddle.optimizer.lr.LRScheduler)


def test_the_readme_figure_script_draws_the_plan_and_its_re_plans(tmp_path):
    import importlib.util
    import pathlib

    script = pathlib.Path(__file__).parent.parent / "docs" / "make_replan_figure.py"
    spec = importlib.util.spec_from_file_location("make_replan_figure", script)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.main(str(tmp_path / "r.png"))
    assert pathlib.Path(out).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert mod.LONGER(6_000) == mod.PLAN(6_000) == mod.COOLDOWN(6_000)
    assert mod.LONGER(15_000) == pytest.approx(mod.PLAN(10_000)) and mod.COOLDOWN(7_000) == 3e-6


def test_jax_a_re_planned_schedule_continues_from_optax_s_count():
    import jax
    import jax.numpy as jnp
    import optax

    from lrkit.jax import to_optax

    with jax.enable_x64(True):
        params = {"w": jnp.zeros(2)}
        grads = {"w": jnp.ones(2)}
        tx = optax.sgd(to_optax(S))
        state = tx.init(params)
        seen = []
        for _ in range(40):
            upd, state = tx.update(grads, state, params)
            seen.append(float(-upd["w"][0]))
        # re-plan at 40: a new optimizer on the new schedule, the same state (its count goes on)
        new = replan(S, 40, total_steps=160)
        tx = optax.sgd(to_optax(new))
        for _ in range(60):
            upd, state = tx.update(grads, state, params)
            seen.append(float(-upd["w"][0]))
    assert seen == [S(k) for k in range(40)] + [new(k) for k in range(40, 100)]


# -- a new length during the warmup ------------------------------------------------------------
@pytest.mark.parametrize("at", [0, 3, 9.5])
@pytest.mark.parametrize("new_total", [30, 100, 400])
def test_keep_warmup_keeps_the_warmup_as_planned_and_re_times_what_follows(at, new_total):
    kept = replan(S, at, total_steps=new_total, keep_warmup=True)
    stretched = replan(S, at, total_steps=new_total)
    w = 10  # S's warmup ends at 10
    t = np.arange(0, w + 1, dtype=float)
    assert kept(t).tolist() == S(t).tolist()  # the warmup as planned, bit for bit
    u = np.linspace(w, new_total, 41)
    np.testing.assert_allclose(kept(u), S(w + (u - w) * (100 - w) / (new_total - w)), rtol=1e-12)
    assert kept(new_total) == pytest.approx(S(100), rel=1e-12)
    # without keep_warmup the rest of the warmup is re-timed too (it ends elsewhere than 10)
    ends = [p.end for p in stretched.phases() if p.name.startswith("warmup")]
    assert ends[-1] == pytest.approx(at + (w - at) * (new_total - at) / (100 - at))
    assert lk.from_dict(kept.to_dict()) == kept


def test_keep_warmup_after_the_warmup_changes_nothing_and_bad_uses_are_refused():
    assert replan(S, 40, total_steps=160, keep_warmup=True) == replan(S, 40, total_steps=160)
    with pytest.raises(ValueError, match="after the end of the warmup"):
        replan(S, 3, total_steps=8, keep_warmup=True)
    with pytest.raises(ValueError, match="keep_warmup is for a re-plan with total_steps"):
        replan(S, 3, cooldown=8, keep_warmup=True)
    with pytest.raises(TypeError, match="keep_warmup must be True or False"):
        replan(S, 3, total_steps=80, keep_warmup="yes")
    assert lk.replan.warmup_end(lk.Cosine(1.0, 50)) == 0


@pytest.mark.parametrize("framework", ["torch", "paddle"])
def test_a_binding_keeps_the_warmup_and_resumes_the_re_plan(framework):
    if framework == "torch":
        from lrkit.torch import ScheduleLR as Binding

        def make():
            opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
            return opt, Binding(opt, S)

        def lr(opt):
            return opt.param_groups[0]["lr"]

        def update(opt, sched):
            opt.step()
            sched.step()
    else:
        import paddle

        from lrkit.paddle import ScheduleLR as Binding

        def make():
            sched = Binding(S)
            return paddle.optimizer.SGD(
                learning_rate=sched, parameters=[paddle.create_parameter([1], "float32")]
            ), sched

        def lr(opt):
            return opt.get_lr()

        def update(opt, sched):
            sched.step()

    opt, sched = make()
    for _ in range(4):
        update(opt, sched)
    sched.replan(total_steps=200, keep_warmup=True)
    state = sched.state_dict()
    got = []
    for _ in range(30):
        update(opt, sched)
        got.append(lr(opt))
    plan = replan(S, 4, total_steps=200, keep_warmup=True)
    assert got == pytest.approx([plan(t) for t in range(5, 35)], rel=1e-15)
    assert got[4] == S(9)  # position 9: still the planned warmup
    opt, sched = make()
    sched.load_state_dict(state)
    again = []
    for _ in range(30):
        update(opt, sched)
        again.append(lr(opt))
    assert again == got
