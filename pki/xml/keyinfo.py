"""ds:KeyInfo: reading what a signature says about its key, building the forms partners expect, and
deciding which key to verify with.

Forms read: ds:X509Data (certificates, X509IssuerSerial, X509SKI), ds:KeyValue (RSA, dsig11 EC),
dsig11:DEREncodedKeyValue, and wsse:SecurityTokenReference to a wsse:BinarySecurityToken, to an
issuer/serial, or by subject key identifier (the references Domibus policies use).

Trust never comes from the message alone: a resolver decides which key verifies, either a certificate the
caller already trusts (PMode, SMP, metadata) that the KeyInfo must name, or a certificate carried in the
message that the caller's trust store validates.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from lxml import etree

from pki.names import same_name
from pki.xml import ns
from pki.xml.ns import q
from pki.xml.tree import first_child, text_at

_EC_CURVES = {
    "urn:oid:1.2.840.10045.3.1.7": ec.SECP256R1(),
    "urn:oid:1.3.132.0.34": ec.SECP384R1(),
    "urn:oid:1.3.132.0.35": ec.SECP521R1(),
}
_EC_CURVE_OIDS = {type(curve).__name__: oid for oid, curve in _EC_CURVES.items()}


class KeyResolutionError(ValueError):
    """No key, an ambiguous or malformed KeyInfo, or a key the caller does not trust."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class KeyInfoData:
    certificates: tuple[x509.Certificate, ...] = ()
    issuer_serial: tuple[str, int] | None = None
    subject_key_identifier: bytes | None = None
    public_key: PublicKeyTypes | None = None
    token_id: str | None = None  # the BinarySecurityToken a SecurityTokenReference pointed at


@dataclass(frozen=True)
class ResolvedKey:
    public_key: PublicKeyTypes
    certificate: x509.Certificate | None = None


KeyResolver = Callable[[KeyInfoData], ResolvedKey]


def _b64(text: str | None, what: str) -> bytes:
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except ValueError:
        raise KeyResolutionError("XMLDSIG_KEYINFO_MALFORMED", f"{what} is not valid base64") from None


@functools.lru_cache(maxsize=256)
def _load_der(der: bytes) -> x509.Certificate:
    """Partners send the same few certificates with every message: parse each once (a failed parse raises
    and is not cached). Certificate objects are immutable, so sharing one is safe."""
    return x509.load_der_x509_certificate(der)


@functools.lru_cache(maxsize=64)
def _der_base64(cert: x509.Certificate) -> str:
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def _certificate(text: str | None, what: str) -> x509.Certificate:
    if text is not None and len(text) <= _CACHED_TEXT_MAX:
        return _certificate_by_text(text, what)
    return _decode_certificate(text, what)


# A certificate's base64 text is as stable as its DER: the same few arrive with every message, so the text
# is a cache key too and a repeat skips the base64 decoding. Bounded in count and size, so a sender cannot
# make us hold large strings; failures raise and are not cached.
_CACHED_TEXT_MAX = 16 * 1024


@functools.lru_cache(maxsize=256)
def _certificate_by_text(text: str, what: str) -> x509.Certificate:
    return _decode_certificate(text, what)


def _decode_certificate(text: str | None, what: str) -> x509.Certificate:
    try:
        return _load_der(_b64(text, what))
    except ValueError as exc:
        if isinstance(exc, KeyResolutionError):
            raise
        raise KeyResolutionError("XMLDSIG_KEYINFO_MALFORMED", f"{what} is not a DER certificate") from None


def _find_token(root: etree._Element, token_id: str) -> etree._Element:
    matches = [el for el in root.iter(q(ns.WSSE, "BinarySecurityToken")) if el.get(q(ns.WSU, "Id")) == token_id]
    if len(matches) != 1:
        raise KeyResolutionError(
            "XMLDSIG_KEYINFO_TOKEN", f"{len(matches)} BinarySecurityToken elements have wsu:Id {token_id!r}"
        )
    token = matches[0]
    value_type = token.get("ValueType")
    if value_type != ns.X509V3_TOKEN:
        raise KeyResolutionError("XMLDSIG_KEYINFO_TOKEN", f"unsupported BinarySecurityToken ValueType {value_type!r}")
    return token


_X509_CERTIFICATE, _X509_ISSUER_SERIAL, _X509_SKI = (
    q(ns.DS, "X509Certificate"), q(ns.DS, "X509IssuerSerial"), q(ns.DS, "X509SKI"))


def _read_x509_data(x509_data: etree._Element, out: dict) -> None:
    for cert_el in x509_data.iter(_X509_CERTIFICATE):
        out.setdefault("certificates", []).append(_certificate(cert_el.text, "X509Certificate"))
    issuer_serial = first_child(x509_data, _X509_ISSUER_SERIAL)
    if issuer_serial is not None:
        name = issuer_serial.findtext(q(ns.DS, "X509IssuerName")) or ""
        serial_text = (issuer_serial.findtext(q(ns.DS, "X509SerialNumber")) or "").strip()
        if not serial_text.isdigit():
            raise KeyResolutionError("XMLDSIG_KEYINFO_MALFORMED", "X509SerialNumber is not a decimal integer")
        out["issuer_serial"] = (name.strip(), int(serial_text))
    ski = first_child(x509_data, _X509_SKI)
    if ski is not None:
        out["subject_key_identifier"] = _b64(ski.text, "X509SKI")


_RSA_KEY_VALUE, _MODULUS, _EXPONENT = q(ns.DS, "RSAKeyValue"), q(ns.DS, "Modulus"), q(ns.DS, "Exponent")
_EC_KEY_VALUE, _NAMED_CURVE, _PUBLIC_KEY = q(ns.DS11, "ECKeyValue"), q(ns.DS11, "NamedCurve"), q(ns.DS11, "PublicKey")


def _read_key_value(key_value: etree._Element) -> PublicKeyTypes:
    rsa_value = first_child(key_value, _RSA_KEY_VALUE)
    if rsa_value is not None:
        modulus = int.from_bytes(_b64(text_at(rsa_value, _MODULUS), "Modulus"), "big")
        exponent = int.from_bytes(_b64(text_at(rsa_value, _EXPONENT), "Exponent"), "big")
        return rsa.RSAPublicNumbers(exponent, modulus).public_key()
    ec_value = first_child(key_value, _EC_KEY_VALUE)
    if ec_value is not None:
        curve_el = first_child(ec_value, _NAMED_CURVE)
        curve = _EC_CURVES.get(curve_el.get("URI", "") if curve_el is not None else "")
        if curve is None:
            raise KeyResolutionError("XMLDSIG_KEYINFO_MALFORMED", "ECKeyValue needs a supported NamedCurve")
        point = _b64(text_at(ec_value, _PUBLIC_KEY), "ECKeyValue PublicKey")
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, point)
    raise KeyResolutionError("XMLDSIG_KEYINFO_MALFORMED", "unsupported KeyValue")


def _checked_key(load: Callable[[], PublicKeyTypes], what: str) -> PublicKeyTypes:
    """cryptography's ValueError for a bad key becomes our error with a code."""
    try:
        return load()
    except KeyResolutionError:
        raise
    except (ValueError, TypeError) as exc:
        raise KeyResolutionError(
            "XMLDSIG_KEYINFO_MALFORMED", f"{what} does not hold a valid public key: {exc}") from None


_X509_DATA, _KEY_VALUE = q(ns.DS, "X509Data"), q(ns.DS, "KeyValue")
_DER_ENCODED_KEY_VALUE = q(ns.DS11, "DEREncodedKeyValue")
_SECURITY_TOKEN_REFERENCE = q(ns.WSSE, "SecurityTokenReference")


def parse_key_info(key_info: etree._Element | None) -> KeyInfoData:
    """Everything a KeyInfo says, without deciding anything about trust."""
    if key_info is None:
        return KeyInfoData()
    out: dict = {}
    for child in key_info:
        tag = child.tag
        if tag == _X509_DATA:
            _read_x509_data(child, out)
        elif tag == _KEY_VALUE:
            out["public_key"] = _checked_key(lambda element=child: _read_key_value(element), "KeyValue")
        elif tag == _DER_ENCODED_KEY_VALUE:
            der = _b64(child.text, "DEREncodedKeyValue")
            out["public_key"] = _checked_key(lambda der=der: serialization.load_der_public_key(der),
                                             "DEREncodedKeyValue")
        elif tag == _SECURITY_TOKEN_REFERENCE:
            _read_token_reference(child, key_info.getroottree().getroot(), out)
    if "certificates" in out:
        out["certificates"] = tuple(out["certificates"])
    return KeyInfoData(**out)


def _read_token_reference(reference: etree._Element, root: etree._Element, out: dict) -> None:
    direct = reference.find(q(ns.WSSE, "Reference"))
    if direct is not None:
        uri = direct.get("URI", "")
        if not uri.startswith("#"):
            raise KeyResolutionError("XMLDSIG_KEYINFO_TOKEN", f"only same-document token references (got {uri!r})")
        token = _find_token(root, uri[1:])
        out.setdefault("certificates", []).append(_certificate(token.text, "BinarySecurityToken"))
        out["token_id"] = uri[1:]
        return
    identifier = reference.find(q(ns.WSSE, "KeyIdentifier"))
    if identifier is not None:
        if identifier.get("ValueType") != ns.SKI_KEY_IDENTIFIER:
            raise KeyResolutionError(
                "XMLDSIG_KEYINFO_TOKEN", f"unsupported KeyIdentifier {identifier.get('ValueType')!r}"
            )
        out["subject_key_identifier"] = _b64(identifier.text, "KeyIdentifier")
        return
    x509_data = reference.find(q(ns.DS, "X509Data"))
    if x509_data is not None:
        _read_x509_data(x509_data, out)
        return
    raise KeyResolutionError("XMLDSIG_KEYINFO_TOKEN", "empty or unsupported SecurityTokenReference")


# --- naming a certificate --------------------------------------------------------------------------------

def _normalize_dn(text: str) -> str:
    """Compare issuer names as Java (RFC 2253) and Python (RFC 4514) print them: case and spacing vary."""
    parts = re.split(r"(?<!\\),", text)
    normalized = []
    for part in parts:
        key, _, value = part.partition("=")
        normalized.append(f"{key.strip().upper()}={value.strip()}")
    return ",".join(normalized)


def subject_key_identifier(cert: x509.Certificate) -> bytes:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest  # type: ignore[arg-type]


def _public_der(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def names_certificate(info: KeyInfoData, cert: x509.Certificate) -> bool:
    """Does the KeyInfo designate this certificate (by value, issuer/serial, SKI or key)?"""
    if info.certificates:
        return info.certificates[0] == cert
    if info.issuer_serial is not None:
        issuer, serial = info.issuer_serial
        return serial == cert.serial_number and (
            same_name(issuer, cert.issuer) or _normalize_dn(issuer) == _normalize_dn(cert.issuer.rfc4514_string()))
    if info.subject_key_identifier is not None:
        return info.subject_key_identifier == subject_key_identifier(cert)
    if info.public_key is not None:
        return _public_der(info.public_key) == _public_der(cert.public_key())  # type: ignore[arg-type]
    return False


# --- resolvers ------------------------------------------------------------------------------------------

def use_certificate(cert: x509.Certificate) -> KeyResolver:
    """Verify with a certificate the caller already trusts; a KeyInfo naming another key is refused."""

    def resolve(info: KeyInfoData) -> ResolvedKey:
        empty = not (info.certificates or info.issuer_serial or info.subject_key_identifier or info.public_key)
        if not empty and not names_certificate(info, cert):
            raise KeyResolutionError("XMLDSIG_KEY_MISMATCH", "the signature names a different key than expected")
        return ResolvedKey(cert.public_key(), cert)  # type: ignore[arg-type]

    return resolve


def match_candidates(candidates: Sequence[x509.Certificate]) -> KeyResolver:
    """Verify with whichever of the known certificates (a partner's, from PMode or SMP) the KeyInfo names."""

    def resolve(info: KeyInfoData) -> ResolvedKey:
        found = [cert for cert in candidates if names_certificate(info, cert)]
        if not found:
            raise KeyResolutionError("XMLDSIG_KEY_UNTRUSTED", "the signing key is not one of the expected certificates")
        return ResolvedKey(found[0].public_key(), found[0])  # type: ignore[arg-type]

    return resolve


def trusted_certificate(validate: Callable[[x509.Certificate, Sequence[x509.Certificate]], None]) -> KeyResolver:
    """Verify with the certificate the message carries, once ``validate(leaf, others)`` (a trust store's path
    validation, which raises when it fails) has accepted it."""

    def resolve(info: KeyInfoData) -> ResolvedKey:
        if not info.certificates:
            raise KeyResolutionError("XMLDSIG_KEY_UNRESOLVED", "the signature carries no certificate")
        leaf, *others = info.certificates
        try:
            validate(leaf, others)
        except Exception as exc:  # the trust store's own error, with its code, becomes the reason
            code = getattr(exc, "code", "XMLDSIG_KEY_UNTRUSTED")
            raise KeyResolutionError(code, f"signing certificate not trusted: {exc}") from exc
        return ResolvedKey(leaf.public_key(), leaf)  # type: ignore[arg-type]

    return resolve


# --- building -------------------------------------------------------------------------------------------

def _unsigned(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def _b64text(data: bytes) -> str:
    return base64.b64encode(data).decode()


def x509_data(certificates: Sequence[x509.Certificate]) -> etree._Element:
    data = etree.Element(q(ns.DS, "X509Data"), nsmap={"ds": ns.DS})
    for cert in certificates:
        etree.SubElement(data, q(ns.DS, "X509Certificate")).text = _der_base64(cert)
    return data


def key_value(public_key: PublicKeyTypes) -> etree._Element:
    """RSA and EC as ds:KeyValue; anything else (Ed25519) as dsig11:DEREncodedKeyValue."""
    if isinstance(public_key, rsa.RSAPublicKey):
        numbers = public_key.public_numbers()
        value = etree.Element(q(ns.DS, "KeyValue"), nsmap={"ds": ns.DS})
        rsa_el = etree.SubElement(value, q(ns.DS, "RSAKeyValue"))
        etree.SubElement(rsa_el, q(ns.DS, "Modulus")).text = _b64text(_unsigned(numbers.n))
        etree.SubElement(rsa_el, q(ns.DS, "Exponent")).text = _b64text(_unsigned(numbers.e))
        return value
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        value = etree.Element(q(ns.DS, "KeyValue"), nsmap={"ds": ns.DS, "dsig11": ns.DS11})
        ec_el = etree.SubElement(value, q(ns.DS11, "ECKeyValue"))
        etree.SubElement(ec_el, q(ns.DS11, "NamedCurve"), URI=_EC_CURVE_OIDS[type(public_key.curve).__name__])
        etree.SubElement(ec_el, q(ns.DS11, "PublicKey")).text = _b64text(
            public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))
        return value
    value = etree.Element(q(ns.DS11, "DEREncodedKeyValue"), nsmap={"dsig11": ns.DS11})
    value.text = _b64text(_public_der(public_key))
    return value


def binary_security_token(cert: x509.Certificate, token_id: str) -> etree._Element:
    token = etree.Element(q(ns.WSSE, "BinarySecurityToken"), nsmap={"wsse": ns.WSSE, "wsu": ns.WSU})
    token.set("EncodingType", ns.BASE64_ENCODING)
    token.set("ValueType", ns.X509V3_TOKEN)
    token.set(q(ns.WSU, "Id"), token_id)
    token.text = _der_base64(cert)
    return token


def token_reference(*, token_id: str | None = None, issuer_serial_of: x509.Certificate | None = None,
                    ski_of: x509.Certificate | None = None) -> etree._Element:
    """A wsse:SecurityTokenReference by BinarySecurityToken id, issuer/serial, or subject key identifier."""
    reference = etree.Element(q(ns.WSSE, "SecurityTokenReference"), nsmap={"wsse": ns.WSSE})
    if token_id is not None:
        etree.SubElement(reference, q(ns.WSSE, "Reference"), URI=f"#{token_id}", ValueType=ns.X509V3_TOKEN)
    elif issuer_serial_of is not None:
        data = etree.SubElement(reference, q(ns.DS, "X509Data"), nsmap={"ds": ns.DS})
        pair = etree.SubElement(data, q(ns.DS, "X509IssuerSerial"))
        etree.SubElement(pair, q(ns.DS, "X509IssuerName")).text = issuer_serial_of.issuer.rfc4514_string()
        etree.SubElement(pair, q(ns.DS, "X509SerialNumber")).text = str(issuer_serial_of.serial_number)
    elif ski_of is not None:
        identifier = etree.SubElement(reference, q(ns.WSSE, "KeyIdentifier"),
                                      ValueType=ns.SKI_KEY_IDENTIFIER, EncodingType=ns.BASE64_ENCODING)
        identifier.text = _b64text(subject_key_identifier(ski_of))
    else:
        raise ValueError("token_reference needs token_id, issuer_serial_of or ski_of")
    return reference
