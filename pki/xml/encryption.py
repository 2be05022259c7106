"""XML Encryption 1.1: building and reading EncryptedData / EncryptedKey, through the key port.

Shapes produced (what phase4/WSS4J and eIDAS nodes send):

* AS4 (WS-Security): an ``xenc:EncryptedKey`` in the wsse:Security header whose ``xenc:ReferenceList`` names
  every ``xenc:EncryptedData``; for attachments the EncryptedData carries ``Type=...#Attachment-Content-Only``,
  the original ``MimeType`` and an ``xenc:CipherReference URI="cid:..."`` with the Attachment-Ciphertext-Transform,
  and points back at the EncryptedKey through a SecurityTokenReference (TokenType ``...#EncryptedKey``).
* SAML (eIDAS): ``xenc:EncryptedData Type="...#Element"`` whose ds:KeyInfo holds the EncryptedKey.

Key transport is RSA-OAEP (xenc11, MGF and digest as children; rsa-oaep-mgf1p is read where a policy allows,
never written); key agreement (X25519 / ECDH-ES with HKDF or ConcatKDF and AES key wrap) is in
:mod:`pki.xml.key_agreement`. Data encryption is AES-GCM with the 12-byte IV prefix and 16-byte tag.
Every algorithm is checked against the policy before any cryptography runs.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from lxml import etree

from pki.ids import uuid4_str
from pki.keys.port import Decrypter, KeyNotFound, KeyPurpose, KeyStore
from pki.xml import algorithms as A
from pki.xml import ns
from pki.xml.gcm_stream import GcmAuthenticationError, Spooled, decrypt_stream, encrypt_stream
from pki.xml.keyinfo import KeyInfoData, parse_key_info
from pki.xml.ns import q
from pki.xml.parser import parse_xml
from pki.xml.tree import first_child, text_at

XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"
WSSE11 = "http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd"
ENCRYPTED_KEY_TOKEN = "http://docs.oasis-open.org/wss/oasis-wss-soap-message-security-1.1#EncryptedKey"
_OAEP_HASH = {A.SHA1: "sha1", A.SHA256: "sha256", A.SHA384: "sha384", A.SHA512: "sha512"}
_MGF_HASH = {A.MGF1_SHA1: "sha1", A.MGF1_SHA256: "sha256", A.MGF1_SHA384: "sha384", A.MGF1_SHA512: "sha512"}
_CRYPTO_HASH = {"sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}

FindDecrypter = Callable[[KeyInfoData], Decrypter]

_ENCRYPTION_METHOD, _CIPHER_DATA, _CIPHER_VALUE = (
    q(XENC, "EncryptionMethod"), q(XENC, "CipherData"), q(XENC, "CipherValue"))
_KEY_INFO, _AGREEMENT_METHOD = q(ns.DS, "KeyInfo"), q(XENC, "AgreementMethod")


class EncryptionError(ValueError):
    """Encryption or decryption refused. ``code`` is stable (XMLENC_...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str | None, what: str) -> bytes:
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except ValueError:
        raise EncryptionError("XMLENC_MALFORMED", f"{what} is not valid base64") from None


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid4_str()}"


def new_cek(policy: A.AlgorithmPolicy, data_algorithm: str | None = None) -> tuple[str, bytes]:
    """A fresh content-encryption key for the policy's (or the given) data algorithm."""
    algorithm = data_algorithm or policy.encryption.default_data
    if algorithm is None:
        raise A.AlgorithmRefused("data", "(none)", policy.name)
    policy.check_encryption("data", algorithm, writing=True)
    return algorithm, os.urandom(A.GCM_KEY_BYTES[algorithm])


def find_in_store(store: KeyStore, purpose: KeyPurpose) -> FindDecrypter:
    """Resolve "whichever of my keys this message names" through the key port."""

    def find(info: KeyInfoData) -> Decrypter:
        try:
            if info.certificates:
                return store.decrypter_for(purpose, certificate=info.certificates[0])
            if info.issuer_serial is not None:
                return store.decrypter_for(purpose, issuer=info.issuer_serial[0], serial=info.issuer_serial[1])
            if info.subject_key_identifier is not None:
                return store.decrypter_for(purpose, ski=info.subject_key_identifier)
            if info.public_key is not None:
                return store.decrypter_for(purpose, public_key=info.public_key)
        except KeyNotFound as exc:
            raise EncryptionError("XMLENC_KEY_NOT_FOUND", f"the message is not encrypted for us: {exc}") from None
        raise EncryptionError("XMLENC_KEY_NOT_FOUND", "the EncryptedKey does not name a recipient key")

    return find


# --- data ----------------------------------------------------------------------------------------------

def gcm_encrypt(key: bytes, plaintext: bytes) -> bytes:
    iv = os.urandom(12)
    return iv + AESGCM(key).encrypt(iv, plaintext, None)


def gcm_decrypt(key: bytes, data: bytes) -> bytes:
    if len(data) < 28:
        raise EncryptionError("XMLENC_AUTHENTICATION_FAILED", "ciphertext shorter than IV and tag")
    try:
        return AESGCM(key).decrypt(data[:12], data[12:], None)
    except InvalidTag:
        raise EncryptionError("XMLENC_AUTHENTICATION_FAILED",
                              "the ciphertext or its tag was altered, or the key is wrong") from None


def _encrypted_data(algorithm: str, *, type_uri: str | None, element_id: str, mime_type: str | None = None,
                    key_info: etree._Element | None = None) -> etree._Element:
    data = etree.Element(q(XENC, "EncryptedData"), nsmap={"xenc": XENC}, Id=element_id)
    if type_uri:
        data.set("Type", type_uri)
    if mime_type:
        data.set("MimeType", mime_type)
    etree.SubElement(data, q(XENC, "EncryptionMethod"), Algorithm=algorithm)
    if key_info is not None:
        holder = etree.SubElement(data, q(ns.DS, "KeyInfo"), nsmap={"ds": ns.DS})
        holder.append(key_info)
    return data


def encrypt_element(element: etree._Element, cek: bytes, algorithm: str, *, content: bool = False,
                    element_id: str | None = None, key_info: etree._Element | None = None) -> etree._Element:
    """Replace ``element`` (or, with ``content``, its children and text) by an EncryptedData in the tree."""
    if content:
        plaintext = (element.text or "").encode() + b"".join(etree.tostring(child) for child in element)
    else:
        plaintext = etree.tostring(element)  # carries the namespace declarations it needs; tail excluded
    encrypted = _encrypted_data(algorithm, type_uri=A.ENCRYPTED_CONTENT if content else A.ENCRYPTED_ELEMENT,
                                element_id=element_id or new_id("ED"), key_info=key_info)
    cipher_data = etree.SubElement(encrypted, q(XENC, "CipherData"))
    etree.SubElement(cipher_data, q(XENC, "CipherValue")).text = _b64(gcm_encrypt(cek, plaintext))
    if content:
        element.text = None
        for child in list(element):
            element.remove(child)
        element.append(encrypted)
    else:
        encrypted.tail = element.tail
        element.getparent().replace(element, encrypted)
    return encrypted


def attachment_encrypted_data(content_id: str, mime_type: str, algorithm: str, *, element_id: str | None = None,
                              key_info: etree._Element | None = None) -> etree._Element:
    """The header element for an encrypted MIME part; stream the part itself with :func:`encrypt_attachment`."""
    encrypted = _encrypted_data(algorithm, type_uri=A.ATTACHMENT_CONTENT_ONLY, element_id=element_id or new_id("ED"),
                                mime_type=mime_type, key_info=key_info)
    cipher_data = etree.SubElement(encrypted, q(XENC, "CipherData"))
    reference = etree.SubElement(cipher_data, q(XENC, "CipherReference"), URI=f"cid:{content_id}")
    transforms = etree.SubElement(reference, q(XENC, "Transforms"))
    etree.SubElement(transforms, q(ns.DS, "Transform"), nsmap={"ds": ns.DS},
                     Algorithm=A.ATTACHMENT_CIPHERTEXT_TRANSFORM)
    return encrypted


def encrypt_attachment(cek: bytes, chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The new content of an encrypted MIME part: IV || ciphertext || tag, streamed."""
    return encrypt_stream(cek, chunks)


def encrypted_key_reference(encrypted_key_id: str) -> etree._Element:
    """A SecurityTokenReference from an EncryptedData to the EncryptedKey that holds its CEK (WSS 1.1)."""
    reference = etree.Element(q(ns.WSSE, "SecurityTokenReference"), nsmap={"wsse": ns.WSSE, "wsse11": WSSE11})
    reference.set(q(WSSE11, "TokenType"), ENCRYPTED_KEY_TOKEN)
    etree.SubElement(reference, q(ns.WSSE, "Reference"), URI=f"#{encrypted_key_id}")
    return reference


# --- key transport and agreement --------------------------------------------------------------------------

def encrypted_key(cek: bytes, recipient: x509.Certificate, recipient_reference: etree._Element,
                  policy: A.AlgorithmPolicy, *, data_references: Sequence[str] = (), element_id: str | None = None,
                  agreement: object | None = None) -> etree._Element:
    """An xenc:EncryptedKey carrying ``cek`` for ``recipient``: RSA-OAEP for RSA certificates, otherwise the
    policy's key agreement (``agreement`` is a :class:`pki.xml.key_agreement.AgreementSpec` to override it).
    ``recipient_reference`` names the recipient's certificate (a SecurityTokenReference or ds:X509Data)."""
    key = etree.Element(q(XENC, "EncryptedKey"), nsmap={"xenc": XENC, "ds": ns.DS},
                        Id=element_id or new_id("EK"))
    public_key = recipient.public_key()
    if isinstance(public_key, rsa.RSAPublicKey) and agreement is None:
        transport = policy.encryption.default_key_transport
        if transport is None:
            raise A.AlgorithmRefused("key transport", "(RSA recipient)", policy.name)
        policy.check_encryption("key_transports", transport, writing=True)
        policy.check_encryption("oaep_digests", A.SHA256)
        policy.check_encryption("oaep_mgfs", A.MGF1_SHA256)
        method = etree.SubElement(key, q(XENC, "EncryptionMethod"), Algorithm=transport)
        etree.SubElement(method, q(ns.DS, "DigestMethod"), Algorithm=A.SHA256)
        etree.SubElement(method, q(XENC11, "MGF"), nsmap={"xenc11": XENC11}, Algorithm=A.MGF1_SHA256)
        etree.SubElement(key, q(ns.DS, "KeyInfo")).append(recipient_reference)
        wrapped = public_key.encrypt(cek, padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None))
    else:
        from pki.xml.key_agreement import AgreementSpec, agree_for_recipient, wrap_key

        spec = agreement if isinstance(agreement, AgreementSpec) else _default_agreement(policy, public_key)
        etree.SubElement(key, q(XENC, "EncryptionMethod"), Algorithm=spec.key_wrap)
        sender = agree_for_recipient(recipient, spec, policy, recipient_reference)
        etree.SubElement(key, q(ns.DS, "KeyInfo")).append(sender.element)
        wrapped = wrap_key(sender.kek, cek, spec.key_wrap)
    cipher_data = etree.SubElement(key, q(XENC, "CipherData"))
    etree.SubElement(cipher_data, q(XENC, "CipherValue")).text = _b64(wrapped)
    if data_references:
        references = etree.SubElement(key, q(XENC, "ReferenceList"))
        for data_id in data_references:
            etree.SubElement(references, q(XENC, "DataReference"), URI=f"#{data_id}")
    return key


def _default_agreement(policy: A.AlgorithmPolicy, recipient_key: object):  # type: ignore[no-untyped-def]
    """The policy's derivation and key wrap, with the agreement the recipient's key type can do."""
    from pki.xml.key_agreement import AgreementSpec

    enc = policy.encryption
    agreement = A.X25519 if isinstance(recipient_key, x25519.X25519PublicKey) else A.ECDH_ES
    if agreement not in enc.key_agreements or not (enc.default_key_derivation and enc.default_key_wrap):
        raise A.AlgorithmRefused("key agreement", agreement, policy.name)
    return AgreementSpec(agreement, enc.default_key_derivation, enc.default_key_wrap)


def cek_from_encrypted_key(encrypted_key_el: etree._Element, find_decrypter: FindDecrypter,
                           policy: A.AlgorithmPolicy, expected_length: int) -> bytes:
    """Recover the content-encryption key, whichever way it was sent."""
    method = first_child(encrypted_key_el, _ENCRYPTION_METHOD)
    algorithm = method.get("Algorithm", "") if method is not None else ""
    wrapped = _unb64(text_at(encrypted_key_el, _CIPHER_DATA, _CIPHER_VALUE), "EncryptedKey")
    key_info = first_child(encrypted_key_el, _KEY_INFO)
    agreement_el = first_child(key_info, _AGREEMENT_METHOD)
    if agreement_el is not None:
        from pki.xml.key_agreement import kek_from_agreement, unwrap_key

        policy.check_encryption("key_wraps", algorithm)
        cek = unwrap_key(kek_from_agreement(agreement_el, find_decrypter, policy, algorithm), wrapped, algorithm)
    elif algorithm in (A.RSA_OAEP, A.RSA_OAEP_MGF1P):
        policy.check_encryption("key_transports", algorithm)
        digest_el = method.find(q(ns.DS, "DigestMethod"))
        digest = digest_el.get("Algorithm", "") if digest_el is not None else A.SHA1
        mgf_el = method.find(q(XENC11, "MGF"))
        mgf = A.MGF1_SHA1 if algorithm == A.RSA_OAEP_MGF1P or mgf_el is None else mgf_el.get("Algorithm", "")
        policy.check_encryption("oaep_digests", digest)
        if algorithm == A.RSA_OAEP:
            policy.check_encryption("oaep_mgfs", mgf)
        if method.find(q(XENC, "OAEPparams")) is not None:
            raise EncryptionError("XMLENC_UNSUPPORTED", "OAEPparams (an OAEP label) is not supported")
        decrypter = find_decrypter(parse_key_info(key_info))
        try:
            cek = decrypter.decrypt_oaep(wrapped, _OAEP_HASH[digest], _MGF_HASH[mgf])
        except (ValueError, KeyError):
            # One message for every failure: no padding oracle.
            raise EncryptionError(
                "XMLENC_KEY_DECRYPTION_FAILED", "the EncryptedKey does not decrypt with our key") from None
    else:
        raise A.AlgorithmRefused("key transport", algorithm, policy.name)
    if len(cek) != expected_length:
        raise EncryptionError(
            "XMLENC_KEY_LENGTH", f"content key of {len(cek)} bytes, the data algorithm needs {expected_length}")
    return cek


# --- decryption ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DecryptedPart:
    content_id: str
    mime_type: str | None
    plaintext: Spooled


def data_algorithm(encrypted_data: etree._Element, policy: A.AlgorithmPolicy) -> str:
    method = first_child(encrypted_data, _ENCRYPTION_METHOD)
    algorithm = method.get("Algorithm", "") if method is not None else ""
    policy.check_encryption("data", algorithm)
    return algorithm


def decrypt_element(encrypted_data: etree._Element, cek: bytes, policy: A.AlgorithmPolicy) -> list[etree._Element]:
    """Replace an EncryptedData (Type Element or Content) in its tree by the decrypted XML; returns the new
    elements. The plaintext is parsed with the hardened parser in the namespace context of its position."""
    data_algorithm(encrypted_data, policy)
    cipher_value = text_at(encrypted_data, _CIPHER_DATA, _CIPHER_VALUE)
    if cipher_value is None:
        raise EncryptionError("XMLENC_MALFORMED", "EncryptedData has no CipherValue (a CipherReference needs the part)")
    plaintext = gcm_decrypt(cek, _unb64(cipher_value, "CipherValue"))
    parent = encrypted_data.getparent()
    if parent is None:
        raise EncryptionError("XMLENC_MALFORMED", "an EncryptedData at the document root cannot be replaced")
    declarations = "".join(
        f' xmlns{":" + prefix if prefix else ""}="{uri}"' for prefix, uri in parent.nsmap.items()
    ).encode()
    wrapper = parse_xml(b"<gateway-decrypted" + declarations + b">" + plaintext + b"</gateway-decrypted>").getroot()
    index = parent.index(encrypted_data)
    tail = encrypted_data.tail
    parent.remove(encrypted_data)
    if wrapper.text:
        if index == 0:
            parent.text = (parent.text or "") + wrapper.text
        else:
            previous = parent[index - 1]
            previous.tail = (previous.tail or "") + wrapper.text
    children = list(wrapper)
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    last = children[-1] if children else None
    if last is not None:
        last.tail = (last.tail or "") + (tail or "")
    elif tail:
        if index == 0:
            parent.text = (parent.text or "") + tail
        else:
            parent[index - 1].tail = (parent[index - 1].tail or "") + tail
    return children


def decrypt_attachment(encrypted_data: etree._Element, chunks: Iterable[bytes], cek: bytes,
                       policy: A.AlgorithmPolicy, **spool_options: object) -> Spooled:
    """Decrypt a MIME part named by a CipherReference; released only after the GCM tag verified."""
    data_algorithm(encrypted_data, policy)
    transform = encrypted_data.find(f".//{q(XENC, 'CipherReference')}/{q(XENC, 'Transforms')}/{q(ns.DS, 'Transform')}")
    if transform is None or transform.get("Algorithm") != A.ATTACHMENT_CIPHERTEXT_TRANSFORM:
        raise EncryptionError(
            "XMLENC_UNSUPPORTED", "attachment CipherReference needs the Attachment-Ciphertext-Transform")
    try:
        return decrypt_stream(cek, chunks, **spool_options)  # type: ignore[arg-type]
    except GcmAuthenticationError as exc:
        raise EncryptionError(exc.code, str(exc)) from None
