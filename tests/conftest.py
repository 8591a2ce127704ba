"""Shared fixtures: the real datasets beside the repository, and small seeded tensors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("GLIMPSE_SHARED_DATA", REPO.parent / "shared" / "data"))


def shared_path(*parts: str) -> Path:
    """Return a path inside the shared datasets, skipping the test when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(
            f"needs the real dataset at {path}; it sits beside the repository in CI. "
            "Set GLIMPSE_SHARED_DATA to another copy to run this test."
        )
    return path


@pytest.fixture
def shared_data() -> Path:
    """The shared datasets folder (the test is skipped when it is absent)."""
    return shared_path()
