"""Keras 3: an lrkit schedule as a ``LearningRateSchedule`` (:class:`ScheduleLR`), and Keras'
schedules converted to lrkit (:func:`from_keras`).

>>> import keras, lrkit
>>> from lrkit.keras import ScheduleLR
>>> lr = ScheduleLR(lrkit.WarmupCosine(peak_lr=1e-3, total_steps=10_000, warmup_steps=500))
>>> opt = keras.optimizers.AdamW(learning_rate=lr)
>>> round(float(lr(5_250)), 6)
0.0005

Keras evaluates the schedule at its optimizer's ``iterations`` inside its train step,
on the jax, torch or tensorflow backend, in ``keras.config.floatx()`` (float32 by
default: the float32 rounding of lrkit's values). How it is evaluated (a table of
lrkit's float64 values, or the kind's formula with ``keras.ops``) is explained in
:mod:`lrkit._device`. The schedule is serialisable: ``get_config()`` holds its lrkit
spec, so a model saved to ``.keras`` and loaded back has the same schedule at the
same iteration. A schedule that cannot be written as a spec (a Python function, a
subclass of a kind, a drop-in's lenient build) is refused when the ``ScheduleLR`` is
made, not when ``model.save`` has already truncated the file.

Values the dtype Keras computes in cannot hold are refused when the ``ScheduleLR`` is
made or loaded (and when it is first called under another ``floatx``): in float32,
more than 3.4e38; in float16, more than 65504, or a formula of the step count past
65504 (float16's largest number). The jax backend computes float64 only with
``jax_enable_x64``. A positive value below the dtype's smallest number becomes 0 (see
:mod:`lrkit._device`).

This module imports keras (set ``KERAS_BACKEND`` first); ``import lrkit`` does not.
:func:`from_keras` reads a Keras schedule's settings and needs nothing else.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

import keras
import numpy as np
from keras import ops

from . import _check
from ._device import Plan
from .config import from_dict
from .convert.keras import from_keras
from .core import Schedule

__all__ = ["ScheduleLR", "from_keras", "PlateauScheduleLR", "PlateauCallback"]

_FIELDS = ("schedule", "total_steps", "method")


#: the operations taken from the backend itself (see _native): Keras' own give float32 for float64
_NATIVE = frozenset({"minimum", "maximum", "floor", "cos", "tanh", "ceil", "floor_divide"})


class _Ops:
    """``keras.ops`` under the numpy names the kernels' namespace uses."""

    def __getattr__(self, name: str) -> Any:
        if name in _NATIVE:
            return lambda *args: _native(name, *args)
        return getattr(ops, name)

    @staticmethod
    def asarray(v: Any, dtype: Any = None) -> Any:
        return ops.convert_to_tensor(v, dtype=dtype)

    @staticmethod
    def fmod(a: Any, b: Any) -> Any:
        return ops.mod(a, b)  # positions are >= 0: the same as C's fmod

    @staticmethod
    def zeros_like(x: Any, dtype: Any = None) -> Any:
        return ops.zeros_like(x, dtype=dtype)


def _native(name: str, *args: Any) -> Any:
    """``ops.<name>(*args)`` in the dtype of its tensor arguments. On the torch backend Keras
    (3.15) computes ``floor``, ``ceil``, ``floor_divide``, ``minimum`` and ``maximum`` of float64
    tensors in float32 (a float64 floatx computed in float32, steps past 2**24 miscounted),
    and on the jax backend ``cos``, ``tanh``, ``floor`` and ``ceil``: the backend's own
    functions there."""
    backend = keras.backend.backend()
    if backend == "jax":
        # Keras (3.15) on jax computes cos, tanh, floor and ceil of float64 arrays in float32
        import jax.numpy as jnp

        if any(hasattr(a, "dtype") and a.dtype == jnp.float64 for a in args):
            return getattr(jnp, name)(*args)
        return getattr(ops, name)(*args)
    if backend != "torch":
        return getattr(ops, name)(*args)
    import torch

    x = next((a for a in args if isinstance(a, torch.Tensor)), None)
    if x is None:
        return getattr(ops, name)(*args)
    # integer tensors too: Keras (3.15) floor_divide of int64 counts on torch gives int32 (wrapping past 2**31)
    # a Python number as a 0-d tensor of x's dtype (past its range: inf, as Keras converts it)
    ts = [
        a if isinstance(a, torch.Tensor) else torch.tensor(float(a), dtype=torch.float64).to(x.device, x.dtype)
        for a in args
    ]
    dt = ts[0].dtype
    for t in ts[1:]:
        dt = torch.promote_types(dt, t.dtype)
    return getattr(torch, name)(*(t.to(dt) for t in ts))


_OPS = _Ops()


def _eager() -> Any:
    """A context in which the backend computes at once, also inside a compiled train step."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.ensure_compile_time_eval()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.init_scope()
    return contextlib.nullcontext()


def _key(dtype: str) -> tuple[Any, ...]:
    """What decides the dtype the backend computes in: the backend, floatx (and JAX's x64)."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return (backend, dtype, bool(jax.config.read("jax_enable_x64")))
    return (backend, dtype)


def _compiled(fn: Any) -> Any:
    """``fn`` compiled as the backend compiles a train step (jax: ``jax.jit``, tensorflow:
    ``tf.function``; torch runs eagerly): compilers rewrite arithmetic, so a check of the
    values runs the compiled function."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.jit(fn)
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.function(fn)
    return fn


def _numpy(x: Any) -> np.ndarray:
    """A backend tensor as a numpy array of its own dtype."""
    if keras.backend.backend() == "torch":  # keras' convert_to_numpy warns through torch's __array__
        a = x.detach().cpu()
        if keras.backend.standardize_dtype(x.dtype) == "bfloat16":
            import ml_dtypes

            return a.float().numpy().astype(ml_dtypes.bfloat16)  # exact: bfloat16 is float32 cut short
        return a.numpy()
    return np.asarray(ops.convert_to_numpy(x))


def _fix(dtype: str) -> str:
    """What to do when ``dtype`` (what the backend computed in) cannot hold a schedule."""
    if dtype == "float64":
        return ""  # Keras' widest float
    no_x64 = False
    if keras.backend.backend() == "jax":
        import jax

        no_x64 = not jax.config.read("jax_enable_x64")
    x64 = "jax.config.update('jax_enable_x64', True) (without it the jax backend's float64 is float32)"
    if keras.config.floatx() == "float64":  # float64 asked for, a narrower float computed
        return f"enable float64 in JAX: {x64}" if no_x64 else ""
    wider = "'float32' or 'float64'" if dtype in ("float16", "bfloat16") else "'float64'"
    todo = f"compute in a wider float: keras.config.set_floatx({wider}) before making or loading it"
    return f"{todo}, and for float64 {x64}" if no_x64 else todo


def _unsaveable(schedule: Schedule, why: str) -> ValueError:
    return ValueError(
        f"ScheduleLR: {_check.show(schedule)} cannot be saved with a Keras model ({why}); Keras writes a "
        "learning-rate schedule's config into the .keras file, so model.save would fail: build it from lrkit's "
        "kinds (lrkit.from_dict, `lrkit list`), or, for values of your own, lrkit.Piecewise(values, boundaries) "
        "of them"
    )


def _saved_config(schedule: Schedule) -> dict[str, Any]:
    """``schedule.to_dict()``, refused unless it is plain JSON that builds this very schedule again."""
    try:
        spec = schedule.to_dict()
        text = json.dumps(spec)
    except (TypeError, ValueError) as e:
        raise _unsaveable(schedule, str(e)) from None
    try:
        again = from_dict(json.loads(text))
    except (TypeError, ValueError) as e:
        raise _unsaveable(schedule, f"its config does not build again: {e}") from None
    if again != schedule:
        raise _unsaveable(
            schedule,
            f"its config builds {_check.show(again)}, another schedule "
            f"({type(again).__name__}, not {type(schedule).__name__})",
        )
    return json.loads(text)


@keras.saving.register_keras_serializable(package="lrkit")
class ScheduleLR(keras.optimizers.schedules.LearningRateSchedule):
    """An lrkit schedule as a Keras ``LearningRateSchedule``: ``lr = schedule(iterations)``.

    ``schedule`` is an lrkit schedule (or its config dict). Every kind runs without
    ``total_steps`` and at any iteration; ``total_steps`` (the run's length) sets how far a
    table of lrkit's values reaches, and past it the kind's formula goes on (a schedule
    constant there: its last value, exactly). ``method`` is ``"auto"`` (the most exact: the
    table where it is known, the formula past it), ``"table"`` or ``"formula"`` (see
    :mod:`lrkit._device`); ``repr`` and :attr:`runs` say which runs. (A schedule running a
    Python function, the one kind that needs ``total_steps``, cannot be saved with a
    model and so is refused here.)

    Refused with a ``ValueError`` when made (or loaded): a schedule Keras could not save
    with the model (no config: a Python function, a subclass, a drop-in's lenient
    build), and values ``keras.config.floatx()`` cannot hold (see :mod:`lrkit._device`).
    """

    def __init__(
        self, schedule: Schedule | Mapping[str, Any], total_steps: int | None = None, method: str = "auto"
    ) -> None:
        super().__init__()
        if isinstance(schedule, Mapping):
            schedule = from_dict(schedule)
        plan = Plan(schedule, total_steps, method, "ScheduleLR")
        spec = _saved_config(schedule)  # before any model.save truncates a file
        self._plan = plan
        self._config = {"schedule": spec, "total_steps": plan.total_steps, "method": method}
        self._check(keras.config.floatx())

    @property
    def schedule(self) -> Schedule:
        """The lrkit schedule (fixed: make another ``ScheduleLR`` for another)."""
        return self._plan.schedule

    @property
    def total_steps(self) -> int | None:
        return self._plan.total_steps

    @property
    def method(self) -> str:
        """The method asked for (``"auto"``, ``"table"`` or ``"formula"``)."""
        return self._config["method"]

    def _check(self, dtype: str) -> None:
        """Refuse values ``dtype`` cannot hold (see :meth:`lrkit._device.Plan.check`)."""
        key = _key(dtype)
        if self._plan.is_checked(key):
            return
        plan = self._plan
        with _eager():
            zeros = ops.convert_to_tensor(np.zeros(1, np.int64))
            # keras ships no type annotations: convert_to_tensor's result is inferred as None or object,
            # while every backend returns a tensor with a dtype (keras.ops.dtype is newer than keras 3.0)
            ints = np.dtype(keras.backend.standardize_dtype(zeros.dtype))  # pyright: ignore[reportOptionalMemberAccess, reportAttributeAccessIssue]

            def run(counts: np.ndarray) -> np.ndarray:
                with _eager():
                    host = plan.host_table(key, dtype)
                    table = None if host is None else ops.convert_to_tensor(host, dtype=dtype)
                    f = _compiled(lambda c, tab: plan.evaluate(c, _OPS, dtype, key, lambda _: tab))
                    return _numpy(f(ops.convert_to_tensor(counts.astype(ints)), table))

            plan.check(key, run, int(np.iinfo(ints).max), _fix)

    def _evaluate(self, count: Any, dtype: str) -> Any:
        if "int" not in str(count.dtype):  # a float step: the whole steps done
            count = ops.cast(ops.floor(count), "int32")
        return self._plan.evaluate(count, _OPS, dtype, _key(dtype), lambda a: ops.convert_to_tensor(a, dtype=dtype))

    def __call__(self, step: Any) -> Any:
        dtype = keras.config.floatx()
        self._check(dtype)  # at once when checked already (under this floatx, when it was made)
        return self._evaluate(ops.convert_to_tensor(step), dtype)

    @property
    def runs(self) -> str:
        """Which method runs under the current ``floatx`` (also in ``repr``): ``"formula (float32)"``,
        ``"table of 1,001 steps (float32 rounding of lrkit's values), then the formula (float32)"``, ..."""
        return self._plan.runs(keras.config.floatx())

    def get_config(self) -> dict[str, Any]:
        return json.loads(json.dumps(self._config))  # a copy: checked when made

    @classmethod
    def from_config(cls, config: Any) -> ScheduleLR:
        """A ``ScheduleLR`` from :meth:`get_config`'s dict (a ``.keras`` file's), every field checked."""
        where = "ScheduleLR config"
        if not isinstance(config, Mapping):
            raise ValueError(
                f"{where} must be a mapping with the fields {', '.join(_FIELDS)}, got {_check.show(config)}"
            )
        unknown = sorted(map(str, set(config) - set(_FIELDS)))
        if unknown:
            raise ValueError(f"{where}: unknown field {_check.show(unknown[0])}; valid: {', '.join(_FIELDS)}")
        if "schedule" not in config:
            raise ValueError(f"{where}: the field 'schedule' (an lrkit spec) is missing")
        spec = config["schedule"]
        if not isinstance(spec, Mapping):
            raise ValueError(
                f"{where}: the field 'schedule' must be an lrkit spec (a mapping with a 'type'), "
                f"got {_check.show(spec)}"
            )
        method = config.get("method", "auto")
        if not isinstance(method, str):
            raise ValueError(
                f"{where}: the field 'method' must be one of 'auto', 'table', 'formula', got {_check.show(method)}"
            )
        try:
            schedule = from_dict(spec)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{where}, field 'schedule': {e}") from None
        return cls(schedule, config.get("total_steps"), method)

    def __repr__(self) -> str:
        ts = "" if self.total_steps is None else f", total_steps={self.total_steps!r}"
        return f"ScheduleLR({self.schedule!r}{ts}, method={self.method!r})  # {self.runs}"


# a plan with reduce-on-plateau (defined in _keras_plateau, which builds on ScheduleLR above)
from ._keras_plateau import PlateauCallback, PlateauScheduleLR  # noqa: E402
