"""DeepSpeed's ``LRRangeTest`` scheduler as an lrkit range test.

DeepSpeed's ``LRRangeTest`` (``deepspeed.runtime.lr_schedules``) sets each param group's lr
to ``lr_range_test_min_lr`` when made, and after its ``k``-th ``step()`` to::

    min_lr * (1 + step_rate * interval),   interval = k / step_size
                                           (floor(k / step_size) with lr_range_test_staircase)

so training update ``i`` (after ``i`` steps) runs at ``min_lr (1 + step_rate i / step_size)``:
lrkit's :class:`~lrkit.LinearGrowth` at ``i`` (:func:`lrkit.convert.deepspeed.from_deepspeed`
converts the scheduler). :func:`from_deepspeed` makes the
:class:`~lrkit.rangetest.RangeTest` that sweeps those lrs for ``num_iter`` updates
(DeepSpeed's sweep has no end: the test stops at ``num_iter``, at divergence or at a
non-finite loss); lrkit's recorder smooths the loss and suggests the lr.

>>> rt = from_deepspeed({"lr_range_test_min_lr": 1e-4, "lr_range_test_step_size": 10,
...                      "lr_range_test_step_rate": 5.0, "lr_range_test_staircase": True}, num_iter=25)
>>> rt.lrs()[9], rt.lrs()[10], rt.lrs()[24]   # 1e-4 (1 + 5 floor(i / 10))
(0.0001, 0.0006000000000000001, 0.0011)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..convert import deepspeed as _ds
from ..core import Schedule
from ..schedules.decays import LinearGrowth
from .core import RangeTest, _count

__all__ = ["from_deepspeed"]


def _section(config: Any) -> Any:
    """The ``{"type": "LRRangeTest", "params": ...}`` section of a whole DeepSpeed config, a
    scheduler section, or bare ``params`` (a mapping of ``lr_range_test_*`` fields)."""
    if not isinstance(config, Mapping):
        raise ValueError(
            "from_deepspeed needs a DeepSpeed config, its scheduler section, the LRRangeTest params "
            f"(a mapping) or an LRRangeTest scheduler, got {type(config).__name__} {config!r}"
        )
    if "scheduler" in config:
        config = config["scheduler"]
        if not isinstance(config, Mapping):
            raise ValueError(f"DeepSpeed scheduler must be a mapping with a type and params, got {config!r}")
    if "type" not in config and "params" not in config:
        return {"type": "LRRangeTest", "params": dict(config)}
    if config.get("type") != "LRRangeTest":
        raise ValueError(
            f"DeepSpeed scheduler type must be 'LRRangeTest' for a range test, got {config.get('type')!r} "
            "(lrkit.convert.deepspeed.from_deepspeed converts the other schedulers)"
        )
    return config


def from_deepspeed(
    config: Any,
    num_iter: int = 100,
    *,
    smooth_f: float | None = None,
    diverge_th: float | None = None,
    flavor: str = "torch-lr-finder",
) -> RangeTest:
    """The :class:`~lrkit.rangetest.RangeTest` of a DeepSpeed ``LRRangeTest`` scheduler: update
    ``i`` (``0 <= i < num_iter``) at ``min_lr (1 + step_rate i / step_size)`` (the quotient
    floored with ``lr_range_test_staircase``), DeepSpeed's lr at that update, float for float.

    ``config``: a whole DeepSpeed config (its ``scheduler`` section is read), the scheduler
    section ``{"type": "LRRangeTest", "params": {...}}``, the ``params`` alone, or the
    ``deepspeed.runtime.lr_schedules.LRRangeTest`` object. DeepSpeed's defaults fill what
    is left out (``min_lr`` 1e-3, ``step_size`` 2000, ``step_rate`` 1.0, no staircase). A
    field DeepSpeed would refuse, an unknown one, or one that makes the lr not grow over
    ``num_iter`` updates (``min_lr`` 0, ``step_rate`` 0, a staircase whose first stair is
    past the run) is a ``ValueError`` naming it. Per-group ``min_lr`` lists give one
    schedule per group (``group_schedules``: the torch helper sets each group's own).

    ``smooth_f``, ``diverge_th`` and ``flavor`` are the recorder's (:class:`~lrkit.rangetest.LossRecorder`);
    the lrs are DeepSpeed's whatever the flavor.
    """
    if _ds.is_deepspeed(config):
        if type(config).__name__ != "LRRangeTest":
            raise ValueError(
                f"a range test needs DeepSpeed's LRRangeTest scheduler, got {type(config).__name__} "
                "(lrkit.convert.deepspeed.from_scheduler converts the other schedulers)"
            )
        converted = _ds.from_scheduler(config)
    else:
        converted = _ds.from_deepspeed(_section(config))
    schedules: list[LinearGrowth] = []
    for s in converted if isinstance(converted, list) else [converted]:
        if not isinstance(s, LinearGrowth):  # the converter's LRRangeTest is a LinearGrowth
            raise TypeError(f"DeepSpeed's LRRangeTest converted to {type(s).__name__}, not LinearGrowth")
        schedules.append(s)
    n = _count("num_iter", num_iter, 2)
    for s in schedules:
        if s.start_lr == 0:
            raise ValueError("DeepSpeed LRRangeTest lr_range_test_min_lr must be > 0 for a range test, got 0")
        if s.rate == 0:
            raise ValueError("DeepSpeed LRRangeTest lr_range_test_step_rate must be > 0 for a range test, got 0")
        if s.staircase and n - 1 < s.step_size:
            raise ValueError(
                f"DeepSpeed LRRangeTest lr_range_test_step_size ({s.step_size:g}) with lr_range_test_staircase: "
                f"the lr first grows at update {s.step_size:g}, past the test's num_iter ({n}) updates"
            )
    groups: list[Schedule] | None = list(schedules) if len(schedules) > 1 else None
    return RangeTest.from_schedule(schedules[0], n, smooth_f, diverge_th, flavor, group_schedules=groups)
