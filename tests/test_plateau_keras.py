"""lrkit.keras.PlateauScheduleLR + PlateauCallback: a plan with reduce-on-plateau under model.fit.

Run with KERAS_BACKEND=jax in a subprocess (Keras picks its backend at import; the jax backend
compiles the train step, so a reduction that did not reach the compiled step would show):

* with a constant plan and ``Plateau.keras``, the learning rate of every batch and the change
  it made to a probe weight equal those under Keras' own ``ReduceLROnPlateau`` (==), for
  random metric sequences (injected as ``val_loss``) and for a real model's ``val_loss``;
* the schedule is traced the same number of times after several reductions as after the first
  epoch (no retracing per reduction);
* a model saved mid-patience / mid-cooldown and loaded with ``keras.models.load_model`` goes on
  exactly as an uninterrupted fit, and the realised schedule gives the learning rates applied.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import lrkit as lk

CI = bool(os.environ.get("CI"))
CASES = 6 if CI else 20
EPOCHS = 14

SCRIPT = r'''
import json, sys
import numpy as np
import keras, jax
import lrkit as lk
from lrkit.plateau import Plateau
from lrkit.keras import PlateauScheduleLR, PlateauCallback

cases = json.load(open(sys.argv[1]))
out = {}

@keras.saving.register_keras_serializable(package="lrkit_plateau_tests")
class Probe(keras.layers.Layer):
    def build(self, shape):
        self.w = self.add_weight(shape=(), initializer="zeros", name="probe")
    def call(self, x):
        return x + self.w

@keras.saving.register_keras_serializable(package="lrkit_plateau_tests")
def mean_prediction(y_true, y_pred):
    return keras.ops.mean(y_pred)

def num(x):
    return float(keras.ops.convert_to_numpy(x))

class Inject(keras.callbacks.Callback):
    """Puts metrics[epoch] into the logs as val_loss (later callbacks read the same dict)."""
    def __init__(self, metrics):
        super().__init__(); self.metrics = metrics
    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.metrics[epoch]

class Record(keras.callbacks.Callback):
    """Per batch: the optimizer's lr and the change of the probe weight (gradient 1: -lr)."""
    def __init__(self):
        super().__init__(); self.lrs, self.deltas = [], []
    def on_train_batch_begin(self, batch, logs=None):
        self.lrs.append(num(self.model.optimizer.learning_rate))
        if hasattr(self.model, "probe"):
            self.before = num(self.model.probe.w)
    def on_train_batch_end(self, batch, logs=None):
        if hasattr(self.model, "probe"):
            self.deltas.append(self.before - num(self.model.probe.w))

def probe_model(lr):
    inp = keras.Input((1,))
    probe = Probe()
    m = keras.Model(inp, probe(inp)); m.probe = probe
    m.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss=mean_prediction)
    return m

X = np.zeros((8, 1), "float32")

def probe_run(lr, cbs, epochs, model=None, initial_epoch=0):
    model = model or probe_model(lr)
    rec = Record()
    model.fit(X, X, batch_size=4, epochs=epochs, initial_epoch=initial_epoch, verbose=0, shuffle=False,
              callbacks=cbs + [rec])
    return model, rec

# 1. random metrics: ours (constant plan) against Keras' ReduceLROnPlateau
rows = []
for case in cases["random"]:
    kw, c, metrics = case["kw"], case["c"], case["metrics"]
    keras.utils.set_random_seed(0)
    _, theirs = probe_run(c, [Inject(metrics), keras.callbacks.ReduceLROnPlateau(monitor="val_loss", **kw)],
                          len(metrics))
    keras.utils.set_random_seed(0)
    sched = PlateauScheduleLR(lk.Constant(c), Plateau.keras(**kw))
    _, ours = probe_run(sched, [Inject(metrics), PlateauCallback()], len(metrics))
    real = sched.realised()
    rows.append(dict(theirs=[theirs.lrs, theirs.deltas], ours=[ours.lrs, ours.deltas],
                     realised=real.to_dict(), history=sched.history))
out["random"] = rows

# 2. a real model's val_loss
rng = np.random.default_rng(0)
xr = rng.standard_normal((64, 4)).astype("float32")
yr = (xr @ np.array([1.0, -2.0, 0.5, 0.0], "float32") + 0.3 * rng.standard_normal(64)).astype("float32")
def real_run(lr, cb):
    keras.utils.set_random_seed(1)
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    m.compile(optimizer=keras.optimizers.SGD(learning_rate=lr), loss="mse")
    rec = Record()  # reads through self.model (on jax: the state synced back to the variables)
    m.fit(xr[:48], yr[:48], validation_data=(xr[48:], yr[48:]), batch_size=16, epochs=16, verbose=0,
          shuffle=False, callbacks=[cb, rec])
    return rec.lrs, [np.asarray(w).tolist() for w in m.get_weights()]
kw = dict(factor=0.5, patience=1, min_delta=0.02, cooldown=1, min_lr=0.002)
out["real"] = dict(theirs=real_run(0.0625, keras.callbacks.ReduceLROnPlateau(monitor="val_loss", **kw)),
                   ours=real_run(PlateauScheduleLR(lk.Constant(0.0625), Plateau.keras(**kw)), PlateauCallback()))

# 3. traces and resume, with a decaying plan
traced = []
call = PlateauScheduleLR.__call__
def counting(self, step):
    traced.append(isinstance(keras.ops.convert_to_tensor(step), jax.core.Tracer))
    return call(self, step)
PlateauScheduleLR.__call__ = counting

res = cases["resume"]
plan = lk.from_dict(res["plan"])
kw, metrics, cut = res["kw"], res["metrics"], res["cut"]
keras.utils.set_random_seed(0)
sched = PlateauScheduleLR(plan, Plateau.keras(**kw))
model = probe_model(sched)
after_first = []
first = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs=None: after_first.append(sum(traced)) if e == 0 else None)
_, whole = probe_run(None, [Inject(metrics), PlateauCallback(), first], len(metrics), model=model)
out["traces"] = dict(after_first=after_first[0], at_end=sum(traced), changes=len(sched.history))
out["whole"] = dict(lrs=whole.lrs, deltas=whole.deltas, state=sched.policy.state_dict(),
                    history=sched.history, realised=sched.realised().to_dict(), scale=sched.scale)

keras.utils.set_random_seed(0)
sched2 = PlateauScheduleLR(plan, Plateau.keras(**kw))
m1, part1 = probe_run(sched2, [Inject(metrics), PlateauCallback()], cut)
saved_state = sched2.policy.state_dict()
path = sys.argv[2] + "/run.keras"
m1.save(path)
m2 = keras.models.load_model(path)
m2.probe = [l for l in m2.layers if isinstance(l, Probe)][0]
s2 = m2.optimizer._learning_rate
_, part2 = probe_run(None, [Inject(metrics), PlateauCallback()], len(metrics), model=m2, initial_epoch=cut)
out["resumed"] = dict(lrs=part1.lrs + part2.lrs, deltas=part1.deltas + part2.deltas, saved_state=saved_state,
                      state=s2.policy.state_dict(), history=s2.history, scale=s2.scale,
                      n_opt_vars=[len(m1.optimizer.variables), len(m2.optimizer.variables)],
                      loaded_type=type(s2).__name__)
json.dump(out, open(sys.argv[2] + "/out.json", "w"))
'''


def _cases(rng: np.random.Generator) -> dict:
    random = []
    for _ in range(CASES):
        kw = dict(
            factor=float(rng.choice([0.1, 0.5, 0.3, 0.7])),
            patience=int(rng.choice([0, 1, 2, 3])),
            min_delta=float(rng.choice([1e-4, 0.0, 0.05])),
            cooldown=int(rng.choice([0, 1, 2])),
            min_lr=float(rng.choice([0.0, 0.0, 1e-3, 0.01])),
        )
        kind = rng.integers(3)
        if kind == 0:
            m = rng.random(EPOCHS)
        elif kind == 1:
            m = np.linspace(1.0, 0.8, EPOCHS) + 0.03 * rng.standard_normal(EPOCHS)
        else:
            m = rng.choice([0.3, 0.5, 0.5, 0.7], EPOCHS)
        random.append(dict(kw=kw, c=float(rng.choice([0.5, 0.125, 1.0, 2.0**-5])), metrics=m.tolist()))
    # resume: improvements, then a plateau; the cut falls mid-patience (2 bad epochs of 3)
    metrics = [1.0, 0.9, 0.8, 0.85, 0.86, 0.87, 0.88, 0.7, 0.71, 0.72, 0.73, 0.74, 0.75, 0.76]
    resume = dict(
        plan=lk.WarmupCosine(peak_lr=0.1, total_steps=28, warmup_steps=4, min_lr=1e-3).to_dict(),
        kw=dict(factor=0.5, patience=3, min_delta=1e-4, cooldown=2, min_lr=1e-4),
        metrics=metrics,
        cut=5,
    )
    return dict(random=random, resume=resume)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plateau_keras")
    cases = _cases(np.random.default_rng(41))
    (tmp / "cases.json").write_text(json.dumps(cases))
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    r = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp / "cases.json"), str(tmp)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-4000:]
    return cases, json.loads((tmp / "out.json").read_text())


def test_constant_plan_is_kerass_reduce_lr_on_plateau_for_random_metrics(results):
    cases, out = results
    reduced = 0
    for case, row in zip(cases["random"], out["random"]):
        assert row["ours"][0] == row["theirs"][0], (case, row)  # the lr of every batch
        assert row["ours"][1] == row["theirs"][1], case  # what the compiled step applied
        reduced += len(row["history"]) > 0
        # the realised schedule (float64) rounds to the float32 lrs Keras applied
        real = lk.from_dict(row["realised"])
        steps = np.arange(len(row["ours"][0]))
        assert np.array_equal(np.float32(real(steps)), np.float32(row["ours"][0])), case
    assert reduced >= len(cases["random"]) // 2


def test_constant_plan_is_kerass_on_a_real_models_val_loss(results):
    _, out = results
    theirs, ours = out["real"]["theirs"], out["real"]["ours"]
    assert ours[0] == theirs[0]
    assert ours[1] == theirs[1]  # the same weights at the end
    assert len(set(ours[0])) >= 3  # at least two reductions


def test_no_retracing_per_reduction(results):
    _, out = results
    t = out["traces"]
    assert t["changes"] >= 2
    assert t["after_first"] >= 1 and t["at_end"] == t["after_first"]


def test_a_loaded_model_resumes_exactly(results):
    cases, out = results
    whole, resumed = out["whole"], out["resumed"]
    assert resumed["loaded_type"] == "PlateauScheduleLR"
    saved = resumed["saved_state"]
    assert saved["num_bad_epochs"] > 0 or saved["cooldown_counter"] > 0  # cut mid-patience or mid-cooldown
    assert resumed["lrs"] == whole["lrs"] and resumed["deltas"] == whole["deltas"]
    assert resumed["state"] == whole["state"] and resumed["scale"] == whole["scale"]
    assert [list(h) for h in resumed["history"]] == [list(h) for h in whole["history"]]
    assert resumed["n_opt_vars"][0] == resumed["n_opt_vars"][1]
    # the realised schedule is the plan times the reductions: its float32 values are the lrs applied
    real = lk.from_dict(whole["realised"])
    steps = np.arange(len(whole["lrs"]))
    plan = lk.from_dict(cases["resume"]["plan"])
    assert len(whole["history"]) >= 2
    assert np.array_equal(np.float32(real(steps)), np.float32(whole["lrs"]))
    assert not np.array_equal(np.float32(plan(steps)), np.float32(whole["lrs"]))


def test_direct_use_the_floor_from_the_first_reduction_and_bad_arguments():
    code = r"""
import keras, lrkit as lk
from lrkit.plateau import Plateau
from lrkit.keras import PlateauScheduleLR, PlateauCallback
for bad, word in [(lambda: PlateauScheduleLR(lk.Constant(0.1), {"factor": 0.5}), "flavor"),
                  (lambda: PlateauScheduleLR(lk.Constant(0.1), 0.5), "policy"),
                  (lambda: PlateauScheduleLR(lk.Constant(0.1), Plateau.timm()), "timm"),
                  (lambda: PlateauScheduleLR(lk.Constant(0.1), Plateau(lr=[1.0, 1.0])), "one group"),
                  (lambda: PlateauCallback(monitor=3), "monitor")]:
    try:
        bad()
    except (TypeError, ValueError) as e:
        assert word in str(e), (word, e)
    else:
        raise AssertionError(word)
import numpy as np
f32 = lambda x: float(np.float32(x))
val = lambda s, t: float(keras.ops.convert_to_numpy(s(t)))
plan = lk.Linear(0.1, 100)
s = PlateauScheduleLR(plan, Plateau.keras(patience=0, factor=0.5, min_lr=0.05))
assert val(s, 80) == f32(plan(80))  # below the floor: the plan runs as it is before a reduction
assert s.observe(1.0, 10) is False and s.observe(1.0, 20) is True  # patience 0: the 1st non-improvement
assert s.history == [(20, 0.5)] and s.scale == 0.5
for t in (10, 30, 80):  # from the reduction on, max(plan * m, floor)
    assert val(s, t) == f32(max(plan(t) * 0.5, 0.05)), t
real = s.realised()
assert [f32(real(t)) for t in (10, 19, 20, 30, 80)] == [f32(plan(10)), f32(plan(19)), f32(0.05), f32(0.05), f32(0.05)]
again = PlateauScheduleLR.from_config(s.get_config())
assert [val(again, t) for t in (10, 30, 80)] == [val(s, t) for t in (10, 30, 80)]
assert again.history == s.history and again.policy.state_dict() == s.policy.state_dict()
# torch's rule: a reduction decided at the floor (lr - new <= eps) leaves m alone
t = PlateauScheduleLR(lk.Constant(0.05), Plateau.torch(patience=0, min_lr=0.05))
assert t.observe(1.0, 1) is False and t.observe(1.0, 2) is True and t.history == [] and t.scale == 1.0
s = PlateauScheduleLR(lk.Constant(0.1), Plateau.keras(patience=0))
cfg = s.get_config()
cfg["state"] = {"flavor": "keras"}
try:
    PlateauScheduleLR.from_config(cfg)
except ValueError as e:
    assert "state" in str(e), e
else:
    raise AssertionError("state")
"""
    env = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
