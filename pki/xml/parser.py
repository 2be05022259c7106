"""The one hardened XML parser every package uses for untrusted input.

Refused, each with its own code: a document larger than the cap, any DOCTYPE (so no DTD, no entity
declarations, no billion laughs, no external entities), anything too deeply nested, and malformed XML.
The parser never touches the network and never resolves entities.

Comments are dropped while parsing. Exclusive c14n without comments ignores them anyway, so digests are
unchanged, and dropping them defeats the "comment injection" trick (``alice@evil.example<!---->.good``)
where a consumer reading ``.text`` would see only the part before the comment.
"""

from __future__ import annotations

import re
import threading

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


class _RefuseExternal(etree.Resolver):
    """Belt and braces: should libxml2 ever try to load a DTD or entity, nothing is opened."""

    def resolve(self, url, public_id, context):  # type: ignore[no-untyped-def]
        raise XmlRefused("XML_DTD_FORBIDDEN", "external DTDs and entities are refused")


_local = threading.local()


def _parser() -> etree.XMLParser:
    """One configured parser per thread (lxml parsers are not shared across threads); building one costs
    more than parsing a small message."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = _new_parser()
    return parser


def _new_parser() -> etree.XMLParser:
    # collect_ids is left at its default on purpose: with libxml2 < 2.15, lxml implements collect_ids=False
    # by setting a "load subset" flag that makes libxml2 fetch external DTD subsets.
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_blank_text=False,
    )
    parser.resolvers.add(_RefuseExternal())
    return parser


# Encodings in which every ASCII character, '<' and '!' included, is the same byte: the prolog check below
# can read the bytes directly. UTF-7, UTF-32, EBCDIC and BOM-less UTF-16 are refused (no peer sends them, and
# they hide markup from byte-level checks).
_ASCII_COMPATIBLE = re.compile(
    r"^(utf-?8|us-ascii|ascii|iso-8859-\d{1,2}|latin-?1|windows-125\d|cp125\d)$", re.IGNORECASE
)
_DECLARATION = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


def _prolog_text(data: bytes) -> str | bytes:
    """The document as text, far enough to see its prolog; refuses encodings that hide markup."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        if data[:4] in (b"\xff\xfe\x00\x00",):
            raise XmlRefused("XML_ENCODING_UNSUPPORTED", "UTF-32 documents are refused")
        try:
            return data.decode("utf-16", errors="replace")
        except UnicodeDecodeError:  # pragma: no cover - errors="replace"
            raise XmlRefused("XML_MALFORMED", "not valid UTF-16") from None
    head = data[:4]
    if b"\x00" in head:
        raise XmlRefused("XML_ENCODING_UNSUPPORTED", "UTF-16 without a byte order mark and UTF-32 are refused")
    declared = _DECLARATION.match(_head(data))
    if declared and not _ASCII_COMPATIBLE.match(declared.group(1).decode("ascii")):
        raise XmlRefused("XML_ENCODING_UNSUPPORTED", f"encoding {declared.group(1).decode('ascii')!r} is refused")
    return data


def _head(data: bytes) -> bytes:
    """``data.lstrip(BOM bytes)[:200]`` without copying the whole document (lstrip copies what remains)."""
    head = data[:400].lstrip(b"\xef\xbb\xbf")
    if len(head) >= 200 or len(data) <= 400:
        return head[:200]
    return data.lstrip(b"\xef\xbb\xbf")[:200]  # a long run of BOM bytes: rare, take the slow way


def _check_prolog(text: str | bytes) -> None:
    """Refuse a DOCTYPE before the root element; markup inside the root (CDATA, comments) is content.
    Works on the raw bytes of ASCII-compatible documents (no copy), on decoded text for UTF-16."""
    lt, pi, pi_end, comment, comment_end, bang = (
        (b"<", b"<?", b"?>", b"<!--", b"-->", b"<!") if isinstance(text, bytes)
        else ("<", "<?", "?>", "<!--", "-->", "<!")
    )
    position = 0
    while True:
        start = text.find(lt, position)  # type: ignore[arg-type]
        if start < 0:
            return
        if text.startswith(pi, start):  # type: ignore[arg-type]
            end = text.find(pi_end, start + 2)  # type: ignore[arg-type]
        elif text.startswith(comment, start):  # type: ignore[arg-type]
            end = text.find(comment_end, start + 4)  # type: ignore[arg-type]
        elif text.startswith(bang, start):  # type: ignore[arg-type]
            raise XmlRefused("XML_DTD_FORBIDDEN", "documents with a DOCTYPE (DTD or entity declarations) are refused")
        else:
            return  # the root element starts: the prolog is over
        if end < 0:
            return  # unterminated: the parser reports it
        position = end + 2


_ENTITY_ERRORS = frozenset(
    getattr(etree.ErrorTypes, name) for name in (
        "ERR_UNDECLARED_ENTITY", "WAR_UNDECLARED_ENTITY", "ERR_ENTITY_LOOP", "ERR_ENTITY_BOUNDARY",
        "ERR_UNPARSED_ENTITY", "ERR_ENTITY_IS_EXTERNAL", "ERR_ENTITY_IS_PARAMETER", "ERR_ENTITY_PE_INTERNAL",
        "ERR_ENTITYREF_SEMICOL_MISSING", "ERR_ENTITY_NOT_FINISHED",
    ) if hasattr(etree.ErrorTypes, name)
)


def _classify(exc: etree.XMLSyntaxError) -> XmlRefused:
    # By libxml2's error code, never by the message: messages quote the document's own element names.
    code = exc.code
    if code == etree.ErrorTypes.ERR_RESOURCE_LIMIT:
        return XmlRefused("XML_TOO_DEEP", "the document exceeds the parser's nesting or size limits")
    if code in _ENTITY_ERRORS:
        return XmlRefused("XML_ENTITY_FORBIDDEN", "entity references are not allowed")
    return XmlRefused("XML_MALFORMED", str(exc))


def parse_xml(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_depth: int = DEFAULT_MAX_DEPTH
) -> etree._ElementTree:
    """Parse untrusted bytes into a tree, or raise :class:`XmlRefused`."""
    if not isinstance(data, bytes):
        raise TypeError("parse_xml takes bytes: the document's declared encoding must decide, not ours")
    if len(data) > max_bytes:
        raise XmlRefused("XML_TOO_LARGE", f"document of {len(data)} bytes exceeds the limit of {max_bytes}")
    if not data or data.isspace():  # ASCII whitespace only, like ``not data.strip()`` but without a copy
        raise XmlRefused("XML_EMPTY", "empty document")
    _check_prolog(_prolog_text(data))
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise _classify(exc) from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:  # defence in depth after the prolog check
        raise XmlRefused("XML_DTD_FORBIDDEN", "documents with a DOCTYPE are refused")
    if max_depth < DEFAULT_MAX_DEPTH and _depth(root) > max_depth:
        raise XmlRefused("XML_TOO_DEEP", f"nesting deeper than {max_depth} levels")
    # No Entity nodes can remain: without a DTD no entity is declared, and an undeclared reference is a
    # parse error (ERR_UNDECLARED_ENTITY, mapped to XML_ENTITY_FORBIDDEN above).
    return tree


def _depth(root: etree._Element) -> int:
    deepest = 0
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in element)
    return deepest
