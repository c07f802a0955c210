"""Checks and bookkeeping that the PyTorch and the Paddle bindings share.

Nothing here imports a framework or computes a schedule value: argument checks, the
checkpoint consistency checks, the counters of the CAWB drop-ins, and the inverse of
OneCycle's phase-end rounding (used by both ``from_torch`` and ``from_paddle``).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Mapping

from . import _check
from .core import Schedule, check_schedule
from .recipes import CAWB

__all__ = ["check_schedule", "schedule_tuple", "check_group_count", "per_step", "check_last_epoch",
           "check_saved", "same_steps_per_epoch", "pct_start", "real", "CawbCounters"]

#: A finite float or ``ValueError`` (``TypeError`` for a non-number), naming the value.
real = _check.real


def schedule_tuple(schedule: Any) -> tuple[tuple[Schedule, ...], bool]:
    """``(schedules, per_group)`` from one schedule or a list of them (one per param group)."""
    if isinstance(schedule, Schedule):
        return (schedule,), False
    if isinstance(schedule, (list, tuple)):
        return tuple(check_schedule(f"schedule[{i}]", s) for i, s in enumerate(schedule)), True
    raise TypeError(f"schedule must be an lrkit Schedule or a list of them (one per param group), "
                    f"got {schedule!r} ({type(schedule).__name__})")


def check_group_count(schedules: tuple[Schedule, ...], n_groups: int) -> None:
    """One schedule per param group: ``ValueError`` when the counts differ."""
    if len(schedules) != n_groups:
        raise ValueError(f"schedule holds {len(schedules)} schedules but there are {n_groups} param groups; "
                         "give one schedule, or one per group")


def per_step(schedules: tuple[Schedule, ...], steps_per_epoch: float | None) -> tuple[Schedule, ...]:
    """The schedules evaluated per step when they are defined in epochs (``steps_per_epoch`` given)."""
    if steps_per_epoch is None:
        return schedules
    return tuple(s.per_step(steps_per_epoch) for s in schedules)


def check_last_epoch(last_epoch: Any) -> int:
    """The frameworks' resume argument: an integer ``>= -1``."""
    if isinstance(last_epoch, bool) or not isinstance(last_epoch, int) or last_epoch < -1:
        raise ValueError(f"last_epoch must be an integer >= -1, got {last_epoch!r}")
    return last_epoch


def check_saved(state: Mapping[str, Any], name: str, current: Any,
                same: Callable[[Any, Any], bool] | None = None) -> None:
    """``ValueError`` if ``state`` was saved with another ``name`` than this scheduler's ``current``.

    A state without the key (saved by an older version) is accepted: nothing to compare.
    """
    if name not in state:
        return
    saved = state[name]
    ok = same(saved, current) if same is not None else saved == current
    if not ok:
        raise ValueError(f"the state was saved with {name}={saved!r} but this scheduler has {name}={current!r}; "
                         f"build the scheduler with {name}={saved!r} to load it")


def same_steps_per_epoch(a: Any, b: Any) -> bool:
    """Whether two ``steps_per_epoch`` values (``None`` or numbers) are the same setting."""
    if a is None or b is None:
        return a is None and b is None
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


def pct_start(end0: float, total: int, three: bool, end1: float | None) -> float:
    """The OneCycle ``pct_start`` reproducing a framework's stored phase ends exactly.

    PyTorch and Paddle both store the first phase's end as ``pct * total - 1`` and, with
    three phases, the second's as ``2 * pct * total - 2`` (float products). ``(end0 + 1) /
    total`` can be an ulp off after that rounding; a few ulp steps find the ``pct`` that
    gives the stored ends back.
    """
    pct = (end0 + 1) / total
    for _ in range(4):
        if pct * total - 1 == end0 and (not three or 2 * pct * total - 2 == end1):
            return pct
        pct = math.nextafter(pct, math.inf if pct * total - 1 < end0 else -math.inf)
    return (end0 + 1) / total


class CawbCounters:
    """The counters of a CAWB drop-in (``iters``, ``iters_batch``, ``last_epoch``), framework-free.

    The class using it writes the lrs; the values come from :attr:`schedule`
    (:class:`lrkit.recipes.CAWB`), the positions from these counters.
    """

    schedule: CAWB
    iters: int
    iters_batch: int
    last_epoch: Any
    warmup_iters: float

    _STATE_KEYS = ("iters", "iters_batch", "last_epoch", "base_lr")

    def _init_counters(self, epochs: float, eta_min: float, steps: Iterable[float], step_scale: float,
                       lf: Any, batchs: int, warmup_epoch: float, epoch_scale: float) -> None:
        self.schedule = CAWB(epochs, eta_min, steps, step_scale, lf, batchs, warmup_epoch, epoch_scale)
        self.iters = -1
        self.iters_batch = -1
        self.warmup_iters = self.schedule.warmup_iters

    def _next_epoch(self, external_iter: int | None) -> int:
        """``step()``'s counter: one more epoch, or ``external_iter`` when given."""
        self.iters += 1
        if external_iter is not None:
            self.iters = external_iter
        return self.iters

    def _next_batch(self) -> float | None:
        """``step_batch()``'s warmup factor at its next counter (``None`` after the warmup)."""
        self.iters_batch += 1
        return self.schedule.warmup_factor(self.iters_batch)

    def _restore_counters(self, state_dict: Any) -> None:
        """Check a saved state's keys and restore the counters from it."""
        if not isinstance(state_dict, Mapping):
            raise ValueError(f"not a CosineAnnealingWarmbootingLR state dict, got {state_dict!r}")
        missing = set(self._STATE_KEYS) - set(state_dict)
        if missing:
            raise ValueError(f"not a CosineAnnealingWarmbootingLR state dict: missing {sorted(missing)}")
        self.iters = state_dict["iters"]
        self.iters_batch = state_dict["iters_batch"]
        self.last_epoch = state_dict["last_epoch"]
