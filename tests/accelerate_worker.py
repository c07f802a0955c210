"""One process of a tiny Accelerate run with an lrkit scheduler (launched by test_engines.py).

    accelerate launch --cpu --num_processes 2 tests/accelerate_worker.py OUT_DIR MODE

MODE ``recommended``: ``Accelerator(step_scheduler_with_optimizer=False)`` and
``scheduler.step()`` once per optimizer update (``if accelerator.sync_gradients``), as
lrkit's README says. MODE ``default``: Accelerate's default, where the prepared
scheduler steps ``num_processes`` times per optimizer update (and not while
accumulating). Both with gradient accumulation over 2 batches. Each process writes
``OUT_DIR/<mode>-rank<r>.json``: for every optimizer update, the lr in the param group
before it and the lr the update applied to a probe parameter (its gradient is 1 on
every rank, so the update moves it by exactly -lr).
"""

from __future__ import annotations

import json
import os
import sys

import torch
from accelerate import Accelerator

import lrkit
from lrkit.torch import ScheduleLR

SCHEDULE = lrkit.WarmupCosine(peak_lr=0.1, total_steps=12, warmup_steps=3, min_lr=0.001)
ACCUM, UPDATES = 2, 10


class Model(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(4, 1)
        self.probe = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))

    def forward(self, x):
        return self.lin(x)


def main(out_dir: str, mode: str) -> None:
    acc = Accelerator(cpu=True, gradient_accumulation_steps=ACCUM, step_scheduler_with_optimizer=(mode == "default"))
    torch.manual_seed(0)
    model = Model()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    sched = ScheduleLR(opt, SCHEDULE, absolute=True)
    data = torch.utils.data.TensorDataset(
        torch.randn(ACCUM * UPDATES * 4 * acc.num_processes, 4), torch.randn(ACCUM * UPDATES * 4 * acc.num_processes, 1)
    )
    loader = torch.utils.data.DataLoader(data, batch_size=4, shuffle=False)
    model, opt, loader, sched = acc.prepare(model, opt, loader, sched)
    rows = []
    for x, y in loader:
        with acc.accumulate(model):
            loss = torch.nn.functional.mse_loss(model(x), y) + acc.unwrap_model(model).probe.sum()
            acc.backward(loss)
            lr_before = opt.param_groups[0]["lr"]
            opt.step()
            if mode == "default":
                sched.step()  # the prepared scheduler decides how many times to step
            elif acc.sync_gradients:
                sched.step()  # once per optimizer update
            opt.zero_grad()
            if acc.sync_gradients:
                probe = acc.unwrap_model(model).probe
                rows.append([lr_before, -float(probe.item())])
                with torch.no_grad():
                    probe.zero_()  # 0 again before the next update's batches
    with open(os.path.join(out_dir, f"{mode}-rank{acc.process_index}.json"), "w") as fh:
        json.dump({"rows": rows, "num_processes": acc.num_processes}, fh)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
