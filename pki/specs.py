"""Where the official specification artifacts (XSD, Schematron, code lists) are read from, and compiled schemas.

Every package validates against files in ``$GATEWAY_SPECS_DIR``, else ``../shared/specs`` beside the repository;
they are loaded from there by path, never copied into the tree.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from lxml import etree


def default_specs_dir() -> Path | None:
    """``$GATEWAY_SPECS_DIR``, else ``../shared/specs`` next to the repository, when it exists."""
    configured = os.environ.get("GATEWAY_SPECS_DIR")
    candidate = Path(configured) if configured else Path(__file__).resolve().parents[2] / "shared" / "specs"
    return candidate if candidate.is_dir() else None


@functools.lru_cache(maxsize=16)
def load_schema(path: Path) -> etree.XMLSchema:
    """A compiled XML Schema, cached per file. Our own copies of official schemas, not untrusted input: they need
    relative imports resolved from disk (and xml.xsd carries a DOCTYPE, which parse_xml refuses), so they are
    parsed with a plain parser — still without network access or entity resolution. Never used for messages."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(path), parser))
