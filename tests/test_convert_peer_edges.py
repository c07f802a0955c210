"""Conversions at the edges of what timm, mmengine and Keras do, compared with the installed peers:
timm's create_scheduler_v2 with every option (WSD, unsorted milestones, cosine cycles whose peak
falls below lr_min, tanh warmups, groups added after the scheduler), mmengine's epoch_length for
epoch-based lists, and subclasses that override the computation (refused, naming the override)."""

from __future__ import annotations

import os
import warnings

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras
import numpy as np
import pytest
import torch
from mmengine.optim import scheduler as ms
from peer import assert_same_curve, import_timm_scheduler

import lrkit as lk
from lrkit.torch import from_torch

ts = import_timm_scheduler()
from timm.scheduler.scheduler_factory import create_scheduler_v2  # noqa: E402  (after timm's schedulers are loaded alone)

N = 1200  # positions compared (past every schedule's end below)
BASES = (0.05, 0.0137)


def opt3(scale=False):
    """Three param groups: two at build time (one with lr_scale), one added later by the test."""
    a, b = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    second = {"params": [b], "lr": BASES[1]}
    if scale:
        second["lr_scale"] = 0.3
    return torch.optim.SGD([{"params": [a]}, second], lr=BASES[0], momentum=0.9)


def add_group(opt, lr=0.021):
    opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": lr})


def timm_values(sched, opt, n, updates):
    out = [[] for _ in opt.param_groups]
    for t in range(n):
        (sched.step_update if updates else sched.step)(t)
        for g, group in enumerate(opt.param_groups):
            out[g].append(group["lr"])
    return out


def check_all_groups(peer, conv, what, n):
    mine = conv if isinstance(conv, list) else [conv] * len(peer)
    assert len(mine) == len(peer), what
    for g, s in enumerate(mine):
        assert_same_curve(peer[g], [s(t) for t in range(n)], f"{what} group {g}")
        assert lk.from_dict(s.to_dict()) == s, what


def run_timm(make, what, updates=False, n=N, scale=True, added=True):
    opt = opt3(scale=scale)
    sched = make(opt)
    if added:
        add_group(opt)
    conv = from_torch(sched)
    check_all_groups(timm_values(sched, opt, n, updates), conv, what, n)


# ---------------------------------------------------------------- timm: create_scheduler_v2
V2 = {
    "cosine": dict(sched="cosine", num_epochs=300, min_lr=1e-5),
    "cosine-cycles": dict(sched="cosine", num_epochs=120, min_lr=2e-4, cycle_decay=0.7, cycle_limit=6),
    "cosine-mul": dict(sched="cosine", num_epochs=90, min_lr=1e-5, cycle_mul=1.5, cycle_decay=0.8, cycle_limit=5),
    "cosine-below-min": dict(sched="cosine", num_epochs=100, min_lr=4e-3, cycle_decay=0.3, cycle_limit=7),
    "cosine-below-min-mul": dict(
        sched="cosine", num_epochs=60, min_lr=4e-3, cycle_mul=1.4, cycle_decay=0.35, cycle_limit=6
    ),
    "cosine-mul-float-boundary": dict(
        sched="cosine", num_epochs=150, min_lr=2e-4, cycle_mul=1.3, cycle_decay=0.8, cycle_limit=4
    ),
    "cosine-k": dict(sched="cosine", num_epochs=400, min_lr=1e-4, k_decay=1.5),
    "tanh": dict(sched="tanh", num_epochs=500, min_lr=1e-5),
    "tanh-cycles": dict(sched="tanh", num_epochs=150, min_lr=1e-5, cycle_mul=1.3, cycle_decay=0.6, cycle_limit=4),
    "step": dict(sched="step", decay_epochs=70, decay_rate=0.3),
    "constant": dict(sched="constant"),
    "multistep": dict(sched="multistep", decay_milestones=[200, 50, 600, 50], decay_rate=0.5),
    "poly": dict(sched="poly", num_epochs=700, decay_rate=1.7, min_lr=1e-5, k_decay=0.8),
    "poly-cycles": dict(sched="poly", num_epochs=200, decay_rate=0.9, cycle_limit=3, cycle_decay=0.5),
    "wsd": dict(sched="wsd", num_epochs=900, min_lr=1e-5),
    "wsd-linear": dict(sched="wsd", num_epochs=900, decay_epochs=300, decay_fn="linear"),
    "wsd-power": dict(sched="wsd", num_epochs=900, decay_epochs=250, decay_fn="power", min_lr=1e-4),
    "wsd-min-above-base": dict(sched="wsd", num_epochs=900, min_lr=0.03),
    "wsd-cosine": dict(sched="wsd", num_epochs=900, decay_epochs=0.3, decay_fn="cosine", min_lr=2e-4),
    "rsqrt": dict(sched="rsqrt", num_epochs=900, stable_timescale=40),
    "rsqrt-min": dict(sched="rsqrt", num_epochs=900, stable_timescale=40, min_lr=3e-3),
    "rsqrt-cosine": dict(sched="rsqrt", num_epochs=900, stable_timescale=25, decay_fn="cosine", min_lr=1e-4),
    "rsqrt-1-sqrt": dict(sched="rsqrt", num_epochs=900, stable_timescale=25, decay_fn="1-sqrt"),
}
WARM = {
    "none": dict(warmup_epochs=0),
    "overlay": dict(warmup_epochs=30, warmup_lr=1e-4),
    "prefix": dict(warmup_epochs=30, warmup_lr=1e-4, warmup_prefix=True),
}


@pytest.mark.parametrize("updates", [False, True], ids=["epochs", "updates"])
@pytest.mark.parametrize("warm", list(WARM))
@pytest.mark.parametrize("name", list(V2))
def test_create_scheduler_v2_every_option(name, warm, updates):
    kw = dict(V2[name], **WARM[warm], noise=None)
    if name.startswith("rsqrt") and warm == "none":
        kw["stable_timescale"] = kw.get("stable_timescale", 40)
    per = 3 if updates else 1
    n = N * per if updates else N
    if updates:
        kw.update(step_on_epochs=False, updates_per_epoch=per)
    run_timm(lambda o: create_scheduler_v2(o, **kw)[0], f"{name} {warm}", updates=updates, n=n)


MULTI = [[300, 10, 100, 5], [5, 5, 400, 2, 2, 90], [1, 0, -3, 700], [900, 800, 700, 600], [250.0, 30]]


@pytest.mark.parametrize("warm", list(WARM))
@pytest.mark.parametrize("decay_t", MULTI, ids=str)
def test_multistep_unsorted_milestones_bisect_as_timm(decay_t, warm):
    w = WARM[warm]
    kw = dict(
        warmup_t=w["warmup_epochs"], warmup_lr_init=w.get("warmup_lr", 0.0), warmup_prefix=w.get("warmup_prefix", False)
    )
    run_timm(lambda o: ts.MultiStepLRScheduler(o, decay_t=list(decay_t), decay_rate=0.45, **kw), f"{decay_t}")


WSD_DIRECT = {
    "rsqrt-power1": dict(stable_fn="power", stable_power=1.0, stable_timescale=30, decay_fn="linear"),
    "power-0.5-power": dict(
        stable_fn="power", stable_power=0.5, stable_timescale=50, decay_fn="power", decay_power=2.0
    ),
    "rsqrt-min-linear": dict(stable_fn="rsqrt", stable_timescale=20, decay_fn="linear", lr_min=4e-3),
    "rsqrt-min-cosine": dict(stable_fn="rsqrt", stable_timescale=20, decay_fn="cosine", lr_min=1e-3),
    "constant-exp-like-power": dict(decay_fn="power", decay_power=0.3, lr_min=1e-3),
}


@pytest.mark.parametrize("warmup_t", [0, 45])
@pytest.mark.parametrize("name", list(WSD_DIRECT))
def test_wsd_stable_and_decay_functions(name, warmup_t):
    kw = dict(WSD_DIRECT[name])
    run_timm(
        lambda o: ts.WSDLRScheduler(o, t_initial=800, decay_t=300, warmup_t=warmup_t, warmup_lr_init=1e-4, **kw), name
    )


STABLE = {
    "constant": dict(stable_fn="constant"),
    "rsqrt": dict(stable_fn="rsqrt", stable_timescale=20),
    "power-0.5": dict(stable_fn="power", stable_power=0.5, stable_timescale=35),
    "power-1": dict(stable_fn="power", stable_power=1.0, stable_timescale=30),
    "power-0.7": dict(stable_fn="power", stable_power=0.7, stable_timescale=25.5),
    "power-1.6": dict(stable_fn="power", stable_power=1.6, stable_timescale=60),
}
DECAY = {
    "linear": dict(decay_fn="linear"),
    "cosine": dict(decay_fn="cosine"),
    "1-sqrt": dict(decay_fn="1-sqrt"),
    "power-0.3": dict(decay_fn="power", decay_power=0.3),
    "power-2": dict(decay_fn="power", decay_power=2.0),
    "exp-0.1": dict(decay_fn="exp"),
    "exp-0.02": dict(decay_fn="exp", decay_ratio=0.02),
    "exp-0.9": dict(decay_fn="exp", decay_ratio=0.9),
}


@pytest.mark.parametrize("updates", [False, True], ids=["epochs", "updates"])
@pytest.mark.parametrize("warmup_t", [0, 45])
@pytest.mark.parametrize("lr_min", [0.0, 3e-3])
@pytest.mark.parametrize("decay", list(DECAY))
@pytest.mark.parametrize("stable", list(STABLE))
def test_wsd_every_stable_and_decay_function(stable, decay, lr_min, warmup_t, updates):
    # 1200 positions, past warmup_t + t_initial; lr_min 3e-3 is below every group's base lr
    # (0.05, 0.0137 * 0.3) and above the decayed stable value of the rsqrt / power ones
    kw = dict(STABLE[stable], **DECAY[decay])
    if warmup_t == 0 and stable != "constant":
        kw.setdefault("stable_timescale", 20)
    run_timm(
        lambda o: ts.WSDLRScheduler(
            o,
            t_initial=800,
            decay_t=300,
            lr_min=lr_min,
            warmup_t=warmup_t,
            warmup_lr_init=1e-4,
            t_in_epochs=not updates,
            **kw,
        ),
        f"{stable} {decay} lr_min={lr_min} warmup_t={warmup_t}",
        updates=updates,
    )


@pytest.mark.parametrize("decay", list(DECAY))
@pytest.mark.parametrize("stable", ["constant", "rsqrt", "power-0.7"])
def test_wsd_decay_over_the_whole_run_and_lr_min_above_a_group(stable, decay):
    # decay_t == t_initial (no stable phase), lr_min 5e-3: above the second group's 0.0137 * 0.3
    kw = dict(STABLE[stable], **DECAY[decay])
    run_timm(
        lambda o: ts.WSDLRScheduler(o, t_initial=700, decay_t=700, lr_min=5e-3, warmup_t=30, **kw),
        f"{stable} {decay} whole-run decay",
    )


def test_wsd_user_decay_fn_is_refused_saying_why():
    opt = opt3()
    with pytest.raises(TypeError, match="WSDLRScheduler.*user code"):
        from_torch(ts.WSDLRScheduler(opt, t_initial=100, decay_t=20, decay_fn=lambda f: 1 - f))


def test_timm_k_decay_cycle_start_placed_as_timm_places_it():
    # timm places t=345 in cycle 2 (starting at 345.00000000000006): with k_decay its own formula
    # then takes a negative number to the power k and fails there; every t before it matches
    make = lambda o: ts.CosineLRScheduler(
        o, t_initial=150, lr_min=2e-4, cycle_mul=1.3, cycle_decay=0.8, cycle_limit=4, k_decay=1.4
    )
    run_timm(make, "k-decay boundary", n=345)
    opt = opt3()
    sched = make(opt)
    with pytest.raises(TypeError):
        sched.step(345)
    mine = from_torch(make(opt3()))
    assert mine[0](345.0) == pytest.approx(BASES[0] * 0.8**2, rel=1e-12)


def test_timm_rising_k_decay_cycle_refused_with_the_reason():
    with pytest.raises(TypeError, match="CosineLRScheduler.*k_decay=1.4.*below lr_min"):
        from_torch(
            ts.CosineLRScheduler(opt3(), t_initial=100, lr_min=1e-3, cycle_decay=0.1, cycle_limit=3, k_decay=1.4)
        )


def test_timm_plateau_gives_its_policy():  # (tests/test_plateau_convert.py: exact continuation)
    assert type(from_torch(ts.PlateauLRScheduler(opt3()))).__name__ == "Plateau"


@pytest.mark.parametrize(
    "lb, ub, W, prefix",
    [(-7.0, 3.0, 60, False), (-4.0, 6.0, 300, False), (-6.0, 2.0, 100, True), (-2.0, 1.0, 900, False)],
)
def test_tanh_warmup_aims_where_timm_aims(lb, ub, W, prefix):
    run_timm(
        lambda o: ts.TanhLRScheduler(
            o,
            t_initial=700,
            lb=lb,
            ub=ub,
            lr_min=1e-5,
            warmup_t=W,
            warmup_lr_init=2e-5,
            warmup_prefix=prefix,
            cycle_limit=2,
            cycle_decay=0.5,
        ),
        f"tanh {lb} {ub} {W} {prefix}",
    )


class MyCosine(ts.CosineLRScheduler):
    def _get_lr(self, t):
        return [0.5 * v for v in super()._get_lr(t)]


class NamedOnly(ts.CosineLRScheduler):
    def __repr__(self):
        return "NamedOnly()"


def test_timm_subclass_overriding_the_computation_is_refused():
    with pytest.raises(TypeError, match="MyCosine.*overrides MyCosine._get_lr"):
        from_torch(MyCosine(opt3(), t_initial=100))


def test_timm_subclass_without_override_converts():
    run_timm(lambda o: NamedOnly(o, t_initial=400, lr_min=1e-4, warmup_t=20), "subclass")


# ---------------------------------------------------------------- mmengine
L = 23  # iterations per epoch


def mm_hook(scheds, opt, iters, epoch_length, added_lr=None):
    """Each group's lr at every iteration, stepped as mmengine's ParamSchedulerHook steps them;
    with ``added_lr``, a group is added after the schedulers were built."""
    if added_lr is not None:
        add_group(opt, added_lr)
    out = [[] for _ in opt.param_groups]
    for i in range(iters):
        for g, group in enumerate(opt.param_groups):
            out[g].append(group["lr"])
        opt.step()
        for s in scheds:
            if not s.by_epoch:
                s.step()
        if (i + 1) % epoch_length == 0:
            for s in scheds:
                if s.by_epoch:
                    s.step()
    return out


MM = {
    "multistep-epochs": lambda o: [ms.MultiStepLR(o, milestones=[8, 20, 20, 33], gamma=0.3, by_epoch=True)],
    "step-epochs": lambda o: [ms.StepLR(o, step_size=7, gamma=0.8, by_epoch=True)],
    "cosine-epochs": lambda o: [ms.CosineAnnealingLR(o, T_max=40, eta_min=1e-4, by_epoch=True, end=40)],
    "linear-then-cosine-epochs": lambda o: [
        ms.LinearLR(o, start_factor=0.1, begin=0, end=5, by_epoch=True),
        ms.CosineAnnealingLR(o, T_max=45, eta_min_ratio=0.02, begin=5, end=50, by_epoch=True),
    ],
    "constant-exp-poly-epochs": lambda o: [
        ms.ConstantLR(o, factor=0.5, begin=0, end=3, by_epoch=True),
        ms.ExponentialLR(o, gamma=0.9, begin=3, end=30, by_epoch=True),
        ms.PolyLR(o, eta_min=1e-5, power=1.5, begin=30, end=60, by_epoch=True),
    ],
    "mixed": lambda o: [
        ms.LinearLR(o, start_factor=0.01, by_epoch=False, begin=0, end=150),
        ms.MultiStepLR(o, milestones=[10, 30], gamma=0.2, by_epoch=True),
    ],
    "iters-only": lambda o: [
        ms.LinearLR(o, start_factor=0.05, by_epoch=False, begin=0, end=100),
        ms.CosineAnnealingLR(o, T_max=900, eta_min=1e-5, begin=100, end=1000, by_epoch=False),
    ],
    "iters-poly": lambda o: [ms.PolyLR(o, eta_min=2e-4, power=0.9, begin=0, end=1100, by_epoch=False)],
}


def _mm_build(name, added_lr=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt = opt3()
        scheds = MM[name](opt)
        return opt, scheds


@pytest.mark.parametrize("added", [False, True], ids=["groups", "added-group"])
@pytest.mark.parametrize("name", list(MM))
def test_mmengine_epoch_length_means_iterations_whatever_the_list(name, added):
    iters = 1400
    opt, scheds = _mm_build(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = mm_hook(scheds, opt, iters, L, added_lr=0.0093 if added else None)
    opt2_, scheds2 = _mm_build(name)
    if added:
        add_group(opt2_, 0.0093)
    conv = from_torch(scheds2 if len(scheds2) > 1 else scheds2[0], epoch_length=L)
    check_all_groups(peer, conv, name, iters)


def test_mmengine_one_cycle_with_an_added_group_is_refused_with_the_reason():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opt = opt3()
        s = ms.OneCycleLR(opt, eta_max=0.2, total_steps=500, by_epoch=False)
    add_group(opt)
    with pytest.raises(TypeError, match="OneCycleLR.*added after"):
        from_torch(s)


class HalfCosine(ms.CosineAnnealingLR):
    def _get_value(self):
        return [0.5 * v for v in super()._get_value()]


class QuietStep(ms.StepLR):
    def print_value(self, is_verbose, group, value):
        pass


def test_mmengine_subclass_overriding_the_computation_is_refused():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = HalfCosine(opt3(), T_max=100, by_epoch=False)
    with pytest.raises(TypeError, match="HalfCosine.*overrides HalfCosine._get_value"):
        from_torch(s)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        o = opt3()
        lst = [
            ms.LinearLR(o, start_factor=0.1, by_epoch=False, begin=0, end=10),
            HalfCosine(o, T_max=100, begin=10, by_epoch=False),
        ]
    with pytest.raises(TypeError, match="overrides HalfCosine._get_value"):
        from_torch(lst)


def test_mmengine_subclass_without_override_converts():
    iters = 1200
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        o = opt3()
        peer = mm_hook([QuietStep(o, step_size=100, gamma=0.7, by_epoch=False)], o, iters, L)
        o2 = opt3()
        conv = from_torch(QuietStep(o2, step_size=100, gamma=0.7, by_epoch=False))
    check_all_groups(peer, conv, "QuietStep", iters)


def test_mmengine_plateau_gives_its_policy():  # (tests/test_plateau_convert.py: exact continuation)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = ms.ReduceOnPlateauLR(opt3(), monitor="loss")
    assert type(from_torch(s)).__name__ == "Plateau"


# ---------------------------------------------------------------- Keras
KS = keras.optimizers.schedules


@pytest.fixture
def float64():
    assert keras.backend.backend() == "torch", "these tests run Keras on its torch backend"
    before = keras.config.floatx()
    keras.config.set_floatx("float64")
    yield
    keras.config.set_floatx(before)


class KerasCosineNamed(KS.CosineDecay):
    def get_config(self):
        return dict(super().get_config(), note="mine")


class KerasRestartsQuiet(KS.CosineDecayRestarts):
    def __repr__(self):
        return "quiet"


class KerasHalfCosine(KS.CosineDecay):
    def __call__(self, step):
        return 0.5 * super().__call__(step)


class KerasMid(KS.ExponentialDecay):
    pass


class KerasDeep(KerasMid):
    def __call__(self, step):
        return super().__call__(step) * 1.0001


def test_keras_subclass_without_override_converts(float64):
    from lrkit.keras import from_keras

    for sched in (
        KerasCosineNamed(0.05, decay_steps=900, alpha=0.03, warmup_target=0.1, warmup_steps=80),
        KerasRestartsQuiet(0.05, first_decay_steps=90, t_mul=1.5, m_mul=0.7, alpha=0.05),
        KerasMid(0.1, decay_steps=37, decay_rate=0.93, staircase=True),
    ):
        peer = [float(sched(torch.tensor(float(t), dtype=torch.float64))) for t in range(N)]
        mine = from_keras(sched)
        assert_same_curve(peer, mine(np.arange(N, dtype=np.float64)), type(sched).__name__)
        assert lk.from_dict(mine.to_dict()) == mine


@pytest.mark.parametrize(
    "sched, where",
    [
        (lambda: KerasHalfCosine(0.05, decay_steps=900), "KerasHalfCosine.__call__"),
        (lambda: KerasDeep(0.1, decay_steps=37, decay_rate=0.93), "KerasDeep.__call__"),
    ],
)
def test_keras_subclass_overriding_the_computation_is_refused(sched, where):
    from lrkit.keras import from_keras

    with pytest.raises(TypeError, match=f"overrides {where}"):
        from_keras(sched())
