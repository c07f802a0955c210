"""Write tests/data/ultralytics_reference.json: the lr of each param group and the momentum that
ultralytics' own trainer code sets at every iteration, for the runs in RUNS.

    pip download ultralytics==8.4.190 --no-deps -d WHEELS && unzip WHEELS/ultralytics-*.whl -d SRC
    python tests/data/make_ultralytics_reference.py SRC

ultralytics cannot be imported beside this project's CPU torch (it needs torchvision and
OpenCV), so its code runs here without the package: ``BaseTrainer._setup_scheduler`` and
``_get_warmup_iterations`` and the warmup block of ``BaseTrainer._do_train`` are taken
from ``ultralytics/engine/trainer.py`` (``one_cycle`` from ``utils/torch_utils.py``) and
executed as they are on a stand-in trainer holding a real torch SGD optimizer with
ultralytics' three param groups (weights with decay, BN weights, biases). The stand-in's
loop calls them as ``_do_train`` does: the scheduler's ``step()`` at the start of each
epoch, then the warmup block before each batch.
"""

from __future__ import annotations

import ast
import json
import math
import os
import sys
import textwrap
import types
import warnings

import numpy as np
import torch
from torch import optim

HERE = os.path.dirname(os.path.abspath(__file__))

#: (name, trainer arguments, epochs, batches per epoch, lr0)
RUNS = [
    ("cos-lr", dict(cos_lr=True, lrf=0.02, warmup_epochs=2.5, warmup_bias_lr=0.08, warmup_momentum=0.7,
                    momentum=0.93), 12, 17, 0.012),
    ("linear-lf", dict(cos_lr=False, lrf=0.05, warmup_epochs=3.0, warmup_bias_lr=0.1, warmup_momentum=0.8,
                       momentum=0.937), 10, 23, 0.01),
    ("short-run", dict(cos_lr=False, lrf=0.01, warmup_epochs=5.0, warmup_bias_lr=0.05, warmup_momentum=0.85,
                       momentum=0.9), 3, 11, 0.02),
    ("no-warmup", dict(cos_lr=True, lrf=0.1, warmup_epochs=0.0, warmup_bias_lr=0.1, warmup_momentum=0.8,
                       momentum=0.937), 6, 9, 0.01),
]


def _source(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def _method(src: str, tree: ast.AST, cls: str, name: str) -> str:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for f in node.body:
                if isinstance(f, ast.FunctionDef) and f.name == name:
                    return textwrap.dedent(ast.get_source_segment(src, f))
    raise LookupError(f"{cls}.{name} not found")


def _warmup_block(src: str, tree: ast.AST) -> str:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "_do_train":
            for n in ast.walk(node):
                if isinstance(n, ast.If) and "ni <= nw" in ast.get_source_segment(src, n.test):
                    return textwrap.dedent(ast.get_source_segment(src, n))
    raise LookupError("the warmup block of _do_train not found")


def main(root: str) -> None:
    trainer_src = _source(os.path.join(root, "ultralytics", "engine", "trainer.py"))
    utils_src = _source(os.path.join(root, "ultralytics", "utils", "torch_utils.py"))
    ttree, utree = ast.parse(trainer_src), ast.parse(utils_src)
    ns: dict = {"math": math, "np": np, "optim": optim}
    for node in utree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "one_cycle":
            exec(ast.get_source_segment(utils_src, node), ns)
    for name in ("_setup_scheduler", "_get_warmup_iterations"):
        exec(_method(trainer_src, ttree, "BaseTrainer", name), ns)
    block = compile(_warmup_block(trainer_src, ttree), "trainer.py:_do_train warmup", "exec")
    out = {"source": "ultralytics/engine/trainer.py", "version": os.path.basename(os.path.normpath(root)),
           "runs": {}}
    for name, args, epochs, nb, lr0 in RUNS:
        self = types.SimpleNamespace(args=types.SimpleNamespace(**args), epochs=epochs, accumulate=1)
        params = [torch.zeros(1, requires_grad=True) for _ in range(3)]
        g = [{"params": [params[0]], "param_group": "weight", "weight_decay": 5e-4},
             {"params": [params[1]], "param_group": "bn", "weight_decay": 0.0},
             {"params": [params[2]], "param_group": "bias"}]
        self.optimizer = optim.SGD(g, lr=lr0, momentum=args["momentum"], nesterov=True)
        ns["_setup_scheduler"](self)
        self.scheduler.last_epoch = -1  # start_epoch - 1, as _setup_train sets it
        nw = ns["_get_warmup_iterations"](self, nb)
        acc0 = self.accumulate
        lrs, moms = [], []
        for epoch in range(epochs):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.scheduler.step()
            for i in range(nb):
                ni = i + nb * epoch
                exec(block, {"np": np}, {"self": self, "ni": ni, "nw": nw, "epoch": epoch, "acc0": acc0})
                lrs.append([grp["lr"] for grp in self.optimizer.param_groups])
                moms.append([grp["momentum"] for grp in self.optimizer.param_groups])
        out["runs"][name] = {"args": args, "epochs": epochs, "batches": nb, "lr0": lr0, "warmup_iters": nw,
                             "groups": ["weight", "bn", "bias"], "lr": lrs, "momentum": moms}
    with open(os.path.join(HERE, "ultralytics_reference.json"), "w", encoding="utf-8") as fh:
        json.dump(out, fh)
    print(f"wrote {len(out['runs'])} runs")


if __name__ == "__main__":
    main(sys.argv[1])
