"""Write tests/data/ppdet_burnin_reference.json: the lr of every iteration that PaddleDetection's
LearningRate gives with its BurninWarmup (release/2.1 .. 2.4; later releases dropped it),
for the configs in CONFIGS.

    git -C PaddleDetection show release/2.4:ppdet/optimizer.py > optimizer.py
    python tests/data/make_ppdet_burnin_reference.py optimizer.py

The file runs as it is, without the rest of ppdet (whose import needs OpenCV and more):
its package, config registry decorators and logger are stand-ins. Each config's
LearningRate builds its Paddle scheduler from ``step_per_epoch``, which is then stepped
once per iteration, as PaddleDetection's trainer does.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))

#: (name, LearningRate arguments, step_per_epoch, iterations)
CONFIGS = [
    (
        "piecewise-burnin-one-epoch",
        {
            "base_lr": 0.001,
            "schedulers": [
                {"name": "PiecewiseDecay", "gamma": 0.1, "milestones": [3, 5]},
                {"name": "BurninWarmup", "steps": 1000},
            ],
        },
        120,
        840,
    ),
    (
        "piecewise-burnin-steps",
        {
            "base_lr": 0.01,
            "schedulers": [
                {"name": "PiecewiseDecay", "gamma": [0.2, 0.04], "milestones": [2, 4]},
                {"name": "BurninWarmup", "steps": 70},
            ],
        },
        100,
        560,
    ),
    (
        "cosine-burnin",
        {
            "base_lr": 0.02,
            "schedulers": [
                {"name": "CosineDecay", "max_epochs": 6, "min_lr_ratio": 0.05, "last_plateau_epochs": 1},
                {"name": "BurninWarmup", "steps": 90},
            ],
        },
        60,
        420,
    ),
]


def load(path: str) -> types.ModuleType:
    def module(name: str, **attrs: object) -> types.ModuleType:
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        sys.modules[name] = m
        return m

    module("ppdet", __path__=[])
    module("ppdet.core")
    module("ppdet.core.workspace", register=lambda cls: cls, serializable=lambda cls: cls)
    module("ppdet.utils")
    module("ppdet.utils.logger", setup_logger=lambda n: logging.getLogger(n))
    spec = importlib.util.spec_from_file_location("ppdet_optimizer_2_4", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # LearningRate looks its schedulers up in its own module
    spec.loader.exec_module(mod)
    return mod


def main(path: str) -> None:
    O = load(path)
    out: dict = {"source": "PaddleDetection release/2.4 ppdet/optimizer.py", "configs": {}}
    for name, cfg, spe, n in CONFIGS:
        sched = O.LearningRate(cfg["base_lr"], [dict(s) for s in cfg["schedulers"]])(spe)
        lrs = []
        for _ in range(n):
            lrs.append(float(sched()))
            sched.step()
        out["configs"][name] = {"config": cfg, "step_per_epoch": spe, "lr": lrs}
        print(name, len(lrs))
    with open(os.path.join(HERE, "ppdet_burnin_reference.json"), "w", encoding="utf-8") as fh:
        json.dump(out, fh)


if __name__ == "__main__":
    main(sys.argv[1])
