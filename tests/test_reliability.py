"""No silent wrong value, no valid run that fails, no state loaded into the wrong scheduler.

Each section is a class of failure: the cases quoted in the report and variants with
other numbers, so that a fix at one instance cannot pass.
"""

from __future__ import annotations

import io
import math
import pathlib
import pickle
import sys
import time
import warnings

import numpy as np
import pytest
from reference import SteppedCAWB

import lrkit as lk
from lrkit.recipes import DropInWarning, get_lr_scheduler

FMAX = sys.float_info.max


def fast(fn, *args, limit=1.0):
    t0 = time.perf_counter()
    out = fn(*args)
    assert time.perf_counter() - t0 < limit
    return out


# -- 1. silent wrong values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: lk.CosineRestarts(1.0, period=1e-310),
        lambda: lk.CosineRestarts(1.0, period=1e-200, period_mult=2),
        lambda: lk.Cyclic(1, 1e308, 1e308, min_lr=0),
        lambda: lk.Cyclic(1, 1e-12, min_lr=0),
        lambda: lk.Cosine(1.0, 1e308),
        lambda: lk.Linear(1.0, 1e305),
        lambda: lk.CAWB(10, steps=[3, 6], step_scale=1e308),
        lambda: lk.CAWB(10, steps=[2, 4, 6, 8], step_scale=1e100),
        lambda: lk.CAWB(20, batchs=1e308, warmup_epoch=10),
        lambda: lk.WarmupCosine(0.1, 100, 1e-323, shape="exponential"),
        lambda: lk.Scale(lk.Constant(1e300), 1e300),
        lambda: lk.Product([lk.Constant(1e200), lk.Linear(1e200, 10)]),
        lambda: get_lr_scheduler("cos", 10, 0, 100, warmup_lr_ratio=1e308),
        lambda: get_lr_scheduler("cos", 1e300, 0, 100, warmup_lr_ratio=1e10),
    ],
)
def test_what_float64_cannot_hold_is_refused_when_built(make):
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize(
    "s, t, expected",
    [
        (lk.CosineRestarts(9e307, 10), 0.0, 9e307),
        (lk.CosineRestarts(1.7e308, 10, min_lr=1e307), 5.0, 1e307 + 0.5 * (1.7e308 - 1e307)),
        (lk.WarmupStableDecay(9e307, 100, 50, shape="cosine"), 75.0, 4.5e307),
        (lk.InverseSqrt(1.0, 1e300), 1e300, math.sqrt(0.5)),
        (
            lk.InverseSqrt(1.0, 1e300),
            FMAX,
            math.sqrt(1e300 / (FMAX + 1e300))
            if FMAX + 1e300 < math.inf
            else math.sqrt(0.25e300 / (0.25 * FMAX + 0.25e300)),
        ),
        (lk.Cosine(1.0, 1e300), 9e299, 0.5 * (1 + math.cos(math.pi * 0.9))),
        (lk.CosineRestarts(1.0, 2.0, period_mult=FMAX / 1.5), FMAX, None),
    ],
)
def test_extreme_but_valid_parameters_give_the_true_value(s, t, expected):
    v = s(t)
    assert math.isfinite(v) and v >= 0
    if expected is not None:
        assert v == pytest.approx(expected, rel=1e-12)
    assert s(np.array([t])).tolist() == [v]


def test_every_value_is_checked_on_the_way_out():
    s = lk.FunctionSchedule(lambda t: -1.0 if t > 5 else 0.1)
    with pytest.raises(ValueError):
        s(6)
    with pytest.raises(TypeError, match="must return a number"):
        lk.FunctionSchedule(lambda t: "0.3")(1)
    with pytest.raises(ValueError, match="overflows"):
        lk.Scale(lk.FunctionSchedule(lambda t: 1e300), 1e10)(1)
    with pytest.raises(ValueError, match="finite"):
        lk.CAWB(10, lf=lambda x, gap: math.inf).step_factor(3)


def test_the_cli_refuses_what_it_cannot_compute(capsys):
    from lrkit.cli import main

    err = io.StringIO()
    assert (
        main(
            ["export", '{"type": "cosine_restarts", "peak_lr": 1, "period": 1e-310}', "-n", "3"],
            out=io.StringIO(),
            err=err,
        )
        == 2
    )
    assert err.getvalue().startswith("lrkit: error:") and err.getvalue().count("\n") == 1


# -- 2. bindings trust nothing ------------------------------------------------------------------------

import torch  # noqa: E402

from lrkit.torch import CosineAnnealingWarmbootingLR as TorchCAWB  # noqa: E402
from lrkit.torch import ScheduleLR  # noqa: E402

COS = lk.Cosine(1.0, 100)


def sgd(*lrs):
    ps = [torch.zeros(1, requires_grad=True) for _ in lrs]
    return torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(ps, lrs)], momentum=0.9, nesterov=True)


def stepped(sched, n):
    for _ in range(n):
        sched.step()
    return sched


@pytest.mark.parametrize("lr", [math.nan, math.inf, -1.0])
def test_torch_base_values_are_checked(lr):
    with pytest.raises(ValueError, match="lr"):
        ScheduleLR(sgd(lr), COS)
    s = stepped(ScheduleLR(sgd(0.1), COS), 3)
    state = s.state_dict()
    before = (s.last_epoch, s.optimizer.param_groups[0]["lr"])
    with pytest.raises(ValueError, match="base_values"):
        s.load_state_dict({**state, "base_values": [lr]})
    assert (s.last_epoch, s.optimizer.param_groups[0]["lr"]) == before


def test_torch_only_real_number_entries_can_be_driven():
    with pytest.raises(ValueError, match="nesterov.*real number"):
        ScheduleLR(sgd(0.1), COS, key="nesterov")
    ScheduleLR(sgd(0.1), COS, key="momentum")


def test_torch_state_of_another_scheduler_is_refused():
    opt = sgd(0.1)
    cawb_state = stepped(TorchCAWB(sgd(0.1), epochs=10, batchs=5, warmup_epoch=1), 3).state_dict()
    lam = torch.optim.lr_scheduler.LambdaLR(sgd(0.1), lambda k: 0.5)
    for foreign in (cawb_state, lam.state_dict()):
        s = ScheduleLR(opt, COS)
        with pytest.raises(ValueError):
            s.load_state_dict(foreign)
        assert s.last_epoch == 0
    # another plan: a cosine's state into a cyclic scheduler, a per-group state into a single one
    saved = stepped(ScheduleLR(sgd(0.1), COS), 7).state_dict()
    cyc = ScheduleLR(sgd(0.1), lk.Cyclic(1.0, 10, min_lr=0.0))
    with pytest.raises(ValueError, match="schedules.*strict=False"):
        cyc.load_state_dict(saved)
    assert cyc.last_epoch == 0
    cyc.load_state_dict(saved, strict=False)  # the documented way to change the plan
    assert cyc.last_epoch == 7 and cyc.optimizer.param_groups[0]["lr"] == 0.1 * lk.Cyclic(1.0, 10, min_lr=0.0)(7)
    per = stepped(ScheduleLR(sgd(0.1, 0.2), [COS, COS]), 2).state_dict()
    with pytest.raises(ValueError, match="per_group"):
        ScheduleLR(sgd(0.1, 0.2), COS).load_state_dict(per)
    with pytest.raises(ValueError, match="base_values"):
        ScheduleLR(sgd(0.5), COS).load_state_dict(saved)


def test_torch_tensor_lr_that_appears_later_stays_a_tensor():
    opt = sgd(0.1)
    s = stepped(ScheduleLR(opt, COS), 3)
    t = torch.tensor(0.1)
    opt.param_groups[0]["lr"] = t
    s.step()
    assert opt.param_groups[0]["lr"] is t and t.item() == pytest.approx(0.1 * COS(4))
    s.step()
    assert opt.param_groups[0]["lr"] is t and t.item() == pytest.approx(0.1 * COS(5))


# -- 3. a valid run never fails, a failed step changes nothing --------------------------------------


class _FailsFar(lk.Linear):
    """A registered kind (so the binding looks ahead) whose positions from 1,000 on fail."""

    __slots__ = ()

    def _kernel(self, t, xp):
        xp.guard(xp.where(t >= 1000, float("inf"), t), lambda: "position out of this schedule's range")
        return super()._kernel(t, xp)


def test_torch_look_ahead_never_changes_a_step():
    opt = sgd(0.1)
    s = ScheduleLR(opt, _FailsFar(1.0, 2000))
    for k in range(1, 1000):
        s.step()
        assert opt.param_groups[0]["lr"] == 0.1 * _FailsFar(1.0, 2000)._scalar(float(k))
    with pytest.raises(ValueError):
        s.step()
    assert s.last_epoch == 999
    # the same for a CAWB recipe with a linear decay, on both bindings
    cawb = lk.CAWB(10, steps=[5], lf="linear", batchs=100, warmup_epoch=1)
    opt = sgd(0.1)
    s = stepped(ScheduleLR(opt, cawb), 999)
    assert opt.param_groups[0]["lr"] == 0.1 * cawb(999)


def test_a_failed_step_changes_nothing_torch_and_paddle():
    import paddle

    from lrkit.paddle import ScheduleLR as PaddleScheduleLR

    f = lk.FunctionSchedule(lambda t: math.nan if t == 5 else 0.1 / (1 + t))
    opt = sgd(0.1)
    s = stepped(ScheduleLR(opt, f), 4)
    with pytest.raises(ValueError):
        s.step()
    assert s.last_epoch == 4 and opt.param_groups[0]["lr"] == 0.1 * f(4)
    assert s.state_dict()["last_epoch"] == 4
    p = stepped(PaddleScheduleLR(f), 4)
    with pytest.raises(ValueError):
        p.step()
    assert p.last_epoch == 4 and p() == f(4) and p.state_dict()["last_epoch"] == 4
    del paddle


def test_paddle_states_name_their_plan():
    import paddle

    from lrkit.paddle import CosineAnnealingWarmbootingLR as PaddleCAWB
    from lrkit.paddle import ScheduleLR as PaddleScheduleLR

    with pytest.raises(ValueError, match="learning_rate"):
        PaddleScheduleLR(COS, learning_rate=math.nan)
    saved = stepped(PaddleScheduleLR(COS, learning_rate=0.1), 6).state_dict()
    other = PaddleScheduleLR(COS, learning_rate=0.5)
    with pytest.raises(ValueError, match="base_lr"):
        other.set_state_dict(saved)
    other.set_state_dict(saved, strict=False)
    assert other.last_epoch == 6 and other() == 0.5 * COS(6)
    with pytest.raises(ValueError, match="base_lr"):
        PaddleScheduleLR(COS, learning_rate=0.1).set_state_dict({**saved, "base_lr": -1})
    net = paddle.nn.Linear(2, 2)
    groups = [{"params": [net.weight]}, {"params": [net.bias]}]
    per = PaddleScheduleLR([COS, COS], parameters=groups)
    with pytest.raises(ValueError, match="per_group"):
        per.set_state_dict(stepped(PaddleScheduleLR(COS), 3).state_dict())
    opt = paddle.optimizer.SGD(learning_rate=0.1, parameters=paddle.nn.Linear(2, 1).parameters())
    cawb = PaddleCAWB(opt, epochs=10)
    state = cawb.state_dict()
    with pytest.raises(ValueError, match="iters"):
        cawb.set_state_dict({**state, "iters": "x"})
    with pytest.raises(ValueError):
        PaddleScheduleLR(COS).set_state_dict(state)


# -- 4. hangs, blow-ups, exception types ----------------------------------------------------------------


def test_yaml_alias_bombs_are_refused_quickly():
    for fan, levels in ((10, 7), (4, 12), (2, 30)):
        lines = ["a: &a {type: constant, lr: 0.1}"]
        prev = "a"
        for i in range(levels):
            lines.append(f"l{i}: &l{i} {{type: product, schedules: [{', '.join(['*' + prev] * fan)}]}}")
            prev = f"l{i}"
        text = "\n".join(lines) + f"\ntype: product\nschedules: [*{prev}]\n"
        with pytest.raises(ValueError, match="expands|deep"):
            fast(lk.from_yaml, text)
    # a modest alias is fine, and built once
    s = lk.from_yaml("type: product\nschedules: [&a {type: constant, lr: 0.1}, *a]\n")
    assert s(0) == pytest.approx(0.01)


@pytest.mark.parametrize("depth", [70, 500, 1000, 5000])
def test_deep_nesting_is_a_value_error(depth):
    d: dict = {"type": "constant", "lr": 0.1}
    for _ in range(depth):
        d = {"type": "scale", "schedule": d, "factor": 1}
    with pytest.raises(ValueError, match="deep"):
        lk.from_dict(d)
    with pytest.raises(ValueError, match="deep"):
        lk.from_json("[" * depth * 20 + "]" * depth * 20)
    s = lk.Constant(0.1)
    with pytest.raises(ValueError, match="nested"):
        for _ in range(depth):
            s = lk.Scale(s, 1)
    # the deepest allowed schedule works everywhere
    for op in (hash, repr, lambda x: x.to_dict(), pickle.dumps, lambda x: x(3.0)):
        op(s)


@pytest.mark.parametrize("limit", [1000, 20000])
def test_deep_specs_are_refused_whatever_the_recursion_limit(limit, monkeypatch):
    # other libraries raise the interpreter's recursion limit; the depth check must not depend on it
    import sys

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        for text in ("[" * 1400 + "]" * 1400, '{"a": ' * 300 + "1" + "}" * 300):
            with pytest.raises(ValueError, match="levels deep"):
                lk.from_json(text)
            with pytest.raises(ValueError, match="levels deep"):
                lk.from_yaml(text)
        # brackets inside strings do not count
        lk.from_json('{"type": "constant", "lr": 0.1, "steps_per_epoch": null}')
        assert lk.from_json('{"type": "constant", "lr": 0.1}' + " " * 10) == lk.Constant(0.1)
    finally:
        sys.setrecursionlimit(old)


def test_the_last_cycle_below_the_float_range_is_found(recwarn):
    # period_mult ** i overflows before the cycle's start does: the start comes from logs,
    # up to float64's largest number, so the position is never placed past its cycle's end
    import warnings

    FMAX = np.finfo(np.float64).max
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k in (1.0, 1000.0):
            s = lk.CosineRestarts(0.1, 1, 21719, k=k)
            ts = [1e300, 8.3e307, FMAX]
            assert s(np.array(ts)).tolist() == [s(t) for t in ts]
            assert all(0 <= s(t) <= 0.1 for t in ts)
        s = lk.CosineRestarts(0.1, 1, 21719)
        assert s._cycle_start(72) < FMAX and s._cycle_start(72) <= FMAX < s._cycle_start(73)


def test_big_inputs_cost_what_they_should():
    assert math.isfinite(fast(lk.CAWB(1e9), 1e300))
    assert math.isfinite(fast(lk.CAWB(7e8, steps=[1e8, 3e8]), 6e300))
    with pytest.raises(ValueError, match="100,000"):
        lk.MultiStep(0.1, range(1, 200_001))
    many = lk.MultiStep(0.1, range(1, 100_001), gamma=0.9999)
    fast(many.describe, limit=5.0)
    seq = lk.Sequence([lk.Constant(0.1 / (i + 1)) for i in range(50_000)], list(range(1, 50_000)))
    v = fast(seq, np.arange(0, 50_000, 0.5))
    assert v[::2].tolist() == [0.1 / (i + 1) for i in range(50_000)]


@pytest.mark.parametrize(
    "make",
    [
        lambda: lk.Constant(10**400),
        lambda: lk.from_json('{"type": "constant", "lr": ' + "9" * 400 + "}"),
        lambda: lk.from_dict({"type": "constant", 3: 0.1}),
        lambda: lk.load("my spec.yaml"),
        lambda: lk.load(pathlib.Path("no/such/spec.json")),
        lambda: lk.CosineRestarts(1, 10, period_mult=10**400),
    ],
)
def test_wrong_inputs_are_value_errors(make):
    with pytest.raises(ValueError):
        make()


def test_huge_period_mult_never_overflows():
    for pm in (1e10, 1e200, FMAX):
        s = lk.CosineRestarts(1.0, 10, period_mult=pm, min_lr=0.01)
        t = np.array([0.0, 5, 1e6, 1e15, 1e300, FMAX])
        assert s(t).tolist() == [s(float(x)) for x in t]
        assert np.all(np.isfinite(s(t)))
        s.describe()


def test_paths_files_and_messages(tmp_path):
    p = tmp_path / "s.json"
    p.write_text('{"type": "cosine", "peak_lr": 0.1, "total_steps": 10}')
    assert lk.load(p) == lk.Cosine(0.1, 10)
    with pytest.raises(ValueError, match="no such spec file"):
        lk.load(str(tmp_path / "my spec.yaml"))
    b = tmp_path / "bin.yaml"
    b.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(ValueError, match="bin.yaml"):
        lk.load(str(b))


def test_describe_works_on_every_valid_schedule():
    for s in (
        lk.Cyclic(1, 1e300, min_lr=0),
        lk.Hold(lk.CAWB(10, lf="linear"), 50),
        lk.CosineRestarts(1, 10, period_mult=1e300),
    ):
        assert "phase" in s.describe()


# -- 5. the CLI -----------------------------------------------------------------------------------------


def test_cli_outputs_are_written_whole_or_not_at_all(tmp_path, monkeypatch):
    from lrkit import cli

    target = tmp_path / "precious.csv"
    target.write_text("keep me\n")
    real = lk.Schedule.__call__
    calls = []

    def failing(self, t):
        calls.append(1)
        if len(calls) > 2:
            raise ValueError("failed half-way")
        return real(self, t)

    monkeypatch.setattr(lk.Schedule, "__call__", failing)
    err = io.StringIO()
    assert cli.main(["export", "-n", "2000000", "--csv", str(target)], out=io.StringIO(), err=err) == 2
    monkeypatch.undo()
    assert target.read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious.csv"]
    assert err.getvalue().count("\n") == 1
    out = io.StringIO()
    assert cli.main(["export", "-n", "5", "--csv", str(target)], out=out, err=err) == 0
    assert target.read_text().splitlines()[0] == "position,lr" and "wrote" in err.getvalue()


def test_cli_plot_is_atomic_and_bounded(tmp_path, monkeypatch):
    from lrkit import cli

    target = tmp_path / "lr.png"
    target.write_bytes(b"old")
    import matplotlib.figure

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", boom)
    assert cli.main(["plot", "-o", str(target)], out=io.StringIO(), err=io.StringIO()) == 2
    monkeypatch.undo()
    assert target.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["lr.png"]
    for argv in (
        ["show", "--width", "3000000"],
        ["show", "--height", "3000000"],
        ["plot", "--dpi", "100000"],
        ["plot", "-o", str(tmp_path / "x.pgf")],
    ):
        err = io.StringIO()
        assert cli.main(argv, out=io.StringIO(), err=err) == 2
        assert err.getvalue().startswith("lrkit: error:") and err.getvalue().count("\n") == 1


def test_cli_messages_never_print_hundreds_of_digits():
    from lrkit import cli

    err = io.StringIO()
    spec = '{"type": "constant", "lr": 1' + "0" * 320 + "}"
    assert cli.main(["show", spec], out=io.StringIO(), err=err) == 2
    assert "0" * 20 not in err.getvalue() and "e+320" in err.getvalue()


# -- 6. drop-ins: faithful first ------------------------------------------------------------------------


def run_cawb(sched, ref, epochs, batchs):
    got, want = [], []
    for _ in range(epochs):
        for _ in range(batchs):
            a, b = sched.step_batch(), ref.step_batch()
            got.append(a)
            want.append(b)
        got.append(sched.step())
        want.append(ref.step())
    return got, want


@pytest.mark.parametrize(
    "kw, warns",
    [
        # the original script's own linear lf, resumed with last_epoch: negative lrs past the end
        (dict(epochs=10, steps=[5], lf=lambda x, gap: (1 - x / gap) * 0.9 + 0.1, batchs=4, warmup_epoch=1), True),
        (dict(epochs=6, steps=[3], warmup_epoch=8, batchs=2), True),  # warmup_epoch > epochs
        (dict(epochs=12, steps=[4, 8], batchs=2.5, warmup_epoch=2), True),  # fractional batchs
        (dict(epochs=12, steps=[4, 8], eta_min=1.5), True),  # eta_min above 1
        (dict(epochs=30, steps=[10, 20], batchs=3, warmup_epoch=2), False),
    ],
)
def test_cawb_drop_in_gives_the_original_values(kw, warns):
    for last_epoch in (0, 3):
        opt = sgd(0.1, 0.02)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            sched = TorchCAWB(opt, **kw)
            sched.last_epoch = last_epoch
            ref = SteppedCAWB([0.1, 0.02], **kw)
            ref.last_epoch = last_epoch
            got, want = run_cawb(sched, ref, int(kw["epochs"]) + 4, int(kw.get("batchs", 0)) or 1)
        assert got == want
        mine = [x for x in w if issubclass(x.category, DropInWarning)]
        assert mine  # every case runs past the end, which warns; the odd arguments warn too
        if warns and "lf" in kw:
            assert any("negative" in str(x.message) for x in mine)
        elif warns:
            assert any(k in str(x.message) for x in mine for k in ("warmup_epoch", "batchs", "eta_min"))
        # each kind of warning at most once per scheduler
        assert len({str(x.message).split(":")[1] for x in mine}) == len(mine)


def test_cawb_drop_in_external_iter_history_and_attributes():
    kw = dict(epochs=10, steps=[7, 4], step_scale=0.5, batchs=2, warmup_epoch=1, epoch_scale=2.0)
    opt = sgd(0.1)
    steps_arg = [7, 4]
    sched = TorchCAWB(opt, **{**kw, "steps": steps_arg})
    assert steps_arg == [7, 4]  # not sorted in place
    ref = SteppedCAWB([0.1], **kw)
    assert sched.steps == ref.B == [1, 4, 7, 10] and sched.gap == 0
    assert (sched.eta_min, sched.step_scale, sched.epoch_scale, sched.warmup_iters, sched.base_lr) == (
        0.05,
        0.5,
        2.0,
        2,
        [0.1],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DropInWarning)
        for j in (None, None, 6, 15, 3, 25, None, 8, 40, None):
            assert sched.step(j) == ref.step(j)
            assert sched.gap == ref.gap
        state = sched.state_dict()
        again = TorchCAWB(sgd(0.1), **kw)
        again.load_state_dict(state)
        assert again.step(30) == ref.step(30)


def test_yolox_drop_in_gives_the_original_values_with_a_warning():
    from test_recipes import original_yolox_cos as original_cos

    def original_step(lr, min_lr, T, n):
        r, D = (min_lr / lr) ** (1 / (n - 1)), T / n
        return lambda x: lr * r ** (x // D)

    cases = [
        (("cos", 0.01, 0.05, 100), {}, original_cos(0.01, 0.05, 100)),
        (
            ("cos", 0.01, 0.001, 100),
            {"warmup_iters_ratio": -0.5, "warmup_lr_ratio": -2},
            original_cos(0.01, 0.001, 100, -0.5, -2),
        ),
        (("cos", 0.0, 0.0, 50), {}, original_cos(0.0, 0.0, 50)),
        (("step", 0.01, 0.02, 90), {"step_num": 3}, original_step(0.01, 0.02, 90, 3)),
        (("step", 0.01, 0.001, 90), {"step_num": 2.5}, original_step(0.01, 0.001, 90, 2.5)),
    ]
    for args, kw, orig in cases:
        with pytest.warns(DropInWarning):
            f = get_lr_scheduler(*args, **kw)
        xs = [0, 0.5, 1, 2, 3, 10, 44.5, 60, 89, 99, 120]
        assert [f(x) for x in xs] == [orig(x) for x in xs]
        assert pickle.loads(pickle.dumps(f))(7) == f(7)
        with pytest.raises(ValueError, match="config"):
            f.to_dict()
    # strict classes stay strict
    with pytest.raises(ValueError):
        lk.YoloxCos(0.01, 0.05, 100)
    with pytest.raises(ValueError):
        lk.YoloxStep(0.01, 0.001, 90, 2.5)


# the reference LambdaLR is stepped without training: torch's reminder to call optimizer.step()
# first does not apply to it
@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before:UserWarning")
def test_torchvision_drop_in_takes_what_the_original_takes():
    from lrkit.torch import warmup_lr_scheduler

    opt = sgd(0.1)
    with pytest.warns(DropInWarning, match="warmup_iters"):
        s = warmup_lr_scheduler(opt, -5, 0.001)
    lam = torch.optim.lr_scheduler.LambdaLR(sgd(0.1), lambda x: 1 if x >= -5 else 0.0)
    for _ in range(3):
        assert opt.param_groups[0]["lr"] == lam.optimizer.param_groups[0]["lr"]
        s.step()
        lam.step()
    with pytest.raises(ValueError, match="warmup_factor"):
        warmup_lr_scheduler(sgd(0.1), 10, -0.5)  # a negative lr means nothing in any script


def test_cawb_drop_in_pickles_with_its_history():
    import copy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DropInWarning)
        sched = TorchCAWB(sgd(0.1), epochs=6, steps=[3], warmup_epoch=8, batchs=2)  # warns: kept odd input
        for j in (None, 2, 9):
            sched.step(j)
        again = pickle.loads(pickle.dumps(sched.state_dict()))
        twin = pickle.loads(pickle.dumps(sched))  # the whole scheduler, optimizer included
        assert twin.gap == sched.gap and again["gap"] == sched.gap and copy.deepcopy(sched).gap == sched.gap
        assert twin.step(4) == sched.step(4)
