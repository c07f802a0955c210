"""mmengine's parameter schedulers (placeholder until its converter lands)."""

from __future__ import annotations

from typing import Any

__all__ = ["is_mmengine", "builder"]


def is_mmengine(obj: Any) -> bool:
    items = obj if isinstance(obj, (list, tuple)) else [obj]
    return bool(items) and all(any(c.__module__.startswith("mmengine.") for c in type(x).__mro__) for x in items)


def builder(obj: Any, epoch_length: Any) -> Any:
    raise TypeError("mmengine schedulers are not converted yet")
