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
from hypothesis import given, note, settings, strategies as st

import lrkit as lk

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

FMAX = sys.float_info.max

NUMBERS = [0, 0.0, 5e-324, 1e-310, 1e-300, 1e-9, 0.001, 0.1, 0.5, 0.9, 1, 1.0, 2, 3, 7.5, 10, 45, 100, 1000,
           1e6, 1e15, 2.0 ** 53, 1e300, 9e307, 1e308, FMAX, -1, -0.0, -1e-300, math.nan, math.inf, -math.inf,
           10 ** 400, -10 ** 400, True]
STRINGS = ["2ep", "10%", "1e-3", "500 steps", "3E2", "0.5ep", "x", ""]

#: Parameters whose value is a schedule, or a list of schedules.
NESTED = {"schedule"}
NESTED_LISTS = {"segments", "schedules"}
NUMBER_LISTS = {"milestones", "boundaries", "steps"}
CHOICES = {"shape": ["linear", "power", "exponential", "constant", "cubic", "cosine", "1-sqrt", "sqrt", "cos"],
           "mode": ["triangular", "triangular2", "exp_range", "sine"],
           "lf": [None, "cos", "linear", "exp"],
           "three_phase": [True, False, "false"],
           "staircase": [True, False, 1]}

KINDS = sorted(lk.registered())
LEAF_KINDS = [k for k in KINDS if not (set(inspect.signature(lk.registered()[k].__init__).parameters)
                                        & (NESTED | NESTED_LISTS))]

number = st.one_of(st.sampled_from(NUMBERS), st.floats(allow_nan=True, allow_infinity=True),
                   st.floats(0.0, 1000.0), st.integers(-5, 10 ** 6))
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
        out["boundaries"] = sorted(draw(st.lists(st.sampled_from([1, 5, 10, 100, 1e6, 1e15, 1e300]),
                                                 min_size=n, max_size=n, unique=True)))
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

REPLAN_NUMBERS = [0, 1e-9, 0.5, 1, 3, 100, 1e4, 1e7, 1e300, FMAX, -1, math.nan, math.inf, 10 ** 400]
replan_op = st.tuples(st.sampled_from(["total_steps", "cooldown", "tail", "tail_jump"]),
                      st.one_of(st.sampled_from([0, 1, 7, 1000, -1, -50]), st.integers(-100, 10 ** 5)),
                      st.one_of(st.sampled_from(REPLAN_NUMBERS), st.floats(0, 1e6)),
                      st.integers(0, 5))


@settings(deadline=None, max_examples=150)
@given(ops=st.lists(replan_op, max_size=40))
def test_any_sequence_of_re_plans_is_checked_whole_stays_flat_and_resumes(ops):
    """A re-plan either applies whole or raises ValueError/TypeError and changes nothing; at in
    the past is refused; the plan's depth stays fixed; a state resumes the same lrs."""
    import torch

    from lrkit.torch import ScheduleLR

    def make():
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        return ScheduleLR(opt, lk.WarmupCosine(peak_lr=1.0, total_steps=10 ** 5, warmup_steps=100, min_lr=1e-4))

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
