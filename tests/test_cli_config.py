"""``lrkit show|plot|explain|export --config FILE``: a trainer's config as the source, read by
lrkit.configs.from_config (whose values are tested against the trainers in test_from_config.py);
here: the command line gives the same numbers, its options, and its errors as one line."""

from __future__ import annotations

import csv
import io
import pathlib

import numpy as np
import pytest

from lrkit.cli import main
from lrkit.configs import from_config

EX = pathlib.Path(__file__).parent.parent / "examples" / "configs"


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def rows(text):
    r = list(csv.reader(io.StringIO(text)))
    return r[0], np.array([[float(v) for v in row] for row in r[1:]])


@pytest.mark.parametrize(
    "name, extra",
    [
        ("mmdet_schedule.py", ["--steps-per-epoch", "100"]),
        ("transformers_training_args.json", ["--steps-per-epoch", "40"]),
        ("timm_args.yaml", []),
        ("lightning_cli.yaml", []),
        ("deepspeed_config.json", []),
        ("ppdet_optimizer_300e.yml", ["--steps-per-epoch", "20"]),
    ],
)
def test_export_writes_the_lr_from_config_gives_over_the_run(name, extra):
    code, out, err = run("export", "--config", str(EX / name), *extra)
    assert code == 0, err
    head, data = rows(out)
    assert head == ["position", "lr"]
    spe = int(extra[1]) if extra else None
    got = from_config(EX / name, steps_per_epoch=spe)
    if got.total is not None:
        assert len(data) == int(got.total)
    np.testing.assert_array_equal(data[:, 1], got.schedule(data[:, 0]))


def test_ultralytics_config_shows_every_group_and_the_momentum():
    code, out, err = run("export", "--config", str(EX / "ultralytics_args.yaml"), "--steps-per-epoch", "30")
    assert code == 0, err
    head, data = rows(out)
    assert head == ["position", "lr_weight", "lr_bn", "lr_bias", "momentum"]
    got = from_config(EX / "ultralytics_args.yaml", steps_per_epoch=30)
    assert len(data) == 100 * 30
    for j, s in enumerate(got.schedules + [got.momentum], start=1):
        np.testing.assert_array_equal(data[:, j], s(data[:, 0]))
    code, out, err = run("explain", "--config", str(EX / "ultralytics_args.yaml"), "--steps-per-epoch", "30")
    assert code == 0 and "warmup_bias_lr = 0.1" in out and "30 batches per epoch" in out


def test_show_and_explain_read_a_py_config_without_running_it(tmp_path):
    code, out, err = run("show", "--config", str(EX / "mmdet_schedule.py"), "--steps-per-epoch", "100", "--no-plot")
    assert code == 0, err
    assert "phase" in out and "1100" in out
    code, out, err = run("explain", "--config", str(EX / "mmdet_schedule.py"), "--steps-per-epoch", "100")
    assert code == 0 and "epoch 8" in out
    bad = tmp_path / "cfg.py"
    bad.write_text("import os\nparam_scheduler = []\n")
    code, out, err = run("show", "--config", str(bad))
    assert code == 2 and err.startswith("lrkit: error: ") and "line 1" in err and "import" in err
    assert err.count("\n") == 1


def test_section_format_group_and_options(tmp_path):
    big = tmp_path / "all.yaml"
    big.write_text(
        "experiment:\n  hf:\n    learning_rate: 0.001\n    lr_scheduler_type: linear\n    max_steps: 50\n"
        "    warmup_steps: 5\n    sched: cosine\n    lr: 0.1\n"
    )
    code, out, err = run("export", "--config", str(big), "--section", "experiment.hf", "-n", "3")
    assert code == 2 and "looks like transformers and timm" in err
    code, out, err = run(
        "export", "--config", str(big), "--section", "experiment.hf", "--format", "transformers", "-n", "6"
    )
    assert code == 0, err
    assert f"read {big} as transformers (as given by --format, section 'experiment.hf')" in err  # said, not guessed
    _, data = rows(out)
    np.testing.assert_allclose(data[:, 1], [0, 0.0002, 0.0004, 0.0006, 0.0008, 0.001])
    code, out, err = run("export", "--config", str(big), "--section", "experiment.x")
    assert code == 2 and "has no key 'x'" in err
    # per-group lrs: DeepSpeed's WarmupLR with one lr per group
    ds = tmp_path / "ds.json"
    ds.write_text(
        '{"scheduler": {"type": "WarmupLR", "params": {"warmup_min_lr": [0, 0], "warmup_max_lr": [0.1, 0.01], '
        '"warmup_num_steps": 10, "warmup_type": "linear"}}}'
    )
    got = from_config(ds)
    for g in (0, 1):
        code, out, err = run("export", "--config", str(ds), "--group", str(g), "-n", "12")
        assert code == 0, err
        np.testing.assert_array_equal(rows(out)[1][:, 1], got.schedules[g](np.arange(12.0)))
    code, out, err = run("export", "--config", str(ds), "--group", "2")
    assert code == 2 and "2 param groups" in err
    # a reader's option; the note of what was assumed goes to stderr
    code, out, err = run("export", "--config", str(EX / "timm_args.yaml"), "-n", "8")
    assert code == 0 and "lrkit: note: lr from lr_base: world_size=1 assumed" in err
    code, out8, err = run("export", "--config", str(EX / "timm_args.yaml"), "-n", "8", "--option", "world_size=8")
    assert code == 0 and err.splitlines() == [
        f"lrkit: note: read {EX / 'timm_args.yaml'} as timm (recognised from its keys)"
    ]
    eight = from_config(EX / "timm_args.yaml", world_size=8)
    np.testing.assert_array_equal(rows(out8)[1][:, 1], eight.schedule(np.arange(8.0)))
    assert float(eight.schedule(50)) > 7 * float(from_config(EX / "timm_args.yaml").schedule(50))  # 8x lr, same min_lr
    code, out, err = run("export", "--config", str(EX / "timm_args.yaml"), "--option", "nc=3")
    assert code == 2 and "the timm reader has no option 'nc'" in err


def test_errors_are_one_line_naming_the_option():
    code, out, err = run("show", "--config", str(EX / "transformers_training_args.json"))
    assert code == 2 and "give --steps-per-epoch" in err and err.count("\n") == 1
    code, out, err = run("show", "cosine", "--config", str(EX / "lightning_cli.yaml"))
    assert code == 2 and "give SPEC or --config, not both" in err
    code, out, err = run("show", "--config", str(EX / "timm_args.yaml"), "--steps-per-epoch", "2.5")
    assert code == 2 and "--steps-per-epoch must be a whole number" in err
    code, out, err = run("show", "--config", "/nonexistent.yaml")
    assert code == 2 and "no such config file" in err
    code, out, err = run("show", "--config", str(EX / "timm_args.yaml"), "--format", "tim")
    assert code == 2 and "--format" in err
    code, out, err = run("show", "--config", str(EX / "timm_args.yaml"), "--option", "world_size")
    assert code == 2 and "NAME=VALUE" in err


def test_recipes_keep_their_own_config_option():
    code, out, err = run(
        "export", "ppdet", "--config", str(EX / "ppdet_optimizer_300e.yml"), "--step-per-epoch", "20", "-n", "50"
    )
    assert code == 0, err
    code2, out2, err2 = run(
        "export", "--config", str(EX / "ppdet_optimizer_300e.yml"), "--steps-per-epoch", "20", "-n", "50"
    )
    assert code2 == 0 and out == out2


def test_plot_draws_a_config(tmp_path):
    import matplotlib  # noqa: F401 - a test dependency: the plot is drawn, not skipped

    png = tmp_path / "lr.png"
    code, out, err = run("plot", "--config", str(EX / "lightning_cli.yaml"), "-o", str(png))
    assert code == 0, err
    assert png.stat().st_size > 1000
    png2 = tmp_path / "ul.png"
    code, out, err = run(
        "plot",
        "--config",
        str(EX / "ultralytics_args.yaml"),
        "--steps-per-epoch",
        "20",
        "-o",
        str(png2),
        "--x-unit",
        "epochs",
    )
    assert code == 0, err
    assert png2.stat().st_size > 1000


def test_the_recognised_format_is_said_and_the_run_end_marked():
    """Every read says which format it recognised; the run's length (the config's epochs or
    steps) marks where training ends when more is shown."""
    for name, fmt in [
        ("timm_args.yaml", "timm"),
        ("mmdet_schedule.py", "mmengine"),
        ("transformers_training_args.json", "transformers"),
        ("lightning_cli.yaml", "lightning"),
    ]:
        code, out, err = run("show", "--config", str(EX / name), "--steps-per-epoch", "10", "--no-plot")
        assert code == 0, err
        assert f"lrkit: note: read {EX / name} as {fmt} (recognised from its keys)" in err
    got = from_config(EX / "timm_args.yaml", steps_per_epoch=10)
    code, out, err = run("show", "--config", str(EX / "timm_args.yaml"), "--steps-per-epoch", "10", "-n", "400")
    assert code == 0 and got.total is not None and got.total < 400
    assert f"The run trains {got.total:g} positions" in out and "past the run's end" in out
