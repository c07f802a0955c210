"""Train a small MLP on scikit-learn's digits with Keras 3 and an lrkit schedule.

    KERAS_BACKEND=jax python examples/train_digits_keras.py --epochs 30 --out runs/digits_keras

(jax is the default backend here; torch works the same.) Writes to --out: metrics.csv
(step, epoch, applied lr, loss: the running mean of the epoch that Keras reports), lr.csv (the optimizer's lr at the start of each batch:
the lr that batch's update applies), loss.png and lr.png. The schedule is the
optimizer's learning_rate through lrkit.keras.ScheduleLR, evaluated at the optimizer's
iterations inside model.fit; the same schedule runs in the PyTorch, Paddle and JAX
examples. Keras computes in float32: the applied lr is the float32 rounding of lrkit's value.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import digits_common as common  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

from lrkit.keras import ScheduleLR  # noqa: E402
from lrkit.lrlog import LRLogger  # noqa: E402


class LogLR(keras.callbacks.Callback):
    """The lr each batch applies (read before its update) and the batch's loss."""

    def __init__(self, lrlog: LRLogger, bar, limit: int, epoch_of: list[int]) -> None:
        super().__init__()
        self.lrlog, self.bar, self.limit, self.epoch_of = lrlog, bar, limit, epoch_of
        self.rows: list[tuple[int, int, float, float]] = []
        self._lr = 0.0

    def on_train_batch_begin(self, batch, logs=None):
        opt = self.model.optimizer
        step = int(keras.ops.convert_to_numpy(opt.iterations))
        self._step = step
        self._lr = self.lrlog.log(step, float(keras.ops.convert_to_numpy(opt.learning_rate)))[0]

    def on_train_batch_end(self, batch, logs=None):
        loss = float(logs["loss"]) if logs and "loss" in logs else float("nan")
        self.rows.append((self._step, self.epoch_of[0], self._lr, loss))
        common.set_postfix(self.bar, f"loss {loss:.3f} lr {self._lr:.4g}")
        self.bar.update(1)
        if len(self.rows) >= self.limit:
            self.model.stop_training = True

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_of[0] = epoch


def main() -> int:
    args = common.parse_args("Keras")
    os.makedirs(args.out, exist_ok=True)
    keras.utils.set_random_seed(common.SEED)
    xtr, ytr, xte, yte = common.load_data()
    spe = common.steps_per_epoch(len(xtr))
    total = args.epochs * spe
    schedule = common.make_schedule(total)

    model = keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(common.HIDDEN, activation="relu"), keras.layers.Dense(10)]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=ScheduleLR(schedule), momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    limit = total if args.max_steps is None else min(total, args.max_steps)
    with LRLogger(os.path.join(args.out, "lr.csv")) as lrlog:
        bar = common.bar(limit, "keras digits")
        cb = LogLR(lrlog, bar, limit, [0])
        try:
            # the same batches, in the same order, as the other examples
            for epoch in range(args.epochs):
                order = np.concatenate(list(common.batches(len(xtr), epoch)))
                cb.epoch_of[0] = epoch
                model.fit(
                    xtr[order], ytr[order], batch_size=common.BATCH, epochs=1, shuffle=False, verbose=0, callbacks=[cb]
                )
                if len(cb.rows) >= limit:
                    break
        finally:
            bar.close()
    rows = cb.rows
    acc = float((np.asarray(model.predict(xte, verbose=0)).argmax(1) == yte).mean())
    common.finish(args, rows, schedule, spe, "Keras", acc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
