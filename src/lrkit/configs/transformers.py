"""transformers' ``TrainingArguments`` as saved (``training_args.json``-style JSON or YAML):
the lr per optimizer update the ``Trainer`` gives.

Read: ``learning_rate``, ``lr_scheduler_type``, ``lr_scheduler_kwargs``, ``warmup_steps``
(a count, or a fraction of the run below 1), ``warmup_ratio`` (transformers 4), ``max_steps``,
``num_train_epochs``, ``gradient_accumulation_steps``. With ``B = steps_per_epoch`` (the
batches per epoch, ``len(train_dataloader)``) and ``a`` the accumulation, the Trainer's
arithmetic (transformers 5):

* updates per epoch ``U = max(B // a + (B % a > 0), 1)`` (older transformers 4 releases
  counted ``B // a``: ``rounding="down"``; a note says when it matters);
* the run ``N = max_steps`` when it is > 0, else ``ceil(num_train_epochs * U)``;
* the warmup ``W = int(warmup_steps)`` when ``warmup_steps >= 1``, else
  ``ceil(N * warmup_steps)`` (``ceil(N * warmup_ratio)`` when only ``warmup_ratio`` is given);

then ``get_scheduler(lr_scheduler_type, num_warmup_steps=W, num_training_steps=N,
scheduler_specific_kwargs=lr_scheduler_kwargs)`` with the defaults of each schedule
function, converted as :mod:`lrkit.convert.transformers` converts it. The position is the
optimizer update (the scheduler's step). Without ``steps_per_epoch`` only a run given by
``max_steps`` is read.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

from ..convert._fields import Section, reading, show
from ..convert.transformers import convert
from ._common import ConfigSchedule, options_of, spe_of

__all__ = ["read", "looks_like", "OPTIONS", "TYPES"]

OPTIONS = ("rounding",)
_WHERE = "transformers TrainingArguments"

#: lr_scheduler_type -> (transformers' factor function, its keyword defaults)
TYPES: dict[str, tuple[str, dict[str, Any]]] = {
    "linear": ("_get_linear_schedule_with_warmup_lr_lambda", {}),
    "cosine": ("_get_cosine_schedule_with_warmup_lr_lambda", {"num_cycles": 0.5}),
    "cosine_with_restarts": ("_get_cosine_with_hard_restarts_schedule_with_warmup_lr_lambda", {"num_cycles": 1}),
    "polynomial": ("_get_polynomial_decay_schedule_with_warmup_lr_lambda", {"lr_end": 1e-7, "power": 1.0}),
    "constant": ("_get_constant_lambda", {}),
    "constant_with_warmup": ("_get_constant_schedule_with_warmup_lr_lambda", {}),
    "inverse_sqrt": ("_get_inverse_sqrt_schedule_lr_lambda", {"timescale": None}),
    "cosine_with_min_lr": (
        "_get_cosine_schedule_with_warmup_lr_lambda",
        {"num_cycles": 0.5, "min_lr": None, "min_lr_rate": None},
    ),
    "cosine_warmup_with_min_lr": (
        "_get_cosine_with_min_lr_schedule_with_warmup_lr_rate_lambda",
        {"num_cycles": 0.5, "min_lr": None, "min_lr_rate": None, "warmup_lr_rate": None},
    ),
    "warmup_stable_decay": (
        "_get_wsd_scheduler_lambda",
        {
            "num_decay_steps": None,
            "num_stable_steps": None,
            "warmup_type": "linear",
            "decay_type": "cosine",
            "min_lr_ratio": 0.0,
            "num_cycles": 0.5,
        },
    ),
}
_METRIC = ("reduce_lr_on_plateau", "greedy")


def looks_like(data: Mapping[str, Any]) -> bool:
    return "learning_rate" in data and "lr_scheduler_type" in data


def _factor_function(name: str) -> Any:
    """A stand-in for transformers' factor function ``name``: the converter reads its name
    and the partial's keywords, never calls it."""

    def fn(step: int) -> float:  # pragma: no cover - never called
        raise NotImplementedError

    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = "transformers.optimization"
    return fn


def run_steps(
    c: Section, steps_per_epoch: int | None, rounding: str | None = None
) -> tuple[int, int | None, list[str]]:
    """The Trainer's ``(max_steps, updates per epoch, notes)`` for these arguments; ``rounding``:
    how a last partial accumulation counts (``"up"``: a step, as transformers 5 does; ``"down"``:
    none, as older transformers 4 releases did)."""
    max_steps = c.whole("max_steps", -1, lo=-1)
    if max_steps == 0:
        raise c.fail("max_steps", 0, "-1 (the run is num_train_epochs) or a whole number >= 1")
    accum = c.whole("gradient_accumulation_steps", 1)
    notes: list[str] = []
    if steps_per_epoch is None:
        if max_steps > 0:
            return max_steps, None, notes
        raise ValueError(
            f"{_WHERE}: the run is num_train_epochs={show(c.value('num_train_epochs', 3.0))} epochs: give "
            "steps_per_epoch= (the batches per epoch, len(train_dataloader)), or set max_steps"
        )
    partial = steps_per_epoch % accum > 0
    if rounding is None:
        rounding = "up"
        if partial:
            notes.append(
                f"{steps_per_epoch} batches per epoch in steps of {accum}: the last partial step counts, as "
                "transformers 5 counts it (older transformers 4 releases do not: give rounding='down')"
            )
    elif rounding not in ("up", "down"):
        raise ValueError(f"from_config: rounding must be 'up' or 'down', got {show(rounding)}")
    U = max(steps_per_epoch // accum + int(partial and rounding == "up"), 1)
    if max_steps > 0:
        return max_steps, U, notes
    epochs = c.number("num_train_epochs", 3.0, lo=0.0, lo_open=True)
    N = math.ceil(c.bounded(f"num_train_epochs x updates per epoch = {epochs!r} x {U}", epochs * U))
    return N, U, notes


def read(data: Mapping[str, Any], steps_per_epoch: Any, **options: Any) -> ConfigSchedule:
    opts = options_of("transformers", options, OPTIONS)
    B = spe_of("transformers", steps_per_epoch)
    c = Section(_WHERE, data)
    kind = c.value("lr_scheduler_type", "linear")
    if isinstance(kind, str) and kind in _METRIC:
        raise c.fail(
            "lr_scheduler_type",
            kind,
            f"one of {', '.join(TYPES)}",
            "it follows the training metrics, so its lr is not a function of the step",
        )
    kind = c.choice("lr_scheduler_type", "linear", TYPES)
    lr = c.number("learning_rate", 5e-5, lo=0.0, lo_open=True)
    N, U, notes = run_steps(c, B, opts.get("rounding"))
    W = _warmup(c, N)
    fname, defaults = TYPES[kind]
    kw = _kwargs(c, kind, defaults)
    keys: dict[str, Any] = {}
    if kind != "constant":
        keys["num_warmup_steps"] = W
    if kind not in ("constant", "constant_with_warmup", "inverse_sqrt", "warmup_stable_decay"):
        keys["num_training_steps"] = N
    where = f"{_WHERE}: lr_scheduler_type {kind!r}"
    if kind == "polynomial":
        if not lr > kw["lr_end"]:
            raise ValueError(f"{where}: lr_end ({kw['lr_end']!r}) must be smaller than learning_rate ({lr!r})")
        kw["lr_init"] = lr
    elif kind == "inverse_sqrt":
        if kw["timescale"] is None:
            kw["timescale"] = W or 10_000
    elif kind in ("cosine_with_min_lr", "cosine_warmup_with_min_lr"):
        m, rate = kw.pop("min_lr"), kw["min_lr_rate"]
        if m is not None and rate is not None:
            raise ValueError(f"{where}: lr_scheduler_kwargs has both min_lr and min_lr_rate; give one")
        if m is not None:
            kw["min_lr_rate"] = m / lr
        elif rate is None:
            raise ValueError(f"{where}: lr_scheduler_kwargs needs min_lr or min_lr_rate")
    elif kind == "warmup_stable_decay":
        if kw["num_decay_steps"] is None:
            raise ValueError(f"{where}: lr_scheduler_kwargs needs num_decay_steps")
        if kw["num_stable_steps"] is None:
            kw["num_stable_steps"] = N - W - kw["num_decay_steps"]
        for shape in ("warmup_type", "decay_type"):
            if kw[shape] not in ("linear", "cosine", "1-sqrt"):
                raise ValueError(
                    f"{where}: lr_scheduler_kwargs {shape} must be 'linear', 'cosine' or '1-sqrt', got {show(kw[shape])}"
                )
    fn = functools.partial(_factor_function(fname), **keys, **kw)
    with reading(where):
        s = convert(fn, float(lr))
    return ConfigSchedule(
        "transformers", s, "step", steps_per_epoch=None if U is None else float(U), total=float(N), notes=tuple(notes)
    )


def _warmup(c: Section, N: int) -> int:
    """The Trainer's warmup steps (``TrainingArguments.get_warmup_steps``)."""
    ws = c.number("warmup_steps", 0, lo=0.0)
    if ws >= 1:
        return int(ws)
    if ws > 0:
        return math.ceil(N * ws)
    ratio = c.number("warmup_ratio", None, lo=0.0, hi=1.0, optional=True)
    return math.ceil(N * ratio) if ratio else 0


def _kwargs(c: Section, kind: str, defaults: dict[str, Any]) -> dict[str, Any]:
    """``lr_scheduler_kwargs`` checked against the schedule function's keywords (a JSON
    string, as the command line gives it, is read too)."""
    raw = c.value("lr_scheduler_kwargs", None)
    if raw is None or raw == "":
        raw = {}
    if isinstance(raw, str):
        import json

        try:
            raw = json.loads(raw)
        except ValueError:
            raise c.fail("lr_scheduler_kwargs", raw, "a mapping (or its JSON text)") from None
    k = Section(f"{_WHERE}.lr_scheduler_kwargs", raw, label=kind, known=tuple(defaults))
    out = dict(defaults)
    for key in raw:
        d = defaults[key]
        if isinstance(d, str):
            out[key] = k.value(key)
        elif key in ("num_decay_steps", "num_stable_steps"):
            out[key] = k.whole(key, lo=0)
        elif key in ("timescale",):
            out[key] = k.number(key, lo=0.0, lo_open=True, optional=True)
        else:
            out[key] = k.number(key, lo=0.0, optional=d is None)
    return out
