"""WS-Security for AS4 with real dev-PKI keys: round trips for every profile, the wire format, and refusals."""

from __future__ import annotations

import copy

import pytest
import xmlsec
from cryptography.hazmat.primitives import serialization
from lxml import etree

from as4.compression import compress, decompress
from as4.errors import EbmsError
from as4.parts import Part
from as4.profiles import (
    EDELIVERY_1_15,
    EDELIVERY_2_0,
    EDELIVERY_2_0_EC,
    PEPPOL,
    PROFILES,
    As4Profile,
    KeyReference,
    profile,
)
from as4.security import (
    encrypt_parts,
    inclusive_prefixes,
    process_inbound,
    secure_outbound,
    sign_envelope,
    signed_references,
)
from pki.xml import algorithms as A
from pki.xml.keyinfo import match_candidates
from tests.as4.secfixtures import (
    ALL_PROFILES,
    EB,
    S12,
    WSU,
    envelope,
    payloads,
    pki,
    q,
    security_children,
    wire,
)

DS = "http://www.w3.org/2000/09/xmldsig#"
XENC = "http://www.w3.org/2001/04/xmlenc#"
EC = "http://www.w3.org/2001/10/xml-exc-c14n#"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PROFILE_IDS = [p.name for p in ALL_PROFILES]


def send(prof: As4Profile, parts: list[Part], **options: object) -> tuple[etree._Element, list[Part]]:
    """The partner sends to our node under ``prof``."""
    p = pki()
    root = envelope(parts=parts)
    root, sent = secure_outbound(root, parts, prof, p.signer(p.partner, prof), p.encryption_cert(p.node, prof),
                                 **options)  # type: ignore[arg-type]
    return root, sent


def receive(prof: As4Profile, root: etree._Element, parts: list[Part], resolver=None, **options: object):
    p = pki()
    received, received_parts = wire(root, parts)
    return process_inbound(received, received_parts, prof, key_store=p.node,
                           signer_resolver=resolver or p.by_trust_store(), **options)  # type: ignore[arg-type]


def refused(code: str, prof: As4Profile, root: etree._Element, parts: list[Part], resolver=None) -> EbmsError:
    with pytest.raises(EbmsError) as caught:
        receive(prof, root, parts, resolver).close()
    assert caught.value.code == code, caught.value
    return caught.value


# --- round trips -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("prof", ALL_PROFILES, ids=PROFILE_IDS)
@pytest.mark.parametrize(("count", "compressed"), [(0, False), (1, False), (1, True), (3, False), (3, True)])
def test_round_trip(prof: As4Profile, count: int, compressed: bool) -> None:
    originals = payloads(count)
    on_wire = [compress(part) for part in originals] if compressed else originals
    root, sent = send(prof, on_wire)
    assert all(part.content_type == "application/octet-stream" for part in sent)
    assert [part.content_id for part in sent] == [part.content_id for part in originals]
    assert all(part.read_all() != original.read_all() for part, original in zip(sent, on_wire, strict=True))

    result = receive(prof, root, sent)
    try:
        p = pki()
        assert result.verified is not None
        assert result.certificate == p.signer(p.partner, prof).certificate
        assert result.verified.signature_algorithm == prof.signature_algorithm
        assert len(result.signed_references) == 2 + count
        for received, original, wired in zip(result.parts, originals, on_wire, strict=True):
            assert received.content_type == wired.content_type
            plain = decompress(received, content_type=original.content_type) if compressed else received
            assert plain.read_all() == original.read_all()
    finally:
        result.close()


@pytest.mark.parametrize("prof", [EDELIVERY_1_15, EDELIVERY_2_0], ids=["1.15", "2.0"])
def test_node_to_partner_with_pmode_certificate(prof: As4Profile) -> None:
    """The other direction: our node signs, the partner decrypts and trusts our PMode certificate."""
    p = pki()
    parts = payloads(2)
    root, sent = secure_outbound(envelope(parts=parts), parts, prof, p.signer(p.node, prof),
                                 p.encryption_cert(p.partner, prof))
    received, received_parts = wire(root, sent)
    result = process_inbound(received, received_parts, prof, key_store=p.partner,
                             signer_resolver=p.by_pmode(p.node, prof))
    with result:
        assert [part.read_all() for part in result.parts] == [part.read_all() for part in parts]


def test_signing_only_when_the_profile_does_not_require_encryption() -> None:
    prof = EDELIVERY_2_0.with_changes(encrypt_required=False)
    parts = payloads(2)
    p = pki()
    root, sent = secure_outbound(envelope(parts=parts), parts, prof, p.signer(p.partner, prof), None)
    assert sent == parts
    assert security_children(root) == ["BinarySecurityToken", "Signature"]
    with receive(prof, root, sent) as result:
        assert result.parts[0].read_all() == parts[0].read_all()


def test_codec_style_envelope_with_prefixes_declared_on_the_envelope() -> None:
    extra = {"eb": EB, "wsu": WSU, "wsse": WSSE, "ds": DS, "xenc": XENC}
    parts = payloads(1)
    p = pki()
    root = envelope(parts=parts, envelope_nsmap=extra)
    root, sent = secure_outbound(root, parts, EDELIVERY_1_15, p.signer(p.partner, EDELIVERY_1_15),
                                 p.encryption_cert(p.node, EDELIVERY_1_15))
    signature = root.find(f".//{q(DS, 'Signature')}")
    c14n = signature.find(f"{q(DS, 'SignedInfo')}/{q(DS, 'CanonicalizationMethod')}")
    prefix_list = c14n.find(q(EC, "InclusiveNamespaces"))
    assert prefix_list.get("PrefixList").split()[0] == "S12"
    with receive(EDELIVERY_1_15, root, sent) as result:
        assert result.parts[0].read_all() == parts[0].read_all()


# --- wire format -----------------------------------------------------------------------------------------

def test_wire_format_matches_phase4() -> None:
    parts = payloads(3)
    root, sent = send(EDELIVERY_1_15, parts)
    assert security_children(root) == ["BinarySecurityToken", "EncryptedKey", "EncryptedData", "EncryptedData",
                                       "EncryptedData", "BinarySecurityToken", "Signature"]
    header = root.find(q(S12, "Header"))
    security = header[0]
    assert security.tag == q(WSSE, "Security")
    assert security.get(q(S12, "mustUnderstand")) == "true"
    signed_info = security.find(f"{q(DS, 'Signature')}/{q(DS, 'SignedInfo')}")
    c14n = signed_info.find(q(DS, "CanonicalizationMethod"))
    assert c14n.get("Algorithm") == A.EXC_C14N
    assert c14n.find(q(EC, "InclusiveNamespaces")).get("PrefixList") == "S12"
    references = signed_info.findall(q(DS, "Reference"))
    messaging = header.find(q(EB, "Messaging"))
    body = root.find(q(S12, "Body"))
    assert [r.get("URI") for r in references] == [
        "#" + messaging.get(q(WSU, "Id")), "#" + body.get(q(WSU, "Id")), *[f"cid:{p.content_id}" for p in parts]]
    # eb:Messaging uses S12 for mustUnderstand and Body is S12:Body: nothing left to list, no element written.
    for reference in references[:2]:
        (transform,) = reference.findall(f"{q(DS, 'Transforms')}/{q(DS, 'Transform')}")
        assert transform.get("Algorithm") == A.EXC_C14N and len(transform) == 0
    for reference in references[2:]:
        (transform,) = reference.findall(f"{q(DS, 'Transforms')}/{q(DS, 'Transform')}")
        assert transform.get("Algorithm") == A.ATTACHMENT_CONTENT_TRANSFORM
    # KeyInfo -> STR -> the BST right before the Signature (sender's certificate).
    key_info = security.find(f"{q(DS, 'Signature')}/{q(DS, 'KeyInfo')}")
    assert key_info.get("Id").startswith("KI-")
    token_uri = key_info.find(f"{q(WSSE, 'SecurityTokenReference')}/{q(WSSE, 'Reference')}").get("URI")
    assert security[5].get(q(WSU, "Id")) == token_uri[1:]
    # EncryptedData: WSS4J prepends them, so the last part comes first; MimeType is the type before encryption.
    encrypted = security.findall(q(XENC, "EncryptedData"))
    assert [e.find(f".//{q(XENC, 'CipherReference')}").get("URI") for e in encrypted] == [
        f"cid:{p.content_id}" for p in reversed(parts)]
    assert [e.get("MimeType") for e in encrypted] == [p.content_type for p in reversed(parts)]
    assert {e.get("Type") for e in encrypted} == {A.ATTACHMENT_CONTENT_ONLY}
    key = security.find(q(XENC, "EncryptedKey"))
    assert [r.get("URI") for r in key.iterfind(f".//{q(XENC, 'DataReference')}")] == [
        "#" + e.get("Id") for e in reversed(encrypted)]
    assert key.find(q(XENC, "EncryptionMethod")).get("Algorithm") == A.RSA_OAEP
    recipient_token = key.find(f".//{q(WSSE, 'Reference')}").get("URI")[1:]
    assert security[0].get(q(WSU, "Id")) == recipient_token
    assert all(part.content_type == "application/octet-stream" for part in sent)


@pytest.mark.parametrize(("prof", "agreement"), [(EDELIVERY_2_0, A.X25519), (EDELIVERY_2_0_EC, A.ECDH_ES)])
def test_key_agreement_wire_format(prof: As4Profile, agreement: str) -> None:
    root, _ = send(prof, payloads(1))
    key = root.find(f".//{q(XENC, 'EncryptedKey')}")
    assert key.find(q(XENC, "EncryptionMethod")).get("Algorithm") == A.KW_AES128
    method = key.find(f"{q(DS, 'KeyInfo')}/{q(XENC, 'AgreementMethod')}")
    assert method.get("Algorithm") == agreement
    recipient = method.find(f"{q(XENC, 'RecipientKeyInfo')}/{q(WSSE, 'SecurityTokenReference')}/{q(WSSE, 'Reference')}")
    assert recipient is not None  # BST direct reference, as phase4 does for key agreement too


def test_inclusive_prefixes_follow_wss4j() -> None:
    root = etree.fromstring(
        f'<S12:Envelope xmlns:S12="{S12}" xmlns:a="urn:a"><S12:Header xmlns:b="urn:b">'
        f'<eb:Messaging xmlns:eb="{EB}" xmlns:x="urn:x" xmlns:ns3="{S12}" ns3:mustUnderstand="true"/>'
        f'</S12:Header></S12:Envelope>'.encode())
    messaging = root[0][0]
    # ancestors declare b (nearest first), then S12 and a; ns3:mustUnderstand is "visible" only under ns3
    assert inclusive_prefixes(messaging, exclude_visible=True) == ("b", "a")
    assert inclusive_prefixes(messaging, exclude_visible=False) == ("b", "S12", "a")


def test_signed_references_returns_what_we_signed() -> None:
    parts = payloads(2)
    root, _ = send(EDELIVERY_2_0, parts)
    references = signed_references(root)
    assert [r.get("URI")[:4] for r in references] == ["#pha", "#id-", "cid:", "cid:"]


@pytest.mark.parametrize("prof", [EDELIVERY_1_15, EDELIVERY_2_0_EC], ids=["1.15", "2.0-ec"])
@pytest.mark.parametrize("nsmap", [{}, {"eb": EB, "wsu": WSU, "wsse": WSSE, "ds": DS}], ids=["phase4", "codec"])
def test_signature_verifies_in_xmlsec(prof: As4Profile, nsmap: dict[str, str]) -> None:
    """Independent oracle (libxmlsec1) for the header signature: c14n, PrefixList and digests are standard."""
    p = pki()
    signer = p.signer(p.partner, prof)
    root = envelope(envelope_nsmap=nsmap)
    sign_envelope(root, [], prof, signer)
    signed = etree.tostring(root)

    def check(data: bytes) -> None:
        tree = etree.fromstring(data)
        context = xmlsec.SignatureContext()
        context.key = xmlsec.Key.from_memory(signer.certificate.public_bytes(serialization.Encoding.PEM),
                                             xmlsec.constants.KeyDataFormatCertPem)
        for element in tree.iter(etree.Element):
            if element.get(q(WSU, "Id")):
                context.register_id(element, "Id", WSU)
        context.verify(xmlsec.tree.find_node(tree, xmlsec.constants.NodeSignature))

    check(signed)
    with pytest.raises(xmlsec.Error):
        check(signed.replace(b"msg-1@partner.test", b"msg-2@partner.test"))


# --- key references --------------------------------------------------------------------------------------

@pytest.mark.parametrize("form", [KeyReference.ISSUER_SERIAL, KeyReference.SKI])
def test_issuer_serial_and_ski_references_with_pmode_certificate(form: KeyReference) -> None:
    p = pki()
    parts = payloads(1)
    root, sent = send(EDELIVERY_1_15, parts, signing_key_reference=form, encryption_key_reference=form)
    assert security_children(root) == ["EncryptedKey", "EncryptedData", "Signature"]
    with receive(EDELIVERY_1_15, root, sent, p.by_pmode(p.partner, EDELIVERY_1_15)) as result:
        assert result.parts[0].read_all() == parts[0].read_all()
    # A trust-store resolver needs the certificate in the message: no BST, nothing to validate.
    refused("EBMS:0101", EDELIVERY_1_15, root, sent)


def test_key_reference_form_outside_the_profile_is_policy_noncompliance() -> None:
    p = pki()
    root, sent = send(EDELIVERY_1_15, payloads(1), signing_key_reference=KeyReference.SKI)
    bst_only = EDELIVERY_1_15.with_changes(accepted_key_references=frozenset({KeyReference.BST}))
    error = refused("EBMS:0103", bst_only, root, sent, p.by_pmode(p.partner, EDELIVERY_1_15))
    assert "ski" in error.detail


# --- refusals --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("prof", ALL_PROFILES, ids=PROFILE_IDS)
def test_unsigned_message_is_policy_noncompliance(prof: As4Profile) -> None:
    refused("EBMS:0103", prof, envelope(), [])


def test_encrypted_but_unsigned_is_policy_noncompliance() -> None:
    p = pki()
    parts = payloads(1)
    unsigned = EDELIVERY_2_0.with_changes(sign_required=False)
    root, sent = secure_outbound(envelope(parts=parts), parts, unsigned, None, p.encryption_cert(p.node, unsigned))
    error = refused("EBMS:0103", EDELIVERY_2_0, root, sent)
    assert "ds:Signature" in error.detail


def test_unencrypted_part_is_policy_noncompliance() -> None:
    p = pki()
    parts = payloads(2)
    root = envelope(parts=parts)
    sign_envelope(root, parts, EDELIVERY_2_0, p.signer(p.partner, EDELIVERY_2_0))
    error = refused("EBMS:0103", EDELIVERY_2_0, root, parts)
    assert "not encrypted" in error.detail


def test_signature_not_covering_an_attachment_is_policy_noncompliance() -> None:
    """Decision: a valid signature whose scope misses a part is EBMS:0103 (scope breaks the agreement), not
    0101 (nothing failed to authenticate)."""
    p = pki()
    parts = payloads(3)
    root = envelope(parts=parts)
    sign_envelope(root, parts[:2], EDELIVERY_1_15, p.signer(p.partner, EDELIVERY_1_15))
    sent = encrypt_parts(root, parts, EDELIVERY_1_15, p.encryption_cert(p.node, EDELIVERY_1_15))
    error = refused("EBMS:0103", EDELIVERY_1_15, root, sent)
    assert "bin@test" in error.detail


def test_tampered_attachment_fails_authentication() -> None:
    """Changed after signing, then encrypted correctly for us: decryption works, the digest does not."""
    p = pki()
    parts = payloads(3)
    root = envelope(parts=parts)
    sign_envelope(root, parts, EDELIVERY_2_0, p.signer(p.partner, EDELIVERY_2_0))
    tampered = [*parts[:2], Part.from_bytes(parts[2].content_id, parts[2].content_type, b"forged")]
    sent = encrypt_parts(root, tampered, EDELIVERY_2_0, p.encryption_cert(p.node, EDELIVERY_2_0))
    error = refused("EBMS:0101", EDELIVERY_2_0, root, sent)
    assert "XMLDSIG_DIGEST_MISMATCH" in error.detail


def test_tampered_plain_attachment_fails_authentication() -> None:
    prof = EDELIVERY_1_15.with_changes(encrypt_required=False)
    p = pki()
    parts = payloads(1)
    root, _ = secure_outbound(envelope(parts=parts), parts, prof, p.signer(p.partner, prof), None)
    refused("EBMS:0101", prof, root, [Part.from_bytes(parts[0].content_id, parts[0].content_type, b"<doc/>")])


def test_tampered_ciphertext_fails_decryption() -> None:
    root, sent = send(EDELIVERY_1_15, payloads(1))
    data = bytearray(sent[0].read_all())
    data[20] ^= 1
    refused("EBMS:0102", EDELIVERY_1_15, root, [Part.from_bytes(sent[0].content_id, sent[0].content_type, bytes(data))])


def test_tampered_messaging_header_fails_authentication() -> None:
    root, sent = send(PEPPOL, payloads(1))
    root.find(f".//{q(EB, 'MessageId')}").text = "replayed@attacker"
    refused("EBMS:0101", PEPPOL, root, sent)


def test_signature_wrapping_is_refused() -> None:
    """The signed eb:Messaging moved into a wrapper, a forged one in its place: the ID still finds the signed
    element, so the digest holds, but the element the codec would read is not covered."""
    root, sent = send(EDELIVERY_2_0, payloads(1))
    header = root.find(q(S12, "Header"))
    original = header.find(q(EB, "Messaging"))
    forged = copy.deepcopy(original)
    forged.set(q(WSU, "Id"), "forged")
    forged.find(f".//{q(EB, 'MessageId')}").text = "forged@attacker"
    wrapper = etree.SubElement(header, "{urn:attacker}Wrapper")
    header.replace(original, forged)
    wrapper.append(original)
    refused("EBMS:0103", EDELIVERY_2_0, root, sent)


@pytest.mark.parametrize("expected", ["another partner", "the partner's encryption certificate"])
def test_wrong_partner_certificate_fails_authentication(expected: str) -> None:
    """The PMode (or SMP) names a certificate other than the one the message was signed with."""
    p = pki()
    root, sent = send(EDELIVERY_1_15, payloads(1))
    if expected == "another partner":
        other = p.signer(p.rogue, EDELIVERY_1_15).certificate
    else:
        other = p.encryption_cert(p.partner, EDELIVERY_1_15)
    error = refused("EBMS:0101", EDELIVERY_1_15, root, sent, match_candidates([other]))
    assert "XMLDSIG_KEY_UNTRUSTED" in error.detail


@pytest.mark.parametrize("prof", [EDELIVERY_1_15, EDELIVERY_2_0], ids=["1.15", "2.0"])
def test_untrusted_partner_fails_authentication(prof: As4Profile) -> None:
    p = pki()
    parts = payloads(1)
    root, sent = secure_outbound(envelope(parts=parts), parts, prof, p.signer(p.rogue, prof),
                                 p.encryption_cert(p.node, prof))
    error = refused("EBMS:0101", prof, root, sent)
    assert "PKI_CERT_UNTRUSTED" in error.detail


@pytest.mark.parametrize("resolver", ["pmode", "trust-store"])
def test_expired_partner_certificate_fails_authentication(resolver: str) -> None:
    p = pki()
    parts = payloads(1)
    prof = EDELIVERY_2_0_EC
    root, sent = secure_outbound(envelope(parts=parts), parts, prof, p.signer(p.expired, prof),
                                 p.encryption_cert(p.node, prof))
    chosen = p.by_pmode(p.expired, prof) if resolver == "pmode" else None
    error = refused("EBMS:0101", prof, root, sent, chosen)
    assert "PKI_CERT_EXPIRED" in error.detail


@pytest.mark.parametrize("prof", [EDELIVERY_1_15, EDELIVERY_2_0, EDELIVERY_2_0_EC], ids=["1.15", "2.0", "2.0-ec"])
def test_message_not_encrypted_for_us_fails_decryption(prof: As4Profile) -> None:
    p = pki()
    parts = payloads(1)
    root, sent = secure_outbound(envelope(parts=parts), parts, prof, p.signer(p.partner, prof),
                                 p.encryption_cert(p.rogue, prof))
    refused("EBMS:0102", prof, root, sent)


def test_wrong_key_for_our_certificate_fails_decryption() -> None:
    """The EncryptedKey names our certificate, but the key was wrapped for someone else's."""
    p = pki()
    parts = payloads(1)
    root, sent = send(EDELIVERY_1_15, parts)
    other_root, _ = secure_outbound(envelope(parts=parts), parts, EDELIVERY_1_15,
                                    p.signer(p.partner, EDELIVERY_1_15), p.encryption_cert(p.rogue, EDELIVERY_1_15))
    ours = root.find(f".//{q(XENC, 'EncryptedKey')}/{q(XENC, 'CipherData')}/{q(XENC, 'CipherValue')}")
    theirs = other_root.find(f".//{q(XENC, 'EncryptedKey')}/{q(XENC, 'CipherData')}/{q(XENC, 'CipherValue')}")
    ours.text = theirs.text
    refused("EBMS:0102", EDELIVERY_1_15, root, sent)


def test_rsa_signature_is_refused_under_2_0() -> None:
    """RSA-SHA256 signed (1.15 signing), correctly X25519-encrypted: the 2.0 policy refuses the algorithm."""
    p = pki()
    parts = payloads(1)
    root = envelope(parts=parts)
    sign_envelope(root, parts, EDELIVERY_1_15, p.signer(p.partner, EDELIVERY_1_15))
    sent = encrypt_parts(root, parts, EDELIVERY_2_0, p.encryption_cert(p.node, EDELIVERY_2_0))
    error = refused("EBMS:0101", EDELIVERY_2_0, root, sent)
    assert A.RSA_SHA256 in error.detail


def test_rsa_oaep_key_transport_is_refused_under_2_0() -> None:
    p = pki()
    parts = payloads(1)
    root = envelope(parts=parts)
    sign_envelope(root, parts, EDELIVERY_2_0, p.signer(p.partner, EDELIVERY_2_0))
    sent = encrypt_parts(root, parts, EDELIVERY_1_15, p.encryption_cert(p.node, EDELIVERY_1_15))
    refused("EBMS:0102", EDELIVERY_2_0, root, sent)


def test_two_signatures_are_policy_noncompliance() -> None:
    p = pki()
    parts = payloads(1)
    root = envelope(parts=parts)
    sign_envelope(root, parts, EDELIVERY_2_0, p.signer(p.partner, EDELIVERY_2_0))
    sign_envelope(root, parts, EDELIVERY_2_0, p.signer(p.partner, EDELIVERY_2_0))
    sent = encrypt_parts(root, parts, EDELIVERY_2_0, p.encryption_cert(p.node, EDELIVERY_2_0))
    refused("EBMS:0103", EDELIVERY_2_0, root, sent)


def test_ref_to_message_id_is_carried_into_the_error() -> None:
    p = pki()
    received, received_parts = wire(envelope(), [])
    with pytest.raises(EbmsError) as caught:
        process_inbound(received, received_parts, EDELIVERY_2_0, key_store=p.node,
                        signer_resolver=p.by_trust_store(), ref_to_message_id="msg-1@partner.test")
    assert caught.value.ref_to_message_id == "msg-1@partner.test"


# --- outbound configuration errors -----------------------------------------------------------------------

def test_outbound_refuses_a_signer_of_the_wrong_family() -> None:
    p = pki()
    with pytest.raises(ValueError, match="ed25519"):
        secure_outbound(envelope(), [], EDELIVERY_2_0, p.signer(p.partner, EDELIVERY_1_15), None)


def test_outbound_refuses_a_recipient_key_the_profile_cannot_encrypt_for() -> None:
    p = pki()
    parts = payloads(1)
    with pytest.raises(ValueError, match="x25519"):
        secure_outbound(envelope(parts=parts), parts, EDELIVERY_2_0, p.signer(p.partner, EDELIVERY_2_0),
                        p.encryption_cert(p.node, EDELIVERY_1_15))


def test_outbound_requires_a_recipient_when_parts_must_be_encrypted() -> None:
    p = pki()
    parts = payloads(1)
    with pytest.raises(ValueError, match="encryption"):
        secure_outbound(envelope(parts=parts), parts, PEPPOL, p.signer(p.partner, PEPPOL), None)


# --- profiles as data ------------------------------------------------------------------------------------

def test_profiles_registry_and_data() -> None:
    assert set(PROFILES) == {"edelivery-1.15", "edelivery-2.0", "edelivery-2.0-ec", "peppol"}
    assert profile("peppol") is PEPPOL
    with pytest.raises(KeyError, match="known"):
        profile("as2")
    assert EDELIVERY_1_15.policy is A.EDELIVERY_AS4_1_15 and EDELIVERY_1_15.key_transport == A.RSA_OAEP
    assert EDELIVERY_2_0.key_agreement.agreement == A.X25519
    assert EDELIVERY_2_0_EC.key_agreement.agreement == A.ECDH_ES
    assert {p.data_encryption for p in ALL_PROFILES} == {A.AES128_GCM}
    assert {p.signing_key_reference for p in ALL_PROFILES} == {KeyReference.BST}
    assert PEPPOL.party_id_type == "urn:fdc:peppol.eu:2017:identifiers:ap"
    assert PEPPOL.agreement_ref == "urn:fdc:peppol.eu:2017:agreements:tia:ap_provider"
    assert PEPPOL.service_type == "cenbii-procid-ubl" and PEPPOL.payload_envelope == "sbdh"
    assert PEPPOL.missing_properties([("originalSender", "iso6523-actorid-upis"), ("finalRecipient", None)]) == [
        "finalRecipient"]
    assert EDELIVERY_1_15.missing_properties([("originalSender", None), ("finalRecipient", None)]) == []
    assert EDELIVERY_2_0.missing_properties([]) == ["originalSender", "finalRecipient"]
