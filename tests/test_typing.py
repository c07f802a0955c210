"""What type checkers see of the kinds: each kind's fields (``name: type = param(...)``) are its
constructor for pyright too (PEP 681 ``dataclass_transform``), with the runtime's signature.

pyright runs on small user files written here, and what it reports is compared with
``inspect.signature`` of the runtime constructors and the kinds' ``params``.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import lrkit
from lrkit.core import Schedule, registered
from lrkit.params import Param, derived, param

SRC = Path(lrkit.__file__).resolve().parent.parent


def _pyright() -> str | None:
    here = Path(sys.executable).parent / "pyright"
    return str(here) if here.exists() else shutil.which("pyright")


PYRIGHT = _pyright()
# pyright is a test dependency: a missing one fails the tests that need it (never a skip)
needs_pyright = pytest.mark.usefixtures()

# --- the user files ------------------------------------------------------------------

SAMPLE = '''\
import torch

import lrkit
import lrkit.jax
import lrkit.keras
import lrkit.paddle
import lrkit.torch
from lrkit.recipes.ultralytics import ultralytics_schedules
from lrkit.replan import replan

s = lrkit.Cosine(0.1, 1000)
reveal_type(s)  # REVEAL Cosine
reveal_type(s.total_steps)  # REVEAL float
reveal_type(s.after)  # REVEAL Literal['hold', 'continue']
m = lrkit.MultiStep(0.1, [30, 60], gamma=0.5)
reveal_type(m)  # REVEAL MultiStep
reveal_type(m.milestones)  # REVEAL Sequence[float]
w = lrkit.WarmupCosine(peak_lr=0.1, total_steps=1000, warmup_steps=100)
reveal_type(w)  # REVEAL WarmupCosine
reveal_type(w.warmup_steps)  # REVEAL float
reveal_type(w.schedule)  # REVEAL Schedule
c = lrkit.Clip(s, max_lr=0.05)
reveal_type(c.schedule)  # REVEAL Schedule
reveal_type(c.max_lr)  # REVEAL float | None
r = lrkit.CosineRestarts(0.1, 100, max_cycles=3)
reveal_type(r.max_cycles)  # REVEAL int | None
reveal_type(lrkit.Warmup(s, 10, shape="exponential", tau=2.0))  # REVEAL Warmup
reveal_type(lrkit.CAWB(epochs=45, steps=[15, 30], lf="cos"))  # REVEAL CAWB
reveal_type(lrkit.Exponential(0.1, 0.97).staircase)  # REVEAL bool
reveal_type(lrkit.RAdamDampening().offset)  # REVEAL int
reveal_type(s._end)  # REVEAL float
lrkit.Cosine(0.1, total_step=1000)  # ERROR
lrkit.Cosine("a", 1000)  # ERROR
lrkit.Cosine(0.1, 1000, after="x")  # ERROR
lrkit.Cosine(0.1)  # ERROR
lrkit.Cosine(0.1, 1000, 0.0, 1.0, 1.0, 0.5, "hold", 3)  # ERROR
lrkit.Step(0.1, 30, gama=0.5)  # ERROR
lrkit.MultiStep(0.1, 30)  # ERROR
lrkit.Warmup(0.1, 10)  # ERROR
lrkit.WarmupCosine(lrkit.Cosine(0.1, 900), 100)  # ERROR
lrkit.Constant(lr=0.1, peak_lr=0.1)  # ERROR
lrkit.Cosine(0.1, 1000, _end=0.0)  # ERROR
lrkit.RAdamDampening(0.999, 3)  # ERROR
s.peak_lr = 0.2  # ERROR
lrkit.Cosine(0.1, 1000, 0.0, 1.0, 1.0, 0.5, "hold")
lrkit.Step(peak_lr=0.1, step_size=30, gamma=0.5)
lrkit.Cyclic(0.1, 100, mode="exp_range", gamma=0.99)
lrkit.Sequence([lrkit.Constant(0.01), s], [100])
lrkit.Exponential(0.1, 2.0, max_lr=1.0)
opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
reveal_type(lrkit.torch.ScheduleLR(opt, s))  # REVEAL ScheduleLR
reveal_type(lrkit.torch.ReduceLROnPlateau(opt))  # REVEAL ReduceLROnPlateau
reveal_type(replan(s, 500, total_steps=2000))  # REVEAL Schedule
reveal_type(lrkit.jax.to_optax(s))  # REVEAL OptaxSchedule
reveal_type(lrkit.keras.ScheduleLR(s))  # REVEAL ScheduleLR
reveal_type(ultralytics_schedules(0.01, 0.01, 10, 20))  # REVEAL UltralyticsSchedules
reveal_type(lrkit.get_lr_scheduler("cos", 0.1, 100, 10))  # REVEAL YoloxCos | YoloxStep
reveal_type(lrkit.explain(s))  # REVEAL str
reveal_type(s.explain("zh"))  # REVEAL str
lrkit.torch.ScheduleLR(opt, s, totl=3)  # ERROR
replan(s, 500, total_step=2000)  # ERROR
lrkit.jax.to_optax(s, metod="table")  # ERROR
lrkit.keras.ScheduleLR(s, total_step=5)  # ERROR
ultralytics_schedules(0.01, 0.01, 10, 20, warmup_epoch=3)  # ERROR
lrkit.torch.from_torch(torch.optim.lr_scheduler.StepLR(opt, 3), grop=0)  # ERROR
lrkit.paddle.from_paddle(1, 2)  # ERROR
'''


def _signature_file() -> tuple[str, dict[int, str]]:
    """``reveal_type(<kind>.__init__)`` for every registered kind, with the line of each."""
    lines, where = [], {}
    for i, (kind, cls) in enumerate(registered().items()):
        lines.append(f"import {cls.__module__} as m{i}")
        lines.append(f"reveal_type(m{i}.{cls.__qualname__}.__init__)")
        where[len(lines)] = kind
    return "\n".join(lines) + "\n", where


#: The oldest Python lrkit supports (where ``typing`` has no ``dataclass_transform``, which
#: type checkers must still see) and one that has it.
PYTHON_VERSIONS = ["3.10", "3.11"]


@pytest.fixture(scope="module", params=PYTHON_VERSIONS)
def pyright_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One pyright run (standard mode) on the sample file and the signature file, checking for
    the Python version of the parameter."""
    assert PYRIGHT is not None
    d = tmp_path_factory.mktemp("typing")
    (d / "sample.py").write_text(SAMPLE)
    text, where = _signature_file()
    (d / "signatures.py").write_text(text)
    (d / "pyrightconfig.json").write_text(
        json.dumps(
            {
                "typeCheckingMode": "standard",
                "extraPaths": [str(SRC)],
                "include": ["sample.py", "signatures.py"],
                "pythonVersion": request.param,
            }
        )
    )
    proc = subprocess.run(
        [PYRIGHT, "--outputjson", "--pythonpath", sys.executable, "-p", str(d)],
        cwd=d,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = proc.stdout
    try:
        data = json.loads(out[out.index("{") :])
    except ValueError:
        pytest.fail(f"pyright gave no JSON report (exit {proc.returncode}):\n{out}\n{proc.stderr}")
    by_file: dict[str, dict[int, list[dict]]] = {"sample.py": {}, "signatures.py": {}}
    for diag in data["generalDiagnostics"]:
        name = Path(diag["file"]).name
        by_file.setdefault(name, {}).setdefault(diag["range"]["start"]["line"] + 1, []).append(diag)
    return {"data": data, "by_file": by_file, "where": where}


# --- pyright's view ----------------------------------------------------------------------


@needs_pyright
def test_pyright_ran_and_resolved_lrkit(pyright_run: dict[str, Any]) -> None:
    data = pyright_run["data"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", data["version"]), data.get("version")
    assert data["summary"]["filesAnalyzed"] >= 2
    messages = [d["message"] for d in data["generalDiagnostics"]]
    assert not [m for m in messages if "could not be resolved" in m or "is not a known attribute" in m], messages


@needs_pyright
def test_revealed_types(pyright_run: dict[str, Any]) -> None:
    got = pyright_run["by_file"]["sample.py"]
    for n, line in enumerate(SAMPLE.splitlines(), 1):
        if "# REVEAL " not in line:
            continue
        want = line.split("# REVEAL ")[1]
        infos = [d["message"] for d in got.get(n, []) if d["severity"] == "information"]
        assert len(infos) == 1, (n, line, got.get(n))
        revealed = re.fullmatch(r'Type of ".*" is "(.*)"', infos[0], re.S)
        assert revealed and revealed.group(1) == want, (line, infos[0])


@needs_pyright
def test_bad_calls_are_flagged_and_good_ones_are_not(pyright_run: dict[str, Any]) -> None:
    got = pyright_run["by_file"]["sample.py"]
    for n, line in enumerate(SAMPLE.splitlines(), 1):
        errors = [d for d in got.get(n, []) if d["severity"] == "error"]
        if line.endswith("# ERROR"):
            assert errors, f"pyright accepts line {n}: {line}"
        else:
            assert not errors, (line, [e["message"] for e in errors])


def _split_params(sig: str) -> list[str]:
    """The parameters of a pyright callable type ``(a: X, b: Y = 1) -> None``, split at top-level commas."""
    assert sig.startswith("(") and sig.endswith(") -> None"), sig
    body, out, depth, quote, cur = sig[1 : -len(") -> None")], [], 0, "", ""
    for ch in body:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        cur += ch
    return out + ([cur.strip()] if cur.strip() else [])


_UNIT_TYPES = {
    "rate": "float",
    "factor": "float",
    "positive": "float",
    "real": "float",
    "length": "float",
    "length0": "float",
    "bool": "bool",
    "count": "int",
    "schedule": "Schedule",
    "schedules": "Sequence[Schedule]",
    "lengths": "Sequence[float]",
    "reals": "Sequence[float]",
    "rates": "Sequence[float]",
}


def _expected_type(p: Param) -> str | None:
    if p.unit == "choice":
        base = "Literal[" + ", ".join(repr(c) for c in p.choices) + "]"
    elif p.unit == "any":
        return None  # the kind says what it takes
    else:
        base = _UNIT_TYPES[p.unit]
    return base + " | None" if (p.optional or (not p.required and p.default is None)) else base


@needs_pyright
def test_every_kind_has_the_runtime_signature_for_pyright(pyright_run: dict[str, Any]) -> None:
    got, where = pyright_run["by_file"]["signatures.py"], pyright_run["where"]
    assert len(where) == len(registered()) >= 30
    for n, kind in where.items():
        cls = registered()[kind]
        diags = got.get(n, [])
        assert [d["severity"] for d in diags] == ["information"], (kind, diags)
        sig = re.fullmatch(r'Type of ".*" is "(.*)"', diags[0]["message"], re.S).group(1)
        static = _split_params(sig)
        assert static[0].startswith("self"), (kind, sig)
        runtime = list(inspect.signature(cls).parameters.values())
        assert len(static) - 1 == len(runtime), (kind, sig, inspect.signature(cls))
        for text, rp, p in zip(static[1:], runtime, cls.params):
            name, _, rest = text.partition(": ")
            annotation, eq, default = rest.partition(" = ")
            assert name == rp.name == p.name, (kind, text, rp)
            assert bool(eq) == (rp.default is not inspect.Parameter.empty), (kind, text, rp)
            if eq and default != "...":
                assert ast.literal_eval(default) == rp.default, (kind, text, rp)
            want = _expected_type(p)
            if want is not None:  # typing.Sequence where a kind named Sequence is in scope
                assert annotation.replace("typing.", "") == want, (kind, name, annotation, want)


# --- the runtime side of the declaration -------------------------------------------------------


def test_fields_become_params_in_order_and_leave_the_class() -> None:
    for cls in registered().values():
        assert cls._fields == tuple(p.name for p in cls.params)
        for p in cls.params:
            assert not isinstance(cls.__dict__.get(p.name), Param), (cls, p.name)
    s = lrkit.Step(0.1, 30)
    assert (s.peak_lr, s.step_size, s.gamma) == (0.1, 30.0, 0.1)
    assert [p.name for p in lrkit.Cosine.params] == [
        "peak_lr",
        "total_steps",
        "min_lr",
        "k",
        "exponent",
        "cycles",
        "after",
    ]
    assert lrkit.Cosine.params[-1].choices == ("hold", "continue")
    with pytest.raises(ValueError, match="after"):
        lrkit.Cosine(0.1, 10, after="x")  # type: ignore[arg-type]


def test_inherited_fields_come_first_and_a_redeclared_one_keeps_its_place() -> None:
    class A(Schedule):
        x: float = param("rate", doc="x")
        y: float = param("rate", default=1.0, doc="y")

        def _kernel(self, t: Any, xp: Any) -> Any:
            return xp.full(t, self.x * self.y)

    class B(A):
        x: float = param("positive", doc="x, > 0")
        z: bool = param("bool", default=False, doc="z")

    assert [(p.name, p.unit) for p in B.params] == [("x", "positive"), ("y", "rate"), ("z", "bool")]
    assert str(inspect.signature(B)) == "(x, y=1.0, z=False)"
    b = B(2.0, z=True)
    assert (b.x, b.y, b.z, b(0.0)) == (2.0, 1.0, True, 2.0)
    with pytest.raises(ValueError, match="x"):
        B(0.0)


def test_declaration_mistakes_are_refused_when_the_class_is_made() -> None:
    with pytest.raises(TypeError, match="b has no default but follows"):

        class Order(Schedule):
            a: float = param("rate", default=1.0)
            b: float = param("rate")

    with pytest.raises(TypeError, match="annotated but not declared with param"):

        class Bare(Schedule):
            a: float = param("rate")
            b: float

    with pytest.raises(TypeError, match="Literal"):

        class NoChoices(Schedule):
            a: str = param("choice", default="x")

    with pytest.raises(TypeError, match="default="):

        class SharedDefault(Schedule):
            a: float = param(Param("a", "rate", 0.0))


def test_a_params_tuple_still_declares_a_kind() -> None:
    class Legacy(Schedule):
        params = (Param("v", "rate", doc="the value"), Param("w", "factor", 2.0, "a factor"))

        def _kernel(self, t: Any, xp: Any) -> Any:
            return xp.full(t, self.v * self.w)

    assert Legacy(0.5)(3.0) == 1.0 and Legacy._fields == ("v", "w")


def test_derived_attributes_are_no_parameters() -> None:
    class D(Schedule):
        x: float = param("rate", doc="x")
        _double: float = derived(doc="2 x")
        y: float = param("rate", default=1.0, doc="y")

        def _setup(self, x: float, y: float) -> None:
            self._set(x=x, y=y, _double=2.0 * x)

        def _kernel(self, t: Any, xp: Any) -> Any:
            return xp.full(t, self._double * self.y)

    assert [p.name for p in D.params] == ["x", "y"] and D._fields == ("x", "y")
    assert str(inspect.signature(D)) == "(x, y=1.0)"
    assert "_double" not in D.__dict__ and not hasattr(D, "_double")
    d = D(0.5)
    assert (d._double, d(3.0), d, repr(d)) == (1.0, 1.0, D(0.5), "D(x=0.5, y=1)")
    with pytest.raises(TypeError):
        D(0.5, 1.0, 2.0)  # type: ignore[call-arg]
    with pytest.raises(AttributeError, match="immutable"):
        d._double = 3.0  # type: ignore[misc]


def test_derived_declaration_mistakes_are_refused() -> None:
    with pytest.raises(TypeError, match="never a constructor parameter"):
        derived(init=True)
    with pytest.raises(TypeError, match="needs a type annotation"):

        class Bare(Schedule):
            a: float = param("rate")
            _b = derived()


def test_type_checkers_read_the_real_dataclass_transform() -> None:
    """The kinds' typing must not depend on the Python version a checker assumes: core imports
    ``dataclass_transform`` from typing_extensions under ``TYPE_CHECKING`` (a stub every
    checker ships), whatever ``sys.version_info`` says."""
    tree = ast.parse((SRC / "lrkit" / "core.py").read_text())
    found = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
        and any(
            isinstance(x, ast.ImportFrom)
            and x.module == "typing_extensions"
            and [a.name for a in x.names] == ["dataclass_transform"]
            for x in node.body
        )
    ]
    assert found
