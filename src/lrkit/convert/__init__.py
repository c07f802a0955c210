"""Conversions of the schedulers users already have into native lrkit schedules.

Each peer has its own module, which reads the peer object's settings (never its
code) and builds the lrkit schedule with the same values:

* :mod:`lrkit.convert.torch` — PyTorch's ``torch.optim.lr_scheduler`` classes, and
  :func:`~lrkit.convert.torch.from_torch`, which dispatches the schedulers other
  libraries build on torch's optimizers to their modules;
* :mod:`lrkit.convert.paddle` — Paddle's ``paddle.optimizer.lr`` classes;
* :mod:`lrkit.convert.transformers` — the ``LambdaLR`` objects of transformers'
  ``get_scheduler`` and ``get_*_schedule_with_warmup`` functions;
* :mod:`lrkit.convert.timm` — timm's ``CosineLRScheduler``, ``TanhLRScheduler``,
  ``PolyLRScheduler``, ``StepLRScheduler``, ``MultiStepLRScheduler``;
* :mod:`lrkit.convert.mmengine` — mmengine's parameter schedulers, alone or as a list
  stepped by its ``ParamSchedulerHook``;
* :mod:`lrkit.convert.pytorch_warmup` — pytorch-warmup's warmups over a main scheduler;
* :mod:`lrkit.convert.keras` — Keras 3's ``LearningRateSchedule`` classes.
* :mod:`lrkit.convert.deepspeed` — DeepSpeed's schedulers and its JSON ``scheduler`` section;
* :mod:`lrkit.convert.ppdet`, :mod:`lrkit.convert.ppcls` — PaddleDetection's and
  PaddleClas's lr configs.

The entry points are :func:`lrkit.torch.from_torch` (torch, transformers, timm,
mmengine, pytorch-warmup, DeepSpeed), :func:`lrkit.paddle.from_paddle` and
:func:`lrkit.keras.from_keras` (:func:`lrkit.schedule_of` picks one); none of these
modules imports its peer, and none imports a binding (the bindings import them). What
cannot be converted raises ``TypeError`` naming the class and the reason. Below: the
helpers the converters share.
"""

from __future__ import annotations

import math
from typing import Any

from ..core import Schedule
from ..schedules.algebra import Ramp, Shift
from ..schedules.compose import Scale, Sequence
from ..schedules.decays import Constant

__all__: list[str] = []


def qualname(obj: Any) -> str:
    """``module.Class`` of an object, as error messages name it."""
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def unconvertible(obj: Any, why: str) -> TypeError:
    return TypeError(f"cannot convert {qualname(obj)}: {why}")


def chain(parts: list[tuple[float, Schedule]]) -> Schedule:
    """The schedules ``parts = [(length, schedule), ...]`` one after the other (each on its
    own clock); the last one's length is ignored. Parts of length 0 are left out."""
    kept = [(n, s) for n, s in parts[:-1] if n > 0] + [parts[-1]]
    if len(kept) == 1:
        return kept[0][1]
    bounds, at = [], 0.0
    for n, _ in kept[:-1]:
        at += n
        bounds.append(at)
    return Sequence([s for _, s in kept], bounds)


def ramp_then(start: float, end: float, length: float, tail: Schedule) -> Schedule:
    """A linear ramp from ``start`` to ``end`` over ``length`` positions, then ``tail``
    on its own clock (no ramp when ``length`` is 0)."""
    if length <= 0:
        return tail
    return chain([(length, Ramp(start, end, length)), (0.0, tail)])


def shifted(s: Schedule, offset: float) -> Schedule:
    return s if offset == 0 else Shift(s, offset)


def scaled(s: Schedule, factor: float) -> Schedule:
    if factor == 1.0:
        return s
    if isinstance(s, Constant):
        return Constant(s.lr * factor)
    return Scale(s, factor)


def multistep(peak: float, milestones: Any, gamma: float) -> Schedule:
    """``peak * gamma ** (how many milestones are <= t)``, for any list of milestones:
    those at or before 0 apply from the start, repeated ones once per repetition."""
    from collections import Counter

    from ..schedules.algebra import Product
    from ..schedules.decays import MultiStep

    counts = Counter(float(m) for m in milestones)
    at_start = sum(c for m, c in counts.items() if m <= 0)
    counts = Counter({m: c for m, c in counts.items() if m > 0})
    top = peak * gamma**at_start if at_start else peak
    if not counts:
        return Constant(top)
    layers: list[Schedule] = [MultiStep(top, sorted(counts), gamma)]
    for k in range(2, max(counts.values()) + 1):
        layers.append(MultiStep(1.0, sorted(m for m, c in counts.items() if c >= k), gamma))
    return layers[0] if len(layers) == 1 else Product(layers)


class RunningProduct:
    """``base * fn(1) * fn(2) * ... * fn(n)`` with ``n = floor(t)`` (``base`` for ``t < 1``),
    multiplied in that order: the lr of PyTorch's ``MultiplicativeLR`` and Paddle's
    ``MultiplicativeDecay`` after ``t`` steps. ``fn`` is the user's own function, so a
    schedule built on this stays a callable (not a config). Products are kept, so each
    position costs its new factors only. Picklable when ``fn`` is.
    """

    __slots__ = ("fn", "base", "_done")

    def __init__(self, fn: Any, base: float) -> None:
        self.fn, self.base = fn, float(base)
        self._done = [self.base]

    def __call__(self, t: float) -> float:
        import math

        n = max(0, math.floor(t))
        done = self._done
        while len(done) <= n:
            done.append(done[-1] * float(self.fn(len(done))))
        return done[n]

    def __eq__(self, other: object) -> bool:
        return type(other) is RunningProduct and (other.fn, other.base) == (self.fn, self.base)

    def __hash__(self) -> int:
        return hash((self.fn, self.base))

    def __repr__(self) -> str:
        return f"RunningProduct({getattr(self.fn, '__qualname__', self.fn)!r}, {self.base!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (RunningProduct, (self.fn, self.base))


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


#: Schedulers no conversion can give, with the reason (torch's and Paddle's names).
NOT_CLOSED_FORM = {
    "ReduceLROnPlateau": "it follows a metric (e.g. the validation loss), so its lr is not a function "
    "of the step; keep it, or choose a fixed schedule",
    "GreedyLR": "it follows the training metrics it is given (raising or lowering the lr as they improve "
    "or plateau), so its lr is not a function of the step; keep it, or choose a fixed schedule",
    "ReduceOnPlateau": "it follows a metric (e.g. the validation loss), so its lr is not a function "
    "of the step; keep it, or choose a fixed schedule",
}
