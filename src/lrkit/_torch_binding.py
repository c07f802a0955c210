"""PyTorch binding: the scheduler class that drives a ``torch.optim`` optimizer's param groups.

:class:`ScheduleLR` (public as :class:`lrkit.torch.ScheduleLR`) is a real
``torch.optim.lr_scheduler.LRScheduler`` whose whole state is a step counter and the base
values: each ``step()`` evaluates the closed-form schedule at the new position and writes
the param groups. No schedule math and no conversion live here: the conversion of torch's
schedulers is :mod:`lrkit.convert.torch`, the recipes' drop-ins built on this class are
:mod:`lrkit.recipes.torch_dropins`, and :mod:`lrkit.torch` gathers the public names.

This module imports torch; ``import lrkit`` does not import it.
"""

from __future__ import annotations

import numbers
import threading
from collections.abc import Sequence as SequenceT
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor
from torch.optim import Optimizer
from torch.optim import lr_scheduler as _tl

from ._binding import PositionCounter
from ._bindutil import (
    base_values,
    check_group_count,
    check_identity,
    check_intent,
    check_last_epoch,
    check_saved,
    per_step,
    same_steps_per_epoch,
    schedule_tuple,
)
from .core import Schedule, fingerprint
from .replan import apply_ops, loaded_ops, prepared

if TYPE_CHECKING:
    from .plateau import Plateau

__all__ = ["ScheduleLR"]

_BETAS = {"beta1": 0, "beta2": 1}
_INF = float("inf")


_AHEAD = 4096  # positions evaluated at once on the hot path
_FIRST_BLOCK = 16  # the first block after a change of plan or position
_AHEAD_LIMIT = 2.0**52  # whole positions stay exact when added to arange(_AHEAD)


_OFFSETS: list = []


def _offsets() -> Any:
    """``0, 1, ..., _AHEAD - 1`` as a float64 array (made once)."""
    if not _OFFSETS:
        import numpy

        _OFFSETS.append(numpy.arange(_AHEAD, dtype=numpy.float64))
    return _OFFSETS[0]


_DYNAMO_SKIP: set = set()


def _run_eagerly_under_compile(module: str = __name__) -> None:
    """Have ``torch.compile`` run ``module``'s code (default: this one) eagerly, as it does
    PyTorch's own ``lr_scheduler.py``: a ``scheduler.step()`` inside a compiled function is
    then a graph break, not a trace whose Python floats force a recompile at every step.

    Uses dynamo's own skip list (``trace_rules.add``); with a PyTorch that lacks it,
    call ``scheduler.step()`` outside the compiled function (zero recompiles either way).
    Building an optimizer has imported dynamo already, so this costs nothing.
    """
    if module in _DYNAMO_SKIP:
        return
    _DYNAMO_SKIP.add(module)
    try:
        from torch._dynamo import trace_rules

        trace_rules.add(module)
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
        plateau: a :class:`~lrkit.plateau.Plateau` policy (flavor torch, paddle, mmengine
            or keras; one lr or one per group): :meth:`observe` a metric whenever one is
            available and each reduction scales the rest of the plan from there,
            ``value_g(t) = base_g * max(plan_g(t) * m_g, min_lr_g / base_g)`` (``m_g``
            times ``factor`` per reduction of group g; see :mod:`lrkit._plateau_plan`),
            recorded in the state; :meth:`realised` and :meth:`explain` give the run.

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

    def __init__(
        self,
        optimizer: Optimizer,
        schedule: Schedule | SequenceT[Schedule],
        *,
        absolute: bool = False,
        steps_per_epoch: float | None = None,
        key: str = "lr",
        last_epoch: int = -1,
        plateau: Plateau | None = None,
    ) -> None:
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
            if (
                isinstance(cur, bool)
                or not isinstance(cur, (numbers.Real, Tensor))
                or (isinstance(cur, Tensor) and (cur.numel() != 1 or cur.dtype == torch.bool))
            ):
                raise ValueError(
                    f"key {key!r}: param group {i} holds {cur!r}, not a real number; only "
                    "real-number entries (lr, momentum, weight_decay, betas) can be driven"
                )
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
                    raise KeyError(
                        f"param group {i} has no {self._initial_key!r} entry: resuming with "
                        "last_epoch >= 0 needs the optimizer's state loaded first"
                    )

        self._schedules = schedules
        self._planned = schedules  # before any re-plan (see replan)
        self._replans: list[dict[str, Any]] = []
        self._key = key
        self._gkey = gkey
        self._index = index
        self._absolute = absolute
        self._steps_per_epoch = steps_per_epoch
        self.base_values = base_values(
            f"the param groups' {self._initial_key!r}", [_plain(g[self._initial_key]) for g in groups]
        )
        self._per_group = per_group
        if key == "lr" and last_epoch == -1:
            check_intent(
                schedules,
                self.base_values,
                multiplier=not absolute,
                who="ScheduleLR",
                absolute_hint="pass absolute=True",
            )
        self._lock = threading.RLock()
        self._set_fast_path()
        self._t = float(last_epoch)
        _run_eagerly_under_compile()
        self._plateau: Any = None
        super().__init__(optimizer, last_epoch)
        if plateau is not None:  # see lrkit._plateau_plan for the formula
            from ._plateau_plan import PlanPlateau

            self._plateau = PlanPlateau(plateau, self.values(), self._bases)

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

    def step(self, epoch: float | None = None) -> None:
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
                if isinstance(epoch, Tensor):
                    raise ValueError(
                        f"step(epoch) takes a position (a number >= 0), got a tensor {epoch!r}: trainers pass a "
                        "metric to the schedulers they take for ReduceLROnPlateau (PyTorch Lightning with "
                        "'reduce_on_plateau': True). Give metrics to observe(metric) (ScheduleLR(..., "
                        "plateau=lrkit.plateau.Plateau(...))) and call step() once per update"
                    )
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
                    block = block[: int(ok.argmin())]
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
            raise RuntimeError(
                f"the optimizer now has {len(groups)} param groups but this scheduler was "
                f"built for {self._n}; build a new scheduler after add_param_group"
            )
        self._it = iter(())
        key, gkey, i = self._key, self._gkey, self._index
        all_float = self._fn is not None and i is None
        values = []
        one = all_float and self._same  # one schedule, one base: one evaluation
        for b, f in zip(self._bases[:1] if one else self._bases, self._fns):
            v = b * f(t)
            if not 0 <= v < _INF:
                raise ValueError(f"the value at position {t!r} is {v!r} (base {b!r}): not a finite number >= 0")
            values.append(v)
        if one:
            values *= self._n
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
                    g[gkey] = old[:i] + (v,) + old[i + 1 :]
        self._float_groups = groups if all_float else None

    def values(self, t: float | None = None) -> list[float]:
        """The values this scheduler writes at position ``t`` (default: the current one), per group."""
        t = self._t if t is None else self._position(t)
        if t < 0:
            raise RuntimeError("the scheduler has not made its first step yet")
        if self._same and len(self._schedules) == 1:  # one schedule, one base: one evaluation
            return [self._b0 * self._fns[0](t)] * self._n
        return [b * f(t) for b, f in zip(self._bases, self._fns)]

    # floats, not torch's list[float | Tensor]: the values are computed in float64 on the host
    def get_last_lr(self) -> list[float]:  # pyright: ignore[reportIncompatibleMethodOverride]
        """The values written by the last :meth:`step`, one float per param group.

        For a scheduler driving another key (``key="momentum"``...), these are
        that key's values.
        """
        return self.values()

    def get_lr(self) -> list[float]:  # pyright: ignore[reportIncompatibleMethodOverride] (floats, as above)
        return self.values()

    @property
    def schedules(self) -> tuple[Schedule, ...]:
        """The schedules driving the groups (one, or one per group), as evaluated per step."""
        return self._built()

    def _built(self) -> tuple[Schedule, ...]:
        """The schedules, with the plateau's reductions (applied at once, built on demand) built."""
        if self._plateau is None:
            return self._schedules
        from ._plateau_plan import built

        return built(self._schedules)

    # -- a plateau policy on the plan (lrkit._plateau_plan) -----------------------------
    def observe(self, metric: Any) -> bool:
        """Give a metric (e.g. the validation loss) to the ``plateau`` policy; True when it
        reduces the rest of the plan from the current position (see :mod:`lrkit._plateau_plan`:
        ``value_g(t) = base_g * max(plan_g(t) * m_g, min_lr_g / base_g)``). Call it whenever a
        metric is available; keep calling :meth:`step` once per update."""
        if self._plateau is None:
            raise RuntimeError(
                "observe(metric) needs a plateau policy: ScheduleLR(..., plateau=lrkit.plateau.Plateau(...))"
            )
        with self._lock:
            new = self._plateau.observe(metric, self._t, self.values, self._schedules, len(self._replans))
            if new is None:
                return False
            # the reduced schedules (as many as before): what step() evaluates changes, nothing else
            self._schedules = new
            if len(new) == 1:
                self._fn = check = new[0].checked  # (_fn: not None when one schedule drives every group)
                self._fns = (check,) * self._n
            else:
                self._fn, self._fns = None, tuple(s.checked for s in new)
            self._ahead = len(new) == 1 and not new[0].runs_python
            self._ahead_from = 0.0
            self._it, self._block = iter(()), _FIRST_BLOCK  # the look-ahead held the old values
            groups = self.optimizer.param_groups
            if groups is self._float_groups and len(groups) == self._n and self._same and len(new) == 1:
                # step()'s hot path: one value, plain floats in every group
                v = self._b0 * new[0].checked(self._t)
                key = self._key
                if 0 <= v < _INF:
                    for g in groups:
                        if g[key].__class__ is not float:
                            break
                        g[key] = v
                    else:
                        return True
            self._write(self._t, groups)
            return True

    def realised(self) -> list[Schedule]:
        """Per param group, the values this scheduler writes (the plan, its re-plans and the
        plateau's reductions so far) as one ordinary lrkit schedule: ``to_dict``, ``show``,
        ``plot`` and ``explain`` take it."""
        from ._plateau_plan import realised

        return realised(self._built(), self._bases, self._n)

    def explain(self, lang: str = "en") -> str:
        """:meth:`realised` in words (:func:`lrkit.explain`, ``lang`` "en" or "zh"), then each
        plateau reduction: its factor, step and reason."""
        from ._plateau_plan import explain_run

        if self._plateau is None:
            raise RuntimeError(
                "explain() tells a plateau policy's reductions: ScheduleLR(..., plateau=lrkit.plateau.Plateau(...))"
            )
        return explain_run(self._plateau, self.realised(), lang)

    # -- checkpoints -------------------------------------------------------------------
    def _identity(self) -> dict[str, Any]:
        """What a saved state must match to be this scheduler's (see :meth:`load_state_dict`)."""
        return {
            "class": "lrkit.torch.ScheduleLR",
            "groups": self._n,
            "per_group": self._per_group,
            "schedules": [fingerprint(s) for s in self._plan],
            "base_values": list(self.base_values),
        }

    def replan(
        self,
        *,
        at: float | None = None,
        total_steps: float | None = None,
        cooldown: float | None = None,
        min_lr: float | None = None,
        shape: str | None = None,
        tail: Schedule | None = None,
        jump: bool | None = None,
        keep_warmup: bool | None = None,
    ) -> None:
        """Change the rest of the run from position ``at`` (default: now): a new length
        (``total_steps``), a cooldown from the current value (``cooldown`` positions to
        ``min_lr``), or a new ``tail`` — see :func:`lrkit.replan.replan`, applied to every
        group's schedule. Values before ``at`` stay; the lr is continuous at ``at`` unless
        ``jump=True``. A new length during the warmup re-times the rest of the warmup too,
        unless ``keep_warmup=True`` (the warmup as planned, what follows it re-timed).

        The re-plan is recorded in :meth:`state_dict`: a scheduler built with the original
        plan and loaded with that state follows the re-planned curve exactly. To re-plan a
        run from an older checkpoint, load the checkpoint first, then call ``replan``.
        """
        new, record = prepared(
            self._t,
            self._built(),
            at,
            total_steps=total_steps,
            cooldown=cooldown,
            min_lr=min_lr,
            shape=shape,
            tail=tail,
            jump=jump,
            keep_warmup=keep_warmup,
        )
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
        out.update(
            {
                "last_epoch": self.last_epoch,
                "key": self._key,
                "absolute": self._absolute,
                "steps_per_epoch": None if self._steps_per_epoch is None else float(self._steps_per_epoch),
                "replans": [dict(op) for op in self._replans],
            }
        )
        if self._plateau is not None:
            out["plateau"] = self._plateau.state_dict()
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
        if state_dict.get("class") == "lrkit.paddle.ScheduleLR":  # a Paddle run's state, same plan
            from ._plateau_plan import paddle_state_for_torch

            state_dict = paddle_state_for_torch(self, state_dict)
        key = state_dict.get("key", "lr")
        if key != self._key:
            raise ValueError(f"the state drives key {key!r} but this scheduler drives {self._key!r}")
        check_saved(state_dict, "absolute", self._absolute)
        check_saved(state_dict, "steps_per_epoch", self._steps_per_epoch, same_steps_per_epoch)
        check_identity(state_dict, "ScheduleLR", self._identity(), strict)
        ops = loaded_ops(state_dict, self._replans, strict)
        bases = base_values("the state's base_values", state_dict.get("base_values", self.base_values))
        if len(bases) != len(self.base_values):
            raise ValueError(
                f"the state holds {len(bases)} base values but the optimizer has {len(self.base_values)} param groups"
            )
        old_t, old_bases, old_sched, old_ops = self._t, self.base_values, self._schedules, self._replans
        if strict:
            self.base_values = bases
            if ops != self._replans:  # the state's re-plans, on the plan this scheduler was built with
                self._schedules = tuple(apply_ops(sch, ops) for sch in self._planned)
                self._replans = [dict(op) for op in ops]
        self._set_fast_path()
        old_plateau = None if self._plateau is None else self._plateau.copy()
        try:
            if self._plateau is not None or "plateau" in state_dict:  # see lrkit._plateau_plan
                from ._plateau_plan import load_plateau

                self._schedules = load_plateau(self, state_dict)
                self._set_fast_path()
            self.last_epoch = state_dict["last_epoch"]
            if self._t >= 0:
                self.step(self._t)
        except ValueError:
            # a failed load changes nothing
            self._t, self.base_values, self._schedules, self._replans = old_t, old_bases, old_sched, old_ops
            self._plateau = old_plateau
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


ScheduleLR.__module__ = "lrkit.torch"  # its public path (pickles and reprs name it there)
