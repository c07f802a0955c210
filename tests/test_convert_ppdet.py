"""PaddleDetection's LearningRate configs as lrkit schedules, against PaddleDetection's own code.

The reference values come from running ``ppdet/optimizer/optimizer.py`` itself (the
paddledet wheel, installed without its dependencies; see peer.py): its LearningRate
builds a Paddle scheduler, stepped once per iteration here as its trainer does.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest
from peer import import_ppdet_optimizer

import lrkit as lk
from lrkit.convert.ppdet import from_ppdet, load_ppdet_yaml

O = import_ppdet_optimizer()

CONFIGS = {
    "mmdet-like-piecewise": (
        0.01,
        [
            ("PiecewiseDecay", dict(gamma=0.1, milestones=[8, 11])),
            ("LinearWarmup", dict(start_factor=0.001, steps=1000)),
        ],
        137,
    ),
    "piecewise-gamma-list": (
        0.02,
        [
            ("PiecewiseDecay", dict(gamma=[0.3, 0.05, 0.01], milestones=[3, 7, 9])),
            ("LinearWarmup", dict(start_factor=0.25, epochs=2)),
        ],
        61,
    ),
    "piecewise-exp-warmup": (
        0.0125,
        [("PiecewiseDecay", dict(gamma=0.2, milestones=[5])), ("ExpWarmup", dict(steps=333, power=3))],
        97,
    ),
    "piecewise-no-warmup": (0.01, [("PiecewiseDecay", dict(gamma=0.1, milestones=[2, 6], use_warmup=False))], 101),
    "piecewise-values": (
        0.01,
        [("PiecewiseDecay", dict(milestones=[2, 6], values=[0.03, 0.007, 0.0011], use_warmup=False))],
        101,
    ),
    "cosine-warmup": (
        0.04,
        [("CosineDecay", dict(max_epochs=12, min_lr_ratio=0.05)), ("LinearWarmup", dict(start_factor=0.1, steps=250))],
        113,
    ),
    "cosine-warmup-plateau": (
        0.04,
        [
            ("CosineDecay", dict(max_epochs=12, min_lr_ratio=0.05, last_plateau_epochs=2)),
            ("LinearWarmup", dict(start_factor=0.0, epochs=1)),
        ],
        113,
    ),
    "cosine-plateau-no-warmup": (
        0.01,
        [("CosineDecay", dict(max_epochs=9, last_plateau_epochs=3, use_warmup=False))],
        77,
    ),
    "cosine-no-warmup": (0.01, [("CosineDecay", dict(max_epochs=5, min_lr_ratio=0.1, use_warmup=False))], 90),
}


def reference(base, scheds, spe, n):
    lr = O.LearningRate(base, [getattr(O, name)(**kw) for name, kw in scheds])
    s = lr(spe)
    out = []
    for _ in range(n):
        out.append(s())
        s.step()
    return np.array(out)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_every_iteration_has_paddledetections_lr(name):
    base, scheds, spe = CONFIGS[name]
    n = 14 * spe  # past the last milestone or max_epochs
    ref = reference(base, scheds, spe, n)
    config = {"base_lr": base, "schedulers": [{"name": nm, **kw} for nm, kw in scheds]}
    s = from_ppdet(config, spe)
    got = s(np.arange(float(n)))
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15 * ref.max(), err_msg=name)
    assert lk.from_dict(s.to_dict()) == s


def test_the_yaml_users_have_reads_as_it_is():
    text = """
LearningRate:
  base_lr: 0.01
  schedulers:
  - !PiecewiseDecay
    gamma: 0.1
    milestones: [8, 11]
  - !LinearWarmup
    start_factor: 0.001
    steps: 1000
"""
    cfg = load_ppdet_yaml(text)
    assert cfg["LearningRate"]["schedulers"][0] == {"name": "PiecewiseDecay", "gamma": 0.1, "milestones": [8, 11]}
    s = from_ppdet(cfg, 137)
    ref = reference(
        0.01,
        [
            ("PiecewiseDecay", dict(gamma=0.1, milestones=[8, 11])),
            ("LinearWarmup", dict(start_factor=0.001, steps=1000)),
        ],
        137,
        2000,
    )
    np.testing.assert_allclose(s(np.arange(2000.0)), ref, rtol=1e-12)


def test_a_paddle_scheduler_from_the_config_resumes_mid_warmup():
    from lrkit.paddle import scheduler_from_ppdet as paddle_from_ppdet

    text = "base_lr: 0.01\nschedulers:\n- !CosineDecay\n  max_epochs: 12\n- !LinearWarmup\n  steps: 300\n"
    base, scheds, spe = 0.01, [("CosineDecay", dict(max_epochs=12)), ("LinearWarmup", dict(steps=300))], 50
    ref = reference(base, scheds, spe, 600)
    a = paddle_from_ppdet(text, spe)
    got = []
    for _ in range(120):  # mid-warmup
        got.append(a())
        a.step()
    state = a.state_dict()
    b = paddle_from_ppdet(text, spe)
    b.set_state_dict(state)
    for _ in range(480):
        got.append(b())
        b.step()
    np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_what_paddledetection_would_not_build_is_said():
    with pytest.raises(ValueError, match="no second scheduler"):
        from_ppdet({"schedulers": [{"name": "PiecewiseDecay"}]}, 10)
    with pytest.raises(ValueError, match="schedulers\\[0\\] must be one of"):
        from_ppdet({"schedulers": [{"name": "LinearWarmup"}, {"name": "PiecewiseDecay"}]}, 10)
    with pytest.raises(ValueError, match="step_per_epoch"):
        from_ppdet({"schedulers": [{"name": "PiecewiseDecay", "use_warmup": False}]}, 0)
    with pytest.raises(ValueError, match="come after the warmup"):
        from_ppdet(
            {"schedulers": [{"name": "PiecewiseDecay", "milestones": [1, 2]}, {"name": "LinearWarmup", "steps": 500}]},
            10,
        )


BURNIN = json.loads((pathlib.Path(__file__).parent / "data" / "ppdet_burnin_reference.json").read_text())


@pytest.mark.parametrize("name", list(BURNIN["configs"]))
def test_burnin_warmup_has_the_lr_of_paddledetection_2_4(name):
    # BurninWarmup left PaddleDetection after release 2.4: its values are stored, from running
    # that release's optimizer.py (tests/data/make_ppdet_burnin_reference.py)
    ref = BURNIN["configs"][name]
    s = from_ppdet(ref["config"], ref["step_per_epoch"])
    x = np.arange(float(len(ref["lr"])))
    np.testing.assert_allclose(s(x), ref["lr"], rtol=1e-12, atol=1e-18)
    assert lk.from_dict(s.to_dict()) == s


def test_burnin_warmup_needs_steps():
    cfg = {
        "base_lr": 0.01,
        "schedulers": [{"name": "PiecewiseDecay", "milestones": [3]}, {"name": "BurninWarmup", "steps": 0}],
    }
    with pytest.raises(ValueError, match="BurninWarmup steps must be a whole number"):
        from_ppdet(cfg, 100)


def test_the_command_line_reads_the_config_file(tmp_path):
    import csv
    import io

    from lrkit import cli

    text = (
        "epoch: 12\nLearningRate:\n  base_lr: 0.01\n  schedulers:\n  - !PiecewiseDecay\n    gamma: 0.1\n"
        "    milestones: [2, 3]\n  - !LinearWarmup\n    start_factor: 0.001\n    steps: 30\n"
    )
    (tmp_path / "det.yml").write_text(text)
    out, err = io.StringIO(), io.StringIO()
    assert (
        cli.main(
            ["export", "ppdet", "--config", str(tmp_path / "det.yml"), "--step-per-epoch", "20", "-n", "80"],
            out=out,
            err=err,
        )
        == 0
    ), err.getvalue()
    rows = list(csv.reader(io.StringIO(out.getvalue())))[1:]
    want = reference(
        0.01,
        [("PiecewiseDecay", dict(gamma=0.1, milestones=[2, 3])), ("LinearWarmup", dict(start_factor=0.001, steps=30))],
        20,
        80,
    )
    np.testing.assert_allclose([float(r[1]) for r in rows], want, rtol=1e-12)
    out, err = io.StringIO(), io.StringIO()
    assert (
        cli.main(
            ["explain", "ppdet", "--config", str(tmp_path / "det.yml"), "--step-per-epoch", "20", "--lang", "zh"],
            out=out,
            err=err,
        )
        == 0
    )
    assert "0.0001" in out.getvalue() and "（第 3 轮）" in out.getvalue() and "epoch 3" not in out.getvalue()
    (tmp_path / "other.yml").write_text("epoch: 12\n")
    err = io.StringIO()
    assert (
        cli.main(
            ["show", "ppdet", "--config", str(tmp_path / "other.yml"), "--step-per-epoch", "20"],
            out=io.StringIO(),
            err=err,
        )
        == 2
    )
    assert "no LearningRate section" in err.getvalue()
