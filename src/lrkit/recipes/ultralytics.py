"""ultralytics YOLO's schedule (YOLOv5 and the ultralytics 8.x trainers): a per-epoch factor
``lf`` and a per-iteration warmup that interpolates each param group, and the momentum, as
lrkit schedules of the iteration.

With ``E`` epochs, ``nb`` batches per epoch, ``ni`` the iteration and ``e = floor(ni / nb)``:

* ``lf(e) = ((1 - cos(pi e / E)) / 2)(lrf - 1) + 1`` (``cos_lr``), else
  ``max(1 - e / E, 0)(1 - lrf) + lrf``; a group's lr is ``lr0 * lf(e)``;
* a warmup over ``nw`` iterations: for ``ni <= nw`` each group moves in a straight line
  from its start (``warmup_bias_lr`` for the biases, 0 for the other groups) towards
  ``lr0 * lf(e)``, ``start + (ni / nw)(lr0 lf(e) - start)``, and the momentum from
  ``warmup_momentum`` to ``momentum``.

The trainers differ in three places, all followed here (``version=``; each rule was read
in the released code of the versions named, and the reference values come from running it):

================  ==============================  =============================  ==============
versions          warmup iterations ``nw``        lr after the warmup            biases' group
================  ==============================  =============================  ==============
YOLOv5, 8.0.0-    ``max(round(w nb), 100)``,      ``lr0 lf(e - 1)``: the         the first
8.0.118           also when ``w = 0``             scheduler steps at each        (bias, weight,
                                                  epoch's end (from the epoch    BN weight)
                                                  after the warmup's end)
8.0.119-8.1.41    same, none when ``w = 0``       ``lr0 lf(e - 1)``              the first
8.1.42-8.3.253    same                            ``lr0 lf(e)``                  the first
8.4.0-8.4.2       same                            ``lr0 lf(e)``                  none: the first
                                                                                 group (weights)
                                                                                 starts high
8.4.3-8.4.102     same                            ``lr0 lf(e)``                  ``"bias"`` (last)
8.4.103-          ``round(min(w, E - 1) nb)``     ``lr0 lf(e)``                  ``"bias"`` (last)
================  ==============================  =============================  ==============

(``w`` = ``warmup_epochs``; "the first" group means the trainer tests ``j == 0``.) Newer
versions than :data:`CHECKED` follow the last row.

>>> s = ultralytics_schedules(lr0=0.01, lrf=0.01, epochs=100, batches=500, warmup_epochs=3)
>>> s.groups
('weight', 'bn', 'bias')
>>> # halfway through the warmup, in epoch 1 (lf(1) = 0.9901): half of 0.01 * 0.9901, and the bias halfway down
>>> [round(g(750), 6) for g in s.lr], round(s.momentum(750), 4)
([0.004951, 0.004951, 0.05495], 0.8685)
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from collections.abc import Sequence as SequenceT
from dataclasses import dataclass, field
from typing import Any

from .. import _check
from ..convert._fields import Section, show
from ..core import Schedule
from ..explain import explain_ultralytics
from ..schedules.algebra import Piecewise, Product, Ramp, Shift, Sum
from ..schedules.compose import Hold, Scale, Sequence
from ..schedules.decays import Constant
from ._dropin import _drop_in_warning

__all__ = ["ultralytics_schedules", "UltralyticsSchedules", "TrainerRules", "trainer_rules", "CHECKED", "GROUPS"]

#: the newest ultralytics release whose trainer these rules were checked against
CHECKED = "8.4.190"

#: ultralytics' param groups in the order its 8.4 trainer makes them
GROUPS = ("weight", "bn", "bias")
_OLD_GROUPS = ("bias", "weight", "bn")  # YOLOv5 .. 8.3: SGD(biases), then add_param_group(weights), (BN)


@dataclass(frozen=True)
class TrainerRules:
    """How one generation of ultralytics' trainer schedules (see the module's table)."""

    version: str
    #: "always100": ``max(round(w nb), 100)`` even for ``w = 0``; "min100": that, none for ``w = 0``;
    #: "capped": ``round(min(w, E - 1) nb)``
    warmup: str
    #: the scheduler steps at each epoch's end: epoch ``e >= 1`` gets ``lf(e - 1)`` after the warmup
    lag: bool
    #: the param groups in the order its build_optimizer makes them
    layout: tuple[str, ...]
    #: which group starts its warmup at warmup_bias_lr: "first" (``j == 0``) or "named" (``"bias"``)
    bias_start: str

    def warmup_iters(self, warmup_epochs: float, epochs: int, batches: int) -> int:
        """The warmup's length ``nw`` in iterations (0: no warmup)."""
        w = warmup_epochs
        if self.warmup == "capped":
            w = min(w, max(epochs - 1, 0))
            return round(w * batches) if w > 0 else 0
        if self.warmup == "min100" and w <= 0:
            return 0
        return max(round(w * batches), 100)

    def bias_group(self, names: SequenceT[str | None]) -> int | None:
        """The index of the group that starts at ``warmup_bias_lr``, given each group's name."""
        if self.bias_start == "first":
            return 0 if names else None
        return next((i for i, n in enumerate(names) if n == "bias"), None)


def _parse_version(version: Any) -> tuple[int, int, int]:
    if not isinstance(version, str):
        raise ValueError(f"version must be a string such as '8.4.190' or 'yolov5', got {show(version)}")
    text = version.strip().lower()
    if text in ("yolov5", "v5", "5"):
        return (5, 0, 0)
    m = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.(\d+))?", text)
    if m is None or int(m.group(1)) != 8:
        raise ValueError(
            f"version must be an ultralytics 8.x release ('8.0.0' .. '{CHECKED}', or newer) or "
            f"'yolov5', got {show(version)}"
        )
    return (8, int(m.group(2)), int(m.group(3) or 0))


def trainer_rules(version: str = CHECKED) -> TrainerRules:
    """The schedule rules of ultralytics ``version`` ("8.2.0", "8.4.190", "yolov5", ...).

    >>> trainer_rules("8.1.0").lag, trainer_rules("8.3.0").lag
    (True, False)
    """
    v = _parse_version(version)
    if v[0] == 5 or v <= (8, 0, 118):
        warmup = "always100"
    elif v <= (8, 4, 102):
        warmup = "min100"
    else:
        warmup = "capped"
    lag = v[0] == 5 or v <= (8, 1, 41)
    layout = _OLD_GROUPS if v[0] == 5 or v < (8, 4, 0) else GROUPS
    bias_start = "first" if v[0] == 5 or v <= (8, 4, 2) else "named"
    return TrainerRules(version.strip(), warmup, lag, layout, bias_start)


def _lf(e: int, epochs: int, lrf: float, cos_lr: bool) -> float:
    if cos_lr:
        return max((1 - math.cos(e * math.pi / epochs)) / 2, 0) * (lrf - 1.0) + 1.0
    return max(1 - e / epochs, 0) * (1.0 - lrf) + lrf


#: the most epochs lrkit takes: one ``lf`` value per epoch (and the one after), at most
#: ``MAX_ITEMS`` values
MAX_EPOCHS = _check.MAX_ITEMS - 1


def _factors(lrf: float, epochs: int, batches: int, cos_lr: bool, lag: bool) -> tuple[Schedule, Schedule]:
    """``lf`` of each epoch on the iteration clock, and the same read one epoch late (epoch
    ``e >= 1`` reads ``lf(e - 1)``: the scheduler stepped at each epoch's end), both held past
    the run. One table of ``epochs + 1`` values serves both."""
    lf = [_lf(e, epochs, lrf, cos_lr) for e in range(epochs + 1)]
    now: Schedule = Piecewise(lf, [float(batches * e) for e in range(1, epochs + 1)])
    if not lag:
        return now, now
    late = Sequence([Constant(lf[0]), Hold(now, float((epochs - 1) * batches))], [float(batches)])
    return now, late


def group_lr(lr0: float, start: float, now: Schedule, late: Schedule, batches: int, nw: int, lag: bool) -> Schedule:
    """One group's lr per iteration: its warmup from ``start`` over ``nw`` iterations, then ``lr0 lf``
    (``now``: this epoch's ``lf``; ``late``: the one before, from :func:`_factors`)."""
    if nw == 0:
        return Scale(late if lag else now, lr0)
    warm: Schedule = Product([Ramp(0.0, 1.0, float(nw)), Scale(now, lr0)])  # (ni / nw) lr0 lf(e), then lr0 lf(e)
    if start > 0:
        warm = Sum([Ramp(start, 0.0, float(nw)), warm])
    if not lag:
        return warm
    # the warmup writes the lr before each of its batches up to ni = nw, and its last value
    # stays for the rest of that epoch; from the next epoch on, the scheduler's value: lf
    # of the epoch before
    after = float((nw // batches + 1) * batches)
    return Sequence([warm, Shift(Scale(late, lr0), after)], [after])


@dataclass
class UltralyticsSchedules:
    """ultralytics' lr per param group and momentum, per iteration (:func:`ultralytics_schedules`).

    ``lr[i]`` is the lr of group ``groups[i]`` (the trainer's own order), ``momentum`` the
    momentum of every group, ``warmup_iters`` the warmup's length. ``s["lr"]``-style
    access works too.
    """

    lr: list[Schedule]
    groups: tuple[str, ...]
    momentum: Schedule
    warmup_iters: int
    rules: TrainerRules
    settings: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        if key not in ("lr", "groups", "momentum", "warmup_iters", "rules", "settings"):
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(("lr", "groups", "momentum", "warmup_iters"))

    def series(self) -> dict[str, Schedule]:
        """Every curve by name: ``"lr weight"``, ``"lr bn"``, ``"lr bias"``, ``"momentum"``."""
        out = {f"lr {g}": s for g, s in zip(self.groups, self.lr)}
        out["momentum"] = self.momentum
        return out

    def explain(self, lang: str = "en") -> str:
        """What the trainer does with these settings, in words (``"en"`` or ``"zh"``)."""
        return explain_ultralytics(self, lang)


def ultralytics_schedules(
    lr0: float,
    lrf: float,
    epochs: int,
    batches: int,
    *,
    warmup_epochs: float = 3.0,
    warmup_bias_lr: float = 0.1,
    warmup_momentum: float = 0.8,
    momentum: float = 0.937,
    cos_lr: bool = False,
    version: str = CHECKED,
    lr0s: SequenceT[float] | None = None,
    groups: SequenceT[str | None] | None = None,
) -> UltralyticsSchedules:
    """ultralytics' lr of each param group and momentum at iteration ``ni`` (see the module docstring),
    with the trainer of ``version`` (default :data:`CHECKED`).

    The groups are the trainer's own three, in its order, unless ``groups`` names those
    of another optimizer (each group's ``param_group`` entry, ``None`` where it has
    none; which one starts at ``warmup_bias_lr`` follows the version's rule). ``lr0s``
    gives each group its own initial lr, as an optimizer whose groups start from
    different lrs has. Bind them per iteration:
    ``ScheduleLR(opt, s.lr, absolute=True)`` and ``ScheduleLR(opt, s.momentum,
    key="momentum", absolute=True)``, or use the drop-ins ``lrkit.torch.UltralyticsLR`` and
    ``lrkit.paddle.UltralyticsLR``, which do both.

    Every setting is checked first: a bad one is a ``ValueError`` naming it. The factor
    ``lf`` is a table of one value per epoch, so ``epochs`` is at most :data:`MAX_EPOCHS`
    (lrkit's limit of 100,000 values), refused before anything is built.
    """
    rules = trainer_rules(version)
    u = Section("ultralytics", {})
    lr0 = float(u.check_number("lr0", lr0, lo=0.0, lo_open=True))
    lrf = float(u.check_number("lrf", lrf, lo=0.0))
    epochs = u.check_whole(
        "epochs", epochs, hi=MAX_EPOCHS, hi_why=f"one lr factor per epoch: lrkit's limit is {_check.MAX_ITEMS:,} values"
    )
    batches = u.check_whole("batches", batches)
    u.bounded(f"epochs x batches = {epochs} x {batches} iterations", epochs * batches)
    w = float(u.check_number("warmup_epochs", warmup_epochs, lo=0.0))
    u.bounded(f"warmup_epochs x batches = {w!r} x {batches} iterations", w * batches)
    bias0 = float(u.check_number("warmup_bias_lr", warmup_bias_lr, lo=0.0))
    m0 = float(u.check_number("warmup_momentum", warmup_momentum, lo=0.0))
    m1 = float(u.check_number("momentum", momentum, lo=0.0))
    if not isinstance(cos_lr, bool):
        raise u.fail("cos_lr", cos_lr, "true or false")
    if groups is None:
        names: tuple = rules.layout
    else:
        names = tuple(Section("ultralytics", {"groups": groups}).items("groups", min_items=1))
        for i, g in enumerate(names):
            if g is not None and not isinstance(g, str):
                raise u.fail(f"groups[{i}]", g, "a param group's name (its param_group entry) or None")
    if lr0s is None:
        bases = [lr0] * len(names)
    else:
        given = Section("ultralytics", {"lr0s": lr0s}).numbers("lr0s", lo=0.0, lo_open=True)
        bases = [float(v) for v in given]
        if len(bases) != len(names):
            raise ValueError(f"ultralytics: lr0s must hold one lr per group ({len(names)}), got {len(bases)}")
    top = max(bases) * max(lrf, 1.0)
    if not math.isfinite(top) or not math.isfinite(max(bases) * (1.0 - lrf)):
        raise u.fail("lrf", lrf, f"a factor whose lrs lr0 x lrf are finite (lr0={max(bases)!r})")
    nw = rules.warmup_iters(w, epochs, batches)
    now, late = _factors(lrf, epochs, batches, cos_lr, rules.lag)
    starting = rules.bias_group(names)
    if nw and bias0 > 0:
        if rules.bias_start == "first" and rules.layout[0] != "bias":
            _drop_in_warning(
                f"ultralytics {rules.version}",
                f"its trainer starts the first group's warmup (the "
                f"{rules.layout[0]!r} group in its optimizer) at warmup_bias_lr={bias0!r}: it tests "
                "the group's index, which is no longer the biases' group",
            )
        elif groups is not None and starting is None:
            _drop_in_warning(
                f"ultralytics {rules.version}",
                "no param group is named 'bias' (param_group='bias'): "
                "every group warms up from 0, as its trainer does with such an optimizer; an "
                "optimizer built the classic way (biases first, no names: YOLOv5, ultralytics "
                "<= 8.4.2) is scheduled by the trainer of its version: pass version='8.3.253' "
                "(or 'yolov5', or the version that built it)",
            )
    lrs = [group_lr(b, bias0 if i == starting else 0.0, now, late, batches, nw, rules.lag) for i, b in enumerate(bases)]
    mom: Schedule = Ramp(m0, m1, float(nw)) if nw else Constant(m1)
    settings = dict(
        lr0=lr0,
        lrf=lrf,
        epochs=epochs,
        batches=batches,
        warmup_epochs=w,
        warmup_bias_lr=bias0,
        warmup_momentum=m0,
        momentum=m1,
        cos_lr=cos_lr,
    )
    return UltralyticsSchedules(
        lrs, tuple(n if n is not None else f"group {i}" for i, n in enumerate(names)), mom, nw, rules, settings
    )


# -- the recipe, declared once (the command line, lrkit list and the README derive from it) ----------------
from .registry import Option, Recipe, declare  # noqa: E402

declare(
    Recipe(
        "ultralytics",
        "ultralytics YOLO trainer (lr0, lrf, epochs, batches, warmup_epochs, warmup_bias_lr, "
        "warmup_momentum, momentum, cos_lr): the lr of each param group and the momentum per iteration",
        params=(
            Option("lr0", "rate", 0.01, "initial lr of every group", metavar="LR"),
            Option("lrf", "factor", 0.01, "final lr = lr0 * lrf", metavar="F"),
            Option("epochs", "count", doc="number of epochs", metavar="E"),
            Option("batches", "count", doc="batches (iterations) per epoch", metavar="NB"),
            Option("warmup_epochs", "real", 3.0, "warmup epochs", metavar="W"),
            Option("warmup_bias_lr", "rate", 0.1, "the biases' lr at iteration 0", metavar="LR"),
            Option("warmup_momentum", "rate", 0.8, "momentum at iteration 0", metavar="M"),
            Option("momentum", "rate", 0.937, "momentum after the warmup", metavar="M"),
            Option("cos_lr", "bool", False, "lf a cosine (one_cycle) instead of a straight line"),
            Option("version", "any", CHECKED, "the trainer's rules: an ultralytics 8.x version or yolov5", metavar="V"),
        ),
        build=ultralytics_schedules,
        original="ultralytics YOLO trainers, YOLOv5 and 8.0–8.4 (`lr0`, `lrf`, `cos_lr`, `warmup_epochs`, "
        "`warmup_bias_lr`, `warmup_momentum`, `momentum`)",
        does="`lr0 * lf(epoch)` per epoch; over the warmup each param group moves in a straight line from its start "
        "(`warmup_bias_lr` for biases, 0 otherwise) to that value and the momentum from `warmup_momentum` to "
        "`momentum`. The versions differ: the warmup is `max(round(warmup_epochs * nb), 100)` iterations up to "
        "8.4.102 (even with `warmup_epochs = 0` before 8.0.119), `round(min(warmup_epochs, epochs - 1) * nb)` "
        "after; up to 8.1.41 the scheduler steps at each epoch's **end**, so after the warmup epoch `e` trains "
        "with `lf(e - 1)`; 8.4.0–8.4.2 start the **weights** at `warmup_bias_lr`. `version=` picks the rules; "
        "tested against each generation's own code at every iteration",
        positions_per_epoch=lambda v: float(v.batches),
        default_steps=lambda v: v.epochs * v.batches,
        run_steps=lambda v: float(v.epochs * v.batches),
        curves=True,
        schedule=lambda u: u.lr[0],
    )
)
