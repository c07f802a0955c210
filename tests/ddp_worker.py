"""One rank of a tiny DistributedDataParallel run driven by lrkit.torch.ScheduleLR (launched by test_ddp.py).

    python -m torch.distributed.run --nproc_per_node=2 --master_addr=127.0.0.1 --master_port=P \\
        tests/ddp_worker.py --out DIR --steps N [--save-at K] [--resume CKPT]

CPU, gloo backend. Every rank writes ``DIR/rank<r>.json``: the lr of each param group
read just before every ``optimizer.step()`` (the lr that step applies), the lr SGD really
applied to a probe parameter (loss = sum(probe), probe reset to 0 before each step, so
the step moves it by exactly -lr), every rank's lrs gathered with ``all_gather_object``,
and the final weights. With ``--save-at K`` rank 0 saves model, optimizer and scheduler
state after ``K`` updates; with ``--resume CKPT`` every rank loads that checkpoint
(``weights_only=True``) and continues from its step. On resume, even ranks build the
scheduler before loading the optimizer state and odd ranks after it, so both orders run.
"""

from __future__ import annotations

import argparse
import json
import os

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

import lrkit as lk
from lrkit.torch import ScheduleLR

# Shared with the test, which recomputes the expected lrs from the same definition.
SCHEDULE = lk.WarmupCosine(peak_lr=1.0, total_steps=30, warmup_steps=6, min_lr=0.02)
BASE_LRS = (0.1, 0.03)  # group 0: the network's weights, group 1: its biases and the probe


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 1)
        # Its gradient is always 1: each SGD step moves it by -lr (see the module docstring).
        self.probe = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.tanh(self.fc1(x))).squeeze(-1)


def build(model: nn.Module) -> torch.optim.Optimizer:
    weights = [model.fc1.weight, model.fc2.weight]
    others = [model.fc1.bias, model.fc2.bias, model.probe]
    # momentum=0: the probe must move by exactly -lr; the network still has state to resume
    # through the optimizer (weight_decay on the weights, nothing hidden).
    return torch.optim.SGD(
        [{"params": weights, "lr": BASE_LRS[0]}, {"params": others, "lr": BASE_LRS[1]}],
        lr=BASE_LRS[0],
        weight_decay=1e-3,
    )


def batch(rank: int, step: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The data a rank sees at a step: a function of (rank, step) only, so a resumed run sees the same."""
    g = torch.Generator().manual_seed(1000 * rank + step)
    x = torch.randn(8, 4, generator=g)
    return x, x.sum(dim=1) * 0.5


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--save-at", type=int, default=None)
    p.add_argument("--resume", default=None)
    a = p.parse_args()

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)  # the same initial weights on every rank (DDP also broadcasts rank 0's)
    net = Net()
    start = 0
    if a.resume is None:
        model = DDP(net)
        opt = build(net)
        sched = ScheduleLR(opt, SCHEDULE)
    else:
        ck = torch.load(a.resume, map_location="cpu", weights_only=True)
        net.load_state_dict(ck["model"])
        model = DDP(net)
        opt = build(net)
        if rank % 2 == 0:
            sched = ScheduleLR(opt, SCHEDULE)
            opt.load_state_dict(ck["optimizer"])
            sched.load_state_dict(ck["scheduler"])
        else:
            opt.load_state_dict(ck["optimizer"])
            sched = ScheduleLR(opt, SCHEDULE)
            sched.load_state_dict(ck["scheduler"])
        start = ck["step"]

    record: dict = {
        "rank": rank,
        "world": world,
        "start": start,
        "steps": [],
        "lrs": [],
        "applied": [],
        "gathered": [],
        "last_epoch": [],
    }
    for step in range(start, a.steps):
        lrs = [g["lr"] for g in opt.param_groups]
        gathered: list = [None] * world
        dist.all_gather_object(gathered, lrs)
        with torch.no_grad():
            net.probe.zero_()
        x, y = batch(rank, step)
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean() + model.module.probe.sum()
        loss.backward()
        opt.step()
        sched.step()
        record["steps"].append(step)
        record["lrs"].append(lrs)
        # The probe's gradient is averaged over ranks: 1 on each, so 1 after the average;
        # weight decay adds wd * 0 (it was reset to 0).
        record["applied"].append(-net.probe.item())
        record["gathered"].append(gathered)
        record["last_epoch"].append(sched.last_epoch)
        if a.save_at is not None and step + 1 == a.save_at:
            if rank == 0:
                torch.save(
                    {
                        "model": net.state_dict(),
                        "optimizer": opt.state_dict(),
                        "scheduler": sched.state_dict(),
                        "step": step + 1,
                    },
                    os.path.join(a.out, "ckpt.pt"),
                )
            dist.barrier()  # the other ranks go on only once the checkpoint is on disk
    record["weights"] = {k: v.flatten().tolist() for k, v in net.state_dict().items()}
    record["final_lrs"] = sched.get_last_lr()
    with open(os.path.join(a.out, f"rank{rank}.json"), "w") as f:
        json.dump(record, f)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
