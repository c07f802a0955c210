"""The three seed recipes: reference values, closed-form CAWB vs the stepped algorithm, validation."""

from __future__ import annotations

import contextlib
import copy
import json
import math
import pickle
import re
import warnings

import numpy as np
import pytest
from reference import REF, SteppedCAWB

import lrkit as lk
from lrkit.recipes import CAWB, CawbLf, DropInWarning, TorchvisionWarmup, YoloxCos, YoloxStep, get_lr_scheduler

CASES = REF["cases"]


def cases(recipe: str) -> list[dict]:
    return [c for c in CASES if c["recipe"] == recipe]


def bits(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float64).view(np.int64)


def ignored_restarts(epochs, steps=(), warmup_epoch=0, **_) -> contextlib.AbstractContextManager:
    """What building a CAWB with these arguments must say: restart epochs outside
    ``(warmup_epoch, epochs)`` are ignored, as in the original, with a DropInWarning naming
    them, except the last epoch itself (the original's own configs list it; it changes
    nothing); nothing otherwise."""
    outside = [x for x in steps if not warmup_epoch < x < epochs and x != epochs]
    if not outside:
        return contextlib.nullcontext()
    listed = re.escape(", ".join(f"{x:g}" for x in outside))
    return pytest.warns(DropInWarning, match=rf"^CAWB: restart epochs {listed} are not between warmup_epoch")


# The reference's lf texts, as the user would have written them (Python functions), and
# as the config-safe named families.
LF_FUNCS = {
    "cos_0.8_0.2": lambda x, gap: ((1 + math.cos(x * math.pi / gap)) / 2) * 0.8 + 0.2,
    "linear_0.9_0.1": lambda x, gap: (1 - x / gap) * 0.9 + 0.1,
    None: None,
}
LF_NAMED = {"cos_0.8_0.2": CawbLf("cos", 0.8, 0.2), "linear_0.9_0.1": CawbLf("linear", 0.9, 0.1), None: None}


# -- reference cases ------------------------------------------------------------------------------


@pytest.mark.parametrize("c", cases("get_lr_scheduler"), ids=lambda c: f"{c['lr_decay_type']}-T{c['total_iters']}")
def test_get_lr_scheduler_reproduces_the_reference_bit_for_bit(c):
    kw = {k: c[k] for k in ("warmup_iters_ratio", "warmup_lr_ratio", "no_aug_iter_ratio", "step_num") if k in c}
    f = get_lr_scheduler(c["lr_decay_type"], c["lr"], c["min_lr"], c["total_iters"], **kw)
    exp = np.array(c["expected_lr"])
    scal = np.array([f(x) for x in c["iters"]])
    arr = f(np.array(c["iters"], dtype=float))
    np.testing.assert_allclose(scal, exp, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(bits(scal), bits(exp))
    np.testing.assert_array_equal(bits(arr), bits(exp))


@pytest.mark.parametrize("c", cases("warmup_lr_scheduler"), ids=lambda c: f"W{c['warmup_iters']}")
def test_torchvision_warmup_reproduces_the_reference_bit_for_bit(c):
    s = TorchvisionWarmup(c["warmup_iters"], c["warmup_factor"])
    # LambdaLR applies base_lr * m(x); x = 0 at construction, + 1 per scheduler.step().
    got = np.array([[b * s(x) for b in c["base_lrs"]] for x in range(c["iterations"])])
    exp = np.array(c["expected_lr_per_iteration"])
    np.testing.assert_allclose(got, exp, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(bits(got), bits(exp))
    arr = s(np.arange(c["iterations"], dtype=float))
    np.testing.assert_array_equal(bits(arr), bits([s(x) for x in range(c["iterations"])]))


def _cawb(c: dict, lf_table: dict) -> CAWB:
    with ignored_restarts(**c):
        return CAWB(
            c["epochs"],
            c["eta_min"],
            c["steps"],
            c["step_scale"],
            lf_table[c["lf_id"]],
            c["batchs"],
            c["warmup_epoch"],
            c["epoch_scale"],
        )


@pytest.mark.parametrize("lf_table", [LF_NAMED, LF_FUNCS], ids=["named-lf", "python-lf"])
@pytest.mark.parametrize("c", cases("CosineAnnealingWarmbootingLR"), ids=lambda c: f"E{c['epochs']}-{c['lf_id']}")
def test_cawb_reproduces_the_reference(c, lf_table):
    s = _cawb(c, lf_table)
    E, nb, base = c["epochs"], c["batchs"], c["base_lrs"]
    L = c["last_epoch"]
    # step(): the n-th call (n from 0) has counter n; it returns the first group's lr.
    steps = [s.step_lr(base[0], n, L) for n in range(E)]
    np.testing.assert_array_equal(bits(steps), bits(c["expected_step_returns"]))
    # step_batch(): k / warmup_iters of the first group's base lr, None after warmup.
    sb = [None if (r := s.warmup_factor(k)) is None else base[0] * r for k in range(E * nb)]
    assert sb == c["expected_step_batch_returns"]
    # Every group's lr at every batch of the canonical loop.
    exp = np.array(c["expected_lr_per_batch"])
    exact = np.array([[s.batch_lr(b, p) for b in base] for p in range(E * nb)])
    np.testing.assert_array_equal(bits(exact), bits(exp))
    # The schedule of the multiplier: rtol 1e-12 (base * (scale * factor) is within an ulp).
    mult = s(np.arange(E * nb, dtype=float))
    np.testing.assert_allclose(mult[:, None] * np.array(base)[None, :], exp, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(bits(mult), bits([s(p) for p in range(E * nb)]))
    # And position = epoch * batchs + batch.
    assert s.position(3, 2) == 3 * nb + 2


# -- the original CAWB algorithm, stepped, written from its description -----------------------

KW = [
    dict(epochs=45, steps=[15, 30, 45], step_scale=0.7, batchs=4, warmup_epoch=5),
    dict(epochs=40, steps=[30, 10, 20, 10], step_scale=0.5, batchs=3, warmup_epoch=2, epoch_scale=4.0),
    dict(epochs=12.5, steps=[3.5, 7.25], batchs=2, warmup_epoch=1.5, epoch_scale=0.0),
    dict(epochs=20, steps=[5, 5, 12, 25, -1], step_scale=1.25, eta_min=0.0),
    dict(epochs=10, steps=[], batchs=5, warmup_epoch=0.6),
    dict(epochs=20, steps=[8, 14], batchs=0, warmup_epoch=3),  # no ramp, cosine shifted by 3
    dict(epochs=9.5, steps=[4], batchs=0, warmup_epoch=2.5, epoch_scale=0.5),
]


@pytest.mark.parametrize("kw", KW, ids=range(len(KW)))
@pytest.mark.parametrize("last_epoch", [0, 3, 7.5])
def test_cawb_closed_form_equals_stepping_including_past_the_end_and_resume(kw, last_epoch):
    ref = SteppedCAWB([0.1, 0.02], **kw)
    ref.last_epoch = last_epoch
    with ignored_restarts(**kw):
        s = CAWB(**kw)
    E = kw["epochs"]
    for n in range(int(E) + 15):  # well past the end: the carried-gap quirk
        got = [s.step_lr(b, n, last_epoch) for b in ref.base]
        assert ref.step() == got[0]
        assert ref.lrs == got
        scale, factor = s.step_terms(n, last_epoch)
        assert s.step_factor(n, last_epoch) == scale * factor


@pytest.mark.parametrize("kw", KW, ids=range(len(KW)))
def test_cawb_schedule_is_the_canonical_loop(kw):
    kw = dict(kw)
    nb = int(kw.get("batchs", 0))
    ref = SteppedCAWB([0.1], **kw)
    with ignored_restarts(**kw):
        s = CAWB(**kw)
    per = max(nb, 1)
    applied = []
    for _ in range(int(kw["epochs"]) + 6):
        for _ in range(per):
            if nb:
                ref.step_batch()
            applied.append(ref.lrs[0])
        ref.step()
    pos = np.arange(len(applied), dtype=float)
    np.testing.assert_array_equal(bits([s.batch_lr(0.1, p) for p in pos]), bits(applied))
    np.testing.assert_allclose(0.1 * s(pos), applied, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(bits(s(pos)), bits([s(p) for p in pos]))


def test_cawb_external_iter_jumps():
    kw = dict(epochs=30, steps=[10, 20], batchs=0)
    ref, s = SteppedCAWB([1.0], **kw), CAWB(**kw)
    # Jumps that land at or below `epochs`, then stepping on past the end: identical.
    for ext in [None, None, 17, None, 4, None, None, 28, None, None, None, None, None]:
        ref.step(ext)
        assert ref.lrs[0] == s.step_lr(1.0, ref.iters)
    # A jump from inside segment 0 straight past the end: the original reuses segment
    # 0's gap (history); lrkit gives what step-by-step stepping would give (last segment).
    ref2 = SteppedCAWB([1.0], **kw)
    ref2.step(3)
    ref2.step(40)
    walked = SteppedCAWB([1.0], **kw)
    for _ in range(41):
        walked.step()
    assert s.step_lr(1.0, 40) == walked.lrs[0]
    assert ref2.gap == 11 and walked.gap == 10 and s.locate(40)[2] == 10


def test_cawb_resume_past_the_end_does_not_divide_by_zero():
    s = CAWB(epochs=10, steps=[4])
    ref = SteppedCAWB([1.0], epochs=10, steps=[4])
    ref.last_epoch = 15
    with pytest.raises(ZeroDivisionError):  # the original: gap is still 0
        ref.step()
    walked = SteppedCAWB([1.0], epochs=10, steps=[4])
    for _ in range(16):
        walked.step()
    assert s.step_lr(1.0, 0, last_epoch=15) == walked.lrs[0]


def test_cawb_first_epoch_after_warmup_is_just_below_the_peak():
    s = CAWB(epochs=45, steps=[15, 30], batchs=10, warmup_epoch=5)
    scale, x, gap = s.locate(4)
    assert (scale, x, gap) == (1.0, -1.0, 11.0)
    v = s(5 * 10)
    assert v == ((1 + math.cos(-math.pi / 11)) / 2) * 0.95 + 0.05 and v < 1


def test_cawb_warmup_epoch_without_batchs_shifts_the_cosine_with_no_ramp():
    """batchs=0 with warmup_epoch > 0: the original's warmup_iters is 0 (no ramp) but B[0] = warmup_epoch.

    The reference is the documented algorithm run step by step (tests/reference.py, no lrkit code).
    """
    E, steps, we, eta, ss, es = 20, [8, 14], 3, 0.05, 0.8, 1.0
    base = [0.1, 0.03]

    # -- the documented loop (tests/reference.py), one step_batch() per epoch -------------------
    ref = SteppedCAWB(base, E, eta_min=eta, steps=steps, step_scale=ss, batchs=0, warmup_epoch=we, epoch_scale=es)
    applied, step_returns, batch_returns = [], [], []
    for _ in range(E + 4):
        batch_returns.append(ref.step_batch())
        applied.append(list(ref.lrs))  # the lrs this epoch trains with
        step_returns.append(ref.step())  # step() at the end of the epoch

    s = CAWB(epochs=E, eta_min=eta, steps=steps, step_scale=ss, batchs=0, warmup_epoch=we, epoch_scale=es)
    assert s.warmup_iters == 0 and s.boundaries == (3.0, 8.0, 14.0, 20.0)
    assert all(r is None for r in batch_returns)
    assert all(s.warmup_factor(k) is None for k in range(len(batch_returns)))
    # what step() writes, bit for bit, in the original's order of operations
    assert [s.step_lr(base[0], n) for n in range(len(step_returns))] == step_returns
    # the canonical loop: position = epoch (batchs = 0); epoch 0 keeps the base lrs
    assert applied[0] == base
    assert [[s.batch_lr(b, e) for b in base] for e in range(len(applied))] == applied
    np.testing.assert_allclose(
        np.array(base)[None, :] * s(np.arange(len(applied), dtype=float))[:, None], applied, rtol=1e-12, atol=0
    )
    # the shift: epoch 1's step() (iters 0) sees t - B[0] = -3, so the epochs up to the
    # first boundary climb back up the cosine towards its peak instead of starting there
    assert s.locate(0) == (1.0, -3.0, 6.0)
    assert s(1) < s(2) < s(3) < s(4) == 1.0
    # the phases: one per cosine segment, cut where the applied multiplier jumps back up
    # (restart epochs 8 and 14 take effect in epochs 10 and 16), then the curve past epochs
    assert s.restart_epochs() == [10, 16]
    assert [(p.name, p.start, p.end) for p in s.phases()] == [
        ("cycle 1", 0.0, 10.0),
        ("cycle 2", 10.0, 16.0),
        ("cycle 3", 16.0, 20.0),
        ("past epochs", 20.0, math.inf),
    ]
    assert all(p.start_value == s(p.start) for p in s.phases())


# -- the warmup multiplier -----------------------------------------------------------------------


def test_torchvision_warmup_formula_and_zero_length():
    s = TorchvisionWarmup(1000, 0.001)
    for x in [0, 1, 499.5, 999, 1000, 5000]:
        a = x / 1000
        assert s(x) == (1.0 if x >= 1000 else 0.001 * (1 - a) + a)
    z = TorchvisionWarmup(0, 0.001)
    assert z(0) == 1.0 and z(0.5) == 1.0 and list(z(np.array([0.0, 3.0]))) == [1.0, 1.0]


@pytest.mark.parametrize("wf", [1.0, 1.5, 4.0])
def test_torchvision_warmup_factor_at_or_above_one_falls_to_one(wf):
    # The original accepts any factor: above 1 the multiplier starts high and falls to 1.
    s = TorchvisionWarmup(8, wf)
    xs = [0, 1, 2.5, 7, 7.9, 8, 100]
    expected = [1.0 if x >= 8 else wf * (1 - x / 8) + x / 8 for x in xs]
    assert [s(x) for x in xs] == expected
    np.testing.assert_array_equal(bits(s(np.array(xs, dtype=float))), bits(expected))
    assert s(0) == wf and s(8) == 1.0
    if wf > 1:
        assert all(a > b for a, b in zip(expected[:5], expected[1:6]))
        assert s.phases()[0].name == "ramp down (linear)"
    assert lk.from_dict(s.to_dict()) == s


# -- tiny runs of the YOLOX cosine ---------------------------------------------------------------


def original_yolox_cos(lr, min_lr, T, wr=0.1, sr=0.1, nr=0.3):
    """The documented function, as the original evaluates it (it may divide by zero)."""
    W = min(max(wr * T, 1), 3)
    s = max(sr * lr, 1e-6)
    N = min(max(nr * T, 1), 15)

    def f(x):
        if x <= W:
            return (lr - s) * pow(x / float(W), 2) + s
        if x >= T - N:
            return min_lr
        return min_lr + 0.5 * (lr - min_lr) * (1.0 + math.cos(math.pi * (x - W) / (T - W - N)))

    return f


@pytest.mark.parametrize("T", [0.25, 0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 7, 10, 13])
@pytest.mark.parametrize("ratios", [(0.1, 0.1, 0.3), (0.0, 0.5, 0.0), (2.0, 0.0, 2.0), (0.5, 1.0, 0.9)])
def test_yolox_cos_tiny_runs_never_fail_and_match_at_integers(T, ratios):
    f = YoloxCos(0.01, 0.0001, T, *ratios)
    orig = original_yolox_cos(0.01, 0.0001, T, *ratios)
    xs = np.concatenate([np.linspace(0, T + 3, 997), np.arange(0, int(T) + 4, dtype=float)])
    vals = f(xs)
    assert np.all(np.isfinite(vals)) and np.all(vals > 0)
    np.testing.assert_array_equal(bits(vals), bits([f(x) for x in xs]))
    for x in range(int(T) + 4):
        assert f(x) == orig(x)


def test_yolox_cos_shape_quadratic_warmup_cosine_flat_tail():
    f = YoloxCos(0.01, 0.0001, 300)
    assert (f.warmup_iters, f.no_aug_iters, f.warmup_lr_start) == (3.0, 15.0, 0.001)
    assert f(1.5) == (0.01 - 0.001) * 0.5**2 + 0.001  # quadratic, not linear
    assert f(285) == f(299) == f(10_000) == 0.0001  # flat tail for the last N
    assert f(3 + (285 - 3) / 2) == pytest.approx(0.0001 + 0.5 * (0.01 - 0.0001), rel=1e-12)
    names = [p.name for p in f.phases()]
    assert names == ["warmup (quadratic)", "cosine", "hold min_lr"]


def test_yolox_step_keeps_decaying_past_the_end_and_uses_python_floor_division():
    f = YoloxStep(0.01, 0.0001, 300, 10)
    r = (0.0001 / 0.01) ** (1 / 9)
    assert f(270) == 0.01 * r**9
    assert f(330) == 0.01 * r**11
    g = YoloxStep(1.0, 0.5, 2.2, 2)
    assert g(2.2) == 1.0 * g.decay_rate ** (2.2 // 1.1)  # == 1, not floor(2.2 / 1.1) == 2


# -- validation ----------------------------------------------------------------------------------

BAD_GET = [
    (("linear", 0.01, 0.0001, 300), {}, ValueError, "lr_decay_type"),
    (("cos", -0.01, 0.0, 300), {}, ValueError, "lr"),
    (("cos", 0.01, -1e-5, 300), {}, ValueError, "min_lr"),
    (("cos", 0.01, 0.0001, 0), {}, ValueError, "total_iters"),
    (("cos", 0.01, 0.0001, -5), {}, ValueError, "total_iters"),
    (("cos", math.nan, 0.0001, 300), {}, ValueError, "lr"),
    (("cos", 0.01, 0.0001, math.inf), {}, ValueError, "total_iters"),
    (("cos", 0.01, 0.0001, 300), {"no_aug_iter_ratio": math.nan}, ValueError, "no_aug_iter_ratio"),
    (("step", 0.01, 0.0001, 300), {"step_num": 1}, ValueError, "step_num"),
    (("step", 0.01, 0.0001, 300), {"step_num": 0}, ValueError, "step_num"),
    (("step", 0.01, 0.0001, 9), {"step_num": 10}, ValueError, "total_iters / step_num"),
    (("cos", "0.01", 0.0001, 300), {}, TypeError, "lr"),
    (("step", 0.0, 0.0, 300), {}, ValueError, "lr"),
    (("cos", 10, 0, 100), {"warmup_lr_ratio": 1e308}, ValueError, "warmup_lr_ratio"),
]


@pytest.mark.parametrize("args, kw, exc, name", BAD_GET, ids=[b[3] + str(i) for i, b in enumerate(BAD_GET)])
def test_get_lr_scheduler_rejects_bad_arguments_at_construction(args, kw, exc, name):
    with pytest.raises(exc, match=name.replace("/", ".")):
        get_lr_scheduler(*args, **kw)


def test_valid_edges_are_accepted():
    assert get_lr_scheduler("step", 0.01, 0.0001, 10, step_num=10)(9) == pytest.approx(0.0001, rel=1e-12)
    assert get_lr_scheduler("cos", 0.01, 0.01, 300)(100) == 0.01  # min_lr == lr
    assert get_lr_scheduler("step", 0.01, 0.0, 300)(299) == 0.0
    assert get_lr_scheduler("cos", 1e-7, 0.0, 300)(0) == 1e-6  # start clamped above a tiny lr, as the original
    with pytest.raises(ValueError, match="position"):
        get_lr_scheduler("cos", 0.01, 0.0001, 300)(-1)


BAD_CAWB = [
    (dict(epochs=0), ValueError, "epochs"),
    (dict(epochs=-3), ValueError, "epochs"),
    (dict(epochs=10, eta_min=1.5), ValueError, "eta_min"),
    (dict(epochs=10, eta_min=-0.1), ValueError, "eta_min"),
    (dict(epochs=10, step_scale=0), ValueError, "step_scale"),
    (dict(epochs=10, batchs=-1), ValueError, "batchs"),
    (dict(epochs=10, batchs=2.5), ValueError, "batchs"),
    (dict(epochs=10, batchs=4, warmup_epoch=-1), ValueError, "warmup_epoch"),
    (dict(epochs=10, batchs=4, warmup_epoch=10), ValueError, "warmup_epoch"),
    (dict(epochs=10, epoch_scale=-1), ValueError, "epoch_scale"),
    (dict(epochs=10, steps=[3, "5"]), TypeError, r"steps\[1\]"),
    (dict(epochs=10, steps=[3, math.nan]), ValueError, r"steps\[1\]"),
    (dict(epochs=10, steps=5), TypeError, "steps"),
    (dict(epochs=10, lf="exp"), ValueError, "lf"),
    (dict(epochs=10, lf=3), TypeError, "lf"),
    (dict(epochs=10, lf_amplitude=0.5), ValueError, "lf_amplitude"),
    (dict(epochs=10, lf="cos", lf_floor=-0.1), ValueError, "lf_floor"),
    (dict(epochs=math.inf), ValueError, "epochs"),
]


@pytest.mark.parametrize("kw, exc, name", BAD_CAWB, ids=[f"{b[2]}{i}" for i, b in enumerate(BAD_CAWB)])
def test_cawb_rejects_bad_arguments(kw, exc, name):
    with pytest.raises(exc, match=name):
        CAWB(**kw)


@pytest.mark.parametrize(
    "kw, name",
    [
        (dict(warmup_iters=-1, warmup_factor=0.1), "warmup_iters"),
        (dict(warmup_iters=5, warmup_factor=-0.1), "warmup_factor"),
        (dict(warmup_iters=5, warmup_factor=math.nan), "warmup_factor"),
        (dict(warmup_iters=5, warmup_factor=math.inf), "warmup_factor"),
        (dict(warmup_iters=math.nan, warmup_factor=0.1), "warmup_iters"),
    ],
)
def test_torchvision_warmup_rejects_bad_arguments(kw, name):
    with pytest.raises(ValueError, match=name):
        TorchvisionWarmup(**kw)


def test_cawb_does_not_mutate_steps():
    steps = [30, 10, 20]
    s = CAWB(epochs=40, steps=steps, batchs=3, warmup_epoch=2)
    assert steps == [30, 10, 20]
    assert s.boundaries == (2.0, 10.0, 20.0, 30.0, 40.0)
    assert s.steps == (30.0, 10.0, 20.0)


def test_cawb_user_lf_values_are_checked():
    s = CAWB(epochs=10, steps=[5], lf="linear", lf_amplitude=0.9, lf_floor=0.1)
    # Past the end the unshifted position makes the linear factor negative: the schedule holds 0
    # there (a learning rate is never negative), the original's value stays readable.
    assert s.step_factor(12) == 0.0 and s(13) == 0.0
    assert s.lf_value(12, 6.0) == (1 - 12 / 6.0) * 0.9 + 0.1 < 0
    user = CAWB(epochs=10, steps=[5], lf=lambda x, gap: 1 - x / gap)
    with pytest.raises(ValueError, match="lf"):
        user.step_factor(12)
    bad = CAWB(epochs=10, lf=lambda x, gap: math.nan)
    with pytest.raises(ValueError, match="finite"):
        bad.step_factor(1)


def test_cawb_named_lf_defaults_equal_the_builtin_decay():
    a, b = CAWB(epochs=20, steps=[7]), CAWB(epochs=20, steps=[7], lf="cos")
    np.testing.assert_array_equal(
        bits([a.step_factor(n) for n in range(25)]), bits([b.step_factor(n) for n in range(25)])
    )


# -- schedules: config, pickle, arrays -----------------------------------------------------------

with ignored_restarts(45, [15, 30, 45], 5):
    _CAWB_45 = CAWB(45, 0.05, [15, 30, 45], 0.7, "cos", 50, 5, 1.0, 0.8, 0.2)
with ignored_restarts(150, [50, 100, 150]):
    _CAWB_150 = CAWB(150, steps=[50, 100, 150], batchs=4)

SCHEDULES = [
    YoloxCos(0.01, 0.0001, 300),
    YoloxCos(0.001, 1e-5, 7),
    YoloxCos(0.01, 0.0001, 2),
    YoloxStep(0.01, 0.0001, 300, 10),
    TorchvisionWarmup(1000, 0.001),
    TorchvisionWarmup(0, 0.5),
    _CAWB_45,
    CAWB(
        40, steps=[30, 10, 20], step_scale=0.5, lf=CawbLf("linear", 0.9, 0.1), batchs=3, warmup_epoch=2, epoch_scale=4.0
    ),
    _CAWB_150,
    CAWB(12.5, steps=[3.5, 7.25], batchs=2, warmup_epoch=1.5),
    CAWB(30, steps=[10, 20]),
]


@pytest.mark.parametrize("s", SCHEDULES, ids=repr)
def test_round_trips_and_identities(s):
    d = s.to_dict()
    again = ignored_restarts(s.epochs, s.steps, s.warmup_epoch) if isinstance(s, CAWB) else contextlib.nullcontext()
    with again:  # built again: the same warning
        back = lk.from_dict(json.loads(json.dumps(d, allow_nan=False)))
    assert back == s and type(back) is type(s) and back.to_dict() == d
    with warnings.catch_warnings():
        # a copy may warn again (unpickling builds anew) or not (deepcopy): equality is what is checked here
        warnings.simplefilter("ignore", DropInWarning)
        assert pickle.loads(pickle.dumps(s)) == s and copy.deepcopy(s) == s
    horizon = 300.0 if not math.isfinite(s.length) or s.length < 1 else 1.3 * s.length
    if isinstance(s, CAWB):
        # (a linear lf goes negative two epochs past the end, which is refused)
        horizon = (s.epochs + (1.5 if s.lf == "linear" else 4)) * max(s.batchs, 1)
    pos = np.concatenate([np.linspace(0, horizon, 1001), np.arange(0, int(horizon) + 1, dtype=float)])
    vals = s(pos)
    np.testing.assert_array_equal(bits(vals), bits(back(pos)))
    np.testing.assert_array_equal(bits(vals), bits([s(float(x)) for x in pos]))
    np.testing.assert_array_equal(
        bits(vals[:20]), bits([s(int(x)) if x.is_integer() else s(x) for x in pos[:20].tolist()])
    )
    assert np.all(np.isfinite(vals)) and np.all(vals >= 0)
    even = pos[: 2 * (len(pos) // 2)]
    assert s(even.reshape(2, -1)).shape == (2, len(even) // 2)
    phases = s.phases()
    assert phases[0].start == 0 and phases[-1].end == math.inf
    assert all(a.end == b.start for a, b in zip(phases, phases[1:]))
    assert s.describe()


def test_python_lf_cannot_be_written_as_a_config():
    s = CAWB(epochs=10, lf=LF_FUNCS["cos_0.8_0.2"])
    with pytest.raises(TypeError, match="config"):
        s.to_dict()


def test_config_kinds_and_named_lf():
    with ignored_restarts(45, [15, 30, 45], 5):
        s = lk.from_dict(
            {
                "type": "cawb",
                "epochs": 45,
                "steps": [15, 30, 45],
                "step_scale": 0.7,
                "batchs": 50,
                "warmup_epoch": 5,
                "lf": "cos",
                "lf_amplitude": 0.8,
                "lf_floor": 0.2,
            }
        )
    c = cases("CosineAnnealingWarmbootingLR")[0]
    assert s == _cawb(c, LF_NAMED)
    f = lk.from_dict({"type": "yolox_cos", "lr": 0.01, "min_lr": 0.0001, "total_iters": 300})
    assert f == get_lr_scheduler("cos", 0.01, 0.0001, 300)
    assert lk.from_dict({"type": "yolox_step", "lr": 0.01, "min_lr": 0.0001, "total_iters": 300}).step_num == 10
    assert lk.from_dict({"type": "torchvision_warmup", "warmup_iters": 5, "warmup_factor": 0.1})(0) == 0.1


@pytest.mark.parametrize(
    "lr, min_lr, total, n", [(2, 1, 10, 6), (0.01, 0.0001, 300, 7), (1, 0.1, 1e4 / 3, 9), (0.1, 0.05, 999.9, 13)]
)
def test_yolox_step_phases_start_where_its_floor_division_steps(lr, min_lr, total, n):
    import math

    s = YoloxStep(lr=lr, min_lr=min_lr, total_iters=total, step_num=n)
    for p in s.phases()[:-1]:
        assert s(p.start) == p.start_value
        if p.start > 0:  # the position just before belongs to the phase before
            assert s(math.nextafter(p.start, 0)) != p.start_value or p.continuous
        assert s(math.nextafter(p.end, 0)) == p.end_value
