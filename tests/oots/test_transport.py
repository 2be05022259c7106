"""OOTS over AS4, header side: the UserMessage for each EDM message (validated against the ebMS3 XSD through
the as4 codec, and read back), and the header ↔ EDM consistency checks of received messages."""

from __future__ import annotations

import dataclasses
import itertools
import uuid

import pytest

from as4.codec import build_envelope, envelope_bytes, load_envelope, parse_envelope, validate_against_xsd
from as4.model import Messaging, PartyId
from as4.parts import Part
from oots.edm import V1_2, V2_0
from oots.provider.answers import EvidencePart, evidence_response
from oots.transport import AS4_PROFILES, Route, TransportError, check_header, regrep_part, user_message_for
from tests.oots import samples

ROUTE = Route(PartyId("LV-GW-DEV", "urn:oasis:names:tc:ebcore:partyid-type:unregistered:LV"),
              PartyId("AP_DE_01", "urn:oasis:names:tc:ebcore:partyid-type:unregistered:DE"),
              samples.REQUESTER, samples.PROVIDER)


def ids():  # type: ignore[no-untyped-def]
    counter = itertools.count(1)
    return lambda: str(uuid.UUID(int=next(counter), version=4))


def build(message, **kwargs):  # type: ignore[no-untyped-def]
    return user_message_for(message, ROUTE, message_id=f"{uuid.uuid4()}@gw.example.lv", conversation_id="c-1",
                            now=samples.NOW, regrep_content_id="regrep@gw.example.lv", **kwargs)


def round_trip(user_message):  # type: ignore[no-untyped-def]
    envelope = build_envelope(Messaging(user_message=user_message))
    assert validate_against_xsd(envelope) == []
    parts = [Part.from_bytes(p.content_id or "", p.mime_type or "", b"<x/>") for p in user_message.payload_info]
    return parse_envelope(load_envelope(envelope_bytes(envelope)), parts=parts).user_message


def test_request_header_v12() -> None:
    request = samples.request(V1_2)
    header = round_trip(build(request))
    info = header.collaboration_info
    assert (info.service.value, info.service.type, info.action) == (
        "QueryManager", "urn:oasis:names:tc:ebcore:ebrs:ebms:binding:1.0", "ExecuteQueryRequest")
    assert header.party_info.from_party.role == header.party_info.to_party.role == "http://sdg.europa.eu/edelivery/gateway"
    assert header.original_sender.value == "LV40003011203"  # type: ignore[union-attr]
    assert header.original_sender.type == "urn:cef.eu:names:identifier:EAS:9939"  # type: ignore[union-attr]
    assert regrep_part(header).content_id == "regrep@gw.example.lv"
    assert check_header(header, request) == []
    assert AS4_PROFILES[request.specification_id].name == "edelivery-1.15"


def test_v2_needs_exchange_and_specification_ids() -> None:
    request = samples.request(V2_0)
    with pytest.raises(TransportError) as caught:
        build(request)
    assert caught.value.code == "OOTS_AS4_EXCHANGE_ID"
    header = round_trip(build(request, exchange_id="8a0f2c1e-1111-4222-8333-444455556666"))
    assert header.message_property("SpecificationId").value == "oots-edm:v2.0"  # type: ignore[union-attr]
    assert check_header(header, request) == []
    stripped = dataclasses.replace(header, message_properties=header.message_properties[:2])
    assert any("ExchangeId" in p for p in check_header(stripped, request))
    assert AS4_PROFILES["oots-edm:v2.0"].name == "edelivery-2.0"


def test_response_carries_its_evidence_parts() -> None:
    request = samples.request(V2_0)
    documents = [dataclasses.replace(samples_document(), content=b"<x/>")]
    response, parts = evidence_response(request, documents, provider=samples.PROVIDER, now=samples.NOW, new_id=ids(),
                                        part_domain="gw.example.lv")
    header = round_trip(build(response, evidence_parts=parts, exchange_id="x-1", ref_to_message_id="req@de"))
    assert header.collaboration_info.action == "ExecuteQueryResponse"
    assert [p.mime_type for p in header.payload_info] == ["application/x-ebrs+xml", "application/xml"]
    assert check_header(header, response) == []
    with pytest.raises(TransportError) as missing:
        build(response, evidence_parts=[], exchange_id="x-1")
    assert missing.value.code == "OOTS_AS4_PARTS"
    lonely = dataclasses.replace(header, payload_info=header.payload_info[:1])
    assert any("not a part" in p for p in check_header(lonely, response))
    with pytest.raises(TransportError):
        build(request, evidence_parts=[EvidencePart("a@b", "application/pdf", b"%PDF")], exchange_id="x")


def test_header_inconsistencies_are_named() -> None:
    request = samples.request(V1_2)
    header = build(request)
    exception_header = build(samples.exception(V1_2))
    assert exception_header.collaboration_info.action == "ExceptionResponse"
    assert any("action" in p for p in check_header(exception_header, request))
    other_recipient = dataclasses.replace(request, evidence_provider=samples.REQUESTER)
    assert any("finalRecipient" in p for p in check_header(header, other_recipient))
    no_regrep = dataclasses.replace(header, payload_info=())
    with pytest.raises(TransportError) as caught:
        regrep_part(no_regrep)
    assert caught.value.code == "OOTS_AS4_REGREP_PART"


def samples_document():  # type: ignore[no-untyped-def]
    from oots.dataservice.port import EvidenceDocument

    return EvidenceDocument("D-1", b"", "application/xml", "2020-01-01", samples.PROVIDER,
                            samples.evidence_type(V2_0).titles, samples.PERSON)
