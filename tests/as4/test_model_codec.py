"""The ebMS3 model and envelope codec: round trips, wire shape, schema validity, and refusals with their codes."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from as4 import errors as E
from as4.codec import (
    build_envelope,
    default_specs_dir,
    envelope_bytes,
    format_timestamp,
    load_envelope,
    parse_envelope,
    parse_timestamp,
    receipt_content,
    split_envelope,
    validate_against_xsd,
)
from as4.errors import CATALOGUE, EbmsError
from as4.model import (
    DEFAULT_INITIATOR_ROLE,
    DEFAULT_RESPONDER_ROLE,
    FINAL_RECIPIENT,
    ORIGINAL_SENDER,
    TEST_ACTION,
    TEST_SERVICE,
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
    SoapVersion,
    UserMessage,
)
from as4.ns import DS, EB, EBBP, S11, S12, WSU, q
from as4.parts import Part
from pki.xml.parser import XmlRefused

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
NOW = datetime(2026, 11, 23, 16, 5, 7, 123000, tzinfo=UTC)
OOTS_PARTY = "urn:oasis:names:tc:ebcore:partyid-type:unregistered:oots"
EAS = "urn:cef.eu:names:identifier:EAS:0009"


def user_message(*, parts: int = 2, message_id: str = "2b3c@gateway.lv") -> UserMessage:
    return UserMessage(
        message_info=MessageInfo(NOW, message_id, ref_to_message_id="a1b2@ap.example.fr"),
        party_info=PartyInfo(
            Party((PartyId("AP_LV_01", OOTS_PARTY),), "http://sdg.europa.eu/edelivery/gateway"),
            Party((PartyId("AP_FR_01", OOTS_PARTY), PartyId("urn:example:second-id")),
                  "http://sdg.europa.eu/edelivery/gateway"),
        ),
        collaboration_info=CollaborationInfo(
            service=Service("QueryManager", "urn:oasis:names:tc:ebcore:ebrs:ebms:binding:1.0"),
            action="ExecuteQueryRequest",
            conversation_id="5c2f0a94-0b8c-4d47-9a53-6a2c4f0c7e11",
            agreement_ref=AgreementRef("urn:agreement:oots", pmode="oots-request"),
        ),
        message_properties=(
            Property(ORIGINAL_SENDER, "123456789", EAS),
            Property(FINAL_RECIPIENT, "FR/987654321", "urn:oasis:names:tc:ebcore:partyid-type:unregistered:FR"),
        ),
        payload_info=tuple(
            PartInfo(f"cid:part{i}@gateway.lv", (Property("MimeType", "application/x-ebrs+xml"),
                                                 Property("CompressionType", "application/gzip")))
            for i in range(parts)
        ),
    )


def mime_parts(n: int = 2) -> list[Part]:
    return [Part.from_bytes(f"part{i}@gateway.lv", "application/gzip", b"\x1f\x8b payload %d" % i) for i in range(n)]


def round_trip(messaging: Messaging, parts: list[Part] | None = None) -> Messaging:
    data = envelope_bytes(build_envelope(messaging))
    return parse_envelope(load_envelope(data), parts=parts or [])


def nri(*uris: str) -> etree._Element:
    info = etree.Element(q(EBBP, "NonRepudiationInformation"), nsmap={"ebbp": EBBP, "ds": DS})
    for uri in uris:
        part = etree.SubElement(info, q(EBBP, "MessagePartNRInformation"))
        reference = etree.SubElement(part, q(DS, "Reference"), URI=uri)
        etree.SubElement(reference, q(DS, "DigestMethod"), Algorithm="http://www.w3.org/2001/04/xmlenc#sha256")
        etree.SubElement(reference, q(DS, "DigestValue")).text = "oIh7yNKoasQ6p5MN/n7xCtrcZ0NNqjBm2j5GDoeBgH8="
    return info


def receipt() -> Receipt:
    return Receipt(MessageInfo(NOW, "r-1@gateway.lv", "2b3c@ap.example.fr"), receipt_content(nri("#_eb_1", "cid:a")))


def error_signal() -> EbmsErrorSignal:
    refusal = EbmsError(E.VALUE_INCONSISTENT, "CompressionType 'application/rar' is not supported",
                        ref_to_message_id="2b3c@ap.example.fr")
    warning = ErrorDetail("EBMS:0002", "warning", "Content", "FeatureNotSupported", detail="ignored")
    return EbmsErrorSignal(MessageInfo(NOW, "e-1@gateway.lv", "2b3c@ap.example.fr"),
                           (refusal.to_error_detail(), warning))


@pytest.fixture(scope="module")
def specs_dir() -> Path:
    found = default_specs_dir()
    if found is None:
        message = "../shared/specs is absent (set GATEWAY_SPECS_DIR)"
        if IN_CI:
            pytest.fail(message + " - under CI the schema tests must run")
        pytest.skip(message)
    return found


# --- round trips -------------------------------------------------------------------------------------------


def test_user_message_round_trip_with_properties_parts_and_four_corner() -> None:
    messaging = Messaging(user_message=user_message(parts=3))
    parsed = round_trip(messaging, mime_parts(3))
    assert parsed == messaging
    message = parsed.user_message
    assert message is not None
    assert message.original_sender == Property(ORIGINAL_SENDER, "123456789", EAS)
    assert message.final_recipient is not None and message.final_recipient.value == "FR/987654321"
    assert [p.content_id for p in message.payload_info] == [f"part{i}@gateway.lv" for i in range(3)]
    assert message.payload_info[0].mime_type == "application/x-ebrs+xml"
    assert message.payload_info[0].compression_type == "application/gzip"
    assert len(message.party_info.to_party.party_ids) == 2


def test_minimal_ping_round_trip() -> None:
    ping = UserMessage(
        MessageInfo(NOW, "ping@gateway.lv"),
        PartyInfo(Party((PartyId("urn:example:a"),), DEFAULT_INITIATOR_ROLE),
                  Party((PartyId("urn:example:b"),), DEFAULT_RESPONDER_ROLE)),
        CollaborationInfo(Service(TEST_SERVICE), TEST_ACTION, ""),
    )
    parsed = round_trip(Messaging(user_message=ping))
    assert parsed.user_message == ping
    assert ping.is_test and parsed.user_message.collaboration_info.conversation_id == ""


def test_part_info_schema_description_and_mpc_round_trip() -> None:
    message = user_message(parts=1)
    info = PartInfo("cid:part0@gateway.lv", (Property("MimeType", "application/pdf"),),
                    schema=PartSchema("https://example.org/x.xsd", "1.0", "urn:x"),
                    description=Description("Evidence", "lv"))
    message = UserMessage(message.message_info, message.party_info, message.collaboration_info,
                          message.message_properties, (info,), mpc="urn:mpc:one")
    assert round_trip(Messaging(user_message=message), mime_parts(1)).user_message == message


def test_receipt_round_trip_keeps_the_content_opaque() -> None:
    messaging = Messaging(signal=receipt())
    parsed = round_trip(messaging)
    assert parsed == messaging
    assert parsed.signal is not None and parsed.signal.ref_to_message_id == "2b3c@ap.example.fr"
    content = etree.fromstring(parsed.signal.content[0])
    assert content.tag == q(EBBP, "NonRepudiationInformation")
    assert [r.get("URI") for r in content.iter(q(DS, "Reference"))] == ["#_eb_1", "cid:a"]


def test_error_signal_round_trip_from_an_ebms_error() -> None:
    messaging = Messaging(signal=error_signal())
    parsed = round_trip(messaging)
    assert parsed == messaging
    signal = parsed.signal
    assert isinstance(signal, EbmsErrorSignal) and signal.is_failure
    first = signal.errors[0]
    assert (first.code, first.severity, first.category, first.short_description, first.origin) == (
        "EBMS:0003", "failure", "Content", "ValueInconsistent", "ebMS")
    assert first.ref_to_message_in_error == "2b3c@ap.example.fr"
    assert first.description is not None and first.description.lang == "en"


def test_user_message_and_signal_bundled() -> None:
    messaging = Messaging(user_message=user_message(parts=0), signal=receipt())
    assert round_trip(messaging) == messaging


def test_soap11_round_trip_is_reported_as_such() -> None:
    messaging = Messaging(signal=receipt(), soap_version=SoapVersion.SOAP11)
    root = build_envelope(messaging)
    assert root.tag == q(S11, "Envelope")
    assert split_envelope(root)[1].get(q(S11, "mustUnderstand")) == "1"
    assert round_trip(messaging).soap_version is SoapVersion.SOAP11


# --- the wire shape ----------------------------------------------------------------------------------------


def test_envelope_shape_matches_phase4() -> None:
    root = build_envelope(Messaging(user_message=user_message(parts=0)))
    data = envelope_bytes(root)
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<S12:Envelope xmlns:S12=")
    assert root.nsmap["eb"] == EB and root.nsmap["wsu"] == WSU and {"wsse", "ds", "xenc"} <= set(root.nsmap)
    soap, messaging, body = split_envelope(root)
    assert soap is SoapVersion.SOAP12
    assert messaging.get(q(S12, "mustUnderstand")) == "true"
    assert messaging.get(q(WSU, "Id")).startswith("_eb_")
    assert body.get(q(WSU, "Id")).startswith("_body_") and len(body) == 0
    assert messaging.findtext(f".//{q(EB, 'Timestamp')}") == "2026-11-23T16:05:07.123Z"
    assert b"eb:PayloadInfo" not in data and b"<eb:Messaging" in data


def test_ids_can_be_given_and_are_fresh_otherwise() -> None:
    messaging = Messaging(user_message=user_message(parts=0))
    root = build_envelope(messaging, messaging_id="_eb_fixed", body_id="_body_fixed")
    _, header, body = split_envelope(root)
    assert (header.get(q(WSU, "Id")), body.get(q(WSU, "Id"))) == ("_eb_fixed", "_body_fixed")
    first, second = (split_envelope(build_envelope(messaging))[1].get(q(WSU, "Id")) for _ in range(2))
    assert first != second


def test_built_messages_are_schema_valid(specs_dir: Path) -> None:
    for messaging in (Messaging(user_message=user_message(parts=2)), Messaging(signal=receipt()),
                      Messaging(signal=error_signal()), Messaging(signal=receipt(), soap_version=SoapVersion.SOAP11)):
        assert validate_against_xsd(build_envelope(messaging), specs_dir) == []


def test_schema_validation_reports_errors(specs_dir: Path) -> None:
    root = build_envelope(Messaging(user_message=user_message(parts=0)))
    role = root.find(f".//{q(EB, 'To')}/{q(EB, 'Role')}")
    role.getparent().remove(role)
    problems = validate_against_xsd(split_envelope(root)[1], specs_dir)
    assert problems and "Role" in problems[0]


# --- timestamps and the model ------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("2017-06-13T11:39:52.967", datetime(2017, 6, 13, 11, 39, 52, 967000, UTC)),  # no zone: UTC (ebMS3 §5.2.2.1)
    ("2016-12-21T11:01:16.795+01:00", datetime(2016, 12, 21, 10, 1, 16, 795000, UTC)),
    ("2025-09-25T09:54:32.971659362+02:00", datetime(2025, 9, 25, 7, 54, 32, 971659, UTC)),
    ("2011-04-03T14:49:28Z", datetime(2011, 4, 3, 14, 49, 28, tzinfo=UTC)),
])
def test_parse_timestamp(text: str, expected: datetime) -> None:
    assert parse_timestamp(text) == expected


def test_format_timestamp_writes_what_strftime_wrote() -> None:
    # The formatter replaced ``strftime("%Y-%m-%dT%H:%M:%S.") + millis + "Z"``: same text for any instant.
    def reference(value: datetime) -> str:
        value = value.astimezone(UTC)
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"

    moments = [datetime(1, 1, 1, tzinfo=UTC), datetime(999, 12, 31, 23, 59, 59, 999999, UTC),
               datetime(2026, 11, 23, 21, 5, 9, 7000, UTC), datetime(9999, 12, 31, 23, 59, 59, 999999, UTC),
               datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=3))),
               datetime(2024, 2, 29, 23, 59, 59, 999, timezone(timedelta(hours=-11, minutes=-30)))]
    step = timedelta(days=37, hours=5, minutes=7, seconds=11, microseconds=123457)
    moments += [datetime(1970, 1, 1, tzinfo=UTC) + step * i for i in range(500)]
    for moment in moments:
        assert format_timestamp(moment) == reference(moment)
    assert format_timestamp(datetime(2017, 6, 13, 11, 39, 52, 967000, UTC)) == "2017-06-13T11:39:52.967Z"


@pytest.mark.parametrize("text", ["2017-06-13", "2017-13-01T00:00:00Z", "2017-06-13T25:00:00Z", "yesterday",
                                  "2017-06-13T10:00:00+15:00", "2017-06-13 10:00:00Z"])
def test_bad_timestamps_are_invalid_headers(text: str) -> None:
    with pytest.raises(EbmsError) as caught:
        parse_timestamp(text)
    assert caught.value.code == "EBMS:0009"


def test_model_normalises_and_refuses() -> None:
    local = datetime(2026, 1, 1, 12, 0, 0, 999999, tzinfo=timezone(timedelta(hours=2)))
    assert MessageInfo(local, "x@y").timestamp == datetime(2026, 1, 1, 10, 0, 0, 999000, UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        MessageInfo(datetime(2026, 1, 1), "x@y")
    with pytest.raises(ValueError):
        MessageInfo(NOW, "")
    with pytest.raises(ValueError):
        Party((), DEFAULT_INITIATOR_ROLE)
    with pytest.raises(ValueError):
        Messaging()
    with pytest.raises(ValueError):
        Receipt(MessageInfo(NOW, "r@x"), (b"<a xmlns='urn:a'/>",))  # a receipt must reference a message
    assert PartInfo("CID:abc").content_id == "abc" and PartInfo().content_id is None


def test_error_catalogue() -> None:
    expected = {f"EBMS:{n:04d}" for n in (*range(1, 12), 101, 102, 103, 201, 202, 301, 302, 303)}
    assert set(CATALOGUE) == expected
    assert CATALOGUE["EBMS:0009"].short_description == "InvalidHeader"
    assert CATALOGUE["EBMS:0002"].severity == "warning" and CATALOGUE["EBMS:0101"].origin == "security"
    error = EbmsError("EBMS:0303", "bad gzip", ref_to_message_id="m@x")
    assert str(error) == "EBMS:0303 DecompressionFailure: bad gzip" and error.category == "Communication"
    with pytest.raises(ValueError):
        EbmsError("EBMS:9999")


# --- refusals ----------------------------------------------------------------------------------------------


def refused(data: bytes, parts: list[Part] | None = None) -> EbmsError:
    with pytest.raises(EbmsError) as caught:
        parse_envelope(load_envelope(data), parts=parts or [])
    return caught.value


def mutated(change: Callable[[etree._Element], object], message: UserMessage | None = None) -> bytes:
    root = build_envelope(Messaging(user_message=message or user_message(parts=0)))
    change(root)
    return envelope_bytes(root)


def remove(local: str, parent: str | None = None) -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        path = f".//{q(EB, parent)}/{q(EB, local)}" if parent else f".//{q(EB, local)}"
        element = root.find(path)
        element.getparent().remove(element)
    return change


def test_dtd_and_xxe_are_refused_by_the_hardened_parser(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    xxe = (f'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file://{secret}">]>'
           f'<S12:Envelope xmlns:S12="{S12}"><S12:Body>&x;</S12:Body></S12:Envelope>').encode()
    error = refused(xxe)
    assert error.code == "EBMS:0009" and "XML_DTD_FORBIDDEN" in error.detail
    assert isinstance(error.__cause__, XmlRefused)
    assert refused(b"<S12:Envelope xmlns:S12='" + S12.encode() + b"'>").code == "EBMS:0009"  # not well formed


@pytest.mark.parametrize(("local", "parent"), [
    ("MessageId", None), ("Timestamp", None), ("Action", None), ("Service", None), ("ConversationId", None),
    ("Role", "From"), ("PartyId", "From"), ("To", None), ("CollaborationInfo", None), ("PartyInfo", None),
])
def test_missing_required_header_elements_are_invalid_header(local: str, parent: str | None) -> None:
    error = refused(mutated(remove(local, parent)))
    assert error.code == "EBMS:0009"
    assert local in error.detail or parent in error.detail


def test_refusals_name_the_message_in_error() -> None:
    error = refused(mutated(remove("Role", "From")))
    assert error.ref_to_message_id == "2b3c@gateway.lv"
    assert error.to_error_detail().ref_to_message_in_error == "2b3c@gateway.lv"


@pytest.mark.parametrize(("path", "value"), [
    ("Timestamp", "2026-11-31T00:00:00Z"), ("MessageId", "  "), ("MessageId", "<abc@x>"), ("Action", ""),
    ("PartyId", ""),
])
def test_bad_values_are_invalid_header(path: str, value: str) -> None:
    def change(root: etree._Element) -> None:
        root.find(f".//{q(EB, path)}").text = value
    assert refused(mutated(change)).code == "EBMS:0009"


def test_structure_faults_are_invalid_header() -> None:
    def unknown(root: etree._Element) -> None:
        etree.SubElement(root.find(f".//{q(EB, 'UserMessage')}"), q(EB, "Surprise"))

    def reorder(root: etree._Element) -> None:
        user = root.find(f".//{q(EB, 'UserMessage')}")
        user.append(user.find(q(EB, "MessageInfo")))

    def nested(root: etree._Element) -> None:
        etree.SubElement(root.find(f".//{q(EB, 'Action')}"), q(EB, "x"))

    for change in (unknown, reorder, nested):
        assert refused(mutated(change)).code == "EBMS:0009"
    assert refused(b"<not-soap/>").code == "EBMS:0009"
    assert refused(f'<S12:Envelope xmlns:S12="{S12}"><S12:Header/><S12:Body/></S12:Envelope>'.encode()).code == (
        "EBMS:0009")

    def second_messaging(root: etree._Element) -> None:
        header = split_envelope(root)[1].getparent()
        header.append(etree.fromstring(etree.tostring(split_envelope(root)[1])))
    assert refused(mutated(second_messaging)).code == "EBMS:0009"


def test_empty_messaging_and_two_signals_are_value_inconsistent() -> None:
    def empty(root: etree._Element) -> None:
        messaging = split_envelope(root)[1]
        for child in list(messaging):
            messaging.remove(child)
    assert refused(mutated(empty)).code == "EBMS:0003"
    root = build_envelope(Messaging(signal=receipt()))
    messaging = split_envelope(root)[1]
    messaging.insert(0, etree.fromstring(etree.tostring(messaging[0])))
    assert refused(envelope_bytes(root)).code == "EBMS:0003"


def test_payload_references_are_checked_against_the_mime_parts() -> None:
    data = envelope_bytes(build_envelope(Messaging(user_message=user_message(parts=2))))
    missing = refused(data, mime_parts(1))
    assert missing.code == "EBMS:0003" and "part1@gateway.lv" in missing.detail
    extra = refused(data, [*mime_parts(2), Part.from_bytes("stray@x", "text/plain", b"x")])
    assert extra.code == "EBMS:0011" and "stray@x" in extra.detail
    duplicate = refused(data, [*mime_parts(2), mime_parts(1)[0]])
    assert duplicate.code == "EBMS:0007"
    signal_only = envelope_bytes(build_envelope(Messaging(signal=receipt())))
    assert refused(signal_only, mime_parts(1)).code == "EBMS:0011"


def with_parts(*infos: PartInfo) -> UserMessage:
    base = user_message(parts=0)
    return UserMessage(base.message_info, base.party_info, base.collaboration_info, (), infos)


@pytest.mark.parametrize(("info", "code"), [
    (PartInfo("cid:p@x", (Property("MimeType", "text/xml"), Property("CompressionType", "application/rar"))),
     "EBMS:0003"),
    (PartInfo("cid:p@x", (Property("CompressionType", "application/gzip"),)), "EBMS:0003"),  # no MimeType
    (PartInfo("cid:p@x", (Property("CharacterSet", "no-such-charset"),)), "EBMS:0003"),
    (PartInfo("https://example.org/payload.xml"), "EBMS:0011"),
    (PartInfo(None), "EBMS:0003"),  # the Body is empty
    (PartInfo("#nowhere"), "EBMS:0003"),
])
def test_part_info_refusals(info: PartInfo, code: str) -> None:
    parts = [Part.from_bytes("p@x", "application/gzip", b"x")] if info.content_id else []
    assert refused(envelope_bytes(build_envelope(Messaging(user_message=with_parts(info)))), parts).code == code


def test_duplicate_part_info_and_gzip_spelling() -> None:
    twice = with_parts(PartInfo("cid:p@x"), PartInfo("cid:p@x"))
    parts = [Part.from_bytes("p@x", "application/gzip", b"x")]
    assert refused(envelope_bytes(build_envelope(Messaging(user_message=twice))), parts).code == "EBMS:0003"
    spelled = (Property("mimetype", "text/xml"), Property("COMPRESSIONTYPE", "Application/GZIP"))
    loud = with_parts(PartInfo("cid:p@x", spelled))
    assert round_trip(Messaging(user_message=loud), parts).user_message == loud


def test_body_payloads_must_be_referenced_both_ways() -> None:
    def fill_body(root: etree._Element) -> None:
        etree.SubElement(split_envelope(root)[2], "{urn:example}Document", id="doc1")

    assert refused(mutated(fill_body)).code == "EBMS:0003"  # body content, no PartInfo for it
    for info in (PartInfo(None), PartInfo("#doc1")):
        root = build_envelope(Messaging(user_message=with_parts(info)))
        fill_body(root)
        assert parse_envelope(load_envelope(envelope_bytes(root))).user_message == with_parts(info)


def test_signal_refusals() -> None:
    root = build_envelope(Messaging(signal=receipt()))
    remove("RefToMessageId")(root)
    error = refused(envelope_bytes(root))
    assert error.code == "EBMS:0302" and error.ref_to_message_id == "r-1@gateway.lv"

    root = build_envelope(Messaging(signal=receipt()))
    etree.SubElement(split_envelope(root)[1][0], q(EB, "Error"), errorCode="EBMS:0004", severity="failure")
    assert refused(envelope_bytes(root)).code == "EBMS:0003"

    root = build_envelope(Messaging(signal=receipt()))
    split_envelope(root)[1][0].insert(1, etree.Element(q(EB, "PullRequest"), mpc="urn:mpc"))
    assert refused(envelope_bytes(root)).code == "EBMS:0008"

    root = build_envelope(Messaging(signal=error_signal()))
    del split_envelope(root)[1].find(f".//{q(EB, 'Error')}").attrib["errorCode"]
    assert refused(envelope_bytes(root)).code == "EBMS:0009"

    root = build_envelope(Messaging(signal=receipt()))
    receipt_element = root.find(f".//{q(EB, 'Receipt')}")
    receipt_element.remove(receipt_element[0])
    assert refused(envelope_bytes(root)).code == "EBMS:0009"
