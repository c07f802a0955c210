"""lrkit.rangetest's core: the sweep, the recorder, the suggestion rules and the result, against
independent formulas and (for the rules) the peers' own suggestion code on the same curves."""

from __future__ import annotations

import contextlib
import io
import math

import numpy as np
import pytest

import lrkit
from lrkit.rangetest import LossRecorder, RangeTest, RangeTestResult, defaults, suggest, sweep

# ---------------------------------------------------------------------------------------------
# the sweep


@pytest.mark.parametrize("a,b,n", [(1e-7, 10.0, 100), (1e-3, 1.0, 2), (2e-5, 0.3, 17)])
def test_sweep_formulas(a, b, n):
    i = np.arange(n)
    exp = sweep(a, b, n)
    assert isinstance(exp, lrkit.Exponential) and exp.gamma == b / a and exp.step_size == n - 1
    assert exp(i).tolist() == [a * (b / a) ** (k / (n - 1)) for k in range(n)]
    lin = sweep(a, b, n, "linear")
    assert isinstance(lin, lrkit.Ramp)
    assert lin(i).tolist() == [a + (k / (n - 1)) * (b - a) for k in range(n)]
    light = sweep(a, b, n, "exponential", flavor="lightning")
    assert light(i).tolist() == [a] + [a * (b / a) ** ((k + 1) / n) for k in range(1, n)]
    light_lin = sweep(a, b, n, "linear", flavor="lightning")
    assert light_lin(i).tolist() == [a] + [a + ((k + 1) / n) * (b - a) for k in range(1, n)]
    for s in (exp, lin, light, light_lin):
        assert s(n - 1) == pytest.approx(b, rel=1e-12)
        assert [s(int(k)) for k in i] == s(i).tolist()  # scalar and array evaluation agree


@pytest.mark.parametrize(
    "kw,msg",
    [
        (dict(start_lr=1.0, end_lr=1.0, num_iter=10), r"start_lr \(1.0\) must be below end_lr \(1.0\)"),
        (dict(start_lr=0.0, end_lr=1.0, num_iter=10), "start_lr must be > 0 for an exponential sweep"),
        (dict(start_lr=-1.0, end_lr=1.0, num_iter=10, step_mode="linear"), "start_lr must be >= 0"),
        (dict(start_lr=1e-3, end_lr=1.0, num_iter=1), "num_iter must be >= 2, got 1"),
        (dict(start_lr=1e-3, end_lr=math.inf, num_iter=10), "end_lr must be finite"),
        (dict(start_lr=1e-3, end_lr=1.0, num_iter=10, step_mode="cos"), "step_mode must be 'exp'"),
        (dict(start_lr=1e-3, end_lr=1.0, num_iter=10, flavor="fastai"), "flavor must be one of"),
    ],
)
def test_sweep_refuses(kw, msg):
    with pytest.raises(ValueError, match=msg):
        sweep(**kw)


def test_sweep_refuses_types():
    with pytest.raises(TypeError, match="num_iter must be an int"):
        sweep(1e-3, 1.0, 10.0)
    with pytest.raises(TypeError, match="start_lr must be a number"):
        sweep("1e-3", 1.0, 10)


# ---------------------------------------------------------------------------------------------
# the recorder, against the formulas written out


def ema_torch_lr_finder(raw, f, th):
    out, best = [], None
    for i, loss_i in enumerate(raw):
        s = loss_i if i == 0 or f == 0 else f * loss_i + (1 - f) * out[-1]  # smooth_f=0: the raw loss
        best = s if best is None else min(best, s)
        out.append(s)
        if s > th * best or not math.isfinite(loss_i):
            break
    return out


def ema_lightning(raw, beta, th, offset=0):
    out, avg, best = [], 0.0, 0.0
    for i, loss_i in enumerate(raw):
        step = offset + i + 1
        avg = beta * avg + (1 - beta) * loss_i
        s = avg / (1 - beta ** (step + 1))
        stop = step > 1 and s > th * best
        if s < best or step == 1:
            best = s
        out.append(s)
        if stop or not math.isfinite(loss_i):
            break
    return out


def record_all(rec, raw):
    for k, loss_i in enumerate(raw):
        if rec.record(10.0 ** (k - 5), loss_i):
            break
    return rec


CURVE = [2.3, 2.2, 2.0, 1.7, 1.2, 0.9, 0.8, 0.85, 1.1, 1.9, 3.5, 7.0, 15.0, 40.0, 90.0]


@pytest.mark.parametrize("f,th", [(0.05, 5.0), (0.3, 2.0), (0.0, 3.0), (0.9, math.inf)])
def test_recorder_torch_lr_finder(f, th):
    rec = record_all(LossRecorder(f, th), CURVE)
    assert rec.losses == ema_torch_lr_finder(CURVE, f, th)
    assert rec.raw_losses == CURVE[: len(rec)]
    assert (rec.stop_reason is not None) == (len(rec) < len(CURVE))


@pytest.mark.parametrize("f,th,offset", [(0.02, 4.0, 0), (0.3, 2.0, 0), (0.5, math.inf, 0), (0.3, 2.0, 7)])
def test_recorder_lightning(f, th, offset):
    rec = record_all(LossRecorder(f, th, "lightning", step_offset=offset), CURVE)
    assert rec.losses == ema_lightning(CURVE, 1.0 - f, th, offset)
    assert (rec.stop_reason is not None) == (len(rec) < len(CURVE))


def test_recorder_defaults():
    assert defaults("torch-lr-finder") == {"smooth_f": 0.05, "diverge_th": 5.0, "rule": "steepest"}
    rec = LossRecorder(flavor="lightning")
    assert rec.beta == 0.98 and rec.diverge_th == 4.0  # Lightning's beta and early_stop_threshold


@pytest.mark.parametrize("flavor", ["torch-lr-finder", "lightning"])
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_recorder_stops_at_a_non_finite_loss(flavor, bad):
    rec = record_all(LossRecorder(flavor=flavor, diverge_th=math.inf), [2.0, 1.5, bad, 1.0])
    assert len(rec) == 3 and rec.stop_reason.startswith("non-finite loss at update 2")
    rec = record_all(LossRecorder(flavor=flavor), [bad, 1.0])
    assert len(rec) == 1 and "update 0" in rec.stop_reason


@pytest.mark.parametrize(
    "kw,msg",
    [
        (dict(smooth_f=1.0), r"smooth_f must be in \[0, 1\)"),
        (dict(smooth_f=-0.1), r"smooth_f must be in \[0, 1\)"),
        (dict(smooth_f=0.0, flavor="lightning"), r"smooth_f must be in \(0, 1\) for the lightning flavor"),
        (dict(diverge_th=0.0), "diverge_th must be > 0"),
        (dict(diverge_th=math.nan), "diverge_th must be finite"),
        (dict(flavor="keras"), "flavor must be one of"),
    ],
)
def test_recorder_refuses(kw, msg):
    with pytest.raises(ValueError, match=msg):
        LossRecorder(**kw)


# ---------------------------------------------------------------------------------------------
# the driver


def test_run_stops_and_says_why():
    rt = RangeTest(1e-4, 10.0, 50, diverge_th=3.0)
    res = rt.run(lambda i, lr: 1.0 + 50 * lr)
    assert res.stopped_early and res.stop_reason.startswith("diverged")
    assert res.lrs == rt.lrs()[: len(res)]

    def update(i, lr):
        if i == 7:
            raise StopIteration
        return 1.0

    res = rt.run(update)
    assert len(res) == 7 and res.stop_reason == "the data ran out after 7 updates"

    def boom(i, lr):
        raise KeyError("user")

    with pytest.raises(KeyError):
        rt.run(boom)


# ---------------------------------------------------------------------------------------------
# suggestion rules, against the peers' own code on the same curves


def curves(count=40, seed=0):
    """Noisy U-shaped range-test curves of varied length and shape."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        n = int(rng.integers(25, 120))
        lrs = 1e-6 * (1e6) ** (np.arange(n) / (n - 1))
        x = np.log10(lrs)
        c = rng.uniform(-4, -1)
        y = 2.0 - 1.5 / (1 + np.exp(-(x - c) * rng.uniform(1, 4))) + np.exp((x - c - 1.5) * rng.uniform(1, 3))
        y = y + rng.normal(0, rng.uniform(0.001, 0.05), n)
        out.append((lrs.tolist(), y.tolist()))
    return out


@contextlib.contextmanager
def quiet():
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield


def test_steepest_is_torch_lr_finders_plot_suggestion():
    import matplotlib
    import torch

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from torch_lr_finder import LRFinder

    lin = torch.nn.Linear(1, 1)
    finder = LRFinder(lin, torch.optim.SGD(lin.parameters(), lr=0.1), torch.nn.MSELoss())
    fig, ax = plt.subplots()
    for k, (lrs, losses) in enumerate(curves(12)):  # the peer's plot() is slow: a dozen curves
        finder.history = {"lr": lrs, "loss": losses}
        for skip in [(10, 5), (0, 0) if k % 2 else (3, 1)]:
            ax.clear()
            with quiet():
                _, peer = finder.plot(skip_start=skip[0], skip_end=skip[1], ax=ax, suggest_lr=True)
            assert suggest(lrs, losses, "steepest", *skip)[0] == peer
        r = RangeTestResult(lrs, losses, losses, lrs[0], lrs[-1], len(lrs))
        assert r.suggestion() == suggest(lrs, losses, "steepest", 10, 5)[0]
    plt.close(fig)


def test_steepest_lr_is_lightnings_suggestion():
    import torch  # noqa: F401  (a test dependency: never skipped)
    from pytorch_lightning.tuner.lr_finder import _LRFinder

    for lrs, losses in curves(25, seed=1):
        for skip in [(10, 1), (5, 3)]:
            finder = _LRFinder("exponential", lrs[0], lrs[-1], len(lrs))
            finder.results = {"lr": lrs, "loss": losses}
            peer = finder.suggestion(*skip)
            # Lightning computes the slope in float32, lrkit in float64: the same point on these
            # curves (a near tie between two slopes could pick a neighbour)
            assert suggest(lrs, losses, "steepest-lr", *skip)[0] == peer
        r = RangeTestResult(lrs, losses, losses, lrs[0], lrs[-1], len(lrs), flavor="lightning")
        finder.results = {"lr": lrs, "loss": losses}
        assert r.suggestion() == finder.suggestion()


def test_steepest_lr_skips_non_finite_points_like_lightning():
    import torch  # noqa: F401  (a test dependency: never skipped)
    from pytorch_lightning.tuner.lr_finder import _LRFinder

    lrs, losses = curves(1, seed=2)[0]
    losses = list(losses)
    losses[15] = math.nan
    losses[20] = math.inf
    finder = _LRFinder("exponential", lrs[0], lrs[-1], len(lrs))
    finder.results = {"lr": lrs, "loss": losses}
    assert suggest(lrs, losses, "steepest-lr")[0] == finder.suggestion()


def fastai_valley(lrs, losses):
    """fastai.callback.schedule.valley, as published (the longest-valley rule)."""
    n = len(losses)
    max_start, max_end = 0, 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(0, i):
            if (losses[i] < losses[j]) and (lds[i] < lds[j] + 1):
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    idx = max_start + int(sections) + int(sections / 2)
    return float(lrs[idx])


def fastai_trim(lrs, losses, num_it):
    """What fastai's lr_find hands its rules: [num_it // 10 : -5], cut at the first NaN."""
    lrs, losses = np.array(lrs[num_it // 10 : -5]), np.array(losses[num_it // 10 : -5])
    nan = np.flatnonzero(np.isnan(losses))
    if nan.size:
        lrs, losses = lrs[: nan[0]], losses[: nan[0]]
    return lrs, losses


def test_valley_and_minimum_are_fastais():
    for lrs, losses in curves(seed=3):
        n = len(lrs)
        tl, tloss = fastai_trim(lrs, losses, n)
        assert suggest(lrs, losses, "valley", num_iter=n)[0] == fastai_valley(tl, tloss)
        assert suggest(lrs, losses, "minimum", num_iter=n)[0] == float(tl[np.argmin(tloss)]) / 10
        # a test that stopped early: fastai skips num_it // 10 of the planned updates
        assert suggest(lrs, losses, "valley", num_iter=2 * n)[0] == fastai_valley(*fastai_trim(lrs, losses, 2 * n))
    lrs, losses = curves(1, seed=4)[0]
    losses[40] = math.nan
    tl, tloss = fastai_trim(lrs, losses, len(lrs))
    assert suggest(lrs, losses, "valley")[0] == fastai_valley(tl, tloss)


def test_suggest_refuses():
    lrs, losses = [1e-3, 1e-2, 1e-1], [1.0, 0.5, 0.7]
    with pytest.raises(ValueError, match="rule 'steepest' needs at least 2 finite points"):
        suggest(lrs, losses, "steepest")
    with pytest.raises(ValueError, match="rule must be one of"):
        suggest(lrs, losses, "slide")
    with pytest.raises(ValueError, match="same length"):
        suggest(lrs, losses[:2])
    with pytest.raises(ValueError, match="skip_start must be >= 0"):
        suggest(lrs, losses, skip_start=-1)
    with pytest.raises(ValueError, match="distinct learning rates"):
        suggest([1.0, 1.0, 2.0], losses, "steepest-lr", 0, 0)


# ---------------------------------------------------------------------------------------------
# the result


def result(**kw) -> RangeTestResult:
    lrs, losses = curves(1, seed=5)[0]
    raw = list(losses)
    raw[-1] = math.nan
    return RangeTestResult(lrs, raw, losses, lrs[0], lrs[-1], len(lrs) + 3, stop_reason="non-finite loss", **kw)


def test_csv_round_trip(tmp_path):
    r = result(flavor="lightning", smooth_f=0.02, diverge_th=4.0)
    r.to_csv(tmp_path / "rt.csv")
    back = RangeTestResult.from_csv(tmp_path / "rt.csv")
    assert back.lrs == r.lrs and back.losses == r.losses
    assert back.raw_losses[:-1] == r.raw_losses[:-1] and math.isnan(back.raw_losses[-1])
    for k in ("start_lr", "end_lr", "num_iter", "step_mode", "flavor", "smooth_f", "diverge_th", "stop_reason"):
        assert getattr(back, k) == getattr(r, k)
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a range test CSV"):
        RangeTestResult.from_csv(tmp_path / "bad.csv")


def test_plan():
    r = result()
    peak = r.suggestion("valley")
    s = r.plan(1000, warmup_steps=100, rule="valley")
    assert isinstance(s, lrkit.WarmupCosine) and s.peak_lr == peak and s(100) == pytest.approx(peak)
    assert s(1000) == 0.0
    lin = r.plan(1000, 100, shape="linear", rule="valley", factor=0.5, min_lr=1e-6)
    assert lin(100) == pytest.approx(peak / 2) and lin(1000) == pytest.approx(1e-6)
    assert r.plan(500, 0, shape="constant", rule="minimum")(250) == r.suggestion("minimum")
    with pytest.raises(ValueError, match="shape must be"):
        r.plan(100, shape="step")
    with pytest.raises(ValueError, match=r"warmup_steps \(100\) must be in \[0, total_steps \(100\)\)"):
        r.plan(100, 100)
    with pytest.raises(ValueError, match="factor must be > 0"):
        r.plan(100, factor=-1.0)


def test_plot_marks_the_suggestion():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = result()
    ax = r.plot(rule="valley", raw=True)
    assert ax.get_xscale() == "log"
    lr, j = r.suggestion_point("valley")
    offsets = ax.collections[0].get_offsets()
    assert offsets[0][0] == lr and offsets[0][1] == r.losses[j]
    assert len(ax.lines) == 2
    plt.close(ax.figure)


def test_result_checks_lengths():
    with pytest.raises(ValueError, match="same length"):
        RangeTestResult([1.0, 2.0], [1.0], [1.0, 2.0], 1.0, 2.0, 2)
