"""The LR range test on a compiled Keras 3 model (keras imported when called).

:func:`range_test` runs ``model.train_on_batch`` once per update (the model's own compiled
loss, regularization losses and train function, any backend), the optimizer's learning
rate set before each update (its ``learning_rate`` variable; a ``LearningRateSchedule``
is replaced by a variable for the test and put back after). The recorded loss is
``train_on_batch``'s ``"loss"`` (metrics reset each update: that batch's loss). Keras
keeps the lr in a ``floatx`` variable: the optimizer runs at ``float32(lr)``; the recorded
``lrs`` are the sweep's float64 values.

Gradient accumulation is the optimizer's: compiled with
``keras.optimizers.Adam(..., gradient_accumulation_steps=k)``, an update is ``k``
``train_on_batch`` calls at one lr (Keras applies the mean gradient at the ``k``-th) and
its loss is ``l_0 / k + ... + l_(k-1) / k`` summed in order in the loss's dtype, as the torch
and Paddle helpers sum theirs.

:class:`RangeTestCallback` is the same test inside ``model.fit`` (a
``keras.callbacks.Callback``)::

    cb = RangeTestCallback(start_lr=1e-6, end_lr=1.0, num_iter=100)
    model.fit(x, y, batch_size=64, epochs=5, callbacks=[cb])
    cb.result.suggestion()

Afterwards every model variable (weights, non-trainable state, the dropout seed
generators' states), every optimizer variable (iteration count, lr, slots) and the
compiled metrics' variables hold their values from before, bit for bit, also when the
loss is NaN or the user's data raises. An optimizer not built yet is built first
(``optimizer.build(model.trainable_variables)``: the zero slots a first ``fit`` would
make), so its slots exist to be restored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .core import RangeTest, RangeTestResult, batches, resolve

if TYPE_CHECKING:
    from ._keras_callback import RangeTestCallback as RangeTestCallback

__all__ = ["range_test", "RangeTestCallback"]


def __getattr__(name: str) -> Any:
    if name == "RangeTestCallback":  # a keras.callbacks.Callback: keras imported on first use
        from ._keras_callback import RangeTestCallback

        globals()[name] = RangeTestCallback
        return RangeTestCallback
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    accumulation_steps: int | None = None,
    test: RangeTest | None = None,
) -> RangeTestResult:
    """Run the LR range test on a compiled Keras ``model`` and restore it.

    * ``data``: an iterable of batches ``(x, y)`` or ``(x, y, sample_weight)`` (re-iterated
      when exhausted; a one-shot iterator that runs out ends the test), or arrays
      ``x=``, ``y=`` cut into ``batch_size`` batches in order.
    * ``start_lr=None``: the optimizer's current lr. The other arguments are
      :class:`lrkit.rangetest.RangeTest`'s; ``test=`` runs a given ``RangeTest`` instead
      (e.g. :func:`lrkit.rangetest.from_deepspeed`'s).
    * ``accumulation_steps``: micro-batches per update; ``None`` takes the optimizer's
      ``gradient_accumulation_steps`` (a number given must equal it).
    """
    from ._keras_callback import LearningRate, accumulation, keras_floatx, micro_mean, optimizer_of, snapshot, start_of
    from ._keras_callback import restore as put_back

    opt = optimizer_of(model)
    if data is None and x is None:
        raise TypeError("range_test needs data (an iterable of (x, y) batches) or x=, y= arrays")
    if data is not None and x is not None:
        raise TypeError("give data or x=/y=, not both")
    if data is None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
        data = _array_batches(x, y, batch_size)
    a = start_of(opt) if start_lr is None and test is None else start_lr
    rt = resolve(test, a, end_lr, num_iter, step_mode, smooth_f, diverge_th, flavor)
    k = accumulation(opt, accumulation_steps)
    dtype = keras_floatx()

    saved = snapshot(model)
    lr: LearningRate | None = None

    def update(i: int, value: float) -> float:
        if lr is None:  # set below, before the test runs
            raise RuntimeError("the range test's learning rate variable is not set")
        lr.set(value)
        losses = []
        for _ in range(k):
            b = next_batch()
            if not isinstance(b, (list, tuple)) or not 1 <= len(b) <= 3:
                raise ValueError(f"each batch must be (x, y) or (x, y, sample_weight), got {type(b).__name__}")
            losses.append(model.train_on_batch(*b, return_dict=True)["loss"])
        return micro_mean(losses, dtype)

    try:
        next_batch = batches(data)
        lr = LearningRate(model)
        return rt.run(update)
    finally:
        try:
            if lr is not None:
                lr.close()
        finally:
            put_back(saved)
