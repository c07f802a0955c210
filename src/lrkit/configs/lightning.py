"""Lightning CLI configs (``config.yaml`` as ``LightningCLI`` saves it): ``optimizer:`` and
``lr_scheduler:``, each a ``class_path`` with ``init_args``.

The lr is ``optimizer.init_args.lr``; the scheduler is one of ``torch.optim.lr_scheduler``'s
``StepLR``, ``MultiStepLR``, ``ExponentialLR``, ``CosineAnnealingLR``,
``CosineAnnealingWarmRestarts``, ``LinearLR``, ``ConstantLR``, ``PolynomialLR``,
``OneCycleLR``, ``CyclicLR``, with torch's defaults for what ``init_args`` leaves out, converted as
:mod:`lrkit.convert.torch` converts torch's own object (nothing is imported: no torch, no
Lightning). ``LightningCLI`` hands the scheduler to the Trainer with its default
``interval="epoch"``: the position is the epoch (the scheduler's step count), and the
run is ``trainer.max_epochs`` when given. ``ReduceLROnPlateau`` (torch's or Lightning's)
follows a metric: refused.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from ..convert._fields import MISSING, Section, reading
from ..convert.torch import (
    _constant,
    _cosine,
    _cyclic,
    _exponential,
    _linear,
    _multistep,
    _onecycle,
    _polynomial,
    _restarts,
    _step,
)
from ._common import ConfigSchedule, options_of

__all__ = ["read", "looks_like", "OPTIONS", "SCHEDULERS"]

OPTIONS: tuple[str, ...] = ()
_WHERE = "Lightning CLI config"
_BASE = ("last_epoch", "verbose")

#: class name -> (its init_args with torch's defaults; MISSING: required)
_REQ = object()
SCHEDULERS: dict[str, dict[str, Any]] = {
    "StepLR": {"step_size": _REQ, "gamma": 0.1},
    "MultiStepLR": {"milestones": _REQ, "gamma": 0.1},
    "ExponentialLR": {"gamma": _REQ},
    "CosineAnnealingLR": {"T_max": _REQ, "eta_min": 0.0},
    "CosineAnnealingWarmRestarts": {"T_0": _REQ, "T_mult": 1, "eta_min": 0.0},
    "LinearLR": {"start_factor": 1.0 / 3, "end_factor": 1.0, "total_iters": 5},
    "ConstantLR": {"factor": 1.0 / 3, "total_iters": 5},
    "PolynomialLR": {"total_iters": 5, "power": 1.0},
    "OneCycleLR": {
        "max_lr": _REQ,
        "total_steps": None,
        "epochs": None,
        "steps_per_epoch": None,
        "pct_start": 0.3,
        "anneal_strategy": "cos",
        "cycle_momentum": True,
        "base_momentum": 0.85,
        "max_momentum": 0.95,
        "div_factor": 25.0,
        "final_div_factor": 1e4,
        "three_phase": False,
    },
    "CyclicLR": {
        "base_lr": _REQ,
        "max_lr": _REQ,
        "step_size_up": 2000,
        "step_size_down": None,
        "mode": "triangular",
        "gamma": 1.0,
        "scale_fn": None,
        "scale_mode": "cycle",
        "cycle_momentum": True,
        "base_momentum": 0.8,
        "max_momentum": 0.9,
    },
}
_CHOICES = {
    "anneal_strategy": ("cos", "linear"),
    "mode": ("triangular", "triangular2", "exp_range"),
    "scale_mode": ("cycle", "iterations"),
}
_CONVERT = {
    "StepLR": _step,
    "MultiStepLR": _multistep,
    "ExponentialLR": _exponential,
    "CosineAnnealingLR": _cosine,
    "CosineAnnealingWarmRestarts": _restarts,
    "LinearLR": _linear,
    "ConstantLR": _constant,
    "PolynomialLR": _polynomial,
    "OneCycleLR": _onecycle,
    "CyclicLR": _cyclic,
}
_METRIC = ("ReduceLROnPlateau",)


def _has_class_path(v: Any) -> bool:
    return isinstance(v, Mapping) and "class_path" in v


def looks_like(data: Mapping[str, Any]) -> bool:
    return _has_class_path(data.get("lr_scheduler")) or _has_class_path(data.get("optimizer"))


class _Stand:
    """The settings a torch scheduler object would hold (the converters read attributes)."""

    def __init__(self, **attrs: Any) -> None:
        self.__dict__.update(attrs)


def _class(s: Section, what: str) -> tuple[str, Section]:
    path = s.value("class_path", valid="a class path such as torch.optim.lr_scheduler.StepLR")
    if not isinstance(path, str) or not path:
        raise s.fail("class_path", path, f"the class path of {what}")
    args = s.data.get("init_args") or {}
    return path.rsplit(".", 1)[-1], Section(f"{s.where}.init_args", args)


def read(data: Mapping[str, Any], steps_per_epoch: Any, **options: Any) -> ConfigSchedule:
    options_of("lightning", options, OPTIONS)
    top = Section(_WHERE, data)
    notes: list[str] = []
    if steps_per_epoch is not None:
        notes.append("LightningCLI steps the scheduler once per epoch: steps_per_epoch is not used")
    _, o = _class(top.section("optimizer"), "an optimizer")
    lr = float(o.number("lr", lo=0.0, lo_open=True))
    if "lr_scheduler" not in data or data["lr_scheduler"] is None:
        from ..schedules.decays import Constant

        return ConfigSchedule("lightning", Constant(lr), "epoch", notes=("no lr_scheduler: the lr is constant",))
    name, a = _class(top.section("lr_scheduler"), "a scheduler")
    if name in _METRIC:
        raise top.section("lr_scheduler").fail(
            "class_path", data["lr_scheduler"]["class_path"], "a fixed schedule", "ReduceLROnPlateau follows a metric"
        )
    if name not in SCHEDULERS:
        raise top.section("lr_scheduler").fail(
            "class_path", data["lr_scheduler"]["class_path"], f"one of torch's {', '.join(SCHEDULERS)}"
        )
    spec = SCHEDULERS[name]
    a = Section(a.where, a.data, label=name, known=tuple(spec) + _BASE)
    a.start("last_epoch")
    v: dict[str, Any] = {}
    for k, d in spec.items():
        if isinstance(d, bool):
            v[k] = a.flag(k, d)
        elif isinstance(d, str):
            v[k] = a.choice(k, d, _CHOICES[k])
        elif k == "scale_fn":
            if a.value(k, None) is not None:
                raise a.fail(k, a.value(k), "null", "a function of your own is code, not a setting lrkit reads")
        elif k == "milestones":
            v[k] = [a.check_whole(f"milestones[{i}]", m, lo=0) for i, m in enumerate(a.items(k))]
        elif k in (
            "step_size",
            "T_0",
            "T_mult",
            "total_steps",
            "epochs",
            "steps_per_epoch",
            "step_size_up",
            "step_size_down",
        ):
            given = a.value(k, MISSING if d is _REQ else d, "a whole number >= 1")
            v[k] = None if given is None else a.whole(k)
        elif k == "total_iters":
            v[k] = a.whole(k, d, lo=0)
        else:
            v[k] = a.number(k, MISSING if d is _REQ else d, lo=0.0)
    where = f"{a.where}: {name}"
    opt: Any = _Stand(param_groups=[{"lr": lr}])
    if name == "MultiStepLR":
        v["milestones"] = Counter(v["milestones"])
    if name == "OneCycleLR":
        T = v["total_steps"]
        if T is None:
            if v["epochs"] is None or v["steps_per_epoch"] is None:
                raise a.error("needs total_steps, or epochs and steps_per_epoch, as torch does")
            T = v["epochs"] * v["steps_per_epoch"]
        pct = v["pct_start"]
        if not 0 <= pct <= 1:
            raise a.fail("pct_start", pct, "in [0, 1]")
        initial = v["max_lr"] / v["div_factor"]
        opt.param_groups[0].update(max_lr=v["max_lr"], initial_lr=initial, min_lr=initial / v["final_div_factor"])
        ends = [float(pct * T) - 1, float(2 * pct * T) - 2, T - 1] if v["three_phase"] else [float(pct * T) - 1, T - 1]
        v.update(total_steps=T, _schedule_phases=[{"end_step": e} for e in ends])
        v["_anneal_func_type"] = v["anneal_strategy"]
    if name == "CyclicLR":  # torch sets each group's lr to base_lr, and cycles between it and max_lr
        up = float(v["step_size_up"])
        down = float(v["step_size_down"]) if v["step_size_down"] is not None else up
        v.update(total_size=up + down, step_ratio=up / (up + down), max_lrs=[v["max_lr"]], _scale_fn_custom=None)
        lr = v["base_lr"]
    s = _Stand(optimizer=opt, base_lrs=[lr], **v)
    with reading(where):
        sched = _CONVERT[name](s, 0, lr)
    total = None
    tr = data.get("trainer")
    if isinstance(tr, Mapping) and tr.get("max_epochs") not in (None, -1):
        total = float(Section(f"{_WHERE}.trainer", tr).whole("max_epochs"))
    return ConfigSchedule("lightning", sched, "epoch", total=total, notes=tuple(notes))
