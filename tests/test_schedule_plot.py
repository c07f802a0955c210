"""Schedule.plot draws the schedule's values on a matplotlib Axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import lrkit  # noqa: E402


def test_schedule_plot_returns_axes_with_the_values() -> None:
    s = lrkit.WarmupCosine(peak_lr=0.1, total_steps=200, warmup_steps=20)
    fig, ax = plt.subplots()
    try:
        out = s.plot(220, ax=ax)
        assert out is ax
        line = ax.get_lines()[0]
        x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
        assert x.size > 0
        np.testing.assert_array_equal(y, s(x))
    finally:
        plt.close(fig)
