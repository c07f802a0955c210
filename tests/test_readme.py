"""The README (the landing page) and README_zh.md: their Python examples run as written, the
set-up commands match CI, and they point into the documentation site, whose blocks
tests/test_docs_blocks.py runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
README_ZH = (ROOT / "README_zh.md").read_text(encoding="utf-8")
BLOCKS = [
    (name, i, block)
    for name, text in (("README.md", README), ("README_zh.md", README_ZH))
    for i, block in enumerate(re.findall(r"```python\n(.*?)```", text, flags=re.S))
]


@pytest.mark.parametrize("name, i, code", BLOCKS, ids=[f"{n}:{i}" for n, i, _ in BLOCKS])
def test_every_readme_python_block_runs_on_its_own(name, i, code, tmp_path, monkeypatch) -> None:
    # a reader copies one snippet: each block runs in a fresh namespace, in an empty folder
    monkeypatch.chdir(tmp_path)
    exec(compile(code, f"{name} block {i}", "exec"), {"__name__": "readme"})


def test_readme_starts_with_two_setup_commands_and_ci_runs_the_test_one() -> None:
    for text in (README, README_ZH):
        first = re.search(r"```bash\n(.*?)```", text, flags=re.S)
        assert first is not None
        commands = [line for line in first.group(1).splitlines() if line.strip()]
        assert len(commands) == 2
        ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
        assert commands[1] in ci.splitlines(), "CI must run the README's test command word for word"
        assert "torch==" in commands[1], "torch must be pinned"
    # the commands come first: the title, one sentence, then the commands
    assert README.index("```bash") < README.index("\n## ")


def test_the_readme_is_a_landing_page() -> None:
    assert len(README.splitlines()) <= 250
    assert "README_zh.md" in README and "README.md" in README_ZH
    # one short example per framework
    for binding in ("lrkit.torch", "lrkit.paddle", "lrkit.jax", "lrkit.keras"):
        assert any(binding in code for name, _, code in BLOCKS if name == "README.md"), binding
    # what a newcomer asked for: the size and time of the test install, the torch extra's CUDA
    # packages, timm without torchvision, loading a .keras file, building the site
    for words in (
        "5 GB",
        "about 30 minutes",
        "apt-get install -y chromium",
        'pip install "lrkit[torch]"',
        "timm.scheduler",
        "import lrkit.keras",
        "mkdocs serve",
    ):
        assert words in README, words


def test_every_local_link_of_the_readmes_exists() -> None:
    for name, text in (("README.md", README), ("README_zh.md", README_ZH)):
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if not re.match(r"[a-z]+://", target):
                assert (ROOT / target.split("#")[0]).exists(), f"{name} links {target}"


def test_the_readme_links_every_page_of_the_site() -> None:
    import yaml

    def pages(nav):
        for item in nav:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            yield from pages(value) if isinstance(value, list) else [value]

    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]
    for page in pages(nav):
        if page.startswith(("tutorials/", "zh/")) or page in ("gallery.md", "coming-from.md", "performance.md"):
            assert f"(docs/{page})" in README, f"the README does not link docs/{page}"


def test_the_readme_names_every_example_script() -> None:
    scripts = sorted(p.name for p in (ROOT / "examples").glob("*.py") if p.name != "digits_common.py")
    assert scripts
    for script in scripts:
        assert script in README, f"the README does not name examples/{script}"
