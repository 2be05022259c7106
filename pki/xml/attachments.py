"""SOAP-with-Attachments (OASIS WSS SwA Profile 1.1) signature transforms, byte-compatible with WSS4J.

A ``ds:Reference`` with ``URI="cid:..."`` names a MIME part; its digest is taken over the octets the SwA
transform makes of that part. The AS4 peers we meet (phase4, Domibus, Holodeck B2B) compute those octets
with Apache WSS4J, so this module reproduces WSS4J's bytes rather than a reading of the profile text. It is
pure and streaming: the MIME layer hands over an :class:`AttachmentPart`, the signature layer calls
:func:`attachment_digest` from its resolver callback.

WSS4J (apache/ws-wss4j @ b975a69754835a21a9f717aeb60e1e5b364786e7):

* ``ws-security-dom/.../transform/AttachmentContentSignatureTransform.java`` (same rules in the StAX
  ``ws-security-stax/.../transformer/AttachmentContentSignatureTransform.java``) decides on
  ``Attachment.getMimeType()`` with case-insensitive Java regexes over the whole value, parameters included:
  ``(text/xml).*``, ``(application/xml).*``, ``(application|image)/.*\\+xml.*`` -> **exclusive C14N without
  comments** (``xml-exc-c14n#``, no InclusiveNamespaces) of the whole document (Santuario
  ``XMLSignatureStreamInput.getNodeSet()`` + ``canonicalizeXPathNodeSet``; its parser refuses a DOCTYPE under
  secure validation, and so do we); ``(text/).*`` -> ``ws-security-common/.../util/CRLFOutputStream.java``:
  CR, LF and CRLF each become CRLF, the "last byte was CR" state surviving across writes; anything else, or
  no type -> raw octets. So ``application/soap+xml`` and ``application/x-ebrs+xml`` are XML, ``text/foo+xml``
  is text, and prefixes count (``text/xml-external-parsed-entity`` is XML). The **charset parameter is never
  consulted**: text is normalised bytewise (UTF-16 ``0A 00`` becomes ``0D 0A 00``) and XML is parsed from
  bytes, so its declaration or BOM decides the encoding; C14N output is UTF-8.
* ``AttachmentCompleteSignatureTransform.java`` writes ``AttachmentUtils.canonizeMimeHeaders`` and then the
  content as above, no blank line between. ``ws-security-common/.../util/AttachmentUtils.java``: only
  Content-Description, -Disposition, -ID, -Location, -Type (names matched case-insensitively, written in that
  spelling and that TreeMap order); missing Content-Type -> ``text/plain;charset="us-ascii"``; every value
  unfolded by jakarta.mail ``MimeUtility.unfold`` (a line break before SP/HT or at the end is removed, the
  whitespace kept; after a backslash the break stays and the backslash goes). Content-Description is then
  RFC 2047-decoded (``MimeUtility.decodeText``, strict: whole encoded words, whitespace between two of them
  dropped) and uncommented. The others lose leading SP/HT and comments (``uncomment``: no replacement space,
  quoted strings skipped without regard to backslashes); Content-Type/-Disposition values with a ``;`` then
  go through ``decodeRfc2184``: split on ``;`` blindly, first piece lower-cased, parameter names trimmed and
  lower-cased, RFC 2231 ``name*=charset'lang'%XX`` URL-decoded (``URLDecoder``: ``+`` is a space),
  ``name*0``/``name*1`` joined in arrival order, values of charset, creation-date, filename,
  modification-date, padding, read-date, size, type lower-cased, every value double-quoted, sorted by name,
  written ``;name="value"``. Each header is ``Name:value`` CRLF (none added if the value ends in CRLF), UTF-8.
* jakarta.mail (jakartaee/mail-api ``MimeUtility.java``, and ``com/sun/mail/util/BASE64DecoderStream.java``
  before the implementation moved out in 209b056): charset names go through ``javamail.charset.map``, so
  ``us-ascii`` decodes as ISO-8859-1; B words skip bytes outside the Base64 alphabet and stop after padding;
  a word that fails to decode stays as text, an unknown charset or encoding is an error.

Odd but well-defined WSS4J output (prefix matches, duplicate parameters: last wins) is matched. Where WSS4J
throws (empty parameter value, parameter without ``=``, bad ``%`` escape, unknown charset) or silently
mangles (an unterminated quoted string or comment repeats or drops characters; a continued parameter
interleaved with another is dropped) we raise :class:`AttachmentTransformError` instead. All of this was
checked by differential runs against WSS4J's own ``AttachmentUtils``/``CRLFOutputStream`` and Santuario 2.1.7
(tens of thousands of generated headers and parts, no difference). Deliberate departures:

* The content rule reads the received Content-Type with ``.`` spanning line breaks: phase4 hands WSS4J the
  raw header, where folding defeats Java's ``.``, but a signer decides on its own unfolded type.
* No Content-Type means ``text/plain`` (RFC 2045, jakarta.mail ``getContentType()``, the header default
  above); WSS4J alone would take raw octets for a null type.
* :func:`content_id_from_cid_uri` decodes per RFC 2392; WSS4J's ``getAttachmentId`` also maps ``+`` to space.

phase4 (phax/phase4 @ d4505cc8ddfeceff17970898435d7ae21299b5a7): ``phase4-lib/.../crypto/AS4Signer.java``
signs all attachments in mode "Content", i.e. always with the Content transform. ``WSS4JAttachment.java``
takes an incoming part's type from ``MimeBodyPart.getContentType()`` (whole value, ``text/plain`` if absent);
compressed payloads travel as ``application/gzip``, so AS4 payloads are normally digested as raw octets. It
also overwrites Content-Description (``Attachment``) and Content-ID (``<attachment=ID>``) in the map WSS4J
canonicalises, so a phase4 Complete-transform digest would not cover the wire headers; we use the headers
as received. Metro's ``com.sun.xml.wss.impl.c14n.MimeHeaderCanonicalizer`` differs from WSS4J (blank line
after the headers, eight known parameters only); we follow WSS4J.

Memory: octet and text parts stream chunk by chunk, in flat memory for any size. C14N needs the tree, so an
XML part is parsed (hardened lxml: no DTD, no entities, no network; libxml2 limits of 10 MB per text node and
depth 256) up to ``max_xml_bytes`` (default 64 MiB) and refused beyond.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Literal, Protocol

from lxml import etree

from pki.xml.algorithms import (
    ATTACHMENT_COMPLETE_TRANSFORM,
    ATTACHMENT_CONTENT_TRANSFORM,
    DIGESTS,
    AlgorithmPolicy,
)
from pki.xml.mime_headers import (
    SIGNED_HEADERS,
    AttachmentTransformError,
    canonical_mime_headers,
    render_signed_headers,
    signed_header_fields,
)

__all__ = [
    "DEFAULT_MAX_XML_BYTES",
    "AttachmentPart",
    "AttachmentTransformError",
    "attachment_digest",
    "attachment_octets",
    "canonical_mime_headers",
    "content_id_from_cid_uri",
]

DEFAULT_MAX_XML_BYTES = 64 * 1024 * 1024

_SWA_TRANSFORMS = frozenset({ATTACHMENT_CONTENT_TRANSFORM, ATTACHMENT_COMPLETE_TRANSFORM})


# Java String.matches: whole value; (?i) without UNICODE_CASE is ASCII-only, hence re.ASCII. re.S lets a
# folded header value match as its unfolded form would (see the module docstring).
_XML_TYPE = re.compile(r"(?:text/xml|application/xml|(?:application|image)/.*\+xml).*", re.I | re.S | re.A)
_TEXT_TYPE = re.compile(r"text/.*", re.I | re.S | re.A)


ContentKind = Literal["xml", "text", "octets"]


class AttachmentPart(Protocol):
    """What the MIME layer hands over for one part."""

    @property
    def content_id(self) -> str:
        """Without ``cid:`` and without angle brackets."""
        ...

    @property
    def headers(self) -> Mapping[str, str]:
        """The part's MIME headers as received (names compared case-insensitively)."""
        ...

    def chunks(self) -> Iterable[bytes]:
        """The decoded content (transfer encoding removed), streamed."""
        ...


# --- public API ----------------------------------------------------------------------------------------


def attachment_digest(
    part: AttachmentPart,
    transforms: Sequence[str],
    digest_uri: str,
    *,
    policy: AlgorithmPolicy | None = None,
    max_xml_bytes: int = DEFAULT_MAX_XML_BYTES,
) -> bytes:
    """The raw digest of ``part`` after its SwA transform; compare with the decoded ``ds:DigestValue``.

    Everything is checked before the part is read: the transform list, the digest (and both against
    ``policy`` when given, raising :class:`~pki.xml.algorithms.AlgorithmRefused`) and the MIME headers.
    """
    if policy is not None:
        policy.check_digest(digest_uri)
    factory = DIGESTS.get(digest_uri)
    if factory is None:
        raise AttachmentTransformError("digest", f"unknown digest algorithm {digest_uri!r}")
    octets = attachment_octets(part, transforms, policy=policy, max_xml_bytes=max_xml_bytes)
    digest = factory()
    for piece in octets:
        digest.update(piece)
    return digest.digest()


def attachment_octets(
    part: AttachmentPart,
    transforms: Sequence[str],
    *,
    policy: AlgorithmPolicy | None = None,
    max_xml_bytes: int = DEFAULT_MAX_XML_BYTES,
) -> Iterator[bytes]:
    """The octet stream the transform produces (what gets digested), for tests and debugging.

    Validation happens here, eagerly; the part's content is read only as the iterator is consumed.
    """
    transform = _check_transforms(transforms, policy)
    complete = transform == ATTACHMENT_COMPLETE_TRANSFORM
    fields = signed_header_fields(part.headers, SIGNED_HEADERS if complete else ("Content-Type",))
    prefix = render_signed_headers(fields) if complete else b""
    kind = _content_kind(fields.get("content-type"))
    return _transformed(part, kind, prefix, max_xml_bytes)


def content_id_from_cid_uri(uri: str) -> str:
    """``cid:`` URL (RFC 2392) -> the Content-ID it names, without angle brackets."""
    if uri[:4].lower() != "cid:":
        raise AttachmentTransformError("cid", f"not a cid: URI: {uri!r}")
    try:
        return urllib.parse.unquote(uri[4:], errors="strict")
    except UnicodeDecodeError as exc:
        raise AttachmentTransformError("cid", f"cid: URI does not decode as UTF-8: {uri!r}") from exc


# --- transform list and content rule ------------------------------------------------------------------


def _check_transforms(transforms: Sequence[str], policy: AlgorithmPolicy | None) -> str:
    # A cid: dereference yields octets (SwA 1.1 §5.2); only the SwA transform itself knows how to turn a
    # MIME part into the signed octets, so nothing may come before or after it.
    uris = list(transforms)
    if len(uris) != 1:
        raise AttachmentTransformError(
            "transforms", f"a cid: reference takes exactly one SwA transform, got {len(uris)}: {uris!r}"
        )
    uri = uris[0]
    if uri not in _SWA_TRANSFORMS:
        raise AttachmentTransformError("transforms", f"unsupported transform for a cid: reference: {uri!r}")
    if policy is not None:
        policy.check_transform(uri)
    return uri


def _content_kind(content_type: str | None) -> ContentKind:
    mime_type = "text/plain" if content_type is None else content_type
    if _XML_TYPE.fullmatch(mime_type):
        return "xml"
    if _TEXT_TYPE.fullmatch(mime_type):
        return "text"
    return "octets"


def _transformed(part: AttachmentPart, kind: ContentKind, prefix: bytes, max_xml_bytes: int) -> Iterator[bytes]:
    if prefix:
        yield prefix
    chunks = (chunk if isinstance(chunk, bytes) else bytes(chunk) for chunk in part.chunks() if chunk)
    if kind == "xml":
        yield _canonical_xml(chunks, max_xml_bytes)
    elif kind == "text":
        yield from _crlf_normalised(chunks)
    else:
        yield from chunks


def _crlf_normalised(chunks: Iterable[bytes]) -> Iterator[bytes]:
    # Same result as WSS4J's CRLFOutputStream: CR, LF and CRLF each become CRLF. Within a chunk three
    # C-level replaces do it; the only state to carry is "the previous chunk ended in CR", whose LF (if
    # it opens the next chunk) belongs to a line break already written.
    pending_cr = False
    for chunk in chunks:
        if pending_cr and chunk[:1] == b"\n":
            chunk = chunk[1:]
        pending_cr = chunk.endswith(b"\r")
        if chunk:
            yield chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")


def _canonical_xml(chunks: Iterable[bytes], max_bytes: int) -> bytes:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    size = 0
    try:
        for chunk in chunks:
            size += len(chunk)
            if size > max_bytes:
                raise AttachmentTransformError(
                    "too-large", f"XML attachment exceeds the {max_bytes}-byte limit for canonicalisation"
                )
            parser.feed(chunk)
        root = parser.close()
    except etree.XMLSyntaxError as exc:
        raise AttachmentTransformError("xml", f"XML attachment is not well-formed: {exc}") from exc
    tree = root.getroottree()
    # Santuario parses attachment XML with DOCTYPEs disallowed; refusing here also keeps entity tricks out.
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise AttachmentTransformError("doctype", "XML attachment carries a DOCTYPE, which is refused")
    try:
        return etree.tostring(tree, method="c14n", exclusive=True, with_comments=False)
    except (etree.C14NError, ValueError) as exc:
        raise AttachmentTransformError("xml", f"XML attachment cannot be canonicalised: {exc}") from exc
