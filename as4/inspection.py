"""Inspect an AS4 message for an operator: what it says, what it carries, what verified, and the ebMS error a
receiver would answer with. Takes a full MIME body (with or without its transport headers), a bare SOAP
envelope, or a bare ``eb:Messaging`` fragment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from lxml import etree

from as4 import codec
from as4.errors import EbmsError
from as4.mime import read_mime
from as4.model import EbmsErrorSignal, Messaging, Receipt, UserMessage
from as4.ns import EB, S12, XENC
from as4.parts import Part
from pki.keys.port import Decrypter
from pki.xml import ns as dsns
from pki.xml.decryption import decrypt_document
from pki.xml.keyinfo import KeyResolver, parse_key_info
from pki.xml.parser import XmlRefused, parse_xml
from pki.xml.verification import verify

_TRANSPORT_HEADERS = (b"content-type:", b"message-id:", b"mime-version:", b"user-agent:", b"soapaction:")


def split_transport(data: bytes, content_type: str | None) -> tuple[str, bytes]:
    """A saved HTTP request (``Content-Type: ...`` headers, blank line, body) or a body with ``content_type``."""
    if content_type:
        return content_type, data
    head = data.lstrip()[:4096].lower()
    if any(head.startswith(prefix) for prefix in _TRANSPORT_HEADERS):
        header_block, _, body = data.lstrip().partition(b"\r\n\r\n")
        if not body:
            header_block, _, body = data.lstrip().partition(b"\n\n")
        headers = header_block.decode("latin-1").replace("\r\n", "\n").replace("\n\t", " ").replace("\n ", " ")
        for line in headers.split("\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-type":
                return value.strip(), body
    return "application/soap+xml", data


def _describe_user_message(message: UserMessage) -> dict[str, Any]:
    info = asdict(message)
    info["timestamp"] = message.timestamp.isoformat()
    info.pop("message_info", None)
    info["message_id"] = message.message_id
    info["ref_to_message_id"] = message.message_info.ref_to_message_id
    return info


def _describe(messaging: Messaging) -> dict[str, Any]:
    if messaging.user_message is not None:
        return {"kind": "UserMessage", **_describe_user_message(messaging.user_message)}
    signal = messaging.signal
    if isinstance(signal, Receipt):
        return {"kind": "Receipt", "message_id": signal.message_info.message_id,
                "ref_to_message_id": signal.message_info.ref_to_message_id}
    if isinstance(signal, EbmsErrorSignal):
        return {"kind": "Error", "message_id": signal.message_info.message_id,
                "errors": [asdict(error) for error in signal.errors]}
    return {"kind": "unknown"}


def _encryption(root: etree._Element) -> list[dict[str, Any]]:
    found = []
    for key in root.iter(f"{{{XENC}}}EncryptedKey"):
        method = key.find(f"{{{XENC}}}EncryptionMethod")
        agreement = key.find(f".//{{{XENC}}}AgreementMethod")
        info = parse_key_info(key.find(f"{{{dsns.DS}}}KeyInfo")) if agreement is None else None
        found.append({
            "id": key.get("Id"), "key_transport_or_wrap": method.get("Algorithm") if method is not None else None,
            "key_agreement": agreement.get("Algorithm") if agreement is not None else None,
            "recipient": (info.certificates[0].subject.rfc4514_string() if info and info.certificates else
                          str(info.issuer_serial) if info and info.issuer_serial else None),
            "data_references": [r.get("URI") for r in key.iter(f"{{{XENC}}}DataReference")],
        })
    for data in root.iter(f"{{{XENC}}}EncryptedData"):
        method = data.find(f"{{{XENC}}}EncryptionMethod")
        reference = data.find(f".//{{{XENC}}}CipherReference")
        found.append({"id": data.get("Id"), "data_encryption": method.get("Algorithm") if method is not None else None,
                      "type": data.get("Type"), "mime_type": data.get("MimeType"),
                      "cipher_reference": reference.get("URI") if reference is not None else None})
    return found


def inspect(data: bytes, *, content_type: str | None = None, resolver: KeyResolver | None = None,
            decrypter: Callable[..., Decrypter] | None = None, policy: Any = None) -> dict[str, Any]:
    """Everything an operator wants to know about one message; never raises for a bad message."""
    report: dict[str, Any] = {"form": None, "ebms_error": None}
    parts: list[Part] = []
    try:
        media_type, body = split_transport(data, content_type)
        stripped = body.lstrip()
        if media_type.lower().startswith("multipart/"):
            report["form"] = "mime"
            soap, parts = read_mime(media_type, [body])
        else:
            soap = stripped
            report["form"] = "soap"
        root = parse_xml(soap).getroot()
        if root.tag == f"{{{EB}}}Messaging":
            report["form"] = "messaging-fragment"
            envelope = etree.Element(f"{{{S12}}}Envelope", nsmap={"S12": S12})  # a bare fragment: wrap it
            etree.SubElement(envelope, f"{{{S12}}}Header").append(root)
            etree.SubElement(envelope, f"{{{S12}}}Body")
            root = envelope
        report["parts"] = [{"content_id": p.content_id, "content_type": p.content_type,
                            "bytes": sum(len(c) for c in p.chunks())} for p in parts]
        report["encryption"] = _encryption(root)
        signatures = list(root.iter(f"{{{dsns.DS}}}Signature"))
        report["signatures"] = []
        if decrypter is not None and report["encryption"] and policy is not None:
            result = decrypt_document(root, decrypter, policy, parts={p.content_id: p for p in parts}.__getitem__)
            report["decrypted_parts"] = {cid: {"bytes": d.plaintext.size, "sha256": d.plaintext.sha256,
                                               "mime_type": d.mime_type} for cid, d in result.parts.items()}
            parts = [Part(p.content_id, p.content_type, result.parts[p.content_id].plaintext.chunks)
                     if p.content_id in result.parts else p for p in parts]
        for signature in signatures:
            entry: dict[str, Any] = {"references": [r.get("URI") for r in signature.iter(f"{{{dsns.DS}}}Reference")
                                                    if r.getparent().tag == f"{{{dsns.DS}}}SignedInfo"]}
            if resolver is not None and policy is not None:
                try:
                    verified = verify(signature, resolver, policy, attachments={p.content_id: p for p in parts}.get)
                    entry.update(verified=True, signed_by=verified.certificate.subject.rfc4514_string()
                                 if verified.certificate else None,
                                 verified_references=[r.uri for r in verified.references])
                except Exception as exc:
                    entry.update(verified=False, code=getattr(exc, "code", type(exc).__name__), error=str(exc))
            else:
                entry["verified"] = None  # no trust given: not checked
            report["signatures"].append(entry)
        report["message"] = _describe(codec.parse_envelope(root, parts=parts))
        failed = next((s for s in report["signatures"] if s.get("verified") is False), None)
        if failed:
            report["ebms_error"] = {"code": "EBMS:0101", "detail": failed["error"]}
    except EbmsError as exc:
        report["ebms_error"] = {"code": exc.code, "detail": exc.detail}
    except XmlRefused as exc:
        report["ebms_error"] = {"code": "EBMS:0009", "detail": f"{exc.code}: {exc.message}"}
    except Exception as exc:
        code = getattr(exc, "code", "")
        report["ebms_error"] = {"code": "EBMS:0102" if code.startswith("XMLENC") else "EBMS:0004",
                                "detail": str(exc)}
    return report
