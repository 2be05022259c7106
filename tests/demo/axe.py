"""axe-core for accessibility checks in headless Chromium: the npm package (fetched once with ``npm pack`` into the
gitignored ``.cache/axe/``), injected into the page; serious and critical violations are what the tests refuse."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import pytest

from gateway.devnet import REPO
from tests.eidas_node.cdp import Browser

AXE_VERSION = "4.10.2"
CACHE = REPO / ".cache" / "axe" / f"axe-core-{AXE_VERSION}.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_source() -> str:
    if not CACHE.exists():
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            try:
                subprocess.run(["npm", "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", tmp, "--silent"],
                               check=True, capture_output=True, timeout=120)
            except (OSError, subprocess.SubprocessError) as exc:
                if os.environ.get("CI"):
                    raise
                pytest.skip(f"axe-core could not be fetched from the npm registry: {exc}")
            archive = next(Path(tmp).glob("axe-core-*.tgz"))
            with tarfile.open(archive) as tar:
                member = tar.extractfile("package/axe.min.js")
                assert member is not None
                CACHE.write_bytes(member.read())
    return CACHE.read_text(encoding="utf-8")


async def serious_violations(browser: Browser) -> list[dict[str, Any]]:
    """Run axe on the current page; the serious and critical violations (id, impact, first targets)."""
    if not await browser.evaluate("typeof window.axe !== 'undefined'"):
        await browser.evaluate(axe_source())
    result = await browser.send("Runtime.evaluate", awaitPromise=True, returnByValue=True, expression=(
        f"axe.run(document, {{runOnly: {{type: 'tag', values: {json.dumps(TAGS)}}}}})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, "
        "nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))"))
    if "exceptionDetails" in result:
        raise RuntimeError(f"axe failed: {result['exceptionDetails']}")
    return [v for v in result["result"]["value"] if v["impact"] in ("serious", "critical")]
