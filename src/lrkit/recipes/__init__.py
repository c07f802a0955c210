"""The three recipes users arrive with, reproduced exactly, as lrkit schedules.

* :func:`get_lr_scheduler` -- the YOLOX-style ``f(iters) -> lr`` factory
  (``"cos"``: :class:`YoloxCos`, ``"step"``: :class:`YoloxStep`), same name and signature.
* :class:`TorchvisionWarmup` -- the multiplier of torchvision's detection
  ``warmup_lr_scheduler``.
* :class:`CAWB` -- CosineAnnealingWarmbootingLR (cosine "warm booting"), both as the
  pure per-call factors its ``step()`` / ``step_batch()`` produce and as a schedule of
  the multiplier the canonical training loop applies at every batch.

Everything here is a closed-form function of a counter. Framework bindings map a
counter to param groups with the methods documented on each class; they need no
arithmetic beyond ``base_lr * multiplier`` (or :meth:`CAWB.step_lr` for CAWB's exact
order of operations).

The float operations follow the originals' order, so values are bit-identical to
them (Python's ``**`` is used where they use it: it can differ from numpy's power by
an ulp).
"""

from ._dropin import DropInWarning

# the order of these imports is the order of the recipes on the command line and in the README
from .yolox import LR_DECAY_TYPES, YoloxCos, YoloxStep, get_lr_scheduler  # isort: skip
from .cawb import CAWB, LF_SHAPES, CawbLf, cawb_lf
from .torchvision import TorchvisionWarmup, torchvision_drop_in
from .ultralytics import ultralytics_schedules

__all__ = [
    "DropInWarning",
    "cawb_lf",
    "get_lr_scheduler",
    "YoloxCos",
    "YoloxStep",
    "TorchvisionWarmup",
    "CAWB",
    "CawbLf",
    "LR_DECAY_TYPES",
    "LF_SHAPES",
    "torchvision_drop_in",
    "ultralytics_schedules",
]

# every recipe declared once (lrkit.recipes.registry): the command line, lrkit list and the README's rows
from .paddle_configs import ppcls_schedule, ppdet_schedule  # noqa: E402
from .registry import Option, Recipe, recipe, recipe_table, registered_recipes  # noqa: E402

__all__ += ["Option", "Recipe", "recipe", "recipe_table", "registered_recipes", "ppdet_schedule", "ppcls_schedule"]
