"""The README's "change the plan mid-run" picture: a plan and two re-plans of it at step 6,000.

python docs/make_replan_figure.py [OUT.png]      # default: docs/replan.png
"""

from __future__ import annotations

import os
import sys

import lrkit
from lrkit.plot import save_overlay
from lrkit.replan import replan

HERE = os.path.dirname(os.path.abspath(__file__))

PLAN = lrkit.WarmupCosine(peak_lr=3e-4, total_steps=10_000, warmup_steps=500, min_lr=3e-5)
LONGER = replan(PLAN, 6_000, total_steps=15_000)
COOLDOWN = replan(PLAN, 6_000, cooldown=1_000, min_lr=3e-6)


def main(out: str) -> str:
    return save_overlay(
        {
            "plan: warmup + cosine to 10,000": PLAN,
            "re-planned at 6,000: the rest re-timed to end at 15,000": LONGER,
            "re-planned at 6,000: a 1,000-step cooldown now": COOLDOWN,
        },
        out,
        16_000,
        title="Re-planning a run at step 6,000 (the lr is continuous there)",
        mark_largest=False,
        dpi=120,
    )


if __name__ == "__main__":
    print("wrote", main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "replan.png")))
