"""axe-core (the accessibility engine, from the npm registry) for the browser tests: fetched once into
``.cache/axe/`` (gitignored) so a clean clone works, injected into the page over CDP, run for WCAG 2.1 A/AA."""

from __future__ import annotations

import io
import json
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

from tests.eidas_node.cdp import Browser

VERSION = "4.10.2"
TARBALL = f"https://registry.npmjs.org/axe-core/-/axe-core-{VERSION}.tgz"
CACHE = Path(__file__).resolve().parents[2] / ".cache" / "axe" / f"axe-{VERSION}.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_source() -> str:
    if not CACHE.exists():
        with urllib.request.urlopen(TARBALL, timeout=60) as reply:
            data = reply.read()
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            member = archive.extractfile("package/axe.min.js")
            assert member is not None
            source = member.read()
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        CACHE.write_bytes(source)
    return CACHE.read_text(encoding="utf-8")


async def violations(browser: Browser, source: str) -> list[dict[str, Any]]:
    """Serious and critical WCAG 2.1 AA violations of the current page."""
    if not await browser.evaluate("typeof window.axe !== 'undefined'"):
        await browser.evaluate(source + "\n;true")
    result = await browser.send("Runtime.evaluate", awaitPromise=True, returnByValue=True, expression=(
        f"axe.run(document, {{runOnly: {{type: 'tag', values: {json.dumps(TAGS)}}}}})"
        ".then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, "
        "targets: v.nodes.map(n => n.target.join(' '))}))))"))
    if "exceptionDetails" in result:
        raise RuntimeError(f"axe failed: {result['exceptionDetails']}")
    found = json.loads(result["result"]["value"])
    return [v for v in found if v["impact"] in ("serious", "critical")]
