"""XML Encryption 1.1 key agreement (``xenc:AgreementMethod``) for eDelivery AS4 2.0 and eIDAS 1.4.

An EncryptedKey whose ds:KeyInfo holds an AgreementMethod wraps the content key with AES key wrap (RFC 3394)
under a key-encryption key (KEK) derived from an ephemeral-static Diffie-Hellman secret: X25519
(``2021/04/xmldsig-more#x25519``, RFC 9231) or ECDH-ES on P-256/P-384/P-521 (``xmlenc11#ECDH-ES``), then HKDF
(``2021/04/xmldsig-more#hkdf``) or ConcatKDF (``xmlenc11#ConcatKDF``). :mod:`pki.xml.encryption` calls
:func:`agree_for_recipient` / :func:`wrap_key` when writing and :func:`kek_from_agreement` / :func:`unwrap_key`
when reading; :mod:`pki.xml.kdf` holds the two KDFs and their parameter elements.

Wire format, as phase4 and Domibus send it (both through WSS4J ``WSSecEncryptedKey`` → Santuario
``AgreementMethodImpl``), read from the sources at these commits:

* apache/santuario-xml-security-java 13b29cc85a961d43d004010033ee8c0f302ef4c5, under
  src/main/java/org/apache/xml/security/: encryption/keys/content/AgreementMethodImpl.java,
  .../derivedKey/{HKDFParamsImpl,ConcatKDFParamsImpl,KeyDerivationMethodImpl,HKDF,ConcatKDF}.java,
  encryption/XMLCipherUtil.java, encryption/XMLCipher.java, utils/KeyUtils.java, keys/KeyInfo.java,
  utils/ElementProxy.java, params/{HKDFParams,KeyDerivationParameters}.java,
  src/main/resources/bindings/schemas/dsig-more_2021_04.xsd (the RFC 9231 §2.8.1 schema);
* apache/ws-wss4j b975a69754835a21a9f717aeb60e1e5b364786e7: ws-security-dom/.../message/WSSecEncryptedKey.java,
  .../processor/EncryptedKeyProcessor.java, .../test/.../processor/RecipientKeyInfoTest.java;
* phax/phase4 d4505cc8ddfeceff17970898435d7ae21299b5a7: phase4-lib/.../crypto/AS4CryptParams.java,
  .../messaging/crypto/AS4Encryptor.java, phase4-edelivery2-client/.../Phase4EDelivery2Sender.java;
* lsh123/xmlsec (libxmlsec1) 3b7b2dbe10b22eae62a6baa94fffb0b8e345b213, an independent reader:
  src/transform_helpers.c (HKDFParams / ConcatKDFParams), src/openssl/kdf.c.

The element, in Santuario's child order (AgreementMethodImpl(Document, KeyAgreementParameters)):

    <xenc:AgreementMethod Algorithm="...#x25519 | ...xmlenc11#ECDH-ES">        (no KA-Nonce is ever written)
      <xenc11:KeyDerivationMethod Algorithm="...2021/04/xmldsig-more#hkdf">
        <rfc9231:HKDFParams xmlns:rfc9231="http://www.w3.org/2021/04/xmldsig-more#">
          <rfc9231:PRF Algorithm="http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"/>
          <rfc9231:Salt>base64</rfc9231:Salt>   <rfc9231:Info>base64</rfc9231:Info>   <rfc9231:KeyLength>16</...>
      ...or  <xenc11:ConcatKDFParams AlgorithmID="0000" PartyUInfo="" PartyVInfo="">
               <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
      <xenc:OriginatorKeyInfo>  the ephemeral public key  </xenc:OriginatorKeyInfo>
      <xenc:RecipientKeyInfo>   the recipient's certificate reference  </xenc:RecipientKeyInfo>

* HKDFParams and all four children are in the 2021/04 xmldsig-more namespace (HKDFParamsImpl.getBaseNamespace;
  Santuario's default prefix for it is ``rfc9231``, libxmlsec1's templates use ``dsig-more``: prefixes are
  not significant). Order PRF, Salt, Info, KeyLength (the setter order in AgreementMethodImpl.getHKDFParams and
  the xsd sequence); PRF is required by the schema, Salt/Info/KeyLength optional.
* Salt and Info are base64 element content, no ``Specified`` child (setSalt/setInfo get
  ``Base64.getEncoder().encodeToString``; XMLCipherUtil.constructKeyDerivationParameter decodes with
  ``Base64.getDecoder()``, which refuses line breaks, so we write them on one line).
* KeyLength is in **bytes**: AgreementMethodImpl writes ``getKeyBitLength() / 8``; libxmlsec1 reads it as the
  KDF output size in bytes and fails when it differs from the key wrap's key size. Santuario ignores it when
  reading: the KEK length always comes from the EncryptedKey's key wrap (KeyUtils.getAESKeyBitSizeForWrapAlgorithm).
  We write it and refuse a KeyLength that disagrees with the key wrap (XMLENC_KDF_KEY_LENGTH).
* WSS4J's defaults (WSSecEncryptedKey.buildDefaultKeyDerivationParameters; phase4's AS4Encryptor sets only the
  agreement, derivation and key wrap URIs, never parameters): HKDF with PRF hmac-sha256, a fresh random salt of
  KEK-length bytes, **no Info element**; ConcatKDF with DigestMethod sha256, AlgorithmID="0000",
  PartyUInfo="" PartyVInfo="" (no SuppPubInfo/SuppPrivInfo). ``AgreementSpec.info=None`` writes exactly that;
  our HKDF salt is HashLen bytes (RFC 5869 §3.1) instead of KEK-length.
* ConcatKDF attributes are XML-Enc 1.1 §5.4.1 bit strings: hex with a leading padding-bits octet; only "00"
  (byte aligned) is supported by Santuario (ConcatKDF.parseBitString) and libxmlsec1 alike. Santuario refuses
  a value shorter than four hex digits, so no octets is written "" (as WSS4J does), never "00"; we read both.
  Absent attributes are read as empty (WSS4J's RecipientKeyInfoTest sends a bare ``<xenc11:ConcatKDFParams>``).
* The ephemeral key (KeyInfo.add(PublicKey)): EC keys as ``ds:KeyValue/dsig11:ECKeyValue`` (``NamedCurve
  URI="urn:oid:..."`` + uncompressed-point ``PublicKey``), anything else, i.e. X25519, as
  ``dsig11:DEREncodedKeyValue`` (SubjectPublicKeyInfo DER). Santuario reads any KeyInfo form; we read exactly
  these two, by value (a certificate is not an ephemeral key).
* RecipientKeyInfo holds the child WSS4J would otherwise have put straight into the EncryptedKey's ds:KeyInfo
  (createKeyInfoElement → ``getRecipientKeyInfo().addUnknownElement``): a wsse:SecurityTokenReference by the
  configured key identifier type (phase4 default BST_DIRECT_REFERENCE: a BinarySecurityToken with the
  recipient certificate plus ``wsse:Reference URI="#..."``; WSS4J's own default ISSUER_SERIAL), or a bare
  ``ds:X509Data/ds:X509SKI`` for X509_SKI. EncryptedKeyProcessor takes the first element child of
  RecipientKeyInfo and resolves it like any encryption-key reference.
* X25519 recipients are certified like any other key: an X.509 certificate whose SubjectPublicKeyInfo is
  X25519 (OID 1.3.101.110), issued by a signing CA (WSS4J's eDeliveryAS4-2.0 test keystore; phase4's validator
  keystore alias ``blue_eddsa_decrypt``). Santuario generates the ephemeral pair from the recipient key's type
  (KeyUtils.generateEphemeralDHKeyPair) for every EncryptedKey.

Santuario quirks worth knowing: HKDFParamsImpl.getPRFAlgorithm looks for PRF in the xenc11 namespace, so a
Santuario reader never sees the PRF we (and it) write and always uses its hmac-sha256 default. Anything but
hmac-sha256 therefore only works with non-Santuario peers; we accept PRF in either namespace. Santuario picks
the DH algorithm from the key type, not the URI; we require the URI and the key types to agree.
Not determined from sources: Domibus's own settings for eDelivery 2.0. The only Domibus snapshot available
(cefedelivery/domibus 2787fb14226980e015986ca210b9176ec7086a4e, 2019) predates AS4 2.0 and has no key agreement;
Domibus sends through CXF/WSS4J, so this module follows WSS4J's defaults above.
"""

from __future__ import annotations

import copy
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import keywrap
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from lxml import etree

from pki import primitives
from pki.keys.port import Decrypter
from pki.xml.algorithms import (
    CONCAT_KDF,
    ECDH_ES,
    HKDF,
    HMAC_SHA256,
    KW_KEY_BYTES,
    SHA256,
    X25519,
    AlgorithmPolicy,
)
from pki.xml.kdf import (
    PREFIX_XENC,
    PRF_HASHES,
    XENC,
    XENC11,
    ConcatKdfParams,
    HkdfParams,
    KdfParams,
    KeyAgreementError,
    child_elements,
    kdf_params_element,
    key_derivation_method,
    parse_kdf_params,
)
from pki.xml.keyinfo import KeyInfoData, KeyResolutionError, key_value, parse_key_info
from pki.xml.ns import q

__all__ = [
    "AgreementSpec", "KeyAgreementError", "SenderAgreement", "agree_for_recipient", "kek_from_agreement",
    "unwrap_key", "wrap_key",
]

_AGREEMENTS = frozenset({X25519, ECDH_ES})
_DERIVATIONS = frozenset({HKDF, CONCAT_KDF})
_CURVES = {"secp256r1", "secp384r1", "secp521r1"}
_WSS4J_CONCAT_ALGORITHM_ID = b"\x00"  # AlgorithmID="0000"


@dataclass(frozen=True)
class AgreementSpec:
    """What to produce when encrypting."""

    agreement: str  # X25519 or ECDH_ES
    derivation: str  # HKDF or CONCAT_KDF
    key_wrap: str  # KW_AES128 / KW_AES192 / KW_AES256 (decides the KEK length)
    prf: str = HMAC_SHA256  # for HKDF
    info: bytes | None = None  # HKDF Info / ConcatKDF AlgorithmID (the whole fixed info); None = WSS4J's default


@dataclass(frozen=True)
class SenderAgreement:
    element: etree._Element  # the complete xenc:AgreementMethod, for the EncryptedKey's ds:KeyInfo
    kek: bytes  # the derived key-encryption key (len = KW key size)


def _check_uris(policy: AlgorithmPolicy, agreement: str, derivation: str, inner: str, key_wrap: str, *,
                writing: bool) -> None:
    """Every URI through the policy, then through what this module implements: before any cryptography."""
    policy.check_encryption("key_agreements", agreement, writing=writing)
    policy.check_encryption("key_derivations", derivation, writing=writing)
    if derivation == HKDF:
        policy.check_encryption("prfs", inner, writing=writing)
    else:
        policy.check_digest(inner)
    policy.check_encryption("key_wraps", key_wrap, writing=writing)
    for uri, known in ((agreement, _AGREEMENTS), (derivation, _DERIVATIONS), (key_wrap, KW_KEY_BYTES)):
        if uri not in known:
            raise KeyAgreementError("XMLENC_ALGORITHM_UNSUPPORTED", f"{uri!r} is not implemented")


def _curve_error(message: str) -> KeyAgreementError:
    return KeyAgreementError("XMLENC_KEY_AGREEMENT_CURVE", message)


def _key_type(key: object) -> str:
    if isinstance(key, x25519.X25519PublicKey):
        return "X25519"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    return primitives.key_family(key)  # type: ignore[arg-type]


def _check_key_for(agreement: str, key: object, whose: str) -> None:
    """X25519 wants an X25519 key, ECDH-ES an EC key on a NIST prime curve; anything else is refused."""
    if agreement == X25519 and not isinstance(key, x25519.X25519PublicKey):
        raise _curve_error(f"X25519 key agreement with a {_key_type(key)} {whose} key")
    if agreement == ECDH_ES and not (isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _CURVES):
        raise _curve_error(f"ECDH-ES needs a P-256/P-384/P-521 {whose} key, not {_key_type(key)}")


def _refuse_weak(agreement: str, secret: bytes) -> bytes:
    # RFC 7748 §6.1: an all-zero X25519 output means the peer sent a small-order point.
    if agreement == X25519 and hmac.compare_digest(secret, bytes(len(secret))):
        raise KeyAgreementError("XMLENC_KEY_AGREEMENT_WEAK", "all-zero X25519 shared secret (small-order point)")
    return secret


# --- sender ------------------------------------------------------------------------------------------------

def agree_for_recipient(recipient: x509.Certificate, spec: AgreementSpec, policy: AlgorithmPolicy,
                        recipient_key_info: etree._Element) -> SenderAgreement:
    """A fresh ephemeral key pair and salt for this EncryptedKey, the KEK, and the AgreementMethod saying so.

    ``recipient_key_info`` (a wsse:SecurityTokenReference or ds:X509Data from :mod:`pki.xml.keyinfo`) is copied
    into xenc:RecipientKeyInfo.
    """
    inner = spec.prf if spec.derivation == HKDF else SHA256
    _check_uris(policy, spec.agreement, spec.derivation, inner, spec.key_wrap, writing=True)
    recipient_key = recipient.public_key()
    _check_key_for(spec.agreement, recipient_key, "recipient")
    ephemeral: x25519.X25519PrivateKey | ec.EllipticCurvePrivateKey
    try:
        if isinstance(recipient_key, x25519.X25519PublicKey):
            ephemeral = x25519.X25519PrivateKey.generate()
            secret = ephemeral.exchange(recipient_key)
        else:
            assert isinstance(recipient_key, ec.EllipticCurvePublicKey)
            ephemeral = ec.generate_private_key(recipient_key.curve)
            secret = ephemeral.exchange(ec.ECDH(), recipient_key)
    except ValueError:  # OpenSSL refuses an all-zero X25519 result itself
        raise KeyAgreementError("XMLENC_KEY_AGREEMENT_WEAK", "the recipient certificate's key is unusable "
                                "(small-order point)") from None
    secret = _refuse_weak(spec.agreement, secret)
    kek_length = KW_KEY_BYTES[spec.key_wrap]
    params: KdfParams
    if spec.derivation == HKDF:
        salt = os.urandom(PRF_HASHES[spec.prf].digest_size)
        params = HkdfParams(prf=spec.prf, salt=salt, info=spec.info, key_length=kek_length)
    else:
        algorithm_id = _WSS4J_CONCAT_ALGORITHM_ID if spec.info is None else spec.info
        params = ConcatKdfParams(digest=SHA256, algorithm_id=algorithm_id)
    kek = params.derive(secret, kek_length)

    method = etree.Element(q(XENC, "AgreementMethod"), nsmap={PREFIX_XENC: XENC}, Algorithm=spec.agreement)
    method.append(key_derivation_method(spec.derivation, params))
    etree.SubElement(method, q(XENC, "OriginatorKeyInfo")).append(key_value(ephemeral.public_key()))
    etree.SubElement(method, q(XENC, "RecipientKeyInfo")).append(copy.deepcopy(recipient_key_info))
    return SenderAgreement(method, kek)


# --- recipient ---------------------------------------------------------------------------------------------

_AGREEMENT_CHILDREN = {
    q(XENC, "KA-Nonce"): "KA-Nonce", q(XENC11, "KeyDerivationMethod"): "KeyDerivationMethod",
    q(XENC, "OriginatorKeyInfo"): "OriginatorKeyInfo", q(XENC, "RecipientKeyInfo"): "RecipientKeyInfo",
}


def _malformed(message: str) -> KeyAgreementError:
    return KeyAgreementError("XMLENC_KEY_AGREEMENT_MALFORMED", message)


def _agreement_parts(agreement_method: etree._Element) -> dict[str, etree._Element]:
    if agreement_method.tag != q(XENC, "AgreementMethod"):
        raise _malformed(f"expected xenc:AgreementMethod, got {agreement_method.tag}")
    parts = child_elements(agreement_method, _AGREEMENT_CHILDREN, "AgreementMethod", _malformed)
    if "KA-Nonce" in parts:
        # Never written by Santuario (and ignored by it); honouring it would change the KEK, ignoring it silently
        # would hide a sender we do not understand.
        raise KeyAgreementError("XMLENC_KEY_AGREEMENT_UNSUPPORTED", "KA-Nonce is not supported")
    if "KeyDerivationMethod" not in parts:
        raise _malformed("AgreementMethod has no xenc11:KeyDerivationMethod")
    return parts


def _originator_key(originator: etree._Element | None) -> PublicKeyTypes:
    if originator is None:
        raise KeyAgreementError("XMLENC_ORIGINATOR_KEY_MISSING", "AgreementMethod has no OriginatorKeyInfo "
                                "(ephemeral-static agreement needs the sender's ephemeral public key)")
    try:
        info = parse_key_info(originator)
    except (KeyResolutionError, ValueError, UnsupportedAlgorithm) as exc:
        raise KeyAgreementError("XMLENC_ORIGINATOR_KEY_MALFORMED", f"OriginatorKeyInfo: {exc}") from None
    if info.public_key is None:
        raise KeyAgreementError("XMLENC_ORIGINATOR_KEY_MISSING", "OriginatorKeyInfo holds no public key by value "
                                "(dsig11:DEREncodedKeyValue or ds:KeyValue/dsig11:ECKeyValue)")
    return info.public_key


def _own_public_key(decrypter: Decrypter) -> PublicKeyTypes | None:
    if decrypter.certificate is not None:
        return decrypter.certificate.public_key()  # type: ignore[return-value]
    return getattr(decrypter, "public_key", None)


def _check_same_curve(agreement: str, ephemeral: PublicKeyTypes, decrypter: Decrypter) -> None:
    own = _own_public_key(decrypter)
    if own is not None:
        _check_key_for(agreement, own, "recipient")
        if isinstance(own, ec.EllipticCurvePublicKey) and isinstance(ephemeral, ec.EllipticCurvePublicKey) \
                and own.curve.name != ephemeral.curve.name:
            raise _curve_error(f"ephemeral key on {ephemeral.curve.name}, our key {decrypter.key_id} on "
                               f"{own.curve.name}")
    elif decrypter.family != ("x25519" if agreement == X25519 else "ec"):
        raise _curve_error(f"{agreement} agreement with our {decrypter.family} key {decrypter.key_id}")


def kek_from_agreement(agreement_method: etree._Element, find_decrypter: Callable[[KeyInfoData], Decrypter],
                       policy: AlgorithmPolicy, key_wrap: str) -> bytes:
    """The KEK an AgreementMethod stands for, derived with whichever of our keys RecipientKeyInfo names.

    Every algorithm URI (agreement, derivation, PRF or digest, and ``key_wrap``, the EncryptedKey's
    EncryptionMethod) is checked against ``policy`` before any cryptography; AlgorithmRefused otherwise.
    Errors from ``parse_key_info`` (KeyResolutionError) and from ``find_decrypter`` pass through unchanged.
    """
    parts = _agreement_parts(agreement_method)
    agreement = (agreement_method.get("Algorithm") or "").strip()
    method = parts["KeyDerivationMethod"]
    derivation = (method.get("Algorithm") or "").strip()
    if not agreement or not derivation:
        raise _malformed("AgreementMethod and KeyDerivationMethod need an Algorithm")
    # The derivation decides which parameters element holds the PRF or digest: vet it before looking.
    policy.check_encryption("key_agreements", agreement)
    policy.check_encryption("key_derivations", derivation)
    if derivation not in _DERIVATIONS:
        raise KeyAgreementError("XMLENC_ALGORITHM_UNSUPPORTED", f"{derivation!r} is not implemented")
    params_element = kdf_params_element(method, derivation)
    inner = HkdfParams.prf_of(params_element) if derivation == HKDF else ConcatKdfParams.digest_of(params_element)
    _check_uris(policy, agreement, derivation, inner, key_wrap, writing=False)

    kek_length = KW_KEY_BYTES[key_wrap]
    params = parse_kdf_params(derivation, params_element)
    if isinstance(params, HkdfParams) and params.key_length not in (None, kek_length):
        raise KeyAgreementError("XMLENC_KDF_KEY_LENGTH", f"HKDFParams KeyLength {params.key_length} (bytes) "
                                f"disagrees with {key_wrap}, which needs a {kek_length}-byte key")
    ephemeral = _originator_key(parts.get("OriginatorKeyInfo"))
    _check_key_for(agreement, ephemeral, "ephemeral")

    decrypter = find_decrypter(parse_key_info(parts.get("RecipientKeyInfo")))
    _check_same_curve(agreement, ephemeral, decrypter)
    try:
        secret = decrypter.exchange(ephemeral)
    except primitives.KeyMismatch as exc:
        raise _curve_error(str(exc)) from None
    except ValueError:
        if agreement == X25519:
            raise KeyAgreementError("XMLENC_KEY_AGREEMENT_WEAK", "X25519 agreement refused: the ephemeral key "
                                    "is a small-order point") from None
        raise KeyAgreementError("XMLENC_KEY_AGREEMENT_FAILED", "the key agreement failed") from None
    return params.derive(_refuse_weak(agreement, secret), kek_length)


# --- key wrap ----------------------------------------------------------------------------------------------

def _kek_for(kek: bytes, key_wrap: str) -> bytes:
    expected = KW_KEY_BYTES.get(key_wrap)
    if expected is None:
        raise KeyAgreementError("XMLENC_ALGORITHM_UNSUPPORTED", f"key wrap {key_wrap!r} is not implemented")
    if len(kek) != expected:
        raise KeyAgreementError("XMLENC_KEY_WRAP", f"{key_wrap} needs a {expected}-byte KEK, got {len(kek)}")
    return kek


def wrap_key(kek: bytes, cek: bytes, key_wrap: str) -> bytes:
    """RFC 3394 AES key wrap of the content-encryption key."""
    try:
        return keywrap.aes_key_wrap(_kek_for(kek, key_wrap), cek)
    except ValueError as exc:
        if isinstance(exc, KeyAgreementError):
            raise
        raise KeyAgreementError("XMLENC_KEY_WRAP", f"cannot wrap a {len(cek)}-byte key: {exc}") from None


def unwrap_key(kek: bytes, wrapped: bytes, key_wrap: str) -> bytes:
    """RFC 3394 AES key unwrap; XMLENC_KEY_UNWRAP when the integrity check fails (wrong key, altered bytes)."""
    kek = _kek_for(kek, key_wrap)
    try:
        return keywrap.aes_key_unwrap(kek, wrapped)
    except (keywrap.InvalidUnwrap, ValueError):
        raise KeyAgreementError("XMLENC_KEY_UNWRAP", "AES key unwrap failed its integrity check (wrong key "
                                "agreement, wrong recipient key, or altered CipherValue)") from None
