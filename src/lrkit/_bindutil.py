"""Checks and bookkeeping that the PyTorch and the Paddle bindings share.

Nothing here imports a framework or computes a schedule value: argument checks, the
checkpoint consistency checks and the warning for a multiplier taken for a learning
rate. (The CAWB drop-ins' counters are :mod:`lrkit.recipes._cawb_dropin`; the conversions'
helpers are :mod:`lrkit.convert`.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from . import _check
from .core import Schedule, ScheduleWarning, check_schedule

__all__ = [
    "check_schedule",
    "schedule_tuple",
    "check_group_count",
    "per_step",
    "check_last_epoch",
    "check_saved",
    "same_steps_per_epoch",
    "real",
    "base_value",
    "base_values",
    "check_identity",
    "check_intent",
]

#: A finite float or ``ValueError`` (``TypeError`` for a non-number), naming the value.
real = _check.real


def schedule_tuple(schedule: Any) -> tuple[tuple[Schedule, ...], bool]:
    """``(schedules, per_group)`` from one schedule or a list of them (one per param group)."""
    if isinstance(schedule, Schedule):
        return (schedule,), False
    if isinstance(schedule, (list, tuple)):
        return tuple(check_schedule(f"schedule[{i}]", s) for i, s in enumerate(schedule)), True
    raise TypeError(
        f"schedule must be an lrkit Schedule or a list of them (one per param group), "
        f"got {schedule!r} ({type(schedule).__name__})"
    )


def check_group_count(schedules: tuple[Schedule, ...], n_groups: int) -> None:
    """One schedule per param group: ``ValueError`` when the counts differ."""
    if len(schedules) != n_groups:
        raise ValueError(
            f"schedule holds {len(schedules)} schedules but there are {n_groups} param groups; "
            "give one schedule, or one per group"
        )


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


def check_saved(
    state: Mapping[str, Any], name: str, current: Any, same: Callable[[Any, Any], bool] | None = None
) -> None:
    """``ValueError`` if ``state`` was saved with another ``name`` than this scheduler's ``current``.

    A state without the key (saved by an older version) is accepted: nothing to compare.
    """
    if name not in state:
        return
    saved = state[name]
    ok = same(saved, current) if same is not None else saved == current
    if not ok:
        raise ValueError(
            f"the state was saved with {name}={saved!r} but this scheduler has {name}={current!r}; "
            f"build the scheduler with {name}={saved!r} to load it"
        )


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
        raise ValueError(
            f"the state was saved for another plan ({'; '.join(parts)}). To continue this run with "
            "the new plan from the saved position, load it with strict=False"
        )


def same_steps_per_epoch(a: Any, b: Any) -> bool:
    """Whether two ``steps_per_epoch`` values (``None`` or numbers) are the same setting."""
    if a is None or b is None:
        return a is None and b is None
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        return False


def check_intent(
    schedules: tuple[Schedule, ...], bases: list[float], *, multiplier: bool, who: str, absolute_hint: str
) -> None:
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
            s = schedules[i if len(schedules) > 1 else 0]
            peak = s.max_value
            if not (math.isfinite(peak) and 0 < peak < 1 and b != 1.0):
                continue
            if math.isclose(peak, b, rel_tol=1e-9) or peak * b < 1e-6:
                warnings.warn(
                    f"{who}: the schedule peaks at {peak:g} and multiplies the learning rate {b:g}"
                    f"{f' of param group {i}' if len(bases) > 1 else ''}, so the lr would peak at {peak * b:g}. "
                    f"If the schedule's values are learning rates, {absolute_hint}; as a multiplier, give "
                    "the schedule peak_lr=1.0",
                    ScheduleWarning,
                    stacklevel=_caller(),
                )
                return
    elif len(schedules) == 1 and len(set(bases)) > 1:
        shown = ", ".join(f"{b:g}" for b in bases[:4]) + (", ..." if len(bases) > 4 else "")
        warnings.warn(
            f"{who}: absolute=True writes the schedule's values to all {len(bases)} param groups, whose "
            f"learning rates differ ({shown}): their ratio is lost. For one schedule scaling each group's "
            "own lr, leave absolute=False (with peak_lr=1.0); or pass one schedule per group",
            ScheduleWarning,
            stacklevel=_caller(),
        )
