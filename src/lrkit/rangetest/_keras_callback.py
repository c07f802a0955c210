"""Keras 3 pieces of the range test: the state to put back, the learning-rate variable the
test drives, and :class:`RangeTestCallback` (``model.fit``). Imports keras: reached through
:mod:`lrkit.rangetest.keras`, which imports it only when used."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from .core import LossRecorder, RangeTest, RangeTestResult, resolve

__all__ = ["RangeTestCallback", "snapshot", "restore", "LearningRate", "accumulation", "micro_mean", "start_of"]


def optimizer_of(model: Any) -> Any:
    """The compiled model's optimizer, or a ``ValueError``."""
    opt = getattr(model, "optimizer", None)
    if opt is None:
        raise ValueError("model must be compiled (model.compile(optimizer=..., loss=...)) before the range test")
    return opt


def accumulation(opt: Any, accumulation_steps: int | None) -> int:
    """The micro-batches per update: the optimizer's ``gradient_accumulation_steps`` (1
    without). ``accumulation_steps``, when given, must be that number: Keras accumulates in
    the optimizer (its accumulators are made when it is built), the test only groups the
    micro-batches. The optimizer must be at the start of an accumulation cycle."""
    k = int(getattr(opt, "gradient_accumulation_steps", None) or 1)
    if accumulation_steps is not None:
        if not isinstance(accumulation_steps, int) or isinstance(accumulation_steps, bool) or accumulation_steps < 1:
            raise ValueError(f"accumulation_steps must be an int >= 1, got {accumulation_steps!r}")
        if accumulation_steps != k:
            raise ValueError(
                f"accumulation_steps={accumulation_steps!r} but the optimizer accumulates over {k} "
                f"micro-batch(es) (gradient_accumulation_steps={getattr(opt, 'gradient_accumulation_steps', None)!r}): "
                "compile with keras.optimizers.<Optimizer>(..., gradient_accumulation_steps=N) to accumulate"
            )
    if k > 1 and opt.built:
        done = int(np.asarray(keras.ops.convert_to_numpy(opt._iterations)))
        if done % k:
            raise ValueError(
                f"the optimizer is {done % k} micro-batch(es) into an accumulation of gradient_accumulation_steps={k} "
                f"(its micro-step count is {done}): start the range test at the start of an update"
            )
    return k


def keras_floatx() -> str:
    return keras.config.floatx()


def micro_mean(losses: list[Any], dtype: Any) -> float:
    """The loss of an update of ``k = len(losses)`` micro-batches: ``l_0 / k + ... + l_(k-1) / k``
    summed in order in ``dtype`` (the loss's), as the torch helper sums its divided losses;
    the loss itself when ``k == 1``."""
    if len(losses) == 1:
        return float(losses[0])
    dt = np.dtype(dtype)
    k = dt.type(len(losses))
    total = dt.type(losses[0]) / k
    for v in losses[1:]:
        total = total + dt.type(v) / k
    return float(total)


def snapshot(model: Any) -> list[tuple[Any, np.ndarray]]:
    """Copies of every model variable (weights, non-trainable state, seed generators), every
    optimizer variable (iteration count, lr, slots, accumulators) and the compiled metrics'
    variables. An optimizer not built yet is built first, so its slots exist to be restored."""
    opt = optimizer_of(model)
    if not opt.built:
        opt.build(model.trainable_variables)
    tracked = list(model.variables) + list(opt.variables) + list(getattr(model, "metrics_variables", []))
    return [(v, np.array(keras.ops.convert_to_numpy(v), copy=True)) for v in tracked]


def restore(saved: list[tuple[Any, np.ndarray]]) -> None:
    """Put the values :func:`snapshot` copied back (the same variable objects)."""
    for v, s in saved:
        v.assign(s)


def start_of(opt: Any) -> float:
    """The optimizer's lr now (a schedule's value at the current iteration)."""
    return float(np.asarray(keras.ops.convert_to_numpy(opt.learning_rate)))


class LearningRate:
    """The variable the optimizer reads its lr from during the test.

    A float lr is already a variable of the optimizer's. A ``LearningRateSchedule`` is
    replaced, for the test, by a new ``floatx`` variable tracked as one of the optimizer's
    variables (so a compiled train step, JAX's included, takes it as an input rather than a
    constant), and the train function is rebuilt; :meth:`close` puts the schedule back,
    drops the variable and rebuilds the train function again.
    """

    def __init__(self, model: Any) -> None:
        self.model = model
        self.opt = opt = optimizer_of(model)
        self.orig = opt._learning_rate
        self.schedule = isinstance(self.orig, keras.optimizers.schedules.LearningRateSchedule)
        if self.schedule:
            self.var = keras.Variable(
                start_of(opt), dtype=keras.config.floatx(), trainable=False, name="range_test_learning_rate"
            )
            object.__setattr__(opt, "_learning_rate", self.var)
            opt._variables.append(self.var)
            self._rebuild()
        else:
            self.var = self.orig
        self.closed = False

    def _rebuild(self) -> None:
        if getattr(self.model, "train_function", None) is not None:
            self.model.make_train_function(force=True)

    def set(self, lr: float) -> None:
        self.var.assign(lr)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.schedule:
            object.__setattr__(self.opt, "_learning_rate", self.orig)
            self.opt._variables[:] = [v for v in self.opt._variables if v is not self.var]
            self._rebuild()


class _Run:
    """One ``fit``'s range test: the settings, the recorder, the state to put back."""

    def __init__(self, test: RangeTest, k: int, saved: list[tuple[Any, np.ndarray]], lr: LearningRate) -> None:
        self.test = test
        self.lrs = test.lrs()
        self.rec: LossRecorder = test.recorder()
        self.k = k
        self.saved = saved
        self.lr = lr
        self.pending: list[Any] = []
        self.reason: str | None = None
        self.dtype = keras.config.floatx()


class RangeTestCallback(keras.callbacks.Callback):
    """The LR range test as a ``model.fit`` callback::

        cb = RangeTestCallback(start_lr=1e-6, end_lr=1.0, num_iter=100)
        model.fit(x, y, batch_size=64, epochs=10, callbacks=[cb])   # stops itself
        cb.result.suggestion()

    Before each update the optimizer's lr is set to the sweep's (see
    :func:`lrkit.rangetest.sweep`; a ``LearningRateSchedule`` is replaced for the test).
    The recorded loss of an update is that batch's own loss: the compiled metrics are reset
    before each batch (as ``train_on_batch`` does), so ``logs["loss"]`` is the batch's mean
    loss and not ``fit``'s running mean over the epoch (the metrics ``fit`` shows are then
    per batch too). The run is :func:`lrkit.rangetest.keras.range_test`'s on the same batches,
    loss for loss. With an optimizer made with ``gradient_accumulation_steps=k``, an update
    is ``k`` batches at one lr and its loss ``sum(l_j / k)`` (in the loss's dtype).

    Training stops (``model.stop_training``) after ``num_iter`` updates, at divergence or
    at a non-finite loss; when ``fit`` runs out of epochs first, ``stop_reason`` says so.
    At the end of training (``on_train_end``) every model, optimizer and metric variable
    gets its value from before ``fit`` back, bit for bit, and ``cb.result`` is the
    :class:`lrkit.rangetest.RangeTestResult`.

    Keras does not call ``on_train_end`` when ``fit`` raises: use the callback as a context
    manager (``with cb: model.fit(...)``), which restores on the way out, or call
    :meth:`restore`. ``steps_per_execution`` must be 1 (the lr changes between batches).

    ``start_lr=None``: the optimizer's lr when training starts. ``test=``: a
    :class:`lrkit.rangetest.RangeTest` to run instead (e.g.
    :func:`lrkit.rangetest.from_deepspeed`'s); the sweep arguments are then left out.
    """

    def __init__(
        self,
        start_lr: float | None = None,
        end_lr: float = 10.0,
        num_iter: int = 100,
        step_mode: str = "exp",
        smooth_f: float | None = None,
        diverge_th: float | None = None,
        flavor: str = "torch-lr-finder",
        *,
        test: RangeTest | None = None,
        accumulation_steps: int | None = None,
    ) -> None:
        super().__init__()
        self._start = start_lr
        self._sweep: dict[str, Any] = {
            "end_lr": end_lr,
            "num_iter": num_iter,
            "step_mode": step_mode,
            "smooth_f": smooth_f,
            "diverge_th": diverge_th,
            "flavor": flavor,
        }
        self._test_arg = test
        if test is not None or start_lr is not None:  # check the settings now
            resolve(test, start_lr, **self._sweep)
        if accumulation_steps is not None and (
            not isinstance(accumulation_steps, int) or isinstance(accumulation_steps, bool) or accumulation_steps < 1
        ):
            raise ValueError(f"accumulation_steps must be an int >= 1, got {accumulation_steps!r}")
        self._accumulation = accumulation_steps
        #: the :class:`lrkit.rangetest.RangeTestResult`, once training has ended (``None`` before)
        self.result: RangeTestResult | None = None
        self._run: _Run | None = None

    # -- the run

    def _trained(self) -> Any:
        return self.model  # with JAX: the state synced first (Callback.model)

    def on_train_begin(self, logs: Any = None) -> None:
        model = self._trained()
        opt = optimizer_of(model)
        spe = getattr(model, "steps_per_execution", 1)
        if spe != 1:
            raise ValueError(
                f"RangeTestCallback needs steps_per_execution=1 (the lr changes between batches), got {spe!r}"
            )
        k = accumulation(opt, self._accumulation)
        start = start_of(opt) if self._start is None and self._test_arg is None else self._start
        test = resolve(self._test_arg, start, **self._sweep)
        self.result = None
        saved = snapshot(model)
        self._run = _Run(test, k, saved, LearningRate(model))

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        run = self._run
        if run is None:
            return
        model = self._trained()  # with JAX: the state synced, read back before the next batch
        i = len(run.rec)
        if i >= len(run.lrs):  # past the end (another callback cleared stop_training): not recorded
            model.stop_training = True
            return
        if not run.pending:
            run.lr.set(run.lrs[i])
        model.reset_metrics()

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        run = self._run
        if run is None or len(run.rec) >= len(run.lrs):
            return
        if not logs or "loss" not in logs:
            raise ValueError("RangeTestCallback needs the batch's 'loss' in the logs of model.fit")
        run.pending.append(logs["loss"])
        if len(run.pending) < run.k:
            return
        i = len(run.rec)
        loss = micro_mean(run.pending, run.dtype)
        run.pending = []
        if run.rec.record(run.lrs[i], loss):
            run.reason = run.rec.stop_reason
            self._trained().stop_training = True
        elif len(run.rec) == len(run.lrs):
            self._trained().stop_training = True

    def on_train_end(self, logs: Any = None) -> None:
        self.restore()

    def restore(self, stop_reason: str | None = None) -> RangeTestResult | None:
        """Put the model, the optimizer and the metrics back as they were before ``fit``
        and set :attr:`result` (a no-op when already done); returns :attr:`result`.
        ``stop_reason``: why the run ended, when it ended early for a reason of its own."""
        run, self._run = self._run, None
        if run is None:
            return self.result
        try:
            run.lr.close()
        finally:
            restore(run.saved)
        n = len(run.rec)
        reason = run.reason or stop_reason
        if reason is None and n < run.test.num_iter:
            reason = f"training ended after {n} updates (fit's epochs or steps ran out, or it raised)"
        self.result = run.test.result(run.rec, reason)
        return self.result

    def __enter__(self) -> RangeTestCallback:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        run = self._run
        if run is not None and exc is not None:
            self.restore(f"fit raised {type(exc).__name__} after {len(run.rec)} updates: {exc}")
        else:
            self.restore()
