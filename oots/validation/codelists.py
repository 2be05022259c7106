"""Genericode code lists (``*.gc``) from the specs directory, loaded by path, and the checks that use them."""

from __future__ import annotations

import functools
from pathlib import Path

from lxml import etree

GC = "http://docs.oasis-open.org/codelist/ns/genericode/1.0/"


@functools.lru_cache(maxsize=64)
def load_codelist(path: Path) -> tuple[str, frozenset[str]]:
    """(ShortName, codes) of one Genericode file. The key column is ``code`` (``Code`` in EAS.gc); values are
    stripped because the published files carry stray blanks ("IP ", a tab before image/svg+xml)."""
    # recover=True: the published EDMErrorCodes-CodeList.gc (v1.0) has an unclosed SimpleValue in its last row;
    # libxml2's recovery still yields every code, which is the only column the checks need.
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False, huge_tree=False, recover=True)
    root = etree.parse(str(path), parser).getroot()
    name = (root.findtext("Identification/ShortName") or path.stem).strip()
    key = root.find("ColumnSet/Key/ColumnRef")
    column = key.get("Ref") if key is not None else "code"
    codes = frozenset(
        (value.findtext("SimpleValue") or "").strip()
        for value in root.iterfind(f"SimpleCodeList/Row/Value[@ColumnRef='{column}']")
    )
    return name, codes


def load_directory(directory: Path) -> dict[str, frozenset[str]]:
    found: dict[str, frozenset[str]] = {}
    for path in sorted(directory.rglob("*.gc")):
        name, codes = load_codelist(path.resolve())
        found[name] = codes
    return found
