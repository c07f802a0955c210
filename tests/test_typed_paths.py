"""Behaviour along the paths whose types were made precise: an Axes inside a subfigure, a
comparison row that lacks its values, an overlay keeping the room of earlier phase names,
and the command decorator's ``.runner``."""

from __future__ import annotations

import argparse
import io

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

import lrkit  # noqa: E402
from lrkit.cli import common  # noqa: E402
from lrkit.plot import plot_schedule  # noqa: E402
from lrkit.tables import Difference, compare, comparison_table  # noqa: E402


def test_plot_on_an_axes_in_a_subfigure_wraps_the_title_to_the_whole_figure():
    fig = plt.figure(figsize=(4.0, 3.0))
    try:
        sub = fig.subfigures(1, 2)[0]
        ax = sub.add_subplot()
        s = lrkit.WarmupCosine(peak_lr=0.1, total_steps=100, warmup_steps=10)
        plot_schedule(s, 100, ax, title="x " * 60)
        lines = ax.get_title().split("\n")
        # wrapped to the 4-inch figure: 4 * 72 * 0.92 / 6.2 = 42 characters, at least 30
        assert len(lines) > 1 and max(len(line) for line in lines) <= max(30, int(4.0 * 72 * 0.92 / 6.2))
    finally:
        plt.close(fig)


def test_overlay_keeps_the_room_made_for_earlier_phase_names():
    fig, ax = plt.subplots()
    try:
        s = lrkit.WarmupCosine(peak_lr=0.1, total_steps=100, warmup_steps=10)
        plot_schedule(s, 100, ax)
        top = ax.get_ylim()[1]
        plot_schedule(lrkit.Constant(0.05), 100, ax, phases=False)  # draws no names of its own
        assert ax.get_ylim()[1] == pytest.approx(top)
    finally:
        plt.close(fig)


def test_comparison_table_refuses_a_row_without_its_values():
    with pytest.raises(ValueError, match="difference 2 starts at 3.0"):
        comparison_table([Difference(3.0, 0.5, None, None, None)])


def test_comparison_table_rows_match_compare():
    a, b = lrkit.Constant(0.1), lrkit.Linear(0.1, 10)
    rows = comparison_table(compare([a, b, a], [0.0, 5.0, 9.0]))
    assert "identical" in rows[2]
    # largest difference of Linear(0.1, 10) from 0.1 over 0, 5, 9: at 9, 0.1 * 9 / 10
    assert rows[1].split()[:4] == ["2", "5", "0.09", "9"]


def test_command_runner_registers_the_command():
    seen = []

    @common.command("typed-paths-probe", "a probe")
    def add_arguments(p: argparse.ArgumentParser) -> None:
        p.add_argument("--x", type=int, default=1)

    @add_arguments.runner
    def run(args: argparse.Namespace, out: io.TextIOBase) -> int:
        seen.append(args.x)
        return 0

    try:
        cmd = common.COMMANDS["typed-paths-probe"]
        assert cmd.run is run and cmd.add_arguments is add_arguments.add
        p = argparse.ArgumentParser()
        add_arguments(p)  # still called with the parser
        assert cmd.run(p.parse_args(["--x", "7"]), io.StringIO()) == 0 and seen == [7]
    finally:
        del common.COMMANDS["typed-paths-probe"]
