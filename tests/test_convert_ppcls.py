"""PaddleClas's Optimizer.lr configs as lrkit schedules, against the values PaddleClas's own
``ppcls/optimizer/learning_rate.py`` gives (stored in tests/data/ppcls_reference.json by
tests/data/make_ppcls_reference.py, which runs that module as it is)."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

import lrkit as lk
from lrkit.convert.ppcls import from_ppcls

DATA = json.loads((pathlib.Path(__file__).parent / "data" / "ppcls_reference.json").read_text())


def test_the_reference_is_paddleclas_at_a_known_commit():
    assert DATA["source"].startswith("PaddleClas") and len(DATA["commit"]) == 40
    assert len(DATA["cases"]) >= 10


@pytest.mark.parametrize("name", list(DATA["cases"]))
def test_every_step_has_paddleclas_lr(name):
    case = DATA["cases"][name]
    s = from_ppcls(case["config"], case["epochs"], case["step_each_epoch"])
    ref = np.array(case["lrs"])
    got = s(np.arange(float(ref.size)))
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15 * ref.max(), err_msg=name)
    assert lk.from_dict(s.to_dict()) == s


def test_a_paddle_scheduler_from_the_config_resumes_mid_warmup():
    from lrkit.paddle import scheduler_from_ppcls as paddle_from_ppcls

    case = DATA["cases"]["cosine-warmup"]
    args = (case["config"], case["epochs"], case["step_each_epoch"])
    a = paddle_from_ppcls(*args)
    got = []
    for _ in range(50):  # inside the 3-epoch warmup (111 iterations)
        got.append(a())
        a.step()
    b = paddle_from_ppcls(*args)
    b.set_state_dict(a.state_dict())
    for _ in range(len(case["lrs"]) - 50):
        got.append(b())
        b.step()
    np.testing.assert_allclose(got, case["lrs"], rtol=1e-12)


def test_what_is_not_converted_says_why():
    with pytest.raises(ValueError, match="ReduceOnPlateau follows a metric"):
        from_ppcls({"name": "ReduceOnPlateau", "learning_rate": 0.1}, 10, 10)
    with pytest.raises(ValueError, match="step_each_epoch must be a whole number"):
        from_ppcls({"name": "Cosine", "learning_rate": 0.1}, 10, 0)
    with pytest.raises(ValueError, match="needs learning_rate"):
        from_ppcls({"name": "Cosine"}, 10, 10)


def test_the_command_line_reads_the_config_file(tmp_path):
    import csv
    import io

    from lrkit import cli

    case = DATA["cases"]["cosine-warmup"]
    cfg = case["config"]
    text = f"Global:\n  epochs: {case['epochs']}\nOptimizer:\n  name: Momentum\n  lr:\n" + "".join(
        f"    {k}: {v}\n" for k, v in cfg.items()
    )
    (tmp_path / "cls.yml").write_text(text)
    out, err = io.StringIO(), io.StringIO()
    n = len(case["lrs"])
    assert (
        cli.main(
            [
                "export",
                "ppcls",
                "--config",
                str(tmp_path / "cls.yml"),
                "--step-each-epoch",
                str(case["step_each_epoch"]),
                "-n",
                str(n),
            ],
            out=out,
            err=err,
        )
        == 0
    ), err.getvalue()
    rows = list(csv.reader(io.StringIO(out.getvalue())))[1:]
    np.testing.assert_allclose([float(r[1]) for r in rows], case["lrs"], rtol=1e-12, atol=1e-15)
    (tmp_path / "lr_only.yml").write_text("".join(f"{k}: {v}\n" for k, v in cfg.items()))
    err = io.StringIO()
    assert (
        cli.main(
            ["show", "ppcls", "--config", str(tmp_path / "lr_only.yml"), "--step-each-epoch", "10"],
            out=io.StringIO(),
            err=err,
        )
        == 2
    )
    assert "no Global.epochs: give --epochs" in err.getvalue()
