"""timm's ``args.yaml`` (written by its ``train.py``): the scheduler ``create_scheduler_v2``
builds from it, converted as :mod:`lrkit.convert.timm` converts timm's own scheduler.

Read as timm's ``scheduler_kwargs`` reads them (its defaults where a key is missing):
``sched`` (``cosine``, ``tanh``, ``step``, ``multistep``, ``poly``, ``wsd``, ``rsqrt``,
``constant``), ``epochs``, ``decay_epochs``, ``decay_milestones``, ``decay_rate`` (the power
for ``poly``), ``warmup_epochs``, ``warmup_lr``, ``warmup_prefix``, ``min_lr``,
``cooldown_epochs`` (adds epochs at ``min_lr`` to the run), ``lr_cycle_mul``,
``lr_cycle_decay``, ``lr_cycle_limit``, ``lr_k_decay``, ``lr_decay_fn``,
``lr_stable_timescale``, ``sched_on_updates``; the lr is ``lr``, or when it is empty
``lr_base`` scaled by the global batch ``batch_size * world_size * grad_accum_steps`` over
``lr_base_size`` (``lr_base_scale``: ``linear``, ``sqrt``; empty: ``sqrt`` for Ada*/LAMB
optimizers), as ``train.py`` does (``world_size=`` gives the processes; 1 when not given,
as a note says).

The position is timm's ``t``: the epoch (``step(epoch)``), or with ``sched_on_updates`` the
optimizer update (``step_update``), ``steps_per_epoch`` then being the batches per epoch,
of which ``ceil(batches / grad_accum_steps)`` are updates. Noise (``lr_noise``) and the
``plateau`` schedule are refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..convert._fields import Section, reading
from ..convert.timm import convert
from ._common import ConfigSchedule, options_of, spe_of

__all__ = ["read", "looks_like", "OPTIONS", "SCHEDS"]

OPTIONS = ("world_size",)
SCHEDS = ("cosine", "tanh", "step", "multistep", "poly", "wsd", "rsqrt", "constant", "none")
_WHERE = "timm args.yaml"


def looks_like(data: Mapping[str, Any]) -> bool:
    return "sched" in data and ("lr" in data or "lr_base" in data)


class _Group(dict):
    pass


class _Optimizer:
    def __init__(self, lr: float) -> None:
        self.param_groups = [_Group(lr=lr)]


def _stand_in(name: str, lr: float, **attrs: Any) -> Any:
    """An object with the settings timm's ``name`` scheduler would hold (the converter reads
    its attributes and its class's name, nothing else)."""
    cls = type(name, (), {"__module__": "timm.scheduler.config"})
    obj: Any = cls()
    obj.optimizer = _Optimizer(lr)
    obj.base_values = [lr]
    obj.noise_range_t = None
    obj.param_group_field = "lr"
    for k, v in attrs.items():
        setattr(obj, k, v)
    W = attrs.get("warmup_t", 0)
    obj.warmup_steps = [(lr - attrs.get("warmup_lr_init", 0.0)) / W] if W else [1]
    return obj


def _lr(c: Section, opts: dict[str, Any], notes: list[str]) -> float:
    lr = c.value("lr", None)
    if lr:  # train.py: `if not args.lr:` computes it
        return float(c.number("lr", lo=0.0, lo_open=True))
    base = c.number("lr_base", 0.1, lo=0.0, lo_open=True)
    size = c.number("lr_base_size", 256, lo=0.0, lo_open=True)
    batch = c.whole("batch_size", 128)
    accum = c.whole("grad_accum_steps", 1)
    ws = opts.get("world_size")
    if ws is None:
        ws = 1
        notes.append("lr from lr_base: world_size=1 assumed (give world_size= for a run on several processes)")
    ws = Section("from_config", {}).check_whole("world_size", ws)
    scale = c.value("lr_base_scale", "")
    if not scale:
        opt = c.value("opt", "sgd")
        if not isinstance(opt, str):
            raise c.fail("opt", opt, "an optimizer's name")
        scale = "sqrt" if any(o in opt.lower() for o in ("ada", "lamb")) else "linear"
    elif scale not in ("linear", "sqrt"):
        raise c.fail("lr_base_scale", scale, "'linear', 'sqrt' or empty")
    ratio = batch * ws * accum / size
    if scale == "sqrt":
        ratio = ratio**0.5
    return float(c.bounded("lr = lr_base x batch ratio", base * ratio, 1e300))


def read(data: Mapping[str, Any], steps_per_epoch: Any, **options: Any) -> ConfigSchedule:
    opts = options_of("timm", options, OPTIONS)
    c = Section(_WHERE, data)
    notes: list[str] = []
    sched = c.value("sched", "cosine")
    if sched == "plateau":
        raise c.fail("sched", sched, f"one of {', '.join(SCHEDS)}", "plateau follows a metric, not a closed form")
    sched = c.choice("sched", "cosine", SCHEDS)
    if c.value("lr_noise", None) is not None:
        raise c.fail("lr_noise", c.value("lr_noise"), "null", "noise makes the lr random, not a closed form")
    on_updates = c.flag("sched_on_updates", False)
    accum = c.whole("grad_accum_steps", 1)
    batches = spe_of("timm", steps_per_epoch, "the batches per epoch, len(loader)" if on_updates else "")
    U = 1 if not on_updates else (batches + accum - 1) // accum  # type: ignore[operator]
    lr = _lr(c, opts, notes)
    if c.value("layer_decay", None):
        notes.append("layer_decay scales each layer's group (lr_scale): the lr read is before that scale")

    num_epochs = c.number("epochs", 100, lo=0.0, lo_open=True)
    warmup_epochs = c.number("warmup_epochs", 5, lo=0.0)
    cooldown = c.number("cooldown_epochs", 0, lo=0.0)
    decay_epochs = c.number("decay_epochs", 30, lo=0.0, optional=True)
    milestones = c.numbers("decay_milestones", [30, 60])
    decay_rate = c.number("decay_rate", 0.1, lo=0.0)
    min_lr = c.number("min_lr", 0.0, lo=0.0)
    warmup_lr = c.number("warmup_lr", 1e-5, lo=0.0)
    prefix = c.flag("warmup_prefix", False)
    cycle = dict(
        cycle_mul=c.number("lr_cycle_mul", 1.0, lo=0.0, lo_open=True),
        cycle_decay=c.number("lr_cycle_decay", 0.1, lo=0.0),
        cycle_limit=c.whole("lr_cycle_limit", 1, lo=0),
    )
    k_decay = c.number("lr_k_decay", 1.0, lo=0.0, lo_open=True)
    decay_fn = c.value("lr_decay_fn", None)
    timescale = c.number("lr_stable_timescale", None, lo=0.0, lo_open=True, optional=True)
    if decay_epochs is None:
        decay_epochs = 0.2 if sched in ("wsd", "rsqrt") else 90

    # create_scheduler_v2's arithmetic: everything in updates when stepping on updates
    t_initial, warmup_t, decay_t, cooldown_t = num_epochs * U, warmup_epochs * U, decay_epochs * U, cooldown * U
    milestones = [m * U for m in milestones]
    if timescale is not None:
        timescale = timescale * U
    c.bounded("epochs (in positions)", t_initial)
    warm = dict(warmup_lr_init=warmup_lr, warmup_t=warmup_t, warmup_prefix=prefix)
    where = f"{_WHERE}: sched {sched!r}"
    length: float | None = None
    if sched == "none":
        raise c.fail("sched", sched, f"one of {', '.join(SCHEDS[:-1])}", "'none' leaves the optimizer's lr as it is")
    if sched == "cosine":
        obj = _stand_in("CosineLRScheduler", lr, t_initial=t_initial, lr_min=min_lr, k_decay=k_decay, **cycle, **warm)
        length = _cycle_length(t_initial, cycle["cycle_mul"], cycle["cycle_limit"], warmup_t if prefix else 0)
    elif sched == "tanh":
        obj = _stand_in(
            "TanhLRScheduler",
            lr,
            t_initial=t_initial,
            lr_min=min_lr,
            lb=-7.0,
            ub=3.0,
            **cycle,
            **dict(warm, warmup_t=0),
        )
        length = _cycle_length(t_initial, cycle["cycle_mul"], cycle["cycle_limit"], warmup_t if prefix else 0)
        if warmup_t:  # timm's tanh warmup aims at its own value at warmup_t when the warmup is not a prefix
            with reading(where):
                aim = lr if prefix else float(convert(obj, 0)(float(warmup_t)))
            for k, v in warm.items():
                setattr(obj, k, v)
            obj.warmup_steps = [(aim - warmup_lr) / warmup_t]
    elif sched == "poly":
        obj = _stand_in(
            "PolyLRScheduler",
            lr,
            t_initial=t_initial,
            power=decay_rate,
            lr_min=min_lr,
            k_decay=k_decay,
            **cycle,
            **warm,
        )
        length = _cycle_length(t_initial, cycle["cycle_mul"], cycle["cycle_limit"], warmup_t if prefix else 0)
    elif sched in ("step", "constant"):
        dt, rate = (decay_t, decay_rate) if sched == "step" else (1, 1.0)
        if not dt > 0:
            raise c.fail("decay_epochs", decay_epochs, "> 0 (a finite number)")
        obj = _stand_in("StepLRScheduler", lr, decay_t=dt, decay_rate=rate, **warm)
    elif sched == "multistep":
        obj = _stand_in("MultiStepLRScheduler", lr, decay_t=milestones, decay_rate=decay_rate, **warm)
    else:  # wsd, rsqrt: the warmup is always a prefix
        t_sched = t_initial if prefix else t_initial - warmup_t
        if 0 < decay_epochs < 1:
            decay_t = decay_epochs * t_sched
        decay_t = int(round(decay_t))
        if not 0 < decay_t <= t_sched:
            raise ValueError(
                f"{where}: needs 0 < decay_epochs <= epochs{'' if prefix else ' - warmup_epochs'}, got decay "
                f"{decay_t} and a stable + decay length of {t_sched}"
            )
        stable = "rsqrt" if sched == "rsqrt" else "constant"
        fn = decay_fn or ("linear" if sched == "rsqrt" else "1-sqrt")
        if fn not in ("linear", "cosine", "1-sqrt", "power", "exp"):
            raise c.fail("lr_decay_fn", decay_fn, "one of 'linear', 'cosine', '1-sqrt', 'power', 'exp' or null")
        if stable != "constant":
            if timescale is None:
                timescale = warmup_t
            if not timescale > 0:
                raise c.fail(
                    "lr_stable_timescale",
                    timescale,
                    "> 0",
                    "rsqrt needs a timescale; it defaults to warmup_epochs, which is 0 here",
                )
        obj = _stand_in(
            "WSDLRScheduler",
            lr,
            t_initial=t_sched,
            decay_t=decay_t,
            lr_min=min_lr,
            stable_fn=stable,
            stable_timescale=timescale,
            stable_power=0.5,
            decay_fn=fn,
            decay_power=0.5,
            decay_ratio=0.1,
            **dict(warm, warmup_prefix=True),
        )
    with reading(where):
        s = convert(obj, 0)
    if length is not None:
        total = length + cooldown_t
        if on_updates:
            total = (total // U) * U  # timm counts the run in whole epochs
    else:
        total = t_initial + (warmup_t if prefix else 0)
    unit = "step" if on_updates else "epoch"
    spe = float(U) if on_updates else None
    return ConfigSchedule("timm", s, unit, steps_per_epoch=spe, total=float(total), notes=tuple(notes))


def _cycle_length(t: float, mul: float, limit: int, warm: float) -> float:
    """timm's ``get_cycle_length()``: the cycles' length (with a prefixed warmup)."""
    cycles = max(1, limit)
    n = t * cycles if mul == 1.0 else math.floor(-t * (mul**cycles - 1) / (1 - mul))
    return n + warm
