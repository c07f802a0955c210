"""lrkit.configs.from_config against the trainers themselves: each config is given to the
trainer's own code (transformers' Trainer + get_scheduler, timm's create_scheduler_v2,
mmengine's schedulers stepped as its ParamSchedulerHook steps them, torch's schedulers as
LightningCLI builds them) and to from_config, and the lrs compared at every position.
ultralytics is compared with the values its own trainer code wrote
(tests/data/ultralytics_reference.json)."""

from __future__ import annotations

import copy
import importlib
import json
import math
import pathlib
import types
import warnings

import numpy as np
import pytest
import torch
import yaml
from peer import assert_same_curve, import_timm_scheduler

from lrkit.configs import ConfigSchedule, from_config
from lrkit.configs.pyconfig import read_py_config

HERE = pathlib.Path(__file__).parent
EXAMPLES = HERE.parent / "examples" / "configs"
ULTRA = json.loads((HERE / "data" / "ultralytics_reference.json").read_text())


def curve(s, n):
    return [float(v) for v in s(np.arange(float(n)))]


# -- ultralytics -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(ULTRA["runs"]))
def test_ultralytics_args_yaml_gives_the_trainers_lr_per_group_and_momentum(name, tmp_path):
    run = ULTRA["runs"][name]
    args = dict(run["args"], task="detect", mode="train", epochs=run["epochs"], lr0=run["lr0"], optimizer="SGD")
    args.update(batch=16, nbs=64, time=None, imgsz=640, weight_decay=0.0005)
    path = tmp_path / "args.yaml"
    path.write_text(yaml.safe_dump(args))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 8.4.0-8.4.2 start the weights high (a DropInWarning)
        got = from_config(path, steps_per_epoch=run["batches"], version=run["version"])
    assert (got.format, got.unit, got.total) == ("ultralytics", "iteration", run["epochs"] * run["batches"])
    ref = np.array(run["lr"])
    n = len(ref)
    lrs = got.schedules if isinstance(got.lr, list) else [got.lr] * 3
    assert len(lrs) == 3
    for g in range(3):
        assert_same_curve(ref[:, g], curve(lrs[g], n), f"{name} group {g}", rtol=1e-12)
    assert_same_curve(np.array(run["momentum"])[:, 0], curve(got.momentum, n), f"{name} momentum", rtol=1e-12)


def test_ultralytics_optimizer_auto_takes_the_trainers_lr0_and_no_bias_warmup():
    run = ULTRA["runs"]["linear-lf"]  # 10 epochs x 23 batches: a short run -> AdamW
    args = dict(run["args"], epochs=run["epochs"], lr0=0.5, optimizer="auto", batch=16, nbs=64)
    got = from_config(args, steps_per_epoch=run["batches"], nc=80)
    lr0 = round(0.002 * 5 / (4 + 80), 6)
    # every group, the biases' too, warms up from 0 to lr0 * lf(e) (the trainer sets warmup_bias_lr = 0)
    assert not isinstance(got.lr, list)
    nw = round(min(run["args"]["warmup_epochs"], run["epochs"] - 1) * run["batches"])
    lf1 = (1 - 1 / run["epochs"]) * (1 - run["args"]["lrf"]) + run["args"]["lrf"]  # lf of epoch 1
    assert math.isclose(float(got.lr(11)), 11 / nw * lr0, rel_tol=1e-12)  # epoch 0: lf = 1
    assert math.isclose(float(got.lr(30)), 30 / nw * lr0 * lf1, rel_tol=1e-12)
    assert float(got.lr(0)) == 0.0
    assert any("optimizer=auto" in n for n in got.notes)
    # a long run: SGD with 0.01
    long = from_config(dict(args, epochs=200), steps_per_epoch=1000)
    first_epoch_after_warmup = 3 * 1000 + 1
    lf1 = (1 - 3 / 200) * (1 - run["args"]["lrf"]) + run["args"]["lrf"]
    assert math.isclose(float(long.schedule(first_epoch_after_warmup)), 0.01 * lf1, rel_tol=1e-12)
    with pytest.raises(ValueError, match="give nc="):
        from_config(args, steps_per_epoch=run["batches"])
    with pytest.raises(ValueError, match="ultralytics args.yaml: needs epochs .*opt.yaml"):
        from_config({"lr0": 0.01, "lrf": 0.01}, steps_per_epoch=10)
    with pytest.raises(ValueError, match="ultralytics args.yaml: lrf must be >= 0"):
        from_config(dict(args, lrf=-1, optimizer="SGD"), steps_per_epoch=10)
    with pytest.raises(ValueError, match="time must be null"):
        from_config(dict(args, time=2.5), steps_per_epoch=10)
    # 2667 batches of 24: 63,985 to 64,008 images, 1000 or 1001 steps of nbs=64 a epoch: 10,000 or 10,010
    with pytest.raises(ValueError, match="images="):
        from_config(dict(args, batch=24), steps_per_epoch=2667)
    with pytest.raises(ValueError, match="give nc="):  # 10,000 iterations: AdamW
        from_config(dict(args, batch=24), steps_per_epoch=2667, images=64_000)
    sgd = from_config(dict(args, batch=24), steps_per_epoch=2667, images=64_001)  # 10,010: SGD, lr0 = 0.01
    assert float(sgd.schedule(5 * 2667)) == pytest.approx(
        0.01 * ((1 - 5 / 10) * (1 - run["args"]["lrf"]) + run["args"]["lrf"])
    )


# -- transformers ----------------------------------------------------------------------------------
class _Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)

    def forward(self, x, labels=None):
        return {"loss": self.layer(x).sum()}


HF_CASES = {
    "linear-ratio-accum": dict(
        lr_scheduler_type="linear", warmup_steps=0.1, num_train_epochs=2.5, gradient_accumulation_steps=3
    ),
    "cosine-steps": dict(lr_scheduler_type="cosine", warmup_steps=7, num_train_epochs=4),
    "cosine-max-steps": dict(lr_scheduler_type="cosine", warmup_steps=5, max_steps=33),
    "restarts": dict(
        lr_scheduler_type="cosine_with_restarts",
        warmup_steps=3,
        num_train_epochs=3,
        lr_scheduler_kwargs={"num_cycles": 3},
    ),
    "polynomial": dict(
        lr_scheduler_type="polynomial",
        warmup_steps=4,
        num_train_epochs=3,
        lr_scheduler_kwargs={"power": 2.0, "lr_end": 1e-5},
    ),
    "constant": dict(lr_scheduler_type="constant", num_train_epochs=1),
    "constant-warmup": dict(lr_scheduler_type="constant_with_warmup", warmup_steps=6, num_train_epochs=2),
    "inverse-sqrt": dict(lr_scheduler_type="inverse_sqrt", warmup_steps=5, num_train_epochs=3),
    "cosine-min-lr": dict(
        lr_scheduler_type="cosine_with_min_lr",
        warmup_steps=0.2,
        num_train_epochs=2,
        lr_scheduler_kwargs={"min_lr": 1e-4},
    ),
    "cosine-warmup-min-lr": dict(
        lr_scheduler_type="cosine_warmup_with_min_lr",
        warmup_steps=6,
        num_train_epochs=2,
        lr_scheduler_kwargs={"min_lr_rate": 0.1, "warmup_lr_rate": 0.05},
    ),
    "wsd": dict(
        lr_scheduler_type="warmup_stable_decay",
        warmup_steps=4,
        num_train_epochs=3,
        lr_scheduler_kwargs={"num_decay_steps": 10, "decay_type": "linear", "min_lr_ratio": 0.1},
    ),
}


@pytest.mark.parametrize("name", list(HF_CASES))
@pytest.mark.parametrize("as_yaml", [False, True])
def test_transformers_training_args_give_the_trainers_scheduler(name, as_yaml, tmp_path):
    from transformers import Trainer, TrainingArguments

    kw = dict(HF_CASES[name])
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"),
        learning_rate=3e-3,
        per_device_train_batch_size=2,
        report_to=[],
        use_cpu=True,
        **kw,
    )
    batches = 17
    data = [{"x": torch.zeros(2), "labels": torch.zeros(1)} for _ in range(2 * batches)]
    trainer = Trainer(model=_Tiny(), args=args, train_dataset=data)
    loader = trainer.get_train_dataloader()
    assert len(loader) == batches
    max_steps = trainer.set_initial_training_values(args, loader)[-1]
    trainer.create_optimizer_and_scheduler(num_training_steps=max_steps)
    opt, sched = trainer.optimizer, trainer.lr_scheduler
    ref = []
    for _ in range(max_steps + 5):
        ref.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()

    saved = json.loads(args.to_json_string())
    path = tmp_path / ("training_args.yaml" if as_yaml else "training_args.json")
    path.write_text(yaml.safe_dump(saved) if as_yaml else json.dumps(saved))
    got = from_config(path, steps_per_epoch=batches)
    assert (got.format, got.unit, got.total) == ("transformers", "step", max_steps)
    assert_same_curve(ref, curve(got.lr, len(ref)), name, rtol=1e-10)


def test_transformers_warmup_ratio_of_version_4_and_max_steps_without_steps_per_epoch():
    base = {"learning_rate": 1e-3, "lr_scheduler_type": "linear", "max_steps": 200, "warmup_steps": 0}
    got = from_config(dict(base, warmup_ratio=0.1))
    # transformers 4: warmup_steps > 0 wins, else ceil(N * warmup_ratio)
    assert float(got.lr(10)) == pytest.approx(1e-3 * 10 / 20) and float(got.lr(20)) == pytest.approx(1e-3)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        from_config(dict(base, max_steps=-1))
    # 10 batches in steps of 3: transformers 5 makes 4 updates an epoch, older 4.x releases 3
    epochs = dict(base, max_steps=-1, num_train_epochs=2, gradient_accumulation_steps=3)
    up, down = from_config(epochs, steps_per_epoch=10), from_config(epochs, steps_per_epoch=10, rounding="down")
    assert (up.total, up.steps_per_epoch, down.total, down.steps_per_epoch) == (8, 4, 6, 3)
    assert any("rounding='down'" in n for n in up.notes) and not down.notes
    with pytest.raises(ValueError, match="max_steps must be -1"):
        from_config(dict(base, max_steps=0))
    with pytest.raises(ValueError, match="lr_scheduler_type must be one of.*follows the training metrics"):
        from_config(dict(base, lr_scheduler_type="reduce_lr_on_plateau"))
    with pytest.raises(ValueError, match=r"lr_scheduler_kwargs.*has no field 'num_cycle'.*num_cycles"):
        from_config(dict(base, lr_scheduler_type="cosine", lr_scheduler_kwargs={"num_cycle": 2}))


# -- timm --------------------------------------------------------------------------------------------
TIMM_CASES = {
    "cosine": dict(sched="cosine", lr=0.1, epochs=30, warmup_epochs=3, warmup_lr=1e-4, min_lr=1e-5),
    "cosine-prefix-cooldown": dict(
        sched="cosine", lr=0.1, epochs=20, warmup_epochs=4, warmup_prefix=True, min_lr=1e-3, cooldown_epochs=5
    ),
    "cosine-cycles": dict(
        sched="cosine", lr=0.05, epochs=10, lr_cycle_limit=3, lr_cycle_mul=2.0, lr_cycle_decay=0.5, warmup_epochs=0
    ),
    "cosine-k-decay-updates": dict(
        sched="cosine", lr=0.1, epochs=6, warmup_epochs=1, lr_k_decay=0.5, sched_on_updates=True, grad_accum_steps=2
    ),
    "tanh": dict(sched="tanh", lr=0.1, epochs=25, warmup_epochs=5, min_lr=1e-4),
    "tanh-prefix": dict(sched="tanh", lr=0.1, epochs=25, warmup_epochs=5, warmup_prefix=True),
    "step": dict(sched="step", lr=0.1, epochs=50, decay_epochs=7, decay_rate=0.5, warmup_epochs=2),
    "multistep-updates": dict(
        sched="multistep",
        lr=0.1,
        epochs=12,
        decay_milestones=[4, 9],
        decay_rate=0.2,
        warmup_epochs=1,
        sched_on_updates=True,
    ),
    "poly": dict(sched="poly", lr=0.1, epochs=40, decay_rate=2.0, warmup_epochs=3, min_lr=1e-5),
    "constant": dict(sched="constant", lr=0.02, epochs=10, warmup_epochs=2),
    "wsd": dict(sched="wsd", lr=0.1, epochs=30, warmup_epochs=3, decay_epochs=0.3, min_lr=1e-4),
    "rsqrt-updates": dict(
        sched="rsqrt", lr=0.1, epochs=8, warmup_epochs=1, decay_epochs=2, sched_on_updates=True, lr_decay_fn="cosine"
    ),
    "lr-from-base": dict(sched="cosine", lr=None, lr_base=0.1, lr_base_size=256, batch_size=96, opt="adamw", epochs=12),
}


def _timm_lr(a):
    """timm train.py's lr when args.lr is empty (its rule, written out here)."""
    if a.get("lr"):
        return a["lr"]
    ratio = a["batch_size"] * 1 * a.get("grad_accum_steps", 1) / a["lr_base_size"]
    scale = a.get("lr_base_scale") or ("sqrt" if any(o in a["opt"].lower() for o in ("ada", "lamb")) else "linear")
    return a["lr_base"] * (ratio**0.5 if scale == "sqrt" else ratio)


@pytest.mark.parametrize("name", list(TIMM_CASES))
def test_timm_args_yaml_gives_create_scheduler_v2s_scheduler(name, tmp_path):
    ts = import_timm_scheduler()
    from timm.scheduler.scheduler_factory import scheduler_kwargs

    a = dict(TIMM_CASES[name])
    batches = 9
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=_timm_lr(a))
    sched, num_epochs = ts.create_scheduler_v2(
        opt,
        **scheduler_kwargs(types.SimpleNamespace(**a)),
        updates_per_epoch=(batches + a.get("grad_accum_steps", 1) - 1) // a.get("grad_accum_steps", 1),
    )
    on_updates = a.get("sched_on_updates", False)
    updates = (batches + a.get("grad_accum_steps", 1) - 1) // a.get("grad_accum_steps", 1)
    n = (num_epochs + 3) * (updates if on_updates else 1)
    ref = []
    for t in range(n):  # train.py: step(epoch) per epoch, or step_update(num_updates) per update
        if on_updates:
            sched.step_update(t)
        else:
            sched.step(t)
        ref.append(opt.param_groups[0]["lr"])
    path = tmp_path / "args.yaml"
    path.write_text(yaml.safe_dump(a))
    got = from_config(path, steps_per_epoch=batches)
    assert got.format == "timm" and got.unit == ("step" if on_updates else "epoch")
    assert got.total == num_epochs * (updates if on_updates else 1)
    assert_same_curve(ref, curve(got.lr, n), name, rtol=1e-10)


def test_timm_refuses_noise_and_plateau_and_names_bad_fields():
    with pytest.raises(ValueError, match="lr_noise must be null"):
        from_config({"sched": "cosine", "lr": 0.1, "lr_noise": [0.4, 0.9]})
    with pytest.raises(ValueError, match="plateau follows a metric"):
        from_config({"sched": "plateau", "lr": 0.1})
    with pytest.raises(ValueError, match=r"sched must be one of .*got 'cosin'"):
        from_config({"sched": "cosin", "lr": 0.1})
    with pytest.raises(ValueError, match="warmup_epochs must be >= 0"):
        from_config({"sched": "cosine", "lr": 0.1, "warmup_epochs": -1})
    with pytest.raises(ValueError, match="steps_per_epoch"):
        from_config({"sched": "cosine", "lr": 0.1, "sched_on_updates": True})


# -- mmengine ----------------------------------------------------------------------------------------
MM_CASES = {
    "mmdet-1x": (
        [
            dict(type="LinearLR", start_factor=0.001, by_epoch=False, begin=0, end=50),
            dict(type="MultiStepLR", begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1),
        ],
        dict(type="EpochBasedTrainLoop", max_epochs=12),
    ),
    "rtmdet-cosine-half": (
        [
            dict(type="LinearLR", start_factor=1.0e-5, by_epoch=False, begin=0, end=30),
            dict(
                type="CosineAnnealingLR",
                eta_min=0.0002,
                begin=5,
                end=10,
                T_max=5,
                by_epoch=True,
                convert_to_iter_based=True,
            ),
        ],
        dict(type="EpochBasedTrainLoop", max_epochs=10),
    ),
    "default-end-poly": (
        [dict(type="PolyLR", eta_min=1e-4, power=0.9, by_epoch=False)],
        dict(type="IterBasedTrainLoop", max_iters=200),
    ),
    "step-exponential": (
        [dict(type="StepLR", step_size=3, gamma=0.5), dict(type="ExponentialLR", gamma=0.9, begin=6)],
        dict(max_epochs=10),
    ),
    "constant-restarts": (
        [
            dict(type="ConstantLR", factor=0.5, begin=0, end=2),
            dict(type="CosineRestartLR", periods=[3, 4], restart_weights=[1.0, 0.5], eta_min_ratio=0.1, begin=2, end=9),
        ],
        dict(type="EpochBasedTrainLoop", max_epochs=9),
    ),
}


def _mm_reference(schedulers, train_cfg, lr, L):
    """mmengine's schedulers built from the configs as its runner builds them (end from the
    loop), stepped as ParamSchedulerHook steps them; the lr of every iteration."""
    from mmengine.optim.scheduler import param_scheduler  # noqa: F401 - registers the schedulers
    from mmengine.registry import PARAM_SCHEDULERS

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    epoch_loop = train_cfg.get("type", "EpochBasedTrainLoop") == "EpochBasedTrainLoop"
    E = train_cfg["max_epochs"] if epoch_loop else 1
    iters = E * L if epoch_loop else train_cfg["max_iters"]
    built = []
    for cfg in schedulers:
        cfg = copy.deepcopy(cfg)
        cfg.setdefault("end", (E if epoch_loop else 1) if cfg.get("by_epoch", True) else iters)
        built.append(PARAM_SCHEDULERS.build(cfg, default_args=dict(optimizer=opt, epoch_length=L)))
    out = []
    for i in range(iters):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        for s in built:
            if not s.by_epoch:
                s.step()
        if (i + 1) % L == 0:
            for s in built:
                if s.by_epoch:
                    s.step()
    return out


@pytest.mark.parametrize("name", list(MM_CASES))
@pytest.mark.parametrize("how", ["json", "yaml", "py"])
def test_mmengine_param_scheduler_gives_mmengines_lrs_per_iteration(name, how, tmp_path):
    schedulers, train_cfg = MM_CASES[name]
    L, lr = 10, 0.02
    ref = _mm_reference(schedulers, train_cfg, lr, L)
    config = {
        "param_scheduler": schedulers,
        "train_cfg": train_cfg,
        "optim_wrapper": {"type": "OptimWrapper", "optimizer": {"type": "SGD", "lr": lr, "momentum": 0.9}},
    }
    if how == "json":
        path = tmp_path / "cfg.json"
        path.write_text(json.dumps(config))
    elif how == "yaml":
        path = tmp_path / "cfg.yaml"
        path.write_text(yaml.safe_dump(config))
    else:
        path = tmp_path / "cfg.py"
        path.write_text("".join(f"{k} = {v!r}\n" for k, v in config.items()))
    got = from_config(path, steps_per_epoch=L)
    assert (got.format, got.unit, got.total) == ("mmengine", "iteration", len(ref))
    assert_same_curve(ref, curve(got.lr, len(ref)), f"{name} ({how})", rtol=1e-10)


def test_mmengine_py_config_of_mmdet_is_read_without_running_it():
    got = from_config(EXAMPLES / "mmdet_schedule.py", steps_per_epoch=100)
    exec_ns: dict = {}
    exec(compile((EXAMPLES / "mmdet_schedule.py").read_text(), "mmdet_schedule.py", "exec"), exec_ns)  # the test may
    ref = _mm_reference(
        exec_ns["param_scheduler"], exec_ns["train_cfg"], exec_ns["optim_wrapper"]["optimizer"]["lr"], 100
    )
    assert_same_curve(ref, curve(got.lr, len(ref)), "mmdet_schedule.py")
    # an epoch-only list without steps_per_epoch: the position is the epoch
    ep = from_config(
        {"param_scheduler": [dict(type="MultiStepLR", milestones=[2], gamma=0.1)], "optimizer": {"lr": 0.1}}
    )
    assert ep.unit == "epoch" and float(ep.lr(1)) == 0.1 and float(ep.lr(2)) == pytest.approx(0.01)


@pytest.mark.parametrize(
    "text, line, what",
    [
        ("import os\nlr = 1\n", 1, "import"),
        ("a = 1\nb = open('x')\n", 2, "a call"),
        ("x = dict(a=os.path)\n", 1, "Attribute"),
        ("x = [i for i in range(3)]\n", 1, "ListComp"),
        ("x = 2 ** 10\n", 1, "BinOp"),
        ("x = y\n", 1, "not assigned earlier"),
        ("x = dict(**base)\n", 1, "unpacking"),
        ("def f():\n    pass\n", 1, "FunctionDef"),
        ("x = 10 ** 400\n", 1, "BinOp"),
        ("x = 1e20 * 1e20\n", 1, "limit"),
    ],
)
def test_py_configs_refuse_anything_but_literals_naming_the_line(text, line, what):
    with pytest.raises(ValueError, match=rf"line {line}: .*{what}"):
        read_py_config(text, "cfg.py")


def test_py_configs_read_literals_names_and_simple_arithmetic():
    names = read_py_config(
        "'''doc'''\nmax_epochs = 300\nstage2 = 20\nx = dict(begin=max_epochs // 2, end=max_epochs - stage2, lr=-0.5 * 2, "
        "t=(1, 2), d={'a': None, 'b': True}, s='x')\n"
    )
    assert names["x"] == dict(begin=150, end=280, lr=-1.0, t=[1, 2], d={"a": None, "b": True}, s="x")
    doubling = "a0 = [1]\n" + "".join(f"a{i} = [a{i - 1}, a{i - 1}]\n" for i in range(1, 40))
    with pytest.raises(ValueError, match="cfg.py expands to more than .* values"):
        read_py_config(doubling, "cfg.py")
    with pytest.raises(ValueError, match="too deeply"):
        read_py_config("x = " + "+".join(["1"] * 200_000) + "\n", "cfg.py")
    with pytest.raises(ValueError, match="nested parentheses"):
        read_py_config("x = " + "[" * 5000 + "]" * 5000 + "\n", "cfg.py")


def test_mmengine_refusals_name_the_field():
    base = {"optim_wrapper": {"optimizer": {"lr": 0.1}}, "train_cfg": {"max_epochs": 5}}
    with pytest.raises(ValueError, match=r"param_scheduler\[0\]: type must be one of .*got 'CosineLR'"):
        from_config(dict(base, param_scheduler=[{"type": "CosineLR"}]))
    with pytest.raises(ValueError, match=r"param_scheduler\[0\]: StepLR has no field 'gama'.*gamma"):
        from_config(dict(base, param_scheduler=[{"type": "StepLR", "step_size": 2, "gama": 0.5}]))
    with pytest.raises(ValueError, match="mixes epoch-based and iteration-based.*steps_per_epoch"):
        from_config(
            dict(
                base,
                param_scheduler=[
                    {"type": "LinearLR", "by_epoch": False, "end": 10},
                    {"type": "StepLR", "step_size": 2},
                ],
            )
        )
    with pytest.raises(ValueError, match="overlaps"):
        from_config(
            dict(base, param_scheduler=[{"type": "CosineAnnealingLR", "T_max": 5}, {"type": "StepLR", "step_size": 2}])
        )
    with pytest.raises(ValueError, match="ReduceOnPlateauLR.*follows a metric"):
        from_config(dict(base, param_scheduler=[{"type": "ReduceOnPlateauLR"}]))
    with pytest.raises(ValueError, match="optim_wrapper.optimizer.lr.*give lr="):
        from_config({"param_scheduler": [{"type": "StepLR", "step_size": 2}]})
    got = from_config(
        {"param_scheduler": [{"type": "StepLR", "step_size": 2}, {"type": "CosineAnnealingMomentum", "T_max": 3}]},
        lr=0.5,
    )
    assert float(got.lr(2)) == pytest.approx(0.05) and any("momentum" in n for n in got.notes)


# -- Lightning CLI -----------------------------------------------------------------------------------
LIGHTNING_CASES = {
    "step": ("StepLR", {"step_size": 3, "gamma": 0.5}),
    "multistep": ("MultiStepLR", {"milestones": [4, 7, 7]}),
    "exponential": ("ExponentialLR", {"gamma": 0.8}),
    "cosine": ("CosineAnnealingLR", {"T_max": 8, "eta_min": 0.001}),
    "restarts": ("CosineAnnealingWarmRestarts", {"T_0": 3, "T_mult": 2, "eta_min": 1e-4}),
    "linear": ("LinearLR", {"start_factor": 0.1, "total_iters": 4}),
    "constant": ("ConstantLR", {}),
    "polynomial": ("PolynomialLR", {"total_iters": 9, "power": 2.0}),
    "onecycle": ("OneCycleLR", {"max_lr": 0.5, "total_steps": 20, "pct_start": 0.25}),
    "cyclic": ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.2, "step_size_up": 3, "step_size_down": 5}),
    "cyclic-exp-range": (
        "CyclicLR",
        {"base_lr": 0.01, "max_lr": 0.2, "step_size_up": 4, "mode": "exp_range", "gamma": 0.9},
    ),
    "cyclic-triangular2": ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.2, "step_size_up": 2, "mode": "triangular2"}),
    "onecycle-three-phase": (
        "OneCycleLR",
        {"max_lr": 0.5, "epochs": 6, "steps_per_epoch": 3, "three_phase": True, "anneal_strategy": "linear"},
    ),
}


@pytest.mark.parametrize("name", list(LIGHTNING_CASES))
def test_lightning_cli_config_gives_torchs_scheduler_stepped_per_epoch(name, tmp_path):
    cls, init = LIGHTNING_CASES[name]
    config = {
        "trainer": {"max_epochs": 15},
        "model": {"class_path": "my.Model"},
        "optimizer": {"class_path": "torch.optim.SGD", "init_args": {"lr": 0.1, "momentum": 0.9}},
        "lr_scheduler": {"class_path": f"torch.optim.lr_scheduler.{cls}", "init_args": init},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    # what LightningCLI builds: the classes of the class paths with the init_args
    opt_cls = importlib.import_module("torch.optim").SGD
    opt = opt_cls([torch.nn.Parameter(torch.zeros(1))], **config["optimizer"]["init_args"])
    sched = getattr(torch.optim.lr_scheduler, cls)(opt, **init)
    n = 20 if cls != "OneCycleLR" else 18
    ref = []
    for _ in range(n):
        ref.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    got = from_config(path)
    assert (got.format, got.unit, got.total) == ("lightning", "epoch", 15)
    assert_same_curve(ref, curve(got.lr, n), name, rtol=1e-10)


def test_lightning_refusals():
    opt = {"class_path": "torch.optim.Adam", "init_args": {"lr": 1e-3}}
    with pytest.raises(ValueError, match="ReduceLROnPlateau follows a metric"):
        from_config({"optimizer": opt, "lr_scheduler": {"class_path": "lightning.pytorch.cli.ReduceLROnPlateau"}})
    with pytest.raises(ValueError, match=r"StepLR has no field 'step'.*step_size"):
        from_config({"optimizer": opt, "lr_scheduler": {"class_path": "StepLR", "init_args": {"step": 2}}})
    with pytest.raises(ValueError, match="StepLR needs step_size"):
        from_config({"optimizer": opt, "lr_scheduler": {"class_path": "StepLR"}})
    with pytest.raises(ValueError, match="class_path must be one of torch's"):
        from_config({"optimizer": opt, "lr_scheduler": {"class_path": "my.Sched"}})
    assert float(from_config({"optimizer": opt}).lr(100)) == 1e-3


# -- DeepSpeed, PaddleDetection, PaddleClas: routed to the existing readers -----------------------
def test_deepspeed_ppdet_and_ppcls_are_routed_to_their_readers():
    from lrkit.convert.deepspeed import from_deepspeed
    from lrkit.recipes import ppcls_schedule, ppdet_schedule

    ds = from_config(EXAMPLES / "deepspeed_config.json")
    assert (ds.format, ds.unit, ds.total) == ("deepspeed", "step", 10000)
    assert ds.lr == from_deepspeed(json.loads((EXAMPLES / "deepspeed_config.json").read_text()))
    sub = from_config(EXAMPLES / "deepspeed_config.json", section="scheduler", lrs=3e-4)
    assert sub.lr == ds.lr and sub.section == "scheduler"
    det = from_config(EXAMPLES / "ppdet_optimizer_300e.yml", steps_per_epoch=50)
    assert (det.format, det.unit, det.total) == ("ppdet", "iteration", 300 * 50)
    assert det.lr == ppdet_schedule(EXAMPLES / "ppdet_optimizer_300e.yml", 50)
    cls = from_config(EXAMPLES / "ppcls_cosine.yml", steps_per_epoch=40)
    assert cls.format == "ppcls" and cls.lr == ppcls_schedule(EXAMPLES / "ppcls_cosine.yml", 40)


# -- the entry point ---------------------------------------------------------------------------------
def test_every_example_config_is_recognised():
    spe = dict(steps_per_epoch=100)
    expect = {
        "ultralytics_args.yaml": ("ultralytics", spe),
        "transformers_training_args.json": ("transformers", spe),
        "timm_args.yaml": ("timm", {}),
        "mmdet_schedule.py": ("mmengine", spe),
        "lightning_cli.yaml": ("lightning", {}),
        "deepspeed_config.json": ("deepspeed", {}),
        "ppdet_optimizer_300e.yml": ("ppdet", spe),
        "ppcls_cosine.yml": ("ppcls", spe),
    }
    for name, (fmt, kw) in expect.items():
        got = from_config(EXAMPLES / name, **kw)
        assert isinstance(got, ConfigSchedule) and got.format == fmt, name
        assert all(np.isfinite(s(np.arange(0.0, 1000.0))).all() for s in got.schedules)


def test_format_section_and_options_are_checked():
    hf = {"learning_rate": 1e-3, "lr_scheduler_type": "linear", "max_steps": 10}
    with pytest.raises(ValueError, match="no format recognised.*ultralytics: lr0 and lrf"):
        from_config({"foo": 1})
    with pytest.raises(ValueError, match="looks like transformers and timm: give format="):
        from_config(dict(hf, sched="cosine", lr=0.1))
    assert from_config(dict(hf, sched="cosine", lr=0.1), format="timm").format == "timm"
    with pytest.raises(ValueError, match="format must be one of.*got 'tim'.*timm"):
        from_config(hf, format="tim")
    with pytest.raises(ValueError, match=r"section 'training.args': training has no key 'args' \(it holds hf\)"):
        from_config({"training": {"hf": hf}}, section="training.args")
    assert from_config({"training": {"hf": hf}}, section="training.hf").section == "training.hf"
    with pytest.raises(ValueError, match="transformers reader has no option 'lr0'.*rounding"):
        from_config(hf, lr0=0.1)
    with pytest.raises(ValueError, match="steps_per_epoch must be a whole number"):
        from_config(hf, steps_per_epoch=2.5)
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        from_config(dict(hf, learning_rate="1e-3"))
    with pytest.raises(ValueError, match="no such config file"):
        from_config("/nonexistent/args.yaml")
    with pytest.raises(TypeError, match="must be a path or a mapping"):
        from_config(12)


def test_files_are_read_bounded_and_refused_with_a_message(tmp_path):
    big = tmp_path / "args.yaml"
    big.write_text("lr0: 0.01\n" + "#" * 1_100_000)
    with pytest.raises(ValueError, match="lrkit reads at most"):
        from_config(big, steps_per_epoch=10)
    bad = tmp_path / "args.json"
    bad.write_text('{"lr0": 0.01, "lr0": 0.02}')
    with pytest.raises(ValueError, match="appears twice"):
        from_config(bad)
    tagged = tmp_path / "args.yaml"
    tagged.write_text("lr0: !!python/object:os.system {}\n")
    with pytest.raises(ValueError):
        from_config(tagged)


def test_reading_imports_no_trainer_and_no_framework():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from lrkit.configs import from_config\n"
        f"ex = {str(EXAMPLES)!r}\n"
        "for name, spe in [('ultralytics_args.yaml', 100), ('transformers_training_args.json', 100), "
        "('timm_args.yaml', None), ('mmdet_schedule.py', 100), ('lightning_cli.yaml', None), "
        "('deepspeed_config.json', None), ('ppdet_optimizer_300e.yml', 100)]:\n"
        "    from_config(ex + '/' + name, steps_per_epoch=spe)\n"
        "bad = sorted(m for m in ('torch', 'transformers', 'timm', 'mmengine', 'lightning', 'pytorch_lightning', "
        "'ultralytics', 'deepspeed', 'paddle', 'ppdet') if m in sys.modules)\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


RTMDET = """
_base_ = ['../_base_/default_runtime.py']
max_epochs = 30
stage2_num_epochs = 5
base_lr = 0.004
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=base_lr, weight_decay=0.05))
param_scheduler = [
    dict(type='LinearLR', start_factor=1.0e-5, by_epoch=False, begin=0, end=40),
    dict(
        type='CosineAnnealingLR',
        eta_min=base_lr * 0.05,
        begin=max_epochs // 2,
        end=max_epochs,
        T_max=max_epochs // 2,
        by_epoch=True,
        convert_to_iter_based=True),
]
"""


def test_an_rtmdet_style_py_config_with_names_and_arithmetic(tmp_path):
    path = tmp_path / "rtmdet.py"
    path.write_text(RTMDET)
    got = from_config(path, steps_per_epoch=12)
    ns: dict = {}
    exec(RTMDET, ns)  # the test may run it; lrkit reads it without
    ref = _mm_reference(ns["param_scheduler"], ns["train_cfg"], ns["base_lr"], 12)
    assert_same_curve(ref, curve(got.lr, len(ref)), "rtmdet.py")
    base_only = tmp_path / "top.py"
    base_only.write_text("_base_ = ['./rtmdet.py']\nmodel = dict(type='RTMDet')\n")
    with pytest.raises(ValueError, match="_base_ files are not followed"):
        from_config(base_only)


def _paths(d, pre=()):
    items = d.items() if isinstance(d, dict) else enumerate(d) if isinstance(d, list) else ()
    for k, v in items:
        yield (*pre, k)
        yield from _paths(v, (*pre, k))


@pytest.mark.parametrize(
    "name, spe",
    [
        ("ultralytics_args.yaml", 100),
        ("transformers_training_args.json", 100),
        ("timm_args.yaml", None),
        ("mmdet_schedule.py", 100),
        ("lightning_cli.yaml", None),
        ("deepspeed_config.json", None),
        ("ppdet_optimizer_300e.yml", 100),
    ],
)
def test_a_mutated_config_gives_a_finite_schedule_or_a_value_error(name, spe):
    import random

    from lrkit.configs import read_config_file

    rng = random.Random(name)
    base = read_config_file(EXAMPLES / name)
    where = list(_paths(base))
    hostile = [None, "x", "1e-3", -1, 0, 10**30, 1e308, float("nan"), float("inf"), [], {}, [1, 2], True, 2.5, 10**9]
    for _ in range(120):
        d = copy.deepcopy(base)
        p = rng.choice(where)
        at = d
        for k in p[:-1]:
            at = at[k]
        if isinstance(at, dict) and rng.random() < 0.15:
            del at[p[-1]]
        else:
            at[p[-1]] = rng.choice(hostile)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = from_config(d, steps_per_epoch=spe if rng.random() < 0.9 else rng.choice([None, 1, 7]))
        except ValueError:
            continue
        for s in got.schedules:
            assert np.isfinite(s(np.arange(0.0, 3000.0))).all(), (name, p)


def test_the_result_explains_itself():
    got = from_config(EXAMPLES / "mmdet_schedule.py", steps_per_epoch=100)
    assert "epoch 8" in got.explain() and got.explain("zh") != got.explain()
    ul = from_config(EXAMPLES / "ultralytics_args.yaml", steps_per_epoch=20)
    assert ul.explain() == ul.recipe.explain("en") and "warmup_bias_lr" in ul.explain()
    assert set(ul.series()) == {"lr weight", "lr bn", "lr bias", "momentum"}
    ds = from_config(
        {"scheduler": {"type": "WarmupLR", "params": {"warmup_min_lr": [0, 0], "warmup_max_lr": [0.1, 0.01]}}}
    )
    assert ds.explain().startswith("param group 0:") and "param group 1:" in ds.explain()
    assert "ConfigSchedule(format='deepspeed', unit='step', lr=[2 schedules]" in repr(ds)
