"""The distributed engines users train with: Accelerate (two CPU processes) and transformers' Trainer.

Each engine steps schedulers its own way; these tests check that the lr applied at each
optimizer update is the schedule at that update count, with gradient accumulation,
across ranks and across a resume.
"""

from __future__ import annotations

import json
import pathlib
import socket
import subprocess
import sys

import torch

import lrkit
from lrkit.torch import ScheduleLR

HERE = pathlib.Path(__file__).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch_accelerate(out: pathlib.Path, mode: str) -> list[dict]:
    # torch's launcher starts the two CPU processes (gloo); Accelerate reads the
    # environment it sets, as under `accelerate launch --cpu --num_processes 2`
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--master_addr=127.0.0.1",
        f"--master_port={_free_port()}",
        str(HERE / "accelerate_worker.py"),
        str(out),
        mode,
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=str(HERE))
    assert r.returncode == 0, r.stderr[-3000:]
    return [json.loads((out / f"{mode}-rank{k}.json").read_text()) for k in (0, 1)]


def test_accelerate_applies_the_schedule_per_optimizer_update_on_every_rank(tmp_path):
    sys.path.insert(0, str(HERE))
    try:
        import accelerate_worker as W
    finally:
        sys.path.pop(0)
    ranks = _launch_accelerate(tmp_path, "recommended")
    want = [W.SCHEDULE(u) for u in range(W.UPDATES)]
    for d in ranks:
        assert d["num_processes"] == 2
        assert [row[0] for row in d["rows"]] == want  # the lr in the group before each update
        assert all(abs(applied - lr) <= 1e-15 for lr, applied in d["rows"])  # what SGD applied


def test_accelerate_default_steps_the_scheduler_once_per_process(tmp_path):
    # what the README warns about: the prepared scheduler steps num_processes times per update
    sys.path.insert(0, str(HERE))
    try:
        import accelerate_worker as W
    finally:
        sys.path.pop(0)
    for d in _launch_accelerate(tmp_path, "default"):
        assert [row[0] for row in d["rows"]] == [W.SCHEDULE(2 * u) for u in range(W.UPDATES)]


# -- transformers' Trainer ---------------------------------------------------------------------------
S = lrkit.WarmupCosine(peak_lr=1.0, total_steps=10, warmup_steps=3, min_lr=0.01)


class _Model(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(4, 1)

    def forward(self, x, labels):
        return {"loss": torch.nn.functional.mse_loss(self.lin(x), labels)}


def _trainer(out: str, rows: list):
    from transformers import Trainer, TrainerCallback, TrainingArguments

    class Record(TrainerCallback):
        def on_step_begin(self, args, state, control, optimizer=None, **kw):
            rows.append((state.global_step, [g["lr"] for g in optimizer.param_groups]))

    g = torch.Generator().manual_seed(0)
    data = [{"x": torch.randn(4, generator=g), "labels": torch.randn(1, generator=g)} for _ in range(80)]
    torch.manual_seed(0)
    model = _Model()
    opt = torch.optim.SGD([{"params": [model.lin.weight], "lr": 0.1}, {"params": [model.lin.bias], "lr": 0.01}])
    args = TrainingArguments(
        output_dir=out,
        per_device_train_batch_size=4,
        gradient_accumulation_steps=2,
        max_steps=10,
        save_steps=5,
        save_strategy="steps",
        logging_steps=5,
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    return Trainer(
        model=model, args=args, train_dataset=data, optimizers=(opt, ScheduleLR(opt, S)), callbacks=[Record()]
    )


def test_trainer_applies_the_schedule_per_update_and_resumes_exactly(tmp_path):
    want = [(k, [0.1 * S(k), 0.01 * S(k)]) for k in range(10)]
    rows: list = []
    _trainer(str(tmp_path), rows).train()
    assert rows == want  # one schedule position per optimizer update (2 batches each)
    assert (tmp_path / "checkpoint-5" / "scheduler.pt").exists()
    resumed: list = []
    _trainer(str(tmp_path), resumed).train(resume_from_checkpoint=str(tmp_path / "checkpoint-5"))
    assert resumed == want[5:]
