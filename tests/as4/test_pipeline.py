"""The whole AS4 exchange in process: partner builds, node receives and answers, partner checks the receipt."""

from __future__ import annotations

import gzip
import os
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from as4 import sbdh
from as4.codec import build_envelope, envelope_bytes
from as4.errors import EbmsError
from as4.mime import write_mime
from as4.model import (
    COMPRESSION_TYPE,
    FINAL_RECIPIENT,
    GZIP,
    MIME_TYPE,
    ORIGINAL_SENDER,
    AgreementRef,
    CollaborationInfo,
    MessageInfo,
    Messaging,
    PartInfo,
    Party,
    PartyId,
    PartyInfo,
    Property,
    Service,
    UserMessage,
)
from as4.parts import Part
from as4.pipeline import Agreement, build_outbound, check_response, new_message_id, receive
from as4.profiles import As4Profile
from as4.security import secure_outbound
from pki.keys.port import KeyPurpose
from tests.as4.secfixtures import ALL_PROFILES, pki
from tests.conftest import VECTORS_DIR

VECTORS = VECTORS_DIR / "as4-phase4-testfiles"
OOTS = "urn:oasis:names:tc:ebcore:partyid-type:unregistered:oots"


def _user_message(profile: As4Profile) -> UserMessage:
    party_type = profile.party_id_type or OOTS
    return UserMessage(
        MessageInfo(datetime.now(UTC), new_message_id("partner.test")),
        PartyInfo(Party((PartyId("EE-AP", party_type),), "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/initiator"),
                  Party((PartyId("LV-AP", party_type),), "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/responder")),
        CollaborationInfo(Service("urn:oots:evidence", "urn:oots:services"), "ExecuteQueryRequest", "conv-1",
                          AgreementRef(profile.agreement_ref) if profile.agreement_ref else None),
        (Property(ORIGINAL_SENDER, "urn:oots:EE:sender", "iso6523-actorid-upis"),
         Property(FINAL_RECIPIENT, "urn:oots:LV:register", "iso6523-actorid-upis")),
    )


SCAN = b"%PDF-1.7\n" + os.urandom(20_000)


QUERY = b"<q:QueryRequest xmlns:q='urn:q'>" + b"<q:Slot/>" * 50 + b"</q:QueryRequest>"
INVOICE = ("urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice"
           "##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1")


def _payloads(profile: As4Profile | None = None) -> list[Part]:
    if profile is not None and profile.payload_envelope == "sbdh":  # Peppol: exactly one SBD-wrapped document
        document = sbdh.wrap(QUERY, sender="urn:oots:EE:sender", recipient="urn:oots:LV:register",
                             document_type=INVOICE, process="urn:fdc:peppol.eu:2017:poacc:billing:01:1.0",
                             country="EE", instance_id="sbd-1", created=datetime(2026, 11, 23, tzinfo=UTC))
        return [Part.from_bytes("sbd@partner.test", "application/xml", document)]
    return [Part.from_bytes("query@partner.test", "application/x-ebrs+xml", QUERY),
            Part.from_bytes("scan@partner.test", "application/pdf", SCAN)]


def _exchange(profile: As4Profile, *, tamper=None, payloads=None):
    keys = pki()
    outbound = build_outbound(_user_message(profile), payloads if payloads is not None else _payloads(profile), profile,
                              signer=keys.signer(keys.partner, profile),
                              recipient_certificate=keys.encryption_cert(keys.node, profile))
    body = b"".join(outbound.body)
    if tamper:
        body = tamper(body)
    received = receive(outbound.content_type, [body],
                       agreement_for=lambda _um: Agreement(profile, keys.by_pmode(keys.partner, profile)),
                       key_store=keys.node, signer_for=lambda p: keys.signer(keys.node, p))
    return keys, outbound, received


@pytest.mark.parametrize("profile", ALL_PROFILES, ids=lambda p: p.name)
def test_round_trip_with_receipt(profile: As4Profile) -> None:
    keys, outbound, received = _exchange(profile)
    try:
        assert received.accepted, received.error
        assert received.user_message.message_id == outbound.message_id
        sent = {p.content_id: (p.content_type, p.read_all()) for p in _payloads(profile)}
        got = {p.content_id: (p.content_type, p.read_all()) for p in received.payloads}
        assert got == sent
    finally:
        received.close()
    receipt = check_response(received.response_content_type, received.response_body, outbound, profile=profile,
                             signer_resolver=keys.by_pmode(keys.node, profile), key_store=keys.partner)
    assert receipt.message_info.ref_to_message_id == outbound.message_id


@pytest.mark.parametrize("profile", ALL_PROFILES[:2], ids=lambda p: p.name)
def test_receipt_for_another_message_fails_the_check(profile: As4Profile) -> None:
    keys, _, received = _exchange(profile)
    received.close()
    _, other, _ = _exchange(profile)
    with pytest.raises(EbmsError) as caught:
        check_response(received.response_content_type, received.response_body, other, profile=profile,
                       signer_resolver=keys.by_pmode(keys.node, profile), key_store=keys.partner)
    assert caught.value.code == "EBMS:0302"


def _flip_in_attachment(body: bytes) -> bytes:
    marker = body.rindex(b"Content-ID: <scan@partner.test>")
    position = body.index(b"\r\n\r\n", marker) + 200
    return body[:position] + bytes([body[position] ^ 1]) + body[position + 1:]


@pytest.mark.parametrize(("tamper", "code"), [
    (_flip_in_attachment, "EBMS:0102"),
    (lambda body: body.replace(b"ExecuteQueryRequest", b"ExecuteQueryRequesT"), "EBMS:0101"),
    (lambda body: body[: len(body) // 2], "EBMS:0007"),  # cut off mid-part: no closing boundary
])
def test_refusals_answer_with_a_signed_error_signal(tamper, code) -> None:
    profile = ALL_PROFILES[0]
    keys, outbound, received = _exchange(profile, tamper=tamper)
    assert not received.accepted
    if code:
        assert received.error.code == code
    assert received.error.code.encode() in received.response_body
    with pytest.raises(EbmsError) as caught:
        check_response(received.response_content_type, received.response_body, outbound, profile=profile,
                       signer_resolver=keys.by_pmode(keys.node, profile), key_store=keys.partner)
    assert caught.value.code == received.error.code


def test_gzip_bomb_from_a_trusted_partner_is_refused() -> None:
    """A correctly signed and encrypted message whose payload inflates 8,000:1."""
    profile = ALL_PROFILES[0]
    keys = pki()
    bomb = Part.from_bytes("bomb@partner.test", "application/gzip", gzip.compress(b"\0" * (64 * 1024 * 1024)))
    message = replace(_user_message(profile), payload_info=(PartInfo(
        href="cid:bomb@partner.test", part_properties=(Property(MIME_TYPE, "application/xml"),
                                                      Property(COMPRESSION_TYPE, GZIP))),))
    envelope, parts = secure_outbound(build_envelope(Messaging(user_message=message)), [bomb], profile,
                                      keys.signer(keys.partner, profile), keys.encryption_cert(keys.node, profile))
    content_type, body = write_mime(envelope_bytes(envelope), parts)
    received = receive(content_type, body,
                       agreement_for=lambda _um: Agreement(profile, keys.by_pmode(keys.partner, profile),
                                                           max_decompressed_bytes=8 * 1024 * 1024),
                       key_store=keys.node, signer_for=lambda p: keys.signer(keys.node, p))
    assert received.error is not None and received.error.code == "EBMS:0303"
    assert received.payloads == []


@pytest.mark.parametrize("name", ["WrongSigningAlgorithm.xml", "WrongSigningDigestAlgorithm.xml"])
def test_phase4_wrong_algorithm_vectors_get_ebms_0101(name: str) -> None:
    keys = pki()
    profile = ALL_PROFILES[0]
    received = receive("application/soap+xml", [(VECTORS / name).read_bytes()],
                       agreement_for=lambda _um: Agreement(profile, keys.by_trust_store()), key_store=keys.node,
                       signer_for=lambda p: keys.signer(keys.node, p))
    assert received.error is not None and received.error.code == "EBMS:0101", received.error


def test_untrusted_partner_gets_ebms_0101() -> None:
    keys = pki()
    profile = ALL_PROFILES[0]
    outbound = build_outbound(_user_message(profile), _payloads(), profile, signer=keys.signer(keys.rogue, profile),
                              recipient_certificate=keys.encryption_cert(keys.node, profile))
    received = receive(outbound.content_type, outbound.body,
                       agreement_for=lambda _um: Agreement(profile, keys.by_trust_store()), key_store=keys.node,
                       signer_for=lambda p: keys.signer(keys.node, p))
    assert received.error is not None and received.error.code == "EBMS:0101"
    assert KeyPurpose.AS4_SIGNING  # trust is judged per purpose by the store


def test_peppol_sbdh_is_enforced_on_both_sides() -> None:
    peppol = next(p for p in ALL_PROFILES if p.payload_envelope == "sbdh")
    keys = pki()
    with pytest.raises(ValueError, match="exactly one payload"):
        build_outbound(_user_message(peppol), _payloads(), peppol, signer=keys.signer(keys.partner, peppol),
                       recipient_certificate=keys.encryption_cert(keys.node, peppol))
    # A sender without the check sends an SBD whose Sender disagrees with originalSender: we refuse it.
    wrong = sbdh.wrap(QUERY, sender="urn:oots:EE:someone-else", recipient="urn:oots:LV:register",
                      document_type=INVOICE, process="urn:fdc:peppol.eu:2017:poacc:billing:01:1.0", country="EE")
    lax = peppol.with_changes(payload_envelope=None)
    outbound = build_outbound(_user_message(peppol), [Part.from_bytes("sbd@partner.test", "application/xml", wrong)],
                              lax, signer=keys.signer(keys.partner, peppol),
                              recipient_certificate=keys.encryption_cert(keys.node, peppol))
    received = receive(outbound.content_type, outbound.body,
                       agreement_for=lambda _um: Agreement(peppol, keys.by_pmode(keys.partner, peppol)),
                       key_store=keys.node, signer_for=lambda p: keys.signer(keys.node, p))
    assert received.error is not None and received.error.code == "EBMS:0004"
    assert "does not match the originalSender" in received.error.detail
