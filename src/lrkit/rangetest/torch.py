"""The LR range test on a PyTorch model and optimizer (torch imported when called).

:func:`range_test` trains ``model`` with ``optimizer`` on ``data`` for at most
``num_iter`` updates at the sweep's learning rates (:func:`lrkit.rangetest.sweep`, set
on every param group), then puts everything back as it was: parameters and buffers
(``load_state_dict`` of a deep copy, in place), the optimizer's state and param groups
(the same dict objects, updated in place), each module's train/eval mode, the ``.grad``
of every parameter, and (``restore_rng=True``) torch's random generators. The model then
trains on exactly as if the test had never run. This holds when the test stops at a NaN,
and when the user's code raises (the exception propagates after the restore).

An update is torch-lr-finder's ``_train_batch``: ``zero_grad``; for each of
``accumulation_steps`` batches, ``loss = loss_fn(model(inputs), labels) /
accumulation_steps`` (or ``step(batch) / accumulation_steps``), ``backward``; then
``optimizer.step()``; the recorded loss is the float32 sum of the divided losses.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import Any

from .core import RangeTest, RangeTestResult, batches, resolve

__all__ = ["range_test", "snapshot", "restore"]


def snapshot(model: Any, optimizer: Any, rng: bool = True) -> dict[str, Any]:
    """Deep copies of everything a training update changes (see the module docstring)."""
    import torch

    params = list(model.parameters())
    seen = {id(p) for p in params}
    for g in optimizer.param_groups:
        for p in g["params"]:
            if id(p) not in seen:
                params.append(p)
                seen.add(id(p))
    snap: dict[str, Any] = {
        "model": copy.deepcopy(model.state_dict()),
        "modes": [(m, m.training) for m in model.modules()],
        "grads": [(p, None if p.grad is None else p.grad.detach().clone()) for p in params],
        "groups": [(g, {k: copy.deepcopy(v) for k, v in g.items() if k != "params"}) for g in optimizer.param_groups],
        "state": {p: copy.deepcopy(s) for p, s in optimizer.state.items()},
        "opt_extra": {k: copy.deepcopy(v) for k, v in vars(optimizer).items() if k in ("_step_count", "_opt_called")},
    }
    if rng:
        snap["rng"] = torch.get_rng_state()
        snap["cuda_rng"] = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
    return snap


def restore(model: Any, optimizer: Any, snap: dict[str, Any]) -> None:
    """Put back what :func:`snapshot` copied (in place: the same parameter, group and
    state objects stay valid)."""
    import torch

    model.load_state_dict(snap["model"])
    for m, training in snap["modes"]:
        m.training = training
    with torch.no_grad():
        for p, g in snap["grads"]:
            p.grad = g
    for g, saved in snap["groups"]:
        params = g["params"]
        g.clear()
        g.update(saved)
        g["params"] = params
    optimizer.state.clear()
    optimizer.state.update(snap["state"])
    for k, v in snap["opt_extra"].items():
        setattr(optimizer, k, v)
    if "rng" in snap:
        torch.set_rng_state(snap["rng"])
        if snap["cuda_rng"] is not None:
            torch.cuda.set_rng_state_all(snap["cuda_rng"])


def _move(obj: Any, device: Any) -> Any:
    if device is None:
        return obj
    if hasattr(obj, "to"):
        return obj.to(device)
    if isinstance(obj, (list, tuple)):
        return type(obj)(_move(o, device) for o in obj)
    if isinstance(obj, dict):
        return {k: _move(v, device) for k, v in obj.items()}
    return obj


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
    device: Any = None,
    restore_rng: bool = True,
    test: RangeTest | None = None,
) -> RangeTestResult:
    """Run the LR range test on ``model`` / ``optimizer`` / ``data`` and restore them.

    * ``loss_fn(outputs, labels)`` with batches ``(inputs, labels, ...)`` (torch-lr-finder's
      convention), or ``step(batch) -> loss`` (a scalar tensor; forward and loss only: the
      backward and the optimizer step are done here).
    * ``data``: re-iterated when exhausted (a DataLoader, a list of batches); a one-shot
      iterator that runs out ends the test (``stop_reason`` says so).
    * ``start_lr=None``: each param group sweeps from its own lr (torch-lr-finder);
      otherwise every group from ``start_lr``. The recorded lr is group 0's.
    * ``step_mode``: ``"exp"`` or ``"linear"``; ``flavor``: ``"torch-lr-finder"`` or
      ``"lightning"`` (the lr sequence, smoothing and stop rule of each, see
      :mod:`lrkit.rangetest.core`); ``smooth_f`` / ``diverge_th`` default to the flavor's.
    * ``device``: batches are moved there (``.to(device)``) when given.
    * ``test``: a :class:`lrkit.rangetest.RangeTest` to run instead of the sweep arguments'
      (e.g. :func:`lrkit.rangetest.from_deepspeed`'s): every group follows its lrs, or each
      its own schedule (``RangeTest.from_schedule(..., group_schedules=...)``).
    """
    import torch

    if loss_fn is None and step is None:
        raise TypeError("range_test needs loss_fn (loss_fn(model(inputs), labels)) or step= (step(batch) -> loss)")
    if loss_fn is not None and step is not None:
        raise TypeError("give loss_fn or step=, not both")
    if data is None:
        raise TypeError("range_test needs data: an iterable of batches")
    if not isinstance(accumulation_steps, int) or isinstance(accumulation_steps, bool) or accumulation_steps < 1:
        raise ValueError(f"accumulation_steps must be an int >= 1, got {accumulation_steps!r}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
    groups = optimizer.param_groups
    per_group: list[list[float] | None]
    if test is not None:
        test = resolve(test, start_lr, end_lr, num_iter, step_mode, smooth_f, diverge_th, flavor)
        own = test.groups_lrs(len(groups))
        per_group = [None] * len(groups) if own is None else list(own)
    else:
        if start_lr is None:
            starts = [float(g["lr"]) for g in groups]
        else:
            starts = [start_lr] * len(groups)
        test = RangeTest(starts[0], end_lr, num_iter, step_mode, smooth_f, diverge_th, flavor)
        per_group = [None] + [test.group_lrs(a) if a != starts[0] else None for a in starts[1:]]
    # the snapshot first: iter(data) on a shuffling DataLoader draws from torch's generator
    snap = snapshot(model, optimizer, rng=restore_rng)
    try:
        next_batch = batches(data)
    except BaseException:
        restore(model, optimizer, snap)
        raise

    def forward(batch: Any) -> Any:
        if step is not None:
            return step(_move(batch, device))
        if not isinstance(batch, (list, tuple)) or len(batch) < 2:
            raise ValueError(
                f"with loss_fn, each batch must be (inputs, labels, ...), got {type(batch).__name__}; "
                "use step= for other batches"
            )
        if loss_fn is None:  # refused on entry: loss_fn or step is given
            raise TypeError("range_test needs loss_fn= or step=")
        inputs, labels = _move(batch[0], device), _move(batch[1], device)
        return loss_fn(model(inputs), labels)

    def update(i: int, lr: float) -> float:
        for g, lrs in zip(groups, per_group):
            g["lr"] = lr if lrs is None else lrs[i]
        optimizer.zero_grad()
        if accumulation_steps == 1:  # x / 1 is x, bit for bit: the same update without the division
            loss = forward(next_batch())
            loss.backward()
            optimizer.step()
            return loss.item()
        total = None
        for _ in range(accumulation_steps):
            loss = forward(next_batch())
            loss = loss / accumulation_steps
            loss.backward()
            total = loss.detach() if total is None else total + loss.detach()
        optimizer.step()
        if total is None:  # accumulation_steps >= 2: the loop ran
            raise RuntimeError("no loss accumulated")
        return total.item()

    try:
        model.train()
        return test.run(update)
    finally:
        restore(model, optimizer, snap)
