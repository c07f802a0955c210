"""transformers' schedules (``get_scheduler`` and ``get_*_schedule_with_warmup``) as lrkit schedules.

transformers builds each schedule as a ``torch.optim.lr_scheduler.LambdaLR`` whose
function is a ``functools.partial`` of one of its factor functions, so the settings
are the partial's keywords. With ``b`` the group's base lr, ``W`` the warmup steps,
``N`` the training steps and ``D = max(1, N - W)``:

============================  ===========================================================
transformers name             lrkit schedule
============================  ===========================================================
constant                      ``Constant(b)``
constant_with_warmup          ``Warmup(Constant(b), W)``
linear                        ``Warmup(Linear(b, D), W)`` (0 from ``N`` on)
cosine                        ``Warmup(Cosine(b, D, cycles=c, after="continue"), W)``: past
                              ``N`` it goes back up, as transformers' function does
cosine_with_restarts          ``Warmup(Hold(CosineRestarts(b, D / c), D, 0), W)``
polynomial                    ``Warmup(Polynomial(b, N - W, b * lr_end / lr_init, power), W)``
                              (``lr_init`` = ``optimizer.defaults["lr"]``); with ``W > N``
                              the warmup, then ``b * lr_end / lr_init``
inverse_sqrt                  ``Warmup(InverseSqrt(b, timescale), W)``
cosine_with_min_lr            as cosine, with ``min_lr = b * min_lr_rate``
cosine_warmup_with_min_lr     a warmup ``(t + 1) / W`` (or from ``warmup_lr_rate``) and the
                              cosine one step ahead: ``Shift(..., 1)``
warmup_stable_decay           ``Warmup(Sequence([Constant(b), decay, Constant(m b)]), W,
                              shape, start_lr=m b)`` with ``m = min_lr_ratio``
============================  ===========================================================
"""

from __future__ import annotations

import functools
from typing import Any

from ..core import Schedule
from ..schedules.compose import Hold, Warmup
from ..schedules.cycles import CosineRestarts
from ..schedules.decays import Constant, Cosine, InverseSqrt, Linear, Polynomial, WarmupStableDecay
from . import chain, ramp_then, shifted, unconvertible

__all__ = ["is_transformers_lambda", "convert"]

_MODULE = "transformers.optimization"


def is_transformers_lambda(fn: Any) -> bool:
    """Whether ``fn`` is one of transformers' schedule factor functions (or a partial of one)."""
    f = fn.func if isinstance(fn, functools.partial) else fn
    return getattr(f, "__module__", None) == _MODULE


def _warm(W: float, tail: Schedule) -> Schedule:
    # t / max(1, W) before W: from 0 up to the tail's first value b (tail(0) = b here)
    return Warmup(tail, W) if W > 0 else tail


def convert(fn: Any, base: float) -> Schedule:
    """The schedule ``base * fn(t)`` for a transformers factor function ``fn``."""
    f = fn.func if isinstance(fn, functools.partial) else fn
    kw = dict(fn.keywords) if isinstance(fn, functools.partial) else {}
    if fn.args if isinstance(fn, functools.partial) else False:
        raise unconvertible(fn, "a partial with positional arguments")
    name = f.__name__
    b = base
    if name == "_get_constant_lambda":
        return Constant(b)
    W = float(kw.get("num_warmup_steps", 0))
    if name == "_get_constant_schedule_with_warmup_lr_lambda":
        return _warm(W, Constant(b))
    N = float(kw.get("num_training_steps", 0))
    D = max(1.0, N - W)
    if name == "_get_linear_schedule_with_warmup_lr_lambda":
        if N <= W:  # (N - t) / 1 <= 0 after the warmup: 0
            return ramp_then(0.0, b, W, Constant(0.0))
        return _warm(W, Linear(b, D))
    if name == "_get_cosine_schedule_with_warmup_lr_lambda":
        c = float(kw["num_cycles"])
        rate = float(kw.get("min_lr_rate", 0.0))
        return _warm(W, _cosine(b, D, c, rate))
    if name == "_get_cosine_with_hard_restarts_schedule_with_warmup_lr_lambda":
        c = float(kw["num_cycles"])
        if c <= 0:  # cos(0): the base lr until N, then 0
            tail = chain([(D, Constant(b)), (0.0, Constant(0.0))])
        else:
            tail = Hold(CosineRestarts(b, D / c), D, 0.0)
        return _warm(W, tail)
    if name == "_get_polynomial_decay_schedule_with_warmup_lr_lambda":
        end, init, power = float(kw["lr_end"]), float(kw["lr_init"]), float(kw["power"])
        lo = b * end / init  # lr_end is absolute for optimizer.defaults["lr"]; other groups keep the ratio
        if N == W:
            raise unconvertible(
                fn, f"num_training_steps = num_warmup_steps ({N:g}): transformers divides by zero at that step"
            )
        if N < W:  # the warmup t / W, then past N already: lr_end / lr_init
            return ramp_then(0.0, b, W, Constant(lo))
        if power == 0:  # pct ** 0 = 1 up to N (0 ** 0 included), lr_end after
            return _warm(W, chain([(N - W + 1, Constant(b)), (0.0, Constant(lo))]))
        return _warm(W, Polynomial(b, N - W, lo, power))
    if name == "_get_inverse_sqrt_schedule_lr_lambda":
        ts = float(kw["timescale"])
        return _warm(W, InverseSqrt(b, ts))
    if name == "_get_cosine_with_min_lr_schedule_with_warmup_lr_rate_lambda":
        c = float(kw["num_cycles"])
        rate = float(kw.get("min_lr_rate") or 0.0)
        r_w = kw.get("warmup_lr_rate")
        cos = _cosine(b, D, c, rate)
        if r_w is None:  # (t + 1) / W: the whole schedule one step ahead
            return shifted(_warm(W, cos), 1.0)
        r_w = float(r_w)
        # from r_w b up to b over W - 1 steps, the cosine from there (its progress is
        # (t - W + 1) / D); with W = 1: r_w b at 0, then the cosine one step ahead
        if W <= 0:
            return shifted(cos, 1.0)
        if W <= 1:
            return chain([(1.0, Constant(r_w * b)), (0.0, shifted(cos, 1.0))])
        return Warmup(cos, W - 1, start_lr=r_w * b)
    if name == "_get_wsd_scheduler_lambda":
        return _wsd(fn, kw, b, W)
    raise unconvertible(fn, f"transformers' {name} is not a closed-form schedule lrkit knows")


def _cosine(b: float, D: float, cycles: float, rate: float) -> Schedule:
    # 0.5 (1 + cos(2 pi c p)) (1 - r) + r, p = t / D, not held past D
    return Cosine(b, D, b * rate, cycles=cycles, after="continue")


def _wsd(fn: Any, kw: dict[str, Any], b: float, W: float) -> Schedule:
    S, Dd = float(kw["num_stable_steps"]), float(kw["num_decay_steps"])
    m, c = float(kw["min_lr_ratio"]), float(kw.get("num_cycles", 0.5))
    lo = b * m
    kind = kw["decay_type"]
    if Dd > 0:
        if kind == "linear":
            decay: Schedule = Linear(b, Dd, lo)
        elif kind == "cosine":
            decay = Cosine(b, Dd, lo, cycles=c)
        elif kind == "1-sqrt":
            decay = WarmupStableDecay(b, Dd, Dd, lo, "1-sqrt")
        else:
            raise unconvertible(fn, f"decay_type {kind!r}")
        rest = chain([(S, Constant(b)), (Dd, decay), (0.0, Constant(lo))])
    else:
        rest = chain([(S, Constant(b)), (0.0, Constant(lo))])
    if W <= 0:
        return rest
    shape = kw["warmup_type"]
    if shape not in ("linear", "cosine", "1-sqrt"):
        raise unconvertible(fn, f"warmup_type {shape!r}")
    if rest(0.0) != b:  # no stable or decay phase: the warmup still aims at b
        return chain([(W, Warmup(Constant(b), W, shape, start_lr=lo)), (0.0, rest)])
    return Warmup(rest, W, shape, start_lr=lo)
