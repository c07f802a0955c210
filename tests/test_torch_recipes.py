"""The three recipes' PyTorch drop-ins against the original code's values (shared reference JSON).

Each check reads both the param groups and the lr the optimizer really applied: plain
SGD in float64, ``loss = sum(w)``, ``w`` reset to 0 before the step, applied lr ``= -w``.
"""

from __future__ import annotations

import contextlib
import io
import math

import pytest
import torch
from reference import cases
from test_recipes import ignored_restarts

from lrkit import DropInWarning
from lrkit.recipes import CAWB, TorchvisionWarmup, get_lr_scheduler
from lrkit.torch import CosineAnnealingWarmbootingLR, ScheduleLR, set_optimizer_lr, warmup_lr_scheduler


def sgd(base_lrs):
    ws = [torch.zeros(1, dtype=torch.float64, requires_grad=True) for _ in base_lrs]
    opt = torch.optim.SGD([{"params": [w], "lr": lr} for w, lr in zip(ws, base_lrs)], lr=base_lrs[0])
    return opt, ws


def applied(opt, ws):
    """One SGD step; the lr each group really used."""
    with torch.no_grad():
        for w in ws:
            w.zero_()
    opt.zero_grad()
    sum(w.sum() for w in ws).backward()
    opt.step()
    return [-w.item() for w in ws]


def close(got, want):
    """Bit for bit: the drop-ins keep the originals' order of float operations."""
    assert len(got) == len(want)
    for i, (a, b) in enumerate(zip(got, want)):
        if b is None or a is None:
            assert a is b, (i, a, b)
        else:
            assert a == b, (i, a, b)


# -- torchvision warmup --------------------------------------------------------------------------


@pytest.mark.parametrize("case", cases("warmup_lr_scheduler"), ids=lambda c: f"{c['warmup_iters']}it")
def test_warmup_lr_scheduler_reference(case):
    opt, ws = sgd(case["base_lrs"])
    sched = warmup_lr_scheduler(opt, case["warmup_iters"], case["warmup_factor"])
    assert isinstance(sched, ScheduleLR)
    for want in case["expected_lr_per_iteration"]:
        close([g["lr"] for g in opt.param_groups], want)
        close(applied(opt, ws), want)
        sched.step()
    # The same multiplier, as a schedule.
    m = TorchvisionWarmup(case["warmup_iters"], case["warmup_factor"])
    for it, want in enumerate(case["expected_lr_per_iteration"]):
        close([b * m(it) for b in case["base_lrs"]], want)


def test_warmup_lr_scheduler_without_warmup_and_bad_arguments():
    opt, _ = sgd([0.02])
    warmup_lr_scheduler(opt, 0, 0.001)
    assert opt.param_groups[0]["lr"] == 0.02
    with pytest.raises(ValueError, match="warmup_factor"):
        warmup_lr_scheduler(sgd([0.02])[0], 10, -0.5)
    # a factor above 1 is valid (as in the original): the lr starts above its base and falls to it
    opt2, _ = sgd([0.02])
    sched = warmup_lr_scheduler(opt2, 4, 2.0)
    seen = []
    for _ in range(6):
        seen.append(opt2.param_groups[0]["lr"])
        opt2.step()
        sched.step()
    assert seen == [0.02 * (2.0 * (1 - x / 4) + x / 4) if x < 4 else 0.02 for x in range(6)]
    with pytest.raises(ValueError, match="warmup_iters"):
        warmup_lr_scheduler(sgd([0.02])[0], math.nan, 0.1)
    with pytest.warns(DropInWarning, match="warmup_iters"):  # the original never warms up: neither do we
        warmup_lr_scheduler(sgd([0.02])[0], -1, 0.1)


# -- YOLOX get_lr_scheduler + set_optimizer_lr -----------------------------------------------------


@pytest.mark.parametrize(
    "case", cases("get_lr_scheduler"), ids=lambda c: f"{c['lr_decay_type']}-{c['total_iters']}-{c.get('step_num', '')}"
)
def test_set_optimizer_lr_reference(case):
    kw = {k: case[k] for k in ("warmup_iters_ratio", "warmup_lr_ratio", "no_aug_iter_ratio", "step_num") if k in case}
    f = get_lr_scheduler(case["lr_decay_type"], case["lr"], case["min_lr"], case["total_iters"], **kw)
    opt, ws = sgd([0.5, 0.25])  # the recipe writes the same absolute lr into every group
    for x, want in zip(case["iters"], case["expected_lr"]):
        set_optimizer_lr(opt, f, x)
        close([g["lr"] for g in opt.param_groups], [want, want])
        close(applied(opt, ws), [want, want])


def test_set_optimizer_lr_fills_a_tensor_lr():
    lr = torch.tensor(0.1, dtype=torch.float64)
    w = torch.zeros(1, requires_grad=True)
    opt = torch.optim.Adam([w], lr=lr)
    set_optimizer_lr(opt, lambda e: 0.5**e, 3)
    assert opt.param_groups[0]["lr"] is lr and lr.item() == 0.125


# -- CAWB ------------------------------------------------------------------------------------------


def make_lf(text):
    if text is None:
        return None
    # The reference stores the original's lf as formula text; build the same Python function.
    return eval(f"lambda x, gap: {text}", {"__builtins__": {}, "cos": math.cos, "pi": math.pi})


def cawb(case, opt):
    steps = list(case["steps"])
    with ignored_restarts(**case):  # the original's configs list the last epoch among the restarts
        s = CosineAnnealingWarmbootingLR(
            opt,
            epochs=case["epochs"],
            eta_min=case["eta_min"],
            steps=steps,
            step_scale=case["step_scale"],
            lf=make_lf(case["lf"]),
            batchs=case["batchs"],
            warmup_epoch=case["warmup_epoch"],
            epoch_scale=case["epoch_scale"],
        )
    assert steps == case["steps"], "the caller's steps must not be sorted in place"
    s.last_epoch = case["last_epoch"]
    return s


def run_cawb(case, *, resume_after=None, order="before"):
    opt, ws = sgd(case["base_lrs"])
    sched = cawb(case, opt)
    per_batch, applied_lrs, batch_returns, step_returns = [], [], [], []
    for epoch in range(case["epochs"]):
        if epoch == resume_after:
            buf = io.BytesIO()
            torch.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, buf)
            buf.seek(0)
            ck = torch.load(buf, weights_only=True)
            opt, ws = sgd(case["base_lrs"])
            if order == "before":
                sched = cawb(case, opt)
                sched.load_state_dict(ck["sched"])
                opt.load_state_dict(ck["opt"])
            else:
                opt.load_state_dict(ck["opt"])
                sched = cawb(case, opt)
                sched.load_state_dict(ck["sched"])
        for _ in range(case["batchs"]):
            batch_returns.append(sched.step_batch())
            per_batch.append([g["lr"] for g in opt.param_groups])
            applied_lrs.append(applied(opt, ws))
        step_returns.append(sched.step())
    return per_batch, applied_lrs, batch_returns, step_returns


@pytest.mark.parametrize("case", cases("CosineAnnealingWarmbootingLR"), ids=lambda c: f"{c['epochs']}ep-{c['lf_id']}")
def test_cawb_reference(case):
    per_batch, applied_lrs, batch_returns, step_returns = run_cawb(case)
    for got, want in zip(per_batch, case["expected_lr_per_batch"], strict=True):
        close(got, want)
    for got, want in zip(applied_lrs, case["expected_lr_per_batch"], strict=True):
        close(got, want)
    close(batch_returns, case["expected_step_batch_returns"])
    close(step_returns, case["expected_step_returns"])


@pytest.mark.parametrize("order", ["before", "after"])
def test_cawb_resume_from_state_dict(order):
    case = cases("CosineAnnealingWarmbootingLR")[2]
    ref = run_cawb(case)
    for at in (1, 2, 7, 25):
        assert run_cawb(case, resume_after=at, order=order) == ref


def test_cawb_resume_by_last_epoch_matches_the_schedule():
    case = cases("CosineAnnealingWarmbootingLR")[1]
    opt, ws = sgd(case["base_lrs"])
    sched = cawb(case, opt)
    sched.last_epoch = 60  # the original's resume: positions shift by last_epoch
    with ignored_restarts(**case):
        s = CAWB(case["epochs"], case["eta_min"], case["steps"], case["step_scale"], None, case["batchs"])
    for k in range(20):
        got = sched.step()
        assert got == s.step_lr(case["base_lrs"][0], k, 60)
        assert [g["lr"] for g in opt.param_groups] == [s.step_lr(b, k, 60) for b in case["base_lrs"]]


def test_cawb_warmup_epoch_without_batchs_on_torch():
    # batchs=0: no warmup ramp, the lrs stay at their base until the first step(), whose
    # cosine is shifted by warmup_epoch (t - B[0] = -2 at the first step).
    base = [0.1, 0.02]
    opt, ws = sgd(base)
    sched = CosineAnnealingWarmbootingLR(opt, epochs=12, steps=[6], batchs=0, warmup_epoch=2)
    s = CAWB(12, steps=[6], batchs=0, warmup_epoch=2)
    gap = 6 - 2 + 1.0
    first = ((1 + math.cos(math.pi * -2 / gap)) / 2) * (1 - 0.05) + 0.05
    for e in range(15):
        assert sched.step_batch() is None
        assert applied(opt, ws) == ([s.step_lr(b, e - 1) for b in base] if e else base)
        # the first position past epochs=12 is said once (the original's curve goes on there)
        past = (
            pytest.warns(DropInWarning, match="position 13 is past epochs=12") if e == 13 else contextlib.nullcontext()
        )
        with past:
            got = sched.step()
        if e == 0:
            assert got == 1.0 * 0.1 * first
        assert [g["lr"] for g in opt.param_groups] == [s.step_lr(b, e) for b in base]


def test_cawb_per_batch_schedule_equals_the_drop_in():
    case = cases("CosineAnnealingWarmbootingLR")[0]
    with ignored_restarts(**case):
        s = CAWB(
            case["epochs"],
            case["eta_min"],
            case["steps"],
            case["step_scale"],
            make_lf(case["lf"]),
            case["batchs"],
            case["warmup_epoch"],
            case["epoch_scale"],
        )
    for p, want in enumerate(case["expected_lr_per_batch"]):
        close([s.batch_lr(b, p) for b in case["base_lrs"]], want)


def test_cawb_state_dict_is_plain_and_bad_arguments_raise():
    opt, _ = sgd([0.1])
    sched = CosineAnnealingWarmbootingLR(opt, epochs=10, batchs=2, warmup_epoch=1)
    sched.step_batch()
    buf = io.BytesIO()
    torch.save(sched.state_dict(), buf)
    buf.seek(0)
    assert torch.load(buf, weights_only=True) == sched.state_dict()
    with pytest.raises(ValueError, match="epochs"):
        CosineAnnealingWarmbootingLR(sgd([0.1])[0])  # the original's default epochs=0
    with pytest.raises(ValueError, match="batchs"):
        CosineAnnealingWarmbootingLR(sgd([0.1])[0], epochs=10, batchs=-1)
    assert isinstance(sched, torch.optim.lr_scheduler.LRScheduler)
