"""lrkit.torch.ReduceLROnPlateau against torch.optim.lr_scheduler.ReduceLROnPlateau, call by call.

Both run side by side on their own optimizers with the same param groups; after every
``step(metric)`` each group's lr (==, bit for bit), ``get_last_lr()``, ``best``,
``num_bad_epochs`` and ``cooldown_counter`` must agree. Seeded random metric sequences (plateaus,
noise, exact threshold ties, NaN/+-inf, huge/tiny values; several groups, floors near the lrs,
eps), resume mid-patience / mid-cooldown from our own state (through torch.save/load with
weights_only=True) and from a state saved by torch's own class, and torch's class loading ours.
"""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from test_plateau_policy import metric_sequence, torch_like_config

import lrkit.torch as lkt

CI = bool(os.environ.get("CI"))
N = 300 if CI else 1500


def _opt(lrs: list[float]) -> torch.optim.Optimizer:
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in lrs]
    return torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], lr=0.1)


def _kw(cfg: dict) -> dict:
    return {k: v for k, v in cfg.items() if k != "lr"}


def _same(a, b) -> bool:
    return a == b or (a != a and b != b)


def _check(i, peer, ours, popt, oopt, ctx):
    pl = [g["lr"] for g in popt.param_groups]
    ol = [g["lr"] for g in oopt.param_groups]
    assert pl == ol, f"lrs after step {i}: torch {pl}, lrkit {ol}\n{ctx}"
    assert peer.get_last_lr() == ours.get_last_lr() == ol, ctx
    assert _same(float(peer.best), float(ours.best)), f"best after {i}: {peer.best} {ours.best}\n{ctx}"
    assert peer.num_bad_epochs == ours.num_bad_epochs, ctx
    assert peer.cooldown_counter == ours.cooldown_counter, ctx
    assert peer.last_epoch == ours.last_epoch, ctx


def _through_torch_save(state: dict) -> dict:
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


def _run(cfg: dict, metrics: list[float], cut: int | None = None, from_peer: bool = False) -> None:
    popt, oopt = _opt(cfg["lr"]), _opt(cfg["lr"])
    peer = torch.optim.lr_scheduler.ReduceLROnPlateau(popt, **_kw(cfg))
    ours = lkt.ReduceLROnPlateau(oopt, **_kw(cfg))
    ctx = f"cfg={cfg}\nmetrics={metrics}\ncut={cut} from_peer={from_peer}"
    for i, m in enumerate(metrics):
        if i == cut:
            # a fresh optimizer + scheduler, as a resumed run builds them, then the saved states
            saved_opt = oopt.state_dict()
            state = peer.state_dict() if from_peer else _through_torch_save(ours.state_dict())
            oopt = _opt([0.5] * len(cfg["lr"]))
            oopt.load_state_dict(saved_opt)
            ours = lkt.ReduceLROnPlateau(oopt, **_kw(cfg))
            ours.load_state_dict(state)
        peer.step(m)
        ours.step(m)
        _check(i, peer, ours, popt, oopt, ctx)


def _cut(rng, cfg, metrics):
    """A position where torch's scheduler is mid-patience or mid-cooldown (None if never)."""
    opt = _opt(cfg["lr"])
    p = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **_kw(cfg))
    where = []
    for i, m in enumerate(metrics[:-1]):
        p.step(m)
        if p.num_bad_epochs > 0 or p.cooldown_counter > 0:
            where.append(i + 1)
    return int(rng.choice(where)) if where else None


def test_random_sequences_bit_for_bit():
    rng = np.random.default_rng(23)
    for _ in range(N):
        cfg = torch_like_config(rng)
        _run(cfg, metric_sequence(rng, (cfg["threshold"],), 40))


@pytest.mark.parametrize("from_peer", [False, True], ids=["own-state", "torch-state"])
def test_resume_mid_patience_and_cooldown(from_peer):
    rng = np.random.default_rng(5 + from_peer)
    done = 0
    for _ in range(N // 3):
        cfg = torch_like_config(rng)
        cfg["patience"] = max(cfg["patience"], 1)
        metrics = metric_sequence(rng, (cfg["threshold"],), 40)
        cut = _cut(rng, cfg, metrics)
        if cut is not None:
            _run(cfg, metrics, cut, from_peer)
            done += 1
    assert done > N // 6


def test_torch_class_loads_our_state():
    rng = np.random.default_rng(3)
    for _ in range(50):
        cfg = torch_like_config(rng)
        metrics = metric_sequence(rng, (cfg["threshold"],), 30)
        popt, oopt = _opt(cfg["lr"]), _opt(cfg["lr"])
        ours = lkt.ReduceLROnPlateau(oopt, **_kw(cfg))
        for m in metrics[:15]:
            ours.step(m)
        popt.load_state_dict(oopt.state_dict())
        peer = torch.optim.lr_scheduler.ReduceLROnPlateau(popt, **_kw(cfg))
        peer.load_state_dict(ours.state_dict())
        for i, m in enumerate(metrics[15:]):
            peer.step(m)
            ours.step(m)
            _check(i, peer, ours, popt, oopt, str(cfg))


def test_is_torchs_class_tensor_metric_and_tensor_lr():
    opts = [torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=torch.tensor(0.1)) for _ in range(2)]
    peer = torch.optim.lr_scheduler.ReduceLROnPlateau(opts[0], factor=0.5, patience=0)
    s = lkt.ReduceLROnPlateau(opts[1], factor=0.5, patience=0)
    assert isinstance(s, torch.optim.lr_scheduler.ReduceLROnPlateau)
    lr = opts[1].param_groups[0]["lr"]
    for m in (1.0, 2.0, 3.0, 0.5):
        peer.step(torch.tensor(m))
        s.step(torch.tensor(m))
        assert opts[1].param_groups[0]["lr"] is lr  # filled in place, as torch does
        assert float(lr) == float(opts[0].param_groups[0]["lr"])
    assert s.reductions == 2


def test_add_param_group_follows_torchs_rule():
    for min_lr in (0.0, [0.0]):
        popt, oopt = _opt([0.1]), _opt([0.1])
        peer = torch.optim.lr_scheduler.ReduceLROnPlateau(popt, patience=0, min_lr=min_lr)
        ours = lkt.ReduceLROnPlateau(oopt, patience=0, min_lr=min_lr)
        for o in (popt, oopt):
            o.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.3})
        for m in (1.0, 2.0, 3.0):
            try:
                peer.step(m)
            except RuntimeError:
                with pytest.raises(RuntimeError, match="min_lrs"):
                    ours.step(m)
                break
            ours.step(m)
            assert [g["lr"] for g in popt.param_groups] == [g["lr"] for g in oopt.param_groups]


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(factor=1.0), "factor"),
        (dict(factor=float("nan")), "factor"),
        (dict(patience=-1), "patience"),
        (dict(mode="up"), "mode"),
        (dict(threshold_mode="x"), "threshold_mode"),
        (dict(min_lr=[0.0, 0.0]), "min_lr"),
        (dict(eps=-1.0), "eps"),
    ],
)
def test_bad_arguments_name_the_parameter(kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        lkt.ReduceLROnPlateau(_opt([0.1]), **kw)


def test_bad_state_is_refused_and_changes_nothing():
    s = lkt.ReduceLROnPlateau(_opt([0.1]), patience=1)
    s.step(1.0)
    s.step(2.0)
    before = s.state_dict()
    with pytest.raises(ValueError, match="state"):
        s.load_state_dict({"last_epoch": 3})
    bad = dict(before, num_bad_epochs=-2)
    with pytest.raises(ValueError):
        s.load_state_dict(bad)
    assert s.state_dict() == before


_METRICS = st.lists(
    st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1.0, 0.9999, 1.0001, 0.0, -0.0])),
    min_size=1,
    max_size=40,
)


@given(
    st.sampled_from(["min", "max"]),
    st.sampled_from(["rel", "abs"]),
    st.floats(0.0, 0.99),
    st.integers(0, 4),
    st.integers(0, 3),
    st.floats(0.0, 0.5),
    _METRICS,
    st.integers(0, 40),
)
def test_hypothesis(mode, threshold_mode, factor, patience, cooldown, threshold, metrics, cut):
    cfg = dict(
        mode=mode,
        factor=factor,
        patience=patience,
        threshold=threshold,
        threshold_mode=threshold_mode,
        cooldown=cooldown,
        min_lr=[0.0, 1e-3],
        eps=1e-8,
        lr=[0.1, 1e-3 + 5e-9],
    )
    _run(cfg, metrics, cut if cut < len(metrics) else None)


def test_pickle_and_deepcopy_continue_exactly():
    import copy
    import pickle

    opt = _opt([0.1, 0.2])
    s = lkt.ReduceLROnPlateau(opt, patience=1, cooldown=1)
    for m in (1.0, 2.0, 3.0):
        s.step(m)
    opt2, s2 = copy.deepcopy((opt, s))
    opt3, s3 = pickle.loads(pickle.dumps((opt, s)))
    for m in (4.0, 0.5, 6.0, 7.0, 8.0):
        for sc in (s, s2, s3):
            sc.step(m)
        assert _lrs_of(opt) == _lrs_of(opt2) == _lrs_of(opt3)


def _lrs_of(opt):
    return [g["lr"] for g in opt.param_groups]
