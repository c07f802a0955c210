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
the default), as PaddleDetection pairs them. A YAML config with PaddleDetection's tags
(``- !PiecewiseDecay``) reads with :func:`load_ppdet_yaml`.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..core import Schedule
from ..schedules.algebra import Piecewise, Ramp, Shift
from ..schedules.compose import Hold, Warmup
from ..schedules.decays import Constant, Cosine
from . import chain

__all__ = ["from_ppdet", "load_ppdet_yaml"]

_DECAYS = ("PiecewiseDecay", "CosineDecay")
_WARMUPS = ("LinearWarmup", "ExpWarmup", "BurninWarmup")


def load_ppdet_yaml(text: str) -> Any:
    """PaddleDetection's YAML, its ``!Name`` tags read as ``{"name": Name, ...}`` (plain data)."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def tagged(loader: Any, suffix: str, node: Any) -> Any:
        if isinstance(node, yaml.MappingNode):
            return {"name": suffix, **loader.construct_mapping(node, deep=True)}
        if isinstance(node, yaml.ScalarNode) and node.value == "":
            return {"name": suffix}
        raise ValueError(f"PaddleDetection tag !{suffix} on something other than a mapping")

    Loader.add_multi_constructor("!", tagged)
    return yaml.load(text, Loader=Loader)


def _entry(s: Any, where: str) -> tuple[str, dict[str, Any]]:
    if not isinstance(s, Mapping) or "name" not in s:
        raise ValueError(f"{where} must be a mapping with a 'name' (e.g. {{'name': 'PiecewiseDecay', ...}}), got {s!r}")
    d = dict(s)
    return d.pop("name"), d


def _warm_iters(p: Mapping[str, Any], default_steps: int, spe: int) -> int:
    w = p["epochs"] * spe if p.get("epochs") is not None else p.get("steps", default_steps)
    if isinstance(w, bool) or not float(w).is_integer():
        raise ValueError(f"warmup steps must be a whole number of iterations, got {w!r}")
    return max(int(w), 1)


def from_ppdet(config: Mapping[str, Any], step_per_epoch: int) -> Schedule:
    """The lr of each iteration that PaddleDetection's ``LearningRate`` config gives.

    ``config`` is the ``LearningRate`` section (``{"base_lr": ..., "schedulers": [...]}``;
    the whole config holding one is taken too), each scheduler a mapping with its
    ``name``; ``step_per_epoch`` is the number of iterations per epoch.

    >>> s = from_ppdet({"base_lr": 0.01, "schedulers": [
    ...     {"name": "PiecewiseDecay", "gamma": 0.1, "milestones": [8, 11]},
    ...     {"name": "LinearWarmup", "start_factor": 0.1, "steps": 100}]}, step_per_epoch=50)
    >>> [round(s(t), 12) for t in (50, 100, 400, 550)]  # mid-warmup, base, after 8 and 11 epochs
    [0.0055, 0.01, 0.001, 0.0001]
    """
    if not isinstance(config, Mapping):
        raise ValueError(f"a PaddleDetection LearningRate config must be a mapping, got {config!r}")
    if "LearningRate" in config:
        config = config["LearningRate"]
    if isinstance(step_per_epoch, bool) or not isinstance(step_per_epoch, int) or step_per_epoch < 1:
        raise ValueError(f"step_per_epoch must be a whole number of iterations >= 1, got {step_per_epoch!r}")
    spe = step_per_epoch
    base = float(config.get("base_lr", 0.01))
    scheds = list(config.get("schedulers") or [])
    if not scheds:
        raise ValueError("the LearningRate config has no schedulers")
    name, p = _entry(scheds[0], "schedulers[0]")
    if name not in _DECAYS:
        raise ValueError(f"schedulers[0] must be one of {', '.join(_DECAYS)} (PaddleDetection's decays), got {name!r}")
    warm_name = warm_p = None
    if p.get("use_warmup", True):
        if len(scheds) < 2:
            raise ValueError(f"{name} uses a warmup (use_warmup: true, the default) but the config has no second "
                             "scheduler: add a LinearWarmup or set use_warmup: false")
        warm_name, warm_p = _entry(scheds[1], "schedulers[1]")
        if warm_name not in _WARMUPS:
            raise ValueError(f"schedulers[1] must be one of {', '.join(_WARMUPS)}, got {warm_name!r}")
    warm: Schedule | None = None
    W = 0
    if warm_name == "LinearWarmup":
        W = _warm_iters(warm_p, 500, spe)
        f = float(warm_p.get("start_factor", 1.0 / 3))
        warm = Ramp(base * f, base, float(W)) if f != 1.0 else Constant(base)
    elif warm_name == "ExpWarmup":
        W = _warm_iters(warm_p, 1000, spe)
        warm = Warmup(Constant(base), float(W), "power", power=float(warm_p.get("power", 2)))
    elif warm_name == "BurninWarmup":
        steps = warm_p.get("steps", 1000)
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ValueError(f"BurninWarmup steps must be a whole number of iterations >= 1, got {steps!r}")
        W = min(steps, spe)  # at most one epoch
        warm = Warmup(Constant(base), float(W), "power", power=4.0)
    if name == "PiecewiseDecay":
        return _piecewise(p, base, spe, warm, W)
    return _cosine(p, base, spe, warm, W)


def _piecewise(p: Mapping[str, Any], base: float, spe: int, warm: Schedule | None, W: int) -> Schedule:
    milestones = [int(spe) * m for m in p.get("milestones", [8, 11])]
    gamma = p.get("gamma", [0.1, 0.01])
    gammas = list(gamma) if isinstance(gamma, list) else [gamma / 10 ** i for i in range(len(milestones))]
    if p.get("values") is not None:
        values = [float(v) for v in p["values"]]
        if len(values) != len(milestones) + 1:
            raise ValueError(f"PiecewiseDecay values need one more entry than milestones ({len(milestones)}), "
                             f"got {len(values)}")
        if warm is not None:
            raise ValueError("PiecewiseDecay with values and a warmup: PaddleDetection pairs the warmup's "
                             "boundaries with these values, which do not cover them; set use_warmup: false")
    else:
        values = [base] + [base * g for g in gammas]
    if len(values) < len(milestones) + 1:
        raise ValueError(f"PiecewiseDecay: {len(gammas)} gamma values for {len(milestones)} milestones")
    if any(b <= a for a, b in zip(milestones, milestones[1:])) or (milestones and milestones[0] <= W):
        raise ValueError(f"PiecewiseDecay milestones {p.get('milestones')!r} (x{spe} iterations) must increase "
                         f"and come after the warmup ({W} iterations)")
    # Paddle's PiecewiseDecay: values[i] below boundaries[i]; the last value past all of them
    decay = Piecewise(values[:len(milestones)] + [values[-1]], [float(m) for m in milestones]) \
        if milestones else Constant(values[-1])
    if warm is None:
        return decay
    return chain([(float(W), warm), (0.0, _shifted(decay, W))])


def _shifted(s: Schedule, by: int) -> Schedule:
    return Shift(s, float(by)) if by else s


def _cosine(p: Mapping[str, Any], base: float, spe: int, warm: Schedule | None, W: int) -> Schedule:
    M = int(p.get("max_epochs", 1000)) * spe
    P = int(p.get("last_plateau_epochs", 0)) * spe
    lo = base * float(p.get("min_lr_ratio", 0.0))
    if warm is None and P == 0:
        return Cosine(base, float(M), lo, after="continue")  # Paddle's CosineAnnealingDecay
    T = M - W - P
    if T <= 0:
        raise ValueError(f"CosineDecay: max_epochs x {spe} = {M} iterations leaves no cosine after the warmup "
                         f"({W}) and the plateau ({P})")
    # the values of iterations W .. M - 1, then the last one held (Paddle's PiecewiseDecay)
    cos = Hold(Cosine(base, float(T), lo), float(M - 1 - W))
    if warm is None:
        return cos
    return chain([(float(W), warm), (0.0, cos)])

