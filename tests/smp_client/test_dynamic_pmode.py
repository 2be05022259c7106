"""Dynamic PModes from discovery answers, and the receiving-side trust check (pure; real dev PKI keys)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from as4.dynamic_pmode import (
    DynamicPModeError,
    check_partner_trust,
    dynamic_agreement,
    dynamic_pmode,
    profile_for,
    sender_chains_to_network,
)
from as4.model import MessageInfo, UserMessage
from as4.parts import Part
from as4.pipeline import build_outbound, new_message_id, receive
from as4.pmode import PModeParty, agreement_for, signer_resolver
from as4.profiles import EDELIVERY_1_15, EDELIVERY_2_0, EDELIVERY_2_0_EC, PEPPOL, As4Profile
from pki.keys.file_store import FileKeyStore
from pki.keys.port import KeyPurpose
from smp_client.model import PEPPOL_AS4_V2, CertificateUse, Endpoint, EndpointCertificate
from tests.as4.secfixtures import pki
from tests.smp_client.smpfixtures import DOC, PARTICIPANT, PROCESS

NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def _fresh_now() -> None:
    """Each test validates at its own "now": certificates made later in a long run (the dev CA backdates by
    only 5 minutes) must not look not-yet-valid against a time taken at import."""
    global NOW
    NOW = datetime.now(UTC)
UNREG = "urn:oasis:names:tc:ebcore:partyid-type:unregistered"
ME = PModeParty("LV-GW", "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/initiator", UNREG)


def _endpoint(store: FileKeyStore, profile: As4Profile, *, transport: str = "bdxr-transport-ebms3-as4-v1p0",
              typed: bool = True) -> Endpoint:
    keys = pki()
    signing = keys.signer(store, profile).certificate
    assert signing is not None
    encryption = keys.encryption_cert(store, profile)
    if not typed:
        return Endpoint(transport, "https://ap.example/as4", (EndpointCertificate(signing),))
    enc_use = CertificateUse.ENCRYPTION if profile.encryption_family == "rsa" else CertificateUse.KEY_EXCHANGE
    return Endpoint(transport, "https://ap.example/as4",
                    (EndpointCertificate(signing, CertificateUse.SIGNING, "signing"),
                     EndpointCertificate(encryption, enc_use, enc_use.value)))


@pytest.mark.parametrize("profile", [EDELIVERY_1_15, EDELIVERY_2_0, EDELIVERY_2_0_EC])
def test_profile_from_certificate_key_types(profile: As4Profile) -> None:
    assert profile_for(_endpoint(pki().partner, profile)) is profile


def test_peppol_and_single_certificate() -> None:
    assert profile_for(_endpoint(pki().partner, EDELIVERY_1_15, transport=PEPPOL_AS4_V2)) is PEPPOL
    assert profile_for(_endpoint(pki().partner, EDELIVERY_1_15, typed=False)) is EDELIVERY_1_15
    with pytest.raises(DynamicPModeError) as caught:  # an Ed25519 certificate cannot also do key agreement
        profile_for(_endpoint(pki().partner, EDELIVERY_2_0, typed=False))
    assert caught.value.code == "SMP_PROFILE_UNDETERMINED"
    with pytest.raises(DynamicPModeError) as caught:
        profile_for(Endpoint("x", "https://a", ()))
    assert caught.value.code == "SMP_ENDPOINT_CERT_MISSING"


def test_dynamic_pmode_fields() -> None:
    keys = pki()
    endpoint = _endpoint(keys.partner, EDELIVERY_2_0)
    pmode = dynamic_pmode(endpoint, participant=PARTICIPANT, document_type=DOC, process=PROCESS, initiator=ME,
                          trust=keys.trust, now=NOW)
    assert pmode.profile is EDELIVERY_2_0
    assert pmode.endpoint == "https://ap.example/as4"
    assert pmode.responder.party_id == "PARTNER-AP as4-signing ed25519"  # the certificate CN, as Domibus does
    assert pmode.service.value == PROCESS.value and pmode.service.type == PROCESS.scheme
    assert pmode.action == DOC.uri
    assert pmode.encryption_certificate == endpoint.certificates[1].certificate
    configured = dynamic_pmode(endpoint, participant=PARTICIPANT, document_type=DOC, process=None, initiator=ME,
                               trust=keys.trust, now=NOW, responder_party_id="EE-AP", responder_party_id_type=UNREG,
                               action="ExecuteQueryRequest")
    assert (configured.responder.party_id, configured.responder.party_id_type) == ("EE-AP", UNREG)
    assert configured.service.value == DOC.value and configured.id != pmode.id


def test_partner_outside_the_network_pki_refused() -> None:
    keys = pki()
    for store in (keys.rogue, keys.expired):
        with pytest.raises(DynamicPModeError) as caught:
            check_partner_trust(_endpoint(store, EDELIVERY_1_15), keys.trust, now=NOW)
        assert caught.value.code == "SMP_ENDPOINT_CERT_UNTRUSTED"
        with pytest.raises(DynamicPModeError):
            dynamic_pmode(_endpoint(store, EDELIVERY_1_15), participant=PARTICIPANT, document_type=DOC,
                          process=None, initiator=ME, trust=keys.trust, now=NOW)


def _message(profile: As4Profile, sender_store: FileKeyStore) -> tuple[str, bytes]:
    keys = pki()
    endpoint = _endpoint(keys.node, profile)
    pmode = dynamic_pmode(endpoint, participant=PARTICIPANT, document_type=DOC, process=PROCESS, initiator=ME,
                          trust=keys.trust, now=NOW, responder_party_id="LV-GW", responder_party_id_type=UNREG)
    from as4.model import AgreementRef, CollaborationInfo, Party, PartyId, PartyInfo, Service

    message = UserMessage(
        MessageInfo(NOW, new_message_id("partner.test")),
        PartyInfo(Party((PartyId("EE-AP", UNREG),), ME.role), Party((PartyId("LV-GW", UNREG),), pmode.responder.role)),
        CollaborationInfo(Service(pmode.service.value, pmode.service.type), pmode.action, "conv-1",
                          AgreementRef(pmode.agreement_ref) if pmode.agreement_ref else None),
    )
    outbound = build_outbound(message, [Part.from_bytes("p@x", "application/xml", b"<a/>")], pmode.profile,
                              signer=sender_store.signer(KeyPurpose.AS4_SIGNING, family=profile.signing_family),
                              recipient_certificate=pmode.encryption_certificate)
    assert signer_resolver(pmode) is not None
    return outbound.content_type, b"".join(outbound.body)


@pytest.mark.parametrize("profile", [EDELIVERY_1_15, EDELIVERY_2_0])
def test_receiving_side_accepts_only_senders_of_the_network(profile: As4Profile) -> None:
    keys = pki()
    finder = dynamic_agreement(agreement_for([]), keys.trust, profile)

    def signer_for(p: As4Profile):  # type: ignore[no-untyped-def]
        return keys.node.signer(KeyPurpose.AS4_SIGNING, family=p.signing_family)

    content_type, body = _message(profile, keys.partner)
    accepted = receive(content_type, [body], agreement_for=finder, key_store=keys.node, signer_for=signer_for)
    assert accepted.accepted, accepted.error
    accepted.close()
    content_type, body = _message(profile, keys.rogue)
    refused = receive(content_type, [body], agreement_for=finder, key_store=keys.node, signer_for=signer_for)
    assert not refused.accepted
    assert refused.error is not None and "SMP_SENDER_UNTRUSTED" in refused.error.detail
    static_only = receive(content_type, [body], agreement_for=agreement_for([]), key_store=keys.node,
                          signer_for=signer_for)
    assert static_only.error is not None and static_only.error.code == "EBMS:0010"


def test_sender_chain_check() -> None:
    keys = pki()
    good = keys.signer(keys.partner, EDELIVERY_1_15).certificate
    bad = keys.signer(keys.rogue, EDELIVERY_1_15).certificate
    assert good is not None and bad is not None
    assert sender_chains_to_network(good, [], keys.trust).leaf == good
    with pytest.raises(DynamicPModeError) as caught:
        sender_chains_to_network(bad, [], keys.trust)
    assert caught.value.code == "SMP_SENDER_UNTRUSTED"


def test_stored_form_round_trips() -> None:
    from as4.pmode import load_pmode_document

    keys = pki()
    pmode = dynamic_pmode(_endpoint(keys.partner, EDELIVERY_2_0), participant=PARTICIPANT, document_type=DOC,
                          process=PROCESS, initiator=ME, trust=keys.trust, now=NOW,
                          trust_store_dir=keys.node_dir / "trust")
    again = load_pmode_document(pmode.to_document(), "dynamic")
    assert again == pmode and again.trust_store is not None
