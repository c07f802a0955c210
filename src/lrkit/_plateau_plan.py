"""A plan and a plateau policy together: what the bindings' ``ScheduleLR(..., plateau=...)`` do.

A binding drives its groups by a plan (``value_g(t) = base_g * plan_g(t)``, ``base_g = 1`` for an
absolute plan); with a :class:`~lrkit.plateau.Plateau` attached, each ``observe(metric)`` goes to
the policy, and a reduction it decides at position ``t_r`` scales the rest of the plan from
``t_r`` on. Group ``g``'s value is then, for ``t >= t_r`` (until the next reduction)::

    value_g(t) = base_g * max(plan_g(t) * m_g, floor_g / base_g)

``m_g`` starts at 1 and is multiplied by the policy's ``factor`` (repeated multiplication, in
order) at each reduction in which the policy reduces group ``g``: the policy's own rule decides
that on the value written now, ``v = value_g(t_r)`` (torch's: ``new = max(v*factor, floor_g)``;
the group is reduced if ``v - new > eps``; a group at its floor keeps its ``m_g``). ``floor_g`` is
the policy's ``min_lr`` for the group (absolute; divided by ``base_g`` into plan units, and 0
where ``base_g`` is 0). Before the first reduction the plan runs as it is (no floor).

The realised curve is an ordinary schedule: the plan up to ``t_r``, then
``Clip(Scale(Shift(plan_g, t_r), m_g), floor_g / base_g)`` (a :class:`~lrkit.Sequence` piece per
reduction, kept flat as :mod:`lrkit.replan` keeps re-plans), so the per-step cost between
reductions is that of a plain ``ScheduleLR`` with that schedule. A re-plan (the binding's
``replan``) after reductions re-plans the realised curve, which becomes the plan the later
reductions scale (their ``m_g`` starting again from 1).

The state (:meth:`PlanPlateau.state_dict`) is plain JSON: the policy's configuration and state,
and each reduction (its position, the multipliers after it, how many re-plans preceded it, the
metric); loading it rebuilds the realised curve from the binding's plan exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence as SequenceT
from typing import Any

from ._check import show
from .core import Schedule
from .plateau import MMENGINE_INF, Plateau
from .replan import _followed, apply_ops
from .schedules.algebra import Shift
from .schedules.compose import Clip, Scale

__all__ = ["PlanPlateau"]

_FLAVORS = ("torch", "paddle", "mmengine", "keras")


def _fitted(policy: Plateau, values: SequenceT[float]) -> Plateau:
    """``policy``'s configuration and counters for ``len(values)`` groups starting at ``values``."""
    if not isinstance(policy, Plateau):
        raise TypeError(f"plateau must be an lrkit.plateau.Plateau, got {show(policy)} ({type(policy).__name__})")
    if policy.flavor not in _FLAVORS:
        raise ValueError(
            f"plateau: the {policy.flavor!r} flavor cannot drive a plan ("
            + ("optax's policy is a scale of its own" if policy.flavor == "optax" else "timm's policy runs a warmup")
            + f"); use one of {', '.join(_FLAVORS)}"
        )
    n = len(values)
    d = policy.to_dict()
    if policy.flavor == "mmengine" and (policy.begin != 0 or policy.end != MMENGINE_INF):
        raise ValueError(
            f"plateau: mmengine's begin/end count its own steps without metrics (begin={policy.begin}, "
            f"end={policy.end}); on a plan, leave them at 0 and their default (the plan's positions decide)"
        )
    if policy.flavor == "paddle":
        if n != 1:
            raise ValueError(f"plateau: Paddle's policy has one learning rate, but the scheduler drives {n} groups")
        d["learning_rate"] = values[0]
    else:
        d["lr"] = list(values) if n > 1 else values[0]
        floors = d.get("min_value" if policy.flavor == "mmengine" else "min_lr")
        if isinstance(floors, list) and len(floors) != n:
            raise ValueError(f"plateau: min_lr has {len(floors)} values but the scheduler drives {n} groups")
    out = Plateau.from_dict(d)
    state = policy.state_dict()
    state["lrs"] = list(out.lrs)
    out.load_state_dict(state)
    return out


class PlanPlateau:
    """The plateau part of a binding (framework-free): the policy, the multipliers and the reductions."""

    def __init__(self, policy: Plateau, values: SequenceT[float], bases: SequenceT[float]) -> None:
        self.policy = _fitted(policy, list(values))
        n = len(bases)
        floors = self.policy.min_lrs
        if len(floors) == 1 and n > 1:
            floors = floors * n
        self.floors = tuple(0.0 if b == 0 else f / b for f, b in zip(floors, bases))  # in plan units
        self.n = n
        self.m = [1.0] * n
        self.reductions: list[dict[str, Any]] = []
        self._base_plan: tuple[Schedule, ...] | None = None  # the plan the multipliers scale
        self._replans_seen = 0

    # -- the reduction -------------------------------------------------------------------
    def _piece(self, plan: Schedule, t: float, m: float, floor: float) -> Schedule:
        inner = plan if t == 0 else Shift(plan, t)
        return Clip(Scale(inner, m), floor)

    def _scaled(
        self, schedules: tuple[Schedule, ...], base: tuple[Schedule, ...], t: float, m: list[float], changed: list[bool]
    ) -> tuple[Schedule, ...]:
        """``schedules`` followed from ``t`` by the base plan times ``m`` (groups in ``changed``)."""
        n = self.n
        shared = len(schedules) == 1 and len(set(zip(m, self.floors))) == 1
        if shared:
            return (_followed(schedules[0], t, self._piece(base[0], t, m[0], self.floors[0])),)
        scheds = schedules if len(schedules) == n else schedules * n
        bases = base if len(base) == n else base * n
        return tuple(
            _followed(s, t, self._piece(b, t, mg, fl)) if c else s
            for s, b, mg, fl, c in zip(scheds, bases, m, self.floors, changed)
        )

    def observe(
        self, metric: Any, t: float, values: SequenceT[float], schedules: tuple[Schedule, ...], replans: int
    ) -> tuple[Schedule, ...] | None:
        """Give ``metric`` to the policy at position ``t`` (``values``: the values written now);
        the new schedules when a reduction changes some group, else None."""
        if t < 0:
            raise RuntimeError("observe(metric) before the scheduler's first step: step() first")
        if replans != self._replans_seen or self._base_plan is None:
            # a re-plan since the last reduction (or none yet): the current curve is the plan
            if replans != self._replans_seen:
                self.m = [1.0] * self.n
            self._base_plan, self._replans_seen = schedules, replans
        before = list(values)
        if not self.policy.observe(metric, lrs=before):
            return None
        after = self.policy.lrs
        changed = [a != b for a, b in zip(after, before)]
        if not any(changed):
            return None
        f = self.policy.factor
        self.m = [mg * f if c else mg for mg, c in zip(self.m, changed)]
        self.reductions.append(
            {
                "at": t,
                "m": list(self.m),
                "replans": replans,
                "metric": _enc(float(metric)),
                "observation": self.policy.state_dict()["observations"],
            }
        )
        return self._scaled(schedules, self._base_plan, t, self.m, changed)

    # -- state -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy.to_dict(),
            "state": self.policy.state_dict(),
            "reductions": [dict(r) for r in self.reductions],
        }

    def rebuilt(self, state: Any, planned: tuple[Schedule, ...], replans: list[dict[str, Any]]) -> tuple[Schedule, ...]:
        """Load ``state`` (from :meth:`state_dict`) and return the realised schedules: ``planned``
        with the re-plans and reductions in the order they were made. Nothing changes on error."""
        if not isinstance(state, dict) or set(state) != {"policy", "state", "reductions"}:
            raise ValueError(
                f"the state's 'plateau' entry must be a dict with policy, state, reductions, got {show(state)}"
            )
        if _config(state["policy"]) != _config(self.policy.to_dict()):
            raise ValueError(
                f"the state was saved with another plateau policy ({state['policy']!r}, this scheduler has "
                f"{self.policy.to_dict()!r})"
            )
        reds = state["reductions"]
        if not isinstance(reds, list) or not all(
            isinstance(r, dict)
            and {"at", "m", "replans"} <= set(r)
            and isinstance(r["m"], list)
            and len(r["m"]) == self.n
            for r in reds
        ):
            raise ValueError(f"the state's plateau reductions must be a list of reductions, got {show(reds)}")
        policy = Plateau.from_dict(self.policy.to_dict())
        policy.load_state_dict(state["state"])
        scheds, base, done, m = planned, planned, 0, [1.0] * self.n
        for r in reds:
            k = int(r["replans"])
            if not done <= k <= len(replans):
                raise ValueError(f"the state's plateau reduction {r!r} does not follow its re-plans")
            if k > done:
                scheds = tuple(apply_ops(s, replans[done:k]) for s in scheds)
                base, done, m = scheds, k, [1.0] * self.n
            new_m = [float(v) for v in r["m"]]
            changed = [a != b for a, b in zip(new_m, m)]
            scheds = self._scaled(scheds, base, float(r["at"]), new_m, changed)
            m = new_m
        seen = done
        if len(replans) > done:
            scheds = tuple(apply_ops(s, replans[done:]) for s in scheds)
        self.policy, self.reductions, self.m = policy, [dict(r) for r in reds], m
        # a re-plan after the last reduction is noticed (the base plan reset) at the next observation
        self._base_plan = base if reds else None
        self._replans_seen = seen if reds else 0
        return scheds

    def fresh(self) -> None:
        """Back to no observation and no reduction (a state saved without a plateau part)."""
        policy = Plateau.from_dict(self.policy.to_dict())
        self.policy = policy
        self.m, self.reductions, self._base_plan, self._replans_seen = [1.0] * self.n, [], None, 0

    def copy(self) -> PlanPlateau:
        out = PlanPlateau.__new__(PlanPlateau)
        out.__dict__.update(self.__dict__)
        out.policy = Plateau.from_dict(self.policy.to_dict())
        out.policy.load_state_dict(self.policy.state_dict())
        out.m, out.reductions = list(self.m), [dict(r) for r in self.reductions]
        return out


def load_plateau(sched: Any, state: dict[str, Any]) -> tuple[Schedule, ...]:
    """A binding's schedules after loading ``state``: its plan (``sched._planned``) with its
    re-plans (``sched._replans``, loaded already) and the state's reductions, in order."""
    pp: PlanPlateau | None = sched._plateau
    saved = state.get("plateau")
    if pp is None:
        raise ValueError(
            "the state holds a plateau policy's reductions but this scheduler has no plateau policy: "
            "build it with plateau=... (the same policy) to resume that run"
        )
    planned, ops = sched._planned, sched._replans
    if saved is None:
        pp.fresh()
        return tuple(apply_ops(s, ops) for s in planned) if ops else planned
    return pp.rebuilt(saved, planned, ops)


def _config(d: Any) -> Any:
    """A policy's configuration without its starting lrs (the scheduler's values when it was built)."""
    return {k: v for k, v in d.items() if k not in ("lr", "learning_rate")} if isinstance(d, dict) else d


def _enc(x: float) -> float | str:
    return x if math.isfinite(x) else ("nan" if math.isnan(x) else ("inf" if x > 0 else "-inf"))


def realised(schedules: tuple[Schedule, ...], bases: SequenceT[float], n: int) -> list[Schedule]:
    """Per group, the values written as one schedule: ``base_g * schedule_g`` (``Scale`` when ``base_g != 1``)."""
    scheds = schedules if len(schedules) == n else schedules * n
    return [s if b == 1.0 else Scale(s, b) for s, b in zip(scheds, bases)]


def torch_state_for_paddle(sched: Any, state: dict[str, Any]) -> dict[str, Any]:
    """A state saved by :class:`lrkit.torch.ScheduleLR` (one param group, driving ``lr``) as the
    state of a Paddle :class:`lrkit.paddle.ScheduleLR` of the same plan (global mode): the same
    position, re-plans and plateau reductions, so the Paddle run goes on with the same lrs.
    The plan and base lr are checked as for a Paddle state (``learning_rate`` = torch's base lr,
    or 1.0 for ``absolute=True``)."""
    groups, key = state.get("groups"), state.get("key", "lr")
    if groups != 1 or key != "lr" or sched._per_group:
        raise ValueError(
            "a torch ScheduleLR state loads into a Paddle ScheduleLR only from one param group driving 'lr' into "
            f"the global lr (this state: groups={groups!r}, key={key!r}; this scheduler per-group: {sched._per_group})"
        )
    bases = state.get("base_values")
    if not isinstance(bases, list) or len(bases) != 1:
        raise ValueError(f"the torch state's base_values must hold one value, got {show(bases)}")
    out: dict[str, Any] = {
        "class": "lrkit.paddle.ScheduleLR",
        "per_group": False,
        "schedules": state.get("schedules"),
        "base_lr": 1.0 if state.get("absolute") else bases[0],
        "multipliers": sched._identity()["multipliers"],
        "last_epoch": state["last_epoch"],
        "steps_per_epoch": state.get("steps_per_epoch"),
        "replans": state.get("replans", []),
    }
    if "plateau" in state:
        out["plateau"] = state["plateau"]
    return out


# -- the run in words ---------------------------------------------------------------------------
def _register_words() -> None:
    from .explain import TEXTS, words

    if "plateau_run.cut" in TEXTS["en"]:
        return
    words(
        "en",
        {
            "plateau_run.head": "Reductions on plateau ({x0}):",
            "plateau_run.cut": "  reduced x{x0} at step {x1}: no improvement of {x2} for {x3} evaluations "
            "(evaluation {x4}, value {x5}){x6}",
            "plateau_run.floor": "; held at the floor: group {x0}",
            "plateau_run.none": "No reduction on plateau so far ({x0} evaluations of {x1}).",
            "plateau_run.metric": "the metric",
            "plateau_run.group": "Group {x0}:",
        },
    )
    words(
        "zh",
        {
            "plateau_run.head": "平台期降低学习率（{x0}）：",
            "plateau_run.cut": "  第 {x1} 步降为 x{x0}：{x2} 连续 {x3} 次评估没有改进（第 {x4} 次评估，值 {x5}）{x6}",
            "plateau_run.floor": "；已在下限的组：{x0}",
            "plateau_run.none": "到目前为止没有因平台期降低学习率（{x1} 共评估 {x0} 次）。",
            "plateau_run.metric": "指标",
            "plateau_run.group": "第 {x0} 组：",
        },
    )


def explain_run(pp: PlanPlateau, realised_schedules: list[Schedule], lang: str = "en") -> str:
    """The realised schedule(s) explained (:func:`lrkit.explain`), then one line per reduction:
    its factor, position, the reason (no improvement of the monitored metric for the patience's
    evaluations) and the groups held at their floor."""
    from .explain import TEXTS, explain

    if lang not in TEXTS:
        raise ValueError(f"lang must be one of {', '.join(map(repr, TEXTS))}, got {lang!r}")
    _register_words()
    t = TEXTS[lang]
    from ._format import number

    p = pp.policy
    monitor = p.to_dict().get("monitor") or t["plateau_run.metric"]
    need = max(p.patience, 1) if p.flavor == "keras" else p.patience + 1
    parts = []
    for g, s in enumerate(realised_schedules):
        head = t["plateau_run.group"].format(x0=g) + "\n" if len(realised_schedules) > 1 else ""
        parts.append(head + explain(s, lang))
    lines = []
    if not pp.reductions:
        lines.append(t["plateau_run.none"].format(x0=p.state_dict()["observations"], x1=monitor))
    else:
        lines.append(t["plateau_run.head"].format(x0=p.flavor))
        prev, seen = [1.0] * pp.n, 0
        for r in pp.reductions:
            if r.get("replans", 0) != seen:  # a re-plan before it: its multipliers start again from 1
                prev, seen = [1.0] * pp.n, r.get("replans", 0)
            m = [float(v) for v in r["m"]]
            held = [str(g) for g, (a, b) in enumerate(zip(m, prev)) if a == b]
            metric = r.get("metric")
            lines.append(
                t["plateau_run.cut"].format(
                    x0=number(p.factor),
                    x1=number(float(r["at"])),
                    x2=monitor,
                    x3=need,
                    x4=r.get("observation", "?"),
                    x5=metric if isinstance(metric, str) else number(float(metric)) if metric is not None else "?",
                    x6=t["plateau_run.floor"].format(x0=", ".join(held)) if held else "",
                )
            )
            prev = m
    return "\n\n".join(parts) + "\n\n" + "\n".join(lines)
