"""``import lrkit`` stays light, and what it defers behaves as if it were loaded at once.

What ``import lrkit`` loads is read in a fresh interpreter (the modules it adds to
``sys.modules``), not timed: the words of ``lrkit explain``, :mod:`inspect` (constructor
signatures are built when first read) and :mod:`bisect` (the searches of a scalar
evaluation) are loaded on first use, and everything that uses them is compared with
what they give when loaded: :meth:`inspect.Signature.bind` for the constructors' binding,
``typing.Literal`` for the choices read from annotations, numpy's ``searchsorted`` for the
searches.
"""

from __future__ import annotations

import inspect
import json
import pickle
import pydoc
import subprocess
import sys
import typing
from typing import Any, Literal, Optional, Union

import numpy as np
import pytest

import lrkit
from lrkit import core, params
from lrkit.core import Schedule
from lrkit.params import Param, param

#: Modules ``import lrkit`` must not load (each is loaded on first use, where it is needed).
DEFERRED = (
    "inspect",  # constructor signatures, built when first read
    "bisect",  # the scalar searches (count_le, count_lt), imported on the first search
    "_bisect",
    "lrkit.explain",  # the words of lrkit explain (every kind's, in every language)
    "lrkit.explain.en",
    "lrkit.explain.zh",
    "lrkit._format",
    "lrkit._trace",  # the scalar tracer, on the first evaluation
    "numpy",  # on the first array
    "dataclasses",
    "ast",
    "dis",
    "tokenize",
    "lrkit.config",
    "lrkit.recipes",
    "lrkit.convert",
    "lrkit.plot",
)


def _run(code: str) -> Any:
    """``code`` run in a fresh interpreter; what it printed, read as JSON."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


def _added_by(statement: str) -> set[str]:
    """The modules ``statement`` adds to a fresh interpreter's ``sys.modules`` (those loaded at
    start-up, by site hooks or an editable install's finder, do not count)."""
    return set(
        _run(
            "import sys, json; before = set(sys.modules)\n"
            f"{statement}\n"
            "print(json.dumps(sorted(set(sys.modules) - before)))"
        )
    )


def test_import_lrkit_loads_none_of_the_deferred_modules():
    added = _added_by("import lrkit")
    assert "lrkit.core" in added  # the reader sees the import
    assert not added & set(DEFERRED), sorted(added & set(DEFERRED))
    # the kinds' modules load when a kind is first named (or the registry is read)
    assert not {m for m in added if m.startswith("lrkit.schedules.")}, sorted(added)
    named = _added_by("import lrkit; lrkit.Cosine")
    assert "lrkit.schedules.decays" in named and "lrkit.schedules.cycles" not in named
    every = _added_by("import lrkit; lrkit.registered()")
    assert {
        "lrkit.schedules." + m for m in ("decays", "cycles", "compose", "algebra", "presets", "paddle_compat")
    } <= every


def test_every_kind_name_and_from_config_resolve_lazily():
    import lrkit as lk

    for name in lk.__all__:
        assert getattr(lk, name) is not None, name
    for cls in lk.registered().values():
        if cls.__module__.startswith("lrkit.schedules."):
            assert getattr(lk, cls.__name__) is cls
    assert "Cosine" in dir(lk) and "from_config" in dir(lk)
    assert lk.from_dict({"type": "shift", "schedule": {"type": "constant", "lr": 0.1}, "offset": 1})(0) == 0.1


def test_building_and_evaluating_a_schedule_loads_no_signature_machinery():
    # the constructors bind their arguments themselves; inspect is for reading signatures
    added = _added_by(
        "import lrkit; s = lrkit.WarmupCosine(0.1, 1000, warmup_steps=100); s(5.0); s.replace(min_lr=0.01)"
    )
    assert "inspect" not in added and "lrkit.explain" not in added


def test_the_reader_sees_a_deferred_module_loaded():
    # the test can fail: the same reading sees each of them once it is used
    added = _added_by("import lrkit, inspect; lrkit.MultiStep(0.1, [3])(5.0); lrkit.Constant(0.1).explain()")
    assert {"inspect", "bisect", "lrkit.explain", "lrkit.explain.en", "lrkit.explain.zh", "lrkit._trace"} <= added


# -- the words of lrkit explain, loaded on first use ---------------------------------------------------------


def test_explain_in_a_fresh_process_is_callable_and_complete():
    got = _run(
        "import json, lrkit\n"
        "s = lrkit.Shift(lrkit.Exponential(0.001, 2.0, 10, max_lr=0.1), 5)\n"
        "a = lrkit.explain(s, 'zh')\n"
        "import lrkit.explain as m\n"
        "from lrkit.explain import EXPLAINERS, TEXTS\n"
        "print(json.dumps([a, s.explain('zh'), m.explain(s, 'zh'), callable(m), m is lrkit.explain,\n"
        "    sorted(EXPLAINERS), {k: sorted(v) for k, v in TEXTS.items()}]))"
    )
    text, method, function, is_callable, same, explainers, keys = got
    assert text == method == function and is_callable and same
    assert "shift" in explainers and "exponential.capped" in explainers and "inverse_time" in explainers
    assert keys["en"] == keys["zh"]
    # the kinds' own words (declared by their modules before lrkit.explain was loaded) are there
    assert {"shift", "exponential.grow", "piecewise.piece", "inverse_time", "radam_dampening"} <= set(keys["en"])
    assert "0.1" in text and "5" in text


def test_import_lrkit_explain_first_gives_the_callable_package():
    got = _run(
        "import json, lrkit.explain as m, lrkit\n"
        "print(json.dumps([callable(m), m is lrkit.explain, m(lrkit.Constant(0.25), title=False)]))"
    )
    assert got[0] and got[1] and "0.25" in got[2]


def test_words_declared_before_and_after_explain_is_loaded_both_arrive():
    got = _run(
        "import json, lrkit\n"
        "from lrkit import core\n"
        "core.words('en', {'test.before': 'B {x}'}); core.words('zh', {'test.before': '乙 {x}'})\n"
        "@core.explainer('test_before')\n"
        "def before(s, w): return [w.say('test.before', x=1)], []\n"
        "from lrkit.explain import EXPLAINERS, TEXTS\n"
        "core.words('en', {'test.after': 'A'}); core.words('zh', {'test.after': '甲'})\n"
        "@core.explainer('test_after')\n"
        "def after(s, w): return [], []\n"
        "print(json.dumps([TEXTS['en']['test.before'], TEXTS['zh']['test.before'], TEXTS['en']['test.after'],\n"
        "    EXPLAINERS['test_before'] is before, EXPLAINERS['test_after'] is after, core._WORDS, len(core._EXPLAINERS)]))"
    )
    assert got == ["B {x}", "乙 {x}", "A", True, True, [], 0]


def test_a_key_declared_twice_is_still_refused():
    from lrkit.explain import TEXTS

    key = next(iter(TEXTS["en"]))
    with pytest.raises(RuntimeError, match="defined twice"):
        core.words("en", {key: "again"})


# -- constructors: inspect's binding, without inspect -------------------------------------------------------


def _calls(s: Schedule) -> list[tuple[tuple, dict]]:
    """Argument lists for ``type(s)``, valid and not, made from ``s``'s own values."""
    values = [getattr(s, f) for f in s._fields]
    names = list(s._fields)
    kw = dict(zip(names, values))
    required = [p.name for p in type(s).params if p.required]
    out: list[tuple[tuple, dict]] = [
        (tuple(values), {}),
        ((), kw),
        (tuple(values[:1]), {k: v for k, v in kw.items() if k != names[0]}),
        (tuple(kw[k] for k in required), {}),
        ((), {k: kw[k] for k in required}),
        # refused: too many, unknown, twice, missing
        ((*values, 1.0), {}),
        ((), {**kw, "no_such_parameter": 1}),
        (tuple(values[:1]), {names[0]: values[0]}),
    ]
    if required:
        out.append(((), {k: v for k, v in kw.items() if k != required[-1]}))
    return out


def test_constructors_bind_as_the_declared_signature_does(example, monkeypatch):
    cls = type(example)
    sig = inspect.signature(cls)
    setup = cls._setup
    seen: list[dict] = []

    def record(self: Any, **values: Any) -> None:
        seen.append(values)
        setup(self, **values)

    monkeypatch.setattr(cls, "_setup", record)
    for args, kwargs in _calls(example):
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as e:
            with pytest.raises(TypeError) as got:
                cls(*args, **kwargs)
            assert str(got.value) == f"{cls.__name__}: {e}"
            continue
        bound.apply_defaults()
        seen.clear()
        built = cls(*args, **kwargs)
        if len(args) + len(kwargs) == len(cls.params):
            assert built == example
        # _setup got each parameter, in order, as its unit checks the value inspect binds to it
        assert len(seen) == 1 and list(seen[0]) == [p.name for p in cls.params]
        assert seen[0] == {p.name: p.check(bound.arguments[p.name]) for p in cls.params}, (args, kwargs)


def test_signatures_help_and_pickling_read_the_declaration(example):
    cls = type(example)
    expected = [(p.name, inspect.Parameter.empty if p.required else p.default) for p in cls.params]
    assert [(p.name, p.default) for p in inspect.signature(cls).parameters.values()] == expected
    init = list(inspect.signature(cls.__init__).parameters.values())
    assert init[0].name == "self" and [(p.name, p.default) for p in init[1:]] == expected
    assert all(p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in init)
    page = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    assert f"__init__{inspect.signature(cls.__init__)}" in page
    assert f"Build a {cls.__name__}; see the class docstring." in page
    assert typing.get_type_hints(cls.__init__)["return"] is type(None)
    assert pickle.loads(pickle.dumps(example)) == example


def test_a_kind_made_after_import_gets_the_same_constructor():
    class Twice(Schedule):
        v: float = param("rate", doc="the value")
        how: Literal["a", "b"] = param("choice", default="a")
        k: float = param("factor", default=2.0)

        def _kernel(self, t: Any, xp: Any) -> Any:
            return xp.full(t, self.v * self.k)

    assert str(inspect.signature(Twice)) == "(v, how='a', k=2.0)"
    assert Twice.params[1].choices == ("a", "b")
    assert Twice(0.5)(1.0) == 1.0 and Twice(0.5, k=1.0, how="b").how == "b"
    with pytest.raises(TypeError, match=r"^Twice: missing a required argument: 'v'$"):
        Twice()
    with pytest.raises(ValueError, match="how"):
        Twice(0.5, "c")


def test_a_shared_field_is_copied_for_each_use():
    shared = param("rate", default=1.0, doc="shared")

    class A(Schedule):
        a: float = shared
        b: float = shared

        def _kernel(self, t: Any, xp: Any) -> Any:
            return xp.full(t, self.a + self.b)

    class B(Schedule):
        c: float = shared

        def _kernel(self, t: Any, xp: Any) -> Any:
            return xp.full(t, self.c)

    assert [p.name for p in A.params] == ["a", "b"] and [p.name for p in B.params] == ["c"]
    assert {p.doc for p in A.params + B.params} == {"shared"}
    assert str(inspect.signature(A)) == "(a=1.0, b=1.0)" and A(2.0)(0.0) == 3.0 and B()(0.0) == 1.0


# -- the choices of Literal annotations, read without evaluating the text ---------------------------------------

ANNOTATIONS = [
    'Literal["a", "b"]',
    "Literal['a']",
    'Literal["a", "a", "b"]',
    'Literal["a"] | None',
    'None | Literal["x", "y"]',
    'Literal["a,b", "c"]',
    'Literal["a|b"]',
    'Literal["a",]',
    'Literal["it\'s"]',
    'Literal["a\\"b"]',
    'Literal["a"] | Literal["b"]',
    'Optional[Literal["a", "b"]]',
    'Union[Literal["a"], None]',
    ' Literal[ "a" ,"b" ] ',
    'Literal[""]',
]


class _Here:
    """A class of this module: annotations naming Optional, Union or Literal resolve here."""


@pytest.mark.parametrize("text", ANNOTATIONS)
def test_the_choices_read_from_the_text_are_typings(text):
    value = eval(text, {"Literal": Literal, "Optional": Optional, "Union": Union})
    members = typing.get_args(value) if typing.get_origin(value) is Union else (value,)
    expected = tuple(c for m in members if typing.get_origin(m) is Literal for c in typing.get_args(m))
    quick = params._quoted_literal(text)
    assert quick is None or quick == expected
    assert params._literal_choices(_Here, "x", text) == expected


def test_an_annotation_naming_an_alias_is_looked_up_like_eval():
    Shape = Literal["up", "down"]  # noqa: F841 - read by name from the class's scope below

    class K(Schedule):
        Shape = Literal["left", "right"]  # the class's own name wins, as eval's locals
        side: Shape = param("choice", default="left")  # type: ignore[valid-type]

        def _kernel(self, t: Any, xp: Any) -> Any:
            return xp.full(t, 1.0)

    assert K.params[0].choices == ("left", "right")
    assert lrkit.Cosine.params[-1].choices == typing.get_args(lrkit.schedules.decays.CosineAfter)
    with pytest.raises(TypeError, match="cannot read the choices"):
        params._literal_choices(Schedule, "x", "NoSuchAlias")


# -- the scalar searches, bisect's on first use -----------------------------------------------------------------------


def test_searches_in_a_fresh_process_agree_with_numpy():
    got = _run(
        "import json, sys, lrkit\n"
        "from lrkit import ops\n"
        "seen = ['bisect' in sys.modules]\n"
        "ms = lrkit.MultiStep(1.0, [3, 7.5, 20], 0.5)\n"
        "pw = lrkit.Piecewise([0.1, 0.2, 0.3, 0.4], [2, 4, 8])\n"
        "sq = lrkit.Sequence([lrkit.Constant(0.1), lrkit.Constant(0.2), lrkit.Constant(0.3)], [5, 10])\n"
        "ts = [0.0, 1.0, 2.0, 3.0, 4.0, 7.5, 8.0, 9.9, 10.0, 19.0, 20.0, 1e6]\n"
        "vals = [[f(t) for t in ts] for f in (ms, pw, sq)]\n"
        "import bisect\n"
        "seen += [ops.SCALAR.count_le is bisect.bisect_right, ops.SCALAR.count_lt is bisect.bisect_left]\n"
        "print(json.dumps([seen, ts, vals]))"
    )
    (before, right, left), ts, (ms, pw, sq) = got
    assert not before and right and left
    t = np.array(ts)
    assert ms == list(1.0 * 0.5 ** np.searchsorted([3, 7.5, 20], t, side="right"))
    assert pw == list(np.array([0.1, 0.2, 0.3, 0.4])[np.searchsorted([2, 4, 8], t, side="right")])
    assert sq == list(np.array([0.1, 0.2, 0.3])[np.searchsorted([5, 10], t, side="right")])


def test_the_stand_in_searches_are_bisects():
    from lrkit import ops

    s = (0.0, 1.0, 1.0, 2.5)
    for t in (-1.0, 0.0, 0.5, 1.0, 2.0, 2.5, 3.0):
        assert ops._s_count_le(s, t) == int(np.searchsorted(s, t, side="right"))
        assert ops._s_count_lt(s, t) == int(np.searchsorted(s, t, side="left"))
    assert ops.ready() is ops.SCALAR and ops.SCALAR.count_le is not ops._s_count_le


def test_param_objects_are_still_params():
    p = param("rate", default=0.5, doc="d")
    assert type(p) is Param and p == Param("", "rate", 0.5, "d")
    with pytest.raises(ValueError, match="unknown unit"):
        param("no_such_unit")
