"""Re-plans stay flat and are checked whole; bindings step atomically; states name what differs.

A re-plan replaces the part of a plan after ``at``: however many re-plans a run makes, the plan is
one Sequence of pieces (its last one possibly a Retime of the schedule it re-times), its depth
stays constant, its size grows by at most one piece per re-plan, and a re-plan costs the same
whatever came before it.
"""

from __future__ import annotations

import copy
import pickle
import sys
import threading
import time

import numpy as np
import pytest

import lrkit
from lrkit.replan import replan, rescale

BASE = lrkit.WarmupCosine(peak_lr=1.0, total_steps=10**7, warmup_steps=1000, min_lr=1e-4)


def _mixed(s: lrkit.Schedule, i: int, k: float) -> lrkit.Schedule:
    """The i-th re-plan of a run at position k: a new length, a cooldown, a tail, in turn."""
    kind = i % 4
    if kind == 0:
        return replan(s, k, total_steps=10**7 + 3 * i + 1)
    if kind == 1:
        return replan(s, k, cooldown=10**6 + i, min_lr=1e-5)
    if kind == 2:
        return replan(s, k, total_steps=10**7 + 5 * i + 2)
    return replan(s, k, tail=lrkit.Cosine(0.5 + i * 1e-7, 10**6), jump=True)


def test_ten_thousand_re_plans_stay_flat_and_cost_the_same_each():
    s, k, cost = BASE, 0.0, []
    for i in range(10_000):
        k += 3.0
        t0 = time.perf_counter()
        s = _mixed(s, i, k)
        cost.append(time.perf_counter() - t0)
    depth, size = s.extent
    assert depth <= 4, s.extent  # a fixed depth, not one level per re-plan
    assert size <= 3 * 10_000 + 10, s.extent  # at most a few schedules per re-plan, not a doubling
    assert len(s.segments) <= 10_001
    # the 10,000th re-plan costs what the first ones cost (medians; generous for a noisy machine)
    first, last = np.median(cost[100:600]), np.median(cost[-500:])
    assert last < 4 * first + 2e-4, (first, last)
    # its config reads back as the same plan
    assert lrkit.from_dict(s.to_dict()) == s


def test_re_plans_at_one_position_replace_each_other():
    s = BASE
    for i in range(3_000):
        s = replan(s, 5_000, cooldown=100 + i, min_lr=1e-5)
    assert isinstance(s, lrkit.Sequence) and len(s.segments) == 2
    for i in range(3_000):
        s = replan(s, 6_000, total_steps=10**6 + i)
    assert s.extent[0] <= 4 and len(s.segments) <= 3


@pytest.mark.parametrize("seed", range(8))
def test_a_re_plan_keeps_every_value_before_at_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    s, k = BASE, 0.0
    for _ in range(40):
        k += float(rng.integers(1, 5_000))
        before = np.linspace(0, k, 2_001)[:-1]
        old = s(before)
        at_value = s(k)
        kind = int(rng.integers(0, 4))
        s = _mixed(s, kind, k)
        assert np.array_equal(s(before), old)
        # continuous at k unless the re-plan jumped
        if kind != 3:
            assert s(k) == at_value or s(k) == pytest.approx(at_value, rel=1e-12)
        # scalar and array paths agree to the bit on the re-planned plan
        pts = np.concatenate([before[::97], k + rng.random(50) * 1e6])
        assert s(pts).tolist() == [s(float(p)) for p in pts]


def test_a_length_re_plan_of_a_re_timed_plan_ends_where_asked():
    s = lrkit.WarmupCosine(peak_lr=0.1, total_steps=10_000, warmup_steps=500, min_lr=1e-4)
    end = s(10_000)
    for at, T in [(2_000, 15_000), (6_000, 12_000), (11_000, 30_000), (29_000, 29_500)]:
        prev = s(at)
        s = replan(s, at, total_steps=T)
        assert s(at) == prev and s(T) == end and s.length == T
    assert isinstance(s, lrkit.Retime) and len(s.origins) == 5


def test_alternating_re_plans_never_reach_the_nesting_limit():
    s, k = BASE, 0.0
    for i in range(300):  # the old plans nested one level per cooldown re-plan (64 was the limit)
        k += 10.0
        s = replan(s, k, cooldown=10**6, min_lr=0.0) if i % 2 else replan(s, k, total_steps=10**8 + i)
    assert s.extent[0] <= 4


def test_a_re_timed_clock_past_float64_reads_the_last_value():
    r = replan(BASE, 500, total_steps=500 + 1e-9)
    assert r(1e300) == BASE(10**7) and r(np.array([1e300]))[0] == BASE(10**7)


# -- messages name the parameters given ---------------------------------------------------------


@pytest.mark.parametrize("time_", [1e-320, 1e-12, 1e305])
def test_rescale_names_time(time_):
    with pytest.raises(ValueError, match="time") as e:
        rescale(BASE, time=time_)
    assert "steps_per_epoch" not in str(e.value)


@pytest.mark.parametrize("extra", [1e-9, 1e-6, 0.5])
def test_a_short_length_re_plan_names_no_inner_parameter(extra):
    try:
        r = replan(lrkit.Cosine(0.1, 1_000), 500, total_steps=500 + extra)
    except ValueError as e:
        assert "total_steps" in str(e) and "steps_per_epoch" not in str(e)
    else:
        assert r(500 + extra) == 0.0 and r(499) == lrkit.Cosine(0.1, 1_000)(499)


def test_batch_scaled_out_of_range_names_the_batch_sizes():
    with pytest.raises(ValueError, match="batch_size"):
        lrkit.replan.batch_scaled(BASE, 1e-300, 1e300)


# -- bindings: a re-plan is checked whole, then applied whole ------------------------------------


def _torch(lr=0.1, schedule=BASE):
    import torch

    from lrkit.torch import ScheduleLR

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    return opt, ScheduleLR(opt, schedule)


def _paddle(lr=0.1, schedule=BASE):
    import paddle

    from lrkit.paddle import ScheduleLR

    p = paddle.create_parameter([1], "float32")
    sched = ScheduleLR(schedule, learning_rate=lr)
    opt = paddle.optimizer.SGD(learning_rate=sched, parameters=[p])
    return opt, sched


def _lrs(sched):
    return sched.get_last_lr()


BINDINGS = [_torch, _paddle]


@pytest.mark.parametrize("make", BINDINGS)
def test_a_re_plan_in_the_past_is_refused(make):
    _, sched = make()
    for _ in range(100):
        sched.step()
    before = (_lrs(sched), sched.state_dict())
    for at in (0, 50, 99.5):
        with pytest.raises(ValueError, match="before the scheduler's position"):
            sched.replan(at=at, cooldown=10)
    assert (_lrs(sched), sched.state_dict()) == before
    sched.replan(at=100, cooldown=10)  # the current position is fine
    sched.replan(at=150, cooldown=10)  # and a later one


@pytest.mark.parametrize("make", BINDINGS)
def test_a_re_plan_with_a_tail_no_state_can_hold_changes_nothing(make):
    _, sched = make()
    for _ in range(10):
        sched.step()
    before = (_lrs(sched), sched.state_dict(), sched.schedules)
    fn = lrkit.FunctionSchedule(lambda t: 0.3)
    with pytest.raises(ValueError, match="state"):
        sched.replan(tail=fn, jump=True)
    assert (_lrs(sched), sched.state_dict(), sched.schedules) == before
    c = pickle.loads(pickle.dumps(sched))
    assert c.schedules == before[2]


@pytest.mark.parametrize("make", BINDINGS)
def test_a_re_plan_whose_value_fails_changes_nothing(make):
    _, sched = make(lr=1e300)
    for _ in range(10):
        sched.step()
    before = (_lrs(sched), sched.state_dict(), sched.schedules)
    with pytest.raises(ValueError):
        sched.replan(tail=lrkit.Constant(1e10), jump=True)  # 1e300 * 1e10 overflows float64
    assert (_lrs(sched), sched.state_dict(), sched.schedules) == before
    # the next checkpoint still loads
    _, again = make(lr=1e300)
    again.load_state_dict(sched.state_dict())
    assert _lrs(again) == before[0]


@pytest.mark.parametrize("make", BINDINGS)
def test_a_scheduler_re_planned_thousands_of_times_resumes_exactly(make):
    _, sched = make()
    for i in range(2_000):
        for _ in range(2):
            sched.step()
        if i % 3 == 0:
            sched.replan(total_steps=10**7 + i)
        elif i % 3 == 1:
            sched.replan(cooldown=10**6 + i, min_lr=1e-4)
        else:
            sched.replan(tail=lrkit.Cosine(0.2 + i * 1e-6, 10**6), jump=True)
    state = sched.state_dict()
    assert len(pickle.dumps(state)) < 200 * 2_000  # a few numbers per re-plan
    _, other = make()
    other.load_state_dict(state)
    assert other.schedules[0].extent[0] <= 4
    for _ in range(50):
        sched.step()
        other.step()
        assert _lrs(other) == _lrs(sched)


# -- bindings: concurrent steps -------------------------------------------------------------------


@pytest.mark.parametrize("make", BINDINGS)
def test_steps_from_several_threads_lose_no_position(make):
    opt, sched = make(schedule=lrkit.Cosine(1.0, 10**6))
    n, k = 4, 5_000

    def run():
        for _ in range(k):
            sched.step()

    threads = [threading.Thread(target=run) for _ in range(n)]
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch often: unguarded steps lose thousands of positions
    try:
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        sys.setswitchinterval(old)
    assert sched.last_epoch == n * k
    assert _lrs(sched) == [0.1 * lrkit.Cosine(1.0, 10**6)(n * k)]
    if hasattr(opt, "param_groups"):
        assert opt.param_groups[0]["lr"] == 0.1 * lrkit.Cosine(1.0, 10**6)(n * k)


# -- states name what differs ---------------------------------------------------------------------


@pytest.mark.parametrize("make", BINDINGS)
def test_a_state_of_another_plan_names_the_differing_field(make):
    a = lrkit.WarmupCosine(peak_lr=1.0, total_steps=1000, warmup_steps=10, min_lr=1e-5)
    b = lrkit.WarmupCosine(peak_lr=1.0, total_steps=1000, warmup_steps=10, min_lr=1e-6)
    _, sa = make(schedule=a)
    _, sb = make(schedule=b)
    with pytest.raises(ValueError, match=r"schedules\[0\]\.min_lr: saved 1e-05, here 1e-06"):
        sb.load_state_dict(sa.state_dict())


# -- UltralyticsLR: its state identifies the momentum plan; Paddle's pickles ------------------------


def _ultra_torch(**kw):
    import torch

    from lrkit.torch import UltralyticsLR

    ps = [torch.zeros(1, requires_grad=True) for _ in range(3)]
    opt = torch.optim.SGD(
        [
            {"params": [ps[0]], "param_group": "weight"},
            {"params": [ps[1]], "param_group": "bn"},
            {"params": [ps[2]], "param_group": "bias"},
        ],
        lr=0.01,
        momentum=0.937,
        nesterov=True,
    )
    return opt, UltralyticsLR(opt, lrf=0.01, epochs=10, batches=100, **kw)


def _ultra_paddle(groups=True, **kw):
    import paddle

    from lrkit.paddle import UltralyticsLR

    ps = [paddle.create_parameter([1], "float32") for _ in range(3)]
    params = (
        [
            {"params": [ps[0]], "param_group": "weight"},
            {"params": [ps[1]], "param_group": "bn"},
            {"params": [ps[2]], "param_group": "bias"},
        ]
        if groups
        else ps
    )
    opt = paddle.optimizer.Momentum(learning_rate=0.01, momentum=0.937, parameters=params)
    if groups:
        return opt, UltralyticsLR(opt, lrf=0.01, epochs=10, batches=100, **kw)
    with pytest.warns(lrkit.DropInWarning, match="no param group is named 'bias'"):
        return opt, UltralyticsLR(opt, lrf=0.01, epochs=10, batches=100, **kw)


@pytest.mark.parametrize("make", [_ultra_torch, _ultra_paddle])
@pytest.mark.parametrize("other", [{"warmup_momentum": 0.7}, {"momentum": 0.9}, {"warmup_momentum": 0.81}])
def test_ultralytics_state_of_another_momentum_plan_is_refused(make, other):
    _, a = make()
    for _ in range(150):
        a.step()
    _, b = make(**other)
    with pytest.raises(ValueError, match="momentum"):
        b.load_state_dict(a.state_dict())
    _, c = make()
    c.load_state_dict(a.state_dict())  # the same plan loads
    assert c.get_last_lr() == a.get_last_lr()


@pytest.mark.parametrize("groups", [True, False])
def test_paddle_ultralytics_pickles_and_copies(groups):
    opt, s = _ultra_paddle(groups=groups)
    for _ in range(120):
        s.step()
    for c in (pickle.loads(pickle.dumps(s)), copy.deepcopy(s)):
        assert c.get_last_lr() == s.get_last_lr() and c.last_epoch == s.last_epoch
        c.step()
        s2 = copy.deepcopy(s)
        s2.step()
        assert c.get_last_lr() == s2.get_last_lr()
