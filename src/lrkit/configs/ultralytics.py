"""ultralytics' ``args.yaml`` (saved in every run's folder): the lr of each param group and
the momentum per iteration, from :func:`lrkit.recipes.ultralytics.ultralytics_schedules`.

Read: ``lr0``, ``lrf``, ``cos_lr``, ``warmup_epochs``, ``warmup_bias_lr``,
``warmup_momentum``, ``momentum``, ``epochs``, ``optimizer`` (and ``time``, ``batch``, ``nbs``
for the cases below); ``steps_per_epoch`` is the number of batches per epoch (``nb =
len(train_loader)``). The position is the iteration ``ni`` (a batch).

``optimizer: auto`` (the default) ignores ``lr0`` and ``momentum``: the trainer takes SGD
with ``lr0 = 0.01`` when the run has more than 10,000 iterations of ``max(batch, nbs)``
images, else AdamW with ``lr0 = round(0.002 * 5 / (4 + nc), 6)`` (``nc``: the dataset's
classes), and sets ``warmup_bias_lr`` to 0. ``nc=`` gives the classes and ``images=`` the
training images when the choice depends on them; ``lr0=`` overrides (the value the
training log prints, ``optimizer: AdamW(lr=...)``). ``time:`` (a run limited by hours)
recomputes the epochs while training: refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..convert._fields import Section
from ..recipes.ultralytics import CHECKED, ultralytics_schedules
from ._common import ConfigSchedule, options_of, spe_of

__all__ = ["read", "looks_like", "OPTIONS"]

OPTIONS = ("version", "nc", "images", "lr0")
_WHERE = "ultralytics args.yaml"


def looks_like(data: Mapping[str, Any]) -> bool:
    return "lr0" in data and "lrf" in data


def read(data: Mapping[str, Any], steps_per_epoch: Any, **options: Any) -> ConfigSchedule:
    opts = options_of("ultralytics", options, OPTIONS)
    nb = spe_of("ultralytics", steps_per_epoch, "the batches per epoch, len(train_loader)")
    assert nb is not None
    c = Section(_WHERE, data)
    if c.value("time", None) is not None:
        raise c.fail("time", c.value("time"), "null", "a run limited by hours recomputes its epochs while training")
    if "epochs" not in data:  # every args.yaml has it; YOLOv5 keeps it in opt.yaml, not hyp.yaml
        raise c.need("epochs", "the run's epochs; YOLOv5's hyp.yaml has none: they are in its opt.yaml")
    epochs = c.whole("epochs")
    optimizer = c.value("optimizer", "auto")
    if not isinstance(optimizer, str):
        raise c.fail("optimizer", optimizer, "an optimizer's name or 'auto'")
    notes: list[str] = []
    bias_lr = c.rate("warmup_bias_lr", 0.1)
    lr0: Any = opts.get("lr0")
    if optimizer.lower() == "auto":
        bias_lr = 0.0  # the trainer sets it to 0 with optimizer=auto
        if lr0 is None:
            lr0 = _auto_lr0(c, epochs, nb, opts)
            notes.append(f"optimizer=auto: lr0={lr0!r} chosen as ultralytics' trainer chooses it")
        notes.append("optimizer=auto: warmup_bias_lr is 0, as ultralytics' trainer sets it")
    elif lr0 is None:
        lr0 = c.number("lr0", lo=0.0, lo_open=True)
    version = opts.get("version")
    if version is None:
        version = CHECKED
        notes.append(f"the rules of ultralytics {CHECKED}'s trainer (give version= for another release)")
    s = ultralytics_schedules(
        lr0=lr0,
        lrf=c.number("lrf", 0.01, lo=0.0),
        epochs=epochs,
        batches=nb,
        warmup_epochs=c.number("warmup_epochs", 3.0, lo=0.0),
        warmup_bias_lr=bias_lr,
        warmup_momentum=c.rate("warmup_momentum", 0.8),
        momentum=c.rate("momentum", 0.937),
        cos_lr=c.flag("cos_lr", False),
        version=version,
    )
    lr: Any = s.lr[0] if all(g == s.lr[0] for g in s.lr[1:]) else list(s.lr)
    return ConfigSchedule(
        "ultralytics",
        lr,
        "iteration",
        steps_per_epoch=float(nb),
        total=float(epochs * nb),
        groups=s.groups if isinstance(lr, list) else None,
        momentum=s.momentum,
        notes=tuple(notes),
        recipe=s,
    )


def _auto_lr0(c: Section, epochs: int, nb: int, opts: dict[str, Any]) -> float:
    """ultralytics' ``optimizer=auto`` lr: 0.01 (SGD) past 10,000 iterations of ``max(batch,
    nbs)`` images, else ``round(0.002 * 5 / (4 + nc), 6)`` (AdamW)."""
    batch = c.whole("batch", 16, lo=-1)
    nbs = c.whole("nbs", 64)
    if batch < 1:
        raise c.fail(
            "batch",
            batch,
            "a batch size >= 1 with optimizer=auto",
            "the auto batch size is chosen on the GPU: give lr0=",
        )
    per = max(batch, nbs)
    images = opts.get("images")
    if images is not None:
        images = Section("from_config", {}).check_whole("images", images)
        lo = hi = math.ceil(images / per) * epochs
    else:  # nb batches of `batch` images: between (nb - 1) batch + 1 and nb batch images
        lo = math.ceil(((nb - 1) * batch + 1) / per) * epochs
        hi = math.ceil(nb * batch / per) * epochs
    if lo > 10000:
        return 0.01
    if hi > 10000:
        raise ValueError(
            f"{_WHERE}: optimizer=auto picks SGD or AdamW by the run's iterations ({lo:,} to {hi:,} "
            "with these batches, around the 10,000 that decides): give images= (the training images) "
            "or lr0= (the lr the training log prints)"
        )
    nc = opts.get("nc")
    if nc is None:
        raise ValueError(
            f"{_WHERE}: optimizer=auto picks AdamW with lr0 = round(0.002 * 5 / (4 + nc), 6) for this run "
            "(10,000 iterations or fewer): give nc= (the dataset's classes) or lr0= (the lr the training log prints)"
        )
    nc = Section("from_config", {}).check_whole("nc", nc)
    return round(0.002 * 5 / (4 + nc), 6)
