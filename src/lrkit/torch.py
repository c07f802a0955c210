"""PyTorch binding: drive any lrkit schedule from a ``torch.optim`` optimizer.

:class:`ScheduleLR` is a real ``torch.optim.lr_scheduler.LRScheduler`` (code that
expects one, such as PyTorch Lightning, takes it) whose whole
state is a step counter and the base values: each ``step()`` evaluates the
closed-form schedule at the new position and writes the param groups. No schedule
math lives here.

:func:`from_torch` turns PyTorch's own schedulers into the equal lrkit schedule.

This module gathers the public names of three layers: the binding
(:class:`ScheduleLR`, in ``lrkit._torch_binding``), the conversions
(:func:`from_torch`, :func:`from_deepspeed`: :mod:`lrkit.convert.torch`) and the
recipes' drop-ins (:func:`warmup_lr_scheduler`, :class:`UltralyticsLR`,
:func:`set_optimizer_lr`, :class:`CosineAnnealingWarmbootingLR`:
:mod:`lrkit.recipes.torch_dropins`; :class:`ReduceLROnPlateau`: :mod:`lrkit.recipes.torch_plateau`). Importing it imports torch; ``import lrkit``
does not.

>>> import torch, lrkit
>>> from lrkit.torch import ScheduleLR
>>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
>>> sched = ScheduleLR(opt, lrkit.Cosine(peak_lr=1.0, total_steps=100))  # a multiplier of lr=0.1
>>> for _ in range(50):
...     opt.step(); sched.step()
>>> round(opt.param_groups[0]["lr"], 6)
0.05
"""

from __future__ import annotations

from ._torch_binding import ScheduleLR
from .convert.torch import from_deepspeed, from_torch
from .recipes.torch_dropins import CosineAnnealingWarmbootingLR, UltralyticsLR, set_optimizer_lr, warmup_lr_scheduler
from .recipes.torch_plateau import ReduceLROnPlateau

__all__ = [
    "ScheduleLR",
    "from_torch",
    "from_deepspeed",
    "warmup_lr_scheduler",
    "set_optimizer_lr",
    "UltralyticsLR",
    "CosineAnnealingWarmbootingLR",
    "ReduceLROnPlateau",
]
