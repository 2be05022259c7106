from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import Settings
from gateway.runtime import Node
from tests.conftest import make_settings


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    # Small tree-head interval so every test crosses several signed heads.
    return make_settings(tmp_path / "data", db_url, audit__sth_every_records="10")


async def fill(node: Node, count: int, *, start: int = 0, event: str = "test.record") -> list[int]:
    """Append records one after another (each awaited: deterministic order)."""
    return [await node.audit.append(event, "tester", subject=f"LV/{i % 3}", details={"n": start + i})
            for i in range(count)]
