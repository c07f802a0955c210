"""Pick the peak lr of the digits example by an LR range test, with PaddlePaddle.

    python examples/digits_rangetest_paddle.py --out runs/digits_rangetest_paddle

examples/digits_rangetest_torch.py in Paddle: lrkit.rangetest.paddle.range_test trains the
model for at most 100 updates while the lr grows exponentially from 1e-4 to 10, then puts
the model and the optimizer back as they were (parameters, momentum accumulators, lr,
Paddle's name counters and random state). result.plan(...) builds the warmup + cosine
plan of examples/train_digits_paddle.py with the suggested peak instead of the
hand-tuned 0.1; lrkit.paddle.ScheduleLR(plan, learning_rate=1.0, parameters=opt)
attaches it to the optimizer the test ran on. Both runs train from the same initial
weights on the same batches; the script prints their validation accuracies side by side.

Writes to --out: rangetest.csv, rangetest.png, lr.csv (the lr of each update of the
suggested-peak run, float64 as lrkit computes it; Paddle applies its float32 rounding)
and summary.json.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import digits_common as common  # noqa: E402
import paddle  # noqa: E402

import lrkit  # noqa: E402
from lrkit.paddle import ScheduleLR  # noqa: E402
from lrkit.rangetest import RULES  # noqa: E402
from lrkit.rangetest.paddle import range_test  # noqa: E402


def build():
    """The model of examples/train_digits_paddle.py from the same seed, and a Momentum
    optimizer with a float lr (the range test sets its own; the plan is attached after)."""
    paddle.seed(common.SEED)
    model = paddle.nn.Sequential(
        paddle.nn.Linear(64, common.HIDDEN), paddle.nn.ReLU(), paddle.nn.Linear(common.HIDDEN, 10)
    )
    opt = paddle.optimizer.Momentum(learning_rate=common.PEAK_LR, momentum=0.9, parameters=model.parameters())
    return model, opt


def build_hand_tuned(schedule: lrkit.Schedule):
    """examples/train_digits_paddle.py's model, scheduler and optimizer, in its order."""
    paddle.seed(common.SEED)
    model = paddle.nn.Sequential(
        paddle.nn.Linear(64, common.HIDDEN), paddle.nn.ReLU(), paddle.nn.Linear(common.HIDDEN, 10)
    )
    sched = ScheduleLR(schedule)
    opt = paddle.optimizer.Momentum(learning_rate=sched, momentum=0.9, parameters=model.parameters())
    return model, opt, sched


def train(model, opt, sched, data, epochs: int) -> tuple[float, list[float]]:
    """The training loop of examples/train_digits_paddle.py; the accuracy on the held-out
    digits and the lr of every update."""
    xtr, ytr, xte, yte = data
    loss_fn = paddle.nn.CrossEntropyLoss()
    lrs = []
    for epoch in range(epochs):
        model.train()
        for idx in common.batches(xtr.shape[0], epoch):
            lrs.append(opt.get_lr())
            i = paddle.to_tensor(idx)
            loss = loss_fn(model(paddle.gather(xtr, i)), paddle.gather(ytr, i))
            loss.backward()
            opt.step()
            opt.clear_grad()
            sched.step()
    model.eval()
    with paddle.no_grad():
        acc = float((model(xte).argmax(1) == yte).astype("float32").mean())
    return acc, lrs


def main() -> int:
    p = common.example_parser(
        "Run the LR range test on the digits MLP (Paddle), train with the suggested peak and "
        "compare with the hand-tuned peak.",
        "runs/digits_rangetest_paddle",
    )
    p.add_argument("--rule", choices=RULES, default=None, help="suggestion rule (default: steepest)")
    args = p.parse_args()
    if args.epochs < 1:
        p.error("--epochs must be >= 1")
    os.makedirs(args.out, exist_ok=True)
    xtr, ytr, xte, yte = common.load_data()
    data = (paddle.to_tensor(xtr), paddle.to_tensor(ytr), paddle.to_tensor(xte), paddle.to_tensor(yte))
    spe = common.steps_per_epoch(len(xtr))
    total = args.epochs * spe

    model, opt = build()
    sweep = []
    for idx in common.sweep_batches(len(xtr), common.RANGE_TEST["num_iter"]):
        i = paddle.to_tensor(idx)
        sweep.append((paddle.gather(data[0], i), paddle.gather(data[1], i)))
    result = range_test(model, opt, paddle.nn.CrossEntropyLoss(), sweep, **common.RANGE_TEST)
    result.to_csv(os.path.join(args.out, "rangetest.csv"))
    peak = result.suggestion(args.rule)
    print(common.report_range_test(result, args.rule, peak))
    if not args.no_plots:
        common.plot_range_test(args.out, result, args.rule, "Paddle")

    # The plan from the suggestion: the hand-tuned schedule's shape with the suggested peak,
    # attached to the optimizer the test ran on (learning_rate=1.0: the plan's values are the lr).
    plan = result.plan(total, warmup_steps=max(1, total // 10), rule=args.rule, min_lr=peak / 100)
    sched = ScheduleLR(plan, learning_rate=1.0, parameters=opt)
    acc, lrs = train(model, opt, sched, data, args.epochs)
    hand_acc, _ = train(*build_hand_tuned(common.make_schedule(total)), data, args.epochs)
    common.write_rangetest_run(args, "paddle", result, peak, acc, hand_acc, lrs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
