"""docs/coming-from.md: every row of its optax and fvcore tables, evaluated on both sides.

optax's schedules are closures (nothing to convert them from), so the page gives the
lrkit expression with the same values; these tests read the rows from the page itself,
so the page cannot drift from what is tested.
"""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest
from peer import assert_same_curve

import lrkit

PAGE = pathlib.Path(__file__).parent.parent / "docs" / "coming-from.md"


def rows(marker: str) -> list[tuple[str, str]]:
    text = PAGE.read_text(encoding="utf-8")
    block = text[text.index(f"<!-- {marker}") :]
    block = block[: block.index("\n\n", block.index("|---"))] if "\n\n" in block[block.index("|---") :] else block
    out = []
    for line in block.splitlines():
        m = re.fullmatch(r"\| `(.+)` \| `(.+)` \|", line.strip())
        if m:
            out.append((m.group(1), m.group(2)))
    return out


OPTAX = rows("optax-table")
FVCORE = rows("fvcore-table")


def test_the_tables_have_every_schedule_function():
    import optax

    names = {a.split("(")[0] for a, _ in OPTAX}
    for fn in (
        "constant_schedule",
        "linear_schedule",
        "polynomial_schedule",
        "exponential_decay",
        "cosine_decay_schedule",
        "warmup_cosine_decay_schedule",
        "warmup_constant_schedule",
        "warmup_exponential_decay_schedule",
        "piecewise_constant_schedule",
        "piecewise_interpolate_schedule",
        "linear_onecycle_schedule",
        "cosine_onecycle_schedule",
        "sgdr_schedule",
        "join_schedules",
    ):
        assert hasattr(optax, fn) and f"optax.{fn}" in names, fn
    from fvcore.common import param_scheduler as P

    fv = {a.split("(")[0] for a, _ in FVCORE}
    public = {n for n in dir(P) if n.endswith("ParamScheduler") and n != "ParamScheduler"}
    assert public <= fv, public - fv


@pytest.mark.parametrize("peer,mine", OPTAX, ids=[a.split("(")[0] for a, _ in OPTAX])
def test_optax_row(peer, mine):
    import jax
    import optax

    with jax.enable_x64(True):
        f = eval(peer, {"optax": optax})
        ref = [float(f(np.int64(t))) for t in range(1500)]
    s = eval(mine, dict(vars(lrkit)))
    assert isinstance(s, lrkit.Schedule) and lrkit.from_dict(s.to_dict()) == s
    assert_same_curve(ref, s(np.arange(1500.0)).tolist(), peer)


@pytest.mark.parametrize("peer,mine", FVCORE, ids=[f"{i}-{a.split('(')[0]}" for i, (a, _) in enumerate(FVCORE)])
def test_fvcore_row(peer, mine):
    from fvcore.common import param_scheduler as P

    n = 1000
    f = eval(peer, {k: getattr(P, k) for k in dir(P) if k.endswith("ParamScheduler")})
    ref = [float(f(t / n)) for t in range(n)]
    s = eval(mine, dict(vars(lrkit)))
    assert isinstance(s, lrkit.Schedule) and lrkit.from_dict(s.to_dict()) == s
    assert_same_curve(ref, s(np.arange(float(n))).tolist(), peer)


# -- the first code block runs as written ----------------------------------------------------------


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)


def test_the_first_code_block_runs_as_written():
    import subprocess
    import sys
    import textwrap

    code = _blocks()[0]
    env = dict(__import__("os").environ, KERAS_BACKEND="torch", MPLBACKEND="Agg")
    r = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env, timeout=600
    )
    assert r.returncode == 0, r.stderr[-3000:]


# -- every row of the converters' tables, against the peer -----------------------------------------
#
# Each case names the table (the page's section) and a name of the row's first cell; a test
# checks every row has cases. Several parameter sets per row: param groups of their own lrs
# (transformers' optimizer.defaults["lr"] apart from the groups'), warmups running past the
# decay, non-default flags. Each case returns the peer's lr per group at N positions and the
# conversion; the comparison covers every group.

N = 1200


def section_rows(title: str) -> list[str]:
    """The rows of a section's table, whole (its header row left out)."""
    text = PAGE.read_text(encoding="utf-8")
    part = text[text.index(f"\n## {title}\n") :]
    end = part.find("\n## ", 5)
    part = part if end < 0 else part[:end]
    return [line for line in part.splitlines() if line.startswith("| ") and "|---" not in line][1:]


def _params(n):
    return [torch.zeros(1, requires_grad=True) for _ in range(n)]


def _torch_opt(lrs=(0.03, 0.011, 0.0042), default=0.05, cls=None, **kw):
    ps = _params(len(lrs))
    cls = cls or torch.optim.SGD
    return cls([{"params": [p], "lr": lr} for p, lr in zip(ps, lrs)], lr=default, **kw)


def _run_torch(opt, sched, n=N, warmup=None):
    out = []
    for _ in range(n):
        out.append([g["lr"] for g in opt.param_groups])
        opt.step()
        if warmup is None:
            sched.step()
        else:
            with warmup.dampening():
                sched.step()
    return np.array(out)


def _compare(ref, conv, what):
    ref = np.asarray(ref)
    groups = ref.shape[1]
    per = conv if isinstance(conv, list) else [conv] * groups
    assert len(per) == groups, what
    for g in range(groups):
        assert isinstance(per[g], lrkit.Schedule)
        if not per[g].runs_python:
            assert lrkit.from_dict(per[g].to_dict()) == per[g]
        assert_same_curve(ref[:, g], per[g](np.arange(float(len(ref)))).tolist(), f"{what}, group {g}")


import torch  # noqa: E402


def _hf(name, W, Nt, **kw):
    def case():
        from transformers import get_scheduler

        from lrkit.torch import from_torch

        opt = _torch_opt()
        s = get_scheduler(name, opt, num_warmup_steps=W, num_training_steps=Nt, scheduler_specific_kwargs=kw or None)
        conv = from_torch(s)
        return _run_torch(opt, s), conv

    return case


def _hf_polynomial_row(W, Nt, lr_end, power):
    """The row's expression, written out: lr_end is absolute for b0 = optimizer.defaults["lr"]."""

    def case():
        from transformers import get_scheduler

        opt = _torch_opt()
        b0 = opt.defaults["lr"]
        s = get_scheduler(
            "polynomial",
            opt,
            num_warmup_steps=W,
            num_training_steps=Nt,
            scheduler_specific_kwargs=dict(lr_end=lr_end, power=power),
        )
        mine = []
        for g in opt.param_groups:
            b = g["initial_lr"]
            if W < Nt:
                mine.append(lrkit.Warmup(lrkit.Polynomial(b, Nt - W, lr_end * b / b0, power), W))
            else:
                mine.append(lrkit.Sequence([lrkit.Warmup(lrkit.Constant(b), W), lrkit.Constant(lr_end * b / b0)], [W]))
        return _run_torch(opt, s), mine

    return case


def _timm(make, warm, updates=False):
    def case():
        from peer import import_timm_scheduler

        from lrkit.torch import from_torch

        ts = import_timm_scheduler()
        opt = _torch_opt()
        opt.param_groups[2]["lr_scale"] = 0.3
        s = make(ts, opt, dict(warm, t_in_epochs=not updates))
        conv = from_torch(s)
        out = []
        for t in range(N):
            (s.step_update if updates else s.step)(t)
            out.append([g["lr"] for g in opt.param_groups])
        return np.array(out), conv

    return case


def _timm_tanh_row(W, init, prefix, **kw):
    """The row's expression: with warmup_prefix=False the ramp aims at the tanh's value at W."""

    def case():
        from peer import import_timm_scheduler

        ts = import_timm_scheduler()
        opt = _torch_opt()
        s = ts.TanhLRScheduler(opt, warmup_t=W, warmup_lr_init=init, warmup_prefix=prefix, **kw)
        T, lo = kw["t_initial"], kw.get("lr_min", 0.0)
        mine = []
        for g in opt.param_groups:
            main = lrkit.Tanh(g["initial_lr"], T, lo, lower=kw.get("lb", -7.0), upper=kw.get("ub", 3.0))
            if prefix:
                mine.append(lrkit.Sequence([lrkit.Ramp(init, g["initial_lr"], W), main], [W]))
            else:
                mine.append(lrkit.Sequence([lrkit.Ramp(init, main(float(W)), W), lrkit.Shift(main, W)], [W]))
        out = []
        for t in range(N):
            s.step(t)
            out.append([g["lr"] for g in opt.param_groups])
        return np.array(out), mine

    return case


def _mm(make, epoch_length=None):
    def case():
        from lrkit.torch import from_torch

        opt = _torch_opt()
        scheds = make(opt)
        L = epoch_length or 1
        conv = (
            from_torch(scheds, epoch_length=epoch_length)
            if epoch_length
            else from_torch(scheds if len(scheds) > 1 else scheds[0])
        )
        out = []
        for i in range(N):
            out.append([g["lr"] for g in opt.param_groups])
            opt.step()
            for s in scheds:
                if not s.by_epoch:
                    s.step()
            if (i + 1) % L == 0:
                for s in scheds:
                    if s.by_epoch:
                        s.step()
        return np.array(out), conv

    return case


def _pw(make_warmup, make_main=None, betas=(0.9, 0.999)):
    def case():
        from torch.optim import lr_scheduler as tl

        from lrkit.torch import from_torch

        opt = _torch_opt(cls=torch.optim.AdamW, betas=betas)
        opt.param_groups[1]["betas"] = (0.9, 0.99)
        main = (make_main or (lambda o: tl.CosineAnnealingLR(o, T_max=900, eta_min=1e-6)))(opt)
        w = make_warmup(opt)
        conv = from_torch(main, warmup=w)
        return _run_torch(opt, main, warmup=w), conv

    return case


def _torch_sched(make):
    def case():
        from torch.optim import lr_scheduler as tl

        from lrkit.torch import from_torch

        opt = _torch_opt()
        s = make(tl, opt)
        conv = from_torch(s)
        return _run_torch(opt, s), conv

    return case


def _keras(make):
    def case():
        import os

        os.environ.setdefault("KERAS_BACKEND", "torch")
        import keras

        from lrkit.keras import from_keras

        before = keras.config.floatx()
        keras.config.set_floatx("float64")
        try:
            s = make(keras.optimizers.schedules)
            ref = [[float(s(torch.tensor(float(t), dtype=torch.float64)))] for t in range(N)]
        finally:
            keras.config.set_floatx(before)
        return np.array(ref), from_keras(s)

    return case


def _paddle(make):
    def case():
        import paddle

        import lrkit.paddle as lp

        s = make(paddle.optimizer.lr)
        conv = lp.from_paddle(s)
        ref = []
        for _ in range(N):
            ref.append([s()])
            s.step()
        return np.array(ref), conv

    return case


def _ds(kind, params, whole=False):
    def case():
        import os

        os.environ.setdefault("DS_ACCELERATOR", "cpu")
        import deepspeed.runtime.lr_schedules as L

        from lrkit.torch import from_deepspeed, from_torch

        lrs = (0.03, 0.011)
        opt = _torch_opt(lrs)
        extra = dict(cycle_momentum=False) if kind == "OneCycle" else {}
        s = getattr(L, kind)(opt, **params, **extra)
        out = [[g["lr"] for g in opt.param_groups]]
        for _ in range(N - 1):
            s.step()
            out.append([g["lr"] for g in opt.param_groups])
        out = np.array(out)
        if whole:  # the whole ds_config: the optimizer's lr is read from it (one group)
            conv = from_deepspeed(
                {"optimizer": {"type": "SGD", "params": {"lr": lrs[0]}}, "scheduler": {"type": kind, "params": params}}
            )
            return out[:, :1], conv
        by_config = from_deepspeed({"type": kind, "params": params}, lrs=list(lrs))
        _compare(out, by_config, f"{kind} {params} from its JSON section")
        return out, from_torch(s)

    return case


def _cases():
    tanh = lambda ts, o, w, **k: ts.TanhLRScheduler(o, **k, **w)  # noqa: E731
    c = [
        # transformers
        ("transformers", "constant", "constant", _hf("constant", 0, 100)),
        ("transformers", "constant_with_warmup", "constant-warmup-past-N", _hf("constant_with_warmup", 130, 100)),
        ("transformers", "linear", "linear", _hf("linear", 50, 1000)),
        ("transformers", "linear", "linear-warmup-past-N", _hf("linear", 300, 200)),
        ("transformers", "cosine", "cosine-cycles", _hf("cosine", 40, 700, num_cycles=1.5)),
        ("transformers", "cosine_with_min_lr", "cosine-min-lr", _hf("cosine_with_min_lr", 40, 700, min_lr_rate=0.1)),
        (
            "transformers",
            "cosine_warmup_with_min_lr",
            "cosine-warmup-min-lr",
            _hf("cosine_warmup_with_min_lr", 40, 700, min_lr_rate=0.05),
        ),
        ("transformers", "cosine_with_restarts", "restarts", _hf("cosine_with_restarts", 30, 900, num_cycles=3)),
        ("transformers", "polynomial", "polynomial", _hf("polynomial", 60, 800, lr_end=1e-4, power=2.0)),
        ("transformers", "polynomial", "polynomial-warmup-past-N", _hf("polynomial", 500, 300, lr_end=1e-3)),
        ("transformers", "polynomial", "polynomial-row-groups", _hf_polynomial_row(60, 800, 1e-4, 2.0)),
        ("transformers", "polynomial", "polynomial-row-past-N", _hf_polynomial_row(500, 300, 1e-3, 1.0)),
        ("transformers", "inverse_sqrt", "inverse-sqrt", _hf("inverse_sqrt", 100, 1000)),
        ("transformers", "inverse_sqrt", "inverse-sqrt-timescale", _hf("inverse_sqrt", 100, 1000, timescale=37)),
        (
            "transformers",
            "warmup_stable_decay",
            "wsd",
            _hf("warmup_stable_decay", 100, 1000, num_decay_steps=300, min_lr_ratio=0.1),
        ),
        (
            "transformers",
            "warmup_stable_decay",
            "wsd-sqrt-cosine-warmup",
            _hf("warmup_stable_decay", 100, 1000, num_decay_steps=300, decay_type="1-sqrt", warmup_type="cosine"),
        ),
        # timm
        (
            "timm",
            "CosineLRScheduler",
            "cosine-cycles-overlay",
            _timm(
                lambda ts, o, w: ts.CosineLRScheduler(
                    o, t_initial=150, lr_min=2e-4, cycle_mul=1.3, cycle_decay=0.8, cycle_limit=4, **w
                ),
                {"warmup_t": 30, "warmup_lr_init": 1e-5},
            ),
        ),
        (
            "timm",
            "CosineLRScheduler",
            "cosine-k-prefix-updates",
            _timm(
                lambda ts, o, w: ts.CosineLRScheduler(o, t_initial=600, k_decay=1.6, lr_min=1e-5, **w),
                {"warmup_t": 700, "warmup_lr_init": 1e-5, "warmup_prefix": True},
                updates=True,
            ),
        ),
        (
            "timm",
            "TanhLRScheduler",
            "tanh-prefix",
            _timm(
                lambda ts, o, w: tanh(ts, o, w, t_initial=700, lb=-5.0, ub=4.0, lr_min=1e-5),
                {"warmup_t": 40, "warmup_lr_init": 1e-4, "warmup_prefix": True},
            ),
        ),
        (
            "timm",
            "TanhLRScheduler",
            "tanh-overlay",
            _timm(
                lambda ts, o, w: tanh(ts, o, w, t_initial=700, lb=-5.0, ub=4.0, lr_min=1e-5),
                {"warmup_t": 40, "warmup_lr_init": 1e-4},
            ),
        ),
        (
            "timm",
            "TanhLRScheduler",
            "tanh-row-overlay",
            _timm_tanh_row(40, 1e-4, False, t_initial=700, lb=-5.0, ub=4.0, lr_min=1e-5),
        ),
        ("timm", "TanhLRScheduler", "tanh-row-prefix", _timm_tanh_row(40, 1e-4, True, t_initial=700, lr_min=1e-5)),
        (
            "timm",
            "PolyLRScheduler",
            "poly-cycles",
            _timm(
                lambda ts, o, w: ts.PolyLRScheduler(
                    o, t_initial=300, power=1.5, k_decay=0.6, cycle_limit=3, cycle_decay=0.5, **w
                ),
                {"warmup_t": 20, "warmup_lr_init": 1e-5},
            ),
        ),
        (
            "timm",
            "StepLRScheduler",
            "step",
            _timm(lambda ts, o, w: ts.StepLRScheduler(o, decay_t=90, decay_rate=0.6, **w), {}),
        ),
        (
            "timm",
            "MultiStepLRScheduler",
            "multistep",
            _timm(
                lambda ts, o, w: ts.MultiStepLRScheduler(o, decay_t=[1, 150, 400, 400, 1000], decay_rate=0.4, **w),
                {"warmup_t": 10, "warmup_lr_init": 1e-4, "warmup_prefix": True},
            ),
        ),
        (
            "timm",
            "MultiStepLRScheduler",
            "multistep-unsorted",
            _timm(lambda ts, o, w: ts.MultiStepLRScheduler(o, decay_t=[400, 150, 1000], decay_rate=0.5, **w), {}),
        ),
        (
            "timm",
            "WSDLRScheduler",
            "wsd-cosine",
            _timm(
                lambda ts, o, w: ts.WSDLRScheduler(o, t_initial=900, decay_t=250, lr_min=1e-5, decay_fn="cosine", **w),
                {"warmup_t": 30, "warmup_lr_init": 1e-5},
            ),
        ),
        (
            "timm",
            "WSDLRScheduler",
            "wsd-rsqrt-linear",
            _timm(
                lambda ts, o, w: ts.WSDLRScheduler(
                    o, t_initial=900, decay_t=300, stable_fn="rsqrt", decay_fn="linear", **w
                ),
                {"warmup_t": 20, "warmup_lr_init": 1e-5},
            ),
        ),
        (
            "timm",
            "WSDLRScheduler",
            "wsd-power-exp-min",
            _timm(
                lambda ts, o, w: ts.WSDLRScheduler(
                    o,
                    t_initial=900,
                    decay_t=300,
                    lr_min=2e-3,
                    stable_fn="power",
                    stable_power=0.8,
                    stable_timescale=40,
                    decay_fn="exp",
                    decay_ratio=0.05,
                    **w,
                ),
                {"warmup_t": 25, "warmup_lr_init": 1e-5},
            ),
        ),
        (
            "timm",
            "WSDLRScheduler",
            "wsd-rsqrt-1-sqrt-min",
            _timm(
                lambda ts, o, w: ts.WSDLRScheduler(
                    o, t_initial=900, decay_t=400, lr_min=1e-3, stable_fn="rsqrt", decay_fn="1-sqrt", **w
                ),
                {"warmup_t": 30, "warmup_lr_init": 0.0},
                updates=True,
            ),
        ),
        (
            "timm",
            "warmup_t",
            "warmup-past-the-curve",
            _timm(
                lambda ts, o, w: ts.CosineLRScheduler(o, t_initial=100, lr_min=1e-4, **w),
                {"warmup_t": 250, "warmup_lr_init": 1e-4},
            ),
        ),
    ]
    from mmengine.optim import scheduler as ms  # noqa: F401  (the peer is a test dependency)

    c += [
        (
            "mmengine",
            "begin",
            "linear-then-multistep-by-epoch",
            _mm(
                lambda o: [
                    ms.LinearLR(o, start_factor=0.001, by_epoch=False, begin=0, end=300),
                    ms.MultiStepLR(o, begin=0, end=30, by_epoch=True, milestones=[8, 11], gamma=0.1),
                ],
                37,
            ),
        ),
        (
            "mmengine",
            "LinearLR",
            "linear",
            _mm(lambda o: [ms.LinearLR(o, start_factor=0.1, end_factor=0.5, by_epoch=False, begin=10, end=400)]),
        ),
        ("mmengine", "ConstantLR", "constant", _mm(lambda o: [ms.ConstantLR(o, factor=0.3, by_epoch=False, end=77)])),
        (
            "mmengine",
            "StepLR",
            "step-exp",
            _mm(
                lambda o: [
                    ms.StepLR(o, step_size=150, gamma=0.7, by_epoch=False),
                    ms.ExponentialLR(o, gamma=0.999, begin=100, by_epoch=False),
                ]
            ),
        ),
        (
            "mmengine",
            "PolyLR",
            "poly",
            _mm(lambda o: [ms.PolyLR(o, eta_min=1e-4, power=0.9, begin=100, end=1000, by_epoch=False)]),
        ),
        (
            "mmengine",
            "CosineAnnealingLR",
            "cosine-past-T_max",
            _mm(lambda o: [ms.CosineAnnealingLR(o, T_max=300, eta_min=1e-4, by_epoch=False)]),
        ),
        (
            "mmengine",
            "CosineRestartLR",
            "restarts",
            _mm(
                lambda o: [
                    ms.CosineRestartLR(
                        o, periods=[150, 300, 450], restart_weights=[1, 0.6, 0.3], eta_min_ratio=0.01, by_epoch=False
                    )
                ]
            ),
        ),
        (
            "mmengine",
            "OneCycleLR",
            "one-cycle",
            _mm(
                lambda o: [
                    ms.OneCycleLR(
                        o,
                        eta_max=[0.1, 0.05, 0.02],
                        total_steps=N + 1,
                        pct_start=0.2,
                        anneal_strategy="linear",
                        three_phase=True,
                        by_epoch=False,
                    )
                ]
            ),
        ),
        # pytorch-warmup
        (
            "pytorch-warmup",
            "LinearWarmup",
            "linear",
            _pw(lambda o: __import__("pytorch_warmup").LinearWarmup(o, warmup_period=[50, 220, 1500])),
        ),
        (
            "pytorch-warmup",
            "ExponentialWarmup",
            "exponential",
            _pw(lambda o: __import__("pytorch_warmup").ExponentialWarmup(o, warmup_period=90)),
        ),
        (
            "pytorch-warmup",
            "UntunedLinearWarmup",
            "untuned",
            _pw(lambda o: __import__("pytorch_warmup").UntunedLinearWarmup(o)),
        ),
        (
            "pytorch-warmup",
            "UntunedExponentialWarmup",
            "untuned-exp",
            _pw(lambda o: __import__("pytorch_warmup").UntunedExponentialWarmup(o)),
        ),
        (
            "pytorch-warmup",
            "RAdamWarmup",
            "radam",
            _pw(lambda o: __import__("pytorch_warmup").RAdamWarmup(o), betas=(0.9, 0.95)),
        ),
        # Keras
        (
            "Keras 3",
            "ExponentialDecay",
            "exponential-stairs",
            _keras(lambda k: k.ExponentialDecay(0.1, 37, 0.83, staircase=True)),
        ),
        (
            "Keras 3",
            "PiecewiseConstantDecay",
            "piecewise",
            _keras(lambda k: k.PiecewiseConstantDecay([100, 400], [0.1, 0.05, 0.01])),
        ),
        (
            "Keras 3",
            "PolynomialDecay",
            "polynomial-cycle",
            _keras(lambda k: k.PolynomialDecay(0.1, 300, 0.001, power=1.7, cycle=True)),
        ),
        (
            "Keras 3",
            "PolynomialDecay",
            "polynomial-rise",
            _keras(lambda k: k.PolynomialDecay(0.001, 300, 0.1, power=1.0)),
        ),
        (
            "Keras 3",
            "PolynomialDecay",
            "polynomial-rise-power",
            _keras(lambda k: k.PolynomialDecay(0.001, 300, 0.1, power=2.5)),
        ),
        (
            "Keras 3",
            "PolynomialDecay",
            "polynomial-power-0",
            _keras(lambda k: k.PolynomialDecay(0.05, 300, 0.001, power=0.0)),
        ),
        ("Keras 3", "ExponentialDecay", "exponential-rate-0", _keras(lambda k: k.ExponentialDecay(0.1, 37, 0.0))),
        ("Keras 3", "CosineDecay", "cosine-alpha-rise", _keras(lambda k: k.CosineDecay(0.01, 800, alpha=4.0))),
        (
            "Keras 3",
            "InverseTimeDecay",
            "inverse-time",
            _keras(lambda k: k.InverseTimeDecay(0.1, 50, 0.7, staircase=True)),
        ),
        ("Keras 3", "CosineDecay", "cosine-alpha", _keras(lambda k: k.CosineDecay(0.1, 800, alpha=0.05))),
        (
            "Keras 3",
            "CosineDecay(..., warmup_target",
            "cosine-warmup",
            _keras(lambda k: k.CosineDecay(0.0, 800, alpha=0.1, warmup_target=0.1, warmup_steps=100)),
        ),
        (
            "Keras 3",
            "CosineDecayRestarts",
            "restarts",
            _keras(lambda k: k.CosineDecayRestarts(0.1, 100, t_mul=1.5, m_mul=0.8, alpha=0.02)),
        ),
        # Paddle
        ("Paddle", "NoamDecay", "noam", _paddle(lambda L: L.NoamDecay(512, 400, learning_rate=2.0))),
        ("Paddle", "NaturalExpDecay", "natural-exp", _paddle(lambda L: L.NaturalExpDecay(0.1, 0.004))),
        ("Paddle", "InverseTimeDecay", "inverse-time", _paddle(lambda L: L.InverseTimeDecay(0.1, 0.03))),
        ("Paddle", "LinearLR", "linear", _paddle(lambda L: L.LinearLR(0.1, 500, start_factor=0.2, end_factor=0.9))),
        (
            "Paddle",
            "CyclicLR",
            "cyclic",
            _paddle(lambda L: L.CyclicLR(0.001, 0.1, 100, step_size_down=60, mode="exp_range", exp_gamma=0.999)),
        ),
        ("Paddle", "CosineAnnealingDecay", "cosine", _paddle(lambda L: L.CosineAnnealingDecay(0.1, 300, 1e-4))),
        (
            "Paddle",
            "PolynomialDecay(..., cycle=True)",
            "polynomial-cycle",
            _paddle(lambda L: L.PolynomialDecay(0.1, 300, 1e-3, power=2.0, cycle=True)),
        ),
        (
            "Paddle",
            "PolynomialDecay(..., end_lr > learning_rate",
            "polynomial-rise",
            _paddle(lambda L: L.PolynomialDecay(0.001, 300, 0.1, power=0.7)),
        ),
        (
            "Paddle",
            "LinearWarmup",
            "warmup-step",
            _paddle(lambda L: L.LinearWarmup(L.StepDecay(0.1, 100, 0.5), 50, 0.0, 0.1)),
        ),
        ("Paddle", "LinearWarmup", "one-cycle", _paddle(lambda L: L.OneCycleLR(0.1, N + 1, phase_pct=0.25))),
        ("Paddle", "LinearWarmup", "warm-restarts", _paddle(lambda L: L.CosineAnnealingWarmRestarts(0.1, 100, 2))),
        (
            "Paddle",
            "LinearWarmup",
            "multistep-piecewise-exp",
            _paddle(lambda L: L.MultiStepDecay(0.1, [100, 300], 0.3)),
        ),
        # torch
        ("torch", "StepLR", "step", _torch_sched(lambda tl, o: tl.StepLR(o, 100, 0.5))),
        ("torch", "CosineAnnealingLR", "cosine-past-T_max", _torch_sched(lambda tl, o: tl.CosineAnnealingLR(o, 300))),
        (
            "torch",
            "OneCycleLR",
            "one-cycle",
            _torch_sched(
                lambda tl, o: tl.OneCycleLR(
                    o, max_lr=[0.1, 0.05, 0.02], total_steps=N + 1, three_phase=True, anneal_strategy="linear"
                )
            ),
        ),
        (
            "torch",
            "SequentialLR",
            "sequential",
            _torch_sched(
                lambda tl, o: tl.SequentialLR(
                    o, [tl.LinearLR(o, 0.1, total_iters=50), tl.ExponentialLR(o, 0.998)], milestones=[50]
                )
            ),
        ),
        (
            "torch",
            "CyclicLR",
            "cyclic",
            _torch_sched(lambda tl, o: tl.CyclicLR(o, 0.001, 0.1, 100, mode="triangular2", cycle_momentum=False)),
        ),
        # DeepSpeed
        (
            "DeepSpeed",
            "WarmupLR",
            "warmup-linear",
            _ds("WarmupLR", dict(warmup_min_lr=0.001, warmup_max_lr=0.05, warmup_num_steps=37, warmup_type="linear")),
        ),
        (
            "DeepSpeed",
            "WarmupDecayLR",
            "decay-warmup-past-total",
            _ds("WarmupDecayLR", dict(total_num_steps=20, warmup_max_lr=0.03, warmup_num_steps=41)),
        ),
        (
            "DeepSpeed",
            "WarmupCosineLR",
            "cosine",
            _ds(
                "WarmupCosineLR",
                dict(total_num_steps=500, warmup_min_ratio=0.01, warmup_num_steps=33, cos_min_ratio=0.02),
            ),
        ),
        (
            "DeepSpeed",
            "WarmupCosineLR",
            "cosine-whole-config",
            _ds("WarmupCosineLR", dict(total_num_steps=500, warmup_num_steps=33), whole=True),
        ),
        (
            "DeepSpeed",
            "OneCycle",
            "one-cycle-stairs",
            _ds(
                "OneCycle",
                dict(
                    cycle_min_lr=0.001,
                    cycle_max_lr=0.07,
                    cycle_first_step_size=120,
                    cycle_first_stair_count=5,
                    cycle_second_stair_count=4,
                    decay_step_size=30,
                    decay_lr_rate=0.1,
                ),
            ),
        ),
        (
            "DeepSpeed",
            "LRRangeTest",
            "range-test",
            _ds(
                "LRRangeTest", dict(lr_range_test_min_lr=0.001, lr_range_test_step_size=7, lr_range_test_step_rate=0.3)
            ),
        ),
        (
            "DeepSpeed",
            "LRRangeTest",
            "range-test-staircase",
            _ds(
                "LRRangeTest",
                dict(
                    lr_range_test_min_lr=[0.001, 0.002],
                    lr_range_test_step_size=50,
                    lr_range_test_step_rate=1.5,
                    lr_range_test_staircase=True,
                ),
            ),
        ),
    ]
    return c


CASES = _cases()


def test_every_row_of_the_converters_tables_has_cases():
    for title in (
        "transformers",
        "timm",
        "mmengine (mmdet, mmseg, mmyolo configs)",
        "pytorch-warmup",
        "Keras 3",
        "Paddle",
        "DeepSpeed",
    ):
        short = title.split(" (")[0]
        named = [name for sec, name, _, _ in CASES if sec == short]
        for row in section_rows(title):
            cell = row.split("|")[1]
            if "refused" in row:  # test_refused_rows
                continue
            if "Plateau" in cell:  # a policy, not a curve: tests/test_plateau_convert.py continues each exactly
                continue
            assert any(name in cell for name in named), f"{title}: no case for the row {cell.strip()!r}"


def test_refused_rows_say_why():
    import paddle
    from mmengine.optim import scheduler as ms
    from peer import import_timm_scheduler
    from torch.optim import lr_scheduler as tl

    import lrkit.paddle as lp
    from lrkit.torch import from_torch

    ts = import_timm_scheduler()
    with pytest.raises(TypeError, match="CosineLRScheduler.*noise"):
        from_torch(ts.CosineLRScheduler(_torch_opt(), t_initial=100, noise_range_t=50))
    # the plateau schedulers give their Plateau policy (tests/test_plateau_convert.py)
    assert type(from_torch(ms.ReduceOnPlateauLR(_torch_opt(), monitor="loss"))).__name__ == "Plateau"
    assert type(from_torch(tl.ReduceLROnPlateau(_torch_opt()))).__name__ == "Plateau"
    assert type(lp.from_paddle(paddle.optimizer.lr.ReduceOnPlateau(0.1))).__name__ == "Plateau"
    with pytest.raises(TypeError, match="WSDLRScheduler.*user code"):
        from_torch(ts.WSDLRScheduler(_torch_opt(), t_initial=100, decay_t=20, decay_fn=lambda f: 1 - f))
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    from lrkit.keras import from_keras

    K = keras.optimizers.schedules
    with pytest.raises(TypeError, match="ExponentialDecay.*grows.*inf.*from step"):
        from_keras(K.ExponentialDecay(0.1, 10, 1.5))
    for s, why in (
        (K.CosineDecayRestarts(0.1, 100, alpha=1.5), "above the peak"),
        (K.CosineDecayRestarts(0.1, 100, m_mul=1.2), "grows without bound"),
        (K.CosineDecayRestarts(0.1, 100, t_mul=0.5), "NaN"),
        (K.CosineDecay(0.1, 100, alpha=-0.1), "below 0"),
        (K.InverseTimeDecay(0.1, 100, -0.5), "decay_rate must be >= 0"),
    ):
        with pytest.raises(TypeError, match=f"{type(s).__name__}.*{why}"):
            from_keras(s)


@pytest.mark.parametrize("section,name,case_id,case", CASES, ids=[f"{s}-{i}" for s, _, i, _ in CASES])
def test_converter_row(section, name, case_id, case):
    ref, conv = case()
    _compare(ref, conv, f"{section} {name} ({case_id})")


# -- the rows' lrkit expressions, written out, against the peer ------------------------------------


def _hf_linear_row(W, Nt):
    def case():
        from transformers import get_scheduler

        opt = _torch_opt()
        s = get_scheduler("linear", opt, num_warmup_steps=W, num_training_steps=Nt)
        mine = []
        for g in opt.param_groups:
            b = g["initial_lr"]
            mine.append(
                lrkit.Warmup(lrkit.Linear(b, max(1, Nt - W)), W)
                if W < Nt
                else lrkit.Sequence([lrkit.Ramp(0.0, b, W), lrkit.Constant(0.0)], [W])
            )
        return _run_torch(opt, s), mine

    return case


def _paddle_rise_row(b, T, end, power):
    def case():
        import paddle

        s = paddle.optimizer.lr.PolynomialDecay(b, T, end, power)
        ref = []
        for _ in range(N):
            ref.append([s()])
            s.step()
        return np.array(ref), lrkit.Hold(lrkit.PolynomialCycle(b, T, end, power), T)

    return case


def _range_test_row(lo, size, rate, stair):
    def case():
        import os

        os.environ.setdefault("DS_ACCELERATOR", "cpu")
        import deepspeed.runtime.lr_schedules as L

        opt = _torch_opt((0.1,))
        s = L.LRRangeTest(opt, lo, size, rate, stair)
        out = [[opt.param_groups[0]["lr"]]]
        for _ in range(N - 1):
            s.step()
            out.append([opt.param_groups[0]["lr"]])
        return np.array(out), lrkit.LinearGrowth(lo, size, rate, stair)

    return case


def _radam_row():
    def case():
        import pytorch_warmup
        from torch.optim import lr_scheduler as tl

        opt = _torch_opt(cls=torch.optim.AdamW, betas=(0.9, 0.999))
        opt.param_groups[1]["betas"] = (0.9, 0.98)
        main = tl.StepLR(opt, 200, 0.5)
        w = pytorch_warmup.RAdamWarmup(opt)
        mine = [
            lrkit.Product([lrkit.Step(g["initial_lr"], 200, 0.5), lrkit.RAdamDampening(g["betas"][1])])
            for g in opt.param_groups
        ]
        return _run_torch(opt, main, warmup=w), mine

    return case


ROWS = {
    "transformers-linear": _hf_linear_row(50, 1000),
    "transformers-linear-warmup-past-N": _hf_linear_row(300, 200),
    "transformers-linear-warmup-at-N": _hf_linear_row(200, 200),
    "paddle-rise": _paddle_rise_row(0.001, 300, 0.1, 0.7),
    "paddle-rise-power-3": _paddle_rise_row(0.0, 64, 0.02, 3.0),
    "deepspeed-range-test": _range_test_row(0.003, 11, 0.7, False),
    "deepspeed-range-test-staircase": _range_test_row(0.003, 11, 0.7, True),
    "pytorch-warmup-radam": _radam_row(),
}


@pytest.mark.parametrize("name", list(ROWS))
def test_row_expression(name):
    ref, mine = ROWS[name]()
    _compare(ref, mine, name)


def test_the_range_test_section_names_what_exists():
    """Every lrkit name the range-test section gives resolves, with the keywords it shows."""
    import importlib
    import inspect

    text = PAGE.read_text(encoding="utf-8")
    section = text[text.index("## The LR range test") : text.index("## optax")]
    names = set(re.findall(r"lrkit\.rangetest(?:\.\w+)+", section))
    assert len(names) >= 5
    for dotted in names:
        parts = dotted.split(".")
        for cut in range(len(parts), 1, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
            break
    from lrkit.rangetest import RangeTestResult
    from lrkit.rangetest.torch import range_test

    shown = {"end_lr", "num_iter", "step_mode", "start_lr", "flavor", "accumulation_steps"}
    assert shown <= set(inspect.signature(range_test).parameters)
    for method in ("plot", "suggestion", "to_csv", "plan"):
        assert callable(getattr(RangeTestResult, method))
    assert set(re.findall(r'suggestion\("(\w+)"\)', section)) <= set(lrkit.rangetest.RULES)
