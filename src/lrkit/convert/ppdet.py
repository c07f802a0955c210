"""PaddleDetection's ``LearningRate`` config (``base_lr`` and ``schedulers``) as an lrkit schedule.

PaddleDetection builds, from ``step_per_epoch`` (iterations per epoch), a Paddle scheduler
stepped once per iteration; the position here is that iteration. Its rules, read from
``ppdet/optimizer/optimizer.py`` (with ``W`` the warmup iterations: ``epochs *
step_per_epoch`` if ``epochs`` is given, else ``steps``, at least 1; ``b`` = ``base_lr``):

* ``LinearWarmup(steps, start_factor, epochs)``: ``b (f (1 - i/W) + i/W)`` at iteration
  ``i <= W`` (a :class:`~lrkit.Ramp` from ``f b`` to ``b``); ``ExpWarmup(steps, epochs,
  power)``: ``b (i/W) ** power`` (a power :class:`~lrkit.Warmup` from 0);
  ``BurninWarmup(steps)`` (releases 2.1 .. 2.4): ``b (i/W) ** 4`` with ``W = min(steps,
  step_per_epoch)``;
* ``PiecewiseDecay(gamma, milestones, values)``: ``b`` until the first milestone (in
  epochs), then ``b * gamma[k]`` (a single ``gamma`` means ``[gamma, gamma / 10,
  gamma / 100, ...]``, as PaddleDetection reads it), or the given ``values``;
* ``CosineDecay(max_epochs, min_lr_ratio, last_plateau_epochs)``: after the warmup,
  ``m + (b - m)(1 + cos(pi (i - W) / (M - W - P))) / 2`` with ``M = max_epochs *
  step_per_epoch``, ``m = b min_lr_ratio``, ``m`` for the last ``P`` plateau iterations,
  and the value of iteration ``M - 1`` held after it; without a warmup and plateau it is
  Paddle's ``CosineAnnealingDecay`` (back up past ``M``).

The first scheduler decays, the second warms up (when the first has ``use_warmup``,
the default), as PaddleDetection pairs them; without ``schedulers`` its defaults
(``PiecewiseDecay`` and ``LinearWarmup``). A YAML config with PaddleDetection's tags
(``- !PiecewiseDecay``) reads with :func:`load_ppdet_yaml`, bounded as lrkit's own specs.

Every field is checked first (:mod:`lrkit.convert._fields`): an error names the
scheduler, the field and the value. Where PaddleDetection takes a value, it is taken as
it is (a fractional ``last_plateau_epochs`` or milestone); where it refuses one (a
fractional warmup of one iteration or more, or ``max_epochs``: it loops ``range()`` over
them), so does lrkit. A warmup below one iteration is one (PaddleDetection's
``max(steps, 1)``); negative counts, lrs below 0 and a ``min_lr_ratio`` above 1 are refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .. import _check
from ..core import Schedule
from ..schedules.algebra import Piecewise, Ramp, Shift
from ..schedules.compose import Hold, Warmup
from ..schedules.decays import Constant, Cosine
from . import chain
from ._fields import Section, reading, show, whole

__all__ = ["from_ppdet", "load_ppdet_yaml"]

_WHERE = "PaddleDetection LearningRate"
#: PaddleDetection's schedulers, with the fields their constructors take
_FIELDS = {
    "PiecewiseDecay": ("gamma", "milestones", "values", "use_warmup"),
    "CosineDecay": ("max_epochs", "use_warmup", "min_lr_ratio", "last_plateau_epochs"),
    "LinearWarmup": ("steps", "start_factor", "epochs"),
    "ExpWarmup": ("steps", "epochs", "power"),
    "BurninWarmup": ("steps",),  # releases 2.1 .. 2.4
}
_DECAYS = ("PiecewiseDecay", "CosineDecay")
_WARMUPS = ("LinearWarmup", "ExpWarmup", "BurninWarmup")
#: LearningRate's schedulers when the config gives none
_DEFAULT_SCHEDULERS = ({"name": "PiecewiseDecay"}, {"name": "LinearWarmup"})

_LOADER: Any = None


def _loader() -> Any:
    """lrkit's YAML loader (safe, a key once per mapping) reading ``!Name`` tags as data."""
    global _LOADER
    if _LOADER is None:
        import yaml

        from ..config import _yaml_loader

        class Loader(_yaml_loader()):
            pass

        def tagged(loader: Any, suffix: str, node: Any) -> Any:
            if isinstance(node, yaml.MappingNode):
                return {"name": suffix, **loader.construct_mapping(node, deep=True)}
            if isinstance(node, yaml.ScalarNode) and node.value == "":
                return {"name": suffix}
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"the tag !{suffix} is on a {node.id}: PaddleDetection's tags name a mapping "
                f"(- !{suffix} with its fields below)",
                node.start_mark,
            )

        Loader.add_multi_constructor("!", tagged)
        _LOADER = Loader
    return _LOADER


def load_ppdet_yaml(text: str | bytes | bytearray, what: str = "the config") -> Any:
    """PaddleDetection's (or PaddleClas's) YAML, its ``!Name`` tags read as ``{"name": Name, ...}``
    (plain data), bounded as lrkit's own specs are (:func:`lrkit.config.parse_yaml`: size,
    depth, aliases, no tag that builds an object). Every failure is a ``ValueError``."""
    from ..config import parse_yaml

    if not isinstance(text, (str, bytes, bytearray)):
        raise ValueError(f"{what} must be YAML text, got {show(text)}")
    return parse_yaml(text, what, _loader())


def _learning_rate(config: Any) -> Section:
    if not isinstance(config, Mapping):
        raise ValueError(f"a PaddleDetection LearningRate config must be a mapping, got {show(config)}")
    if "LearningRate" in config:
        return Section(_WHERE, config["LearningRate"], known=("base_lr", "schedulers"))
    others = [k for k in config if k not in ("base_lr", "schedulers")]
    if others:
        raise ValueError(
            f"a PaddleDetection config must hold a LearningRate section (or be one: base_lr, "
            f"schedulers), got one with {show(others)}"
        )
    return Section(_WHERE, config)


def _entry(item: Any, i: int) -> tuple[str, Section]:
    where = f"{_WHERE}.schedulers[{i}]"
    if not isinstance(item, Mapping) or "name" not in item:
        raise ValueError(
            f"{where} must be a mapping with a name ({{'name': 'PiecewiseDecay', ...}}, in YAML "
            f"- !PiecewiseDecay), got {show(item)}"
        )
    name = item["name"]
    if not isinstance(name, str) or name not in _FIELDS:
        raise ValueError(
            f"{where}: name must be one of {', '.join(_FIELDS)} (PaddleDetection's schedulers), got {show(name)}"
        )
    return name, Section(where, {k: v for k, v in item.items() if k != "name"}, label=name, known=_FIELDS[name])


def from_ppdet(config: Mapping[str, Any], step_per_epoch: int) -> Schedule:
    """The lr of each iteration that PaddleDetection's ``LearningRate`` config gives.

    ``config`` is the ``LearningRate`` section (``{"base_lr": ..., "schedulers": [...]}``;
    the whole config holding one is taken too), each scheduler a mapping with its
    ``name``; ``step_per_epoch`` is the number of iterations per epoch. A field
    PaddleDetection would not take, or lrkit cannot, is a ``ValueError`` naming it.

    >>> s = from_ppdet({"base_lr": 0.01, "schedulers": [
    ...     {"name": "PiecewiseDecay", "gamma": 0.1, "milestones": [8, 11]},
    ...     {"name": "LinearWarmup", "start_factor": 0.1, "steps": 100}]}, step_per_epoch=50)
    >>> [round(s(t), 12) for t in (50, 100, 400, 550)]  # mid-warmup, base, after 8 and 11 epochs
    [0.0055, 0.01, 0.001, 0.0001]
    """
    spe = whole("step_per_epoch", step_per_epoch)
    lr = _learning_rate(config)
    base = lr.rate("base_lr", 0.01)
    scheds = lr.items("schedulers", min_items=1) if lr.has("schedulers") else list(_DEFAULT_SCHEDULERS)
    entries = [_entry(s, i) for i, s in enumerate(scheds)]  # PaddleDetection builds each one
    name, p = entries[0]
    if name not in _DECAYS:
        raise ValueError(
            f"{_WHERE}.schedulers[0] must be one of {', '.join(_DECAYS)} (PaddleDetection's decays), got {name!r}"
        )
    if name == "PiecewiseDecay":
        _gammas(p)  # PaddleDetection computes them when it builds the scheduler
    warm: Schedule | None = None
    W = 0
    if p.flag("use_warmup", True):
        if len(entries) < 2:
            raise ValueError(
                f"{_WHERE}: {name} uses a warmup (use_warmup: true, the default) but the config has "
                "no second scheduler: add a LinearWarmup or set use_warmup: false"
            )
        warm_name, w = entries[1]
        if warm_name not in _WARMUPS:
            raise ValueError(f"{_WHERE}.schedulers[1] must be one of {', '.join(_WARMUPS)}, got {warm_name!r}")
        W, warm = _warmup(warm_name, w, base, spe)
    with reading(_WHERE):
        if name == "PiecewiseDecay":
            return _piecewise(p, base, spe, warm, W)
        return _cosine(p, base, spe, warm, W)


def _warmup(name: str, w: Section, base: float, spe: int) -> tuple[int, Schedule]:
    """The warmup's length in iterations and its schedule."""
    if name == "BurninWarmup":
        # burnin = min(steps, step_per_epoch), then range(burnin + 1) and i / burnin
        steps = w.number("steps", 1000)
        if isinstance(steps, int) and steps >= 1:
            W = min(steps, spe)
        elif steps > spe:
            W = spe
        else:
            raise w.fail(
                "steps",
                steps,
                "a whole number of iterations >= 1 (or a number above step_per_epoch: "
                "the warmup lasts at most one epoch)",
            )
        return W, Warmup(Constant(base), float(W), "power", power=4.0)
    W = _warm_iters(w, spe, 500 if name == "LinearWarmup" else 1000)
    if name == "LinearWarmup":
        f = w.rate("start_factor", 1.0 / 3)
        if not math.isfinite(base * f):
            raise w.fail("start_factor", f, f"a factor whose lr base_lr x start_factor is finite (base_lr={base!r})")
        return W, (Ramp(base * f, base, float(W)) if f != 1.0 else Constant(base))
    power = float(w.number("power", 2, lo=0.0))  # (i / W) ** power: below 0 it divides by zero at i = 0
    return W, (Warmup(Constant(base), float(W), "power", power=power) if power > 0 else Constant(base))


def _warm_iters(w: Section, spe: int, default_steps: int) -> int:
    """``max(epochs x step_per_epoch or steps, 1)`` iterations: PaddleDetection loops ``range()``
    over it, so from 1 on it is an ``int`` (a float there is its refusal)."""
    epochs = w.value("epochs", None)
    if epochs is not None:
        e = w.check_number("epochs", epochs, lo=0.0)
        n: Any = e * spe
        field, raw, what = "epochs", e, f"epochs x step_per_epoch = {show(e)} x {spe}"
    else:
        n = w.number("steps", default_steps, lo=0.0)
        field, raw, what = "steps", n, f"steps = {show(n)}"
    if n < 1:
        return 1  # PaddleDetection's max(warmup_steps, 1)
    if not isinstance(n, int):
        raise w.fail(
            field,
            raw,
            "a whole number of " + ("epochs (an int)" if field == "epochs" else "iterations (an int)"),
            f"PaddleDetection loops range({what} + 1), which takes no {n!r}",
        )
    w.bounded(f"{w.name(field)}: {what}", n)
    return n


def _gammas(p: Section) -> list[float]:
    """PiecewiseDecay's factors: the list given, or a single ``gamma`` read as
    ``[gamma, gamma / 10, gamma / 100, ...]`` (one per milestone), as PaddleDetection does."""
    milestones = p.items("milestones", [8, 11])
    gamma = p.value("gamma", [0.1, 0.01])
    if isinstance(gamma, list):
        return [float(g) for g in p.numbers("gamma", [0.1, 0.01], lo=0.0)]
    g = p.check_number("gamma", gamma, lo=0.0)
    out: list[float] = []
    for i in range(len(milestones)):
        if isinstance(g, int) and i > 700:
            out.append(0.0)  # an int over 10 ** i, correctly rounded: 0 from here on
            continue
        try:
            out.append(g / 10**i)
        except OverflowError:  # a float over an int past float64's range: PaddleDetection fails the same way
            raise p.fail(
                "gamma",
                gamma,
                "a list of factors (one per milestone) with this many milestones",
                f"a single gamma is gamma / 10 ** i for each of the {len(milestones)} milestones, and "
                f"10 ** {i} is past float64's range",
            ) from None
    return out


def _piecewise(p: Section, base: float, spe: int, warm: Schedule | None, W: int) -> Schedule:
    raw = p.numbers("milestones", [8, 11])
    milestones = [
        p.bounded(f"PiecewiseDecay milestones[{i}] x step_per_epoch = {show(m)} x {spe}", spe * m)
        for i, m in enumerate(raw)
    ]
    gammas = _gammas(p)
    if p.value("values", None) is not None:
        values = [float(v) for v in p.numbers("values", lo=0.0)]
        if len(values) != len(milestones) + 1:
            raise p.error(f"values need one more entry than milestones ({len(milestones)}), got {len(values)}")
        if warm is not None:
            raise p.error(
                "with values and a warmup: PaddleDetection pairs the warmup's boundaries with these "
                "values, which do not cover them; set use_warmup: false"
            )
    else:
        values = [base] + [base * g for g in gammas]
        bad = next((i for i, v in enumerate(values) if not math.isfinite(v)), None)
        if bad is not None:
            raise p.fail(
                "gamma",
                p.value("gamma", [0.1, 0.01]),
                "factors whose lrs base_lr x gamma are finite",
                f"base_lr={base!r}",
            )
    if len(values) < len(milestones) + 1:
        raise p.error(f"has {len(gammas)} gamma values for {len(milestones)} milestones")
    if any(b <= a for a, b in zip(milestones, milestones[1:])) or (
        milestones and (milestones[0] <= W or milestones[0] < _check.MIN_LENGTH)
    ):
        raise p.error(
            f"milestones {show(raw)} (x{spe} iterations) must increase and come after the warmup ({W} iterations)"
        )
    if not milestones and warm is None:
        raise p.error("needs milestones without a warmup: Paddle's PiecewiseDecay refuses empty boundaries")
    # Paddle's PiecewiseDecay: values[i] below boundaries[i]; the last value past all of them
    decay = Piecewise(values[: len(milestones)] + [values[-1]], milestones) if milestones else Constant(values[-1])
    if warm is None:
        return decay
    return chain([(float(W), warm), (0.0, _shifted(decay, W))])


def _shifted(s: Schedule, by: int) -> Schedule:
    return Shift(s, float(by)) if by else s


def _cosine(p: Section, base: float, spe: int, warm: Schedule | None, W: int) -> Schedule:
    E = p.whole("max_epochs", 1000, why="PaddleDetection loops range(max_epochs x step_per_epoch)")
    M = int(p.bounded(f"CosineDecay max_epochs x step_per_epoch = {E} x {spe}", E * spe))
    plateau = p.number("last_plateau_epochs", 0, lo=0.0)
    P = p.bounded(f"CosineDecay last_plateau_epochs x step_per_epoch = {show(plateau)} x {spe}", plateau * spe)
    lo = base * p.number("min_lr_ratio", 0.0, lo=0.0, hi=1.0)
    if warm is None and not P > 0:
        return Cosine(base, float(M), lo, after="continue")  # Paddle's CosineAnnealingDecay
    if warm is None and M == 1:
        raise p.error(
            "with last_plateau_epochs, no warmup and max_epochs x step_per_epoch = 1 iteration: "
            "Paddle's PiecewiseDecay refuses the empty boundaries PaddleDetection builds"
        )
    if warm is not None and M <= W:
        # no iteration after the warmup: its last value, base_lr, stays
        return chain([(float(W), warm), (0.0, Constant(base))])
    T = M - W - P
    # iterations W .. M - 1: the cosine while i < M - P, then min_lr; the value of M - 1 held after
    if T <= 0:
        cos: Schedule = Constant(lo)
    elif T <= 1:
        cos = Hold(Piecewise([base, lo], [1.0]), float(M - 1 - W))  # only iteration W is on the cosine: base
    else:
        cos = Hold(Cosine(base, float(T), lo), float(M - 1 - W))
    if warm is None:
        return cos
    return chain([(float(W), warm), (0.0, cos)])
