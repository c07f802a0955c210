"""``lrkit plot/show/explain/export STATE.json`` on a ScheduleLR run with a plateau policy.

The run is trained for real (torch's optimizer, Paddle's scheduler); the lrs written at every
step and the steps where ``observe`` returned True are recorded while training. The state is
saved with ``json.dump(sched.state_dict(), f)``. The lines the CLI draws (taken from the
matplotlib figure on its way to the file) must be those recorded lrs, the dashed plan
``base_g * plan(t)`` evaluated here, and one vertical line per recorded reduction with its
label (``x0.1 @ 1,100``: the factor and the step written here) and reason.
"""

from __future__ import annotations

import io
import json

import numpy as np
import paddle
import pytest
import torch

import lrkit
import lrkit.paddle as lp
import lrkit.plot
import lrkit.torch as lt
from lrkit import cli
from lrkit.plateau import Plateau

PLAN = lrkit.WarmupCosine(peak_lr=1.0, total_steps=3000, warmup_steps=300)
LRS = [0.1, 0.05, 0.02]
FLOORS = [0.0, 4e-4, 0.0]
EVERY = 100  # an evaluation every 100 steps
STEPS = 2000


def metric(k: int) -> float:
    """Improves for 6 evaluations, then flat: reductions follow at every patience+1 evaluations."""
    return 1.0 - 0.1 * min(k, 6)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _opt(lrs):
    return torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in lrs])


def train_torch(policy: Plateau, steps: int = STEPS):
    opt = _opt(LRS)
    sched = lt.ScheduleLR(opt, PLAN, plateau=policy)
    written = [[g["lr"] for g in opt.param_groups]]
    cuts = []
    for t in range(1, steps + 1):
        opt.step()
        sched.step()
        if t % EVERY == 0 and sched.observe(metric(t // EVERY)):
            cuts.append(t)
        written.append([g["lr"] for g in opt.param_groups])
    return sched, np.array(written), cuts


@pytest.fixture
def figures(monkeypatch):
    """The figures the CLI saves, caught on their way to the file."""
    caught = []
    save = lrkit.plot._save

    def spy(fig, path, dpi):
        caught.append(fig)
        save(fig, path, dpi)

    monkeypatch.setattr(lrkit.plot, "_save", spy)
    return caught


@pytest.fixture(scope="module")
def torch_run(tmp_path_factory):
    sched, written, cuts = train_torch(Plateau(factor=0.1, patience=4, min_lr=FLOORS))
    path = tmp_path_factory.mktemp("run") / "run.json"
    with open(path, "w", encoding="utf-8") as f:
        json.dump(sched.state_dict(), f)
    return sched, written, cuts, path


def _lines(ax, gid):
    return [ln for ln in ax.get_lines() if ln.get_gid() == gid]


def test_plot_draws_the_lrs_recorded_while_training(torch_run, figures, tmp_path):
    sched, written, cuts, path = torch_run
    assert len(cuts) >= 2  # reductions mid-run
    png = tmp_path / "run.png"
    code, out, err = run("plot", str(path), "-o", str(png), "-n", str(STEPS + 1))
    assert (code, err) == (0, "") and f"wrote {png}" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (fig,) = figures
    ax = fig.axes[0]
    lr_lines = _lines(ax, "lrkit-run-lr")
    assert [ln.get_label() for ln in lr_lines] == ["group 0", "group 1", "group 2"]
    for g, ln in enumerate(lr_lines):
        np.testing.assert_array_equal(ln.get_xdata(), np.arange(STEPS + 1))
        np.testing.assert_array_equal(ln.get_ydata(), written[:, g])
    # the plan before reductions, dashed: base_g * plan(t), evaluated here point by point
    plan_lines = _lines(ax, "lrkit-run-plan")
    assert len(plan_lines) == 3 and all(ln.get_linestyle() == "--" for ln in plan_lines)
    for b, ln in zip(LRS, plan_lines):
        np.testing.assert_allclose(ln.get_ydata(), [b * PLAN(float(t)) for t in range(STEPS + 1)], rtol=1e-15)
    # one vertical line per reduction, at the step observe() returned True, labelled with the reason
    cut_x = sorted(ln.get_xdata()[0] for ln in _lines(ax, "lrkit-run-reduction"))
    assert cut_x == cuts
    labels = [t.get_text() for t in ax.texts if t.get_gid() == "lrkit-run-reduction"]
    for t in cuts:
        (label,) = [s for s in labels if s.startswith(f"x0.1 @ {t:,}")]
        assert label.endswith("no improvement of the metric for 5 evaluations")  # patience 4: the 5th decides
    assert f"{len(cuts)} reduction(s)" in ax.get_title()


def test_plot_past_the_saved_step_goes_on_as_the_run_would(torch_run, figures, tmp_path):
    """Drawn to the plan's end: the run continued without new evaluations gives the same lrs."""
    sched, written, cuts, path = torch_run
    code, _, err = run("plot", str(path), "-o", str(tmp_path / "r.svg"), "--log", "--no-plan")
    assert (code, err) == (0, "")
    ax = figures[0].axes[0]
    assert ax.get_yscale() == "log" and not _lines(ax, "lrkit-run-plan")
    lines = _lines(ax, "lrkit-run-lr")
    x = lines[0].get_xdata()
    assert x[-1] >= 3000  # the whole plan by default
    opt = _opt([9.0] * 3)
    opt.load_state_dict(sched.optimizer.state_dict())
    cont = lt.ScheduleLR(opt, PLAN, plateau=Plateau(factor=0.1, patience=4, min_lr=FLOORS))
    cont.load_state_dict(json.loads(path.read_text()))
    later = {}
    for t in range(STEPS + 1, 3101):
        cont.step()
        later[t] = [g["lr"] for g in opt.param_groups]
    for g, ln in enumerate(lines):
        got = dict(zip(ln.get_xdata(), ln.get_ydata()))
        for t in range(0, STEPS + 1, 7):
            assert got[float(t)] == written[t, g]
        for t in range(STEPS + 1, 3101, 13):
            assert got[float(t)] == later[t][g]


def test_show_prints_the_explanation_and_a_text_plot(torch_run):
    sched, written, cuts, path = torch_run
    code, out, err = run("show", str(path), "--width", "60", "--ascii", "-n", str(STEPS + 1))
    assert (code, err) == (0, "")
    for t in cuts:
        assert f"reduced x0.1 at step {t}: no improvement of the metric for 5 evaluations" in out
    assert out.count("group ") >= 3 and "+" in out  # one text plot per group
    code, out_zh, _ = run("show", str(path), "--lang", "zh", "--no-plot")
    assert code == 0
    for t in cuts:
        assert f"第 {t} 步降为 x0.1" in out_zh
    assert "平台期降低学习率" in out_zh and "+" not in out_zh.split("平台期")[-1]
    # the run's words are the scheduler's own (its explain) after the saved step and group count
    assert sched.explain("zh") in out_zh and sched.explain("en") in out


def test_explain_and_export_take_the_run(torch_run):
    sched, written, cuts, path = torch_run
    code, out, _ = run("explain", str(path), "--lang", "zh")
    assert code == 0 and sched.explain("zh") in out
    code, out, _ = run("export", str(path), "-n", str(STEPS + 1), "--every", "100")
    assert code == 0
    rows = [line.split(",") for line in out.strip().splitlines()]
    assert rows[0] == ["position", "group_0", "group_1", "group_2"]
    for row in rows[1:]:
        t = int(float(row[0]))
        assert [float(v) for v in row[1:]] == list(written[t])


def test_lrkit_explain_of_the_run_object(torch_run):
    from lrkit._plateau_plan import PlateauRun

    sched, _, cuts, path = torch_run
    r = PlateauRun.load(path)
    assert lrkit.explain(r, "en") == r.explain("en")
    assert r.explain("en").endswith(sched.explain("en"))
    assert [n["at"] for n in r.reductions()] == cuts
    assert [n["label"] for n in r.reductions()] == [f"x0.1 @ {t:,}" for t in cuts]


def test_a_keras_flavor_names_its_monitor_and_patience(tmp_path, figures):
    sched, written, cuts = train_torch(Plateau.keras(monitor="val_loss", factor=0.1, patience=5), 1500)
    path = tmp_path / "k.json"
    path.write_text(json.dumps(sched.state_dict()), encoding="utf-8")
    code, _, err = run("plot", str(path), "-o", str(tmp_path / "k.png"), "-n", "1501")
    assert (code, err) == (0, "")
    ax = figures[0].axes[0]
    labels = [t.get_text() for t in ax.texts if t.get_gid() == "lrkit-run-reduction"]
    assert cuts and labels == [f"x0.1 @ {t:,}: no improvement of val_loss for 5 evaluations" for t in cuts]
    for g, ln in enumerate(_lines(ax, "lrkit-run-lr")):
        np.testing.assert_array_equal(ln.get_ydata(), written[:, g])


def test_a_paddle_run_global_and_per_group(tmp_path, figures):
    """Paddle's scheduler: the global lr (last_lr), and per-group lrs (get_last_lr)."""
    for per_group in (False, True):
        if per_group:
            layers = [paddle.nn.Linear(1, 1) for _ in LRS]
            groups = [{"params": lin.parameters(), "learning_rate": b} for lin, b in zip(layers, LRS)]
            sched = lp.ScheduleLR([PLAN] * 3, learning_rate=1.0, parameters=groups, plateau=Plateau(patience=2))
        else:
            sched = lp.ScheduleLR(PLAN, learning_rate=0.1, plateau=Plateau.paddle(learning_rate=0.1, patience=2))
        written, cuts = [list(sched.get_last_lr()) if per_group else [sched.last_lr]], []
        for t in range(1, 1201):
            sched.step()
            if t % EVERY == 0 and sched.observe(metric(t // EVERY)):
                cuts.append(t)
            written.append(list(sched.get_last_lr()) if per_group else [sched.last_lr])
        path = tmp_path / f"p{per_group}.json"
        path.write_text(json.dumps(sched.state_dict()), encoding="utf-8")
        figures.clear()
        code, _, err = run("plot", str(path), "-o", str(tmp_path / "p.png"), "-n", "1201")
        assert (code, err) == (0, "") and cuts
        ax = figures[0].axes[0]
        lines = _lines(ax, "lrkit-run-lr")
        assert [ln.get_label() for ln in lines] == (["group 0", "group 1", "group 2"] if per_group else ["lr"])
        w = np.array(written)
        for g, ln in enumerate(lines):
            np.testing.assert_array_equal(ln.get_ydata(), w[:, g])
        assert sorted(ln.get_xdata()[0] for ln in _lines(ax, "lrkit-run-reduction")) == cuts


def test_files_that_are_not_runs_keep_their_meaning(tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"type": "cosine", "peak_lr": 0.1, "total_steps": 100}), encoding="utf-8")
    code, out, _ = run("show", str(spec), "--no-plot")
    assert code == 0 and "reduced" not in out and "cosine" in out
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"class": "torch.optim.lr_scheduler.StepLR", "last_epoch": 3}), encoding="utf-8")
    code, _, err = run("show", str(other))
    assert code == 2 and "no 'type' key" in err  # read as a spec, as before


def test_a_run_with_python_code_in_its_plan_is_refused_clearly(tmp_path):
    opt = _opt([0.1])
    sched = lt.ScheduleLR(opt, lrkit.FunctionSchedule(_one), plateau=Plateau())
    path = tmp_path / "code.json"
    path.write_text(json.dumps(sched.state_dict()), encoding="utf-8")
    code, _, err = run("plot", str(path), "-o", str(tmp_path / "c.png"))
    assert code == 2 and "Python code" in err and "_one" in err and not (tmp_path / "c.png").exists()


def _one(t):
    return 1.0


def test_the_gallerys_run_files_are_what_its_script_writes(tmp_path):
    """docs/gallery/plateau_run.json and range_test.csv come from make_gallery.write_runs."""
    import importlib.util
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(
        "make_gallery", os.path.join(here, os.pardir, "docs", "make_gallery.py")
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for path in mod.write_runs(str(tmp_path)):
        name = os.path.basename(path)
        with open(path, "rb") as a, open(os.path.join(here, os.pardir, "docs", "gallery", name), "rb") as b:
            assert a.read() == b.read(), f"docs/gallery/{name} is stale: run python docs/make_gallery.py --runs"
    # the plateau run has two reductions, as the gallery says
    assert len(json.loads((tmp_path / "plateau_run.json").read_text())["plateau"]["reductions"]) == 2


def test_patience_zero_says_the_last_evaluation(tmp_path):
    sched, _, cuts = train_torch(Plateau(factor=0.5, patience=0), 800)
    path = tmp_path / "p0.json"
    path.write_text(json.dumps(sched.state_dict()), encoding="utf-8")
    code, out, _ = run("show", str(path), "--no-plot")
    assert code == 0 and cuts
    for t in cuts:
        assert f"reduced x0.5 at step {t}: no improvement of the metric at the last evaluation" in out


@pytest.mark.parametrize("absolute", [False, True])
def test_a_replanned_run_with_reductions_before_and_after(tmp_path, figures, absolute):
    """Re-plans (a longer run, then a cooldown) between reductions, absolute values or
    multipliers: the lines are the lrs written, step by step."""
    plan = lrkit.WarmupCosine(peak_lr=0.1 if absolute else 1.0, total_steps=1000, warmup_steps=100)
    opt = _opt([0.1, 0.03] if not absolute else [5.0, 5.0])
    sched = lt.ScheduleLR(opt, plan, absolute=absolute, plateau=Plateau(factor=0.5, patience=1, min_lr=[0.0, 1e-3]))
    written, cuts = [[g["lr"] for g in opt.param_groups]], []
    for t in range(1, 1201):
        opt.step()
        sched.step()
        if t == 450:
            sched.replan(total_steps=1400)
        if t == 900:
            sched.replan(cooldown=200, min_lr=0.0)
        if t % 50 == 0 and sched.observe(1.0 - 0.1 * min(t // 50, 3) + 0.05 * (t // 50 >= 12)):
            cuts.append(t)
        written.append([g["lr"] for g in opt.param_groups])
    assert any(c < 450 for c in cuts) and any(450 < c < 900 for c in cuts) and any(c > 900 for c in cuts)
    path = tmp_path / "replanned.json"
    path.write_text(json.dumps(sched.state_dict()), encoding="utf-8")
    code, _, err = run("plot", str(path), "-o", str(tmp_path / "r.png"), "-n", "1201")
    assert (code, err) == (0, "")
    ax = figures[0].axes[0]
    w = np.array(written)
    for g, ln in enumerate(_lines(ax, "lrkit-run-lr")):
        np.testing.assert_array_equal(ln.get_ydata(), w[:, g])
    assert sorted(ln.get_xdata()[0] for ln in _lines(ax, "lrkit-run-reduction")) == cuts
