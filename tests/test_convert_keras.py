"""from_keras on Keras 3's schedules, compared with Keras evaluated in float64.

Keras runs on its torch backend here: on the jax backend Keras' own ``ops.cos`` returns
float32 for a float64 input, so its cosine schedules cannot be read in float64 there.
"""

from __future__ import annotations

import math
import os
import sys

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras
import torch
from peer import assert_same_curve  # noqa: E402

import lrkit as lk  # noqa: E402
from lrkit.keras import from_keras  # noqa: E402

S = keras.optimizers.schedules
N = 1500


@pytest.fixture(scope="module", autouse=True)
def float64():
    assert keras.backend.backend() == "torch", "these tests run Keras on its torch backend"
    before = keras.config.floatx()
    keras.config.set_floatx("float64")
    yield
    keras.config.set_floatx(before)


def keras_values(sched):
    out = []
    for step in range(N):
        v = sched(torch.tensor(float(step), dtype=torch.float64))
        assert v.dtype == torch.float64
        out.append(float(v))
    return out


CASES = {
    "exponential": lambda: S.ExponentialDecay(0.1, decay_steps=37, decay_rate=0.93),
    "exponential-staircase": lambda: S.ExponentialDecay(0.1, decay_steps=37, decay_rate=0.93, staircase=True),
    "piecewise": lambda: S.PiecewiseConstantDecay([100, 450, 451, 900], [0.1, 0.05, 0.02, 0.01, 0.001]),
    "polynomial": lambda: S.PolynomialDecay(0.07, decay_steps=900, end_learning_rate=1e-4, power=1.7),
    "polynomial-cycle": lambda: S.PolynomialDecay(0.07, decay_steps=333, end_learning_rate=1e-4, power=0.8, cycle=True),
    "polynomial-rising": lambda: S.PolynomialDecay(0.001, decay_steps=500, end_learning_rate=0.01),
    "polynomial-rising-power-2.3": lambda: S.PolynomialDecay(0.001, decay_steps=500, end_learning_rate=0.01, power=2.3),
    "polynomial-rising-power-0.4": lambda: S.PolynomialDecay(0.0, decay_steps=777.5, end_learning_rate=0.02, power=0.4),
    "polynomial-rising-cycle": lambda: S.PolynomialDecay(
        0.001, decay_steps=300, end_learning_rate=0.01, power=1.5, cycle=True
    ),
    "polynomial-power-0": lambda: S.PolynomialDecay(0.03, decay_steps=400, end_learning_rate=1e-3, power=0.0),
    "polynomial-power-0-cycle": lambda: S.PolynomialDecay(
        0.03, decay_steps=400, end_learning_rate=0.1, power=0.0, cycle=True
    ),
    "exponential-rate-0": lambda: S.ExponentialDecay(0.1, decay_steps=37, decay_rate=0.0),
    "exponential-rate-0-staircase": lambda: S.ExponentialDecay(0.1, decay_steps=37, decay_rate=0.0, staircase=True),
    "inverse-time": lambda: S.InverseTimeDecay(0.05, decay_steps=77, decay_rate=0.3),
    "inverse-time-staircase": lambda: S.InverseTimeDecay(0.05, decay_steps=77, decay_rate=0.3, staircase=True),
    "cosine": lambda: S.CosineDecay(0.05, decay_steps=1100, alpha=0.03),
    "cosine-warmup": lambda: S.CosineDecay(0.0, decay_steps=1000, alpha=0.1, warmup_target=0.08, warmup_steps=250),
    "cosine-warmup-down": lambda: S.CosineDecay(0.2, decay_steps=900, warmup_target=0.08, warmup_steps=50),
    "cosine-alpha-above-1": lambda: S.CosineDecay(0.01, decay_steps=1100, alpha=3.5),
    "cosine-alpha-1": lambda: S.CosineDecay(0.01, decay_steps=1100, alpha=1.0),
    "cosine-warmup-alpha-above-1": lambda: S.CosineDecay(
        0.0, decay_steps=900, alpha=1.8, warmup_target=0.02, warmup_steps=200
    ),
    "restarts": lambda: S.CosineDecayRestarts(0.05, first_decay_steps=100),
    "restarts-t-m-alpha": lambda: S.CosineDecayRestarts(0.05, first_decay_steps=90, t_mul=1.5, m_mul=0.7, alpha=0.05),
    "restarts-m-only": lambda: S.CosineDecayRestarts(0.05, first_decay_steps=120, t_mul=1.0, m_mul=0.8, alpha=0.1),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_keras_in_float64(name):
    sched = CASES[name]()
    mine = from_keras(sched)
    assert_same_curve(keras_values(sched), mine(np.arange(N, dtype=np.float64)), name)
    assert lk.from_dict(mine.to_dict()) == mine


def test_a_schedule_of_ones_own_is_refused_naming_it():
    class Mine(S.LearningRateSchedule):
        def __call__(self, step):
            return 0.1

    with pytest.raises(TypeError, match="Mine"):
        from_keras(Mine())


def test_a_growing_exponential_is_refused_with_the_reason():
    # Keras' own value passes float64's largest and is inf from there
    sched = S.ExponentialDecay(0.1, 10, 1.5)
    where = 10 * (math.log(sys.float_info.max) - math.log(0.1)) / math.log(1.5)
    assert math.isinf(float(sched(torch.tensor(math.ceil(where), dtype=torch.float64))))
    with pytest.raises(TypeError, match=f"ExponentialDecay.*decay_rate=1.5 grows.*inf.*step {where:.6g}"):
        from_keras(sched)


@pytest.mark.parametrize(
    "make, why",
    [
        (lambda: S.ExponentialDecay(0.1, 10, -0.5), "gamma must be >= 0"),
        (lambda: S.InverseTimeDecay(0.1, 10, -0.5), "decay_rate must be >= 0"),
        (lambda: S.CosineDecay(0.1, 100, alpha=-0.2), "alpha=-0.2 is below 0"),
        (lambda: S.CosineDecayRestarts(0.1, 100, alpha=1.5), "alpha=1.5 puts the floor .* above the peak"),
        (lambda: S.CosineDecayRestarts(0.1, 100, alpha=-0.1), "alpha=-0.1 puts the floor .* below 0"),
        (lambda: S.CosineDecayRestarts(0.1, 100, m_mul=1.2), "m_mul=1.2 .* grows without bound"),
        (
            lambda: S.CosineDecayRestarts(0.1, 100, t_mul=0.5),
            "t_mul=0.5 .* step 200, where Keras' own value turns to NaN",
        ),
    ],
)
def test_what_keras_runs_and_lrkit_cannot_say_is_refused_with_the_reason(make, why):
    with pytest.raises(TypeError, match=why):
        from_keras(make())


def test_the_refused_restarts_do_what_the_reason_says():
    # t_mul < 1: NaN from the step named; m_mul > 1: restart i peaks at lr * m_mul ** i
    nan = S.CosineDecayRestarts(0.1, 100, t_mul=0.5)
    assert not math.isnan(float(nan(torch.tensor(199.0, dtype=torch.float64))))
    assert math.isnan(float(nan(torch.tensor(200.0, dtype=torch.float64))))
    grow = S.CosineDecayRestarts(0.1, 100, t_mul=1.0, m_mul=1.2)
    assert float(grow(torch.tensor(1000.0, dtype=torch.float64))) == pytest.approx(0.1 * 1.2**10, rel=1e-12)
