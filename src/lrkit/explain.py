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

import math
from typing import Any, Callable

from .core import Phase, Schedule

__all__ = ["explain", "explainer", "EXPLAINERS", "LANGS"]

#: Languages :func:`explain` writes: English and Simplified Chinese.
LANGS = ("en", "zh")

_INF = math.inf


class _W:
    """The words of one explanation: picks the language and formats numbers the same way in both."""

    def __init__(self, lang: str, steps_per_epoch: float | None = None) -> None:
        self.lang = lang
        self.steps_per_epoch = steps_per_epoch

    def t(self, en: str, zh: str) -> str:
        return zh if self.lang == "zh" else en

    def say(self, table: dict[str, str], **values: Any) -> str:
        """``table[lang]`` (a per-language table of templates) filled with ``values``."""
        return table[self.lang].format(**values)

    @staticmethod
    def n(v: float | None) -> str:
        """A number as the text shows it: whole numbers without a point, else 6 significant digits."""
        if v is None:
            return "?"
        v = float(v)
        if v == _INF:
            return "inf"
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.6g}"

    def at(self, p: float) -> str:
        """A position, with its epoch when the positions are iterations of known epochs."""
        if self.steps_per_epoch and p != _INF:
            return self.t(f"{self.n(p)} (epoch {self.n(p / self.steps_per_epoch)})",
                          f"{self.n(p)}（epoch {self.n(p / self.steps_per_epoch)}）")
        return self.n(p)

    def span(self, length: float) -> str:
        return self.t(f"{self.n(length)} positions", f"{self.n(length)} 个位置")

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
        from .plot import spec_label

        out += [spec_label(schedule), ""]
    out.append(("" if lang == "zh" else " ").join(summary))
    out += ["", w.t("Phases:", "阶段：")]
    out += _phase_lines(schedule.phases(), w)
    if notes:
        out += ["", w.t("Worth knowing:", "值得注意：")]
        out += [f"  - {n}" for n in notes]
    return "\n".join(out)


def _explain(s: Schedule, w: _W) -> tuple[list[str], list[str]]:
    fn = EXPLAINERS.get(getattr(s, "kind", ""))
    if fn is None:
        return _generic(s, w), []
    return fn(s, w)


def _summary(s: Schedule, w: _W) -> str:
    """One nested schedule's summary, for composites (mid-sentence: 'a constant', but 'YOLOX' stays)."""
    text = w.t(" ", "").join(_explain(s, w)[0])
    if w.lang == "en" and len(text) > 1 and text[0].isupper() and not text[1].isupper():
        text = text[0].lower() + text[1:]
    return text


# -- the phase list ---------------------------------------------------------------------------------
_ZH_WORDS = {
    "warmup": "预热", "warm up": "预热", "linear": "线性", "power": "幂函数", "exponential": "指数",
    "constant": "常数", "quadratic": "二次", "cosine": "余弦", "hold min_lr": "保持 min_lr", "hold": "保持",
    "cosine warm restarts": "余弦热重启", "anneal down": "退火下降", "anneal to min": "退火到最小值",
    "stable": "稳定", "decay": "衰减", "step decay": "阶梯衰减", "inverse sqrt": "平方根倒数",
    "polynomial": "多项式", "linear from 0": "从 0 线性上升", "ramp down": "下降", "1-sqrt": "1-sqrt",
    "up": "上升", "down": "下降", "plateau": "平台", "product": "乘积", "tanh": "tanh",
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
            where = w.t(f"from {w.at(p.start)} on", f"从 {w.at(p.start)} 起")
        else:
            where = w.t(f"{w.at(p.start)} to {w.at(p.end)} ({w.span(p.end - p.start)})",
                        f"{w.at(p.start)} 到 {w.at(p.end)}（共 {w.span(p.end - p.start)}）")
        if p.end_value is None:
            vals = w.t(f"starts at {w.n(p.start_value)}, then varies", f"起始值 {w.n(p.start_value)}，之后变化")
        elif p.start_value == p.end_value:
            vals = w.t(f"{w.n(p.start_value)} throughout", f"恒为 {w.n(p.start_value)}")
        else:
            vals = f"{w.n(p.start_value)} → {w.n(p.end_value)}"
        jump = "" if p.continuous or i == 0 else w.t(" (jumps there)", "（此处跳变）")
        rows.append(f"  {i + 1}. {name}{w.t(': ', '：')}{where}{w.t(', ', '，')}{vals}{jump}")
    return rows


# -- the fallback: from phases() alone --------------------------------------------------------------
def _generic(s: Schedule, w: _W) -> list[str]:
    ph = s.phases()
    L = s.length
    first = ph[0].start_value
    text = [w.t(f"A {s.kind or type(s).__name__} schedule in {len(ph)} phase{'s' if len(ph) != 1 else ''}, "
                f"starting at {w.n(first)}.",
                f"一个 {s.kind or type(s).__name__} 调度，共 {len(ph)} 个阶段，起始值 {w.n(first)}。")]
    if L == 0:
        text.append(w.t("It is constant.", "它是常数。"))
    elif L < _INF:
        v = s(L)
        text.append(w.t(f"From position {w.at(L)} on it stays at {w.n(v)}.",
                        f"从位置 {w.at(L)} 起保持 {w.n(v)} 不变。"))
    else:
        text.append(w.t("It never settles to a constant.", "它不会停在某个常数上。"))
    return text


def _tail(s: Any, w: _W, end: float, value: float) -> str:
    return w.t(f"then {w.n(value)} for ever (from position {w.at(end)}).",
               f"之后一直保持 {w.n(value)}（从位置 {w.at(end)} 起）。")


# -- decays ---------------------------------------------------------------------------------------------------
@explainer("constant")
def _constant(s: Any, w: _W) -> tuple[list[str], list[str]]:
    return [w.t(f"A constant {w.n(s.lr)} at every position.", f"所有位置都是常数 {w.n(s.lr)}。")], []


@explainer("cosine")
def _cosine(s: Any, w: _W) -> tuple[list[str], list[str]]:
    T = s.total_steps
    text = [w.t(f"Half a cosine from {w.n(s.peak_lr)} down to {w.n(s.min_lr)} over {w.span(T)}, "
                f"then {w.n(s.min_lr)} for ever.",
                f"在 {w.span(T)} 内按半个余弦从 {w.n(s.peak_lr)} 降到 {w.n(s.min_lr)}，之后一直保持 "
                f"{w.n(s.min_lr)}。")]
    notes = []
    if s.k != 1:
        notes.append(w.t(f"k = {w.n(s.k)}: the cosine runs on t**k / T**k, so it stays near the peak longer "
                         f"and falls later (the k-decay variant).",
                         f"k = {w.n(s.k)}：余弦的自变量是 t**k / T**k，因此在峰值附近停留更久、下降更晚（k-decay 变体）。"))
    notes.append(w.t(f"Halfway, at {w.at(T / 2)}, the value is {w.n(s(T / 2))}.",
                     f"在一半处（{w.at(T / 2)}）值为 {w.n(s(T / 2))}。"))
    return text, notes


@explainer("linear")
def _linear(s: Any, w: _W) -> tuple[list[str], list[str]]:
    return [w.t(f"A straight line from {w.n(s.peak_lr)} down to {w.n(s.min_lr)} over {w.span(s.total_steps)}, "
                f"then {w.n(s.min_lr)} for ever.",
                f"在 {w.span(s.total_steps)} 内从 {w.n(s.peak_lr)} 线性降到 {w.n(s.min_lr)}，之后一直保持 "
                f"{w.n(s.min_lr)}。")], []


@explainer("polynomial")
def _polynomial(s: Any, w: _W) -> tuple[list[str], list[str]]:
    return [w.t(f"A polynomial decay of power {w.n(s.power)} from {w.n(s.peak_lr)} to {w.n(s.min_lr)} over "
                f"{w.span(s.total_steps)}, then {w.n(s.min_lr)} for ever.",
                f"在 {w.span(s.total_steps)} 内按 {w.n(s.power)} 次多项式从 {w.n(s.peak_lr)} 衰减到 "
                f"{w.n(s.min_lr)}，之后一直保持 {w.n(s.min_lr)}。")], []


@explainer("polynomial_cycle")
def _polynomial_cycle(s: Any, w: _W) -> tuple[list[str], list[str]]:
    T = s.decay_steps
    return [w.t(f"A polynomial decay of power {w.n(s.power)} from {w.n(s.peak_lr)} to {w.n(s.end_lr)} over "
                f"{w.span(T)}; then, each time the end is reached, the horizon grows to the next multiple of "
                f"{w.n(T)} and the decay starts again from a lower height (Paddle's PolynomialDecay with cycle=True).",
                f"在 {w.span(T)} 内按 {w.n(s.power)} 次多项式从 {w.n(s.peak_lr)} 衰减到 {w.n(s.end_lr)}；之后每到终点，"
                f"衰减区间延长到 {w.n(T)} 的下一个整数倍，从更低的高度重新衰减（即 Paddle 的 "
                f"PolynomialDecay(cycle=True)）。")], []


@explainer("step")
def _step(s: Any, w: _W) -> tuple[list[str], list[str]]:
    return [w.t(f"Starts at {w.n(s.peak_lr)} and is multiplied by {w.n(s.gamma)} every {w.span(s.step_size)} "
                f"(first at {w.at(s.step_size)}), for ever.",
                f"从 {w.n(s.peak_lr)} 开始，每 {w.span(s.step_size)} 乘以 {w.n(s.gamma)}（第一次在 "
                f"{w.at(s.step_size)}），永不停止。")], []


@explainer("multistep")
def _multistep(s: Any, w: _W) -> tuple[list[str], list[str]]:
    if not s.milestones:
        return [w.t(f"No milestones: a constant {w.n(s.peak_lr)}.", f"没有里程碑：常数 {w.n(s.peak_lr)}。")], []
    ms = w.join([w.at(m) for m in s.milestones])
    return [w.t(f"Starts at {w.n(s.peak_lr)} and is multiplied by {w.n(s.gamma)} at {ms}; the last plateau, "
                f"{w.n(s(s.milestones[-1]))}, lasts for ever.",
                f"从 {w.n(s.peak_lr)} 开始，在 {ms} 处各乘以 {w.n(s.gamma)}；最后一个平台 "
                f"{w.n(s(s.milestones[-1]))} 一直保持。")], []


@explainer("exponential")
def _exponential(s: Any, w: _W) -> tuple[list[str], list[str]]:
    if s.staircase:
        text = w.t(f"Starts at {w.n(s.peak_lr)} and drops by a factor {w.n(s.gamma)} every "
                   f"{w.span(s.step_size)}, in whole steps (staircase).",
                   f"从 {w.n(s.peak_lr)} 开始，每 {w.span(s.step_size)} 整步乘以 {w.n(s.gamma)}（阶梯式）。")
    else:
        text = w.t(f"Starts at {w.n(s.peak_lr)} and shrinks smoothly by a factor {w.n(s.gamma)} every "
                   f"{w.span(s.step_size)}, for ever (never reaching 0).",
                   f"从 {w.n(s.peak_lr)} 开始，每 {w.span(s.step_size)} 平滑地乘以 {w.n(s.gamma)}，"
                   f"永不停止（不会到 0）。")
    half = s.step_size * math.log(0.5) / math.log(s.gamma) if 0 < s.gamma < 1 else None
    notes = [] if half is None or s.staircase else [
        w.t(f"The value halves every {w.n(half)} positions.", f"每 {w.n(half)} 个位置减半。")]
    return [text], notes


@explainer("inverse_sqrt")
def _inverse_sqrt(s: Any, w: _W) -> tuple[list[str], list[str]]:
    ts = s.timescale
    return [w.t(f"Starts at {w.n(s.peak_lr)} and falls like 1/sqrt(position + {w.n(ts)}): half the start at "
                f"{w.at(3 * ts)}, a tenth at {w.at(99 * ts)}, never reaching 0.",
                f"从 {w.n(s.peak_lr)} 开始，按 1/sqrt(位置 + {w.n(ts)}) 下降：在 {w.at(3 * ts)} 降到一半，"
                f"在 {w.at(99 * ts)} 降到十分之一，不会到 0。")], []


@explainer("tanh")
def _tanh(s: Any, w: _W) -> tuple[list[str], list[str]]:
    end = s.end_value
    text = [w.t(f"A tanh-shaped decay from about {w.n(s(0.0))} to {w.n(end)} over {w.span(s.total_steps)}, "
                f"flat at first, steepest near {w.n(100 * -s.lower / (s.upper - s.lower))}% of the way, then "
                f"{w.n(s.min_lr)} for ever.",
                f"在 {w.span(s.total_steps)} 内呈 tanh 形从约 {w.n(s(0.0))} 降到 {w.n(end)}：开始平缓，在约 "
                f"{w.n(100 * -s.lower / (s.upper - s.lower))}% 处最陡，之后一直保持 {w.n(s.min_lr)}。")]
    notes = []
    if end != s.min_lr:
        notes.append(w.t(f"It does not reach min_lr smoothly: it ends at {w.n(end)} and drops to "
                         f"{w.n(s.min_lr)} at {w.at(s.total_steps)}.",
                         f"它不会平滑地到达 min_lr：结束于 {w.n(end)}，在 {w.at(s.total_steps)} 处跳到 "
                         f"{w.n(s.min_lr)}。"))
    return text, notes


@explainer("one_cycle")
def _one_cycle(s: Any, w: _W) -> tuple[list[str], list[str]]:
    e = s.phase_ends
    how = w.t("a cosine" if s.shape == "cosine" else "a straight line", "余弦" if s.shape == "cosine" else "直线")
    if s.three_phase:
        text = w.t(f"One cycle in three phases, each {how}: up from {w.n(s.start_lr)} to {w.n(s.peak_lr)} by "
                   f"{w.at(e[0])}, back down to {w.n(s.start_lr)} by {w.at(e[1])}, then to {w.n(s.min_lr)} by "
                   f"{w.at(e[2])}, held after.",
                   f"三段式单周期，每段按{how}：在 {w.at(e[0])} 前从 {w.n(s.start_lr)} 升到 {w.n(s.peak_lr)}，在 "
                   f"{w.at(e[1])} 前回到 {w.n(s.start_lr)}，再在 {w.at(e[2])} 前降到 {w.n(s.min_lr)}，之后保持。")
    else:
        text = w.t(f"One cycle, each part {how}: up from {w.n(s.start_lr)} to {w.n(s.peak_lr)} by {w.at(e[0])}, "
                   f"then down to {w.n(s.min_lr)} by {w.at(e[1])}, held after.",
                   f"单周期，每段按{how}：在 {w.at(e[0])} 前从 {w.n(s.start_lr)} 升到 {w.n(s.peak_lr)}，再在 "
                   f"{w.at(e[1])} 前降到 {w.n(s.min_lr)}，之后保持。")
    notes = [w.t(f"PyTorch OneCycleLR's positions: the peak is at pct_start * total_steps - 1 = {w.n(e[0])} and "
                 f"the end at total_steps - 1 = {w.n(e[-1])}, not at {w.n(s.total_steps)}.",
                 f"与 PyTorch OneCycleLR 的位置一致：峰值在 pct_start * total_steps - 1 = {w.n(e[0])}，"
                 f"结束在 total_steps - 1 = {w.n(e[-1])}，而不是 {w.n(s.total_steps)}。")]
    return [text], notes


@explainer("wsd")
def _wsd(s: Any, w: _W) -> tuple[list[str], list[str]]:
    t0 = s.decay_start
    return [w.t(f"Warmup-stable-decay without the warmup: {w.n(s.peak_lr)} until {w.at(t0)}, then a "
                f"{s.shape} decay to {w.n(s.min_lr)} over the last {w.span(s.decay_steps)} (ending at "
                f"{w.at(s.total_steps)}), then {w.n(s.min_lr)} for ever.",
                f"不含预热的 warmup-stable-decay：在 {w.at(t0)} 之前保持 {w.n(s.peak_lr)}，然后在最后 "
                f"{w.span(s.decay_steps)} 内按 {s.shape} 衰减到 {w.n(s.min_lr)}（在 {w.at(s.total_steps)} "
                f"结束），之后一直保持 {w.n(s.min_lr)}。")], [
        w.t("Put a warmup in front with with_warmup() or a warmup spec.",
            "用 with_warmup() 或 warmup 配置在前面加上预热。")]


# -- cycles ---------------------------------------------------------------------------------------------------
@explainer("cosine_restarts")
def _cosine_restarts(s: Any, w: _W) -> tuple[list[str], list[str]]:
    starts = [s.cycle_start(i) for i in range(1, 4 if s.max_cycles is None else min(s.max_cycles, 4))]
    text = [w.t(f"Cosine annealing with warm restarts: each cycle falls from its peak to {w.n(s.min_lr)}, then "
                f"jumps back up. The first cycle lasts {w.span(s.period)} and peaks at {w.n(s.peak_lr)}.",
                f"带热重启的余弦退火：每个周期从峰值降到 {w.n(s.min_lr)}，然后跳回高处。第一个周期长 "
                f"{w.span(s.period)}，峰值 {w.n(s.peak_lr)}。")]
    if s.period_mult != 1:
        text.append(w.t(f"Each cycle is {w.n(s.period_mult)} times longer than the one before.",
                        f"每个周期是前一个的 {w.n(s.period_mult)} 倍长。"))
    if s.peak_decay != 1:
        text.append(w.t(f"Each restart's peak is {w.n(s.peak_decay)} times the previous one.",
                        f"每次重启的峰值是前一次的 {w.n(s.peak_decay)} 倍。"))
    if starts:
        text.append(w.t(f"Restarts at {w.join([w.at(p) for p in starts])}"
                        f"{', ...' if s.max_cycles is None or s.max_cycles > 4 else ''}.",
                        f"重启位置：{w.join([w.at(p) for p in starts])}"
                        f"{'……' if s.max_cycles is None or s.max_cycles > 4 else ''}。"))
    if s.max_cycles is not None:
        text.append(w.t(f"After {s.max_cycles} cycles, at {w.at(s.end)}, it holds {w.n(s.min_lr)}.",
                        f"{s.max_cycles} 个周期后（{w.at(s.end)}）保持 {w.n(s.min_lr)}。"))
    return text, []


@explainer("cyclic")
def _cyclic(s: Any, w: _W) -> tuple[list[str], list[str]]:
    down = s._L - s.step_size_up
    text = [w.t(f"A triangle wave between {w.n(s.min_lr)} and {w.n(s.peak_lr)}: up over {w.span(s.step_size_up)}, "
                f"down over {w.span(down)}, repeated for ever.",
                f"在 {w.n(s.min_lr)} 和 {w.n(s.peak_lr)} 之间的三角波：{w.span(s.step_size_up)} 上升，"
                f"{w.span(down)} 下降，无限重复。")]
    if s.mode == "triangular2":
        text.append(w.t("The height halves every cycle (triangular2).", "每个周期的高度减半（triangular2）。"))
    elif s.mode == "exp_range":
        text.append(w.t(f"The height is multiplied by {w.n(s.gamma)}**position (exp_range).",
                        f"高度乘以 {w.n(s.gamma)} 的位置次方（exp_range）。"))
    return text, []


# -- composites -----------------------------------------------------------------------------------------------
_SHAPE = {"linear": ("linear", "线性"), "power": ("power", "幂函数"), "exponential": ("exponential", "指数"),
          "constant": ("constant", "常数")}


def _warmup_words(s: Any, w: _W) -> tuple[str, list[str]]:
    W = s.warmup_steps
    en, zh = _SHAPE[s.shape]
    if s.shape == "power":
        en, zh = f"power-{w.n(s.power)}", f"{w.n(s.power)} 次幂"
    if W == 0:
        return w.t("No warmup.", "没有预热。"), []
    notes = [w.t(f"The warmup ends at {w.at(W)} exactly at the next schedule's own starting value "
                 f"({w.n(s.target)}), so the curve is {'continuous' if s.shape != 'constant' else 'not continuous'} "
                 f"there; the next schedule then runs on its own clock, shifted by {w.n(W)}.",
                 f"预热在 {w.at(W)} 结束，终点正是后一个调度自己的起始值（{w.n(s.target)}），因此曲线在此处"
                 f"{'连续' if s.shape != 'constant' else '不连续'}；之后的调度按自己的位置计数，整体后移 {w.n(W)}。")]
    if s.shape == "constant":
        text = w.t(f"A constant warmup at {w.n(s.start_value)} for {w.span(W)}, then a jump to {w.n(s.target)}.",
                   f"{w.span(W)}的常数预热，值为 {w.n(s.start_value)}，然后跳到 {w.n(s.target)}。")
    else:
        text = w.t(f"A {en} warmup from {w.n(s.start_value)} to {w.n(s.target)} over {w.span(W)}.",
                   f"{w.span(W)}的{zh}预热，从 {w.n(s.start_value)} 升到 {w.n(s.target)}。")
    if s.shape == "exponential":
        notes.append(w.t(f"Exponential shape: 1 - exp(-t/tau) with tau = {w.n(s.time_constant)}, rescaled to reach the "
                         f"end value exactly at {w.n(W)}.",
                         f"指数形状：1 - exp(-t/tau)，tau = {w.n(s.time_constant)}，经过缩放恰好在 {w.n(W)} 到达终点值。"))
    return text, notes


@explainer("warmup")
def _warmup(s: Any, w: _W) -> tuple[list[str], list[str]]:
    text, notes = _warmup_words(s, w)
    if s.warmup_steps == 0:
        return [text, _summary(s.schedule, w)], notes
    return [text, w.t(f"Then, from {w.at(s.warmup_steps)}:", f"然后从 {w.at(s.warmup_steps)} 起："),
            _summary(s.schedule, w)], notes


@explainer("warmup_cosine")
def _warmup_cosine(s: Any, w: _W) -> tuple[list[str], list[str]]:
    text, notes = _warmup_words(s, w)
    W, T = s.warmup_steps, s.total_steps
    text2 = w.t(f"Then half a cosine from {w.n(s.peak_lr)} down to {w.n(s.min_lr)}, ending at {w.at(T)} "
                f"(total_steps counts the warmup), then {w.n(s.min_lr)} for ever.",
                f"然后按半个余弦从 {w.n(s.peak_lr)} 降到 {w.n(s.min_lr)}，在 {w.at(T)} 结束（total_steps 包含预热），"
                f"之后一直保持 {w.n(s.min_lr)}。")
    mid = (W + T) / 2
    notes.append(w.t(f"Halfway through the cosine, at {w.at(mid)}, the value is {w.n(s(mid))}.",
                     f"余弦段的一半处（{w.at(mid)}）值为 {w.n(s(mid))}。"))
    return [text, text2], notes


@explainer("sequence")
def _sequence(s: Any, w: _W) -> tuple[list[str], list[str]]:
    text = [w.t(f"{len(s.segments)} schedules back to back; each one starts from its own position 0.",
                f"{len(s.segments)} 个调度首尾相接；每个都从自己的位置 0 开始计数。")]
    for i, (seg, start) in enumerate(zip(s.segments, s.starts)):
        text.append(w.t(f"From {w.at(start)}:", f"从 {w.at(start)} 起：") + w.t(" ", "") + _summary(seg, w))
    notes = []
    for i, b in enumerate(s.boundaries):
        before, after = s.segments[i]._scalar(b - s.starts[i]), s.segments[i + 1]._scalar(0.0)
        if before != after:
            notes.append(w.t(f"At {w.at(b)} the value jumps from {w.n(before)} to {w.n(after)}.",
                             f"在 {w.at(b)} 处值从 {w.n(before)} 跳到 {w.n(after)}。"))
    return text, notes


@explainer("hold")
def _hold(s: Any, w: _W) -> tuple[list[str], list[str]]:
    return [_summary(s.schedule, w),
            w.t(f"But from {w.at(s.end)} on it is held at {w.n(s.held_value)}.",
                f"但从 {w.at(s.end)} 起固定为 {w.n(s.held_value)}。")], []


@explainer("scale")
def _scale(s: Any, w: _W) -> tuple[list[str], list[str]]:
    return [w.t(f"{w.n(s.factor)} times this:", f"以下调度乘以 {w.n(s.factor)}：") + w.t(" ", "") + _summary(s.schedule, w)], []


@explainer("clip")
def _clip(s: Any, w: _W) -> tuple[list[str], list[str]]:
    hi = "" if s.max_lr == _INF else w.t(f" and at most {w.n(s.max_lr)}", f"、至多 {w.n(s.max_lr)}")
    return [_summary(s.schedule, w),
            w.t(f"Every value is clamped to at least {w.n(s.min_lr)}{hi}.",
                f"每个值都被限制为至少 {w.n(s.min_lr)}{hi}。")], []


@explainer("per_step")
def _per_step(s: Any, w: _W) -> tuple[list[str], list[str]]:
    k = s.steps_per_epoch
    inner = _W(w.lang)
    return [w.t(f"An epoch schedule evaluated at every iteration ({w.n(k)} iterations per epoch: position / "
                f"{w.n(k)} is the epoch). In epochs:",
                f"按轮（epoch）定义、在每次迭代时求值的调度（每轮 {w.n(k)} 次迭代：位置 / {w.n(k)} 即轮数）。"
                f"以轮计：") + w.t(" ", "") + _summary(s.schedule, inner)], []


@explainer("product")
def _product(s: Any, w: _W) -> tuple[list[str], list[str]]:
    text = [w.t(f"The product of {len(s.schedules)} schedules, multiplied position by position:",
                f"{len(s.schedules)} 个调度逐位置相乘：")]
    text += [f"({i + 1}) {_summary(f, w)}" for i, f in enumerate(s.schedules)]
    return text, []


# -- recipes ---------------------------------------------------------------------------------------------------
@explainer("yolox_cos")
def _yolox_cos(s: Any, w: _W) -> tuple[list[str], list[str]]:
    W, N, T = s.warmup_iters, s.no_aug_iters, s.total_iters
    sv = s.warmup_lr_start
    text = [w.t(f"YOLOX \"warm cos\": a quadratic warmup from {w.n(sv)} to {w.n(s.lr)} over {w.n(W)} positions, "
                f"then half a cosine from {w.n(s.lr)} down to {w.n(s.min_lr)} ending at {w.at(T - N)}, then a flat "
                f"min_lr tail of {w.n(N)} positions ({w.n(s.min_lr)} up to total_iters = {w.n(T)} and beyond). It is "
                f"not 'cosine warmup then constant', as it is often described.",
                f"YOLOX “warm cos”：先在 {w.n(W)} 个位置内从 {w.n(sv)} 二次（平方）预热到 {w.n(s.lr)}，再按半个余弦从 "
                f"{w.n(s.lr)} 降到 {w.n(s.min_lr)}（在 {w.at(T - N)} 结束），最后是长 {w.n(N)} 个位置的 min_lr 平尾"
                f"（直到 total_iters = {w.n(T)} 及以后都是 {w.n(s.min_lr)}）。它不是常被说成的“余弦预热后保持常数”。")]
    if s.cosine_steps <= 0:
        text = [w.t(f"YOLOX \"warm cos\" on a run too short for its cosine: a quadratic warmup from {w.n(sv)} to "
                    f"{w.n(s.lr)} over {w.n(W)} positions, then {w.n(s.min_lr)} at once.",
                    f"YOLOX “warm cos”，但训练太短，没有余弦段：在 {w.n(W)} 个位置内从 {w.n(sv)} 二次预热到 "
                    f"{w.n(s.lr)}，然后立刻变为 {w.n(s.min_lr)}。")]
    notes = [
        w.t(f"Warmup length W = min(max(warmup_iters_ratio * total_iters, 1), 3) = min(max("
            f"{w.n(s.warmup_iters_ratio)} * {w.n(T)}, 1), 3) = {w.n(W)}: clamped to [1, 3], whatever the ratio.",
            f"预热长度 W = min(max(warmup_iters_ratio * total_iters, 1), 3) = min(max({w.n(s.warmup_iters_ratio)} * "
            f"{w.n(T)}, 1), 3) = {w.n(W)}：无论比例多少都被限制在 [1, 3]。"),
        w.t(f"Tail length N = min(max(no_aug_iter_ratio * total_iters, 1), 15) = min(max({w.n(s.no_aug_iter_ratio)} "
            f"* {w.n(T)}, 1), 15) = {w.n(N)}: clamped to at most 15 (the epochs trained without mosaic "
            f"augmentation in YOLOX).",
            f"平尾长度 N = min(max(no_aug_iter_ratio * total_iters, 1), 15) = min(max({w.n(s.no_aug_iter_ratio)} * "
            f"{w.n(T)}, 1), 15) = {w.n(N)}：最多 15（YOLOX 中关闭 mosaic 数据增强训练的轮数）。"),
        w.t(f"The warmup starts at max(warmup_lr_ratio * lr, 1e-6) = {w.n(sv)} and reaches lr exactly at "
            f"{w.n(W)}.",
            f"预热起点为 max(warmup_lr_ratio * lr, 1e-6) = {w.n(sv)}，恰好在 {w.n(W)} 处到达 lr。"),
        w.t("In the training scripts that use it, total_iters is the number of epochs and the lr is set once per "
            "epoch: the positions here are then epochs.",
            "在使用它的训练脚本中，total_iters 是总轮数，每轮开始时设置一次学习率：此时这里的位置就是轮数。"),
    ]
    return text, notes


@explainer("yolox_step")
def _yolox_step(s: Any, w: _W) -> tuple[list[str], list[str]]:
    n, D = int(s.step_num), s.step_size
    text = [w.t(f"{n} plateaus of {w.n(D)} positions each, from {w.n(s.lr)} down to {w.n(s.min_lr)}, each "
                f"{w.n(s.decay_rate)} times the one before (geometric).",
                f"{n} 个平台，每个长 {w.n(D)} 个位置，从 {w.n(s.lr)} 降到 {w.n(s.min_lr)}，每个是前一个的 "
                f"{w.n(s.decay_rate)} 倍（等比）。")]
    notes = [w.t(f"The last plateau ({w.n(s.min_lr)}) starts at {w.at((n - 1) * D)}; past total_iters = "
                 f"{w.n(s.total_iters)} it keeps dropping below min_lr, as in the original.",
                 f"最后一个平台（{w.n(s.min_lr)}）从 {w.at((n - 1) * D)} 开始；超过 total_iters = "
                 f"{w.n(s.total_iters)} 后会继续降到 min_lr 以下，与原实现一致。")]
    return text, notes


@explainer("torchvision_warmup")
def _torchvision_warmup(s: Any, w: _W) -> tuple[list[str], list[str]]:
    if s.warmup_iters == 0:
        return [w.t("A multiplier of 1 from the start: no warmup (warmup_iters = 0).",
                    "从一开始乘数就是 1：没有预热（warmup_iters = 0）。")], []
    return [w.t(f"A multiplier of each param group's own lr: linear from {w.n(s.warmup_factor)} to 1 over "
                f"{w.span(s.warmup_iters)} (reaching 1 at {w.at(s.warmup_iters)}), then 1.",
                f"每个参数组自身学习率的乘数：在 {w.span(s.warmup_iters)} 内从 {w.n(s.warmup_factor)} 线性升到 1"
                f"（在 {w.at(s.warmup_iters)} 到达 1），之后为 1。")], [
        w.t("torchvision's detection references step it every iteration during the first epoch only.",
            "torchvision 的检测参考代码只在第一轮的每次迭代时调用它。")]


@explainer("cawb")
def _cawb(s: Any, w: _W) -> tuple[list[str], list[str]]:
    per = s.positions_per_epoch
    if w.steps_per_epoch is None and s.batchs > 0:
        w.steps_per_epoch = s.batchs  # positions are iterations: name their epochs too
    B = s.boundaries
    unit = w.t("per iteration" if s.batchs > 0 else "per epoch", "按迭代" if s.batchs > 0 else "按轮")
    text = [w.t(f"CAWB (cosine warm booting): a multiplier of each param group's base lr over {w.n(s.epochs)} "
                f"epochs, {unit} (position = epoch * batchs + batch).",
                f"CAWB（余弦热启动）：每个参数组基础学习率的乘数，共 {w.n(s.epochs)} 轮，{unit}"
                f"（位置 = 轮 * batchs + batch）。")]
    if s.warmup_iters > 0:
        text.append(w.t(f"A linear warmup from 0 over the first {w.n(s.warmup_epoch)} epochs "
                        f"({w.n(s.warmup_iters)} iterations, batchs = {w.n(s.batchs)}).",
                        f"前 {w.n(s.warmup_epoch)} 轮线性预热，从 0 开始（{w.n(s.warmup_iters)} 次迭代，batchs = "
                        f"{w.n(s.batchs)}）。"))
    segs = [f"{w.n(B[i])}–{w.n(B[i + 1])}" for i in range(len(B) - 1)]
    text.append(w.t(f"Then cosine segments over epochs {w.join(segs)}, each restart's peak multiplied by "
                    f"step_scale = {w.n(s.step_scale)} (peaks {w.join([w.n(v) for v in s.scales[:len(segs)]])}).",
                    f"然后是按轮划分的余弦段 {w.join(segs)}，每次重启的峰值乘以 step_scale = {w.n(s.step_scale)}"
                    f"（峰值 {w.join([w.n(v) for v in s.scales[:len(segs)]])}）。"))
    # restarts where the applied multiplier really jumps up (read off the schedule, epoch by epoch)
    vals = [s(e * per) for e in range(int(math.ceil(s.epochs)))]
    # (each segment only decreases, so any rise after the first post-warmup epoch is a restart)
    ups = [e for e in range(2, len(vals)) if vals[e] > vals[e - 1] and e > s.warmup_epoch + 1]
    notes = []
    lf = s.decay_function
    if lf is None:
        notes.append(w.t(f"eta_min = {w.n(s.eta_min)} is a ratio of the base lr, not an lr: each segment's cosine "
                         f"goes from its peak towards {w.n(s.eta_min)} times the base lr (times the segment's "
                         f"scale).",
                         f"eta_min = {w.n(s.eta_min)} 是基础学习率的比例，而不是学习率：每段余弦从峰值向基础学习率的 "
                         f"{w.n(s.eta_min)} 倍（再乘以该段的缩放）下降。"))
    else:
        from .recipes import CawbLf

        if isinstance(lf, CawbLf):
            shape = w.t("cosine" if lf.shape == "cos" else "linear", "余弦" if lf.shape == "cos" else "线性")
            notes.append(w.t(f"Decay function lf = {shape} with amplitude {w.n(lf.amplitude)} and floor "
                             f"{w.n(lf.floor)}: within a segment the factor goes from {w.n(lf.amplitude + lf.floor)} "
                             f"towards {w.n(lf.floor)} (ratios of the base lr).",
                             f"衰减函数 lf = {shape}，幅度 {w.n(lf.amplitude)}，下限 {w.n(lf.floor)}：段内因子从 "
                             f"{w.n(lf.amplitude + lf.floor)} 向 {w.n(lf.floor)} 变化（基础学习率的比例）。"))
        else:
            notes.append(w.t("A user decay function lf(x, gap) shapes each segment.",
                             "每段的形状由用户的衰减函数 lf(x, gap) 决定。"))
    if len(B) > 2 and s.epoch_scale > 0:
        notes.append(w.t(f"epoch_scale = {w.n(s.epoch_scale)} lengthens every cosine period except the last "
                         f"(gaps {w.join([w.n(g) for g in s.gaps])} epochs), so a segment ends a little above its "
                         f"floor before the restart.",
                         f"epoch_scale = {w.n(s.epoch_scale)} 使除最后一段外的每个余弦周期变长（周期 "
                         f"{w.join([w.n(g) for g in s.gaps])} 轮），因此每段在重启前停在略高于下限的位置。"))
    if ups:
        notes.append(w.t(f"step() runs after each epoch, so the lr of epoch e is set at the end of epoch e - 1: "
                         f"the restarts for steps {w.join([w.n(b) for b in B[1:-1]])} take effect in epochs "
                         f"{w.join([str(e) for e in ups])}.",
                         f"step() 在每轮结束后调用，因此 epoch e 的学习率在 epoch e - 1 结束时设置：steps "
                         f"{w.join([w.n(b) for b in B[1:-1]])} 的重启在 epoch {w.join([str(e) for e in ups])} 生效。"))
    e0 = math.floor(s.warmup_epoch)
    if e0 >= 1 or s.warmup_epoch > 0:
        first = s(e0 * per) if s.warmup_epoch == e0 else None
        if first is not None and e0 + 1 < len(vals):
            notes.append(w.t(f"The first epoch after warmup (epoch {e0}) uses {w.n(first)}, slightly below the "
                             f"peak {w.n(vals[e0 + 1])} of epoch {e0 + 1}: its step() sees t - warmup_epoch = -1.",
                             f"预热后的第一轮（epoch {e0}）使用 {w.n(first)}，略低于 epoch {e0 + 1} 的峰值 "
                             f"{w.n(vals[e0 + 1])}：它的 step() 中 t - warmup_epoch = -1。"))
    notes.append(w.t(f"Past {w.n(s.epochs)} epochs the original keeps computing with the last segment's scale; "
                     f"lrkit reproduces that.",
                     f"超过 {w.n(s.epochs)} 轮后原实现继续用最后一段的缩放计算；lrkit 照样复现。"))
    return text, notes
