"""The recipes' reference values, computed by the original code (a copy of
``shared/reference/seed_recipes.json``, kept beside the tests so a clean clone has it),
and CAWB's documented stateful algorithm run step by step, for cases the file lacks."""

from __future__ import annotations

import json
import math
from pathlib import Path

PATH = Path(__file__).parent / "data" / "seed_recipes.json"
REF = json.loads(PATH.read_text())
CASES = REF["cases"]


def cases(recipe: str) -> list[dict]:
    """The reference cases of one recipe."""
    return [c for c in CASES if c["recipe"] == recipe]


class SteppedCAWB:
    """The documented stateful algorithm (gap carried between calls), for comparison."""

    def __init__(
        self,
        base_lrs,
        epochs,
        eta_min=0.05,
        steps=(),
        step_scale=0.8,
        lf=None,
        batchs=0,
        warmup_epoch=0,
        epoch_scale=1.0,
    ):
        self.lrs = list(base_lrs)
        self.base = list(base_lrs)
        self.eta_min, self.step_scale, self.lf, self.epoch_scale = eta_min, step_scale, lf, epoch_scale
        self.warmup_iters = batchs * warmup_epoch
        self.iters = self.iters_batch = -1
        self.gap = 0
        self.last_epoch = 0
        self.B = [warmup_epoch] + sorted(s for s in steps if warmup_epoch < s < epochs) + [epochs]

    def step(self, external_iter=None):
        self.iters += 1
        if external_iter is not None:
            self.iters = external_iter
        t = self.iters + self.last_epoch
        scale = 1.0
        for i in range(len(self.B) - 1):
            if t <= self.B[i + 1]:
                self.gap = self.B[i + 1] - self.B[i]
                t = t - self.B[i]
                if i != len(self.B) - 2:
                    self.gap += self.epoch_scale
                break
            scale *= self.step_scale
        if self.lf is None:
            f = ((1 + math.cos(math.pi * t / self.gap)) / 2) * (1 - self.eta_min) + self.eta_min
        else:
            f = self.lf(t, self.gap)
        self.lrs = [scale * b * f for b in self.base]
        return self.lrs[0]

    def step_batch(self):
        self.iters_batch += 1
        if self.iters_batch < self.warmup_iters:
            # rate first, then base * rate: the reference values confirm this order
            # ((base * k) / W differs from them by an ulp in 73 of 250 values).
            rate = self.iters_batch / self.warmup_iters
            self.lrs = [b * rate for b in self.base]
            return self.lrs[0]
        return None
