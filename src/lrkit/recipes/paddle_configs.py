"""PaddleDetection and PaddleClas config files as recipes: the lr per iteration their
schedulers give, read from the YAML file a training run uses.

>>> s = ppdet_schedule({"LearningRate": {"base_lr": 0.01, "schedulers": [
...     {"name": "PiecewiseDecay", "gamma": 0.1, "milestones": [2], "use_warmup": False}]}}, step_per_epoch=10)
>>> float(s(19)), float(s(20))
(0.01, 0.001)

The conversions themselves are :func:`lrkit.convert.ppdet.from_ppdet` and
:func:`lrkit.convert.ppcls.from_ppcls`; this module reads the file (bounded, as lrkit's
own specs are; PaddleDetection's ``!Name`` tags read as data) and finds the section.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from .registry import Option, Recipe, declare

__all__ = ["read_config", "ppdet_schedule", "ppcls_schedule"]


def read_config(config: str | os.PathLike[str] | Mapping[str, Any], what: str = "config") -> Mapping[str, Any]:
    """The YAML mapping in the file ``config`` (or ``config`` itself, a mapping already read).

    ``ValueError`` names ``what`` and the path when the file cannot be read, is too large,
    is not YAML, or is not a mapping.
    """
    if isinstance(config, Mapping):
        return config
    from .._files import read_text
    from ..config import MAX_SPEC_BYTES
    from ..convert.ppdet import load_ppdet_yaml

    data = load_ppdet_yaml(read_text(config, what, MAX_SPEC_BYTES))
    if not isinstance(data, dict):
        raise ValueError(f"{what} {os.fspath(config)!r} is not a YAML mapping")
    return data


def _label(config: Any) -> str:
    return "config" if isinstance(config, Mapping) else f"config {os.fspath(config)!r}"


def ppdet_schedule(config: str | os.PathLike[str] | Mapping[str, Any], step_per_epoch: int) -> Any:
    """The lr per iteration of the PaddleDetection config ``config`` (a YAML file holding
    ``LearningRate``, or the mapping): :func:`lrkit.convert.ppdet.from_ppdet` of it.
    ``_BASE_`` files are not followed."""
    from ..convert.ppdet import from_ppdet

    data = read_config(config)
    if "LearningRate" not in data and "schedulers" not in data:
        raise ValueError(
            f"{_label(config)} has no LearningRate section (PaddleDetection's _BASE_ files are not "
            "followed: give the file that holds it, often configs/*/_base_/optimizer_*.yml)"
        )
    return from_ppdet(data, step_per_epoch)


def ppcls_schedule(
    config: str | os.PathLike[str] | Mapping[str, Any], step_each_epoch: int, epochs: int | None = None
) -> Any:
    """The lr per iteration of the PaddleClas config ``config`` (a YAML file holding
    ``Optimizer.lr``, or that ``lr`` section alone, or the mapping) over ``epochs``
    epochs (default: the config's ``Global.epochs``): :func:`lrkit.convert.ppcls.from_ppcls`."""
    from ..convert.ppcls import from_ppcls

    data = read_config(config)
    top = data.get("Global")
    if epochs is None:
        epochs = top.get("epochs") if isinstance(top, dict) else None
    if epochs is None:
        raise ValueError(f"{_label(config)} has no Global.epochs: give epochs")
    opt = data.get("Optimizer")
    lr = opt["lr"] if isinstance(opt, dict) and "lr" in opt else data
    return from_ppcls(lr, epochs, step_each_epoch)


def _config_epochs(config: Any, *keys: str) -> float | None:
    """The number of epochs a config trains for (``epoch`` for PaddleDetection, ``Global.epochs``
    for PaddleClas), or None where it says none (or cannot be read: the builder reports that)."""
    try:
        data: Any = read_config(config)
    except (ValueError, OSError):
        return None
    for key in keys:
        data = data.get(key) if isinstance(data, Mapping) else None
    ok = isinstance(data, (int, float)) and not isinstance(data, bool) and data > 0
    return float(data) if ok else None


def _run_steps(epochs: float | None, per_epoch: Any) -> float | None:
    return None if epochs is None or not isinstance(per_epoch, (int, float)) else epochs * float(per_epoch)


# -- the recipes, declared once (the command line, lrkit list and the README derive from them) --------------
declare(
    Recipe(
        "ppdet",
        "PaddleDetection LearningRate config (--config FILE --step-per-epoch N): the lr per iteration",
        params=(
            Option(
                "config",
                "any",
                doc="PaddleDetection YAML holding LearningRate (its base_lr and schedulers; "
                "_BASE_ files are not followed)",
                metavar="FILE",
                file=True,
            ),
            Option("step_per_epoch", "count", doc="iterations per epoch", metavar="N"),
        ),
        build=ppdet_schedule,
        original="PaddleDetection `LearningRate` config",
        does="the per-iteration Paddle scheduler it builds (warmup covering the decay's start, milestones in epochs, "
        "`gamma / 10**i`, `BurninWarmup`'s `(i/W)^4` over at most one epoch) — "
        "`lrkit.paddle.scheduler_from_ppdet(config, step_per_epoch)`",
        positions_per_epoch=lambda v: float(v.step_per_epoch),
        run_steps=lambda v: _run_steps(_config_epochs(v.config, "epoch"), v.step_per_epoch),
    )
)

declare(
    Recipe(
        "ppcls",
        "PaddleClas Optimizer.lr config (--config FILE --step-each-epoch N [--epochs E]): the lr per "
        "iteration (needs paddle)",
        params=(
            Option(
                "config",
                "any",
                doc="PaddleClas YAML holding Optimizer.lr (or the lr section)",
                metavar="FILE",
                file=True,
            ),
            Option("epochs", "count", None, "epochs (default: the config's Global.epochs)", optional=True, metavar="E"),
            Option("step_each_epoch", "count", doc="iterations per epoch", metavar="N"),
        ),
        build=ppcls_schedule,
        original="PaddleClas `Optimizer.lr` config",
        does="the per-iteration Paddle scheduler it builds (warmup covering the decay's start, milestones in epochs, "
        "the warmup capped at `epochs`) — `lrkit.paddle.scheduler_from_ppcls(lr_config, epochs, step_each_epoch)`",
        positions_per_epoch=lambda v: float(v.step_each_epoch),
        run_steps=lambda v: _run_steps(
            float(v.epochs) if v.epochs is not None else _config_epochs(v.config, "Global", "epochs"), v.step_each_epoch
        ),
    )
)
