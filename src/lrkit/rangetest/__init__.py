"""The LR range test (Smith 2017; fastai's ``lr_find``): train briefly while the learning
rate grows, watch the loss, pick a learning rate.

The core (:mod:`lrkit.rangetest.core`) needs numpy only; the framework helpers import
their framework when used:

* :func:`lrkit.rangetest.torch.range_test` (PyTorch model, optimizer, data)
* :func:`lrkit.rangetest.paddle.range_test` (Paddle)
* :func:`lrkit.rangetest.keras.range_test` (a compiled Keras 3 model)
* :func:`lrkit.rangetest.jax.range_test` (a user step function, optax or not)
* :class:`lrkit.rangetest.keras.RangeTestCallback` (the test inside Keras' ``model.fit``)

:meth:`RangeTest.from_schedule` drives the sweep with any lrkit schedule, and
:func:`from_deepspeed` makes the test of DeepSpeed's ``LRRangeTest`` scheduler (its lrs,
float for float); each helper runs a given test (``test=``).

Each runs on the user's own model and data and puts the model and optimizer back as they
were, bit for bit, also when the loss turns NaN or the user's code raises.

>>> from lrkit.rangetest import RangeTest
>>> res = RangeTest(1e-4, 1.0, num_iter=41, smooth_f=0).run(lambda i, lr: abs(lr - 0.01) + 1.0)
>>> res.suggestion("minimum", skip_start=0, skip_end=0) == res.lrs[20] / 10
True
"""

from __future__ import annotations

from .core import (
    FLAVORS,
    MODES,
    RULES,
    LossRecorder,
    RangeTest,
    RangeTestResult,
    batches,
    defaults,
    resolve,
    suggest,
    sweep,
)
from .deepspeed import from_deepspeed

__all__ = [
    "FLAVORS",
    "MODES",
    "RULES",
    "LossRecorder",
    "RangeTest",
    "RangeTestResult",
    "batches",
    "defaults",
    "from_deepspeed",
    "resolve",
    "suggest",
    "sweep",
]
