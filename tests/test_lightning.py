"""ScheduleLR inside PyTorch Lightning: returned by configure_optimizers with interval="step".

Lightning must accept it as a scheduler, step it once per optimizer update, and the
lrs the optimizer really applies must be the schedule's. A run stopped at a
checkpoint and resumed with ``fit(ckpt_path=...)`` continues like the uninterrupted run.
"""

from __future__ import annotations

import warnings

import pytest
import pytorch_lightning as pl
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import lrkit as lk
from lrkit.torch import ScheduleLR

SCHED = lk.WarmupCosine(peak_lr=1.0, total_steps=25, warmup_steps=5, min_lr=0.05)
BASE_LRS = (0.2, 0.05)  # group 0: the layer, group 1: the probe
BATCHES = 5  # per epoch
STEPS = 30  # past the schedule's end: the floor holds


class Module(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.layer = nn.Linear(3, 1)
        # Gradient 1 at every step: plain SGD moves it by exactly -lr (reset to 0 before each step).
        self.probe = nn.Parameter(torch.zeros(1))

    def training_step(self, batch, batch_idx):
        x, y = batch
        return ((self.layer(x).squeeze(-1) - y) ** 2).mean() + self.probe.sum()

    def configure_optimizers(self):
        opt = torch.optim.SGD(
            [{"params": self.layer.parameters(), "lr": BASE_LRS[0]}, {"params": [self.probe], "lr": BASE_LRS[1]}],
            lr=BASE_LRS[0],
        )
        return {"optimizer": opt, "lr_scheduler": {"scheduler": ScheduleLR(opt, SCHED), "interval": "step"}}

    def train_dataloader(self):
        # Every batch is the same: a resumed Lightning run may not restart at the same batch
        # index as the uninterrupted one (it counts a checkpoint taken at max_steps on an epoch
        # boundary as mid-epoch), and that must not change the weights.
        g = torch.Generator().manual_seed(1)
        x = torch.randn(4, 3, generator=g).repeat(BATCHES, 1)
        return DataLoader(TensorDataset(x, x.sum(dim=1)), batch_size=4, shuffle=False)


class Recorder(pl.Callback):
    """Per update: global step, the lrs in the param groups before it, the lr SGD applied to the probe."""

    def __init__(self) -> None:
        self.steps: list[int] = []
        self.lrs: list[list[float]] = []
        self.applied: list[float] = []

    def on_train_batch_start(self, trainer, module, batch, batch_idx):
        self.steps.append(trainer.global_step)
        self.lrs.append([g["lr"] for g in trainer.optimizers[0].param_groups])
        with torch.no_grad():
            module.probe.zero_()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        self.applied.append(-module.probe.item())


def fit(max_steps: int, ckpt_path=None, save_to=None):
    module, rec = Module(), Recorder()
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=max_steps,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[rec],
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.fit(module, ckpt_path=ckpt_path)
    if save_to is not None:
        trainer.save_checkpoint(save_to)
    return trainer, module, rec, caught


def expected(t: int) -> list[float]:
    return [b * SCHED(t) for b in BASE_LRS]


@pytest.fixture(scope="module")
def full():
    return fit(STEPS)


def test_lightning_accepts_the_scheduler_and_steps_it_per_update(full):
    trainer, _, rec, caught = full
    (config,) = trainer.lr_scheduler_configs
    assert isinstance(config.scheduler, ScheduleLR) and config.interval == "step" and config.frequency == 1
    assert trainer.global_step == STEPS and config.scheduler.last_epoch == STEPS
    # No complaint about the scheduler (type, API, or the order of optimizer/scheduler steps).
    msgs = [str(w.message) for w in caught]
    assert not [m for m in msgs if "scheduler" in m.lower()], msgs


def test_applied_lrs_match_the_schedule_at_every_step(full):
    _, _, rec, _ = full
    assert rec.steps == list(range(STEPS))
    assert rec.lrs == [expected(t) for t in range(STEPS)]
    # What SGD really did (float32 probe) follows group 1's lr.
    assert rec.applied == pytest.approx([expected(t)[1] for t in range(STEPS)], rel=1e-6)
    # The schedule moved: 0 at the start, the peak after the warmup, the floor at the end.
    assert rec.lrs[0] == [0.0, 0.0] and rec.lrs[5] == list(BASE_LRS) and rec.lrs[-1] == expected(STEPS - 1)


def test_resume_from_a_lightning_checkpoint(full, tmp_path):
    _, module_full, rec_full, _ = full
    k = 2 * BATCHES
    path = tmp_path / "k.ckpt"
    fit(k, save_to=path)
    # The scheduler's part of the checkpoint is plain, and the whole checkpoint loads with weights_only.
    ck = torch.load(path, map_location="cpu", weights_only=True)
    assert [{k: v for k, v in st.items() if k != "schedules"} for st in ck["lr_schedulers"]] == [
        {
            "last_epoch": k,
            "base_values": list(BASE_LRS),
            "key": "lr",
            "absolute": False,
            "steps_per_epoch": None,
            "class": "lrkit.torch.ScheduleLR",
            "groups": 2,
            "per_group": False,
            "replans": [],
        }
    ]
    trainer, module, rec, _ = fit(STEPS, ckpt_path=path)
    assert rec.steps == list(range(k, STEPS))
    assert rec.lrs == rec_full.lrs[k:]
    assert rec.applied == rec_full.applied[k:]
    assert trainer.lr_scheduler_configs[0].scheduler.last_epoch == STEPS
    for a, b in zip(module.parameters(), module_full.parameters()):
        assert torch.equal(a, b)
