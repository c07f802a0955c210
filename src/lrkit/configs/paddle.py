"""PaddleDetection's and PaddleClas's YAML configs, routed to the readers lrkit has
(:func:`lrkit.convert.ppdet.from_ppdet`, :func:`lrkit.convert.ppcls.read_ppcls`).

* PaddleDetection: the ``LearningRate`` section (``base_lr``, ``schedulers``); the position
  is the iteration, ``steps_per_epoch`` (``step_per_epoch``) required; the run is ``epoch``
  epochs when the file says. ``_BASE_`` files are not followed.
* PaddleClas: ``Optimizer.lr`` over ``Global.epochs`` epochs (``epochs=`` when the file has
  none); the position is the iteration, or the epoch with ``by_epoch: true``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..convert._fields import Section
from ..convert.ppcls import read_ppcls
from ..convert.ppdet import from_ppdet
from ._common import ConfigSchedule, options_of, spe_of

__all__ = ["read_ppdet", "read_ppcls_config", "looks_like_ppdet", "looks_like_ppcls", "PPDET_OPTIONS", "PPCLS_OPTIONS"]

PPDET_OPTIONS: tuple[str, ...] = ()
PPCLS_OPTIONS = ("epochs",)


def looks_like_ppdet(data: Mapping[str, Any]) -> bool:
    return "LearningRate" in data


def looks_like_ppcls(data: Mapping[str, Any]) -> bool:
    opt = data.get("Optimizer")
    return isinstance(opt, Mapping) and "lr" in opt


def read_ppdet(data: Mapping[str, Any], steps_per_epoch: Any, **options: Any) -> ConfigSchedule:
    options_of("ppdet", options, PPDET_OPTIONS)
    spe = spe_of("ppdet", steps_per_epoch, "PaddleDetection's step_per_epoch, the iterations per epoch")
    assert spe is not None
    s = from_ppdet(data, spe)
    total = None
    if "epoch" in data:
        total = float(Section("PaddleDetection config", data).whole("epoch") * spe)
    return ConfigSchedule("ppdet", s, "iteration", steps_per_epoch=float(spe), total=total)


def read_ppcls_config(data: Mapping[str, Any], steps_per_epoch: Any, **options: Any) -> ConfigSchedule:
    opts = options_of("ppcls", options, PPCLS_OPTIONS)
    spe = spe_of("ppcls", steps_per_epoch, "PaddleClas's step_each_epoch, the iterations per epoch")
    assert spe is not None
    epochs = opts.get("epochs")
    if epochs is None:
        g = data.get("Global")
        if not isinstance(g, Mapping) or "epochs" not in g:
            raise ValueError("PaddleClas config: has no Global.epochs: give epochs=")
        epochs = Section("PaddleClas Global", g).whole("epochs")
    else:
        epochs = Section("from_config", {}).check_whole("epochs", epochs)
    s, by_epoch = read_ppcls(data, epochs, spe)
    if by_epoch:
        return ConfigSchedule("ppcls", s, "epoch", total=float(epochs))
    return ConfigSchedule("ppcls", s, "iteration", steps_per_epoch=float(spe), total=float(epochs * spe))
