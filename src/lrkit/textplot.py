"""A compact plot of a curve in plain text, for terminals (works over SSH, no curses).

The curve is drawn with braille dots (2 x 4 dots per character cell, so a 60 x 15
plot has 120 x 60 dots), or with ``*`` in ASCII mode. Within one dot column the
whole range of values is drawn, joined to the previous column, so jumps (step
decays, restarts) show as vertical strokes instead of vanishing between samples.

>>> import numpy as np
>>> print(text_plot(np.arange(6.0), np.array([0.0, 1, 2, 3, 3, 1]), width=12, height=3, marks=[3], ascii=True))
3 |       *****
  |  ******   *
0 |***
  +-------+----
   0      3   5
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

import numpy as np

from ._format import number

__all__ = ["text_plot", "can_encode_unicode"]

# Braille cell: dot (column dx, row dy counted from the top) -> bit of U+2800 + bits.
_BRAILLE_BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))


def can_encode_unicode(stream: object = None) -> bool:
    """Whether ``stream`` (default: stdout) can print the braille and box characters."""
    enc = getattr(stream if stream is not None else sys.stdout, "encoding", None)
    if enc is None:  # an in-memory text stream (io.StringIO) holds any character
        return True
    try:
        "\u28ff\u2502\u2514\u2500\u252c\u2524".encode(enc)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def _fmt(v: float) -> str:
    return number(v, digits=3, whole_below=1e7)


def text_plot(
    positions: np.ndarray,
    values: np.ndarray,
    *,
    width: int = 60,
    height: int = 15,
    marks: Iterable[float] = (),
    log: bool = False,
    ascii: bool = False,
) -> str:
    """Plot ``values`` against sorted ``positions`` as text, ``width`` x ``height`` cells.

    ``marks`` are x positions (phase boundaries) ticked and labelled on the x axis.
    ``log`` uses a log10 y axis (non-positive values are left out). Returns the
    plot as lines joined by newlines, with y labels on the left.
    """
    if int(width) < 4 or int(height) < 2:
        raise ValueError(f"text plot size must be at least 4 x 2 characters, got {width!r} x {height!r}")
    width, height = int(width), int(height)
    x = np.asarray(positions, dtype=np.float64).ravel()
    y = np.asarray(values, dtype=np.float64).ravel()
    if x.size != y.size or x.size == 0:
        raise ValueError(f"need as many values as positions (at least one), got {x.size} and {y.size}")
    if np.any(np.diff(x) < 0):
        raise ValueError("positions must be sorted in increasing order")
    x0, x1 = float(x[0]), float(x[-1])  # the x range stays the requested one on a log scale
    if log:
        keep = y > 0
        if not keep.any():
            raise ValueError("log scale needs positive values, but every value is <= 0")
        x, y = x[keep], np.log10(y[keep])
    xs, ys = (1, 1) if ascii else (2, 4)  # dots per cell
    W, H = width * xs, height * ys
    lo, hi = float(y.min()), float(y.max())
    if hi == lo:  # a flat line sits in the middle
        lo, hi = lo - 1.0, hi + 1.0
    col = np.zeros(x.size, dtype=np.int64) if x1 == x0 else np.rint((x - x0) / (x1 - x0) * (W - 1)).astype(np.int64)

    row = np.rint((y - lo) / (hi - lo) * (H - 1))  # 0 = bottom dot row

    # positions are sorted, so each column's samples are one contiguous run
    starts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
    ends = np.r_[starts[1:], col.size] - 1
    cmin = np.minimum.reduceat(row, starts)
    cmax = np.maximum.reduceat(row, starts)
    dots = np.zeros((H, W), dtype=bool)
    filled = dict(zip(col[starts].tolist(), zip(cmin.tolist(), cmax.tolist(), row[ends].tolist())))
    prev_last = None
    for c in range(int(col[0]), int(col[-1]) + 1):
        if c in filled:
            a, b, last = filled[c]
            if prev_last is not None:  # join to where the previous column ended
                a, b = min(a, prev_last), max(b, prev_last)
        else:  # no sample here (few positions): the previous value holds until the next one
            if prev_last is None:  # cannot happen: the first column, col[0], holds the first sample
                raise AssertionError("textplot: the first column has no sample")
            a = b = last = prev_last
        dots[H - 1 - int(b) : H - int(a), c] = True
        prev_last = last

    cells = []
    for r in range(height):
        block = dots[r * ys : (r + 1) * ys]
        line = []
        for c in range(width):
            sub = block[:, c * xs : (c + 1) * xs]
            if ascii:
                line.append("*" if sub.any() else " ")
            else:
                bits = sum(_BRAILLE_BITS[dy][dx] for dy in range(ys) for dx in range(xs) if sub[dy, dx])
                line.append(chr(0x2800 + bits) if bits else " ")
        cells.append("".join(line).rstrip())

    def label(v: float) -> str:
        return _fmt(10.0**v if log else v)

    ylabels = [""] * height
    ylabels[0] = label(float(y.max()))
    ylabels[-1] = label(float(y.min()))
    if height >= 5 and float(y.max()) != float(y.min()):
        mid = (float(y.max()) + float(y.min())) / 2
        ylabels[height // 2] = label(mid)
    lw = max(len(s) for s in ylabels)
    vbar, tick, corner, hbar, xtick = (
        ("|", "|", "+", "-", "+") if ascii else ("\u2502", "\u2524", "\u2514", "\u2500", "\u252c")
    )
    out = []
    for r in range(height):
        out.append(f"{ylabels[r].rjust(lw)} {tick if ylabels[r] else vbar}{cells[r]}".rstrip())

    # x axis: ticks at 0, the end and the marks; labels placed left to right without overlap
    def xcell(p: float) -> int:
        return 0 if x1 == x0 else int(round((p - x0) / (x1 - x0) * (W - 1))) // xs

    axis = [hbar] * width
    ticks = sorted({x0, x1, *[float(m) for m in marks if x0 < float(m) < x1]})
    for p in ticks[1:-1]:
        axis[xcell(p)] = xtick
    out.append(" " * lw + " " + corner + "".join(axis))
    labels = [" "] * (width + 12)
    order = [ticks[0], ticks[-1]] + ticks[1:-1]  # the ends first: they matter most
    placed: list[tuple[int, int]] = []
    for p in order:
        s = _fmt(p)
        c = xcell(p)
        a = max(0, min(c - len(s) // 2, width + 12 - len(s)))
        if p == x0:
            a = 0
        if any(a < pb + 1 and pa < a + len(s) + 1 for pa, pb in placed):
            continue
        placed.append((a, a + len(s)))
        labels[a : a + len(s)] = list(s)
    out.append(" " * (lw + 2) + "".join(labels).rstrip())
    return "\n".join(out)
