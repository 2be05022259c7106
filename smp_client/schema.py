"""XSD validation of SMP documents against the official schemas in the shared specs directory.

For tests and operators' inspection (``smp parse --xsd``), not the discovery path (which reads only what it
needs, after the signature check). The schemas are loaded by path from ``$GATEWAY_SPECS_DIR`` (default
``../shared/specs`` beside the repository), through the local driver schemas there.
"""

from __future__ import annotations

import copy
import functools
import os
from pathlib import Path

from lxml import etree

from smp_client.errors import SmpDocumentError
from smp_client.model import Flavour
from smp_client.parse import flavour_of

DRIVERS = {
    Flavour.OASIS_1: Path("_local") / "bdxr-smp-1.0-driver.xsd",
    Flavour.PEPPOL: Path("_local") / "peppol-smp-1.0-driver.xsd",
    Flavour.OASIS_2: Path("_local") / "bdxr-smp-2.0-driver.xsd",
}


def default_specs_dir() -> Path | None:
    """``$GATEWAY_SPECS_DIR``, else ``../shared/specs`` next to the repository, when it exists."""
    configured = os.environ.get("GATEWAY_SPECS_DIR")
    candidate = Path(configured) if configured else Path(__file__).resolve().parents[2] / "shared" / "specs"
    return candidate if candidate.is_dir() else None


@functools.lru_cache(maxsize=8)
def _schema(path: Path) -> etree.XMLSchema:
    # Our own copies of the official schemas, not untrusted input; relative imports resolved from disk only.
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(path), parser))


def validate(root: etree._Element, specs_dir: Path | str | None = None) -> list[str]:
    """Schema errors of an SMP document (empty when valid)."""
    directory = Path(specs_dir) if specs_dir is not None else default_specs_dir()
    if directory is None:
        raise SmpDocumentError("SMP_SCHEMA_UNAVAILABLE", "no specs directory: set GATEWAY_SPECS_DIR")
    schema = _schema((directory / DRIVERS[flavour_of(root)]).resolve())
    if schema.validate(copy.deepcopy(root)):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
