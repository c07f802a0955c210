"""Record the learning rates a training loop really applied, and show progress.

:class:`LRLogger` writes one CSV row ``step,group,lr`` per param group per call,
and TensorBoard scalars when asked (``torch.utils.tensorboard`` with the
``tensorboard`` package installed). It reads the values from what the loop has:
a PyTorch optimizer (its param groups), a scheduler with ``get_last_lr()`` (PyTorch
or :class:`lrkit.paddle.ScheduleLR`), a Paddle optimizer (``get_lr()``), a list of
numbers or one number.

>>> import io
>>> buf = io.StringIO()
>>> with LRLogger(buf) as log:
...     _ = log.log(0, [0.1, 0.01])
>>> print(buf.getvalue().strip())
step,group,lr
0,0,0.1
0,1,0.01

:class:`Progress` is a one-line progress bar on stderr that shows up only when the
work takes longer than ``delay`` seconds (no dependency); :func:`progress` wraps an
iterable with tqdm when it is installed, else with :class:`Progress`.
"""

from __future__ import annotations

import math
import numbers
import os
import sys
import time
from typing import IO, Any, Iterable, Iterator, Sequence, TextIO, TypeVar

__all__ = ["LRLogger", "current_lrs", "Progress", "progress"]

T = TypeVar("T")


def current_lrs(source: Any) -> list[float]:
    """The learning rate of each param group, read from an optimizer, a scheduler, a list or a number.

    Order of checks: a number; a list/tuple of numbers; an object with
    ``get_last_lr()`` (a scheduler); with ``param_groups`` (a PyTorch optimizer: each
    group's ``"lr"``, tensors included); with ``get_lr()`` (a Paddle optimizer).
    """
    if isinstance(source, numbers.Real) and not isinstance(source, bool):
        return [float(source)]
    if isinstance(source, (list, tuple)):
        return [_number(f"lrs[{i}]", v) for i, v in enumerate(source)]
    if hasattr(source, "get_last_lr"):
        vals = source.get_last_lr()
        return [_number("get_last_lr()", v) for v in (vals if isinstance(vals, (list, tuple)) else [vals])]
    groups = getattr(source, "param_groups", None)
    if isinstance(groups, list) and groups and isinstance(groups[0], dict):
        return [_number(f"param group {i} 'lr'", g["lr"]) for i, g in enumerate(groups)]
    if hasattr(source, "get_lr"):
        return [_number("get_lr()", source.get_lr())]
    raise TypeError(f"cannot read learning rates from {source!r} ({type(source).__name__}): give an optimizer, "
                    "a scheduler with get_last_lr(), a list of numbers or a number")


def _number(what: str, v: Any) -> float:
    if hasattr(v, "item"):  # a tensor or numpy scalar
        v = v.item()
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{what} must be a number, got {v!r}")
    return float(v)


class LRLogger:
    """Log the applied learning rate per step: CSV rows ``step,group,lr``, and TensorBoard if asked.

    ``path`` is a file path (created, with its folder) or an open text stream.
    ``tensorboard_dir`` writes a scalar ``{tag}/group{g}`` per group per step with
    ``torch.utils.tensorboard.SummaryWriter``; it needs torch and the tensorboard
    package, and says so with an ``ImportError`` when they are missing. CSV values are
    written in full precision (``repr``), so they read back as the same floats;
    TensorBoard stores its scalars as float32.

    Call :meth:`log` where the optimizer is about to use the lr (before
    ``optimizer.step()``), so each row is the value that step applied.
    """

    def __init__(self, path: str | os.PathLike[str] | TextIO, tensorboard_dir: str | os.PathLike[str] | None = None,
                 *, tag: str = "lr", flush_every: int = 100) -> None:
        if isinstance(flush_every, bool) or not isinstance(flush_every, int) or flush_every < 1:
            raise ValueError(f"flush_every must be a whole number >= 1, got {flush_every!r}")
        self._writer = None
        if tensorboard_dir is not None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as e:
                raise ImportError(f"tensorboard_dir needs torch and tensorboard (pip install tensorboard): {e}") \
                    from None
            self._writer = SummaryWriter(os.fspath(tensorboard_dir))
        if hasattr(path, "write"):
            self._fh: IO[str] = path  # type: ignore[assignment]
            self._own = False
            self.path = None
        else:
            self.path = os.fspath(path)  # type: ignore[arg-type]
            folder = os.path.dirname(self.path)
            if folder:
                os.makedirs(folder, exist_ok=True)
            self._fh = open(self.path, "w", encoding="utf-8", newline="")
            self._own = True
        self._fh.write("step,group,lr\n")
        self.tag = tag
        self._flush_every = flush_every
        self._rows = 0
        self.closed = False

    def log(self, step: int | float, lrs: Any) -> list[float]:
        """Write the lr of each param group at ``step``; returns the values written."""
        if self.closed:
            raise ValueError("this LRLogger is closed")
        if isinstance(step, bool) or not isinstance(step, numbers.Real) or not math.isfinite(float(step)):
            raise TypeError(f"step must be a finite number, got {step!r}")
        values = current_lrs(lrs)
        s = int(step) if float(step).is_integer() else float(step)
        self._fh.write("".join(f"{s},{g},{v!r}\n" for g, v in enumerate(values)))
        if self._writer is not None:
            for g, v in enumerate(values):
                self._writer.add_scalar(f"{self.tag}/group{g}", v, global_step=int(step))
        self._rows += 1
        if self._rows % self._flush_every == 0:
            self.flush()
        return values

    def flush(self) -> None:
        self._fh.flush()
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        if self.closed:
            return
        self.flush()
        if self._own:
            self._fh.close()
        if self._writer is not None:
            self._writer.close()
        self.closed = True

    def __enter__(self) -> "LRLogger":
        return self

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is not None and self.enabled and self._shown and self._tty:
            # failed: erase the line, so the error that follows is the only one
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False
            return
        self.close()


class Progress:
    """A progress line on ``stream`` (default stderr) that appears only after ``delay`` seconds.

    On a terminal the line is redrawn in place (``\\r``); elsewhere (a log file, a
    pipe) a plain line is written at most every ``every`` seconds, so logs stay short.
    Nothing is printed for work that ends before ``delay``.

    >>> with Progress(3, "demo", delay=60) as p:   # quick work: prints nothing
    ...     p.update(3)
    """

    def __init__(self, total: int | None, desc: str = "", *, stream: TextIO | None = None, delay: float = 1.0,
                 every: float = 5.0, width: int = 28, enabled: bool = True, unit: str = "") -> None:
        self.total = total
        self.desc = desc
        self.stream = stream if stream is not None else sys.stderr
        self.delay = delay
        self.every = every
        self.width = width
        self.enabled = enabled
        self.unit = unit
        self.n = 0
        self.postfix = ""
        self._t0 = time.monotonic()
        self._last = -math.inf
        self._shown = False
        self._drawn: tuple[int, str] | None = None
        try:
            self._tty = bool(self.stream.isatty())
        except (AttributeError, ValueError):
            self._tty = False

    def update(self, n: int = 1, postfix: str | None = None) -> None:
        self.n += n
        if postfix is not None:
            self.postfix = postfix
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._t0 < self.delay:
            return
        if now - self._last < (0.1 if self._tty else self.every):
            return
        self._last = now
        self._draw(now)

    def _line(self, now: float) -> str:
        el = now - self._t0
        head = f"{self.desc}: " if self.desc else ""
        tail = f" {self.postfix}" if self.postfix else ""
        unit = f" {self.unit}" if self.unit else ""
        if self.total:
            frac = min(1.0, self.n / self.total)
            fill = int(round(frac * self.width))
            eta = el / frac - el if frac > 0 else math.inf
            eta_s = f", {eta:.0f}s left" if math.isfinite(eta) and frac < 1 else ""
            return (f"{head}[{'#' * fill}{'.' * (self.width - fill)}] {frac * 100:3.0f}% "
                    f"{self.n}/{self.total}{unit} {el:.1f}s{eta_s}{tail}")
        return f"{head}{self.n}{unit} {el:.1f}s{tail}"

    def _draw(self, now: float, final: bool = False) -> None:
        self._drawn = (self.n, self.postfix)
        line = self._line(now)
        if self._tty:
            self.stream.write("\r" + line + ("\n" if final else "\x1b[K"))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        """End the line; the final state is printed only if something was shown before."""
        if self.enabled and self._shown:
            if self._tty:
                self._draw(time.monotonic(), final=True)
            elif self._drawn != (self.n, self.postfix):  # a log already holds the last state
                self._draw(time.monotonic(), final=True)
            self._shown = False

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is not None and self.enabled and self._shown and self._tty:
            # failed: erase the line, so the error that follows is the only one
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False
            return
        self.close()


def progress(iterable: Iterable[T], total: int | None = None, desc: str = "", *, stream: TextIO | None = None,
             use_tqdm: bool = True, delay: float = 0.0) -> Iterator[T]:
    """``iterable`` with a progress bar on stderr: tqdm if installed (and ``use_tqdm``), else :class:`Progress`."""
    if total is None and isinstance(iterable, Sequence):
        total = len(iterable)
    if use_tqdm:
        try:
            from tqdm import tqdm
        except ImportError:
            pass
        else:
            yield from tqdm(iterable, total=total, desc=desc or None, file=stream if stream is not None else sys.stderr,
                            delay=delay, dynamic_ncols=True)
            return
    with Progress(total, desc, stream=stream, delay=delay) as bar:
        for item in iterable:
            yield item
            bar.update(1)
