"""lrkit: learning-rate schedules defined once, in closed form, for any framework.

>>> import lrkit
>>> s = lrkit.WarmupCosine(peak_lr=0.1, total_steps=1000, warmup_steps=100)
>>> round(s(550), 6)
0.05

The core needs numpy only; the PyTorch and PaddlePaddle bindings
(``lrkit.torch``, ``lrkit.paddle``) and plotting import their framework lazily.
"""

from __future__ import annotations

import importlib as _importlib
from typing import TYPE_CHECKING, Any

from .core import Phase, Schedule, ScheduleWarning, registered

__version__ = "0.1.0"

# Imported on first use (a scalar evaluation needs none of them): configs, the recipes, the
# entry points that read any scheduler, and the subpackages (lrkit.explain, the words, too).
_KINDS = {
    ".schedules.algebra": ("Dampening", "Piecewise", "Product", "Ramp", "Retime", "Shift", "Sum", "dampened"),
    ".schedules.compose": ("Clip", "FunctionSchedule", "Hold", "PerStep", "Scale", "Sequence", "Warmup"),
    ".schedules.cycles": ("CosineRestarts", "Cyclic"),
    ".schedules.decays": (
        "Constant",
        "Cosine",
        "Exponential",
        "InverseSqrt",
        "InverseTime",
        "Linear",
        "LinearGrowth",
        "MultiStep",
        "OneCycle",
        "Polynomial",
        "RAdamDampening",
        "Step",
        "Tanh",
        "WarmupStableDecay",
    ),
    ".schedules.paddle_compat": ("PolynomialCycle",),
    ".schedules.presets": ("WarmupCosine", "untuned_exponential_warmup", "untuned_linear_warmup"),
}
_LAZY = {
    # the kinds: their module is imported when one of them is first named (lrkit.Cosine, ...)
    **{name: module for module, names in _KINDS.items() for name in names},
    **dict.fromkeys(("from_config",), ".configs"),
    **dict.fromkeys(("Units", "from_dict", "from_json", "from_yaml", "load"), ".config"),
    **dict.fromkeys(
        ("CAWB", "CawbLf", "DropInWarning", "TorchvisionWarmup", "YoloxCos", "YoloxStep", "get_lr_scheduler"),
        ".recipes",
    ),
    **dict.fromkeys(("schedule_of", "show"), ".convert.entry"),
}
_SUBMODULES = frozenset(
    {
        "recipes",
        "config",
        "convert",
        "catalog",
        "plot",
        "replan",
        "plateau",
        "rangetest",
        "tables",
        "textplot",
        "lrlog",
        "cli",
        "configs",
        "explain",  # the words: a package, callable as lrkit.explain(obj) (lrkit.explain._ExplainModule)
    }
)

if TYPE_CHECKING:  # what static tools see; lrkit.explain is the function (also a package of words at run time)
    from . import config as config
    from . import convert as convert
    from . import plateau as plateau
    from . import plot as plot
    from . import rangetest as rangetest
    from . import recipes as recipes
    from . import replan as replan
    from .config import Units, from_dict, from_json, from_yaml, load
    from .configs import from_config as from_config
    from .convert.entry import explain as explain
    from .convert.entry import schedule_of, show
    from .recipes import CAWB, CawbLf, DropInWarning, TorchvisionWarmup, YoloxCos, YoloxStep, get_lr_scheduler
    from .schedules.algebra import Dampening, Piecewise, Product, Ramp, Retime, Shift, Sum, dampened
    from .schedules.compose import Clip, FunctionSchedule, Hold, PerStep, Scale, Sequence, Warmup
    from .schedules.cycles import CosineRestarts, Cyclic
    from .schedules.decays import (
        Constant,
        Cosine,
        Exponential,
        InverseSqrt,
        InverseTime,
        Linear,
        LinearGrowth,
        MultiStep,
        OneCycle,
        Polynomial,
        RAdamDampening,
        Step,
        Tanh,
        WarmupStableDecay,
    )
    from .schedules.paddle_compat import PolynomialCycle
    from .schedules.presets import WarmupCosine, untuned_exponential_warmup, untuned_linear_warmup
else:

    def __getattr__(name: str) -> Any:
        if name in _LAZY:
            value = getattr(_importlib.import_module(_LAZY[name], __name__), name)
        elif name in _SUBMODULES:
            value = _importlib.import_module("." + name, __name__)
        else:
            raise AttributeError(f"module 'lrkit' has no attribute {name!r}")
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)


__all__ = [
    "Schedule",
    "Phase",
    "ScheduleWarning",
    "registered",
    "Units",
    "from_dict",
    "from_json",
    "from_yaml",
    "load",
    "from_config",
    "Constant",
    "Cosine",
    "Linear",
    "Polynomial",
    "Step",
    "MultiStep",
    "Exponential",
    "InverseSqrt",
    "InverseTime",
    "Tanh",
    "LinearGrowth",
    "RAdamDampening",
    "OneCycle",
    "WarmupStableDecay",
    "PolynomialCycle",
    "CosineRestarts",
    "Cyclic",
    "WarmupCosine",
    "Sequence",
    "Warmup",
    "Hold",
    "Scale",
    "Clip",
    "PerStep",
    "FunctionSchedule",
    "untuned_linear_warmup",
    "untuned_exponential_warmup",
    "Product",
    "Shift",
    "Retime",
    "Sum",
    "Ramp",
    "Piecewise",
    "Dampening",
    "dampened",
    "schedule_of",
    "show",
    "explain",
    "DropInWarning",
    "get_lr_scheduler",
    "YoloxCos",
    "YoloxStep",
    "TorchvisionWarmup",
    "CAWB",
    "CawbLf",
]
