"""Write tests/data/ppcls_reference.json: the lr PaddleClas's own ``ppcls/optimizer/learning_rate.py``
gives at every step for the configs in CONFIGS (run as it is; its logger is a stand-in).

    python tests/data/make_ppcls_reference.py /path/to/PaddleClas [COMMIT]   # a checkout of PaddleClas

The values are stored, not recomputed in CI: PaddleClas's optimizer module is not on PyPI.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import subprocess
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))

#: (name, lr config, epochs, iterations per epoch); non-default parameters throughout
CONFIGS = [
    (
        "cosine-warmup",
        {"name": "Cosine", "learning_rate": 0.1, "eta_min": 0.002, "warmup_epoch": 3, "warmup_start_lr": 0.004},
        20,
        37,
    ),
    (
        "cosine-by-epoch",
        {"name": "Cosine", "learning_rate": 0.05, "eta_min": 0.001, "warmup_epoch": 2, "by_epoch": True},
        30,
        11,
    ),
    ("cosine-no-warmup", {"name": "Cosine", "learning_rate": 0.08}, 12, 29),
    (
        "linear-power",
        {"name": "Linear", "learning_rate": 0.1, "end_lr": 0.001, "power": 2.0, "warmup_epoch": 1},
        15,
        23,
    ),
    ("linear-cycle", {"name": "Linear", "learning_rate": 0.1, "end_lr": 0.0, "power": 0.9, "cycle": True}, 6, 31),
    (
        "step",
        {
            "name": "Step",
            "learning_rate": 0.1,
            "step_size": 3,
            "gamma": 0.5,
            "warmup_epoch": 2,
            "warmup_start_lr": 0.01,
        },
        12,
        17,
    ),
    ("multistep", {"name": "MultiStepDecay", "learning_rate": 0.1, "milestones": [4, 7, 9], "gamma": 0.3}, 12, 19),
    (
        "piecewise",
        {"name": "Piecewise", "decay_epochs": [5, 8], "values": [0.1, 0.02, 0.004], "warmup_epoch": 1},
        12,
        21,
    ),
    ("piecewise-rule", {"name": "Piecewise", "learning_rate": 0.2, "decay_epochs": [30], "values": [0.2, 0.02]}, 95, 3),
    ("const-warmup", {"name": "ConstLR", "learning_rate": 0.03, "warmup_epoch": 2, "warmup_start_lr": 0.001}, 6, 13),
]


def load(root: str):
    module = types.ModuleType("ppcls")
    module.__path__ = [os.path.join(root, "ppcls")]
    sys.modules["ppcls"] = module
    utils = types.ModuleType("ppcls.utils")
    sys.modules["ppcls.utils"] = utils
    log = types.ModuleType("ppcls.utils.logger")
    log.warning = logging.getLogger("ppcls").warning
    sys.modules["ppcls.utils.logger"] = log
    utils.logger = log
    spec = importlib.util.spec_from_file_location(
        "ppcls.optimizer.learning_rate", os.path.join(root, "ppcls", "optimizer", "learning_rate.py")
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(root: str, commit: str | None = None) -> None:
    lr = load(root)
    out = {"source": "PaddleClas ppcls/optimizer/learning_rate.py", "commit": commit, "cases": {}}
    try:
        out["commit"] = (
            out["commit"]
            or subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
            or None
        )
    except OSError:
        pass
    for name, cfg, epochs, n in CONFIGS:
        kw = {k: v for k, v in cfg.items() if k != "name"}
        sched = getattr(lr, cfg["name"])(epochs=epochs, step_each_epoch=n, **kw)()
        steps = (epochs + 2) * (1 if cfg.get("by_epoch") else n)
        vals = []
        for _ in range(steps):
            vals.append(float(sched.last_lr))
            sched.step()
        out["cases"][name] = {"config": cfg, "epochs": epochs, "step_each_epoch": n, "lrs": vals}
    with open(os.path.join(HERE, "ppcls_reference.json"), "w", encoding="utf-8") as fh:
        json.dump(out, fh)
    print(f"wrote {len(out['cases'])} cases")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
