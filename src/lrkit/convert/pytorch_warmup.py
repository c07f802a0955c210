"""pytorch-warmup's warmups (placeholder until its converter lands)."""

from __future__ import annotations

from typing import Any

__all__ = ["builder"]


def builder(main: Any, warmup: Any, build: Any) -> Any:
    raise TypeError("pytorch-warmup warmups are not converted yet")
