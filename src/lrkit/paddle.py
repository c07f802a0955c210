"""PaddlePaddle binding: drive any lrkit schedule from a Paddle optimizer.

Paddle's model is the reverse of PyTorch's: the optimizer holds the scheduler
(``paddle.optimizer.X(learning_rate=sched, ...)``), the user calls ``sched.step()``,
and a parameter group's ``'learning_rate'`` entry is a **multiplier** of the global
lr (Paddle stores it per parameter as ``param.optimize_attr['learning_rate']``).

:class:`ScheduleLR` is a real ``paddle.optimizer.lr.LRScheduler`` whose whole state
is a step counter and base values: each ``step()`` evaluates the closed-form schedule
at the new position. No schedule math lives here.

:func:`from_paddle` turns Paddle's own schedulers into the equal lrkit schedule;
:func:`scheduler_from_torch` turns a PyTorch scheduler into a Paddle one with the same lrs.

This module gathers the public names of three layers: the binding
(:class:`ScheduleLR`, in ``lrkit._paddle_binding``), the conversions
(:func:`from_paddle`: :mod:`lrkit.convert.paddle`; PaddleDetection's and PaddleClas's
configs: :mod:`lrkit.convert.ppdet`, :mod:`lrkit.convert.ppcls`) and the recipes'
drop-ins (:mod:`lrkit.recipes.paddle_dropins`); the ``scheduler_from_*`` functions here
bind a conversion's schedule. Importing it imports paddle; ``import lrkit`` does not.

>>> import paddle, lrkit
>>> from lrkit.paddle import ScheduleLR
>>> sched = ScheduleLR(lrkit.Cosine(peak_lr=0.1, total_steps=100))
>>> opt = paddle.optimizer.SGD(learning_rate=sched, parameters=paddle.nn.Linear(2, 1).parameters())
>>> for _ in range(50):
...     sched.step()
>>> round(opt.get_lr(), 6)
0.05
"""

from __future__ import annotations

from typing import Any

from ._paddle_binding import ScheduleLR
from .convert.paddle import from_paddle
from .convert.ppcls import read_ppcls
from .convert.ppdet import from_ppdet as _ppdet_schedule
from .convert.ppdet import load_ppdet_yaml
from .convert.torch import from_torch
from .core import Schedule
from .plateau import Plateau
from .recipes.paddle_dropins import CosineAnnealingWarmbootingLR, UltralyticsLR, set_optimizer_lr, warmup_lr_scheduler
from .recipes.paddle_plateau import ReduceOnPlateau

__all__ = [
    "ScheduleLR",
    "from_paddle",
    "from_ppdet",
    "scheduler_from_ppdet",
    "scheduler_from_ppcls",
    "scheduler_from_torch",
    "warmup_lr_scheduler",
    "set_optimizer_lr",
    "UltralyticsLR",
    "CosineAnnealingWarmbootingLR",
    "ReduceOnPlateau",
]


def scheduler_from_ppdet(config: Any, step_per_epoch: int, **kwargs: Any) -> ScheduleLR:
    """A Paddle scheduler stepped per iteration from PaddleDetection's ``LearningRate`` config
    (a dict, or the text of its YAML with ``!PiecewiseDecay``-style tags): the same lr at
    every iteration as PaddleDetection's own scheduler (:func:`lrkit.convert.ppdet.from_ppdet`
    gives the schedule). ``kwargs`` go to :class:`ScheduleLR` (``parameters=``...).

    >>> import lrkit.paddle
    >>> sched = lrkit.paddle.scheduler_from_ppdet({"base_lr": 0.02, "schedulers": [
    ...     {"name": "CosineDecay", "max_epochs": 12}, {"name": "LinearWarmup", "steps": 300}]}, 500)
    >>> round(sched(), 12), type(sched).__name__  # start_factor 1/3 of 0.02
    (0.006666666667, 'ScheduleLR')
    """
    return ScheduleLR(from_ppdet(config, step_per_epoch), **kwargs)


def from_ppdet(config: Any, step_per_epoch: int) -> Schedule:
    """The schedule of PaddleDetection's ``LearningRate`` config (a dict, or the text of its YAML
    with ``!PiecewiseDecay``-style tags), per iteration: :func:`lrkit.convert.ppdet.from_ppdet`."""
    if isinstance(config, str):
        config = load_ppdet_yaml(config)
    return _ppdet_schedule(config, step_per_epoch)


def scheduler_from_ppcls(config: Any, epochs: int, step_each_epoch: int, **kwargs: Any) -> ScheduleLR:
    """A Paddle scheduler from PaddleClas's ``Optimizer.lr`` config: the same lr at every step
    as PaddleClas's own scheduler (:func:`lrkit.convert.ppcls.from_ppcls` gives the schedule;
    step it per iteration, or per epoch with ``by_epoch: true``). Its ``by_epoch`` attribute
    is the config's, as on PaddleClas's schedulers: PaddleClas's engine reads it to step
    the scheduler once per epoch instead of once per iteration. ``kwargs`` go to
    :class:`ScheduleLR`.

    >>> import lrkit.paddle
    >>> sched = lrkit.paddle.scheduler_from_ppcls({"name": "Cosine", "learning_rate": 0.1, "warmup_epoch": 5}, 120, 500)
    >>> sched(), type(sched).__name__, sched.by_epoch
    (0.0, 'ScheduleLR', False)
    """
    schedule, by_epoch = read_ppcls(config, epochs, step_each_epoch)
    sched = ScheduleLR(schedule, **kwargs)
    sched.by_epoch = by_epoch
    return sched


def scheduler_from_torch(
    torch_scheduler: Any, *, parameters: Any = None, group: int | None = None, **kwargs: Any
) -> ScheduleLR:
    """A Paddle scheduler with the same lrs as a PyTorch scheduler (via :func:`lrkit.torch.from_torch`).

    Converts everything ``lrkit.torch.from_torch`` does, including ``SequentialLR``,
    ``ChainedScheduler`` and ``LambdaLR``. The torch lrs are absolute per group; on
    Paddle they become the global lr (leave the groups' ``'learning_rate'`` at 1).
    When the torch groups follow different schedules, pass ``parameters=`` (the Paddle
    param groups, one per torch group) for one schedule per group, or ``group=i`` to
    take group ``i``'s. Other keyword arguments go to :class:`ScheduleLR`
    (``last_epoch``, ``steps_per_epoch``, ``verbose``). The Paddle scheduler starts at
    position 0, whatever the torch scheduler's current position.

    >>> import torch
    >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    >>> sched = scheduler_from_torch(torch.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.5))
    >>> sched()
    0.1
    """
    sched = from_torch(torch_scheduler, group)
    if isinstance(sched, Plateau):
        raise TypeError(
            f"{type(torch_scheduler).__qualname__} follows a metric, so it has no schedule to bind; use "
            "lrkit.paddle.ReduceOnPlateau, or ScheduleLR(plan, plateau=lrkit.convert.plateau.plateau_of(it))"
        )
    kwargs.setdefault("learning_rate", 1.0)  # the torch values are absolute lrs
    if isinstance(sched, list):
        if parameters is None:
            raise ValueError(
                f"the torch scheduler gives its {len(sched)} param groups different schedules; pass "
                "parameters= (the Paddle param groups, one per torch group) or group=<index>"
            )
        return ScheduleLR(sched, parameters=parameters, **kwargs)
    return ScheduleLR(sched, parameters=parameters, **kwargs)
