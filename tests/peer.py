"""Shared helpers for the side-by-side tests against peer libraries."""

from __future__ import annotations

import importlib.util
import sys
import types

import numpy as np


def import_timm_scheduler():
    """timm's scheduler package without timm's model zoo (whose import needs torchvision)."""
    if "timm" not in sys.modules:
        spec = importlib.util.find_spec("timm")
        assert spec is not None, "timm is a test dependency"
        pkg = types.ModuleType("timm")
        pkg.__path__ = list(spec.submodule_search_locations)
        sys.modules["timm"] = pkg
    import timm.scheduler

    return timm.scheduler


def assert_same_curve(peer, mine, what, rtol=1e-9):
    """``peer`` and ``mine`` (lists of floats per position) equal at rtol, with an absolute
    floor of 1e-15 of the largest value (where a curve touches 0, the last bits are noise)."""
    a, b = np.asarray(peer, dtype=np.float64), np.asarray(mine, dtype=np.float64)
    assert a.shape == b.shape, what
    atol = 1e-15 * max(float(np.abs(a).max(initial=0.0)), 1e-300)
    bad = ~np.isclose(b, a, rtol=rtol, atol=atol)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise AssertionError(
            f"{what}: at position {i} the peer gives {a[i]!r}, lrkit {b[i]!r} ({int(bad.sum())} positions differ)"
        )


def import_ppdet_optimizer():
    """PaddleDetection's ``ppdet/optimizer/optimizer.py`` (its LearningRate and schedulers),
    run as it is, without the rest of ppdet (whose import needs OpenCV and more): the
    package, its config registry decorators, its logger and its AdamW module are stand-ins."""
    name = "ppdet.optimizer.optimizer"
    if name in sys.modules:
        return sys.modules[name]
    import logging

    spec = importlib.util.find_spec("ppdet")
    assert spec is not None, "paddledet is a test dependency (installed with --no-deps)"
    root = spec.submodule_search_locations[0]

    def module(mod_name, **attrs):
        m = types.ModuleType(mod_name)
        m.__dict__.update(attrs)
        sys.modules[mod_name] = m
        return m

    module("ppdet", __path__=[root])
    module("ppdet.core")
    module("ppdet.core.workspace", register=lambda cls: cls, serializable=lambda cls: cls)
    module("ppdet.utils")
    module("ppdet.utils.logger", setup_logger=lambda n: logging.getLogger(n))
    module("ppdet.optimizer", __path__=[root + "/optimizer"])
    module("ppdet.optimizer.adamw", AdamWDL=None, build_adamwdl=None)
    file_spec = importlib.util.spec_from_file_location(name, root + "/optimizer/optimizer.py")
    mod = importlib.util.module_from_spec(file_spec)
    sys.modules[name] = mod
    file_spec.loader.exec_module(mod)
    return mod
