"""JAX/optax and Keras bindings: lrkit's schedules against the peers' own, in one run.

    python benchmarks/bench_jax.py [--quick]

The curve is a linear warmup over 1,000 steps to 1e-3, then a cosine to 0 at 100,000
(``lrkit.WarmupCosine`` vs ``optax.warmup_cosine_decay_schedule`` / Keras' ``CosineDecay``
with ``warmup_steps``). Every figure is the median over rounds, lrkit's and the peer's
measured alternately in the same process; the ratio is lrkit / peer.

* optax update: a jitted ``adamw`` update of a 256x256 parameter (one step, blocked
  until ready), lrkit's ``to_optax`` (auto: a table; and ``method="formula"``) vs optax's
  schedule; and the time of the first call (compile + run).
* vmap: 1,000,000 counts through ``jax.vmap`` of the jitted schedule.
* Keras: one ``model.fit`` epoch (200 batches of 32, a 64-64-10 MLP, jax backend) with
  ``ScheduleLR`` vs ``CosineDecay(warmup_target=..., warmup_steps=...)``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import lrkit  # noqa: E402
from lrkit.jax import to_optax  # noqa: E402

PEAK, TOTAL, WARM = 1e-3, 100_000, 1_000
SCHEDULE = lrkit.WarmupCosine(peak_lr=PEAK, total_steps=TOTAL, warmup_steps=WARM)


def peer_schedule():
    return optax.warmup_cosine_decay_schedule(0.0, PEAK, WARM, TOTAL)


def median_pair(a, b, rounds: int) -> tuple[float, float]:
    ta, tb = [], []
    for _ in range(rounds):
        ta.append(a())
        tb.append(b())
    return statistics.median(ta), statistics.median(tb)


def bench_update(lr, steps: int):
    tx = optax.adamw(learning_rate=lr)
    params = jnp.zeros((256, 256))
    grads = jnp.ones((256, 256))

    @jax.jit
    def update(p, st):
        upd, st = tx.update(grads, st, p)
        return optax.apply_updates(p, upd), st

    state = tx.init(params)
    t0 = time.perf_counter()
    params, state = update(params, state)
    jax.block_until_ready(params)
    first = time.perf_counter() - t0

    def run() -> float:
        nonlocal params, state
        t0 = time.perf_counter()
        for _ in range(steps):
            params, state = update(params, state)
        jax.block_until_ready(params)
        return (time.perf_counter() - t0) / steps * 1e6

    return first, run


def bench_vmap(fn, n: int):
    f = jax.jit(jax.vmap(fn))
    counts = jnp.arange(n, dtype=jnp.int32)
    jax.block_until_ready(f(counts))

    def run() -> float:
        t0 = time.perf_counter()
        jax.block_until_ready(f(counts))
        return (time.perf_counter() - t0) * 1e3

    return run


def bench_keras(lr_factory, batches: int):
    import keras

    x = np.random.default_rng(0).normal(size=(batches * 32, 64)).astype("float32")
    y = np.random.default_rng(1).integers(0, 10, size=batches * 32)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10)])
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=lr_factory()),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)  # compile

    def run() -> float:
        t0 = time.perf_counter()
        model.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
        return (time.perf_counter() - t0) * 1e3

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    args = ap.parse_args()
    rounds = 5 if args.quick else 21
    print(
        f"jax {jax.__version__}, optax {optax.__version__}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores; medians of {rounds} rounds, lrkit and peer alternating"
    )

    # check the curves first: the figures compare the same work
    ours, peer = jax.jit(to_optax(SCHEDULE)), jax.jit(peer_schedule())
    c = jnp.arange(0, TOTAL + 1, 997)
    assert np.allclose(np.asarray(jax.vmap(ours)(c)), np.asarray(jax.vmap(peer)(c)), rtol=1e-5, atol=1e-10)

    print("\noptax adamw update (256x256), µs per step       lrkit      optax    ratio")
    rows = []
    for name, lr in (
        ("to_optax (table)", to_optax(SCHEDULE)),
        ("to_optax (formula)", to_optax(SCHEDULE, method="formula")),
    ):
        firsts_a, firsts_b = [], []
        runs = []
        for _ in range(3 if args.quick else 5):
            fa, ra = bench_update(lr, 200)
            fb, rb = bench_update(peer_schedule(), 200)
            firsts_a.append(fa)
            firsts_b.append(fb)
            runs.append((ra, rb))
        ra, rb = runs[-1]
        a, b = median_pair(ra, rb, rounds)
        print(f"  {name:<44} {a:8.1f}   {b:8.1f}   {a / b:5.2f}x")
        fa, fb = statistics.median(firsts_a), statistics.median(firsts_b)
        print(f"  {'  first call (compile + run), ms':<44} {fa * 1e3:8.1f}   {fb * 1e3:8.1f}   {fa / fb:5.2f}x")
        rows.append((name, a / b, fa / fb))

    n = 1_000_000
    print(f"\njax.vmap over {n:,} counts, ms                    lrkit      optax    ratio")
    for name, lr in (
        ("to_optax (table)", to_optax(SCHEDULE)),
        ("to_optax (formula)", to_optax(SCHEDULE, method="formula")),
    ):
        a, b = median_pair(bench_vmap(lr, n), bench_vmap(peer_schedule(), n), rounds)
        print(f"  {name:<44} {a:8.2f}   {b:8.2f}   {a / b:5.2f}x")

    import keras

    from lrkit.keras import ScheduleLR

    print(
        f"\nKeras model.fit, one epoch of 200 batches ({keras.backend.backend()} backend), ms"
        f"\n{'':<47}lrkit      Keras    ratio"
    )
    peer_lr = lambda: keras.optimizers.schedules.CosineDecay(
        0.0,
        TOTAL - WARM,
        warmup_target=PEAK,  # noqa: E731
        warmup_steps=WARM,
    )
    a, b = median_pair(bench_keras(lambda: ScheduleLR(SCHEDULE), 200), bench_keras(peer_lr, 200), max(5, rounds // 2))
    print(f"  {'ScheduleLR vs CosineDecay with warmup':<44} {a:8.1f}   {b:8.1f}   {a / b:5.2f}x")


if __name__ == "__main__":
    main()
