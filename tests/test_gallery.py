"""The gallery script renders one PNG per built-in kind and recipe, and a page showing each."""

from __future__ import annotations

import importlib.util
import io
import os

import lrkit
from lrkit import cli

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, os.pardir, "docs", "make_gallery.py")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def load_gallery():
    spec = importlib.util.spec_from_file_location("make_gallery", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_gallery_renders_every_kind_and_recipe(tmp_path):
    gallery = load_gallery()
    names = [n for n, _, _ in gallery.ENTRIES + gallery._derived()]
    assert set(lrkit.registered()) <= set(names)  # every built-in kind has a picture
    recipes = {args[0] for _, _, args in gallery.ENTRIES + gallery._derived()}
    assert set(cli.RECIPES) <= recipes  # and every recipe is drawn by its name
    err = io.StringIO()
    page = tmp_path / "gallery.md"
    paths = gallery.build(str(tmp_path / "img"), str(page), dpi=40, stream=err)
    assert len(paths) == len(names)
    for name, path in zip(names, paths):
        assert os.path.basename(path) == f"{name}.png"
        with open(path, "rb") as fh:
            data = fh.read()
        assert data.startswith(PNG_MAGIC) and len(data) > 2000, name
    text = page.read_text(encoding="utf-8")
    for name in names:
        assert f"## {name}" in text and f"](img/{name}.png)" in text
    assert "lrkit plot yolox-cos --lr 0.01" in text
    assert f"{len(names)}/{len(names)} images" in err.getvalue()  # progress shown


def test_committed_gallery_is_complete():
    """docs/gallery holds one small PNG per entry, and the page links them all."""
    gallery = load_gallery()
    folder = os.path.join(HERE, os.pardir, "docs", "gallery")
    page = open(os.path.join(HERE, os.pardir, "docs", "gallery.md"), encoding="utf-8").read()
    for name, _, _ in gallery.ENTRIES + gallery._derived():
        path = os.path.join(folder, f"{name}.png")
        with open(path, "rb") as fh:
            data = fh.read()
        assert data.startswith(PNG_MAGIC) and 5_000 < len(data) < 150_000, name
        assert f"](gallery/{name}.png)" in page
