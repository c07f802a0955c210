"""lrkit: learning-rate schedules defined once, in closed form, for any framework.

>>> import lrkit
>>> s = lrkit.WarmupCosine(peak_lr=0.1, total_steps=1000, warmup_steps=100)
>>> round(s(550), 6)
0.05

The core needs numpy only; the PyTorch and PaddlePaddle bindings
(``lrkit.torch``, ``lrkit.paddle``) and plotting import their framework lazily.
"""

from __future__ import annotations

import sys as _sys
import types as _types
from typing import TYPE_CHECKING, Any

from .schedules.algebra import Dampening, Piecewise, Ramp, Retime, Shift, Sum, dampened
from .schedules.compose import Clip, FunctionSchedule, Hold, PerStep, Scale, Sequence, Warmup
from .config import Units, from_dict, from_json, from_yaml, load
from .core import Phase, Schedule, ScheduleWarning, registered
from .schedules.cycles import CosineRestarts, Cyclic
from .schedules.decays import (Constant, Cosine, Exponential, InverseSqrt, InverseTime, Linear, LinearGrowth, MultiStep, OneCycle,
                    Polynomial, RAdamDampening, Step, Tanh, WarmupStableDecay)
from .schedules.paddle_compat import PolynomialCycle
from .schedules.presets import WarmupCosine, untuned_exponential_warmup, untuned_linear_warmup
from .schedules.algebra import Product
from .convert.entry import explain as _explain, schedule_of, show
from .recipes import CAWB, CawbLf, DropInWarning, TorchvisionWarmup, YoloxCos, YoloxStep, get_lr_scheduler

__version__ = "0.1.0"

if TYPE_CHECKING:  # what static tools see: lrkit.explain is the function (also a package of words at run time)
    from .convert.entry import explain as explain
else:
    class _ExplainModule(_types.ModuleType):
        """``lrkit.explain``: the package of words (``lrkit.explain.words``, ...), callable as
        ``lrkit.explain(obj, lang="en")`` (:func:`lrkit.convert.entry.explain`)."""

        def __call__(self, obj: Any, lang: str = "en", **kwargs: Any) -> str:
            return _explain(obj, lang, **kwargs)

    _sys.modules[__name__ + ".explain"].__class__ = _ExplainModule

__all__ = [
    "Schedule", "Phase", "ScheduleWarning", "registered", "Units", "from_dict", "from_json", "from_yaml", "load",
    "Constant", "Cosine", "Linear", "Polynomial", "Step", "MultiStep", "Exponential", "InverseSqrt", "InverseTime", "Tanh",
    "LinearGrowth", "RAdamDampening",
    "OneCycle", "WarmupStableDecay", "PolynomialCycle", "CosineRestarts", "Cyclic", "WarmupCosine",
    "Sequence", "Warmup", "Hold", "Scale", "Clip", "PerStep", "FunctionSchedule",
    "untuned_linear_warmup", "untuned_exponential_warmup", "Product", "Shift", "Retime", "Sum", "Ramp", "Piecewise",
    "Dampening", "dampened", "schedule_of", "show", "explain",
    "DropInWarning", "get_lr_scheduler", "YoloxCos", "YoloxStep", "TorchvisionWarmup", "CAWB", "CawbLf",
]
