"""Train a small MLP on scikit-learn's digits with PaddlePaddle and an lrkit schedule.

    python examples/train_digits_paddle.py --epochs 30 --out runs/digits_paddle

Same data, model size and schedule as examples/train_digits_torch.py. In Paddle the
optimizer holds the scheduler: lrkit.paddle.ScheduleLR is passed as learning_rate=
and stepped once per batch. Writes metrics.csv, lr.csv, loss.png and lr.png to --out.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import digits_common as common  # noqa: E402
import paddle  # noqa: E402

from lrkit.paddle import ScheduleLR  # noqa: E402


def main() -> int:
    args = common.parse_args("Paddle")
    os.makedirs(args.out, exist_ok=True)
    paddle.seed(common.SEED)
    xtr, ytr, xte, yte = common.load_data()
    spe = common.steps_per_epoch(len(xtr))
    total = args.epochs * spe
    schedule = common.make_schedule(total)

    model = paddle.nn.Sequential(
        paddle.nn.Linear(64, common.HIDDEN), paddle.nn.ReLU(), paddle.nn.Linear(common.HIDDEN, 10)
    )
    sched = ScheduleLR(schedule)  # learning_rate=1.0: the schedule's values are the learning rates
    opt = paddle.optimizer.Momentum(learning_rate=sched, momentum=0.9, parameters=model.parameters())
    loss_fn = paddle.nn.CrossEntropyLoss()
    xtr_t, ytr_t = paddle.to_tensor(xtr), paddle.to_tensor(ytr)
    xte_t, yte_t = paddle.to_tensor(xte), paddle.to_tensor(yte)

    def one_step(epoch, idx, log_lr):
        model.train()
        log_lr(opt)  # opt.get_lr(): the lr this optimizer step applies
        i = paddle.to_tensor(idx)
        loss = loss_fn(model(paddle.gather(xtr_t, i)), paddle.gather(ytr_t, i))
        loss.backward()
        opt.step()
        opt.clear_grad()
        sched.step()
        return loss.item()

    rows = common.train(args, len(xtr), total, "paddle digits", one_step)
    model.eval()
    with paddle.no_grad():
        acc = float((model(xte_t).argmax(1) == yte_t).astype("float32").mean())
    common.finish(args, rows, schedule, spe, "Paddle", acc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
