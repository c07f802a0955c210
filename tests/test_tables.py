"""lrkit.tables: compare and CSV writing, the library functions behind `lrkit compare` and `lrkit export`."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

import lrkit
from lrkit.tables import compare, comparison_table, write_csv


def test_compare_finds_the_first_and_the_largest_difference():
    a = lrkit.Linear(1.0, 100)
    b = lrkit.Sequence([lrkit.Linear(1.0, 100).hold_after(50), lrkit.Constant(0.25)], [80])
    x = np.arange(120.0)
    (same, diff) = compare([a, a, b], x)
    assert same.first is None and same.largest == 0
    ya, yb = a(x), b(x)
    k = int(np.argmax(np.abs(ya - yb)))
    assert diff.first == 51.0 and diff.at == x[k] and diff.largest == abs(ya[k] - yb[k])
    assert diff.reference == ya[k] and diff.value == yb[k]
    lines = comparison_table([same, diff])
    assert "identical" in lines[1] and lines[2].split()[1] == "51"


def test_compare_needs_two_schedules():
    with pytest.raises(ValueError, match="at least two"):
        compare([lrkit.Constant(1.0)], [0.0])
    with pytest.raises(TypeError, match="schedules\\[1\\]"):
        compare([lrkit.Constant(1.0), "cosine"], [0.0])


@pytest.mark.parametrize("bases", [None, [0.1, 0.01]])
def test_write_csv_reads_back_the_same_floats(bases):
    s = lrkit.WarmupCosine(peak_lr=0.3, total_steps=1000, warmup_steps=100, min_lr=1e-5)
    x = np.arange(0.0, 1000.0, 0.5)
    out = io.StringIO()
    seen = []
    n = write_csv(out, s, x, base_lrs=bases, progress=seen.append, chunk=256)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert n == len(rows) - 1 == x.size and sum(seen) == x.size
    assert rows[0] == (["position", "lr"] if bases is None else ["position", "group0", "group1"])
    got = np.array([[float(v) for v in r] for r in rows[1:]])
    assert got[:, 0].tolist() == x.tolist()
    want = s(x)
    cols = [want] if bases is None else [b * want for b in bases]
    for j, c in enumerate(cols, start=1):
        assert got[:, j].tolist() == c.tolist()
    whole = io.StringIO()
    write_csv(whole, s, np.arange(3.0), header=False)
    assert whole.getvalue().splitlines()[1].startswith("1,")
