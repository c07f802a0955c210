"""LR range test overhead: N bare training updates vs the same N under lrkit's range test and
under torch-lr-finder's.

    python benchmarks/bench_rangetest.py [--updates N] [--repeats R] [--quick]

The same model (an MLP on sklearn's digits, batch 64, Adam, CPU, 1 thread), the same
DataLoader, the same N updates in all three:

* bare: ``zero_grad``, forward, loss, ``backward``, ``step``, ``loss.item()`` (what a
  training loop that logs its loss does), cycling over the loader;
* lrkit: ``lrkit.rangetest.torch.range_test`` (sweep lr set on the groups, recorder,
  the snapshot before and the restore after, all counted);
* torch-lr-finder: ``LRFinder(...)`` + ``range_test`` (its state cache and tqdm counted;
  its ``print`` sent to a buffer), when installed.

``diverge_th`` is set so no run stops early, and ``end_lr`` is small enough for a
stable loss: every run does N updates. Runs are interleaved (bare, lrkit, peer, bare,
...) so load drifts hit all three alike; the figures are the medians over the repeats,
and the ratio is median(test) / median(bare) - 1 (target: lrkit <= 2%). ``--cpu`` times
process CPU time instead of wall time, steadier when other jobs share the cores.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import platform
import statistics
import sys
import time
import warnings

import torch

from lrkit.rangetest.torch import range_test


def setup(hidden: int):
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    ds = torch.utils.data.TensorDataset(torch.tensor(x / 16.0, dtype=torch.float32), torch.tensor(y))
    loader = torch.utils.data.DataLoader(ds, batch_size=64, shuffle=False)
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, hidden),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden, 10),
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-5)
    return model, opt, loader


LOSS = torch.nn.CrossEntropyLoss()
_clock = time.perf_counter  # --cpu: time.process_time


def bare(model, opt, loader, n: int) -> float:
    t0 = _clock()
    it = iter(loader)
    model.train()
    for _ in range(n):
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(loader)
            x, y = next(it)
        opt.zero_grad()
        loss = LOSS(model(x), y)
        loss.backward()
        opt.step()
        loss.item()
    return _clock() - t0


def lrkit_run(model, opt, loader, n: int) -> float:
    t0 = _clock()
    res = range_test(model, opt, LOSS, loader, start_lr=1e-5, end_lr=1e-2, num_iter=n, diverge_th=math.inf)
    dt = _clock() - t0
    assert len(res) == n, res.stop_reason
    return dt


def peer_run(model, opt, loader, n: int) -> float:
    from torch_lr_finder import LRFinder

    t0 = _clock()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        finder = LRFinder(model, opt, LOSS)
        finder.range_test(loader, start_lr=1e-5, end_lr=1e-2, num_iter=n, diverge_th=1e300)
        finder.reset()
    dt = _clock() - t0
    assert len(finder.history["lr"]) == n
    return dt


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--updates", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--hidden", type=int, default=256, help="MLP width (the cost of one update)")
    ap.add_argument("--quick", action="store_true", help="100 updates, 3 repeats")
    ap.add_argument(
        "--cpu", action="store_true", help="process CPU time instead of wall time (steadier on a loaded machine)"
    )
    a = ap.parse_args(argv)
    global _clock
    _clock = time.process_time if a.cpu else time.perf_counter
    n, reps = (100, 3) if a.quick else (a.updates, a.repeats)
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    try:
        import torch_lr_finder  # noqa: F401

        have_peer = True
    except ImportError:
        have_peer = False
    model, opt, loader = setup(a.hidden)
    runs = [("bare", bare), ("lrkit", lrkit_run)] + ([("torch-lr-finder", peer_run)] if have_peer else [])
    for _, f in runs:  # warm-up (allocator, first-call costs)
        f(model, opt, loader, 10)
    times: dict[str, list[float]] = {name: [] for name, _ in runs}
    for _ in range(reps):
        for name, f in runs:
            times[name].append(f(model, opt, loader, n))
    print(
        f"python {sys.version.split()[0]}, torch {torch.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} cpus, 1 torch thread; MLP 64-{a.hidden}-{a.hidden}-10, batch 64, Adam"
    )
    print(f"{n} updates, median of {reps} runs (interleaved), {'CPU' if a.cpu else 'wall'} time")
    base = statistics.median(times["bare"])
    print(f"{'run':<18}{'median s':>10}{'us/update':>11}{'min s':>9}{'overhead':>10}")
    for name, ts in times.items():
        med = statistics.median(ts)
        over = "" if name == "bare" else f"{100 * (med / base - 1):+.2f}%"
        print(f"{name:<18}{med:>10.4f}{1e6 * med / n:>11.1f}{min(ts):>9.4f}{over:>10}")


if __name__ == "__main__":
    main()
