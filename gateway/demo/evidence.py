"""The evidence as the portal shows it: title and issuer from the evidence metadata, and for XML the readable
rows of the preview space's renderer (preview_space/render.py: hardened parser, no XSLT) with the root element
left out of each path (``/Diploma/institution`` → ``institution``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.demo.texts import field_label
from pki.xml.parser import XmlRefused
from preview_space.render import xml_rows


def _title(metadata: Mapping[str, Any], lang: str) -> str:
    titles = {t.get("lang", "").lower(): t.get("value", "") for t in metadata.get("title") or []}
    return titles.get(lang) or titles.get("en") or next(iter(titles.values()), "") or "Evidence"


def render_evidence(content: bytes, media_type: str, metadata: Mapping[str, Any],
                    lang: str) -> tuple[str, str, list[tuple[str, str]]]:
    """(title, issuing authority, rows); rows are empty for formats shown only as a download (PDF)."""
    rows: list[tuple[str, str]] = []
    if media_type.endswith("xml"):
        try:
            found, _truncated = xml_rows(content, max_rows=200)
        except XmlRefused:
            found = []
        for row in found:
            path = row.path.split("/", 2)[-1] if row.path.count("/") >= 2 else row.path.lstrip("/")
            rows.append((field_label(path, lang), row.value))
    return _title(metadata, lang), str(metadata.get("issuing_authority") or ""), rows
