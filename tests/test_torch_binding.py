"""lrkit.torch.ScheduleLR: a torch LRScheduler holding a counter and base values, nothing else."""

from __future__ import annotations

import copy
import io
import math
import pickle
import subprocess
import sys
import warnings

import pytest
import torch
from torch.optim import lr_scheduler as tl

import lrkit as lk
from lrkit.torch import ScheduleLR

SCHED = lk.WarmupCosine(peak_lr=1.0, total_steps=40, warmup_steps=5, min_lr=0.01)


def two_groups(opt_cls=torch.optim.SGD, **kw):
    a = torch.zeros(3, requires_grad=True)
    b = torch.zeros(2, requires_grad=True)
    return opt_cls([{"params": [a]}, {"params": [b], "lr": 0.02}], lr=0.1, **kw)


def lrs(opt, key="lr"):
    return [g[key] for g in opt.param_groups]


def applied_lr(opt, w):
    """The lr SGD really applied: with loss = sum(w) and w reset to 0, one step moves w by -lr."""
    with torch.no_grad():
        w.zero_()
    opt.zero_grad()
    w.sum().backward()
    opt.step()
    return -w.detach()[0].item()


def test_is_a_torch_lr_scheduler():
    assert isinstance(ScheduleLR(two_groups(), SCHED), tl.LRScheduler)


def test_multiplier_of_each_group_base_lr():
    opt = two_groups()
    sched = ScheduleLR(opt, SCHED)
    for t in range(60):
        assert lrs(opt) == [0.1 * SCHED(t), 0.02 * SCHED(t)]
        assert sched.get_last_lr() == [0.1 * SCHED(t), 0.02 * SCHED(t)]
        assert sched.last_epoch == t
        opt.step()
        sched.step()


def test_same_values_as_lambdalr_with_the_same_schedule():
    opt1, opt2 = two_groups(), two_groups()
    mine, peer = ScheduleLR(opt1, SCHED), tl.LambdaLR(opt2, SCHED)
    for _ in range(100):
        assert lrs(opt1) == lrs(opt2)
        opt1.step(), opt2.step()
        mine.step(), peer.step()


def test_groups_sharing_a_base_lr_match_lambdalr():
    # Equal base values take a shortcut (one product per step): same values as LambdaLR.
    def opt():
        return torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)]} for _ in range(3)], lr=0.3)

    opt1, opt2 = opt(), opt()
    mine, peer = ScheduleLR(opt1, SCHED), tl.LambdaLR(opt2, SCHED)
    for _ in range(60):
        assert lrs(opt1) == lrs(opt2) and len(set(lrs(opt1))) == 1
        opt1.step(), opt2.step()
        mine.step(), peer.step()


def test_absolute_values():
    opt = two_groups()
    s = lk.Cosine(0.3, 20, 0.001)
    with pytest.warns(lk.ScheduleWarning, match=r"all 2 param groups, whose learning rates differ \(0.1, 0.02\)"):
        ScheduleLR(opt, s, absolute=True)  # what was asked for, with a warning: the groups' ratio is lost
    assert lrs(opt) == [0.3, 0.3]


def test_a_schedule_of_learning_rates_used_as_a_multiplier_is_said():
    import warnings

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=3e-4)
    with pytest.warns(
        lk.ScheduleWarning,
        match=r"peaks at 0.0003 and multiplies the learning rate 0.0003, "
        r"so the lr would peak at 9e-08.*absolute=True",
    ):
        sched = ScheduleLR(opt, lk.WarmupCosine(peak_lr=3e-4, total_steps=100, warmup_steps=10))
    sched.step()
    assert opt.param_groups[0]["lr"] == 3e-4 * lk.WarmupCosine(3e-4, 100, 10)(1)  # the values asked for
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1e-3)
    with pytest.warns(lk.ScheduleWarning, match="lr would peak at 1e-07"):
        ScheduleLR(opt, lk.Cosine(1e-4, 100))  # learning rates below the optimizer's: still lr * lr
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # the intended uses say nothing: a multiplier peaking at 1, values with absolute=True,
        # one group or groups of one lr, a multiplier below 1 (CAWB-like), one schedule per group
        ScheduleLR(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=3e-4), lk.WarmupCosine(1.0, 100, 10))
        ScheduleLR(
            torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=3e-4),
            lk.WarmupCosine(3e-4, 100, 10),
            absolute=True,
        )
        ScheduleLR(two_groups(), lk.Cosine(0.5, 10))
        ScheduleLR(two_groups(), [lk.Cosine(0.1, 10), lk.Cosine(0.02, 10)], absolute=True)
        ScheduleLR(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0), lk.Cosine(3e-4, 10))


def test_one_schedule_per_group():
    opt = two_groups()
    s0, s1 = lk.Cosine(1.0, 10), lk.Step(1.0, 3, 0.5)
    sched = ScheduleLR(opt, [s0, s1])
    for t in range(25):
        assert lrs(opt) == [0.1 * s0(t), 0.02 * s1(t)]
        sched.step()
    opt = two_groups()
    ScheduleLR(opt, [lk.Constant(0.5), lk.Constant(0.25)], absolute=True)
    assert lrs(opt) == [0.5, 0.25]


def test_per_iteration_stepping_of_an_epoch_schedule():
    opt = two_groups()
    epochs = lk.MultiStep(1.0, [2, 5], 0.1)
    sched = ScheduleLR(opt, epochs, steps_per_epoch=4)
    for t in range(30):
        assert lrs(opt)[0] == 0.1 * epochs(t / 4)
        sched.step()


def test_the_lr_the_optimizer_really_applies():
    w = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.5)
    sched = ScheduleLR(opt, SCHED)
    for t in range(45):
        assert applied_lr(opt, w) == pytest.approx(0.5 * SCHED(t), rel=1e-6)  # float32 parameter
        sched.step()


def test_step_with_a_position_jumps_there():
    opt = two_groups()
    sched = ScheduleLR(opt, SCHED)
    sched.step(17)
    assert sched.last_epoch == 17 and lrs(opt)[0] == 0.1 * SCHED(17)
    sched.step()
    assert lrs(opt)[0] == 0.1 * SCHED(18)
    with pytest.raises(ValueError, match="position"):
        sched.step(-1)


def _skipped_step(make):
    """One training step whose inf gradients make a GradScaler skip optimizer.step(), then sched.step()."""
    w = torch.zeros(2, requires_grad=True)
    opt = torch.optim.SGD([w], lr=0.1)
    sched = make(opt)
    scaler = torch.amp.GradScaler("cpu")
    opt.zero_grad()
    scaler.scale(w.sum() * float("inf")).backward()
    scaler.step(opt)
    scaler.update()
    sched.step()
    assert torch.all(w == 0), "the scaler must have skipped the update"
    assert not getattr(opt, "_opt_called", False)


def test_no_warning_when_a_grad_scaler_skips_the_step():
    # The peer warns in this exact situation (so the check below can fail) ...
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        _skipped_step(lambda o: tl.LambdaLR(o, lambda e: 1.0))
    # ... ScheduleLR does not.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _skipped_step(lambda o: ScheduleLR(o, SCHED))


def test_tensor_lr_is_updated_in_place():
    w = torch.zeros(2, requires_grad=True)
    lr = torch.tensor(0.1, dtype=torch.float64)
    opt = torch.optim.Adam([w], lr=lr)
    sched = ScheduleLR(opt, SCHED)
    for t in range(10):
        g = opt.param_groups[0]
        assert g["lr"] is lr and isinstance(g["lr"], torch.Tensor)
        assert g["lr"].item() == 0.1 * SCHED(t)
        opt.zero_grad()
        w.sum().backward()
        opt.step()
        sched.step()
    assert sched.get_last_lr() == [0.1 * SCHED(10)]


def test_state_dict_is_plain_and_loads_with_weights_only():
    opt = two_groups()
    sched = ScheduleLR(opt, SCHED)
    for _ in range(7):
        sched.step()
    buf = io.BytesIO()
    torch.save(sched.state_dict(), buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)
    assert state == {
        "last_epoch": 7,
        "base_values": [0.1, 0.02],
        "key": "lr",
        "absolute": False,
        "steps_per_epoch": None,
        "class": "lrkit.torch.ScheduleLR",
        "groups": 2,
        "per_group": False,
        "schedules": [SCHED.to_dict()],
        "replans": [],
    }

    def plain(v):
        if isinstance(v, dict):
            return all(isinstance(k, str) and plain(x) for k, x in v.items())
        if isinstance(v, list):
            return all(plain(x) for x in v)
        return v is None or isinstance(v, (int, float, str, bool))

    assert plain(state)
    steps_per_epoch = ScheduleLR(two_groups(), SCHED, steps_per_epoch=4).state_dict()
    assert steps_per_epoch["steps_per_epoch"] == 4.0 and plain(steps_per_epoch)


def _train(steps, *, resume_at=None, order="before", key="lr", schedule=SCHED, opt_kw=None):
    """lrs (and the final weights) of a run of ``steps`` updates; optionally checkpointed and resumed."""
    opt_kw = opt_kw or {"momentum": 0.9}
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.randn(4))
    v = torch.nn.Parameter(torch.randn(3))

    def build():
        opt = torch.optim.SGD([{"params": [w]}, {"params": [v], "lr": 0.03}], lr=0.1, **opt_kw)
        return opt

    opt = build()
    sched = ScheduleLR(opt, schedule, key=key)
    seen = []
    for t in range(steps):
        if t == resume_at:
            buf = io.BytesIO()
            torch.save({"opt": opt.state_dict(), "sched": sched.state_dict(), "w": w.data, "v": v.data}, buf)
            buf.seek(0)
            ck = torch.load(buf, weights_only=True)
            with torch.no_grad():
                w.copy_(torch.randn(4))  # clobber, so the checkpoint must restore them
                v.copy_(torch.randn(3))
                w.copy_(ck["w"])
                v.copy_(ck["v"])
            opt = build()
            if order == "before":
                sched = ScheduleLR(opt, schedule, key=key)
                sched.load_state_dict(ck["sched"])
                opt.load_state_dict(ck["opt"])
            else:
                opt.load_state_dict(ck["opt"])
                sched = ScheduleLR(opt, schedule, key=key)
                sched.load_state_dict(ck["sched"])
        seen.append(lrs(opt, key))
        opt.zero_grad()
        ((w**2).sum() + (v**2).sum()).backward()
        opt.step()
        sched.step()
    return seen, w.detach().clone(), v.detach().clone()


@pytest.mark.parametrize("order", ["before", "after"])
@pytest.mark.parametrize("at", [1, 3, 5, 17, 39, 44])
def test_resume_continues_exactly(order, at):
    ref, w_ref, v_ref = _train(50)
    got, w, v = _train(50, resume_at=at, order=order)
    assert got == ref
    assert torch.equal(w, w_ref) and torch.equal(v, v_ref)


@pytest.mark.parametrize("order", ["before", "after"])
def test_resume_of_another_key(order):
    mom = lk.Cosine(0.95, 30, 0.85)
    ref, *_ = _train(40, key="momentum", schedule=mom)
    got, *_ = _train(40, resume_at=13, order=order, key="momentum", schedule=mom)
    assert got == ref


def test_drives_momentum_weight_decay_and_beta1():
    opt = two_groups(momentum=0.9, weight_decay=1e-4)
    m_sched = lk.Cosine(0.95, 10, 0.85)
    lr_s = ScheduleLR(opt, SCHED)
    mom_s = ScheduleLR(opt, m_sched, key="momentum", absolute=True)
    wd_s = ScheduleLR(opt, lk.Linear(1.0, 10, 0.5), key="weight_decay")
    for t in range(15):
        assert lrs(opt) == [0.1 * SCHED(t), 0.02 * SCHED(t)]
        assert lrs(opt, "momentum") == [m_sched(t)] * 2
        assert lrs(opt, "weight_decay") == [1e-4 * lk.Linear(1.0, 10, 0.5)(t)] * 2
        assert mom_s.get_last_lr() == [m_sched(t)] * 2
        opt.step()
        for s in (lr_s, mom_s, wd_s):
            s.step()

    w = torch.zeros(2, requires_grad=True)
    adam = torch.optim.Adam([w], lr=1e-3, betas=(0.9, 0.999))
    b1 = lk.Linear(0.95, 10, 0.85)
    sched = ScheduleLR(adam, b1, key="beta1", absolute=True)
    for t in range(12):
        assert adam.param_groups[0]["betas"] == (b1(t), 0.999)
        adam.zero_grad()
        w.sum().backward()
        adam.step()
        sched.step()
    # A tensor beta1 is filled in place.
    beta = torch.tensor(0.9, dtype=torch.float64)
    adam = torch.optim.Adam([w], lr=1e-3, betas=(beta, torch.tensor(0.999, dtype=torch.float64)))
    sched = ScheduleLR(adam, b1, key="beta1", absolute=True)
    sched.step()
    assert adam.param_groups[0]["betas"][0] is beta and beta.item() == b1(1)


def test_pickle_and_deepcopy():
    opt = two_groups()
    sched = ScheduleLR(opt, [SCHED, lk.Step(1.0, 3, 0.5)])
    for _ in range(4):
        sched.step()
    for how in (lambda s: pickle.loads(pickle.dumps(s)), copy.deepcopy):
        clone = how(sched)
        assert clone.optimizer is not opt
        assert clone.last_epoch == sched.last_epoch and clone.get_last_lr() == sched.get_last_lr()
        clone.step()
        sched.step()
        assert lrs(clone.optimizer) == lrs(opt)
    single = ScheduleLR(two_groups(), SCHED)
    again = pickle.loads(pickle.dumps(single))
    again.step()
    single.step()
    assert lrs(again.optimizer) == lrs(single.optimizer)


def test_errors_name_the_problem():
    with pytest.raises(TypeError, match="schedule"):
        ScheduleLR(two_groups(), lambda t: 1.0)
    with pytest.raises(ValueError, match="2 param groups"):
        ScheduleLR(two_groups(), [SCHED])
    with pytest.raises(ValueError, match="'momentum'"):
        ScheduleLR(torch.optim.Adam([torch.zeros(1, requires_grad=True)]), SCHED, key="momentum")
    with pytest.raises(TypeError, match="Optimizer"):
        ScheduleLR(object(), SCHED)
    opt = two_groups()
    sched = ScheduleLR(opt, SCHED)
    opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)]})
    with pytest.raises(RuntimeError, match="add_param_group"):
        sched.step()
    with pytest.raises(ValueError, match="key"):
        ScheduleLR(two_groups(), SCHED).load_state_dict({"last_epoch": 3, "base_values": [1, 1], "key": "momentum"})


def test_load_state_dict_refuses_another_absolute_or_steps_per_epoch():
    # The saved position and base values are read with these settings: loading them into a
    # scheduler built with other ones would silently apply other lrs.
    warnings.simplefilter("ignore", lk.ScheduleWarning)  # absolute=True on two groups of different lrs

    def saved(**kw):
        sched = ScheduleLR(two_groups(), SCHED, **kw)
        for _ in range(5):
            sched.step()
        return sched.state_dict()

    with pytest.raises(ValueError, match=r"absolute=True.*absolute=False"):
        ScheduleLR(two_groups(), SCHED).load_state_dict(saved(absolute=True))
    with pytest.raises(ValueError, match=r"absolute=False.*absolute=True"):
        ScheduleLR(two_groups(), SCHED, absolute=True).load_state_dict(saved())
    with pytest.raises(ValueError, match=r"steps_per_epoch=4\.0.*steps_per_epoch=None"):
        ScheduleLR(two_groups(), SCHED).load_state_dict(saved(steps_per_epoch=4))
    with pytest.raises(ValueError, match=r"steps_per_epoch=None.*steps_per_epoch=4"):
        ScheduleLR(two_groups(), SCHED, steps_per_epoch=4).load_state_dict(saved())
    with pytest.raises(ValueError, match="steps_per_epoch"):
        ScheduleLR(two_groups(), SCHED, steps_per_epoch=5).load_state_dict(saved(steps_per_epoch=4))
    # the same settings load (4 and 4.0 are one setting), and so does an older state without the keys
    opt = two_groups()
    same = ScheduleLR(opt, SCHED, steps_per_epoch=4.0)
    same.load_state_dict(saved(steps_per_epoch=4))
    assert same.last_epoch == 5 and opt.param_groups[0]["lr"] == 0.1 * SCHED(5 / 4)
    old = {k: v for k, v in saved(absolute=True).items() if k in ("last_epoch", "base_values", "key")}
    opt = two_groups()
    sched = ScheduleLR(opt, SCHED, absolute=True)
    with pytest.raises(ValueError, match="no 'class' entry"):
        sched.load_state_dict(old)  # it cannot say what it belongs to: refused unless asked for
    sched.load_state_dict(old, strict=False)
    assert sched.last_epoch == 5 and opt.param_groups[0]["lr"] == SCHED(5)


def test_import_lrkit_does_not_import_torch():
    code = "import sys, lrkit; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_step_cost_is_below_lambdalr():
    """A coarse guard (the benchmark script measures properly): far cheaper than LambdaLR."""
    import timeit

    s = lk.WarmupCosine(1.0, 10**9, 1000)
    opt1 = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    opt2 = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    mine, peer = ScheduleLR(opt1, s), tl.LambdaLR(opt2, s)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_mine = min(timeit.repeat(mine.step, number=5000, repeat=5))
        t_peer = min(timeit.repeat(peer.step, number=5000, repeat=5))
    assert t_mine * 2.5 < t_peer, (t_mine, t_peer)
    assert math.isfinite(opt1.param_groups[0]["lr"])


# -- the hot path's values evaluated ahead, a block at a time --------------------------------


def test_values_evaluated_ahead_equal_the_scalar_path_for_every_kind(example):
    """Across several blocks of look-ahead, every written lr is base * schedule(t), bit for bit."""
    import lrkit._torch_binding as lt

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    sched = lt.ScheduleLR(opt, example)
    n = 2 * lt._AHEAD + 10
    for k in range(1, n):
        sched.step()
        assert opt.param_groups[0]["lr"] == 0.5 * example(float(k)), k


def test_a_user_function_is_never_called_ahead_of_time():
    calls = []

    def fn(t):
        calls.append(t)
        return 1.0 / (1.0 + t)

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    sched = ScheduleLR(opt, lk.FunctionSchedule(fn))
    for _ in range(5):
        sched.step()
    assert calls == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_jumps_and_fractional_positions_leave_the_look_ahead():
    s = lk.WarmupCosine(1.0, 100_000, 500)
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = ScheduleLR(opt, s)
    for _ in range(10):
        sched.step()
    sched.step(2.5)
    for k in range(1, 6):
        sched.step()
        assert opt.param_groups[0]["lr"] == s(2.5 + k)
    sched.step(40)
    sched.step()
    assert opt.param_groups[0]["lr"] == s(41.0)


@pytest.mark.parametrize("groups", [1, 3])
def test_a_tensor_put_into_a_group_mid_run_is_filled_in_place(groups):
    # the hot path writes floats; a group whose lr became a tensor since (a compiled,
    # capturable optimizer) keeps its tensor and gets the value in place
    s = lk.WarmupCosine(peak_lr=1.0, total_steps=100, warmup_steps=10)
    ps = [torch.zeros(1, requires_grad=True) for _ in range(groups)]
    opt = torch.optim.SGD([{"params": [p]} for p in ps], lr=0.1)
    sched = ScheduleLR(opt, s)
    for _ in range(5):
        opt.step()
        sched.step()
    lr = torch.tensor(0.5)
    opt.param_groups[-1]["lr"] = lr
    opt.step()
    sched.step()
    assert opt.param_groups[-1]["lr"] is lr and lr.item() == pytest.approx(0.1 * s(6), rel=1e-6)
    assert [g["lr"] for g in opt.param_groups[:-1]] == [0.1 * s(6)] * (groups - 1)
