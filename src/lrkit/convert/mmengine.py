"""mmengine's parameter schedulers (mmdet, mmseg, mmyolo configs) as lrkit schedules.

mmengine's schedulers are chainable: each step, every scheduler whose window
``[begin, end)`` contains its step count changes the current value, in list order,
and outside its window leaves it as it is. ``from_torch`` takes one scheduler or the
list a runner builds from ``param_scheduler=[...]`` and steps it as mmengine's
``ParamSchedulerHook`` does: iteration-based schedulers after every iteration,
epoch-based ones after every epoch. ``epoch_length`` (iterations per epoch) makes the
position the iteration, whatever the list holds (it is required when the list mixes
both kinds); without it, the position is the step of the one kind the list holds (the
iteration, or the epoch).

A param group added after the schedulers were built (``add_param_group``) gets what
mmengine does to it: the multiplying schedulers and ``PolyLR`` act on every group's
current value, ``CosineAnnealingLR`` and ``CosineRestartLR`` only on the groups they
were built with (the added one keeps its value through their windows); ``OneCycleLR``
reads settings such a group lacks (mmengine fails on it): ``TypeError``. A subclass
that overrides the computation (``_get_value``, ``step``, ...) is refused, naming the
override.

What each scheduler does to the value, on its own clock ``k = step - begin``:

* multiplying by a factor that does not depend on the value (``LinearLR``,
  ``ConstantLR``, ``StepLR``, ``MultiStepLR``, ``ExponentialLR``, ``PolyLR`` with
  ``eta_min=0``): their factors multiply, windows may overlap (mmdet's per-iteration
  ``LinearLR`` warmup under a per-epoch ``MultiStepLR``);
* setting the value from the one at its start (``CosineAnnealingLR``, ``PolyLR`` with
  ``eta_min``), from the base lr (``CosineRestartLR``) or from its own settings
  (``OneCycleLR``: torch's one-cycle, with ``eta_max``, ``div_factor``,
  ``final_div_factor``): its window may not overlap
  another scheduler's (their step-by-step combination has no closed form here), and
  the value it leaves is held after its ``end``.

Linear factors: ``start + (end - start) k / (end - begin - 1)``; ``ConstantLR`` undoes its
factor at ``k = end - begin - 1``; ``PolyLR``: ``eta_min + (v0 - eta_min)(1 - k / (end - begin - 1)) ** power``;
``CosineAnnealingLR``: ``eta_min + (v0 - eta_min)(1 + cos(pi k / T_max)) / 2`` (back up past
``T_max``, as mmengine's recurrence goes), with ``v0`` the value when it starts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from ..core import Schedule
from ..schedules.algebra import Piecewise, Product, Ramp
from ..schedules.compose import Hold, Scale
from ..schedules.decays import Constant, Cosine, Exponential, Polynomial, Step
from . import chain, multistep, pct_start, qualname, shifted, unconvertible

__all__ = ["builder", "is_mmengine"]

_INF = math.inf
_MM_INF = 10**9
_MAX_STAIRS = 1_000_000  # epochs of a per-epoch curve written out as a staircase


def is_mmengine(obj: Any) -> bool:
    items = obj if isinstance(obj, (list, tuple)) else [obj]
    return bool(items) and all(any(c.__module__.startswith("mmengine.") for c in type(x).__mro__) for x in items)


#: Methods a subclass may override without changing the values (everything else computes them).
_HARMLESS = frozenset(
    {
        "__init__",
        "__repr__",
        "__str__",
        "state_dict",
        "load_state_dict",
        "print_value",
        "get_last_value",
        "build_iter_from_epoch",
    }
)


def _check_overrides(s: Any) -> None:
    """Refuse a subclass of the user's that overrides a method of mmengine's class computing the value."""
    mro = type(s).__mro__
    base = next((c for c in mro if c.__module__.startswith("mmengine.")), None)
    if base is None:
        return
    for c in mro[: mro.index(base)]:
        for attr, val in vars(c).items():
            if attr not in _HARMLESS and callable(val) and hasattr(base, attr):
                raise unconvertible(
                    s,
                    f"it overrides {c.__qualname__}.{attr} of mmengine's {base.__name__}: the "
                    "value comes from its own code, not from the settings a conversion reads",
                )


def _family(s: Any) -> str:
    _check_overrides(s)
    for c in type(s).__mro__:
        if c.__name__.endswith("ParamScheduler") and c.__name__ != "_ParamScheduler":
            return c.__name__[: -len("ParamScheduler")]
    raise unconvertible(s, "not one of mmengine's parameter schedulers")


class _Item:
    """One scheduler in the common unit: its window and what it does there."""

    def __init__(self, s: Any, g: int, L: float) -> None:
        self.s, self.g, self.fam = s, g, _family(s)
        if getattr(s, "param_name", "lr") != "lr":
            raise unconvertible(s, f"it drives {s.param_name!r}, not the lr")
        if self.fam == "ReduceOnPlateau":
            raise unconvertible(s, "it follows a metric, not a closed form")
        self.L = L  # positions per step of this scheduler (1, or the epoch length)
        self.b = float(s.begin) * L
        open_ended = s.end >= _MM_INF  # mmengine's "no end" is the number 1e9
        self.e = _INF if open_ended else float(s.end) * L
        self.n = _INF if open_ended else float(s.end - s.begin)  # its steps in the window
        # a group added after the scheduler was built has no base value: its lr when converted
        self.added = g >= len(s.base_values)
        self.base = float(s.optimizer.param_groups[g]["lr"]) if self.added else float(s.base_values[g])
        eta = getattr(s, "eta_min", None)
        ratio = getattr(s, "eta_min_ratio", None)
        self.eta = self.base * float(ratio) if ratio is not None else float(eta or 0.0)
        self.setter = self.fam in ("CosineAnnealing", "CosineRestart", "OneCycle") or (
            self.fam == "Poly" and self.eta != 0
        )

    # -- a factor, on the scheduler's own steps ----------------------------------
    def factor(self) -> Schedule:
        s, T = self.s, self.n - 1
        if self.fam == "Linear":
            sf, ef = float(s.start_factor), float(s.end_factor)
            return Constant(sf) if not 0 < T < _INF or sf == ef else Ramp(sf, ef, T)
        if self.fam == "Constant":
            f = float(s.factor)
            return Constant(f) if not 0 < T < _INF else chain([(T, Constant(f)), (0.0, Constant(1.0))])
        if self.fam == "Step":
            return Step(1.0, float(s.step_size), float(s.gamma))
        if self.fam == "MultiStep":
            return multistep(1.0, [m for m, c in s.milestones.items() for _ in range(c)], float(s.gamma))
        if self.fam == "Exponential":
            return Exponential(1.0, float(s.gamma))
        if self.fam == "Poly":
            return Constant(1.0) if not 0 < T < _INF else Polynomial(1.0, T, 0.0, float(s.power))
        raise unconvertible(s, f"{self.fam} is not a multiplying scheduler")

    def global_factor(self) -> Schedule:
        """The factor as a function of the global position: 1 before the window, held after it."""
        f = self.factor()
        if self.n < _INF:
            f = Hold(f, self.n - 1) if self.n > 1 else Constant(f(0.0))
        return chain([(self.b, Constant(1.0)), (0.0, self._stairs(f))])

    # -- a setting scheduler: the value from v0 (the value when it starts) ---------
    def values(self, v0: float) -> Schedule:
        s, T = self.s, self.n - 1
        if self.fam == "CosineAnnealing":
            if v0 < self.eta:
                raise unconvertible(s, f"it starts at {v0:g}, below eta_min ({self.eta:g})")
            tmax = float(s.T_max)
            if v0 != self.base and self.n > tmax + 1:
                raise unconvertible(
                    s,
                    "past T_max mmengine's cosine restarts from the base lr while it started elsewhere: no closed form",
                )
            f: Schedule = Cosine(v0, tmax, self.eta, after="continue")
        elif self.fam == "OneCycle":
            f = self._one_cycle()
        elif self.fam == "Poly":
            if v0 < self.eta:
                raise unconvertible(s, f"it starts at {v0:g}, below eta_min ({self.eta:g})")
            f = Constant(v0) if not 0 < T < _INF else Polynomial(v0, T, self.eta, float(s.power))
        else:  # CosineRestart: each period restarts from base * weight
            parts: list[tuple[float, Schedule]] = []
            for p, w in zip(s.periods, s.restart_weights):
                top = self.base * float(w)
                if top < self.eta:
                    raise unconvertible(s, f"a restart at {top:g} is below eta_min ({self.eta:g})")
                parts.append((float(p), Cosine(top, float(p), self.eta, after="continue")))
            last_p, last = parts[-1]
            parts.append((0.0, Constant(last(last_p - 1))))  # after the periods: the last value, held
            f = chain(parts)
        if self.n < _INF:
            f = Hold(f, self.n - 1) if self.n > 1 else Constant(f(0.0))
        return self._stairs(f)

    def _one_cycle(self) -> Schedule:
        # its values come from the group's initial/max/min lr it wrote at construction, not
        # from the value where it starts; phases end at pct T - 1 (and 2 pct T - 2), as torch's
        from ..schedules.decays import OneCycle

        s, group = self.s, self.s.optimizer.param_groups[self.g]
        phases, T = s._schedule_phases, int(s.total_steps)
        three = len(phases) == 3
        pct = pct_start(phases[0]["end_step"], T, three, phases[1]["end_step"] if three else None)
        shape = "cosine" if getattr(s.anneal_func, "__func__", s.anneal_func) is type(s)._annealing_cos else "linear"
        try:
            return OneCycle(
                float(group["max_lr"]),
                T,
                pct,
                shape,
                start_lr=float(group["initial_lr"]),
                min_lr=float(group["min_lr"]),
                three_phase=three,
            )
        except ValueError as e:
            raise unconvertible(s, f"its settings have no OneCycle equivalent: {e}") from None

    def _stairs(self, f: Schedule) -> Schedule:
        """``f`` of this scheduler's steps as a function of positions (``L`` per step)."""
        L = self.L
        if L == 1.0:
            return f
        if isinstance(f, Constant):
            return f
        if isinstance(f, Step):
            return Step(f.peak_lr, f.step_size * L, f.gamma)
        if isinstance(f, Exponential) and not f.staircase and f.step_size == 1.0:
            return Exponential(f.peak_lr, f.gamma, L, staircase=True)
        n = self.n if self.n < _INF else None
        if n is None:
            from ..schedules.decays import MultiStep

            if isinstance(f, MultiStep):
                return MultiStep(f.peak_lr, [m * L for m in f.milestones], f.gamma)
            if isinstance(f, Product):  # repeated milestones: one MultiStep layer per repetition
                return Product([self._stairs(x) for x in f.schedules])
            raise unconvertible(
                self.s,
                "an epoch-based scheduler without an end, other than Step/MultiStep/"
                "Exponential, cannot be written per iteration",
            )
        if n > _MAX_STAIRS:
            raise unconvertible(self.s, f"{n:g} epochs: too many to write per iteration")
        k = int(n)
        vals = f(__import__("numpy").arange(k, dtype=float)).tolist()
        if k == 1:
            return Constant(vals[0])
        return Piecewise(vals, [L * j for j in range(1, k)])


def builder(obj: Any, epoch_length: float | None) -> tuple[int, Callable[[int], Schedule]]:
    items = list(obj) if isinstance(obj, (list, tuple)) else [obj]
    opts = {id(getattr(s, "optimizer", None)) for s in items}
    if len(opts) != 1:
        raise TypeError("from_torch: mmengine schedulers stepped together must share one optimizer")
    opt = items[0].optimizer
    groups = getattr(opt, "param_groups", None)
    if groups is None:
        raise unconvertible(items[0], "its optimizer has no param_groups")
    kinds = {bool(s.by_epoch) for s in items}
    if len(kinds) == 2 and epoch_length is None:
        raise ValueError(
            "the list mixes epoch-based and iteration-based schedulers: give epoch_length= "
            "(iterations per epoch), the position is then the iteration"
        )
    if epoch_length is not None and (
        isinstance(epoch_length, bool) or not epoch_length > 0 or not float(epoch_length).is_integer()
    ):
        raise ValueError(f"epoch_length must be a whole number of iterations >= 1, got {epoch_length!r}")

    def unit(s: Any) -> float:
        return float(epoch_length) if (s.by_epoch and epoch_length is not None) else 1.0

    def build(g: int) -> Schedule:
        its = [_Item(s, g, unit(s)) for s in items]
        if g >= len(items[0].base_values):  # added after the schedulers were built
            for it in its:
                if it.fam == "OneCycle":
                    raise unconvertible(
                        it.s,
                        f"param group {g} was added after it was built: OneCycleLR reads "
                        "the group's max_lr/initial_lr it never wrote there (mmengine fails)",
                    )
            # mmengine's cosines update only the groups they were built with (zip with base_values)
            its = [it for it in its if it.fam not in ("CosineAnnealing", "CosineRestart")]
            # the schedulers' first step, at construction, did not reach it: its lr is the base
            # the factors at 0 would have been applied to, divided by them
            lr, at0 = float(groups[g]["lr"]), 1.0
            for it in its:
                if not it.setter:
                    at0 *= it.global_factor()(0.0)
            if at0 == 0:
                raise unconvertible(
                    items[0],
                    f"param group {g} was added after a factor of 0 was applied at "
                    "construction: its value is not a multiple of any base",
                )
            return _combine(its, lr / at0)
        return _combine(its, float(items[0].base_values[g]))

    return len(groups), build


def _combine(items: list[_Item], base: float) -> Schedule:
    setters = sorted((it for it in items if it.setter), key=lambda it: it.b)
    mults = [it for it in items if not it.setter]
    for it in setters:
        for other in items:
            if other is not it and other.b < it.e and it.b < other.e:
                raise unconvertible(
                    it.s,
                    f"its window [{it.b:g}, {it.e:g}) overlaps {qualname(other.s)}'s "
                    f"[{other.b:g}, {other.e:g}): mmengine applies both every step, "
                    "a combination with no closed form here",
                )
    G = [it.global_factor() for it in mults]

    def mult_part(start: float, anchor_v: float, anchor_t: float) -> Schedule:
        # value(t) = anchor_v * prod G(t) / prod G(anchor_t), on the clock of a segment from start
        if not G:
            return Constant(anchor_v)
        den = 1.0
        if anchor_t >= 0:
            for f in G:
                den *= f(anchor_t)
        if den == 0:
            return Constant(0.0)
        fs = [shifted(f, start) for f in G]
        prod = fs[0] if len(fs) == 1 else Product(fs)
        c = anchor_v / den
        return prod if c == 1.0 else Scale(prod, c)

    parts: list[tuple[float, Schedule]] = []
    at, anchor_v, anchor_t = 0.0, base, -1.0
    for it in setters:
        if it.b > at:
            seg = mult_part(at, anchor_v, anchor_t)
            parts.append((it.b - at, seg))
            v0 = seg(it.b - 1 - at)
        else:
            v0 = anchor_v
        vals = it.values(v0)
        if it.e == _INF:
            parts.append((0.0, vals))
            return chain(parts)
        parts.append((it.e - it.b, vals))
        at, anchor_v, anchor_t = it.e, vals(it.e - 1 - it.b), it.e - 1
    parts.append((0.0, mult_part(at, anchor_v, anchor_t)))
    return chain(parts)
