"""docs/coming-from.md: every row of its optax and fvcore tables, evaluated on both sides.

optax's schedules are closures (nothing to convert them from), so the page gives the
lrkit expression with the same values; these tests read the rows from the page itself,
so the page cannot drift from what is tested.
"""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest

import lrkit
from peer import assert_same_curve

PAGE = pathlib.Path(__file__).parent.parent / "docs" / "coming-from.md"


def rows(marker: str) -> list[tuple[str, str]]:
    text = PAGE.read_text(encoding="utf-8")
    block = text[text.index(f"<!-- {marker}"):]
    block = block[:block.index("\n\n", block.index("|---"))] if "\n\n" in block[block.index("|---"):] else block
    out = []
    for line in block.splitlines():
        m = re.fullmatch(r"\| `(.+)` \| `(.+)` \|", line.strip())
        if m:
            out.append((m.group(1), m.group(2)))
    return out


OPTAX = rows("optax-table")
FVCORE = rows("fvcore-table")


def test_the_tables_have_every_schedule_function():
    import optax

    names = {a.split("(")[0] for a, _ in OPTAX}
    for fn in ("constant_schedule", "linear_schedule", "polynomial_schedule", "exponential_decay",
               "cosine_decay_schedule", "warmup_cosine_decay_schedule", "warmup_constant_schedule",
               "warmup_exponential_decay_schedule", "piecewise_constant_schedule",
               "piecewise_interpolate_schedule", "linear_onecycle_schedule", "cosine_onecycle_schedule",
               "sgdr_schedule", "join_schedules"):
        assert hasattr(optax, fn) and f"optax.{fn}" in names, fn
    from fvcore.common import param_scheduler as P

    fv = {a.split("(")[0] for a, _ in FVCORE}
    public = {n for n in dir(P) if n.endswith("ParamScheduler") and n != "ParamScheduler"}
    assert public <= fv, public - fv


@pytest.mark.parametrize("peer,mine", OPTAX, ids=[a.split("(")[0] for a, _ in OPTAX])
def test_optax_row(peer, mine):
    import jax
    import optax

    with jax.enable_x64(True):
        f = eval(peer, {"optax": optax})
        ref = [float(f(np.int64(t))) for t in range(1500)]
    s = eval(mine, dict(vars(lrkit)))
    assert isinstance(s, lrkit.Schedule) and lrkit.from_dict(s.to_dict()) == s
    assert_same_curve(ref, s(np.arange(1500.0)).tolist(), peer)


@pytest.mark.parametrize("peer,mine", FVCORE, ids=[f"{i}-{a.split('(')[0]}" for i, (a, _) in enumerate(FVCORE)])
def test_fvcore_row(peer, mine):
    from fvcore.common import param_scheduler as P

    n = 1000
    f = eval(peer, {k: getattr(P, k) for k in dir(P) if k.endswith("ParamScheduler")})
    ref = [float(f(t / n)) for t in range(n)]
    s = eval(mine, dict(vars(lrkit)))
    assert isinstance(s, lrkit.Schedule) and lrkit.from_dict(s.to_dict()) == s
    assert_same_curve(ref, s(np.arange(float(n))).tolist(), peer)
