"""One rank of a tiny 2-process CPU run of a plan with a plateau policy (launched by test_plateau_engines.py).

    python -m torch.distributed.run --nproc_per_node=2 --master_addr=127.0.0.1 --master_port=P \\
        tests/plateau_worker.py OUT_DIR MODE[,MODE]

``lrkit.torch.ScheduleLR(opt, PLAN, plateau=Plateau(**POLICY))`` stepped once per optimizer
update; after every epoch (``STEPS_PER_EPOCH`` updates) each rank has its own local metric
(``LOCAL[rank][epoch]``, different on each rank), averages it over the ranks and observes the
average, so every rank decides from the same number.

MODE ``ddp``: ``DistributedDataParallel`` on gloo (the launch's process group); the average is an ``all_reduce`` (sum, in
float64) divided by the world size.

MODE ``accelerate``: ``Accelerator(step_scheduler_with_optimizer=False)`` with gradient
accumulation over 2 batches; the scheduler goes through ``accelerator.prepare`` (an
``AcceleratedScheduler``, stepped when ``accelerator.sync_gradients``; observed through its
``.scheduler``); the average is ``accelerator.reduce(..., "mean")``. The run saves its state
with ``accelerator.save_state`` after epoch ``SAVE_AFTER_EPOCH`` (mid-patience), finishes,
then a second run built from scratch loads that state (``load_state``) and goes on to the end.

Each rank writes ``OUT_DIR/<mode>-rank<r>.json``: the lrs in the param groups before every
update, every rank's lrs gathered at each update, the averaged metrics it observed, the
reductions recorded in the scheduler's state (and, for accelerate, the resumed run's lrs).
"""

from __future__ import annotations

import json
import os
import sys

import torch
import torch.distributed as dist

import lrkit
from lrkit.plateau import Plateau
from lrkit.torch import ScheduleLR

PLAN = lrkit.WarmupCosine(peak_lr=1.0, total_steps=24, warmup_steps=3, min_lr=0.05)
POLICY = {"factor": 0.5, "patience": 1}
BASE_LRS = (0.2, 0.05)
STEPS_PER_EPOCH, EPOCHS = 3, 8
SAVE_AFTER_EPOCH = 4  # after the 5th observation: one bad evaluation counted, a reduction pending
# Each rank's own metric per epoch; alone, rank 0 would reduce after epochs 2, 4, 7 and rank 1
# after epoch 6; their mean (1.0, 1.5, 2.0, 0.5, 0.75, 0.625, 0.25, 0.5) reduces after 2 and 5.
LOCAL = (
    (0.25, 0.5, 2.5, 0.25, 1.25, 0.125, 0.125, 0.75),
    (1.75, 2.5, 1.5, 0.75, 0.25, 1.125, 0.375, 0.25),
)


class Net(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x).squeeze(-1)


def optimizer(net: Net) -> torch.optim.Optimizer:
    return torch.optim.SGD(
        [{"params": [net.fc.weight], "lr": BASE_LRS[0]}, {"params": [net.fc.bias], "lr": BASE_LRS[1]}], lr=BASE_LRS[0]
    )


def batch(rank: int, i: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1000 * rank + i)
    x = torch.randn(4, 4, generator=g)
    return x, x.sum(dim=1)


def gathered_lrs(opt: torch.optim.Optimizer) -> list:
    lrs = [g["lr"] for g in opt.param_groups]
    out: list = [None] * dist.get_world_size()
    dist.all_gather_object(out, lrs)
    return out


def run_ddp(out_dir: str) -> None:
    from torch.nn.parallel import DistributedDataParallel as DDP

    if not dist.is_initialized():
        dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    net = Net()
    model = DDP(net)
    opt = optimizer(net)
    sched = ScheduleLR(opt, PLAN, plateau=Plateau(**POLICY))
    rec: dict = {"rank": rank, "world": world, "lrs": [], "gathered": [], "metrics": [], "decided": []}
    for epoch in range(EPOCHS):
        for i in range(STEPS_PER_EPOCH):
            rec["lrs"].append([g["lr"] for g in opt.param_groups])
            rec["gathered"].append(gathered_lrs(opt))
            x, y = batch(rank, epoch * STEPS_PER_EPOCH + i)
            opt.zero_grad()
            ((model(x) - y) ** 2).mean().backward()
            opt.step()
            sched.step()
        local = torch.tensor(LOCAL[rank][epoch], dtype=torch.float64)
        dist.all_reduce(local, op=dist.ReduceOp.SUM)
        metric = local.item() / world
        rec["metrics"].append(metric)
        rec["decided"].append(sched.observe(metric))
    rec["reductions"] = sched.state_dict()["plateau"]["reductions"]
    with open(os.path.join(out_dir, f"ddp-rank{rank}.json"), "w") as f:
        json.dump(rec, f)
    dist.barrier()


def run_accelerate(out_dir: str) -> None:
    from accelerate import Accelerator

    state_dir = os.path.join(out_dir, "accelerate-state")

    def one_run(resume: bool) -> dict:
        acc = Accelerator(cpu=True, gradient_accumulation_steps=2, step_scheduler_with_optimizer=False)
        rank = acc.process_index
        torch.manual_seed(0)
        net = Net()
        opt = optimizer(net)
        sched = ScheduleLR(opt, PLAN, plateau=Plateau(**POLICY))
        model, opt, prepared = acc.prepare(net, opt, sched)
        first = 0
        if resume:
            acc.load_state(state_dir)
            first = SAVE_AFTER_EPOCH + 1
        rec: dict = {"rank": rank, "world": acc.num_processes, "lrs": [], "gathered": [], "metrics": []}
        rec["prepared"] = type(prepared).__name__
        for epoch in range(first, EPOCHS):
            for i in range(STEPS_PER_EPOCH):
                rec["lrs"].append([g["lr"] for g in opt.param_groups])
                rec["gathered"].append(gathered_lrs(opt))
                for j in range(2):  # two batches accumulated per update
                    with acc.accumulate(model):
                        x, y = batch(rank, 2 * (epoch * STEPS_PER_EPOCH + i) + j)
                        acc.backward(((model(x) - y) ** 2).mean())
                        opt.step()
                        if acc.sync_gradients:
                            prepared.step()
                        opt.zero_grad()
            local = torch.tensor(LOCAL[rank][epoch], dtype=torch.float64)
            metric = acc.reduce(local, "mean").item()
            rec["metrics"].append(metric)
            prepared.scheduler.observe(metric)  # AcceleratedScheduler passes step() on, not observe()
            if not resume and epoch == SAVE_AFTER_EPOCH:
                acc.save_state(state_dir)
                acc.wait_for_everyone()
        rec["reductions"] = prepared.state_dict()["plateau"]["reductions"]
        rec["weights"] = [p.detach().flatten().tolist() for p in net.parameters()]
        acc.wait_for_everyone()
        return rec

    full = one_run(resume=False)
    resumed = one_run(resume=True)
    full["resumed"] = resumed
    with open(os.path.join(out_dir, f"accelerate-rank{full['rank']}.json"), "w") as f:
        json.dump(full, f)
    dist.barrier()


if __name__ == "__main__":
    out, modes = sys.argv[1], sys.argv[2].split(",")
    runs = {"accelerate": run_accelerate, "ddp": run_ddp}
    if not modes or any(m not in runs for m in modes):
        raise SystemExit(f"MODE must be accelerate, ddp or both (comma-separated), got {sys.argv[2]!r}")
    for m in modes:  # one launch for both: the second reuses the process group
        runs[m](out)
    dist.destroy_process_group()
