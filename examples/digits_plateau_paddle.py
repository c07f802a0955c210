"""A warmup then a constant lr, cut on plateaus of the validation loss, with PaddlePaddle;
and a resumed run that goes on with the same lrs.

    python examples/digits_plateau_paddle.py --out runs/digits_plateau_paddle

examples/digits_plateau_torch.py in Paddle. The plan (a linear warmup over the first
epoch to 0.1, then 0.1) drives the optimizer through lrkit.paddle.ScheduleLR, passed as
learning_rate= and stepped after every update. Its plateau= policy is
lrkit.plateau.Plateau.paddle(factor=0.5, patience=2, threshold=0.05, min_lr=1e-3)
(paddle.optimizer.lr.ReduceOnPlateau's rule), given the validation loss after every
epoch with sched.observe(val_loss); sched.explain() tells the reductions.

The run saves a checkpoint (paddle.save of the model's and the optimizer's state_dicts;
the optimizer's holds the scheduler's under 'LR_Scheduler') after the first epoch that
ends mid-patience (--resume-at N: after epoch N). A second run is built afresh, loads it
and trains the remaining epochs; its lrs and validation losses are compared with the
uninterrupted run's, bit for bit (exit status 1 if they differ). Each run builds its
layers inside paddle.utils.unique_name.guard(), so the second gets the parameter and
accumulator names the checkpoint holds, as a new process would.

Writes to --out: checkpoint.pdparams, lrs.csv (step, epoch, lr of the uninterrupted run,
lr of the resumed run: float64 as lrkit computes them; Paddle applies their float32
rounding), epochs.csv, explain.txt, plateau.png and summary.json.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import digits_common as common  # noqa: E402
import paddle  # noqa: E402

from lrkit.paddle import ScheduleLR  # noqa: E402
from lrkit.plateau import Plateau  # noqa: E402


def build(spe: int):
    """Model, plateau-driven scheduler and optimizer (the same for the resumed run)."""
    paddle.seed(common.SEED)
    model = paddle.nn.Sequential(
        paddle.nn.Linear(64, common.HIDDEN), paddle.nn.ReLU(), paddle.nn.Linear(common.HIDDEN, 10)
    )
    # learning_rate= of the policy: Paddle's ReduceOnPlateau needs one; the scheduler's lr replaces it
    policy = Plateau.paddle(learning_rate=common.PEAK_LR, **common.PLATEAU)
    sched = ScheduleLR(common.plateau_plan(spe), plateau=policy)  # learning_rate=1.0: the plan's values are the lr
    opt = paddle.optimizer.Momentum(learning_rate=sched, momentum=0.9, parameters=model.parameters())
    return model, opt, sched


def run(model, opt, sched, data, first_epoch: int, epochs: int, after_epoch=None):
    """Train epochs ``first_epoch .. epochs - 1``: step() after every update, observe(val_loss)
    after every epoch. Returns the lr of every update and ``(epoch, val_loss, val_accuracy,
    reduced, lr after the evaluation)`` per epoch."""
    xtr, ytr, xte, yte = data
    loss_fn = paddle.nn.CrossEntropyLoss()
    lrs: list[float] = []
    evals: list[tuple[int, float, float, bool, float]] = []
    for epoch in range(first_epoch, epochs):
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
            out = model(xte)
            val_loss = float(loss_fn(out, yte))
            acc = float((out.argmax(1) == yte).astype("float32").mean())
        reduced = sched.observe(val_loss)
        evals.append((epoch, val_loss, acc, reduced, opt.get_lr()))
        note = "REDUCED" if reduced else common.patience_note(sched.state_dict())
        print(f"epoch {epoch + 1:3d}  val loss {val_loss:.4f}  val acc {acc:.4f}  next lr {evals[-1][4]:.4g}  ({note})")
        if after_epoch is not None:
            after_epoch(epoch)
    return lrs, evals


def main() -> int:
    args = common.plateau_args("Paddle")
    xtr, ytr, xte, yte = common.load_data()
    data = (paddle.to_tensor(xtr), paddle.to_tensor(ytr), paddle.to_tensor(xte), paddle.to_tensor(yte))
    spe = common.steps_per_epoch(len(xtr))
    ckpt = os.path.join(args.out, "checkpoint.pdparams")
    saved: list[int] = []

    def after_epoch(epoch: int) -> None:
        done = epoch + 1
        if saved or done >= args.epochs:
            return
        if args.resume_at == done or (args.resume_at is None and common.mid_patience(sched.state_dict())):
            # the optimizer's state_dict holds the scheduler's under "LR_Scheduler" (plain values:
            # position, plan, plateau policy and reductions)
            paddle.save({"epoch": done, "model": model.state_dict(), "optimizer": opt.state_dict()}, ckpt)
            saved.append(done)
            print(f"    saved {ckpt} after epoch {done} ({common.patience_note(sched.state_dict())})")

    print("uninterrupted run:")
    with paddle.utils.unique_name.guard():  # the layer and accumulator names a new process would give
        model, opt, sched = build(spe)
        lrs, evals = run(model, opt, sched, data, 0, args.epochs, after_epoch)
    explanation = sched.explain()  # the realised schedule in words, then each reduction and its reason
    print(common.explain_tail(explanation))
    with open(os.path.join(args.out, "explain.txt"), "w", encoding="utf-8") as fh:
        fh.write(explanation + "\n")
    reductions = [e[0] + 1 for e in evals if e[3]]
    print(f"final validation accuracy {evals[-1][2]:.4f}; {len(reductions)} reductions (after epochs {reductions})")

    resumed_at, resumed_lrs, resumed_evals, same = None, [], [], False
    if saved:
        resumed_at = saved[0]
        state = paddle.load(ckpt)
        print(f"resumed run (from {ckpt}):")
        with paddle.utils.unique_name.guard():
            model2, opt2, sched2 = build(spe)  # afresh, as a new process would
            model2.set_state_dict(state["model"])
            opt2.set_state_dict(state["optimizer"])  # also sched2.set_state_dict(state["optimizer"]["LR_Scheduler"])
            resumed_lrs, resumed_evals = run(model2, opt2, sched2, data, state["epoch"], args.epochs)
        same, line = common.report_resume(resumed_at, spe, lrs, resumed_lrs, evals, resumed_evals)
        print(line)
    else:
        print("no checkpoint: the run never stopped mid-patience before its first reduction (try --resume-at)")

    common.write_plateau_run(args, "paddle", lrs, evals, spe, resumed_at, resumed_lrs, reductions, same)
    return 0 if saved and same else 1


if __name__ == "__main__":
    raise SystemExit(main())
