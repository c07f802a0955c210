"""A tiny Keras 3 training run with lrkit.keras.ScheduleLR (launched by test_keras.py, one
process per backend, since Keras picks its backend at import).

    KERAS_BACKEND=jax python tests/keras_worker.py OUT_DIR

``model.fit`` runs two epochs of 25 batches with SGD(learning_rate=ScheduleLR(...)); a
callback reads the optimizer's ``iterations`` and ``learning_rate`` at the start of every
batch (the lr that batch's update applies) and the change of a probe weight whose
gradient is 1 (the loss is the mean prediction, which the probe shifts: the update
moves it by exactly -lr). The model is saved to ``.keras``,
loaded back in a fresh model object, and trained one more epoch. Everything read is
written to ``OUT_DIR/<backend>.json``.
"""

from __future__ import annotations

import json
import os
import sys

import keras
import numpy as np

import lrkit as lk
from lrkit.keras import ScheduleLR

SCHEDULE = lk.WarmupCosine(peak_lr=0.05, total_steps=75, warmup_steps=10, min_lr=1e-4)
BATCHES = 25


@keras.saving.register_keras_serializable(package="lrkit_tests")
class Probe(keras.layers.Layer):
    """Adds the scalar weight ``w`` to its input: with the loss ``mean(prediction)``, the
    gradient of ``w`` is exactly 1."""

    def build(self, shape):
        self.w = self.add_weight(shape=(), initializer="zeros", name="probe")

    def call(self, x):
        return x + self.w


@keras.saving.register_keras_serializable(package="lrkit_tests")
def mean_prediction(y_true, y_pred):
    return keras.ops.mean(y_pred)


class Record(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.rows = []
        self._before = None

    def on_train_batch_begin(self, batch, logs=None):
        opt = self.model.optimizer
        self._before = float(keras.ops.convert_to_numpy(self.model.probe.w))
        self._row = [
            int(keras.ops.convert_to_numpy(opt.iterations)),
            float(keras.ops.convert_to_numpy(opt.learning_rate)),
        ]

    def on_train_batch_end(self, batch, logs=None):
        moved = float(keras.ops.convert_to_numpy(self.model.probe.w)) - self._before
        self.rows.append(self._row + [-moved])


def build():
    inp = keras.Input((4,))
    probe = Probe()
    out = probe(keras.layers.Dense(1)(inp))
    model = keras.Model(inp, out)
    model.probe = probe
    return model


def main(out_dir: str) -> None:
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(BATCHES * 8, 4)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model = build()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=ScheduleLR(SCHEDULE)), loss=mean_prediction)
    rec = Record()
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0, callbacks=[rec])
    path = os.path.join(out_dir, f"{keras.backend.backend()}.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    loaded.probe = [layer for layer in loaded.layers if isinstance(layer, Probe)][0]
    sched = loaded.optimizer._learning_rate
    rec2 = Record()
    loaded.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0, callbacks=[rec2])
    result = {
        "backend": keras.backend.backend(),
        "floatx": keras.config.floatx(),
        "first": rec.rows,
        "resumed": rec2.rows,
        "loaded_type": type(sched).__name__,
        "loaded_spec": sched.get_config()["schedule"],
    }
    with open(os.path.join(out_dir, f"{keras.backend.backend()}.json"), "w") as fh:
        json.dump(result, fh)


if __name__ == "__main__":
    main(sys.argv[1])
