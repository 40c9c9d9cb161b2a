"""Shared test fixtures: paths to the bundled fixtures and to ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
EXAMPLE = ROOT / "examples" / "lepr_sample.csv"
SHARED = Path(os.environ.get("MINML_SHARED_DATA", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The published compilations beside the repository. CI sets MINML_REQUIRE_SHARED=1 so
    that their absence fails the run instead of skipping these tests."""
    if not (SHARED / "training").is_dir():
        if os.environ.get("MINML_REQUIRE_SHARED") == "1":
            pytest.fail(f"shared data not found at {SHARED} (MINML_REQUIRE_SHARED=1)")
        pytest.skip(f"shared data not found at {SHARED}")
    return SHARED
