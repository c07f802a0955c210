"""from_paddle: Paddle's schedulers as lrkit schedules; scheduler_from_torch: PyTorch schedulers as Paddle ones.

Each Paddle scheduler is stepped side by side with the converted schedule for at
least 1000 steps (rtol 1e-9: the formulas are the same, the order of some float
operations is not, so values may differ by an ulp).
"""

from __future__ import annotations

import math

import numpy as np
import paddle
import pytest
import torch

import lrkit as lk
from lrkit import PolynomialCycle
from lrkit.paddle import ScheduleLR, from_paddle, scheduler_from_torch

L = paddle.optimizer.lr
RTOL = 1e-9


def stepped(sched, n: int) -> list[float]:
    """Paddle's lrs at positions 0 .. n - 1 (the value after construction, then after each step)."""
    out = []
    for _ in range(n):
        out.append(sched())
        sched.step()
    return out


CASES = {
    "linear-warmup-float": (lambda: L.LinearWarmup(0.1, 100, 0.0, 0.1), 1200),
    "linear-warmup-start": (lambda: L.LinearWarmup(0.5, 300, 0.05, 0.5), 1200),
    "linear-warmup-step-jump": (lambda: L.LinearWarmup(L.StepDecay(0.2, 100, 0.5), 50, 0.01, 0.1), 1200),
    "linear-warmup-cosine": (lambda: L.LinearWarmup(L.CosineAnnealingDecay(0.1, 1000, 0.001), 100, 0.0, 0.1), 1100),
    "linear-warmup-restarts": (lambda: L.LinearWarmup(L.CosineAnnealingWarmRestarts(0.1, 50, 2), 20, 0.0, 0.1), 1200),
    "step": (lambda: L.StepDecay(0.1, 100, 0.5), 1200),
    "multistep": (lambda: L.MultiStepDecay(0.1, [100, 300, 700], 0.3), 1200),
    "multistep-at-0": (lambda: L.MultiStepDecay(0.1, [0, 400], 0.5), 1000),
    "piecewise": (lambda: L.PiecewiseDecay([100, 500], [0.1, 0.01, 0.001]), 1000),
    "piecewise-extra-values": (lambda: L.PiecewiseDecay([100, 500], [0.1, 0.01, 0.001, 0.0001]), 1000),
    "polynomial": (lambda: L.PolynomialDecay(0.1, 800, 0.001, 2.0), 1200),
    "polynomial-linear": (lambda: L.PolynomialDecay(0.1, 1000, 0.0), 1100),
    "polynomial-cycle": (lambda: L.PolynomialDecay(0.1, 300, 0.001, 1.5, cycle=True), 1500),
    "exponential": (lambda: L.ExponentialDecay(0.1, 0.995), 1200),
    "lambda": (lambda: L.LambdaDecay(0.1, lambda e: 1.0 / (1 + 0.01 * e)), 1200),
    "restarts": (lambda: L.CosineAnnealingWarmRestarts(0.1, 10, 2, 0.001), 1500),
    "restarts-mult1": (lambda: L.CosineAnnealingWarmRestarts(0.1, 37, 1, 0.0), 1200),
    "onecycle": (lambda: L.OneCycleLR(0.1, 1200), 1200),
    "onecycle-3-linear": (
        lambda: L.OneCycleLR(
            0.1,
            1500,
            divide_factor=10.0,
            end_learning_rate=1e-5,
            phase_pct=0.35,
            anneal_strategy="linear",
            three_phase=True,
        ),
        1500,
    ),
    "onecycle-odd-pct": (lambda: L.OneCycleLR(0.3, 1001, phase_pct=0.123), 1001),
    "cosine-past-t-max": (lambda: L.CosineAnnealingDecay(0.1, 100, 0.001), 1000),
    "noam": (lambda: L.NoamDecay(512, 400, 2.0), 1200),
    "noam-warmup-1": (lambda: L.NoamDecay(64, 1), 1000),
    "natural-exp": (lambda: L.NaturalExpDecay(0.5, 0.003), 1200),
    "inverse-time": (lambda: L.InverseTimeDecay(0.5, 0.01), 1200),
    "linear-lr-up": (lambda: L.LinearLR(0.1, 300, 0.2, 0.9), 1000),
    "linear-lr-down-to-0": (lambda: L.LinearLR(0.1, 300, 0.5, 0.0), 1000),
    "linear-lr-flat": (lambda: L.LinearLR(0.1, 300, 0.5, 0.5), 1000),
    "cyclic": (lambda: L.CyclicLR(0.01, 0.1, 30, 70), 1000),
    "cyclic-triangular2": (lambda: L.CyclicLR(0.01, 0.1, 25, mode="triangular2"), 1000),
    "cyclic-exp-range": (lambda: L.CyclicLR(0.01, 0.1, 25, 40, mode="exp_range", exp_gamma=0.999), 1000),
    "multiplicative": (lambda: L.MultiplicativeDecay(0.1, lambda e: 0.99 if e % 3 else 0.9), 1000),
}
NATIVE = {"lambda", "multiplicative"}  # only a user's own function stays a callable


@pytest.mark.parametrize("name", sorted(set(CASES) - NATIVE))
def test_every_converted_paddle_scheduler_is_a_config(name):
    s = from_paddle(CASES[name][0]())
    assert lk.from_dict(s.to_dict()) == s


@pytest.mark.parametrize("name", list(CASES))
def test_values_match_paddle_for_1000_steps(name):
    make, n = CASES[name]
    assert n >= 1000
    ref = stepped(make(), n)
    s = from_paddle(make())
    got = s(np.arange(n, dtype=np.float64))
    assert np.allclose(got, ref, rtol=RTOL, atol=0), name
    assert [s(float(t)) for t in range(n)] == got.tolist()  # scalar and array paths agree


def test_built_from_the_constructor_not_the_current_state():
    a = L.CosineAnnealingWarmRestarts(0.1, 10, 2, 0.001)
    for _ in range(555):
        a.step()
    assert from_paddle(a) == from_paddle(L.CosineAnnealingWarmRestarts(0.1, 10, 2, 0.001))
    w = L.LinearWarmup(L.StepDecay(0.2, 100, 0.5), 50, 0.01, 0.1)
    for _ in range(300):
        w.step()
    assert from_paddle(w) == from_paddle(L.LinearWarmup(L.StepDecay(0.2, 100, 0.5), 50, 0.01, 0.1))


def test_cosine_annealing_decay_recurrence_follows_the_cosine_back_up():
    """Paddle's CosineAnnealingDecay is a recurrence on its previous value that, like its
    own closed form, climbs back up along the cosine after T_max; the conversion
    (after="continue") follows it over several periods (the recurrence accumulates
    ~1e-13 relative; near eta_min = 0 the absolute error counts)."""
    T = 1000
    ref = stepped(L.CosineAnnealingDecay(0.1, T, 0.001), 3 * T)
    s = from_paddle(L.CosineAnnealingDecay(0.1, T, 0.001))
    got = s(np.arange(3 * T, dtype=np.float64))
    assert np.allclose(got, ref, rtol=RTOL, atol=0)
    assert ref[T + T // 2] > 0.05 and s.replace(after="hold")(T + T // 2) == 0.001
    ref0 = stepped(L.CosineAnnealingDecay(0.1, T), 2 * T)
    got0 = from_paddle(L.CosineAnnealingDecay(0.1, T))(np.arange(2 * T, dtype=np.float64))
    assert np.allclose(got0, ref0, rtol=RTOL, atol=1e-15)


def test_polynomial_cycle_formula():
    s = PolynomialCycle(1.0, 10, 0.0, 2.0)
    # horizon 10 * ceil(t / 10): t = 15 -> (1 - 15/20) ** 2
    assert s(15) == pytest.approx((1 - 15 / 20) ** 2, rel=1e-15)
    assert s(0) == 1.0 and s(10) == 0.0 and s(20) == 0.0
    assert s(11) == pytest.approx((1 - 11 / 20) ** 2, rel=1e-15)
    # a registered kind: written to a config and read back like any other
    assert lk.from_dict(s.to_dict()) == s and s.to_dict()["type"] == "polynomial_cycle"


def test_onecycle_one_step_past_the_end():
    # Paddle accepts one step at t = total_steps and anneals a little past end_learning_rate;
    # lrkit holds min_lr from total_steps - 1
    T = 1000
    p = L.OneCycleLR(0.1, T, end_learning_rate=1e-4)
    vals = stepped(p, T) + [p()]  # positions 0 .. T
    s = from_paddle(L.OneCycleLR(0.1, T, end_learning_rate=1e-4))
    assert vals[T - 1] == pytest.approx(1e-4, rel=1e-12) and s(T - 1) == 1e-4
    assert vals[T] != 1e-4 and s(T) == 1e-4


def test_our_own_scheduler_gives_back_its_schedule():
    c = lk.WarmupCosine(0.1, 100, 10)
    assert from_paddle(ScheduleLR(c)) == c
    assert from_paddle(ScheduleLR(c, learning_rate=0.5)) == lk.Scale(c, 0.5)


def test_unsupported_names_the_class():
    # a plateau scheduler gives its policy (tests/test_plateau_convert.py)
    assert type(from_paddle(L.ReduceOnPlateau(0.1))).__name__ == "Plateau"
    with pytest.raises(TypeError, match="CyclicLR: a custom scale_fn"):
        from_paddle(L.CyclicLR(0.01, 0.1, 10, scale_fn=lambda x: 1.0))

    class MyStep(L.StepDecay):
        pass

    with pytest.raises(TypeError, match="MyStep"):
        from_paddle(MyStep(0.1, 10))
    with pytest.raises(TypeError, match="LRScheduler, got float"):
        from_paddle(0.1)
    # a rise (end_lr above learning_rate) converts: tests/test_convert_growth_and_ranges.py


# -- from_torch --------------------------------------------------------------------------------


def _torch_opt(lrs=(0.1,)):
    ps = [torch.zeros(1, requires_grad=True) for _ in lrs]
    return torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(ps, lrs)])


def _torch_lrs(sched, n: int) -> list[list[float]]:
    out = []
    for _ in range(n):
        out.append([g["lr"] for g in sched.optimizer.param_groups])
        sched.optimizer.step()
        sched.step()
    return out


TORCH = {
    "sequential": lambda o: torch.optim.lr_scheduler.SequentialLR(
        o,
        [
            torch.optim.lr_scheduler.LinearLR(o, 0.01, 1.0, 100),
            torch.optim.lr_scheduler.CosineAnnealingLR(o, 900, 1e-4),
        ],
        [100],
    ),
    "chained": lambda o: torch.optim.lr_scheduler.ChainedScheduler(
        [torch.optim.lr_scheduler.LinearLR(o, 0.1, 1.0, 50), torch.optim.lr_scheduler.ExponentialLR(o, 0.998)]
    ),
    "lambda": lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda e: 1.0 / math.sqrt(1 + e)),
    "onecycle": lambda o: torch.optim.lr_scheduler.OneCycleLR(o, 0.2, total_steps=1100),
}


@pytest.mark.parametrize("name", list(TORCH))
def test_scheduler_from_torch_gives_a_paddle_scheduler_with_the_same_lrs(name):
    n = 1000
    with _nowarn():
        ref = [row[0] for row in _torch_lrs(TORCH[name](_torch_opt()), n)]
    sched = scheduler_from_torch(TORCH[name](_torch_opt()))
    assert isinstance(sched, paddle.optimizer.lr.LRScheduler)
    got = stepped(sched, n)
    assert np.allclose(got, ref, rtol=RTOL, atol=0)


def test_scheduler_from_torch_on_a_real_paddle_optimizer():
    # the lr Paddle applies (float64 parameter) equals torch's lr at every step
    torch_sched = TORCH["sequential"](_torch_opt())
    ref = [row[0] for row in _torch_lrs(torch_sched, 150)]
    w = paddle.create_parameter([1], "float64", default_initializer=paddle.nn.initializer.Constant(0.0))
    sched = scheduler_from_torch(TORCH["sequential"](_torch_opt()))
    opt = paddle.optimizer.SGD(learning_rate=sched, parameters=[w])
    applied = []
    for _ in range(150):
        w.set_value(paddle.zeros([1], "float64"))
        w.sum().backward()
        opt.step()
        opt.clear_grad()
        applied.append(-float(w.numpy()[0]))
        sched.step()
    assert np.allclose(applied, ref, rtol=1e-12, atol=0)


def test_scheduler_from_torch_groups_with_different_lrs_need_paddle_groups():
    make = lambda o: torch.optim.lr_scheduler.StepLR(o, 10, 0.5)  # noqa: E731
    with pytest.raises(ValueError, match="parameters="):
        scheduler_from_torch(make(_torch_opt((0.1, 0.01))))
    ref = _torch_lrs(make(_torch_opt((0.1, 0.01))), 40)
    ws = [paddle.create_parameter([1], "float64") for _ in range(2)]
    groups = [{"params": [w]} for w in ws]
    sched = scheduler_from_torch(make(_torch_opt((0.1, 0.01))), parameters=groups)
    rows = []
    for _ in range(40):
        rows.append(sched.get_last_lr())
        sched.step()
    assert np.allclose(rows, ref, rtol=1e-12, atol=0)
    one = scheduler_from_torch(make(_torch_opt((0.1, 0.01))), group=1)
    assert one() == 0.01


class _nowarn:
    """Silences torch's warnings about stepping order in these synthetic loops."""

    def __enter__(self):
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        return self._w.__exit__(*exc)
