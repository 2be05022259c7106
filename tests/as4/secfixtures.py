"""Shared material for the AS4 security, receipt and compression tests: real keys from the dev PKI.

One dev PKI (our node) and one simulated partner under it, made once per test process (RSA-3072 generation
dominates); a second, unrelated dev PKI for "untrusted" partners; an expired partner certificate. Envelopes
are built here with lxml (a minimal SOAP 1.2 envelope with eb:Messaging and a Body carrying wsu:Id, shaped
like phase4's), so these tests do not depend on as4/codec.py.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from lxml import etree

from as4.parts import Part
from as4.profiles import EDELIVERY_1_15, EDELIVERY_2_0, EDELIVERY_2_0_EC, PEPPOL, As4Profile
from pki.devpki import init_pki
from pki.devpki.operations import issue_partner, rollover
from pki.keys.file_store import FileKeyStore, FileSigner
from pki.keys.port import KeyPurpose
from pki.trust.store import TrustStore
from pki.xml.keyinfo import KeyResolver, match_candidates, trusted_certificate
from pki.xml.parser import parse_xml

S12 = "http://www.w3.org/2003/05/soap-envelope"
EB = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
NODE_ID = "LV-GW-AS4TEST"
PARTNER = "PARTNER-AP"

ALL_PROFILES: tuple[As4Profile, ...] = (EDELIVERY_1_15, EDELIVERY_2_0, EDELIVERY_2_0_EC, PEPPOL)


def q(ns: str, local: str) -> str:
    return f"{{{ns}}}{local}"


@dataclass(frozen=True)
class Pki:
    node_dir: Path
    partner_dir: Path
    node: FileKeyStore
    partner: FileKeyStore
    trust: TrustStore  # the node PKI's own trust store (anchors, intermediate, CRLs)
    rogue: FileKeyStore  # a partner under an unrelated dev PKI
    expired: FileKeyStore  # a partner under our PKI whose signing certificates expired a week ago

    def signer(self, store: FileKeyStore, profile: As4Profile) -> FileSigner:
        return store.signer(KeyPurpose.AS4_SIGNING, family=profile.signing_family)

    def encryption_cert(self, store: FileKeyStore, profile: As4Profile) -> x509.Certificate:
        certs = [store.certificate(e) for e in store.entries(KeyPurpose.AS4_ENCRYPTION, live_only=True)
                 if e.family == profile.encryption_family]
        return certs[0]

    def by_trust_store(self) -> KeyResolver:
        return trusted_certificate(lambda leaf, others: self.trust.validate(leaf, others,
                                                                            purpose=KeyPurpose.AS4_SIGNING))

    def by_pmode(self, store: FileKeyStore, profile: As4Profile) -> KeyResolver:
        signer = self.signer(store, profile)
        assert signer.certificate is not None
        return match_candidates([signer.certificate])


def _issue_all(node_dir: Path, out: Path, partner: str, *, days: int | None = None,
               now: datetime | None = None) -> FileKeyStore:
    for purpose, families in ((KeyPurpose.AS4_SIGNING, ("rsa", "ed25519", "ec")),
                              (KeyPurpose.AS4_ENCRYPTION, ("rsa", "x25519", "ec"))):
        for family in families:
            issue_partner(node_dir, out, partner=partner, purpose=purpose, family=family, days=days, now=now)
    return FileKeyStore(out)


@functools.cache
def pki() -> Pki:
    base = Path(tempfile.mkdtemp(prefix="as4-sec-"))
    atexit.register(shutil.rmtree, base, True)
    node_dir = base / "node"
    init_pki(node_dir, node_id=NODE_ID)
    rollover(node_dir, KeyPurpose.AS4_SIGNING, family="ec")  # dev PKI defaults have no EC AS4 keys
    rollover(node_dir, KeyPurpose.AS4_ENCRYPTION, family="ec")
    partner = _issue_all(node_dir, base / "partner", PARTNER)
    expired = _issue_all(node_dir, base / "expired", "EXPIRED-AP", days=1,
                         now=datetime.now(UTC) - timedelta(days=8))
    other_dir = base / "other-pki"
    init_pki(other_dir, node_id="OTHER-CA")
    rogue = _issue_all(other_dir, base / "rogue", "ROGUE-AP")
    trust = TrustStore.from_directory(node_dir / "trust")
    return Pki(node_dir, base / "partner", FileKeyStore(node_dir), partner, trust, rogue, expired)


# --- envelopes and parts ---------------------------------------------------------------------------------

def envelope(message_id: str = "msg-1@partner.test", parts: Sequence[Part] = (), *,
             envelope_nsmap: dict[str, str] | None = None) -> etree._Element:
    """A UserMessage envelope as phase4 shapes it: S12 declared on the Envelope, eb/wsu on eb:Messaging."""
    root = etree.Element(q(S12, "Envelope"), nsmap={"S12": S12, **(envelope_nsmap or {})})
    header = etree.SubElement(root, q(S12, "Header"))
    messaging = etree.SubElement(header, q(EB, "Messaging"), nsmap={"eb": EB, "wsu": WSU})
    messaging.set(q(S12, "mustUnderstand"), "true")
    messaging.set(q(WSU, "Id"), f"phase4-msg-{message_id.split('@')[0]}")
    user = etree.SubElement(messaging, q(EB, "UserMessage"))
    info = etree.SubElement(user, q(EB, "MessageInfo"))
    etree.SubElement(info, q(EB, "Timestamp")).text = "2026-01-01T00:00:00Z"
    etree.SubElement(info, q(EB, "MessageId")).text = message_id
    payload = etree.SubElement(user, q(EB, "PayloadInfo"))
    for part in parts:
        etree.SubElement(payload, q(EB, "PartInfo"), href=f"cid:{part.content_id}")
    body = etree.SubElement(root, q(S12, "Body"), nsmap={"wsu": WSU})
    body.set(q(WSU, "Id"), "id-body-1")
    return root


def receipt_envelope(receipt: etree._Element, ref_to: str, message_id: str = "rcpt-1@node.test") -> etree._Element:
    """A SignalMessage envelope carrying ``receipt`` (what the codec will build)."""
    root = etree.Element(q(S12, "Envelope"), nsmap={"S12": S12})
    header = etree.SubElement(root, q(S12, "Header"))
    messaging = etree.SubElement(header, q(EB, "Messaging"), nsmap={"eb": EB, "wsu": WSU})
    messaging.set(q(S12, "mustUnderstand"), "true")
    messaging.set(q(WSU, "Id"), "phase4-msg-receipt")
    signal = etree.SubElement(messaging, q(EB, "SignalMessage"))
    info = etree.SubElement(signal, q(EB, "MessageInfo"))
    etree.SubElement(info, q(EB, "Timestamp")).text = "2026-01-01T00:00:01Z"
    etree.SubElement(info, q(EB, "MessageId")).text = message_id
    etree.SubElement(info, q(EB, "RefToMessageId")).text = ref_to
    signal.append(receipt)
    body = etree.SubElement(root, q(S12, "Body"), nsmap={"wsu": WSU})
    body.set(q(WSU, "Id"), "id-body-receipt")
    return root


XML_PAYLOAD = (b'<?xml version="1.0" encoding="UTF-8"?>\n<doc xmlns="urn:test:doc" xmlns:x="urn:unused">\n'
               b'  <item n="1">one</item>\n  <item n="2">two &amp; more</item>\n</doc>\n')
TEXT_PAYLOAD = b"line one\nline two\r\nline three\rend\n"
BINARY_PAYLOAD = bytes(range(256)) * 20 + os.urandom(1024)


def payloads(count: int) -> list[Part]:
    kinds = [("xml@test", "application/xml", XML_PAYLOAD), ("text@test", "text/plain; charset=utf-8", TEXT_PAYLOAD),
             ("bin@test", "application/octet-stream", BINARY_PAYLOAD)]
    return [Part.from_bytes(cid, ctype, data) for cid, ctype, data in kinds[:count]]


def wire(root: etree._Element, parts: Sequence[Part]) -> tuple[etree._Element, list[Part]]:
    """What the receiver gets: the envelope serialised and parsed with the hardened parser, parts as bytes."""
    received = parse_xml(etree.tostring(root)).getroot()
    return received, [Part.from_bytes(p.content_id, p.content_type, p.read_all(), **p.extra_headers) for p in parts]


def security_children(root: etree._Element) -> list[str]:
    """Local names of wsse:Security's children, in document order."""
    wsse = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
    security = root.find(f"{q(S12, 'Header')}/{q(wsse, 'Security')}")
    assert security is not None
    return [etree.QName(child).localname for child in security]
