"""Building schedules from plain data (dict, JSON, YAML), and length units.

A spec is a dict with a ``type`` (a registered schedule kind) and that schedule's
parameters; schedules nested inside (``schedule``, ``segments``) are specs too::

    {"type": "warmup", "warmup_steps": "1ep",
     "schedule": {"type": "cosine", "peak_lr": 0.1, "total_steps": "90%"}}

Lengths (``*_steps``, ``step_size``, ``period``, ``milestones``, ...) are numbers of
positions, or strings with a unit: ``"500"`` / ``"500 steps"``, ``"2ep"`` /
``"2 epochs"`` (needs ``steps_per_epoch``), ``"10%"`` (a fraction of the run; needs
``run_steps``). Building never executes code from the spec.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from . import _check
from .core import Schedule, schedule_class, suggest

__all__ = ["Units", "from_dict", "from_json", "from_yaml", "load", "LENGTH_FIELDS"]

#: Parameter names that hold a length (one name per concept across lrkit).
LENGTH_FIELDS = frozenset({"total_steps", "warmup_steps", "decay_steps", "step_size", "period", "timescale",
                           "step_size_up", "step_size_down", "end", "tau"})
LENGTH_LIST_FIELDS = frozenset({"milestones", "boundaries"})
UNIT_KEYS = ("steps_per_epoch", "run_steps")

_LEN_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(steps?|ep|epochs?|%)?\s*$")


class Units:
    """How to turn a length with a unit into positions.

    ``steps_per_epoch`` converts epochs; ``run_steps`` (the whole run, in
    positions) converts fractions. Plain numbers are positions already.

    >>> Units(steps_per_epoch=100, run_steps=9000).steps("2ep"), Units(run_steps=9000).steps("10%")
    (200.0, 900.0)
    """

    __slots__ = ("steps_per_epoch", "run_steps")

    def __init__(self, steps_per_epoch: float | None = None, run_steps: float | None = None) -> None:
        object.__setattr__(self, "steps_per_epoch",
                           None if steps_per_epoch is None else _check.positive("steps_per_epoch", steps_per_epoch))
        object.__setattr__(self, "run_steps", None if run_steps is None else _check.positive("run_steps", run_steps))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Units is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Units) and (self.steps_per_epoch, self.run_steps) == (
            other.steps_per_epoch, other.run_steps)

    def __hash__(self) -> int:
        return hash((self.steps_per_epoch, self.run_steps))

    def __repr__(self) -> str:
        return f"Units(steps_per_epoch={self.steps_per_epoch!r}, run_steps={self.run_steps!r})"

    def steps(self, value: Any, name: str = "length") -> float:
        """``value`` (a number, or a string with a unit) as a number of positions."""
        if isinstance(value, str):
            mt = _LEN_RE.match(value)
            if not mt:
                raise ValueError(f"{name} must be a number or a string like '500', '2ep' or '10%', got {value!r}")
            x, unit = float(mt.group(1)), (mt.group(2) or "steps")
            if unit.startswith("ep"):
                if self.steps_per_epoch is None:
                    raise ValueError(f"{name}={value!r} is in epochs: give steps_per_epoch to convert it")
                return x * float(self.steps_per_epoch)
            if unit == "%":
                if self.run_steps is None:
                    raise ValueError(f"{name}={value!r} is a fraction of the run: give run_steps to convert it")
                return x / 100.0 * float(self.run_steps)
            return x
        _check.real(name, value)
        return value  # a plain number: the schedule checks and converts it, quoting it as given


def _params(cls: type) -> dict[str, Any]:
    import inspect

    sig = inspect.signature(cls.__init__)
    return {k: p for k, p in sig.parameters.items() if k != "self"}


def from_dict(spec: Mapping[str, Any], *, steps_per_epoch: float | None = None,
              run_steps: float | None = None) -> Schedule:
    """Build a schedule from a spec dict (see the module docstring).

    ``steps_per_epoch`` and ``run_steps`` may also be given as top-level keys of
    the spec; given both ways, the two values must be equal (else ``ValueError``).
    Unknown types and parameters raise ``ValueError`` naming the closest valid name.

    >>> from_dict({"type": "cosine", "peak_lr": 0.1, "total_steps": "2ep", "steps_per_epoch": 50})
    Cosine(peak_lr=0.1, total_steps=100.0, min_lr=0.0, k=1.0)
    """
    if not isinstance(spec, Mapping):
        raise TypeError(f"a schedule spec must be a mapping with a 'type', got {spec!r}")
    spec = dict(spec)
    spe = _unit(spec, "steps_per_epoch", steps_per_epoch)
    run = _unit(spec, "run_steps", run_steps)
    units = Units(steps_per_epoch=spe, run_steps=run)
    return _build(spec, units, "", top=True)


def _unit(spec: Mapping[str, Any], name: str, given: Any) -> Any:
    """A unit from the spec's top level or the keyword argument; both given, they must agree."""
    inspec = spec.get(name)
    if inspec is None:
        return given
    if given is not None:
        _check.positive(f"the spec's {name}", inspec)
        _check.positive(name, given)
        if float(inspec) != float(given):
            raise ValueError(f"{name} is given twice with different values: {inspec!r} in the spec and "
                             f"{given!r} as the {name}= argument; give it once, or the same value")
    return inspec


def _build(spec: Any, units: Units, where: str, top: bool = False) -> Schedule:
    if not isinstance(spec, Mapping):
        raise TypeError(f"{where or 'spec'} must be a schedule spec (a mapping with a 'type'), got {spec!r}")
    if "type" not in spec:
        raise ValueError(f"{where or 'spec'} has no 'type' key: {dict(spec)!r}")
    cls = schedule_class(spec["type"])
    params = _params(cls)
    kwargs: dict[str, Any] = {}
    label = f"{where}{spec['type']}"
    for key, value in spec.items():
        if key == "type" or (top and key in UNIT_KEYS and key not in params):
            # top-level units; a schedule that takes one as a parameter (per_step's
            # steps_per_epoch: the same quantity) receives it as well
            continue
        if key not in params:
            raise ValueError(f"{label}: unknown parameter {key!r}{suggest(key, params)}")
        if isinstance(value, Mapping):
            value = _build(value, units, f"{label}.{key}: ")
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            value = [_build(v, units, f"{label}.{key}[{i}]: ") for i, v in enumerate(value)]
        elif key in LENGTH_FIELDS and value is not None:
            value = units.steps(value, key)
        elif key in LENGTH_LIST_FIELDS and isinstance(value, list):
            value = [units.steps(v, f"{key}[{i}]") for i, v in enumerate(value)]
        kwargs[key] = value
    missing = [k for k, p in params.items() if p.default is p.empty and k not in kwargs]
    if missing:
        raise ValueError(f"{label}: missing parameter{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        if str(e).startswith(label):
            raise
        raise type(e)(f"{label}: {e}") from None


def from_json(text: str, **units: Any) -> Schedule:
    """Build a schedule from JSON text."""
    import json

    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"invalid JSON: {e}") from None
    return from_dict(data, **units)


def from_yaml(text: str, **units: Any) -> Schedule:
    """Build a schedule from YAML text (``yaml.safe_load``: plain data only; needs PyYAML)."""
    try:
        import yaml
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("reading YAML needs PyYAML: pip install 'lrkit[yaml]'") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ValueError(f"invalid YAML: {e}") from None
    return from_dict(data, **units)


def load(source: str, **units: Any) -> Schedule:
    """Build a schedule from a path to a ``.json``/``.yaml``/``.yml`` file, or inline JSON/YAML text."""
    import os

    text = source
    if not source.lstrip().startswith(("{", "[")) and os.path.exists(source):
        with open(source, encoding="utf-8") as fh:
            text = fh.read()
        if source.endswith((".yaml", ".yml")):
            return from_yaml(text, **units)
    elif not source.lstrip().startswith(("{", "[")):
        if re.fullmatch(r"[\w.\-/\\]+\.(json|ya?ml)", source.strip()):
            raise ValueError(f"no such spec file: {source!r}")
    if text.lstrip().startswith(("{", "[")):
        import json

        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            # Not JSON: YAML's flow style (``{type: cosine, ...}``) also starts with a brace.
            return from_yaml(text, **units)
        return from_dict(data, **units)
    return from_yaml(text, **units)
