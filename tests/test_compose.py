"""Composition and introspection: local positions, joins, phases as data, describe()."""

from __future__ import annotations

import math

import numpy as np
import pytest

import lrkit as lk
from lrkit import Phase

INF = math.inf


def table(s: lk.Schedule) -> list[tuple]:
    return [(p.name, p.start, p.end, p.start_value, p.end_value, p.continuous) for p in s.phases()]


# -- composition semantics ------------------------------------------------------------------------


def test_sequence_segments_see_local_positions():
    a, b, c = lk.Linear(1.0, 100), lk.Cosine(0.5, 50), lk.Exponential(0.2, 0.9)
    s = lk.Sequence([a, b, c], [20, 70])
    t = np.array([0, 19.5, 20, 44, 69.9, 70, 75.5])
    want = [a(0), a(19.5), b(0), b(24), b(49.9), c(0), c(5.5)]
    assert s(t).tolist() == want
    assert [s(x) for x in t] == want


def test_nested_sequences_and_warmups_compose_positions():
    inner = lk.Sequence([lk.Constant(0.3), lk.Linear(0.3, 10)], [5])
    s = lk.Warmup(lk.Sequence([inner, lk.Constant(0.01)], [12]), 4)
    assert s(2) == pytest.approx(0.15)
    assert s(4 + 3) == 0.3  # inner constant
    assert s(4 + 5 + 5) == pytest.approx(0.15)  # inner linear, half way
    assert s(4 + 12) == 0.01


def test_warmup_prepended_to_any_schedule_ends_at_its_start():
    for inner in (
        lk.Cosine(0.1, 10),
        lk.OneCycle(0.1, 100),
        lk.Cyclic(0.1, 5, min_lr=0.01),
        lk.WarmupStableDecay(0.2, 9, 3),
        lk.Scale(lk.Step(0.1, 3), 2),
    ):
        w = inner.with_warmup(7)
        assert w(7) == inner(0)
        assert w(7 - 1e-9) == pytest.approx(inner(0), rel=1e-9)
        assert w(0) == 0.0
        assert w.length == 7 + inner.length


def test_hold_freezes_last_value_or_a_floor():
    s = lk.Exponential(0.1, 0.5)
    assert lk.Hold(s, 3)(100) == s(3)
    assert lk.Hold(s, 3, 1e-4)(3) == 1e-4
    assert lk.Hold(s, 3)(2.99) == s(2.99)
    assert lk.Hold(s, 3).length == 3


def test_scale_clip_and_operators():
    c = lk.Cosine(0.1, 10)
    assert (c * 2)(5) == 2 * c(5) and (0.5 * c)(5) == 0.5 * c(5)
    assert c * 2 == lk.Scale(c, 2)
    assert lk.Clip(c, 0.02, 0.05)(0) == 0.05 and lk.Clip(c, 0.02, 0.05)(10) == 0.02


def test_per_step_lengths_and_fractional_epochs():
    ep = lk.MultiStep(0.1, [30, 60])
    it = ep.per_step(391)
    assert it.length == 60 * 391
    assert it(30 * 391 - 1) == 0.1 and it(30 * 391) == ep(30)
    assert it(np.array([195.5]))[0] == ep(195.5 / 391)


def test_value_semantics():
    a, b = lk.Cosine(0.1, 10), lk.Cosine(0.1, 10.0)
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert lk.Cosine(0.1, 10) != lk.Linear(0.1, 10)
    assert lk.Cosine(0.1, 10) != lk.Cosine(0.1, 11)
    assert repr(a) == "Cosine(peak_lr=0.1, total_steps=10, min_lr=0, k=1, exponent=1, cycles=0.5, after='hold')"
    assert eval(repr(lk.Warmup(a, 3)), vars(lk)) == lk.Warmup(a, 3)


# -- phases as data --------------------------------------------------------------------------------


def test_phases_of_a_sequence():
    cos = lk.Cosine(0.1, 90, 0.001)
    s = lk.Sequence([lk.Constant(0.1), cos, lk.Constant(0.0005)], [10, 100])
    assert table(s) == [
        ("constant", 0.0, 10.0, 0.1, 0.1, True),
        ("cosine", 10.0, 100.0, 0.1, 0.001, True),
        ("constant", 100.0, INF, 0.0005, 0.0005, False),
    ]


def test_phases_of_a_truncated_segment_end_at_the_boundary():
    s = lk.Sequence([lk.Linear(1.0, 10), lk.Linear(0.5, 10)], [5])
    assert table(s) == [
        ("linear", 0.0, 5.0, 1.0, 0.5, True),
        ("linear", 5.0, 15.0, 0.5, 0.0, True),
        ("hold min_lr", 15.0, INF, 0.0, 0.0, True),
    ]


def test_phases_of_warmup_cosine():
    s = lk.WarmupCosine(0.1, 100, 10, min_lr=0.001)
    assert table(s) == [
        ("warmup (linear)", 0.0, 10.0, 0.0, 0.1, True),
        ("cosine", 10.0, 100.0, 0.1, 0.001, True),
        ("hold min_lr", 100.0, INF, 0.001, 0.001, True),
    ]


def test_phases_of_a_constant_warmup_mark_the_jump():
    s = lk.Warmup(lk.Cosine(0.1, 90), 10, "constant", 0.1)
    (w, c, h) = s.phases()
    assert (w.start, w.end, w.start_value, w.end_value) == (0.0, 10.0, pytest.approx(0.01), pytest.approx(0.01))
    assert c.start == 10 and c.start_value == 0.1 and not c.continuous


def test_phases_of_hold_scale_clip_per_step():
    cos = lk.Cosine(0.1, 90, 0.001)
    assert table(lk.Hold(cos, 45, 0.002)) == [
        ("cosine", 0.0, 45.0, 0.1, cos(45), True),
        ("hold", 45.0, INF, 0.002, 0.002, False),
    ]
    assert table(lk.Hold(cos, 45))[-1] == ("hold", 45.0, INF, cos(45), cos(45), True)
    assert [p.start_value for p in lk.Scale(cos, 2).phases()] == [0.2, 0.002]
    assert [(p.start_value, p.end_value) for p in lk.Clip(cos, 0.01, 0.08).phases()] == [(0.08, 0.01), (0.01, 0.01)]
    ps = lk.PerStep(lk.MultiStep(0.1, [3, 6], 0.5), 100).phases()
    assert [(p.start, p.end, p.start_value) for p in ps] == [
        (0.0, 300.0, 0.1),
        (300.0, 600.0, 0.05),
        (600.0, INF, 0.025),
    ]


def test_phases_of_families():
    assert table(lk.OneCycle(0.1, 100, three_phase=True, start_lr=0.01, min_lr=0.0)) == [
        ("warm up", 0.0, 29.0, 0.01, 0.1, True),
        ("anneal down", 29.0, 58.0, 0.1, 0.01, True),
        ("anneal to min", 58.0, 99.0, 0.01, 0.0, True),
        ("hold min_lr", 99.0, INF, 0.0, 0.0, True),
    ]
    assert table(lk.WarmupStableDecay(0.1, 100, 20, 0.001, "1-sqrt")) == [
        ("stable", 0.0, 80.0, 0.1, 0.1, True),
        ("decay (1-sqrt)", 80.0, 100.0, 0.1, 0.001, True),
        ("hold min_lr", 100.0, INF, 0.001, 0.001, True),
    ]
    r = lk.CosineRestarts(0.1, 10, 2.0, 0.001, 0.5, max_cycles=3)
    assert table(r) == [
        ("cycle 1", 0.0, 10.0, 0.1, 0.001, True),
        ("cycle 2", 10.0, 30.0, 0.05, 0.001, False),
        ("cycle 3", 30.0, 70.0, 0.025, 0.001, False),
        ("hold min_lr", 70.0, INF, 0.001, 0.001, True),
    ]
    ms = lk.MultiStep(0.1, [30, 60], 0.1)
    assert [(p.start, p.end, p.continuous) for p in ms.phases()] == [(0, 30, True), (30, 60, False), (60, INF, False)]
    cyc = lk.Cyclic(1.0, 10, 30, min_lr=0.0).phases()
    assert [(p.name, p.start, p.end) for p in cyc[:3]] == [
        ("cycle 1 up", 0, 10),
        ("cycle 1 down", 10, 40),
        ("cycle 2 up", 40, 50),
    ]
    assert cyc[-1].end == INF and cyc[-1].end_value is None
    tanh = lk.Tanh(0.1, 100, 0.001).phases()
    assert tanh[1].start == 100 and not tanh[1].continuous  # tanh(3) stops short of the floor
    assert table(lk.Constant(0.1)) == [("constant", 0.0, INF, 0.1, 0.1, True)]


def test_phases_of_the_exp_range_rise_are_unbounded_when_it_peaks_early():
    gentle = lk.Cyclic(1.0, 10, mode="exp_range", gamma=0.99, min_lr=0.0).phases()
    steep = lk.Cyclic(1.0, 10, mode="exp_range", gamma=0.8, min_lr=0.0).phases()
    assert gentle[0].end_value is not None
    assert steep[0].end_value is None  # rises then falls inside 'cycle 1 up'


def test_phases_are_consecutive_and_cover_everything(example):
    ps = example.phases()
    assert ps[0].start == 0 and ps[-1].end == INF
    assert all(a.end == b.start for a, b in zip(ps, ps[1:]))
    assert all(isinstance(p, Phase) for p in ps)


def test_describe_lists_every_phase(example):
    text = example.describe()
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["phase", "start", "end"]
    assert set(lines[1]) <= {"-", " "}
    ps = example.phases()
    assert len(lines) == 2 + len(ps)
    for p, line in zip(ps, lines[2:]):
        assert line.startswith(p.name)
        assert line.split()[-1] == ("..." if p.end_value is None else line.split()[-1])


def test_describe_formats_numbers():
    text = lk.WarmupCosine(0.1, 1000, 100, min_lr=1e-5).describe()
    assert "warmup (linear)" in text and "cosine" in text and "hold min_lr" in text
    assert " 1000 " in text and "inf" in text and "1e-05" in text


# -- composition validation ------------------------------------------------------------------------


def test_sequence_validation():
    c = lk.Constant(0.1)
    with pytest.raises(ValueError, match="boundaries must hold len\\(segments\\) - 1 = 1"):
        lk.Sequence([c, c], [])
    with pytest.raises(ValueError, match="strictly increasing"):
        lk.Sequence([c, c, c], [10, 5])
    with pytest.raises(ValueError, match="strictly increasing"):
        lk.Sequence([c, c, c], [5, 5])
    with pytest.raises(ValueError, match="at least one"):
        lk.Sequence([], [])
    with pytest.raises(TypeError, match="segments\\[1\\]"):
        lk.Sequence([c, 0.1], [5])
    with pytest.raises(TypeError, match="list of schedules"):
        lk.Sequence(c, [])
    with pytest.raises(ValueError, match="boundaries\\[0\\]"):
        lk.Sequence([c, c], [0])


def test_wrappers_need_schedules():
    for make in (
        lambda: lk.Warmup(0.1, 5),
        lambda: lk.Hold("cosine", 5),
        lambda: lk.Scale(None, 2),
        lambda: lk.Clip(lambda t: 0.1),
        lambda: lk.PerStep({"type": "constant"}, 10),
    ):
        with pytest.raises(TypeError, match="schedule must be an lrkit Schedule"):
            make()


def test_a_cut_on_a_staircase_is_not_declared_continuous():
    # CAWB's warmup is one step per batch: holding from position 1 jumps from batch 0's
    # value (0) to batch 1's (0.1), and the phases must say so.
    h = lk.Hold(lk.CAWB(2, eta_min=0, step_scale=1, batchs=10, warmup_epoch=1), end=1.0)
    warm, hold = h.phases()
    assert warm.end_value == 0.0
    assert hold.start_value == 0.1 and not hold.continuous
    # A cut where the curve is smooth stays continuous, with the value at the cut.
    smooth = lk.Hold(lk.Cosine(1.0, 10), 5).phases()
    assert smooth[-2].end_value == 0.5 and smooth[-1].continuous
