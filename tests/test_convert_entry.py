"""lrkit.schedule_of / lrkit.show: any scheduler a user holds, converted and shown before training."""

from __future__ import annotations

import io
import json
import os

import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")

import torch  # noqa: E402
from peer import import_timm_scheduler  # noqa: E402

import lrkit as lk  # noqa: E402
from lrkit.torch import from_torch  # noqa: E402


def opt(lrs=(0.1, 0.01)):
    return torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs])


def test_every_peer_goes_through_one_entry_point():
    import keras
    import paddle
    from mmengine.optim import scheduler as ms
    from transformers import get_scheduler

    ts = import_timm_scheduler()
    o = opt()
    cases = {
        "torch": torch.optim.lr_scheduler.StepLR(o, 7, 0.5),
        "transformers": get_scheduler("cosine", opt(), num_warmup_steps=10, num_training_steps=110),
        "timm": ts.CosineLRScheduler(opt(), t_initial=50, warmup_t=5, warmup_lr_init=1e-4),
        "mmengine": ms.CosineAnnealingLR(opt(), T_max=40, by_epoch=False),
    }
    for name, s in cases.items():
        got = lk.schedule_of(s)
        assert got == from_torch(s), name
        assert isinstance(got, list) and len(got) == 2, name  # two groups, two lrs
    p = paddle.optimizer.lr.NoamDecay(256, 50, 1.5)
    assert lk.schedule_of(p) == lk.paddle.from_paddle(p)
    k = keras.optimizers.schedules.CosineDecay(0.1, 100, alpha=0.1)
    assert lk.schedule_of(k) == lk.keras.from_keras(k)
    # a list of mmengine schedulers, with the converter's options passed through
    o = opt()
    lst = [
        ms.LinearLR(o, start_factor=0.01, by_epoch=False, begin=0, end=20),
        ms.MultiStepLR(o, milestones=[3, 5], by_epoch=True),
    ]
    assert lk.schedule_of(lst, group=1, epoch_length=30) == from_torch(lst, group=1, epoch_length=30)


def test_lrkit_inputs_pass_through(tmp_path):
    c = lk.WarmupCosine(0.1, 1000, 100)
    assert lk.schedule_of(c) is c
    assert lk.schedule_of(c.to_dict()) == c
    f = tmp_path / "s.json"
    f.write_text(json.dumps(c.to_dict()))
    assert lk.schedule_of(f) == c and lk.schedule_of(str(f)) == c


def test_what_it_cannot_read_is_named():
    import paddle

    with pytest.raises(TypeError, match="cannot read a schedule from builtins.int"):
        lk.schedule_of(3)
    with pytest.raises(ValueError, match="from_paddle takes no options; got group"):
        lk.schedule_of(paddle.optimizer.lr.StepDecay(0.1, 10), group=0)
    with pytest.raises(ValueError, match="already an lrkit schedule"):
        lk.schedule_of(lk.Constant(0.1), group=0)
    with pytest.raises(TypeError, match="it follows a metric"):
        lk.schedule_of(torch.optim.lr_scheduler.ReduceLROnPlateau(opt()))


def test_show_prints_the_explanation_and_the_plot_of_each_group():
    from transformers import get_cosine_schedule_with_warmup

    s = get_cosine_schedule_with_warmup(opt(), 10, 100)
    buf = io.StringIO()
    lk.show(s, file=buf, width=40, height=6)
    text = buf.getvalue()
    assert text.count("param group") == 2 and "param group 1: warmup(" in text
    assert "linear warmup" in text.lower() and "back up to 0.1" in text
    # the plot covers the planned run (a tenth past where the last phase starts), not 1000 positions
    assert text.rstrip().splitlines()[-1].split()[-1] == "110"
    zh = io.StringIO()
    lk.show(s, file=zh, lang="zh", group=0)
    assert "预热" in zh.getvalue() and "param group" not in zh.getvalue()
    with pytest.raises(ValueError, match="lang must be"):
        lk.show(s, lang="fr")
    with pytest.raises(ValueError, match="steps must be a whole number"):
        lk.show(lk.Constant(0.1), steps=0)


def test_show_draws_the_schedules_values():
    buf = io.StringIO()
    s = lk.Step(0.1, 10, 0.5)
    lk.show(s, steps=40, file=buf, width=40, height=5)
    labels = [line.split()[0] for line in buf.getvalue().splitlines() if "┤" in line]
    assert labels[0] == "0.1" and labels[-1] == "0.0125"  # the plot spans the values s takes over 40 steps
    assert "step" in buf.getvalue()
