"""The registry is the one source: README table, signatures, examples, docstrings, names."""

from __future__ import annotations

import inspect
import pathlib

import pytest

import lrkit as lk
from lrkit import catalog
from lrkit.params import Param

README = pathlib.Path(__file__).parent.parent / "docs" / "reference" / "kinds.md"  # the kinds table
RECIPES = {"yolox_cos", "yolox_step", "torchvision_warmup", "cawb"}  # keep the originals' names on purpose


def test_readme_table_is_the_generated_one():
    text = README.read_text(encoding="utf-8")
    start = text.index(catalog.TABLE_BEGIN) + len(catalog.TABLE_BEGIN) + 1
    end = text.index(catalog.TABLE_END)
    assert text[start:end].strip() == catalog.kind_table()


@pytest.mark.parametrize("kind", sorted(lk.registered()))
def test_every_kind_is_declared_once_and_completely(kind):
    cls = lk.registered()[kind]
    assert cls.params and all(isinstance(p, Param) for p in cls.params)
    assert cls._fields == tuple(p.name for p in cls.params)
    assert list(inspect.signature(cls).parameters) == [p.name for p in cls.params]
    assert cls.formula and cls.example
    s = catalog.example(kind)
    assert lk.from_dict(s.to_dict()) == s
    assert s.replace() == s and s.replace() is not s
    with pytest.raises(ValueError, match="unknown parameter 'no_such'"):
        s.replace(no_such=1)
    doc = inspect.getdoc(cls) or ""
    assert ">>>" in doc, f"{kind}: the docstring has no example"
    # the formula is written once: one kernel for floats and arrays, no per-path copies
    for klass in cls.__mro__[:-1]:
        if klass is lk.Schedule:
            break
        assert "_scalar" not in vars(klass) and "_array" not in vars(klass), (
            f"{kind}: {klass.__name__} has a path of its own"
        )
    assert any("_kernel" in vars(k) for k in cls.__mro__ if k is not lk.Schedule)


def test_one_kernel_serves_floats_and_arrays_with_the_same_bits():
    import numpy as np

    rng = np.random.default_rng(7)
    for kind in lk.registered():
        s = catalog.example(kind)
        # short, long in order (the ordered fast paths: slices per phase and per cycle),
        # the same out of order and reversed (masks and gathers): the same bits everywhere
        for n in (997, 20_011):
            t = np.linspace(0.0, 3 * max(min(s.length, 1e6), 10.0), n)
            want = [s(float(x)) for x in t]
            assert want == s(t).tolist(), (kind, n)
            p = rng.permutation(n)
            assert np.array_equal(s(t[p]), np.array(want)[p]), (kind, n, "shuffled")
            assert s(t[::-1]).tolist() == want[::-1], (kind, n, "reversed")


@pytest.mark.parametrize("period_mult", [1.0, 1.5])
@pytest.mark.parametrize("period", [3.0, 50.0, 4000.0])
def test_restarts_give_the_same_bits_in_order_and_not(period, period_mult):
    # few long cycles (one slice each), many short ones (the whole-array path), and a
    # warmup in front (an ordered split): every array path equals the scalar one
    import numpy as np

    s = lk.CosineRestarts(peak_lr=0.1, period=period, period_mult=period_mult, min_lr=1e-4, peak_decay=0.9).with_warmup(
        7
    )
    t = np.concatenate([np.arange(30_000.0), [1e15, 1e15 + 1]])
    want = np.array([s(float(x)) for x in t])
    assert np.array_equal(s(t), want)
    assert np.array_equal(s(t[::-1]), want[::-1])


@pytest.mark.parametrize("kind", sorted(lk.registered()))
def test_the_traced_scalar_path_is_the_kernel(kind):
    import numpy as np

    from lrkit._trace import compile_scalar
    from lrkit.ops import SCALAR

    s = catalog.example(kind)
    fast = compile_scalar(s._kernel, kind)
    assert fast is not None, kind
    for x in np.linspace(0.0, 3 * max(min(s.length, 1e6), 10.0), 2003).tolist() + [1e300, 5e-324]:
        try:
            want = s._kernel(x, SCALAR)
        except ValueError as e:
            with pytest.raises(ValueError, match=str(e)[:20]):
                fast(x)
            continue
        got = fast(x)
        assert got == want and type(got) is type(want), (kind, x, got, want)


def test_a_composed_schedule_is_traced_into_one_function():
    s = lk.WarmupCosine(peak_lr=0.1, total_steps=1000, warmup_steps=100, min_lr=0.001)
    assert s(500) == s._kernel(500.0, __import__("lrkit.ops").ops.SCALAR)
    src = s._fast.source
    assert "def f(t):" in src and "if t < (100.0):" in src  # the warmup's split became an if


def test_a_from_function_returns_an_lrkit_schedule_in_every_binding():
    import lrkit.paddle
    import lrkit.torch

    for mod in (lrkit.torch, lrkit.paddle):
        for name in mod.__all__:
            if name.startswith("from_"):
                ret = str(inspect.signature(getattr(mod, name)).return_annotation)
                assert "ScheduleLR" not in ret and "Scheduler" not in ret, (mod.__name__, name, ret)
    assert "scheduler_from_torch" in lrkit.paddle.__all__  # the one that builds a Paddle scheduler says so


def test_total_steps_counts_the_whole_run_wherever_there_is_a_warmup():
    for kind, cls in lk.registered().items():
        names = {p.name for p in cls.params}
        if {"total_steps", "warmup_steps"} <= names:
            s = catalog.example(kind)
            assert s.warmup_steps > 0, kind  # the example shows the warmup
            assert s.length == s.total_steps, kind
            assert s(0) < s(s.warmup_steps), kind


def test_one_name_per_concept():
    # a parameter name means one thing everywhere: the same unit in every kind that has it
    units: dict[str, tuple[str, str]] = {}
    for kind, cls in lk.registered().items():
        if kind in RECIPES:
            continue
        for p in cls.params:
            if p.name in units:
                assert units[p.name][0] == p.unit, (p.name, kind, units[p.name])
            else:
                units[p.name] = (p.unit, kind)
    # lengths are named as lengths, floors and peaks as such
    for name, (unit, _) in units.items():
        if name.endswith("_steps") or name in ("period", "step_size", "timescale", "end"):
            assert unit.startswith("length"), name
        if name.endswith("_lr"):
            assert unit == "rate", name


def test_a_kind_with_a_new_length_takes_units_in_configs():
    # a new kind's length parameter converts "1ep" with no list to update anywhere
    from lrkit.core import _REGISTRY, register

    @register("test_cooldown")
    class Cooldown(lk.Schedule):
        """A test kind. ``f(t) = lr`` until ``cooldown_steps``, then 0.

        >>> Cooldown(0.1, 5)(6)
        0.0
        """

        formula = "`lr`, then 0"
        example = {"lr": 0.1, "cooldown_steps": 5}
        params = (Param("lr", "rate"), Param("cooldown_steps", "length"))

        def _kernel(self, t, xp):
            return xp.hold(t, self.cooldown_steps, lambda u, xp: xp.full(u, self.lr), 0.0)

    try:
        s = lk.from_dict({"type": "test_cooldown", "lr": 0.1, "cooldown_steps": "1ep"}, steps_per_epoch=50)
        assert s.cooldown_steps == 50 and s(49) == 0.1 and s(50) == 0.0
        with pytest.raises(ValueError, match="cooldown_steps"):
            Cooldown(0.1, -1)
        assert "test_cooldown" in catalog.kind_table()
    finally:
        del _REGISTRY["test_cooldown"]


def test_explain_reads_no_private_schedule_attribute():
    # what explain needs from a schedule is a public, documented fact
    import re

    src = (pathlib.Path(lk.__file__).parent / "explain" / "__init__.py").read_text(encoding="utf-8")
    private = set(re.findall(r"\bs\.(_[A-Za-z]\w*)", src)) - {"_scalar", "_array"}
    assert not private, sorted(private)


def test_explain_words_live_in_per_language_tables():
    import re
    import string

    from lrkit.explain import LANGS, TEXTS

    # every message exists in every language, with the same values to fill in
    keys = set(TEXTS["en"])
    for lang in LANGS:
        assert set(TEXTS[lang]) == keys, lang
    for key in keys:
        fields = [{f for _, f, _, _ in string.Formatter().parse(TEXTS[lang][key]) if f} for lang in LANGS]
        assert all(f == fields[0] for f in fields), key
    # and no inline pair of languages is left in the code
    root = pathlib.Path(lk.__file__).parent
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bw\.t\(|\"zh\":\s*[\"(f]", text), path


def test_the_layout_shows_the_architecture():
    import pkgutil

    import lrkit.recipes
    import lrkit.schedules

    families = {m.name for m in pkgutil.iter_modules(lrkit.schedules.__path__)}
    assert {"decays", "cycles", "compose", "algebra", "presets"} <= families
    assert {"yolox", "torchvision", "cawb"} <= {m.name for m in pkgutil.iter_modules(lrkit.recipes.__path__)}
    for kind, cls in lk.registered().items():  # every kind lives in a family module or a recipe module
        assert cls.__module__.startswith(("lrkit.schedules.", "lrkit.recipes.")), (kind, cls.__module__)


def test_a_drop_in_warning_points_at_the_callers_line():
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lk.get_lr_scheduler("cos", 0.01, 0.1, 300)  # min_lr above lr: warned, values kept
    assert caught and caught[0].filename == __file__


def test_the_core_imports_no_kind_and_no_plotting():
    import ast

    src = (pathlib.Path(lk.__file__).parent / "core.py").read_text(encoding="utf-8")
    imported = {n.module for n in ast.walk(ast.parse(src)) if isinstance(n, ast.ImportFrom) and n.module}
    assert not {m for m in imported if m.startswith(("schedules", "plot", "textplot", "explain", "cli", "recipes"))}
    s = lk.Cosine(1.0, 10)
    assert s.with_warmup(5)(10) == s(5) and s.hold_after(4)(9) == s(4) and (s * 0.5)(0) == 0.5
