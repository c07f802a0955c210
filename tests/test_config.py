"""Building schedules from dicts, JSON and YAML; length units; errors that name the fix."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml

import lrkit as lk

POS = np.array([0, 0.5, 1, 3, 9.99, 10, 17, 45, 89.5, 90, 100, 333, 1000, 5000.25])


def same_values(a: lk.Schedule, b: lk.Schedule) -> bool:
    return np.array_equal(a(POS), b(POS)) and [a(float(t)) for t in POS] == [b(float(t)) for t in POS]


# -- round trips ---------------------------------------------------------------------------------


def test_dict_round_trip(example):
    d = example.to_dict()
    back = lk.from_dict(d)
    assert back == example and same_values(back, example)


def test_json_round_trip(example):
    text = json.dumps(example.to_dict(), allow_nan=False)
    back = lk.from_json(text)
    assert back == example and same_values(back, example)


def test_yaml_round_trip(example):
    text = yaml.safe_dump(example.to_dict())
    back = lk.from_yaml(text)
    assert back == example and same_values(back, example)


def test_load_reads_inline_text_and_files(example, tmp_path):
    d = example.to_dict()
    assert lk.load(json.dumps(d)) == example
    (tmp_path / "s.json").write_text(json.dumps(d))
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(d))
    assert lk.load(str(tmp_path / "s.json")) == example
    assert lk.load(str(tmp_path / "s.yaml")) == example


def test_to_dict_is_plain_data(example):
    def plain(x):
        if isinstance(x, dict):
            return all(isinstance(k, str) and plain(v) for k, v in x.items())
        if isinstance(x, list):
            return all(plain(v) for v in x)
        return x is None or isinstance(x, (bool, int, str)) or (isinstance(x, float) and math.isfinite(x))

    d = example.to_dict()
    assert plain(d) and d["type"] == type(example).kind


def test_nested_spec():
    spec = {
        "type": "warmup",
        "warmup_steps": 100,
        "schedule": {"type": "cosine", "peak_lr": 0.1, "total_steps": 900, "min_lr": 1e-4},
    }
    assert lk.from_dict(spec) == lk.Warmup(lk.Cosine(0.1, 900, 1e-4), 100)


def test_yaml_spec_as_a_user_writes_it():
    text = """
type: sequence
boundaries: [2ep, 50%]
segments:
  - {type: constant, lr: 0.01}
  - type: cosine
    peak_lr: 0.1
    total_steps: 40%
    min_lr: 0.001
  - {type: multistep, peak_lr: 0.01, milestones: [1ep, 3 epochs], gamma: 0.5}
"""
    s = lk.from_yaml(text, steps_per_epoch=100, run_steps=1000)
    assert s == lk.Sequence(
        [lk.Constant(0.01), lk.Cosine(0.1, 400, 0.001), lk.MultiStep(0.01, [100, 300], 0.5)], [200, 500]
    )


# -- units -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, want",
    [
        ("500", 500.0),
        ("500 steps", 500.0),
        ("1 step", 1.0),
        ("2.5e3", 2500.0),
        (" 12 ", 12.0),
        ("2ep", 200.0),
        ("2 epochs", 200.0),
        ("0.5 epoch", 50.0),
        ("1.5ep", 150.0),
        ("10%", 900.0),
        ("100%", 9000.0),
        ("0.5 %", 45.0),
    ],
)
def test_length_units(text, want):
    u = lk.Units(steps_per_epoch=100, run_steps=9000)
    assert u.steps(text) == want


def test_epochs_need_steps_per_epoch():
    spec = {"type": "cosine", "peak_lr": 0.1, "total_steps": "2ep"}
    with pytest.raises(ValueError, match="total_steps.*epochs.*steps_per_epoch"):
        lk.from_dict(spec)
    assert lk.from_dict(spec, steps_per_epoch=391) == lk.Cosine(0.1, 782)
    assert lk.from_dict({**spec, "steps_per_epoch": 391}) == lk.Cosine(0.1, 782)


def test_units_given_in_the_spec_and_as_arguments_must_agree():
    spec = {"type": "cosine", "peak_lr": 0.1, "total_steps": "2ep", "steps_per_epoch": 391}
    with pytest.raises(
        ValueError,
        match=r"steps_per_epoch is given twice.*391 in the spec and 100 as the "
        r"steps_per_epoch= argument",
    ):
        lk.from_dict(spec, steps_per_epoch=100)
    frac = {"type": "cosine", "peak_lr": 0.1, "total_steps": "50%", "run_steps": 1000}
    with pytest.raises(ValueError, match=r"run_steps is given twice.*1000 in the spec and 800 as the run_steps="):
        lk.from_dict(frac, run_steps=800)
    with pytest.raises(ValueError, match="run_steps"):
        lk.from_json('{"type": "cosine", "peak_lr": 0.1, "total_steps": "50%", "run_steps": 1000}', run_steps=10)
    # equal values (whatever their type), or only one of the two, are fine
    assert lk.from_dict(spec, steps_per_epoch=391.0) == lk.Cosine(0.1, 2 * 391)
    assert lk.from_dict(frac, run_steps=1000) == lk.from_dict(frac) == lk.Cosine(0.1, 500)
    assert lk.from_dict({**frac, "run_steps": None}, run_steps=600) == lk.Cosine(0.1, 300)
    # the spec's value is still checked when the argument is also given
    with pytest.raises(ValueError, match="steps_per_epoch"):
        lk.from_dict({**spec, "steps_per_epoch": -1}, steps_per_epoch=100)


def test_fractions_need_run_steps():
    spec = {"type": "warmup_cosine", "peak_lr": 0.1, "total_steps": "100%", "warmup_steps": "10%"}
    with pytest.raises(ValueError, match="warmup_steps|total_steps.*run_steps"):
        lk.from_dict(spec)
    assert lk.from_dict(spec, run_steps=5000) == lk.WarmupCosine(0.1, 5000, 500)


def test_units_apply_inside_nested_specs_and_lists():
    spec = {
        "type": "per_step",
        "steps_per_epoch": 50,
        "schedule": {"type": "multistep", "peak_lr": 0.1, "milestones": [30, 60]},
    }
    assert lk.from_dict(spec) == lk.PerStep(lk.MultiStep(0.1, [30, 60]), 50)
    spec = {"type": "hold", "end": "3ep", "schedule": {"type": "step", "peak_lr": 0.1, "step_size": "1ep"}}
    assert lk.from_dict(spec, steps_per_epoch=10) == lk.Hold(lk.Step(0.1, 10), 30)


@pytest.mark.parametrize("bad", ["2 weeks", "ep", "-5", "1e", "", "five", "2ep2"])
def test_bad_length_strings(bad):
    with pytest.raises(ValueError, match="total_steps"):
        lk.from_dict({"type": "cosine", "peak_lr": 0.1, "total_steps": bad}, steps_per_epoch=10, run_steps=100)


def test_units_validate_themselves():
    with pytest.raises(ValueError, match="steps_per_epoch"):
        lk.Units(steps_per_epoch=0)
    with pytest.raises(ValueError, match="run_steps"):
        lk.Units(run_steps=-1)
    with pytest.raises(TypeError, match="steps_per_epoch"):
        lk.Units(steps_per_epoch="100")


# -- errors that name the fix ----------------------------------------------------------------------


def test_unknown_type_suggests_the_closest():
    with pytest.raises(ValueError, match="'cosin'.*did you mean 'cosine'"):
        lk.from_dict({"type": "cosin", "peak_lr": 0.1, "total_steps": 10})
    with pytest.raises(ValueError, match="did you mean 'multistep'"):
        lk.from_json('{"type": "multi_step", "peak_lr": 0.1, "milestones": [1]}')


def test_unknown_parameter_suggests_the_closest():
    with pytest.raises(ValueError, match="cosine: unknown parameter 'total_step'.*did you mean 'total_steps'"):
        lk.from_dict({"type": "cosine", "peak_lr": 0.1, "total_step": 10})
    with pytest.raises(ValueError, match="'eta_min'.*valid: .*min_lr"):
        lk.from_dict({"type": "cosine", "peak_lr": 0.1, "total_steps": 10, "eta_min": 0})
    with pytest.raises(ValueError, match="warmup.schedule: cosine: unknown parameter 'peak'.*'peak_lr'"):
        lk.from_dict(
            {"type": "warmup", "warmup_steps": 5, "schedule": {"type": "cosine", "peak": 0.1, "total_steps": 10}}
        )


def test_missing_parameters_are_named():
    with pytest.raises(ValueError, match="missing parameters peak_lr, total_steps"):
        lk.from_dict({"type": "cosine"})
    with pytest.raises(ValueError, match="missing parameter step_size_up"):
        lk.from_dict({"type": "cyclic", "min_lr": 0.0, "peak_lr": 1.0})


def test_spec_shape_errors():
    with pytest.raises(ValueError, match="no 'type'"):
        lk.from_dict({"peak_lr": 0.1})
    # every spec error is a ValueError (the README teaches `except ValueError`)
    with pytest.raises(ValueError, match="mapping"):
        lk.from_dict([{"type": "constant", "lr": 1}])
    with pytest.raises(ValueError, match="string"):
        lk.from_dict({"type": 3})
    with pytest.raises(ValueError, match="must be a real number"):
        lk.from_dict({"type": "cosine", "peak_lr": [0.1], "total_steps": 10})
    with pytest.raises(ValueError, match="must be True or False"):
        lk.from_dict({"type": "exponential", "peak_lr": 0.1, "gamma": 0.9, "staircase": "yes"})
    with pytest.raises(ValueError, match="invalid JSON"):
        lk.from_json("{type: constant")
    with pytest.raises(ValueError, match="invalid YAML"):
        lk.from_yaml("type: [constant")
    with pytest.raises(ValueError, match="no such spec file"):
        lk.load("missing.yaml")


def test_bad_values_in_a_spec_name_the_schedule_and_parameter():
    with pytest.raises(ValueError, match="cosine: .*min_lr.*peak_lr"):
        lk.from_dict({"type": "cosine", "peak_lr": 0.1, "total_steps": 10, "min_lr": 0.5})
    with pytest.raises(ValueError, match="cosine: peak_lr must be a number, got 'fast'"):
        lk.from_dict({"type": "cosine", "peak_lr": "fast", "total_steps": 10})
    for bad in ("inf", "nan", "1e", "0x10", "1__0", "_1"):
        with pytest.raises(ValueError, match="must be a number"):
            lk.from_dict({"type": "cosine", "peak_lr": bad, "total_steps": 10})


@pytest.mark.parametrize(
    "text,value",
    [
        ("1e-3", 1e-3),
        ("1E-3", 1e-3),
        ("3e-4", 3e-4),
        ("3.0E-4", 3e-4),
        (".5", 0.5),
        ("2.", 2.0),
        ("1_000", 1000),
        ("+0.25", 0.25),
    ],
)
def test_numbers_are_read_as_people_write_them(text, value):
    # PyYAML reads 1e-3 (no dot) and 1_000 as strings; a spec takes them as the numbers they are
    s = lk.from_yaml(f"type: warmup_cosine\npeak_lr: {text}\ntotal_steps: 4000\nwarmup_steps: 100\n")
    assert s.peak_lr == value
    t = lk.from_yaml(f"type: step\npeak_lr: 0.1\nstep_size: {text}\ngamma: 0.5\n") if value >= 1e-9 else None
    if t is not None:
        assert t.step_size == value
    assert lk.from_dict({"type": "multistep", "peak_lr": 0.1, "milestones": ["1_000", "2e3"]}).milestones == (
        1000,
        2000,
    )
    assert (
        lk.from_dict({"type": "cosine", "peak_lr": 0.1, "total_steps": "2ep", "steps_per_epoch": "1_000"}).total_steps
        == 2000
    )
    assert lk.from_dict({"type": "piecewise", "values": ["1e-3", "1e-4"], "boundaries": [10]}).values == (1e-3, 1e-4)


def test_json_is_read_as_json_and_keys_are_never_given_twice(tmp_path):
    trailing = tmp_path / "trailing.json"
    trailing.write_text('{"type": "constant",\n "lr": 0.1,}')
    with pytest.raises(ValueError) as e:
        lk.load(trailing)  # YAML would take it; JSON does not
    assert "invalid JSON" in str(e.value) and "line 2, column" in str(e.value) and "\n" not in str(e.value)
    dup = tmp_path / "dup.json"
    dup.write_text('{"type": "cosine", "peak_lr": 0.1, "peak_lr": 0.2, "total_steps": 10}')
    with pytest.raises(ValueError, match="'peak_lr' appears twice"):
        lk.load(dup)
    with pytest.raises(ValueError, match="'peak_lr' appears twice"):
        lk.from_json(dup.read_text())
    with pytest.raises(ValueError, match="'peak_lr' appears twice in one mapping at line 3"):
        lk.from_yaml("type: cosine\npeak_lr: 0.1\npeak_lr: 0.2\ntotal_steps: 10\n")
    with pytest.raises(ValueError) as e:
        lk.from_yaml("type: cosine\n  peak_lr: [0.1\n")
    assert "invalid YAML" in str(e.value) and "at line 2" in str(e.value) and "\n" not in str(e.value)
    # YAML merge keys are not duplicates; an explicit key may override a merged one
    s = lk.from_yaml(
        "base: &b {peak_lr: 0.1, total_steps: 10}\n"
        if False
        else "type: cosine\n<<: {peak_lr: 0.1, total_steps: 10}\ntotal_steps: 20\n"
    )
    assert s.total_steps == 20


def test_a_file_that_is_not_text_is_named(tmp_path):
    for name, data in (("bin.yaml", b"type: constant\x00\x01"), ("latin.json", "{\"lr\": \"é\"}".encode("latin-1"))):
        f = tmp_path / name
        f.write_bytes(data)
        with pytest.raises(ValueError, match=name):
            lk.load(f)


def test_function_schedule_is_not_a_config():
    with pytest.raises(TypeError, match="cannot be written as a config"):
        lk.Warmup(lk.FunctionSchedule(lambda t: 0.1), 5).to_dict()
    with pytest.raises(ValueError, match="unknown schedule type 'function'"):
        lk.from_dict({"type": "function", "fn": "os.system"})


# -- YAML is data only -----------------------------------------------------------------------------


def test_yaml_never_executes_code(tmp_path):
    marker = tmp_path / "ran"
    evil = f"!!python/object/apply:os.system ['touch {marker}']\n"
    with pytest.raises(ValueError, match="invalid YAML"):
        lk.from_yaml(evil)
    evil_nested = f"type: constant\nlr: !!python/object/apply:os.system ['touch {marker}']\n"
    with pytest.raises(ValueError, match="invalid YAML"):
        lk.from_yaml(evil_nested)
    with pytest.raises(ValueError, match="invalid YAML"):
        lk.from_yaml("!!python/object:lrkit.Constant {lr: 0.1}")
    with pytest.raises(ValueError, match="invalid YAML"):
        lk.load("!!python/name:os.system")
    assert not marker.exists()


def test_load_reads_inline_yaml_flow_style() -> None:
    # Flow-style YAML starts with a brace like JSON; load() must still read it.
    s = lk.load("{type: cosine, peak_lr: 0.1, total_steps: 10}")
    assert s == lk.Cosine(0.1, 10)
    with pytest.raises(ValueError):
        lk.load("{type: cosine, peak_lr: [}")
