"""Fixtures of the OOTS tests: the EC examples and the specs directory (required under CI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import IN_CI, SHARED_DIR, VECTORS_DIR
from tests.oots.cs_fixtures import session, start  # noqa: F401  (the common-services simulator, for every OOTS test)

EC_DIR = VECTORS_DIR / "oots-edm-v1.0-ec-examples"
SPECS_DIR = SHARED_DIR / "specs"


@pytest.fixture
def ec_dir() -> Path:
    if not EC_DIR.is_dir():
        if IN_CI:
            pytest.fail(f"EC examples missing at {EC_DIR}")
        pytest.skip(f"EC examples absent at {EC_DIR}")
    return EC_DIR


@pytest.fixture
def specs_dir() -> Path:
    if not (SPECS_DIR / "oots-edm" / "v1.0").is_dir():
        if IN_CI:
            pytest.fail(f"specs missing at {SPECS_DIR}")
        pytest.skip(f"specs absent at {SPECS_DIR}")
    return SPECS_DIR
