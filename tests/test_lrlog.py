"""LRLogger: the CSV rows and the TensorBoard scalars hold the lrs the optimizer really had."""

from __future__ import annotations

import csv
import sys

import numpy as np
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

import lrkit as lk
from lrkit.lrlog import LRLogger
from lrkit.torch import ScheduleLR


def _run(tmp_path, steps=30):
    w0, w1 = torch.zeros(2, requires_grad=True), torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([{"params": [w0]}, {"params": [w1], "lr": 0.02}], lr=0.1)
    sched = ScheduleLR(opt, lk.WarmupCosine(peak_lr=1.0, total_steps=20, warmup_steps=5, min_lr=0.01))
    seen = []
    with LRLogger(tmp_path / "lr.csv", tensorboard_dir=tmp_path / "tb", tag="lr") as log:
        for step in range(steps):
            seen.append([g["lr"] for g in opt.param_groups])  # what this step applies
            log.log(step, opt)
            opt.step()
            sched.step()
    return seen


def test_tensorboard_scalars_are_written_and_read_back(tmp_path):
    seen = _run(tmp_path)
    acc = EventAccumulator(str(tmp_path / "tb"), size_guidance={"scalars": 0})
    acc.Reload()
    assert sorted(acc.Tags()["scalars"]) == ["lr/group0", "lr/group1"]
    for g in (0, 1):
        events = acc.Scalars(f"lr/group{g}")
        assert [e.step for e in events] == list(range(len(seen)))
        # TensorBoard stores scalars as float32: each one is the float32 of the applied lr.
        assert [e.value for e in events] == [float(np.float32(v[g])) for v in seen]
    # The CSV keeps the full float64 values.
    with open(tmp_path / "lr.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(int(r["step"]), int(r["group"]), float(r["lr"])) for r in rows] == [
        (s, g, v[g]) for s, v in enumerate(seen) for g in (0, 1)
    ]
    # the schedule really moved: warmup up, then cosine down, group ratio kept
    lrs0 = [v[0] for v in seen]
    assert lrs0[0] == 0.0 and max(lrs0) == 0.1 and lrs0[-1] == pytest.approx(0.001)
    assert all(v[1] == pytest.approx(v[0] * 0.2, rel=1e-15, abs=0) for v in seen)


def test_tensorboard_missing_is_a_clear_import_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # as if tensorboard were not installed
    with pytest.raises(ImportError, match="pip install tensorboard"):
        LRLogger(tmp_path / "lr.csv", tensorboard_dir=tmp_path / "tb")
    assert not (tmp_path / "lr.csv").exists()
