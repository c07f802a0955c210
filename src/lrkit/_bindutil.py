"""Checks and bookkeeping that the PyTorch and the Paddle bindings share.

Nothing here imports a framework or computes a schedule value: argument checks, the
checkpoint consistency checks, the counters of the CAWB drop-ins, and the inverse of
OneCycle's phase-end rounding (used by both ``from_torch`` and ``from_paddle``).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Mapping

from . import _check
from .core import Schedule, ScheduleWarning, check_schedule
from .recipes import CAWB, cawb_lf
from .recipes._dropin import _drop_in_warning

__all__ = ["check_schedule", "schedule_tuple", "check_group_count", "per_step", "check_last_epoch",
           "check_saved", "same_steps_per_epoch", "pct_start", "real", "CawbCounters"]

#: A finite float or ``ValueError`` (``TypeError`` for a non-number), naming the value.
real = _check.real


def schedule_tuple(schedule: Any) -> tuple[tuple[Schedule, ...], bool]:
    """``(schedules, per_group)`` from one schedule or a list of them (one per param group)."""
    if isinstance(schedule, Schedule):
        return (schedule,), False
    if isinstance(schedule, (list, tuple)):
        return tuple(check_schedule(f"schedule[{i}]", s) for i, s in enumerate(schedule)), True
    raise TypeError(f"schedule must be an lrkit Schedule or a list of them (one per param group), "
                    f"got {schedule!r} ({type(schedule).__name__})")


def check_group_count(schedules: tuple[Schedule, ...], n_groups: int) -> None:
    """One schedule per param group: ``ValueError`` when the counts differ."""
    if len(schedules) != n_groups:
        raise ValueError(f"schedule holds {len(schedules)} schedules but there are {n_groups} param groups; "
                         "give one schedule, or one per group")


def per_step(schedules: tuple[Schedule, ...], steps_per_epoch: float | None) -> tuple[Schedule, ...]:
    """The schedules evaluated per step when they are defined in epochs (``steps_per_epoch`` given)."""
    if steps_per_epoch is None:
        return schedules
    return tuple(s.per_step(steps_per_epoch) for s in schedules)


def check_last_epoch(last_epoch: Any) -> int:
    """The frameworks' resume argument: an integer ``>= -1``."""
    if isinstance(last_epoch, bool) or not isinstance(last_epoch, int) or last_epoch < -1:
        raise ValueError(f"last_epoch must be an integer >= -1, got {last_epoch!r}")
    return last_epoch


def check_saved(state: Mapping[str, Any], name: str, current: Any,
                same: Callable[[Any, Any], bool] | None = None) -> None:
    """``ValueError`` if ``state`` was saved with another ``name`` than this scheduler's ``current``.

    A state without the key (saved by an older version) is accepted: nothing to compare.
    """
    if name not in state:
        return
    saved = state[name]
    ok = same(saved, current) if same is not None else saved == current
    if not ok:
        raise ValueError(f"the state was saved with {name}={saved!r} but this scheduler has {name}={current!r}; "
                         f"build the scheduler with {name}={saved!r} to load it")


def base_values(name: str, values: Any) -> list[float]:
    """A binding's base values: a list of finite numbers ``>= 0`` (``ValueError`` naming the bad one)."""
    if isinstance(values, (str, bytes, Mapping)) or not hasattr(values, "__iter__"):
        raise ValueError(f"{name} must be a list of numbers, got {_check.show(values)}")
    out = []
    for i, v in enumerate(values):
        try:
            out.append(_check.rate(f"{name}[{i}]", v))
        except TypeError as e:
            raise ValueError(str(e)) from None
    return out


def base_value(name: str, value: Any) -> float:
    """One base value: a finite number ``>= 0`` (``ValueError`` naming it otherwise)."""
    try:
        return _check.rate(name, value)
    except TypeError as e:
        raise ValueError(str(e)) from None


def cawb_state_keys(state: Any) -> None:
    """``ValueError`` unless ``state`` is a mapping with the CAWB drop-ins' entries."""
    if not isinstance(state, Mapping):
        raise ValueError(f"not a CosineAnnealingWarmbootingLR state dict, got {_check.show(state)}")
    missing = {"iters", "iters_batch", "last_epoch", "base_lr"} - set(state)
    if missing:
        raise ValueError(f"not a CosineAnnealingWarmbootingLR state dict: missing {sorted(missing)}")


_SHOWN = 5  # differences named in a refusal


def differences(saved: Any, here: Any, path: str) -> list[str]:
    """Where two plain values (configs) differ, as ``path: saved X, here Y``, one entry per
    differing leaf (``schedules[0].min_lr: saved 1e-05, here 1e-06``), so a refusal names what
    differs rather than two long configs cut off before it. No recursion: any depth is fine."""
    out: list[str] = []
    stack = [(saved, here, path)]
    while stack and len(out) <= _SHOWN:
        a, b, p = stack.pop()
        if a == b:
            continue
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            keys = list(b) + [k for k in a if k not in b]
            for k in reversed(keys):
                if k not in a:
                    out.append(f"{p}.{k}: not in the saved state, here {_check.show(b[k])}")
                elif k not in b:
                    out.append(f"{p}.{k}: saved {_check.show(a[k])}, not here")
                else:
                    stack.append((a[k], b[k], f"{p}.{k}"))
        elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
            stack.extend((x, y, f"{p}[{i}]") for i, (x, y) in reversed(list(enumerate(zip(a, b)))))
        else:
            out.append(f"{p}: saved {_check.show(a)}, here {_check.show(b)}")
    return out


def check_identity(state: Mapping[str, Any], saved_as: str, mine: Mapping[str, Any], strict: bool) -> None:
    """Refuse a state saved by another scheduler, or by this class for another plan.

    ``mine`` maps each identifying entry (``class``, ``schedules``, ``groups``, base
    values...) to this scheduler's value. With ``strict=True`` (the default of the
    loaders) any difference is a ``ValueError`` saying what differs; ``strict=False``
    loads the position and counters anyway (a deliberate change of plan). A state with
    no ``class`` entry was not written by this class: refused unless ``strict=False``.
    """
    if not isinstance(state, Mapping):
        raise ValueError(f"not a {saved_as} state dict: got {_check.show(state)}")
    if state.get("class") != mine["class"]:
        if "class" in state:
            what = f"was saved by {state['class']!r}"
        else:
            what = f"has no 'class' entry (keys: {', '.join(sorted(map(str, state)))})"
        if strict or "class" in state:
            raise ValueError(f"this state {what}, not by {mine['class']!r}: it belongs to another scheduler")
    if not strict:
        return
    diffs: list[str] = []
    for k, v in mine.items():
        if k != "class" and k in state and state[k] != v:
            diffs.extend(differences(state[k], v, k))
    missing = [k for k in mine if k not in state]
    if len(diffs) > _SHOWN:
        diffs = diffs[:_SHOWN] + [f"and {len(diffs) - _SHOWN} more difference(s)"]
    if diffs or missing:
        parts = diffs + ([f"missing entries {', '.join(missing)}"] if missing else [])
        raise ValueError(f"the state was saved for another plan ({'; '.join(parts)}). To continue this run with "
                         "the new plan from the saved position, load it with strict=False")


def same_steps_per_epoch(a: Any, b: Any) -> bool:
    """Whether two ``steps_per_epoch`` values (``None`` or numbers) are the same setting."""
    if a is None or b is None:
        return a is None and b is None
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


def pct_start(end0: float, total: int, three: bool, end1: float | None) -> float:
    """The OneCycle ``pct_start`` reproducing a framework's stored phase ends exactly.

    PyTorch and Paddle both store the first phase's end as ``pct * total - 1`` and, with
    three phases, the second's as ``2 * pct * total - 2`` (float products). ``(end0 + 1) /
    total`` can be an ulp off after that rounding; a few ulp steps find the ``pct`` that
    gives the stored ends back.
    """
    pct = (end0 + 1) / total
    for _ in range(4):
        if pct * total - 1 == end0 and (not three or 2 * pct * total - 2 == end1):
            return pct
        pct = math.nextafter(pct, math.inf if pct * total - 1 < end0 else -math.inf)
    return (end0 + 1) / total


class CawbCounters:
    """The original CAWB's counters and arithmetic, framework-free, for the drop-ins.

    The class using it writes the lrs. The values follow the original step by step:
    its attributes (``steps``: the boundaries, ``gap``, ``eta_min``, ``step_scale``,
    ``lf``, ``epoch_scale``, ``warmup_iters``, ``iters``, ``iters_batch``,
    ``last_epoch``) have the original's values, ``gap`` keeps its history between
    calls as the original's does, and every input on which the original returns a
    finite value gives that value -- with a :class:`~lrkit.recipes.DropInWarning`
    where it is probably a mistake. :attr:`schedule` is the same curve as an lrkit
    :class:`~lrkit.recipes.CAWB` schedule (``None`` when the arguments are valid for
    the drop-in only, e.g. ``warmup_epoch > epochs``).
    """

    schedule: CAWB | None
    iters: int
    iters_batch: int
    last_epoch: Any
    warmup_iters: float

    _CLASS = "CosineAnnealingWarmbootingLR"

    def _init_counters(self, epochs: float, eta_min: float, steps: Iterable[float], step_scale: float,
                       lf: Any, batchs: int, warmup_epoch: float, epoch_scale: float) -> None:
        E = _check.real("epochs", epochs)
        eta = _check.real("eta_min", eta_min)
        if isinstance(steps, (str, bytes)) or not hasattr(steps, "__iter__"):
            raise TypeError(f"steps must be a list of epoch numbers, got {_check.show(steps)}")
        st = [_check.real(f"steps[{i}]", v) for i, v in enumerate(_check.items("steps", steps))]
        ss = _check.rate("step_scale", step_scale)
        nb = _check.rate("batchs", batchs)
        we = _check.real("warmup_epoch", warmup_epoch)
        es = _check.real("epoch_scale", epoch_scale)
        if lf is not None and not callable(lf):
            raise TypeError(f"lf must be None or a function lf(x, gap), got {_check.show(lf)}")
        if not E > 0:
            # the original's only segment would have no length: it divides by zero
            raise ValueError(f"epochs must be > 0, got {_check.show(epochs)}")
        self._warned: set[str] = set()
        if not nb.is_integer():
            self._warn("batchs", f"batchs={batchs!r} is not a whole number of batches per epoch")
        if we >= E:
            self._warn("warmup_epoch", f"warmup_epoch={warmup_epoch!r} is not below epochs={epochs!r}: the cosine "
                                       "segment runs backwards")
        if not 0 <= eta <= 1:
            self._warn("eta_min", f"eta_min={eta_min!r} is a ratio of the base lr, normally in [0, 1]")
        if we < 0:
            self._warn("warmup_epoch", f"warmup_epoch={warmup_epoch!r} is negative")
        self.steps = [we] + [v for v in sorted(st) if we < v < E] + [E]
        self.gap = 0
        self.eta_min, self.step_scale, self.lf, self.epoch_scale = eta, ss, lf, es
        self.warmup_iters = nb * we
        n = len(self.steps) - 1
        scales = [1.0]
        for _ in range(n):
            scales.append(scales[-1] * ss)
        self._scales = scales
        self._gaps = [self.steps[i + 1] - self.steps[i] + (es if i != n - 1 else 0.0) for i in range(n)]
        self._ends = self.steps[1:]
        try:
            self.schedule = CAWB(E, eta, st, ss, lf, nb, we, es)
        except (ValueError, TypeError):
            self.schedule = None
        self.iters = -1
        self.iters_batch = -1

    def _warn(self, key: str, text: str) -> None:
        """A :class:`~lrkit.recipes.DropInWarning`, once per kind of oddity per scheduler."""
        if key not in self._warned:
            self._warned.add(key)
            _drop_in_warning("CosineAnnealingWarmbootingLR", text)

    def _next_epoch(self, external_iter: Any) -> int:
        """``step()``'s counter: one more epoch, or ``external_iter`` when given."""
        if external_iter is not None:
            _check.real("external_iter", external_iter)
            self.iters = external_iter
        else:
            self.iters += 1
        return self.iters

    def _epoch_terms(self, iters: Any) -> tuple[float, float]:
        """``(scale, factor)`` of the original's ``step()`` at counter ``iters``; updates ``gap`` as it does."""
        import bisect

        t = iters + self.last_epoch
        ends = self._ends
        # the original walks the segments in order; the boundaries are sorted: a bisection
        i = bisect.bisect_left(ends, t)
        if i < len(ends):
            gap, x, scale = self._gaps[i], t - self.steps[i], self._scales[i]
        else:
            gap, x, scale = self.gap, t, self._scales[-1]
            self._warn("past_end", f"position {t!r} is past epochs={self.steps[-1]!r}: the original's curve "
                                   "goes on there (the cosine of the unshifted position)")
        if gap == 0:
            raise ValueError(f"CAWB step at position {t!r}: the segment length (gap) is 0, so the original "
                             "divides by zero here (no step inside the run has been taken yet?)")
        factor = cawb_lf(self.lf, self.eta_min, x, gap)
        if not math.isfinite(factor) or not math.isfinite(scale * factor):
            raise ValueError(f"CAWB step at position {t!r}: lf({x!r}, {gap!r}) * step_scale ** {i} = "
                             f"{scale * factor!r}, not a finite number")
        if factor < 0 or scale * factor < 0:
            self._warn("negative", f"the lr at position {t!r} is negative (lf({x!r}, {gap!r}) = {factor!r}); "
                                   "the original's value is applied")
        self.gap = gap
        return scale, factor

    def _step_terms(self, external_iter: Any) -> tuple[float, float]:
        """``step()``'s counter moved and its ``(scale, factor)``; a step that raises changes nothing."""
        old = (self.iters, self.gap)
        try:
            return self._epoch_terms(self._next_epoch(external_iter))
        except (ValueError, TypeError):
            self.iters, self.gap = old
            raise

    def _next_batch(self) -> float | None:
        """``step_batch()``'s warmup factor at its next counter (``None`` after the warmup)."""
        self.iters_batch += 1
        if self.iters_batch < self.warmup_iters:
            return self.iters_batch / self.warmup_iters
        return None

    def _counter_state(self) -> dict[str, Any]:
        return {"class": self._CLASS, "iters": self.iters, "iters_batch": self.iters_batch,
                "last_epoch": self.last_epoch, "gap": self.gap, "steps": list(self.steps)}

    def _restore_counters(self, state_dict: Any, strict: bool = True) -> None:
        """Check a saved state and restore the counters from it (nothing changes if it is refused)."""
        c = _check
        if not isinstance(state_dict, Mapping):
            raise ValueError(f"not a CosineAnnealingWarmbootingLR state dict, got {c.show(state_dict)}")
        if state_dict.get("class", self._CLASS) != self._CLASS:
            raise ValueError(f"this state was saved by {state_dict['class']!r}, not by {self._CLASS!r}")
        missing = {"iters", "iters_batch", "last_epoch", "base_lr"} - set(state_dict)
        if missing:
            raise ValueError(f"not a CosineAnnealingWarmbootingLR state dict: missing {sorted(missing)}")
        if strict and "steps" in state_dict and list(state_dict["steps"]) != list(self.steps):
            raise ValueError(f"the state was saved with boundaries {state_dict['steps']!r} but this scheduler has "
                             f"{self.steps!r}; load it with strict=False to go on with the new ones")
        values = {}
        for k in ("iters", "iters_batch"):
            v = state_dict[k]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (v >= -1 and float(v).is_integer()):
                raise ValueError(f"the state's {k} must be a whole number >= -1, got {c.show(v)}")
            values[k] = int(v)
        values["last_epoch"] = c.real("the state's last_epoch", state_dict["last_epoch"])
        values["gap"] = c.real("the state's gap", state_dict.get("gap", self.gap))
        self.iters, self.iters_batch, self.gap = values["iters"], values["iters_batch"], values["gap"]
        le = values["last_epoch"]
        self.last_epoch = int(le) if le.is_integer() else le


def check_intent(schedules: tuple[Schedule, ...], bases: list[float], *, multiplier: bool, who: str,
                 absolute_hint: str) -> None:
    """Warn where a binding's two modes are probably confused.

    * multiplier mode (``value = base * schedule``): a schedule that peaks at a group's
      own learning rate, or that peaks below 1 where ``base * peak`` is below 1e-6,
      holds learning rates, not multipliers: the lr would be squared (3e-4 -> 9e-8);
    * absolute mode with one schedule and groups whose learning rates differ: every
      group gets the same values, their ratio is lost.
    """
    import warnings

    from .recipes._dropin import _caller

    if multiplier:
        for i, b in enumerate(bases):
            s = schedules[i] if len(schedules) > 1 else schedules[0]
            peak = s.max_value
            if not (math.isfinite(peak) and 0 < peak < 1 and b != 1.0):
                continue
            if math.isclose(peak, b, rel_tol=1e-9) or peak * b < 1e-6:
                warnings.warn(
                    f"{who}: the schedule peaks at {peak:g} and multiplies the learning rate {b:g}"
                    f"{f' of param group {i}' if len(bases) > 1 else ''}, so the lr would peak at {peak * b:g}. "
                    f"If the schedule's values are learning rates, {absolute_hint}; as a multiplier, give "
                    "the schedule peak_lr=1.0", ScheduleWarning, stacklevel=_caller())
                return
    elif len(schedules) == 1 and len(set(bases)) > 1:
        shown = ", ".join(f"{b:g}" for b in bases[:4]) + (", ..." if len(bases) > 4 else "")
        warnings.warn(
            f"{who}: absolute=True writes the schedule's values to all {len(bases)} param groups, whose "
            f"learning rates differ ({shown}): their ratio is lost. For one schedule scaling each group's "
            "own lr, leave absolute=False (with peak_lr=1.0); or pass one schedule per group",
            ScheduleWarning, stacklevel=_caller())
