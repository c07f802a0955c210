"""Pick the peak lr of the digits example by an LR range test, with PyTorch.

    python examples/digits_rangetest_torch.py --out runs/digits_rangetest_torch

lrkit.rangetest.torch.range_test trains the model for at most 100 updates while the lr
grows exponentially from 1e-4 to 10 (torch-lr-finder's sweep, smoothing and stop rule),
then puts the model and the optimizer back as they were. result.suggestion() reads a
peak off the loss curve (torch-lr-finder's "steepest" rule unless --rule says
otherwise) and result.plan(...) builds the training schedule from it: the same warmup +
cosine shape as examples/train_digits_torch.py (10 % warmup, down to peak / 100), whose
peak 0.1 was tuned by hand. Both runs train from the same initial weights on the same
batches; the script prints their validation accuracies side by side.

Writes to --out: rangetest.csv (the sweep: lr, raw and smoothed loss per update),
rangetest.png, lr.csv (the lr of each update of the suggested-peak run) and
summary.json (the suggestion and both accuracies).
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import digits_common as common  # noqa: E402
import torch  # noqa: E402

import lrkit  # noqa: E402
from lrkit.rangetest import RULES  # noqa: E402
from lrkit.rangetest.torch import range_test  # noqa: E402
from lrkit.torch import ScheduleLR  # noqa: E402


def build() -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    """The model and optimizer of examples/train_digits_torch.py, from the same seed."""
    torch.manual_seed(common.SEED)
    model = torch.nn.Sequential(torch.nn.Linear(64, common.HIDDEN), torch.nn.ReLU(), torch.nn.Linear(common.HIDDEN, 10))
    opt = torch.optim.SGD(model.parameters(), lr=common.PEAK_LR, momentum=0.9)
    return model, opt


def train(model, opt, schedule: lrkit.Schedule, data, epochs: int) -> tuple[float, list[float]]:
    """The training loop of examples/train_digits_torch.py; the accuracy on the held-out
    digits and the lr of every update."""
    xtr, ytr, xte, yte = data
    sched = ScheduleLR(opt, schedule, absolute=True)
    loss_fn = torch.nn.CrossEntropyLoss()
    lrs = []
    for epoch in range(epochs):
        model.train()
        for idx in common.batches(len(xtr), epoch):
            lrs.append(opt.param_groups[0]["lr"])
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    with torch.no_grad():
        acc = float((model(xte).argmax(1) == yte).float().mean())
    return acc, lrs


def main() -> int:
    p = common.example_parser(
        "Run the LR range test on the digits MLP (PyTorch), train with the suggested peak and "
        "compare with the hand-tuned peak.",
        "runs/digits_rangetest_torch",
    )
    p.add_argument("--rule", choices=RULES, default=None, help="suggestion rule (default: steepest)")
    args = p.parse_args()
    if args.epochs < 1:
        p.error("--epochs must be >= 1")
    os.makedirs(args.out, exist_ok=True)
    # one thread: the fastest for a model this small on a busy machine, and the same sums
    # (so the same figures) on any machine
    torch.set_num_threads(1)
    xtr, ytr, xte, yte = common.load_data()
    data = (torch.from_numpy(xtr), torch.from_numpy(ytr), torch.from_numpy(xte), torch.from_numpy(yte))
    spe = common.steps_per_epoch(len(xtr))
    total = args.epochs * spe

    model, opt = build()
    sweep = [(data[0][idx], data[1][idx]) for idx in common.sweep_batches(len(xtr), common.RANGE_TEST["num_iter"])]
    result = range_test(model, opt, torch.nn.CrossEntropyLoss(), sweep, **common.RANGE_TEST)
    result.to_csv(os.path.join(args.out, "rangetest.csv"))
    peak = result.suggestion(args.rule)
    print(common.report_range_test(result, args.rule, peak))
    if not args.no_plots:
        common.plot_range_test(args.out, result, args.rule, "PyTorch")

    # The plan from the suggestion: the hand-tuned schedule's shape with the suggested peak.
    plan = result.plan(total, warmup_steps=max(1, total // 10), rule=args.rule, min_lr=peak / 100)
    # range_test restored the model, the optimizer and torch's generator: this run starts
    # from the weights the hand-tuned one starts from
    acc, lrs = train(model, opt, plan, data, args.epochs)
    hand_model, hand_opt = build()
    hand_acc, _ = train(hand_model, hand_opt, common.make_schedule(total), data, args.epochs)
    common.write_rangetest_run(args, "torch", result, peak, acc, hand_acc, lrs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
