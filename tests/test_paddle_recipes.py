"""The three recipes on a real Paddle optimizer reproduce every reference case.

The lr is measured as Paddle applies it (SGD, ``loss = sum(w)``, ``w`` reset to 0:
one update moves ``w`` by ``-lr``), per param group, per update. PyTorch's absolute
group lrs ``b_g`` become Paddle's global lr ``L = b_0`` times multipliers ``b_g / b_0``.

* float64 parameters: Paddle's lr tensor is float64; compared with rtol 1e-12 (the
  reference's tolerance; group 0 is bit-exact, other groups are ``(L * f) * m_g``
  where PyTorch computes ``b_g * f``, an ulp apart at most).
* float32 parameters: Paddle rounds the global lr to float32 and multiplies it by the
  multiplier in float32; compared with the float32 value of the reference, exactly
  for multiplier-1 groups and within 3 float32 ulps (rtol 2.4e-7) otherwise.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import paddle
import pytest
from reference import cases
from test_paddle_binding import Probe
from test_recipes import ignored_restarts

from lrkit.paddle import CosineAnnealingWarmbootingLR, ScheduleLR, set_optimizer_lr, warmup_lr_scheduler
from lrkit.recipes import DropInWarning, get_lr_scheduler

F32 = np.float32
DTYPES = ["float64", "float32"]


def check(dtype: str, got, expected, multipliers) -> None:
    got, expected = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert got.shape == expected.shape
    if dtype == "float64":
        assert np.allclose(got, expected, rtol=1e-12, atol=0)
        exact = [i for i, m in enumerate(multipliers) if m == 1.0]
        assert np.array_equal(got[:, exact], expected[:, exact])
        return
    want = expected.astype(np.float32).astype(np.float64)
    for i, m in enumerate(multipliers):
        if m == 1.0:
            assert np.array_equal(got[:, i], want[:, i])
        else:
            assert np.allclose(got[:, i], want[:, i], rtol=2.4e-7, atol=0)


def paddle_groups(base_lrs, dtype):
    """A probe whose groups carry PyTorch's lrs as Paddle multipliers of the first one."""
    mult = tuple(b / base_lrs[0] for b in base_lrs)
    return Probe(mult, dtype), mult


# -- get_lr_scheduler + set_optimizer_lr ----------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("c", cases("get_lr_scheduler"), ids=lambda c: f"{c['lr_decay_type']}-T{c['total_iters']}")
def test_set_optimizer_lr_applies_get_lr_scheduler_values(c, dtype):
    kw = {k: c[k] for k in ("warmup_iters_ratio", "warmup_lr_ratio", "no_aug_iter_ratio", "step_num") if k in c}
    f = get_lr_scheduler(c["lr_decay_type"], c["lr"], c["min_lr"], c["total_iters"], **kw)
    p = Probe((1.0, 1.0), dtype)  # YOLOX's groups differ in weight decay only
    opt = p.sgd(1.0)
    got = []
    for x in c["iters"]:
        set_optimizer_lr(opt, f, x)
        got.append(p.applied(opt))
    check(dtype, got, [[v, v] for v in c["expected_lr"]], (1.0, 1.0))


def test_set_optimizer_lr_needs_a_float_lr():
    p = Probe()
    with pytest.raises(TypeError, match="holds a scheduler"):
        set_optimizer_lr(p.sgd(paddle.optimizer.lr.StepDecay(0.1, 3)), lambda e: 0.1, 0)
    with pytest.raises(TypeError, match="paddle.optimizer.Optimizer"):
        set_optimizer_lr("sgd", lambda e: 0.1, 0)


# -- warmup_lr_scheduler -----------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("c", cases("warmup_lr_scheduler"), ids=lambda c: f"W{c['warmup_iters']}")
def test_warmup_lr_scheduler_reproduces_the_reference(c, dtype):
    p, mult = paddle_groups(c["base_lrs"], dtype)
    opt = p.sgd(c["base_lrs"][0])
    sched = warmup_lr_scheduler(opt, c["warmup_iters"], c["warmup_factor"])
    assert opt._learning_rate is sched
    got = []
    for _ in range(c["iterations"]):
        got.append(p.applied(opt))
        sched.step()
    check(dtype, got, c["expected_lr_per_iteration"], mult)


def test_warmup_lr_scheduler_zero_iters_means_no_warmup():
    p = Probe()
    opt = p.sgd(0.02)
    sched = warmup_lr_scheduler(opt, 0, 0.001)
    assert [p.applied(opt) for _ in range(2)] == [[0.02], [0.02]]
    assert isinstance(sched, ScheduleLR)


# -- CosineAnnealingWarmbootingLR --------------------------------------------------------------

LF = {
    "cos_0.8_0.2": lambda x, gap: ((1 + math.cos(x * math.pi / gap)) / 2) * 0.8 + 0.2,
    "linear_0.9_0.1": lambda x, gap: (1 - x / gap) * 0.9 + 0.1,
    None: None,
}


def _cawb(c, opt, steps=None):
    steps = c["steps"] if steps is None else steps
    with ignored_restarts(c["epochs"], steps, c["warmup_epoch"]):  # the original's configs list the last epoch
        return CosineAnnealingWarmbootingLR(
            opt,
            epochs=c["epochs"],
            eta_min=c["eta_min"],
            steps=steps,
            step_scale=c["step_scale"],
            lf=LF[c["lf_id"]],
            batchs=c["batchs"],
            warmup_epoch=c["warmup_epoch"],
            epoch_scale=c["epoch_scale"],
        )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("c", cases("CosineAnnealingWarmbootingLR"), ids=lambda c: f"E{c['epochs']}-{c['lf_id']}")
def test_cawb_reproduces_the_reference_per_group_per_batch(c, dtype):
    p, mult = paddle_groups(c["base_lrs"], dtype)
    opt = p.sgd(c["base_lrs"][0])
    steps = list(c["steps"])
    sched = _cawb(c, opt, steps)
    assert steps == c["steps"]  # the caller's list is not sorted in place
    assert sched.base_lrs == pytest.approx(c["base_lrs"], rel=1e-15)
    sched.last_epoch = c["last_epoch"]
    got, batch_ret, step_ret = [], [], []
    for _ in range(c["epochs"]):
        for _ in range(c["batchs"]):
            batch_ret.append(sched.step_batch())
            got.append(p.applied(opt))
        step_ret.append(sched.step())
    check(dtype, got, c["expected_lr_per_batch"], mult)
    exp_b = c["expected_step_batch_returns"]
    assert [r is None for r in batch_ret] == [r is None for r in exp_b]
    assert np.allclose([r for r in batch_ret if r is not None], [r for r in exp_b if r is not None], rtol=1e-12, atol=0)
    assert np.allclose(step_ret, c["expected_step_returns"], rtol=1e-12, atol=0)


@pytest.mark.parametrize("k", [3, 16, 31])
def test_cawb_resumes_through_the_optimizer_state(tmp_path, k):
    c = cases("CosineAnnealingWarmbootingLR")[0]
    n = c["epochs"]

    def loop(sched, p, opt, epochs):
        out = []
        for _ in range(epochs):
            for _ in range(c["batchs"]):
                sched.step_batch()
                out.append(p.applied(opt))
            sched.step()
        return out

    p, _ = paddle_groups(c["base_lrs"], "float64")
    opt = p.sgd(c["base_lrs"][0])
    sched = _cawb(c, opt)
    first = loop(sched, p, opt, k)
    path = str(tmp_path / "o.pdopt")
    paddle.save(opt.state_dict(), path)
    p2, _ = paddle_groups(c["base_lrs"], "float64")
    opt2 = p2.sgd(c["base_lrs"][0])
    sched2 = _cawb(c, opt2)
    opt2.set_state_dict(paddle.load(path))
    rest = loop(sched2, p2, opt2, n - k)
    assert np.allclose(first + rest, c["expected_lr_per_batch"], rtol=1e-12, atol=0)


def test_cawb_last_epoch_resume_shifts_positions():
    # the original's resume: set last_epoch = k after construction, then step per epoch
    c = cases("CosineAnnealingWarmbootingLR")[1]  # no warmup
    p, _ = paddle_groups(c["base_lrs"], "float64")
    opt = p.sgd(c["base_lrs"][0])
    sched = _cawb(c, opt)
    sched.last_epoch = 40
    rets = [sched.step() for _ in range(20)]
    full = c["expected_step_returns"]
    assert np.allclose(rets, full[40:60], rtol=1e-12, atol=0)


def test_cawb_errors():
    p = Probe()
    with pytest.raises(ValueError, match="epochs"):
        CosineAnnealingWarmbootingLR(p.sgd(0.1), epochs=0)
    with pytest.raises(TypeError, match="paddle.optimizer.Optimizer"):
        CosineAnnealingWarmbootingLR(None, epochs=10)
    sched = CosineAnnealingWarmbootingLR(p.sgd(0.1), epochs=10)
    with pytest.raises(ValueError, match="missing"):
        sched.set_state_dict({"iters": 1})


def test_cawb_warmup_epoch_without_batchs():
    # batchs=0: no warmup ramp (step_batch never writes) but the cosine is shifted by
    # warmup_epoch; the applied lrs are the recipe's step_lr, as with the PyTorch drop-in.
    from lrkit.recipes import CAWB

    p = Probe()
    opt = p.sgd(0.1)
    sched = CosineAnnealingWarmbootingLR(opt, epochs=12, steps=[6], batchs=0, warmup_epoch=2)
    s = CAWB(12, steps=[6], batchs=0, warmup_epoch=2)
    for e in range(15):
        assert sched.step_batch() is None
        assert p.applied(opt) == [0.1 if e == 0 else s.step_lr(0.1, e - 1)]
        # the first position past epochs=12 is said once (the original's curve goes on there)
        past = (
            pytest.warns(DropInWarning, match="position 13 is past epochs=12") if e == 13 else contextlib.nullcontext()
        )
        with past:
            assert sched.step() == s.step_lr(0.1, e)
