"""lrkit.paddle.ScheduleLR on real Paddle optimizers: the lr Paddle applies, groups, resume, hapi.

The applied lr is measured, not read from the scheduler: plain SGD with
``loss = sum(w)`` moves ``w`` by exactly ``-lr``; ``w`` is reset to 0 before each step.
With float64 parameters Paddle's lr tensor is float64 too (it takes the first
parameter's dtype), so the applied lr is the float64 value; with float32 parameters
it is rounded to float32 (the global lr once, then global x multiplier in float32).
"""

from __future__ import annotations

import copy
import math
import pickle
import subprocess
import sys

import numpy as np
import paddle
import pytest

import lrkit as lk
from lrkit.paddle import ScheduleLR

F32 = np.float32


class Probe:
    """One scalar parameter per param group; :meth:`applied` runs one update and returns each group's lr."""

    def __init__(self, multipliers=(1.0,), dtype: str = "float64") -> None:
        self.dtype = dtype
        self.ws = [
            paddle.create_parameter([1], dtype, default_initializer=paddle.nn.initializer.Constant(0.0))
            for _ in multipliers
        ]
        self.groups = [{"params": [w], "learning_rate": m} for w, m in zip(self.ws, multipliers)]

    def sgd(self, lr) -> paddle.optimizer.SGD:
        return paddle.optimizer.SGD(learning_rate=lr, parameters=self.groups)

    def applied(self, opt) -> list[float]:
        for w in self.ws:
            w.set_value(paddle.zeros([1], self.dtype))
        loss = paddle.add_n([w.sum() for w in self.ws])
        loss.backward()
        opt.step()
        opt.clear_grad()
        return [-float(w.numpy()[0]) for w in self.ws]


def run(sched, opt, probe: Probe, n: int) -> list[list[float]]:
    """The canonical loop: update, then ``sched.step()``; the applied lr of every group at every update."""
    out = []
    for _ in range(n):
        out.append(probe.applied(opt))
        sched.step()
    return out


def cosine_formula(peak: float, T: float, t: float) -> float:
    return 0.5 * peak * (1 + math.cos(math.pi * min(t, T) / T))


# -- import and basic use ---------------------------------------------------------------------


def test_import_lrkit_does_not_import_paddle():
    code = "import sys, lrkit; lrkit.Cosine(0.1, 10)(3); print('paddle' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def test_is_a_paddle_lr_scheduler_and_starts_at_position_zero():
    s = ScheduleLR(lk.Linear(1.0, 10), learning_rate=0.5)
    assert isinstance(s, paddle.optimizer.lr.LRScheduler)
    assert s.last_epoch == 0 and s() == 0.5
    s.step()
    assert s.last_epoch == 1 and s() == 0.5 * 0.9


def test_applied_lr_float64_is_the_schedule_value_exactly():
    p = Probe()
    sched = ScheduleLR(lk.Cosine(0.1, 40))
    got = run(sched, p.sgd(sched), p, 45)
    applied = [g[0] for g in got]
    assert applied == [lk.Cosine(0.1, 40)(t) for t in range(45)]  # bit for bit
    assert np.allclose(applied, [cosine_formula(0.1, 40, t) for t in range(45)], rtol=1e-15, atol=1e-18)


def test_applied_lr_float32_is_the_value_rounded_to_float32():
    p = Probe(dtype="float32")
    s = lk.WarmupCosine(0.1, 60, 10)
    sched = ScheduleLR(s)
    got = run(sched, p.sgd(sched), p, 60)
    assert [g[0] for g in got] == [float(F32(s(t))) for t in range(60)]


def test_learning_rate_is_the_base_the_schedule_multiplies():
    p = Probe()
    sched = ScheduleLR(lk.Linear(1.0, 20, 0.1), learning_rate=0.3)
    got = run(sched, p.sgd(sched), p, 25)
    assert np.allclose(
        [g[0] for g in got], [0.3 * (0.1 + 0.9 * (1 - min(t, 20) / 20)) for t in range(25)], rtol=1e-15, atol=0
    )


def test_group_multipliers_apply_on_top_of_the_global_lr():
    p = Probe(multipliers=(1.0, 0.5, 0.1))
    s = lk.Cosine(0.2, 30, 0.01)
    sched = ScheduleLR(s, parameters=p.groups)
    got = run(sched, p.sgd(sched), p, 35)
    for t, row in enumerate(got):
        v = s(t)
        assert row == [v, v * 0.5, v * 0.1]  # Paddle: global lr * multiplier, in float64
        assert sched.values(t) == row
    # float32 parameters: the global lr and the product are rounded to float32
    p32 = Probe(multipliers=(1.0, 0.3), dtype="float32")
    sched = ScheduleLR(s)
    got = run(sched, p32.sgd(sched), p32, 10)
    for t, row in enumerate(got):
        g = F32(s(t))
        assert row == [float(g), float(g * F32(0.3))]


# -- one schedule per group --------------------------------------------------------------------


def test_one_schedule_per_group_is_exact_and_survives_a_zero():
    # group 1's schedule reaches exactly 0: no ratio to the global lr is ever taken
    p = Probe(multipliers=(1.0, 0.5, 2.0))
    scheds = [lk.WarmupCosine(0.1, 40, 5), lk.Linear(0.05, 10, 0.0), lk.Step(0.01, 7, 0.5)]
    sched = ScheduleLR(scheds, parameters=p.groups)
    opt = p.sgd(sched)  # the optimizer's constructor resets the multipliers: must not matter
    got = run(sched, opt, p, 45)
    for t, row in enumerate(got):
        assert row == [1.0 * scheds[0](t), 0.5 * scheds[1](t), 2.0 * scheds[2](t)]
    assert opt.get_lr() == 1.0
    assert sched.get_last_lr() == [scheds[0](45), 0.5 * scheds[1](45), 2.0 * scheds[2](45)]
    assert got[20][1] == 0.0 and all(math.isfinite(x) for row in got for x in row)


def test_one_schedule_per_group_float32_rounds_once():
    p = Probe(multipliers=(1.0, 0.25), dtype="float32")
    scheds = [lk.Cosine(0.1, 30), lk.Exponential(0.07, 0.9)]
    sched = ScheduleLR(scheds, parameters=p.groups)
    got = run(sched, p.sgd(sched), p, 30)
    for t, row in enumerate(got):
        assert row == [float(F32(scheds[0](t))), float(F32(0.25 * scheds[1](t)))]


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: paddle.optimizer.Momentum(learning_rate=ps[0], momentum=0.0, parameters=ps[1]),
        lambda ps: paddle.optimizer.Adam(learning_rate=ps[0], parameters=ps[1]),
        lambda ps: paddle.optimizer.AdamW(learning_rate=ps[0], parameters=ps[1], weight_decay=0.0),
    ],
    ids=["momentum", "adam", "adamw"],
)
def test_per_group_schedules_reach_other_optimizers(make):
    # With Adam the first update moves each weight by lr (sign of the gradient, bias-corrected):
    # the per-group lrs of the first few updates are visible the same way as with SGD.
    p = Probe(multipliers=(1.0, 1.0))
    scheds = [lk.Constant(0.01), lk.Linear(0.004, 4, 0.0)]
    sched = ScheduleLR(scheds, parameters=p.groups)
    opt = make((sched, p.groups))
    for t in range(3):
        for w in p.ws:
            w.set_value(paddle.zeros([1], "float64"))
        loss = paddle.add_n([w.sum() for w in p.ws])
        loss.backward()
        opt.step()
        opt.clear_grad()
        moved = [-float(w.numpy()[0]) for w in p.ws]
        if t == 0:  # momentum: exactly lr; adam: lr * (1 - eps-level) on the first update
            assert moved == pytest.approx([0.01, 0.004], rel=1e-6)
        sched.step()


def test_parameters_may_be_the_optimizer_which_then_holds_the_scheduler():
    p = Probe(multipliers=(1.0, 0.5))
    opt = p.sgd(0.2)
    sched = ScheduleLR(lk.Linear(1.0, 10), parameters=opt)  # multiplies the optimizer's 0.2
    assert opt._learning_rate is sched and sched.base_lr == 0.2
    got = run(sched, opt, p, 5)
    assert np.allclose(got, [[0.2 * (1 - t / 10), 0.1 * (1 - t / 10)] for t in range(5)], rtol=1e-15, atol=0)


def test_steps_per_epoch_evaluates_an_epoch_schedule_per_iteration():
    s = lk.MultiStep(0.1, [2, 3], 0.5)
    sched = ScheduleLR(s, steps_per_epoch=4)
    lrs = []
    for _ in range(16):
        lrs.append(sched())
        sched.step()
    assert lrs == [0.1] * 8 + [0.05] * 4 + [0.025] * 4


def test_step_with_a_position_jumps_there():
    s = lk.Cosine(1.0, 100)
    sched = ScheduleLR(s)
    sched.step(37)
    assert sched.last_epoch == 37 and sched() == s(37)
    sched.step(2.5)
    assert sched.last_epoch == 2.5 and sched() == s(2.5)
    sched.step()
    assert sched.last_epoch == 3.5


def test_verbose_prints_like_paddles_schedulers(capsys):
    sched = ScheduleLR(lk.Constant(0.1), verbose=True)
    sched.step()
    out = capsys.readouterr().out
    assert "Epoch 1: ScheduleLR set learning rate to [0.1]" in out


# -- resume ------------------------------------------------------------------------------------

RESTARTS = lk.CosineRestarts(0.1, 10, 2.0, 0.001)


def _uninterrupted(schedule, n):
    p = Probe()
    sched = ScheduleLR(schedule)
    return run(sched, p.sgd(sched), p, n)


@pytest.mark.parametrize("k", [0, 3, 15, 17, 29, 30, 31])
def test_resume_from_the_optimizer_state_is_exact(tmp_path, k):
    # 15, 17 and 29 are inside the second cycle (10..30), 30 is a restart
    n = 60
    full = _uninterrupted(RESTARTS, n)
    p = Probe()
    sched = ScheduleLR(RESTARTS)
    opt = p.sgd(sched)
    first = run(sched, opt, p, k)
    path = str(tmp_path / "opt.pdopt")
    paddle.save(opt.state_dict(), path)
    # a new process would rebuild everything: new parameters, scheduler, optimizer
    p2 = Probe()
    sched2 = ScheduleLR(RESTARTS)
    opt2 = p2.sgd(sched2)
    opt2.set_state_dict(paddle.load(path))
    assert sched2.last_epoch == k
    rest = run(sched2, opt2, p2, n - k)
    assert first + rest == full


def test_resume_from_the_schedulers_own_state_dict():
    s = lk.WarmupCosine(0.1, 80, 8)
    a = ScheduleLR(s)
    for _ in range(23):
        a.step()
    state = pickle.loads(pickle.dumps(a.state_dict()))
    assert all(v is None or type(v) in (int, float, list, str, bool) for v in state.values())
    b = ScheduleLR(s)
    b.set_state_dict(state)
    for _ in range(40):
        a.step()
        b.step()
        assert a() == b()


def test_resume_per_group_is_exact():
    scheds = [RESTARTS, lk.Linear(0.05, 40, 0.0)]
    n, k = 50, 17
    p = Probe(multipliers=(1.0, 0.5))
    sched = ScheduleLR(scheds, parameters=p.groups)
    full = run(sched, p.sgd(sched), p, n)
    p1 = Probe(multipliers=(1.0, 0.5))
    s1 = ScheduleLR(scheds, parameters=p1.groups)
    o1 = p1.sgd(s1)
    first = run(s1, o1, p1, k)
    state = o1.state_dict()["LR_Scheduler"]
    p2 = Probe(multipliers=(1.0, 0.5))
    s2 = ScheduleLR(scheds, parameters=p2.groups)
    o2 = p2.sgd(s2)
    o2.set_state_dict({"LR_Scheduler": state})
    assert first + run(s2, o2, p2, n - k) == full


def test_paddles_own_restarts_scheduler_does_not_resume_but_ours_does():
    """Contrast: Paddle saves only last_epoch and last_lr, losing CosineAnnealingWarmRestarts' cycle."""

    def paddle_lrs(resume_at=None):
        s = paddle.optimizer.lr.CosineAnnealingWarmRestarts(0.1, T_0=10, T_mult=2, eta_min=0.001)
        for _ in range(15):
            s.step()
        if resume_at is not None:
            state = s.state_dict()
            s = paddle.optimizer.lr.CosineAnnealingWarmRestarts(0.1, T_0=10, T_mult=2, eta_min=0.001)
            s.set_state_dict(state)
        out = []
        for _ in range(10):
            s.step()
            out.append(s())
        return out

    theirs_full, theirs_resumed = paddle_lrs(), paddle_lrs(resume_at=15)
    assert theirs_full != theirs_resumed  # Paddle's own scheduler loses its place
    ours = ScheduleLR(RESTARTS)
    for _ in range(15):
        ours.step()
    again = ScheduleLR(RESTARTS)
    again.set_state_dict(ours.state_dict())
    resumed = []
    for _ in range(10):
        again.step()
        resumed.append(again())
    # ours continues exactly, and follows Paddle's uninterrupted curve
    assert resumed == [RESTARTS(t) for t in range(16, 26)]
    assert np.allclose(resumed, theirs_full, rtol=1e-12, atol=0)


def test_resume_with_last_epoch_argument():
    s = lk.Cosine(1.0, 50)
    sched = ScheduleLR(s, last_epoch=9)  # Paddle's convention: the first step makes it 10
    assert sched.last_epoch == 10 and sched() == s(10)


def test_copies_and_pickles_keep_the_position():
    sched = ScheduleLR(lk.WarmupCosine(0.1, 100, 10))
    for _ in range(12):
        sched.step()
    for other in (copy.deepcopy(sched), pickle.loads(pickle.dumps(sched))):
        assert other.last_epoch == 12 and other() == sched()
        other.step()
        sched2 = copy.deepcopy(sched)
        sched2.step()
        assert other() == sched2()


# -- high-level API ----------------------------------------------------------------------------


class _Net(paddle.nn.Layer):
    """A network whose loss is the sum of its two weights, whatever the input."""

    def __init__(self) -> None:
        super().__init__()
        self.w = self.create_parameter([1], dtype="float64", default_initializer=paddle.nn.initializer.Constant(0.0))

    def forward(self, x):
        return self.w.sum() + 0.0 * x.sum()


class _Recorder(paddle.callbacks.Callback):
    """Resets the weight before each batch and records ``-w`` (the lr applied) after it."""

    def __init__(self, net: _Net) -> None:
        super().__init__()
        self.net, self.lrs = net, []

    def on_train_batch_begin(self, step, logs=None):
        self.net.w.set_value(paddle.zeros([1], "float64"))

    def on_train_batch_end(self, step, logs=None):
        self.lrs.append(-float(self.net.w.numpy()[0]))


def _fit(by_step: bool, schedule: lk.Schedule, epochs: int, batches: int) -> list[float]:
    net = _Net()
    sched = ScheduleLR(schedule)
    opt = paddle.optimizer.SGD(learning_rate=sched, parameters=net.parameters())
    model = paddle.Model(net)
    model.prepare(optimizer=opt, loss=lambda out, label: out)
    data = paddle.io.TensorDataset([paddle.zeros([batches, 1], "float64"), paddle.zeros([batches, 1], "float64")])
    rec = _Recorder(net)
    cb = paddle.callbacks.LRScheduler(by_step=by_step, by_epoch=not by_step)
    model.fit(data, epochs=epochs, batch_size=1, shuffle=False, verbose=0, callbacks=[rec, cb])
    return rec.lrs


def test_high_level_api_steps_per_batch():
    s = lk.WarmupCosine(0.1, 12, 3)
    assert _fit(True, s, epochs=2, batches=6) == [s(t) for t in range(12)]


def test_high_level_api_steps_per_epoch():
    s = lk.Step(0.1, 1, 0.5)
    assert _fit(False, s, epochs=3, batches=4) == [0.1] * 4 + [0.05] * 4 + [0.025] * 4


# -- errors ------------------------------------------------------------------------------------


def test_errors_name_the_problem():
    with pytest.raises(TypeError, match="lrkit Schedule"):
        ScheduleLR(0.1)
    with pytest.raises(ValueError, match="parameters="):
        ScheduleLR([lk.Constant(0.1), lk.Constant(0.2)])
    p = Probe(multipliers=(1.0, 1.0))
    with pytest.raises(ValueError, match="2 param groups"):
        ScheduleLR([lk.Constant(0.1)] * 3, parameters=p.groups)
    with pytest.raises(ValueError, match="learning_rate must be >= 0"):
        ScheduleLR(lk.Constant(0.1), learning_rate=-1)
    with pytest.raises(ValueError, match="last_epoch"):
        ScheduleLR(lk.Constant(0.1), last_epoch=-3)
    s = ScheduleLR(lk.Constant(0.1))
    with pytest.raises(ValueError, match="position >= 0"):
        s.step(-2)
    with pytest.raises(ValueError, match="not a ScheduleLR state dict"):
        s.set_state_dict({"foo": 1})
    with pytest.raises(TypeError, match="parameters must be"):
        ScheduleLR(lk.Constant(0.1), parameters=3)
    # non-finite numbers are out of range (ValueError), a non-number is the wrong kind (TypeError)
    for bad in (math.nan, math.inf):
        with pytest.raises(ValueError, match="learning_rate must be a finite number"):
            ScheduleLR(lk.Constant(0.1), learning_rate=bad)
        with pytest.raises(ValueError, match="base_lr must be a finite number"):
            s.set_state_dict({**s.state_dict(), "base_lr": bad})
    with pytest.raises(ValueError, match="learning_rate must be a real number"):
        ScheduleLR(lk.Constant(0.1), learning_rate="0.1")
    p = Probe(multipliers=(1.0, 1.0))
    p.groups[1]["learning_rate"] = math.nan
    with pytest.raises(ValueError, match="param group 1 'learning_rate'"):
        ScheduleLR([lk.Constant(0.1)] * 2, parameters=p.groups)


def test_set_state_dict_refuses_another_steps_per_epoch():
    s = lk.Step(0.1, 1, 0.5)

    def saved(**kw):
        a = ScheduleLR(s, **kw)
        for _ in range(6):
            a.step()
        return a.state_dict()

    assert saved(steps_per_epoch=4)["steps_per_epoch"] == 4.0 and saved()["steps_per_epoch"] is None
    with pytest.raises(ValueError, match=r"steps_per_epoch=4\.0.*steps_per_epoch=None"):
        ScheduleLR(s).set_state_dict(saved(steps_per_epoch=4))
    with pytest.raises(ValueError, match=r"steps_per_epoch=None.*steps_per_epoch=4"):
        ScheduleLR(s, steps_per_epoch=4).set_state_dict(saved())
    with pytest.raises(ValueError, match="steps_per_epoch"):
        ScheduleLR(s, steps_per_epoch=3).set_state_dict(saved(steps_per_epoch=4))
    # the same setting loads; so does an older state without the key
    b = ScheduleLR(s, steps_per_epoch=4.0)
    b.set_state_dict(saved(steps_per_epoch=4))
    assert b.last_epoch == 6 and b() == 0.1 * 0.5 ** (6 // 4)
    old = saved(steps_per_epoch=4)
    del old["steps_per_epoch"]
    c = ScheduleLR(s, steps_per_epoch=4)
    c.set_state_dict(old)
    assert c.last_epoch == 6 and c() == b()


def test_a_schedule_of_learning_rates_times_a_learning_rate_is_said():
    import warnings

    with pytest.warns(lk.ScheduleWarning, match=r"lr would peak at 9e-08.*leave learning_rate at 1.0"):
        ScheduleLR(lk.WarmupCosine(peak_lr=3e-4, total_steps=100, warmup_steps=10), learning_rate=3e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", lk.ScheduleWarning)
        ScheduleLR(lk.WarmupCosine(peak_lr=3e-4, total_steps=100, warmup_steps=10))  # values are the lr
        ScheduleLR(lk.WarmupCosine(peak_lr=1.0, total_steps=100, warmup_steps=10), learning_rate=3e-4)
