"""from_torch / from_paddle on the plateau schedulers of torch, transformers, timm, mmengine and Paddle.

Each peer runs a random prefix of a metric sequence (so it is mid-patience, mid-cooldown or
after reductions), is converted, and then the peer and the converted policy take the rest of
the sequence: after every observation the policy's lrs must be the peer's (==), and so must
best and the counters. transformers' ``greedy`` stays refused with its reason.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import torch
from test_plateau_policy import metric_sequence, torch_like_config

from lrkit.plateau import Plateau
from lrkit.torch import from_torch

CI = bool(os.environ.get("CI"))
N = 150 if CI else 600


def _opt(lrs, scales=None):
    scales = scales or [None] * len(lrs)
    return torch.optim.SGD(
        [
            {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} | ({} if s is None else {"lr_scale": s})
            for lr, s in zip(lrs, scales)
        ],
        lr=0.1,
    )


def _same(a, b):
    return a == b or (a != a and b != b)


def _lrs(opt):
    return tuple(float(g["lr"]) for g in opt.param_groups)


def test_torch_reduce_lr_on_plateau_continues_exactly():
    rng = np.random.default_rng(71)
    for _ in range(N):
        cfg = torch_like_config(rng)
        kw = {k: v for k, v in cfg.items() if k != "lr"}
        opt = _opt(cfg["lr"])
        peer = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
        metrics = metric_sequence(rng, (cfg["threshold"],), 40)
        cut = int(rng.integers(0, 39))
        for m in metrics[:cut]:
            peer.step(m)
        p = from_torch(peer)
        assert isinstance(p, Plateau) and p.lrs == _lrs(opt)
        for m in metrics[cut:]:
            peer.step(m)
            p.observe(m)
            assert p.lrs == _lrs(opt), (cfg, metrics, cut)
            assert _same(float(peer.best), p.best) and peer.num_bad_epochs == p.num_bad_epochs
            assert peer.cooldown_counter == p.cooldown_counter


def test_the_drop_in_converts_too():
    import lrkit.torch as lkt

    opt = _opt([0.1, 0.2])
    s = lkt.ReduceLROnPlateau(opt, patience=1, cooldown=2, min_lr=[0.0, 0.15])
    for m in (1.0, 2.0, 3.0, 4.0):
        s.step(m)
    p = from_torch(s)
    for m in (5.0, 0.5, 6.0, 7.0, 8.0, 9.0):
        s.step(m)
        p.observe(m)
        assert p.lrs == _lrs(opt)


def test_transformers_reduce_lr_on_plateau_and_greedy_refused():
    import transformers

    rng = np.random.default_rng(73)
    for _ in range(N // 5):
        opt = _opt([float(rng.choice([0.1, 1e-3]))])
        kw = dict(factor=float(rng.choice([0.5, 0.1])), patience=int(rng.integers(0, 3)), mode="min")
        peer = transformers.get_scheduler("reduce_lr_on_plateau", opt, scheduler_specific_kwargs=kw)
        metrics = metric_sequence(rng, (1e-4,), 30)
        cut = int(rng.integers(0, 29))
        for m in metrics[:cut]:
            peer.step(m)
        p = from_torch(peer)
        for m in metrics[cut:]:
            peer.step(m)
            p.observe(m)
            assert p.lrs == _lrs(opt)
    try:
        greedy = transformers.get_scheduler("greedy", _opt([0.1]))
    except (ValueError, KeyError, ImportError, TypeError):
        return  # this transformers has no greedy scheduler
    with pytest.raises(TypeError, match="metric"):
        from_torch(greedy)


def test_timm_plateau_with_warmup_continues_exactly():
    from peer import import_timm_scheduler

    PlateauLRScheduler = import_timm_scheduler().PlateauLRScheduler
    rng = np.random.default_rng(79)
    for _ in range(N // 2):
        n = int(rng.integers(1, 3))
        lrs = [float(rng.choice([0.1, 0.01, 0.3])) for _ in range(n)]
        scales = [None if rng.random() < 0.5 else float(rng.choice([0.5, 2.0])) for _ in range(n)]
        kw = dict(
            decay_rate=float(rng.choice([0.1, 0.5])),
            patience_t=int(rng.integers(0, 3)),
            threshold=float(rng.choice([1e-4, 0.0, 0.01])),
            cooldown_t=int(rng.integers(0, 3)),
            warmup_t=int(rng.choice([0, 2, 5])),
            warmup_lr_init=float(rng.choice([0.0, 1e-3])),
            lr_min=float(rng.choice([0.0, 1e-3])),
            mode=str(rng.choice(["min", "max"])),
        )
        opt = _opt(lrs, scales)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            peer = PlateauLRScheduler(opt, **kw)
        metrics = metric_sequence(rng, (kw["threshold"],), 30)
        cut = int(rng.integers(0, 29))
        for e, m in enumerate(metrics[:cut]):
            peer.step(e + 1, m)
        p = from_torch(peer)
        assert p.lrs == _lrs(opt), (kw, cut)
        for e, m in enumerate(metrics[cut:], start=cut):
            peer.step(e + 1, m)
            p.step(e + 1, m)
            assert p.lrs == _lrs(opt), (kw, lrs, scales, metrics, cut, e)


def test_mmengine_reduce_on_plateau_continues_exactly():
    from mmengine.optim import ReduceOnPlateauLR

    rng = np.random.default_rng(83)
    for _ in range(N // 2):
        cfg = torch_like_config(rng)
        opt = _opt(cfg["lr"])
        begin = int(rng.choice([0, 0, 3]))
        end = int(rng.choice([10**9, 20]))
        peer = ReduceOnPlateauLR(
            opt,
            monitor="loss",
            rule="less" if cfg["mode"] == "min" else "greater",
            factor=cfg["factor"],
            patience=cfg["patience"],
            threshold=cfg["threshold"],
            threshold_rule=cfg["threshold_mode"],
            cooldown=cfg["cooldown"],
            min_value=cfg["min_lr"],
            eps=cfg["eps"],
            begin=begin,
            end=end,
        )
        metrics = metric_sequence(rng, (cfg["threshold"],), 40)
        metrics = [m if abs(m) < 1e8 else 1.0 for m in metrics]  # mmengine's INF start: see plateau's tests
        cut = int(rng.integers(0, 39))

        def feed(sched, m, i):
            sched.step()  # the epoch's step without a metric (counts for begin/end)
            sched.step({"loss": m})

        for i, m in enumerate(metrics[:cut]):
            feed(peer, m, i)
        p = from_torch(peer)
        for m in metrics[cut:]:
            feed(peer, m, 0)
            p.tick()
            p.observe(m)
            assert p.lrs == _lrs(opt), (cfg, begin, end, metrics, cut)
            assert peer.num_bad_epochs == p.num_bad_epochs and peer.cooldown_counter == p.cooldown_counter


def test_paddle_reduce_on_plateau_continues_exactly():
    from paddle.optimizer.lr import ReduceOnPlateau

    from lrkit.paddle import from_paddle

    rng = np.random.default_rng(89)
    for _ in range(N):
        cfg = torch_like_config(rng)
        kw = dict(
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
        peer = ReduceOnPlateau(**kw)
        metrics = metric_sequence(rng, (cfg["threshold"],), 40)
        cut = int(rng.integers(0, 39))
        for m in metrics[:cut]:
            peer.step(m)
        p = from_paddle(peer)
        assert isinstance(p, Plateau)
        for m in metrics[cut:]:
            peer.step(m)
            p.observe(m)
            assert p.lrs == (peer.last_lr,), (kw, metrics, cut)
            assert peer.num_bad_epochs == p.num_bad_epochs and peer.cooldown_counter == p.cooldown_counter


def test_not_a_plateau_scheduler():
    from lrkit.convert.plateau import plateau_of

    with pytest.raises(TypeError, match="plateau"):
        plateau_of(object())


def test_scheduler_from_torch_says_a_plateau_scheduler_has_no_schedule():
    from lrkit.paddle import scheduler_from_torch

    with pytest.raises(TypeError, match="follows a metric"):
        scheduler_from_torch(torch.optim.lr_scheduler.ReduceLROnPlateau(_opt([0.1])))
