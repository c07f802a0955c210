"""The plateau schedulers of torch, transformers, timm, mmengine and Paddle as a :class:`~lrkit.plateau.Plateau`.

A plateau scheduler's lr is not a function of the step (it follows a metric), so its
conversion is not a schedule: it is the policy that decides as the peer does, **with the peer's
state now** (its current learning rates, ``best``, the bad-observation count, the cooldown
counter; mmengine's step count, timm's warmup), so that ``policy.observe(metric)`` (timm:
``policy.step(epoch, metric)``) continues exactly where the peer would: after every later call
``policy.lrs`` are the lrs the peer writes. :func:`lrkit.torch.from_torch` and
:func:`lrkit.paddle.from_paddle` return it for these schedulers; to drive a torch optimizer with
it, use :class:`lrkit.torch.ReduceLROnPlateau` (whose state is torch's), or put it on a plan
with ``ScheduleLR(optimizer, plan, plateau=policy)``.

=========================================================  ======================
peer                                                       result
=========================================================  ======================
``torch.optim.lr_scheduler.ReduceLROnPlateau`` (and        ``Plateau.torch``
transformers' ``get_scheduler("reduce_lr_on_plateau")``)
``timm.scheduler.PlateauLRScheduler``                      ``Plateau.timm``
``mmengine.optim.ReduceOnPlateauLR``                       ``Plateau.mmengine``
``paddle.optimizer.lr.ReduceOnPlateau``                    ``Plateau.paddle``
=========================================================  ======================

This module imports no framework (it reads the peer's attributes).
"""

from __future__ import annotations

import math
from typing import Any

from ..plateau import Plateau
from . import unconvertible

__all__ = ["is_plateau", "plateau_of"]

_TORCH = ("ReduceLROnPlateau",)
_PADDLE = ("ReduceOnPlateau",)
_MMENGINE = ("ReduceOnPlateauLR", "ReduceOnPlateauParamScheduler", "ReduceOnPlateauMomentum")
_TIMM = ("PlateauLRScheduler",)


def _mro_names(obj: Any) -> list[tuple[str, str]]:
    return [(c.__module__, c.__name__) for c in type(obj).__mro__]


def _kind(obj: Any) -> str | None:
    for mod, name in _mro_names(obj):
        if name in _TORCH and (mod.startswith("torch.") or mod == "lrkit.torch"):
            return "torch"
        if name in _PADDLE and (mod.startswith("paddle.") or mod == "lrkit.paddle"):
            return "paddle"
        if name in _MMENGINE and mod.startswith("mmengine."):
            return "mmengine"
        if name in _TIMM and mod.startswith("timm."):
            return "timm"
    return None


def is_plateau(obj: Any) -> bool:
    """Whether ``obj`` is one of the plateau schedulers :func:`plateau_of` takes."""
    return _kind(obj) is not None


def _f(x: Any) -> float:
    return float(x.item()) if hasattr(x, "item") else float(x)


def _enc(x: float | None) -> float | str | None:
    if x is None or math.isfinite(x):
        return x
    return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")


def _with_state(p: Plateau, best: Any, bad: Any, cooldown: Any, **extra: Any) -> Plateau:
    st = p.state_dict()
    st.update(
        best=_enc(None if best is None else _f(best)),
        num_bad_epochs=int(bad),
        cooldown_counter=int(cooldown),
        **extra,
    )
    p.load_state_dict(st)
    return p


def plateau_of(scheduler: Any) -> Plateau:
    """The :class:`~lrkit.plateau.Plateau` deciding as ``scheduler`` does, from its state now.

    >>> import torch
    >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    >>> peer = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)
    >>> for m in [1.0, 0.9, 0.95]:
    ...     peer.step(m)
    >>> p = plateau_of(peer)                    # mid-patience: one bad observation so far
    >>> p.observe(0.97), p.lrs, p.num_bad_epochs
    (True, (0.05,), 0)
    """
    kind = _kind(scheduler)
    if kind == "torch":
        s = scheduler
        if getattr(s, "param_name", "lr") != "lr":
            raise unconvertible(s, f"it drives {s.param_name!r}, not the lr")
        lrs = [_f(g["lr"]) for g in s.optimizer.param_groups]
        mins = list(s.min_lrs)
        if len(mins) != len(lrs):  # groups added since: torch's rule at its next reduction
            if s.default_min_lr is None:
                raise unconvertible(s, f"it has {len(mins)} min_lrs for {len(lrs)} param groups (torch fails too)")
            mins = [s.default_min_lr] * len(lrs)
        p = Plateau.torch(
            s.mode,
            s.factor,
            s.patience,
            s.threshold,
            s.threshold_mode,
            s.cooldown,
            [float(m) for m in mins],
            s.eps,
            lr=lrs,
        )
        return _with_state(p, s.best, s.num_bad_epochs, s.cooldown_counter)
    if kind == "paddle":
        s = scheduler
        p = Plateau.paddle(
            float(s.last_lr),
            s.mode,
            s.factor,
            s.patience,
            s.threshold,
            s.threshold_mode,
            s.cooldown,
            float(s.min_lr),
            s.epsilon,
        )
        return _with_state(p, s.best, s.num_bad_epochs, s.cooldown_counter)
    if kind == "mmengine":
        s = scheduler
        if getattr(s, "param_name", "lr") != "lr":
            raise unconvertible(s, f"it drives {s.param_name!r}, not the lr")
        lrs = [_f(g["lr"]) for g in s.optimizer.param_groups]
        p = Plateau.mmengine(
            s.monitor,
            s.rule,
            s.factor,
            s.patience,
            s.threshold,
            s.threshold_rule,
            s.cooldown,
            [float(m) for m in s.min_values],
            s.eps,
            int(s.begin),
            int(s.end),
            lr=lrs,
        )
        return _with_state(p, s.best, s.num_bad_epochs, s.cooldown_counter, ticks=int(s._global_step))
    if kind == "timm":
        s = scheduler
        if getattr(s, "noise_range_t", None) is not None:
            raise unconvertible(s, "noise (noise_range_t) makes the lr random; set noise_range_t=None")
        inner = s.lr_scheduler
        groups = s.optimizer.param_groups
        p = Plateau.timm(
            inner.factor,
            inner.patience,
            inner.threshold,
            inner.cooldown,
            int(s.warmup_t),
            float(s.warmup_lr_init),
            float(inner.min_lrs[0]),
            inner.mode,
            lr=[float(b) for b in s.base_values],
            lr_scale=[g.get("lr_scale") for g in groups],
        )
        p = _with_state(p, inner.best, inner.num_bad_epochs, inner.cooldown_counter)
        st = p.state_dict()
        st["lrs"] = [_f(g["lr"]) for g in groups]
        p.load_state_dict(st)
        return p
    raise TypeError(f"not a plateau scheduler of torch, timm, mmengine or Paddle: {type(scheduler).__qualname__}")
