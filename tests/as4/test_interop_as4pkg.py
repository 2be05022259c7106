"""Interop with an independent AS4 implementation: the PyPI ``as4`` package (0.2.0, Peppol AS4) as the partner.

``as4`` runs in its own virtualenv (tests/as4/as4pkg_env.py) through tests/as4/as4pkg_peer.py; the two sides
exchange files, in process order, no HTTP. Keys are real: the node and the simulated partner from the dev
PKI (tests/as4/secfixtures.py, RSA-3072). ``as4`` has one key pair per party (it signs and decrypts with the
same key), so the peer uses the partner's RSA AS4 signing key for both, and our sender encrypts for that
certificate; the node keeps its separate signing and encryption keys. Both sides pin the other's signing
certificate (``match_candidates`` here, ``as4.pinned_certificates`` there).

1. as4 -> node: the node accepts the message, the payload is as4's SBD, and as4 verifies our receipt's
   signature and non-repudiation references against what it signed.
2. node -> as4: our PEPPOL profile + a caller-built SBD is accepted by ``parse_peppol_message`` and
   ``check_response`` accepts as4's receipt.
3. Refusals both ways arrive as signed error signals the other side reads.

Peppol conventions the caller (not the pipeline) must follow are in :func:`peppol_user_message` and
:func:`peppol_sbd`; bench/as4_codec.py uses them too.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from as4 import sbdh
from as4.errors import EbmsError
from as4.model import (
    DEFAULT_INITIATOR_ROLE,
    DEFAULT_RESPONDER_ROLE,
    FINAL_RECIPIENT,
    ORIGINAL_SENDER,
    AgreementRef,
    CollaborationInfo,
    MessageInfo,
    Party,
    PartyId,
    PartyInfo,
    Property,
    Service,
    UserMessage,
)
from as4.parts import Part
from as4.pipeline import Agreement, OutboundMessage, Received, build_outbound, check_response, new_message_id, receive
from as4.profiles import PEPPOL, As4Profile
from pki.keys.files import write_private
from pki.keys.port import KeyPurpose
from pki.xml import ns as dsns
from pki.xml.keyinfo import match_candidates
from pki.xml.parser import parse_xml
from tests.as4 import as4pkg_env
from tests.as4.secfixtures import NODE_ID, PARTNER, pki

pytestmark = pytest.mark.slow  # two processes, a virtualenv made on first use

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# --- Peppol conventions (what as4 checks, see ../shared/notes/measured-baselines.md §1.4-1.5) ---------------

SBDH = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
PARTICIPANT_SCHEME = "iso6523-actorid-upis"
DOCUMENT_SCHEME = "busdox-docid-qns"
INVOICE = ("urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice"
           "##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1")
BILLING = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
SENDER = "0088:5790000435951"  # originalSender / SBDH Sender
RECIPIENT = "0192:991825827"  # finalRecipient / SBDH Receiver


def peppol_user_message(*, from_party: str, to_party: str, sender: str = SENDER, recipient: str = RECIPIENT,
                        document_type: str = INVOICE, process: str = BILLING,
                        message_id: str | None = None) -> UserMessage:
    """A Peppol UserMessage (payload_info is filled in by build_outbound): AP party ids on From and To, the
    TIA agreement, Service = process id (type cenbii-procid-ubl), Action = ``busdox-docid-qns::<doc type>``,
    typed originalSender / finalRecipient."""
    ap = PEPPOL.party_id_type
    return UserMessage(
        MessageInfo(datetime.now(UTC), message_id or new_message_id()),
        PartyInfo(Party((PartyId(from_party, ap),), DEFAULT_INITIATOR_ROLE),
                  Party((PartyId(to_party, ap),), DEFAULT_RESPONDER_ROLE)),
        CollaborationInfo(Service(process, PEPPOL.service_type), f"{DOCUMENT_SCHEME}::{document_type}",
                          str(uuid.uuid4()), AgreementRef(PEPPOL.agreement_ref or "")),
        (Property(ORIGINAL_SENDER, sender, PARTICIPANT_SCHEME),
         Property(FINAL_RECIPIENT, recipient, PARTICIPANT_SCHEME)),
    )


def peppol_sbd(document: bytes, *, sender: str = SENDER, recipient: str = RECIPIENT, document_type: str = INVOICE,
               process: str = BILLING, country: str = "LV", instance_id: str | None = None,
               created: datetime | None = None) -> bytes:
    """The business document in a Peppol SBD agreeing with the test message's properties (as4.sbdh.wrap)."""
    return sbdh.wrap(document, sender=sender, recipient=recipient, document_type=document_type, process=process,
                     country=country, instance_id=instance_id, created=created)


_SYLLABLES = ("ka", "lo", "ri", "ga", "tal", "linn", "ve", "sto", "mar", "pe", "nu", "dra", "sil", "ko", "be", "an",
              "zu", "mi", "per", "tra", "vo", "le", "ist", "ent", "ur", "ba", "no", "sel", "ter", "qua")


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))


def ubl_invoice(size: int, *, seed: int = 1) -> bytes:
    """A UBL-like invoice of exactly ``size`` bytes with varied lines (descriptions, amounts, item numbers), so
    it compresses like a real one (gzip -9: about 7:1 at 100 KB, 3:1 at 1 KB), not like repeated text."""
    rng = random.Random(seed)
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:'
            'Invoice-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2" xmlns:cac='
            '"urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2">\n'
            f"<cbc:ID>INV-{rng.randrange(10**8)}</cbc:ID><cbc:IssueDate>2026-11-{rng.randint(10, 28)}</cbc:IssueDate>\n"
            "<cbc:Note>Piegāde uz Rīgu, Brīvības iela 1</cbc:Note>\n")
    tail = "</Invoice>\n"
    budget = size - len(head.encode()) - len(tail) - len("<!---->")
    lines: list[str] = []
    for number in itertools.count(1):
        quantity, price = rng.randint(1, 500), rng.randint(100, 999_999) / 100
        description = " ".join(_word(rng) for _ in range(rng.randint(3, 8)))
        line = (f'<cac:InvoiceLine><cbc:ID>{number}</cbc:ID><cbc:InvoicedQuantity unitCode="C62">{quantity}'
                f'</cbc:InvoicedQuantity><cbc:LineExtensionAmount currencyID="EUR">{quantity * price:.2f}'
                f"</cbc:LineExtensionAmount><cac:Item><cbc:Description>{description}</cbc:Description><cbc:Name>"
                f"{_word(rng).capitalize()} {rng.getrandbits(40):x}</cbc:Name><cac:StandardItemIdentification>"
                f'<cbc:ID schemeID="0160">{rng.randrange(10**13):013d}</cbc:ID></cac:StandardItemIdentification>'
                f'</cac:Item><cac:Price><cbc:PriceAmount currencyID="EUR">{price:.2f}</cbc:PriceAmount></cac:Price>'
                f"</cac:InvoiceLine>\n")
        if len(line.encode()) > budget:
            break
        lines.append(line)
        budget -= len(line.encode())
    if budget < 0:
        raise ValueError(f"{size} bytes is too small for an invoice")
    filler = " ".join(_word(rng) for _ in range(budget))[:budget]
    data = f"{head}{''.join(lines)}<!--{filler}-->{tail}".encode()
    assert len(data) == size, (len(data), size)
    return data


# --- the as4 peer ------------------------------------------------------------------------------------------

@dataclass
class Built:
    """What the peer's ``build`` left: the request (headers + body) and what it signed."""

    directory: Path
    headers: dict[str, str]
    body: bytes
    info: dict[str, Any]

    @property
    def content_type(self) -> str:
        return self.headers["Content-Type"]

    @property
    def sbd(self) -> bytes:
        return base64.b64decode(self.info["sbd"])


@dataclass
class As4Peer:
    directory: Path
    config: dict[str, str]
    partner_certificate: x509.Certificate
    _counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def _config_file(self, **changes: str) -> Path:
        path = self.directory / f"config-{next(self._counter)}.json"
        path.write_text(json.dumps({**self.config, **changes}))
        return path

    def _work(self, name: str) -> Path:
        path = self.directory / f"{name}-{next(self._counter)}"
        path.mkdir()
        return path

    def build(self, document: bytes) -> Built:
        work = self._work("build")
        (work / "document.xml").write_bytes(document)
        info = as4pkg_env.run_peer("build", self._config_file(payload=str(work / "document.xml")), work)
        return Built(work, json.loads((work / "headers.json").read_text()), (work / "body.bin").read_bytes(), info)

    def check(self, built: Built, signal: bytes) -> dict[str, Any]:
        path = built.directory / f"signal-{next(self._counter)}.bin"
        path.write_bytes(signal)
        return as4pkg_env.run_peer("check", self._config_file(), built.directory, path)

    def receive(self, content_type: str, body: bytes, **config_changes: str) -> tuple[dict[str, Any], str, bytes]:
        work = self._work("receive")
        (work / "headers.json").write_text(json.dumps({"Content-Type": content_type}))
        (work / "body.bin").write_bytes(body)
        result = as4pkg_env.run_peer("receive", self._config_file(**config_changes), work / "headers.json",
                                     work / "body.bin", work)
        return result, result["signal_content_type"], (work / "signal.bin").read_bytes()


@pytest.fixture(scope="session")
def as4pkg_python() -> Path:
    try:
        return as4pkg_env.ensure_venv()
    except as4pkg_env.As4PkgUnavailable as exc:
        message = f"the PyPI as4 package is not usable: {exc}"
        if IN_CI:
            pytest.fail(message + " - under CI the as4 interop tests must run")
        pytest.skip(message)


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def peer(as4pkg_python: Path, tmp_path_factory: pytest.TempPathFactory) -> As4Peer:
    keys = pki()
    directory = tmp_path_factory.mktemp("as4pkg")
    partner = keys.signer(keys.partner, PEPPOL)
    entry = next(e for e in keys.partner.entries(KeyPurpose.AS4_SIGNING, live_only=True) if e.family == "rsa")
    write_private(directory / "partner-key.pem", keys.partner.path(entry.key_file).read_bytes())
    files = {"partner.pem": partner.certificate, "node-signing.pem": keys.signer(keys.node, PEPPOL).certificate,
             "node-encryption.pem": keys.encryption_cert(keys.node, PEPPOL)}
    for name, certificate in files.items():
        (directory / name).write_bytes(_pem(certificate))
    config = {"key": str(directory / "partner-key.pem"), "cert": str(directory / "partner.pem"),
              "party_id": PARTNER, "peer_party_id": NODE_ID, "sender": SENDER, "recipient": RECIPIENT,
              "document_type": INVOICE, "process": BILLING, "country": "EE",
              "peer_encryption_cert": str(directory / "node-encryption.pem"),
              "peer_signing_cert": str(directory / "node-signing.pem")}
    assert partner.certificate is not None
    return As4Peer(directory, config, partner.certificate)


# --- the node ----------------------------------------------------------------------------------------------

def _node_receives(peer: As4Peer, content_type: str, body: bytes, profile: As4Profile = PEPPOL) -> Received:
    keys = pki()
    return receive(content_type, [body],
                   agreement_for=lambda _um: Agreement(profile, match_candidates([peer.partner_certificate])),
                   key_store=keys.node, signer_for=lambda p: keys.signer(keys.node, p))


def _node_sends(peer: As4Peer, payload: bytes, *, profile: As4Profile = PEPPOL) -> tuple[OutboundMessage, bytes]:
    keys = pki()
    message = peppol_user_message(from_party=NODE_ID, to_party=PARTNER)
    outbound = build_outbound(message, [Part.from_bytes(f"sbd-{uuid.uuid4()}@gateway.lv", "application/xml", payload)],
                              profile, signer=keys.signer(keys.node, profile),
                              recipient_certificate=peer.partner_certificate)
    return outbound, b"".join(outbound.body)


def _check(peer: As4Peer, outbound: OutboundMessage, content_type: str, signal: bytes):
    keys = pki()
    return check_response(content_type, signal, outbound, profile=PEPPOL,
                          signer_resolver=match_candidates([peer.partner_certificate]), key_store=keys.node)


def _exc_c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True)


def _refs(references: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(r["uri"], r["digest_value"]) for r in references}


def _our_refs(outbound: OutboundMessage) -> set[tuple[str, str]]:
    return {(r.get("URI"), r.findtext(f"{{{dsns.DS}}}DigestValue").strip()) for r in outbound.signed_references}


def _flip_ciphertext(body: bytes, content_id: str) -> bytes:
    """Flip one bit inside the encrypted payload (after the 12-byte IV), as a broken proxy might."""
    start = body.index(b"\r\n\r\n", body.index(f"Content-ID: <{content_id}>".encode())) + 4
    position = start + 12 + 20
    return body[:position] + bytes([body[position] ^ 0x01]) + body[position + 1:]


SIZES = {"1kb": 1024, "100kb": 100 * 1024}


# --- 1. as4 -> node ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", SIZES, ids=str)
def test_as4_message_is_accepted_and_as4_verifies_our_receipt(peer: As4Peer, size: str) -> None:
    document = ubl_invoice(SIZES[size])
    built = peer.build(document)
    received = _node_receives(peer, built.content_type, built.body)
    try:
        assert received.accepted, received.error
        message = received.user_message
        assert message.message_id == built.info["message_id"]
        assert [p.type for p in message.party_info.from_party.party_ids] == [PEPPOL.party_id_type]
        assert message.party_info.to_party.party_ids[0] == PartyId(NODE_ID, PEPPOL.party_id_type)
        assert message.collaboration_info.agreement_ref.value == PEPPOL.agreement_ref
        assert message.collaboration_info.service.value == BILLING
        assert message.collaboration_info.action == f"{DOCUMENT_SCHEME}::{INVOICE}"
        assert message.original_sender == Property(ORIGINAL_SENDER, SENDER, PARTICIPANT_SCHEME)
        assert message.final_recipient == Property(FINAL_RECIPIENT, RECIPIENT, PARTICIPANT_SCHEME)
        [payload] = received.payloads
        assert payload.content_type == "application/xml"
        sbd = payload.read_all()
        assert sbd == built.sbd  # decrypted and gunzipped: exactly the SBD as4 wrapped
        root = parse_xml(sbd).getroot()
        assert root.tag == f"{{{SBDH}}}StandardBusinessDocument"
        assert root.findtext(f"{{{SBDH}}}StandardBusinessDocumentHeader/{{{SBDH}}}Sender/{{{SBDH}}}Identifier") \
            == SENDER
        scopes = {s.findtext(f"{{{SBDH}}}Type"): s.findtext(f"{{{SBDH}}}InstanceIdentifier")
                  for s in root.iter(f"{{{SBDH}}}Scope")}
        assert scopes == {"DOCUMENTID": INVOICE, "PROCESSID": BILLING, "COUNTRY_C1": "EE"}
        assert _exc_c14n(root[-1]) == _exc_c14n(parse_xml(document).getroot())  # the document as sent
    finally:
        received.close()

    verdict = peer.check(built, received.response_body)
    assert verdict["parsed"] and verdict["is_receipt"] and verdict["error"] is None, verdict
    assert verdict["refers_to_sent"], verdict
    assert verdict["non_repudiation"] == "verified", verdict
    assert _refs(verdict["acknowledged"]) == _refs(built.info["signed_references"])


def test_as4_refuses_our_receipt_for_another_message(peer: As4Peer) -> None:
    """The receipt check is not vacuous: a genuine receipt of ours, for another message, does not pass."""
    first, second = peer.build(ubl_invoice(1024, seed=2)), peer.build(ubl_invoice(1024, seed=3))
    received = _node_receives(peer, first.content_type, first.body)
    received.close()
    assert received.accepted, received.error
    verdict = peer.check(second, received.response_body)
    assert verdict["parsed"] and not verdict["refers_to_sent"], verdict
    assert verdict["non_repudiation"].startswith("ReceiptVerificationError"), verdict


# --- 2. node -> as4 ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", SIZES, ids=str)
def test_our_peppol_message_is_accepted_by_as4_and_its_receipt_checks(peer: As4Peer, size: str) -> None:
    sbd = peppol_sbd(ubl_invoice(SIZES[size]))
    outbound, body = _node_sends(peer, sbd)
    [part_info] = outbound.user_message.payload_info
    assert (part_info.mime_type, part_info.compression_type) == ("application/xml", "application/gzip")
    part_headers = body[body.index(f"Content-ID: <{part_info.content_id}>".encode()) - 200:]
    assert b"Content-Type: application/octet-stream" in part_headers[: part_headers.index(b"\r\n\r\n", 200)]

    result, content_type, signal = peer.receive(outbound.content_type, body)
    assert result["parse_error"] is None and result["successful"], result
    assert result["message_id"] == outbound.message_id
    assert (result["sender"], result["recipient"]) == (SENDER, RECIPIENT)
    assert (result["document_type"], result["process"]) == (INVOICE, BILLING)
    assert result["addressed_to"] == {"party_id": PARTNER, "party_type": PEPPOL.party_id_type}
    node_signing = pki().signer(pki().node, PEPPOL).certificate
    assert result["signer_subject"] == node_signing.subject.rfc4514_string()
    assert base64.b64decode(result["payload"]) == sbd
    assert _refs(result["signed_references"]) == _our_refs(outbound)  # as4 saw exactly what we signed

    receipt = _check(peer, outbound, content_type, signal)
    assert receipt.ref_to_message_id == outbound.message_id


# --- 3. refusals -------------------------------------------------------------------------------------------

def _tamper_soap(body: bytes) -> bytes:
    return body.replace(f">{SENDER}<".encode(), f">{SENDER[:-1]}0<".encode(), 1)  # eb:Messaging, signed


@pytest.mark.parametrize(("tamper", "code"), [
    pytest.param(lambda built: _flip_ciphertext(built.body, built.info["attachment_id"]), "EBMS:0102",
                 id="ciphertext-bit"),
    pytest.param(lambda built: _tamper_soap(built.body), "EBMS:0101", id="signed-header"),
])
def test_tampered_as4_message_gets_a_signed_error_as4_can_read(peer: As4Peer, tamper, code: str) -> None:
    built = peer.build(ubl_invoice(1024, seed=4))
    tampered = tamper(built)
    assert tampered != built.body
    received = _node_receives(peer, built.content_type, tampered)
    assert not received.accepted and received.error.code == code, received.error
    assert received.payloads == []
    verdict = peer.check(built, received.response_body)
    assert verdict["parsed"], verdict  # signed by our signing key: as4 verifies the signal before reading it
    assert not verdict["is_receipt"] and verdict["refers_to_sent"], verdict
    assert verdict["error"]["code"] == code and verdict["error"]["severity"] == "failure", verdict
    assert verdict["error"]["ref_to_message_in_error"] == built.info["message_id"]


def _not_pinned(peer: As4Peer) -> dict[str, str]:
    return {"peer_signing_cert": peer.config["cert"]}  # as4 pins its own certificate instead of the node's


@pytest.mark.parametrize(("case", "code", "as4_error"), [
    ("ciphertext-bit", "EBMS:0102", "DecryptionFailedException"),
    ("signer-not-pinned", "EBMS:0101", "UntrustedSignerException"),
    ("payload-without-sbdh", "EBMS:0004", "PeppolSBDHException"),
])
def test_as4_refusals_reach_check_response(peer: As4Peer, case: str, code: str, as4_error: str) -> None:
    document = ubl_invoice(1024, seed=5)
    if case == "payload-without-sbdh":  # our own PEPPOL profile refuses to send it: a sender without that check
        with pytest.raises(ValueError, match="not a StandardBusinessDocument"):
            _node_sends(peer, document)
        outbound, body = _node_sends(peer, document, profile=PEPPOL.with_changes(payload_envelope=None))
    else:
        outbound, body = _node_sends(peer, peppol_sbd(document))
    changes = _not_pinned(peer) if case == "signer-not-pinned" else {}
    if case == "ciphertext-bit":
        body = _flip_ciphertext(body, outbound.user_message.payload_info[0].content_id or "")
    result, content_type, signal = peer.receive(outbound.content_type, body, **changes)
    assert not result["successful"] and result["parse_error"]["class"] == as4_error, result
    with pytest.raises(EbmsError) as caught:
        _check(peer, outbound, content_type, signal)
    assert caught.value.code == code
    assert caught.value.ref_to_message_id == outbound.message_id
