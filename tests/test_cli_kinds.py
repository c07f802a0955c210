"""Every built-in kind on the command line, with flags generated from its declaration."""

from __future__ import annotations

import io

import numpy as np
import pytest

import lrkit as lk
from lrkit import catalog, cli

flags = catalog.example_flags


# a recipe's name takes the original's options (tests/test_cli.py); every other kind its declared flags
KINDS = sorted(k for k in lk.registered() if k.replace("_", "-") not in cli.RECIPES)


def test_only_the_recipes_are_left_to_their_own_options():
    assert set(lk.registered()) - set(KINDS) == {"yolox_cos", "yolox_step", "torchvision_warmup", "cawb"}


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_runs_from_its_flags(kind):
    out, err = io.StringIO(), io.StringIO()
    for name in (kind, kind.replace("_", "-")):
        assert cli.main(["export", name, *flags(kind), "-n", "300", "--no-header"], out=out, err=err) == 0, (
            err.getvalue()
        )
        rows = [line.split(",") for line in out.getvalue().splitlines()]
        got = np.array([float(v) for _, v in rows])
        np.testing.assert_array_equal(got, catalog.example(kind)(np.arange(300.0)))
        out.truncate(0)
        out.seek(0)


def test_kind_flags_take_units_and_report_what_is_missing():
    out, err = io.StringIO(), io.StringIO()
    assert (
        cli.main(
            [
                "export",
                "cosine",
                "--peak-lr",
                "0.1",
                "--total-steps",
                "2ep",
                "--steps-per-epoch",
                "50",
                "-n",
                "3",
                "--no-header",
            ],
            out=out,
            err=err,
        )
        == 0
    )
    assert [float(r.split(",")[1]) for r in out.getvalue().split()] == lk.Cosine(0.1, 100)([0, 1, 2]).tolist()
    err = io.StringIO()
    assert cli.main(["show", "cosine", "--peak-lr", "0.1"], out=io.StringIO(), err=err) == 2
    assert "--total-steps" in err.getvalue() and err.getvalue().count("\n") == 1


def test_list_takes_either_spelling():
    for name in ("warmup-cosine", "warmup_cosine"):
        out = io.StringIO()
        assert cli.main(["list", name], out=out) == 0 and out.getvalue().startswith("warmup_cosine:")
