"""lrkit.plateau.Plateau against every installed plateau scheduler, observation by observation.

Each peer runs as it is (torch's ReduceLROnPlateau, Paddle's ReduceOnPlateau, mmengine's
ReduceOnPlateauLR on a torch optimizer, timm's PlateauLRScheduler with its warmup, optax's
contrib.reduce_on_plateau (float64, under jax.enable_x64), Keras 3's ReduceLROnPlateau callback
with KERAS_BACKEND=jax in a subprocess, on stub optimizers holding float64 lrs and on real Keras
optimizers holding float32 lrs). Thousands of seeded metric sequences (plateaus, noise, monotone
runs, values exactly at and one ulp around each flavor's threshold boundary, NaN, +-inf, huge and
tiny values) go through the peer and the policy; after every observation the learning rates
(optax: the scale) must be equal (==), and so must the counters the peer exposes (best, the bad
count, the cooldown counter). Resume: the policy's state saved mid-patience or mid-cooldown,
through JSON, loaded into a fresh policy, continues as the uninterrupted peer does.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lrkit.plateau import DIFFERENCES, FLAVORS, Plateau, reduce_lr, reduce_lrs

CI = bool(os.environ.get("CI"))
# sequences per flavor (CI keeps the whole file well under a minute on two shared cores)
N = 400 if CI else 1500
LENGTH = 48


# ----------------------------------------------------------------------------- metric sequences


def _boundaries(b: float, t: float) -> list[float]:
    """Every flavor's improvement boundary around best ``b`` with threshold ``t``."""
    c = [b * (1.0 - t), b - b * t, b - t, b * (t + 1.0), b + b * t, b + t, (1 - t) * b - t, b]
    c32 = [float(np.float32(x)) for x in c if math.isfinite(x) and abs(x) < 3e38]
    return c + c32


def metric_sequence(rng: np.random.Generator, thresholds: tuple[float, ...], length: int = LENGTH) -> list[float]:
    """A sequence mixing plateaus, noise, monotone runs, exact boundary ties, NaN/inf, huge/tiny values."""
    kind = int(rng.integers(0, 8))
    scale = float(10.0 ** rng.integers(-3, 4)) * (-1.0 if rng.random() < 0.15 else 1.0)
    draws = rng.random(length)
    out: list[float] = []
    lo, hi, last = math.inf, -math.inf, None
    x = scale
    for r in draws:
        if kind == 0 or r < 0.25:  # exact ties at some boundary, or one ulp off
            if last is None:
                v = x
            else:
                b = last if rng.random() < 0.3 else (lo if rng.random() < 0.5 else hi)
                cand = _boundaries(b, float(rng.choice(thresholds)))
                v = cand[int(rng.integers(0, len(cand)))]
                step = int(rng.integers(-1, 2))
                if step and math.isfinite(v):
                    v = float(np.nextafter(v, math.inf if step > 0 else -math.inf))
        elif kind == 1 or r < 0.45:  # plateau with a little noise
            v = x * (1 + float(rng.normal()) * float(rng.choice([0.0, 1e-6, 1e-4, 1e-2])))
        elif kind == 2 or r < 0.6:  # monotone run
            x = x * float(rng.choice([0.9, 0.99, 0.9999, 1.01, 1.1]))
            v = x
        elif kind == 3 or r < 0.7:  # noise
            v = scale * float(rng.normal())
        elif r < 0.78:
            v = float(rng.choice([math.nan, math.inf, -math.inf]))
        elif r < 0.86:
            v = float(rng.choice([1e300, -1e300, 3.5e38, 1e9, 999_900_000.0, 1e-300, 5e-324, 0.0, -0.0]))
        elif r < 0.93 and last is not None:
            v = last  # an exact repeat
        else:
            v = float(np.float32(x * (1 + float(rng.normal()) * 1e-7)))
        out.append(v)
        if math.isfinite(v):
            lo, hi, last = min(lo, v), max(hi, v), v
    if kind == 7:  # a run with no improvement at all after a good start
        out = [lo if last is not None else 0.0] + [out[0]] * (length - 1)
    return out


def groups(rng: np.random.Generator, n: int, eps: float) -> tuple[list[float], list[float]]:
    """``n`` learning rates and floors; some lrs sit at, below or within a few eps of their floor."""
    lrs, floors = [], []
    for _ in range(n):
        floor = float(rng.choice([0.0, 1e-6, 1e-4, 1e-3, 0.01]))
        k = rng.integers(0, 5)
        if k == 0:
            lr = float(rng.choice([0.1, 1.0, 0.03, 3e-4]))
        elif k == 1:
            lr = floor + eps * float(rng.choice([0.5, 1.0, 1.0000001, 2.0, 11.0]))
        elif k == 2:
            lr = floor * float(rng.choice([1.0, 1.5, 10.0, 0.5]))
        elif k == 3:
            lr = float(10.0 ** rng.uniform(-5, 0))
        else:
            lr = floor + float(rng.choice([1e-9, 1e-8, 2e-8, 1e-7]))
        lrs.append(lr)
        floors.append(floor)
    return lrs, floors


def torch_like_config(rng: np.random.Generator) -> dict:
    eps = float(rng.choice([0.0, 1e-8, 1e-8, 1e-3]))
    lrs, floors = groups(rng, int(rng.integers(1, 4)), eps)
    return dict(
        mode=str(rng.choice(["min", "max"])),
        factor=float(rng.choice([0.0, 0.1, 0.5, 0.9, 0.999, rng.uniform(0, 1)])),
        patience=int(rng.choice([0, 0, 1, 2, 3, 5])),
        threshold=float(rng.choice([0.0, 1e-4, 1e-4, 0.01, 0.1, 0.5, 1.0, 1.5])),
        threshold_mode=str(rng.choice(["rel", "abs"])),
        cooldown=int(rng.choice([0, 0, 1, 2, 4])),
        min_lr=floors if rng.random() < 0.7 else floors[0],
        eps=eps,
        lr=lrs,
    )


def _thresholds(cfg: dict) -> tuple[float, ...]:
    return tuple(float(cfg.get(k, 0.0)) for k in ("threshold", "min_delta", "rtol", "atol") if k in cfg) or (1e-4,)


def assert_same(step: int, what: str, peer, ours, ctx) -> None:
    same = (peer == ours) or (
        isinstance(peer, float) and isinstance(ours, float) and math.isnan(peer) and math.isnan(ours)
    )
    assert same, f"{what} after observation {step}: peer {peer!r}, lrkit {ours!r}\n{ctx}"


# ----------------------------------------------------------------------------- torch


def _torch_run(cfg: dict, metrics: list[float], cut: int | None = None):
    import torch

    lrs = cfg["lr"]
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in lrs]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], lr=0.1)
    kw = {k: v for k, v in cfg.items() if k != "lr"}
    peer = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
    ours = Plateau(**cfg)
    ctx = f"cfg={cfg}\nmetrics={metrics}"
    for i, m in enumerate(metrics):
        if cut is not None and i == cut:
            ours = _resumed(ours)
        peer.step(m)
        ours.observe(m)
        assert_same(i, "lrs", tuple(g["lr"] for g in opt.param_groups), ours.lrs, ctx)
        assert_same(i, "best", float(peer.best), ours.best, ctx)
        assert_same(i, "bad count", peer.num_bad_epochs, ours.num_bad_epochs, ctx)
        assert_same(i, "cooldown", peer.cooldown_counter, ours.cooldown_counter, ctx)


def _resumed(p: Plateau) -> Plateau:
    """``p``'s configuration and state through JSON (strict: no NaN/inf literals) into a fresh policy."""
    cfg = json.loads(json.dumps(p.to_dict(), allow_nan=False))
    state = json.loads(json.dumps(p.state_dict(), allow_nan=False))
    q = Plateau.from_dict(cfg)
    assert q == p
    q.load_state_dict(state)
    return q


def _cut(rng: np.random.Generator, make, metrics: list[float]) -> int | None:
    """An observation index where the policy is mid-patience or mid-cooldown (None if never)."""
    p = make()
    where = []
    for i, m in enumerate(metrics):
        p.observe(m)
        if p.num_bad_epochs > 0 or p.cooldown_counter > 0:
            where.append(i + 1)
    where = [w for w in where if w < len(metrics)]
    return int(rng.choice(where)) if where else None


def test_torch_random_and_adversarial():
    rng = np.random.default_rng(20261207)
    for _ in range(N):
        cfg = torch_like_config(rng)
        _torch_run(cfg, metric_sequence(rng, _thresholds(cfg)))


def test_torch_resume_mid_patience_and_cooldown():
    rng = np.random.default_rng(7)
    done = 0
    for _ in range(N // 3):
        cfg = torch_like_config(rng)
        cfg["patience"] = max(cfg["patience"], 1)
        metrics = metric_sequence(rng, _thresholds(cfg))
        cut = _cut(rng, lambda cfg=cfg: Plateau(**cfg), metrics)
        if cut is not None:
            _torch_run(cfg, metrics, cut)
            done += 1
    assert done > N // 6


@given(
    st.sampled_from(["min", "max"]),
    st.sampled_from(["rel", "abs"]),
    st.floats(0.0, 0.99),
    st.integers(0, 4),
    st.integers(0, 3),
    st.floats(0.0, 0.5),
    st.lists(
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([1.0, 0.9999, 1.0001])),
        min_size=1,
        max_size=40,
    ),
)
def test_torch_hypothesis(mode, threshold_mode, factor, patience, cooldown, threshold, metrics):
    _torch_run(
        dict(
            mode=mode,
            factor=factor,
            patience=patience,
            threshold=threshold,
            threshold_mode=threshold_mode,
            cooldown=cooldown,
            min_lr=[0.0, 1e-3],
            eps=1e-8,
            lr=[0.1, 1e-3 + 5e-9],
        ),
        metrics,
    )


# ----------------------------------------------------------------------------- paddle


def test_paddle_random_and_adversarial():
    from paddle.optimizer.lr import ReduceOnPlateau

    rng = np.random.default_rng(11)
    resumed = 0
    for n in range(N):
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
        metrics = metric_sequence(rng, _thresholds(cfg))
        cut = _cut(rng, lambda kw=kw: Plateau.paddle(**kw), metrics) if n % 3 == 0 else None
        resumed += cut is not None
        peer, ours = ReduceOnPlateau(**kw), Plateau.paddle(**kw)
        ctx = f"paddle {kw}\nmetrics={metrics}"
        for i, m in enumerate(metrics):
            if i == cut:
                ours = _resumed(ours)
            peer.step(m)
            ours.observe(m)
            assert_same(i, "lr", (peer.last_lr,), ours.lrs, ctx)
            assert_same(i, "best", peer.best, ours.best, ctx)
            assert_same(i, "bad count", peer.num_bad_epochs, ours.num_bad_epochs, ctx)
            assert_same(i, "cooldown", peer.cooldown_counter, ours.cooldown_counter, ctx)
    assert resumed > N // 10


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
)
def test_paddle_hypothesis(mode, threshold_mode, patience, cooldown, threshold, metrics):
    from paddle.optimizer.lr import ReduceOnPlateau

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
    peer, ours = ReduceOnPlateau(**kw), Plateau.paddle(**kw)
    for i, m in enumerate(metrics):
        peer.step(m)
        ours.observe(m)
        assert_same(i, "lr", (peer.last_lr,), ours.lrs, f"{kw} {metrics}")
        assert_same(i, "bad count", peer.num_bad_epochs, ours.num_bad_epochs, f"{kw} {metrics}")


# ----------------------------------------------------------------------------- mmengine


def test_mmengine_random_and_adversarial():
    import torch
    from mmengine.optim.scheduler import ReduceOnPlateauLR

    rng = np.random.default_rng(13)
    resumed = 0
    for n in range(N):
        cfg = torch_like_config(rng)
        if rng.random() < 0.2:  # around mmengine's 1e9 start value
            cfg["threshold"] = float(rng.choice([0.0, 1e-4]))
        lrs = cfg["lr"]
        begin = int(rng.choice([0, 0, 0, 2]))
        end = int(rng.choice([1_000_000_000, 1_000_000_000, begin + 5]))
        kw = dict(
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
        metrics = metric_sequence(rng, _thresholds(cfg))
        ticks = rng.random(len(metrics)) < 0.4  # a step() without metrics before the observation
        params = [torch.nn.Parameter(torch.zeros(1)) for _ in lrs]
        opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], lr=0.1)
        peer = ReduceOnPlateauLR(opt, monitor="loss", **kw)
        ours = Plateau.mmengine(monitor="loss", **kw, lr=lrs)
        cut = int(rng.integers(1, len(metrics))) if n % 3 == 0 else None
        resumed += cut is not None
        ctx = f"mmengine {kw} lr={lrs}\nmetrics={metrics}\nticks={ticks.tolist()}"
        for i, m in enumerate(metrics):
            if i == cut:
                ours = _resumed(ours)
            if ticks[i]:
                peer.step()
                ours.tick()
            peer.step({"loss": m})
            ours.observe(m)
            assert_same(i, "lrs", tuple(g["lr"] for g in opt.param_groups), ours.lrs, ctx)
            assert_same(i, "best", float(peer.best), ours.best, ctx)
            assert_same(i, "bad count", peer.num_bad_epochs, ours.num_bad_epochs, ctx)
            assert_same(i, "cooldown", peer.cooldown_counter, ours.cooldown_counter, ctx)
    assert resumed > N // 10


# ----------------------------------------------------------------------------- timm


def test_timm_with_warmup_random_and_adversarial():
    import torch
    from peer import import_timm_scheduler

    PlateauLRScheduler = import_timm_scheduler().PlateauLRScheduler
    rng = np.random.default_rng(17)
    resumed = 0
    for n in range(N):
        cfg = torch_like_config(rng)
        lrs = cfg["lr"]
        floor = cfg["min_lr"] if isinstance(cfg["min_lr"], float) else cfg["min_lr"][0]
        scales = [None if rng.random() < 0.5 else float(rng.choice([0.5, 0.1, 2.0])) for _ in lrs]
        kw = dict(
            decay_rate=cfg["factor"],
            patience_t=cfg["patience"],
            threshold=cfg["threshold"],
            cooldown_t=cfg["cooldown"],
            warmup_t=int(rng.choice([0, 0, 1, 3])),
            warmup_lr_init=float(rng.choice([0.0, 1e-5, 0.01])),
            lr_min=floor,
            mode=cfg["mode"],
        )
        metrics = metric_sequence(rng, _thresholds(cfg))
        params = [torch.nn.Parameter(torch.zeros(1)) for _ in lrs]
        groups_ = [
            {"params": [p], "lr": lr} | ({} if s is None else {"lr_scale": s}) for p, lr, s in zip(params, lrs, scales)
        ]
        opt = torch.optim.SGD(groups_, lr=0.1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            peer = PlateauLRScheduler(opt, **kw)
        ours = Plateau.timm(**kw, lr=lrs, lr_scale=scales)
        ctx = f"timm {kw} lr={lrs} lr_scale={scales}\nmetrics={metrics}"
        assert_same(-1, "lrs", tuple(g["lr"] for g in opt.param_groups), ours.lrs, ctx)
        start = int(rng.choice([0, 1, 1]))  # timm's loops call step(epoch + 1, metric); epoch 0 too
        cut = int(rng.integers(1, len(metrics))) if n % 3 == 0 else None
        resumed += cut is not None
        for i, m in enumerate(metrics):
            if i == cut:
                ours = _resumed(ours)
            metric = None if rng.random() < 0.1 else m
            peer.step(start + i, metric)
            ours.step(start + i, metric)
            assert_same(i, "lrs", tuple(g["lr"] for g in opt.param_groups), ours.lrs, ctx)
            inner = peer.lr_scheduler
            assert_same(i, "best", float(inner.best), ours.best, ctx)
            assert_same(i, "bad count", inner.num_bad_epochs, ours.num_bad_epochs, ctx)
            assert_same(i, "cooldown", inner.cooldown_counter, ours.cooldown_counter, ctx)
    assert resumed > N // 10


def test_timm_noise_refused():
    with pytest.raises(ValueError, match="noise_range_t"):
        Plateau.timm(noise_range_t=5)


# ----------------------------------------------------------------------------- optax


OPTAX_COMBOS = [  # (factor, rtol, atol): closed over by optax; the rest is traced
    (0.1, 1e-4, 0.0),
    (0.5, 0.0, 1e-3),
    (0.5, 0.1, 0.01),
    (0.9, 1.0, 0.0),
    (0.3, 0.5, 1.0),
    (0.999, 1e-4, 1e-4),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_optax_random_and_adversarial(dtype):
    import jax
    import jax.numpy as jnp
    from optax.contrib import reduce_on_plateau

    rng = np.random.default_rng(19)
    per = max(N // len(OPTAX_COMBOS) // 2, 40)
    total = 0
    with jax.enable_x64(True):
        for factor, rtol, atol in OPTAX_COMBOS:

            def run(patience, cooldown, acc, min_scale, values, factor=factor, rtol=rtol, atol=atol):
                tx = reduce_on_plateau(
                    factor=factor,
                    patience=patience,
                    rtol=rtol,
                    atol=atol,
                    cooldown=cooldown,
                    accumulation_size=acc,
                    min_scale=min_scale,
                )
                params = jnp.zeros((), dtype)
                state = tx.init(params)

                def body(state, v):
                    _, state = tx.update(params, state, params, value=v)
                    return state, (state.scale, state.best_value, state.plateau_count, state.cooldown_count)

                return jax.lax.scan(body, state, values)[1]

            batch = jax.jit(jax.vmap(run))
            pat = rng.choice([0, 1, 1, 2, 3, 5], per)
            cool = rng.choice([0, 0, 1, 3], per)
            acc = rng.choice([1, 1, 1, 2, 3], per)
            mins = rng.choice([0.0, 0.0, 1e-3, 0.05, 0.5, 1.5], per)
            metrics = [metric_sequence(rng, (rtol, atol)) for _ in range(per)]
            out = batch(
                jnp.asarray(pat, jnp.int32),
                jnp.asarray(cool, jnp.int32),
                jnp.asarray(acc, jnp.int32),
                jnp.asarray(mins, dtype),
                jnp.asarray(np.array(metrics), jnp.float64),
            )
            scales, bests, plateaus, cools = (np.asarray(o) for o in out)
            for k in range(per):
                kw = dict(
                    factor=factor,
                    patience=int(pat[k]),
                    rtol=rtol,
                    atol=atol,
                    cooldown=int(cool[k]),
                    accumulation_size=int(acc[k]),
                    min_scale=float(mins[k]),
                )
                ours = Plateau.optax(**kw, dtype=dtype)
                cut = int(rng.integers(1, LENGTH)) if k % 3 == 0 else None
                ctx = f"optax {kw}\nmetrics={metrics[k]}"
                for i, m in enumerate(metrics[k]):
                    if i == cut:
                        ours = _resumed(ours)
                    ours.observe(m)
                    assert_same(i, "scale", float(scales[k, i]), ours.scale, ctx)
                    assert_same(i, "scale (lrs)", (float(scales[k, i]),), ours.lrs, ctx)
                    assert_same(i, "best", float(bests[k, i]), ours.best, ctx)
                    assert_same(i, "plateau count", int(plateaus[k, i]), ours.num_bad_epochs, ctx)
                    assert_same(i, "cooldown", int(cools[k, i]), ours.cooldown_counter, ctx)
                total += 1
    assert total >= N // 2 - len(OPTAX_COMBOS)


def test_optax_eager_update():
    # an update run without jax.jit rounds the running mean twice (count*avg, then + value);
    # the threshold is inside optax's lax.cond, compiled (fused) either way
    import jax
    import jax.numpy as jnp
    from optax.contrib import reduce_on_plateau

    rng = np.random.default_rng(37)
    with jax.enable_x64(True):
        for _ in range(1 if CI else 3):  # an eager update costs a compilation of its lax.cond
            kw = dict(
                factor=0.5,
                patience=int(rng.integers(0, 3)),
                rtol=float(rng.choice([1e-4, 0.1])),
                atol=float(rng.choice([0.0, 1e-3])),
                cooldown=int(rng.integers(0, 3)),
                accumulation_size=int(rng.choice([3, 5, 7])),
                min_scale=0.01,
            )
            tx = reduce_on_plateau(**kw)
            params = jnp.zeros((), jnp.float64)
            state = tx.init(params)
            eager = Plateau.optax(**kw, dtype="float64", jit=False)
            metrics = [float(v) for v in rng.normal(size=12 if CI else 36) * 10.0 ** rng.integers(-2, 3)]
            for i, m in enumerate(metrics):
                _, state = tx.update(params, state, params, value=jnp.float64(m))
                eager.observe(m)
                ctx = f"optax eager {kw}\nmetrics={metrics}"
                assert_same(i, "mean", float(state.avg_value), eager._acc_avg, ctx)
                assert_same(i, "scale", float(state.scale), eager.scale, ctx)
                assert_same(i, "best", float(state.best_value), eager.best, ctx)


# ----------------------------------------------------------------------------- keras

KERAS_SCRIPT = r"""
import json, sys, types
import numpy as np
import keras
from keras.callbacks import ReduceLROnPlateau
assert keras.backend.backend() == "jax", keras.backend.backend()
cases = json.load(open(sys.argv[1]))
results = []
for case in cases:
    kw, lrs, metrics, real = case["kw"], case["lr"], case["metrics"], case["real"]
    if real:
        opts = [keras.optimizers.SGD(learning_rate=lr, name=f"o{i}") for i, lr in enumerate(lrs)]
    else:
        opts = [types.SimpleNamespace(learning_rate=lr, name=f"o{i}") for i, lr in enumerate(lrs)]
    read = lambda: [float(keras.ops.convert_to_numpy(o.learning_rate)) for o in opts]
    model = types.SimpleNamespace(optimizer=opts[0] if len(opts) == 1 and not case["multi"]
                                  else types.SimpleNamespace(optimizers=opts))
    cb = ReduceLROnPlateau(monitor="val_loss", **kw)
    cb.set_model(model)
    cb.on_train_begin()
    rows = [read()]
    for epoch, m in enumerate(metrics):
        if epoch == case["reset_at"]:
            cb.on_train_begin()  # a second fit(): best, wait and cooldown start again
        cb.on_epoch_end(epoch, {"val_loss": m})
        rows.append(read() + [None if cb.best is None else float(cb.best), cb.wait, cb.cooldown_counter])
    results.append(rows)
json.dump(results, open(sys.argv[2], "w"))
"""


def _keras_cases(rng: np.random.Generator, n: int) -> list[dict]:
    cases = []
    for _ in range(n):
        cfg = torch_like_config(rng)
        floor = cfg["min_lr"] if isinstance(cfg["min_lr"], float) else cfg["min_lr"][0]
        real = bool(rng.random() < 0.35)
        lrs = cfg["lr"]
        if rng.random() < 0.3:  # lrs within float32 resolution of the floor
            lrs = [floor * (1 + float(rng.choice([1e-9, 5e-8, 2e-7, 0.0]))) for _ in lrs]
        kw = dict(
            factor=cfg["factor"],
            patience=int(rng.choice([0, 1, 1, 2, 4])),
            mode=str(rng.choice(["min", "max", "auto"])),
            min_delta=float(rng.choice([0.0, 1e-4, 0.01, 0.5, -0.1])),
            cooldown=cfg["cooldown"],
            min_lr=floor,
        )
        cases.append(
            dict(
                kw=kw,
                lr=lrs,
                real=real,
                multi=len(lrs) > 1 or bool(rng.random() < 0.2),
                metrics=metric_sequence(rng, (abs(kw["min_delta"]), 1e-4), LENGTH),
                reset_at=int(rng.integers(1, LENGTH)) if rng.random() < 0.2 else -1,
            )
        )
    return cases


def test_keras_random_and_adversarial(tmp_path: pathlib.Path):
    rng = np.random.default_rng(23)
    cases = _keras_cases(rng, 2 * N // 3)
    src, dst = tmp_path / "cases.json", tmp_path / "out.json"
    src.write_text(json.dumps(cases))
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    r = subprocess.run(
        [sys.executable, "-c", KERAS_SCRIPT, str(src), str(dst)], env=env, capture_output=True, text=True, timeout=600
    )
    assert r.returncode == 0, r.stderr[-4000:]
    results = json.loads(dst.read_text())
    resumed = 0
    for n, (case, rows) in enumerate(zip(cases, results)):
        g = len(case["lr"])
        ours = Plateau.keras(monitor="val_loss", **case["kw"], lr=case["lr"])
        ctx = f"keras {case['kw']} lr={case['lr']} real={case['real']}\nmetrics={case['metrics']}"
        cut = int(rng.integers(1, LENGTH)) if n % 3 == 0 else None
        resumed += cut is not None
        held = rows[0][:g]  # what the optimizers hold (float32 for a real Keras optimizer)
        for i, m in enumerate(case["metrics"]):
            if i == cut:
                ours = _resumed(ours)
            if i == case["reset_at"]:
                ours.reset()
            ours.observe(m, lrs=held if case["real"] else None)
            peer_lrs, best, wait, cooldown = rows[i + 1][:g], rows[i + 1][g], rows[i + 1][g + 1], rows[i + 1][g + 2]
            mine = [float(np.float32(v)) for v in ours.lrs] if case["real"] else list(ours.lrs)
            assert_same(i, "lrs", peer_lrs, mine, ctx)
            assert_same(i, "best", best, ours.best, ctx)
            assert_same(i, "wait", wait, ours.num_bad_epochs, ctx)
            assert_same(i, "cooldown", cooldown, ours.cooldown_counter, ctx)
            held = peer_lrs
    assert resumed > N // 20


def test_keras_mode_auto():
    assert Plateau.keras(monitor="loss").mode == "min"
    assert Plateau.keras(monitor="val_loss", mode="max").mode == "max"
    with pytest.raises(ValueError, match="mode='min' or mode='max'"):
        Plateau.keras(monitor="val_accuracy")


# ----------------------------------------------------------------------------- the pure reduction


def test_reduce_lrs_is_torchs_rule_near_the_floor():
    import torch

    rng = np.random.default_rng(29)
    for _ in range(300):
        eps = float(rng.choice([0.0, 1e-8, 1e-3]))
        lrs, floors = groups(rng, 3, eps)
        factor = float(rng.choice([0.0, 0.1, 0.5, 0.99]))
        params = [torch.nn.Parameter(torch.zeros(1)) for _ in lrs]
        opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, lrs)], lr=0.1)
        peer = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=factor, min_lr=floors, eps=eps)
        peer._reduce_lr(0)
        want = tuple(g["lr"] for g in opt.param_groups)
        assert reduce_lrs(lrs, factor, floors, eps) == want
        assert tuple(reduce_lr(lr, factor, f, eps) for lr, f in zip(lrs, floors)) == want
        assert Plateau(factor=factor, min_lr=floors, eps=eps, lr=lrs).reduce(lrs) == want


# ----------------------------------------------------------------------------- the interface


def test_state_is_plain_json_and_resume_is_exact():
    rng = np.random.default_rng(31)
    for flavor in FLAVORS:
        make = {
            "torch": lambda: Plateau(patience=2, cooldown=2, lr=[0.1, 0.2], min_lr=[0.0, 0.01]),
            "keras": lambda: Plateau.keras(patience=2, cooldown=3, lr=[0.1, 0.2]),
            "optax": lambda: Plateau.optax(patience=2, cooldown=2, accumulation_size=3),
            "paddle": lambda: Plateau.paddle(0.1, patience=2, cooldown=2),
            "mmengine": lambda: Plateau.mmengine(patience=2, cooldown=2, begin=1, lr=[0.1, 0.2]),
            "timm": lambda: Plateau.timm(patience_t=2, cooldown_t=2, warmup_t=2, lr=[0.1, 0.2], mode="min"),
        }[flavor]
        for _ in range(50):
            metrics = metric_sequence(rng, (1e-4,))
            a = make()
            decisions = []
            for i, m in enumerate(metrics):
                if i % 5 == 0:
                    a.tick()
                decisions.append((a.step(i, m), a.lrs))
            for cut in range(1, len(metrics)):
                b = make()
                for i, m in enumerate(metrics[:cut]):
                    if i % 5 == 0:
                        b.tick()
                    b.step(i, m)
                text = json.dumps(b.state_dict(), allow_nan=False)
                c = Plateau.from_dict(json.loads(json.dumps(b.to_dict())))
                c.load_state_dict(json.loads(text))
                assert c.state_dict() == b.state_dict()
                for i, m in enumerate(metrics[cut:], cut):
                    if i % 5 == 0:
                        c.tick()
                    assert (c.step(i, m), c.lrs) == decisions[i], (flavor, cut, i)
                break  # one cut per sequence keeps this quick


def test_to_dict_round_trip_and_repr():
    for p in [
        Plateau(),
        Plateau(mode="max", min_lr=[0.0, 0.1]),
        Plateau.keras(),
        Plateau.optax(atol=0.1),
        Plateau.paddle(0.5, mode="MAX"),
        Plateau.mmengine(rule="greater", min_value=[0, 1e-3]),
        Plateau.timm(warmup_t=3, lr=[0.1, 0.01], lr_scale=[None, 0.5]),
    ]:
        d = json.loads(json.dumps(p.to_dict(), allow_nan=False))
        assert Plateau.from_dict(d) == p
        assert repr(p).startswith(f"Plateau.{p.flavor}(")
    assert Plateau.torch(factor=0.5).to_dict() == Plateau(factor=0.5).to_dict()
    assert set(DIFFERENCES) == set(FLAVORS)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: Plateau(factor=1.0), "factor"),
        (lambda: Plateau(factor=-0.1), "factor"),
        (lambda: Plateau(factor=math.nan), "factor"),
        (lambda: Plateau(patience=-1), "patience"),
        (lambda: Plateau(cooldown=-1), "cooldown"),
        (lambda: Plateau(threshold=-1e-4), "threshold"),
        (lambda: Plateau(threshold=math.inf), "threshold"),
        (lambda: Plateau(threshold_mode="relative"), "threshold_mode"),
        (lambda: Plateau(mode="auto"), "mode"),
        (lambda: Plateau(eps=-1.0), "eps"),
        (lambda: Plateau(min_lr=[0.0, 0.1], lr=[0.1, 0.1, 0.1]), "min_lr"),
        (lambda: Plateau(min_lr=[-1.0]), "min_lr"),
        (lambda: Plateau(lr=math.nan), "lr"),
        (lambda: Plateau.keras(factor=1.0), "factor"),
        (lambda: Plateau.keras(mode="up"), "mode"),
        (lambda: Plateau.keras(min_delta=math.nan), "min_delta"),
        (lambda: Plateau.optax(factor=0.0), "factor"),
        (lambda: Plateau.optax(rtol=0.0, atol=0.0), "rtol"),
        (lambda: Plateau.optax(rtol=1.5), "rtol"),
        (lambda: Plateau.optax(atol=-1.0), "atol"),
        (lambda: Plateau.optax(accumulation_size=0), "accumulation_size"),
        (lambda: Plateau.optax(min_scale=-1.0), "min_scale"),
        (lambda: Plateau.paddle(0.1, factor=1.5), "factor"),
        (lambda: Plateau.paddle(0.1, epsilon=-1.0), "epsilon"),
        (lambda: Plateau.paddle(0.1, mode="mean"), "mode"),
        (lambda: Plateau.mmengine(threshold=-0.1), "threshold"),
        (lambda: Plateau.mmengine(rule="min"), "rule"),
        (lambda: Plateau.mmengine(threshold_rule="x"), "threshold_rule"),
        (lambda: Plateau.mmengine(begin=5, end=5), "end"),
        (lambda: Plateau.timm(decay_rate=1.0), "decay_rate"),
        (lambda: Plateau.timm(warmup_t=-1), "warmup_t"),
        (lambda: Plateau.from_dict({"flavor": "lightning"}), "flavor"),
    ],
)
def test_parameters_out_of_range_are_named(make, name):
    with pytest.raises(ValueError, match=name):
        make()


def test_the_peers_refuse_what_is_refused_where_they_check():
    # where a peer checks a parameter, it refuses what the policy refuses
    import torch
    from optax.contrib import reduce_on_plateau
    from paddle.optimizer.lr import ReduceOnPlateau

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    for bad in ({"factor": 1.0}, {"mode": "auto"}, {"threshold_mode": "relative"}):
        with pytest.raises(ValueError):
            torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **bad)
        with pytest.raises(ValueError):
            Plateau(**bad)
    for bad in ({"factor": 0.0}, {"factor": 1.0}, {"rtol": 0.0, "atol": 0.0}, {"rtol": 1.5}, {"atol": -1.0}):
        with pytest.raises(ValueError):
            reduce_on_plateau(**bad)
        with pytest.raises(ValueError):
            Plateau.optax(**bad)
    for bad in ({"factor": 1.0}, {"mode": "mean"}, {"threshold_mode": "x"}):
        with pytest.raises(ValueError):
            ReduceOnPlateau(0.1, **bad)
        with pytest.raises(ValueError):
            Plateau.paddle(0.1, **bad)


def test_bad_metric_and_state_are_named():
    p = Plateau()
    with pytest.raises(TypeError, match="metric"):
        p.observe("0.5")
    with pytest.raises(TypeError, match="metric"):
        p.observe([0.5, 0.4])
    with pytest.raises(ValueError, match="lrs"):
        p.observe(0.5, lrs=[0.1, 0.2])
    with pytest.raises(ValueError, match="keys"):
        p.load_state_dict({"best": 1.0})
    with pytest.raises(ValueError, match="paddle"):
        p.load_state_dict(Plateau.paddle(0.1).state_dict())
    p.observe(np.float32(0.5))  # numpy scalars and 0-d tensors are metrics
    assert p.best == 0.5


def test_lrkit_import_stays_light():
    code = (
        "import sys, lrkit.plateau; bad = [m for m in ('torch', 'jax', 'keras', 'paddle', 'tensorflow', 'optax') "
        "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
