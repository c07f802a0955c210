"""The Python API of explain: ``schedule.explain()`` and a callable ``lrkit.explain(obj)``."""

from __future__ import annotations

import subprocess
import sys

import pytest

import lrkit
from lrkit.explain import explain as words


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_method_and_callable_give_the_words_of_the_engine(lang):
    s = lrkit.WarmupCosine(0.1, 1000, warmup_steps=100)
    assert s.explain(lang) == words(s, lang) == lrkit.explain(s, lang)
    assert s.explain(lang, steps_per_epoch=50, title=False) == words(s, lang, steps_per_epoch=50, title=False)
    assert lrkit.explain(s, lang, title=False) == words(s, lang, title=False)


def test_every_example_kind_explains_itself():
    from lrkit import catalog

    for kind in lrkit.registered():
        s = catalog.example(kind)
        assert s.explain() == words(s), kind


def test_a_recipe_and_a_peer_scheduler():
    import torch

    u = lrkit.recipes.ultralytics.ultralytics_schedules(0.01, 0.01, 10, 20)
    assert lrkit.explain(u, "zh") == u.explain("zh")
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, 3, gamma=0.5)
    from lrkit.torch import from_torch

    assert lrkit.explain(sched) == words(from_torch(sched))


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="lang"):
        lrkit.Constant(0.1).explain("fr")
    with pytest.raises(TypeError, match="cannot read a schedule"):
        lrkit.explain(object())


def test_the_package_of_words_stays_importable():
    # lrkit.explain is callable and still the package: submodules and names import as before
    code = (
        "import lrkit, lrkit.explain as m, lrkit.explain.en; from lrkit.explain import EXPLAINERS, explain; "
        "assert m is lrkit.explain and callable(m) and m.explain is explain and EXPLAINERS"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
