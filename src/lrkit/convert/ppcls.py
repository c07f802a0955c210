"""PaddleClas's ``Optimizer.lr`` config as an lrkit schedule.

PaddleClas turns the ``lr`` section of its config (``name``, ``learning_rate``,
``warmup_epoch``, ...) and the run's ``epochs`` and iterations per epoch into a Paddle
scheduler, stepped every iteration (or every epoch with ``by_epoch: true``). The rules,
read from ``ppcls/optimizer/learning_rate.py``, with ``E`` epochs, ``N`` iterations per
epoch and ``w`` warmup epochs (at most ``E``):

* the decay runs over the epochs after the warmup, in iterations (``(E - w) N``) or in
  epochs (``by_epoch``): ``Cosine`` (``eta_min``), ``Linear`` (a polynomial decay:
  ``end_lr``, ``power``, ``cycle``); ``Step`` (``step_size`` epochs, ``gamma``),
  ``MultiStepDecay`` (``milestones`` in epochs) and ``Piecewise`` (``decay_epochs``,
  ``values``; or, with ``learning_rate``, x0.1 every 30 epochs) count from the start;
  ``ConstLR`` is constant;
* a warmup of ``w`` epochs (``round(w N)`` iterations) rises linearly from
  ``warmup_start_lr`` to ``learning_rate`` and covers the start of the decay (Paddle's
  ``LinearWarmup``).

The same Paddle scheduler is built here from those rules and converted with
:func:`lrkit.paddle.from_paddle`, so the result is a native schedule.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..core import Schedule

__all__ = ["from_ppcls"]

_KINDS = ("ConstLR", "Linear", "Cosine", "Step", "Piecewise", "MultiStepDecay")


def _paddle_scheduler(cfg: dict[str, Any], epochs: int, n: int) -> Any:
    from paddle.optimizer import lr

    name = cfg.pop("name")
    by_epoch = bool(cfg.pop("by_epoch", False))
    if name == "Piecewise" and cfg.get("learning_rate"):
        # PaddleClas's rule when learning_rate is set: x0.1 every 30 epochs
        starts = list(range(0, epochs, 30))
        values = [cfg["learning_rate"] * 0.1 ** i for i in range(len(starts))]
        cfg["decay_epochs"], cfg["values"] = ([epochs], [values[0], values[0]]) if len(starts) == 1 \
            else (starts[1:], values)
    base = cfg["values"][0] if name == "Piecewise" else cfg.get("learning_rate")
    if base is None:
        raise ValueError(f"PaddleClas {name} needs learning_rate")
    w = min(cfg.pop("warmup_epoch", 0), epochs)  # PaddleClas caps the warmup at the run's epochs
    start = cfg.pop("warmup_start_lr", 0.0)
    warm_steps = w if by_epoch else round(w * n)
    per = 1 if by_epoch else n
    if name == "ConstLR":
        sched: Any = float(base)
    elif name == "Linear":
        steps = (epochs - w) * per
        sched = lr.PolynomialDecay(base, steps, cfg.get("end_lr", 0.0), cfg.get("power", 1.0),
                                   cfg.get("cycle", False)) if steps > 0 else float(base)
    elif name == "Cosine":
        steps = (epochs - w) * per
        sched = lr.CosineAnnealingDecay(base, steps, cfg.get("eta_min", 0.0)) if steps > 0 else float(base)
    elif name == "Step":
        sched = lr.StepDecay(base, cfg["step_size"] if by_epoch else int(cfg["step_size"] * n), cfg["gamma"])
    elif name == "MultiStepDecay":
        sched = lr.MultiStepDecay(base, [m * per for m in cfg["milestones"]], cfg.get("gamma", 0.1))
    else:  # Piecewise
        sched = lr.PiecewiseDecay([e * per for e in cfg["decay_epochs"]], list(cfg["values"]))
    if warm_steps > 0:
        return lr.LinearWarmup(sched, warm_steps, start, base)
    return sched  # a float for a constant lr


def from_ppcls(config: Mapping[str, Any], epochs: int, step_each_epoch: int) -> Schedule:
    """The lr PaddleClas's ``Optimizer.lr`` config gives at each step (each iteration, or each
    epoch with ``by_epoch: true``) of a run of ``epochs`` epochs of ``step_each_epoch``
    iterations. ``config`` is the ``lr`` section (``{"name": "Cosine", "learning_rate": 0.1,
    "warmup_epoch": 5, ...}``), or the whole config holding ``Optimizer.lr``.

    >>> s = from_ppcls({"name": "Cosine", "learning_rate": 0.1, "warmup_epoch": 1}, epochs=10, step_each_epoch=100)
    >>> round(s(50), 12), s(100), round(s(550), 12)   # mid-warmup, its end, mid-cosine
    (0.05, 0.1, 0.05)
    """
    if not isinstance(config, Mapping):
        raise ValueError(f"a PaddleClas lr config must be a mapping, got {config!r}")
    if "Optimizer" in config:
        config = config["Optimizer"]["lr"]
    cfg = dict(config)
    if cfg.get("name") not in _KINDS:
        raise ValueError(f"PaddleClas lr name must be one of {', '.join(_KINDS)} (ReduceOnPlateau follows a "
                         f"metric; the others are not converted), got {cfg.get('name')!r}")
    for what, v in (("epochs", epochs), ("step_each_epoch", step_each_epoch)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{what} must be a whole number >= 1, got {v!r}")
    from ..paddle import from_paddle
    from ..schedules.decays import Constant

    sched = _paddle_scheduler(cfg, epochs, step_each_epoch)
    return Constant(sched) if isinstance(sched, float) else from_paddle(sched)
