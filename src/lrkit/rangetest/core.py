"""The LR range test, framework-free: the sweep, the loss recorder, the suggestion rules and
the result.

The test trains for at most ``num_iter`` updates while the learning rate grows from
``start_lr`` to ``end_lr``, records the loss of each update, smooths it, stops when it
diverges, and suggests a learning rate from the curve (Smith, "Cyclical Learning Rates
for Training Neural Networks", 2017; fastai's ``lr_find``).

Two flavors reproduce the two common PyTorch implementations value for value:

``"torch-lr-finder"`` (``torch_lr_finder.LRFinder.range_test``)
    update ``i`` (``0 <= i < N``) runs at ``a (b / a) ** (i / (N - 1))`` (``step_mode="exp"``)
    or ``a + (i / (N - 1)) (b - a)`` (``"linear"``): ``a`` at the first update, ``b`` at the
    last. Smoothing: ``s_0 = l_0``, ``s_i = f l_i + (1 - f) s_(i-1)`` (``f = smooth_f``,
    default 0.05). Stop after update ``i`` when ``s_i > diverge_th * min(s_0..s_i)``
    (``diverge_th`` default 5).

``"lightning"`` (``pytorch_lightning.tuner.Tuner.lr_find``)
    update 0 runs at ``a``, update ``i >= 1`` at ``a (b / a) ** ((i + 1) / N)`` or
    ``a + ((i + 1) / N) (b - a)``: the exponent ``1 / N`` is never used, ``b`` is reached at
    the last update. Smoothing with ``beta = 1 - smooth_f`` (default 0.98):
    ``m_i = beta m_(i-1) + (1 - beta) l_i`` (``m_(-1) = 0``),
    ``s_i = m_i / (1 - beta ** (k + 1))`` with ``k = i + 1`` Lightning's step counter
    after the update: the bias correction is one step ahead of the textbook
    ``1 - beta ** (i + 1)`` (so ``s_0 = l_0 (1 - beta) / (1 - beta ** 2) ~ l_0 / 2``).
    Stop after update ``i >= 1`` when ``s_i > diverge_th * min(s_0..s_(i-1))``
    (``diverge_th`` default 4).

In both flavors a raw loss that is NaN or infinite stops the test at once, and the
result says so (``stop_reason``); the peers carry on with a NaN curve.

>>> rt = RangeTest(start_lr=1e-4, end_lr=1.0, num_iter=5)
>>> [round(lr, 6) for lr in rt.lrs()]
[0.0001, 0.001, 0.01, 0.1, 1.0]
>>> res = rt.run(lambda i, lr: 1.0 / (1 + 100 * lr))   # a loss that falls with the lr
>>> res.stop_reason is None, len(res)
(True, 5)
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable
from collections.abc import Sequence as SequenceT
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._files import read_text
from ..core import Schedule
from ..schedules.algebra import Ramp, Shift
from ..schedules.compose import Sequence, Warmup
from ..schedules.decays import Constant, Exponential, Linear
from ..schedules.presets import WarmupCosine

__all__ = [
    "FLAVORS",
    "MODES",
    "RULES",
    "sweep",
    "LossRecorder",
    "RangeTest",
    "RangeTestResult",
    "suggest",
    "defaults",
    "resolve",
]

#: the implementations reproduced, value for value
FLAVORS = ("torch-lr-finder", "lightning")
#: how the learning rate grows (``"exponential"`` is taken for ``"exp"``, as Lightning names it)
MODES = ("exp", "linear")
#: the suggestion rules (see :func:`suggest`)
RULES = ("steepest", "steepest-lr", "valley", "minimum")

_DEFAULTS = {
    "torch-lr-finder": {"smooth_f": 0.05, "diverge_th": 5.0, "rule": "steepest"},
    "lightning": {"smooth_f": 0.02, "diverge_th": 4.0, "rule": "steepest-lr"},
}


def defaults(flavor: str) -> dict[str, Any]:
    """The defaults of a flavor: ``smooth_f``, ``diverge_th`` and the suggestion ``rule``.

    >>> defaults("lightning")
    {'smooth_f': 0.02, 'diverge_th': 4.0, 'rule': 'steepest-lr'}
    """
    return dict(_DEFAULTS[_flavor(flavor)])


def _flavor(flavor: Any) -> str:
    if flavor not in FLAVORS:
        raise ValueError(f"flavor must be one of {', '.join(map(repr, FLAVORS))}, got {flavor!r}")
    return flavor


def _mode(mode: Any) -> str:
    if isinstance(mode, str) and mode.lower() == "exponential":
        return "exp"
    if not isinstance(mode, str) or mode.lower() not in MODES:
        raise ValueError(f"step_mode must be 'exp' (or 'exponential') or 'linear', got {mode!r}")
    return mode.lower()


def _finite_number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def _count(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}")
    return int(value)


def _check_range(start_lr: Any, end_lr: Any, num_iter: Any, mode: str) -> tuple[float, float, int]:
    a = _finite_number("start_lr", start_lr)
    b = _finite_number("end_lr", end_lr)
    n = _count("num_iter", num_iter, 2)
    if mode == "exp" and not a > 0:
        raise ValueError(f"start_lr must be > 0 for an exponential sweep, got {start_lr!r}")
    if a < 0:
        raise ValueError(f"start_lr must be >= 0, got {start_lr!r}")
    if not a < b:
        raise ValueError(f"start_lr ({start_lr!r}) must be below end_lr ({end_lr!r}): the test sweeps upwards")
    return a, b, n


def sweep(
    start_lr: float, end_lr: float, num_iter: int, step_mode: str = "exp", flavor: str = "torch-lr-finder"
) -> Schedule:
    """The learning rates of the test as an lrkit schedule: ``f(i)`` is the lr of update ``i``.

    With ``a = start_lr``, ``b = end_lr``, ``N = num_iter``:

    ======================  ==============================================  ==========================================
    flavor                  exp                                             linear
    ======================  ==============================================  ==========================================
    ``"torch-lr-finder"``   ``a (b/a) ** (i / (N-1))``: ``Exponential``       ``a + (i / (N-1)) (b - a)``: ``Ramp``
    ``"lightning"``         ``a`` at 0, then ``a (b/a) ** ((i+1) / N)``       ``a`` at 0, then ``a + ((i+1) / N) (b - a)``
    ======================  ==============================================  ==========================================

    Each is the peer's own expression, so the values are the same floats. Past ``N - 1``
    an exponential sweep stays at its last value, a linear one at ``b``.

    >>> s = sweep(1e-3, 10.0, 5)
    >>> type(s).__name__, [float(f"{v:.3g}") for v in s([0, 1, 2, 3, 4])]
    ('Exponential', [0.001, 0.01, 0.1, 1.0, 10.0])
    >>> [float(f"{v:.3g}") for v in sweep(1e-3, 10.0, 4, flavor="lightning")([0, 1, 2, 3])]
    [0.001, 0.1, 1.0, 10.0]
    >>> sweep(0.0, 1.0, 5, "linear")([0, 2, 4]).tolist()
    [0.0, 0.5, 1.0]
    >>> sweep(1.0, 0.5, 10)
    Traceback (most recent call last):
    ...
    ValueError: start_lr (1.0) must be below end_lr (0.5): the test sweeps upwards
    """
    mode = _mode(step_mode)
    flavor = _flavor(flavor)
    a, b, n = _check_range(start_lr, end_lr, num_iter, mode)
    if mode == "exp":
        # max_lr at the formula's own last value (a * (b/a) may be b + 1 ulp): nothing is clipped
        top = max(b, a * (b / a))
        if flavor == "torch-lr-finder":
            return Exponential(peak_lr=a, gamma=b / a, step_size=float(n - 1), max_lr=top)
        rest: Schedule = Shift(Exponential(peak_lr=a, gamma=b / a, step_size=float(n), max_lr=top), offset=2.0)
    else:
        if flavor == "torch-lr-finder":
            return Ramp(a, b, float(n - 1))
        rest = Shift(Ramp(a, b, float(n)), offset=2.0)
    return Sequence([Constant(a), rest], boundaries=[1.0])


class LossRecorder:
    """Records the loss of each update, smooths it and says when to stop.

    ``record(lr, loss)`` returns ``True`` when the test must stop after this update:
    the smoothed loss diverged (see the module docstring for each flavor's formula) or the
    raw loss is NaN or infinite. ``diverge_th=None`` (or ``inf``) never stops on
    divergence; ``smooth_f=0`` records the raw loss (``"torch-lr-finder"`` only).

    >>> r = LossRecorder(smooth_f=0.5, diverge_th=2.0)
    >>> [r.record(lr, loss) for lr, loss in [(0.1, 1.0), (0.2, 0.5), (0.3, 4.0)]]
    [False, False, True]
    >>> r.losses, r.stop_reason
    ([1.0, 0.75, 2.375], 'diverged at update 2: smoothed loss 2.375 > diverge_th (2.0) x best (0.75)')
    >>> r = LossRecorder(flavor="lightning")
    >>> r.record(1e-3, 2.0); round(r.losses[0], 6)   # Lightning's bias correction: 2 * 0.02 / (1 - 0.98**2)
    False
    1.010101
    """

    def __init__(
        self,
        smooth_f: float | None = None,
        diverge_th: float | None = None,
        flavor: str = "torch-lr-finder",
        step_offset: int = 0,
    ) -> None:
        self.flavor = _flavor(flavor)
        d = _DEFAULTS[self.flavor]
        f = d["smooth_f"] if smooth_f is None else _finite_number("smooth_f", smooth_f)
        if not 0 <= f < 1:
            raise ValueError(f"smooth_f must be in [0, 1), got {smooth_f!r}")
        if self.flavor == "lightning" and f == 0:
            raise ValueError(
                "smooth_f must be in (0, 1) for the lightning flavor (its bias correction divides "
                "by 1 - (1 - smooth_f) ** k), got 0"
            )
        if diverge_th is None:
            th = d["diverge_th"]
        elif isinstance(diverge_th, (int, float)) and not isinstance(diverge_th, bool) and diverge_th == math.inf:
            th = math.inf
        else:
            th = _finite_number("diverge_th", diverge_th)
            if not th > 0:
                raise ValueError(f"diverge_th must be > 0 (or inf: never stop), got {diverge_th!r}")
        self.smooth_f = f
        self.beta = 1.0 - f  # Lightning's beta: its (1 - beta) is then used as is
        self.diverge_th = float(th)
        self.step_offset = _count("step_offset", step_offset, 0)
        self.lrs: list[float] = []
        self.raw_losses: list[float] = []
        self.losses: list[float] = []
        self.best: float | None = None
        self.stop_reason: str | None = None
        self._avg = 0.0

    def __len__(self) -> int:
        return len(self.losses)

    def record(self, lr: float, loss: float) -> bool:
        """Record update ``len(self)``: its lr and raw loss. ``True``: stop here."""
        i = len(self.losses)
        loss = float(loss)
        self.lrs.append(float(lr))
        self.raw_losses.append(loss)
        if self.flavor == "torch-lr-finder":
            if i == 0:
                s = loss
                best = s
            else:
                if self.smooth_f > 0:
                    s = self.smooth_f * loss + (1 - self.smooth_f) * self.losses[-1]
                else:
                    s = loss
                prev = self.best
                if prev is None:
                    raise RuntimeError(f"update {i} recorded before update 0")
                best = s if s < prev else prev
            self.best = best
            self.losses.append(s)
            diverged = s > self.diverge_th * best
        else:
            k = self.step_offset + i + 1  # Lightning's global_step after the update
            self._avg = self.beta * self._avg + (1 - self.beta) * loss
            s = self._avg / (1 - self.beta ** (k + 1))
            best = self.best if self.best is not None else 0.0
            diverged = k > 1 and s > self.diverge_th * best
            if self.best is None or s < self.best or k == 1:
                self.best = s
            self.losses.append(s)
        if not math.isfinite(loss):
            self.stop_reason = f"non-finite loss at update {i}: {loss!r} (lr {lr!r})"
            return True
        if diverged:
            self.stop_reason = (
                f"diverged at update {i}: smoothed loss {s!r} > diverge_th ({self.diverge_th!r}) x best ({best!r})"
            )
            return True
        return False


# ---------------------------------------------------------------------------------------------
# suggestion rules


def _trim(n: int, skip_start: int, skip_end: int) -> slice:
    return slice(skip_start, n - skip_end)


def _finite_prefix(losses: np.ndarray) -> int:
    bad = np.flatnonzero(~np.isfinite(losses))
    return int(bad[0]) if bad.size else len(losses)


def suggest(
    lrs: SequenceT[float],
    losses: SequenceT[float],
    rule: str = "steepest",
    skip_start: int | None = None,
    skip_end: int | None = None,
    num_iter: int | None = None,
) -> tuple[float, int]:
    """A learning rate read off a range-test curve, and the index of the point it comes from.

    ``lrs[i]`` is the lr of update ``i`` and ``losses[i]`` its (smoothed) loss. Points from
    ``skip_start`` to ``len - skip_end`` are used, cut before the first non-finite loss.

    ``"steepest"`` (torch-lr-finder's ``plot(suggest_lr=True)``; skips 10 and 5)
        ``lrs[j]`` with ``j = argmin(numpy.gradient(losses))``: the slope per update,
        central differences ``(l[j+1] - l[j-1]) / 2`` inside, one-sided at the ends.
    ``"steepest-lr"`` (Lightning's ``suggestion()``; skips 10 and 1)
        the same with the slope per unit of lr, ``numpy.gradient(losses, lrs)`` (second
        order on the uneven lr grid), over the finite points.
    ``"valley"`` (fastai's default; skips ``num_iter // 10`` and 5)
        the longest run of decreasing losses (longest strictly decreasing subsequence,
        ``[s, e]``), then ``lrs[s + int(d) + int(d / 2)]`` with ``d = (e - s) / 3``.
    ``"minimum"`` (fastai; skips as ``"valley"``)
        ``lrs[argmin(losses)] / 10``; the index is the minimum's.

    >>> lrs = [10.0 ** (k / 4 - 6) for k in range(25)]
    >>> losses = [2.0] * 8 + [2.0 - 0.25 * k for k in range(1, 8)] + [0.25 + 0.1 * k for k in range(10)]
    >>> suggest(lrs, losses, "steepest", skip_start=2, skip_end=2)[1]   # the first of the steepest (ties)
    8
    >>> suggest(lrs, losses, "minimum", skip_start=0, skip_end=0)      # lrs[14] / 10
    (0.00031622776601683794, 14)
    """
    lr = np.asarray(lrs, dtype=np.float64)
    loss = np.asarray(losses, dtype=np.float64)
    if lr.ndim != 1 or lr.shape != loss.shape:
        raise ValueError(f"lrs and losses must be two lists of the same length, got shapes {lr.shape} and {loss.shape}")
    if rule not in RULES:
        raise ValueError(f"rule must be one of {', '.join(map(repr, RULES))}, got {rule!r}")
    n = len(loss)
    if rule in ("valley", "minimum"):
        nit = n if num_iter is None else _count("num_iter", num_iter, 1)
        d0, d1 = nit // 10, 5
    else:
        d0, d1 = (10, 5) if rule == "steepest" else (10, 1)
    s0 = d0 if skip_start is None else _count("skip_start", skip_start, 0)
    s1 = d1 if skip_end is None else _count("skip_end", skip_end, 0)
    idx = np.arange(n)[_trim(n, s0, s1)]
    y = loss[idx]
    if rule == "steepest-lr":
        keep = np.isfinite(y)
        idx, y = idx[keep], y[keep]
    else:
        cut = _finite_prefix(y)
        idx, y = idx[:cut], y[:cut]
    need = 2 if rule in ("steepest", "steepest-lr") else 1
    if len(y) < need:
        raise ValueError(
            f"rule {rule!r} needs at least {need} finite points between skip_start ({s0}) and "
            f"skip_end ({s1}); {n} points recorded, {len(y)} usable: run more updates or skip fewer"
        )
    if rule == "steepest":
        j = int(np.argmin(np.gradient(y)))
    elif rule == "steepest-lr":
        x = lr[idx]
        if np.any(np.diff(x) == 0):
            raise ValueError("rule 'steepest-lr' needs distinct learning rates (the slope is per unit of lr)")
        j = int(np.argmin(np.gradient(y, x)))
    elif rule == "valley":
        j = _valley(y)
    else:
        j = int(np.argmin(y))
        return float(lr[idx[j]]) / 10, int(idx[j])
    return float(lr[idx[j]]), int(idx[j])


def _valley(y: np.ndarray) -> int:
    """fastai's valley: the longest decreasing run ``[s, e]``, then ``s + int(d) + int(d/2)``,
    ``d = (e - s) / 3``."""
    n = len(y)
    length = [1] * n  # the longest decreasing subsequence ending at each point
    start = end = 0
    for i in range(1, n):
        for j in range(i):
            if y[i] < y[j] and length[i] < length[j] + 1:
                length[i] = length[j] + 1
            if length[end] < length[i]:
                end = i
                start = end - length[end]
    d = (end - start) / 3
    return start + int(d) + int(d / 2)


# ---------------------------------------------------------------------------------------------
# the result


_CSV_FIELDS = ("start_lr", "end_lr", "num_iter", "step_mode", "flavor", "smooth_f", "diverge_th", "stop_reason")


@dataclass
class RangeTestResult:
    """What a range test recorded: ``lrs[i]``, ``raw_losses[i]`` and ``losses[i]`` (smoothed)
    of each update run, and how it ended (``stop_reason``: ``None`` when all ``num_iter``
    updates ran).

    >>> r = RangeTestResult([1e-3, 1e-2, 1e-1], [1.0, 0.5, 0.8], [1.0, 0.9, 0.9], 1e-3, 1e-1, 3)
    >>> r.suggestion("minimum", skip_start=0, skip_end=0)
    0.001
    >>> r.plan(100, warmup_steps=10, rule="minimum", skip_start=0, skip_end=0).peak_lr
    0.001
    """

    lrs: list[float]
    raw_losses: list[float]
    losses: list[float]
    start_lr: float
    end_lr: float
    num_iter: int
    step_mode: str = "exp"
    flavor: str = "torch-lr-finder"
    smooth_f: float = 0.05
    diverge_th: float = 5.0
    stop_reason: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lrs = [float(v) for v in self.lrs]
        self.raw_losses = [float(v) for v in self.raw_losses]
        self.losses = [float(v) for v in self.losses]
        if not len(self.lrs) == len(self.raw_losses) == len(self.losses):
            raise ValueError(
                f"lrs, raw_losses and losses must have the same length, got {len(self.lrs)}, "
                f"{len(self.raw_losses)} and {len(self.losses)}"
            )

    def __len__(self) -> int:
        return len(self.lrs)

    @property
    def stopped_early(self) -> bool:
        """Whether the test stopped before ``num_iter`` updates (divergence, a non-finite
        loss, or the data ran out)."""
        return len(self) < self.num_iter

    def suggestion(self, rule: str | None = None, skip_start: int | None = None, skip_end: int | None = None) -> float:
        """The suggested lr by ``rule`` (default: the flavor's, ``"steepest"`` for
        torch-lr-finder, ``"steepest-lr"`` for Lightning); see :func:`suggest`."""
        return self.suggestion_point(rule, skip_start, skip_end)[0]

    def suggestion_point(
        self, rule: str | None = None, skip_start: int | None = None, skip_end: int | None = None
    ) -> tuple[float, int]:
        """``(suggested lr, index of the curve point it comes from)``."""
        r = _DEFAULTS[self.flavor]["rule"] if rule is None else rule
        return suggest(self.lrs, self.losses, r, skip_start, skip_end, num_iter=self.num_iter)

    def plan(
        self,
        total_steps: float,
        warmup_steps: float = 0,
        shape: str = "cosine",
        rule: str | None = None,
        factor: float = 1.0,
        min_lr: float = 0.0,
        skip_start: int | None = None,
        skip_end: int | None = None,
    ) -> Schedule:
        """A training schedule peaking at ``factor`` x the suggestion.

        ``shape="cosine"``: :class:`lrkit.WarmupCosine` (``peak``, ``total_steps``,
        ``warmup_steps``, ``min_lr``); ``"linear"``: a linear warmup then a straight line
        to ``min_lr`` at ``total_steps``; ``"constant"``: a linear warmup then ``peak``.
        """
        peak = self.suggestion(rule, skip_start, skip_end) * _finite_number("factor", factor)
        if not peak > 0:
            raise ValueError(f"factor must be > 0, got {factor!r}")
        T = _finite_number("total_steps", total_steps)
        W = _finite_number("warmup_steps", warmup_steps)
        if not 0 <= W < T:
            raise ValueError(f"warmup_steps ({warmup_steps!r}) must be in [0, total_steps ({total_steps!r}))")
        if shape == "cosine":
            return WarmupCosine(peak_lr=peak, total_steps=T, warmup_steps=W, min_lr=min_lr)
        if shape == "linear":
            return Warmup(Linear(peak_lr=peak, total_steps=T - W, min_lr=min_lr), W)
        if shape == "constant":
            return Warmup(Constant(peak), W)
        raise ValueError(f"shape must be 'cosine', 'linear' or 'constant', got {shape!r}")

    def plot(
        self,
        ax: Any = None,
        rule: str | None = None,
        skip_start: int | None = None,
        skip_end: int | None = None,
        raw: bool = False,
        suggest_lr: bool = True,
    ) -> Any:
        """The smoothed loss against the lr on a log axis (``raw=True`` adds the raw loss),
        the suggestion marked; returns the matplotlib axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        ax.plot(self.lrs, self.losses, label="loss (smoothed)")
        if raw:
            ax.plot(self.lrs, self.raw_losses, alpha=0.4, label="loss")
        if suggest_lr and len(self):
            r = _DEFAULTS[self.flavor]["rule"] if rule is None else rule
            lr, j = self.suggestion_point(r, skip_start, skip_end)
            ax.scatter([lr], [self.losses[j]], s=75, marker="o", color="red", zorder=3, label=f"{r}: {lr:.3g}")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        ax.legend()
        return ax

    def to_csv(self, path: Any) -> None:
        """Write ``update,lr,raw_loss,loss`` rows after ``# key=value`` lines (the settings);
        :meth:`from_csv` reads it back exactly (floats as ``repr``)."""
        with open(path, "w", newline="", encoding="utf-8") as fh:
            for k in _CSV_FIELDS:
                fh.write(f"# {k}={getattr(self, k)!r}\n")
            w = csv.writer(fh)
            w.writerow(["update", "lr", "raw_loss", "loss"])
            for i, (a, b, c) in enumerate(zip(self.lrs, self.raw_losses, self.losses)):
                w.writerow([i, repr(a), repr(b), repr(c)])

    @classmethod
    def from_csv(cls, path: Any) -> RangeTestResult:
        """Read a file written by :meth:`to_csv`."""
        import ast

        meta: dict[str, Any] = {}
        rows: list[list[str]] = []
        lines = read_text(path, "range test CSV").splitlines()  # bounded, as every read of user text
        body = []
        for line in lines:
            if line.startswith("# ") and "=" in line:
                k, v = line[2:].split("=", 1)
                if k in _CSV_FIELDS:
                    meta[k] = ast.literal_eval(v) if v not in ("nan", "inf") else float(v)
                continue
            body.append(line)
        rows = list(csv.reader(body))
        if not rows or rows[0] != ["update", "lr", "raw_loss", "loss"]:
            raise ValueError(f"{path}: not a range test CSV (expected the header update,lr,raw_loss,loss)")
        missing = [k for k in _CSV_FIELDS if k not in meta]
        if missing:
            raise ValueError(f"{path}: missing settings {missing}")
        data = [[float(x) for x in r[1:]] for r in rows[1:] if r]
        return cls([d[0] for d in data], [d[1] for d in data], [d[2] for d in data], **meta)


# ---------------------------------------------------------------------------------------------
# the driver


class RangeTest:
    """One range test's settings: the sweep (:func:`sweep`) and the recorder's
    (:class:`LossRecorder`). ``run(update)`` drives it with a framework's update.

    ``update(i, lr)`` runs training update ``i`` at learning rate ``lr`` and returns its
    loss (a float). The run stops after ``num_iter`` updates, at divergence, at a
    non-finite loss, or when ``update`` raises ``StopIteration`` (the data ran out);
    any other exception propagates.
    """

    def __init__(
        self,
        start_lr: float,
        end_lr: float = 10.0,
        num_iter: int = 100,
        step_mode: str = "exp",
        smooth_f: float | None = None,
        diverge_th: float | None = None,
        flavor: str = "torch-lr-finder",
        step_offset: int = 0,
    ) -> None:
        self.step_mode = _mode(step_mode)
        self.flavor = _flavor(flavor)
        self.start_lr, self.end_lr, self.num_iter = _check_range(start_lr, end_lr, num_iter, self.step_mode)
        self.schedule = sweep(self.start_lr, self.end_lr, self.num_iter, self.step_mode, self.flavor)
        self._rec_args = (smooth_f, diverge_th, self.flavor, step_offset)
        self._groups: list[Schedule] | None = None
        LossRecorder(*self._rec_args)  # check the recorder's settings now

    @classmethod
    def from_schedule(
        cls,
        schedule: Schedule,
        num_iter: int = 100,
        smooth_f: float | None = None,
        diverge_th: float | None = None,
        flavor: str = "torch-lr-finder",
        step_offset: int = 0,
        group_schedules: SequenceT[Schedule] | None = None,
    ) -> RangeTest:
        """A range test whose update ``i`` runs at ``schedule(i)``, ``0 <= i < num_iter``:
        any lrkit schedule drives the sweep (``step_mode="schedule"``; e.g. DeepSpeed's
        ``LRRangeTest``, see :func:`lrkit.rangetest.from_deepspeed`). ``flavor`` then
        chooses the smoothing, the stop rule and the suggestion rule only; ``start_lr`` and
        ``end_lr`` are ``schedule(0)`` and ``schedule(num_iter - 1)``.

        ``group_schedules``: one schedule per optimizer param group (the first is
        ``schedule``'s place), for a helper whose groups sweep each from its own lr.

        >>> from lrkit import LinearGrowth
        >>> rt = RangeTest.from_schedule(LinearGrowth(0.01, step_size=2, rate=1.0), num_iter=5)
        >>> rt.step_mode, rt.lrs()
        ('schedule', [0.01, 0.015, 0.02, 0.025, 0.03])
        """
        if not isinstance(schedule, Schedule):
            raise TypeError(f"schedule must be an lrkit Schedule, got {type(schedule).__name__} {schedule!r}")
        n = _count("num_iter", num_iter, 2)
        groups = None
        if group_schedules is not None:
            groups = list(group_schedules)
            if not groups or not all(isinstance(g, Schedule) for g in groups):
                raise TypeError("group_schedules must be a non-empty list of lrkit Schedules (one per param group)")
        for k, s in enumerate([schedule] + (groups or [])):
            v = np.asarray(s(np.arange(n, dtype=np.float64)), dtype=np.float64)
            bad = np.flatnonzero(~np.isfinite(v) | (v < 0))
            if bad.size:
                what = "schedule" if k == 0 else f"group_schedules[{k - 1}]"
                raise ValueError(
                    f"{what} gives the lr {float(v[bad[0]])!r} at update {int(bad[0])}: "
                    "a range test needs finite lrs >= 0 over its num_iter updates"
                )
        a, b = float(schedule(0)), float(schedule(n - 1))
        if not a < b:
            raise ValueError(
                f"schedule must grow over the test: schedule(0) = {a!r}, schedule(num_iter - 1) = {b!r} "
                f"(num_iter = {n}); the test sweeps upwards"
            )
        self = cls.__new__(cls)
        self.step_mode = "schedule"
        self.flavor = _flavor(flavor)
        self.schedule = schedule
        self.num_iter = n
        self.start_lr, self.end_lr = a, b
        self._rec_args = (smooth_f, diverge_th, self.flavor, step_offset)
        self._groups = groups
        LossRecorder(*self._rec_args)
        return self

    def lrs(self) -> list[float]:
        """The lr of every planned update (Python floats, the peers' values)."""
        return [float(self.schedule(i)) for i in range(self.num_iter)]

    def group_lrs(self, start_lr: float) -> list[float]:
        """The same sweep from another start (a param group with its own lr), same end.
        A schedule-driven test (:meth:`from_schedule`) has no start to move: its groups'
        lrs are :meth:`groups_lrs`'s."""
        if self.step_mode == "schedule":
            raise ValueError(
                "a range test driven by a schedule (from_schedule) cannot move its start for a param group: "
                "give group_schedules= (one schedule per group) or one start_lr for every group"
            )
        return [
            float(v)
            for v in (
                sweep(start_lr, self.end_lr, self.num_iter, self.step_mode, self.flavor)(i)
                for i in range(self.num_iter)
            )
        ]

    def groups_lrs(self, n_groups: int) -> list[list[float]] | None:
        """Each param group's lrs for a schedule-driven test with ``group_schedules``
        (``n_groups`` of them), else ``None`` (every group follows :meth:`lrs`)."""
        if self._groups is None:
            return None
        if len(self._groups) != n_groups:
            raise ValueError(f"group_schedules holds {len(self._groups)} schedules for {n_groups} param groups")
        return [[float(g(i)) for i in range(self.num_iter)] for g in self._groups]

    def recorder(self) -> LossRecorder:
        """A fresh :class:`LossRecorder` with this test's settings."""
        return LossRecorder(*self._rec_args)

    def result(self, rec: LossRecorder, stop_reason: str | None) -> RangeTestResult:
        """The :class:`RangeTestResult` of what ``rec`` recorded."""
        return RangeTestResult(
            rec.lrs,
            rec.raw_losses,
            rec.losses,
            self.start_lr,
            self.end_lr,
            self.num_iter,
            self.step_mode,
            self.flavor,
            rec.smooth_f,
            rec.diverge_th,
            stop_reason,
        )

    def run(self, update: Callable[[int, float], float]) -> RangeTestResult:
        rec = self.recorder()
        reason = None
        for i, lr in enumerate(self.lrs()):
            try:
                loss = update(i, lr)
            except StopIteration:
                reason = f"the data ran out after {i} updates"
                break
            if rec.record(lr, loss):
                reason = rec.stop_reason
                break
        return self.result(rec, reason)


_SWEEP_DEFAULTS = (None, 10.0, 100, "exp", None, None, "torch-lr-finder")
_SWEEP_NAMES = ("start_lr", "end_lr", "num_iter", "step_mode", "smooth_f", "diverge_th", "flavor")


def resolve(
    test: RangeTest | None,
    start_lr: float | None,
    end_lr: float = 10.0,
    num_iter: int = 100,
    step_mode: str = "exp",
    smooth_f: float | None = None,
    diverge_th: float | None = None,
    flavor: str = "torch-lr-finder",
) -> RangeTest:
    """The range test a framework helper runs: ``test`` (a :class:`RangeTest`, e.g. a
    schedule-driven one) when given, the sweep arguments left at their defaults; else the
    test the sweep arguments describe (``start_lr`` required)."""
    given = (start_lr, end_lr, num_iter, step_mode, smooth_f, diverge_th, flavor)
    if test is not None:
        if not isinstance(test, RangeTest):
            raise TypeError(f"test must be a lrkit.rangetest.RangeTest, got {type(test).__name__} {test!r}")
        clash = [n for n, v, d in zip(_SWEEP_NAMES, given, _SWEEP_DEFAULTS) if not (v is d or v == d)]
        if clash:
            raise TypeError(f"give test= or the sweep arguments, not both: test= carries its own {', '.join(clash)}")
        return test
    if start_lr is None:
        raise TypeError("start_lr is required (or test=, a RangeTest)")
    return RangeTest(start_lr, end_lr, num_iter, step_mode, smooth_f, diverge_th, flavor)


def batches(data: Iterable[Any]) -> Callable[[], Any]:
    """``next()`` over ``data`` for ever: re-iterated when exhausted (a DataLoader, a list
    of batches), as torch-lr-finder does; a one-shot iterator ends with ``StopIteration``.
    An iterable that yields nothing raises ``ValueError``."""
    state = {"it": iter(data), "fresh": True}
    reusable = state["it"] is not data

    def next_batch() -> Any:
        try:
            b = next(state["it"])
        except StopIteration:
            if not reusable or state["fresh"]:
                if state["fresh"]:
                    raise ValueError("data yielded no batch") from None
                raise
            state["it"] = iter(data)
            try:
                b = next(state["it"])
            except StopIteration:
                raise ValueError("data yielded no batch on a new pass") from None
        state["fresh"] = False
        return b

    return next_batch
