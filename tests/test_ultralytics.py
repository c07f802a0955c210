"""ultralytics' schedule (lr per param group and momentum, per iteration) against the values its own
trainer code sets (tests/data/ultralytics_reference.json, written by make_ultralytics_reference.py,
which runs that code), as schedules and bound to a real optimizer with its three groups."""

from __future__ import annotations

import json
import pathlib
import warnings

import numpy as np
import pytest
import torch

import lrkit as lk
from lrkit.recipes import ultralytics_schedules
from lrkit.torch import ScheduleLR

DATA = json.loads((pathlib.Path(__file__).parent / "data" / "ultralytics_reference.json").read_text())


def schedules(run):
    a = run["args"]
    return ultralytics_schedules(
        run["lr0"],
        a["lrf"],
        run["epochs"],
        run["batches"],
        warmup_epochs=a["warmup_epochs"],
        warmup_bias_lr=a["warmup_bias_lr"],
        warmup_momentum=a["warmup_momentum"],
        momentum=a["momentum"],
        cos_lr=a["cos_lr"],
        version=run["version"],
    )


@pytest.mark.parametrize("name", list(DATA["runs"]))
def test_every_iteration_has_ultralytics_lr_per_group_and_momentum(name):
    run = DATA["runs"][name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lk.recipes.DropInWarning)  # 8.4.0-8.4.2 start the weights high
        s = schedules(run)
    assert s["warmup_iters"] == run["warmup_iters"]
    x = np.arange(float(len(run["lr"])))
    ref = np.array(run["lr"])
    for g in range(3):
        np.testing.assert_allclose(s["lr"][g](x), ref[:, g], rtol=1e-12, atol=1e-18, err_msg=f"{name} group {g}")
        assert lk.from_dict(s["lr"][g].to_dict()) == s["lr"][g]
    np.testing.assert_allclose(s["momentum"](x), np.array(run["momentum"])[:, 0], rtol=1e-12)


def _optimizer(run):
    ps = [torch.zeros(1, requires_grad=True) for _ in range(3)]
    groups = [{"params": [ps[0]], "weight_decay": 5e-4}, {"params": [ps[1]], "weight_decay": 0.0}, {"params": [ps[2]]}]
    return torch.optim.SGD(groups, lr=run["lr0"], momentum=run["args"]["momentum"], nesterov=True)


def test_two_schedule_lrs_set_lr_and_momentum_per_iteration_and_resume_mid_warmup():
    run = DATA["runs"]["cos-lr"]
    s = schedules(run)

    def build():
        opt = _optimizer(run)
        return (
            opt,
            ScheduleLR(opt, s["lr"], absolute=True),
            ScheduleLR(opt, s["momentum"], key="momentum", absolute=True),
        )

    opt, lr_sched, mom_sched = build()
    got_lr, got_m = [], []
    half = run["warmup_iters"] // 2
    for ni in range(len(run["lr"])):
        got_lr.append([g["lr"] for g in opt.param_groups])
        got_m.append([g["momentum"] for g in opt.param_groups])
        opt.step()
        lr_sched.step()
        mom_sched.step()
        if ni == half:  # resume mid-warmup from the saved states
            states = (opt.state_dict(), lr_sched.state_dict(), mom_sched.state_dict())
            opt, lr_sched, mom_sched = build()
            opt.load_state_dict(states[0])
            lr_sched.load_state_dict(states[1])
            mom_sched.load_state_dict(states[2])
    np.testing.assert_allclose(got_lr, run["lr"], rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose(got_m, run["momentum"], rtol=1e-12)


def _layout(version):
    """The param groups (name, weight decay) of the version's optimizer, in its order, and whether
    they carry their names (param_group), as make_ultralytics_reference.py builds them."""
    if version == "yolov5" or tuple(int(x) for x in version.split(".")) < (8, 4, 0):
        return ["bias", "weight", "bn"], False
    return ["weight", "bn", "bias"], tuple(int(x) for x in version.split(".")) >= (8, 4, 3)


def _drop_in_args(run):
    a = run["args"]
    return dict(
        lrf=a["lrf"],
        epochs=run["epochs"],
        batches=run["batches"],
        warmup_epochs=a["warmup_epochs"],
        warmup_bias_lr=a["warmup_bias_lr"],
        warmup_momentum=a["warmup_momentum"],
        cos_lr=a["cos_lr"],
        version=run["version"],
    )


def _torch_optimizer(run):
    names, named = _layout(run["version"])
    groups = []
    for n in names:
        g = {"params": [torch.zeros(1, requires_grad=True)], "weight_decay": 5e-4 if n == "weight" else 0.0}
        if named:
            g["param_group"] = n
        groups.append(g)
    return torch.optim.SGD(groups, lr=run["lr0"], momentum=run["args"]["momentum"], nesterov=True)


@pytest.mark.parametrize("name", list(DATA["runs"]))
def test_torch_drop_in_sets_lr_and_momentum_per_iteration_and_resumes_mid_warmup(name):
    from lrkit.torch import UltralyticsLR

    run = DATA["runs"][name]

    def build():
        opt = _torch_optimizer(run)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", lk.recipes.DropInWarning)
            return opt, UltralyticsLR(opt, **_drop_in_args(run))

    opt, sched = build()
    got_lr, got_m = [], []
    half = max(run["warmup_iters"] // 2, 1)
    for ni in range(len(run["lr"])):
        got_lr.append([g["lr"] for g in opt.param_groups])
        got_m.append([g["momentum"] for g in opt.param_groups])
        opt.step()
        sched.step()
        if ni == half:  # resume mid-warmup from the saved states, the scheduler built after the load
            states = (opt.state_dict(), sched.state_dict())
            opt = _torch_optimizer(run)
            opt.load_state_dict(states[0])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", lk.recipes.DropInWarning)
                sched = UltralyticsLR(opt, **_drop_in_args(run))
            sched.load_state_dict(states[1])
    np.testing.assert_allclose(got_lr, run["lr"], rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose(got_m, run["momentum"], rtol=1e-12)


def test_the_composed_schedules_bind_too():
    run = DATA["runs"]["cos-lr"]
    s = schedules(run)
    opt = _torch_optimizer(run)
    lr_sched = ScheduleLR(opt, s.lr, absolute=True)
    mom_sched = ScheduleLR(opt, s.momentum, key="momentum", absolute=True)
    got = []
    for _ in range(len(run["lr"])):
        got.append([g["lr"] for g in opt.param_groups] + [opt.param_groups[0]["momentum"]])
        opt.step()
        lr_sched.step()
        mom_sched.step()
    ref = np.column_stack([np.array(run["lr"]), np.array(run["momentum"])[:, 0]])
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-18)


def _paddle_run(run, resume_at=None):
    """Paddle's Momentum (float64 parameters, gradient 1 each step) driven by UltralyticsLR: the lr
    and momentum of each group per iteration, and the parameters after each update."""
    import paddle

    from lrkit.paddle import UltralyticsLR

    names, named = _layout(run["version"])

    ps = [
        paddle.create_parameter([1], "float64", default_initializer=paddle.nn.initializer.Constant(1.0)) for _ in names
    ]

    groups = [dict({"params": [p]}, **({"param_group": n} if named else {})) for p, n in zip(ps, names)]
    opt = paddle.optimizer.Momentum(learning_rate=run["lr0"], momentum=run["args"]["momentum"], parameters=groups)

    def build(state=None):
        # resumed: a new scheduler on the optimizer (its velocities kept), loaded with the saved state
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", lk.recipes.DropInWarning)
            sched = UltralyticsLR(opt, **_drop_in_args(run))
        if state is not None:
            sched.set_state_dict(state)
        return sched

    sched = build()
    lrs, moms, params = [], [], []
    for ni in range(len(run["lr"])):
        lrs.append(sched.get_last_lr())
        moms.append([g["momentum"] for g in opt._param_groups])
        sum(p.sum() for p in ps).backward()
        opt.step()
        opt.clear_grad()
        params.append([float(p.numpy()[0]) for p in ps])
        sched.step()
        if ni == resume_at:
            sched = build(sched.state_dict())
    return np.array(lrs), np.array(moms), np.array(params)


@pytest.mark.parametrize("name", ["linear-lf", "v8.3.0", "yolov5"])
def test_paddle_drop_in_applies_ultralytics_lr_and_momentum_per_group(name):
    run = DATA["runs"][name]
    lrs, moms, params = _paddle_run(run, resume_at=run["warmup_iters"] // 2)
    ref_lr, ref_m = np.array(run["lr"]), np.array(run["momentum"])
    np.testing.assert_allclose(lrs, ref_lr, rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose(moms, ref_m, rtol=1e-12)
    # the updates Paddle applied are those of these lrs and momenta: v = m v + g, p -= lr v, with
    # the momentum rounded to float32 (the kernel's mu is a float32 attribute)
    v, p, want = np.zeros(3), np.ones(3), []
    for lr, m in zip(ref_lr, ref_m):
        v = m.astype(np.float32).astype(np.float64) * v + 1.0
        p = p - lr * v
        want.append(p.copy())
    np.testing.assert_allclose(params, want, rtol=1e-12)


def test_drop_in_warns_where_the_trainer_probably_errs():
    from lrkit.torch import UltralyticsLR

    run = DATA["runs"]["v8.4.1"]
    with pytest.warns(lk.recipes.DropInWarning, match="first group's warmup"):
        UltralyticsLR(_torch_optimizer(run), **_drop_in_args(run))
    plain = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.01, momentum=0.9)
    with pytest.warns(lk.recipes.DropInWarning, match="no param group is named 'bias'.*version='8.3.253'"):
        sched = UltralyticsLR(plain, epochs=10, batches=20)
    assert sched.version == lk.recipes.ultralytics.CHECKED and sched.rules.bias_start == "named"


def test_a_classic_optimizer_with_its_version_starts_the_biases_at_warmup_bias_lr():
    """YOLOv5 / ultralytics <= 8.4.2 build SGD(biases) then add_param_group(weights), unnamed:
    with the version that built it, the first group is the biases' one (no warning), and the
    rules in force are visible on the scheduler."""
    import warnings

    from lrkit.torch import UltralyticsLR

    ps = [torch.zeros(1, requires_grad=True) for _ in range(3)]
    opt = torch.optim.SGD([ps[0]], lr=0.01, momentum=0.9, nesterov=True)
    opt.add_param_group({"params": [ps[1]], "weight_decay": 5e-4})
    opt.add_param_group({"params": [ps[2]]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched = UltralyticsLR(opt, epochs=10, batches=200, version="8.3.253")
    assert sched.version == "8.3.253" and sched.rules.bias_start == "first" and sched.rules.lag is False
    want = ultralytics_schedules(0.01, 0.01, 10, 200, version="8.3.253", momentum=0.9, groups=[None] * 3)
    assert [g["lr"] for g in opt.param_groups] == [s(0) for s in want.lr]
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.0  # the biases start high


def test_bad_arguments():
    with pytest.raises(ValueError, match="batches must be a whole number"):
        ultralytics_schedules(0.01, 0.01, 10, 0)
    with pytest.raises(ValueError, match="warmup_epochs must be >= 0"):
        ultralytics_schedules(0.01, 0.01, 10, 5, warmup_epochs=-1)


# -- the command line: every group's lr and the momentum ------------------------------------------


def _cli(*argv):
    import io

    from lrkit import cli

    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _cli_args(run):
    a = run["args"]
    args = [
        "--lr0",
        repr(run["lr0"]),
        "--lrf",
        repr(a["lrf"]),
        "--epochs",
        str(run["epochs"]),
        "--batches",
        str(run["batches"]),
        "--warmup-epochs",
        repr(a["warmup_epochs"]),
        "--warmup-bias-lr",
        repr(a["warmup_bias_lr"]),
        "--warmup-momentum",
        repr(a["warmup_momentum"]),
        "--momentum",
        repr(a["momentum"]),
        "--version",
        run["version"],
    ]
    return args + (["--cos-lr"] if a["cos_lr"] else [])


@pytest.mark.parametrize("name", ["cos-lr", "v8.1.0", "yolov5"])
def test_cli_export_has_every_groups_lr_and_the_momentum_of_the_trainer(name):
    import csv
    import io

    run = DATA["runs"][name]
    code, out, err = _cli("export", "ultralytics", *_cli_args(run))
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    names, _ = _layout(run["version"])
    assert rows[0] == ["position"] + [f"lr_{n}" for n in names] + ["momentum"]
    got = np.array(rows[1:], dtype=float)
    assert len(got) == run["epochs"] * run["batches"]  # the whole run, by default
    np.testing.assert_allclose(got[:, 1:4], run["lr"], rtol=1e-12, atol=1e-18)
    np.testing.assert_allclose(got[:, 4], np.array(run["momentum"])[:, 0], rtol=1e-12)


def test_cli_plot_draws_each_groups_lr_and_the_momentum_on_its_own_axis(tmp_path):
    from lrkit.plot import series_figure

    run = DATA["runs"]["v8.3.0"]
    code, out, err = _cli("plot", "ultralytics", *_cli_args(run), "-o", str(tmp_path / "u.png"))
    assert code == 0 and (tmp_path / "u.png").stat().st_size > 10_000, err
    u = schedules(run)
    x = np.arange(float(run["epochs"] * run["batches"]))
    fig = series_figure(
        {k: v for k, v in u.series().items() if k != "momentum"},
        x,
        secondary={"momentum": u.momentum},
        marks=[("warmup end", u.warmup_iters)],
    )
    lr_ax, m_ax = fig.axes
    lines = {ln.get_label(): ln.get_ydata() for ln in lr_ax.get_lines() if not ln.get_label().startswith("_")}
    assert set(lines) == {"lr bias", "lr weight = lr bn"}  # equal curves drawn once, named together
    np.testing.assert_allclose(lines["lr bias"], np.array(run["lr"])[:, 0], rtol=1e-12)
    np.testing.assert_allclose(lines["lr weight = lr bn"], np.array(run["lr"])[:, 1], rtol=1e-12, atol=1e-18)
    (mom,) = m_ax.get_lines()
    assert m_ax.get_ylabel() == "momentum" and mom.get_label() == "momentum"
    np.testing.assert_allclose(mom.get_ydata(), np.array(run["momentum"])[:, 0], rtol=1e-12)


# the CLI writes lrkit's warnings itself, one line on stderr (checked here for 8.4.1): the
# suite's error filter for them must not turn that one into an exception
@pytest.mark.filterwarnings("always::lrkit.DropInWarning")
def test_cli_show_and_explain_speak_of_the_trainers_rules():
    code, out, _ = _cli(
        "show", "ultralytics", "--epochs", "10", "--batches", "50", "--version", "8.1.0", "--ascii", "--width", "50"
    )
    assert code == 0
    assert "lr weight = lr bn" in out and "\nlr bias\n" in out and "\nmomentum\n" in out
    assert "max(round(3 x 50), 100) = 150 iterations" in out
    assert "epoch e trains with lf(e - 1) (from epoch 4 on)" in out
    u = ultralytics_schedules(0.01, 0.01, 10, 50, version="8.1.0")
    assert f"The last epoch trains with {lk._format.number(u.lr[0](499.0))} (lr0 x lf(8))" in out
    late = ultralytics_schedules(0.01, 0.01, 3, 20, warmup_epochs=5.0, version="8.1.0")  # warmup into the last epoch
    assert "The run ends inside the warmup: its last iteration (59)" in late.explain() and late.warmup_iters == 100
    assert "预热要到第 100 次迭代" in late.explain("zh")
    code, zh, _ = _cli("explain", "ultralytics", "--epochs", "100", "--batches", "500", "--lang", "zh")
    assert code == 0 and "前 1500 次迭代（3 轮）" in zh and "round(min(3, 99) x 500) = 1500" in zh
    code, en, err = _cli("explain", "ultralytics", "--epochs", "10", "--batches", "50", "--version", "8.4.1")
    assert "starts the first param group (the weight group in its optimizer) at warmup_bias_lr" in en
    assert err.startswith("lrkit: warning:") and "first group's warmup" in err
    code, _, err = _cli("plot", "ultralytics", "--epochs", "10", "--batches", "0")
    assert code == 2 and "batches" in err
    code, _, err = _cli("show", "ultralytics", "--epochs", "10", "--batches", "5", "--version", "7.0")
    assert code == 2 and "version must be an ultralytics 8.x release" in err
    code, _, err = _cli("export", "ultralytics", "--epochs", "10", "--batches", "5", "--base-lrs", "1", "2")
    assert code == 2 and "--base-lrs does not apply" in err


def test_explain_in_python_matches_the_schedules():
    s = ultralytics_schedules(0.01, 0.01, 100, 500, cos_lr=True)
    text = s.explain()
    assert f"The last epoch trains with {lk._format.number(s.lr[0](49_999.0))}" in text
    assert s.explain("zh") != text
    with pytest.raises(ValueError, match="lang must be one of"):
        s.explain("fr")


def test_cli_list_documents_the_recipe():
    code, out, _ = _cli("list", "ultralytics")
    assert code == 0 and out.startswith("ultralytics (a recipe)")
    for flag in (
        "--lr0",
        "--lrf",
        "--epochs",
        "--batches",
        "--warmup-epochs",
        "--warmup-bias-lr",
        "--momentum",
        "--cos-lr",
        "--version",
    ):
        assert flag in out
