"""Key derivation for XML Encryption 1.1 key agreement: HKDF and ConcatKDF, with their parameter elements.

* HKDF (RFC 5869), ``http://www.w3.org/2021/04/xmldsig-more#hkdf``, parameters in ``rfc9231:HKDFParams``
  (RFC 9231 §2.8.1): ``PRF`` (Algorithm attribute), then optional ``Salt`` and ``Info`` (base64 element
  content) and ``KeyLength`` (in bytes).
* ConcatKDF (NIST SP 800-56A single-step KDF, XML-Enc 1.1 §5.4.1), ``http://www.w3.org/2009/xmlenc11#ConcatKDF``,
  parameters in ``xenc11:ConcatKDFParams``: hexBinary bit-string attributes AlgorithmID, PartyUInfo,
  PartyVInfo (and optional SuppPubInfo, SuppPrivInfo), each a leading "number of padding bits" octet
  followed by the octets, and one ``ds:DigestMethod`` child.

What the parameters look like on the wire, and why, is written down in :mod:`pki.xml.key_agreement`.
This module only reads and writes them; the policy checks and the key agreement live there.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.kdf.hkdf import HKDF as _HKDF
from lxml import etree

from pki.xml import ns
from pki.xml.algorithms import CONCAT_KDF, HKDF, HMAC_SHA256, HMAC_SHA384, HMAC_SHA512, SHA256, SHA384, SHA512
from pki.xml.ns import q

XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"
DSIG_MORE_2021 = "http://www.w3.org/2021/04/xmldsig-more#"

# The prefixes Apache Santuario binds by default (ElementProxy.registerDefaultPrefixes): not significant to
# any namespace-aware reader, chosen so our output reads like what phase4/WSS4J send.
PREFIX_XENC, PREFIX_XENC11, PREFIX_DSIG_MORE = "xenc", "xenc11", "rfc9231"

PRF_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    HMAC_SHA256: hashes.SHA256, HMAC_SHA384: hashes.SHA384, HMAC_SHA512: hashes.SHA512,
}
CONCAT_DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    SHA256: hashes.SHA256, SHA384: hashes.SHA384, SHA512: hashes.SHA512,
}
_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})*$")


class KeyAgreementError(ValueError):
    """A key agreement or key derivation that cannot proceed. ``code`` is stable for callers and reports."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _malformed(message: str) -> KeyAgreementError:
    return KeyAgreementError("XMLENC_KDF_PARAMS_MALFORMED", message)


# --- the functions ----------------------------------------------------------------------------------------

def hkdf(secret: bytes, *, length: int, salt: bytes | None = None, info: bytes | None = None,
         prf: str = HMAC_SHA256) -> bytes:
    """RFC 5869 extract-and-expand. No salt means HashLen zero octets (RFC 5869 §2.2), as Santuario does."""
    try:
        algorithm = PRF_HASHES[prf]()
    except KeyError:
        raise KeyAgreementError("XMLENC_ALGORITHM_UNSUPPORTED", f"HKDF PRF {prf!r} is not implemented") from None
    return _HKDF(algorithm=algorithm, length=length, salt=salt or None, info=info).derive(secret)


def concat_kdf(secret: bytes, *, length: int, fixed_info: bytes, digest: str = SHA256) -> bytes:
    """SP 800-56A single-step KDF: Hash(counter32 || Z || FixedInfo) blocks, truncated to ``length``."""
    try:
        algorithm = CONCAT_DIGESTS[digest]()
    except KeyError:
        raise KeyAgreementError("XMLENC_ALGORITHM_UNSUPPORTED", f"ConcatKDF digest {digest!r} is not implemented") \
            from None
    return ConcatKDFHash(algorithm=algorithm, length=length, otherinfo=fixed_info).derive(secret)


# --- bit strings (XML-Enc 1.1 §5.4.1) ----------------------------------------------------------------------

def encode_bitstring(data: bytes) -> str:
    """Octets as a byte-aligned bit string: "00" (no padding bits) + hex; no octets at all as "".

    The empty string, not "00", for no octets: Santuario's ConcatKDF refuses values shorter than four hex
    digits (ConcatKDF.parseBitString), and WSS4J itself writes PartyUInfo="" PartyVInfo="".
    """
    return "00" + data.hex().upper() if data else ""


def decode_bitstring(text: str | None, what: str) -> bytes:
    """The octets of a byte-aligned bit string; absent or "" is no octets, and so is a lone "00"."""
    value = (text or "").strip()
    if not value:
        return b""
    if not _HEX.match(value):
        raise _malformed(f"ConcatKDFParams {what} is not hexBinary")
    raw = bytes.fromhex(value)
    if raw[0] != 0:
        raise _malformed(f"ConcatKDFParams {what} has {raw[0]} padding bits: only byte-aligned bit strings are "
                         "supported (as in Santuario and libxmlsec1)")
    return raw[1:]


# --- parameter elements -------------------------------------------------------------------------------------

def _b64_content(element: etree._Element, what: str) -> bytes:
    text = "".join((element.text or "").split())  # Java's MIME encoder wraps at 76 characters
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _malformed(f"{what} is not valid base64") from None


def child_elements(parent: etree._Element, allowed: dict[str, str], what: str,
                   malformed: Callable[[str], KeyAgreementError] = _malformed) -> dict[str, etree._Element]:
    """Child elements by role (``allowed`` maps Clark names to roles); unknown or repeated ones are refused
    with ``malformed`` (whose code says which element was malformed)."""
    found: dict[str, etree._Element] = {}
    for child in parent:
        if not isinstance(child.tag, str):
            continue  # comments and processing instructions
        role = allowed.get(child.tag)
        if role is None:
            raise malformed(f"unexpected element {child.tag} in {what}")
        if role in found:
            raise malformed(f"{what} has more than one {role}")
        found[role] = child
    return found


@dataclass(frozen=True)
class HkdfParams:
    prf: str = HMAC_SHA256
    salt: bytes | None = None
    info: bytes | None = None
    key_length: int | None = None  # bytes

    def element(self) -> etree._Element:
        """``rfc9231:HKDFParams`` in Santuario's order: PRF, Salt, Info, KeyLength; base64 on one line."""
        params = etree.Element(q(DSIG_MORE_2021, "HKDFParams"), nsmap={PREFIX_DSIG_MORE: DSIG_MORE_2021})
        etree.SubElement(params, q(DSIG_MORE_2021, "PRF"), Algorithm=self.prf)
        if self.salt is not None:
            etree.SubElement(params, q(DSIG_MORE_2021, "Salt")).text = base64.b64encode(self.salt).decode()
        if self.info is not None:
            etree.SubElement(params, q(DSIG_MORE_2021, "Info")).text = base64.b64encode(self.info).decode()
        if self.key_length is not None:
            etree.SubElement(params, q(DSIG_MORE_2021, "KeyLength")).text = str(self.key_length)
        return params

    @staticmethod
    def prf_of(params: etree._Element) -> str:
        """The PRF URI alone (for the policy check that precedes everything else)."""
        prf = child_elements(params, _HKDF_CHILDREN, "HKDFParams").get("PRF")
        if prf is None:
            raise _malformed("HKDFParams has no PRF (RFC 9231 requires it)")
        uri = (prf.get("Algorithm") or "").strip()
        if not uri:
            raise _malformed("HKDFParams PRF has no Algorithm")
        return uri

    @classmethod
    def parse(cls, params: etree._Element) -> HkdfParams:
        found = child_elements(params, _HKDF_CHILDREN, "HKDFParams")
        key_length = None
        if "KeyLength" in found:
            text = (found["KeyLength"].text or "").strip()
            if not text.isdigit() or int(text) <= 0 or int(text) > 1024:
                raise _malformed(f"HKDFParams KeyLength {text!r} is not a positive integer number of bytes")
            key_length = int(text)
        return cls(
            prf=cls.prf_of(params),
            salt=_b64_content(found["Salt"], "HKDFParams Salt") if "Salt" in found else None,
            info=_b64_content(found["Info"], "HKDFParams Info") if "Info" in found else None,
            key_length=key_length,
        )

    def derive(self, secret: bytes, length: int) -> bytes:
        return hkdf(secret, length=length, salt=self.salt, info=self.info, prf=self.prf)


# PRF in the xenc11 namespace is where Santuario's HKDFParamsImpl.getPRFAlgorithm looks (it writes it in the
# 2021/04 namespace): accepted as a variant, the URI still goes through the policy.
_HKDF_CHILDREN = {
    q(DSIG_MORE_2021, "PRF"): "PRF", q(XENC11, "PRF"): "PRF", q(DSIG_MORE_2021, "Salt"): "Salt",
    q(DSIG_MORE_2021, "Info"): "Info", q(DSIG_MORE_2021, "KeyLength"): "KeyLength",
}
_CONCAT_ATTRIBUTES = ("AlgorithmID", "PartyUInfo", "PartyVInfo", "SuppPubInfo", "SuppPrivInfo")


@dataclass(frozen=True)
class ConcatKdfParams:
    digest: str = SHA256
    algorithm_id: bytes = b""
    party_u_info: bytes = b""
    party_v_info: bytes = b""
    supp_pub_info: bytes | None = None
    supp_priv_info: bytes | None = None

    @property
    def fixed_info(self) -> bytes:
        """AlgorithmID || PartyUInfo || PartyVInfo [|| SuppPubInfo] [|| SuppPrivInfo]."""
        return b"".join(part or b"" for part in (self.algorithm_id, self.party_u_info, self.party_v_info,
                                                  self.supp_pub_info, self.supp_priv_info))

    def element(self) -> etree._Element:
        params = etree.Element(q(XENC11, "ConcatKDFParams"), nsmap={PREFIX_XENC11: XENC11})
        values = (self.algorithm_id, self.party_u_info, self.party_v_info, self.supp_pub_info, self.supp_priv_info)
        for name, value in zip(_CONCAT_ATTRIBUTES, values, strict=True):
            if value is not None:
                params.set(name, encode_bitstring(value))
        etree.SubElement(params, q(ns.DS, "DigestMethod"), nsmap={"ds": ns.DS}, Algorithm=self.digest)
        return params

    @staticmethod
    def digest_of(params: etree._Element) -> str:
        allowed = {q(ns.DS, "DigestMethod"): "DigestMethod"}
        digest = child_elements(params, allowed, "ConcatKDFParams").get("DigestMethod")
        if digest is None:
            raise _malformed("ConcatKDFParams has no ds:DigestMethod (XML-Enc 1.1 requires it)")
        uri = (digest.get("Algorithm") or "").strip()
        if not uri:
            raise _malformed("ConcatKDFParams DigestMethod has no Algorithm")
        return uri

    @classmethod
    def parse(cls, params: etree._Element) -> ConcatKdfParams:
        values = [decode_bitstring(params.get(name), name) for name in _CONCAT_ATTRIBUTES]
        return cls(cls.digest_of(params), *values)

    def derive(self, secret: bytes, length: int) -> bytes:
        return concat_kdf(secret, length=length, fixed_info=self.fixed_info, digest=self.digest)


KdfParams = HkdfParams | ConcatKdfParams
PARAMS_ELEMENTS: dict[str, str] = {HKDF: q(DSIG_MORE_2021, "HKDFParams"), CONCAT_KDF: q(XENC11, "ConcatKDFParams")}


def key_derivation_method(kdf: str, params: KdfParams) -> etree._Element:
    """``xenc11:KeyDerivationMethod Algorithm=...`` holding the parameters."""
    method = etree.Element(q(XENC11, "KeyDerivationMethod"), nsmap={PREFIX_XENC11: XENC11}, Algorithm=kdf)
    method.append(params.element())
    return method


def kdf_params_element(method: etree._Element, kdf: str) -> etree._Element:
    """The one parameters element the KeyDerivationMethod must hold for its algorithm."""
    wanted = PARAMS_ELEMENTS[kdf]
    found = child_elements(method, {wanted: "parameters"}, "KeyDerivationMethod").get("parameters")
    if found is None:
        raise _malformed(f"KeyDerivationMethod {kdf} has no {wanted}")
    return found


def parse_kdf_params(kdf: str, params: etree._Element) -> KdfParams:
    return HkdfParams.parse(params) if kdf == HKDF else ConcatKdfParams.parse(params)
