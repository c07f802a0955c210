"""Every recipe is declared once (lrkit.recipes.registry): its command-line options, 'lrkit list
NAME', the help and the README's rows come from the declaration, and the command line gives what
the library's builder gives for the same values."""

from __future__ import annotations

import csv
import inspect
import io
import pathlib

import numpy as np
import pytest

import lrkit
from lrkit import catalog, cli
from lrkit.params import Param
from lrkit.recipes import registered_recipes
from lrkit.recipes.registry import Option, Recipe, recipe

README = pathlib.Path(__file__).parent.parent / "docs" / "tutorials" / "recipes.md"  # the recipe table
RECIPES = registered_recipes()

PPDET = (
    "epoch: 12\nLearningRate:\n  base_lr: 0.01\n  schedulers:\n  - !PiecewiseDecay\n    gamma: 0.1\n"
    "    milestones: [2, 3]\n  - !LinearWarmup\n    start_factor: 0.001\n    steps: 30\n"
)
PPCLS = (
    "Global:\n  epochs: 6\nOptimizer:\n  name: Momentum\n  lr:\n    name: Cosine\n    learning_rate: 0.1\n"
    "    warmup_epoch: 1\n"
)


def value_sets(name: str, tmp_path: pathlib.Path) -> list[dict]:
    """Several parameter sets per recipe: the required ones only, then others given too."""
    det, cls = tmp_path / "det.yml", tmp_path / "cls.yml"
    det.write_text(PPDET)
    cls.write_text(PPCLS)
    return {
        "yolox-cos": [
            dict(lr=0.01, min_lr=1e-4, total_iters=300),
            dict(
                lr=0.1,
                min_lr=0.002,
                total_iters=40,
                warmup_iters_ratio=0.05,
                warmup_lr_ratio=0.3,
                no_aug_iter_ratio=0.1,
            ),
        ],
        "yolox-step": [
            dict(lr=0.01, min_lr=1e-4, total_iters=100),
            dict(lr=0.5, min_lr=0.01, total_iters=90, step_num=4),
        ],
        "cawb": [
            dict(epochs=10),
            dict(epochs=45, steps=[15, 30], step_scale=0.7, batchs=3, warmup_epoch=5),
            dict(epochs=20, eta_min=0.1, lf="linear", lf_amplitude=0.5, lf_floor=0.2, epoch_scale=0.5, steps=[8]),
        ],
        "torchvision-warmup": [dict(warmup_iters=10), dict(warmup_iters=50, warmup_factor=0.01)],
        "ultralytics": [
            dict(epochs=5, batches=30),
            dict(
                epochs=4,
                batches=40,
                lr0=0.02,
                lrf=0.1,
                warmup_epochs=1.0,
                warmup_bias_lr=0.05,
                warmup_momentum=0.7,
                momentum=0.9,
                cos_lr=True,
                version="8.1.0",
            ),
        ],
        "ppdet": [dict(config=str(det), step_per_epoch=20), dict(config=str(det), step_per_epoch=16)],
        "ppcls": [dict(config=str(cls), step_each_epoch=10), dict(config=str(cls), step_each_epoch=4, epochs=3)],
    }[name]


def argv_of(r: Recipe, values: dict) -> list[str]:
    out = []
    for p in r.params:
        if p.name not in values:
            continue
        v = values[p.name]
        flag = "--" + p.name.replace("_", "-")
        if isinstance(v, bool):
            out += [flag] if v else []
        elif isinstance(v, list):
            out += [flag, *map(str, v)]
        else:
            out += [flag, str(v)]
    return out


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_every_recipe_is_declared():
    assert set(RECIPES) == {"yolox-cos", "yolox-step", "cawb", "torchvision-warmup", "ultralytics", "ppdet", "ppcls"}
    assert list(RECIPES)[:4] == ["yolox-cos", "yolox-step", "cawb", "torchvision-warmup"]  # the drop-ins first
    assert set(cli.RECIPES) == set(RECIPES)
    for name, r in RECIPES.items():
        assert r.summary and r.original and r.does, name
        assert all(isinstance(p, Param) for p in r.params)
        assert recipe(name.replace("-", "_")) is r


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_the_cli_options_are_the_declared_parameters(name):
    r = RECIPES[name]
    src = cli.resolve_source(name)
    p = cli.build_parser(source=src, command_name="plot")
    sub = next(a for a in p._actions if a.dest == "command").choices["plot"]
    group = next(g for g in sub._action_groups if g.title == f"{name} options")
    actions = {a.dest: a for a in group._group_actions}
    assert list(actions) == [o.name for o in r.params]
    for o in r.params:
        a = actions[o.name]
        spelled = ["--" + o.name.replace("_", "-")] + (["--" + o.name] if "_" in o.name else [])
        assert a.option_strings == spelled
        assert a.required == o.required
        if not o.required:
            assert a.default == (list(o.default) if isinstance(o.default, tuple) else o.default)
        assert o.doc.split(" (")[0] in (a.help or "")
        assert a.metavar == o.metavar
        if o.unit == "choice":
            assert list(a.choices) == list(o.choices)
    _, out, _ = run("plot", name, "--help")
    for o in r.params:
        assert "--" + o.name.replace("_", "-") in out


def test_no_recipe_option_hides_a_command_option():
    """A recipe's option wins over a command's of the same name: only CAWB's --steps may (on purpose)."""
    own = set()
    for name in cli.COMMANDS:
        p = cli.build_parser()
        sub = next(a for a in p._actions if a.dest == "command").choices[name]
        own |= {s for a in sub._actions for s in a.option_strings}
    for name, r in RECIPES.items():
        clash = {s for o in r.params for s in ["--" + o.name.replace("_", "-"), "--" + o.name]} & own
        assert clash <= ({"--steps"} if name == "cawb" else set()), (name, clash)


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_declared_defaults_are_the_builders_own(name):
    """A default the builder has itself must be the declared one (a typo in either shows here)."""
    r = RECIPES[name]
    sig = inspect.signature(r.build)
    for o in r.params:
        have = sig.parameters.get(o.name)
        assert have is not None, f"{name}: the builder has no parameter {o.name}"
        if have.default is not inspect.Parameter.empty and not o.required:
            want = tuple(have.default) if isinstance(have.default, list) else have.default
            assert o.default == want, (name, o.name)


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_export_is_the_library_builder_with_the_same_values(name, tmp_path):
    r = RECIPES[name]
    n = 150
    x = np.arange(float(n))
    for values in value_sets(name, tmp_path):
        code, out, err = run("export", name, *argv_of(r, values), "-n", str(n))
        assert code == 0, (values, err)
        rows = list(csv.reader(io.StringIO(out)))
        header, body = rows[0], np.array([[float(v) for v in row] for row in rows[1:]])
        np.testing.assert_array_equal(body[:, 0], x)
        built = r(**values)  # the library call, defaults from the declaration
        if r.curves:
            curves = built.series()
            assert header[1:] == [k.replace(" ", "_") for k in curves]
            for j, s in enumerate(curves.values(), start=1):
                np.testing.assert_array_equal(body[:, j], s(x))
            assert r.make_schedule(**values)(x).tolist() == built.lr[0](x).tolist()
        else:
            assert header == ["position", "lr"]
            np.testing.assert_array_equal(body[:, 1], built(x))
            # the same values given to the builder directly, every default spelled out
            np.testing.assert_array_equal(body[:, 1], r.build(**r.values(**values))(x))


def test_kind_recipes_are_their_kinds():
    """The recipes that are kinds give the kind's own values (an independent construction)."""
    x = np.arange(400.0)
    np.testing.assert_array_equal(
        recipe("yolox-cos")(lr=0.01, min_lr=1e-4, total_iters=300)(x), lrkit.get_lr_scheduler("cos", 0.01, 1e-4, 300)(x)
    )
    np.testing.assert_array_equal(
        recipe("yolox-step")(lr=0.01, min_lr=1e-4, total_iters=300, step_num=5)(x),
        lrkit.get_lr_scheduler("step", 0.01, 1e-4, 300, step_num=5)(x),
    )
    np.testing.assert_array_equal(
        recipe("torchvision-warmup")(warmup_iters=40)(x), np.where(x < 40, 0.001 * (1 - x / 40) + x / 40, 1.0)
    )


def test_a_recipe_names_unknown_and_missing_parameters():
    r = recipe("yolox-cos")
    with pytest.raises(TypeError, match="no parameter 'peak_lr'"):
        r(peak_lr=0.1, min_lr=0.0, total_iters=10)
    with pytest.raises(TypeError, match="needs min_lr, total_iters"):
        r(lr=0.1)
    with pytest.raises(ValueError, match="unknown recipe 'yolo'"):
        recipe("yolo")


def test_file_messages_name_the_option_on_the_command_line_and_the_parameter_in_python(tmp_path):
    (tmp_path / "lr_only.yml").write_text("name: Cosine\nlearning_rate: 0.1\n")
    with pytest.raises(ValueError, match="has no Global.epochs: give epochs$"):
        recipe("ppcls")(config=str(tmp_path / "lr_only.yml"), step_each_epoch=10)
    code, _, err = run("show", "ppcls", "--config", str(tmp_path / "lr_only.yml"), "--step-each-epoch", "10")
    assert code == 2 and "has no Global.epochs: give --epochs" in err
    with pytest.raises(ValueError, match="cannot read config"):
        recipe("ppdet")(config=str(tmp_path / "missing.yml"), step_per_epoch=10)
    code, _, err = run("show", "ppdet", "--config", str(tmp_path / "missing.yml"), "--step-per-epoch", "10")
    assert code == 2 and "cannot read --config" in err


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_list_and_help_show_every_recipe_from_its_declaration(name):
    r = RECIPES[name]
    code, out, _ = run("list", name)
    assert code == 0 and f"{name} (a recipe): {r.summary}" in out
    for o in r.params:
        assert "--" + o.name.replace("_", "-") in out
    _, listed, _ = run("list")
    assert f"  {name}" in listed and r.summary in listed
    _, helped, _ = run("--help")
    assert f"  {name}: {r.summary}" in helped


def test_readme_recipe_rows_are_the_generated_ones():
    text = README.read_text(encoding="utf-8")
    start = text.index(catalog.RECIPES_BEGIN) + len(catalog.RECIPES_BEGIN) + 1
    end = text.index(catalog.RECIPES_END)
    assert text[start:end].strip() == catalog.recipe_table()
    for name, r in RECIPES.items():
        assert f"`{name}" in text[start:end] and r.does in text[start:end]


def test_a_recipe_declared_by_a_user_is_on_the_command_line(monkeypatch):
    from lrkit.recipes import registry

    toy = Recipe(
        "toy-halving",
        "halves every K positions",
        params=(Option("lr", "rate", doc="start", metavar="LR"), Option("period", "real", 10.0, "K", metavar="K")),
        build=lambda lr, period: lrkit.Step(lr, period, 0.5),
        original="toy",
        does="halves",
    )
    monkeypatch.setitem(registry._RECIPES, toy.name, toy)
    code, out, err = run("export", "toy-halving", "--lr", "0.8", "--period", "2", "-n", "5", "--no-header")
    assert code == 0, err
    assert [float(r.split(",")[1]) for r in out.split()] == lrkit.Step(0.8, 2, 0.5)(np.arange(5.0)).tolist()
    code, out, _ = run("list", "toy-halving")
    assert out.startswith("toy-halving (a recipe): halves every K positions") and "(default: 10.0)" in out
