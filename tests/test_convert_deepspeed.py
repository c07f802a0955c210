"""DeepSpeed: its JSON scheduler section and its scheduler objects as lrkit schedules (compared
with DeepSpeed's own schedulers step by step), and deepspeed.initialize with an lrkit scheduler."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

os.environ.setdefault("DS_ACCELERATOR", "cpu")
import deepspeed.runtime.lr_schedules as L  # noqa: E402
from peer import assert_same_curve  # noqa: E402

import lrkit as lk  # noqa: E402
from lrkit.torch import from_deepspeed, from_torch  # noqa: E402

N = 1100
CASES = {
    "warmup-log": ("WarmupLR", dict(warmup_min_lr=0.001, warmup_max_lr=0.05, warmup_num_steps=37)),
    "warmup-linear": (
        "WarmupLR",
        dict(warmup_min_lr=0.001, warmup_max_lr=0.05, warmup_num_steps=37, warmup_type="linear"),
    ),
    "warmup-to-group-lrs": ("WarmupLR", dict(warmup_min_lr=0.0, warmup_num_steps=50)),
    "warmup-1-step": ("WarmupLR", dict(warmup_min_lr=0.0, warmup_max_lr=0.02, warmup_num_steps=1)),
    "decay-log": (
        "WarmupDecayLR",
        dict(total_num_steps=400, warmup_min_lr=0.0002, warmup_max_lr=0.03, warmup_num_steps=41),
    ),
    "decay-linear": (
        "WarmupDecayLR",
        dict(total_num_steps=400, warmup_min_lr=0.0002, warmup_max_lr=0.03, warmup_num_steps=41, warmup_type="linear"),
    ),
    "decay-shorter-than-warmup": ("WarmupDecayLR", dict(total_num_steps=20, warmup_max_lr=0.03, warmup_num_steps=41)),
    "cosine-log": (
        "WarmupCosineLR",
        dict(total_num_steps=500, warmup_min_ratio=0.01, warmup_num_steps=33, cos_min_ratio=0.02),
    ),
    "cosine-linear": (
        "WarmupCosineLR",
        dict(total_num_steps=500, warmup_min_ratio=0.01, warmup_num_steps=33, cos_min_ratio=0.02, warmup_type="linear"),
    ),
    "one-cycle-decay": (
        "OneCycle",
        dict(
            cycle_min_lr=0.001,
            cycle_max_lr=0.07,
            cycle_first_step_size=120,
            cycle_second_step_size=200,
            decay_step_size=30,
            decay_lr_rate=0.1,
        ),
    ),
    "one-cycle-stairs": (
        "OneCycle",
        dict(
            cycle_min_lr=0.001,
            cycle_max_lr=0.07,
            cycle_first_step_size=120,
            cycle_first_stair_count=5,
            cycle_second_stair_count=4,
        ),
    ),
    "one-cycle-per-group": (
        "OneCycle",
        dict(
            cycle_min_lr=[0.001, 0.0001],
            cycle_max_lr=[0.07, 0.007],
            cycle_first_step_size=90,
            cycle_second_step_size=60,
        ),
    ),
}


def opt():
    return torch.optim.SGD(
        [
            {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.1},
            {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.01},
        ]
    )


def deepspeed_lrs(kind, params):
    s = getattr(L, kind)(opt(), **(dict(params, cycle_momentum=False) if kind == "OneCycle" else params))
    out = [[g["lr"] for g in s.optimizer.param_groups]]
    for _ in range(N - 1):
        s.step()
        out.append([g["lr"] for g in s.optimizer.param_groups])
    return np.array(out), s


@pytest.mark.parametrize("name", list(CASES))
def test_the_json_section_and_the_object_give_deepspeeds_values(name):
    kind, params = CASES[name]
    ref, obj = deepspeed_lrs(kind, params)
    from_config = from_deepspeed({"scheduler": {"type": kind, "params": params}}, lrs=[0.1, 0.01])
    from_object = from_torch(obj)
    for mine in (from_config, from_object):
        per = mine if isinstance(mine, list) else [mine, mine]
        for g in range(2):
            assert_same_curve(ref[:, g], per[g](np.arange(float(N))).tolist(), f"{name} group {g}")
            assert lk.from_dict(per[g].to_dict()) == per[g]


def test_what_cannot_be_converted_says_why():
    with pytest.raises(ValueError, match="type must be one of"):
        from_deepspeed({"type": "CyclicLR", "params": {}})
    with pytest.raises(ValueError, match="give lrs="):
        from_deepspeed({"type": "WarmupCosineLR", "params": {"total_num_steps": 100}})
    with pytest.raises(ValueError, match="3 values for 2 param groups"):
        from_deepspeed({"type": "WarmupLR", "params": {"warmup_max_lr": [1, 2, 3]}}, lrs=[0.1, 0.2])


def test_deepspeed_initialize_applies_an_lrkit_scheduler_per_update(tmp_path):
    # in a process of its own: DeepSpeed initialises torch.distributed (one CPU rank)
    code = textwrap.dedent("""
        import json, os, sys
        os.environ.update(DS_ACCELERATOR="cpu", MASTER_ADDR="127.0.0.1", MASTER_PORT=sys.argv[2], RANK="0",
                          WORLD_SIZE="1", LOCAL_RANK="0")
        import torch, deepspeed, lrkit
        from lrkit.torch import ScheduleLR
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 1)
        probe = torch.nn.Parameter(torch.zeros(1))
        model.register_parameter("probe", probe)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        S = lrkit.WarmupCosine(1.0, 12, 3, min_lr=0.01)
        cfg = {"train_batch_size": 8, "train_micro_batch_size_per_gpu": 4, "gradient_accumulation_steps": 2,
               "steps_per_print": 1000, "gradient_clipping": 0.0}
        engine, o, _, sched = deepspeed.initialize(model=model, optimizer=opt, lr_scheduler=ScheduleLR(opt, S),
                                                   config=cfg)
        rows = []
        for k in range(20):  # 10 updates of 2 micro-batches
            x, y = torch.randn(4, 4), torch.randn(4, 1)
            loss = torch.nn.functional.mse_loss(engine(x), y) + engine.module.probe.sum()
            before = o.param_groups[0]["lr"]
            engine.backward(loss)
            engine.step()
            if (k + 1) % 2 == 0:
                with torch.no_grad():
                    rows.append([before, -float(engine.module.probe.item())])
                    engine.module.probe.zero_()
        json.dump(rows, open(sys.argv[1], "w"))
    """)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "rows.json"
    r = subprocess.run([sys.executable, "-c", code, str(out), str(port)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    rows = json.loads(out.read_text())
    S = lk.WarmupCosine(1.0, 12, 3, min_lr=0.01)
    assert [row[0] for row in rows] == [0.1 * S(u) for u in range(10)]
    # DeepSpeed divides each micro-batch's loss by the 2 accumulated: the probe's gradient sums to 1
    assert all(abs(applied - lr) <= 1e-8 for lr, applied in rows)
