"""Train a small MLP on scikit-learn's digits with PyTorch and an lrkit schedule.

    python examples/train_digits_torch.py --epochs 30 --out runs/digits_torch

Writes to --out: metrics.csv (step, epoch, applied lr, loss), lr.csv (the lr of each
param group at each step, from lrkit.lrlog.LRLogger), loss.png and lr.png. The
schedule is stepped once per batch by lrkit.torch.ScheduleLR; the same schedule runs
in examples/train_digits_paddle.py.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import digits_common as common  # noqa: E402
import torch  # noqa: E402

from lrkit.torch import ScheduleLR  # noqa: E402


def main() -> int:
    args = common.parse_args("PyTorch")
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(common.SEED)
    xtr, ytr, xte, yte = common.load_data()
    spe = common.steps_per_epoch(len(xtr))
    total = args.epochs * spe
    schedule = common.make_schedule(total)

    model = torch.nn.Sequential(torch.nn.Linear(64, common.HIDDEN), torch.nn.ReLU(), torch.nn.Linear(common.HIDDEN, 10))
    opt = torch.optim.SGD(model.parameters(), lr=common.PEAK_LR, momentum=0.9)
    # absolute=True: the schedule's values are the learning rates (not multipliers of lr=)
    sched = ScheduleLR(opt, schedule, absolute=True)
    loss_fn = torch.nn.CrossEntropyLoss()
    xtr_t, ytr_t = torch.from_numpy(xtr), torch.from_numpy(ytr)
    xte_t, yte_t = torch.from_numpy(xte), torch.from_numpy(yte)

    def one_step(epoch, idx, log_lr):
        model.train()
        log_lr(opt)  # the lr this optimizer step applies
        loss = loss_fn(model(xtr_t[idx]), ytr_t[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        return loss.item()

    rows = common.train(args, len(xtr), total, "torch digits", one_step)
    model.eval()
    with torch.no_grad():
        acc = float((model(xte_t).argmax(1) == yte_t).float().mean())
    common.finish(args, rows, schedule, spe, "PyTorch", acc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
