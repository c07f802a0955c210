"""What every config reader shares: the result (:class:`ConfigSchedule`), the reader's
options, and the checks of the arguments a user gives next to the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..convert._fields import Section, show
from ..core import Schedule, suggest

__all__ = ["ConfigSchedule", "UNITS", "options_of", "spe_of"]

#: what a position of the result counts
UNITS = ("iteration", "step", "epoch")


class ConfigSchedule:
    """The lr a trainer would give with a config, read by :func:`lrkit.configs.from_config`.

    * ``format`` -- the config format recognised (``"ultralytics"``, ``"transformers"``,
      ``"timm"``, ``"mmengine"``, ``"lightning"``, ``"deepspeed"``, ``"ppdet"``, ``"ppcls"``);
    * ``lr`` -- one lrkit schedule, or a list with one per param group when the groups differ;
    * ``unit`` -- what a position counts: ``"iteration"`` (a batch of the data loader),
      ``"step"`` (an optimizer update) or ``"epoch"``;
    * ``steps_per_epoch`` -- positions per epoch (``None`` when unknown, 1 for ``"epoch"``);
    * ``total`` -- the run's length in positions when the config says it, else ``None``;
    * ``groups`` -- the names of the param groups of a list ``lr`` (or ``None``);
    * ``momentum`` -- the momentum schedule when the trainer drives it (ultralytics), else ``None``;
    * ``notes`` -- what was assumed where the config does not say (read them);
    * ``section`` -- the key path read (``section=``), or ``None`` for the whole file;
    * ``recipe`` -- the recipe's own result when the reader builds on one (ultralytics:
      :class:`~lrkit.recipes.ultralytics.UltralyticsSchedules`, with its ``explain()``), else ``None``.

    ``schedule`` is ``lr`` when it is one schedule (the first group's otherwise), and
    ``schedules`` always a list.
    """

    __slots__ = (
        "format",
        "lr",
        "unit",
        "steps_per_epoch",
        "total",
        "groups",
        "momentum",
        "notes",
        "section",
        "recipe",
    )

    def __init__(
        self,
        format: str,
        lr: Schedule | list[Schedule],
        unit: str,
        *,
        steps_per_epoch: float | None = None,
        total: float | None = None,
        groups: tuple[str, ...] | None = None,
        momentum: Schedule | None = None,
        notes: tuple[str, ...] = (),
        section: str | None = None,
        recipe: Any = None,
    ) -> None:
        if unit not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}, got {unit!r}")
        self.format, self.lr, self.unit = format, lr, unit
        self.steps_per_epoch = 1.0 if unit == "epoch" else steps_per_epoch
        self.total, self.groups, self.momentum = total, groups, momentum
        self.notes, self.section, self.recipe = tuple(notes), section, recipe

    @property
    def schedule(self) -> Schedule:
        """The lr schedule (the first param group's when the groups differ)."""
        return self.lr[0] if isinstance(self.lr, list) else self.lr

    @property
    def schedules(self) -> list[Schedule]:
        """One schedule per param group that differs (a list of one when they agree)."""
        return list(self.lr) if isinstance(self.lr, list) else [self.lr]

    def series(self) -> dict[str, Schedule]:
        """Every curve by name: ``"lr"`` (or ``"lr <group>"`` per param group) and ``"momentum"``
        when the trainer drives it."""
        if isinstance(self.lr, list):
            names = self.groups or tuple(f"group {i}" for i in range(len(self.lr)))
            out = {f"lr {g}": s for g, s in zip(names, self.lr)}
        else:
            out = {"lr": self.lr}
        if self.momentum is not None:
            out["momentum"] = self.momentum
        return out

    def explain(self, lang: str = "en") -> str:
        """What the trainer does with this config, in words (``"en"`` or ``"zh"``): the recipe's
        own words when there is one (ultralytics), else :func:`lrkit.explain` of each group's lr."""
        if self.recipe is not None and callable(getattr(self.recipe, "explain", None)):
            return self.recipe.explain(lang)
        from ..explain import explain

        per = self.steps_per_epoch if self.unit != "epoch" else None
        if not isinstance(self.lr, list):
            return explain(self.lr, lang, steps_per_epoch=per)
        names = self.groups or tuple(f"param group {i}" for i in range(len(self.lr)))
        return "\n\n".join(f"{g}:\n" + explain(s, lang, steps_per_epoch=per) for g, s in zip(names, self.lr))

    def __repr__(self) -> str:
        lr = f"[{len(self.lr)} schedules]" if isinstance(self.lr, list) else show(self.lr)
        extra = "".join(
            f", {k}={getattr(self, k)!r}"
            for k in ("steps_per_epoch", "total", "groups")
            if getattr(self, k) is not None
        )
        return f"ConfigSchedule(format={self.format!r}, unit={self.unit!r}, lr={lr}{extra})"


def options_of(fmt: str, options: Mapping[str, Any], valid: tuple[str, ...]) -> dict[str, Any]:
    """``options`` (keywords of ``from_config`` past the common ones), each one that the
    ``fmt`` reader takes; another is a ``ValueError`` naming it and the valid ones."""
    for key in options:
        if key not in valid:
            if not valid:
                raise ValueError(f"from_config: the {fmt} reader has no option {key!r}; it takes no other option")
            raise ValueError(f"from_config: the {fmt} reader has no option {key!r}{suggest(key, valid)}")
    return dict(options)


def spe_of(fmt: str, steps_per_epoch: Any, needed: str = "") -> int | None:
    """``steps_per_epoch`` checked (a whole number >= 1, or ``None``); ``needed``: why this
    reader needs it (then ``None`` is an error)."""
    if steps_per_epoch is None:
        if needed:
            raise ValueError(f"from_config: the {fmt} config needs steps_per_epoch= ({needed})")
        return None
    return Section("from_config", {}).check_whole("steps_per_epoch", steps_per_epoch)
