"""XSD validation of SMP documents against the official schemas in the shared specs directory.

For tests and operators' inspection (``smp parse --xsd``), not the discovery path (which reads only what it
needs, after the signature check). The schemas are loaded by path from ``$GATEWAY_SPECS_DIR`` (default
``../shared/specs`` beside the repository), through the local driver schemas there.
"""

from __future__ import annotations

import copy
from pathlib import Path

from lxml import etree

from pki.specs import default_specs_dir, load_schema
from smp_client.errors import SmpDocumentError
from smp_client.model import Flavour
from smp_client.parse import flavour_of

DRIVERS = {
    Flavour.OASIS_1: Path("_local") / "bdxr-smp-1.0-driver.xsd",
    Flavour.PEPPOL: Path("_local") / "peppol-smp-1.0-driver.xsd",
    Flavour.OASIS_2: Path("_local") / "bdxr-smp-2.0-driver.xsd",
}






def validate(root: etree._Element, specs_dir: Path | str | None = None) -> list[str]:
    """Schema errors of an SMP document (empty when valid)."""
    directory = Path(specs_dir) if specs_dir is not None else default_specs_dir()
    if directory is None:
        raise SmpDocumentError("SMP_SCHEMA_UNAVAILABLE", "no specs directory: set GATEWAY_SPECS_DIR")
    schema = load_schema((directory / DRIVERS[flavour_of(root)]).resolve())
    if schema.validate(copy.deepcopy(root)):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
