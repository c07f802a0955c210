"""Hostile foreign configs (issue 20, classes 1-3): PaddleDetection's LearningRate, PaddleClas's
Optimizer.lr, DeepSpeed's scheduler section and ultralytics' settings.

1. Every reader goes through one validating layer (``lrkit.convert._fields``): a missing,
   mistyped or out-of-range field is a one-line ``ValueError`` naming the section, the field
   and the value, never Python's own error; PaddleDetection's and PaddleClas's YAML go
   through lrkit's bounded loader.
2. A fractional count is what the peer makes of it: its value (compared with the peer's
   own code where it is installed: PaddleDetection's optimizer module, DeepSpeed), or its
   refusal as a ``ValueError``.
3. Nothing does work proportional to a count from the input before a limit: huge counts
   are refused, or built in closed form, in well under a second.

The fuzz tests (tests/test_fuzz.py) generate configs from each reader's schema, mutate fields with
hostile values and check that a reader returns a sound schedule or raises ``ValueError``.
"""

from __future__ import annotations

import copy
import math
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrkit as lk
from lrkit.convert.deepspeed import from_deepspeed
from lrkit.convert.ppcls import from_ppcls
from lrkit.convert.ppdet import from_ppdet, load_ppdet_yaml
from lrkit.recipes import ultralytics_schedules

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

HUGE = 10**400


def refused(fn, *names, fast: float = 1.0) -> str:
    """``fn()`` raises a one-line ValueError that names each of ``names``, within ``fast`` seconds."""
    t0 = time.perf_counter()
    with pytest.raises(ValueError) as e:
        fn()
    took = time.perf_counter() - t0
    msg = str(e.value)
    assert took < fast, f"took {took:.2f}s to refuse: {msg}"
    assert "\n" not in msg and len(msg) < 600, msg
    for n in names:
        assert n in msg, f"{n!r} not named in: {msg}"
    return msg


def sound(s: lk.Schedule, positions=(0.0, 1.0, 7.0, 123.0, 1e6, 1e15)) -> None:
    """A built schedule gives finite values >= 0, the same on the scalar and the array path."""
    vals = [s(t) for t in positions]
    assert all(isinstance(v, float) and math.isfinite(v) and v >= 0 for v in vals), vals
    assert s(np.array(positions)).tolist() == vals


# =========================================================================================
# 1. one validating layer: missing, mistyped, out-of-range fields
# =========================================================================================


def ppdet(decay=None, warm=None, base_lr=0.01, **top):
    decay = {"name": "PiecewiseDecay", **(decay or {})}
    if decay["name"] == "PiecewiseDecay":
        decay.setdefault("milestones", [8, 11])
    warm = {"name": "LinearWarmup", "steps": 100, **(warm or {})}
    return {"LearningRate": {"base_lr": base_lr, "schedulers": [decay, warm], **top}}


PPDET_BAD = {
    "learning-rate-null": ({"LearningRate": None}, ["LearningRate"]),
    "learning-rate-list": ({"LearningRate": [1, 2]}, ["LearningRate"]),
    "base-lr-none": (ppdet(base_lr=None), ["base_lr", "None"]),
    "base-lr-text": (ppdet(base_lr="1e-3"), ["base_lr", "'1e-3'", "1.0e-3"]),
    "base-lr-negative": (ppdet(base_lr=-0.1), ["base_lr", "-0.1"]),
    "base-lr-nan": (ppdet(base_lr=math.nan), ["base_lr", "nan"]),
    "base-lr-huge": (ppdet(base_lr=HUGE), ["base_lr", "e+400"]),
    "unknown-top-field": (ppdet(base_Lr=0.1), ["base_Lr", "base_lr"]),
    "schedulers-none": ({"LearningRate": {"schedulers": None}}, ["schedulers", "None"]),
    "schedulers-empty": ({"LearningRate": {"schedulers": []}}, ["schedulers"]),
    "schedulers-int": ({"LearningRate": {"schedulers": 3}}, ["schedulers", "3"]),
    "entry-not-mapping": ({"LearningRate": {"schedulers": [[1, [2]]]}}, ["schedulers[0]"]),
    "entry-no-name": ({"LearningRate": {"schedulers": [{"gamma": 0.1}]}}, ["schedulers[0]", "name"]),
    "entry-unknown-name": ({"LearningRate": {"schedulers": [{"name": "OneCycle"}]}}, ["schedulers[0]", "OneCycle"]),
    "entry-unhashable-name": ({"LearningRate": {"schedulers": [{"name": [1]}]}}, ["schedulers[0]", "name"]),
    "unknown-field": (ppdet(decay={"milestone": [3]}), ["PiecewiseDecay", "milestone", "milestones"]),
    "milestones-int": (ppdet(decay={"milestones": 8}), ["PiecewiseDecay", "milestones", "8"]),
    "milestones-nested": (ppdet(decay={"milestones": [8, [11]]}), ["milestones[1]"]),
    "milestones-text": (ppdet(decay={"milestones": ["8"]}), ["milestones[0]", "'8'"]),
    "milestones-huge": (ppdet(decay={"milestones": [HUGE]}), ["milestones[0]"]),
    "milestones-inf": (ppdet(decay={"milestones": [math.inf]}), ["milestones[0]", "inf"]),
    "gamma-text": (ppdet(decay={"gamma": "0.1"}), ["PiecewiseDecay", "gamma"]),
    "gamma-tuple": (ppdet(decay={"gamma": (0.1, 0.01)}), ["gamma"]),
    "gamma-negative": (ppdet(decay={"gamma": [0.1, -0.01]}), ["gamma[1]"]),
    "gamma-overflows": (ppdet(base_lr=10.0, decay={"gamma": [0.1, 1e308]}, warm={"steps": 1}), ["gamma"]),
    "values-none-entry": (ppdet(decay={"values": [0.1, None, 0.01]}, warm=None), ["values[1]"]),
    "use-warmup-text": (ppdet(decay={"use_warmup": "false"}), ["use_warmup", "true or false"]),
    "use-warmup-int": (ppdet(decay={"use_warmup": 0}), ["use_warmup"]),
    "max-epochs-none": (ppdet(decay={"name": "CosineDecay", "max_epochs": None}), ["CosineDecay", "max_epochs"]),
    "max-epochs-zero": (
        {"schedulers": [{"name": "CosineDecay", "max_epochs": 0}, {"name": "LinearWarmup"}]},
        ["CosineDecay", "max_epochs", "0"],
    ),
    "max-epochs-negative": (
        {"schedulers": [{"name": "CosineDecay", "max_epochs": -3}, {"name": "LinearWarmup"}]},
        ["max_epochs", "-3"],
    ),
    "max-epochs-huge": (
        {"schedulers": [{"name": "CosineDecay", "max_epochs": HUGE}, {"name": "LinearWarmup"}]},
        ["max_epochs"],
    ),
    "max-epochs-bool": (
        {"schedulers": [{"name": "CosineDecay", "max_epochs": True}, {"name": "LinearWarmup"}]},
        ["max_epochs", "True"],
    ),
    "min-lr-ratio-above-1": (
        {
            "schedulers": [
                {"name": "CosineDecay", "max_epochs": 5, "min_lr_ratio": 2},
                {"name": "LinearWarmup", "steps": 3},
            ]
        },
        ["min_lr_ratio", "2"],
    ),
    "plateau-negative": (
        {
            "schedulers": [
                {"name": "CosineDecay", "max_epochs": 5, "last_plateau_epochs": -1},
                {"name": "LinearWarmup", "steps": 3},
            ]
        },
        ["last_plateau_epochs", "-1"],
    ),
    "plateau-text": (
        {
            "schedulers": [
                {"name": "CosineDecay", "max_epochs": 5, "last_plateau_epochs": "1"},
                {"name": "LinearWarmup", "steps": 3},
            ]
        },
        ["last_plateau_epochs", "'1'"],
    ),
    "warmup-steps-none": (ppdet(warm={"steps": None}), ["LinearWarmup", "steps", "None"]),
    "warmup-steps-negative": (ppdet(warm={"steps": -5}), ["LinearWarmup", "steps", "-5"]),
    "warmup-steps-huge": (ppdet(warm={"steps": HUGE}), ["LinearWarmup", "steps"]),
    "warmup-epochs-text": (ppdet(warm={"epochs": "2"}), ["LinearWarmup", "epochs", "'2'"]),
    "warmup-epochs-list": (ppdet(warm={"epochs": [2]}), ["LinearWarmup", "epochs"]),
    "warmup-epochs-inf": (ppdet(warm={"epochs": math.inf}), ["LinearWarmup", "epochs", "inf"]),
    "start-factor-negative": (ppdet(warm={"start_factor": -0.5}), ["start_factor", "-0.5"]),
    "exp-power-negative": (ppdet(warm={"name": "ExpWarmup", "power": -2}), ["ExpWarmup", "power", "-2"]),
    "burnin-steps-zero": (ppdet(warm={"name": "BurninWarmup", "steps": 0}), ["BurninWarmup", "steps", "0"]),
    "burnin-steps-fraction": (ppdet(warm={"name": "BurninWarmup", "steps": 2.5}), ["BurninWarmup", "steps"]),
    "second-not-warmup": (
        {"schedulers": [{"name": "PiecewiseDecay"}, {"name": "CosineDecay"}]},
        ["schedulers[1]", "CosineDecay"],
    ),
}


@pytest.mark.parametrize("name", list(PPDET_BAD))
def test_a_bad_paddledetection_field_is_a_value_error_naming_it(name):
    config, names = PPDET_BAD[name]
    msg = refused(lambda: from_ppdet(copy.deepcopy(config), 100), *names)
    assert "PaddleDetection" in msg


@pytest.mark.parametrize("spe", [0, -1, 2.5, True, "100", None, HUGE, [100]])
def test_step_per_epoch_is_a_whole_number(spe):
    refused(lambda: from_ppdet(ppdet(), spe), "step_per_epoch")


def test_a_text_epochs_times_a_large_step_per_epoch_is_refused_before_anything_is_repeated():
    # PaddleDetection computes '2' * step_per_epoch (text repetition) before failing
    msg = refused(lambda: from_ppdet(ppdet(warm={"epochs": "2"}), 10**8), "epochs", "'2'", fast=0.2)
    assert len(msg) < 400


BAD_YAML = {
    "python-tag": ("LearningRate: !!python/object/apply:os.system ['echo x']\n", "python/object/apply"),
    "python-name-tag": ("LearningRate:\n  base_lr: !!python/name:os.system\n", "python/name"),
    "syntax": ("LearningRate:\n  base_lr: [0.1\n", "line"),
    "tab-indent": ("LearningRate:\n\tbase_lr: 0.1\n", "line"),
    "deep-brackets": ("LearningRate: " + "[" * 20_000 + "]" * 20_000 + "\n", "levels deep"),
    "deep-block": ("LearningRate:\n" + "- " * 20_000 + "x\n", "levels deep"),
    "duplicate-key": ("LearningRate:\n  base_lr: 0.1\n  base_lr: 0.2\n", "twice"),
    "alias-bomb": (
        "a: &a [1,2,3,4,5,6,7,8,9,10]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
        "g: [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",
        "aliases",
    ),
    "too-long": ("LearningRate: {}\n# " + "x" * 1_000_001 + "\n", "characters"),
    "tag-on-sequence": ("LearningRate:\n  schedulers:\n  - !PiecewiseDecay [1, 2]\n", "PiecewiseDecay"),
    "tag-on-scalar": ("LearningRate:\n  schedulers:\n  - !PiecewiseDecay 3\n", "PiecewiseDecay"),
    "not-utf8": (b"LearningRate:\n  base_lr: \xff\n", "UTF-8"),
    "not-text": (12, "YAML text"),
}


@pytest.mark.parametrize("name", list(BAD_YAML))
def test_a_bad_yaml_file_is_a_value_error(name):
    from lrkit.paddle import from_ppdet as paddle_from_ppdet

    text, said = BAD_YAML[name]
    refused(lambda: load_ppdet_yaml(text), said)
    if isinstance(text, str):
        refused(lambda: paddle_from_ppdet(text, 100), said)
        refused(lambda: from_ppcls(text, 10, 10), said)


def test_the_yaml_loader_keeps_paddledetections_tags():
    text = "LearningRate:\n  schedulers:\n  - !PiecewiseDecay\n    milestones: [2]\n  - !LinearWarmup\n"
    data = load_ppdet_yaml(text)
    assert data["LearningRate"]["schedulers"] == [
        {"name": "PiecewiseDecay", "milestones": [2]},
        {"name": "LinearWarmup"},
    ]


def ppcls(**kw):
    return {"name": "Cosine", "learning_rate": 0.1, **kw}


PPCLS_BAD = {
    "step-without-step-size": ({"name": "Step", "learning_rate": 0.1}, ["Step", "step_size"]),
    "step-without-gamma": ({"name": "Step", "learning_rate": 0.1, "step_size": 3}, ["Step", "gamma"]),
    "step-gamma-1": ({"name": "Step", "learning_rate": 0.1, "step_size": 3, "gamma": 1.0}, ["gamma", "1.0"]),
    "step-size-text": ({"name": "Step", "learning_rate": 0.1, "step_size": "3", "gamma": 0.1}, ["step_size", "'3'"]),
    "step-size-tiny": ({"name": "Step", "learning_rate": 0.1, "step_size": 0.01, "gamma": 0.1}, ["step_size"]),
    "step-by-epoch-fraction": (
        {"name": "Step", "learning_rate": 0.1, "step_size": 2.5, "gamma": 0.1, "by_epoch": True},
        ["step_size", "2.5"],
    ),
    "no-name": ({"learning_rate": 0.1}, ["name"]),
    "name-list": ({"name": ["Cosine"]}, ["name"]),
    "lr-missing": ({"name": "Cosine"}, ["Cosine", "learning_rate"]),
    "lr-none": (ppcls(learning_rate=None), ["learning_rate", "None"]),
    "lr-text": (ppcls(learning_rate="0.1"), ["learning_rate", "'0.1'"]),
    "lr-negative": (ppcls(learning_rate=-1), ["learning_rate", "-1"]),
    "lr-huge": (ppcls(learning_rate=HUGE), ["learning_rate"]),
    "lr-inf": (ppcls(learning_rate=math.inf), ["learning_rate", "inf"]),
    "warmup-negative": (ppcls(warmup_epoch=-1), ["warmup_epoch", "-1"]),
    "warmup-none": (ppcls(warmup_epoch=None), ["warmup_epoch", "None"]),
    "warmup-start-not-below": (ppcls(warmup_epoch=2, warmup_start_lr=0.1), ["warmup_start_lr", "0.1"]),
    "warmup-start-text": (ppcls(warmup_epoch=2, warmup_start_lr="0"), ["warmup_start_lr"]),
    "cosine-fractional-warmup": (ppcls(warmup_epoch=2.5), ["warmup_epoch", "2.5"]),
    "by-epoch-fractional-warmup": (
        {"name": "ConstLR", "learning_rate": 0.1, "warmup_epoch": 1.5, "by_epoch": True},
        ["warmup_epoch", "1.5"],
    ),
    "by-epoch-text": (ppcls(by_epoch="false"), ["by_epoch", "true or false"]),
    "eta-min-above-lr": (ppcls(eta_min=0.5), ["eta_min", "0.5"]),
    "linear-power-zero": ({"name": "Linear", "learning_rate": 0.1, "power": 0}, ["Linear", "power", "0"]),
    "linear-end-above-lr": ({"name": "Linear", "learning_rate": 0.1, "end_lr": 0.2}, ["end_lr", "0.2"]),
    "linear-cycle-text": ({"name": "Linear", "learning_rate": 0.1, "cycle": "yes"}, ["cycle"]),
    "multistep-not-list": ({"name": "MultiStepDecay", "learning_rate": 0.1, "milestones": 3}, ["milestones", "3"]),
    "multistep-decreasing": (
        {"name": "MultiStepDecay", "learning_rate": 0.1, "milestones": [5, 3]},
        ["milestones", "increasing"],
    ),
    "multistep-none": ({"name": "MultiStepDecay", "learning_rate": 0.1, "milestones": [3, None]}, ["milestones[1]"]),
    "multistep-gamma-above-1": (
        {"name": "MultiStepDecay", "learning_rate": 0.1, "milestones": [3], "gamma": 2},
        ["gamma", "2"],
    ),
    "piecewise-missing": ({"name": "Piecewise", "learning_rate": 0.1}, ["Piecewise", "decay_epochs"]),
    "piecewise-empty": ({"name": "Piecewise", "decay_epochs": [], "values": [0.1]}, ["decay_epochs"]),
    "piecewise-short-values": ({"name": "Piecewise", "decay_epochs": [3, 6], "values": [0.1, 0.01]}, ["values"]),
    "piecewise-values-empty": ({"name": "Piecewise", "decay_epochs": [3], "values": []}, ["values"]),
    "piecewise-nested": ({"name": "Piecewise", "decay_epochs": [[3]], "values": [0.1, 0.01]}, ["decay_epochs[0]"]),
    "piecewise-rule-text": (
        {"name": "Piecewise", "learning_rate": "0.1", "decay_epochs": [3], "values": [1, 2]},
        ["learning_rate"],
    ),
    "last-epoch": (ppcls(last_epoch=5), ["last_epoch", "5"]),
    "optimizer-null": ({"Optimizer": None}, ["Optimizer"]),
    "optimizer-no-lr": ({"Optimizer": {"name": "Momentum"}}, ["lr"]),
    "optimizer-lr-null": ({"Optimizer": {"lr": None}}, ["Optimizer.lr", "None"]),
    "optimizer-list": ({"Optimizer": [{"Momentum": {"lr": ppcls()}}]}, ["Optimizer"]),
}


@pytest.mark.parametrize("name", list(PPCLS_BAD))
def test_a_bad_paddleclas_field_is_a_value_error_naming_it(name):
    config, names = PPCLS_BAD[name]
    msg = refused(lambda: from_ppcls(copy.deepcopy(config), 10, 10), *names)
    assert "PaddleClas" in msg


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "10", None, HUGE])
def test_paddleclas_epochs_and_iterations_are_whole_numbers(bad):
    refused(lambda: from_ppcls(ppcls(), bad, 10), "epochs")
    refused(lambda: from_ppcls(ppcls(), 10, bad), "step_each_epoch")


def test_paddles_own_assertions_are_lrkit_errors_under_python_dash_o():
    # Paddle's LinearWarmup and PolynomialDecay check with assert, which python -O removes
    code = (
        "from lrkit.convert.ppcls import from_ppcls\n"
        "for cfg in ({'name': 'Cosine', 'learning_rate': 0.1, 'warmup_epoch': 2, 'warmup_start_lr': 0.5},\n"
        "            {'name': 'Linear', 'learning_rate': 0.1, 'power': -1.0},\n"
        "            {'name': 'Step', 'learning_rate': 0.1, 'step_size': 0.01, 'gamma': 0.5}):\n"
        "    try:\n        from_ppcls(cfg, 10, 10)\n"
        "    except ValueError as e:\n        print('ValueError', str(e).split(':')[0])\n"
    )
    r = subprocess.run(
        [sys.executable, "-O", "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.count("ValueError PaddleClas Optimizer.lr") == 3, r.stdout


def ds(kind="OneCycle", **params):
    base = {
        "OneCycle": dict(cycle_min_lr=0.001, cycle_max_lr=0.1, cycle_first_step_size=100),
        "WarmupDecayLR": dict(total_num_steps=1000, warmup_max_lr=0.01, warmup_num_steps=100),
        "WarmupLR": dict(warmup_max_lr=0.01, warmup_num_steps=100),
        "WarmupCosineLR": dict(total_num_steps=1000, warmup_num_steps=100),
    }[kind]
    return {"type": kind, "params": {**base, **params}}


DEEPSPEED_BAD = {
    "stairs-zero-first-size": (ds(cycle_first_step_size=0, cycle_first_stair_count=4), ["cycle_first_step_size", "0"]),
    "zero-first-size": (ds(cycle_first_step_size=0), ["cycle_first_step_size"]),
    "negative-second-size": (ds(cycle_second_step_size=-5), ["cycle_second_step_size", "-5"]),
    "text-size": (ds(cycle_first_step_size="100"), ["cycle_first_step_size", "'100'"]),
    "inf-size": (ds(cycle_first_step_size=math.inf), ["cycle_first_step_size", "inf"]),
    "huge-size": (ds(cycle_first_step_size=HUGE), ["cycle_first_step_size"]),
    "nan-stairs": (ds(cycle_first_stair_count=math.nan), ["cycle_first_stair_count", "nan"]),
    "negative-stairs": (ds(cycle_second_stair_count=-2), ["cycle_second_stair_count", "-2"]),
    "none-min-lr": (ds(cycle_min_lr=None), ["cycle_min_lr", "None"]),
    "missing-max-lr": ({"type": "OneCycle", "params": {"cycle_min_lr": 0.1}}, ["OneCycle", "cycle_max_lr"]),
    "per-group-text": (ds(cycle_max_lr=[0.1, "0.2"]), ["cycle_max_lr[1]"]),
    "per-group-lengths": (ds(cycle_min_lr=[0.1, 0.2], cycle_max_lr=[1, 2, 3]), ["cycle_min_lr", "2 values for 3"]),
    "negative-decay": (ds(decay_step_size=-10, decay_lr_rate=0.1), ["decay_step_size", "-10"]),
    "tiny-decay": (ds(decay_step_size=1e-300, decay_lr_rate=0.1), ["decay_step_size"]),
    "unknown-param": (ds(cycle_first_steps=10), ["cycle_first_steps", "cycle_first_step_size"]),
    "resumed": (ds(last_batch_iteration=50), ["last_batch_iteration", "50"]),
    "warmup-fraction": (ds("WarmupLR", warmup_num_steps=37.5), ["warmup_num_steps", "37.5"]),
    "warmup-float-whole": (ds("WarmupLR", warmup_num_steps=100.0), ["warmup_num_steps", "100.0"]),
    "warmup-zero": (ds("WarmupLR", warmup_num_steps=0), ["warmup_num_steps", "0"]),
    "warmup-bool": (ds("WarmupLR", warmup_num_steps=True), ["warmup_num_steps", "True"]),
    "warmup-type-list": (ds("WarmupLR", warmup_type=["linear"]), ["warmup_type"]),
    "max-lr-negative": (ds("WarmupLR", warmup_max_lr=-0.1), ["warmup_max_lr", "-0.1"]),
    "decay-total-missing": ({"type": "WarmupDecayLR", "params": {}}, ["WarmupDecayLR", "total_num_steps"]),
    "decay-total-text": (ds("WarmupDecayLR", total_num_steps="1000"), ["total_num_steps", "'1000'"]),
    "decay-total-negative": (ds("WarmupDecayLR", total_num_steps=-1), ["total_num_steps", "-1"]),
    "decay-total-huge": (ds("WarmupDecayLR", total_num_steps=HUGE), ["total_num_steps"]),
    "cosine-ratio-negative": (ds("WarmupCosineLR", cos_min_ratio=-0.1), ["cos_min_ratio", "-0.1"]),
    "cosine-total-none": (ds("WarmupCosineLR", total_num_steps=None), ["total_num_steps", "None"]),
    "cosine-max-lr": (ds("WarmupCosineLR", warmup_max_lr=0.1), ["warmup_max_lr"]),
    "params-list": ({"type": "WarmupLR", "params": [1]}, ["params"]),
    "type-list": ({"type": ["WarmupLR"]}, ["type"]),
    "scheduler-not-mapping": ({"scheduler": "WarmupLR"}, ["scheduler"]),
}


@pytest.mark.parametrize("name", list(DEEPSPEED_BAD))
def test_a_bad_deepspeed_parameter_is_a_value_error_naming_it(name):
    config, names = DEEPSPEED_BAD[name]
    msg = refused(lambda: from_deepspeed(copy.deepcopy(config), lrs=[0.1]), *names)
    assert "DeepSpeed" in msg


@pytest.mark.parametrize("lrs", ["0.1", [0.1, None], -0.1, math.nan, HUGE, [], [[0.1]]])
def test_deepspeed_lrs_are_checked(lrs):
    refused(lambda: from_deepspeed(ds("WarmupCosineLR"), lrs=lrs), "lrs")


ULTRA_BAD = {
    "batches-huge": (dict(batches=HUGE), "batches"),
    "batches-zero": (dict(batches=0), "batches"),
    "batches-float": (dict(batches=10.0), "batches"),
    "epochs-text": (dict(epochs="10"), "epochs"),
    "epochs-negative": (dict(epochs=-1), "epochs"),
    "epochs-huge": (dict(epochs=10**12), "epochs"),
    "lr0-zero": (dict(lr0=0), "lr0"),
    "lr0-text": (dict(lr0="0.01"), "lr0"),
    "lr0-huge": (dict(lr0=HUGE), "lr0"),
    "lrf-negative": (dict(lrf=-0.5), "lrf"),
    "lrf-huge": (dict(lr0=1e300, lrf=1e300), "lrf"),
    "lrf-nan": (dict(lrf=math.nan), "lrf"),
    "warmup-negative": (dict(warmup_epochs=-1), "warmup_epochs"),
    "warmup-inf": (dict(warmup_epochs=math.inf), "warmup_epochs"),
    "warmup-overflow": (dict(warmup_epochs=1e300, batches=10**10), "warmup_epochs"),
    "iterations-overflow": (dict(epochs=10, batches=10**300), "epochs x batches"),
    "bias-lr-none": (dict(warmup_bias_lr=None), "warmup_bias_lr"),
    "momentum-text": (dict(momentum="0.9"), "momentum"),
    "warmup-momentum-negative": (dict(warmup_momentum=-0.8), "warmup_momentum"),
    "cos-lr-text": (dict(cos_lr="false"), "cos_lr"),
    "version-int": (dict(version=8), "version"),
    "version-long": (dict(version="8." + "1" * 10**6), "version"),
    "version-9": (dict(version="9.0.0"), "version"),
    "lr0s-short": (dict(lr0s=[0.01]), "lr0s"),
    "lr0s-text": (dict(lr0s=[0.01, "0.01", 0.01]), "lr0s[1]"),
    "lr0s-not-list": (dict(lr0s=0.01), "lr0s"),
    "groups-empty": (dict(groups=[]), "groups"),
    "groups-int-name": (dict(groups=["bias", 3]), "groups[1]"),
    "groups-not-list": (dict(groups="bias"), "groups"),
}


@pytest.mark.parametrize("name", list(ULTRA_BAD))
def test_a_bad_ultralytics_setting_is_a_value_error_naming_it(name):
    kw, field = ULTRA_BAD[name]
    args = dict(lr0=0.01, lrf=0.01, epochs=10, batches=10)
    args.update(kw)
    refused(
        lambda: ultralytics_schedules(
            args.pop("lr0"), args.pop("lrf"), args.pop("epochs"), args.pop("batches"), **args
        ),
        field,
    )


def test_the_issues_examples():
    refused(lambda: from_ppcls({"name": "Step", "learning_rate": 0.1}, 10, 10), "step_size")
    refused(lambda: load_ppdet_yaml("LearningRate: !!python/object/apply:os.system ['true']\n"), "python")
    refused(lambda: from_ppdet(load_ppdet_yaml("LearningRate:\n"), 10), "LearningRate")
    refused(lambda: from_deepspeed(ds(cycle_first_step_size=0, cycle_first_stair_count=3)), "cycle_first_step_size")
    refused(lambda: ultralytics_schedules(0.01, 0.01, 10, 10**400), "batches")
    refused(lambda: load_ppdet_yaml("[" * 20_000), "levels deep")


def test_the_command_line_says_a_bad_config_in_one_line(tmp_path):
    import io

    from lrkit import cli

    files = {
        "tag.yml": "LearningRate: !!python/object/apply:os.system ['true']\n",
        "syntax.yml": "LearningRate:\n  base_lr: [0.1\n",
        "null.yml": "LearningRate:\n",
        "deep.yml": "LearningRate: " + "[" * 20_000 + "\n",
        "text.yml": "LearningRate:\n  schedulers:\n  - !PiecewiseDecay\n    milestones: [8]\n  - !LinearWarmup\n"
        "    epochs: '2'\n",
        "unknown.yml": "LearningRate:\n  schedulers:\n  - !CosineDecay\n    max_epoch: 12\n  - !LinearWarmup\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        out, err = io.StringIO(), io.StringIO()
        code = cli.main(
            ["show", "ppdet", "--config", str(tmp_path / name), "--step-per-epoch", str(10**8)], out=out, err=err
        )
        assert code == 2, (name, err.getvalue())
        lines = err.getvalue().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("lrkit: error:") and "Traceback" not in err.getvalue(), lines
    (tmp_path / "cls.yml").write_text(
        "Global:\n  epochs: 10\nOptimizer:\n  lr:\n    name: Step\n    learning_rate: 0.1\n"
    )
    err = io.StringIO()
    assert (
        cli.main(
            ["show", "ppcls", "--config", str(tmp_path / "cls.yml"), "--step-each-epoch", "10"],
            out=io.StringIO(),
            err=err,
        )
        == 2
    )
    assert err.getvalue().count("\n") == 1 and "step_size" in err.getvalue()


# =========================================================================================
# 2. fractional counts: the peer's value, or its refusal
# =========================================================================================


def _ppdet_peer(config, spe, n):
    from peer import import_ppdet_optimizer

    O = import_ppdet_optimizer()
    lr = config["LearningRate"]
    s = O.LearningRate(lr["base_lr"], copy.deepcopy(lr["schedulers"]))(spe)
    out = []
    for _ in range(n):
        out.append(s())
        s.step()
    return np.array(out)


PPDET_FRACTIONS = {
    "max-epochs-fraction": ppdet(
        decay={
            "name": "CosineDecay",
            "max_epochs": 12.5,
        }
    ),
    "max-epochs-float": ppdet(
        decay={
            "name": "CosineDecay",
            "max_epochs": 12.0,
        }
    ),
    "plateau-fraction": ppdet(
        decay={
            "name": "CosineDecay",
            "max_epochs": 12,
            "last_plateau_epochs": 1.37,
            "min_lr_ratio": 0.05,
        }
    ),
    "plateau-fraction-no-warmup": ppdet(
        decay={
            "name": "CosineDecay",
            "max_epochs": 9,
            "last_plateau_epochs": 2.5,
            "use_warmup": False,
        }
    ),
    "plateau-covers-cosine": ppdet(
        decay={
            "name": "CosineDecay",
            "max_epochs": 4,
            "last_plateau_epochs": 3.995,
        }
    ),
    "warmup-past-max-epochs": ppdet(
        decay={
            "name": "CosineDecay",
            "max_epochs": 1,
        },
        warm={"steps": 150},
    ),
    "warmup-epochs-fraction": ppdet(warm={"epochs": 1.5}),
    "warmup-epochs-float": ppdet(warm={"epochs": 2.0}),
    "warmup-epochs-below-one-step": ppdet(warm={"epochs": 0.001}),
    "warmup-steps-fraction": ppdet(warm={"steps": 250.5}),
    "warmup-steps-below-one": ppdet(warm={"steps": 0.5}),
    "warmup-steps-zero": ppdet(warm={"steps": 0}),
    "exp-steps-float": ppdet(warm={"name": "ExpWarmup", "steps": 40.0}),
    "exp-power-fraction": ppdet(warm={"name": "ExpWarmup", "steps": 40, "power": 0.5}),
    "exp-power-zero": ppdet(warm={"name": "ExpWarmup", "steps": 40, "power": 0}),
    "milestones-fraction": ppdet(decay={"milestones": [2.5, 4.25]}),
    "gamma-int": ppdet(decay={"milestones": [2, 3, 4], "gamma": 1}),
    "gamma-longer-than-milestones": ppdet(decay={"milestones": [2, 3], "gamma": [0.5, 0.2, 0.1, 0.01]}),
    "no-milestones-with-warmup": ppdet(decay={"milestones": [], "gamma": [0.5, 0.2]}),
    "start-factor-above-1": ppdet(warm={"start_factor": 2.5}),
}


@pytest.mark.parametrize("name", list(PPDET_FRACTIONS))
def test_paddledetection_takes_or_refuses_a_fractional_count_as_lrkit_does(name):
    config, spe = PPDET_FRACTIONS[name], 100
    n = 15 * spe
    try:
        want = _ppdet_peer(config, spe, n)
    except (TypeError, ValueError, AssertionError, ZeroDivisionError):  # PaddleDetection refuses it
        refused(lambda: from_ppdet(config, spe))
        return
    got = from_ppdet(config, spe)(np.arange(float(n)))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15 * max(want.max(), 1e-300), err_msg=name)


def _deepspeed_peer(kind, params, n):
    os.environ.setdefault("DS_ACCELERATOR", "cpu")
    import logging

    import deepspeed.runtime.lr_schedules as L
    import torch

    logging.getLogger("DeepSpeed").setLevel(logging.ERROR)
    opt = torch.optim.SGD(
        [
            {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.1},
            {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.01},
        ]
    )
    s = getattr(L, kind)(opt, **(dict(params, cycle_momentum=False) if kind == "OneCycle" else params))
    out = [[g["lr"] for g in opt.param_groups]]
    for _ in range(n - 1):
        s.step()
        out.append([g["lr"] for g in opt.param_groups])
    return np.array(out)


DEEPSPEED_FRACTIONS = {
    "warmup-steps-fraction": ("WarmupLR", dict(warmup_max_lr=0.05, warmup_num_steps=37.5)),
    "warmup-steps-float": ("WarmupDecayLR", dict(total_num_steps=400, warmup_max_lr=0.05, warmup_num_steps=40.0)),
    "decay-total-fraction": (
        "WarmupDecayLR",
        dict(
            total_num_steps=100.25, warmup_min_lr=0.0002, warmup_max_lr=0.03, warmup_num_steps=41, warmup_type="linear"
        ),
    ),
    "decay-total-just-past-warmup": (
        "WarmupDecayLR",
        dict(total_num_steps=41.5, warmup_max_lr=0.03, warmup_num_steps=41),
    ),
    "decay-min-above-max": (
        "WarmupDecayLR",
        dict(total_num_steps=100, warmup_min_lr=0.03, warmup_max_lr=0.001, warmup_num_steps=20),
    ),
    "cosine-total-fraction": (
        "WarmupCosineLR",
        dict(total_num_steps=100.7, warmup_min_ratio=0.01, warmup_num_steps=33, cos_min_ratio=0.02),
    ),
    "cosine-total-just-past-warmup": ("WarmupCosineLR", dict(total_num_steps=33.5, warmup_num_steps=33)),
    "cosine-min-ratio-above-1": ("WarmupCosineLR", dict(total_num_steps=90, warmup_num_steps=33, cos_min_ratio=1.3)),
    "cycle-sizes-fraction": (
        "OneCycle",
        dict(
            cycle_min_lr=0.001,
            cycle_max_lr=0.07,
            cycle_first_step_size=10.5,
            cycle_second_step_size=7.25,
            decay_step_size=3,
            decay_lr_rate=0.1,
        ),
    ),
    "stairs-fraction": (
        "OneCycle",
        dict(
            cycle_min_lr=0.001,
            cycle_max_lr=0.07,
            cycle_first_step_size=12,
            cycle_first_stair_count=2.5,
            cycle_second_stair_count=3.7,
        ),
    ),
    "stairs-one-half": (
        "OneCycle",
        dict(
            cycle_min_lr=0.001,
            cycle_max_lr=0.07,
            cycle_first_step_size=10,
            cycle_second_step_size=7,
            cycle_first_stair_count=0,
            cycle_second_stair_count=4,
            decay_step_size=5,
            decay_lr_rate=0.5,
        ),
    ),
    "stairs-more-than-steps": (
        "OneCycle",
        dict(
            cycle_min_lr=0.001,
            cycle_max_lr=0.07,
            cycle_first_step_size=7,
            cycle_second_step_size=3,
            cycle_first_stair_count=50,
            cycle_second_stair_count=33,
        ),
    ),
    "stairs-no-second-half": (
        "OneCycle",
        dict(
            cycle_min_lr=0.001,
            cycle_max_lr=0.07,
            cycle_first_step_size=10,
            cycle_second_step_size=0,
            cycle_first_stair_count=4,
        ),
    ),
    "stairs-sizes-below-one": (
        "OneCycle",
        dict(
            cycle_min_lr=0.001,
            cycle_max_lr=0.07,
            cycle_first_step_size=0.5,
            cycle_second_step_size=0.3,
            cycle_first_stair_count=3,
            decay_step_size=2,
            decay_lr_rate=0.3,
        ),
    ),
    "stairs-down-then-up": (
        "OneCycle",
        dict(
            cycle_min_lr=0.07,
            cycle_max_lr=0.001,
            cycle_first_step_size=13,
            cycle_second_step_size=6,
            cycle_first_stair_count=3,
        ),
    ),
}


@pytest.mark.parametrize("name", list(DEEPSPEED_FRACTIONS))
def test_deepspeed_takes_or_refuses_a_fractional_count_as_lrkit_does(name):
    kind, params = DEEPSPEED_FRACTIONS[name]
    n = 300
    try:
        want = _deepspeed_peer(kind, params, n)
    except (TypeError, ValueError):  # DeepSpeed refuses it
        refused(lambda: from_deepspeed({"type": kind, "params": params}, lrs=[0.1, 0.01]))
        return
    got = from_deepspeed({"type": kind, "params": params}, lrs=[0.1, 0.01])
    per = got if isinstance(got, list) else [got, got]
    for g in range(2):
        np.testing.assert_allclose(per[g](np.arange(float(n))), want[:, g], rtol=1e-12, atol=1e-17, err_msg=name)


@settings(deadline=None, max_examples=40)
@given(
    F=st.sampled_from([1, 2, 5, 7, 10, 13, 0.5, 3.3, 17.75, 40, 120]),
    S=st.sampled_from([None, 0, 1, 3, 7.5, 13, 0.25]),
    c1=st.sampled_from([0, 1, 2, 3, 2.5, 6, 7, 9, 60, 0.7, 10**9]),
    c2=st.sampled_from([None, 0, 1, 3, 4, 1.5, 7, 33, 0.3]),
    D=st.sampled_from([0, 1, 2.5]),
    rate=st.sampled_from([0, 0.1]),
)
def test_a_deepspeed_one_cycle_staircase_is_deepspeeds_at_every_step(F, S, c1, c2, D, rate):
    params = dict(
        cycle_min_lr=0.001,
        cycle_max_lr=0.07,
        cycle_first_step_size=F,
        cycle_second_step_size=S,
        cycle_first_stair_count=c1,
        cycle_second_stair_count=c2,
        decay_step_size=D,
        decay_lr_rate=rate,
    )
    n = 250
    want = _deepspeed_peer("OneCycle", params, n)[:, 0]
    got = from_deepspeed({"type": "OneCycle", "params": params})
    np.testing.assert_allclose(got(np.arange(float(n))), want, rtol=1e-12, atol=1e-17)


def _paddle_lrs(sched, n):
    out = []
    for _ in range(n):
        out.append(float(sched()))
        sched.step()
    return np.array(out)


def test_paddleclas_fractional_warmups_and_step_sizes_follow_its_rules():
    from paddle.optimizer import lr as pl

    E, N = 12, 7
    # ConstLR, warmup_epoch 0.3: round(0.3 x 7) = 2 iterations
    got = from_ppcls({"name": "ConstLR", "learning_rate": 0.1, "warmup_epoch": 0.3}, E, N)
    np.testing.assert_allclose(got(np.arange(50.0)), _paddle_lrs(pl.LinearWarmup(0.1, 2, 0.0, 0.1), 50), rtol=1e-12)
    # Step, step_size 0.5 epochs: int(0.5 x 7) = 3 iterations (PaddleClas truncates it itself)
    got = from_ppcls({"name": "Step", "learning_rate": 0.1, "step_size": 0.5, "gamma": 0.5}, E, N)
    np.testing.assert_allclose(got(np.arange(50.0)), _paddle_lrs(pl.StepDecay(0.1, 3, 0.5), 50), rtol=1e-12)
    # Linear with by_epoch: its warmup is round(w x N) steps all the same (Linear's own __init__)
    got = from_ppcls(
        {"name": "Linear", "learning_rate": 0.1, "end_lr": 0.001, "warmup_epoch": 2, "by_epoch": True}, E, N
    )
    want = pl.LinearWarmup(pl.PolynomialDecay(0.1, E - 2, 0.001, 1.0), 14, 0.0, 0.1)
    np.testing.assert_allclose(got(np.arange(30.0)), _paddle_lrs(want, 30), rtol=1e-12)
    # a warmup of more epochs than the run is the run (PaddleClas caps it): 2 epochs, no decay left
    got = from_ppcls({"name": "Cosine", "learning_rate": 0.1, "warmup_epoch": 2.5}, 2, N)
    np.testing.assert_allclose(got(np.arange(30.0)), _paddle_lrs(pl.LinearWarmup(0.1, 14, 0.0, 0.1), 30), rtol=1e-12)


def test_scheduler_from_ppcls_carries_by_epoch_as_paddleclas_schedulers_do():
    import pickle

    from lrkit.paddle import scheduler_from_ppcls

    for by_epoch in (True, False):
        sched = scheduler_from_ppcls({"name": "Cosine", "learning_rate": 0.1, "by_epoch": by_epoch}, 10, 5)
        assert getattr(sched, "by_epoch", None) is by_epoch
        assert pickle.loads(pickle.dumps(sched)).by_epoch is by_epoch
    assert scheduler_from_ppcls({"name": "ConstLR", "learning_rate": 0.1}, 10, 5).by_epoch is False


# =========================================================================================
# 3. no work proportional to a count before a limit
# =========================================================================================


def timed(fn, limit=1.0):
    t0 = time.perf_counter()
    out = fn()
    took = time.perf_counter() - t0
    assert took < limit, f"took {took:.2f}s"
    return out


@pytest.mark.parametrize("epochs,batches", [(10**12, 1), (10**6, 10), (100_000, 1), (HUGE, 1), (1, 10**301)])
def test_ultralytics_refuses_a_run_past_its_table_limit_at_once(epochs, batches):
    refused(lambda: ultralytics_schedules(0.01, 0.01, epochs, batches), "epochs" if epochs > 1 else "batches", fast=0.1)


def test_ultralytics_builds_a_long_run_quickly():
    s = timed(lambda: ultralytics_schedules(0.01, 0.01, 20_000, 10**6, version="8.1.0"))
    for g in s.lr:
        sound(g, (0.0, 5e6, 1.5e10, 3e10))
    assert s.lr[1](2e10 - 1) > 0


def test_ultralytics_drop_ins_and_command_line_refuse_at_once():
    import io

    import torch

    from lrkit import cli
    from lrkit.torch import UltralyticsLR

    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.01, momentum=0.9)
    refused(lambda: UltralyticsLR(opt, epochs=10**12, batches=1), "epochs", fast=0.5)
    err = io.StringIO()
    t0 = time.perf_counter()
    assert cli.main(["show", "ultralytics", "--epochs", str(10**12), "--batches", "1"], out=io.StringIO(), err=err) == 2
    assert time.perf_counter() - t0 < 1.0 and "epochs" in err.getvalue() and err.getvalue().count("\n") == 1


@pytest.mark.parametrize(
    "params",
    [
        dict(cycle_first_step_size=10**12, cycle_first_stair_count=10**9),
        dict(cycle_first_step_size=10**6, cycle_first_stair_count=10**7, cycle_second_stair_count=0),
        dict(cycle_first_step_size=10**12, cycle_first_stair_count=10, cycle_second_stair_count=10**12),
    ],
)
def test_a_deepspeed_staircase_past_the_limit_is_refused_at_once(params):
    refused(lambda: from_deepspeed(ds(**params)), "stair", fast=0.1)


@pytest.mark.parametrize(
    "params",
    [
        dict(cycle_first_step_size=10**12, cycle_first_stair_count=4),
        dict(cycle_first_step_size=10**12 + 0.5, cycle_second_step_size=3.25),
        dict(
            cycle_first_step_size=1e15,
            cycle_first_stair_count=1000,
            cycle_second_stair_count=7.5,
            decay_step_size=10,
            decay_lr_rate=0.1,
        ),
        dict(cycle_first_step_size=5000, cycle_first_stair_count=5000),
    ],
)
def test_a_long_deepspeed_cycle_is_built_from_its_stairs_not_its_steps(params):
    s = timed(lambda: from_deepspeed(ds(**params)))
    sound(s, (0.0, 1.0, 3e11, 1e12, 2e12, 1e16))


def test_the_paddleclas_thirty_epoch_rule_stops_where_its_lr_reaches_zero():
    s = timed(
        lambda: from_ppcls(
            {"name": "Piecewise", "learning_rate": 0.1, "decay_epochs": [1], "values": [1, 2]}, 10**9, 1000
        )
    )
    assert s(0.0) == 0.1 and s(30_000.0) == pytest.approx(0.01, rel=1e-15)
    assert s(30_000.0 * 400) == 0.0 and s(1e12 - 1) == 0.0
    sound(s)


def test_long_paddledetection_warmups_and_cosines_are_closed_forms():
    # PaddleDetection loops over every one of these iterations; lrkit builds them at once
    s = timed(lambda: from_ppdet(ppdet(decay={"milestones": [10**9]}, warm={"steps": 10**14}), 10**6))
    sound(s, (0.0, 5e13, 1e15, 2e15))
    s = timed(
        lambda: from_ppdet(
            {
                "schedulers": [
                    {"name": "CosineDecay", "max_epochs": 10**9, "last_plateau_epochs": 0.5},
                    {"name": "LinearWarmup", "epochs": 10**6},
                ]
            },
            10**6,
        )
    )
    sound(s, (0.0, 1e12, 1e15, 1e16))
    many = list(range(1, 100_001))
    refused(
        lambda: from_ppdet(ppdet(decay={"milestones": many + [100_002], "gamma": 0.1}, warm={"steps": 0}), 1),
        "milestones",
        fast=1.0,
    )
