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
        raise AssertionError(f"{what}: at position {i} the peer gives {a[i]!r}, lrkit {b[i]!r} "
                             f"({int(bad.sum())} positions differ)")
