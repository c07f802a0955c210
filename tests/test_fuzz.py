"""Fuzzing ``from_dict`` over every registered kind with hostile values.

Values include 0, subnormals, huge floats, NaN, infinities, integers past the float
range, strings with units and nested specs. Whatever the spec, only ``ValueError`` or
``TypeError`` may escape; a schedule that builds must give finite values ``>= 0``,
the same on the scalar and the array path, at 0, mid-run, 1e6, 1e15 and the largest
float; describing, writing and copying it must work; and no call may take a second.
The budget is fixed (``tests/conftest.py``: CI replays the same examples every run).
"""

from __future__ import annotations

import copy
import inspect
import math
import pickle
import sys
import time

import numpy as np
import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

import lrkit as lk

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

FMAX = sys.float_info.max

NUMBERS = [
    0,
    0.0,
    5e-324,
    1e-310,
    1e-300,
    1e-9,
    0.001,
    0.1,
    0.5,
    0.9,
    1,
    1.0,
    2,
    3,
    7.5,
    10,
    45,
    100,
    1000,
    1e6,
    1e15,
    2.0**53,
    1e300,
    9e307,
    1e308,
    FMAX,
    -1,
    -0.0,
    -1e-300,
    math.nan,
    math.inf,
    -math.inf,
    10**400,
    -(10**400),
    True,
]
STRINGS = ["2ep", "10%", "1e-3", "500 steps", "3E2", "0.5ep", "x", ""]

#: Parameters whose value is a schedule, or a list of schedules.
NESTED = {"schedule"}
NESTED_LISTS = {"segments", "schedules"}
NUMBER_LISTS = {"milestones", "boundaries", "steps"}
CHOICES = {
    "shape": ["linear", "power", "exponential", "constant", "cubic", "cosine", "1-sqrt", "sqrt", "cos"],
    "mode": ["triangular", "triangular2", "exp_range", "sine"],
    "lf": [None, "cos", "linear", "exp"],
    "three_phase": [True, False, "false"],
    "staircase": [True, False, 1],
}

KINDS = sorted(lk.registered())
LEAF_KINDS = [
    k for k in KINDS if not (set(inspect.signature(lk.registered()[k].__init__).parameters) & (NESTED | NESTED_LISTS))
]

number = st.one_of(
    st.sampled_from(NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(0.0, 1000.0),
    st.integers(-5, 10**6),
)
value = st.one_of(number, number, number, st.sampled_from(STRINGS))


def params_of(kind: str) -> list[inspect.Parameter]:
    sig = inspect.signature(lk.registered()[kind].__init__)
    return [p for n, p in sig.parameters.items() if n != "self"]


@st.composite
def spec(draw: st.DrawFn, depth: int = 0) -> dict:
    kind = draw(st.sampled_from(KINDS if depth < 2 else LEAF_KINDS))
    out: dict = {"type": kind}
    for p in params_of(kind):
        required = p.default is p.empty
        if not required and not draw(st.booleans()):
            continue
        name = p.name
        if name in NESTED:
            out[name] = draw(spec(depth + 1))
        elif name in NESTED_LISTS:
            out[name] = draw(st.lists(spec(depth + 1), min_size=1, max_size=3))
        elif name in NUMBER_LISTS:
            out[name] = sorted(draw(st.lists(st.floats(0.0, 1e4) | st.sampled_from(NUMBERS[:28]), max_size=4)))
        elif name in CHOICES:
            out[name] = draw(st.sampled_from(CHOICES[name]))
        else:
            out[name] = draw(value)
    if kind == "sequence" and "segments" in out:
        n = len(out["segments"]) - 1
        out["boundaries"] = sorted(
            draw(st.lists(st.sampled_from([1, 5, 10, 100, 1e6, 1e15, 1e300]), min_size=n, max_size=n, unique=True))
        )
    return out


def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    assert time.perf_counter() - t0 < 1.0, f"{fn} took over a second"
    return out


def check_built(s: lk.Schedule) -> None:
    L = s.length
    mid = L / 2 if 0 < L < math.inf else 50.0
    positions = [0.0, mid, 1e6, 1e15]
    if s.max_value == math.inf:
        # a schedule that grows without a bound (LinearGrowth, DeepSpeed's range test) passes
        # float64 somewhere: there its value is a ValueError saying so, never an inf
        kept = []
        for t in positions:
            try:
                timed(s, t)
            except ValueError as e:
                assert "overflows float64" in str(e), e
            else:
                kept.append(t)
        positions = kept
    for t in positions:
        v = timed(s, t)
        assert isinstance(v, float) and math.isfinite(v) and v >= 0, (t, v)
    arr = timed(s, np.array(positions))
    assert arr.tolist() == [s(t) for t in positions]
    # the largest positions: a finite value >= 0, or a ValueError saying why
    for t in (1e300, FMAX):
        try:
            v = timed(s, t)
        except ValueError as e:
            assert "position" in str(e)
        else:
            assert math.isfinite(v) and v >= 0
    timed(s.describe)
    d = timed(s.to_dict)
    assert lk.from_dict(d) == s
    assert pickle.loads(pickle.dumps(s)) == s and copy.deepcopy(s) == s
    repr(s), hash(s)


@settings(deadline=None, max_examples=1500)
@given(spec(), st.sampled_from([None, 10, 0.5]), st.sampled_from([None, 1000, 3.5]))
def test_from_dict_only_raises_clear_errors_and_builds_sound_schedules(sp, spe, run):
    note(repr(sp))
    try:
        s = timed(lambda: lk.from_dict(sp, steps_per_epoch=spe, run_steps=run))
    except (ValueError, TypeError):
        return
    check_built(s)


# -- re-plans: any sequence of them, hostile numbers included ------------------------------------

REPLAN_NUMBERS = [0, 1e-9, 0.5, 1, 3, 100, 1e4, 1e7, 1e300, FMAX, -1, math.nan, math.inf, 10**400]
replan_op = st.tuples(
    st.sampled_from(["total_steps", "cooldown", "tail", "tail_jump"]),
    st.one_of(st.sampled_from([0, 1, 7, 1000, -1, -50]), st.integers(-100, 10**5)),
    st.one_of(st.sampled_from(REPLAN_NUMBERS), st.floats(0, 1e6)),
    st.integers(0, 5),
)


@settings(deadline=None, max_examples=150)
@given(ops=st.lists(replan_op, max_size=40))
def test_any_sequence_of_re_plans_is_checked_whole_stays_flat_and_resumes(ops):
    """A re-plan either applies whole or raises ValueError/TypeError and changes nothing; at in
    the past is refused; the plan's depth stays fixed; a state resumes the same lrs."""
    import torch

    from lrkit.torch import ScheduleLR

    def make():
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        return ScheduleLR(opt, lk.WarmupCosine(peak_lr=1.0, total_steps=10**5, warmup_steps=100, min_lr=1e-4))

    s = make()
    for kind, offset, amount, steps in ops:
        for _ in range(steps):
            s.step()
        here = s.last_epoch
        before = (s.get_last_lr(), s.state_dict(), s.schedules)
        at = here + offset
        kw: dict = {}
        if kind == "total_steps":
            kw["total_steps"] = at + amount if isinstance(amount, (int, float)) and amount == amount else amount
        elif kind == "cooldown":
            kw.update(cooldown=amount, min_lr=1e-5)
        else:
            kw.update(tail=lk.Cosine(0.3, 1000), jump=kind == "tail_jump")
        try:
            t0 = time.perf_counter()
            s.replan(at=at, **kw)
        except (ValueError, TypeError) as e:
            assert time.perf_counter() - t0 < 1.0
            assert (s.get_last_lr(), s.state_dict(), s.schedules) == before, e
            continue
        assert at >= here, "a re-plan in the past was accepted"
        assert s.schedules[0].extent[0] <= 4, s.schedules[0].extent
        # the values before at are those of the plan before
        if at > 0:
            past = np.linspace(0, at, 50, endpoint=False)
            assert np.array_equal(s.schedules[0](past), before[2][0](past))
    other = make()
    other.load_state_dict(s.state_dict())
    assert other.get_last_lr() == s.get_last_lr()
    for _ in range(3):
        s.step()
        other.step()
        assert other.get_last_lr() == s.get_last_lr()


# -- foreign configs: PaddleDetection, PaddleClas, DeepSpeed, ultralytics, from each reader's schema
# with hostile mutations (the readers' own tests: tests/test_peer_configs_hostile.py) --------------

from test_peer_configs_hostile import sound  # noqa: E402

from lrkit.convert.deepspeed import from_deepspeed  # noqa: E402
from lrkit.convert.ppcls import from_ppcls  # noqa: E402
from lrkit.convert.ppdet import from_ppdet  # noqa: E402
from lrkit.recipes import ultralytics_schedules  # noqa: E402

# =========================================================================================

HOSTILE = [
    None,
    "2",
    "1e-3",
    "x",
    "",
    True,
    False,
    [],
    [1, [2]],
    {},
    {"a": 1},
    0,
    -1,
    0.5,
    1.5,
    2.0,
    7,
    10**18,
    10**400,
    -(10**400),
    math.inf,
    -math.inf,
    math.nan,
    1e308,
    5e-324,
    -0.0,
    [0.1, 0.01, 0.001],
]


@st.composite
def mutated(draw: st.DrawFn, config: dict) -> dict:
    """``config`` with 0 to 3 fields replaced by hostile values, deleted or misspelt, anywhere."""
    config = copy.deepcopy(config)
    for _ in range(draw(st.integers(0, 3))):
        paths: list = []

        def walk(node, path):
            if isinstance(node, dict):
                for k, v in node.items():
                    paths.append(path + [k])
                    walk(v, path + [k])
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    paths.append(path + [i])
                    walk(v, path + [i])

        walk(config, [])
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = config
        for k in path[:-1]:
            parent = parent[k]
        op = draw(st.sampled_from(["replace", "replace", "replace", "delete", "rename"]))
        if op == "replace":
            parent[path[-1]] = copy.deepcopy(draw(st.sampled_from(HOSTILE)))
        elif op == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[str(path[-1]) + "s"] = parent.pop(path[-1])
    return config


def _num(lo, hi):
    """A plausible number between lo and hi: an int, a float or a bound."""
    ints = [st.integers(math.ceil(lo), math.floor(hi))] if math.ceil(lo) <= math.floor(hi) else []
    return st.one_of(*ints, st.floats(lo, hi), st.sampled_from([lo, hi]))


@st.composite
def ppdet_configs(draw: st.DrawFn) -> dict:
    decay = draw(st.sampled_from(["PiecewiseDecay", "CosineDecay"]))
    if decay == "PiecewiseDecay":
        d: dict = {
            "name": decay,
            "milestones": sorted(draw(st.lists(st.integers(1, 30), max_size=4, unique=True))),
            "gamma": draw(st.one_of(_num(0, 1), st.lists(_num(0, 1), max_size=5))),
        }
        if draw(st.booleans()):
            d["values"] = draw(
                st.lists(_num(0, 1), min_size=len(d["milestones"]) + 1, max_size=len(d["milestones"]) + 1)
            )
    else:
        d = {
            "name": decay,
            "max_epochs": draw(st.integers(1, 40)),
            "min_lr_ratio": draw(_num(0, 1)),
            "last_plateau_epochs": draw(st.sampled_from([0, 1, 2.5, 0.01])),
        }
    d["use_warmup"] = draw(st.booleans())
    warm = draw(st.sampled_from(["LinearWarmup", "ExpWarmup", "BurninWarmup"]))
    w: dict = {"name": warm, "steps": draw(st.integers(0, 400))}
    if warm != "BurninWarmup" and draw(st.booleans()):
        w["epochs"] = draw(st.sampled_from([0, 1, 2, 0.5, 0.001]))
    if warm == "LinearWarmup":
        w["start_factor"] = draw(_num(0, 2))
    if warm == "ExpWarmup":
        w["power"] = draw(_num(0, 5))
    config = {"base_lr": draw(_num(0, 1)), "schedulers": [d, w]}
    if draw(st.booleans()):
        config = {"LearningRate": config}
    return draw(mutated(config))


def _sound_or_value_error(build, section: str) -> None:
    t0 = time.perf_counter()
    try:
        out = build()
    except ValueError as e:
        msg = str(e)
        assert "\n" not in msg and len(msg) < 600, msg
        assert time.perf_counter() - t0 < 1.0
        return
    assert time.perf_counter() - t0 < 1.0
    for s in out if isinstance(out, list) else [out]:
        sound(s)


@settings(deadline=None, max_examples=100)
@given(ppdet_configs(), st.sampled_from([1, 7, 100, 10**6, 10**15]))
def test_fuzz_paddledetection_configs_give_a_sound_schedule_or_a_value_error(config, spe):
    note(repr(config))
    _sound_or_value_error(lambda: from_ppdet(config, spe), "PaddleDetection")


@st.composite
def ppcls_configs(draw: st.DrawFn) -> dict:
    name = draw(st.sampled_from(["ConstLR", "Linear", "Cosine", "Step", "Piecewise", "MultiStepDecay"]))
    c: dict = {"name": name}
    if name != "Piecewise" or draw(st.booleans()):
        c["learning_rate"] = draw(_num(0, 1))
    if name == "Linear":
        c.update(end_lr=draw(_num(0, 0.01)), power=draw(_num(0.1, 3)), cycle=draw(st.booleans()))
    elif name == "Cosine":
        c["eta_min"] = draw(_num(0, 0.01))
    elif name == "Step":
        c.update(step_size=draw(st.sampled_from([1, 2, 0.5, 3])), gamma=draw(_num(0, 0.99)))
    elif name == "MultiStepDecay":
        c.update(
            milestones=sorted(draw(st.lists(st.integers(1, 20), max_size=4, unique=True))), gamma=draw(_num(0, 0.99))
        )
    elif name == "Piecewise":
        k = draw(st.integers(1, 4))
        c.update(
            decay_epochs=sorted(draw(st.lists(st.integers(1, 20), min_size=k, max_size=k, unique=True))),
            values=draw(st.lists(_num(0, 1), min_size=k + 1, max_size=k + 1)),
        )
    if draw(st.booleans()):
        c.update(
            warmup_epoch=draw(st.sampled_from([0, 1, 2, 0.5, 30])), warmup_start_lr=draw(st.sampled_from([0.0, 0.0001]))
        )
    if draw(st.booleans()):
        c["by_epoch"] = draw(st.booleans())
    if draw(st.booleans()):
        c = {"Global": {"epochs": 10}, "Optimizer": {"name": "Momentum", "lr": c}}
    return draw(mutated(c))


@settings(deadline=None, max_examples=100)
@given(ppcls_configs(), st.sampled_from([1, 10, 120, 10**6]), st.sampled_from([1, 37, 5000]))
def test_fuzz_paddleclas_configs_give_a_sound_schedule_or_a_value_error(config, epochs, n):
    import paddle.optimizer.lr  # noqa: F401  (imported once, outside the timed reading)

    note(repr(config))
    _sound_or_value_error(lambda: from_ppcls(config, epochs, n), "PaddleClas")


@st.composite
def deepspeed_configs(draw: st.DrawFn) -> tuple[dict, object]:
    kind = draw(st.sampled_from(["WarmupLR", "WarmupDecayLR", "WarmupCosineLR", "OneCycle"]))
    groups = draw(st.sampled_from([1, 2]))

    def lr():
        one = _num(0, 0.1)
        return draw(one if groups == 1 or draw(st.booleans()) else st.lists(one, min_size=groups, max_size=groups))

    if kind == "OneCycle":
        p: dict = {"cycle_min_lr": lr(), "cycle_max_lr": lr(), "cycle_first_step_size": draw(_num(1, 500))}
        for k, v in (
            ("cycle_second_step_size", _num(0, 500)),
            ("cycle_first_stair_count", _num(0, 20)),
            ("cycle_second_stair_count", _num(0, 20)),
            ("decay_step_size", _num(0, 100)),
            ("decay_lr_rate", _num(0, 1)),
        ):
            if draw(st.booleans()):
                p[k] = draw(v)
    else:
        p = {"warmup_num_steps": draw(st.integers(1, 500)), "warmup_type": draw(st.sampled_from(["log", "linear"]))}
        if kind == "WarmupCosineLR":
            p.update(warmup_min_ratio=draw(_num(0, 1)), cos_min_ratio=draw(_num(0, 1)))
        else:
            p.update(warmup_min_lr=lr(), warmup_max_lr=lr())
        if kind != "WarmupLR":
            p["total_num_steps"] = draw(_num(0, 2000))
    config: dict = {"type": kind, "params": p}
    if draw(st.booleans()):
        config = {"scheduler": config}
    lrs = draw(st.sampled_from([None, 0.1, [0.1, 0.01]]))
    return draw(mutated(config)), lrs


@settings(deadline=None, max_examples=100)
@given(deepspeed_configs())
def test_fuzz_deepspeed_configs_give_a_sound_schedule_or_a_value_error(config_lrs):
    config, lrs = config_lrs
    note(repr(config))
    _sound_or_value_error(lambda: from_deepspeed(config, lrs=lrs), "DeepSpeed")


ULTRALYTICS_ARGS = (
    "lr0",
    "lrf",
    "epochs",
    "batches",
    "warmup_epochs",
    "warmup_bias_lr",
    "warmup_momentum",
    "momentum",
    "cos_lr",
    "version",
    "lr0s",
    "groups",
)


@st.composite
def ultralytics_settings(draw: st.DrawFn) -> dict:
    kw = dict(
        lr0=draw(_num(1e-4, 0.1)),
        lrf=draw(_num(0, 1)),
        epochs=draw(st.integers(1, 300)),
        batches=draw(st.integers(1, 2000)),
        warmup_epochs=draw(_num(0, 5)),
        warmup_bias_lr=draw(_num(0, 0.1)),
        warmup_momentum=draw(_num(0, 1)),
        momentum=draw(_num(0, 1)),
        cos_lr=draw(st.booleans()),
        version=draw(st.sampled_from(["8.4.190", "8.1.0", "yolov5", "8.0.50"])),
    )
    return draw(mutated(kw))


@settings(deadline=None, max_examples=100)
@given(ultralytics_settings())
def test_fuzz_ultralytics_settings_give_sound_schedules_or_a_value_error(kw):
    note(repr(kw))
    args = {k: v for k, v in kw.items() if k in ULTRALYTICS_ARGS}  # a misspelt keyword is Python's TypeError
    pos = [args.pop(k, None) for k in ("lr0", "lrf", "epochs", "batches")]

    def build():
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", lk.recipes.DropInWarning)
            s = ultralytics_schedules(*pos, **args)
        return list(s.lr) + [s.momentum]

    _sound_or_value_error(build, "ultralytics")


# -- reading and drawing: bounded reads of any source, the pixel bound (tests/test_files_hostile.py) --

import io  # noqa: E402

from test_files_hostile import Counting, _undecodable  # noqa: E402

from lrkit._files import read_text  # noqa: E402


@settings(deadline=None)
@given(
    limit=st.integers(0, 3000),
    delta=st.one_of(st.integers(-3, 3), st.integers(-3000, 3000)),
    kind=st.sampled_from(["path", "binary", "text", "chunked"]),
    tail=st.sampled_from([b"", b"\xff", b"\x00", "é".encode(), b"\xef\xbb\xbf"]),
)
def test_fuzz_read_text_is_bounded_and_exact(tmp_path_factory, limit, delta, kind, tail):
    """Any source around any limit: the exact text when it fits, else a ValueError naming the source
    and the limit; never more than limit + 1 units asked of a stream."""
    data = b"a" * max(0, limit + delta) + tail
    if kind == "path":
        p = tmp_path_factory.mktemp("r") / "f.txt"
        p.write_bytes(data)
        source, units = str(p), len(data)
    elif kind == "binary":
        source, units = Counting(data), len(data)
    elif kind == "chunked":
        source, units = io.BufferedReader(io.BytesIO(data), buffer_size=7), len(data)
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return
        source, units = Counting(text), len(text)
    try:
        got = read_text(source, "the source", limit=limit)
    except ValueError as e:
        msg = str(e)
        assert "the source" in msg
        if units > limit:
            assert f"{limit:,}" in msg
        else:
            assert b"\x00" in data or _undecodable(data), msg
    else:
        assert units <= limit
        assert got == data.decode("utf-8-sig")
        assert "\x00" not in got
    if isinstance(source, Counting):
        assert source.asked == [limit + 1]


@given(w=st.floats(1, 50), h=st.floats(1, 50), dpi=st.one_of(st.integers(1, 1000), st.floats(1, 1000)))
def test_fuzz_pixel_bound_refuses_exactly_what_is_over_and_suggests_a_dpi_that_fits(w, h, dpi):
    import re

    from lrkit.plot import _check_pixels

    pixels = math.ceil(w * dpi) * math.ceil(h * dpi)
    try:
        _check_pixels((w, h), dpi)
    except ValueError as e:
        assert pixels > 50_000_000 and f"{pixels:,} pixels" in str(e)
        fit = int(re.search(r"at most (\d+) at this size", str(e)).group(1))
        _check_pixels((w, h), fit)  # the dpi it suggests fits, one more does not
        assert math.ceil(w * (fit + 1)) * math.ceil(h * (fit + 1)) > 50_000_000
    else:
        assert pixels <= 50_000_000
