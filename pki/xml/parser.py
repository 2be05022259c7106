"""The one hardened XML parser every package uses for untrusted input.

Refused, each with its own code: a document larger than the cap, any DOCTYPE (so no DTD, no entity
declarations, no billion laughs, no external entities), anything too deeply nested, and malformed XML.
The parser never touches the network and never resolves entities.

Comments are dropped while parsing. Exclusive c14n without comments ignores them anyway, so digests are
unchanged, and dropping them defeats the "comment injection" trick (``alice@evil.example<!---->.good``)
where a consumer reading ``.text`` would see only the part before the comment.
"""

from __future__ import annotations

from lxml import etree

DEFAULT_MAX_BYTES = 16 * 1024 * 1024
# libxml2 itself refuses more than 256 levels without XML_PARSE_HUGE, which we never set.
DEFAULT_MAX_DEPTH = 256


class XmlRefused(ValueError):
    """Untrusted XML that we will not process. ``code`` is stable (XML_DTD_FORBIDDEN, ...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_blank_text=False,
        collect_ids=False,
    )


def _has_doctype(data: bytes) -> bool:
    head = data
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            head = data.decode("utf-16").encode("utf-8", "replace")
        except UnicodeDecodeError:
            return False  # malformed: the parser will refuse it
    return b"<!DOCTYPE" in head or b"<!ENTITY" in head


def parse_xml(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> etree._ElementTree:
    """Parse untrusted bytes into a tree, or raise :class:`XmlRefused`."""
    if not isinstance(data, bytes):
        raise TypeError("parse_xml takes bytes: the document's declared encoding must decide, not ours")
    if len(data) > max_bytes:
        raise XmlRefused("XML_TOO_LARGE", f"document of {len(data)} bytes exceeds the limit of {max_bytes}")
    if not data.strip():
        raise XmlRefused("XML_EMPTY", "empty document")
    if _has_doctype(data):
        raise XmlRefused("XML_DTD_FORBIDDEN", "documents with a DOCTYPE (DTD or entity declarations) are refused")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        message = str(exc)
        if "depth" in message.lower():
            raise XmlRefused("XML_TOO_DEEP", f"nesting deeper than the parser's limit: {message}") from None
        if "entity" in message.lower():
            raise XmlRefused("XML_ENTITY_FORBIDDEN", message) from None
        raise XmlRefused("XML_MALFORMED", message) from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:  # defence in depth after the byte scan
        raise XmlRefused("XML_DTD_FORBIDDEN", "documents with a DOCTYPE are refused")
    if max_depth < DEFAULT_MAX_DEPTH and _depth(root) > max_depth:
        raise XmlRefused("XML_TOO_DEEP", f"nesting deeper than {max_depth} levels")
    for node in root.iter(etree.Entity):
        raise XmlRefused("XML_ENTITY_FORBIDDEN", f"entity reference &{node.name}; is not allowed")
    return tree


def _depth(root: etree._Element) -> int:
    deepest = 0
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in element)
    return deepest
