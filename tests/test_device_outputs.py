"""Device evaluation (``lrkit.jax.to_optax``, ``lrkit.keras.ScheduleLR``): what the device's dtype
cannot hold is refused when the binding is made or loaded (issue 20, class 8), and a Keras
schedule that could not be saved with the model is refused when it is made (class 9).

The in-process Keras tests run on the torch backend (``tests/conftest.py``); the jax and
tensorflow backends, whose train steps are compiled, run in their own processes.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

os.environ.setdefault("KERAS_BACKEND", "torch")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402

import lrkit as lk  # noqa: E402
from lrkit import catalog  # noqa: E402
from lrkit.jax import to_optax  # noqa: E402
from lrkit.keras import ScheduleLR, _numpy  # noqa: E402

# Keras 3.15's torch backend converts tensors with np.array(tensor) (model.save, variables), which
# numpy 2 warns about through torch's __array__: Keras' warning, not lrkit's
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

F32_MAX = float(np.finfo(np.float32).max)
F16_MAX = float(np.finfo(np.float16).max)
KINDS = sorted(lk.registered())


@pytest.fixture
def floatx():
    """Set Keras' floatx for one test; restored after it."""
    before = keras.config.floatx()
    yield keras.config.set_floatx
    keras.config.set_floatx(before)


def jit_values(f, counts):
    return np.asarray(jax.jit(f)(jnp.asarray(counts)), dtype=np.float64)


def to_numpy(x):
    """A Keras tensor as numpy (keras' own convert_to_numpy warns through torch's __array__)."""
    return np.asarray(_numpy(x), dtype=np.float64)


def keras_values(lr, counts):
    return np.array([float(to_numpy(lr(keras.ops.convert_to_tensor(c, dtype="int64")))) for c in counts])


def with_peak(kind: str, peak: float) -> lk.Schedule:
    """The kind's example with every rate parameter (and nested schedule's) scaled so that its
    largest value is ``peak``: a kind built with extreme values, not wrapped in a Scale."""
    s = catalog.example(kind)
    if s.max_value == math.inf:  # grows without end (linear_growth): its start value is scaled to peak
        return scaled(s, peak / s(0.0))
    out = scaled(s, peak / s.max_value)
    top = out.max_value
    return out if math.isclose(top, peak, rel_tol=1e-9) else lk.Scale(out, peak / top)  # cawb's multipliers


RATES = {"lr", "min_lr"}  # the yolox drop-ins' rates (declared as plain reals, as the original takes them)


def scaled(s: lk.Schedule, k: float) -> lk.Schedule:
    if type(s).kind == "scale":  # the factor: scaling the inner schedule could pass the range first
        return s.replace(factor=s.factor * k)
    if type(s).kind == "product":  # one factor only
        return s.replace(schedules=[scaled(s.schedules[0], k)] + list(s.schedules[1:]))
    changes = {}
    for p in type(s).params:
        v = getattr(s, p.name)
        if (p.unit == "rate" or p.name in RATES) and isinstance(v, float):
            changes[p.name] = v * k
        elif p.unit == "rates":
            changes[p.name] = [x * k for x in v]
        elif p.unit == "schedule":
            changes[p.name] = scaled(v, k)
        elif p.unit == "schedules":
            changes[p.name] = [scaled(x, k) for x in v]
    return s.replace(**changes) if changes else lk.Scale(s, k)


# -- class 8: JAX ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["table", "formula"])
def test_jax_32_bit_refuses_a_value_float32_cannot_hold(method):
    with jax.enable_x64(False):
        with pytest.raises(ValueError) as e:
            to_optax(lk.Constant(1e39), total_steps=100, method=method)
    msg = str(e.value)
    assert "Constant(lr=1e+39)" in msg and "1e+39" in msg and "float32" in msg and "jax_enable_x64" in msg
    with jax.enable_x64(True):  # float64 holds it: lrkit's value, exactly
        f = to_optax(lk.Constant(1e39), total_steps=100, method=method)
        assert jit_values(f, [0, 7, 10**6]).tolist() == [1e39] * 3


@pytest.mark.parametrize("kind", KINDS)
def test_jax_32_bit_refuses_every_kind_whose_peak_float32_cannot_hold(kind):
    s = with_peak(kind, 1e39)
    with jax.enable_x64(False):
        for method in ("auto", "table", "formula"):
            try:
                to_optax(s, total_steps=3000, method=method)
            except ValueError as e:
                assert "cannot be traced" in str(e) or ("float32" in str(e) and "jax_enable_x64" in str(e)), str(e)
            else:
                raise AssertionError(f"{kind} {method}: {s!r} accepted in float32")
        # 1024 times below float32's largest number (the formula's headroom is 256): finite values
        ok = with_peak(kind, F32_MAX / 1024)
        for method in ("table", "formula"):
            try:
                f = to_optax(ok, total_steps=3000, method=method)
            except ValueError as e:
                # a kind growing without end (no max_value) may overflow later: refused in float32
                assert "cannot be traced" in str(e) or (ok.max_value == math.inf and "declares no bound" in str(e)), (
                    str(e)
                )
                continue
            got = jit_values(f, np.arange(0, 4000, 13))
            assert np.isfinite(got).all() and (got >= 0).all(), (kind, method)


def test_jax_a_formula_needing_a_parameter_float32_cannot_hold_is_refused():
    s = lk.InverseSqrt(0.1, 1e300)  # timescale is inf in float32: inf / inf
    with jax.enable_x64(False):
        for method in ("formula", "table"):  # the table's run, then the formula
            with pytest.raises(ValueError, match=r"float32 by its formula gives nan at step [\d,]+ \(lrkit: 0\.1\)"):
                to_optax(s, total_steps=200, method=method)
    with jax.enable_x64(True):
        f = to_optax(s, method="formula")
        assert jit_values(f, [0, 200, 2**40]).tolist() == [0.1, 0.1, 0.1]


def test_jax_switched_to_32_bit_after_it_was_made_is_refused_at_the_first_call():
    with jax.enable_x64(True):
        f = to_optax(lk.Cosine(1e39, 100), method="formula")
    with jax.enable_x64(False):
        with pytest.raises(ValueError, match="float32"):
            jax.jit(f)(3)  # refused while tracing: no step ever gets inf
        with pytest.raises(ValueError, match="float32"):
            f(3)


def test_jax_values_below_float32s_range_become_0_and_are_not_refused():
    with jax.enable_x64(False):
        for method in ("table", "formula"):
            f = to_optax(lk.Constant(1e-50), total_steps=10, method=method)
            assert jit_values(f, [0, 5, 100]).tolist() == [0.0, 0.0, 0.0]


# -- class 8: Keras ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["table", "formula"])
def test_keras_float32_refuses_and_float64_holds(floatx, method):
    floatx("float32")
    with pytest.raises(ValueError) as e:
        ScheduleLR(lk.Constant(1e39), total_steps=50, method=method)
    msg = str(e.value)
    assert "ScheduleLR" in msg and "1e+39" in msg and "float32" in msg and "set_floatx('float64')" in msg
    floatx("float64")
    lr = ScheduleLR(lk.Constant(1e39), total_steps=50, method=method)
    assert keras_values(lr, [0, 49, 10**6]).tolist() == [1e39] * 3


def test_keras_float16_and_bfloat16(floatx):
    floatx("float16")
    for s in (lk.Constant(1e5), lk.Cosine(7e4, 100)):
        with pytest.raises(
            ValueError,
            match=r"float16 holds \(its largest number is 65504\).*"
            r"set_floatx\('float32' or 'float64'\)",
        ):
            ScheduleLR(s)
    assert keras_values(ScheduleLR(lk.Constant(F16_MAX)), [0, 3]).tolist() == [F16_MAX, F16_MAX]  # a table
    assert keras_values(ScheduleLR(lk.Cosine(1.0, 100)), [0, 50, 10**6]).tolist() == [1.0, 0.5, 0.0]
    # float16 counts end at 65504: a formula of the count gives nan past it
    with pytest.raises(ValueError, match=r"float16 by its formula gives nan at step 6[\d,]+"):
        ScheduleLR(lk.Cyclic(0.1, 100))
    # finite, but another schedule: gamma=0.9999 is 1.0 in float16, the formula would hold 1.0 for ever
    with pytest.raises(ValueError, match=r"float16 by its formula gives 1\.0 at step [\d,]+ \(lrkit: 0\.9\d+\)"):
        ScheduleLR(lk.Exponential(1.0, 0.9999))
    with pytest.raises(ValueError, match=r"float16 by its formula gives 1\.0 at step [\d,]+ \(lrkit: 0\.\d+\)"):
        ScheduleLR(lk.Exponential(1.0, 0.9999), total_steps=5000)  # a table, then the formula from 5000
    f = ScheduleLR(lk.Exponential(1.0, 0.9999).hold_after(5000))  # a table and its last value: exact
    assert keras_values(f, [4000, 10**6]) == pytest.approx([0.9999**4000, 0.9999**5000], rel=1e-3)
    floatx("bfloat16")
    with pytest.raises(ValueError, match="bfloat16"):
        ScheduleLR(lk.Constant(1e39))
    assert keras_values(ScheduleLR(lk.Constant(1e5)), [0]).tolist() == [99840.0]  # bfloat16's rounding
    # gamma=0.999 is 1.0 in bfloat16: the formula would hold 1.0 for ever
    with pytest.raises(ValueError, match=r"bfloat16 by its formula gives 1\.0 at step [\d,]+ \(lrkit: 0\.\d+\)"):
        ScheduleLR(lk.Exponential(1.0, 0.999))


@pytest.mark.parametrize("kind", KINDS)
def test_keras_float32_refuses_every_kind_whose_peak_float32_cannot_hold(floatx, kind):
    floatx("float32")
    s = with_peak(kind, 1e39)
    for method in ("table", "formula"):
        try:
            ScheduleLR(s, total_steps=3000, method=method)
        except ValueError as e:
            assert "cannot be traced" in str(e) or "float32" in str(e), str(e)
        else:
            raise AssertionError(f"{kind} {method}: {s!r} accepted in float32")


@pytest.mark.parametrize("kind", KINDS)
def test_keras_float64_on_torch_computes_the_formula_in_float64(floatx, kind):
    # keras.ops' floor, ceil, floor_divide, minimum and maximum give float32 for float64
    # tensors on the torch backend: the formula used to be float32 with floatx float64
    floatx("float64")
    s = catalog.example(kind)
    try:
        lr = ScheduleLR(s, method="formula")
    except ValueError as e:
        assert "cannot be traced" in str(e)
        return
    counts = np.arange(0, 3000, 7)
    out = lr(keras.ops.convert_to_tensor(counts))
    assert keras.backend.standardize_dtype(out.dtype) == "float64"
    got = to_numpy(out)
    ref = s(counts.astype(np.float64))
    assert np.abs(got - ref).max() <= 1e-12 * ref.max(), kind


def test_keras_floatx_changed_after_it_was_made_is_refused_at_the_first_call(floatx):
    floatx("float64")
    lr = ScheduleLR(lk.Constant(1e39))
    floatx("float32")
    with pytest.raises(ValueError, match="float32"):
        lr(3)


def _saved_model(path, schedule):
    inp = keras.Input((2,))
    model = keras.Model(inp, keras.layers.Dense(1)(inp))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=ScheduleLR(schedule)), loss="mse")
    model.save(path)


def _tampered(src, dst, edit):
    with zipfile.ZipFile(src) as z:
        files = {n: z.read(n) for n in z.namelist()}
    cfg = json.loads(files["config.json"])
    edit(cfg["compile_config"]["optimizer"]["config"]["learning_rate"]["config"])
    files["config.json"] = json.dumps(cfg).encode()
    with zipfile.ZipFile(dst, "w") as z:
        for n, b in files.items():
            z.writestr(n, b)
    return dst


def test_keras_a_tampered_keras_file_is_refused_when_loaded(floatx, tmp_path):
    floatx("float32")
    good = str(tmp_path / "good.keras")
    _saved_model(good, lk.Constant(0.1))
    loaded = keras.saving.load_model(good)
    assert loaded.optimizer._learning_rate.schedule == lk.Constant(0.1)
    cases = [
        (lambda c: c["schedule"].update(lr=1e39), r"Constant\(lr=1e\+39\).*float32"),
        (lambda c: c.update(schedule={"type": "cosine", "peak_lr": 5e38, "total_steps": 1e9}), "float32"),
        (
            lambda c: c.update(schedule={"type": "inverse_sqrt", "peak_lr": 0.1, "timescale": 1e300}),
            "float32 by its formula gives nan",
        ),
        (lambda c: c.update(extra=1), "unknown field 'extra'"),
        (lambda c: c.update(schedule=[1, 2]), "field 'schedule'"),
        (lambda c: c.update(schedule={"type": "constant", "lr": -1}), "field 'schedule'.*lr"),
        (lambda c: c.update(method=3), "field 'method'"),
        (lambda c: c.update(method="fast"), "method must be one of"),
        (lambda c: c.update(total_steps=-1), "total_steps"),
        (lambda c: c.pop("schedule"), "'schedule'.*missing"),
    ]
    for i, (edit, match) in enumerate(cases):
        bad = _tampered(good, str(tmp_path / f"bad{i}.keras"), edit)
        with pytest.raises(ValueError, match=match):
            keras.saving.load_model(bad)
    floatx("float64")  # float64 holds the first one
    lr = keras.saving.load_model(str(tmp_path / "bad0.keras")).optimizer._learning_rate
    assert keras_values(lr, [0]).tolist() == [1e39]


COMPILED = textwrap.dedent("""
    import json, sys
    import numpy as np, keras, lrkit
    from lrkit.keras import ScheduleLR
    out = {}
    backend = keras.backend.backend()
    keras.config.set_floatx("float64")
    if backend == "jax":
        try:  # without x64, jax computes float64 as float32
            ScheduleLR(lrkit.Constant(1e39))
            out["no_x64"] = "accepted"
        except ValueError as e:
            out["no_x64"] = str(e)
        import jax
        jax.config.update("jax_enable_x64", True)
        compiled = jax.jit
    else:
        import tensorflow as tf
        compiled = tf.function
    lr = ScheduleLR(lrkit.Constant(1e39), method="formula")
    out["float64"] = float(keras.ops.convert_to_numpy(compiled(lambda c: lr(c))(np.int64(5))))
    keras.config.set_floatx("float32")
    try:  # the first call under float32 is inside a compiled function: checked there, eagerly
        compiled(lambda c: lr(c))(np.int64(5))
        out["float32"] = "accepted"
    except ValueError as e:
        out["float32"] = str(e)
    print(json.dumps(out))
""")


@pytest.mark.parametrize("backend", ["jax", "tensorflow"])
def test_keras_compiled_backends(backend):
    env = dict(os.environ, KERAS_BACKEND=backend, JAX_PLATFORMS="cpu")
    out = subprocess.run([sys.executable, "-c", COMPILED], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    d = json.loads(out.stdout.strip().splitlines()[-1])
    if backend == "jax":
        assert "float32" in d["no_x64"] and "jax_enable_x64" in d["no_x64"], d["no_x64"]
    assert d["float64"] == 1e39
    assert "1e+39" in d["float32"] and "float32" in d["float32"], d["float32"]


# -- class 9: Keras, a schedule it could not save ---------------------------------------------


class _MyCosine(lk.Cosine):
    """A subclass of a kind: its config names the kind, which is another schedule."""


def _unsaveable():
    from lrkit.recipes.yolox import get_lr_scheduler

    with pytest.warns(lk.DropInWarning):
        lenient = get_lr_scheduler("cos", 0.01, 0.1, 300)  # min_lr above lr: the original's values
    return [
        lk.FunctionSchedule(lambda t: 0.1),
        lk.Warmup(lk.FunctionSchedule(lambda t: 0.1), 10),
        lk.Sequence([lk.Constant(0.1), lk.FunctionSchedule(lambda t: 0.01)], [10]),
        _MyCosine(0.1, 100),
        lenient,
    ]


def test_keras_refuses_a_schedule_it_could_not_save_when_it_is_made(tmp_path):
    previous = tmp_path / "model.keras"
    _saved_model(str(previous), lk.Constant(0.1))
    before = previous.read_bytes()
    for s in _unsaveable():
        with pytest.raises(ValueError) as e:
            ScheduleLR(s, total_steps=400)
        msg = str(e.value)
        assert "cannot be saved with a Keras model" in msg and "lrkit.Piecewise" in msg, msg
        assert type(s).__name__ in msg or s.kind in msg
    assert previous.read_bytes() == before  # nothing was saved over the user's model
    assert keras.saving.load_model(str(previous)).optimizer._learning_rate.schedule == lk.Constant(0.1)


@pytest.mark.parametrize("kind", KINDS)
def test_keras_every_schedule_it_accepts_saves_and_loads_back(kind, tmp_path):
    s = catalog.example(kind)
    lr = ScheduleLR(s, total_steps=np.int64(500))
    cfg = json.loads(json.dumps(lr.get_config()))  # plain JSON (total_steps a Python int)
    assert cfg["total_steps"] == 500 and type(cfg["total_steps"]) is int
    back = ScheduleLR.from_config(cfg)
    assert back.schedule == s and back.total_steps == 500 and back.method == "auto"
    with pytest.raises(AttributeError):
        lr.schedule = lk.Constant(1.0)  # what it evaluates and what it saves cannot part
    assert lr.get_config() == cfg


# -- max_value: the bound the formula's check relies on ---------------------------------------

NUMBERS = [0, 1e-300, 1e-9, 0.001, 0.1, 0.5, 0.9, 1, 1.5, 2, 3, 7.5, 10, 100, 1000, 1e6, 1e300]


@st.composite
def varied(draw: st.DrawFn) -> lk.Schedule | None:
    """A kind's example with some of its numbers (nested ones too) replaced; None if refused."""

    def vary(d):
        if isinstance(d, dict):
            return {k: (v if k == "type" else vary(v)) for k, v in d.items()}
        if isinstance(d, list):
            return [vary(x) for x in d]
        if isinstance(d, (int, float)) and not isinstance(d, bool) and draw(st.booleans()):
            return draw(st.sampled_from(NUMBERS))
        return d

    spec = vary(catalog.example(draw(st.sampled_from(KINDS))).to_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lk.DropInWarning)  # a recipe keeping its original's odd values
        try:
            return lk.from_dict(spec)
        except ValueError:
            return None


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(varied())
def test_max_value_bounds_every_value(s):
    if s is None:
        return
    note(repr(s))
    L = s.length
    hi = L * 1.2 + 10 if math.isfinite(L) else 1e5
    t = np.concatenate([np.linspace(0, min(hi, 1e7), 2001), np.geomspace(1, 1e18, 100)])
    try:
        v = s(t)
    except ValueError:
        return
    assert v.max() <= s.max_value * (1 + 1e-9), (float(v.max()), s.max_value)


def test_polynomial_cycle_bound_when_it_rises():
    s = lk.PolynomialCycle(0.9, 300, 10.0, 0.001)  # Paddle allows end_lr above the start: values go up
    assert s(np.arange(0.0, 1000.0)).max() <= s.max_value == 10.0


# -- the fuzz strategy that would have found class 8 ------------------------------------------

PEAKS = [1e-45, 1e-39, 1e-20, 1.0, 6e4, F16_MAX, 7e4, 1e30, 3e38, F32_MAX * 0.999, F32_MAX, 3.5e38, 1e39, 1e100, 1e300]
LENGTHS = [1, 10, 1000, 1e6, 1e15, 1e30, 1e39, 1e300]
#: the paths: (binding, dtype, method)
PATHS = [
    ("jax", "float32", "table"),
    ("jax", "float32", "formula"),
    ("jax", "float64", "formula"),
    ("keras", "float32", "table"),
    ("keras", "float32", "formula"),
    ("keras", "float16", "formula"),
]


@st.composite
def extreme_schedule(draw: st.DrawFn) -> lk.Schedule:
    """A kind's example with an extreme peak (every rate scaled) and, sometimes, an extreme length."""
    kind = draw(st.sampled_from(KINDS))
    s = with_peak(kind, draw(st.sampled_from(PEAKS)))
    lengths = [p.name for p in type(s).params if p.unit == "length" and getattr(s, p.name) is not None]
    if lengths and draw(st.booleans()):
        try:
            s = s.replace(**{draw(st.sampled_from(lengths)): draw(st.sampled_from(LENGTHS))})
        except ValueError:
            pass
    return s


def _device(binding: str, dtype: str, method: str, s: lk.Schedule, counts: np.ndarray) -> np.ndarray | None:
    """The device's values at ``counts``, or None when the binding refuses the schedule (checked: a
    ValueError saying why)."""
    try:
        if binding == "jax":
            with jax.enable_x64(dtype == "float64"):
                f = to_optax(s, total_steps=2000, method=method)
                return jit_values(f, counts)
        before = keras.config.floatx()
        keras.config.set_floatx(dtype)
        try:
            lr = ScheduleLR(s, total_steps=2000, method=method)
            out = lr(keras.ops.convert_to_tensor(counts))
            return to_numpy(out)
        finally:
            keras.config.set_floatx(before)
    except ValueError as e:
        msg = str(e)
        assert "cannot be traced" in msg or dtype in msg or "float32" in msg, msg
        return None


# A parameter past float32's range (step_size=1e39) is inf in the compiled step, where the check found
# the values right (t / inf is 0, as t / 1e39 is in float64): numpy warns as JAX lowers the constant.
@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extreme_schedule(), st.sampled_from(PATHS))
def test_fuzz_device_values_are_lrkits_rounded_or_refused_when_made(s, path):
    note(repr(s))
    binding, dtype, method = path
    # values compared within the run (total_steps=2000: past it, a table of a formula that cannot be
    # traced holds its last value); finiteness checked up to the largest int32 count as well
    small = np.concatenate([np.arange(0, 64), np.linspace(64, 1999, 64).astype(np.int64)])
    big = np.array([2**20, 2**24 + 1, 10**9, 2**31 - 1], dtype=np.int64)
    counts = np.concatenate([small, big])
    got = _device(binding, dtype, method, s, counts)
    if got is None:
        return
    assert np.isfinite(got).all() and (got >= 0).all(), (path, got[~(np.isfinite(got) & (got >= 0))][:5])
    dt = np.dtype(dtype)
    ref = s(small.astype(np.float64))
    fi = np.finfo(dt)
    # the dtype's rounding of lrkit's value (values below its smallest normal number may become 0)
    tol = 2 * fi.eps * np.abs(ref) + float(fi.tiny)
    if method == "formula":  # the dtype's arithmetic: a few of its ulps of the schedule's scale
        tol = tol + 64 * fi.eps * max(float(ref.max()), s.max_value)
    err = np.abs(got[: len(small)] - ref)
    assert (err <= tol).all(), (path, small[err > tol][:5], got[: len(small)][err > tol][:5], ref[err > tol][:5])


def test_the_fuzz_would_have_found_class_8(monkeypatch):
    """Without the check (as before), what the strategy draws reaches the device as inf and nan."""
    from lrkit._device import Plan

    monkeypatch.setattr(Plan, "check", lambda *a, **k: None)
    counts = np.arange(8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = _device("jax", "float32", "table", with_peak("cosine", 1e39), counts)
        assert np.isinf(got[0])
        got = _device("keras", "float32", "formula", lk.InverseSqrt(0.1, 1e300), counts)
        assert np.isnan(got).all()
