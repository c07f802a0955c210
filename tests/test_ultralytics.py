"""ultralytics' schedule (lr per param group and momentum, per iteration) against the values its own
trainer code sets (tests/data/ultralytics_reference.json, written by make_ultralytics_reference.py,
which runs that code), as schedules and bound to a real optimizer with its three groups."""

from __future__ import annotations

import json
import warnings
import pathlib

import numpy as np
import pytest
import torch

import lrkit as lk
from lrkit.recipes import ultralytics_schedules
from lrkit.torch import ScheduleLR

DATA = json.loads((pathlib.Path(__file__).parent / "data" / "ultralytics_reference.json").read_text())


def schedules(run):
    a = run["args"]
    return ultralytics_schedules(run["lr0"], a["lrf"], run["epochs"], run["batches"],
                                 warmup_epochs=a["warmup_epochs"], warmup_bias_lr=a["warmup_bias_lr"],
                                 warmup_momentum=a["warmup_momentum"], momentum=a["momentum"], cos_lr=a["cos_lr"],
                                 version=run["version"])


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
    groups = [{"params": [ps[0]], "weight_decay": 5e-4}, {"params": [ps[1]], "weight_decay": 0.0},
              {"params": [ps[2]]}]
    return torch.optim.SGD(groups, lr=run["lr0"], momentum=run["args"]["momentum"], nesterov=True)


def test_torch_drop_in_sets_lr_and_momentum_per_iteration_and_resumes_mid_warmup():
    run = DATA["runs"]["cos-lr"]
    s = schedules(run)

    def build():
        opt = _optimizer(run)
        return opt, ScheduleLR(opt, s["lr"], absolute=True), ScheduleLR(opt, s["momentum"], key="momentum",
                                                                        absolute=True)

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


def test_paddle_sets_each_groups_lr_per_iteration():
    import paddle

    from lrkit.paddle import ScheduleLR as PaddleScheduleLR

    run = DATA["runs"]["linear-lf"]
    s = schedules(run)
    ps = [paddle.create_parameter([1], "float64") for _ in range(3)]
    groups = [{"params": [p]} for p in ps]
    sched = PaddleScheduleLR(s["lr"], parameters=groups)
    opt = paddle.optimizer.Momentum(learning_rate=sched, momentum=run["args"]["momentum"], parameters=groups)
    got = []
    for _ in range(len(run["lr"])):
        got.append(sched.values())
        sched.step()
    np.testing.assert_allclose(got, run["lr"], rtol=1e-12, atol=1e-18)
    assert opt is not None


def test_bad_arguments():
    with pytest.raises(ValueError, match="batches must be a whole number"):
        ultralytics_schedules(0.01, 0.01, 10, 0)
    with pytest.raises(ValueError, match="warmup_epochs must be >= 0"):
        ultralytics_schedules(0.01, 0.01, 10, 5, warmup_epochs=-1)
