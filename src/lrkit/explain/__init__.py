"""Plain-language explanations of schedules, in English or Simplified Chinese.

:func:`explain` turns a schedule into a few sentences about what it does, a list of
its phases (from :meth:`Schedule.phases`) and the quirks worth knowing. The words
come from a registry of per-kind explainers (:data:`EXPLAINERS`); a kind without one
still gets a correct description built from its phases, so every schedule, including
new ones, explains. The numbers in the text are the schedule's own (parameters after
clamping, values evaluated at the positions named), never retyped.

>>> import lrkit
>>> print(explain(lrkit.Cosine(peak_lr=0.1, total_steps=100)).splitlines()[2])
Half a cosine from 0.1 down to 0 over 100 positions, then 0 for ever.
"""

from __future__ import annotations

import importlib
import math
import re
import sys
import types
from collections.abc import Callable
from typing import Any

from .. import core as _core
from .._format import number
from ..core import Phase, Schedule
from . import en as _en
from . import zh as _zh

__all__ = ["explain", "explain_ultralytics", "explainer", "EXPLAINERS", "LANGS"]

#: Languages :func:`explain` writes: English and Simplified Chinese.
LANGS = ("en", "zh")

#: Per language, its table of templates (``key -> template``): the engine's and every kind's.
TEXTS: dict[str, dict[str, str]] = {"en": dict(_en.TEXT), "zh": dict(_zh.TEXT)}


def words(lang: str, table: dict[str, str]) -> None:
    """Add a kind's templates to language ``lang``'s table (each kind module calls it once per
    language, as :func:`lrkit.core.words`, which need not import this layer)."""
    clash = set(table) & set(TEXTS[lang])
    if clash:
        raise RuntimeError(f"explain templates defined twice: {sorted(clash)}")
    TEXTS[lang].update(table)


_INF = math.inf


class _W:
    """The words of one explanation: picks the language and formats numbers the same way in both."""

    def __init__(
        self, lang: str, steps_per_epoch: float | None = None, offset: float = 0.0, scale: float = 1.0
    ) -> None:
        self.lang = lang
        self.steps_per_epoch = steps_per_epoch
        # a schedule nested in another runs on its own clock: its position p is the
        # whole schedule's offset + p * scale, which is what the text says
        self.offset, self.scale = offset, scale

    def shifted(self, start: float) -> _W:
        """The words for a schedule whose own position 0 is at ``start`` of this one's clock."""
        return _W(self.lang, self.steps_per_epoch, self.offset + start * self.scale, self.scale)

    def scaled(self, k: float) -> _W:
        """The words for a schedule whose one position is ``k`` of this one's (epochs of steps)."""
        return _W(self.lang, self.steps_per_epoch, self.offset, self.scale * k)

    def say(self, key: str, **values: Any) -> str:
        """The template ``key`` of this language's table, filled with ``values``."""
        return TEXTS[self.lang][key].format(**values)

    @staticmethod
    def n(v: float | None) -> str:
        """A number as the text shows it: whole numbers without a point, else 6 significant digits."""
        return "?" if v is None else number(v)

    def at(self, p: float) -> str:
        """A position (of the schedule being explained, said on the whole schedule's clock),
        with its epoch when the positions are iterations of known epochs."""
        if p != _INF:
            p = self.offset + p * self.scale
        if self.steps_per_epoch and p != _INF:
            return self.say('at.1', x0=self.n(p), x1=self.n(p / self.steps_per_epoch))
        return self.n(p)

    def span(self, length: float) -> str:
        """A length in positions ("1 position", "500 positions")."""
        x = self.n(length * self.scale)
        return self.say('span.one') if x == "1" else self.say('span.1', x0=x)

    def every(self, length: float) -> str:
        """How often: "every position", "every 10 positions"."""
        x = self.n(length * self.scale)
        return self.say('every.one') if x == "1" else self.say('every.1', x0=x)

    def summary(self, s: Schedule) -> str:
        """What a schedule nested in the one explained does, as a clause (:func:`_summary`): for
        a kind's explainer that says what the schedules it holds do."""
        return _summary(s, self)

    def join(self, items: list[str]) -> str:
        if self.lang == "zh":
            return "、".join(items)
        if len(items) <= 2:
            return " and ".join(items)
        return ", ".join(items[:-1]) + " and " + items[-1]


#: kind -> function ``(schedule, words) -> (summary sentences, notes)``.
EXPLAINERS: dict[str, Callable[[Any, _W], tuple[list[str], list[str]]]] = {}


def explainer(kind: str) -> Callable[[Callable[[Any, _W], tuple[list[str], list[str]]]], Any]:
    """Decorator: register the explainer of schedule ``kind``."""

    def deco(fn: Callable[[Any, _W], tuple[list[str], list[str]]]) -> Any:
        EXPLAINERS[kind] = fn
        return fn

    return deco


def explain(schedule: Schedule, lang: str = "en", *, steps_per_epoch: float | None = None, title: bool = True) -> str:
    """What ``schedule`` does, in words: a summary, the phase list and the notes.

    ``lang`` is ``"en"`` or ``"zh"`` (Simplified Chinese). ``steps_per_epoch`` (positions
    per epoch) adds the epoch to the positions named. ``title`` starts the text with
    the schedule's spec.
    """
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(map(repr, LANGS))}, got {lang!r}")
    if not isinstance(schedule, Schedule):
        raise TypeError(f"schedule must be an lrkit Schedule, got {schedule!r}")
    if steps_per_epoch is not None and not (isinstance(steps_per_epoch, (int, float)) and steps_per_epoch > 0):
        raise ValueError(f"steps_per_epoch must be a number > 0 (positions per epoch), got {steps_per_epoch!r}")
    w = _W(lang, steps_per_epoch)
    summary, notes = _explain(schedule, w)
    out: list[str] = []
    if title:
        from ..plot import spec_label

        out += [spec_label(schedule), ""]
    out.append(("" if lang == "zh" else " ").join(_capital(x) if lang == "en" else x for x in summary))
    out += ["", w.say('explain.1')]
    out += _phase_lines(schedule.phases(), w)
    if notes:
        out += ["", w.say('explain.2')]
        out += [f"  - {n}" for n in notes]
    return "\n".join(out)


def _explain(s: Schedule, w: _W) -> tuple[list[str], list[str]]:
    fn = EXPLAINERS.get(getattr(s, "kind", ""))
    if fn is None:
        return _generic(s, w), []
    return fn(s, w)


def _capital(sentence: str) -> str:
    """A sentence that starts with a plain word (a clause of a composite: 'a linear warmup ...')
    starts with a capital; a parameter name or code ('min_lr', 'lr(...)') stays as it is."""
    m = re.match(r"[a-z]+(?=[\s,.:;]|$)", sentence)
    return sentence[0].upper() + sentence[1:] if m else sentence


def _summary(s: Schedule, w: _W) -> str:
    """One nested schedule's summary, for composites (mid-sentence: 'a constant', but 'YOLOX' stays)."""
    text = w.say('summary.1').join(_explain(s, w)[0])
    if w.lang == "en" and len(text) > 1 and text[0].isupper() and not text[1].isupper():
        text = text[0].lower() + text[1:]
    return text


# -- the phase list ---------------------------------------------------------------------------------
_ZH_WORDS = {
    "warmup": "预热",
    "warm up": "预热",
    "linear": "线性",
    "power": "幂函数",
    "exponential": "指数",
    "constant": "常数",
    "quadratic": "二次",
    "cosine": "余弦",
    "hold min_lr": "保持 min_lr",
    "hold": "保持",
    "cosine, continued": "余弦（继续）",
    "past total_iters": "超过 total_iters 之后",
    "past epochs": "超过 epochs 之后",
    "log": "对数",
    "cosine warm restarts": "余弦热重启",
    "anneal down": "退火下降",
    "anneal to min": "退火到最小值",
    "stable": "稳定",
    "decay": "衰减",
    "step decay": "阶梯衰减",
    "inverse sqrt": "平方根倒数",
    "polynomial": "多项式",
    "linear from 0": "从 0 线性上升",
    "ramp down": "下降",
    "1-sqrt": "1-sqrt",
    "up": "上升",
    "down": "下降",
    "plateau": "平台",
    "product": "乘积",
    "tanh": "tanh",
}


def _zh_phase(name: str) -> str:
    import re

    if name in _ZH_WORDS:
        return _ZH_WORDS[name]
    m = re.fullmatch(r"(.+?) \((.+)\)", name)
    if m and m.group(1) in _ZH_WORDS:
        inner = m.group(2)
        st = re.fullmatch(r"x(\S+) every (\S+)", inner)
        if st:
            return f"阶梯（每 {st.group(2)} 乘以 {st.group(1)}）"
        return f"{_ZH_WORDS[m.group(1)]}（{_ZH_WORDS.get(inner, inner)}）"
    m = re.fullmatch(r"cycle (\d+)(?: (up|down))?", name)
    if m:
        return f"第 {m.group(1)} 个周期" + (_ZH_WORDS[m.group(2)] if m.group(2) else "")
    m = re.fullmatch(r"cycles (\d+)(?:\.\.\.|-(\d+))", name)
    if m:
        return f"第 {m.group(1)}" + (f"–{m.group(2)} 个周期" if m.group(2) else " 个及以后的周期")
    m = re.fullmatch(r"plateau (\d+)", name)
    if m:
        return f"平台 {m.group(1)}"
    return name


def _phase_lines(phases: list[Phase], w: _W) -> list[str]:
    rows = []
    for i, p in enumerate(phases):
        name = _zh_phase(p.name) if w.lang == "zh" else p.name
        if p.end == _INF:
            where = w.say('phase_lines.1', x0=w.at(p.start))
        else:
            where = w.say('phase_lines.2', x0=w.at(p.start), x1=w.at(p.end), x2=w.span(p.end - p.start))
        if p.end_value is None:
            vals = w.say('phase_lines.3', x0=w.n(p.start_value))
        elif p.start_value == p.end_value:
            vals = w.say('phase_lines.4', x0=w.n(p.start_value))
        else:
            vals = f"{w.n(p.start_value)} → {w.n(p.end_value)}"
        jump = "" if p.continuous or i == 0 else w.say('phase_lines.5')
        rows.append(f"  {i + 1}. {name}{w.say('phase_lines.6')}{where}{w.say('phase_lines.7')}{vals}{jump}")
    return rows


# -- the fallback: from phases() alone --------------------------------------------------------------
def _generic(s: Schedule, w: _W) -> list[str]:
    ph = s.phases()
    L = s.length
    first = ph[0].start_value
    text = [
        w.say(
            'generic.1' if len(ph) != 1 else 'generic.1.one', x0=s.kind or type(s).__name__, x1=len(ph), x3=w.n(first)
        )
    ]
    if L == 0:
        text.append(w.say('generic.2'))
    elif L < _INF:
        v = s(L)
        text.append(w.say('generic.3', x0=w.at(L), x1=w.n(v)))
    else:
        text.append(w.say('generic.4'))
    return text


def _tail(s: Any, w: _W, end: float, value: float) -> str:
    return w.say('tail.1', x0=w.n(value), x1=w.at(end))


# -- decays ---------------------------------------------------------------------------------------------------
@explainer("constant")
def _constant(s: Any, w: _W) -> tuple[list[str], list[str]]:
    return [w.say('constant.1', x0=w.n(s.lr))], []


@explainer("cosine")
def _cosine(s: Any, w: _W) -> tuple[list[str], list[str]]:
    T = s.total_steps
    if s.after == "continue":
        back = T * (1.0 / s.cycles) ** (1.0 / s.k)  # the angle 2 pi cycles (t/T)**k reaches 2 pi
        text = [w.say('cosine.4', x0=w.n(s.peak_lr), x1=w.n(s.min_lr), x2=w.span(T), x3=w.at(T), x4=w.at(back))]
    else:
        text = [w.say('cosine.1', x0=w.n(s.peak_lr), x1=w.n(s.min_lr), x2=w.span(T))]
    notes = []
    if s.k != 1:
        notes.append(w.say('cosine.2', x0=w.n(s.k)))
    notes.append(w.say('cosine.3', x0=w.at(T / 2), x1=w.n(s(T / 2))))
    return text, notes


@explainer("linear")
def _linear(s: Any, w: _W) -> tuple[list[str], list[str]]:
    return [w.say('linear.1', x0=w.n(s.peak_lr), x1=w.n(s.min_lr), x2=w.span(s.total_steps))], []


@explainer("polynomial")
def _polynomial(s: Any, w: _W) -> tuple[list[str], list[str]]:
    return [w.say('polynomial.1', x0=w.n(s.power), x1=w.n(s.peak_lr), x2=w.n(s.min_lr), x3=w.span(s.total_steps))], []


@explainer("polynomial_cycle")
def _polynomial_cycle(s: Any, w: _W) -> tuple[list[str], list[str]]:
    T = s.decay_steps
    return [
        w.say('polynomial_cycle.1', x0=w.n(s.power), x1=w.n(s.peak_lr), x2=w.n(s.end_lr), x3=w.span(T), x4=w.n(T))
    ], []


@explainer("step")
def _step(s: Any, w: _W) -> tuple[list[str], list[str]]:
    return [w.say('step.1', x0=w.n(s.peak_lr), x1=w.n(s.gamma), x2=w.every(s.step_size), x3=w.at(s.step_size))], []


@explainer("multistep")
def _multistep(s: Any, w: _W) -> tuple[list[str], list[str]]:
    if not s.milestones:
        return [w.say('multistep.1', x0=w.n(s.peak_lr))], []
    ms = w.join([w.at(m) for m in s.milestones])
    return [w.say('multistep.2', x0=w.n(s.peak_lr), x1=w.n(s.gamma), x2=ms, x3=w.n(s(s.milestones[-1])))], []


@explainer("exponential")
def _exponential(s: Any, w: _W) -> tuple[list[str], list[str]]:
    if s.max_lr != math.inf:  # a growth up to max_lr, or a capped decay: the kind's own words
        return EXPLAINERS["exponential.capped"](s, w)  # registered by schedules.decays (explain reads no kind)
    if s.staircase:
        text = w.say('exponential.1', x0=w.n(s.peak_lr), x1=w.n(s.gamma), x2=w.every(s.step_size))
    else:
        text = w.say('exponential.2', x0=w.n(s.peak_lr), x1=w.n(s.gamma), x2=w.every(s.step_size))
    half = s.step_size * math.log(0.5) / math.log(s.gamma) if 0 < s.gamma < 1 else None
    notes = [] if half is None or s.staircase else [w.say('exponential.3', x0=w.every(half))]
    return [text], notes


@explainer("inverse_sqrt")
def _inverse_sqrt(s: Any, w: _W) -> tuple[list[str], list[str]]:
    ts = s.timescale
    return [w.say('inverse_sqrt.1', x0=w.n(s.peak_lr), x1=w.n(ts), x2=w.at(3 * ts), x3=w.at(99 * ts))], []


@explainer("tanh")
def _tanh(s: Any, w: _W) -> tuple[list[str], list[str]]:
    end = s.end_value
    text = [
        w.say(
            'tanh.1',
            x0=w.n(s(0.0)),
            x1=w.n(end),
            x2=w.span(s.total_steps),
            x3=w.n(100 * -s.lower / (s.upper - s.lower)),
            x4=w.n(s.min_lr),
        )
    ]
    notes = []
    if end != s.min_lr:
        notes.append(w.say('tanh.2', x0=w.n(end), x1=w.n(s.min_lr), x2=w.at(s.total_steps)))
    return text, notes


@explainer("one_cycle")
def _one_cycle(s: Any, w: _W) -> tuple[list[str], list[str]]:
    e = s.phase_ends
    how = w.say('one_cycle.1a') if s.shape == "cosine" else w.say('one_cycle.1b')
    if s.three_phase:
        text = w.say(
            'one_cycle.2',
            x0=how,
            x1=w.n(s.start_lr),
            x2=w.n(s.peak_lr),
            x3=w.at(e[0]),
            x4=w.at(e[1]),
            x5=w.n(s.min_lr),
            x6=w.at(e[2]),
        )
    else:
        text = w.say(
            'one_cycle.3', x0=how, x1=w.n(s.start_lr), x2=w.n(s.peak_lr), x3=w.at(e[0]), x4=w.n(s.min_lr), x5=w.at(e[1])
        )
    notes = [w.say('one_cycle.4', x0=w.n(e[0]), x1=w.n(e[-1]), x2=w.n(s.total_steps))]
    return [text], notes


@explainer("wsd")
def _wsd(s: Any, w: _W) -> tuple[list[str], list[str]]:
    t0, W = s.decay_start, s.warmup_steps
    rest = w.say(
        'wsd.1',
        x0=w.n(s.peak_lr),
        x1=w.at(t0),
        x2=w.say(f'wsd.shape.{s.shape}'),
        x3=w.n(s.min_lr),
        x4=w.span(s.decay_steps),
        x5=w.at(s.total_steps),
    )
    if W == 0:
        return [w.say('wsd.no_warmup'), rest], [w.say('wsd.2')]
    return [w.say('wsd.warmup', x0=w.span(W), x1=w.n(s.peak_lr)), rest], []


# -- cycles ---------------------------------------------------------------------------------------------------
@explainer("cosine_restarts")
def _cosine_restarts(s: Any, w: _W) -> tuple[list[str], list[str]]:
    starts = [s.cycle_start(i) for i in range(1, 4 if s.max_cycles is None else min(s.max_cycles, 4))]
    text = [w.say('cosine_restarts.1', x0=w.n(s.min_lr), x1=w.span(s.period), x2=w.n(s.peak_lr))]
    if s.period_mult != 1:
        text.append(w.say('cosine_restarts.2', x0=w.n(s.period_mult)))
    if s.peak_decay != 1:
        text.append(w.say('cosine_restarts.3', x0=w.n(s.peak_decay)))
    if starts:
        text.append(
            w.say(
                'cosine_restarts.4',
                x0=w.join([w.at(p) for p in starts]),
                x1=w.say('more') if s.max_cycles is None or s.max_cycles > 4 else '',
            )
        )
    if s.max_cycles is not None:
        text.append(w.say('cosine_restarts.5', x0=s.max_cycles, x1=w.at(s.end), x2=w.n(s.min_lr)))
    return text, []


@explainer("cyclic")
def _cyclic(s: Any, w: _W) -> tuple[list[str], list[str]]:
    down = s.step_size_up if s.step_size_down is None else s.step_size_down
    text = [w.say('cyclic.1', x0=w.n(s.min_lr), x1=w.n(s.peak_lr), x2=w.span(s.step_size_up), x3=w.span(down))]
    if s.mode == "triangular2":
        text.append(w.say('cyclic.2'))
    elif s.mode == "exp_range":
        text.append(w.say('cyclic.3', x0=w.n(s.gamma)))
    return text, []


# -- composites -----------------------------------------------------------------------------------------------
def _warmup_words(s: Any, w: _W) -> tuple[str, list[str]]:
    W = s.warmup_steps
    shape = w.say(f"shape.{s.shape}", power=w.n(s.power))
    if W == 0:
        return w.say('warmup_words.1'), []
    notes = [
        w.say(
            'warmup_words.2',
            x0=w.at(W),
            x1=w.n(s.target),
            x2=w.say('continuous' if s.shape != 'constant' else 'not continuous'),
            x3=w.n(W),
        )
    ]
    if s.shape == "constant":
        text = w.say('warmup_words.3', x0=w.n(s.start_value), x1=w.span(W), x2=w.n(s.target))
    else:
        text = w.say('warmup_words.4', x0=shape, x1=w.n(s.start_value), x2=w.n(s.target), x3=w.span(W))
    if s.shape == "exponential":
        notes.append(w.say('warmup_words.5', x0=w.n(s.time_constant), x1=w.n(W)))
    return text, notes


@explainer("warmup")
def _warmup(s: Any, w: _W) -> tuple[list[str], list[str]]:
    text, notes = _warmup_words(s, w)
    if s.warmup_steps == 0:
        return [text, _summary(s.schedule, w)], notes
    return [text, w.say('warmup.1', x0=w.at(s.warmup_steps)), _summary(s.schedule, w.shifted(s.warmup_steps))], notes


@explainer("warmup_cosine")
def _warmup_cosine(s: Any, w: _W) -> tuple[list[str], list[str]]:
    text, notes = _warmup_words(s, w)
    W, T = s.warmup_steps, s.total_steps
    text2 = w.say('warmup_cosine.1', x0=w.n(s.peak_lr), x1=w.n(s.min_lr), x2=w.at(T))
    mid = (W + T) / 2
    notes.append(w.say('warmup_cosine.2', x0=w.at(mid), x1=w.n(s(mid))))
    return [text, text2], notes


@explainer("sequence")
def _sequence(s: Any, w: _W) -> tuple[list[str], list[str]]:
    text = [w.say('sequence.1', x0=len(s.segments))]
    for seg, start in zip(s.segments, s.starts):
        text.append(w.say('sequence.2', x0=w.at(start)) + w.say('sequence.3') + _summary(seg, w.shifted(start)))
    notes = []
    for i, b in enumerate(s.boundaries):
        before, after = s.segments[i]._scalar(b - s.starts[i]), s.segments[i + 1]._scalar(0.0)
        if before != after:
            notes.append(w.say('sequence.4', x0=w.at(b), x1=w.n(before), x2=w.n(after)))
    return text, notes


@explainer("hold")
def _hold(s: Any, w: _W) -> tuple[list[str], list[str]]:
    return [_summary(s.schedule, w), w.say('hold.1', x0=w.at(s.end), x1=w.n(s.held_value))], []


@explainer("scale")
def _scale(s: Any, w: _W) -> tuple[list[str], list[str]]:
    return [w.say('scale.1', x0=w.n(s.factor)) + w.say('scale.2') + _summary(s.schedule, w)], []


@explainer("clip")
def _clip(s: Any, w: _W) -> tuple[list[str], list[str]]:
    hi = "" if s.max_lr == _INF else w.say('clip.1', x0=w.n(s.max_lr))
    return [_summary(s.schedule, w), w.say('clip.2', x0=w.n(s.min_lr), x1=hi)], []


@explainer("per_step")
def _per_step(s: Any, w: _W) -> tuple[list[str], list[str]]:
    k = s.steps_per_epoch
    head = w.say('per_step.1', x0=w.n(k)) if float(k).is_integer() else w.say('per_step.3', x0=w.n(k))
    return [head + w.say('per_step.2') + _summary(s.schedule, w.scaled(k))], []


@explainer("product")
def _product(s: Any, w: _W) -> tuple[list[str], list[str]]:
    text = [w.say('product.1', x0=len(s.schedules))]
    text += [f"({i + 1}) {_summary(f, w)}" for i, f in enumerate(s.schedules)]
    return text, []


# -- recipes ---------------------------------------------------------------------------------------------------
@explainer("yolox_cos")
def _yolox_cos(s: Any, w: _W) -> tuple[list[str], list[str]]:
    W, N, T = s.warmup_iters, s.no_aug_iters, s.total_iters
    sv = s.warmup_lr_start
    text = [
        w.say(
            'yolox_cos.1', x0=w.n(sv), x1=w.n(s.lr), x2=w.n(W), x3=w.n(s.min_lr), x4=w.at(T - N), x5=w.n(N), x6=w.n(T)
        )
    ]
    if s.cosine_steps <= 0:
        text = [w.say('yolox_cos.2', x0=w.n(sv), x1=w.n(s.lr), x2=w.n(W), x3=w.n(s.min_lr))]
    notes = [
        w.say('yolox_cos.3', x0=w.n(s.warmup_iters_ratio), x1=w.n(T), x2=w.n(W)),
        w.say('yolox_cos.4', x0=w.n(s.no_aug_iter_ratio), x1=w.n(T), x2=w.n(N)),
        w.say('yolox_cos.5', x0=w.n(sv), x1=w.n(W)),
        w.say('yolox_cos.6'),
    ]
    return text, notes


@explainer("yolox_step")
def _yolox_step(s: Any, w: _W) -> tuple[list[str], list[str]]:
    n, D = int(s.step_num), s.step_size
    text = [w.say('yolox_step.1', x0=n, x1=w.n(D), x2=w.n(s.lr), x3=w.n(s.min_lr), x4=w.n(s.decay_rate))]
    notes = [w.say('yolox_step.2', x0=w.n(s.min_lr), x1=w.at((n - 1) * D), x2=w.n(s.total_iters))]
    return text, notes


@explainer("torchvision_warmup")
def _torchvision_warmup(s: Any, w: _W) -> tuple[list[str], list[str]]:
    if s.warmup_iters == 0:
        return [w.say('torchvision_warmup.1')], []
    return [
        w.say('torchvision_warmup.2', x0=w.n(s.warmup_factor), x1=w.span(s.warmup_iters), x2=w.at(s.warmup_iters))
    ], [w.say('torchvision_warmup.3')]


@explainer("cawb")
def _cawb(s: Any, w: _W) -> tuple[list[str], list[str]]:
    per = s.positions_per_epoch
    if w.steps_per_epoch is None and s.batchs > 0:
        w.steps_per_epoch = s.batchs  # positions are iterations: name their epochs too
    B = s.boundaries
    unit = w.say('cawb.1a') if s.batchs > 0 else w.say('cawb.1b')
    text = [w.say('cawb.2', x0=w.n(s.epochs), x1=unit)]
    if s.warmup_iters > 0:
        text.append(w.say('cawb.3', x0=w.n(s.warmup_epoch), x1=w.n(s.warmup_iters), x2=w.n(s.batchs)))
    segs = [f"{w.n(B[i])}–{w.n(B[i + 1])}" for i in range(len(B) - 1)]
    text.append(
        w.say('cawb.4', x0=w.join(segs), x1=w.n(s.step_scale), x2=w.join([w.n(v) for v in s.scales[: len(segs)]]))
    )
    # restarts where the applied multiplier really jumps up (read off the schedule, epoch by epoch)
    vals = [s(e * per) for e in range(min(int(math.ceil(s.epochs)), 100_000))]
    ups = s.restart_epochs()
    notes = []
    lf = s.decay_function
    if lf is None:
        notes.append(w.say('cawb.5', x0=w.n(s.eta_min)))
    else:
        if getattr(lf, "kind", None) == "cawb_lf":  # the recipe's own lf (a callable of another kind: words only)
            shape = w.say('cawb.6a') if lf.shape == "cos" else w.say('cawb.6b')
            notes.append(
                w.say('cawb.7', x0=shape, x1=w.n(lf.amplitude), x2=w.n(lf.floor), x3=w.n(lf.amplitude + lf.floor))
            )
        else:
            notes.append(w.say('cawb.8'))
    if len(B) > 2 and s.epoch_scale > 0:
        notes.append(w.say('cawb.9', x0=w.n(s.epoch_scale), x1=w.join([w.n(g) for g in s.gaps])))
    if ups:
        notes.append(w.say('cawb.10', x0=w.join([w.n(b) for b in B[1:-1]]), x1=w.join([str(e) for e in ups])))
    e0 = math.floor(s.warmup_epoch)
    if e0 >= 1 or s.warmup_epoch > 0:
        first = s(e0 * per) if s.warmup_epoch == e0 else None
        if first is not None and e0 + 1 < len(vals):
            notes.append(w.say('cawb.11', x0=e0, x1=w.n(first), x2=w.n(vals[e0 + 1]), x3=e0 + 1))
    notes.append(w.say('cawb.12', x0=w.n(s.epochs)))
    return text, notes


def explain_ultralytics(u: Any, lang: str = "en") -> str:
    """What ultralytics' trainer does with the settings of ``u`` (an
    :class:`lrkit.recipes.ultralytics.UltralyticsSchedules`), in words."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(map(repr, LANGS))}, got {lang!r}")
    a, r, nw = u.settings, u.rules, u.warmup_iters
    w = _W(lang, steps_per_epoch=float(a["batches"]))
    E, nb = a["epochs"], a["batches"]
    shape = w.say('ultralytics.1a') if a["cos_lr"] else w.say('ultralytics.1b')
    text = [w.say('ultralytics.1', x0=r.version, x1=nb, x2=E, x3=w.n(a["lr0"]), x4=shape, x5=w.n(a["lrf"]))]
    starting = next((g for g, s in zip(u.groups, u.lr) if s(0.0) > 0), None) if nw else None
    if nw:
        who = (
            w.say('ultralytics.2a', x0=starting, x1=w.n(a["warmup_bias_lr"]))
            if starting is not None
            else w.say('ultralytics.2b')
        )
        text.append(
            w.say('ultralytics.2', x0=nw, x1=w.n(nw / nb), x2=who, x3=w.n(a["warmup_momentum"]), x4=w.n(a["momentum"]))
        )
    else:
        text.append(w.say('ultralytics.3', x0=w.n(a["momentum"])))
    last = float(E * nb - 1)
    # with the end-of-epoch step, the last epoch reads lf(E - 2) unless the warmup ends in it
    e_last = E - 2 if r.lag and nw // nb + 1 <= E - 1 else E - 1
    if last < nw:
        text.append(w.say('ultralytics.4b', x0=int(last), x1=w.n(u.lr[0](last)), x2=nw))
    else:
        text.append(w.say('ultralytics.4', x0=w.n(u.lr[0](last)), x1=e_last))
    notes = [w.say('ultralytics.n5', x0=w.say('ultralytics.lf.cos' if a["cos_lr"] else 'ultralytics.lf.linear'))]
    if r.warmup == "capped":
        notes.append(w.say('ultralytics.n2', x0=w.n(a["warmup_epochs"]), x1=max(E - 1, 0), x2=nb, x3=nw))
    elif nw:
        extra = w.say('ultralytics.n1a') if r.warmup == "always100" else ""
        notes.append(w.say('ultralytics.n1', x0=w.n(a["warmup_epochs"]), x1=nb, x2=nw, x3=extra))
    if r.lag:
        notes.append(w.say('ultralytics.n3', x0=nw // nb + 1) if nw else w.say('ultralytics.n3b'))
    if nw and r.bias_start == "first" and r.layout[0] != "bias":
        notes.append(w.say('ultralytics.n4', x0=r.layout[0]))
    out = [("" if lang == "zh" else " ").join(text), "", w.say('explain.2')]
    out += [f"  - {n}" for n in notes]
    return "\n".join(out)


# -- the kinds' own words ------------------------------------------------------------------------------------
# Taken from the core, where each kind's module declared them (lrkit.core.words, lrkit.core.explainer)
# without importing this layer; declared from now on, they come here directly.
for _lang, _table in _core._WORDS:
    words(_lang, _table)
EXPLAINERS.update(_core._EXPLAINERS)
_core._WORDS.clear()
_core._EXPLAINERS.clear()
_core._explain_tables = (words, EXPLAINERS)


class _ExplainModule(types.ModuleType):
    """``lrkit.explain``: the package of words (``lrkit.explain.words``, ...), callable as
    ``lrkit.explain(obj, lang="en")`` (:func:`lrkit.convert.entry.explain`)."""

    def __call__(self, obj: Any, lang: str = "en", **kwargs: Any) -> str:
        # by name: the entry points read any scheduler and sit above this layer, which does not import them
        return importlib.import_module("lrkit.convert.entry").explain(obj, lang, **kwargs)


sys.modules[__name__].__class__ = _ExplainModule
