"""lrkit.paddle.ReduceOnPlateau against paddle.optimizer.lr.ReduceOnPlateau, call by call.

Both run side by side; after every ``step(metric)`` ``last_lr`` (==, bit for bit), ``best``,
``num_bad_epochs``, ``cooldown_counter`` and ``last_epoch`` must agree, and an optimizer driven by
ours reports the same lr. Seeded random metric sequences (plateaus, noise, exact ties, NaN/+-inf,
huge/tiny), floors and epsilon near the lr, resume mid-patience / mid-cooldown from our state
(through paddle.save/load) and from a state saved by Paddle's own class.
"""

from __future__ import annotations

import os

import numpy as np
import paddle
import pytest
from hypothesis import given
from hypothesis import strategies as st
from paddle.optimizer.lr import ReduceOnPlateau as PaddleROP
from test_plateau_policy import metric_sequence, torch_like_config

import lrkit.paddle as lkp

CI = bool(os.environ.get("CI"))
N = 300 if CI else 1500


def _kw(cfg: dict) -> dict:
    return dict(
        learning_rate=cfg["lr"][0],
        mode=cfg["mode"],
        factor=cfg["factor"],
        patience=cfg["patience"],
        threshold=cfg["threshold"],
        threshold_mode=cfg["threshold_mode"],
        cooldown=cfg["cooldown"],
        min_lr=cfg["min_lr"] if isinstance(cfg["min_lr"], float) else cfg["min_lr"][0],
        epsilon=cfg["eps"],
    )


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return float(a) == float(b) or (a != a and b != b)


def _check(i, peer, ours, ctx):
    assert peer.last_lr == ours.last_lr == ours(), f"last_lr after step {i}: {peer.last_lr} {ours.last_lr}\n{ctx}"
    assert _same(peer.best, ours.best), f"best after {i}: {peer.best} {ours.best}\n{ctx}"
    assert peer.num_bad_epochs == ours.num_bad_epochs, ctx
    assert peer.cooldown_counter == ours.cooldown_counter, ctx
    assert peer.last_epoch == ours.last_epoch, ctx


def _run(kw, metrics, cut=None, from_peer=False, tmp=None):
    peer, ours = PaddleROP(**kw), lkp.ReduceOnPlateau(**kw)
    ctx = f"kw={kw}\nmetrics={metrics}\ncut={cut} from_peer={from_peer}"
    for i, m in enumerate(metrics):
        if i == cut:
            if from_peer:
                state = peer.state_dict()
            else:
                paddle.save(ours.state_dict(), str(tmp))
                state = paddle.load(str(tmp))
            ours = lkp.ReduceOnPlateau(**kw)
            ours.set_state_dict(state)
        peer.step(m)
        ours.step(m)
        _check(i, peer, ours, ctx)


def test_random_sequences_bit_for_bit():
    rng = np.random.default_rng(29)
    for _ in range(N):
        cfg = torch_like_config(rng)
        _run(_kw(cfg), metric_sequence(rng, (cfg["threshold"],), 40))


@pytest.mark.parametrize("from_peer", [False, True], ids=["own-state", "paddle-state"])
def test_resume_mid_patience_and_cooldown(from_peer, tmp_path):
    rng = np.random.default_rng(31 + from_peer)
    done = 0
    for _ in range(N // 3):
        cfg = torch_like_config(rng)
        cfg["patience"] = max(cfg["patience"], 1)
        kw = _kw(cfg)
        metrics = metric_sequence(rng, (cfg["threshold"],), 40)
        p, where = PaddleROP(**kw), []
        for i, m in enumerate(metrics[:-1]):
            p.step(m)
            if p.num_bad_epochs > 0 or p.cooldown_counter > 0:
                where.append(i + 1)
        if where:
            _run(kw, metrics, int(rng.choice(where)), from_peer, tmp_path / "s.pdparams")
            done += 1
    assert done > N // 6


def test_drives_an_optimizer_and_is_paddles_class():
    lin = paddle.nn.Linear(2, 1)
    sched = lkp.ReduceOnPlateau(learning_rate=0.1, factor=0.5, patience=0)
    assert isinstance(sched, PaddleROP)
    opt = paddle.optimizer.SGD(learning_rate=sched, parameters=lin.parameters())
    for m in (1.0, np.float64(2.0), paddle.to_tensor(3.0), np.array([0.5])):
        sched.step(m)
    assert opt.get_lr() == 0.025 * 1.0 == sched.last_lr
    assert sched.reductions == 2
    # the optimizer's state carries the scheduler's and loads back into a fresh pair
    state = opt.state_dict()
    sched2 = lkp.ReduceOnPlateau(learning_rate=0.1, factor=0.5, patience=0)
    opt2 = paddle.optimizer.SGD(learning_rate=sched2, parameters=lin.parameters())
    opt2.set_state_dict(state)
    assert sched2.last_lr == 0.025 and sched2.best == 0.5 and sched2.reductions == 2


@pytest.mark.parametrize(
    "kw, err, match",
    [
        (dict(learning_rate="0.1"), TypeError, "learning_rate"),
        (dict(learning_rate=0.1, factor=1.0), ValueError, "factor"),
        (dict(learning_rate=0.1, patience=-1), ValueError, "patience"),
        (dict(learning_rate=0.1, mode="up"), ValueError, "mode"),
        (dict(learning_rate=0.1, epsilon=float("inf")), ValueError, "epsilon"),
    ],
)
def test_bad_arguments_name_the_parameter(kw, err, match):
    with pytest.raises(err, match=match):
        lkp.ReduceOnPlateau(**kw)


def test_bad_metric_and_state():
    s = lkp.ReduceOnPlateau(learning_rate=0.1)
    with pytest.raises(TypeError, match="metrics"):
        s.step("1.0")
    with pytest.raises(ValueError, match="numel"):
        s.step(np.array([1.0, 2.0]))
    s.step(1.0)
    before = s.state_dict()
    with pytest.raises(ValueError, match="lacks"):
        s.set_state_dict({"best": 1.0})
    with pytest.raises(ValueError):
        s.set_state_dict(dict(before, num_bad_epochs=-1))
    assert s.state_dict() == before


@given(
    st.sampled_from(["min", "max"]),
    st.sampled_from(["rel", "abs"]),
    st.integers(0, 3),
    st.integers(0, 3),
    st.sampled_from([0.0, 1e-4, 0.1]),
    st.lists(
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1.0, 0.9999, 1.0001])),
        min_size=1,
        max_size=40,
    ),
    st.integers(0, 40),
)
def test_hypothesis(mode, threshold_mode, patience, cooldown, threshold, metrics, cut):
    kw = dict(
        learning_rate=0.1,
        mode=mode,
        factor=0.5,
        patience=patience,
        threshold=threshold,
        threshold_mode=threshold_mode,
        cooldown=cooldown,
        min_lr=0.01,
        epsilon=1e-8,
    )
    _run(kw, metrics, cut if cut < len(metrics) else None, from_peer=True)
