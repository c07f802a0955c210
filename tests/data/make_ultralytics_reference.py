"""Write tests/data/ultralytics_reference.json: the lr of each param group and the momentum that
ultralytics' own training code sets at every iteration, for the runs in RUNS, across the
trainer's generations (YOLOv5's train.py and ultralytics 8.0 .. 8.4 wheels).

    for v in 8.0.100 8.1.0 8.3.0 8.4.1 8.4.50 8.4.190; do pip download ultralytics==$v --no-deps -d WHEELS; done
    git clone https://github.com/ultralytics/yolov5 YOLOV5
    python tests/data/make_ultralytics_reference.py WHEELS YOLOV5

ultralytics cannot be imported beside this project's CPU torch (it needs torchvision and
OpenCV), so its code runs here without the package: the statements that schedule are
found in the trainer's source by their content and executed as they are, on a stand-in
trainer holding a real torch SGD optimizer with the three param groups in that version's
order (YOLOv5 .. 8.3: biases, weights with decay, BN weights; 8.4: weights, BN weights,
biases, named by "param_group" from 8.4.3):

* the ``lf`` choice (the ``if ... cos_lr:`` statement), the ``LambdaLR`` construction and
  ``scheduler.last_epoch = start_epoch - 1``;
* the warmup length (the first ``nw = ...``; ``_get_warmup_iterations`` where it exists);
* the warmup block (``if ... ni <= nw:``), run before each batch;
* ``scheduler.step()``, at the start of each epoch or at its end, where the source's
  training loop has it (before or after its loop over the batches).
"""

from __future__ import annotations

import ast
import glob
import json
import math
import os
import subprocess
import sys
import textwrap
import types
import warnings
import zipfile

import numpy as np
import torch
from torch import optim
from torch.optim import lr_scheduler

HERE = os.path.dirname(os.path.abspath(__file__))

#: (name, version, trainer arguments, epochs, batches per epoch, lr0)
RUNS = [
    (
        "cos-lr",
        "8.4.190",
        dict(cos_lr=True, lrf=0.02, warmup_epochs=2.5, warmup_bias_lr=0.08, warmup_momentum=0.7, momentum=0.93),
        12,
        17,
        0.012,
    ),
    (
        "linear-lf",
        "8.4.190",
        dict(cos_lr=False, lrf=0.05, warmup_epochs=3.0, warmup_bias_lr=0.1, warmup_momentum=0.8, momentum=0.937),
        10,
        23,
        0.01,
    ),
    (
        "short-run",
        "8.4.190",
        dict(cos_lr=False, lrf=0.01, warmup_epochs=5.0, warmup_bias_lr=0.05, warmup_momentum=0.85, momentum=0.9),
        3,
        11,
        0.02,
    ),
    (
        "no-warmup",
        "8.4.190",
        dict(cos_lr=True, lrf=0.1, warmup_epochs=0.0, warmup_bias_lr=0.1, warmup_momentum=0.8, momentum=0.937),
        6,
        9,
        0.01,
    ),
    (
        "v8.4.50",
        "8.4.50",
        dict(cos_lr=True, lrf=0.02, warmup_epochs=1.5, warmup_bias_lr=0.08, warmup_momentum=0.7, momentum=0.93),
        8,
        40,
        0.012,
    ),
    (
        "v8.4.1",
        "8.4.1",
        dict(cos_lr=False, lrf=0.05, warmup_epochs=2.0, warmup_bias_lr=0.1, warmup_momentum=0.8, momentum=0.937),
        6,
        60,
        0.01,
    ),
    (
        "v8.3.0",
        "8.3.0",
        dict(cos_lr=True, lrf=0.01, warmup_epochs=3.0, warmup_bias_lr=0.1, warmup_momentum=0.8, momentum=0.937),
        10,
        45,
        0.01,
    ),
    (
        "v8.3.0-short-epochs",
        "8.3.0",
        dict(cos_lr=False, lrf=0.1, warmup_epochs=0.5, warmup_bias_lr=0.05, warmup_momentum=0.75, momentum=0.9),
        5,
        30,
        0.02,
    ),
    (
        "v8.1.0",
        "8.1.0",
        dict(cos_lr=False, lrf=0.02, warmup_epochs=2.0, warmup_bias_lr=0.1, warmup_momentum=0.8, momentum=0.937),
        7,
        55,
        0.01,
    ),
    (
        "v8.1.0-no-warmup",
        "8.1.0",
        dict(cos_lr=True, lrf=0.05, warmup_epochs=0.0, warmup_bias_lr=0.1, warmup_momentum=0.8, momentum=0.937),
        5,
        20,
        0.01,
    ),
    (
        "v8.0.100",
        "8.0.100",
        dict(cos_lr=True, lrf=0.02, warmup_epochs=0.0, warmup_bias_lr=0.1, warmup_momentum=0.8, momentum=0.937),
        6,
        30,
        0.01,
    ),
    (
        "yolov5",
        "yolov5",
        dict(cos_lr=False, lrf=0.01, warmup_epochs=3.0, warmup_bias_lr=0.1, warmup_momentum=0.8, momentum=0.937),
        8,
        50,
        0.01,
    ),
    (
        "yolov5-cos",
        "yolov5",
        dict(cos_lr=True, lrf=0.05, warmup_epochs=1.0, warmup_bias_lr=0.05, warmup_momentum=0.7, momentum=0.9),
        6,
        70,
        0.02,
    ),
]


def _wheel_file(wheels: str, version: str, suffix: str) -> str:
    whl = glob.glob(os.path.join(wheels, f"ultralytics-{version}-*.whl"))
    if not whl:
        raise FileNotFoundError(f"no ultralytics {version} wheel in {wheels}")
    z = zipfile.ZipFile(whl[0])
    name = min((n for n in z.namelist() if n.endswith(suffix)), key=len)
    return z.read(name).decode("utf-8")


def _segment(src: str, node: ast.AST) -> str:
    return textwrap.dedent(ast.get_source_segment(src, node, padded=True))


def _find(src: str, tree: ast.AST, kind: type, test: str, where: str = "") -> ast.AST:
    """The first node of ``kind`` whose test (an If), iterable (a For) or text holds ``test``."""
    for node in ast.walk(tree):
        if isinstance(node, kind):
            part = node.test if isinstance(node, ast.If) else node.iter if isinstance(node, ast.For) else node
            text = ast.get_source_segment(src, part) or ""
            if test in text:
                return node
    raise LookupError(f"{where}: no {kind.__name__} with {test!r}")


def _epoch_step_at_start(src: str, loop_fn: ast.AST) -> bool:
    """Whether the training loop steps the scheduler before its batch loop (else after it)."""
    batch_loop = _find(src, loop_fn, ast.For, "pbar", "batch loop")
    step = _find(src, loop_fn, ast.Expr, "scheduler.step()", "scheduler.step")
    return step.lineno < batch_loop.lineno


def _program(version: str, wheels: str, yolov5: str) -> dict:
    """The scheduling statements of ``version``'s trainer, compiled, and where its loop steps."""
    if version == "yolov5":
        src = subprocess.run(
            ["git", "-C", yolov5, "show", "HEAD:train.py"], capture_output=True, text=True, check=True
        ).stdout
        utils = _wheel_file(wheels, "8.4.190", "utils/torch_utils.py")  # train.py imports one_cycle from there
        tree = ast.parse(src)
        loop_fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "train")
    else:
        src = _wheel_file(wheels, version, "engine/trainer.py")
        utils = _wheel_file(wheels, version, "utils/torch_utils.py")
        tree = ast.parse(src)
        loop_fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "_do_train")
    utree = ast.parse(utils)
    one_cycle = next(_segment(utils, n) for n in utree.body if isinstance(n, ast.FunctionDef) and n.name == "one_cycle")
    methods = [
        _segment(src, n)
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef) and n.name == "_get_warmup_iterations"
    ]
    parts = {
        "lf": _segment(src, _find(src, tree, ast.If, "cos_lr", "lf")),
        "scheduler": _segment(src, _find(src, tree, ast.Assign, "LambdaLR(", "scheduler")),
        "reset": _segment(
            src,
            _find(src, tree, ast.Assign, "last_epoch = start_epoch - 1", "reset")
            if version == "yolov5"
            else _find(src, tree, ast.Assign, "last_epoch = self.start_epoch - 1", "reset"),
        ),
        "nw": _segment(
            src,
            next(
                n
                for n in ast.walk(loop_fn)
                if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "nw" for t in n.targets)
            ),
        ),
        "warmup": _segment(src, _find(src, loop_fn, ast.If, "ni <= nw", "warmup")),
    }
    code = {k: compile(v, f"{version}:{k}", "exec") for k, v in parts.items()}
    return {"code": code, "one_cycle": one_cycle, "methods": methods, "start": _epoch_step_at_start(src, loop_fn)}


def _optimizer(version: str, lr0: float, momentum: float) -> optim.SGD:
    """SGD with the version's three param groups, as its build_optimizer makes them."""
    w, bn, b = (torch.zeros(1, requires_grad=True) for _ in range(3))
    if version == "yolov5" or tuple(int(x) for x in version.split(".")) < (8, 4, 0):
        opt = optim.SGD([b], lr=lr0, momentum=momentum, nesterov=True)  # biases
        opt.add_param_group({"params": [w], "weight_decay": 5e-4})
        opt.add_param_group({"params": [bn], "weight_decay": 0.0})
        return opt
    named = tuple(int(x) for x in version.split(".")) >= (8, 4, 3)
    groups = [{"params": [w], "weight_decay": 5e-4}, {"params": [bn], "weight_decay": 0.0}, {"params": [b]}]
    if named:
        for g, n in zip(groups, ("weight", "bn", "bias")):
            g["param_group"] = n
    return optim.SGD(groups, lr=lr0, momentum=momentum, nesterov=True)


def run(program: dict, version: str, args: dict, epochs: int, nb: int, lr0: float) -> dict:
    ns: dict = {"math": math, "np": np, "optim": optim, "lr_scheduler": lr_scheduler}
    exec(program["one_cycle"], ns)
    opt = _optimizer(version, lr0, args["momentum"])
    hyp = {
        "lrf": args["lrf"],
        "warmup_epochs": args["warmup_epochs"],
        "warmup_bias_lr": args["warmup_bias_lr"],
        "warmup_momentum": args["warmup_momentum"],
        "momentum": args["momentum"],
    }
    self = types.SimpleNamespace(
        args=types.SimpleNamespace(nbs=64, **args),
        epochs=epochs,
        start_epoch=0,
        optimizer=opt,
        accumulate=1,
        batch_size=16,
    )
    for m in program["methods"]:
        exec(m, ns)
        setattr(self, m.split("(")[0].split()[-1], types.MethodType(ns[m.split("(")[0].split()[-1]], self))
    ns.update(
        self=self,
        hyp=hyp,
        opt=types.SimpleNamespace(cos_lr=args["cos_lr"]),
        epochs=epochs,
        optimizer=opt,
        start_epoch=0,
        nb=nb,
        nbs=64,
        batch_size=16,
        acc0=1,
    )
    code = program["code"]
    for k in ("lf", "scheduler", "reset", "nw"):
        exec(code[k], ns)
    sched = ns["scheduler"] if "scheduler" in ns and version == "yolov5" else self.scheduler
    nw = ns["nw"]
    lrs, moms = [], []
    for epoch in range(epochs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if program["start"]:
                sched.step()
        for i in range(nb):
            ns.update(ni=i + nb * epoch, epoch=epoch)
            exec(code["warmup"], ns)
            lrs.append([float(g["lr"]) for g in opt.param_groups])
            moms.append([float(g["momentum"]) for g in opt.param_groups])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if not program["start"]:
                sched.step()
    return {
        "warmup_iters": int(nw) if nw > 0 else 0,
        "lr": lrs,
        "momentum": moms,
        "scheduler_steps_at": "epoch start" if program["start"] else "epoch end",
    }


def main(wheels: str, yolov5: str) -> None:
    out: dict = {"source": "ultralytics/engine/trainer.py (8.x wheels), ultralytics/yolov5 train.py", "runs": {}}
    programs: dict = {}
    for name, version, args, epochs, nb, lr0 in RUNS:
        if version not in programs:
            programs[version] = _program(version, wheels, yolov5)
        res = run(programs[version], version, args, epochs, nb, lr0)
        out["runs"][name] = {"version": version, "args": args, "epochs": epochs, "batches": nb, "lr0": lr0, **res}
        print(name, version, "nw", res["warmup_iters"], res["scheduler_steps_at"])
    with open(os.path.join(HERE, "ultralytics_reference.json"), "w", encoding="utf-8") as fh:
        json.dump(out, fh)
    print(f"wrote {len(out['runs'])} runs")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
