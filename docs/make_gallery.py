"""Render every built-in schedule kind and every recipe to PNG, and write the gallery page.

Each picture is drawn by the command line itself (``lrkit plot ...``), and the page
shows that command, so every image can be reproduced by copying it. The page also
carries each schedule's one-paragraph explanation (``lrkit explain``).

    python docs/make_gallery.py                      # docs/gallery/*.png and docs/gallery.md
    python docs/make_gallery.py --out /tmp/g --markdown /tmp/g.md --dpi 60
    python docs/make_gallery.py --runs               # also the plateau run's and range test's files

Two pictures are of training runs, not schedules: a plateau run (a ``ScheduleLR``
state saved as JSON) and an LR range test (its CSV), each from a deterministic synthetic run
(:func:`write_runs`; ``tests/test_gallery.py`` checks the committed files are what it writes).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Sequence

HERE = os.path.dirname(os.path.abspath(__file__))

_COS = {"type": "cosine", "peak_lr": 0.1, "total_steps": 900, "min_lr": 0.001}

#: (name, what it shows, arguments of ``lrkit plot`` before ``-o``). One entry per kind at least.
ENTRIES: list[tuple[str, str, list[str]]] = [
    ("constant", "A constant learning rate.", [json.dumps({"type": "constant", "lr": 0.01}), "-n", "100"]),
    (
        "cosine",
        "Cosine annealing to a floor.",
        [json.dumps({"type": "cosine", "peak_lr": 0.1, "total_steps": 1000, "min_lr": 0.001})],
    ),
    ("linear", "Linear decay.", [json.dumps({"type": "linear", "peak_lr": 0.1, "total_steps": 1000, "min_lr": 0.01})]),
    (
        "polynomial",
        "Polynomial decay (power 2).",
        [json.dumps({"type": "polynomial", "peak_lr": 0.1, "total_steps": 1000, "power": 2.0})],
    ),
    (
        "polynomial_cycle",
        "Paddle's cyclic polynomial decay: the horizon grows to the next multiple.",
        [
            json.dumps({"type": "polynomial_cycle", "peak_lr": 0.1, "decay_steps": 300, "end_lr": 0.001, "power": 2.0}),
            "-n",
            "1000",
        ],
    ),
    (
        "step",
        "Step decay: x0.5 every 30 epochs.",
        [json.dumps({"type": "step", "peak_lr": 0.1, "step_size": 30, "gamma": 0.5}), "-n", "150"],
    ),
    (
        "multistep",
        "Decay at milestones (the ResNet recipe).",
        [
            json.dumps({"type": "multistep", "peak_lr": 0.1, "milestones": [30, 60, 80], "gamma": 0.1}),
            "-n",
            "100",
            "--log",
        ],
    ),
    (
        "exponential",
        "Exponential decay, log scale.",
        [json.dumps({"type": "exponential", "peak_lr": 0.1, "gamma": 0.97}), "-n", "150", "--log"],
    ),
    (
        "inverse_sqrt",
        "Inverse square root (Transformer-style, after its warmup).",
        [json.dumps({"type": "inverse_sqrt", "peak_lr": 0.001, "timescale": 400}), "-n", "5000"],
    ),
    (
        "tanh",
        "Tanh decay (timm).",
        [json.dumps({"type": "tanh", "peak_lr": 0.1, "total_steps": 1000, "min_lr": 0.001})],
    ),
    (
        "one_cycle",
        "One-cycle policy, PyTorch OneCycleLR's positions.",
        [json.dumps({"type": "one_cycle", "peak_lr": 0.1, "total_steps": 1000})],
    ),
    (
        "wsd",
        "Warmup-stable-decay with a 1-sqrt cooldown (warmup added by composition).",
        [
            json.dumps(
                {
                    "type": "warmup",
                    "warmup_steps": 100,
                    "schedule": {
                        "type": "wsd",
                        "peak_lr": 0.1,
                        "total_steps": 900,
                        "decay_steps": 200,
                        "shape": "1-sqrt",
                    },
                }
            )
        ],
    ),
    (
        "cosine_restarts",
        "SGDR: warm restarts, each cycle twice as long, peaks x0.7.",
        [
            json.dumps(
                {
                    "type": "cosine_restarts",
                    "peak_lr": 0.1,
                    "period": 100,
                    "period_mult": 2,
                    "min_lr": 0.001,
                    "peak_decay": 0.7,
                    "max_cycles": 4,
                }
            )
        ],
    ),
    (
        "cyclic",
        "Cyclical lr, triangular2 (height halves every cycle).",
        [
            json.dumps({"type": "cyclic", "min_lr": 0.001, "peak_lr": 0.1, "step_size_up": 100, "mode": "triangular2"}),
            "-n",
            "1000",
        ],
    ),
    (
        "warmup_cosine",
        "Linear warmup into a cosine decay (lrkit's default).",
        [
            json.dumps(
                {"type": "warmup_cosine", "peak_lr": 0.1, "total_steps": 1000, "warmup_steps": 100, "min_lr": 0.001}
            )
        ],
    ),
    (
        "warmup",
        "An exponential warmup in front of any schedule; it ends at that schedule's start.",
        [json.dumps({"type": "warmup", "schedule": _COS, "warmup_steps": 100, "shape": "exponential"})],
    ),
    (
        "sequence",
        "Schedules back to back: constant, cosine, then a low constant.",
        [
            json.dumps(
                {
                    "type": "sequence",
                    "segments": [{"type": "constant", "lr": 0.05}, _COS, {"type": "constant", "lr": 0.005}],
                    "boundaries": [100, 700],
                }
            ),
            "-n",
            "1000",
        ],
    ),
    (
        "hold",
        "A decay held at a value from a given step.",
        [
            json.dumps(
                {"type": "hold", "schedule": {"type": "exponential", "peak_lr": 0.1, "gamma": 0.995}, "end": 500}
            ),
            "-n",
            "800",
        ],
    ),
    ("scale", "A schedule times a constant factor.", [json.dumps({"type": "scale", "schedule": _COS, "factor": 0.5})]),
    (
        "clip",
        "A schedule clamped to [min_lr, max_lr].",
        [json.dumps({"type": "clip", "schedule": _COS, "min_lr": 0.01, "max_lr": 0.08})],
    ),
    (
        "per_step",
        "An epoch schedule (multistep at epochs 3 and 6) drawn per iteration, x in epochs.",
        [
            json.dumps(
                {
                    "type": "per_step",
                    "schedule": {"type": "multistep", "peak_lr": 0.1, "milestones": [3, 6]},
                    "steps_per_epoch": 100,
                }
            ),
            "-n",
            "900",
            "--steps-per-epoch",
            "100",
            "--x-unit",
            "epochs",
        ],
    ),
    (
        "product",
        "The product of a warmup multiplier and a step decay (a ChainedScheduler).",
        [
            json.dumps(
                {
                    "type": "product",
                    "schedules": [
                        {"type": "torchvision_warmup", "warmup_iters": 50, "warmup_factor": 0.001},
                        {"type": "step", "peak_lr": 0.1, "step_size": 100, "gamma": 0.5},
                    ],
                }
            ),
            "-n",
            "400",
        ],
    ),
    (
        "yolox_cos",
        "YOLOX 'warm cos': quadratic warmup, half cosine, flat min_lr tail (the recipe by name).",
        ["yolox-cos", "--lr", "0.01", "--min-lr", "1e-4", "--total-iters", "300", "--subdivide", "4"],
    ),
    (
        "yolox_step",
        "YOLOX step: geometric plateaus from lr to min_lr.",
        ["yolox-step", "--lr", "0.01", "--min-lr", "1e-4", "--total-iters", "300", "--log"],
    ),
    (
        "torchvision_warmup",
        "torchvision's detection warmup multiplier, two param groups.",
        [
            "torchvision-warmup",
            "--warmup-iters",
            "1000",
            "--warmup-factor",
            "0.001",
            "--base-lrs",
            "0.02",
            "0.002",
            "-n",
            "1200",
        ],
    ),
    (
        "cawb",
        "CAWB per iteration, warmup included (the original cannot draw it), x in epochs.",
        [
            "cawb",
            "--epochs",
            "45",
            "--steps",
            "15",
            "30",
            "--step-scale",
            "0.7",
            "--batchs",
            "50",
            "--warmup-epoch",
            "5",
            "--x-unit",
            "epochs",
        ],
    ),
    (
        "ultralytics",
        "ultralytics YOLO's trainer: each param group's lr and the momentum per iteration, x in epochs.",
        [
            "ultralytics",
            "--lr0",
            "0.01",
            "--lrf",
            "0.01",
            "--epochs",
            "30",
            "--batches",
            "200",
            "--warmup-epochs",
            "3",
            "--cos-lr",
            "--x-unit",
            "epochs",
        ],
    ),
    (
        "ppdet",
        "A PaddleDetection LearningRate config (examples/configs), per iteration, x in epochs.",
        [
            "ppdet",
            "--config",
            "examples/configs/ppdet_optimizer_300e.yml",
            "--step-per-epoch",
            "100",
            "-n",
            "30000",
            "--x-unit",
            "epochs",
        ],
    ),
    (
        "ppcls",
        "A PaddleClas Optimizer.lr config (examples/configs), per iteration, x in epochs.",
        [
            "ppcls",
            "--config",
            "examples/configs/ppcls_cosine.yml",
            "--step-each-epoch",
            "100",
            "-n",
            "12000",
            "--x-unit",
            "epochs",
        ],
    ),
]

#: Pictures of a training run rather than of a schedule: each drawn by ``lrkit plot`` from a file
#: that :func:`write_runs` makes from a deterministic synthetic run (committed beside the PNGs).
RUN_ENTRIES: list[tuple[str, str, list[str]]] = [
    (
        "plateau_run",
        "A torch run of a warmup+cosine plan with a plateau policy (Keras' rule, val_loss): the lr as it "
        "went, the plan before the two reductions dashed, each reduction marked with its reason. The file "
        "is the scheduler's state: json.dump(sched.state_dict(), f).",
        ["docs/gallery/plateau_run.json", "--log"],
    ),
    (
        "range_test",
        "An LR range test (RangeTestResult.to_csv): the smoothed loss against the lr, the suggested lr marked.",
        ["docs/gallery/range_test.csv", "--raw"],
    ),
]
ENTRIES += RUN_ENTRIES
ROOT = os.path.dirname(HERE)  # entries name files relative to the repository


def _val_loss(k: int) -> float:
    """The synthetic validation loss after evaluation ``k``: it improves, stalls (the first
    reduction), improves again, stalls again (the second), then improves to the end."""
    if k <= 6:
        return 2.0 - 0.15 * k
    if k <= 10:
        return 1.1 + 0.01 * (k % 2)
    if k <= 14:
        return 1.1 - 0.05 * (k - 10)
    if k <= 18:
        return 0.9 + 0.01 * (k % 2)
    return 0.9 - 0.01 * (k - 18)


def _range_loss(i: int, lr: float) -> float:
    """A synthetic range test's loss: flat at tiny lrs, falling fastest near lr = 2e-3, lowest
    near 3e-2, rising steeply past 0.1, with a deterministic wobble standing in for the noise
    of real batches."""
    import math

    x = math.log10(lr)
    return 2.3 - 1.5 / (1.0 + math.exp(-3.0 * (x + 2.7))) + 6.0 * max(0.0, x + 1.3) ** 2 + 0.03 * math.sin(1.7 * i)


def write_runs(folder: str) -> list[str]:
    """The files :data:`RUN_ENTRIES` draw, made from deterministic synthetic runs: a torch
    ``ScheduleLR`` with a plateau policy (its ``state_dict()`` as JSON) and an LR range test
    (its CSV). Returns the paths."""
    import torch

    import lrkit
    import lrkit.torch as lt
    from lrkit.plateau import Plateau
    from lrkit.rangetest import RangeTest

    os.makedirs(folder, exist_ok=True)
    plan = lrkit.WarmupCosine(peak_lr=1.0, total_steps=12_000, warmup_steps=1_000, min_lr=0.001)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = lt.ScheduleLR(opt, plan, plateau=Plateau.keras(monitor="val_loss", factor=0.1, patience=3))
    for t in range(1, 12_001):
        opt.step()
        sched.step()
        if t % 500 == 0:
            sched.observe(_val_loss(t // 500))
    run_path = os.path.join(folder, "plateau_run.json")
    with open(run_path, "w", encoding="utf-8") as fh:
        json.dump(sched.state_dict(), fh, indent=1)
        fh.write("\n")
    csv_path = os.path.join(folder, "range_test.csv")
    RangeTest(1e-5, 1.0, num_iter=120).run(_range_loss).to_csv(csv_path)
    return [run_path, csv_path]


def _derived() -> list[tuple[str, str, list[str]]]:
    """An entry for every registered kind the list above leaves out, from its declaration:
    its summary and its example, drawn by name with flags (so a new kind needs nothing here)."""
    import lrkit
    from lrkit.catalog import example_flags, summary

    listed = {name for name, _, _ in ENTRIES}
    return [
        (kind, summary(cls), [kind.replace("_", "-"), *example_flags(kind)])
        for kind, cls in lrkit.registered().items()
        if kind not in listed
    ]


def _command(args: Sequence[str]) -> str:
    return "lrkit plot " + " ".join(shlex.quote(a) for a in args)


def build(out_dir: str, markdown: str | None, *, dpi: int = 150, stream=None, entries=None) -> list[str]:
    """Render every entry to ``out_dir/NAME.png``; write the page to ``markdown`` (if given). Returns the paths."""
    import contextlib

    from lrkit import cli
    from lrkit.explain import explain
    from lrkit.lrlog import Progress

    entries = ENTRIES + _derived() if entries is None else entries
    out_dir = os.path.abspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    err = sys.stderr if stream is None else stream
    paths, sections = [], []
    with (
        contextlib.chdir(ROOT),
        Progress(len(entries), "gallery", stream=err, delay=0.0, every=0.0, unit="images") as bar,
    ):
        for name, what, args in entries:
            path = os.path.join(out_dir, f"{name}.png")
            out = _Sink()
            code = cli.main(["plot", *args, "-o", path, "--dpi", str(dpi)], out=out, err=err)
            if code != 0:
                raise RuntimeError(f"gallery entry {name!r} failed: {_command(args)}")
            paths.append(path)
            summary = _summary(args, explain)
            sections.append((name, what, args, path, summary))
            bar.update(1, postfix=name)
    if markdown is not None:
        _write_page(markdown, sections)
    return paths


class _Sink:
    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def _summary(args: Sequence[str], explain) -> str:
    """The first paragraph of what ``lrkit explain`` says about the entry (a run: its reductions;
    a range test: its suggestion)."""
    from lrkit import cli
    from lrkit.cli.runsource import RunSource
    from lrkit.cli.sources import RangeTestSource
    from lrkit.rangetest import defaults

    ns = cli._parse(["plot", *args])
    if isinstance(ns.source, RangeTestSource):  # a loss curve: the suggestion, as lrkit show says it
        r = ns.source.result()
        lr = r.suggestion(defaults(r.flavor)["rule"])
        return f"The suggested lr ({defaults(r.flavor)['rule']}) is {lr:.3g}, on the falling slope before the minimum."
    if isinstance(ns.source, RunSource):  # the reductions, as lrkit explain says them
        return ns.source.run().explain().split("\n\n")[-1]
    if ns.source.series is not None:  # several curves (ultralytics): the recipe's own words
        return ns.source.series(ns).explain().split("\n\n")[0]
    return explain(ns.source.build(ns), title=False).split("\n\n")[0]


def _write_page(markdown: str, sections: list) -> None:
    folder = os.path.dirname(os.path.abspath(markdown))
    lines = [
        "# Gallery",
        "",
        "Every built-in schedule kind and every recipe, drawn by `lrkit plot` with the command shown "
        "(phase boundaries dashed, key points labelled), with what `lrkit explain` says about it; "
        "then a plateau run and an LR range test, drawn by `lrkit plot` from their files. "
        "Regenerate with `python docs/make_gallery.py`.",
        "",
        " · ".join(f"[{n}](#{n})" for n, *_ in sections),
        "",
    ]
    for name, what, args, path, summary in sections:
        rel = os.path.relpath(path, folder).replace(os.sep, "/")
        lines += [f"## {name}", "", what, "", f"![{name}]({rel})", "", "```sh", _command(args), "```", "", summary, ""]
    with open(markdown, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Render the lrkit gallery.")
    p.add_argument("--out", default=os.path.join(HERE, "gallery"), help="folder for the PNGs (default: docs/gallery)")
    p.add_argument(
        "--markdown",
        default=os.path.join(HERE, "gallery.md"),
        help="the page to write (default: docs/gallery.md; '' for none)",
    )
    p.add_argument("--dpi", type=int, default=150, help="resolution (default: 150: 1200 x 675 pixels)")
    p.add_argument(
        "--runs",
        action="store_true",
        help="first write the runs' files (docs/gallery/plateau_run.json, range_test.csv) anew: needs torch",
    )
    a = p.parse_args(argv)
    if a.runs:
        write_runs(os.path.join(HERE, "gallery"))
    paths = build(a.out, a.markdown or None, dpi=a.dpi)
    print(f"wrote {len(paths)} images to {a.out}" + (f" and {a.markdown}" if a.markdown else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
