"""PyTorch's schedulers as lrkit schedules: :func:`from_torch` (public as :func:`lrkit.torch.from_torch`).

Each converter reads a torch scheduler's constructor arguments (never its code) and
builds the lrkit schedule with the same lr at every step. :func:`from_torch` is also the
entry point for the schedulers other libraries build on torch's optimizers: it
dispatches to :mod:`lrkit.convert.transformers` (through ``LambdaLR``),
:mod:`lrkit.convert.timm`, :mod:`lrkit.convert.mmengine`,
:mod:`lrkit.convert.pytorch_warmup` and :mod:`lrkit.convert.deepspeed`.

This module does not import torch: a torch scheduler exists only once torch is
imported, and the table of torch's classes is made on first use.
"""

from __future__ import annotations

import math
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

from ..core import Schedule
from ..plateau import Plateau
from ..schedules.algebra import Product, Shift
from ..schedules.compose import FunctionSchedule, IntPositions, Scale, Sequence, Warmup
from ..schedules.cycles import CosineRestarts, Cyclic
from ..schedules.decays import Constant, Cosine, Exponential, Linear, MultiStep, OneCycle, Polynomial, Step
from . import NOT_CLOSED_FORM, RunningProduct, pct_start, unconvertible
from . import deepspeed as _ds
from . import mmengine as _mm
from . import plateau as _plateau
from . import pytorch_warmup as _pw
from . import timm as _timm
from . import transformers as _hf
from .deepspeed import from_deepspeed

__all__ = ["from_torch", "from_deepspeed"]

_INF = float("inf")


class _TorchSchedulers:
    """``torch.optim.lr_scheduler``, imported when first read (a torch scheduler exists by
    then, so torch is loaded already)."""

    def __getattr__(self, name: str) -> Any:
        from torch.optim import lr_scheduler

        return getattr(lr_scheduler, name)


_tl = _TorchSchedulers()


def _plain(v: Any) -> float:
    """A value of a scheduler or a param group as a Python float (tensors included)."""
    torch = sys.modules.get("torch")
    return float(v.item()) if torch is not None and isinstance(v, torch.Tensor) else float(v)


def _step(s: Any, g: int, base: float) -> Schedule:
    return Step(base, float(s.step_size), s.gamma)


def _multistep(s: Any, g: int, base: float) -> Schedule:
    counts = Counter({int(k): v for k, v in s.milestones.items() if k >= 0 and v > 0})
    peak = base * s.gamma ** counts.pop(0, 0)  # a milestone at 0 applies at construction
    if all(v == 1 for v in counts.values()):
        return MultiStep(peak, sorted(counts), s.gamma)
    # Repeated milestones multiply by gamma once per repetition: one layer per repetition.
    layers = [MultiStep(peak, sorted(counts), s.gamma)]
    for k in range(2, max(counts.values()) + 1):
        layers.append(MultiStep(1.0, sorted(m for m, c in counts.items() if c >= k), s.gamma))
    return Product(layers)


def _exponential(s: Any, g: int, base: float) -> Schedule:
    if s.gamma == 0:
        return Exponential(base, 0.0, staircase=True)
    return Exponential(base, s.gamma)


def _cosine(s: Any, g: int, base: float) -> Schedule:
    # past T_max torch goes back up along the cosine (its closed form and its recurrence both)
    return Cosine(base, s.T_max, s.eta_min, after="continue")


def _restarts(s: Any, g: int, base: float) -> Schedule:
    return CosineRestarts(base, s.T_0, s.T_mult, s.eta_min)


def _linear(s: Any, g: int, base: float) -> Schedule:
    a, b, n = s.start_factor, s.end_factor, s.total_iters
    if n == 0 or a == b:
        return Constant(base * a)  # torch applies start_factor at construction and never again
    if a < b:
        return Warmup(Constant(base * b), n, "linear", start_factor=a / b)
    return Linear(base * a, n, base * b)


def _constant(s: Any, g: int, base: float) -> Schedule:
    if s.total_iters <= 0:
        return Constant(base * s.factor)  # torch applies the factor at construction and never undoes it
    return Sequence([Constant(base * s.factor), Constant(base)], [s.total_iters])


def _polynomial(s: Any, g: int, base: float) -> Schedule:
    if s.total_iters == 0 or s.power == 0:
        return Constant(base)
    return Polynomial(base, s.total_iters, 0.0, s.power)


def _onecycle(s: Any, g: int, base: float) -> Schedule:
    group = s.optimizer.param_groups[g]
    phases = s._schedule_phases
    three = len(phases) == 3
    pct = pct_start(phases[0]["end_step"], s.total_steps, three, phases[1]["end_step"] if three else None)
    shape = "cosine" if getattr(s, "_anneal_func_type", "cos") == "cos" else "linear"
    return OneCycle(
        _plain(group["max_lr"]),
        s.total_steps,
        pct,
        shape,
        start_lr=_plain(group["initial_lr"]),
        min_lr=_plain(group["min_lr"]),
        three_phase=three,
    )


def _cyclic(s: Any, g: int, base: float) -> Schedule:
    if getattr(s, "_scale_fn_custom", None) is not None:
        raise unconvertible(
            s,
            "its scale_fn is your own function, so its lr is whatever that code computes "
            "(lrkit converts the modes 'triangular', 'triangular2' and 'exp_range'); "
            "write the schedule with lrkit's kinds, or keep CyclicLR",
        )
    L, r = s.total_size, s.step_ratio
    up = r * L
    if round(up) / L == r and L - round(up) > 0:
        up = float(round(up))  # the integer step sizes torch was given
    down = L - up
    return Cyclic(_plain(s.max_lrs[g]), up, down, min_lr=_plain(s.base_lrs[g]), mode=s.mode, gamma=s.gamma)


def _lambda(s: Any, g: int, base: float) -> Schedule:
    fn = s.lr_lambdas[g]
    if _hf.is_transformers_lambda(fn):  # one of transformers' schedules: a native schedule
        return _hf.convert(fn, base)
    return Scale(FunctionSchedule(IntPositions(fn)), base)


def _multiplicative(s: Any, g: int, base: float) -> Schedule:
    return FunctionSchedule(RunningProduct(s.lr_lambdas[g], base))


def _refuse(s: Any, why: str) -> TypeError:
    return unconvertible(s, why)


def _sequential(s: Any, g: int, base: float, lead: int = 0) -> Schedule:
    # ``lead``: how far this SequentialLR's own counter runs ahead of the position. Each
    # enclosing SequentialLR's constructor steps its first scheduler once more (and
    # undoes the steps of the leaves only), so a SequentialLR nested first in another
    # one switches ``lead`` steps early; its first leaf then got a step that is not an
    # initial one (see _ahead).
    kids, ms = list(s._schedulers), list(s._milestones)
    for i, c in enumerate(kids[1:], 1):
        if isinstance(c, (_tl.SequentialLR, _tl.ChainedScheduler)):
            raise _refuse(
                s,
                f"its scheduler {i} is a {type(c).__name__}: torch fails at milestone {ms[i - 1]} "
                f"(it sets that scheduler's lr from its closed form at 0, which {type(c).__name__} "
                "does not implement: NotImplementedError)",
            )
    bounds = [m - lead for m in ms]
    ahead = lead > 0
    k = sum(1 for b in bounds if b <= 0) if lead else 0
    if k:
        # milestones the outer constructors' steps have already passed: the scheduler they
        # switched to runs from position 0; switched to by the last of those steps (its
        # closed form at 0), it starts as usual, else a later constructor stepped it again
        ahead = not (bounds[k - 1] == 0 and ms[k - 1] >= 1)
        kids, bounds = kids[k:], bounds[k:]
    first = kids[0]
    if k and type(first) is _tl.MultiplicativeLR:
        ahead = True  # switched to or stepped at 0, from the base lr the constructor restored: lr * fn(0)
    if isinstance(first, _tl.SequentialLR):
        p0 = _sequential(first, g, base, lead + 1)
    elif isinstance(first, _tl.ChainedScheduler):
        p0 = _chained(first, g, base, lead=lead + 1)
    else:
        p0 = _build(first, g, base, ahead=ahead)
    if not bounds:
        return p0
    parts = [p0] + [_build(c, g, base) for c in kids[1:]]
    for i in range(1, len(parts)):
        if type(kids[i]) is _tl.MultiplicativeLR:
            # at its milestone torch calls its get_lr at epoch 0, which multiplies the lr
            # the previous scheduler left by fn(0) (it has no closed form to start from)
            prev = parts[0] if i == 1 else Sequence(parts[:i], bounds[: i - 1])
            fn = kids[i].lr_lambdas[g]
            left = prev(float(bounds[i - 1] - 1))
            parts[i] = FunctionSchedule(RunningProduct(fn, left * float(fn(0))))
    try:
        return Sequence(parts, bounds)
    except ValueError as e:
        raise ValueError(
            f"from_torch: SequentialLR milestones {ms!r}{f' (ahead by {lead})' if lead else ''}: {e}"
        ) from None


# Schedulers whose step multiplies the current lr by a factor that does not depend on
# it: chained together, their effects multiply.
_MULTIPLICATIVE = (
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "LinearLR",
    "ConstantLR",
    "PolynomialLR",
    "CosineAnnealingLR",
)


def _ahead(s: Any, g: int, base: float) -> Schedule:
    """The schedule of ``s`` whose first step was a regular step at epoch 0 (not torch's
    initial one), applied to the lr ``base``: what a scheduler gets first inside a nested
    SequentialLR or a ChainedScheduler inside a SequentialLR."""
    name = type(s).__name__
    conv = _converters()[type(s)]
    if name in (
        "StepLR",
        "MultiStepLR",
        "LinearLR",
        "ConstantLR",
        "LambdaLR",
        "CosineAnnealingWarmRestarts",
        "CyclicLR",
        "OneCycleLR",
    ):
        return conv(s, g, base)  # their step at epoch 0 is their initial value
    if name == "ExponentialLR":
        return conv(s, g, base * s.gamma)
    if name == "PolynomialLR":
        T = s.total_iters
        return conv(s, g, base * ((1.0 - 0 / T) / (1.0 - (0 - 1) / T)) ** s.power)
    if name == "MultiplicativeLR":
        return FunctionSchedule(RunningProduct(s.lr_lambdas[g], base * float(s.lr_lambdas[g](0))))
    if name == "CosineAnnealingLR":
        T, eta = s.T_max, s.eta_min
        if (0 - 1 - T) % (2 * T) == 0:
            raise _refuse(
                s,
                f"with T_max={T}, its first step inside a nested scheduler adds a term with the "
                "base lr (torch's recurrence), which lrkit does not reproduce",
            )
        r0 = (1 + math.cos(math.pi * 0 / T)) / (1 + math.cos(math.pi * (0 - 1) / T))
        v0 = r0 * (base - eta) + eta
        if T != int(T):  # torch's step adds its base-lr term at no whole step: scaled for ever
            return Cosine(v0, T, eta, after="continue")
        # scaled up to T_max (the recurrence multiplies lr - eta_min), then past it torch
        # adds (base - eta_min) (1 - cos(pi / T_max)) / 2 to eta_min: the plain cosine again
        return Sequence(
            [Cosine(v0, T, eta, after="continue"), Shift(Cosine(base, T, eta, after="continue"), T + 1)], [T + 1]
        )
    raise _refuse(
        s,
        "its first step inside a nested SequentialLR (or a ChainedScheduler in a SequentialLR) is "
        "a regular step at epoch 0, whose effect lrkit does not know for this class",
    )


def _settles(s: Any) -> float:
    """The step after which a multiplicative scheduler's step leaves the lr unchanged (inf: never)."""
    name = type(s).__name__
    if name == "MultiplicativeLR":
        return _INF  # its factor is the user's function
    if name in ("StepLR", "ExponentialLR"):
        return 0.0 if s.gamma == 1 else _INF
    if name == "MultiStepLR":
        return 0.0 if s.gamma == 1 else float(max((m for m, c in s.milestones.items() if c > 0), default=0))
    return float(s.total_iters)  # LinearLR, ConstantLR, PolynomialLR


def _leaves(s: Any) -> list:
    out = []
    for c in s._schedulers:
        out.extend(_leaves(c) if isinstance(c, _tl.ChainedScheduler) else [c])
    return out


def _chained(s: Any, g: int, base: float, lead: int | None = None) -> Schedule:
    # ``lead``: set when the chain is the first scheduler of a SequentialLR, whose
    # constructor steps it (a regular step of each of its schedulers at epoch 0)
    ahead = lead is not None
    leaves = _leaves(s)
    if len(leaves) == 1 and isinstance(leaves[0], _tl.SequentialLR):
        return _sequential(leaves[0], g, base, lead or 0)
    for i, c in enumerate(leaves):
        name = type(c).__name__
        if isinstance(c, _tl.SequentialLR):
            raise _refuse(
                s,
                f"element {i} is a SequentialLR among other schedulers: at its construction and at "
                "each milestone it sets the lr from its own base lr, discarding the other "
                "schedulers' factors, so the chain is not a product",
            )
        # Only schedulers that multiply the current lr by a factor of their own compose
        # into a product; one that sets the lr (LambdaLR, OneCycleLR...) would discard
        # the others' past factors.
        if name not in _MULTIPLICATIVE and name != "MultiplicativeLR":
            raise _refuse(
                s,
                f"element {i} is {name}, which sets the lr instead of multiplying it, so the "
                f"chain is not a product (chainable: {', '.join(_MULTIPLICATIVE)}, "
                "MultiplicativeLR)",
            )
        if name == "CosineAnnealingLR" and c.eta_min != 0:
            raise _refuse(
                s,
                f"element {i} is CosineAnnealingLR with eta_min={c.eta_min}: its step scales "
                "lr - eta_min, not the lr, so the chain is not a product",
            )
    cos = [i for i, c in enumerate(leaves) if type(c).__name__ == "CosineAnnealingLR"]
    if ahead and cos:
        raise _refuse(
            s,
            "it holds a CosineAnnealingLR and is nested in a SequentialLR: the cosine's first "
            "step is a regular one at epoch 0, whose effect on a chain lrkit does not reproduce",
        )
    facs = [_ahead(c, g, 1.0) if ahead else _build(c, g, 1.0) for c in leaves]
    whole = facs[0] if len(facs) == 1 else Product(facs)
    if not cos or len(leaves) == 1 or leaves[cos[0]].T_max != int(leaves[cos[0]].T_max):
        return Scale(whole, base)  # (a fractional T_max: torch's step never adds its base-lr term)
    if len(cos) > 1:
        raise _refuse(
            s,
            "it chains several CosineAnnealingLR: past T_max each one's step adds a term with the "
            "base lr to an lr the others have scaled, which is not a product of closed forms",
        )
    # Past T_max, once the cosine's factor is 0, torch's cosine step (at T_max + 1, then
    # every 2 T_max) adds base (1 - cos(pi / T_max)) / 2 to the lr: the chain starts again
    # from the cosine alone, the other factors counted from there on.
    i = cos[0]
    T = leaves[i].T_max
    settle = [0.0 if j == i else _settles(c) for j, c in enumerate(leaves)]
    F = max((f for j, f in enumerate(settle) if j != i), default=0.0)
    if F == _INF:
        j = next(k for k, f in enumerate(settle) if k != i and f == _INF)
        raise _refuse(
            s,
            f"past T_max={T}, torch's CosineAnnealingLR step adds a term with the base lr once its "
            f"factor reaches 0, and element {j} ({type(leaves[j]).__name__}) keeps scaling the lr "
            "after that: the chain's value is then no product of closed forms lrkit can express",
        )
    c0 = facs[i]
    parts: list[Schedule] = [whole]
    bounds: list[float] = []
    a = T + 1
    while True:
        if len(parts) > 1000:
            raise _refuse(
                s, f"past T_max={T} its value restarts every {2 * T} steps until step {F:g}: more than 1000 pieces"
            )
        if a - 1 >= F:
            parts.append(Shift(c0, a))
            bounds.append(a)
            break
        layers: list[Schedule] = [c0]
        for j, f in enumerate(facs):
            if j == i:
                continue
            ref = a - 1 if j > i else a  # the chain steps schedulers in order
            v = f(ref)
            if v == 0:
                if ref >= settle[j]:
                    continue
                raise _refuse(
                    s,
                    f"element {j} ({type(leaves[j]).__name__}) is 0 at step {ref} when the "
                    "cosine starts again and still changes after it",
                )
            layers.append(Scale(f, 1.0 / v))
        parts.append(Shift(Product(layers), a))
        bounds.append(a)
        a += 2 * T
    return Scale(Sequence(parts, bounds), base)


def _added_group(s: Any, g: int) -> Schedule:
    """Param group ``g`` added to the optimizer after ``s`` was built (``add_param_group``):
    torch's multiplicative steps drive it from its own lr; the others fail at their next step."""
    leaves = _leaves(s) if isinstance(s, _tl.ChainedScheduler) else [s]
    when = (
        "at its next milestone"
        if isinstance(s, _tl.SequentialLR)
        else "once its chain has a scheduler that sets the lr"
        if isinstance(s, _tl.ChainedScheduler)
        else "at its next step"
    )
    why = (
        f"param group {g} was added to the optimizer after it was built (add_param_group), and torch "
        f"fails {when} (it keeps one setting per group it was built with); convert the groups "
        f"it was built with (group=i), or build the scheduler after adding the group"
    )
    if any(type(c).__name__ not in _MULTIPLICATIVE for c in leaves):
        raise _refuse(s, why)
    lr = _plain(s.optimizer.param_groups[g]["lr"])
    facs, at = [], 1.0
    for c in leaves:
        if type(c).__name__ == "CosineAnnealingLR" and c.eta_min != 0:
            raise _refuse(
                s,
                f"param group {g} was added after it was built, and its CosineAnnealingLR "
                "(eta_min != 0) scales lr - eta_min: not a factor lrkit can apply to that group",
            )
        f = _build(c, 0, 1.0)
        v = f(float(c.last_epoch))
        if v == 0:
            raise _refuse(s, f"param group {g} was added after it was built, when its factor was 0")
        facs.append(f)
        at *= v
    # torch multiplies the group's lr (it has no initial_lr) by each step's factor:
    # lr * factor(t) / factor(now), whenever it was added (past T_max torch fails for a cosine)
    return Scale(facs[0] if len(facs) == 1 else Product(facs), lr / at)


def _is_added(s: Any, g: int) -> bool:
    if hasattr(s, "base_lrs"):
        return g >= len(s.base_lrs)
    return "initial_lr" not in s.optimizer.param_groups[g]


def _converters() -> dict[type, Callable[[Any, int, float], Schedule]]:
    """torch's scheduler classes and their converters (made on first use: torch is loaded then)."""
    if not _CONVERTERS:
        _CONVERTERS.update(_table())
    return _CONVERTERS


_CONVERTERS: dict[type, Callable[[Any, int, float], Schedule]] = {}


def _table() -> dict[type, Callable[[Any, int, float], Schedule]]:
    return {
        _tl.StepLR: _step,
        _tl.MultiStepLR: _multistep,
        _tl.ExponentialLR: _exponential,
        _tl.CosineAnnealingLR: _cosine,
        _tl.CosineAnnealingWarmRestarts: _restarts,
        _tl.LinearLR: _linear,
        _tl.ConstantLR: _constant,
        _tl.PolynomialLR: _polynomial,
        _tl.OneCycleLR: _onecycle,
        _tl.CyclicLR: _cyclic,
        _tl.LambdaLR: _lambda,
        _tl.MultiplicativeLR: _multiplicative,
        _tl.SequentialLR: _sequential,
        _tl.ChainedScheduler: _chained,
    }


def _build(s: Any, g: int, base: float | None, ahead: bool = False) -> Schedule:
    conv = _converters().get(type(s))
    if conv is None:
        if type(s).__name__ in NOT_CLOSED_FORM:
            raise unconvertible(s, NOT_CLOSED_FORM[type(s).__name__])
        supported = ", ".join(sorted(c.__name__ for c in _converters()))
        raise TypeError(
            f"from_torch does not support {type(s).__module__}.{type(s).__qualname__} (supported: {supported})"
        )
    if base is None:
        if _is_added(s, g):
            return _added_group(s, g)
        base = _plain(s.base_lrs[g]) if hasattr(s, "base_lrs") else _plain(s.optimizer.param_groups[g]["initial_lr"])
    if ahead:
        return _ahead(s, g, base)
    return conv(s, g, base)


def _pick(per_group: list[Schedule] | None, one: Schedule | None) -> Callable[[int], Schedule]:
    """Group ``g``'s schedule: ``per_group[g]``, else the one schedule of every group."""
    if per_group is not None:
        return lambda g: per_group[g]
    if one is None:
        raise TypeError("no schedule to give the groups")
    return lambda g: one


def from_torch(
    scheduler: Any, group: int | None = None, *, warmup: Any = None, epoch_length: float | None = None
) -> Schedule | list[Schedule] | Plateau:
    """The lrkit schedule equal to a PyTorch scheduler: ``schedule(t)`` = its lr after ``t`` steps.

    Built from the scheduler's constructor arguments (not its current state), so it
    can be called at any point of the scheduler's life. Besides torch's own, it takes
    the schedulers of transformers (``get_scheduler`` and the
    ``get_*_schedule_with_warmup`` functions), timm (``t`` = timm's position: epochs
    with ``t_in_epochs=True``, updates otherwise), mmengine (one, or a list stepped
    as its ``ParamSchedulerHook`` steps them; ``epoch_length=`` iterations per epoch:
    the position is then the iteration, required when epoch- and iteration-based ones
    are mixed), DeepSpeed (``WarmupLR``,
    ``WarmupDecayLR``, ``WarmupCosineLR``, ``OneCycle``; its JSON section converts with
    :func:`from_deepspeed`) and, with ``warmup=w``, pytorch-warmup's warmups around
    ``scheduler`` (see ``docs/coming-from.md``).
    Every result is a native schedule (a config, bindable anywhere), except that a
    user's own ``LambdaLR`` function stays a callable. torch's own: ``StepLR``,
    ``MultiStepLR``, ``ExponentialLR``, ``CosineAnnealingLR``,
    ``CosineAnnealingWarmRestarts``, ``LinearLR``, ``ConstantLR``, ``PolynomialLR``,
    ``OneCycleLR``, ``CyclicLR`` (built-in modes), ``LambdaLR`` and
    ``MultiplicativeLR`` (wrapping its function, so the result cannot be written as
    a config), ``SequentialLR`` and
    ``ChainedScheduler`` of multiplicative schedulers (``StepLR``, ``MultiStepLR``,
    ``ExponentialLR``, ``LinearLR``, ``ConstantLR``, ``PolynomialLR``,
    ``CosineAnnealingLR`` with ``eta_min=0``: the base lr times the
    :class:`~lrkit.product.Product` of their multipliers; past ``T_max`` torch's
    cosine step starts the chain again from the cosine alone every ``2 T_max`` steps,
    which the conversion follows while the other schedulers settle, and refuses when
    one of them never does, e.g. ``ExponentialLR``). A ``SequentialLR`` nested first
    in another one (or in a ``ChainedScheduler`` first in one) is converted as torch
    runs it: the outer constructors step it, so it switches that many steps early and
    its first scheduler starts one regular step ahead. A param group added to the
    optimizer after the scheduler was built is driven from its own lr by the
    multiplicative schedulers, as torch does; the others fail at torch's next step and
    are refused for that group.
    A plateau scheduler (torch's ``ReduceLROnPlateau``, also transformers'
    ``get_scheduler("reduce_lr_on_plateau")``; timm's ``PlateauLRScheduler``; mmengine's
    ``ReduceOnPlateauLR``) follows a metric, not the step: it gives the
    :class:`~lrkit.plateau.Plateau` deciding as it does, with its state now (lrs, best,
    counters), which continues exactly where the scheduler would
    (:func:`lrkit.convert.plateau.plateau_of`).
    Anything else raises ``TypeError`` naming the class and the reason.

    The values are absolute learning rates: bind them with
    ``ScheduleLR(optimizer, schedule, absolute=True)``.

    With ``group=None`` the result is one schedule if every param group gets the
    same one, else a list with one schedule per group; ``group=i`` returns group
    ``i``'s schedule.

    Past ``T_max``, ``CosineAnnealingLR`` climbs back up along the cosine, and so does
    the conversion (``Cosine(..., after="continue")``); ``.replace(after="hold")``
    gives the variant that holds ``eta_min``. ``OneCycleLR`` raises after
    ``total_steps`` steps while lrkit holds ``min_lr`` from step ``total_steps - 1``.

    >>> import torch
    >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    >>> from_torch(torch.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.5))
    Step(peak_lr=0.1, step_size=30, gamma=0.5)
    """
    if warmup is None and group is None and epoch_length is None and _plateau.is_plateau(scheduler):
        return _plateau.plateau_of(scheduler)
    if _ds.is_deepspeed(scheduler) and warmup is None:
        got = _ds.from_scheduler(scheduler)
        per_group = got if isinstance(got, list) else None
        one = got if not isinstance(got, list) else None
        n = len(per_group) if per_group is not None else len(scheduler.optimizer.param_groups)
        build = _pick(per_group, one)
    elif warmup is not None:
        n = _optimizer_groups(scheduler)
        build = _pw.builder(scheduler, warmup, lambda g: _build(scheduler, g, None))
    elif _mm.is_mmengine(scheduler):
        n, build = _mm.builder(scheduler, epoch_length)
    elif _timm.is_timm(scheduler):
        n = len(scheduler.optimizer.param_groups)
        build = lambda g: _timm.convert(scheduler, g)  # noqa: E731
    elif "torch" in sys.modules and isinstance(scheduler, _tl.LRScheduler):
        n = len(scheduler.optimizer.param_groups)
        build = lambda g: _build(scheduler, g, None)  # noqa: E731
    else:
        if type(scheduler).__name__ in NOT_CLOSED_FORM:
            raise unconvertible(scheduler, NOT_CLOSED_FORM[type(scheduler).__name__])
        raise TypeError(
            f"from_torch expects a scheduler of torch, transformers, timm, mmengine, "
            f"pytorch-warmup or DeepSpeed, got {type(scheduler).__module__}.{type(scheduler).__qualname__}"
        )
    if epoch_length is not None and not _mm.is_mmengine(scheduler):
        raise ValueError("epoch_length is for mmengine's epoch-based schedulers (iterations per epoch)")
    if group is not None:
        if isinstance(group, bool) or not isinstance(group, int) or not 0 <= group < n:
            raise ValueError(f"group must be a param group index in [0, {n - 1}], got {group!r}")
        return build(group)
    out = [build(g) for g in range(n)]
    return out[0] if all(s == out[0] for s in out[1:]) else out


def _optimizer_groups(scheduler: Any) -> int:
    opt = getattr(scheduler, "optimizer", None)
    if opt is None or not hasattr(opt, "param_groups"):
        raise TypeError(f"from_torch: {type(scheduler).__qualname__} has no optimizer")
    return len(opt.param_groups)
