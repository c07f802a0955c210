"""lrkit.explain and `lrkit explain`: the facts (numbers) appear in English and in Chinese."""

from __future__ import annotations

import io
import math
import re

import pytest

import lrkit
from lrkit import cli
from lrkit.explain import _W, EXPLAINERS, _generic, explain


def fmt(v: float) -> str:
    """How a number is written in the text: whole numbers plainly, else 6 significant digits."""
    return str(int(v)) if float(v).is_integer() else f"{v:.6g}"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def has_all(text: str, numbers: list[float]) -> None:
    # a number must stand alone (0.1 is not found inside 0.15)
    for v in numbers:
        assert re.search(rf"(?<![\d.]){re.escape(fmt(v))}(?![\d])", text), (fmt(v), text)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_kind_explains_with_one_line_per_phase(example, lang):
    text = explain(example, lang)
    phases = example.phases()
    listed = [ln for ln in text.splitlines() if re.match(r"  \d+\. ", ln)]
    assert len(listed) == len(phases)
    for line, p in zip(listed, phases):
        assert fmt(p.start) in line
        assert fmt(p.start_value) in line
        if p.end_value is not None:
            assert fmt(p.end_value) in line
    if lang == "zh":
        assert re.search(r"[\u4e00-\u9fff]", text)  # written in Chinese
    else:
        assert text.isascii() or "→" in text or "–" in text


def test_every_registered_kind_has_words_of_its_own():
    assert set(lrkit.registered()) <= set(EXPLAINERS)


def test_the_generic_fallback_is_right_for_every_kind(example):
    w = _W("en")
    text = " ".join(_generic(example, w))
    assert fmt(example(0)) in text
    L = example.length
    if 0 < L < math.inf:
        assert fmt(L) in text and fmt(example(L)) in text


def test_a_kind_without_an_explainer_gets_the_generic_text():
    s = lrkit.FunctionSchedule(lambda t: 0.5)
    text = explain(s, "zh", title=False)
    assert "0.5" in text and "阶段" in text


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(
    "lr,min_lr,T,wr,sr,nr",
    [(0.01, 1e-4, 300, 0.1, 0.1, 0.3), (0.001, 1e-5, 3, 0.1, 0.1, 0.3), (0.02, 2e-4, 40, 0.05, 0.2, 0.1)],
)
def test_yolox_cos_facts(lang, lr, min_lr, T, wr, sr, nr):
    s = lrkit.YoloxCos(lr, min_lr, T, wr, sr, nr)
    W = min(max(wr * T, 1), 3)
    N = min(max(nr * T, 1), 15)
    start = max(sr * lr, 1e-6)
    text = explain(s, lang)
    has_all(text, [W, N, start, lr, min_lr, T, T - N])
    if lang == "en":
        assert "quadratic" in text and "not 'cosine warmup then constant'" in text
        assert "clamped to [1, 3]" in text and "at most 15" in text
    else:
        assert "二次" in text and "不是" in text and "[1, 3]" in text and "最多 15" in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_yolox_step_facts(lang):
    s = lrkit.YoloxStep(0.01, 1e-4, 300, step_num=3)
    r = (1e-4 / 0.01) ** (1 / 2)
    has_all(explain(s, lang), [3, 100, 0.01, 1e-4, r, 200])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cawb_facts(lang):
    E, steps, scale, batchs, we, es, eta = 45, [15, 30], 0.7, 50, 5, 1.0, 0.05
    s = lrkit.CAWB(E, eta_min=eta, steps=steps, step_scale=scale, batchs=batchs, warmup_epoch=we, epoch_scale=es)
    text = explain(s, lang)
    B = [we] + steps + [E]
    gaps = [B[i + 1] - B[i] + es for i in range(len(B) - 2)] + [B[-1] - B[-2]]
    # step() ends each epoch: epoch e runs with the factor of t = e - 1; segment i holds t in (B[i], B[i+1]],
    # so a restart at step b is first applied in epoch b + 2
    restart_epochs = [b + 2 for b in steps]
    first_after_warmup = ((1 + math.cos(-math.pi / gaps[0])) / 2) * (1 - eta) + eta
    has_all(text, [E, eta, scale, scale * scale, batchs * we, *gaps, *restart_epochs, first_after_warmup])
    if lang == "en":
        assert "ratio of the base lr" in text and "slightly below the peak" in text and "epoch_scale" in text
    else:
        assert "比例" in text and "略低于" in text and "epoch_scale" in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_warmup_ends_at_the_next_schedules_start(lang):
    inner = lrkit.Cosine(peak_lr=0.3, total_steps=90, min_lr=0.01)
    text = explain(lrkit.Warmup(inner, 10, start_factor=0.1), lang)
    has_all(text, [10, 0.3 * 0.1, 0.3, 90, 0.01])
    assert ("next schedule's own starting value" in text) if lang == "en" else ("后一个调度自己的起始值" in text)
    wc = explain(lrkit.WarmupCosine(0.1, 1000, 100, min_lr=0.001), lang)
    mid = 0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * 450 / 900)) / 2
    has_all(wc, [100, 1000, 0.1, 0.001, 550, mid])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_more_kinds_state_their_numbers(lang):
    oc = lrkit.OneCycle(0.1, 100)
    has_all(explain(oc, lang), [0.3 * 100 - 1, 100 - 1, 0.1 / 25, 0.1 / 25 / 1e4])
    cr = lrkit.CosineRestarts(0.1, 10, 2.0, 0.001, 0.5, max_cycles=3)
    has_all(explain(cr, lang), [10, 30, 70, 0.5, 2])
    tv = lrkit.TorchvisionWarmup(100, 0.001)
    has_all(explain(tv, lang), [100, 0.001, 1])
    ms = lrkit.MultiStep(0.1, [30, 60], 0.5)
    has_all(explain(ms, lang), [30, 60, 0.5, 0.025])


def test_epochs_named_beside_positions():
    s = lrkit.Cosine(peak_lr=0.1, total_steps=1000)
    assert "1000 (epoch 10)" in explain(s, steps_per_epoch=100)
    assert "1000（第 10 轮）" in explain(s, "zh", steps_per_epoch=100)


def test_errors():
    with pytest.raises(ValueError, match="lang"):
        explain(lrkit.Constant(0.1), "fr")
    with pytest.raises(TypeError, match="Schedule"):
        explain(lambda t: 0.1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="steps_per_epoch"):
        explain(lrkit.Constant(0.1), steps_per_epoch=0)


# -- the command --------------------------------------------------------------------------------------------
def test_cli_explain_default_and_languages():
    code, out, err = run("explain")
    assert code == 0 and err == ""
    assert out.startswith("warmup_cosine(") and "Phases:" in out
    code, zh, _ = run("explain", "--lang", "zh")
    assert code == 0 and "阶段：" in zh
    code, _, err = run("explain", "--lang", "fr")
    assert code == 2 and "invalid choice" in err


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_cli_explain_recipes_by_name(lang):
    code, out, err = run(
        "explain", "yolox-cos", "--lr", "0.01", "--min-lr", "1e-4", "--total-iters", "300", "--lang", lang
    )
    assert code == 0, err
    has_all(out, [3, 15, 285, 0.001])
    code, out, err = run(
        "explain",
        "cawb",
        "--epochs",
        "45",
        "--steps",
        "15",
        "30",
        "--step-scale",
        "0.7",
        "--batchs",
        "50",
        "--warmup-epoch",
        "5",
        "--lang",
        lang,
    )
    assert code == 0, err
    has_all(out, [17, 32, 250, 0.49])
    assert "250 (epoch 5)" in out or "250（第 5 轮）" in out


@pytest.mark.parametrize("shape", ["linear", "power", "exponential", "constant", "cosine", "1-sqrt"])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_warmup_shape_is_explained_in_every_language(shape, lang):
    s = lrkit.Cosine(0.1, 100).with_warmup(10, shape=shape)
    text = explain(s, lang, title=False)
    assert "0.1" in text and "10" in text
    if lang == "en":
        assert text.startswith(("A ", "An ")) and "A exponential" not in text


def test_nested_schedules_are_explained_on_the_whole_schedules_clock():
    import pathlib

    spec = pathlib.Path(__file__).parent.parent / "examples" / "specs" / "sgdr.yaml"
    s = lrkit.load(spec)
    starts = [p.start for p in s.phases()]
    assert starts[:5] == [0, 500, 1000, 2000, 4000]
    en, zh = explain(s, "en"), explain(s, "zh")
    assert "Restarts at 1000 and 2000" in en and "at 4000, it holds" in en
    assert "1000、2000" in zh and "（4000）" in zh
    assert "500 and 1500" not in en and "3500" not in en and "3500" not in zh
    # a segment of a sequence, and an epoch schedule stepped per iteration
    seq = lrkit.Sequence([lrkit.Constant(0.1), lrkit.Cosine(0.1, 90, after="continue")], [10])
    assert "past 100 it goes on" in explain(seq) and "back up to 0.1 at 190" in explain(seq)
    per = lrkit.PerStep(lrkit.Step(0.1, 3, 0.5), 100)
    assert "every 300 positions (first at 300)" in explain(per)


def test_step_recipes_list_their_plateaus_and_segments():
    ys = lrkit.YoloxStep(0.01, 1e-4, 300, 4)
    ph = ys.phases()
    assert [p.name for p in ph] == ["plateau 1", "plateau 2", "plateau 3", "plateau 4", "past total_iters"]
    assert [p.start for p in ph] == [0, 75, 150, 225, 300] and ph[3].start_value == ph[3].end_value == ys(299)
    assert all(p.start_value == ys(p.start) for p in ph)
    en, zh = explain(ys, "en"), explain(ys, "zh")
    assert "plateau 3: 150 to 225" in en and "平台 3：150 到 225" in zh and "then varies\n" not in en.split("past")[0]
    cawb = lrkit.CAWB(epochs=45, steps=[15, 30], step_scale=0.7, batchs=50, warmup_epoch=5)
    en, zh = explain(cawb, "en"), explain(cawb, "zh")
    assert "cycle 2: 850 (epoch 17) to 1600 (epoch 32)" in en and "第 2 个周期：850（第 17 轮） 到 1600" in zh
    assert "past epochs: from 2250" in en and "超过 epochs 之后" in zh


def test_a_shifted_piecewise_names_only_the_pieces_it_shows():
    s = lrkit.Shift(lrkit.Piecewise([0.1, 0.01, 0.001], [10, 20]), offset=15)
    assert explain(s, title=False).split("\n\n")[0] == "Piecewise constant: 0.01 from 0 and 0.001 from 5."
    seq = lrkit.Sequence([lrkit.Ramp(0.001, 0.01, 100), lrkit.Shift(lrkit.Piecewise([0.01, 0.001], [400]), 100)], [100])
    assert "From 100: piecewise constant: 0.01 from 100 and 0.001 from 400." in explain(seq, title=False)


def _every_example():
    from lrkit.catalog import example

    out = [example(kind) for kind in lrkit.registered()]
    out += [lrkit.Step(0.1, 1, 0.5), lrkit.Exponential(0.1, 0.5), lrkit.Exponential(0.1, 0.5, staircase=True)]
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_words_read_as_sentences(lang):
    """No "every 1 positions" / "(1 positions)", sentences start with a capital (en), and the
    Chinese text says 轮 for an epoch (not "epoch N" beside Chinese words)."""
    import re

    for s in _every_example():
        text = explain(s, lang, steps_per_epoch=7)
        if lang == "en":
            assert "every 1 positions" not in text and "(1 positions)" not in text and " 1 positions" not in text
            summary = text.split("\n\n")[1]
            assert not re.match(r"[a-z]+[\s,.:;]", summary), summary[:80]
        else:
            assert not re.search(r"epoch \d", text), text
            assert "每 1 个位置" not in text
    assert "every position" in explain(lrkit.Step(0.1, 1, 0.5))
    assert "每个位置乘以 0.5" in explain(lrkit.Step(0.1, 1, 0.5), "zh")


def test_a_re_timed_warmup_is_said_as_such():
    """A plan re-timed during its warmup: the text says the plan as first written and where the
    warmup now ends; kept with keep_warmup=True, nothing to say."""
    from lrkit.replan import replan

    s = lrkit.WarmupCosine(peak_lr=0.1, total_steps=10_000, warmup_steps=500)
    moved = replan(s, 200, total_steps=15_000)
    end = [p.end for p in moved.phases() if p.name.startswith("warmup")][-1]
    en, zh = explain(moved), explain(moved, "zh")
    assert en.split("\n\n")[1].startswith("The plan as first written: a linear warmup")
    assert f"The warmup was re-timed too: it ends at {lrkit._format.number(end)}, not at 500" in en
    assert "预热也被重新定时" in zh
    kept = explain(replan(s, 200, total_steps=15_000, keep_warmup=True))
    assert "warmup was re-timed" not in kept
    assert "warmup was re-timed" not in explain(replan(s, 6000, total_steps=15_000))
