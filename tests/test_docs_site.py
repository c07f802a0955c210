"""The documentation site builds strict, its checks can fail, and it works in a real browser.

* ``mkdocs build --strict`` of ``mkdocs.yml`` into a temporary folder passes (warnings are errors:
  a broken link, anchor or image, a page left out of the navigation, an unreadable docstring);
* the same build of a copy with a broken link, a broken anchor and a missing image fails, naming
  each of them (so the first check can fail);
* the built site, served over HTTP, opened in headless Chromium (Debian's ``chromium`` and
  ``chromium-driver``, driven by selenium): pages render with their images loaded, and the search
  box finds a schedule kind by name, linking to its reference.

The code blocks of the pages run in tests/test_docs_blocks.py.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM = Path("/usr/bin/chromium")


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    r = mkdocs_build(ROOT / "mkdocs.yml", out)
    assert r.returncode == 0, r.stderr[-4000:]
    assert "WARNING" not in r.stderr, r.stderr[-4000:]
    return out


def test_the_site_builds_strict_with_every_page(site) -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["strict"] is True and config["docs_dir"] == "docs"
    assert (site / "index.html").is_file()
    for page in ("tutorials/recipes", "reference/kinds", "gallery", "coming-from", "changelog", "zh"):
        assert (site / page / "index.html").is_file(), page
    assert not list(site.rglob("*.py")), "docs/*.py are scripts, not pages"
    kinds = (site / "reference" / "kinds" / "index.html").read_text(encoding="utf-8")
    import lrkit

    for kind, cls in lrkit.registered().items():
        # each kind: its reference (constructor signature read by dynamic inspection) and picture
        assert f'id="{cls.__module__}.{cls.__qualname__}"' in kinds, kind
        assert f'src="../../gallery/{kind}.png"' in kinds, kind
        assert (ROOT / "docs" / "gallery" / f"{kind}.png").is_file(), kind
    assert "peak_lr" in kinds and "total_steps" in kinds and "warmup_steps" in kinds


def test_the_kinds_page_shows_each_kind_with_its_formula() -> None:
    import lrkit
    from lrkit import catalog

    page = (ROOT / "docs" / "reference" / "kinds.md").read_text(encoding="utf-8")
    start = page.index(catalog.TABLE_BEGIN) + len(catalog.TABLE_BEGIN) + 1
    assert page[start : page.index(catalog.TABLE_END)].strip() == catalog.kind_table()
    for kind, cls in lrkit.registered().items():
        section = f"::: {cls.__module__}.{cls.__qualname__}\n"
        assert section in page, kind
        after = page[page.index(section) :]
        assert f"**`{kind}`**: {cls.formula}\n" in after[:600], f"{kind}: formula missing or stale"
        assert f"![{kind}](../gallery/{kind}.png)" in after[:800], kind


def test_a_broken_link_anchor_or_image_fails_the_build(tmp_path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", docs, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    page = docs / "tutorials" / "first-schedule.md"
    page.write_text(
        page.read_text(encoding="utf-8")
        + "\n[gone](no-such-page.md) · [nowhere](training-loop.md#no-such-anchor)\n\n"
        + "![missing](../gallery/no_such_kind.png)\n",
        encoding="utf-8",
    )
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    config = yaml.safe_load(text)
    # the copy keeps every setting but the API reference (its pages stay, as plain text): the
    # checks under test are MkDocs' own, and the build is then quick
    config["plugins"] = [p for p in config["plugins"] if not (isinstance(p, dict) and "mkdocstrings" in p)]
    config["docs_dir"] = str(docs)
    config["markdown_extensions"] = [
        {"pymdownx.snippets": {"base_path": [str(ROOT)], "check_paths": True}}
        if isinstance(e, dict) and "pymdownx.snippets" in e
        else e
        for e in config["markdown_extensions"]
    ]
    copied = tmp_path / "mkdocs.yml"
    copied.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    r = mkdocs_build(copied, tmp_path / "site")
    assert r.returncode != 0
    log = r.stdout + r.stderr
    assert "no-such-page.md" in log, log[-3000:]
    assert "no-such-anchor" in log, log[-3000:]
    assert "no_such_kind.png" in log, log[-3000:]
    assert "Aborted with" in log and "strict mode" in log, log[-3000:]


# -- the browser --------------------------------------------------------------------------------


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def browser(site):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert CHROMIUM.is_file() and CHROMEDRIVER.is_file(), "apt-get install -y chromium chromium-driver"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1000",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        driver.quit()
        server.shutdown()
        server.server_close()


def _images_loaded(driver) -> list[tuple[str, int]]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('article img'))"
        ".map(i => [i.getAttribute('src'), i.complete ? i.naturalWidth : 0]);"
    )


@pytest.mark.parametrize(
    "path, title, least",
    [
        ("/", "lrkit", 1),
        ("/tutorials/recipes/", "The recipes, exactly", 6),
        ("/reference/kinds/", "Schedules: every kind", 35),
        ("/gallery/", "Gallery", 35),
        ("/zh/recipes/", "训练配方", 1),
    ],
)
def test_pages_render_with_their_images(browser, path, title, least) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver, base = browser
    driver.get(base + path)
    WebDriverWait(driver, 20).until(ec.presence_of_element_located((By.CSS_SELECTOR, "article h1")))
    assert driver.find_element(By.CSS_SELECTOR, "article h1").text.strip().startswith(title)
    # images load as the page renders them; wait until every one is complete
    WebDriverWait(driver, 20).until(lambda d: all(w > 0 for _, w in _images_loaded(d)))
    images = _images_loaded(driver)
    assert len(images) >= least, images
    assert all(w > 0 for _, w in images), [src for src, w in images if not w]


def test_the_search_finds_a_kind_by_name(browser) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver, base = browser
    driver.get(base + "/")
    box = WebDriverWait(driver, 20).until(ec.element_to_be_clickable((By.CSS_SELECTOR, "input.md-search__input")))
    box.click()
    box.send_keys("CosineRestarts")

    def result_links(d):
        links = [a.get_attribute("href") or "" for a in d.find_elements(By.CSS_SELECTOR, ".md-search-result__item a")]
        return links if any("reference/kinds/" in h for h in links) else False

    links = [urlsplit(h) for h in WebDriverWait(driver, 30).until(result_links)]
    # a result opens the kind's own entry in the reference (the query is kept to highlight it)
    assert any(u.path == "/reference/kinds/" and u.fragment == "lrkit.schedules.cycles.CosineRestarts" for u in links)
