"""Plots and ``lrkit show`` mark where the run's training ends (a config's epochs x iterations
per epoch, or --run-steps) and name the positions shown past it; the last trained value is
labelled, not the last one drawn."""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import lrkit  # noqa: E402
from lrkit import cli  # noqa: E402
from lrkit.plot import key_points, plot_schedule  # noqa: E402
from lrkit.recipes import registered_recipes  # noqa: E402

PPCLS = "examples/configs/ppcls_cosine.yml"  # Global.epochs: 120
PPDET = "examples/configs/ppdet_optimizer_300e.yml"  # epoch: 300 (its cosine spans 360)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_key_points_label_the_last_trained_value_not_the_last_drawn():
    s = lrkit.Cosine(1.0, 100, after="continue")
    x = np.arange(0.0, 130.0)
    pts = key_points(s, x, s(x), run_end=110.0)
    assert [k for k, *_ in pts].count("final") == 0
    end = [p for p in pts if p[0] == "end"]
    assert end == [("end", 109.0, float(s(109.0)))]
    # without a run end (or one past the samples) the last sample is "final", as before
    assert key_points(s, x, s(x))[-1] == ("final", 129.0, float(s(129.0)))
    assert key_points(s, x, s(x), run_end=500.0)[-1][0] == "final"


def test_plot_schedule_shades_past_the_end_and_refuses_a_bad_run_end():
    s = lrkit.Cosine(1.0, 100, after="continue")
    fig, ax = plt.subplots()
    plot_schedule(s, 130, ax, annotate=True, run_end=110)
    texts = [t.get_text() for t in ax.texts]
    assert "past the run's end" in texts
    assert any(t.startswith("end of run: ") and t.endswith(" at 109") for t in texts), texts
    assert not any(t.startswith("final") for t in texts)
    assert any(p.get_x() == 110 for p in ax.patches)  # the shaded span starts where training ends
    plt.close(fig)
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="run_end must be a finite number"):
        plot_schedule(s, 130, ax, run_end=math.nan)
    plt.close(fig)


@pytest.mark.parametrize(
    "recipe,values,want",
    [
        ("ppcls", {"config": PPCLS, "step_each_epoch": 500}, 120 * 500),
        ("ppcls", {"config": PPCLS, "step_each_epoch": 500, "epochs": 90}, 90 * 500),
        ("ppdet", {"config": PPDET, "step_per_epoch": 500}, 300 * 500),
        ("yolox-cos", {"lr": 0.01, "min_lr": 1e-4, "total_iters": 300}, 300),
        ("cawb", {"epochs": 45, "batchs": 50}, 45 * 50),
        ("ultralytics", {"epochs": 10, "batches": 20}, 10 * 20),
    ],
)
def test_recipes_know_the_length_of_the_run(recipe, values, want):
    r = registered_recipes()[recipe]
    assert r.run_length(r.values(**values)) == want


def test_lrkit_plot_of_a_config_marks_the_end_of_its_run(tmp_path, monkeypatch):
    """The PaddleClas config trains 120 epochs of 500: the picture ends a tenth past 60,000,
    marks 60,000 and labels the lr of iteration 59,999 (the last one trained)."""
    captured = {}
    real = plot_schedule

    def spy(*a, **kw):
        ax = real(*a, **kw)
        captured["ax"] = ax
        return ax

    monkeypatch.setattr("lrkit.plot.plot_schedule", spy)
    out = tmp_path / "ppcls.png"
    code, _, err = run("plot", "ppcls", "--config", PPCLS, "--step-each-epoch", "500", "-o", str(out))
    assert code == 0, err
    ax = captured["ax"]
    texts = [t.get_text() for t in ax.texts]
    assert "past the run's end" in texts
    label = next(t for t in texts if t.startswith("end of run"))
    s = registered_recipes()["ppcls"].make_schedule(config=PPCLS, step_each_epoch=500)
    assert label == f"end of run: {s(59_999.0):.3g} at 59999"
    line = max(ax.lines, key=lambda ln: np.asarray(ln.get_xdata()).size)
    assert np.asarray(line.get_xdata())[-1] == pytest.approx(66_000 - 1)


def test_lrkit_show_of_a_config_uses_its_epochs_and_names_what_lies_past():
    code, out, err = run("show", "ppdet", "--config", PPDET, "--step-per-epoch", "500")
    assert code == 0, err
    assert "The run trains 150000 positions" in out and "the plot goes on to 164999, past the run's end" in out
    # a spec with --run-steps: the same words
    code, out, _ = run("show", "cosine", "--peak-lr", "0.1", "--total-steps", "100", "--run-steps", "80")
    assert code == 0 and "The run trains 80 positions (last lr" in out
    # a run that ends where the picture ends: nothing said
    code, out, _ = run("show", "cosine", "--peak-lr", "0.1", "--total-steps", "100")
    assert code == 0 and "past the run's end" not in out
