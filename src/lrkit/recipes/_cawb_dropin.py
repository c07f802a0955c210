"""The counters of the CosineAnnealingWarmbootingLR drop-ins, shared by PyTorch's and Paddle's.

Framework-free: the original CAWB's counters and arithmetic step by step, and the check
of a saved state; the drop-in classes (:mod:`lrkit.recipes.torch_dropins`,
:mod:`lrkit.recipes.paddle_dropins`) write the lrs.

The boundaries are ``B = [warmup_epoch] + sorted(steps) + [epochs]`` (the steps between the two):

>>> c = CawbCounters()
>>> c._init_counters(150, 0.05, [100, 50], 0.8, None, 4, 0, 1.0)
>>> c.steps
[0.0, 50.0, 100.0, 150.0]
>>> cawb_state_keys({"iters": 3})
Traceback (most recent call last):
...
ValueError: not a CosineAnnealingWarmbootingLR state dict: missing ['base_lr', 'iters_batch', 'last_epoch']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .. import _check
from ._dropin import _drop_in_warning
from .cawb import CAWB, cawb_lf

__all__ = ["CawbCounters", "cawb_state_keys"]


def cawb_state_keys(state: Any) -> None:
    """``ValueError`` unless ``state`` is a mapping with the CAWB drop-ins' entries."""
    if not isinstance(state, Mapping):
        raise ValueError(f"not a CosineAnnealingWarmbootingLR state dict, got {_check.show(state)}")
    missing = {"iters", "iters_batch", "last_epoch", "base_lr"} - set(state)
    if missing:
        raise ValueError(f"not a CosineAnnealingWarmbootingLR state dict: missing {sorted(missing)}")


class CawbCounters:
    """The original CAWB's counters and arithmetic, framework-free, for the drop-ins.

    The class using it writes the lrs. The values follow the original step by step:
    its attributes (``steps``: the boundaries, ``gap``, ``eta_min``, ``step_scale``,
    ``lf``, ``epoch_scale``, ``warmup_iters``, ``iters``, ``iters_batch``,
    ``last_epoch``) have the original's values, ``gap`` keeps its history between
    calls as the original's does, and every input on which the original returns a
    finite value gives that value -- with a :class:`~lrkit.recipes.DropInWarning`
    where it is probably a mistake. :attr:`schedule` is the same curve as an lrkit
    :class:`~lrkit.recipes.CAWB` schedule (``None`` when the arguments are valid for
    the drop-in only, e.g. ``warmup_epoch > epochs``).
    """

    schedule: CAWB | None
    iters: int
    iters_batch: int
    last_epoch: Any
    warmup_iters: float

    _CLASS = "CosineAnnealingWarmbootingLR"

    def _init_counters(
        self,
        epochs: float,
        eta_min: float,
        steps: Iterable[float],
        step_scale: float,
        lf: Callable[[float, float], float] | None,
        batchs: int,
        warmup_epoch: float,
        epoch_scale: float,
    ) -> None:
        E = _check.real("epochs", epochs)
        eta = _check.real("eta_min", eta_min)
        if isinstance(steps, (str, bytes)) or not hasattr(steps, "__iter__"):
            raise TypeError(f"steps must be a list of epoch numbers, got {_check.show(steps)}")
        st = [_check.real(f"steps[{i}]", v) for i, v in enumerate(_check.items("steps", steps))]
        ss = _check.rate("step_scale", step_scale)
        nb = _check.rate("batchs", batchs)
        we = _check.real("warmup_epoch", warmup_epoch)
        es = _check.real("epoch_scale", epoch_scale)
        if lf is not None and not callable(lf):
            raise TypeError(f"lf must be None or a function lf(x, gap), got {_check.show(lf)}")
        if not E > 0:
            # the original's only segment would have no length: it divides by zero
            raise ValueError(f"epochs must be > 0, got {_check.show(epochs)}")
        self._warned: set[str] = set()
        if not nb.is_integer():
            self._warn("batchs", f"batchs={batchs!r} is not a whole number of batches per epoch")
        if we >= E:
            self._warn(
                "warmup_epoch",
                f"warmup_epoch={warmup_epoch!r} is not below epochs={epochs!r}: the cosine segment runs backwards",
            )
        if not 0 <= eta <= 1:
            self._warn("eta_min", f"eta_min={eta_min!r} is a ratio of the base lr, normally in [0, 1]")
        if we < 0:
            self._warn("warmup_epoch", f"warmup_epoch={warmup_epoch!r} is negative")
        self.steps = [we] + [v for v in sorted(st) if we < v < E] + [E]
        self.gap = 0
        self.eta_min, self.step_scale, self.lf, self.epoch_scale = eta, ss, lf, es
        self.warmup_iters = nb * we
        n = len(self.steps) - 1
        scales = [1.0]
        for _ in range(n):
            scales.append(scales[-1] * ss)
        self._scales = scales
        self._gaps = [self.steps[i + 1] - self.steps[i] + (es if i != n - 1 else 0.0) for i in range(n)]
        self._ends = self.steps[1:]
        try:
            self.schedule = CAWB(E, eta, st, ss, lf, nb, we, es)
        except (ValueError, TypeError):
            self.schedule = None
        self.iters = -1
        self.iters_batch = -1

    def _warn(self, key: str, text: str) -> None:
        """A :class:`~lrkit.recipes.DropInWarning`, once per kind of oddity per scheduler."""
        if key not in self._warned:
            self._warned.add(key)
            _drop_in_warning("CosineAnnealingWarmbootingLR", text)

    def _next_epoch(self, external_iter: Any) -> int:
        """``step()``'s counter: one more epoch, or ``external_iter`` when given."""
        if external_iter is not None:
            _check.real("external_iter", external_iter)
            self.iters = external_iter
        else:
            self.iters += 1
        return self.iters

    def _epoch_terms(self, iters: Any) -> tuple[float, float]:
        """``(scale, factor)`` of the original's ``step()`` at counter ``iters``; updates ``gap`` as it does."""
        import bisect

        t = iters + self.last_epoch
        ends = self._ends
        # the original walks the segments in order; the boundaries are sorted: a bisection
        i = bisect.bisect_left(ends, t)
        if i < len(ends):
            gap, x, scale = self._gaps[i], t - self.steps[i], self._scales[i]
        else:
            gap, x, scale = self.gap, t, self._scales[-1]
            self._warn(
                "past_end",
                f"position {t!r} is past epochs={self.steps[-1]!r}: the original's curve "
                "goes on there (the cosine of the unshifted position)",
            )
        if gap == 0:
            raise ValueError(
                f"CAWB step at position {t!r}: the segment length (gap) is 0, so the original "
                "divides by zero here (no step inside the run has been taken yet?)"
            )
        factor = cawb_lf(self.lf, self.eta_min, x, gap)
        if not math.isfinite(factor) or not math.isfinite(scale * factor):
            raise ValueError(
                f"CAWB step at position {t!r}: lf({x!r}, {gap!r}) * step_scale ** {i} = "
                f"{scale * factor!r}, not a finite number"
            )
        if factor < 0 or scale * factor < 0:
            self._warn(
                "negative",
                f"the lr at position {t!r} is negative (lf({x!r}, {gap!r}) = {factor!r}); "
                "the original's value is applied",
            )
        self.gap = gap
        return scale, factor

    def _step_terms(self, external_iter: Any) -> tuple[float, float]:
        """``step()``'s counter moved and its ``(scale, factor)``; a step that raises changes nothing."""
        old = (self.iters, self.gap)
        try:
            return self._epoch_terms(self._next_epoch(external_iter))
        except (ValueError, TypeError):
            self.iters, self.gap = old
            raise

    def _next_batch(self) -> float | None:
        """``step_batch()``'s warmup factor at its next counter (``None`` after the warmup)."""
        self.iters_batch += 1
        if self.iters_batch < self.warmup_iters:
            return self.iters_batch / self.warmup_iters
        return None

    def _counter_state(self) -> dict[str, Any]:
        return {
            "class": self._CLASS,
            "iters": self.iters,
            "iters_batch": self.iters_batch,
            "last_epoch": self.last_epoch,
            "gap": self.gap,
            "steps": list(self.steps),
        }

    def _restore_counters(self, state_dict: Any, strict: bool = True) -> None:
        """Check a saved state and restore the counters from it (nothing changes if it is refused)."""
        c = _check
        if not isinstance(state_dict, Mapping):
            raise ValueError(f"not a CosineAnnealingWarmbootingLR state dict, got {c.show(state_dict)}")
        if state_dict.get("class", self._CLASS) != self._CLASS:
            raise ValueError(f"this state was saved by {state_dict['class']!r}, not by {self._CLASS!r}")
        missing = {"iters", "iters_batch", "last_epoch", "base_lr"} - set(state_dict)
        if missing:
            raise ValueError(f"not a CosineAnnealingWarmbootingLR state dict: missing {sorted(missing)}")
        if strict and "steps" in state_dict and list(state_dict["steps"]) != list(self.steps):
            raise ValueError(
                f"the state was saved with boundaries {state_dict['steps']!r} but this scheduler has "
                f"{self.steps!r}; load it with strict=False to go on with the new ones"
            )
        values = {}
        for k in ("iters", "iters_batch"):
            v = state_dict[k]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (v >= -1 and float(v).is_integer()):
                raise ValueError(f"the state's {k} must be a whole number >= -1, got {c.show(v)}")
            values[k] = int(v)
        values["last_epoch"] = c.real("the state's last_epoch", state_dict["last_epoch"])
        values["gap"] = c.real("the state's gap", state_dict.get("gap", self.gap))
        self.iters, self.iters_batch, self.gap = values["iters"], values["iters_batch"], values["gap"]
        le = values["last_epoch"]
        self.last_epoch = int(le) if le.is_integer() else le
