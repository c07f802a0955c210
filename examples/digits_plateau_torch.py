"""A warmup then a constant lr, cut on plateaus of the validation loss, with PyTorch; and a
resumed run that goes on with the same lrs.

    python examples/digits_plateau_torch.py --out runs/digits_plateau_torch

The plan is a linear warmup over the first epoch to 0.1, then 0.1
(lrkit.Warmup(lrkit.Constant(0.1), steps_per_epoch)), stepped after every update by
lrkit.torch.ScheduleLR. Its plateau= policy, lrkit.plateau.Plateau(factor=0.5,
patience=2, threshold=0.05, min_lr=1e-3) (torch's ReduceLROnPlateau rule), is given the
validation loss after every epoch with sched.observe(val_loss): three evaluations in a
row without a 5 % improvement on the best halve the rest of the plan from there.
sched.explain() tells the run: the realised schedule and each reduction with its reason.
(The held-out fifth of the digits, the test split of examples/train_digits_torch.py, is
the validation set here.)

The run saves a checkpoint (model, optimizer and scheduler state_dicts, torch.save) after
the first epoch that ends mid-patience: a bad evaluation counted, no reduction yet
(--resume-at N: after epoch N instead). A second run is then built afresh, loads the
checkpoint and trains the remaining epochs; its lrs and validation losses are compared
with the uninterrupted run's, bit for bit (exit status 1 if they differ).

Writes to --out: checkpoint.pt, lrs.csv (step, epoch, lr of the uninterrupted run, lr of
the resumed run), epochs.csv (epoch, validation loss and accuracy, reduced, the lr after
the evaluation), explain.txt, plateau.png and summary.json.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import digits_common as common  # noqa: E402
import torch  # noqa: E402

from lrkit.plateau import Plateau  # noqa: E402
from lrkit.torch import ScheduleLR  # noqa: E402


def build(spe: int):
    """Model, optimizer and the plateau-driven scheduler (the same for the resumed run)."""
    torch.manual_seed(common.SEED)
    model = torch.nn.Sequential(torch.nn.Linear(64, common.HIDDEN), torch.nn.ReLU(), torch.nn.Linear(common.HIDDEN, 10))
    opt = torch.optim.SGD(model.parameters(), lr=common.PEAK_LR, momentum=0.9)
    sched = ScheduleLR(opt, common.plateau_plan(spe), absolute=True, plateau=Plateau(**common.PLATEAU))
    return model, opt, sched


def run(model, opt, sched, data, first_epoch: int, epochs: int, after_epoch=None):
    """Train epochs ``first_epoch .. epochs - 1``: step() after every update, observe(val_loss)
    after every epoch. Returns the lr of every update and ``(epoch, val_loss, val_accuracy,
    reduced, lr after the evaluation)`` per epoch."""
    xtr, ytr, xte, yte = data
    loss_fn = torch.nn.CrossEntropyLoss()
    lrs: list[float] = []
    evals: list[tuple[int, float, float, bool, float]] = []
    for epoch in range(first_epoch, epochs):
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
            out = model(xte)
            val_loss = loss_fn(out, yte).item()
            acc = float((out.argmax(1) == yte).float().mean())
        reduced = sched.observe(val_loss)
        evals.append((epoch, val_loss, acc, reduced, opt.param_groups[0]["lr"]))
        note = "REDUCED" if reduced else common.patience_note(sched.state_dict())
        print(f"epoch {epoch + 1:3d}  val loss {val_loss:.4f}  val acc {acc:.4f}  next lr {evals[-1][4]:.4g}  ({note})")
        if after_epoch is not None:
            after_epoch(epoch)
    return lrs, evals


def main() -> int:
    args = common.plateau_args("PyTorch")
    torch.set_num_threads(1)  # a tiny model: one thread is fastest, and its sums are the same on any machine
    xtr, ytr, xte, yte = common.load_data()
    data = (torch.from_numpy(xtr), torch.from_numpy(ytr), torch.from_numpy(xte), torch.from_numpy(yte))
    spe = common.steps_per_epoch(len(xtr))
    ckpt = os.path.join(args.out, "checkpoint.pt")

    model, opt, sched = build(spe)
    saved: list[int] = []

    def after_epoch(epoch: int) -> None:
        done = epoch + 1
        if saved or done >= args.epochs:
            return
        if args.resume_at == done or (args.resume_at is None and common.mid_patience(sched.state_dict())):
            state = {"epoch": done, "model": model.state_dict(), "optimizer": opt.state_dict()}
            state["scheduler"] = sched.state_dict()  # plain values: position, plan, plateau policy and reductions
            torch.save(state, ckpt)
            saved.append(done)
            print(f"    saved {ckpt} after epoch {done} ({common.patience_note(state['scheduler'])})")

    print("uninterrupted run:")
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
        state = torch.load(ckpt, weights_only=True)
        model2, opt2, sched2 = build(spe)  # afresh, as a new process would
        model2.load_state_dict(state["model"])
        opt2.load_state_dict(state["optimizer"])
        sched2.load_state_dict(state["scheduler"])
        print(f"resumed run (from {ckpt}):")
        resumed_lrs, resumed_evals = run(model2, opt2, sched2, data, state["epoch"], args.epochs)
        same, line = common.report_resume(resumed_at, spe, lrs, resumed_lrs, evals, resumed_evals)
        print(line)
    else:
        print("no checkpoint: the run never stopped mid-patience before its first reduction (try --resume-at)")

    common.write_plateau_run(args, "torch", lrs, evals, spe, resumed_at, resumed_lrs, reductions, same)
    return 0 if saved and same else 1


if __name__ == "__main__":
    raise SystemExit(main())
