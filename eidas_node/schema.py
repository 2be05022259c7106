"""XSD validation of SAML/eIDAS messages against the official schemas, loaded by path at run time.

The schemas are never copied into the repository: the directory comes from ``$GATEWAY_SPECS_DIR`` (default
``../shared/specs`` beside the checkout), the same convention as the AS4 codec.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from eidas_node.saml import EidasError
from pki.specs import default_specs_dir, load_schema

SCHEMA_DRIVER = Path("_local") / "saml2-eidas-driver.xsd"






class SamlSchema:
    """One compiled schema set; :meth:`errors` lists what is wrong (empty when valid)."""

    def __init__(self, specs_dir: Path | str | None = None) -> None:
        directory = Path(specs_dir) if specs_dir is not None else default_specs_dir()
        if directory is None or not (directory / SCHEMA_DRIVER).is_file():
            raise EidasError("EIDAS_SCHEMA_UNAVAILABLE",
                             "SAML/eIDAS schemas not found: set GATEWAY_SPECS_DIR to the shared specs directory")
        self._schema = load_schema((directory / SCHEMA_DRIVER).resolve())

    def errors(self, element: etree._Element) -> list[str]:
        if self._schema.validate(element):
            return []
        return [f"line {e.line}: {e.message}" for e in self._schema.error_log][:5]
