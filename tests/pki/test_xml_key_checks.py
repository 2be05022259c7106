"""Keys and algorithms: wrong, untrusted and mismatched keys; every refused algorithm."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from lxml import etree

from pki import primitives
from pki.primitives import KeyMismatch
from pki.xml import algorithms as A
from pki.xml.algorithms import POLICIES, AlgorithmPolicy, AlgorithmRefused
from pki.xml.keyinfo import (
    KeyInfoData,
    ResolvedKey,
    key_value,
    match_candidates,
    trusted_certificate,
    use_certificate,
    x509_data,
)
from pki.xml.parser import parse_xml
from pki.xml.references import (
    Transform,
    canonicalize,
    element_octets,
    find_by_id,
    read_prefix_list,
)
from pki.xml.signing import ReferenceSpec, SignOptions, sign
from pki.xml.verification import verify
from tests.pki.xmldocs import (
    ENVELOPED,
    NS,
    SAML_TEMPLATE,
    SOAP_TEMPLATE,
    attacked,
    key_error,
    saml_identity,
    saml_response,
    signature_error,
    soap_envelope,
    soap_identity,
    the_signature,
    verify_saml,
)
from tests.pki.xmlkeys import Identity, KeySigner, identity, resign

# --- keys -----------------------------------------------------------------------------------------------

def test_wrong_key_of_the_same_type_is_an_invalid_signature() -> None:
    root = parse_xml(saml_response(key_info=None)).getroot()
    other = identity("p256", "b")
    signature_error("XMLDSIG_SIGNATURE_INVALID",
                    lambda: verify(the_signature(root), use_certificate(other.cert), A.EIDAS_1_3))
    signature_error("XMLDSIG_SIGNATURE_INVALID",
                    lambda: verify(the_signature(root), lambda info: ResolvedKey(other.cert.public_key()), A.EIDAS_1_3))
    root = parse_xml(soap_envelope(key_info=None)).getroot()
    signature_error("XMLDSIG_SIGNATURE_INVALID", lambda: verify(
        the_signature(root), use_certificate(identity("rsa", "b").cert), A.EDELIVERY_AS4_1_15))


def test_keyinfo_naming_another_certificate_is_a_key_mismatch() -> None:
    root = parse_xml(saml_response()).getroot()
    key_error("XMLDSIG_KEY_MISMATCH",
              lambda: verify(the_signature(root), use_certificate(identity("p256", "b").cert), A.EIDAS_1_3))
    root = parse_xml(soap_envelope()).getroot()
    key_error("XMLDSIG_KEY_MISMATCH",
              lambda: verify(the_signature(root), use_certificate(identity("rsa", "b").cert), A.EDELIVERY_AS4_1_15))


def test_keyinfo_swapped_for_an_attackers_certificate_is_a_key_mismatch() -> None:
    attacker = identity("p256", "b")

    def mutate(root: etree._Element) -> None:
        signature = the_signature(root)
        signature.find(".//ds:X509Certificate", NS).text = base64.b64encode(attacker.der).decode()

    root = attacked(saml_response(), mutate)
    key_error("XMLDSIG_KEY_MISMATCH", lambda: verify_saml(root))


def test_match_candidates_with_none_matching_is_untrusted() -> None:
    root = parse_xml(saml_response()).getroot()
    others = [identity("p256", "b").cert, identity("rsa", "a").cert, identity("ed25519", "a").cert]
    key_error("XMLDSIG_KEY_UNTRUSTED", lambda: verify(the_signature(root), match_candidates(others), A.EIDAS_1_3))
    key_error("XMLDSIG_KEY_UNTRUSTED", lambda: verify(the_signature(root), match_candidates([]), A.EIDAS_1_3))
    verified = verify(the_signature(root), match_candidates([*others, saml_identity().cert]), A.EIDAS_1_3)
    assert verified.certificate == saml_identity().cert


class TrustStoreRefusal(Exception):
    """What a trust store's path validation raises: a message and a stable code."""

    def __init__(self, code: str) -> None:
        super().__init__(f"path validation failed: {code}")
        self.code = code


@pytest.mark.parametrize("code", ["PKI_CERT_EXPIRED", "PKI_CERT_REVOKED", "PKI_CERT_UNTRUSTED"])
def test_trusted_certificate_carries_the_trust_stores_refusal_code(code: str) -> None:
    seen: list[tuple[x509.Certificate, list[x509.Certificate]]] = []

    def validate(leaf: x509.Certificate, others) -> None:
        seen.append((leaf, list(others)))
        raise TrustStoreRefusal(code)

    root = parse_xml(saml_response()).getroot()
    error = key_error(code, lambda: verify(the_signature(root), trusted_certificate(validate), A.EIDAS_1_3))
    assert isinstance(error.__cause__, TrustStoreRefusal)
    assert seen == [(saml_identity().cert, [])]


def test_trusted_certificate_without_a_code_is_untrusted_and_success_verifies() -> None:
    root = parse_xml(soap_envelope()).getroot()

    def refuse(leaf, others) -> None:
        raise RuntimeError("no path to a trust anchor")

    key_error("XMLDSIG_KEY_UNTRUSTED", lambda: verify(the_signature(root), trusted_certificate(refuse),
                                                      A.EDELIVERY_AS4_1_15))
    verified = verify(the_signature(root), trusted_certificate(lambda leaf, others: None), A.EDELIVERY_AS4_1_15)
    assert verified.certificate == soap_identity().cert


def test_trusted_certificate_needs_a_certificate_in_the_message() -> None:
    root = parse_xml(saml_response(key_info=key_value(saml_identity().cert.public_key()))).getroot()
    key_error("XMLDSIG_KEY_UNRESOLVED",
              lambda: verify(the_signature(root), trusted_certificate(lambda leaf, others: None), A.EIDAS_1_3))


def test_trusted_certificate_passes_the_rest_of_the_chain() -> None:
    ident = saml_identity()
    ca = identity("p384", "ca")
    root = parse_xml(saml_response(key_info=x509_data([ident.cert, ca.cert]))).getroot()
    seen = []
    verify(the_signature(root), trusted_certificate(lambda leaf, others: seen.append((leaf, list(others)))),
           A.EIDAS_1_3)
    assert seen == [(ident.cert, [ca.cert])]


@pytest.mark.parametrize(("signed_by", "checked_with"), [
    ("rsa", "p256"), ("p256", "rsa"), ("p256", "ed25519"), ("ed25519", "p256"), ("ed25519", "rsa"),
])
def test_certificate_whose_key_type_does_not_match_the_signature_method_is_a_key_mismatch(
    signed_by: str, checked_with: str
) -> None:
    root = parse_xml(saml_response(identity(signed_by, "a"), policy=A.MODERN,
                                   algorithm={"rsa": A.RSA_PSS_SHA256, "p256": A.ECDSA_SHA256,
                                              "ed25519": A.EDDSA_ED25519}[signed_by],
                                   key_info=None)).getroot()
    with pytest.raises(KeyMismatch):
        verify(the_signature(root), use_certificate(identity(checked_with, "a").cert), A.MODERN)


def test_rsa_1024_keys_are_refused_for_signing() -> None:
    weak = identity("rsa1024", "a")
    root = parse_xml(SAML_TEMPLATE).getroot()
    before = etree.tostring(root)
    assertion = root.find("saml:Assertion", NS)
    with pytest.raises(KeyMismatch):
        sign(assertion, [ReferenceSpec(element=assertion, transforms=ENVELOPED)], weak.signer,
             SignOptions(policy=A.SMP, signature_algorithm=A.RSA_SHA256), index=1)
    assert etree.tostring(root) == before


def test_rsa_1024_signatures_are_refused_for_verification() -> None:
    weak = identity("rsa1024", "a")
    strong = identity("rsa", "a")
    root = parse_xml(saml_response(strong, policy=A.SMP, algorithm=A.RSA_SHA256, key_info=None)).getroot()
    signature = the_signature(root)
    signed_info = signature.find("ds:SignedInfo", NS)
    c14n = signed_info.find("ds:CanonicalizationMethod", NS)
    data = canonicalize(signed_info, c14n.get("Algorithm"), read_prefix_list(c14n))
    # made with cryptography directly: pki.primitives refuses to sign with a 1024-bit key
    signature.find("ds:SignatureValue", NS).text = base64.b64encode(
        weak.key.sign(data, padding.PKCS1v15(), hashes.SHA256())).decode()
    root = parse_xml(etree.tostring(root)).getroot()
    with pytest.raises(KeyMismatch):
        verify(the_signature(root), use_certificate(weak.cert), A.SMP)


# --- algorithms -----------------------------------------------------------------------------------------

ALL_SIGNATURE_URIS = sorted({*A.SIGNATURES, A.DSA_SHA1, A.HMAC_SHA1, "urn:unknown:signature"})
ALL_DIGEST_URIS = sorted({*A.DIGESTS, "http://www.w3.org/2001/04/xmldsig-more#md5", "urn:unknown:digest"})
ALL_TRANSFORM_URIS = sorted({
    A.ENVELOPED_SIGNATURE, A.EXC_C14N, A.EXC_C14N_WITH_COMMENTS, A.C14N_10, A.C14N_10_WITH_COMMENTS, A.C14N_11,
    A.XPATH_FILTER, A.XSLT, A.ATTACHMENT_CONTENT_TRANSFORM, A.ATTACHMENT_COMPLETE_TRANSFORM,
})
ALL_C14N_URIS = sorted({A.EXC_C14N, A.EXC_C14N_WITH_COMMENTS, A.C14N_10, A.C14N_10_WITH_COMMENTS, A.C14N_11})


def _outside(policy: AlgorithmPolicy, allowed: frozenset[str], everything: list[str]) -> list[str]:
    outside = [uri for uri in everything if uri not in allowed]
    assert outside, f"{policy.name}: nothing to refuse"
    return outside


def _policy_cases(kind: str, everything: list[str]) -> list:
    allowed = {"signature": "signatures", "digest": "digests", "transform": "transforms",
               "canonicalization": "canonicalizations"}[kind]
    return [
        pytest.param(policy, uri, id=f"{policy.name}-{uri.rsplit('/', 1)[-1]}")
        for policy in POLICIES.values()
        for uri in _outside(policy, getattr(policy, allowed), everything)
    ]


def _signing_target() -> tuple[etree._Element, etree._Element, bytes]:
    root = parse_xml(SOAP_TEMPLATE).getroot()
    return root, root.find("S12:Body", NS), etree.tostring(root)


def _refused(kind: str, uri: str, policy: AlgorithmPolicy, call: Callable[[], object]) -> None:
    with pytest.raises(AlgorithmRefused) as caught:
        call()
    assert (caught.value.kind, caught.value.uri, caught.value.policy) == (kind, uri, policy.name)
    assert caught.value.code == "XMLDSIG_ALGORITHM_REFUSED"
    assert uri in str(caught.value) and policy.name in str(caught.value)


@pytest.mark.parametrize(("policy", "uri"), _policy_cases("signature", ALL_SIGNATURE_URIS))
def test_signing_with_a_signature_algorithm_outside_the_policy_is_refused(policy: AlgorithmPolicy, uri: str) -> None:
    root, body, before = _signing_target()
    signer = KeySigner(identity("rsa", "a").key)
    _refused("signature", uri, policy, lambda: sign(
        root.find(".//wsse:Security", NS), [ReferenceSpec(element=body)], signer,
        SignOptions(policy=policy, signature_algorithm=uri)))
    assert signer.calls == 0
    assert etree.tostring(root) == before


@pytest.mark.parametrize(("policy", "uri"), _policy_cases("digest", ALL_DIGEST_URIS))
def test_signing_with_a_digest_outside_the_policy_is_refused(policy: AlgorithmPolicy, uri: str) -> None:
    root, body, before = _signing_target()
    signer = KeySigner(identity("rsa", "a").key)
    _refused("digest", uri, policy, lambda: sign(
        root.find(".//wsse:Security", NS), [ReferenceSpec(element=body, digest=uri)], signer,
        SignOptions(policy=policy, signature_algorithm=sorted(policy.signatures)[0])))
    assert signer.calls == 0
    assert etree.tostring(root) == before  # the Body already has its wsu:Id


@pytest.mark.parametrize(("policy", "uri"), _policy_cases("transform", ALL_TRANSFORM_URIS))
def test_signing_with_a_transform_outside_the_policy_is_refused(policy: AlgorithmPolicy, uri: str) -> None:
    root, body, before = _signing_target()
    signer = KeySigner(identity("rsa", "a").key)
    _refused("transform", uri, policy, lambda: sign(
        root.find(".//wsse:Security", NS), [ReferenceSpec(element=body, transforms=(Transform(uri),))], signer,
        SignOptions(policy=policy, signature_algorithm=sorted(policy.signatures)[0])))
    assert signer.calls == 0
    assert etree.tostring(root) == before


@pytest.mark.parametrize(("policy", "uri"), _policy_cases("canonicalization", ALL_C14N_URIS))
def test_signing_with_a_signedinfo_c14n_outside_the_policy_is_refused(policy: AlgorithmPolicy, uri: str) -> None:
    root, body, before = _signing_target()
    signer = KeySigner(identity("rsa", "a").key)
    misconfigured = dataclasses.replace(policy, default_c14n=uri)
    _refused("canonicalization", uri, misconfigured, lambda: sign(
        root.find(".//wsse:Security", NS), [ReferenceSpec(element=body)], signer,
        SignOptions(policy=misconfigured, signature_algorithm=sorted(policy.signatures)[0])))
    assert signer.calls == 0
    assert etree.tostring(root) == before


def test_a_refused_signing_leaves_the_document_as_it_was() -> None:
    root = parse_xml(b"<r><data>x</data><sec/></r>").getroot()
    before = etree.tostring(root)
    with pytest.raises(AlgorithmRefused):
        sign(root.find("sec"), [ReferenceSpec(element=root.find("data"), digest=A.SHA1)],
             KeySigner(identity("rsa", "a").key), SignOptions(policy=A.EDELIVERY_AS4_1_15))
    assert etree.tostring(root) == before


KEY_FOR = {"rsa": "rsa", "rsa-pss": "rsa", "ecdsa": "p256", "ed25519": "ed25519"}


def _stricter_cases() -> list:
    cases = []
    for policy in POLICIES.values():
        if policy is A.MODERN:
            continue
        for uri in sorted(A.MODERN.signatures - policy.signatures):
            cases.append(pytest.param(policy, "signature", uri, id=f"{policy.name}-signature-{uri.rsplit('#')[-1]}"))
        for uri in sorted(A.MODERN.digests - policy.digests):
            cases.append(pytest.param(policy, "digest", uri, id=f"{policy.name}-digest-{uri.rsplit('#')[-1]}"))
        for uri in sorted(A.MODERN.canonicalizations - policy.canonicalizations):
            cases.append(pytest.param(policy, "canonicalization", uri, id=f"{policy.name}-c14n-{uri.rsplit('/')[-1]}"))
        for uri in sorted({A.ENVELOPED_SIGNATURE, A.C14N_10} - policy.transforms):
            cases.append(pytest.param(policy, "transform", uri, id=f"{policy.name}-transform-{uri.rsplit('/')[-1]}"))
    return cases


@pytest.mark.parametrize(("policy", "kind", "uri"), _stricter_cases())
def test_document_signed_under_modern_is_refused_under_a_stricter_policy(
    policy: AlgorithmPolicy, kind: str, uri: str
) -> None:
    allowed_signature = sorted(policy.signatures & A.MODERN.signatures)[0]
    signature_uri = uri if kind == "signature" else allowed_signature
    ident = identity(KEY_FOR[A.SIGNATURES[signature_uri].family], "a")
    modern = dataclasses.replace(A.MODERN, default_c14n=uri) if kind == "canonicalization" else A.MODERN
    digest = uri if kind == "digest" else None
    # the SAML document where the policy (or the test) wants an enveloped signature, else the detached SOAP one
    if A.ENVELOPED_SIGNATURE in policy.transforms or (kind, uri) == ("transform", A.ENVELOPED_SIGNATURE):
        transforms = ENVELOPED
        if (kind, uri) == ("transform", A.C14N_10):
            transforms = (Transform(A.ENVELOPED_SIGNATURE), Transform(A.C14N_10))
        signed = saml_response(ident, policy=modern, algorithm=signature_uri, digest=digest, key_info=None,
                               transforms=transforms)
    else:
        transforms = (Transform(A.C14N_10),) if (kind, uri) == ("transform", A.C14N_10) else (Transform(A.EXC_C14N),)
        signed = soap_envelope(ident, policy=modern, algorithm=signature_uri, digest=digest, key_info=None,
                               transforms=transforms)
    root = parse_xml(signed).getroot()
    assert verify(the_signature(root), use_certificate(ident.cert), A.MODERN).references  # valid as signed

    _refused(kind, uri, policy, lambda: verify(the_signature(root), use_certificate(ident.cert), policy))


def _never_called(info: KeyInfoData) -> ResolvedKey:
    raise AssertionError("the key resolver ran before the algorithm check")


def _acceptable(policy: AlgorithmPolicy) -> tuple[bytes, Identity]:
    """A document signed with the policy's first signature algorithm, in the form the policy accepts."""
    uri = sorted(policy.signatures)[0]
    ident = identity(KEY_FOR[A.SIGNATURES[uri].family], "a")
    if A.ENVELOPED_SIGNATURE in policy.transforms:
        return saml_response(ident, policy=policy, algorithm=uri), ident
    return soap_envelope(ident, policy=policy, algorithm=uri, key_info=x509_data([ident.cert])), ident


def _weaken(kind: str, ident: Identity) -> tuple[str, Callable[[etree._Element], None]]:
    """Hand-edit a valid signature to a SHA-1 (or DSA/HMAC) algorithm, recomputing what can be recomputed so
    that the signature is as valid as an attacker can make it."""
    def sha1_digest(root: etree._Element) -> None:
        signature = the_signature(root)
        reference = signature.find(".//ds:Reference", NS)
        reference.find("ds:DigestMethod", NS).set("Algorithm", A.SHA1)
        target = find_by_id(root, reference.get("URI")[1:])
        transforms = [Transform(t.get("Algorithm")) for t in reference.findall("ds:Transforms/ds:Transform", NS)]
        octets = element_octets(target, transforms, signature, A.MODERN)
        reference.find("ds:DigestValue", NS).text = base64.b64encode(hashlib.sha1(octets).digest()).decode()
        resign(signature, ident.key)

    def signature_method(uri: str, key: str | None) -> Callable[[etree._Element], None]:
        def mutate(root: etree._Element) -> None:
            signature = the_signature(root)
            signature.find(".//ds:SignatureMethod", NS).set("Algorithm", uri)
            if key is not None:
                resign(signature, identity(key, "a").key)
        return mutate

    return {
        "sha1-digest": (A.SHA1, sha1_digest),
        "rsa-sha1": (A.RSA_SHA1, signature_method(A.RSA_SHA1, "rsa")),
        "ecdsa-sha1": (A.ECDSA_SHA1, signature_method(A.ECDSA_SHA1, "p256")),
        "dsa-sha1": (A.DSA_SHA1, signature_method(A.DSA_SHA1, None)),
        "hmac-sha1": (A.HMAC_SHA1, signature_method(A.HMAC_SHA1, None)),
    }[kind]


@pytest.mark.parametrize("policy", POLICIES.values(), ids=POLICIES.keys())
@pytest.mark.parametrize("kind", ["sha1-digest", "rsa-sha1", "ecdsa-sha1", "dsa-sha1", "hmac-sha1"])
def test_sha1_algorithms_written_into_signedinfo_are_refused_before_any_cryptography(
    policy: AlgorithmPolicy, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed, ident = _acceptable(policy)
    verify(the_signature(parse_xml(signed).getroot()), use_certificate(ident.cert), policy)  # accepted as signed
    uri, mutate = _weaken(kind, ident)
    root = attacked(signed, mutate)

    def no_crypto(*args, **kwargs):
        raise AssertionError("signature cryptography ran before the algorithm check")

    monkeypatch.setattr(primitives, "verify", no_crypto)
    with pytest.raises(AlgorithmRefused) as caught:
        verify(the_signature(root), _never_called, policy)
    assert caught.value.uri == uri
    assert caught.value.kind == ("digest" if kind == "sha1-digest" else "signature")
    assert caught.value.policy == policy.name


@pytest.mark.parametrize("policy", [A.EIDAS_1_3, A.EIDAS_1_4], ids=lambda p: p.name)
@pytest.mark.parametrize("uri", [A.RSA_SHA256, A.RSA_SHA384, A.RSA_SHA512])
def test_rsa_pkcs1_v15_is_refused_under_eidas(policy: AlgorithmPolicy, uri: str) -> None:
    ident = identity("rsa", "a")
    _refused("signature", uri, policy, lambda: saml_response(ident, policy=policy, algorithm=uri))
    root = parse_xml(saml_response(ident, policy=A.MODERN, algorithm=uri)).getroot()
    _refused("signature", uri, policy, lambda: verify(the_signature(root), use_certificate(ident.cert), policy))
    # RSA-PSS with the same key is what eIDAS wants
    root = parse_xml(saml_response(ident, policy=policy, algorithm=A.RSA_PSS_SHA256)).getroot()
    verify(the_signature(root), use_certificate(ident.cert), policy)


def test_ed25519_is_refused_under_edelivery_1_15_and_accepted_under_2_0() -> None:
    ident = identity("ed25519", "a")
    _refused("signature", A.EDDSA_ED25519, A.EDELIVERY_AS4_1_15,
             lambda: soap_envelope(ident, policy=A.EDELIVERY_AS4_1_15, algorithm=A.EDDSA_ED25519))
    root = parse_xml(soap_envelope(ident, policy=A.EDELIVERY_AS4_2_0, algorithm=A.EDDSA_ED25519)).getroot()
    verify(the_signature(root), use_certificate(ident.cert), A.EDELIVERY_AS4_2_0)
    _refused("signature", A.EDDSA_ED25519, A.EDELIVERY_AS4_1_15,
             lambda: verify(the_signature(root), use_certificate(ident.cert), A.EDELIVERY_AS4_1_15))


