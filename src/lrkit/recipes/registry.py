"""The recipes, declared once: name, summary, parameters, the builder.

A recipe is a schedule (or a set of curves of one run) that people arrive with under
another library's name and parameter names: YOLOX's ``get_lr_scheduler``, CAWB,
torchvision's detection warmup, ultralytics' trainer, PaddleDetection / PaddleClas
configs. Each recipe module declares its recipe next to its code::

    declare(Recipe("yolox-step", "YOLOX get_lr_scheduler('step', ...)",
                   params=(Option("lr", "rate", doc="peak learning rate", metavar="LR"), ...),
                   build=YoloxStep, ...))

and everything else is derived from that one declaration: the command line's options
(``lrkit plot NAME --opt value``, the original's names with dashes, the underscore
spelling too), ``lrkit list NAME``, the help text, and the documentation's recipe rows
(:func:`recipe_table`, written into docs/tutorials/recipes.md by ``python -m lrkit.catalog``).

From Python, a recipe is called with its parameters by name, defaults filled in from
the declaration:

>>> yc = recipe("yolox-cos")
>>> yc(lr=0.01, min_lr=1e-4, total_iters=300)(3)
0.010000000000000002
>>> [p.name for p in yc.params if p.required]
['lr', 'min_lr', 'total_iters']

How each unit of :class:`~lrkit.params.Param` reads on the command line: a number
(``rate``, ``factor``, ``positive``, ``real``, ``length``, ``length0``), a whole number
``>= 1`` (``count``), one of the ``choices`` (``choice``), a switch without a value
(``bool``), any number of numbers (``reals``, ``rates``, ``lengths``), text (``any``;
``file=True``: a file the recipe reads). The values are checked by the builder itself
(the recipes' constructors check every parameter and name it).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, ClassVar

from ..params import REQUIRED, Param

__all__ = [
    "Option",
    "Recipe",
    "declare",
    "registered_recipes",
    "recipe",
    "recipe_table",
    "run_length",
    "RECIPES_BEGIN",
    "RECIPES_END",
]

RECIPES_BEGIN = "<!-- recipes: generated from the recipe declarations by lrkit.catalog; do not edit -->"
RECIPES_END = "<!-- end of recipes -->"

#: Units read as a list of numbers on the command line.
LIST_UNITS = frozenset({"reals", "rates", "lengths"})


class Option(Param):
    """A recipe parameter: a :class:`~lrkit.params.Param` (name, unit, default, doc,
    choices) and how it reads on the command line.

    ``metavar`` is the value's placeholder in the help (``LR``, ``E``); ``file=True``
    marks text that names a file the recipe reads (a config). ``doc`` is the option's
    help; ``(default: ...)`` is added from ``default`` unless the doc says it in words.
    """

    __slots__ = ("metavar", "file")
    _fields: ClassVar[tuple[str, ...]] = Param._fields + __slots__
    __match_args__ = _fields

    metavar: str | None
    file: bool

    def __init__(
        self,
        name: str,
        unit: str,
        default: Any = REQUIRED,
        doc: str = "",
        choices: tuple[str, ...] = (),
        optional: bool = False,
        unbounded: bool = False,
        metavar: str | None = None,
        file: bool = False,
    ) -> None:
        super().__init__(name, unit, default, doc, choices, optional, unbounded)
        object.__setattr__(self, "metavar", metavar)
        object.__setattr__(self, "file", file)

    @property
    def flag(self) -> str:
        """The command-line spelling, ``--min-lr`` for ``min_lr``."""
        return "--" + self.name.replace("_", "-")

    @property
    def flags(self) -> list[str]:
        """``--min-lr`` and the original spelling ``--min_lr``."""
        return [self.flag] + ([f"--{self.name}"] if "_" in self.name else [])

    @property
    def help(self) -> str:
        """The doc, with the default said when there is one worth saying."""
        text = self.doc
        if self.required or self.default is None or self.default is False or self.default == () or "(default:" in text:
            return text
        return f"{text} (default: {self.default})"


def run_length(value: float) -> int:
    """Positions to show for a run of ``value`` positions: ``max(2, ceil(value))``."""
    return max(2, math.ceil(value))


@dataclass(frozen=True)
class Recipe:
    """One recipe, declared once (see the module docstring).

    ``build(**values)`` makes the schedule from the parameters by name (a class of a
    kind, or a function). ``original`` and ``does`` are the recipe table's row: the original's
    call, and what it really does (markdown). ``positions_per_epoch(v)`` and
    ``default_steps(v)`` take the values as attributes (``v.batchs``): the positions of
    an epoch (for ``--x-unit epochs``) and how many positions to show by default.
    ``curves=True``: ``build`` gives several curves of one run (``series()``,
    ``explain(lang)``, as :func:`lrkit.recipes.ultralytics_schedules`), and
    ``schedule(result)`` the first of them.
    """

    name: str
    summary: str
    params: tuple[Option, ...]
    build: Callable[..., Any]
    original: str = ""
    does: str = ""
    positions_per_epoch: Callable[[Any], float | None] | None = None
    default_steps: Callable[[Any], int | None] | None = None
    #: the run's length in positions when the recipe knows it (``run_steps(v)``; a config's epochs
    #: x iterations per epoch): plots mark where training ends and name what is shown past it
    run_steps: Callable[[Any], float | None] | None = None
    curves: bool = False
    schedule: Callable[[Any], Any] | None = None

    def __post_init__(self) -> None:
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"recipe {self.name}: a parameter is declared twice in {names}")
        bad = [p.name for p in self.params if not isinstance(p, Param)]
        if bad:
            raise TypeError(f"recipe {self.name}: params must be Param/Option declarations, got {bad}")

    def values(self, **given: Any) -> dict[str, Any]:
        """Every parameter's value: ``given`` by name, the declared defaults for the rest.

        ``TypeError`` names an unknown parameter or a required one left out.
        """
        names = {p.name for p in self.params}
        unknown = [k for k in given if k not in names]
        if unknown:
            raise TypeError(
                f"recipe {self.name} has no parameter {unknown[0]!r} "
                f"(its parameters: {', '.join(p.name for p in self.params)})"
            )
        missing = [p.name for p in self.params if p.required and p.name not in given]
        if missing:
            raise TypeError(f"recipe {self.name} needs {', '.join(missing)}")
        return {p.name: given[p.name] if p.name in given else _copy(p.default) for p in self.params}

    def __call__(self, **given: Any) -> Any:
        """The recipe's result for these parameters (defaults filled in): a schedule, or
        the curves of one run (``curves=True``)."""
        return self.build(**self.values(**given))

    def make_schedule(self, **given: Any) -> Any:
        """The schedule: the result, or for ``curves`` recipes its first curve."""
        out = self(**given)
        return self.schedule(out) if self.schedule is not None else out

    def per_epoch(self, values: dict[str, Any]) -> float | None:
        """Positions per epoch for these values (None: not known)."""
        return None if self.positions_per_epoch is None else self.positions_per_epoch(SimpleNamespace(**values))

    def run_length(self, values: dict[str, Any]) -> float | None:
        """The run's length in positions for these values (None: not known)."""
        return None if self.run_steps is None else self.run_steps(SimpleNamespace(**values))

    def steps_to_show(self, values: dict[str, Any]) -> int | None:
        """How many positions to show by default for these values (None: the schedule's own)."""
        return None if self.default_steps is None else self.default_steps(SimpleNamespace(**values))


def _copy(v: Any) -> Any:
    if v is REQUIRED:  # pragma: no cover - required parameters are checked before
        return None
    return list(v) if isinstance(v, (list, tuple)) else v


_RECIPES: dict[str, Recipe] = {}


def declare(r: Recipe) -> Recipe:
    """Register ``r`` under its name (``yolox-cos``; ``yolox_cos`` finds it too); returns it."""
    if not isinstance(r, Recipe):
        raise TypeError(f"declare takes a Recipe, got {type(r).__name__}")
    if r.name in _RECIPES and _RECIPES[r.name] != r:
        raise ValueError(f"recipe {r.name!r} is declared twice")
    _RECIPES[r.name] = r
    return r


def registered_recipes() -> dict[str, Recipe]:
    """Every declared recipe by name, in the order they were declared."""
    return dict(_RECIPES)


def recipe(name: str) -> Recipe:
    """The recipe called ``name`` (``yolox-cos`` or ``yolox_cos``); ``ValueError`` lists the names."""
    r = _RECIPES.get(str(name).replace("_", "-"))
    if r is None:
        raise ValueError(f"unknown recipe {name!r} (declared: {', '.join(_RECIPES)})")
    return r


def recipe_table() -> str:
    """The recipe table (markdown): one row per declared recipe, with the
    original's call, what it really does, and the command line's options."""
    rows = ["| recipe | what it really does | on the command line |", "|---|---|---|"]
    for r in _RECIPES.values():
        need = "".join(f" {p.flag} {p.metavar or p.name.upper()}" for p in r.params if p.required)
        opt = ", ".join(f"`{p.flag}`" for p in r.params if not p.required)
        cli = f"`{r.name}{need}`" + (f"; optional {opt}" if opt else "")
        rows.append(f"| {r.original} | {r.does} | {cli} |")
    return "\n".join(rows)
