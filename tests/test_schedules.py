"""Values of every schedule family, worked out here from the formulas.

Each row is ``pytest.param(schedule, positions, expected)`` where ``expected(t)`` is
the family's formula written out independently of lrkit's code.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import lrkit as lk

PI = math.pi


def cosine_f(p, T, lo=0.0, k=1.0):
    return lambda t: lo + (p - lo) * (1 + math.cos(PI * (t / T) ** k)) / 2 if t < T else lo


def onecycle_f(p, T, pct=0.3, anneal="cos", start=None, lo=None, three=False):
    """One-cycle as Smith describes it, with PyTorch's phase ends (pct*T - 1, ..., T - 1)."""
    start = p / 25 if start is None else start
    lo = start / 1e4 if lo is None else lo
    if three:
        knots = [(0.0, start), (pct * T - 1, p), (2 * pct * T - 2, start), (T - 1, lo)]
    else:
        knots = [(0.0, start), (pct * T - 1, p), (T - 1, lo)]

    def f(t):
        for (t0, a), (t1, b) in zip(knots, knots[1:]):
            if t <= t1:
                u = (t - t0) / (t1 - t0)
                if anneal == "cos":
                    return b + (a - b) * (1 + math.cos(PI * u)) / 2
                return a + (b - a) * u
        return lo

    return f


def restarts_f(p, P, mult=1.0, lo=0.0, decay=1.0, max_cycles=None):
    def f(t):
        start, period, i = 0.0, P, 0
        while t >= start + period:
            start += period
            period *= mult
            i += 1
        if max_cycles is not None and i >= max_cycles:
            return lo
        peak = p * decay**i
        return lo + (peak - lo) * (1 + math.cos(PI * (t - start) / period)) / 2

    return f


def cyclic_f(lo, p, up, down=None, mode="triangular", gamma=1.0):
    down = up if down is None else down

    def f(t):
        cycle = math.floor(t / (up + down))
        x = t - cycle * (up + down)
        h = x / up if x <= up else 1 - (x - up) / down
        scale = {"triangular": 1.0, "triangular2": 0.5**cycle, "exp_range": gamma**t}[mode]
        return lo + (p - lo) * h * scale

    return f


def warmup_f(inner, W, shape="linear", sf=0.0, power=2.0, tau=None):
    e = inner(0)
    s = sf * e
    tau = W / 5 if tau is None else tau

    def f(t):
        if t >= W:
            return inner(t - W)
        u = t / W
        if shape == "linear":
            return s + (e - s) * u
        if shape == "power":
            return s + (e - s) * u**power
        if shape == "exponential":
            return s + (e - s) * (1 - math.exp(-t / tau)) / (1 - math.exp(-W / tau))
        return s

    return f


COS = cosine_f(0.1, 90, 0.001)
T100 = [0, 1, 2.5, 10, 33, 49.5, 50, 73, 89, 99, 99.5, 100, 101, 250]

CASES = [
    # constant
    pytest.param(lk.Constant(0.05), [0, 1, 7.5, 1e6], lambda t: 0.05, id="constant"),
    # cosine (k = 1 and the k-decay variant)
    pytest.param(lk.Cosine(0.1, 90, 0.001), [0, 1, 44.5, 45, 89, 89.99, 90, 91, 1e4], COS, id="cosine"),
    pytest.param(lk.Cosine(1.0, 100), T100, cosine_f(1.0, 100), id="cosine-no-floor"),
    pytest.param(lk.Cosine(1.0, 100, 0.01, k=2.0), T100, cosine_f(1.0, 100, 0.01, 2.0), id="cosine-k2"),
    pytest.param(lk.Cosine(1.0, 100, 0.0, k=0.5), T100, cosine_f(1.0, 100, 0.0, 0.5), id="cosine-k0.5"),
    # linear and polynomial
    pytest.param(
        lk.Linear(0.3, 50, 0.01), [0, 1, 25, 49.9, 50, 60], lambda t: 0.01 + 0.29 * max(0.0, 1 - t / 50), id="linear"
    ),
    pytest.param(
        lk.Polynomial(0.3, 50, 0.0, power=2.5),
        [0, 1, 25, 49.9, 50, 60],
        lambda t: 0.3 * max(0.0, 1 - t / 50) ** 2.5,
        id="polynomial",
    ),
    pytest.param(
        lk.Polynomial(1.0, 10, 0.1, power=0.5),
        [0, 3, 9.99, 10, 11],
        lambda t: 0.1 + 0.9 * math.sqrt(max(0.0, 1 - t / 10)),
        id="polynomial-sqrt",
    ),
    # step and multistep
    pytest.param(
        lk.Step(0.1, 30, 0.5),
        [0, 29, 29.999, 30, 59, 60, 61.5, 300],
        lambda t: 0.1 * 0.5 ** math.floor(t / 30),
        id="step",
    ),
    pytest.param(
        lk.Step(1.0, 2.5), [0, 2.4, 2.5, 5, 7.49, 7.5], lambda t: 0.1 ** math.floor(t / 2.5), id="step-fractional"
    ),
    pytest.param(
        lk.MultiStep(0.1, [30, 60, 80], 0.1),
        [0, 29.5, 30, 59, 60, 79.99, 80, 500],
        lambda t: 0.1 * 0.1 ** sum(m <= t for m in (30, 60, 80)),
        id="multistep",
    ),
    pytest.param(lk.MultiStep(0.1, [], 0.1), [0, 30, 1e5], lambda t: 0.1, id="multistep-none"),
    # exponential
    pytest.param(lk.Exponential(0.1, 0.95), [0, 1, 2, 10.5, 100], lambda t: 0.1 * 0.95**t, id="exponential"),
    pytest.param(
        lk.Exponential(0.1, 0.5, step_size=10),
        [0, 5, 10, 25],
        lambda t: 0.1 * 0.5 ** (t / 10),
        id="exponential-step-size",
    ),
    pytest.param(
        lk.Exponential(0.1, 0.5, step_size=7.5, staircase=True),
        [0, 7.49, 7.5, 14.9, 15, 100],
        lambda t: 0.1 * 0.5 ** math.floor(t / 7.5),
        id="exponential-staircase",
    ),
    # inverse square root
    pytest.param(
        lk.InverseSqrt(1.0, 400), [0, 1, 100, 400, 1600, 1e6], lambda t: math.sqrt(400 / (t + 400)), id="inverse-sqrt"
    ),
    # inverse time (Keras' and Paddle's InverseTimeDecay)
    pytest.param(
        lk.InverseTime(0.1, 100, 0.5),
        [0, 1, 99.5, 100, 300, 1e9],
        lambda t: 0.1 / (1 + 0.5 * t / 100),
        id="inverse-time",
    ),
    pytest.param(
        lk.InverseTime(0.1, 100, 2.0, staircase=True),
        [0, 99.9, 100, 250, 1e9],
        lambda t: 0.1 / (1 + 2.0 * math.floor(t / 100)),
        id="inverse-time-staircase",
    ),
    pytest.param(lk.InverseTime(1.0), [0, 1, 3], lambda t: 1 / (1 + t), id="inverse-time-defaults"),
    pytest.param(
        lk.InverseTime(0.1, 40, 1.0, power=0.7),
        [0, 1, 39.5, 40, 1000, 1e9],
        lambda t: 0.1 * (1 + t / 40) ** -0.7,
        id="inverse-time-power",
    ),
    pytest.param(
        lk.InverseTime(0.1, 10, 2.0, staircase=True, power=1.6),
        [0, 9.9, 10, 25, 1e6],
        lambda t: 0.1 * (1 + 2 * math.floor(t / 10)) ** -1.6,
        id="inverse-time-power-staircase",
    ),
    # cosine generalised: an exponent on the factor (optax), more cycles (transformers' num_cycles)
    pytest.param(
        lk.Cosine(1.0, 100, 0.1, exponent=2.0),
        [0, 25, 50, 99, 100, 200],
        lambda t: 0.1 + 0.9 * ((1 + math.cos(PI * min(t, 100) / 100)) / 2) ** 2,
        id="cosine-exponent",
    ),
    pytest.param(
        lk.Cosine(1.0, 100, cycles=1.5),
        [0, 33, 50, 66.6, 80, 100, 150],
        lambda t: (1 + math.cos(2 * PI * 1.5 * min(t, 100) / 100)) / 2,
        id="cosine-cycles",
    ),
    # restarts with k-decay inside each cycle, and with the height above the floor decaying
    pytest.param(
        lk.CosineRestarts(1.0, 10, period_mult=2, min_lr=0.1, k=2.0),
        [0, 5, 10, 25, 29.9],
        lambda t: 0.1 + 0.9 * (1 + math.cos(PI * ((t if t < 10 else t - 10) / (10 if t < 10 else 20)) ** 2)) / 2,
        id="restarts-k-decay",
    ),
    pytest.param(
        lk.CosineRestarts(1.0, 10, min_lr=0.2, amplitude_decay=0.5),
        [0, 10, 15, 20, 35],
        lambda t: 0.2 + 0.8 * 0.5 ** (t // 10) * (1 + math.cos(PI * (t % 10) / 10)) / 2,
        id="restarts-amplitude-decay",
    ),
    # the algebra: shifted clock, sums, ramps both ways, piecewise constants
    pytest.param(
        lk.Shift(lk.Linear(1.0, 100), 30), [0, 10, 69.5, 70, 500], lambda t: max(1 - (t + 30) / 100, 0.0), id="shift"
    ),
    pytest.param(
        lk.Sum([lk.Constant(0.01), lk.Linear(0.09, 10), lk.Step(1.0, 5, 0.5)]),
        [0, 4.9, 5, 12],
        lambda t: 0.01 + 0.09 * max(1 - t / 10, 0) + 0.5 ** math.floor(t / 5),
        id="sum",
    ),
    pytest.param(
        lk.Ramp(0.001, 0.1, 100), [0, 25, 99, 100, 1000], lambda t: 0.001 + 0.099 * min(t / 100, 1), id="ramp-up-linear"
    ),
    pytest.param(
        lk.Ramp(0.1, 0.001, 100, "cosine"),
        [0, 50, 100, 150],
        lambda t: 0.001 + 0.099 * (1 + math.cos(PI * min(t, 100) / 100)) / 2,
        id="ramp-down-cosine",
    ),
    pytest.param(
        lk.Ramp(0.0, 0.5, 10, "cosine"),
        [0, 5, 10],
        lambda t: 0.5 * (1 - math.cos(PI * t / 10)) / 2,
        id="ramp-up-cosine",
    ),
    pytest.param(
        lk.Ramp(0.0, 0.2, 100, "power", power=0.5),
        [0, 1, 25, 99, 100, 1e9],
        lambda t: 0.2 * math.sqrt(min(t, 100) / 100),
        id="ramp-up-power",
    ),
    pytest.param(
        lk.Ramp(0.3, 0.1, 80, "power", power=3.0),
        [0, 20, 79.5, 80, 500],
        lambda t: 0.3 - 0.2 * (min(t, 80) / 80) ** 3,
        id="ramp-down-power",
    ),
    pytest.param(
        lk.Ramp(1.0, 0.0, 100, "exponential", tau=100 / math.log(20)),
        [0, 1, 50, 99, 100, 1e9],
        lambda t: (0.05 ** (min(t, 100) / 100) - 0.05) / 0.95,
        id="ramp-down-exponential",
    ),
    pytest.param(
        lk.Ramp(0.01, 0.1, 50, "exponential"),
        [0, 10, 49, 50, 60],
        lambda t: 0.01 + 0.09 * (1 - math.exp(-min(t, 50) / 10)) / (1 - math.exp(-5)),
        id="ramp-up-exponential-default-tau",
    ),
    pytest.param(
        lk.Piecewise([0.1, 0.01, 0.001], [10, 20]),
        [0, 9.99, 10, 19, 20, 1e9],
        lambda t: 0.1 if t < 10 else 0.01 if t < 20 else 0.001,
        id="piecewise",
    ),
    # tanh (timm's bounds -7, 3 by default)
    pytest.param(
        lk.Tanh(0.1, 100, 0.001),
        [0, 10, 50, 70, 99.9, 100, 200],
        lambda t: 0.001 + 0.099 * (1 - math.tanh(-7 + 10 * t / 100)) / 2 if t < 100 else 0.001,
        id="tanh",
    ),
    pytest.param(
        lk.Tanh(1.0, 10, 0.0, lower=-3, upper=3),
        [0, 5, 9],
        lambda t: (1 - math.tanh(-3 + 6 * t / 10)) / 2,
        id="tanh-symmetric",
    ),
    # one-cycle
    pytest.param(
        lk.OneCycle(0.1, 100), [0, 1, 14.5, 29, 30, 50, 98, 99, 100, 150], onecycle_f(0.1, 100), id="one-cycle-cos"
    ),
    pytest.param(
        lk.OneCycle(0.1, 100, shape="linear"),
        [0, 1, 14.5, 29, 30, 50, 98, 99, 120],
        onecycle_f(0.1, 100, anneal="linear"),
        id="one-cycle-linear",
    ),
    pytest.param(
        lk.OneCycle(0.1, 100, pct_start=0.25, three_phase=True),
        [0, 12, 24, 30, 48, 49, 70, 99, 101],
        onecycle_f(0.1, 100, pct=0.25, three=True),
        id="one-cycle-3-cos",
    ),
    pytest.param(
        lk.OneCycle(0.1, 100, pct_start=0.25, shape="linear", three_phase=True, start_lr=0.01, min_lr=0.0),
        [0, 12, 24, 30, 48, 49, 70, 99, 101],
        onecycle_f(0.1, 100, pct=0.25, anneal="linear", start=0.01, lo=0.0, three=True),
        id="one-cycle-3-linear",
    ),
    # warmup-stable-decay tails
    pytest.param(
        lk.WarmupStableDecay(0.1, 100, 20, 0.001),
        [0, 50, 79.9, 80, 85, 99.9, 100, 120],
        lambda t: 0.1 if t < 80 else (0.001 + 0.099 * (1 - (t - 80) / 20) if t < 100 else 0.001),
        id="wsd-linear",
    ),
    pytest.param(
        lk.WarmupStableDecay(0.1, 100, 20, 0.001, "cosine"),
        [0, 79.9, 80, 85, 90, 99.9, 100],
        lambda t: 0.1 if t < 80 else (0.001 + 0.099 * (1 + math.cos(PI * (t - 80) / 20)) / 2 if t < 100 else 0.001),
        id="wsd-cosine",
    ),
    pytest.param(
        lk.WarmupStableDecay(0.1, 100, 30, 0.0, "1-sqrt"),
        [0, 69.9, 70, 77.5, 90, 99.9, 100],
        lambda t: 0.1 if t < 70 else (0.1 * (1 - math.sqrt((t - 70) / 30)) if t < 100 else 0.0),
        id="wsd-1-sqrt",
    ),
    pytest.param(
        lk.WarmupStableDecay(0.1, 50, 50, 0.0), [0, 25, 50], lambda t: 0.1 * (1 - min(t, 50) / 50), id="wsd-all-decay"
    ),
    # cosine restarts
    pytest.param(lk.CosineRestarts(0.1, 10), [0, 5, 9.9, 10, 15, 20, 27.5, 1000], restarts_f(0.1, 10), id="restarts"),
    pytest.param(
        lk.CosineRestarts(0.1, 10, 2.0, 0.001),
        [0, 9, 10, 20, 29.9, 30, 50, 69.9, 70, 150, 310],
        restarts_f(0.1, 10, 2.0, 0.001),
        id="restarts-mult2",
    ),
    pytest.param(
        lk.CosineRestarts(0.1, 4, 1.5, 0.0, peak_decay=0.5),
        [0, 3.9, 4, 7, 10, 13, 14.5, 20, 30],
        restarts_f(0.1, 4, 1.5, 0.0, 0.5),
        id="restarts-mult1.5-decay",
    ),
    pytest.param(
        lk.CosineRestarts(0.1, 10, 2.0, 0.001, 0.5, max_cycles=3),
        [0, 10, 29, 30, 69, 69.99, 70, 1000],
        restarts_f(0.1, 10, 2.0, 0.001, 0.5, 3),
        id="restarts-max-cycles",
    ),
    pytest.param(
        lk.CosineRestarts(0.1, 10, max_cycles=1),
        [0, 5, 9.99, 10, 11],
        restarts_f(0.1, 10, max_cycles=1),
        id="restarts-one-cycle",
    ),
    # cyclic
    pytest.param(
        lk.Cyclic(0.1, 10, min_lr=0.001),
        [0, 5, 10, 15, 20, 23, 37.5, 1000],
        cyclic_f(0.001, 0.1, 10),
        id="cyclic-triangular",
    ),
    pytest.param(
        lk.Cyclic(0.1, 10, 30, min_lr=0.001),
        [0, 5, 10, 25, 40, 45, 80],
        cyclic_f(0.001, 0.1, 10, 30),
        id="cyclic-asymmetric",
    ),
    pytest.param(
        lk.Cyclic(0.1, 10, mode="triangular2", min_lr=0.001),
        [0, 10, 20, 30, 50, 65, 2000, 25000],
        cyclic_f(0.001, 0.1, 10, mode="triangular2"),
        id="cyclic-triangular2",
    ),
    pytest.param(
        lk.Cyclic(0.1, 10, mode="exp_range", gamma=0.99, min_lr=0.001),
        [0, 5, 10, 20, 33, 100],
        cyclic_f(0.001, 0.1, 10, mode="exp_range", gamma=0.99),
        id="cyclic-exp-range",
    ),
    # warmup shapes
    pytest.param(
        lk.Warmup(lk.Cosine(0.1, 90, 0.001), 10),
        [0, 1, 5, 9.5, 10, 11, 55, 100, 200],
        warmup_f(COS, 10),
        id="warmup-linear",
    ),
    pytest.param(
        lk.Warmup(lk.Cosine(0.1, 90, 0.001), 10, "power", 0.1),
        [0, 1, 5, 9.5, 10, 50],
        warmup_f(COS, 10, "power", 0.1),
        id="warmup-quadratic",
    ),
    pytest.param(
        lk.Warmup(lk.Cosine(0.1, 90, 0.001), 10, "power", power=3.0),
        [0, 1, 5, 9.5, 10, 50],
        warmup_f(COS, 10, "power", power=3.0),
        id="warmup-cubic",
    ),
    pytest.param(
        lk.Warmup(lk.Cosine(0.1, 90, 0.001), 10, "exponential"),
        [0, 1, 5, 9.5, 10, 50],
        warmup_f(COS, 10, "exponential"),
        id="warmup-exponential",
    ),
    pytest.param(
        lk.Warmup(lk.Cosine(0.1, 90, 0.001), 10, "exponential", tau=3.0),
        [0, 1, 5, 9.5, 10, 50],
        warmup_f(COS, 10, "exponential", tau=3.0),
        id="warmup-exponential-tau",
    ),
    pytest.param(
        lk.Warmup(lk.Cosine(0.1, 90, 0.001), 10, "constant", 0.1),
        [0, 5, 9.99, 10, 50],
        warmup_f(COS, 10, "constant", 0.1),
        id="warmup-constant",
    ),
    pytest.param(lk.Warmup(lk.Cosine(0.1, 90, 0.001), 0), [0, 5, 90], COS, id="warmup-none"),
    pytest.param(
        lk.Cosine(0.1, 90, 0.001).with_warmup(4.5, start_factor=0.5),
        [0, 2, 4.5, 10],
        warmup_f(COS, 4.5, sf=0.5),
        id="with-warmup",
    ),
    # untuned warmups (Ma & Yarats): omega(t) = min(1, (1 - beta2) t / 2) and 1 - exp(-(1 - beta2) t)
    pytest.param(
        lk.untuned_linear_warmup(lk.Constant(1.0), beta2=0.999),
        [0, 1, 500, 1999, 2000, 5000],
        lambda t: min(1.0, (1 - 0.999) * t / 2),
        id="untuned-linear",
    ),
    pytest.param(
        lk.untuned_linear_warmup(lk.Constant(0.5), beta2=0.99),
        [0, 100, 199, 200],
        lambda t: 0.5 * min(1.0, (1 - 0.99) * t / 2),
        id="untuned-linear-0.99",
    ),
    pytest.param(
        lk.untuned_exponential_warmup(lk.Constant(1.0), beta2=0.999),
        [0, 1, 500, 1000, 2999, 3000, 5000],
        lambda t: (1 - math.exp(-(1 - 0.999) * t)) / (1 - math.exp(-3)) if t < 3 / (1 - 0.999) else 1.0,
        id="untuned-exponential",
    ),
    # composition
    pytest.param(
        lk.Sequence([lk.Constant(0.1), lk.Cosine(0.1, 90, 0.001), lk.Constant(0.0005)], [10, 100]),
        [0, 9.99, 10, 11, 55, 99.9, 100, 1000],
        lambda t: 0.1 if t < 10 else (COS(t - 10) if t < 100 else 0.0005),
        id="sequence",
    ),
    pytest.param(
        lk.Sequence([lk.Linear(1.0, 10), lk.Linear(0.5, 10)], [5]),
        [0, 4, 5, 10, 14.9, 15, 20],
        lambda t: 1 - t / 10 if t < 5 else 0.5 * max(0.0, 1 - (t - 5) / 10),
        id="sequence-truncated",
    ),
    pytest.param(
        lk.Hold(lk.Exponential(0.1, 0.9), 20),
        [0, 10, 19.9, 20, 21, 1e5],
        lambda t: 0.1 * 0.9 ** min(t, 20),
        id="hold-last",
    ),
    pytest.param(
        lk.Hold(lk.Cosine(0.1, 90, 0.001), 45, 0.002),
        [0, 44.9, 45, 1000],
        lambda t: COS(t) if t < 45 else 0.002,
        id="hold-value",
    ),
    pytest.param(lk.Cosine(0.1, 90, 0.001).hold_after(30), [0, 30, 60], lambda t: COS(min(t, 30)), id="hold-after"),
    pytest.param(lk.Scale(lk.Cosine(0.1, 90, 0.001), 0.5), [0, 30, 90], lambda t: 0.5 * COS(t), id="scale"),
    pytest.param(3 * lk.Cosine(0.1, 90, 0.001), [0, 30, 90], lambda t: 3 * COS(t), id="scale-operator"),
    pytest.param(
        lk.Clip(lk.Cosine(0.1, 90, 0.001), 0.01, 0.08),
        [0, 20, 45, 80, 90],
        lambda t: min(max(COS(t), 0.01), 0.08),
        id="clip",
    ),
    pytest.param(lk.Cosine(0.1, 90, 0.001).clipped(0.05), [0, 45, 80], lambda t: max(COS(t), 0.05), id="clip-floor"),
    # an epoch schedule evaluated per iteration (100 iterations an epoch): fractional epochs
    pytest.param(
        lk.PerStep(lk.MultiStep(0.1, [30, 60]), 100),
        [0, 2999, 3000, 3050, 5999, 6000, 10**6],
        lambda t: 0.1 * 0.1 ** sum(m <= t / 100 for m in (30, 60)),
        id="per-step-multistep",
    ),
    pytest.param(
        lk.Cosine(0.1, 90, 0.001).per_step(391),
        [0, 1, 390, 391, 17595, 35190, 40000],
        lambda t: COS(t / 391),
        id="per-step-cosine",
    ),
    pytest.param(lk.FunctionSchedule(lambda t: 0.1 / (1 + t)), [0, 1, 9.5], lambda t: 0.1 / (1 + t), id="function"),
    # warmup + cosine preset
    pytest.param(
        lk.WarmupCosine(0.1, 100, 10, min_lr=0.001),
        [0, 5, 9.99, 10, 55, 99, 100, 150],
        warmup_f(cosine_f(0.1, 90, 0.001), 10),
        id="warmup-cosine",
    ),
    pytest.param(
        lk.WarmupCosine(0.1, 100, 10, start_factor=0.1, shape="exponential"),
        [0, 5, 10, 55],
        warmup_f(cosine_f(0.1, 90), 10, "exponential", 0.1),
        id="warmup-cosine-exp",
    ),
    pytest.param(lk.WarmupCosine(0.1, 1000, 0), [0, 500, 1000], cosine_f(0.1, 1000), id="warmup-cosine-no-warmup"),
]


@pytest.mark.parametrize("schedule, positions, expected", CASES)
def test_values_follow_the_formula(schedule, positions, expected):
    want = [expected(t) for t in positions]
    got = [schedule(t) for t in positions]
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15)
    # the array path, on the same positions, gives the same values
    assert schedule(np.array(positions, dtype=float)).tolist() == got


@pytest.mark.parametrize("schedule, positions, expected", CASES)
def test_integer_and_float_positions_agree(schedule, positions, expected):
    for t in positions:
        if float(t).is_integer():
            assert schedule(int(t)) == schedule(float(t))


# -- exact values at the joins: no rounding allowed where the formula is exact ------------------


def test_decays_start_at_peak_and_end_at_floor_exactly():
    for s in (
        lk.Cosine(0.1, 90, 0.001),
        lk.Linear(0.1, 90, 0.001),
        lk.Polynomial(0.1, 90, 0.001, 2.0),
        lk.WarmupStableDecay(0.1, 90, 30, 0.001, "cosine"),
        lk.WarmupStableDecay(0.1, 90, 30, 0.001, "1-sqrt"),
    ):
        assert s(0) == 0.1
        assert s(90) == 0.001 and s(1e9) == 0.001


def test_warmup_ends_exactly_at_the_schedule_start():
    inner = lk.Cosine(0.1, 90, 0.001)
    for shape in ("linear", "power", "exponential", "constant"):
        w = lk.Warmup(inner, 10, shape, 0.1)
        assert w(0) == pytest.approx(0.01, rel=1e-15)
        assert w(10) == inner(0) == 0.1
    assert lk.Warmup(inner, 10, "linear")(10 - 1e-12) == pytest.approx(0.1, rel=1e-12)


def test_warmup_ends_at_a_schedule_that_does_not_start_at_its_peak():
    # Cyclic starts at min_lr: the warmup climbs to min_lr, not to peak_lr
    w = lk.Warmup(lk.Cyclic(0.1, 10, min_lr=0.01), 5)
    assert w(5) == 0.01 and w(2.5) == pytest.approx(0.005)


def test_inverse_sqrt_after_warmup_is_the_transformer_schedule():
    d_model, W = 512, 4000
    s = lk.InverseSqrt(d_model**-0.5 * W**-0.5, W).with_warmup(W)
    for step in (1, 100, 3999, 4000, 4001, 10000, 100000):
        want = d_model**-0.5 * min(step**-0.5, step * W**-1.5)
        assert s(step) == pytest.approx(want, rel=1e-12)


def test_exponential_staircase_equals_step():
    a, b = lk.Exponential(0.1, 0.5, 7.5, staircase=True), lk.Step(0.1, 7.5, 0.5)
    t = np.linspace(0, 100, 1001)
    assert np.array_equal(a(t), b(t))


def test_cosine_restarts_without_multiplier_or_decay_repeats_the_cosine():
    r, c = lk.CosineRestarts(0.1, 10, min_lr=0.01), lk.Cosine(0.1, 10, 0.01)
    for t in np.linspace(0, 9.99, 50):
        assert r(t) == pytest.approx(c(t), rel=1e-14)
        assert r(t + 30) == pytest.approx(c(t), rel=1e-9)


def test_cyclic_triangular2_keeps_halving_for_many_cycles():
    s = lk.Cyclic(1.0, 1, mode="triangular2", min_lr=0.0)
    for c in (0, 1, 10, 1023, 1024, 1100, 5000):
        assert s(2 * c + 1) == 0.5**c
    assert s(np.array([2 * 1100 + 1.0]))[0] == 0.5**1100


def test_one_cycle_peaks_at_pytorch_position():
    s = lk.OneCycle(1.0, 1000, pct_start=0.3)
    assert s(299) == 1.0
    assert s(0) == pytest.approx(1 / 25) and s(999) == pytest.approx(1 / 25 / 1e4)


def test_function_schedule_checks_each_value():
    s = lk.FunctionSchedule(lambda t: 1.0 - t)
    assert s(0.25) == 0.75
    with pytest.raises(ValueError, match="returned"):
        s(2)
    with pytest.raises(ValueError, match="returned"):
        s(np.array([0.0, 2.0]))
    with pytest.raises(ValueError, match="returned"):
        lk.FunctionSchedule(lambda t: math.nan)(1)
    with pytest.raises(TypeError):
        lk.FunctionSchedule(0.1)
    with pytest.raises(TypeError, match="config"):
        s.to_dict()


def test_function_schedule_sees_float_positions_on_both_paths():
    seen = []
    s = lk.FunctionSchedule(lambda t: seen.append(type(t)) or 0.1)
    s(3)
    s(np.array([3, 4]))
    assert seen == [float, float, float]


def test_schedules_are_immutable():
    s = lk.Cosine(0.1, 90)
    with pytest.raises(AttributeError):
        s.peak_lr = 1.0
    with pytest.raises(AttributeError):
        s.anything = 1.0


def test_restart_peaks_never_fall_below_the_floor():
    # peak_lr * peak_decay ** i would be 0.0625 in cycle 4, under min_lr = 0.1: that cycle is flat.
    s = lk.CosineRestarts(peak_lr=1.0, period=10, min_lr=0.1, peak_decay=0.5)
    t = np.arange(40.0, 50.0, 0.5)
    assert np.all(s(t) == 0.1)
    assert s(35.0) == 0.1 + (0.125 - 0.1) * (1 + math.cos(5 * (math.pi / 10))) / 2
    assert all(p.start_value >= 0.1 for p in s.phases())


def test_cawb_schedule_is_a_staircase_per_batch_in_warmup():
    s = lk.CAWB(10, batchs=4, warmup_epoch=1)
    assert s(2.0) == s(2.75) == 2 / 4


def test_inverse_time_matches_paddle():
    import paddle

    ref = paddle.optimizer.lr.InverseTimeDecay(learning_rate=0.1, gamma=0.3)
    got = []
    for _ in range(50):
        got.append(ref())
        ref.step()
    np.testing.assert_allclose(lk.InverseTime(0.1, 1, 0.3)(np.arange(50.0)), got, rtol=1e-12)


def test_a_warmup_overlaying_a_schedule_on_the_global_clock():
    # timm with warmup_prefix=False: the warmup replaces the first W positions of the decay
    decay = lk.Cosine(0.1, 1000, 0.001)
    s = lk.Sequence([lk.Ramp(1e-4, decay(50), 50), lk.Shift(decay, 50)], [50])
    assert s(50) == decay(50) and s(700) == decay(700) and s(0) == 1e-4
    assert lk.from_dict(s.to_dict()) == s


def test_algebra_errors_name_the_parameter():
    with pytest.raises(ValueError, match="values must hold one more"):
        lk.Piecewise([0.1], [10])
    with pytest.raises(ValueError, match="values\\[1\\]"):
        lk.Piecewise([0.1, -1], [10])
    with pytest.raises(ValueError, match="offset"):
        lk.Shift(lk.Constant(0.1), -1)
    with pytest.raises(ValueError, match="sum"):
        lk.Sum([lk.Constant(1.7e308), lk.Constant(1.7e308)])
    with pytest.raises(ValueError, match="shape"):
        lk.Ramp(0, 1, 10, "cubic")


def test_cosine_generalised_matches_its_peers_formulas():
    # transformers: get_cosine_schedule_with_warmup(..., num_cycles=c) after its warmup is
    # max(0, (1 + cos(pi * 2c * progress)) / 2); optax.cosine_decay_schedule(init, T, alpha, exponent)
    for c in (0.25, 0.5, 1.0, 2.0):
        s = lk.Cosine(1.0, 200, cycles=c)
        for t in range(0, 200, 7):
            assert s(t) == pytest.approx(max(0.0, 0.5 * (1.0 + math.cos(math.pi * c * 2.0 * t / 200))), abs=1e-15)
    s = lk.Cosine(0.5, 100, 0.5 * 0.1, exponent=3.0)
    for t in range(0, 120, 9):
        u = min(t, 100) / 100
        assert s(t) == pytest.approx(0.5 * ((1 - 0.1) * (0.5 * (1 + math.cos(math.pi * u))) ** 3 + 0.1), rel=1e-12)


def test_untuned_warmup_lengths_are_the_numbers_meant():
    # 2 / (1 - 0.999) is 1999.9999999999982 in float64 (1 - 0.999 is not 0.001): the paper's rule means 2000
    s = lk.untuned_linear_warmup(lk.Constant(1.0), 0.999)
    assert s.warmup_steps == 2000 and "1999.99" not in repr(s) and s.to_dict()["warmup_steps"] == 2000
    e = lk.untuned_exponential_warmup(lk.Constant(1.0), 0.999)
    assert (e.tau, e.warmup_steps) == (1000, 3000)
    # an odd beta2 keeps its exact quotient
    assert lk.untuned_linear_warmup(lk.Constant(1.0), 0.9987).warmup_steps == 2.0 / (1.0 - 0.9987)
    # pytorch-warmup's overlay keeps its int() of the float quotient (1999), as it does
    assert lk.untuned_linear_warmup(lk.Constant(1.0), 0.999, overlay=True).schedules[1].period == 1999


def test_one_cycle_with_a_subnormal_peak_never_goes_below_zero():
    # found by the fuzz test: (0 - 1e-310) / 2 rounds away from zero, and the cosine
    # interpolation landed at -5e-324 at position 0
    s = lk.OneCycle(peak_lr=1e-310, total_steps=4.0, start_lr=0)
    x = np.linspace(0, 5, 101)
    assert (s(x) >= 0).all() and all(s(float(t)) >= 0 for t in x)
