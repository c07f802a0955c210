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
from collections.abc import Mapping
from typing import Any

from . import _check
from .core import Schedule, schedule_class, suggest

__all__ = ["Units", "from_dict", "from_json", "from_yaml", "load", "MAX_SPEC_BYTES"]

UNIT_KEYS = ("steps_per_epoch", "run_steps")

# a number as people write it: 3e-4, 1E-3, .5, 2., 1_000, +0.1 (no inf, no nan)
_DIGITS = r"[0-9](?:_?[0-9])*"
_NUMBER = rf"[-+]?(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][-+]?{_DIGITS})?"
_NUM_RE = re.compile(rf"^\s*({_NUMBER})\s*$")
_LEN_RE = re.compile(rf"^\s*({_NUMBER})\s*(steps?|ep|epochs?|%)?\s*$")
#: parameter units whose values are numbers: a string there is read as one
_NUMBER_UNITS = ("rate", "factor", "positive", "real", "count")
_NUMBER_LIST_UNITS = ("reals", "rates")


def _number(text: str) -> float | int:
    """``"3e-4"`` -> 0.0003, ``"1_000"`` -> 1000 (an int when written as one)."""
    t = text.strip().replace("_", "")
    if re.fullmatch(r"[-+]?[0-9]+", t):
        return int(t)
    return float(t)


def spec_number(name: str, value: Any) -> Any:
    """A spec value for a number parameter: a string written as a number becomes that number
    (YAML reads ``1e-3`` as a string); anything else is returned for the kind to check."""
    if isinstance(value, str):
        if not _NUM_RE.match(value):
            raise ValueError(f"{name} must be a number, got {value!r}")
        return _number(value)
    return value


class Units:
    """How to turn a length with a unit into positions.

    ``steps_per_epoch`` converts epochs; ``run_steps`` (the whole run, in
    positions) converts fractions. Plain numbers are positions already.

    >>> Units(steps_per_epoch=100, run_steps=9000).steps("2ep"), Units(run_steps=9000).steps("10%")
    (200.0, 900.0)
    """

    __slots__ = ("steps_per_epoch", "run_steps")

    def __init__(self, steps_per_epoch: float | None = None, run_steps: float | None = None) -> None:
        object.__setattr__(
            self,
            "steps_per_epoch",
            None if steps_per_epoch is None else _check.positive("steps_per_epoch", steps_per_epoch),
        )
        object.__setattr__(self, "run_steps", None if run_steps is None else _check.positive("run_steps", run_steps))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Units is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Units) and (self.steps_per_epoch, self.run_steps) == (
            other.steps_per_epoch,
            other.run_steps,
        )

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
            x, unit = float(_number(mt.group(1))), (mt.group(2) or "steps")
            if not unit.startswith(("ep", "%")) and x.is_integer():
                x = int(x)  # "1_000" is 1000 positions, as the number 1000 would be
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
    """A kind's declared parameters, by name."""
    return {p.name: p for p in cls.params}


#: The most values (numbers, strings, lists and mappings) a spec may expand to: the config of a
#: plan re-planned 10,000 times holds about 110,000 (a schedule itself is at most
#: ``MAX_ITEMS`` schedules).
MAX_SPEC_VALUES = 1_000_000

#: The largest spec text lrkit reads (JSON or YAML), in bytes.
MAX_SPEC_BYTES = 1_000_000
# a schedule level is a mapping, and a list of schedules one more level
_SPEC_DEPTH = 2 * _check.MAX_DEPTH


def _extent(spec: Any) -> None:
    """Refuse a spec nested deeper than ``MAX_DEPTH`` or expanding to more than ``MAX_SPEC_VALUES`` values.

    A YAML alias (or a dict used twice) counts at each place it is used, as building
    would expand it; the count is memoised per node, so it is fast on any input and
    needs no recursion.
    """
    size: dict[int, int] = {}
    stack: list[tuple[Any, int, bool]] = [(spec, 1, False)]
    while stack:
        node, level, done = stack.pop()
        if level > _SPEC_DEPTH:
            raise ValueError(
                f"the spec nests mappings and lists more than {_SPEC_DEPTH} levels deep; lrkit's "
                f"limit is {_SPEC_DEPTH} (schedules nest at most {_check.MAX_DEPTH} deep)"
            )
        kids = list(node.values()) if isinstance(node, Mapping) else node if isinstance(node, list) else None
        if kids is None:
            continue
        if done:
            n = 1 + sum(size.get(id(k), 1) for k in kids)
            if n > MAX_SPEC_VALUES:
                raise ValueError(
                    f"the spec expands to more than {MAX_SPEC_VALUES:,} values (YAML aliases count "
                    f"each time they are used); lrkit's limit is {MAX_SPEC_VALUES:,}"
                )
            size[id(node)] = n
            continue
        if id(node) in size:
            continue
        stack.append((node, level, True))
        stack.extend((k, level + 1, False) for k in kids if isinstance(k, (Mapping, list)) and id(k) not in size)


def from_dict(
    spec: Mapping[str, Any], *, steps_per_epoch: float | None = None, run_steps: float | None = None
) -> Schedule:
    """Build a schedule from a spec dict (see the module docstring).

    ``steps_per_epoch`` and ``run_steps`` may also be given as top-level keys of
    the spec; given both ways, the two values must be equal (else ``ValueError``).
    Unknown types and parameters raise ``ValueError`` naming the closest valid name.

    >>> from_dict({"type": "cosine", "peak_lr": 0.1, "total_steps": "2ep", "steps_per_epoch": 50})
    Cosine(peak_lr=0.1, total_steps=100, min_lr=0, k=1, exponent=1, cycles=0.5, after='hold')
    """
    if isinstance(spec, (Mapping, list)):
        _extent(spec)  # depth and size first, whatever the parser's recursion limit let through
    if not isinstance(spec, Mapping):
        raise ValueError(f"a schedule spec must be a mapping with a 'type', got {_check.show(spec)}")
    spec = dict(spec)
    try:
        spe = _unit(spec, "steps_per_epoch", steps_per_epoch)
        run = _unit(spec, "run_steps", run_steps)
        units = Units(steps_per_epoch=spe, run_steps=run)
    except TypeError as e:  # a spec error is a ValueError
        raise ValueError(str(e)) from None
    return _build(spec, units, "", top=True, memo={})


def _unit(spec: Mapping[str, Any], name: str, given: Any) -> Any:
    """A unit from the spec's top level or the keyword argument; both given, they must agree."""
    inspec = spec_number(f"the spec's {name}", spec.get(name))
    if inspec is None:
        return given
    if given is not None:
        _check.positive(f"the spec's {name}", inspec)
        _check.positive(name, given)
        if float(inspec) != float(given):
            raise ValueError(
                f"{name} is given twice with different values: {inspec!r} in the spec and "
                f"{given!r} as the {name}= argument; give it once, or the same value"
            )
    return inspec


def _build(spec: Any, units: Units, where: str, top: bool = False, memo: dict | None = None) -> Schedule:
    memo = {} if memo is None else memo
    if id(spec) in memo:  # the same node again (a YAML alias): the same, immutable, schedule
        return memo[id(spec)][1]
    if not isinstance(spec, Mapping):
        raise ValueError(
            f"{where or 'spec'} must be a schedule spec (a mapping with a 'type'), got {_check.show(spec)}"
        )
    if "type" not in spec:
        raise ValueError(f"{where or 'spec'} has no 'type' key: {_check.show(dict(spec))}")
    try:
        cls = schedule_class(spec["type"])
    except TypeError as e:  # a spec error is a ValueError
        raise ValueError(f"{where or 'spec'}{e}") from None
    params = _params(cls)
    kwargs: dict[str, Any] = {}
    label = f"{where}{spec['type']}"
    for key, value in spec.items():
        if not isinstance(key, str):
            raise ValueError(f"{label}: parameter names must be strings, got {_check.show(key)} ({type(key).__name__})")
        if key == "type" or (top and key in UNIT_KEYS and key not in params):
            # top-level units; a schedule that takes one as a parameter (per_step's
            # steps_per_epoch: the same quantity) receives it as well
            continue
        if key not in params:
            raise ValueError(f"{label}: unknown parameter {key!r}{suggest(key, params)}")
        if isinstance(value, Mapping):
            value = _build(value, units, f"{label}.{key}: ", memo=memo)
        elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            value = [_build(v, units, f"{label}.{key}[{i}]: ", memo=memo) for i, v in enumerate(value)]
        elif params[key].unit in ("length", "length0") and value is not None:
            value = units.steps(value, key)
        elif params[key].unit == "lengths" and isinstance(value, list):
            value = [units.steps(v, f"{key}[{i}]") for i, v in enumerate(value)]
        elif params[key].unit in _NUMBER_UNITS:
            value = spec_number(f"{label}: {key}", value)
        elif params[key].unit in _NUMBER_LIST_UNITS and isinstance(value, list):
            value = [spec_number(f"{label}: {key}[{i}]", v) for i, v in enumerate(value)]
        kwargs[key] = value
    missing = [k for k, p in params.items() if p.required and k not in kwargs]
    if missing:
        raise ValueError(f"{label}: missing parameter{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    try:
        built = cls(**kwargs)
    except (TypeError, ValueError) as e:
        # a spec error is a ValueError, whatever the constructor raised
        if str(e).startswith(label):
            raise ValueError(str(e)) from None
        raise ValueError(f"{label}: {e}") from None
    memo[id(spec)] = (spec, built)  # the spec is kept alive, so its id is not reused
    return built


def _check_text(text: Any, what: str) -> str:
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{what} is not UTF-8 text") from None
    if not isinstance(text, str):
        raise TypeError(f"{what} must be text, got {_check.show(text)} ({type(text).__name__})")
    if len(text) > MAX_SPEC_BYTES:
        raise ValueError(f"{what} is {len(text):,} characters long; lrkit reads specs of at most {MAX_SPEC_BYTES:,}")
    return text


def _bracket_depth(text: str, what: str = "the spec") -> None:
    """Refuse text whose ``[``/``{`` nesting (outside quoted strings) is deeper than a spec may
    be, before a parser recurses into it: how deep a parser can go depends on the
    interpreter's recursion limit (which other libraries change) and the C stack."""
    import re

    if text.count("[") + text.count("{") <= _SPEC_DEPTH:
        return
    level = 0
    for m in re.finditer(r'"(?:[^"\\]|\\.)*"|\'(?:[^\']|\'\')*\'|[\[\]{}]', text):
        c = m.group()
        if c in "[{":
            level += 1
            if level > _SPEC_DEPTH:
                raise ValueError(
                    f"{what} nests mappings and lists more than {_SPEC_DEPTH} levels deep; "
                    f"lrkit's limit is {_SPEC_DEPTH}"
                )
        elif c in "]}":
            level -= 1


def _json(text: str) -> Any:
    import json

    _bracket_depth(text)

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                raise ValueError(f"invalid JSON: the key {k!r} appears twice in one object")
            out[k] = v
        return out

    try:
        return json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as e:
        raise ValueError(f"invalid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None
    except RecursionError:
        raise ValueError(
            f"the spec nests mappings and lists more than {_SPEC_DEPTH} levels deep; lrkit's limit is {_SPEC_DEPTH}"
        ) from None


def from_json(text: str, **units: Any) -> Schedule:
    """Build a schedule from JSON text."""
    return from_dict(_json(_check_text(text, "the JSON spec")), **units)


def from_yaml(text: str, **units: Any) -> Schedule:
    """Build a schedule from YAML text (``yaml.safe_load``: plain data only; needs PyYAML)."""
    return from_dict(parse_yaml(text), **units)


def parse_yaml(text: Any, what: str = "the YAML spec", loader: Any = None) -> Any:
    """YAML text as plain data, read as lrkit reads its own specs: at most ``MAX_SPEC_BYTES``
    characters, nested at most ``2 * MAX_DEPTH`` deep, expanding (aliases counted each
    time they are used) to at most ``MAX_SPEC_VALUES`` values, a key at most once per mapping,
    no tag that builds an object. ``loader``: a subclass of :func:`_yaml_loader`'s loader
    (PaddleDetection's ``!Name`` tags). Every failure is a ``ValueError`` starting with
    ``what`` (a text that is not text: ``TypeError``)."""
    try:
        import yaml
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("reading YAML needs PyYAML (a dependency of lrkit): pip install pyyaml") from None
    text = _check_text(text, what)
    _bracket_depth(text, what)
    try:
        data = yaml.load(text, Loader=loader or _yaml_loader())  # safe_load, refusing duplicate keys
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        problem = " ".join(x for x in (getattr(e, "context", None), getattr(e, "problem", None)) if x) or str(e)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = " ".join(problem.split())
        if len(problem) > 200:
            problem = problem[:197] + "..."
        prefix = "invalid YAML" if what == "the YAML spec" else f"{what} is not valid YAML"
        raise ValueError(f"{prefix}: {problem}{where}") from None
    except RecursionError:
        raise ValueError(
            f"{what} nests mappings and lists more than {_SPEC_DEPTH} levels deep; lrkit's limit is {_SPEC_DEPTH}"
        ) from None
    if isinstance(data, (Mapping, list)):
        try:
            _extent(data)
        except ValueError as e:
            if what == "the YAML spec":
                raise
            raise ValueError(str(e).replace("the spec", what, 1)) from None
    return data


_LOADER: Any = None


def _yaml_loader() -> Any:
    """PyYAML's SafeLoader, refusing a key given twice in one mapping (YAML forbids it;
    PyYAML would keep the last one silently)."""
    global _LOADER
    if _LOADER is None:
        import yaml

        class Loader(yaml.SafeLoader):
            def construct_mapping(self, node: Any, deep: bool = False) -> Any:
                if isinstance(node, yaml.MappingNode):
                    seen: set = set()
                    for key_node, _ in node.value:
                        if key_node.tag == "tag:yaml.org,2002:merge":
                            continue
                        key = self.construct_object(key_node, deep=deep)
                        try:
                            dup = key in seen
                            seen.add(key)
                        except TypeError:  # an unhashable key: SafeLoader says so itself
                            continue
                        if dup:
                            raise yaml.constructor.ConstructorError(
                                None, None, f"the key {key!r} appears twice in one mapping", key_node.start_mark
                            )
                return super().construct_mapping(node, deep=deep)

        _LOADER = Loader
    return _LOADER


def load(source: Any, **units: Any) -> Schedule:
    """Build a schedule from a path to a ``.json``/``.yaml``/``.yml`` file (a string or a
    ``pathlib.Path``), an open file (``sys.stdin``, ``open("spec.yaml")``), or inline JSON/YAML text.

    A file is read bounded, whatever it is (a regular file, a pipe, a device): past
    ``MAX_SPEC_BYTES`` bytes it is refused without reading further; a folder, a file that
    is not UTF-8 text or holds NUL characters is a ``ValueError`` naming it.
    """
    import os

    from ._files import read_text

    if isinstance(source, os.PathLike):
        source = os.fspath(source)
        if not os.path.lexists(source):
            raise ValueError(f"no such spec file: {source!r}")
        return _load_file(os.fsdecode(source), units)
    if not isinstance(source, str) and callable(getattr(source, "read", None)):
        source = read_text(source, "the spec", MAX_SPEC_BYTES)  # an open file: its text, read as inline text
        if "\n" not in source:
            source += "\n"
    if not isinstance(source, str):
        raise TypeError(
            f"source must be a path, an open file or spec text, got {_check.show(source)} ({type(source).__name__})"
        )
    text = source
    inline = source.lstrip().startswith(("{", "[")) or "\n" in source
    if not inline and os.path.lexists(source):
        return _load_file(source, units)
    elif not inline and re.search(r"\.(json|ya?ml)\s*$", source, re.IGNORECASE):
        raise ValueError(f"no such spec file: {source!r}")
    if text.lstrip().startswith(("{", "[")):
        try:
            data = _json(_check_text(text, "the JSON spec"))
        except ValueError as e:
            if "nested" in str(e):
                raise
            # Not JSON: YAML's flow style (``{type: cosine, ...}``) also starts with a brace.
            return from_yaml(text, **units)
        return from_dict(data, **units)
    return from_yaml(text, **units)


def _load_file(path: str, units: dict[str, Any]) -> Schedule:
    """The schedule in the spec file at ``path``, read bounded (``MAX_SPEC_BYTES``)."""
    from ._files import read_text

    text = read_text(path, "spec file", MAX_SPEC_BYTES)
    if path.lower().endswith((".yaml", ".yml")):
        return from_yaml(text, **units)
    if path.lower().endswith(".json"):
        return from_json(text, **units)  # JSON's rules, not YAML's
    return load(text if "\n" in text or text.lstrip().startswith(("{", "[")) else text + "\n", **units)
