"""A saved ``ScheduleLR`` run as a SPEC: ``lrkit plot run.json`` and ``lrkit show run.json``.

The file is a binding's :meth:`~lrkit.torch.ScheduleLR.state_dict` saved as JSON
(``json.dump(sched.state_dict(), f)``, torch or Paddle, with or without ``plateau=...``). It
is told by its content, not its name: a JSON object whose ``class`` is
``lrkit.torch.ScheduleLR`` or ``lrkit.paddle.ScheduleLR`` with a ``last_epoch``
(:func:`_is_run_json`). The run is read back by :class:`lrkit._plateau_plan.PlateauRun`: the
plan, its re-plans and the reductions, without the framework.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from .._files import read_text
from ..core import Schedule
from .common import CLIError, SpecSource

__all__ = ["RunSource", "run_source"]

#: how much of a file is read to tell a saved run by its start
_SNIFF_BYTES = 4096
#: the largest run file read (a state with very many reductions or re-plans)
MAX_RUN_BYTES = 20_000_000
_CLASSES = ('"lrkit.torch.ScheduleLR"', '"lrkit.paddle.ScheduleLR"')


def _is_run_json(path: str) -> bool:
    """Whether ``path`` holds a ``ScheduleLR`` state as JSON: it starts with ``{``, names one of the
    two classes in its first bytes (as ``json.dump(sched.state_dict())`` writes them, ``class``
    first), and parses to an object with that ``class`` and a ``last_epoch``."""
    try:
        if not os.path.isfile(path):
            return False
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return False
    if not head.lstrip().startswith("{") or not any(c in head for c in _CLASSES):
        return False
    try:
        data = json.loads(read_text(path, "run file", MAX_RUN_BYTES))
    except ValueError:
        return False
    return isinstance(data, dict) and f'"{data.get("class")}"' in _CLASSES and "last_epoch" in data


@dataclass
class RunSource(SpecSource):
    """A saved run: not one schedule (``build`` gives group 0's realised lr); ``lrkit plot`` and
    ``lrkit show`` read it whole with :meth:`run`."""

    path: str = ""
    _run: Any = None

    def run(self) -> Any:
        """The run (:class:`lrkit._plateau_plan.PlateauRun`, read once); a file it cannot read
        is a CLIError."""
        if self._run is None:
            from .._plateau_plan import PlateauRun

            try:
                self._run = PlateauRun.load(self.path)
            except (ValueError, TypeError) as e:
                raise CLIError(f"{self.path!r}: {e}") from None
        return self._run


class _Series:
    """What ``lrkit explain`` and ``lrkit export`` read from a source with several curves."""

    def __init__(self, run: Any) -> None:
        self._run = run

    def series(self) -> dict[str, Schedule]:
        return self._run.series()

    def explain(self, lang: str = "en") -> str:
        return self._run.explain(lang)


def _add_run_arguments(p: Any) -> None:
    p.add_argument("--lang", choices=["en", "zh"], default="en", help="language of the run's explanation (default: en)")
    p.add_argument("--no-plan", action="store_true", help="leave out the plan before the reductions (dashed)")


def run_source(spec: str | None) -> SpecSource | None:
    """A ``ScheduleLR`` state saved as JSON (:func:`_is_run_json`)."""
    if spec is None or not _is_run_json(spec):
        return None
    src = RunSource(f"run {spec}", lambda args: src.run().realised()[0], _add_run_arguments, path=spec)
    src.series = lambda args: _Series(src.run())
    src.default_steps = lambda args: _default_steps(src.run())
    src.positions_per_epoch = lambda args: src.run().state.get("steps_per_epoch")
    return src


def _default_steps(run: Any) -> int:
    """The positions drawn by default: the whole plan (a tenth past its end), at least a tenth
    past the saved position, 1000 for a plan without an end."""
    import math

    ends = [s.length for s in run.plan()]
    end = max([e for e in ends if math.isfinite(e)], default=0.0)
    if end <= 0 and run.position <= 0:
        return 1000
    return int(math.ceil(max(end, run.position) * 1.1)) + 1
