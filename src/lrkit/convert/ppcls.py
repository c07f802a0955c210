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
* a warmup of ``w`` epochs (``round(w N)`` iterations; ``w`` steps with ``by_epoch``,
  except for ``Linear``, whose warmup is ``round(w N)`` steps either way) rises linearly
  from ``warmup_start_lr`` to ``learning_rate`` and covers the start of the decay
  (Paddle's ``LinearWarmup``).

Every field is checked first (:mod:`lrkit.convert._fields`), with PaddleClas's and
Paddle's own rules (which they enforce with ``assert``, gone under ``python -O``): a
``Cosine`` or ``Linear`` decay of a fractional number of steps, a by-epoch warmup of a
fractional number of epochs, ``gamma >= 1`` and a warmup that does not rise are refused,
as are lrs below 0. Fields PaddleClas ignores are ignored. The 30-epoch rule is computed
up to the epoch its lr reaches 0 (no list as long as the run). The same Paddle scheduler
is then built from those rules and converted with :func:`lrkit.convert.paddle.from_paddle`, so
the result is a native schedule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core import Schedule
from ..schedules.decays import Constant
from ._fields import Section, bounded, reading, show, whole
from .paddle import from_paddle

__all__ = ["from_ppcls"]

_KINDS = ("ConstLR", "Linear", "Cosine", "Step", "Piecewise", "MultiStepDecay")
_WHERE = "PaddleClas Optimizer.lr"


def _lr_section(config: Any) -> Section:
    """The ``lr`` section: ``config`` itself, or ``Optimizer.lr`` of a whole config (or its YAML text)."""
    if isinstance(config, (str, bytes, bytearray)):
        from .ppdet import load_ppdet_yaml

        config = load_ppdet_yaml(config, "the PaddleClas config")
    if not isinstance(config, Mapping):
        raise ValueError(f"a PaddleClas lr config must be a mapping, got {show(config)}")
    if "Optimizer" in config:
        opt = config["Optimizer"]
        if isinstance(opt, list):
            raise ValueError(
                "PaddleClas Optimizer is a list of optimizers (one per scope): give the lr section "
                f"of the one to convert, got {show(opt)}"
            )
        return Section("PaddleClas Optimizer", opt).section("lr")
    return Section(_WHERE, config)


def _read(config: Any, epochs: int, step_each_epoch: int) -> tuple[Any, bool]:
    """The Paddle scheduler (or a float: a constant lr) PaddleClas builds, and its ``by_epoch``."""
    from paddle.optimizer import lr as pl

    raw = _lr_section(config)
    name = raw.value("name", None)
    if not isinstance(name, str) or name not in _KINDS:
        raise ValueError(
            f"PaddleClas lr name must be one of {', '.join(_KINDS)} (ReduceOnPlateau follows a "
            f"metric; the others are not converted), got {show(name)}"
        )
    E, n = whole("epochs", epochs), whole("step_each_epoch", step_each_epoch)
    bounded(f"epochs x step_each_epoch = {E} x {n}", E * n)
    c = Section(raw.where, raw.data, label=name)
    c.start("last_epoch")
    by_epoch = c.flag("by_epoch", False)
    w = c.number("warmup_epoch", 0, lo=0.0)
    if w >= E:
        w = E  # PaddleClas caps the warmup at the run's epochs (with a warning)
    start = c.rate("warmup_start_lr", 0.0)
    per = 1 if by_epoch else n
    # the warmup's steps: Linear counts round(w N) whatever by_epoch says (its own __init__)
    warm = round(w * n) if name == "Linear" or not by_epoch else w
    boundaries: list = []  # Piecewise's (the other kinds have none)
    values: list[float] = []
    if name == "Piecewise":
        boundaries, values = _piecewise(c, E, per)
        base = values[0]
    else:
        base = c.rate("learning_rate")
    if warm > 0:
        if not isinstance(warm, int):
            raise c.fail(
                "warmup_epoch",
                w,
                "a whole number of epochs (an int) with by_epoch: true",
                "Paddle's LinearWarmup counts whole steps",
            )
        if not start < base:
            raise c.fail(
                "warmup_start_lr",
                start,
                f"below the lr the warmup reaches ({base!r})",
                "Paddle's LinearWarmup rises from warmup_start_lr",
            )
    with reading(f"{c.where}: {name}"):
        if name == "ConstLR":
            sched: Any = float(base)
        elif name in ("Linear", "Cosine"):
            steps = (E - w) * per
            if steps > 0 and not isinstance(steps, int):
                raise c.fail(
                    "warmup_epoch",
                    w,
                    f"a whole number of epochs (an int) for {name}",
                    f"its decay runs (epochs - warmup_epoch) x {'1' if by_epoch else 'step_each_epoch'} "
                    f"= {steps!r} steps, which Paddle takes in whole steps only",
                )
            if steps <= 0:  # no decay left after the warmup: PaddleClas's constant lr (its fields unused)
                sched = float(base)
            elif name == "Linear":
                end = c.rate("end_lr", 0.0)
                power = c.number("power", 1.0, lo=0.0, lo_open=True)  # Paddle asserts power > 0
                cycle = c.flag("cycle", False)
                if end > base:
                    raise c.fail("end_lr", end, f"at most learning_rate ({base!r}): lrkit converts a decay")
                sched = pl.PolynomialDecay(base, steps, end, power, cycle)
            else:
                eta = c.rate("eta_min", 0.0)
                if eta > base:
                    raise c.fail("eta_min", eta, f"at most learning_rate ({base!r}): lrkit converts a decay")
                sched = pl.CosineAnnealingDecay(base, steps, eta)
        elif name == "Step":
            size = c.value("step_size", valid="a number of epochs > 0")
            gamma = c.number("gamma", lo=0.0, hi=1.0, hi_open=True)
            if by_epoch:
                k = c.check_whole("step_size", size, why="Paddle's StepDecay takes whole steps")
            else:
                s = c.check_number("step_size", size, lo=0.0, lo_open=True)
                k = int(c.bounded(f"Step step_size x step_each_epoch = {show(s)} x {n}", s * n))
                if k < 1:  # PaddleClas truncates: int(step_size x step_each_epoch)
                    raise c.fail(
                        "step_size",
                        s,
                        f"at least 1 / step_each_epoch = {1 / n!r} epochs",
                        f"PaddleClas steps every int(step_size x step_each_epoch) = {k} iterations",
                    )
            sched = pl.StepDecay(base, k, gamma)
        elif name == "MultiStepDecay":
            ms = c.numbers("milestones")
            if any(b <= a for a, b in zip(ms, ms[1:])):
                raise c.fail("milestones", ms, "increasing epochs (Paddle's MultiStepDecay refuses others)")
            gamma = c.number("gamma", 0.1, lo=0.0, hi=1.0, hi_open=True)
            for i, m in enumerate(ms):
                c.bounded(f"MultiStepDecay milestones[{i}] x {per}", m * per)
            sched = pl.MultiStepDecay(base, [m * per for m in ms], gamma)
        else:  # Piecewise
            sched = pl.PiecewiseDecay(boundaries, values)
        if warm > 0:
            return pl.LinearWarmup(sched, warm, start, base), by_epoch
        return sched, by_epoch


def _piecewise(c: Section, E: int, per: int) -> tuple[list, list[float]]:
    """Paddle's ``PiecewiseDecay`` boundaries (in steps) and values of a PaddleClas ``Piecewise``."""
    # decay_epochs and values are PaddleClas's required arguments, even when learning_rate replaces them
    c.value("decay_epochs", valid="a list of epochs")
    c.value("values", valid="a list of lrs")
    rule = c.number("learning_rate", None, lo=0.0, optional=True)
    if rule:
        # x0.1 every 30 epochs: decay_epochs range(30, E, 30), values lr * 0.1 ** i; from the
        # value that reaches 0 on, every later one is 0, so the lists stop there
        k = len(range(0, E, 30))
        values = []
        for i in range(k):
            values.append(rule * 0.1**i)
            if values[-1] == 0.0:
                break
        epochs = [E] if k == 1 else [30 * i for i in range(1, len(values))]
        if k == 1:
            values = [values[0], values[0]]
        return [e * per for e in epochs], [float(v) for v in values]
    epochs = c.numbers("decay_epochs", min_items=1)  # Paddle's PiecewiseDecay refuses empty boundaries
    values = [float(v) for v in c.numbers("values", lo=0.0)]
    if len(values) <= len(epochs):
        raise c.fail(
            "values",
            values,
            f"a list of more lrs than decay_epochs ({len(epochs)})",
            "Paddle's PiecewiseDecay needs one more value than boundaries",
        )
    if any(b <= a for a, b in zip(epochs, epochs[1:])):
        raise c.fail("decay_epochs", epochs, "increasing epochs")
    for i, e in enumerate(epochs):
        c.bounded(f"Piecewise decay_epochs[{i}] x {per}", e * per)
    return [e * per for e in epochs], values


def read_ppcls(config: Mapping[str, Any], epochs: int, step_each_epoch: int) -> tuple[Schedule, bool]:
    """The schedule of :func:`from_ppcls` and the config's ``by_epoch`` (whether PaddleClas steps
    the scheduler once per epoch)."""
    sched, by_epoch = _read(config, epochs, step_each_epoch)
    with reading(_WHERE):
        out = Constant(sched) if isinstance(sched, float) else from_paddle(sched)
    if not isinstance(out, Schedule):  # one Paddle scheduler of the kinds above: one schedule
        raise ValueError(f"{_WHERE}: the config gives {show(out)}, not one schedule")
    return out, by_epoch


def from_ppcls(config: Mapping[str, Any], epochs: int, step_each_epoch: int) -> Schedule:
    """The lr PaddleClas's ``Optimizer.lr`` config gives at each step (each iteration, or each
    epoch with ``by_epoch: true``) of a run of ``epochs`` epochs of ``step_each_epoch``
    iterations. ``config`` is the ``lr`` section (``{"name": "Cosine", "learning_rate": 0.1,
    "warmup_epoch": 5, ...}``), or the whole config holding ``Optimizer.lr`` (a mapping, or
    its YAML text). A field PaddleClas would not take, or lrkit cannot, is a ``ValueError``
    naming it.

    >>> s = from_ppcls({"name": "Cosine", "learning_rate": 0.1, "warmup_epoch": 1}, epochs=10, step_each_epoch=100)
    >>> round(s(50), 12), s(100), round(s(550), 12)   # mid-warmup, its end, mid-cosine
    (0.05, 0.1, 0.05)
    """
    return read_ppcls(config, epochs, step_each_epoch)[0]
