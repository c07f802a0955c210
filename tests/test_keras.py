"""lrkit.keras.ScheduleLR: every kind, model.fit on the jax and torch backends, .keras save/load."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402

import lrkit as lk  # noqa: E402
from lrkit import catalog  # noqa: E402
from lrkit.keras import ScheduleLR  # noqa: E402

HERE = pathlib.Path(__file__).parent
N = 1200


def f32(x):
    return np.asarray(x, dtype=np.float64).astype(np.float32).astype(np.float64)


@pytest.mark.parametrize("kind", sorted(lk.registered()))
def test_every_kind_gives_the_float32_rounding_of_lrkits_values(kind):
    s = catalog.example(kind)
    ref = s(np.arange(N, dtype=np.float64))
    lr = ScheduleLR(s, total_steps=N)
    got = np.array([float(lr(keras.ops.convert_to_tensor(k, dtype="int64"))) for k in range(N)])
    assert got.tolist() == f32(ref).tolist(), kind
    try:
        formula = ScheduleLR(s, method="formula")
    except ValueError as e:
        assert "cannot be traced" in str(e)
        return
    got = np.array([float(formula(k)) for k in range(0, N, 3)])
    assert np.abs(got - ref[::3]).max() <= 1e-6 * ref.max(), kind


def test_config_round_trip_and_registration():
    s = lk.WarmupCosine(0.1, 500, 50, min_lr=1e-4)
    lr = ScheduleLR(s, total_steps=None)
    cfg = lr.get_config()
    assert cfg["schedule"] == s.to_dict()
    again = ScheduleLR.from_config(cfg)
    assert again.schedule == s
    ser = keras.saving.serialize_keras_object(lr)
    back = keras.saving.deserialize_keras_object(ser)
    assert isinstance(back, ScheduleLR) and back.schedule == s
    assert ScheduleLR(s.to_dict()).schedule == s  # a config dict is taken as well


def test_bad_arguments():
    with pytest.raises(TypeError, match="schedule must be an lrkit Schedule"):
        ScheduleLR(0.1)
    with pytest.raises(ValueError, match="method must be one of"):
        ScheduleLR(lk.Constant(0.1), method="exact")
    assert "then the formula" in ScheduleLR(lk.CosineRestarts(0.1, 10)).runs  # no length needed (issue 21)
    with pytest.raises(ValueError, match="unknown"):
        ScheduleLR({"type": "cosin", "peak_lr": 0.1, "total_steps": 10})


@pytest.mark.parametrize("backend", ["jax", "torch", "tensorflow"])
def test_model_fit_applies_the_schedule_every_batch_and_resumes_from_a_saved_model(backend, tmp_path):
    env = dict(os.environ, KERAS_BACKEND=backend)
    out = subprocess.run(
        [sys.executable, str(HERE / "keras_worker.py"), str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=str(HERE),
    )
    assert out.returncode == 0, out.stderr[-3000:]
    d = json.loads((tmp_path / f"{backend}.json").read_text())
    sys.path.insert(0, str(HERE))
    try:
        import keras_worker as W
    finally:
        sys.path.pop(0)
    assert d["backend"] == backend and d["loaded_type"] == "ScheduleLR"
    assert d["loaded_spec"] == W.SCHEDULE.to_dict()
    rows = d["first"] + d["resumed"]
    assert [r[0] for r in rows] == list(range(3 * W.BATCHES))  # iterations go on after loading
    for k, lr, moved in rows:
        assert lr == f32(W.SCHEDULE(k)), (backend, k)  # what the optimizer reads: float32 of lrkit's value
        assert abs(moved - lr) <= 1e-6, (backend, k, moved, lr)  # what the update applied
