"""The LR range test on a compiled Keras 3 model (keras imported when called).

:func:`range_test` runs ``model.train_on_batch`` once per update (the model's own compiled
loss, regularization losses and train function, any backend), the optimizer's learning
rate set before each update (its ``learning_rate`` variable; a ``LearningRateSchedule``
is replaced by a variable for the test and put back after). The recorded loss is
``train_on_batch``'s ``"loss"`` (metrics reset each update: that batch's loss). Keras
keeps the lr in a float32 variable: the optimizer runs at ``float32(lr)``; the recorded
``lrs`` are the sweep's float64 values.

Afterwards every model variable (weights, non-trainable state, the dropout seed
generators' states), every optimizer variable (iteration count, lr, slots) and the
compiled metrics' variables hold their values from before, bit for bit, also when the
loss is NaN or the user's data raises. An optimizer not built yet is built first
(``optimizer.build(model.trainable_variables)``: the zero slots a first ``fit`` would
make), so its slots exist to be restored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .core import RangeTest, RangeTestResult, batches

__all__ = ["range_test"]


def _array_batches(x: Any, y: Any, batch_size: int) -> list[tuple[Any, Any]]:
    n = len(x)
    return [(x[i : i + batch_size], None if y is None else y[i : i + batch_size]) for i in range(0, n, batch_size)]


def range_test(
    model: Any,
    data: Iterable[Any] | None = None,
    *,
    x: Any = None,
    y: Any = None,
    batch_size: int = 32,
    start_lr: float | None = None,
    end_lr: float = 10.0,
    num_iter: int = 100,
    step_mode: str = "exp",
    smooth_f: float | None = None,
    diverge_th: float | None = None,
    flavor: str = "torch-lr-finder",
) -> RangeTestResult:
    """Run the LR range test on a compiled Keras ``model`` and restore it.

    * ``data``: an iterable of batches ``(x, y)`` or ``(x, y, sample_weight)`` (re-iterated
      when exhausted; a one-shot iterator that runs out ends the test), or arrays
      ``x=``, ``y=`` cut into ``batch_size`` batches in order.
    * ``start_lr=None``: the optimizer's current lr. The other arguments are
      :class:`lrkit.rangetest.RangeTest`'s.
    """
    import keras

    if getattr(model, "optimizer", None) is None:
        raise ValueError("model must be compiled (model.compile(optimizer=..., loss=...)) before the range test")
    if data is None and x is None:
        raise TypeError("range_test needs data (an iterable of (x, y) batches) or x=, y= arrays")
    if data is not None and x is not None:
        raise TypeError("give data or x=/y=, not both")
    if data is None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
        data = _array_batches(x, y, batch_size)
    opt = model.optimizer
    lr_obj = opt._learning_rate
    schedule = isinstance(lr_obj, keras.optimizers.schedules.LearningRateSchedule)
    if start_lr is None:
        a = float(np.asarray(keras.ops.convert_to_numpy(opt.learning_rate)))
    else:
        a = start_lr
    test = RangeTest(a, end_lr, num_iter, step_mode, smooth_f, diverge_th, flavor)

    if not opt.built:
        opt.build(model.trainable_variables)
    tracked = list(model.variables) + list(opt.variables) + list(getattr(model, "metrics_variables", []))
    saved = [np.array(keras.ops.convert_to_numpy(v), copy=True) for v in tracked]
    lr_var = None

    def update(i: int, lr: float) -> float:
        if lr_var is None:  # set below, before the test runs
            raise RuntimeError("the range test's learning rate variable is not set")
        lr_var.assign(lr)
        b = next_batch()
        if not isinstance(b, (list, tuple)) or not 1 <= len(b) <= 3:
            raise ValueError(f"each batch must be (x, y) or (x, y, sample_weight), got {type(b).__name__}")
        logs = model.train_on_batch(*b, return_dict=True)
        return float(logs["loss"])

    try:
        next_batch = batches(data)
        if schedule:
            lr_var = keras.Variable(a, dtype="float32", trainable=False, name="range_test_learning_rate")
            object.__setattr__(opt, "_learning_rate", lr_var)  # not tracked: not one of the optimizer's variables
        else:
            lr_var = lr_obj
        return test.run(update)
    finally:
        if schedule:
            object.__setattr__(opt, "_learning_rate", lr_obj)
        for v, s in zip(tracked, saved):
            v.assign(s)
