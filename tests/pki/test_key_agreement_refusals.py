"""Key agreement refusals: policy, curves, small-order points, malformed AgreementMethod elements."""

from __future__ import annotations

import base64
import copy
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from lxml import etree

from pki.xml import algorithms as A
from pki.xml import ns
from pki.xml.algorithms import AlgorithmRefused
from pki.xml.kdf import DSIG_MORE_2021, XENC, XENC11
from pki.xml.key_agreement import (
    AgreementSpec,
    KeyAgreementError,
    agree_for_recipient,
    kek_from_agreement,
    unwrap_key,
    wrap_key,
)
from pki.xml.keyinfo import key_value, token_reference
from pki.xml.ns import q
from tests.pki.key_agreement_helpers import (
    CA_KEY,
    DS11,
    ECDH_CONCAT,
    ECDH_HKDF,
    RECIPIENTS,
    X25519_HKDF,
    X25519_KEY,
    Finder,
    KeyDecrypter,
    _find,
    _issued,
    _receive,
    _reparse,
    _send,
)
from tests.pki.xmlkeys import ec_key

# --- refusals ------------------------------------------------------------------------------------------------

def test_flipped_wrapped_key_byte_and_wrong_kek() -> None:
    kek, cek = os.urandom(16), os.urandom(16)
    wrapped = bytearray(wrap_key(kek, cek, A.KW_AES128))
    wrapped[5] ^= 0x01
    for bad_kek, bad_wrapped in ((kek, bytes(wrapped)), (os.urandom(16), bytes(wrapped)), (kek, b"short")):
        with pytest.raises(KeyAgreementError) as failed:
            unwrap_key(bad_kek, bad_wrapped, A.KW_AES128)
        assert failed.value.code == "XMLENC_KEY_UNWRAP"
    with pytest.raises(KeyAgreementError, match="needs a 32-byte KEK") as wrong:
        wrap_key(kek, cek, A.KW_AES256)
    assert wrong.value.code == "XMLENC_KEY_WRAP"


def test_wrong_recipient_key_fails_the_unwrap() -> None:
    sent = _send("p256", ECDH_HKDF)
    wrapped = wrap_key(sent.kek, os.urandom(16), A.KW_AES128)
    impostor = ec_key("impostor")
    kek = _receive("p256", _reparse(sent.element), decrypter=KeyDecrypter(impostor, RECIPIENTS["p256"][1]))
    with pytest.raises(KeyAgreementError) as failed:
        unwrap_key(kek, wrapped, A.KW_AES128)
    assert failed.value.code == "XMLENC_KEY_UNWRAP"


def _refusal(name: str, element: etree._Element, policy=A.MODERN, key_wrap: str = A.KW_AES128,  # type: ignore[no-untyped-def]
             decrypter=None) -> tuple[Exception, Finder, KeyDecrypter]:
    key, cert = RECIPIENTS[name]
    decrypter = decrypter or KeyDecrypter(key, cert)
    finder = Finder(decrypter, cert)
    with pytest.raises((KeyAgreementError, AlgorithmRefused)) as refused:
        kek_from_agreement(_reparse(element), finder, policy, key_wrap)
    return refused.value, finder, decrypter


def test_ec_ephemeral_where_x25519_is_expected_and_x25519_against_an_ec_key() -> None:
    sent = _send("x25519", X25519_HKDF)
    originator = _find(sent.element, XENC, "OriginatorKeyInfo")
    originator.replace(originator[0], key_value(ec_key("stray").public_key()))
    error, finder, _ = _refusal("x25519", sent.element)
    assert error.code == "XMLENC_KEY_AGREEMENT_CURVE" and finder.calls == 0  # type: ignore[attr-defined]

    ours = _send("x25519", X25519_HKDF)  # a correct X25519 message, but the key the store hands out is EC
    error, _, decrypter = _refusal("x25519", ours.element, decrypter=KeyDecrypter(ec_key("r256"), None))
    assert error.code == "XMLENC_KEY_AGREEMENT_CURVE" and decrypter.calls == 0  # type: ignore[attr-defined]


def test_p384_ephemeral_for_a_p256_recipient() -> None:
    sent = _send("p256", ECDH_HKDF)
    other = _send("p384", ECDH_HKDF)
    sent.element.replace(_find(sent.element, XENC, "OriginatorKeyInfo"), _find(other.element, XENC,
                                                                                "OriginatorKeyInfo"))
    error, _, decrypter = _refusal("p256", sent.element)
    assert error.code == "XMLENC_KEY_AGREEMENT_CURVE" and decrypter.calls == 0  # type: ignore[attr-defined]


def test_small_order_x25519_points_are_refused() -> None:
    zero_point = x25519.X25519PublicKey.from_public_bytes(bytes(32))
    sent = _send("x25519", X25519_HKDF)
    originator = _find(sent.element, XENC, "OriginatorKeyInfo")
    originator.replace(originator[0], key_value(zero_point))
    error, _, _ = _refusal("x25519", sent.element)  # OpenSSL refuses the exchange itself
    assert error.code == "XMLENC_KEY_AGREEMENT_WEAK"  # type: ignore[attr-defined]

    class AllZero(KeyDecrypter):  # a backend (an HSM, say) that hands back the all-zero result
        def exchange(self, peer_public_key) -> bytes:  # type: ignore[no-untyped-def]
            return bytes(32)
    error, _, _ = _refusal("x25519", _send("x25519", X25519_HKDF).element,
                           decrypter=AllZero(*RECIPIENTS["x25519"]))
    assert error.code == "XMLENC_KEY_AGREEMENT_WEAK"  # type: ignore[attr-defined]

    template = _issued(X25519_KEY, "weak")  # the same, but the certified key is a small-order point
    weak_cert = x509.CertificateBuilder(
        issuer_name=template.issuer, subject_name=template.subject, public_key=zero_point,
        serial_number=template.serial_number, not_valid_before=template.not_valid_before_utc,
        not_valid_after=template.not_valid_after_utc).sign(CA_KEY, hashes.SHA256())
    with pytest.raises(KeyAgreementError) as refused:
        agree_for_recipient(weak_cert, X25519_HKDF, A.EDELIVERY_AS4_2_0, token_reference(issuer_serial_of=weak_cert))
    assert refused.value.code == "XMLENC_KEY_AGREEMENT_WEAK"


@pytest.mark.parametrize(("name", "spec", "policy", "kind"), [
    ("p256", ECDH_CONCAT, A.EDELIVERY_AS4_2_0, "key derivation"),  # AS4 2.0 is HKDF only
    ("x25519", X25519_HKDF, A.EIDAS_1_3, "key agreement"),
    ("x25519", AgreementSpec(A.X25519, A.HKDF, A.KW_AES128, A.HMAC_SHA512), A.EDELIVERY_AS4_2_0, "prf"),
    ("x25519", AgreementSpec(A.X25519, A.HKDF, A.KW_AES256), A.EDELIVERY_AS4_2_0, "key wrap"),
    ("p256", ECDH_HKDF, A.EIDAS_1_3, "key derivation"),  # eIDAS 1.3 is ConcatKDF only
])
def test_policy_refusals_before_any_cryptography(name: str, spec: AgreementSpec, policy: A.AlgorithmPolicy,
                                                 kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Reading: made under MODERN, read under the profile; neither the key lookup nor the agreement runs.
    sent = _send(name, spec, A.MODERN)
    error, finder, decrypter = _refusal(name, sent.element, policy, spec.key_wrap)
    assert isinstance(error, AlgorithmRefused) and error.kind == kind and error.policy == policy.name
    assert finder.calls == 0 and decrypter.calls == 0
    # Writing: refused before an ephemeral key is even generated.
    def no_keys(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("key generated before the policy check")
    monkeypatch.setattr(ec, "generate_private_key", no_keys)
    monkeypatch.setattr(x25519.X25519PrivateKey, "generate", no_keys)
    with pytest.raises(AlgorithmRefused) as refused:
        _send(name, spec, policy)
    assert refused.value.kind == kind


@pytest.mark.parametrize(("mutate", "kind"), [
    (lambda m: m.set("Algorithm", "http://www.w3.org/2009/xmlenc11#dh-es"), "key agreement"),
    (lambda m: _find(m, XENC11, "KeyDerivationMethod").set("Algorithm", "http://www.w3.org/2009/xmlenc11#pbkdf2"),
     "key derivation"),
    (lambda m: _find(m, ns.DS, "DigestMethod").set("Algorithm", A.SHA1), "digest"),
])
def test_unknown_or_weak_algorithms_in_messages_are_refused(mutate, kind: str) -> None:  # type: ignore[no-untyped-def]
    sent = _send("p256", ECDH_CONCAT)
    mutate(sent.element)
    error, finder, _ = _refusal("p256", sent.element, A.EIDAS_1_3)
    assert isinstance(error, AlgorithmRefused) and error.kind == kind and finder.calls == 0


def _hkdf_message():  # type: ignore[no-untyped-def]
    return _send("p256", ECDH_HKDF).element


def _concat_message():  # type: ignore[no-untyped-def]
    return _send("p256", ECDH_CONCAT).element


def _set_text(namespace: str, local: str, text: str):  # type: ignore[no-untyped-def]
    def mutate(method: etree._Element) -> None:
        _find(method, namespace, local).text = text
    return mutate


def _remove(namespace: str, local: str):  # type: ignore[no-untyped-def]
    def mutate(method: etree._Element) -> None:
        element = _find(method, namespace, local)
        element.getparent().remove(element)
    return mutate


def _duplicate(namespace: str, local: str):  # type: ignore[no-untyped-def]
    def mutate(method: etree._Element) -> None:
        element = _find(method, namespace, local)
        element.addnext(copy.deepcopy(element))
    return mutate


def _ka_nonce(method: etree._Element) -> None:
    etree.SubElement(method, q(XENC, "KA-Nonce")).text = "AAAA"


def _key_name_only(method: etree._Element) -> None:
    originator = _find(method, XENC, "OriginatorKeyInfo")
    name = etree.Element(q(ns.DS, "KeyName"))
    name.text = "ephemeral"
    originator.replace(originator[0], name)


@pytest.mark.parametrize(("message", "mutate", "code"), [
    (_hkdf_message, _set_text(DSIG_MORE_2021, "Salt", "not*base64"), "XMLENC_KDF_PARAMS_MALFORMED"),
    (_hkdf_message, _set_text(DSIG_MORE_2021, "KeyLength", "128"), "XMLENC_KDF_KEY_LENGTH"),  # bits, not bytes
    (_hkdf_message, _set_text(DSIG_MORE_2021, "KeyLength", "sixteen"), "XMLENC_KDF_PARAMS_MALFORMED"),
    (_hkdf_message, _remove(DSIG_MORE_2021, "PRF"), "XMLENC_KDF_PARAMS_MALFORMED"),
    (_hkdf_message, _duplicate(DSIG_MORE_2021, "Salt"), "XMLENC_KDF_PARAMS_MALFORMED"),
    (_hkdf_message, _set_text(DS11, "PublicKey", "@@@"), "XMLENC_ORIGINATOR_KEY_MALFORMED"),
    (_hkdf_message, _set_text(DS11, "PublicKey", base64.b64encode(b"\x04" + bytes(64)).decode()),
     "XMLENC_ORIGINATOR_KEY_MALFORMED"),  # not a point on the curve
    (_hkdf_message, _remove(XENC, "OriginatorKeyInfo"), "XMLENC_ORIGINATOR_KEY_MISSING"),
    (_hkdf_message, _key_name_only, "XMLENC_ORIGINATOR_KEY_MISSING"),
    (_hkdf_message, _duplicate(XENC, "OriginatorKeyInfo"), "XMLENC_KEY_AGREEMENT_MALFORMED"),
    (_hkdf_message, _remove(XENC11, "KeyDerivationMethod"), "XMLENC_KEY_AGREEMENT_MALFORMED"),
    (_hkdf_message, _ka_nonce, "XMLENC_KEY_AGREEMENT_UNSUPPORTED"),
    (_concat_message, lambda m: _find(m, XENC11, "ConcatKDFParams").set("PartyUInfo", "03D8"),
     "XMLENC_KDF_PARAMS_MALFORMED"),  # 3 padding bits: not byte aligned
    (_concat_message, lambda m: _find(m, XENC11, "ConcatKDFParams").set("AlgorithmID", "00ZZ"),
     "XMLENC_KDF_PARAMS_MALFORMED"),
    (_concat_message, _remove(ns.DS, "DigestMethod"), "XMLENC_KDF_PARAMS_MALFORMED"),
])
def test_malformed_agreements_have_clear_codes(message, mutate, code: str) -> None:  # type: ignore[no-untyped-def]
    method = message()
    mutate(method)
    error, _, decrypter = _refusal("p256", method)
    assert getattr(error, "code", None) == code, error
    assert decrypter.calls == 0


def test_der_encoded_originator_key_with_bad_base64() -> None:
    sent = _send("x25519", X25519_HKDF)
    _find(sent.element, DS11, "DEREncodedKeyValue").text = "MCow!!"
    error, _, _ = _refusal("x25519", sent.element)
    assert error.code == "XMLENC_ORIGINATOR_KEY_MALFORMED"  # type: ignore[attr-defined]


def test_not_an_agreement_method() -> None:
    with pytest.raises(KeyAgreementError) as refused:
        kek_from_agreement(etree.Element(q(XENC, "EncryptedKey")), lambda info: None, A.MODERN,  # type: ignore[arg-type,return-value]
                           A.KW_AES128)
    assert refused.value.code == "XMLENC_KEY_AGREEMENT_MALFORMED"


def test_sender_refuses_recipient_keys_of_the_wrong_type() -> None:
    for name, spec in (("p256", X25519_HKDF), ("x25519", ECDH_HKDF)):
        with pytest.raises(KeyAgreementError) as refused:
            _send(name, spec)
        assert refused.value.code == "XMLENC_KEY_AGREEMENT_CURVE"


