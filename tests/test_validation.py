"""Bad parameters raise ValueError/TypeError naming the parameter, at construction."""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lrkit as lk

C = lk.Cosine(0.1, 10)

# kind -> (constructor, valid keyword arguments, {parameter: category})
# categories: rate (finite >= 0), length (finite > 0), length0 (finite >= 0), real (finite)
SPECS = {
    "constant": (lk.Constant, {"lr": 0.1}, {"lr": "rate"}),
    "cosine": (
        lk.Cosine,
        {"peak_lr": 0.1, "total_steps": 10, "min_lr": 0.01, "k": 1.0},
        {"peak_lr": "rate", "total_steps": "length", "min_lr": "rate", "k": "length"},
    ),
    "linear": (
        lk.Linear,
        {"peak_lr": 0.1, "total_steps": 10, "min_lr": 0.0},
        {"peak_lr": "rate", "total_steps": "length", "min_lr": "rate"},
    ),
    "polynomial": (
        lk.Polynomial,
        {"peak_lr": 0.1, "total_steps": 10, "power": 2.0},
        {"peak_lr": "rate", "total_steps": "length", "power": "length"},
    ),
    "step": (
        lk.Step,
        {"peak_lr": 0.1, "step_size": 10, "gamma": 0.5},
        {"peak_lr": "rate", "step_size": "length", "gamma": "rate"},
    ),
    "multistep": (
        lk.MultiStep,
        {"peak_lr": 0.1, "milestones": [10, 20], "gamma": 0.5},
        {"peak_lr": "rate", "gamma": "rate"},
    ),
    "exponential": (
        lk.Exponential,
        {"peak_lr": 0.1, "gamma": 0.9, "step_size": 2},
        {"peak_lr": "rate", "gamma": "length", "step_size": "length"},
    ),
    "inverse_sqrt": (lk.InverseSqrt, {"peak_lr": 0.1, "timescale": 100}, {"peak_lr": "rate", "timescale": "length"}),
    "tanh": (
        lk.Tanh,
        {"peak_lr": 0.1, "total_steps": 10, "lower": -7, "upper": 3},
        {"peak_lr": "rate", "total_steps": "length", "lower": "real", "upper": "real"},
    ),
    "one_cycle": (
        lk.OneCycle,
        {"peak_lr": 0.1, "total_steps": 100, "pct_start": 0.3},
        {"peak_lr": "rate", "total_steps": "length", "pct_start": "length"},
    ),
    "wsd": (
        lk.WarmupStableDecay,
        {"peak_lr": 0.1, "total_steps": 100, "decay_steps": 20},
        {"peak_lr": "rate", "total_steps": "length", "decay_steps": "length"},
    ),
    "cosine_restarts": (
        lk.CosineRestarts,
        {"peak_lr": 0.1, "period": 10, "period_mult": 2.0, "peak_decay": 0.5},
        {"peak_lr": "rate", "period": "length", "period_mult": "length", "peak_decay": "rate"},
    ),
    "cyclic": (
        lk.Cyclic,
        {"min_lr": 0.01, "peak_lr": 0.1, "step_size_up": 10, "step_size_down": 5},
        {"min_lr": "rate", "peak_lr": "rate", "step_size_up": "length", "step_size_down": "length"},
    ),
    "warmup_cosine": (
        lk.WarmupCosine,
        {"peak_lr": 0.1, "total_steps": 100, "warmup_steps": 10},
        {"peak_lr": "rate", "total_steps": "length", "warmup_steps": "length0"},
    ),
    "warmup": (
        lk.Warmup,
        {"schedule": C, "warmup_steps": 10, "tau": 2.0, "power": 2.0},
        {"warmup_steps": "length0", "tau": "length", "power": "length", "start_factor": "rate"},
    ),
    "hold": (lk.Hold, {"schedule": C, "end": 10, "value": 0.01}, {"end": "length0", "value": "rate"}),
    "scale": (lk.Scale, {"schedule": C, "factor": 2.0}, {"factor": "rate"}),
    "clip": (lk.Clip, {"schedule": C, "min_lr": 0.0, "max_lr": 0.1}, {"min_lr": "rate", "max_lr": "rate"}),
    "per_step": (lk.PerStep, {"schedule": C, "steps_per_epoch": 100}, {"steps_per_epoch": "length"}),
    "sequence": (lk.Sequence, {"segments": [C, C], "boundaries": [5]}, {}),
}

CASES = [(kind, name, cat) for kind, (_, _, cats) in SPECS.items() for name, cat in cats.items()]

NONFINITE = st.sampled_from([math.nan, math.inf, -math.inf, np.float64("nan")])
NEGATIVE = st.one_of(st.floats(max_value=-1e-300, allow_infinity=False), st.integers(max_value=-1))
WRONG_TYPE = st.sampled_from(["0.1", b"1", None, [0.1], {"lr": 1}, 1j, True, object()])


def bad_values(cat: str) -> st.SearchStrategy:
    if cat == "real":
        return st.one_of(NONFINITE, WRONG_TYPE)
    if cat == "length":
        return st.one_of(NONFINITE, NEGATIVE, st.just(0), st.just(0.0), st.just(-0.0), WRONG_TYPE)
    return st.one_of(NONFINITE, NEGATIVE, WRONG_TYPE)  # rate, length0


def test_every_kind_has_a_spec():
    core = {
        "constant",
        "cosine",
        "linear",
        "polynomial",
        "step",
        "multistep",
        "exponential",
        "inverse_sqrt",
        "tanh",
        "one_cycle",
        "wsd",
        "cosine_restarts",
        "cyclic",
        "warmup_cosine",
        "warmup",
        "hold",
        "scale",
        "clip",
        "per_step",
        "sequence",
    }
    assert core <= set(lk.registered()) and core == set(SPECS)
    for cls, kw, _ in SPECS.values():
        cls(**kw)  # the valid arguments are valid


@pytest.mark.parametrize("kind, name, cat", CASES, ids=[f"{k}.{n}" for k, n, _ in CASES])
@given(data=st.data())
def test_bad_parameter_raises_naming_it(kind, name, cat, data):
    cls, kw, _ = SPECS[kind]
    bad = data.draw(bad_values(cat))
    if name == "max_lr" and bad == math.inf:
        return  # an open upper bound is the default
    if bad is None and inspect.signature(cls).parameters[name].default is None:
        return  # None is that parameter's documented default
    with pytest.raises((ValueError, TypeError)) as err:
        cls(**{**kw, name: bad})
    assert name in str(err.value)
    assert err.type in (ValueError, TypeError)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: lk.Cosine(0.1, 10, min_lr=0.2), "min_lr.*peak_lr"),
        (lambda: lk.Linear(0.1, 10, min_lr=0.2), "min_lr.*peak_lr"),
        (lambda: lk.Tanh(0.1, 10, 0.0, lower=3, upper=-7), "lower.*upper"),
        (lambda: lk.OneCycle(0.1, 100, start_lr=0.2), "start_lr.*peak_lr"),
        (lambda: lk.OneCycle(0.1, 100, min_lr=0.2), "min_lr.*peak_lr"),
        (lambda: lk.OneCycle(0.1, 100, pct_start=1.0), "pct_start"),
        (lambda: lk.OneCycle(0.1, 100, pct_start=0.0), "pct_start"),
        (lambda: lk.OneCycle(0.1, 3, pct_start=0.3), "phase 1 is empty"),
        (lambda: lk.OneCycle(0.1, 100, pct_start=0.6, three_phase=True), "phase 3 is empty"),
        (lambda: lk.Step(0.1, 10, gamma=1.5), "gamma must be in \\[0, 1\\]"),
        (lambda: lk.Exponential(0.1, gamma=1.01), "gamma must be in \\[0, 1\\]"),
        (lambda: lk.OneCycle(0.1, 100, shape="cos"), "shape"),
        (lambda: lk.WarmupStableDecay(0.1, 10, 20), "decay_steps.*total_steps"),
        (lambda: lk.WarmupStableDecay(0.1, 10, 5, shape="sqrt"), "shape"),
        (lambda: lk.WarmupStableDecay(0.1, 10, 5, min_lr=1), "min_lr"),
        (lambda: lk.CosineRestarts(0.1, 10, period_mult=0.5), "period_mult"),
        (lambda: lk.CosineRestarts(0.1, 10, max_cycles=0), "max_cycles"),
        (lambda: lk.CosineRestarts(0.1, 10, max_cycles=2.5), "max_cycles"),
        (lambda: lk.CosineRestarts(0.1, 10, min_lr=1.0), "min_lr"),
        (lambda: lk.Cyclic(0.1, 10, min_lr=0.2), "min_lr.*peak_lr"),
        (lambda: lk.Cyclic(0.1, 10, mode="triangle", min_lr=0.0), "mode"),
        (lambda: lk.Cyclic(0.1, 10, mode="exp_range", gamma=1.5, min_lr=0.0), "gamma"),
        (lambda: lk.Cyclic(0.1, 10, mode="exp_range", gamma=0.0, min_lr=0.0), "gamma"),
        (lambda: lk.Exponential(0.1, 0.0), "gamma"),
        (lambda: lk.Exponential(0.1, 0.5, staircase="yes"), "staircase"),
        (lambda: lk.MultiStep(0.1, [10, 5]), "milestones.*strictly increasing"),
        (lambda: lk.MultiStep(0.1, [10, 10]), "milestones.*strictly increasing"),
        (lambda: lk.MultiStep(0.1, [-1, 5]), "milestones\\[0\\]"),
        (lambda: lk.MultiStep(0.1, [1, math.nan]), "milestones\\[1\\]"),
        (lambda: lk.MultiStep(0.1, 10), "milestones"),
        (lambda: lk.MultiStep(0.1, "10,20"), "milestones"),
        (lambda: lk.WarmupCosine(0.1, 100, 100), "warmup_steps.*total_steps"),
        (lambda: lk.WarmupCosine(0.1, 100, 150), "warmup_steps.*total_steps"),
        (lambda: lk.WarmupCosine(0.1, 100, 10, min_lr=0.5), "min_lr"),
        (lambda: lk.WarmupCosine(0.1, 100, 10, shape="cubic"), "shape"),
        (lambda: lk.Warmup(C, 10, shape="cubic"), "shape"),
        (lambda: lk.Warmup(C, 10, start_factor=1.5), "start_factor"),
        (lambda: lk.Warmup(C, 5e-324, "exponential"), "warmup_steps.*between 1e-09 and 1e\\+300"),
        (lambda: lk.Clip(C, 0.2, 0.1), "min_lr.*max_lr"),
        (lambda: lk.untuned_linear_warmup(C, beta2=1.0), "beta2"),
        (lambda: lk.untuned_exponential_warmup(C, beta2=-0.1), "beta2"),
        (lambda: lk.untuned_linear_warmup(C, beta2=math.nan), "beta2"),
    ],
)
def test_invalid_combinations(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_no_overflow_or_nan_from_extreme_but_valid_parameters():
    # values that used to overflow inside Python's float power or divide by zero
    cases = [
        lk.Cyclic(1.0, 1, mode="triangular2", min_lr=0.0),
        lk.MultiStep(1.0, [1, 2, 3], gamma=10.0),
        lk.Step(1.0, 1e-9, 0.5),
        lk.CosineRestarts(1.0, 1e-3, 3.0, peak_decay=0.0),
        lk.Exponential(1.0, 1e-300),
        lk.Warmup(C, 1e-6, "exponential", tau=1e6),
    ]
    for s in cases:
        t = np.array([0, 1e-7, 0.5, 1, 2.5, 1e3, 1e6, 1e15, 1e300])
        v = s(t)
        assert np.all(np.isfinite(v)) and np.all(v >= 0), s
        assert [s(float(x)) for x in t] == v.tolist(), s


def test_growth_that_would_overflow_is_refused():
    with pytest.raises(ValueError, match="gamma"):
        lk.MultiStep(1e300, [1, 2, 3], gamma=1e10)
    with pytest.raises(ValueError, match="gamma"):
        lk.MultiStep(1.0, list(range(1, 400)), gamma=1e10)


def test_error_messages_name_the_value_and_the_valid_range():
    with pytest.raises(ValueError, match=r"total_steps must be a finite number > 0, got -5"):
        lk.Cosine(0.1, -5)
    with pytest.raises(ValueError, match=r"peak_lr must be >= 0, got -0.1"):
        lk.Cosine(-0.1, 5)
    with pytest.raises(TypeError, match=r"peak_lr must be a real number, got '0.1' \(str\)"):
        lk.Cosine("0.1", 5)
    with pytest.raises(ValueError, match=r"position must be a finite number >= 0, got -1"):
        C(-1)


# -- extreme inputs found in review: a clear ValueError/TypeError, never Overflow/NaN -----------------

from lrkit import PolynomialCycle  # noqa: E402

EXTREME_RAISES = [
    ("restarts count overflows", lambda: lk.CosineRestarts(1, 1e-10)(1e300), ValueError),
    ("restarts count overflows, array", lambda: lk.CosineRestarts(1, 1e-10)(np.array([1e300])), ValueError),
    ("cyclic count overflows", lambda: lk.Cyclic(1, 1e-300, min_lr=0)(1e300), ValueError),
    ("cyclic count overflows, array", lambda: lk.Cyclic(1, 1e-300, min_lr=0)(np.array([1e300])), ValueError),
    ("peak_decay above 1", lambda: lk.CosineRestarts(1, 1, peak_decay=1.5), ValueError),
    ("scale overflows", lambda: lk.Scale(lk.Constant(1e300), 1e300)(1.0), ValueError),
    ("scale overflows, array", lambda: lk.Scale(lk.Constant(1e300), 1e300)(np.array([1.0])), ValueError),
    ("product overflows", lambda: lk.Product([lk.Constant(1e200), lk.Constant(1e200)])(3.0), ValueError),
    ("per_step overflows", lambda: lk.PerStep(lk.Step(1, 10), 1e-310)(1.0), ValueError),
    ("per_step overflows, array", lambda: lk.PerStep(lk.Step(1, 10), 1e-310)(np.array([1.0])), ValueError),
    ("polynomial cycle count overflows", lambda: PolynomialCycle(1, 1e-310)(1.0), ValueError),
    (
        "three_phase from a string",
        lambda: lk.from_dict({"type": "one_cycle", "peak_lr": 0.1, "total_steps": 100, "three_phase": "false"}),
        ValueError,
    ),
    ("milestones from a generator", lambda: lk.MultiStep(0.1, (x for x in [3, 2])), ValueError),
]


@pytest.mark.parametrize("make, error", [(f, e) for _, f, e in EXTREME_RAISES], ids=[n for n, _, _ in EXTREME_RAISES])
def test_extreme_inputs_raise_a_clear_error(make, error):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy overflow warning on the way either
        with pytest.raises(error):
            make()


def test_restarts_with_period_mult_near_one_agree_on_both_paths_far_out():
    # More than 65,536 cycles between the positions: the element-wise path, not the tables.
    s = lk.CosineRestarts(1.0, 1.0, period_mult=1.00001)
    t = np.array([5.0, 1e6, 1e6 + 0.5])
    assert s(t).tolist() == [s(float(v)) for v in t]


def test_hold_with_a_value_lasts_until_its_end():
    assert lk.Hold(lk.Linear(1, 10), 50, value=0.5).length == 50


def test_cosine_k_decay_on_a_very_long_run_is_finite():
    s = lk.Cosine(1.0, 1e160, k=2.0)
    assert s(5e159) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.25)), rel=1e-12)


def test_a_bad_int_position_is_named_as_given():
    import lrkit

    with pytest.raises(ValueError, match=r"got -5$"):
        lrkit.Cosine(1.0, 10)(-5)
