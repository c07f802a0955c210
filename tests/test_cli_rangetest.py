"""``lrkit plot`` and ``lrkit show`` on a range test's CSV (RangeTestResult.to_csv)."""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import lrkit.plot
from lrkit import cli
from lrkit.rangetest import RULES, RangeTest, RangeTestResult


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def synthetic_loss(i: int, lr: float) -> float:
    """A valley at lr = 0.01 (log-symmetric), rising steeply past it."""
    return 1.0 + (math.log10(lr) + 2.0) ** 2 / 4 + (lr > 0.3) * 5 * lr


@pytest.fixture
def result() -> RangeTestResult:
    return RangeTest(1e-4, 1.0, num_iter=60).run(synthetic_loss)


@pytest.fixture
def csv_path(tmp_path, result):
    p = tmp_path / "results.csv"
    result.to_csv(p)
    return p


@pytest.fixture
def figures(monkeypatch):
    """The figures the CLI saves, caught on their way to the file."""
    caught = []
    save = lrkit.plot._save

    def spy(fig, path, dpi):
        caught.append(fig)
        save(fig, path, dpi)

    monkeypatch.setattr(lrkit.plot, "_save", spy)
    return caught


def test_plot_writes_a_png_of_the_loss_curve(csv_path, result, figures, tmp_path):
    png = tmp_path / "lr_find.png"
    code, out, err = run("plot", str(csv_path), "-o", str(png))
    assert (code, err) == (0, "")
    assert f"wrote {png}" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (fig,) = figures
    (ax,) = fig.axes
    assert ax.get_xscale() == "log"
    (line,) = ax.get_lines()
    back = RangeTestResult.from_csv(csv_path)
    np.testing.assert_array_equal(line.get_xdata(), back.lrs)
    np.testing.assert_array_equal(line.get_ydata(), back.losses)
    np.testing.assert_array_equal(line.get_xdata(), result.lrs)
    # the default rule is the flavor's (torch-lr-finder: steepest descent of the smoothed loss)
    (marker,) = ax.collections
    lr, j = result.suggestion_point("steepest")
    np.testing.assert_array_equal(marker.get_offsets(), [[lr, result.losses[j]]])


@pytest.mark.parametrize("rule", RULES)
def test_plot_marks_the_chosen_rules_suggestion(rule, csv_path, result, figures, tmp_path):
    svg = tmp_path / "lr_find.svg"
    code, _, err = run("plot", str(csv_path), "-o", str(svg), "--rule", rule, "--raw", "--log")
    assert (code, err) == (0, "")
    assert ET.parse(svg).getroot().tag.endswith("svg")
    (ax,) = figures[0].axes
    assert ax.get_yscale() == "log"
    smoothed, raw = ax.get_lines()
    np.testing.assert_array_equal(raw.get_ydata(), result.raw_losses)
    np.testing.assert_array_equal(smoothed.get_ydata(), result.losses)
    ((x, _),) = ax.collections[0].get_offsets()
    assert x == result.suggestion(rule)
    # independent of the library's rules, the minimum rule is a tenth of the lowest loss's lr
    if rule == "minimum":
        skip = result.num_iter // 10
        k = skip + int(np.argmin(result.losses[skip : len(result) - 5]))
        assert x == pytest.approx(result.lrs[k] / 10)


def test_plot_keeps_the_picture_checks(csv_path, tmp_path):
    code, _, err = run("plot", str(csv_path), "-o", str(tmp_path / "x.txt"))
    assert code == 2 and "use one of" in err and not (tmp_path / "x.txt").exists()
    code, _, err = run("plot", str(csv_path), "-o", str(tmp_path / "x.png"), "--size", "50", "50", "--dpi", "600")
    assert code == 2 and "--size" in err and not (tmp_path / "x.png").exists()
    code, _, err = run("plot", str(csv_path), "-o", str(tmp_path / "x.png"), "--rule", "nope")
    assert code == 2 and "--rule" in err


def test_show_prints_the_suggestion_and_a_text_plot(csv_path, result):
    code, out, err = run("show", str(csv_path), "--width", "60", "--ascii")
    assert (code, err) == (0, "")
    assert f"suggested lr (steepest): {result.suggestion('steepest')!r}" in out
    assert "log10(lr)" in out
    code, out, _ = run("show", str(csv_path), "--rule", "valley", "--no-plot")
    assert code == 0 and f"suggested lr (valley): {result.suggestion('valley')!r}" in out
    assert "log10(lr)" not in out


def test_other_csvs_and_commands_keep_their_errors(csv_path, tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("update,lr,raw_loss,loss\n0,0.1,1.0,1.0\n", encoding="utf-8")  # no settings lines
    code_before, _, err_other = run("plot", str(other), "-o", str(tmp_path / "o.png"))
    assert code_before == 2 and "range test" not in err_other and not (tmp_path / "o.png").exists()
    code, _, err = run("export", str(csv_path))
    assert code == 2 and "range test" in err and "lrkit plot" in err
