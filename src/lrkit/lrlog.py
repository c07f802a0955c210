"""Record the learning rates a training loop really applied, and show progress.

:class:`LRLogger` writes one CSV row ``step,group,lr`` per param group per call,
and TensorBoard scalars when asked (``torch.utils.tensorboard`` with the
``tensorboard`` package installed). It reads the values from what the loop has:
a PyTorch optimizer (its param groups), a Paddle optimizer (its global lr times each
group's multiplier: what each group really gets), a scheduler with ``get_last_lr()``
(PyTorch or :class:`lrkit.paddle.ScheduleLR`), a list of numbers or one number. The
call is ``log(step, lrs)``: the step first.

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
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any, TextIO, TypeVar, cast

from ._check import show

__all__ = ["LRLogger", "current_lrs", "Progress", "progress"]

T = TypeVar("T")

#: steps are below this in size (TensorBoard stores them as 64-bit integers)
_STEP_BOUND = 2**63


def current_lrs(source: Any) -> list[float]:
    """The learning rate each param group gets, read from an optimizer, a scheduler, a list or a number.

    Order of checks: a number; a list/tuple of numbers (or a 0-d/1-d array or tensor);
    an object with ``get_last_lr()`` (a scheduler: its own values); with
    ``param_groups`` (a PyTorch optimizer: each group's ``"lr"``, tensors included); a
    Paddle optimizer; with ``get_lr()`` (one value).

    A Paddle optimizer has one global lr (``optimizer.get_lr()``: a float, a Paddle
    ``LRScheduler``'s value, 1.0 under an lrkit per-group :class:`lrkit.paddle.ScheduleLR`)
    and each parameter multiplies it by its own ``optimize_attr['learning_rate']`` (a
    param group's ``'learning_rate'``, or what lrkit's per-group scheduler writes
    there; AdamW's ``lr_ratio`` too): a group's value is ``global lr * multiplier``, in
    float64 (Paddle applies it rounded to its lr tensor's dtype). A group whose
    trainable parameters have different multipliers has no one lr: ``ValueError``.
    A scheduler alone knows only its own values: pass the optimizer to read what each
    group gets.
    """
    return _read(source, "source")


def _read(source: Any, name: str) -> list[float]:
    if _is_number(source):
        return [_number(name, source)]
    if isinstance(source, (list, tuple)):
        if not source:
            raise ValueError(f"{name} is an empty {type(source).__name__}: give one learning rate per param group")
        return [_number(f"{name}[{i}]", v) for i, v in enumerate(source)]
    ndim = getattr(source, "ndim", None)
    if isinstance(ndim, int) and hasattr(source, "tolist") and not hasattr(source, "get_last_lr"):
        if ndim == 0:
            return [_number(name, source)]
        if ndim != 1:
            raise TypeError(
                f"{name} must be one number or a 1-d list of numbers, got an array of {ndim} dimensions "
                f"({type(source).__name__})"
            )
        return _read(list(source.tolist()), name)
    if hasattr(source, "get_last_lr"):
        vals = source.get_last_lr()
        return [_number(f"{name}.get_last_lr()", v) for v in (vals if isinstance(vals, (list, tuple)) else [vals])]
    groups = getattr(source, "param_groups", None)
    if isinstance(groups, list) and groups and all(isinstance(g, dict) for g in groups):
        out = []
        for i, g in enumerate(groups):
            if "lr" not in g:
                raise ValueError(f"{name}: param group {i} has no 'lr' entry (it has: {', '.join(map(str, g))[:200]})")
            out.append(_number(f"{name}: param group {i} 'lr'", g["lr"]))
        return out
    opt = _paddle_optimizer(source)
    if opt is not None:
        return _paddle_lrs(opt, name)
    if hasattr(source, "get_lr"):
        return [_number(f"{name}.get_lr()", source.get_lr())]
    raise TypeError(
        f"{name} must be an optimizer (PyTorch or Paddle), a scheduler with get_last_lr(), a list of "
        f"numbers or a number, got {_brief(source)}"
    )


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _brief(v: Any) -> str:
    """A value for a message: one line, cut short, with its type."""
    if isinstance(v, (list, tuple, dict, set)) and len(v) > 8:
        return f"a {type(v).__name__} of {len(v)} items"
    try:
        text = " ".join(show(v).split())
    except Exception:  # a repr that fails: the type says enough
        return f"a {type(v).__module__}.{type(v).__qualname__} object"
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} ({type(v).__name__})"


def _number(what: str, v: Any) -> float:
    if hasattr(v, "item") and not _is_number(v):  # a tensor or numpy scalar
        try:
            v = v.item()
        except (ValueError, RuntimeError, TypeError) as e:
            raise TypeError(f"{what} must be a number, got {_brief(v)}: {str(e)[:120]}") from None
    if not _is_number(v):
        raise TypeError(f"{what} must be a number, got {_brief(v)}")
    try:
        return float(v)
    except OverflowError:  # an integer past float64
        raise ValueError(f"{what} must be a number float64 holds, got {show(v)}") from None


def _paddle_optimizer(source: Any) -> Any:
    """The Paddle optimizer that applies the lrs of ``source`` (unwrapping LookAhead and fleet's
    wrappers), or None when ``source`` is none. Paddle is never imported here: an object can be
    a Paddle optimizer only once paddle is."""
    paddle = sys.modules.get("paddle")
    optimizer = getattr(getattr(paddle, "optimizer", None), "Optimizer", None)
    if not isinstance(optimizer, type):
        return None
    for _ in range(8):
        if isinstance(source, optimizer):
            inner = getattr(source, "inner_optimizer", None)  # LookAhead: the inner optimizer updates
            if not isinstance(inner, optimizer):
                return source
            source = inner
        else:
            source = getattr(source, "_inner_opt", None)  # fleet's HybridParallelOptimizer and kin
            if source is None:
                return None
    return None


def _paddle_lrs(opt: Any, name: str) -> list[float]:
    """Each param group's lr on a Paddle optimizer: the global lr times the group's multiplier.

    ``opt.get_lr()`` calls the scheduler as the optimizer does before an update (lrkit's
    per-group :class:`~lrkit.paddle.ScheduleLR` writes each group's value into its
    parameters then), so the multipliers read next are those of the coming update.
    """
    glob = _number(f"{name}: the Paddle optimizer's get_lr()", opt.get_lr())
    raw = getattr(opt, "_param_groups", None)
    if raw and isinstance(raw[0], dict):
        groups = [(list(g.get("params", [])), g.get("learning_rate", 1.0)) for g in raw]
    else:
        groups = [(list(raw or getattr(opt, "_parameter_list", None) or []), 1.0)]
    ratio = getattr(opt, "_lr_ratio", None)  # AdamW's per-parameter factor
    out = []
    for i, (params, default) in enumerate(groups):
        found = _distinct(params, ratio, name, i)
        if len(found) > 1:  # only the parameters Paddle updates count
            found = _distinct([p for p in params if not getattr(p, "stop_gradient", False)], ratio, name, i) or found
        if not found:  # a group without parameters: what Paddle would give them
            found = [_number(f"{name}: param group {i} 'learning_rate'", default)]
        if len(found) > 1:
            raise ValueError(
                f"{name}: param group {i} of the Paddle optimizer has parameters with different lr multipliers "
                f"({found[0]!r} and {found[1]!r}: Paddle's param.optimize_attr['learning_rate'], set by "
                "ParamAttr(learning_rate=...) or a param group's 'learning_rate'), so they get different lrs "
                f"(the global lr {glob!r} times each) and the group has no one lr to log. Give each multiplier "
                "its own param group, or log the values you mean: log(step, optimizer.get_lr()) for the global lr, "
                "or a list of numbers"
            )
        m = found[0]
        out.append(glob if m == 1.0 else glob * m)
    return out


def _distinct(params: list, ratio: Any, name: str, i: int) -> list[float]:
    """The distinct lr multipliers of ``params`` (at most two: enough to refuse), as Paddle reads them:
    ``optimize_attr['learning_rate']`` (1 when missing), times AdamW's ``lr_ratio(param)`` when set."""
    values: Any = None
    if ratio is None:
        try:  # the usual case, in one pass: every parameter has its optimize_attr dict
            values = {p.optimize_attr.get("learning_rate", 1.0) for p in params}
        except (AttributeError, TypeError):  # no dict, or an unhashable value: one at a time
            values = None
    if values is None:
        values = []
        for p in params:
            attr = getattr(p, "optimize_attr", None)
            m = attr.get("learning_rate", 1.0) if isinstance(attr, dict) else 1.0
            if ratio is not None:
                m = _number(
                    f"{name}: param group {i}, optimize_attr['learning_rate'] of parameter "
                    f"{str(getattr(p, 'name', '?'))[:60]}",
                    m,
                )
                m *= _number(f"{name}: AdamW lr_ratio of parameter {str(getattr(p, 'name', '?'))[:60]}", ratio(p))
            values.append(m)
    found: list[float] = []
    for v in values:
        m = _number(f"{name}: param group {i}, a parameter's optimize_attr['learning_rate']", v)
        if not any(m == f or (m != m and f != f) for f in found):
            found.append(m)
            if len(found) > 1:
                break
    return found


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

    def __init__(
        self,
        path: str | os.PathLike[str] | TextIO,
        tensorboard_dir: str | os.PathLike[str] | None = None,
        *,
        tag: str = "lr",
        flush_every: int = 100,
    ) -> None:
        if isinstance(flush_every, bool) or not isinstance(flush_every, int) or flush_every < 1:
            raise ValueError(f"flush_every must be a whole number >= 1, got {flush_every!r}")
        self._writer = None
        if tensorboard_dir is not None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as e:
                raise ImportError(
                    f"tensorboard_dir needs torch and tensorboard (pip install tensorboard): {e}"
                ) from None
            self._writer = SummaryWriter(os.fspath(tensorboard_dir))
        if hasattr(path, "write"):
            # a text stream: of path's types (a path or a TextIO) the one that writes
            self._fh: IO[str] = cast("IO[str]", path)
            self._own = False
            self.path = None
        elif not isinstance(path, (str, os.PathLike)):
            raise TypeError(
                f"path must be a file path (str or os.PathLike) or a text stream (with .write), "
                f"got {type(path).__name__}"
            )
        else:
            self.path = os.fspath(path)
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
        """Write the lr of each param group at ``step``; returns the values written.

        ``step`` first (a finite number: the training step, the row's ``step`` column),
        then ``lrs``: what holds the lrs (see :func:`current_lrs`): a PyTorch or Paddle
        optimizer (each group's lr as the optimizer applies it), a scheduler
        (``get_last_lr()``: its own values), a list of numbers or one number. Wrong
        arguments (the two swapped, a type that holds no lr) raise ``TypeError``
        naming the argument; a Paddle group whose parameters get different lrs raises
        ``ValueError``. Nothing is written for a call that raises.
        """
        if self.closed:
            raise ValueError("this LRLogger is closed")
        if not _is_number(step):
            swapped = _is_number(lrs) or isinstance(lrs, (list, tuple))
            hint = (
                ". The arguments look swapped: the call is log(step, lrs), e.g. log(step, optimizer)"
                if swapped
                else ": the call is log(step, lrs), the step first"
            )
            raise TypeError(f"LRLogger.log: step must be a finite number (the training step), got {_brief(step)}{hint}")
        if not -_STEP_BOUND < step < _STEP_BOUND:  # exact comparison, no float() of a huge int; False for NaN
            if step != step or step in (math.inf, -math.inf):
                raise TypeError(f"LRLogger.log: step must be a finite number (the training step), got {show(step)}")
            raise ValueError(
                f"LRLogger.log: step must be above -2**63 and below 2**63 (the training step), got {show(step)}"
            )
        values = _read(lrs, "lrs")
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

    def __enter__(self) -> LRLogger:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()  # also when the loop failed: the rows logged so far are kept


class Progress:
    """A progress line on ``stream`` (default stderr) that appears only after ``delay`` seconds.

    On a terminal the line is redrawn in place (``\\r``); elsewhere (a log file, a
    pipe) a plain line is written at most every ``every`` seconds, so logs stay short.
    Nothing is printed for work that ends before ``delay``.

    >>> with Progress(3, "demo", delay=60) as p:   # quick work: prints nothing
    ...     p.update(3)
    """

    def __init__(
        self,
        total: int | None,
        desc: str = "",
        *,
        stream: TextIO | None = None,
        delay: float = 1.0,
        every: float = 5.0,
        width: int = 28,
        enabled: bool = True,
        unit: str = "",
    ) -> None:
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
            return (
                f"{head}[{'#' * fill}{'.' * (self.width - fill)}] {frac * 100:3.0f}% "
                f"{self.n}/{self.total}{unit} {el:.1f}s{eta_s}{tail}"
            )
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

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is not None and self.enabled and self._shown and self._tty:
            # failed: erase the line, so the error that follows is the only one
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False
            return
        self.close()


def progress(
    iterable: Iterable[T],
    total: int | None = None,
    desc: str = "",
    *,
    stream: TextIO | None = None,
    use_tqdm: bool = True,
    delay: float = 0.0,
) -> Iterator[T]:
    """``iterable`` with a progress bar on stderr: tqdm if installed (and ``use_tqdm``), else :class:`Progress`."""
    if total is None and isinstance(iterable, Sequence):
        total = len(iterable)
    if use_tqdm:
        try:
            from tqdm import tqdm
        except ImportError:
            pass
        else:
            yield from tqdm(
                iterable,
                total=total,
                desc=desc or None,
                file=stream if stream is not None else sys.stderr,
                delay=delay,
                dynamic_ncols=True,
            )
            return
    with Progress(total, desc, stream=stream, delay=delay) as bar:
        for item in iterable:
            yield item
            bar.update(1)
