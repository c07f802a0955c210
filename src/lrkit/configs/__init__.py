"""The lr a trainer gives, read from the training config a user has -- without the trainer.

:func:`from_config` reads a file (or a mapping already read) and returns a
:class:`ConfigSchedule`: the lr as an lrkit schedule (or one per param group where they
differ), what a position counts, and the format it recognised::

    from lrkit.configs import from_config
    got = from_config("runs/detect/train/args.yaml", steps_per_epoch=625)
    got.format, got.unit        # ('ultralytics', 'iteration')
    got.lr[2](0)                # the biases' lr at the first iteration

=================  ===================================================  ===================
format             what is read                                         a position is
=================  ===================================================  ===================
``ultralytics``    ``args.yaml`` (lr0, lrf, cos_lr, warmup_*, momentum)  an iteration
``transformers``   ``TrainingArguments`` (training_args.json / YAML)     an optimizer update
``timm``           ``args.yaml`` of timm's train.py (sched, lr, ...)     an epoch, or an
                                                                        update (sched_on_updates)
``mmengine``       ``param_scheduler`` + ``optim_wrapper`` (JSON/YAML,   an iteration (an
                   or the ``.py`` config, read without running it)      epoch without
                                                                        steps_per_epoch)
``lightning``      LightningCLI ``config.yaml`` (optimizer, lr_scheduler)  an epoch
``deepspeed``      DeepSpeed JSON (scheduler, optimizer.params.lr)       an optimizer step
``ppdet``          PaddleDetection YAML (LearningRate)                   an iteration
``ppcls``          PaddleClas YAML (Optimizer.lr, Global.epochs)         an iteration (epoch
                                                                        with by_epoch)
=================  ===================================================  ===================

Nothing of the trainers is imported: each reader reads the fields and builds what the
trainer would, with the converters of :mod:`lrkit.convert`. A field that is wrong or that
lrkit cannot read is a ``ValueError`` naming it and what is valid.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

from ..convert._fields import show
from ._common import ConfigSchedule

__all__ = ["from_config", "ConfigSchedule", "FORMATS", "read_config_file", "detect"]

#: the formats :func:`from_config` reads, in the order it tries them
FORMATS = ("ultralytics", "transformers", "timm", "mmengine", "lightning", "deepspeed", "ppdet", "ppcls")

#: what identifies each format (for messages)
_KEYS = {
    "ultralytics": "lr0 and lrf",
    "transformers": "learning_rate and lr_scheduler_type",
    "timm": "sched and lr (or lr_base)",
    "mmengine": "param_scheduler",
    "lightning": "optimizer / lr_scheduler with a class_path",
    "deepspeed": "scheduler with a DeepSpeed type",
    "ppdet": "LearningRate",
    "ppcls": "Optimizer.lr",
}


def _readers() -> dict[str, tuple[Callable[[Mapping[str, Any]], bool], Callable[..., ConfigSchedule]]]:
    from . import deepspeed, lightning, mmengine, paddle, timm, transformers, ultralytics

    return {
        "ultralytics": (ultralytics.looks_like, ultralytics.read),
        "transformers": (transformers.looks_like, transformers.read),
        "timm": (timm.looks_like, timm.read),
        "mmengine": (mmengine.looks_like, mmengine.read),
        "lightning": (lightning.looks_like, lightning.read),
        "deepspeed": (deepspeed.looks_like, deepspeed.read),
        "ppdet": (paddle.looks_like_ppdet, paddle.read_ppdet),
        "ppcls": (paddle.looks_like_ppcls, paddle.read_ppcls_config),
    }


def read_config_file(path: str | os.PathLike[str], what: str = "config") -> Any:
    """The data in the config file ``path``, read bounded (:func:`lrkit._files.read_text`):
    ``.py`` through :func:`lrkit.configs.pyconfig.read_py_config` (never run), ``.json`` as
    JSON, anything else as YAML (:func:`lrkit.config.parse_yaml`; PaddleDetection's ``!Name``
    tags read as data)."""
    from .._files import read_text
    from ..config import MAX_SPEC_BYTES, _json, parse_yaml

    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{what} must be a path or a mapping, got {show(path)} ({type(path).__name__})")
    name = os.fsdecode(os.fspath(path))
    if not os.path.lexists(name):
        raise ValueError(f"no such {what} file: {name!r}")
    text = read_text(name, what, MAX_SPEC_BYTES)
    label = f"{what} {name!r}"
    low = name.lower()
    if low.endswith(".py"):
        from .pyconfig import read_py_config

        return read_py_config(text, label)
    if low.endswith(".json"):
        try:
            return _json(text)
        except ValueError as e:
            raise ValueError(f"{label}: {e}") from None
    try:
        return parse_yaml(text, label)
    except ValueError as e:
        if "tag" not in str(e):
            raise
    from ..convert.ppdet import load_ppdet_yaml

    return load_ppdet_yaml(text, label)


def _pick(data: Any, section: str | None) -> Any:
    if section is None:
        return data
    if not isinstance(section, str) or not section or any(not p for p in section.split(".")):
        raise ValueError(f"section must be a key path such as 'scheduler' or 'model.lr_scheduler', got {show(section)}")
    at = data
    done: list[str] = []
    for part in section.split("."):
        if not isinstance(at, Mapping) or part not in at:
            here = ".".join(done) or "the config"
            keys = ", ".join(map(str, list(at)[:12])) if isinstance(at, Mapping) else f"not a mapping: {show(at)}"
            raise ValueError(f"section {section!r}: {here} has no key {part!r} (it holds {keys})")
        at = at[part]
        done.append(part)
    return at


def detect(data: Mapping[str, Any]) -> str:
    """The format of the config ``data`` (a mapping), from the keys it holds."""
    if not isinstance(data, Mapping):
        raise ValueError(f"a training config must be a mapping of its fields, got {show(data)}")
    found = [name for name, (looks, _) in _readers().items() if looks(data)]
    if len(found) == 1:
        return found[0]
    if not found:
        known = "; ".join(f"{f}: {k}" for f, k in _KEYS.items())
        keys = ", ".join(map(str, list(data)[:12]))
        base = " (its _base_ files are not followed: give the file that holds the schedule)" if "_base_" in data else ""
        raise ValueError(
            f"from_config: no format recognised in a config with the keys {keys or '(none)'}{base}; "
            f"it reads {known} (section= picks a part of a larger file, format= names the format)"
        )
    raise ValueError(f"from_config: the config looks like {' and '.join(found)}: give format= (one of them)")


def from_config(
    source: str | os.PathLike[str] | Mapping[str, Any],
    *,
    format: str | None = None,
    section: str | None = None,
    steps_per_epoch: int | None = None,
    **options: Any,
) -> ConfigSchedule:
    """The lr the trainer gives with the training config ``source`` (a file path, or a
    mapping already read), as a :class:`ConfigSchedule`.

    ``format`` names the format (one of :data:`FORMATS`; recognised from the keys when not
    given), ``section`` picks a key path of a larger file (``"scheduler"``,
    ``"model.lr_scheduler"``), ``steps_per_epoch`` is the batches per epoch of the data
    loader (``len(train_loader)``) where the trainer counts them. ``options`` go to the
    reader of the format: ``version``, ``nc``, ``images``, ``lr0`` (ultralytics),
    ``rounding`` (transformers), ``world_size`` (timm, mmengine), ``lr`` (mmengine), ``lrs``
    (deepspeed), ``epochs`` (ppcls). See each reader's module for what it reads.

    >>> got = from_config({"learning_rate": 1e-3, "lr_scheduler_type": "linear", "max_steps": 100,
    ...                    "warmup_steps": 10})
    >>> got.format, got.unit, round(float(got.lr(5)), 6), round(float(got.lr(55)), 6)
    ('transformers', 'step', 0.0005, 0.0005)
    """
    if isinstance(source, Mapping):
        data: Any = source
    else:
        data = read_config_file(source)
    data = _pick(data, section)
    readers = _readers()
    if format is None:
        fmt = detect(data)
    else:
        if not isinstance(format, str) or format not in readers:
            from ..core import suggest

            raise ValueError(
                f"format must be one of {', '.join(FORMATS)}, got {show(format)}{suggest(str(format), FORMATS)}"
            )
        if not isinstance(data, Mapping):
            raise ValueError(f"a {format} config must be a mapping of its fields, got {show(data)}")
        fmt = format
    got = readers[fmt][1](data, steps_per_epoch, **options)
    got.section = section
    return got
