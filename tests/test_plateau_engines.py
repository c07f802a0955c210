"""A plan with a plateau policy where users train: Lightning, transformers' Trainer, Accelerate, DDP.

``lrkit.torch.ScheduleLR(opt, plan, plateau=Plateau(...))`` is stepped once per optimizer update
and given a metric with ``observe(metric)`` after each evaluation; each engine has its own place
for that call (below). In every engine the lrs of every update must be those of a plain loop
doing the same updates and observations (bit for bit), the reductions must fall where torch's
own ``ReduceLROnPlateau`` decides them on the same metrics, and a run resumed from the engine's
checkpoint taken mid-patience (one bad evaluation counted) must go on exactly.

The metrics are scripted (one per evaluation, every ``SPE`` updates), so the reductions are
known: the evaluations after updates 3, 6, ..., 24 give ``METRICS``, which (factor 0.5,
patience 1) reduce after the 3rd and 6th evaluation, i.e. from positions 9 and 18.

* Lightning: the scheduler goes in ``configure_optimizers`` with ``interval="step"``; a callback
  observes ``trainer.callback_metrics["val_loss"]`` at ``on_validation_end`` (not during the
  sanity check). Lightning hands a metric only to ``ReduceLROnPlateau``-like schedulers (and
  steps those with it, not per update), so the plan's scheduler is not declared as one. The
  drop-in :class:`lrkit.torch.ReduceLROnPlateau` is one: with ``monitor`` it runs as torch's,
  resumes included (where Lightning loses an evaluation for both classes). The callback runs
  before ``ModelCheckpoint`` saves at validation end; a checkpoint saved by
  ``every_n_train_steps`` at a validation step is taken before that validation, which a resumed
  Lightning 2.6 run does not repeat.
* transformers' Trainer: a ``TrainerCallback.on_evaluate`` observes ``metrics["eval_loss"]`` (the
  Trainer passes its ``lr_scheduler`` to callbacks); ``lr_scheduler_type="reduce_lr_on_plateau"``
  and the drop-in give the same lrs.
* Accelerate and DDP: 2 CPU processes (gloo) in one launch of tests/plateau_worker.py; each rank
  averages its own metric over the ranks before ``observe``.
"""

from __future__ import annotations

import json
import os
import pathlib
import socket
import subprocess
import sys
import warnings

import pytest
import pytorch_lightning as pl
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import lrkit.torch as lt
from lrkit.plateau import Plateau

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import plateau_worker as W  # noqa: E402  (the plan, policy and per-rank metrics the workers use)

PLAN, POLICY, BASE_LRS = W.PLAN, W.POLICY, W.BASE_LRS
SPE, STEPS = W.STEPS_PER_EPOCH, W.STEPS_PER_EPOCH * W.EPOCHS
# The mean of the two ranks' metrics, computed here: the metric of each evaluation.
METRICS = tuple((a + b) / 2 for a, b in zip(*W.LOCAL))
AFTER = {SPE * (e + 1): m for e, m in enumerate(METRICS)}  # update count -> metric of that evaluation
REDUCED_FROM = (9, 18)
SANITY_METRIC = 0.125  # better than all: a sanity-check evaluation observed would move every reduction


# -- the references ------------------------------------------------------------------------------
def _optimizer(base_lrs=BASE_LRS) -> torch.optim.SGD:
    return torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": b} for b in base_lrs])


def replay(after: dict[int, float], steps: int = STEPS) -> tuple[list[list[float]], list[float]]:
    """A plain loop: the lrs before each update, and where the reductions were recorded."""
    opt = _optimizer()
    sched = lt.ScheduleLR(opt, PLAN, plateau=Plateau(**POLICY))
    lrs = []
    for t in range(steps):
        lrs.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
        if t + 1 in after:
            sched.observe(after[t + 1])
    return lrs, [r["at"] for r in sched.state_dict()["plateau"]["reductions"]]


def torch_decisions(after: dict[int, float], **policy) -> list[int]:
    """The update counts after which torch's own ReduceLROnPlateau reduces, given these metrics."""
    opt = _optimizer((1.0,))
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **(policy or POLICY))
    out = []
    for t, m in sorted(after.items()):
        before = opt.param_groups[0]["lr"]
        sched.step(m)
        if opt.param_groups[0]["lr"] != before:
            out.append(t)
    return out


def by_formula(after: dict[int, float], steps: int = STEPS) -> list[list[float]]:
    """``base * plan(t) * factor^k``, k the reductions decided at or before position t (no floor)."""
    cuts = torch_decisions(after)
    return [[b * PLAN(t) * POLICY["factor"] ** sum(c <= t for c in cuts) for b in BASE_LRS] for t in range(steps)]


def flat(rows: list[list[float]]) -> list[float]:
    return [v for row in rows for v in row]


def test_the_scripted_metrics_reduce_where_said():
    assert torch_decisions(AFTER) == list(REDUCED_FROM)
    lrs, at = replay(AFTER)
    assert at == list(REDUCED_FROM)
    assert flat(lrs) == pytest.approx(flat(by_formula(AFTER)), rel=1e-12, abs=0)
    assert lrs != replay({})[0]  # the observations change the run


# -- PyTorch Lightning ----------------------------------------------------------------------------
class ObservePlateau(pl.Callback):
    """The wiring: after each validation (not the sanity check), the monitored metric to ``observe``."""

    def __init__(self, monitor: str = "val_loss") -> None:
        self.monitor = monitor

    def on_validation_end(self, trainer, pl_module):
        if trainer.sanity_checking or trainer.state.fn != "fit":  # nor trainer.validate() after fit
            return
        for config in trainer.lr_scheduler_configs:
            if isinstance(config.scheduler, lt.ScheduleLR):
                config.scheduler.observe(trainer.callback_metrics[self.monitor])


class Module(pl.LightningModule):
    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        torch.manual_seed(0)
        self.layer = nn.Linear(3, 1)
        self.validated: list[int] = []

    def training_step(self, batch, batch_idx):
        x, y = batch
        return ((self.layer(x).squeeze(-1) - y) ** 2).mean()

    def validation_step(self, batch, batch_idx):
        step = self.trainer.global_step
        self.validated.append(step)
        self.log("val_loss", torch.tensor(SANITY_METRIC if self.trainer.sanity_checking else AFTER[step]))

    def configure_optimizers(self):
        opt = torch.optim.SGD(
            [{"params": [self.layer.weight], "lr": BASE_LRS[0]}, {"params": [self.layer.bias], "lr": BASE_LRS[1]}]
        )
        if self.kind == "plan":
            sched = lt.ScheduleLR(opt, PLAN, plateau=Plateau(**POLICY))
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
        cls = lt.ReduceLROnPlateau if self.kind == "dropin" else torch.optim.lr_scheduler.ReduceLROnPlateau
        return {"optimizer": opt, "lr_scheduler": {"scheduler": cls(opt, **POLICY), "monitor": "val_loss"}}

    def train_dataloader(self):
        # the same batch every time: a resumed run restarts its epoch's batches elsewhere
        x = torch.randn(4, 3, generator=torch.Generator().manual_seed(1)).repeat(SPE, 1)
        return DataLoader(TensorDataset(x, x.sum(dim=1)), batch_size=4)

    def val_dataloader(self):
        x = torch.zeros(1, 3)
        return DataLoader(TensorDataset(x, x.sum(dim=1)), batch_size=1)


class Recorder(pl.Callback):
    def __init__(self) -> None:
        self.steps: list[int] = []
        self.lrs: list[list[float]] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.steps.append(trainer.global_step)
        self.lrs.append([g["lr"] for g in trainer.optimizers[0].param_groups])


def fit(kind: str, max_steps: int, ckpt_path=None, save_to=None, ckpt_dir=None):
    module, rec = Module(kind), Recorder()
    callbacks: list = []
    if ckpt_dir is not None:  # given first: Lightning runs checkpoint callbacks last, after the observation
        callbacks.append(pl.callbacks.ModelCheckpoint(dirpath=ckpt_dir, filename="{step}", save_top_k=-1))
    callbacks += [ObservePlateau(), rec]
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=max_steps,
        logger=False,
        enable_checkpointing=ckpt_dir is not None,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=callbacks,
    )
    with warnings.catch_warnings():
        # a checkpoint taken mid-epoch with a plain DataLoader: Lightning warns it restarts the batches
        warnings.filterwarnings("ignore", message=".*dataloader is not resumable.*")
        warnings.filterwarnings("ignore", message=".*callbacks used to create the checkpoint.*")
        trainer.fit(module, ckpt_path=None if ckpt_path is None else str(ckpt_path))
    if save_to is not None:
        trainer.save_checkpoint(save_to)
    return trainer, module, rec


@pytest.fixture(scope="module")
def lightning_full(tmp_path_factory):
    d = tmp_path_factory.mktemp("pl_ckpts")
    return fit("plan", STEPS, ckpt_dir=d), d


def test_lightning_plan_plateau_matches_a_plain_loop(lightning_full):
    (trainer, module, rec), _ = lightning_full
    (config,) = trainer.lr_scheduler_configs
    assert isinstance(config.scheduler, lt.ScheduleLR) and config.interval == "step"
    assert not config.reduce_on_plateau  # Lightning steps it per update, without a metric
    assert module.validated == [0] + list(AFTER)  # the sanity check ran (and was not observed)
    want, at = replay(AFTER)
    assert rec.steps == list(range(STEPS))
    assert rec.lrs == want  # bit for bit
    assert flat(rec.lrs) == pytest.approx(flat(by_formula(AFTER)), rel=1e-12, abs=0)
    state = config.scheduler.state_dict()
    assert [r["at"] for r in state["plateau"]["reductions"]] == at == list(REDUCED_FROM)
    assert [r["metric"] for r in state["plateau"]["reductions"]] == [AFTER[9], AFTER[18]]


def test_lightning_resumes_mid_patience(lightning_full, tmp_path):
    (_, module_full, rec_full), ckpt_dir = lightning_full
    k = 16  # mid-epoch; the evaluation after update 15 was the first bad one
    path = tmp_path / "mid.ckpt"
    fit("plan", k, save_to=path)
    ck = torch.load(path, map_location="cpu", weights_only=True)
    (saved,) = ck["lr_schedulers"]
    assert saved["last_epoch"] == k and saved["plateau"]["state"]["num_bad_epochs"] == 1
    assert [r["at"] for r in saved["plateau"]["reductions"]] == [REDUCED_FROM[0]]
    trainer, module, rec = fit("plan", STEPS, ckpt_path=path)
    assert rec.steps == list(range(k, STEPS)) and rec.lrs == rec_full.lrs[k:]
    assert [r["at"] for r in trainer.lr_scheduler_configs[0].scheduler.state_dict()["plateau"]["reductions"]] == list(
        REDUCED_FROM
    )
    for a, b in zip(module.parameters(), module_full.parameters()):
        assert torch.equal(a, b)
    # ModelCheckpoint's file written at the end of the validation after update 15 holds that observation
    trainer, _, rec = fit("plan", STEPS, ckpt_path=ckpt_dir / "step=15.ckpt")
    assert rec.steps == list(range(15, STEPS)) and rec.lrs == rec_full.lrs[15:]


def test_lightning_validate_after_fit_observes_nothing():
    trainer, module, _ = fit("plan", 2 * SPE)
    sched = trainer.lr_scheduler_configs[0].scheduler
    before = sched.state_dict()
    assert before["plateau"]["state"]["observations"] == 2
    trainer.validate(module, verbose=False)  # the configs are still there: the callback must tell
    assert module.validated[-1] == 2 * SPE and sched.state_dict() == before


def test_a_metric_given_to_step_is_refused_with_the_way_to_observe_it():
    # what Lightning does with {"reduce_on_plateau": True, "monitor": ...}: step(metric tensor)
    opt = _optimizer()
    sched = lt.ScheduleLR(opt, PLAN, plateau=Plateau(**POLICY))
    sched.step()
    before = sched.state_dict(), [g["lr"] for g in opt.param_groups]
    with pytest.raises(ValueError, match=r"got a tensor tensor\(0\.75.*observe\(metric\)"):
        sched.step(torch.tensor(0.75))
    assert (sched.state_dict(), [g["lr"] for g in opt.param_groups]) == before


def test_lightning_dropin_with_monitor_runs_as_torchs(tmp_path):
    runs = {kind: fit(kind, STEPS) for kind in ("dropin", "torch")}
    trainer, _, rec = runs["dropin"]
    (config,) = trainer.lr_scheduler_configs
    assert type(config.scheduler) is lt.ReduceLROnPlateau and config.reduce_on_plateau
    assert config.monitor == "val_loss" and config.interval == "epoch"
    assert rec.lrs == runs["torch"][2].lrs
    # stepped with the metric after each epoch's validation: constant lrs, halved from 9 and 18 on
    cuts = torch_decisions(AFTER)
    assert rec.lrs == [[b * POLICY["factor"] ** sum(c <= t for c in cuts) for b in BASE_LRS] for t in range(STEPS)]
    # Resumed, it does what torch's class does. (Lightning 2.6 steps plateau schedulers after the
    # validation-end checkpoint, and not at the first epoch end of a resumed run, so with either
    # class the resumed run misses an evaluation; the observe callback above resumes exactly.)
    resumed = {}
    for kind in ("dropin", "torch"):
        fit(kind, 16, save_to=tmp_path / f"{kind}.ckpt")
        resumed[kind] = fit(kind, STEPS, ckpt_path=tmp_path / f"{kind}.ckpt")[2]
        assert resumed[kind].steps == list(range(16, STEPS))
    assert resumed["dropin"].lrs == resumed["torch"].lrs


# -- transformers' Trainer ---------------------------------------------------------------------------
class HFModel(nn.Module):
    """Trains a linear layer; its evaluation loss is the scripted metric of the update it follows."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 1)
        self.updates = 0

    def forward(self, x, labels):
        if self.training:
            return {"loss": nn.functional.mse_loss(self.lin(x), labels)}
        return {"loss": torch.tensor(AFTER[self.updates])}


def _hf_run(out: str, kind: str, resume: str | None = None, **kw):
    from transformers import Trainer, TrainerCallback, TrainingArguments

    rows: list = []
    seen: list = []

    class Record(TrainerCallback):
        def on_step_begin(self, args, state, control, optimizer=None, **_):
            rows.append((state.global_step, [g["lr"] for g in optimizer.param_groups]))

        def on_step_end(self, args, state, control, model=None, **_):
            model.updates = state.global_step  # what the evaluation that may follow reports

    class ObserveOnEvaluate(TrainerCallback):  # the wiring for the plan with a plateau policy
        training = False  # observe the evaluations of train(), not a trainer.evaluate() after it

        def on_train_begin(self, args, state, control, **_):
            self.training = True

        def on_train_end(self, args, state, control, **_):
            self.training = False

        def on_evaluate(self, args, state, control, metrics=None, lr_scheduler=None, **_):
            seen.append((state.global_step, metrics["eval_loss"]))
            if self.training and isinstance(lr_scheduler, lt.ScheduleLR):
                lr_scheduler.observe(metrics["eval_loss"])

    class DropIn(Trainer):  # the drop-in where the Trainer would build torch's class
        def create_scheduler(self, num_training_steps, optimizer=None):
            self.lr_scheduler = lt.ReduceLROnPlateau(optimizer or self.optimizer, **kw["lr_scheduler_kwargs"])
            return self.lr_scheduler

    g = torch.Generator().manual_seed(0)
    data = [{"x": torch.randn(4, generator=g), "labels": torch.randn(1, generator=g)} for _ in range(4 * SPE)]
    torch.manual_seed(0)
    model = HFModel()
    optimizers: tuple = (None, None)
    if kind == "plan":
        opt = torch.optim.SGD(
            [{"params": [model.lin.weight], "lr": BASE_LRS[0]}, {"params": [model.lin.bias], "lr": BASE_LRS[1]}]
        )
        optimizers = (opt, lt.ScheduleLR(opt, PLAN, plateau=Plateau(**POLICY)))
    args = TrainingArguments(
        output_dir=out,
        per_device_train_batch_size=4,
        per_device_eval_batch_size=1,
        max_steps=STEPS,
        eval_strategy="steps",
        eval_steps=SPE,
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        dataloader_num_workers=0,
        logging_strategy="no",
        **kw,
    )
    cls = DropIn if kind == "dropin" else Trainer
    trainer = cls(
        model=model,
        args=args,
        train_dataset=data,
        eval_dataset=data[:1],
        optimizers=optimizers,
        callbacks=[Record(), ObserveOnEvaluate()],
    )
    trainer.train(resume_from_checkpoint=resume)
    return trainer, rows, seen


def test_trainer_plan_plateau_matches_a_plain_loop_and_resumes(tmp_path):
    trainer, rows, seen = _hf_run(str(tmp_path), "plan", save_strategy="steps", save_steps=15)
    assert seen == sorted(AFTER.items())
    want, at = replay(AFTER)
    assert rows == list(enumerate(want))  # bit for bit
    reductions = trainer.lr_scheduler.state_dict()["plateau"]["reductions"]
    assert [r["at"] for r in reductions] == at == list(REDUCED_FROM)
    before = trainer.lr_scheduler.state_dict()
    trainer.evaluate()  # after training: not observed
    assert len(seen) == len(AFTER) + 1 and trainer.lr_scheduler.state_dict() == before
    ckpt = tmp_path / "checkpoint-15"  # saved after the evaluation at 15 (the first bad one)
    saved = torch.load(ckpt / "scheduler.pt", weights_only=True)
    assert saved["last_epoch"] == 15 and saved["plateau"]["state"]["num_bad_epochs"] == 1
    _, resumed, seen = _hf_run(str(tmp_path), "plan", resume=str(ckpt), save_strategy="no")
    assert resumed == rows[15:]
    assert seen == sorted(AFTER.items())[5:]


def test_trainer_native_reduce_lr_on_plateau_and_the_dropin_agree(tmp_path):
    kw = {"factor": 0.5, "patience": 1, "cooldown": 1, "min_lr": 0.03}
    common = dict(
        save_strategy="no",
        metric_for_best_model="loss",
        learning_rate=0.1,
        optim="sgd",
        weight_decay=0.0,
        lr_scheduler_type="reduce_lr_on_plateau",
        lr_scheduler_kwargs=kw,
    )
    native, rows_native, _ = _hf_run(str(tmp_path / "native"), "native", **common)
    ours, rows_ours, _ = _hf_run(str(tmp_path / "ours"), "dropin", **common)
    assert type(native.lr_scheduler) is torch.optim.lr_scheduler.ReduceLROnPlateau
    assert type(ours.lr_scheduler) is lt.ReduceLROnPlateau
    assert rows_ours == rows_native
    cuts = torch_decisions(AFTER, **kw)
    assert cuts == [9, 18]
    lr = {t: 0.1 if t < 9 else 0.05 if t < 18 else 0.03 for t in range(STEPS)}  # the second cut hits min_lr
    assert rows_ours == [(t, [lr[t]] * len(ours.optimizer.param_groups)) for t in range(STEPS)]
    for a, b in zip(native.model.parameters(), ours.model.parameters()):
        assert torch.equal(a, b)


# -- Accelerate and DDP: two CPU processes ----------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


LAUNCH_TIMEOUT = 300  # seconds


def _stop(proc: subprocess.Popen) -> None:
    """Stop a launch: SIGTERM to torchrun, which stops its workers (they run in sessions of their own)."""
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module", autouse=True)
def _launch(tmp_path_factory):
    """Start the two-process launch when the module starts: it runs while the in-process tests do."""
    out = tmp_path_factory.mktemp("plateau_ranks")
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--nnodes=1",
        "--master_addr=127.0.0.1",
        f"--master_port={_free_port()}",
        str(HERE / "plateau_worker.py"),
        str(out),
        "accelerate,ddp",
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1", GLOO_SOCKET_IFNAME="lo", MASTER_ADDR="127.0.0.1")
    with open(out / "launch.log", "w") as log:  # a file, not a pipe: nothing waits for a reader
        proc = subprocess.Popen(cmd, env=env, cwd=str(out), stdout=log, stderr=subprocess.STDOUT)
    yield proc, out
    try:  # not waited for (a test failed first, or -k left the two-rank tests out): let it finish
        proc.wait(timeout=LAUNCH_TIMEOUT)
    except subprocess.TimeoutExpired:
        _stop(proc)


@pytest.fixture(scope="module")
def two_ranks(_launch) -> dict[str, list[dict]]:
    proc, out = _launch
    try:
        proc.wait(timeout=LAUNCH_TIMEOUT)
    except subprocess.TimeoutExpired:
        _stop(proc)
        pytest.fail(f"the launch did not finish within {LAUNCH_TIMEOUT} s\n{(out / 'launch.log').read_text()[-4000:]}")
    assert proc.returncode == 0, (out / "launch.log").read_text()[-4000:]
    return {m: [json.loads((out / f"{m}-rank{k}.json").read_text()) for k in (0, 1)] for m in ("accelerate", "ddp")}


def test_ranks_alone_would_decide_otherwise():
    # each rank's own metrics reduce elsewhere: the ranks agree only through the averaged metric
    for local in W.LOCAL:
        alone = {SPE * (e + 1): m for e, m in enumerate(local)}
        assert torch_decisions(alone) != list(REDUCED_FROM)
        assert replay(alone)[0] != replay(AFTER)[0]


def test_ddp_ranks_reduce_alike_from_the_averaged_metric(two_ranks):
    want, at = replay(AFTER)
    for rank, rec in enumerate(two_ranks["ddp"]):
        assert rec["rank"] == rank and rec["world"] == 2
        assert rec["metrics"] == list(METRICS)
        assert rec["decided"] == [e + 1 in (3, 6) for e in range(W.EPOCHS)]
        assert rec["lrs"] == want  # a single-process loop given the mean metric, bit for bit
        assert [r["at"] for r in rec["reductions"]] == at
        assert all(g[0] == g[1] == lrs for g, lrs in zip(rec["gathered"], rec["lrs"]))


def test_accelerate_prepared_plan_plateau_and_its_saved_state(two_ranks):
    want, at = replay(AFTER)
    k = SPE * (W.SAVE_AFTER_EPOCH + 1)
    for rank, rec in enumerate(two_ranks["accelerate"]):
        assert rec["rank"] == rank and rec["world"] == 2 and rec["prepared"] == "AcceleratedScheduler"
        assert rec["metrics"] == list(METRICS)
        assert rec["lrs"] == want  # as without Accelerate
        assert [r["at"] for r in rec["reductions"]] == at
        assert all(g[0] == g[1] == lrs for g, lrs in zip(rec["gathered"], rec["lrs"]))
        # built from scratch, load_state from after the 5th evaluation (one bad one counted): the same run
        resumed = rec["resumed"]
        assert resumed["lrs"] == rec["lrs"][k:] and resumed["metrics"] == list(METRICS[W.SAVE_AFTER_EPOCH + 1 :])
        assert resumed["reductions"] == rec["reductions"]
        assert resumed["weights"] == rec["weights"]
