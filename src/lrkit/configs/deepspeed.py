"""DeepSpeed's JSON config: its ``scheduler`` section (and ``optimizer.params.lr``), routed to
:func:`lrkit.convert.deepspeed.from_deepspeed`. The position is the optimizer step;
``lrs=`` gives the optimizer's lr (one, or one per group) when the file has no optimizer
section and the scheduler needs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..convert.deepspeed import _TYPES, from_deepspeed
from ._common import ConfigSchedule, options_of, spe_of

__all__ = ["read", "looks_like", "OPTIONS"]

OPTIONS = ("lrs",)


def looks_like(data: Mapping[str, Any]) -> bool:
    sched = data.get("scheduler")
    if isinstance(sched, Mapping):
        return sched.get("type") in _TYPES
    return data.get("type") in _TYPES and "params" in data


def read(data: Mapping[str, Any], steps_per_epoch: Any, **options: Any) -> ConfigSchedule:
    opts = options_of("deepspeed", options, OPTIONS)
    s = from_deepspeed(data, opts.get("lrs"))
    n = spe_of("deepspeed", steps_per_epoch)
    spe = None if n is None else float(n)
    sched = data.get("scheduler", data)
    params = sched.get("params") if isinstance(sched, Mapping) else None
    given = params.get("total_num_steps") if isinstance(params, Mapping) else None
    total = float(given) if isinstance(given, int) and not isinstance(given, bool) and given >= 1 else None
    return ConfigSchedule("deepspeed", s, "step", steps_per_epoch=spe, total=total)
