"""The examples in lrkit's docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import lrkit

MODULES = sorted(m.name for m in pkgutil.walk_packages(lrkit.__path__, "lrkit.") if m.name != "lrkit.__main__")


@pytest.mark.parametrize("name", ["lrkit", *MODULES])
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    if name.startswith(("lrkit.schedules.", "lrkit.recipes.")) and not name.endswith("._dropin"):
        assert result.attempted > 0, f"{name} has no docstring example"
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples failed in {name}"
