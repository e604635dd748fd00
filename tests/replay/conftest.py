"""Fixtures for the replay tests: the chapter notebooks."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.fixture(scope="session")
def notebooks() -> list[Path]:
    """The chapter notebooks, sorted; fails when there are none (nothing to replay)."""
    found = sorted(NOTEBOOKS.glob("[0-9]*.ipynb"))
    if not found:
        pytest.fail(f"no chapter notebooks in {NOTEBOOKS}", pytrace=False)
    return found
