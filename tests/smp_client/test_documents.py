from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from pki.xml import ns
from smp_client import identifiers, publish
from smp_client.documents import check_redirect_target, read_service_group, read_service_metadata
from smp_client.errors import SmpDocumentError
from smp_client.model import (
    BDXR_AS4,
    PEPPOL_AS4_V2,
    CertificateUse,
    Flavour,
    Redirect,
    ServiceMetadata,
)
from smp_client.parse import read_xml
from smp_client.select import select_endpoint
from tests.smp_client.smpfixtures import DOC, PARTICIPANT, PROCESS, metadata, partner_endpoint, smp_keys

NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def _fresh_now() -> None:
    """Each test validates at its own "now": certificates made later in a long run (the dev CA backdates by
    only 5 minutes) must not look not-yet-valid against a time taken at import."""
    global NOW
    NOW = datetime.now(UTC)
FLAVOURS = [Flavour.OASIS_1, Flavour.PEPPOL, Flavour.OASIS_2]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_signed_round_trip(flavour: Flavour) -> None:
    keys = smp_keys()
    data = publish.build(metadata(flavour), keys.signer)
    parsed = read_service_metadata(data, trust=keys.trust, now=NOW)
    assert parsed.flavour is flavour
    assert parsed.participant == PARTICIPANT
    assert parsed.document_type == DOC
    assert parsed.signer == keys.signer.certificate
    endpoint = select_endpoint(parsed, process=PROCESS, now=NOW)
    assert endpoint.address == "https://ap.partner.example/as4"
    assert endpoint.certificates[0].certificate == partner_endpoint().certificates[0].certificate


def test_ec_signed_smp_verifies() -> None:
    keys = smp_keys()
    data = publish.build(metadata(Flavour.OASIS_2), keys.ec_signer)
    assert read_service_metadata(data, trust=keys.trust, now=NOW).signer == keys.ec_signer.certificate


def test_smp2_several_certificates_by_type_code() -> None:
    keys = smp_keys()
    data = publish.build(metadata(Flavour.OASIS_2, partner_endpoint(v2=True)), keys.signer)
    endpoint = select_endpoint(read_service_metadata(data, trust=keys.trust, now=NOW), process=PROCESS, now=NOW)
    uses = {c.use for c in endpoint.certificates}
    assert uses == {CertificateUse.SIGNING, CertificateUse.KEY_EXCHANGE}
    assert endpoint.certificate_for(CertificateUse.SIGNING).type_code == "signing"
    # an operator's exact TypeCode map wins over the word heuristics
    mapped = read_service_metadata(data, trust=keys.trust, now=NOW,
                                   certificate_uses={"key-exchange": CertificateUse.ENCRYPTION})
    assert CertificateUse.ENCRYPTION in {c.use for c in mapped.groups[0].endpoints[0].certificates}


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_tampered_refused(flavour: Flavour) -> None:
    keys = smp_keys()
    data = publish.build(metadata(flavour), keys.signer)
    forged = data.replace(b"https://ap.partner.example/as4", b"https://evil.example/as4")
    with pytest.raises(SmpDocumentError) as caught:
        read_service_metadata(forged, trust=keys.trust, now=NOW)
    assert caught.value.code == "SMP_SIGNATURE_INVALID"


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_untrusted_and_expired_signers_refused(flavour: Flavour) -> None:
    keys = smp_keys()
    with pytest.raises(SmpDocumentError) as caught:
        read_service_metadata(publish.build(metadata(flavour), keys.rogue), trust=keys.trust, now=NOW)
    assert caught.value.code == "SMP_SIGNER_UNTRUSTED"
    with pytest.raises(SmpDocumentError) as caught:
        read_service_metadata(publish.build(metadata(flavour), keys.expired), trust=keys.trust, now=NOW)
    assert caught.value.code == "SMP_SIGNER_EXPIRED"


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_missing_signature_refused(flavour: Flavour) -> None:
    data = publish.build(metadata(flavour), None)
    with pytest.raises(SmpDocumentError) as caught:
        read_service_metadata(data, trust=smp_keys().trust, now=NOW)
    assert caught.value.code == "SMP_SIGNATURE_MISSING"
    assert read_service_metadata(data, trust=None, now=NOW).participant == PARTICIPANT  # inspection only


def test_wrapping_attack_refused() -> None:
    """A signature whose reference names an element by ID, moved next to a forged ServiceMetadata."""
    keys = smp_keys()
    signed = read_xml(publish.build(metadata(Flavour.OASIS_1), keys.signer))
    smp_ns = "http://docs.oasis-open.org/bdxr/ns/SMP/2016/05"
    # the attacker's document: forged ServiceMetadata in place, the genuine signed one hidden in an Extension
    # of a fresh root, and a signature (copied) that does not cover what would be read.
    forged_root = etree.Element(f"{{{smp_ns}}}SignedServiceMetadata", nsmap={None: smp_ns})
    forged = copy.deepcopy(signed.find(f"{{{smp_ns}}}ServiceMetadata"))
    for uri in forged.iter(f"{{{smp_ns}}}EndpointURI"):
        uri.text = "https://evil.example/as4"
    forged_root.append(forged)
    forged_root.append(copy.deepcopy(signed.find(ns.q(ns.DS, "Signature"))))
    hidden = etree.SubElement(forged_root, f"{{{smp_ns}}}Extension")
    hidden.append(copy.deepcopy(signed))
    data = etree.tostring(forged_root)
    with pytest.raises(SmpDocumentError) as caught:
        read_service_metadata(data, trust=keys.trust, now=NOW)
    assert caught.value.code == "SMP_SIGNATURE_INVALID"


def test_wrapping_by_id_reference_refused() -> None:
    """Signature over an element by ID elsewhere in the document does not cover the ServiceMetadata used."""
    from pki.xml.algorithms import SMP
    from pki.xml.keyinfo import x509_data
    from pki.xml.signing import ReferenceSpec, SignOptions, sign

    keys = smp_keys()
    root = read_xml(publish.build(metadata(Flavour.OASIS_1), None).replace(b"ServiceMetadata", b"ServiceMetadata"))
    smp_ns = "http://docs.oasis-open.org/bdxr/ns/SMP/2016/05"
    wrapper = etree.Element(f"{{{smp_ns}}}SignedServiceMetadata", nsmap={None: smp_ns})
    wrapper.append(root)
    decoy = etree.SubElement(wrapper, f"{{{smp_ns}}}Extension")
    decoy.set("Id", "decoy")
    sign(wrapper, [ReferenceSpec(element=decoy)], keys.signer,
         SignOptions(policy=SMP, key_info=x509_data([keys.signer.certificate])))
    with pytest.raises(SmpDocumentError) as caught:
        read_service_metadata(etree.tostring(wrapper), trust=keys.trust, now=NOW)
    assert caught.value.code == "SMP_SIGNATURE_WRAPPING"


@pytest.mark.parametrize(("data", "code"), [
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "XML_DTD_FORBIDDEN"),
    (b"<ServiceMetadata", "XML_MALFORMED"),
    (b"<other xmlns='urn:x'/>", "SMP_DOCUMENT_UNKNOWN"),
    (b"", "XML_EMPTY"),
])
def test_hardened_parsing(data: bytes, code: str) -> None:
    with pytest.raises(SmpDocumentError) as caught:
        read_service_metadata(data, trust=None, now=NOW)
    assert caught.value.code == code


def test_size_limit() -> None:
    data = publish.build(metadata(Flavour.OASIS_2), None)
    with pytest.raises(SmpDocumentError) as caught:
        read_service_metadata(data, trust=None, now=NOW, max_bytes=len(data) - 1)
    assert caught.value.code == "XML_TOO_LARGE"


def test_selection_rules() -> None:
    past, future = NOW - timedelta(days=2), NOW + timedelta(days=2)
    expired = partner_endpoint(expiration=past)
    later = partner_endpoint(activation=future)
    peppol = partner_endpoint("https://peppol.example/as4", transport_profile=PEPPOL_AS4_V2)
    keys = smp_keys()

    def parsed(*endpoints) -> ServiceMetadata:  # type: ignore[no-untyped-def]
        return read_service_metadata(publish.build(metadata(Flavour.OASIS_2, *endpoints), keys.signer),
                                     trust=keys.trust, now=NOW)

    with pytest.raises(SmpDocumentError) as caught:
        select_endpoint(parsed(expired), process=PROCESS, now=NOW)
    assert caught.value.code == "SMP_ENDPOINT_EXPIRED"
    with pytest.raises(SmpDocumentError) as caught:
        select_endpoint(parsed(later), process=PROCESS, now=NOW)
    assert caught.value.code == "SMP_ENDPOINT_NOT_YET_ACTIVE"
    assert select_endpoint(parsed(later), process=PROCESS, now=future + timedelta(hours=1)).address
    with pytest.raises(SmpDocumentError) as caught:
        select_endpoint(parsed(peppol), process=PROCESS, now=NOW, transport_profiles=[BDXR_AS4])
    assert caught.value.code == "SMP_TRANSPORT_PROFILE_UNKNOWN"
    both = parsed(peppol, partner_endpoint())
    assert select_endpoint(both, process=PROCESS, now=NOW, transport_profiles=[PEPPOL_AS4_V2, BDXR_AS4]).address \
        == "https://peppol.example/as4"
    with pytest.raises(SmpDocumentError) as caught:
        select_endpoint(both, process=identifiers.process("cenbii-procid-ubl::other"), now=NOW)
    assert caught.value.code == "SMP_NO_PROCESS"
    with pytest.raises(SmpDocumentError) as caught:
        select_endpoint(parsed(partner_endpoint("http://plain.example/as4")), process=PROCESS, now=NOW)
    assert caught.value.code == "SMP_ENDPOINT_NOT_HTTPS"


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_redirect_checked_against_certificate(flavour: Flavour) -> None:
    keys = smp_keys()
    signer_cert = keys.signer.certificate
    assert signer_cert is not None
    redirect = Redirect("https://smp2.example/x", certificate_uid=signer_cert.subject.rfc4514_string(),
                        certificates=(signer_cert,))
    source_doc = ServiceMetadata(flavour, PARTICIPANT, DOC, (), redirect)
    source = read_service_metadata(publish.build(source_doc, keys.signer), trust=keys.trust, now=NOW)
    assert source.redirect is not None
    assert source.redirect.href == "https://smp2.example/x"
    good = read_service_metadata(publish.build(metadata(flavour), keys.signer), trust=keys.trust, now=NOW)
    check_redirect_target(source, good)
    other = read_service_metadata(publish.build(metadata(flavour), keys.ec_signer), trust=keys.trust, now=NOW)
    with pytest.raises(SmpDocumentError) as caught:
        check_redirect_target(source, other)
    assert caught.value.code == "SMP_REDIRECT_CERTIFICATE"
    with pytest.raises(SmpDocumentError) as caught:
        check_redirect_target(source, source)
    assert caught.value.code == "SMP_REDIRECT_LOOP"


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_service_group(flavour: Flavour) -> None:
    if flavour is Flavour.OASIS_2:
        data = publish.service_group_2(PARTICIPANT, [DOC])
    else:
        data = publish.service_group_1(flavour, PARTICIPANT, ["https://smp.example/a/services/b"])
    group = read_service_group(data)
    assert group.participant == PARTICIPANT
    assert len(group.references) == 1


def test_weak_signature_algorithm_refused() -> None:
    keys = smp_keys()
    data = publish.build(metadata(Flavour.OASIS_1), keys.signer)
    weak = data.replace(b"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", b"http://www.w3.org/2000/09/xmldsig#rsa-sha1")
    assert weak != data
    with pytest.raises(SmpDocumentError) as caught:
        read_service_metadata(weak, trust=keys.trust, now=NOW)
    assert caught.value.code == "SMP_SIGNATURE_ALGORITHM"


def test_signature_in_the_wrong_place_is_not_a_signature() -> None:
    """A valid signature moved inside an Extension signs nothing at the document level."""
    keys = smp_keys()
    root = read_xml(publish.build(metadata(Flavour.OASIS_1), keys.signer))
    signature = root.find(ns.q(ns.DS, "Signature"))
    smp_ns = "http://docs.oasis-open.org/bdxr/ns/SMP/2016/05"
    root.remove(signature)
    root.find(f"{{{smp_ns}}}ServiceMetadata").append(signature)
    with pytest.raises(SmpDocumentError) as caught:
        read_service_metadata(etree.tostring(root), trust=keys.trust, now=NOW)
    assert caught.value.code == "SMP_SIGNATURE_MISSING"


def test_signer_not_yet_valid() -> None:
    keys = smp_keys()
    data = publish.build(metadata(Flavour.OASIS_2), keys.signer)
    with pytest.raises(SmpDocumentError) as caught:
        read_service_metadata(data, trust=keys.trust, now=NOW - timedelta(days=1))
    assert caught.value.code == "SMP_SIGNER_NOT_YET_VALID"
