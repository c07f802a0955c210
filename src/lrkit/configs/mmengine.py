"""OpenMMLab configs (mmengine 0.x: mmdet 3, mmseg 1, mmyolo, mmpretrain...): ``param_scheduler``
and the lr of ``optim_wrapper.optimizer`` (or ``optimizer``), dumped as JSON/YAML or the
``.py`` file itself (read without running it: :mod:`lrkit.configs.pyconfig`).

Each scheduler in ``param_scheduler`` (a dict or a list of them) is read as mmengine's
runner builds it: ``end`` defaults to ``train_cfg``'s ``max_epochs`` (an epoch-based one)
or ``max_iters`` (an iteration-based one; ``max_epochs * steps_per_epoch`` for an epoch
loop), ``convert_to_iter_based=True`` multiplies ``begin``, ``end`` and the lengths
(``T_max``, ``step_size``, ``milestones``, ``periods``) by the epoch length and steps it per
iteration, and the list is stepped as ``ParamSchedulerHook`` steps it, converted as
:mod:`lrkit.convert.mmengine` converts mmengine's objects (which says what each does).

Read: ``LinearLR``, ``ConstantLR``, ``StepLR``, ``MultiStepLR``, ``ExponentialLR``,
``PolyLR``, ``CosineAnnealingLR``, ``CosineRestartLR``; momentum schedulers are left out
(a note says so). With ``steps_per_epoch`` (the iterations per epoch, ``len(train_dataloader)``)
the position is the iteration; without it the step of the one kind the list holds.
``auto_scale_lr`` with ``enable=True`` scales the lr by ``world_size *
train_dataloader.batch_size / base_batch_size`` (``world_size=`` needed). ``_base_``
files are not followed: give the file that holds ``param_scheduler``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

from ..convert._fields import Section, reading, show
from ..convert.mmengine import builder
from ._common import ConfigSchedule, options_of, spe_of

__all__ = ["read", "looks_like", "OPTIONS", "TYPES"]

OPTIONS = ("lr", "world_size")
_WHERE = "mmengine config"
_INF = 1_000_000_000  # mmengine's INF

_COMMON = ("type", "begin", "end", "by_epoch", "last_step", "verbose", "convert_to_iter_based")
#: the type -> (the converter's family, its own fields)
TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "LinearLR": ("Linear", ("start_factor", "end_factor")),
    "ConstantLR": ("Constant", ("factor",)),
    "StepLR": ("Step", ("step_size", "gamma")),
    "MultiStepLR": ("MultiStep", ("milestones", "gamma")),
    "ExponentialLR": ("Exponential", ("gamma",)),
    "PolyLR": ("Poly", ("eta_min", "power")),
    "CosineAnnealingLR": ("CosineAnnealing", ("T_max", "eta_min", "eta_min_ratio")),
    "CosineRestartLR": ("CosineRestart", ("periods", "restart_weights", "eta_min", "eta_min_ratio")),
}

_REFUSED = {
    "ReduceOnPlateauLR": "it follows a metric, so its lr is not a function of the step",
    "OneCycleLR": "lrkit reads mmengine's OneCycleLR from the object (lrkit.torch.from_torch), not from a config",
}


def looks_like(data: Mapping[str, Any]) -> bool:
    return "param_scheduler" in data


class _Optimizer:
    def __init__(self, lr: float) -> None:
        self.param_groups = [{"lr": lr, "initial_lr": lr}]


def _type_name(item: Section) -> str:
    kind = item.value("type", valid="a scheduler's type")
    if not isinstance(kind, str):
        raise item.fail("type", kind, "a scheduler's type name")
    return kind.rsplit(".", 1)[-1]


def _lr(data: Mapping[str, Any], opts: dict[str, Any], notes: list[str]) -> float:
    if opts.get("lr") is not None:
        return Section("from_config", {}).check_number("lr", opts["lr"], lo=0.0, lo_open=True)
    if "optim_wrapper" in data:
        w = Section(_WHERE, data).section("optim_wrapper")
        if "paramwise_cfg" in w.data:
            notes.append("optim_wrapper.paramwise_cfg may give some groups their own lr_mult: the lr read is the base")
        o = w.section("optimizer")
    elif "optimizer" in data:
        o = Section(_WHERE, data).section("optimizer")
    else:
        raise ValueError(
            f"{_WHERE}: has no optim_wrapper.optimizer.lr (nor optimizer.lr): give lr= (often in the "
            "_base_ schedule file, which lrkit does not follow)"
        )
    return float(o.number("lr", lo=0.0, lo_open=True))


def _scale(data: Mapping[str, Any], lr: float, opts: dict[str, Any], notes: list[str]) -> float:
    a = data.get("auto_scale_lr")
    if not isinstance(a, Mapping) or not a.get("enable", False):
        return lr
    s = Section(f"{_WHERE}.auto_scale_lr", a)
    base = s.number("base_batch_size", lo=0.0, lo_open=True)
    dl = Section(_WHERE, data).section("train_dataloader")
    batch = dl.whole("batch_size")
    ws = opts.get("world_size")
    if ws is None:
        raise ValueError(
            f"{_WHERE}: auto_scale_lr is enabled: the runner scales the lr by world_size x batch_size / "
            f"base_batch_size; give world_size= (the processes)"
        )
    ws = Section("from_config", {}).check_whole("world_size", ws)
    notes.append(f"auto_scale_lr: lr x {ws} x {batch} / {base!r}")
    return lr * ws * batch / base


def _loop(data: Mapping[str, Any], spe: int | None) -> tuple[float | None, float | None]:
    """``(max_epochs, max_iters)`` of ``train_cfg`` (``None`` when it does not say)."""
    tc = data.get("train_cfg")
    if tc is None:
        return None, None
    t = Section(f"{_WHERE}.train_cfg", tc)
    kind = t.value("type", None)
    by_epoch = t.value("by_epoch", None)
    epoch_loop = kind == "EpochBasedTrainLoop" or (kind is None and (by_epoch is True or "max_epochs" in t.data))
    if epoch_loop:
        E = t.whole("max_epochs")
        return float(E), None if spe is None else float(E * spe)
    if kind == "IterBasedTrainLoop" or (kind is None and "max_iters" in t.data):
        return 1.0, float(t.whole("max_iters"))  # mmengine's iteration loop counts one epoch
    return None, None


def _stand_in(fam: str, opt: _Optimizer, lr: float, **attrs: Any) -> Any:
    """An object with the settings mmengine's scheduler would hold (the converter reads
    them and its class's name)."""
    obj: Any = type(f"{fam}ParamScheduler", (), {"__module__": "lrkit.configs.mmengine"})()
    obj.optimizer, obj.param_name, obj.base_values = opt, "lr", [lr]
    for k, v in attrs.items():
        setattr(obj, k, v)
    return obj


def read(data: Mapping[str, Any], steps_per_epoch: Any, **options: Any) -> ConfigSchedule:
    opts = options_of("mmengine", options, OPTIONS)
    L = spe_of("mmengine", steps_per_epoch)
    notes: list[str] = []
    top = Section(_WHERE, data)
    raw = top.value("param_scheduler")
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    lr = _scale(data, _lr(data, opts, notes), opts, notes)
    max_epochs, max_iters = _loop(data, L)
    if max_epochs is None:
        notes.append("no train_cfg: a scheduler without end runs for ever (mmengine's end=1e9)")
    opt = _Optimizer(lr)
    built = []
    for i, item in enumerate(items):
        where = f"{_WHERE}.param_scheduler[{i}]" if isinstance(raw, (list, tuple)) else f"{_WHERE}.param_scheduler"
        s = Section(where, item)
        kind = _type_name(s)
        if kind not in TYPES:
            if kind in _REFUSED:
                raise s.fail("type", s.value("type"), f"one of {', '.join(TYPES)}", _REFUSED[kind])
            if "Momentum" in kind:
                notes.append(f"{kind} drives the momentum: left out")
                continue
            import difflib

            close = difflib.get_close_matches(kind, TYPES, n=1, cutoff=0.5)
            raise s.fail(
                "type",
                s.value("type"),
                f"one of {', '.join(TYPES)} (mmengine's lr schedulers lrkit reads)",
                f"did you mean {close[0]!r}?" if close else "",
            )
        fam, fields = TYPES[kind]
        s = Section(where, item, label=kind, known=_COMMON + fields)
        built.append(_one(s, fam, opt, lr, L, max_epochs, max_iters))
    if not built:
        raise top.error("param_scheduler holds no lr scheduler")
    kinds = {b.by_epoch for b in built}
    if L is None and len(kinds) == 2:
        raise ValueError(
            f"{_WHERE}: param_scheduler mixes epoch-based and iteration-based schedulers: give "
            "steps_per_epoch= (iterations per epoch, len(train_dataloader))"
        )
    with reading(f"{_WHERE}: param_scheduler"):
        _, build = builder(built, None if L is None else float(L))
        sched = build(0)
    unit = "iteration" if (L is not None or kinds == {False}) else "epoch"
    if unit == "iteration":
        total = max_iters
    else:
        total = max_epochs
    return ConfigSchedule(
        "mmengine",
        sched,
        unit,
        steps_per_epoch=None if L is None else float(L),
        total=total,
        notes=tuple(notes),
    )


def _one(
    s: Section, fam: str, opt: _Optimizer, lr: float, L: int | None, max_epochs: float | None, max_iters: float | None
) -> Any:
    s.start("last_step")
    by_epoch = s.flag("by_epoch", True)
    to_iter = s.flag("convert_to_iter_based", False)
    if to_iter and not by_epoch:
        raise s.fail("convert_to_iter_based", True, "false for an iteration-based scheduler (by_epoch=False)")
    begin = s.whole("begin", 0, lo=0)
    if "end" in s.data:
        end: float = s.whole("end", lo=1, hi=_INF)
    else:
        default = max_epochs if by_epoch else max_iters
        if default is None and max_epochs is not None and not by_epoch:
            raise s.need("end", "the loop's max_iters is max_epochs x steps_per_epoch: give steps_per_epoch=")
        end = _INF if default is None else default
    attrs: dict[str, Any] = {}
    if fam == "Linear":
        attrs = dict(
            start_factor=s.number("start_factor", 1.0 / 3, lo=0.0), end_factor=s.number("end_factor", 1.0, lo=0.0)
        )
        if not (0 < attrs["start_factor"] <= 1 and 0 <= attrs["end_factor"] <= 1):
            raise s.error("start_factor must be in (0, 1] and end_factor in [0, 1], as mmengine checks")
    elif fam == "Constant":
        attrs = dict(factor=s.number("factor", 1.0 / 3, lo=0.0, hi=1.0))
    elif fam == "Step":
        attrs = dict(step_size=s.whole("step_size"), gamma=s.number("gamma", 0.1, lo=0.0))
    elif fam == "MultiStep":
        attrs = dict(milestones=s.numbers("milestones", lo=0), gamma=s.number("gamma", 0.1, lo=0.0))
        for j, m in enumerate(attrs["milestones"]):
            s.check_whole(f"milestones[{j}]", m, lo=0)
    elif fam == "Exponential":
        attrs = dict(gamma=s.number("gamma", lo=0.0))
    elif fam == "Poly":
        attrs = dict(eta_min=s.number("eta_min", 0.0, lo=0.0), power=s.number("power", 1.0, lo=0.0))
    else:  # CosineAnnealing, CosineRestart
        eta = s.number("eta_min", None, lo=0.0, optional=True)
        ratio = s.number("eta_min_ratio", None, lo=0.0, optional=True)
        if eta is not None and ratio is not None:
            raise s.error("gives both eta_min and eta_min_ratio; mmengine takes one")
        if eta is None and ratio is None:
            eta = 0.0
        attrs = dict(eta_min=eta, eta_min_ratio=ratio)
        if fam == "CosineAnnealing":
            attrs["T_max"] = s.number("T_max", None, lo=0.0, lo_open=True, optional=True)
        else:
            periods = s.numbers("periods", min_items=1)
            for j, p in enumerate(periods):
                s.check_whole(f"periods[{j}]", p)
            weights = s.numbers("restart_weights", [1], lo=0.0)
            if len(weights) != len(periods):
                raise s.error("periods and restart_weights must have the same length, as mmengine checks")
            attrs.update(periods=periods, restart_weights=weights)
    if to_iter:
        if L is None:
            raise s.need("steps_per_epoch", "convert_to_iter_based=True steps it per iteration: give steps_per_epoch=")
        begin = int(begin * L)
        if end != _INF:
            end = int(end * L)
        if fam == "Step":
            attrs["step_size"] *= L
        elif fam == "MultiStep":
            attrs["milestones"] = [m * L for m in attrs["milestones"]]
        elif fam == "CosineAnnealing" and attrs["T_max"] is not None:
            attrs["T_max"] *= L
        elif fam == "CosineRestart":
            attrs["periods"] = [p * L for p in attrs["periods"]]
        by_epoch = False
    if not end > begin:
        raise s.error(f"end ({show(end)}) must be larger than begin ({begin}), as mmengine checks")
    if fam == "CosineAnnealing" and attrs["T_max"] is None:
        attrs["T_max"] = end - begin
    if fam == "MultiStep":
        attrs["milestones"] = Counter(attrs["milestones"])
    if fam == "CosineRestart" and math.fsum(attrs["periods"]) > 1e12:
        raise s.error("periods add up past lrkit's limit")
    return _stand_in(fam, opt, lr, begin=begin, end=end, by_epoch=by_epoch, **attrs)
