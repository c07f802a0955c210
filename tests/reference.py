"""The recipes' reference values, computed by the original code (a copy of
``shared/reference/seed_recipes.json``, kept beside the tests so a clean clone has it)."""

from __future__ import annotations

import json
from pathlib import Path

PATH = Path(__file__).parent / "data" / "seed_recipes.json"
REF = json.loads(PATH.read_text())
CASES = REF["cases"]


def cases(recipe: str) -> list[dict]:
    """The reference cases of one recipe."""
    return [c for c in CASES if c["recipe"] == recipe]
