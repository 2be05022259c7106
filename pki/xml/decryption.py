"""Decrypt everything a document (and its MIME parts) carries encrypted, whichever shape the sender chose.

An EncryptedData finds its content key in one of four ways: an EncryptedKey inside its own ds:KeyInfo (SAML),
a SecurityTokenReference or ds:RetrievalMethod to an EncryptedKey by Id, or an EncryptedKey elsewhere whose
ReferenceList names it (WS-Security). The tree is changed in place; on any error the caller discards it, and
decrypted attachments already spooled are closed, so nothing half-decrypted is used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from pki.xml import algorithms as A
from pki.xml import ns
from pki.xml.encryption import (
    XENC,
    DecryptedPart,
    EncryptionError,
    FindDecrypter,
    cek_from_encrypted_key,
    data_algorithm,
    decrypt_attachment,
    decrypt_element,
)
from pki.xml.ns import q

# cid -> the MIME part (content_id, headers, chunks()), as for signature verification.
PartResolver = Callable[[str], Any]


@dataclass
class DecryptionResult:
    elements: list[etree._Element] = field(default_factory=list)
    parts: dict[str, DecryptedPart] = field(default_factory=dict)

    def close(self) -> None:
        for part in self.parts.values():
            part.plaintext.close()


def _by_id(root: etree._Element, wanted: str) -> etree._Element:
    matches = [el for el in root.iter(q(XENC, "EncryptedKey")) if el.get("Id") == wanted]
    if len(matches) != 1:
        raise EncryptionError("XMLENC_REFERENCE_NOT_FOUND", f"{len(matches)} EncryptedKey elements have Id {wanted!r}")
    return matches[0]


def _key_for(encrypted_data: etree._Element, root: etree._Element, listed: dict[str, etree._Element]) -> etree._Element:
    key_info = encrypted_data.find(q(ns.DS, "KeyInfo"))
    if key_info is not None:
        inline = key_info.find(q(XENC, "EncryptedKey"))
        if inline is not None:
            return inline
        reference = key_info.find(f"{q(ns.WSSE, 'SecurityTokenReference')}/{q(ns.WSSE, 'Reference')}")
        if reference is None:
            reference = key_info.find(q(ns.DS, "RetrievalMethod"))
        if reference is not None:
            uri = reference.get("URI", "")
            if not uri.startswith("#"):
                raise EncryptionError("XMLENC_REFERENCE_NOT_FOUND", f"unsupported key reference {uri!r}")
            return _by_id(root, uri[1:])
    data_id = encrypted_data.get("Id")
    if data_id and data_id in listed:
        return listed[data_id]
    raise EncryptionError("XMLENC_KEY_NOT_FOUND", f"no EncryptedKey for EncryptedData {data_id!r}")


def decrypt_document(root: etree._Element, find_decrypter: FindDecrypter, policy: A.AlgorithmPolicy, *,
                     parts: PartResolver | None = None, **spool_options: object) -> DecryptionResult:
    listed: dict[str, etree._Element] = {}
    for key in root.iter(q(XENC, "EncryptedKey")):
        for reference in key.iterfind(f"{q(XENC, 'ReferenceList')}/{q(XENC, 'DataReference')}"):
            listed[reference.get("URI", "").removeprefix("#")] = key
    present = {el.get("Id") for el in root.iter(q(XENC, "EncryptedData"))}
    missing = sorted(set(listed) - present)
    if missing:
        raise EncryptionError("XMLENC_REFERENCE_NOT_FOUND", f"ReferenceList names absent EncryptedData {missing}")

    result = DecryptionResult()
    ceks: dict[int, bytes] = {}
    try:
        for encrypted_data in list(root.iter(q(XENC, "EncryptedData"))):
            algorithm = data_algorithm(encrypted_data, policy)
            key = _key_for(encrypted_data, root, listed)
            if id(key) not in ceks:
                ceks[id(key)] = cek_from_encrypted_key(key, find_decrypter, policy, A.GCM_KEY_BYTES[algorithm])
            cek = ceks[id(key)]
            reference = encrypted_data.find(f"{q(XENC, 'CipherData')}/{q(XENC, 'CipherReference')}")
            if reference is None:
                result.elements.extend(decrypt_element(encrypted_data, cek, policy))
                continue
            uri = reference.get("URI", "")
            if not uri.startswith("cid:"):
                raise EncryptionError("XMLENC_REFERENCE_NOT_FOUND", f"unsupported CipherReference {uri!r}")
            from pki.xml.attachments import content_id_from_cid_uri

            content_id = content_id_from_cid_uri(uri)
            if parts is None:
                raise EncryptionError("XMLENC_REFERENCE_NOT_FOUND", f"{uri} referenced but no MIME parts given")
            try:
                part = parts(content_id)
            except KeyError:
                raise EncryptionError(
                    "XMLENC_REFERENCE_NOT_FOUND", f"no MIME part with Content-ID {content_id!r}") from None
            plaintext = decrypt_attachment(encrypted_data, part.chunks(), cek, policy, **spool_options)
            result.parts[content_id] = DecryptedPart(content_id, encrypted_data.get("MimeType"), plaintext)
    except BaseException:
        result.close()
        raise
    return result
