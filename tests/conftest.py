"""Shared test settings and one concrete instance of every registered schedule kind."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

# Keras picks its backend when first imported: the in-process tests use torch (the jax and
# tensorflow backends run in their own processes, see test_keras.py)
os.environ.setdefault("KERAS_BACKEND", "torch")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

import lrkit as lk  # noqa: E402

# Property tests: enough examples to find the usual edge cases, few enough that the
# whole suite runs in seconds. LRKIT_HYPOTHESIS=thorough raises the budget locally.
settings.register_profile("default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# CI replays the same examples every run (derandomize): a red build then means a change
# broke something, not that a new random example turned up. Local runs keep exploring.
settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("LRKIT_HYPOTHESIS", "ci" if os.environ.get("CI") else "default"))


def examples() -> list[tuple[str, lk.Schedule]]:
    """(id, schedule) pairs: each registered kind's declared example (from the registry), then
    variants covering every option that changes the formula."""
    from lrkit.catalog import example

    cos = lk.Cosine(peak_lr=0.1, total_steps=90, min_lr=0.001)
    out = [(f"{kind}-example", example(kind)) for kind in lk.registered()]
    out += [
        ("constant", lk.Constant(0.05)),
        ("cosine", cos),
        ("cosine-k", lk.Cosine(1.0, 100, 0.01, k=2.0)),
        ("cosine-exponent-cycles", lk.Cosine(1.0, 100, 0.01, k=1.5, exponent=2.0, cycles=1.25)),
        ("linear", lk.Linear(0.3, 50, 0.01)),
        ("polynomial", lk.Polynomial(0.3, 50, 0.0, power=2.5)),
        ("step", lk.Step(0.1, 30, 0.5)),
        ("multistep", lk.MultiStep(0.1, [30, 60, 80], 0.1)),
        ("multistep-empty", lk.MultiStep(0.1, [], 0.1)),
        ("exponential", lk.Exponential(0.1, 0.95)),
        ("exponential-stair", lk.Exponential(0.1, 0.5, step_size=7.5, staircase=True)),
        ("inverse_sqrt", lk.InverseSqrt(1.0, 400)),
        ("inverse_time-staircase", lk.InverseTime(0.1, 7.5, 2.0, staircase=True)),
        ("tanh", lk.Tanh(0.1, 100, 0.001)),
        ("one_cycle", lk.OneCycle(0.1, 100)),
        ("one_cycle-3-linear", lk.OneCycle(0.1, 100, pct_start=0.25, shape="linear", three_phase=True)),
        ("one_cycle-explicit", lk.OneCycle(0.1, 100, start_lr=0.01, min_lr=0.0)),
        ("wsd-linear", lk.WarmupStableDecay(0.1, 100, 20, 0.001)),
        ("wsd-cosine", lk.WarmupStableDecay(0.1, 100, 100, 0.0, "cosine")),
        ("wsd-1-sqrt", lk.WarmupStableDecay(0.1, 100, 30, 0.0, "1-sqrt")),
        ("cosine_restarts", lk.CosineRestarts(0.1, 10, 2.0, 0.001, 0.5, max_cycles=3)),
        ("cosine_restarts-open", lk.CosineRestarts(0.1, 10)),
        ("cosine_restarts-k-amplitude", lk.CosineRestarts(0.1, 10, 1.5, 0.01, k=2.0, amplitude_decay=0.6)),
        ("cyclic", lk.Cyclic(0.1, 10, min_lr=0.001)),
        ("cyclic-tri2", lk.Cyclic(0.1, 10, 5, mode="triangular2", min_lr=0.001)),
        ("cyclic-exp", lk.Cyclic(0.1, 10, mode="exp_range", gamma=0.99, min_lr=0.001)),
        ("warmup_cosine", lk.WarmupCosine(0.1, 100, 10, min_lr=0.001)),
        ("warmup_cosine-exp", lk.WarmupCosine(0.1, 100, 10, start_factor=0.1, shape="exponential")),
        ("warmup-linear", lk.Warmup(cos, 10)),
        ("warmup-power", lk.Warmup(cos, 10, "power", 0.1, power=3.0)),
        ("warmup-exponential", lk.Warmup(cos, 10, "exponential", tau=4.0)),
        ("warmup-constant", lk.Warmup(cos, 10, "constant", 0.1)),
        ("warmup-zero", lk.Warmup(cos, 0)),
        ("sequence", lk.Sequence([lk.Constant(0.1), cos, lk.Constant(0.0005)], [10, 100])),
        ("hold", lk.Hold(lk.Exponential(0.1, 0.9), 20)),
        ("hold-value", lk.Hold(cos, 45, 0.002)),
        ("scale", lk.Scale(cos, 0.5)),
        ("clip", lk.Clip(cos, 0.01, 0.08)),
        ("clip-open", lk.Clip(cos, 0.01)),
        ("per_step", lk.PerStep(lk.MultiStep(0.1, [3, 6]), 100)),
        ("product", lk.Product([cos, lk.Linear(1.0, 50, 0.5)])),
        ("polynomial_cycle", lk.PolynomialCycle(0.1, 30, 0.001, 2.0)),
        ("yolox_cos", lk.YoloxCos(0.01, 0.0001, 300)),
        ("yolox_cos-tiny", lk.YoloxCos(0.001, 1e-5, 3)),
        ("yolox_step", lk.YoloxStep(0.01, 0.0001, 300, 10)),
        ("torchvision_warmup", lk.TorchvisionWarmup(100, 0.001)),
        (
            "cawb",
            lk.CAWB(
                45, steps=[15, 30], step_scale=0.7, lf="cos", lf_amplitude=0.8, lf_floor=0.2, batchs=5, warmup_epoch=5
            ),
        ),
    ]
    # kinds registered by the recipe and product modules, when they are loaded
    extra = {
        "product": lambda: lk.registered()["product"]([lk.Constant(0.5), lk.Step(0.1, 10, 0.5)]),
        "cawb": lambda: lk.registered()["cawb"](20, steps=[5, 10], warmup_epoch=2, batchs=10),
        "torchvision_warmup": lambda: lk.registered()["torchvision_warmup"](5, 0.1),
        "yolox_cos": lambda: lk.registered()["yolox_cos"](0.01, 0.0005, 1000),
        "yolox_step": lambda: lk.registered()["yolox_step"](0.01, 0.0005, 1000),
    }
    out += [(k, make()) for k, make in extra.items() if k in lk.registered()]
    kinds = {type(s).kind for _, s in out}
    missing = set(lk.registered()) - kinds
    assert not missing, f"examples() lacks registered kinds {sorted(missing)}"
    return out


EXAMPLES = examples()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "example" in metafunc.fixturenames:
        metafunc.parametrize("example", [s for _, s in EXAMPLES], ids=[i for i, _ in EXAMPLES])


def run_keras_jax(script: pathlib.Path, out: pathlib.Path, floatx: str) -> dict:
    """Run ``script out`` in a fresh process with Keras on the jax backend in ``floatx`` (and JAX's
    x64 for float64), and read the JSON it wrote: a device test's Keras half, isolated from the
    backend this process imported."""
    env = dict(
        os.environ,
        KERAS_BACKEND="jax",
        KERAS_FLOATX=floatx,
        JAX_ENABLE_X64="1" if floatx == "float64" else "0",
    )
    r = subprocess.run(
        [sys.executable, str(script), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
        cwd=str(script.parent),
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(out.read_text())
