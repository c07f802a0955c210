"""One entry point for any scheduler: :func:`schedule_of` converts, :func:`show` prints.

A user holding a scheduler built by their framework or config (torch, transformers,
timm, mmengine, pytorch-warmup, Paddle, Keras) can look at it before training::

    lrkit.show(scheduler)                 # explanation and terminal plot
    lrkit.schedule_of(scheduler).plot()   # matplotlib figure (lrkit[plot])

The framework of ``obj`` is read from the modules of its class and its bases; only
that framework's converter is imported.
"""

from __future__ import annotations

import math
import sys
from typing import Any, TextIO

import numpy as np

from ..core import Schedule

__all__ = ["schedule_of", "show"]

_TORCH_FAMILY = ("torch", "transformers", "timm", "mmengine", "pytorch_warmup")


def _families(obj: Any) -> set[str]:
    return {(k.__module__ or "").split(".")[0] for k in type(obj).__mro__}


def _a_schedule(got: Any, obj: Any) -> Schedule | list[Schedule]:
    """A converter's result as :func:`schedule_of` gives it: a schedule or a list of them (a
    plateau policy, which the converters give for the plateau schedulers, is refused before)."""
    if isinstance(got, (Schedule, list)):
        return got
    from . import unconvertible

    raise unconvertible(obj, "it follows a metric, so its lr is not a function of the step")


def schedule_of(obj: Any, group: int | None = None, **options: Any) -> Schedule | list[Schedule]:
    """The lrkit schedule of ``obj``: an lrkit schedule, a config (dict, or a path to a
    ``.json``/``.yaml`` file), or a scheduler of torch, transformers, timm, mmengine
    (one or a list), pytorch-warmup (``warmup=``), Paddle or Keras.

    ``group`` and ``options`` go to the converter (:func:`lrkit.torch.from_torch`:
    ``group``, ``warmup``, ``epoch_length``). The result is one schedule, or a list with
    one per param group when the groups differ.

    >>> import lrkit
    >>> lrkit.schedule_of({"type": "cosine", "peak_lr": 0.1, "total_steps": 100})
    Cosine(peak_lr=0.1, total_steps=100, min_lr=0, k=1, exponent=1, cycles=0.5, after='hold')
    """
    if isinstance(obj, Schedule):
        if group is not None or options:
            raise ValueError("group= and converter options are for peer schedulers; this is already an lrkit schedule")
        return obj
    if isinstance(obj, dict):
        from ..config import from_dict

        return from_dict(obj)
    if isinstance(obj, (str, bytes)) or hasattr(obj, "__fspath__"):
        from ..config import load

        return load(obj)
    from .plateau import is_plateau

    if is_plateau(obj):
        from . import unconvertible

        raise unconvertible(
            obj,
            "it follows a metric (e.g. the validation loss), so its lr is not a function of the step; "
            "from_torch / from_paddle give its lrkit.plateau.Plateau policy",
        )
    items = list(obj) if isinstance(obj, (list, tuple)) else [obj]
    fams = set().union(*(_families(x) for x in items)) if items else set()
    if fams & set(_TORCH_FAMILY) or options.get("warmup") is not None:
        from ..torch import from_torch

        return _a_schedule(from_torch(obj, group, **options), obj)
    if "paddle" in fams:
        from ..paddle import from_paddle

        _no_options("from_paddle", group, options)
        return _a_schedule(from_paddle(obj), obj)
    if "keras" in fams:
        from ..keras import from_keras

        _no_options("from_keras", group, options)
        return from_keras(obj)
    name = f"{type(obj).__module__}.{type(obj).__qualname__}"
    raise TypeError(
        f"schedule_of: cannot read a schedule from {name}; it takes an lrkit schedule, a config "
        "(dict or file), or a scheduler of torch, transformers, timm, mmengine, pytorch-warmup, "
        "Paddle or Keras"
    )


def _no_options(conv: str, group: int | None, options: dict[str, Any]) -> None:
    if group is not None or options:
        given = ["group"] * (group is not None) + sorted(options)
        raise ValueError(f"{conv} takes no options; got {', '.join(given)}")


def show(
    obj: Any,
    steps: int | None = None,
    *,
    lang: str = "en",
    width: int = 60,
    height: int = 15,
    log: bool = False,
    file: TextIO | None = None,
    group: int | None = None,
    **options: Any,
) -> None:
    """Print what ``obj`` does (any input of :func:`schedule_of`): the explanation in
    ``lang`` ("en" or "zh") and a terminal plot over ``steps`` positions (default: a
    tenth past the schedule's end). One block per param group when the groups differ.

    >>> import lrkit
    >>> lrkit.show(lrkit.Cosine(0.1, 100), width=20, height=3)  # doctest: +ELLIPSIS
    cosine(peak_lr=0.1, total_steps=100)
    <BLANKLINE>
    Half a cosine from 0.1 down to 0 over 100 positions, then 0 for ever.
    ...
    """
    from ..explain import explain
    from ..plot import default_steps, positions, spec_label
    from ..textplot import can_encode_unicode, text_plot

    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be 'en' or 'zh', got {lang!r}")
    out = sys.stdout if file is None else file
    got = schedule_of(obj, group, **options)
    many = isinstance(got, list)
    blocks = []
    for i, s in enumerate(got if many else [got]):
        n = default_steps(s) if steps is None else steps
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= 10_000_000:
            raise ValueError(f"steps must be a whole number in [1, 10000000], got {steps!r}")
        x = positions(int(n))
        head = (f"param group {i}: " if many else "") + spec_label(s)
        marks = sorted({p.start for p in s.phases() if math.isfinite(p.start)})
        blocks.append(
            "\n".join(
                [
                    head,
                    "",
                    explain(s, lang, title=False),
                    "",
                    text_plot(
                        x, s(x), width=width, height=height, marks=marks, log=log, ascii=not can_encode_unicode(out)
                    ),
                ]
            )
        )
    out.write("\n\n".join(blocks) + "\n")


def explain(
    obj: Any,
    lang: str = "en",
    *,
    steps_per_epoch: float | None = None,
    title: bool = True,
    group: int | None = None,
    **options: Any,
) -> str:
    """What ``obj`` does, in words: an lrkit schedule or recipe, a config, or any peer
    scheduler :func:`show` takes (converted first), in ``lang`` (``"en"`` or ``"zh"``).

    ``steps_per_epoch`` adds the epoch to the positions named; ``title`` starts with the
    schedule's spec. A peer scheduler whose param groups differ gets one block per group.
    ``group`` and ``options`` go to the converter, as in :func:`schedule_of`.
    ``lrkit.explain(obj)`` and ``schedule.explain()`` are this function.

    >>> import lrkit
    >>> print(lrkit.explain(lrkit.Cosine(0.1, 100), title=False).splitlines()[0])
    Half a cosine from 0.1 down to 0 over 100 positions, then 0 for ever.
    """
    from ..explain import explain as words

    if not isinstance(obj, Schedule) and callable(getattr(obj, "explain", None)) and not (group or options):
        return obj.explain(lang)  # a recipe's own words (ultralytics_schedules: the trainer's settings)
    got = schedule_of(obj, group, **options)
    if isinstance(got, list):
        return "\n\n".join(
            f"param group {i}:\n" + words(s, lang, steps_per_epoch=steps_per_epoch, title=title)
            for i, s in enumerate(got)
        )
    return words(got, lang, steps_per_epoch=steps_per_epoch, title=title)
