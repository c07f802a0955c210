"""PyTorch binding: drive any lrkit schedule from a ``torch.optim`` optimizer.

:class:`ScheduleLR` is a real ``torch.optim.lr_scheduler.LRScheduler`` (code that
expects one, such as PyTorch Lightning, takes it) whose whole
state is a step counter and the base values: each ``step()`` evaluates the
closed-form schedule at the new position and writes the param groups. No schedule
math lives here.

:func:`from_torch` turns PyTorch's own schedulers into the equal lrkit schedule.

This module imports torch; ``import lrkit`` does not import it.

>>> import torch, lrkit
>>> from lrkit.torch import ScheduleLR
>>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
>>> sched = ScheduleLR(opt, lrkit.Cosine(peak_lr=1.0, total_steps=100))  # a multiplier of lr=0.1
>>> for _ in range(50):
...     opt.step(); sched.step()
>>> round(opt.param_groups[0]["lr"], 6)
0.05
"""

from __future__ import annotations

import numbers
import threading
from collections import Counter
from typing import Any, Callable, Sequence as SequenceT

import torch
from torch import Tensor
from torch.optim import Optimizer
from torch.optim import lr_scheduler as _tl

from .schedules.compose import FunctionSchedule, IntPositions, Scale, Sequence, Warmup
from ._binding import PositionCounter
from .replan import apply_ops, loaded_ops, prepared
from ._bindutil import (check_intent, CawbCounters, base_value, base_values, cawb_state_keys, check_group_count, check_identity, check_last_epoch,
                        check_saved, pct_start, per_step, same_steps_per_epoch, schedule_tuple)
from ._check import real as _check_real
from .core import Schedule, fingerprint, registered
from .schedules.cycles import CosineRestarts, Cyclic
from .schedules.decays import Constant, Cosine, Exponential, Linear, MultiStep, OneCycle, Polynomial, Step
from .schedules.algebra import Product, Shift
from .recipes import TorchvisionWarmup, torchvision_drop_in, ultralytics_schedules
from .recipes.ultralytics import CHECKED as ULTRALYTICS_CHECKED

__all__ = ["ScheduleLR", "from_torch", "from_deepspeed", "warmup_lr_scheduler", "set_optimizer_lr", "UltralyticsLR", "CosineAnnealingWarmbootingLR"]

_BETAS = {"beta1": 0, "beta2": 1}
_INF = float("inf")


_AHEAD = 4096  # positions evaluated at once on the hot path
_FIRST_BLOCK = 16  # the first block after a change of plan or position
_AHEAD_LIMIT = 2.0 ** 52  # whole positions stay exact when added to arange(_AHEAD)


_OFFSETS: list = []


def _offsets() -> Any:
    """``0, 1, ..., _AHEAD - 1`` as a float64 array (made once)."""
    if not _OFFSETS:
        import numpy

        _OFFSETS.append(numpy.arange(_AHEAD, dtype=numpy.float64))
    return _OFFSETS[0]


_DYNAMO_SKIP: list = []


def _run_eagerly_under_compile() -> None:
    """Have ``torch.compile`` run this module's code eagerly, as it does PyTorch's own
    ``lr_scheduler.py``: a ``scheduler.step()`` inside a compiled function is then a
    graph break, not a trace whose Python floats force a recompile at every step.

    Uses dynamo's own skip list (``trace_rules.add``); with a PyTorch that lacks it,
    call ``scheduler.step()`` outside the compiled function (zero recompiles either way).
    Building an optimizer has imported dynamo already, so this costs nothing.
    """
    if _DYNAMO_SKIP:
        return
    _DYNAMO_SKIP.append(True)
    try:
        from torch._dynamo import trace_rules

        trace_rules.add(__name__)
    except Exception:  # noqa: BLE001 - a PyTorch without this hook: the documented fallback applies
        pass


def _plain(v: Any) -> float:
    """A param-group value as a Python float (tensors included)."""
    return float(v.item()) if isinstance(v, Tensor) else float(v)


class ScheduleLR(PositionCounter, _tl.LRScheduler):
    """A PyTorch LR scheduler driven by an lrkit schedule: ``value_g = base_g * schedule(t)``.

    ``t`` counts the calls to :meth:`step` (``t = 0`` right after construction, as
    with ``LambdaLR``). By default the schedule is a **multiplier** of each param
    group's own initial value (``base_g``, kept in ``group["initial_lr"]``), so
    groups with different learning rates keep their ratio. With
    ``absolute=True`` the schedule's values are written as they are
    (``value_g = schedule(t)``). ``schedule`` may also be a list with one schedule
    per param group.

    Args:
        optimizer: the optimizer whose param groups are driven.
        schedule: an lrkit :class:`~lrkit.Schedule`, or a list of them (one per group).
        absolute: write the schedule's values instead of multiplying the base values.
        steps_per_epoch: the schedule is defined in epochs but :meth:`step` is
            called every iteration: position ``t`` is evaluated as epoch
            ``t / steps_per_epoch`` (see :meth:`lrkit.Schedule.per_step`).
        key: the param-group entry to drive: ``"lr"`` (default), or e.g.
            ``"momentum"``, ``"weight_decay"``, or ``"beta1"`` / ``"beta2"`` for the
            elements of Adam's ``betas``. Use one scheduler per key.
        last_epoch: PyTorch's resume argument (``-1`` for a fresh run); prefer
            :meth:`load_state_dict`.

    Call :meth:`step` once per optimizer update (with gradient accumulation,
    once per accumulated update). It never emits PyTorch's "``lr_scheduler.step()``
    before ``optimizer.step()``" warning, which a ``GradScaler`` skipping an
    overflowing step would otherwise trigger. A tensor value in a param group
    (``lr=torch.tensor(0.01)`` for ``torch.compile``) is updated in place with
    ``fill_`` and never replaced by a float.

    :meth:`state_dict` holds only plain Python values (loads with
    ``torch.load(..., weights_only=True)``); resuming gives the same values as an
    uninterrupted run whether the scheduler is built before or after
    ``optimizer.load_state_dict``.

    >>> import torch, lrkit
    >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    >>> sched = ScheduleLR(opt, lrkit.Linear(peak_lr=1.0, total_steps=10))
    >>> opt.step(); sched.step()
    >>> opt.param_groups[0]["lr"]
    0.45
    """

    def __init__(self, optimizer: Optimizer, schedule: Schedule | SequenceT[Schedule], *,
                 absolute: bool = False, steps_per_epoch: float | None = None, key: str = "lr",
                 last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        groups = optimizer.param_groups
        schedules, per_group = schedule_tuple(schedule)
        if per_group:
            check_group_count(schedules, len(groups))
        self._plan = schedules  # as given (before per_step): what a saved state is checked against
        schedules = per_step(schedules, steps_per_epoch)
        if not isinstance(absolute, bool):
            raise TypeError(f"absolute must be True or False, got {absolute!r}")
        if not isinstance(key, str):
            raise TypeError(f"key must be a param-group key (a string), got {key!r}")
        check_last_epoch(last_epoch)

        # Where the driven value lives: group[key], or group["betas"][index] for beta1/beta2.
        index = _BETAS.get(key)
        gkey = "betas" if index is not None else key
        for i, g in enumerate(groups):
            if gkey not in g:
                have = ", ".join(sorted(k for k in g if k != "params"))
                raise ValueError(f"key {key!r}: param group {i} has no {gkey!r} entry (it has: {have})")
            cur = g[gkey] if index is None else g[gkey][index]
            if isinstance(cur, bool) or not isinstance(cur, (numbers.Real, Tensor)) or (
                    isinstance(cur, Tensor) and (cur.numel() != 1 or cur.dtype == torch.bool)):
                raise ValueError(f"key {key!r}: param group {i} holds {cur!r}, not a real number; only "
                                 "real-number entries (lr, momentum, weight_decay, betas) can be driven")
        # The base values live in the param groups (as torch does with "initial_lr"), so a
        # scheduler built after optimizer.load_state_dict finds the original ones.
        self._initial_key = "initial_" + key
        if last_epoch == -1:
            for g in groups:
                cur = g[gkey] if index is None else g[gkey][index]
                g.setdefault(self._initial_key, cur.clone() if isinstance(cur, Tensor) else cur)
        else:
            for i, g in enumerate(groups):
                if self._initial_key not in g:
                    raise KeyError(f"param group {i} has no {self._initial_key!r} entry: resuming with "
                                   "last_epoch >= 0 needs the optimizer's state loaded first")

        self._schedules = schedules
        self._planned = schedules  # before any re-plan (see replan)
        self._replans: list[dict[str, Any]] = []
        self._key = key
        self._gkey = gkey
        self._index = index
        self._absolute = absolute
        self._steps_per_epoch = steps_per_epoch
        self.base_values = base_values(f"the param groups' {self._initial_key!r}",
                                       [_plain(g[self._initial_key]) for g in groups])
        self._per_group = per_group
        if key == "lr" and last_epoch == -1:
            check_intent(schedules, self.base_values, multiplier=not absolute, who="ScheduleLR",
                         absolute_hint="pass absolute=True")
        self._lock = threading.RLock()
        self._set_fast_path()
        self._t = float(last_epoch)
        _run_eagerly_under_compile()
        super().__init__(optimizer, last_epoch)

    def _set_fast_path(self) -> None:
        # Precomputed so that step() is a counter increment, one schedule call and a loop.
        scheds = self._schedules
        self._fn = scheds[0]._scalar if len(scheds) == 1 else None
        self._fns = tuple(s.checked for s in scheds) * (len(self.base_values) if len(scheds) == 1 else 1)
        self._bases = [1.0] * len(self.base_values) if self._absolute else list(self.base_values)
        self._n = len(self._bases)
        self._b0 = self._bases[0]
        # Groups sharing one base value all get the same value: computed once per step.
        self._same = all(b == self._b0 for b in self._bases)
        # The param-group list whose values are all plain floats, checked when the list
        # changes (optimizer.load_state_dict replaces it): None until then.
        self._float_groups: list | None = None
        # The next values of the schedule, evaluated a block at a time through its array
        # path (bit-identical to the scalar one), so a step is a next() on a list
        # iterator. Only for schedules with a real array path: a user function is never
        # called ahead of time.
        self._ahead = len(scheds) == 1 and not scheds[0].runs_python
        self._ahead_from = 0.0
        self._it: Any = iter(())
        self._block = _FIRST_BLOCK

    # -- torch's LRScheduler protocol -------------------------------------------------
    def _moved(self) -> None:
        self._it = iter(())  # the look-ahead block no longer follows the position
        self._block = _FIRST_BLOCK

    def _initial_step(self) -> None:
        self._step_count = 0
        self.step()

    def step(self, epoch: float | None = None) -> None:  # type: ignore[override]
        """Advance one position and write the new values; ``step(t)`` jumps to position ``t``.

        A step that raises (a user function returning NaN, say) changes nothing: the
        position and the param groups stay as they were. Steps from several threads are
        taken one at a time: none is lost, and the values written are those of the
        position reached.
        """
        with self._lock:  # one step at a time: concurrent calls never lose a position
            if epoch is None:
                t = self._t + 1.0
            else:
                t = self._position(epoch)
                self._it = iter(())
            groups = self.optimizer.param_groups
            if groups is self._float_groups and len(groups) == self._n:
                # The hot path: one schedule, a float in every group. One group is written
                # without a loop (a zip costs as much as the schedule call).
                try:
                    v = next(self._it)
                except StopIteration:
                    v = self._refill(t)
                # Each group's value is checked to still be a float as it is written; one that
                # is not (a tensor put there since) sends the step to _write, which fills it in
                # place and rewrites the others with the same values.
                key = self._key
                if self._same:  # v is already base * schedule(t), the value of every group
                    if self._n == 1:
                        g = groups[0]
                        if g[key].__class__ is float:
                            g[key] = v
                            self._t = t
                            return
                    else:
                        for g in groups:
                            if g[key].__class__ is not float:
                                break
                            g[key] = v
                        else:
                            self._t = t
                            return
                else:
                    for g, b in zip(groups, self._bases):
                        if g[key].__class__ is not float:
                            break
                        g[key] = b * v
                    else:
                        self._t = t
                        return
            self._write(t, groups)
            self._t = t

    def _refill(self, t: float) -> float:
        """The hot path's value at ``t`` (``base * schedule(t)`` when the groups share one
        base, else ``schedule(t)``); also evaluates the next block of whole positions when
        it can. Numpy's ``b * array`` is the same IEEE product as ``b * v``.

        The look-ahead never changes what a step does: a block is cut before its first
        value that is not a finite number >= 0, and a block that raises is not used,
        so each position is evaluated (and fails, if it does) when it is reached.
        """
        b = self._b0 if self._same else 1.0
        if self._ahead and t.is_integer() and t < _AHEAD_LIMIT and t >= self._ahead_from:
            try:
                n = self._block
                # blocks grow from a short one after a change (a re-plan, a jump) to _AHEAD: a run
                # re-planned every few steps does not evaluate thousands of positions it never reaches
                self._block = min(4 * n, _AHEAD)
                block = self._schedules[0]._array(_offsets()[:n] + t)
            except (ValueError, ArithmeticError):
                block = None
                self._ahead_from = t + _AHEAD  # a position ahead fails: one step at a time for a while
            if block is not None:
                block *= b
                ok = (block >= 0) & (block < _INF)
                if not ok.all():
                    block = block[:int(ok.argmin())]
                if block.size:
                    self._it = iter(block.tolist())
                    return next(self._it)
        v = b * self._schedules[0].checked(t)
        if not v < _INF:
            raise ValueError(f"the value at position {t!r} times the base value {b!r} overflows float64")
        return v

    def _write(self, t: float, groups: list) -> None:
        """Write position ``t``'s values into ``groups``, whatever their kind (float, tensor, tuple).

        Every value is computed (and checked) before any group is written.
        """
        if len(groups) != self._n:
            raise RuntimeError(f"the optimizer now has {len(groups)} param groups but this scheduler was "
                               f"built for {self._n}; build a new scheduler after add_param_group")
        self._it = iter(())
        key, gkey, i = self._key, self._gkey, self._index
        all_float = self._fn is not None and i is None
        values = []
        for b, f in zip(self._bases, self._fns):
            v = b * f(t)
            if not 0 <= v < _INF:
                raise ValueError(f"the value at position {t!r} is {v!r} (base {b!r}): not a finite number >= 0")
            values.append(v)
        for g, v in zip(groups, values):
            if i is None:
                cur = g[key]
                if isinstance(cur, Tensor):
                    cur.fill_(v)  # in place: a compiled optimizer step keeps its graph
                    all_float = False
                else:
                    g[key] = v
                    all_float = all_float and cur.__class__ is float
            else:
                old = g[gkey]
                if isinstance(old[i], Tensor):
                    old[i].fill_(v)
                else:
                    g[gkey] = old[:i] + (v,) + old[i + 1:]
        self._float_groups = groups if all_float else None

    def values(self, t: float | None = None) -> list[float]:
        """The values this scheduler writes at position ``t`` (default: the current one), per group."""
        t = self._t if t is None else self._position(t)
        if t < 0:
            raise RuntimeError("the scheduler has not made its first step yet")
        return [b * f(t) for b, f in zip(self._bases, self._fns)]

    def get_last_lr(self) -> list[float]:  # type: ignore[override]
        """The values written by the last :meth:`step`, one float per param group.

        For a scheduler driving another key (``key="momentum"``...), these are
        that key's values.
        """
        return self.values()

    def get_lr(self) -> list[float]:  # type: ignore[override]
        return self.values()

    @property
    def schedules(self) -> tuple[Schedule, ...]:
        """The schedules driving the groups (one, or one per group), as evaluated per step."""
        return self._schedules

    # -- checkpoints -------------------------------------------------------------------
    def _identity(self) -> dict[str, Any]:
        """What a saved state must match to be this scheduler's (see :meth:`load_state_dict`)."""
        return {"class": "lrkit.torch.ScheduleLR", "groups": self._n, "per_group": self._per_group,
                "schedules": [fingerprint(s) for s in self._plan], "base_values": list(self.base_values)}

    def replan(self, *, at: float | None = None, total_steps: float | None = None, cooldown: float | None = None,
               min_lr: float | None = None, shape: str | None = None, tail: Schedule | None = None,
               jump: bool | None = None) -> None:
        """Change the rest of the run from position ``at`` (default: now): a new length
        (``total_steps``), a cooldown from the current value (``cooldown`` positions to
        ``min_lr``), or a new ``tail`` — see :func:`lrkit.replan.replan`, applied to every
        group's schedule. Values before ``at`` stay; the lr is continuous at ``at`` unless
        ``jump=True``.

        The re-plan is recorded in :meth:`state_dict`: a scheduler built with the original
        plan and loaded with that state follows the re-planned curve exactly. To re-plan a
        run from an older checkpoint, load the checkpoint first, then call ``replan``.
        """
        new, record = prepared(self._t, self._schedules, at, total_steps=total_steps, cooldown=cooldown,
                               min_lr=min_lr, shape=shape, tail=tail, jump=jump)
        with self._lock:
            # checked whole (the values at the current position too), then applied whole
            old = self._schedules, self._fn, self._fns, self._bases
            self._schedules = new
            self._set_fast_path()
            try:
                if self._t >= 0:
                    self._write(self._t, self.optimizer.param_groups)
            except BaseException:
                self._schedules = old[0]
                self._set_fast_path()
                raise
            self._replans.append(record)

    def state_dict(self) -> dict[str, Any]:
        """The resumable state, plain Python values only: position, base values, key, the
        settings the position is read with (``absolute``, ``steps_per_epoch``), what the
        state belongs to (class, group count, the schedules' configs) and the re-plans
        made since (:meth:`replan`)."""
        out = self._identity()
        out.update({"last_epoch": self.last_epoch, "key": self._key, "absolute": self._absolute,
                    "steps_per_epoch": None if self._steps_per_epoch is None else float(self._steps_per_epoch),
                    "replans": [dict(op) for op in self._replans]})
        return out

    def load_state_dict(self, state_dict: dict[str, Any], *, strict: bool = True) -> None:
        """Restore :meth:`state_dict` and write the values for the restored position.

        The state must be this class's, for the same plan: the same schedules, group
        count, per-group setting and base values, else ``ValueError`` says what differs.
        To go on from the saved position with a changed plan (a re-planned run), pass
        ``strict=False``: the position is loaded, and this scheduler's own schedules and
        base values apply from there. A state saved with another ``key``, ``absolute``
        or ``steps_per_epoch`` is refused either way (its position or values mean
        something else here), as is another scheduler's state.
        """
        with self._lock:
            self._load(state_dict, strict)

    def _load(self, state_dict: dict[str, Any], strict: bool) -> None:
        if not isinstance(state_dict, dict) or "last_epoch" not in state_dict:
            raise ValueError(f"not a ScheduleLR state dict (no 'last_epoch'), got {state_dict!r}")
        key = state_dict.get("key", "lr")
        if key != self._key:
            raise ValueError(f"the state drives key {key!r} but this scheduler drives {self._key!r}")
        check_saved(state_dict, "absolute", self._absolute)
        check_saved(state_dict, "steps_per_epoch", self._steps_per_epoch, same_steps_per_epoch)
        check_identity(state_dict, "ScheduleLR", self._identity(), strict)
        ops = loaded_ops(state_dict, self._replans, strict)
        bases = base_values("the state's base_values", state_dict.get("base_values", self.base_values))
        if len(bases) != len(self.base_values):
            raise ValueError(f"the state holds {len(bases)} base values but the optimizer has "
                             f"{len(self.base_values)} param groups")
        old_t, old_bases, old_sched, old_ops = self._t, self.base_values, self._schedules, self._replans
        if strict:
            self.base_values = bases
            if ops != self._replans:  # the state's re-plans, on the plan this scheduler was built with
                self._schedules = tuple(apply_ops(sch, ops) for sch in self._planned)
                self._replans = [dict(op) for op in ops]
        self._set_fast_path()
        try:
            self.last_epoch = state_dict["last_epoch"]
            if self._t >= 0:
                self.step(self._t)
        except ValueError:
            # a failed load changes nothing
            self._t, self.base_values, self._schedules, self._replans = old_t, old_bases, old_sched, old_ops
            self._set_fast_path()
            raise

    # -- copies --------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        # Bound methods are rebuilt, not pickled: keeps pickles small and portable.
        d = dict(self.__dict__)
        for k in ("_fn", "_fns", "_float_groups", "_it", "_lock"):
            d.pop(k, None)
        return d

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()
        self._set_fast_path()


# =====================================================================================
# from_torch
# =====================================================================================

def _step(s: Any, g: int, base: float) -> Schedule:
    return Step(base, float(s.step_size), s.gamma)


def _multistep(s: Any, g: int, base: float) -> Schedule:
    counts = Counter({int(k): v for k, v in s.milestones.items() if k >= 0 and v > 0})
    peak = base * s.gamma ** counts.pop(0, 0)  # a milestone at 0 applies at construction
    if all(v == 1 for v in counts.values()):
        return MultiStep(peak, sorted(counts), s.gamma)
    # Repeated milestones multiply by gamma once per repetition: one layer per repetition.
    layers = [MultiStep(peak, sorted(counts), s.gamma)]
    for k in range(2, max(counts.values()) + 1):
        layers.append(MultiStep(1.0, sorted(m for m, c in counts.items() if c >= k), s.gamma))
    return Product(layers)


def _exponential(s: Any, g: int, base: float) -> Schedule:
    if s.gamma == 0:
        return Exponential(base, 0.0, staircase=True)
    return Exponential(base, s.gamma)


def _cosine(s: Any, g: int, base: float) -> Schedule:
    # past T_max torch goes back up along the cosine (its closed form and its recurrence both)
    return Cosine(base, s.T_max, s.eta_min, after="continue")


def _restarts(s: Any, g: int, base: float) -> Schedule:
    return CosineRestarts(base, s.T_0, s.T_mult, s.eta_min)


def _linear(s: Any, g: int, base: float) -> Schedule:
    a, b, n = s.start_factor, s.end_factor, s.total_iters
    if n == 0 or a == b:
        return Constant(base * a)  # torch applies start_factor at construction and never again
    if a < b:
        return Warmup(Constant(base * b), n, "linear", start_factor=a / b)
    return Linear(base * a, n, base * b)


def _constant(s: Any, g: int, base: float) -> Schedule:
    if s.total_iters <= 0:
        return Constant(base * s.factor)  # torch applies the factor at construction and never undoes it
    return Sequence([Constant(base * s.factor), Constant(base)], [s.total_iters])


def _polynomial(s: Any, g: int, base: float) -> Schedule:
    if s.total_iters == 0 or s.power == 0:
        return Constant(base)
    return Polynomial(base, s.total_iters, 0.0, s.power)


def _onecycle(s: Any, g: int, base: float) -> Schedule:
    group = s.optimizer.param_groups[g]
    phases = s._schedule_phases
    three = len(phases) == 3
    pct = pct_start(phases[0]["end_step"], s.total_steps, three, phases[1]["end_step"] if three else None)
    shape = "cosine" if getattr(s, "_anneal_func_type", "cos") == "cos" else "linear"
    return OneCycle(_plain(group["max_lr"]), s.total_steps, pct, shape, start_lr=_plain(group["initial_lr"]),
                    min_lr=_plain(group["min_lr"]), three_phase=three)


def _cyclic(s: Any, g: int, base: float) -> Schedule:
    if getattr(s, "_scale_fn_custom", None) is not None:
        from .convert import unconvertible

        raise unconvertible(s, "its scale_fn is your own function, so its lr is whatever that code computes "
                               "(lrkit converts the modes 'triangular', 'triangular2' and 'exp_range'); "
                               "write the schedule with lrkit's kinds, or keep CyclicLR")
    L, r = s.total_size, s.step_ratio
    up = r * L
    if round(up) / L == r and L - round(up) > 0:
        up = float(round(up))  # the integer step sizes torch was given
    down = L - up
    return Cyclic(_plain(s.max_lrs[g]), up, down, min_lr=_plain(s.base_lrs[g]), mode=s.mode, gamma=s.gamma)


def _lambda(s: Any, g: int, base: float) -> Schedule:
    from .convert import transformers as _hf

    fn = s.lr_lambdas[g]
    if _hf.is_transformers_lambda(fn):  # one of transformers' schedules: a native schedule
        return _hf.convert(fn, base)
    return Scale(FunctionSchedule(IntPositions(fn)), base)


def _multiplicative(s: Any, g: int, base: float) -> Schedule:
    from .convert import RunningProduct

    return FunctionSchedule(RunningProduct(s.lr_lambdas[g], base))


def _refuse(s: Any, why: str) -> TypeError:
    from .convert import unconvertible

    return unconvertible(s, why)


def _sequential(s: Any, g: int, base: float, lead: int = 0) -> Schedule:
    # ``lead``: how far this SequentialLR's own counter runs ahead of the position. Each
    # enclosing SequentialLR's constructor steps its first scheduler once more (and
    # undoes the steps of the leaves only), so a SequentialLR nested first in another
    # one switches ``lead`` steps early; its first leaf then got a step that is not an
    # initial one (see _ahead).
    kids, ms = list(s._schedulers), list(s._milestones)
    for i, c in enumerate(kids[1:], 1):
        if isinstance(c, (_tl.SequentialLR, _tl.ChainedScheduler)):
            raise _refuse(s, f"its scheduler {i} is a {type(c).__name__}: torch fails at milestone {ms[i - 1]} "
                             f"(it sets that scheduler's lr from its closed form at 0, which {type(c).__name__} "
                             "does not implement: NotImplementedError)")
    bounds = [m - lead for m in ms]
    ahead = lead > 0
    k = sum(1 for b in bounds if b <= 0) if lead else 0
    if k:
        # milestones the outer constructors' steps have already passed: the scheduler they
        # switched to runs from position 0; switched to by the last of those steps (its
        # closed form at 0), it starts as usual, else a later constructor stepped it again
        ahead = not (bounds[k - 1] == 0 and ms[k - 1] >= 1)
        kids, bounds = kids[k:], bounds[k:]
    first = kids[0]
    if k and type(first) is _tl.MultiplicativeLR:
        ahead = True  # switched to or stepped at 0, from the base lr the constructor restored: lr * fn(0)
    if isinstance(first, _tl.SequentialLR):
        p0 = _sequential(first, g, base, lead + 1)
    elif isinstance(first, _tl.ChainedScheduler):
        p0 = _chained(first, g, base, lead=lead + 1)
    else:
        p0 = _build(first, g, base, ahead=ahead)
    if not bounds:
        return p0
    parts = [p0] + [_build(c, g, base) for c in kids[1:]]
    for i in range(1, len(parts)):
        if type(kids[i]) is _tl.MultiplicativeLR:
            # at its milestone torch calls its get_lr at epoch 0, which multiplies the lr
            # the previous scheduler left by fn(0) (it has no closed form to start from)
            from .convert import RunningProduct

            prev = parts[0] if i == 1 else Sequence(parts[:i], bounds[:i - 1])
            fn = kids[i].lr_lambdas[g]
            left = prev(float(bounds[i - 1] - 1))
            parts[i] = FunctionSchedule(RunningProduct(fn, left * float(fn(0))))
    try:
        return Sequence(parts, bounds)
    except ValueError as e:
        raise ValueError(f"from_torch: SequentialLR milestones {ms!r}"
                         f"{f' (ahead by {lead})' if lead else ''}: {e}") from None


# Schedulers whose step multiplies the current lr by a factor that does not depend on
# it: chained together, their effects multiply.
_MULTIPLICATIVE = ("StepLR", "MultiStepLR", "ExponentialLR", "LinearLR", "ConstantLR", "PolynomialLR",
                   "CosineAnnealingLR")


def _ahead(s: Any, g: int, base: float) -> Schedule:
    """The schedule of ``s`` whose first step was a regular step at epoch 0 (not torch's
    initial one), applied to the lr ``base``: what a scheduler gets first inside a nested
    SequentialLR or a ChainedScheduler inside a SequentialLR."""
    import math

    name = type(s).__name__
    conv = _CONVERTERS[type(s)]
    if name in ("StepLR", "MultiStepLR", "LinearLR", "ConstantLR", "LambdaLR", "CosineAnnealingWarmRestarts",
                "CyclicLR", "OneCycleLR"):
        return conv(s, g, base)  # their step at epoch 0 is their initial value
    if name == "ExponentialLR":
        return conv(s, g, base * s.gamma)
    if name == "PolynomialLR":
        T = s.total_iters
        return conv(s, g, base * ((1.0 - 0 / T) / (1.0 - (0 - 1) / T)) ** s.power)
    if name == "MultiplicativeLR":
        from .convert import RunningProduct

        return FunctionSchedule(RunningProduct(s.lr_lambdas[g], base * float(s.lr_lambdas[g](0))))
    if name == "CosineAnnealingLR":
        T, eta = s.T_max, s.eta_min
        if (0 - 1 - T) % (2 * T) == 0:
            raise _refuse(s, f"with T_max={T}, its first step inside a nested scheduler adds a term with the "
                             "base lr (torch's recurrence), which lrkit does not reproduce")
        r0 = (1 + math.cos(math.pi * 0 / T)) / (1 + math.cos(math.pi * (0 - 1) / T))
        v0 = r0 * (base - eta) + eta
        if T != int(T):  # torch's step adds its base-lr term at no whole step: scaled for ever
            return Cosine(v0, T, eta, after="continue")
        # scaled up to T_max (the recurrence multiplies lr - eta_min), then past it torch
        # adds (base - eta_min) (1 - cos(pi / T_max)) / 2 to eta_min: the plain cosine again
        return Sequence([Cosine(v0, T, eta, after="continue"), Shift(Cosine(base, T, eta, after="continue"), T + 1)],
                        [T + 1])
    raise _refuse(s, "its first step inside a nested SequentialLR (or a ChainedScheduler in a SequentialLR) is "
                     "a regular step at epoch 0, whose effect lrkit does not know for this class")


def _settles(s: Any) -> float:
    """The step after which a multiplicative scheduler's step leaves the lr unchanged (inf: never)."""
    name = type(s).__name__
    if name == "MultiplicativeLR":
        return _INF  # its factor is the user's function
    if name in ("StepLR", "ExponentialLR"):
        return 0.0 if s.gamma == 1 else _INF
    if name == "MultiStepLR":
        return 0.0 if s.gamma == 1 else float(max((m for m, c in s.milestones.items() if c > 0), default=0))
    return float(s.total_iters)  # LinearLR, ConstantLR, PolynomialLR


def _leaves(s: Any) -> list:
    out = []
    for c in s._schedulers:
        out.extend(_leaves(c) if isinstance(c, _tl.ChainedScheduler) else [c])
    return out


def _chained(s: Any, g: int, base: float, lead: int | None = None) -> Schedule:
    # ``lead``: set when the chain is the first scheduler of a SequentialLR, whose
    # constructor steps it (a regular step of each of its schedulers at epoch 0)
    ahead = lead is not None
    leaves = _leaves(s)
    if len(leaves) == 1 and isinstance(leaves[0], _tl.SequentialLR):
        return _sequential(leaves[0], g, base, lead or 0)
    for i, c in enumerate(leaves):
        name = type(c).__name__
        if isinstance(c, _tl.SequentialLR):
            raise _refuse(s, f"element {i} is a SequentialLR among other schedulers: at its construction and at "
                             "each milestone it sets the lr from its own base lr, discarding the other "
                             "schedulers' factors, so the chain is not a product")
        # Only schedulers that multiply the current lr by a factor of their own compose
        # into a product; one that sets the lr (LambdaLR, OneCycleLR...) would discard
        # the others' past factors.
        if name not in _MULTIPLICATIVE and name != "MultiplicativeLR":
            raise _refuse(s, f"element {i} is {name}, which sets the lr instead of multiplying it, so the "
                             f"chain is not a product (chainable: {', '.join(_MULTIPLICATIVE)}, "
                             "MultiplicativeLR)")
        if name == "CosineAnnealingLR" and c.eta_min != 0:
            raise _refuse(s, f"element {i} is CosineAnnealingLR with eta_min={c.eta_min}: its step scales "
                             "lr - eta_min, not the lr, so the chain is not a product")
    cos = [i for i, c in enumerate(leaves) if type(c).__name__ == "CosineAnnealingLR"]
    if ahead and cos:
        raise _refuse(s, "it holds a CosineAnnealingLR and is nested in a SequentialLR: the cosine's first "
                         "step is a regular one at epoch 0, whose effect on a chain lrkit does not reproduce")
    facs = [_ahead(c, g, 1.0) if ahead else _build(c, g, 1.0) for c in leaves]
    whole = facs[0] if len(facs) == 1 else Product(facs)
    if not cos or len(leaves) == 1 or leaves[cos[0]].T_max != int(leaves[cos[0]].T_max):
        return Scale(whole, base)  # (a fractional T_max: torch's step never adds its base-lr term)
    if len(cos) > 1:
        raise _refuse(s, "it chains several CosineAnnealingLR: past T_max each one's step adds a term with the "
                         "base lr to an lr the others have scaled, which is not a product of closed forms")
    # Past T_max, once the cosine's factor is 0, torch's cosine step (at T_max + 1, then
    # every 2 T_max) adds base (1 - cos(pi / T_max)) / 2 to the lr: the chain starts again
    # from the cosine alone, the other factors counted from there on.
    i = cos[0]
    T = leaves[i].T_max
    settle = [0.0 if j == i else _settles(c) for j, c in enumerate(leaves)]
    F = max((f for j, f in enumerate(settle) if j != i), default=0.0)
    if F == _INF:
        j = next(k for k, f in enumerate(settle) if k != i and f == _INF)
        raise _refuse(s, f"past T_max={T}, torch's CosineAnnealingLR step adds a term with the base lr once its "
                         f"factor reaches 0, and element {j} ({type(leaves[j]).__name__}) keeps scaling the lr "
                         "after that: the chain's value is then no product of closed forms lrkit can express")
    c0 = facs[i]
    parts: list[Schedule] = [whole]
    bounds: list[float] = []
    a = T + 1
    while True:
        if len(parts) > 1000:
            raise _refuse(s, f"past T_max={T} its value restarts every {2 * T} steps until step {F:g}: more "
                             "than 1000 pieces")
        if a - 1 >= F:
            parts.append(Shift(c0, a))
            bounds.append(a)
            break
        layers: list[Schedule] = [c0]
        for j, f in enumerate(facs):
            if j == i:
                continue
            ref = a - 1 if j > i else a  # the chain steps schedulers in order
            v = f(ref)
            if v == 0:
                if ref >= settle[j]:
                    continue
                raise _refuse(s, f"element {j} ({type(leaves[j]).__name__}) is 0 at step {ref} when the "
                                 "cosine starts again and still changes after it")
            layers.append(Scale(f, 1.0 / v))
        parts.append(Shift(Product(layers), a))
        bounds.append(a)
        a += 2 * T
    return Scale(Sequence(parts, bounds), base)


def _added_group(s: Any, g: int) -> Schedule:
    """Param group ``g`` added to the optimizer after ``s`` was built (``add_param_group``):
    torch's multiplicative steps drive it from its own lr; the others fail at their next step."""
    leaves = _leaves(s) if isinstance(s, _tl.ChainedScheduler) else [s]
    when = ("at its next milestone" if isinstance(s, _tl.SequentialLR) else
            "once its chain has a scheduler that sets the lr" if isinstance(s, _tl.ChainedScheduler) else
            "at its next step")
    why = (f"param group {g} was added to the optimizer after it was built (add_param_group), and torch "
           f"fails {when} (it keeps one setting per group it was built with); convert the groups "
           f"it was built with (group=i), or build the scheduler after adding the group")
    if any(type(c).__name__ not in _MULTIPLICATIVE for c in leaves):
        raise _refuse(s, why)
    lr = _plain(s.optimizer.param_groups[g]["lr"])
    facs, at = [], 1.0
    for c in leaves:
        if type(c).__name__ == "CosineAnnealingLR" and c.eta_min != 0:
            raise _refuse(s, f"param group {g} was added after it was built, and its CosineAnnealingLR "
                             "(eta_min != 0) scales lr - eta_min: not a factor lrkit can apply to that group")
        f = _build(c, 0, 1.0)
        v = f(float(c.last_epoch))
        if v == 0:
            raise _refuse(s, f"param group {g} was added after it was built, when its factor was 0")
        facs.append(f)
        at *= v
    # torch multiplies the group's lr (it has no initial_lr) by each step's factor:
    # lr * factor(t) / factor(now), whenever it was added (past T_max torch fails for a cosine)
    return Scale(facs[0] if len(facs) == 1 else Product(facs), lr / at)


def _is_added(s: Any, g: int) -> bool:
    if hasattr(s, "base_lrs"):
        return g >= len(s.base_lrs)
    return "initial_lr" not in s.optimizer.param_groups[g]


_CONVERTERS: dict[type, Callable[[Any, int, float], Schedule]] = {
    _tl.StepLR: _step,
    _tl.MultiStepLR: _multistep,
    _tl.ExponentialLR: _exponential,
    _tl.CosineAnnealingLR: _cosine,
    _tl.CosineAnnealingWarmRestarts: _restarts,
    _tl.LinearLR: _linear,
    _tl.ConstantLR: _constant,
    _tl.PolynomialLR: _polynomial,
    _tl.OneCycleLR: _onecycle,
    _tl.CyclicLR: _cyclic,
    _tl.LambdaLR: _lambda,
    _tl.MultiplicativeLR: _multiplicative,
    _tl.SequentialLR: _sequential,
    _tl.ChainedScheduler: _chained,
}


def _build(s: Any, g: int, base: float | None, ahead: bool = False) -> Schedule:
    conv = _CONVERTERS.get(type(s))
    if conv is None:
        from .convert import NOT_CLOSED_FORM, unconvertible

        if type(s).__name__ in NOT_CLOSED_FORM:
            raise unconvertible(s, NOT_CLOSED_FORM[type(s).__name__])
        supported = ", ".join(sorted(c.__name__ for c in _CONVERTERS))
        raise TypeError(f"from_torch does not support {type(s).__module__}.{type(s).__qualname__} "
                        f"(supported: {supported})")
    if base is None:
        if _is_added(s, g):
            return _added_group(s, g)
        base = _plain(s.base_lrs[g]) if hasattr(s, "base_lrs") else _plain(s.optimizer.param_groups[g]["initial_lr"])
    if ahead:
        return _ahead(s, g, base)
    return conv(s, g, base)


from .convert.deepspeed import from_deepspeed  # noqa: E402  (re-exported: DeepSpeed's JSON scheduler section)


def from_torch(scheduler: Any, group: int | None = None, *, warmup: Any = None,
               epoch_length: float | None = None) -> Schedule | list[Schedule]:
    """The lrkit schedule equal to a PyTorch scheduler: ``schedule(t)`` = its lr after ``t`` steps.

    Built from the scheduler's constructor arguments (not its current state), so it
    can be called at any point of the scheduler's life. Besides torch's own, it takes
    the schedulers of transformers (``get_scheduler`` and the
    ``get_*_schedule_with_warmup`` functions), timm (``t`` = timm's position: epochs
    with ``t_in_epochs=True``, updates otherwise), mmengine (one, or a list stepped
    as its ``ParamSchedulerHook`` steps them; ``epoch_length=`` iterations per epoch:
    the position is then the iteration, required when epoch- and iteration-based ones
    are mixed), DeepSpeed (``WarmupLR``,
    ``WarmupDecayLR``, ``WarmupCosineLR``, ``OneCycle``; its JSON section converts with
    :func:`from_deepspeed`) and, with ``warmup=w``, pytorch-warmup's warmups around
    ``scheduler`` (see ``docs/coming-from.md``).
    Every result is a native schedule (a config, bindable anywhere), except that a
    user's own ``LambdaLR`` function stays a callable. torch's own: ``StepLR``,
    ``MultiStepLR``, ``ExponentialLR``, ``CosineAnnealingLR``,
    ``CosineAnnealingWarmRestarts``, ``LinearLR``, ``ConstantLR``, ``PolynomialLR``,
    ``OneCycleLR``, ``CyclicLR`` (built-in modes), ``LambdaLR`` and
    ``MultiplicativeLR`` (wrapping its function, so the result cannot be written as
    a config), ``SequentialLR`` and
    ``ChainedScheduler`` of multiplicative schedulers (``StepLR``, ``MultiStepLR``,
    ``ExponentialLR``, ``LinearLR``, ``ConstantLR``, ``PolynomialLR``,
    ``CosineAnnealingLR`` with ``eta_min=0``: the base lr times the
    :class:`~lrkit.product.Product` of their multipliers; past ``T_max`` torch's
    cosine step starts the chain again from the cosine alone every ``2 T_max`` steps,
    which the conversion follows while the other schedulers settle, and refuses when
    one of them never does, e.g. ``ExponentialLR``). A ``SequentialLR`` nested first
    in another one (or in a ``ChainedScheduler`` first in one) is converted as torch
    runs it: the outer constructors step it, so it switches that many steps early and
    its first scheduler starts one regular step ahead. A param group added to the
    optimizer after the scheduler was built is driven from its own lr by the
    multiplicative schedulers, as torch does; the others fail at torch's next step and
    are refused for that group.
    Anything else raises ``TypeError`` naming the class and the reason.

    The values are absolute learning rates: bind them with
    ``ScheduleLR(optimizer, schedule, absolute=True)``.

    With ``group=None`` the result is one schedule if every param group gets the
    same one, else a list with one schedule per group; ``group=i`` returns group
    ``i``'s schedule.

    Past ``T_max``, ``CosineAnnealingLR`` climbs back up along the cosine, and so does
    the conversion (``Cosine(..., after="continue")``); ``.replace(after="hold")``
    gives the variant that holds ``eta_min``. ``OneCycleLR`` raises after
    ``total_steps`` steps while lrkit holds ``min_lr`` from step ``total_steps - 1``.

    >>> import torch
    >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    >>> from_torch(torch.optim.lr_scheduler.StepLR(opt, step_size=30, gamma=0.5))
    Step(peak_lr=0.1, step_size=30, gamma=0.5)
    """
    from .convert import deepspeed as _ds
    from .convert import mmengine as _mm
    from .convert import pytorch_warmup as _pw
    from .convert import timm as _timm

    if _ds.is_deepspeed(scheduler) and warmup is None:
        got = _ds.from_scheduler(scheduler)
        many = isinstance(got, list)
        n = len(got) if many else len(scheduler.optimizer.param_groups)
        build = (lambda g: got[g]) if many else (lambda g: got)  # noqa: E731
    elif warmup is not None:
        n = _optimizer_groups(scheduler)
        build = _pw.builder(scheduler, warmup, lambda g: _build(scheduler, g, None))
    elif _mm.is_mmengine(scheduler):
        n, build = _mm.builder(scheduler, epoch_length)
    elif _timm.is_timm(scheduler):
        n = len(scheduler.optimizer.param_groups)
        build = lambda g: _timm.convert(scheduler, g)  # noqa: E731
    elif isinstance(scheduler, _tl.LRScheduler):
        n = len(scheduler.optimizer.param_groups)
        build = lambda g: _build(scheduler, g, None)  # noqa: E731
    else:
        from .convert import NOT_CLOSED_FORM, unconvertible

        if type(scheduler).__name__ in NOT_CLOSED_FORM:
            raise unconvertible(scheduler, NOT_CLOSED_FORM[type(scheduler).__name__])
        raise TypeError(f"from_torch expects a scheduler of torch, transformers, timm, mmengine, "
                        f"pytorch-warmup or DeepSpeed, got {type(scheduler).__module__}.{type(scheduler).__qualname__}")
    if epoch_length is not None and not _mm.is_mmengine(scheduler):
        raise ValueError("epoch_length is for mmengine's epoch-based schedulers (iterations per epoch)")
    if group is not None:
        if isinstance(group, bool) or not isinstance(group, int) or not 0 <= group < n:
            raise ValueError(f"group must be a param group index in [0, {n - 1}], got {group!r}")
        return build(group)
    out = [build(g) for g in range(n)]
    return out[0] if all(s == out[0] for s in out[1:]) else out


def _optimizer_groups(scheduler: Any) -> int:
    opt = getattr(scheduler, "optimizer", None)
    if opt is None or not hasattr(opt, "param_groups"):
        raise TypeError(f"from_torch: {type(scheduler).__qualname__} has no optimizer")
    return len(opt.param_groups)


# =====================================================================================
# The recipes' drop-in replacements (same names and signatures as the originals)
# =====================================================================================

def warmup_lr_scheduler(optimizer: Optimizer, warmup_iters: float, warmup_factor: float) -> ScheduleLR:
    """torchvision detection's linear warmup: each group's lr times ``m(x)``, ``x`` = steps so far.

    ``m(x) = warmup_factor * (1 - x / warmup_iters) + x / warmup_iters`` for
    ``x < warmup_iters``, then 1 (:class:`lrkit.recipes.TorchvisionWarmup`). As with the
    original (a ``LambdaLR``), ``m(0)`` is applied when the scheduler is built and each
    ``step()`` advances ``x`` by one; ``warmup_iters = 0`` means no warmup. Unlike the
    original, bad arguments raise ``ValueError`` and the state dict loads with
    ``weights_only=True``.

    >>> import torch
    >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.02)
    >>> sched = warmup_lr_scheduler(opt, warmup_iters=1000, warmup_factor=0.001)
    >>> opt.param_groups[0]["lr"]
    2e-05
    """
    return ScheduleLR(optimizer, torchvision_drop_in(warmup_iters, warmup_factor))


class UltralyticsLR(ScheduleLR):
    """ultralytics YOLO's schedule on a torch optimizer, stepped once per iteration (batch):
    each param group's lr and the momentum its trainer sets, by the rules of its ``version``
    (see :mod:`lrkit.recipes.ultralytics`; default: the newest checked).

    Group ``g`` starts from its own lr (``initial_lr``, else ``lr``), as the trainer's
    ``x["initial_lr"] * lf(epoch)``; the biases' group (``param_group="bias"`` from
    ultralytics 8.4.3, the first group before) starts its warmup at ``warmup_bias_lr``.
    The momentum of every group that has one goes from ``warmup_momentum`` to
    ``momentum`` (default: the optimizer's, kept in ``initial_momentum``) over the warmup.
    Call :meth:`step` after each
    ``optimizer.step()``; :meth:`state_dict` resumes mid-warmup exactly (the trainer's
    ``ni`` is the position).

    >>> import torch
    >>> w, bn, b = (torch.zeros(1, requires_grad=True) for _ in range(3))
    >>> opt = torch.optim.SGD([{"params": [w], "param_group": "weight"}, {"params": [bn], "param_group": "bn"},
    ...                        {"params": [b], "param_group": "bias"}], lr=0.01, momentum=0.937, nesterov=True)
    >>> sched = UltralyticsLR(opt, lrf=0.01, epochs=100, batches=500)
    >>> for _ in range(750):
    ...     opt.step(); sched.step()
    >>> [round(g["lr"], 6) for g in opt.param_groups], round(opt.param_groups[0]["momentum"], 4)
    ([0.004951, 0.004951, 0.05495], 0.8685)
    """

    def __init__(self, optimizer: Optimizer, *, lrf: float = 0.01, epochs: int, batches: int,
                 warmup_epochs: float = 3.0, warmup_bias_lr: float = 0.1, warmup_momentum: float = 0.8,
                 momentum: float | None = None, cos_lr: bool = False, version: str = ULTRALYTICS_CHECKED,
                 last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a torch optimizer, got {optimizer!r}")
        groups = optimizer.param_groups
        lr0s = [_plain(g.get("initial_lr", g["lr"])) for g in groups]
        with_m = [i for i, g in enumerate(groups) if "momentum" in g]
        if momentum is None:
            # the optimizer's own, kept in "initial_momentum" (as torch keeps "initial_lr"), so a
            # scheduler built after optimizer.load_state_dict mid-warmup targets the same value
            for i in with_m:
                groups[i].setdefault("initial_momentum", _plain(groups[i]["momentum"]))
            momentum = groups[with_m[0]]["initial_momentum"] if with_m else 0.937
        self.recipe = ultralytics_schedules(lr0s[0], lrf, epochs, batches, warmup_epochs=warmup_epochs,
                                            warmup_bias_lr=warmup_bias_lr, warmup_momentum=warmup_momentum,
                                            momentum=momentum, cos_lr=cos_lr, version=version, lr0s=lr0s,
                                            groups=[g.get("param_group") for g in groups])
        # the trainer writes the momentum of the groups that have one, during its warmup
        self._momentum_groups = with_m if self.recipe.warmup_iters else []
        self._momentum = self.recipe.momentum.checked
        super().__init__(optimizer, self.recipe.lr, absolute=True, last_epoch=last_epoch)

    def step(self, epoch: float | None = None) -> None:  # type: ignore[override]
        """Advance one iteration (``step(ni)`` jumps to iteration ``ni``) and write each group's
        lr and the momentum."""
        with self._lock:
            super().step(epoch)
            if self._momentum_groups:
                m = self._momentum(self._t)
                groups = self.optimizer.param_groups
                for i in self._momentum_groups:
                    cur = groups[i]["momentum"]
                    if isinstance(cur, Tensor):
                        cur.fill_(m)
                    else:
                        groups[i]["momentum"] = m

    def _identity(self) -> dict[str, Any]:
        out = super()._identity()
        out["class"] = "lrkit.torch.UltralyticsLR"
        # everything else that decides the values written: the momentum plan and the groups it drives
        out["momentum"] = fingerprint(self.recipe.momentum)
        out["momentum_groups"] = list(self._momentum_groups)
        return out


def set_optimizer_lr(optimizer: Optimizer, lr_scheduler_func: Callable[[float], float], epoch: float) -> None:
    """Write ``lr_scheduler_func(epoch)`` into every param group (the YOLOX-style companion of ``get_lr_scheduler``).

    The same value goes to every group (an absolute lr, not a multiplier), as in the
    original; a tensor lr is filled in place.

    >>> import torch
    >>> from lrkit.recipes import get_lr_scheduler
    >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    >>> set_optimizer_lr(opt, get_lr_scheduler("cos", 0.01, 0.0001, 300), 3)
    >>> opt.param_groups[0]["lr"]
    0.010000000000000002
    """
    lr = lr_scheduler_func(epoch)
    for g in optimizer.param_groups:
        if isinstance(g["lr"], Tensor):
            g["lr"].fill_(lr)
        else:
            g["lr"] = lr


class CosineAnnealingWarmbootingLR(CawbCounters, _tl.LRScheduler):
    """CAWB: cosine annealing with warm restarts at ``steps``, each restart's peak times ``step_scale``.

    A drop-in for the original class (same arguments, attributes and calls): call
    :meth:`step_batch` before every batch (the linear warmup from 0 over
    ``batchs * warmup_epoch`` batches) and :meth:`step` after every epoch. With
    ``B = [warmup_epoch] + sorted(s in steps, warmup_epoch < s < epochs) + [epochs]``
    and ``t = iters + last_epoch``, ``step()`` writes into each group::

        lr = step_scale ** i * base_lr * lf(t - B[i], gap)     (i: first segment with t <= B[i+1])
        gap = B[i+1] - B[i] (+ epoch_scale except in the last segment)
        lf(x, gap) = ((1 + cos(x * pi / gap)) / 2) * (1 - eta_min) + eta_min   (lf=None)

    ``eta_min`` is a ratio of each group's base lr (its lr when the scheduler is
    built). The values come from :class:`lrkit.recipes.CAWB`, which documents the
    behaviour past ``epochs`` and during warmup. Resume either by setting
    ``last_epoch`` (positions shift by it, as in the original) or with
    :meth:`state_dict` / :meth:`load_state_dict` (plain values). Unlike the original,
    the caller's ``steps`` list is not sorted in place and bad arguments
    (``epochs <= 0``, ``batchs < 0``, ...) raise ``ValueError`` at construction.

    >>> import torch
    >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    >>> sched = CosineAnnealingWarmbootingLR(opt, epochs=150, steps=[50, 100], batchs=4)
    >>> sched.step()
    0.1
    """

    def __init__(self, optimizer: Optimizer, epochs: float = 0, eta_min: float = 0.05,
                 steps: SequenceT[float] = (), step_scale: float = 0.8,
                 lf: Callable[[float, float], float] | None = None, batchs: int = 0,
                 warmup_epoch: float = 0, epoch_scale: float = 1.0) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {type(optimizer).__name__}")
        self._init_counters(epochs, eta_min, steps, step_scale, lf, batchs, warmup_epoch, epoch_scale)
        self.base_lr = base_values("the param groups' lr", [_plain(g["lr"]) for g in optimizer.param_groups])
        for g in optimizer.param_groups:
            g.setdefault("initial_lr", g["lr"])
        _run_eagerly_under_compile()
        super().__init__(optimizer)
        self.last_epoch = 0  # the original's resume offset, not torch's step counter
        self._last_lr = [_plain(g["lr"]) for g in optimizer.param_groups]

    def _initial_step(self) -> None:
        # The original leaves the lrs alone until the first step_batch() or step().
        self._step_count = 0

    def _write(self, values: list[float]) -> None:
        for g, v in zip(self.optimizer.param_groups, values, strict=True):
            if isinstance(g["lr"], Tensor):
                g["lr"].fill_(v)
            else:
                g["lr"] = v
        self._last_lr = values

    def step(self, external_iter: int | None = None) -> float:  # type: ignore[override]
        """End of an epoch: advance the epoch counter (or set it to ``external_iter``), write the lrs, return group 0's."""
        scale, factor = self._step_terms(external_iter)
        self._write([scale * b * factor for b in self.base_lr])
        return self._last_lr[0]

    def step_batch(self) -> float | None:
        """Before a batch: during warmup write ``base_lr * (k / warmup_iters)`` (``k``-th call) and return group 0's; else None."""
        r = self._next_batch()
        if r is None:
            return None
        self._write([b * r for b in self.base_lr])
        return self._last_lr[0]

    def get_last_lr(self) -> list[float]:  # type: ignore[override]
        """The lrs written by the last :meth:`step` or :meth:`step_batch` (the groups' lrs before any)."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Counters (``gap``'s history included), resume offset, base lrs and the lrs in force, as plain values."""
        out = self._counter_state()
        out.update({"base_lr": list(self.base_lr), "last_lr": list(self._last_lr)})
        return out

    def load_state_dict(self, state_dict: dict[str, Any], *, strict: bool = True) -> None:
        """Restore :meth:`state_dict` and write back the lrs that were in force.

        Another scheduler's state, or one saved with other boundaries (``strict=False``
        accepts those), raises ``ValueError`` and changes nothing.
        """
        cawb_state_keys(state_dict)
        bases = base_values("the state's base_lr", state_dict["base_lr"])
        if len(bases) != len(self.optimizer.param_groups):
            raise ValueError(f"the state holds {len(bases)} base lrs but the optimizer has "
                             f"{len(self.optimizer.param_groups)} param groups")
        last = state_dict.get("last_lr")
        if last is not None:
            last = [_check_real("the state's last_lr", v) for v in last]
            if len(last) != len(bases):
                raise ValueError(f"the state holds {len(last)} lrs in force for {len(bases)} param groups")
        self._restore_counters(state_dict, strict)
        self.base_lr = bases
        if last is not None:
            self._write(last)
