"""The LR range test on a Paddle model and optimizer (paddle imported when called).

:func:`range_test` is :func:`lrkit.rangetest.torch.range_test` for ``paddle.nn.Layer``
and ``paddle.optimizer.Optimizer``: the same sweep, recorder and update (``clear_grad``;
``loss_fn(model(inputs), labels) / accumulation_steps``, ``backward`` per batch;
``step``), the lr set with ``set_lr`` (an attached ``LRScheduler`` is set aside for the
test and put back after).

Afterwards the model and optimizer are as before, bit for bit: parameters and buffers
(``set_state_dict`` of copies), each sublayer's train/eval mode, every parameter's
``.grad``, the optimizer's accumulators (moments, beta powers, master weights: the ones
that existed get their values back in place, the ones the test created are dropped, so
they are created afresh at the next real step as they would have been), its learning
rate (float or scheduler, and its global lr tensor), Paddle's unique-name counters (the
accumulators made afresh get the names they would have had: a checkpoint keeps its keys),
and (``restore_rng=True``) Paddle's random generator state. Also when the loss is NaN or the user's code raises.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .core import RangeTest, RangeTestResult, batches, resolve

__all__ = ["range_test", "snapshot", "restore"]


def _copy(t: Any) -> Any:
    return t.detach().clone()


def _name_counters() -> tuple[Any, dict[str, int]] | None:
    """Paddle's unique-name counters: accumulators made afresh after the test then get the
    names they would have had (``..._moment1_0``), so checkpoints keep their keys."""
    try:
        from paddle.base import unique_name
    except ImportError:  # pragma: no cover - other Paddle layouts
        return None
    gen = unique_name.generator
    return gen, dict(gen.ids)


def snapshot(model: Any, optimizer: Any, rng: bool = True) -> dict[str, Any]:
    """Copies of everything a training update changes (see the module docstring)."""
    import paddle

    params = list(model.parameters())
    snap: dict[str, Any] = {
        "model": {k: _copy(v) for k, v in model.state_dict().items()},
        "modes": [(m, m.training) for m in model.sublayers(include_self=True)],
        "grads": [(p, None if p.grad is None else _copy(p.grad)) for p in params],
        "acc": {name: {pn: _copy(v) for pn, v in d.items()} for name, d in optimizer._accumulators.items()},
        "created": set(getattr(optimizer, "_already_create_accumulator", set())),
        "master": {k: _copy(v) for k, v in getattr(optimizer, "_master_weights", {}).items()},
        "lr": optimizer._learning_rate,
        "lr_map": {k: _copy(v) for k, v in optimizer._learning_rate_map.items()},
        "holder": dict(getattr(optimizer, "_accumulators_holder", {})),
        "names": _name_counters(),
    }
    if rng:
        snap["rng"] = paddle.get_rng_state()
    return snap


def restore(model: Any, optimizer: Any, snap: dict[str, Any]) -> None:
    """Put back what :func:`snapshot` copied (in place where the objects existed)."""
    import paddle

    model.set_state_dict(snap["model"])
    for m, training in snap["modes"]:
        m.training = training
    for p, g in snap["grads"]:
        if g is None:
            p.clear_gradient(False)
        elif p.grad is not None:
            p.grad.set_value(g)
        else:
            p._set_grad_ivar(g)
    saved = snap["acc"]
    for name in list(optimizer._accumulators):
        d = optimizer._accumulators[name]
        for pn in list(d):
            if name in saved and pn in saved[name]:
                d[pn].set_value(saved[name][pn])
            else:
                del d[pn]
        if not d and name not in saved:
            del optimizer._accumulators[name]
    if hasattr(optimizer, "_already_create_accumulator"):
        optimizer._already_create_accumulator.clear()
        optimizer._already_create_accumulator.update(snap["created"])
    master = getattr(optimizer, "_master_weights", None)
    if master is not None:
        for k in list(master):
            if k in snap["master"]:
                master[k].set_value(snap["master"][k])
            else:
                del master[k]
    optimizer._learning_rate = snap["lr"]
    for k in list(optimizer._learning_rate_map):
        if k in snap["lr_map"]:
            optimizer._learning_rate_map[k].set_value(snap["lr_map"][k])
        else:
            del optimizer._learning_rate_map[k]
    if hasattr(optimizer, "_accumulators_holder"):
        optimizer._accumulators_holder = dict(snap["holder"])
    if snap["names"] is not None:
        gen, ids = snap["names"]
        gen.ids.clear()
        gen.ids.update(ids)
    if "rng" in snap:
        paddle.set_rng_state(snap["rng"])


def range_test(
    model: Any,
    optimizer: Any,
    loss_fn: Callable[[Any, Any], Any] | None = None,
    data: Iterable[Any] | None = None,
    *,
    step: Callable[[Any], Any] | None = None,
    start_lr: float | None = None,
    end_lr: float = 10.0,
    num_iter: int = 100,
    step_mode: str = "exp",
    smooth_f: float | None = None,
    diverge_th: float | None = None,
    accumulation_steps: int = 1,
    flavor: str = "torch-lr-finder",
    restore_rng: bool = True,
    test: RangeTest | None = None,
) -> RangeTestResult:
    """Run the LR range test on a Paddle ``model`` / ``optimizer`` / ``data`` and restore them.

    The arguments are :func:`lrkit.rangetest.torch.range_test`'s; ``start_lr=None`` starts
    from the optimizer's lr (``get_lr()``; param groups scale it by their own
    ``learning_rate`` factor, as in training). ``test=``: a :class:`lrkit.rangetest.RangeTest`
    to run instead of the sweep arguments' (e.g. :func:`lrkit.rangetest.from_deepspeed`'s).
    """
    import paddle

    if loss_fn is None and step is None:
        raise TypeError("range_test needs loss_fn (loss_fn(model(inputs), labels)) or step= (step(batch) -> loss)")
    if loss_fn is not None and step is not None:
        raise TypeError("give loss_fn or step=, not both")
    if data is None:
        raise TypeError("range_test needs data: an iterable of batches")
    if not isinstance(accumulation_steps, int) or isinstance(accumulation_steps, bool) or accumulation_steps < 1:
        raise ValueError(f"accumulation_steps must be an int >= 1, got {accumulation_steps!r}")
    if not isinstance(optimizer, paddle.optimizer.Optimizer):
        raise TypeError(f"optimizer must be a paddle.optimizer.Optimizer, got {type(optimizer).__name__}")
    a = float(optimizer.get_lr()) if start_lr is None and test is None else start_lr
    test = resolve(test, a, end_lr, num_iter, step_mode, smooth_f, diverge_th, flavor)

    def forward(batch: Any) -> Any:
        if step is not None:
            return step(batch)
        if not isinstance(batch, (list, tuple)) or len(batch) < 2:
            raise ValueError(
                f"with loss_fn, each batch must be (inputs, labels, ...), got {type(batch).__name__}; "
                "use step= for other batches"
            )
        if loss_fn is None:  # refused on entry: loss_fn or step is given
            raise TypeError("range_test needs loss_fn= or step=")
        return loss_fn(model(batch[0]), batch[1])

    def update(i: int, lr: float) -> float:
        optimizer.set_lr(lr)
        optimizer.clear_grad()
        if accumulation_steps == 1:
            loss = forward(next_batch())
            loss.backward()
            optimizer.step()
            return float(loss)
        total = None
        for _ in range(accumulation_steps):
            loss = forward(next_batch()) / accumulation_steps
            loss.backward()
            total = loss.detach() if total is None else total + loss.detach()
        optimizer.step()
        if total is None:  # accumulation_steps >= 2: the loop ran
            raise RuntimeError("no loss accumulated")
        return float(total)

    snap = snapshot(model, optimizer, rng=restore_rng)  # first: iter(data) may draw random numbers
    try:
        next_batch = batches(data)
        optimizer._learning_rate = float(test.start_lr)  # a float for set_lr (a scheduler comes back in restore)
        model.train()
        return test.run(update)
    finally:
        restore(model, optimizer, snap)
