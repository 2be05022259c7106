"""The ebMS3 envelope codec: :class:`~as4.model.Messaging` <-> SOAP envelope, pure (no I/O, no clock).

Building writes what phase4 writes: a SOAP 1.2 envelope (``S12``), one ``eb:Messaging`` header with
``S12:mustUnderstand="true"`` and a ``wsu:Id``, and an empty Body with a ``wsu:Id`` (eDelivery AS4 carries
every payload as a MIME part). The two ids are what the security layer's signature references point at.
Timestamps go out as UTC with exactly three fraction digits and ``Z`` (phase4's Domibus-compatible form).

Parsing checks a received header the way phase4's ``SoapHeaderElementProcessorExtractEbms3Messaging`` does,
by hand rather than by schema (XSD validation is slow and reports nothing a sender can act on), and answers
with ebMS codes: the schema's structure (missing or misplaced elements, empty required values, bad
timestamps) is ``EBMS:0009`` InvalidHeader; two UserMessages, a PartInfo pointing at no part, a compression
other than gzip is ``EBMS:0003`` ValueInconsistent; MIME parts no PartInfo refers to, or a reference outside
the message, is ``EBMS:0011`` ExternalPayloadError (phase4's choice). The tree must come from
:func:`load_envelope` (the hardened parser) or from the security layer that already parsed it.
"""

from __future__ import annotations

import codecs
import copy
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from as4 import errors as E
from as4.errors import EbmsError
from as4.model import (
    GZIP,
    AgreementRef,
    CollaborationInfo,
    Description,
    EbmsErrorSignal,
    ErrorDetail,
    MessageInfo,
    Messaging,
    PartInfo,
    PartSchema,
    Party,
    PartyId,
    PartyInfo,
    Property,
    Receipt,
    Service,
    SignalUnit,
    SoapVersion,
    UserMessage,
)
from as4.ns import EB, ENVELOPE_PREFIXES, WSU, XML, q
from as4.parts import Part
from pki.ids import uuid4_str
from pki.specs import default_specs_dir, load_schema
from pki.xml.ns import ID_ATTRIBUTES
from pki.xml.parser import DEFAULT_MAX_BYTES, XmlRefused, parse_xml

_SOAP_BY_NS = {v.namespace: v for v in SoapVersion}
_WSU_ID = q(WSU, "Id")
_XML_LANG = q(XML, "lang")
_Spec = Sequence[tuple[str, int, int | None]]  # (ebMS element, minOccurs, maxOccurs or None = unbounded)


_EB_PREFIX = f"{{{EB}}}"


def _eb(local: str) -> str:
    return _EB_PREFIX + local


def _invalid(detail: str) -> EbmsError:
    return EbmsError(E.INVALID_HEADER, detail)


def _inconsistent(detail: str) -> EbmsError:
    return EbmsError(E.VALUE_INCONSISTENT, detail)


# --- building ----------------------------------------------------------------------------------------------


def new_id(prefix: str) -> str:
    """An ``xs:ID``-safe random id (an NCName: the prefix keeps it from starting with a digit)."""
    return f"{prefix}{uuid4_str()}"


def build_envelope(messaging: Messaging, *, messaging_id: str | None = None, body_id: str | None = None
                   ) -> etree._Element:
    """The SOAP envelope for ``messaging``, Body empty. Ids default to ``_eb_<uuid>`` / ``_body_<uuid>``."""
    soap = messaging.soap_version
    envelope = etree.Element(q(soap.namespace, "Envelope"), nsmap={soap.prefix: soap.namespace, **ENVELOPE_PREFIXES})
    header = etree.SubElement(envelope, q(soap.namespace, "Header"))
    element = etree.SubElement(header, _eb("Messaging"))
    element.set(q(soap.namespace, "mustUnderstand"), soap.must_understand)
    element.set(_WSU_ID, messaging_id or new_id("_eb_"))
    if messaging.signal is not None:  # the schema puts SignalMessage before UserMessage
        _write_signal(etree.SubElement(element, _eb("SignalMessage")), messaging.signal)
    if messaging.user_message is not None:
        _write_user_message(etree.SubElement(element, _eb("UserMessage")), messaging.user_message)
    etree.SubElement(envelope, q(soap.namespace, "Body")).set(_WSU_ID, body_id or new_id("_body_"))
    return envelope


def envelope_bytes(envelope: etree._Element) -> bytes:
    """The envelope serialised as UTF-8 with an XML declaration (what the SOAP MIME part carries)."""
    return etree.tostring(envelope, encoding="UTF-8", xml_declaration=True)


def format_timestamp(value: datetime) -> str:
    value = value.astimezone(UTC)
    # What strftime("%Y-%m-%dT%H:%M:%S.") gives (%Y unpadded, as glibc prints it), without its cost: two
    # timestamps per message. tests/as4/test_model_codec.py compares the two.
    return (f"{value.year}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:{value.minute:02d}:"
            f"{value.second:02d}.{value.microsecond // 1000:03d}Z")


def _text_child(parent: etree._Element, local: str, text: str, **attrs: str | None) -> etree._Element:
    child = etree.SubElement(parent, _eb(local))
    for name, value in attrs.items():
        if value is not None:
            child.set(name, value)
    child.text = text
    return child


def _write_message_info(parent: etree._Element, info: MessageInfo) -> None:
    element = etree.SubElement(parent, _eb("MessageInfo"))
    _text_child(element, "Timestamp", format_timestamp(info.timestamp))
    _text_child(element, "MessageId", info.message_id)
    if info.ref_to_message_id is not None:
        _text_child(element, "RefToMessageId", info.ref_to_message_id)


def _write_properties(parent: etree._Element, local: str, properties: Sequence[Property]) -> None:
    if properties:  # the schema requires at least one Property inside the container
        element = etree.SubElement(parent, _eb(local))
        for prop in properties:
            _text_child(element, "Property", prop.value, name=prop.name, type=prop.type)


def _write_party(parent: etree._Element, local: str, party: Party) -> None:
    element = etree.SubElement(parent, _eb(local))
    for party_id in party.party_ids:
        _text_child(element, "PartyId", party_id.value, type=party_id.type)
    _text_child(element, "Role", party.role)


def _write_description(parent: etree._Element, description: Description) -> None:
    _text_child(parent, "Description", description.value).set(_XML_LANG, description.lang)


def _write_user_message(element: etree._Element, message: UserMessage) -> None:
    if message.mpc is not None:
        element.set("mpc", message.mpc)
    _write_message_info(element, message.message_info)
    party_info = etree.SubElement(element, _eb("PartyInfo"))
    _write_party(party_info, "From", message.party_info.from_party)
    _write_party(party_info, "To", message.party_info.to_party)
    collaboration = message.collaboration_info
    info = etree.SubElement(element, _eb("CollaborationInfo"))
    if (agreement := collaboration.agreement_ref) is not None:
        _text_child(info, "AgreementRef", agreement.value, type=agreement.type, pmode=agreement.pmode)
    _text_child(info, "Service", collaboration.service.value, type=collaboration.service.type)
    _text_child(info, "Action", collaboration.action)
    _text_child(info, "ConversationId", collaboration.conversation_id)
    _write_properties(element, "MessageProperties", message.message_properties)
    if message.payload_info:
        payload_info = etree.SubElement(element, _eb("PayloadInfo"))
        for part in message.payload_info:
            part_info = etree.SubElement(payload_info, _eb("PartInfo"))
            if part.href is not None:
                part_info.set("href", part.href)
            if part.schema is not None:
                schema = etree.SubElement(part_info, _eb("Schema"), location=part.schema.location)
                for name in ("version", "namespace"):
                    if (value := getattr(part.schema, name)) is not None:
                        schema.set(name, value)
            if part.description is not None:
                _write_description(part_info, part.description)
            _write_properties(part_info, "PartProperties", part.part_properties)


def _write_signal(element: etree._Element, signal: SignalUnit) -> None:
    _write_message_info(element, signal.message_info)
    if isinstance(signal, Receipt):
        receipt = etree.SubElement(element, _eb("Receipt"))
        for content in signal.content:
            receipt.append(parse_xml(content).getroot())
        return
    for error in signal.errors:
        attrs = {
            "errorCode": error.code, "severity": error.severity, "category": error.category,
            "origin": error.origin, "refToMessageInError": error.ref_to_message_in_error,
            "shortDescription": error.short_description,
        }
        item = etree.SubElement(element, _eb("Error"), {k: v for k, v in attrs.items() if v is not None})
        if error.description is not None:
            _write_description(item, error.description)
        if error.detail is not None:
            _text_child(item, "ErrorDetail", error.detail)


def receipt_content(*elements: etree._Element) -> tuple[bytes, ...]:
    """``Receipt.content`` for elements built by the receipts module (exclusive c14n, as parsing yields)."""
    return tuple(etree.tostring(e, method="c14n", exclusive=True, with_comments=False) for e in elements)


# --- parsing ---------------------------------------------------------------------------------------------


def load_envelope(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse the SOAP part with the hardened parser; anything it refuses (DTD, entities, malformed XML,
    oversize) is ``EBMS:0009``: SOAP forbids DTDs, so such a document breaks the packaging rules."""
    try:
        return parse_xml(data, max_bytes=max_bytes).getroot()
    except XmlRefused as exc:
        raise _invalid(f"the SOAP envelope cannot be parsed ({exc.code}): {exc.message}") from exc


def split_envelope(root: etree._Element) -> tuple[SoapVersion, etree._Element, etree._Element]:
    """``(version, eb:Messaging, Body)`` of an envelope, or ``EBMS:0009``. The security layer uses this to
    find the elements its references must cover."""
    soap = _SOAP_BY_NS.get(etree.QName(root).namespace or "") if isinstance(root.tag, str) else None
    if soap is None or etree.QName(root).localname != "Envelope":
        raise _invalid(f"not a SOAP 1.1 or 1.2 envelope: root element {root.tag!r}")
    headers: list[etree._Element] = []
    bodies: list[etree._Element] = []
    for child in root.iterchildren(tag=etree.Element):
        if child.tag == q(soap.namespace, "Header") and not headers and not bodies:
            headers.append(child)
        elif child.tag == q(soap.namespace, "Body") and not bodies:
            bodies.append(child)
        # SOAP 1.1 alone tolerates foreign elements after the Body; SOAP 1.2 allows nothing else.
        elif soap is SoapVersion.SOAP12 or not bodies or etree.QName(child).namespace in (soap.namespace, None):
            raise _invalid(f"unexpected element {child.tag!r} in the SOAP Envelope")
    if len(headers) != 1 or len(bodies) != 1:
        raise _invalid("a SOAP envelope needs exactly one Header followed by exactly one Body")
    found = headers[0].findall(_eb("Messaging"))
    if len(found) != 1:
        raise _invalid(f"the SOAP Header must hold exactly one eb:Messaging, found {len(found)}")
    return soap, found[0], bodies[0]


def parse_envelope(root: etree._Element, *, parts: Sequence[Part] = ()) -> Messaging:
    """The ``Messaging`` an envelope carries, checked; ``parts`` are the message's MIME attachments (empty for
    a bare SOAP message), which every ``cid:`` PartInfo must match one to one."""
    soap, messaging, body = split_envelope(root)
    units = _children(messaging, [("SignalMessage", 0, None), ("UserMessage", 0, None)], "eb:Messaging",
                      other=True)
    users, signals = units["UserMessage"], units["SignalMessage"]
    if len(users) > 1:
        raise _inconsistent(f"eb:Messaging holds {len(users)} UserMessages; ebMS3 core allows one")
    if len(signals) > 1:
        raise _inconsistent(f"eb:Messaging holds {len(signals)} SignalMessages; ebMS3 core allows one")
    if not users and not signals:
        raise _inconsistent("eb:Messaging holds neither a UserMessage nor a SignalMessage")
    signal = _parse_signal(signals[0]) if signals else None
    user = _parse_user_message(users[0], body, parts) if users else None
    if user is None and parts:
        raise EbmsError(E.EXTERNAL_PAYLOAD_ERROR, f"a signal message came with {len(parts)} MIME attachment(s)",
                        ref_to_message_id=signal.message_id if signal else None)
    return Messaging(user_message=user, signal=signal, soap_version=soap)


def _children(element: etree._Element, spec: _Spec, where: str, *, other: bool = False
              ) -> dict[str, list[etree._Element]]:
    """The ebMS children of ``element`` by name, checked against the schema's sequence ``spec``. ``other``
    allows elements of foreign namespaces (the schema's ``xs:any namespace="##other"``)."""
    order = [name for name, _, _ in spec]
    found: dict[str, list[etree._Element]] = {name: [] for name in order}
    position = 0
    for child in element.iterchildren(tag=etree.Element):
        tag = child.tag
        if not tag.startswith(_EB_PREFIX):  # Clark notation: "{namespace}local", no "{" without a namespace
            if other and tag.startswith("{"):
                continue
            raise _invalid(f"unexpected element {child.tag!r} in {where}")
        localname = tag[len(_EB_PREFIX):]
        if localname not in found:
            raise _invalid(f"unexpected element eb:{localname} in {where}")
        index = order.index(localname)
        if index < position:
            raise _invalid(f"eb:{localname} is out of order in {where}")
        position = index
        found[localname].append(child)
    for name, low, high in spec:
        count = len(found[name])
        if count < low:
            raise _invalid(f"{where} lacks the required eb:{name}")
        if high is not None and count > high:
            raise _invalid(f"{where} holds {count} eb:{name}, at most {high} allowed")
    return found


def _one(found: dict[str, list[etree._Element]], name: str) -> etree._Element | None:
    return found[name][0] if found[name] else None


def _text(element: etree._Element, where: str, *, required: bool = True) -> str:
    if len(element):
        raise _invalid(f"{where} must hold text, not elements")
    value = (element.text or "").strip()  # xs:token/xs:dateTime collapse whitespace; senders indent values
    if required and not value:
        raise _invalid(f"{where} is empty")
    return value


def _attr(element: etree._Element, name: str, where: str, *, required: bool = False) -> str | None:
    value = (element.get(name) or "").strip()
    if required and not value:
        raise _invalid(f"{where} lacks the required attribute {name}")
    return value or None  # an empty optional attribute (refToMessageInError="") means "not given"


_DATETIME = re.compile(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?")


def parse_timestamp(text: str) -> datetime:
    """An ``xs:dateTime`` as UTC. No offset means UTC (ebMS3 core §5.2.2.1: "MUST be expressed as UTC ...
    including the 'Z' identifier is optional"); finer than microseconds is truncated."""
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise _invalid(f"eb:Timestamp {text!r} is not an xs:dateTime")
    year, month, day, hour, minute, second = (int(match[i]) for i in range(1, 7))
    micro = int((match[7] or "")[:6].ljust(6, "0"))
    zone = match[8]
    try:
        tz = UTC
        if zone and zone != "Z":
            hours, minutes = int(zone[1:3]), int(zone[4:6])
            if hours > 14 or minutes > 59:
                raise ValueError(zone)
            tz = timezone((-1 if zone[0] == "-" else 1) * timedelta(hours=hours, minutes=minutes))
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz).astimezone(UTC)
    except (ValueError, OverflowError):
        raise _invalid(f"eb:Timestamp {text!r} is not a valid date and time") from None


def _message_id(text: str, where: str) -> str:
    # ebMS3 core §5.2.2.1: MessageId and RefToMessageId never carry the <> delimiters of MIME headers.
    if any(c in text for c in "<> \t\r\n"):
        raise _invalid(f"{where} {text!r} contains angle brackets or whitespace")
    return text


def _parse_message_info(element: etree._Element, where: str) -> MessageInfo:
    found = _children(element, [("Timestamp", 1, 1), ("MessageId", 1, 1), ("RefToMessageId", 0, 1)],
                      f"{where}/MessageInfo")
    ref = _one(found, "RefToMessageId")
    return MessageInfo(
        timestamp=parse_timestamp(_text(found["Timestamp"][0], "eb:Timestamp")),
        message_id=_message_id(_text(found["MessageId"][0], "eb:MessageId"), "eb:MessageId"),
        ref_to_message_id=None if ref is None else _message_id(_text(ref, "eb:RefToMessageId"), "eb:RefToMessageId"),
    )


def _parse_party(element: etree._Element, where: str) -> Party:
    found = _children(element, [("PartyId", 1, None), ("Role", 1, 1)], where)
    # Without @type a PartyId "MUST be a URI" (ebMS3 §5.2.2.4) but it is only a SHOULD-report, phase4 lets it
    # pass, and phase4's own samples use bare ids: whether a party is acceptable is the PMode's decision.
    ids = tuple(PartyId(_text(p, f"{where}/PartyId"), _attr(p, "type", f"{where}/PartyId")) for p in found["PartyId"])
    return Party(ids, _text(found["Role"][0], f"{where}/Role"))


def _parse_properties(element: etree._Element | None, where: str) -> tuple[Property, ...]:
    if element is None:
        return ()
    found = _children(element, [("Property", 1, None)], where)
    return tuple(
        Property(_attr(p, "name", f"{where}/Property", required=True) or "", _text(p, f"{where}/Property"),
                 _attr(p, "type", f"{where}/Property"))
        for p in found["Property"]
    )


def _parse_description(element: etree._Element | None, where: str) -> Description | None:
    if element is None:
        return None
    return Description(_text(element, where), element.get(_XML_LANG, ""))


def _parse_part_info(element: etree._Element) -> PartInfo:
    found = _children(element, [("Schema", 0, 1), ("Description", 0, 1), ("PartProperties", 0, 1)], "eb:PartInfo")
    schema = None
    if (schema_element := _one(found, "Schema")) is not None:
        schema = PartSchema(_attr(schema_element, "location", "eb:Schema", required=True) or "",
                            _attr(schema_element, "version", "eb:Schema"),
                            _attr(schema_element, "namespace", "eb:Schema"))
    info = PartInfo(
        href=_attr(element, "href", "eb:PartInfo"),
        part_properties=_parse_properties(_one(found, "PartProperties"), "eb:PartProperties"),
        schema=schema,
        description=_parse_description(_one(found, "Description"), "eb:PartInfo/Description"),
    )
    name = info.href or "the SOAP Body"
    if (compression := info.compression_type) is not None:
        # AS4 §3.1 knows one compression; phase4 answers anything else with ValueInconsistent.
        if compression.strip().lower() != GZIP:
            raise _inconsistent(f"CompressionType {compression!r} of {name} is not supported (only {GZIP})")
        if not info.mime_type:
            raise _inconsistent(f"{name} is compressed but has no MimeType part property")
    if charset := info.character_set:
        try:
            codecs.lookup(charset)
        except LookupError:
            raise _inconsistent(f"CharacterSet {charset!r} of {name} is unknown") from None
    return info


def _parse_user_message(element: etree._Element, body: etree._Element, parts: Sequence[Part]) -> UserMessage:
    found = _children(element, [("MessageInfo", 1, 1), ("PartyInfo", 1, 1), ("CollaborationInfo", 1, 1),
                                ("MessageProperties", 0, 1), ("PayloadInfo", 0, 1)], "eb:UserMessage")
    info = _parse_message_info(found["MessageInfo"][0], "eb:UserMessage")
    try:  # from here on the message id is known, and every refusal names it (phase4 does the same)
        parties = _children(found["PartyInfo"][0], [("From", 1, 1), ("To", 1, 1)], "eb:PartyInfo")
        collaboration = _children(found["CollaborationInfo"][0], [
            ("AgreementRef", 0, 1), ("Service", 1, 1), ("Action", 1, 1), ("ConversationId", 1, 1),
        ], "eb:CollaborationInfo")
        agreement = _one(collaboration, "AgreementRef")
        service = collaboration["Service"][0]
        payload_info = _one(found, "PayloadInfo")
        part_infos = [] if payload_info is None else _children(
            payload_info, [("PartInfo", 1, None)], "eb:PayloadInfo")["PartInfo"]
        message = UserMessage(
            message_info=info,
            party_info=PartyInfo(_parse_party(parties["From"][0], "eb:From"), _parse_party(parties["To"][0], "eb:To")),
            collaboration_info=CollaborationInfo(
                service=Service(_text(service, "eb:Service"), _attr(service, "type", "eb:Service")),
                action=_text(collaboration["Action"][0], "eb:Action"),
                conversation_id=_text(collaboration["ConversationId"][0], "eb:ConversationId", required=False),
                agreement_ref=None if agreement is None else AgreementRef(
                    _text(agreement, "eb:AgreementRef"), _attr(agreement, "type", "eb:AgreementRef"),
                    _attr(agreement, "pmode", "eb:AgreementRef")),
            ),
            message_properties=_parse_properties(_one(found, "MessageProperties"), "eb:MessageProperties"),
            payload_info=tuple(_parse_part_info(p) for p in part_infos),
            mpc=_attr(element, "mpc", "eb:UserMessage"),
        )
        _check_payloads(message, body, parts)
        return message
    except EbmsError as exc:
        exc.ref_to_message_id = exc.ref_to_message_id or info.message_id
        raise


def _has_id(body: etree._Element, wanted: str) -> bool:
    return any(node.get(name) == wanted for node in body.iter(tag=etree.Element) for name in (*ID_ATTRIBUTES, "id"))


def _check_payloads(message: UserMessage, body: etree._Element, parts: Sequence[Part]) -> None:
    """Every PartInfo names exactly one payload that is there, and every payload is named by one PartInfo."""
    by_cid: dict[str, Part] = {}
    for part in parts:
        if part.content_id in by_cid:
            raise EbmsError(E.MIME_INCONSISTENCY, f"two MIME parts share the Content-ID {part.content_id!r}")
        by_cid[part.content_id] = part
    body_has_payload = len(body) > 0 and any(isinstance(c.tag, str) for c in body)
    if sum(1 for info in message.payload_info if info.href is None) > 1:
        raise _inconsistent("more than one PartInfo without href refers to the SOAP Body")
    referenced: set[str] = set()
    body_references = 0
    for info in message.payload_info:
        href = info.href
        if href is None or href.startswith("#"):
            # No href means the Body itself; "#id" an element of it (ebMS3 §5.2.2.13).
            if not body_has_payload or (href is not None and not _has_id(body, href[1:])):
                raise _inconsistent(f"PartInfo {href or '(no href)'} refers to SOAP Body content that is not there")
            body_references += 1
            continue
        cid = info.content_id
        if cid is None:
            raise EbmsError(E.EXTERNAL_PAYLOAD_ERROR, f"PartInfo href {href!r} refers to a payload outside the message")
        key = cid if cid in by_cid else unquote(cid)  # a cid: URL may %-escape what the Content-ID spells plainly
        if not cid or key not in by_cid:
            raise _inconsistent(f"PartInfo href {href!r} matches no MIME part")
        if key in referenced:
            raise _inconsistent(f"two PartInfo elements refer to the MIME part {key!r}")
        referenced.add(key)
    if body_has_payload and body_references == 0:
        raise _inconsistent("the SOAP Body carries content that no PartInfo refers to")
    if unreferenced := sorted(set(by_cid) - referenced):
        raise EbmsError(E.EXTERNAL_PAYLOAD_ERROR, f"MIME parts no PartInfo refers to: {', '.join(unreferenced)}")


def _parse_signal(element: etree._Element) -> SignalUnit:
    found = _children(element, [("MessageInfo", 1, 1), ("PullRequest", 0, 1), ("Receipt", 0, 1), ("Error", 0, None)],
                      "eb:SignalMessage", other=True)
    info = _parse_message_info(found["MessageInfo"][0], "eb:SignalMessage")
    try:
        if found["PullRequest"]:
            raise EbmsError(E.FEATURE_NOT_SUPPORTED_INCONSISTENCY, "pull is not supported: eb:PullRequest refused")
        receipt, errors = _one(found, "Receipt"), found["Error"]
        if receipt is not None and errors:
            raise _inconsistent("a SignalMessage holds both a Receipt and Errors")
        if receipt is not None:
            if info.ref_to_message_id is None:
                raise EbmsError(E.INVALID_RECEIPT, "the receipt has no RefToMessageId")
            content = [c for c in receipt.iterchildren(tag=etree.Element)]
            if not content or any(etree.QName(c).namespace in (EB, None) for c in content):
                raise _invalid("eb:Receipt must hold one or more elements of another namespace")
            return Receipt(info, receipt_content(*content))
        if not errors:
            raise _invalid("a SignalMessage must hold a Receipt or at least one Error")
        return EbmsErrorSignal(info, tuple(_parse_error(e) for e in errors))
    except EbmsError as exc:
        exc.ref_to_message_id = exc.ref_to_message_id or info.message_id
        raise


def _parse_error(element: etree._Element) -> ErrorDetail:
    found = _children(element, [("Description", 0, 1), ("ErrorDetail", 0, 1)], "eb:Error")
    severity = _attr(element, "severity", "eb:Error", required=True) or ""
    detail = _one(found, "ErrorDetail")
    return ErrorDetail(
        code=_attr(element, "errorCode", "eb:Error", required=True) or "",
        # phase4 writes "failure", some versions "Failure": the spec's values are lower case.
        severity=severity.lower() if severity.lower() in (E.FAILURE, E.WARNING) else severity,
        category=_attr(element, "category", "eb:Error"),
        short_description=_attr(element, "shortDescription", "eb:Error"),
        description=_parse_description(_one(found, "Description"), "eb:Error/Description"),
        detail=None if detail is None else (_text(detail, "eb:ErrorDetail", required=False) or None),
        ref_to_message_in_error=_attr(element, "refToMessageInError", "eb:Error"),
        origin=_attr(element, "origin", "eb:Error"),
    )


# --- schema validation (tests and the inspect tool; not on the hot path) -----------------------------------

SCHEMA_DRIVER = Path("_local") / "ebms3-as4-driver.xsd"






def validate_against_xsd(messaging_element: etree._Element, specs_dir: Path | str | None = None) -> list[str]:
    """Schema errors of an ``eb:Messaging`` element (or of the one inside an envelope); empty when valid."""
    directory = Path(specs_dir) if specs_dir is not None else default_specs_dir()
    if directory is None:
        raise FileNotFoundError("no specs directory: pass specs_dir or set GATEWAY_SPECS_DIR")
    schema = load_schema((directory / SCHEMA_DRIVER).resolve())
    element = messaging_element
    if messaging_element.tag != _eb("Messaging"):
        element = split_envelope(messaging_element)[1]
    if schema.validate(copy.deepcopy(element)):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
