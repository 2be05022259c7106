"""The AS4 message pipeline, sans I/O: a UserMessage and payloads to bytes on the wire, and received bytes to
verified, decrypted, decompressed payloads plus the signal to answer with.

Sender, in the order the profile demands: compress, build the envelope, sign (eb:Messaging, Body, every part),
encrypt every part, write MIME. It keeps the signed ds:References, which the receipt must echo.

Receiver: read MIME, parse the envelope (hardened), find the agreement (profile and whose signature to
trust) for this message, decrypt and verify, decompress with caps, and build a signed non-repudiation
receipt, or, for any refusal, a signed ebMS error signal carrying the refusal's code. Nothing here does I/O
or reads the clock except through the ``now`` argument; the message handler (as4/msh) stores and sends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from lxml import etree

from as4 import codec, compression, receipts, sbdh, security
from as4.errors import EbmsError
from as4.mime import read_mime, write_mime
from as4.model import (
    COMPRESSION_TYPE,
    GZIP,
    MIME_TYPE,
    EbmsErrorSignal,
    MessageInfo,
    Messaging,
    PartInfo,
    Property,
    Receipt,
    UserMessage,
)
from as4.ns import EB
from as4.parts import Part
from as4.profiles import As4Profile
from pki.ids import uuid4_str
from pki.keys.port import KeyStore, Signer
from pki.xml.keyinfo import KeyResolver

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def new_message_id(domain: str = "gateway.lv") -> str:
    return f"{uuid4_str()}@{domain}"


# --- sending -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OutboundMessage:
    message_id: str
    content_type: str
    body: Iterator[bytes] = field(repr=False)
    signed_references: tuple[etree._Element, ...] = field(repr=False)
    user_message: UserMessage = field(repr=False)
    envelope: bytes = field(default=b"", repr=False)  # the signed SOAP envelope as sent: the NR archive keeps it


def build_outbound(user_message: UserMessage, payloads: Sequence[Part], profile: As4Profile, *,
                   signer: Signer | None, recipient_certificate: object | None) -> OutboundMessage:
    """Compress, sign and encrypt ``payloads`` for the partner; ``user_message.payload_info`` is filled in."""
    if profile.payload_envelope == "sbdh":  # refuse to send what a Peppol access point would refuse
        if len(payloads) != 1:
            raise ValueError(f"profile {profile.name} carries exactly one payload (got {len(payloads)})")
        try:
            sbdh.check(payloads[0].read_all(), user_message)
        except EbmsError as exc:
            raise ValueError(exc.detail) from None
    wire_parts: list[Part] = []
    part_infos: list[PartInfo] = []
    for payload in payloads:
        part, compressed = compression.compress_for(payload, profile.compression, payload.content_type)
        properties = [Property(MIME_TYPE, payload.content_type)]
        if compressed:
            properties.append(Property(COMPRESSION_TYPE, GZIP))
        part_infos.append(PartInfo(href=f"cid:{payload.content_id}", part_properties=tuple(properties)))
        wire_parts.append(part)
    message = replace(user_message, payload_info=tuple(part_infos))
    envelope = codec.build_envelope(Messaging(user_message=message))
    envelope, sent_parts = security.secure_outbound(envelope, wire_parts, profile, signer, recipient_certificate)
    references = tuple(security.signed_references(envelope)) if signer is not None else ()
    envelope_bytes = codec.envelope_bytes(envelope)
    content_type, body = write_mime(envelope_bytes, sent_parts, multipart=bool(sent_parts) or None)
    return OutboundMessage(message.message_id, content_type, body, references, message, envelope_bytes)


# --- receiving -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Agreement:
    """What the receiver needs to know about the partner a message claims to come from (from its PMode)."""

    profile: As4Profile
    signer_resolver: KeyResolver
    max_decompressed_bytes: int = 1024 * 1024 * 1024


AgreementFinder = Callable[[UserMessage], Agreement]


@dataclass
class Received:
    """The outcome: the message and its payloads (when accepted) and the signal to answer with."""

    response_content_type: str
    response_body: bytes
    user_message: UserMessage | None = None
    payloads: list[Part] = field(default_factory=list)
    error: EbmsError | None = None
    signer_certificate: object | None = None
    envelope: bytes = field(default=b"", repr=False)  # the SOAP envelope as received (signed): for the NR archive
    _security: security.InboundSecurityResult | None = field(default=None, repr=False)

    @property
    def accepted(self) -> bool:
        return self.error is None

    def close(self) -> None:
        """Release the spooled plaintext (the payloads must have been stored first)."""
        if self._security is not None:
            self._security.close()


def _signal_bytes(signal: Receipt | EbmsErrorSignal, profile: As4Profile | None, signer: Signer | None) -> bytes:
    envelope = codec.build_envelope(Messaging(signal=signal))
    if profile is not None and signer is not None and signer.family == profile.signing_family:
        security.sign_envelope(envelope, [], profile, signer)
    return codec.envelope_bytes(envelope)


def error_response(error: EbmsError, *, profile: As4Profile | None, signer: Signer | None,
                   now: Clock = _now) -> tuple[str, bytes]:
    """A (signed, when the profile is known) ebMS error signal for a refusal."""
    signal = EbmsErrorSignal(MessageInfo(now(), new_message_id(), error.ref_to_message_id), (error.to_error_detail(),))
    return "application/soap+xml; charset=UTF-8", _signal_bytes(signal, profile, signer)


def receive(content_type: str, body: Iterable[bytes], *, agreement_for: AgreementFinder, key_store: KeyStore,
            signer_for: Callable[[As4Profile], Signer | None], now: Clock = _now,
            **spool_options: object) -> Received:
    """Everything a receiving access point does with one request, except storing and answering it."""
    profile: As4Profile | None = None
    user_message: UserMessage | None = None
    inbound: security.InboundSecurityResult | None = None
    try:
        soap, parts = read_mime(content_type, body, **spool_options)  # type: ignore[arg-type]
        envelope = codec.load_envelope(soap)
        messaging = codec.parse_envelope(envelope, parts=parts)
        user_message = messaging.user_message
        if user_message is None:
            raise EbmsError("EBMS:0004", "only UserMessages are accepted here; signals answer our own messages")
        reference = user_message.message_id
        agreement = agreement_for(user_message)
        profile = agreement.profile
        inbound = security.process_inbound(envelope, parts, profile, key_store=key_store,
                                           signer_resolver=agreement.signer_resolver, at=now(),
                                           ref_to_message_id=reference, **spool_options)
        payloads = _payloads(user_message, inbound.parts, agreement, reference)
        if profile.payload_envelope == "sbdh":
            if len(payloads) != 1:
                raise EbmsError("EBMS:0004", f"Peppol messages carry exactly one payload (got {len(payloads)})",
                                ref_to_message_id=reference)
            sbdh.check(payloads[0].read_all(), user_message)
        signer = signer_for(profile)
        if inbound.verified is None:  # the profile allowed an unsigned message: a receipt without NRI
            raise EbmsError("EBMS:0103", "non-repudiation receipts need a signed message", ref_to_message_id=reference)
        nri = receipts.build_receipt_nri(inbound.verified)
        receipt = Receipt(MessageInfo(now(), new_message_id(), reference), codec.receipt_content(*nri))
        return Received("application/soap+xml; charset=UTF-8", _signal_bytes(receipt, profile, signer),
                        user_message, payloads, None, inbound.certificate, bytes(soap), inbound)
    except EbmsError as error:
        if inbound is not None:
            inbound.close()
        if error.ref_to_message_id is None and user_message is not None:
            error = EbmsError(error.code, error.detail, ref_to_message_id=user_message.message_id, origin=error.origin)
        content, data = error_response(error, profile=profile, signer=signer_for(profile) if profile else None,
                                       now=now)
        return Received(content, data, user_message, [], error)


def _payloads(user_message: UserMessage, parts: list[Part], agreement: Agreement, reference: str) -> list[Part]:
    """Decompress what the PartInfo says is compressed (capped), with the original MIME type restored."""
    by_id = {part.content_id: part for part in parts}
    payloads = []
    for info in user_message.payload_info:
        if info.content_id is None:
            continue
        part = by_id[info.content_id]
        mime_type = info.mime_type or part.content_type
        if info.compression_type:
            # Inflated now, capped: a bomb is refused before anything is accepted or acknowledged.
            part = compression.decompress_checked(part, content_type=mime_type, ref_to_message_id=reference,
                                                  max_output=agreement.max_decompressed_bytes)
        elif mime_type != part.content_type:
            part = Part(part.content_id, mime_type, part.source, part.extra_headers)
        payloads.append(part)
    return payloads


# --- the sender's view of the answer --------------------------------------------------------------------

def check_response(content_type: str, body: bytes, outbound: OutboundMessage, *, profile: As4Profile,
                   signer_resolver: KeyResolver, key_store: KeyStore, now: Clock = _now) -> Receipt:
    """Verify the partner's signal: a receipt must be signed by the partner and name exactly what we signed
    (EBMS:0302 otherwise); an error signal is raised as the EbmsError it carries."""
    envelope = codec.load_envelope(body)
    messaging = codec.parse_envelope(envelope)
    signal = messaging.signal
    if isinstance(signal, EbmsErrorSignal):
        first = signal.errors[0]
        reason = "; ".join(text for text in (first.description.value if first.description else "", first.detail or "")
                           if text)
        raise EbmsError(first.code, f"the partner refused {outbound.message_id}: {reason or first.short_description}",
                        ref_to_message_id=outbound.message_id, origin=first.origin)
    if not isinstance(signal, Receipt) or signal.message_info.ref_to_message_id != outbound.message_id:
        raise EbmsError("EBMS:0302", f"the answer is not a receipt for {outbound.message_id}",
                        ref_to_message_id=outbound.message_id)
    verified = security.process_inbound(envelope, [], profile, key_store=key_store, signer_resolver=signer_resolver,
                                        at=now(), ref_to_message_id=outbound.message_id).verified
    receipt_el = envelope.find(f".//{{{EB}}}Receipt")
    receipts.check_receipt(receipt_el, outbound.signed_references, verified=verified,
                           ref_to_message_id=outbound.message_id)
    return signal
