"""The ebMS3 message model: what an ``eb:Messaging`` header says, as frozen, typed values.

Names follow the ebMS3 header schema (``MessageInfo``, ``PartyInfo``, ``CollaborationInfo`` ...) so a reader
can hold the model against the spec and against phase4's ``Ebms3*`` classes. Containers are tuples, so units
compare by value (round-trip tests) and can be hashed or cached. The model only refuses what no message could
carry (an empty MessageId, a naive timestamp); what a *received* header must satisfy is checked by the codec,
which answers with ebMS error codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum

_CORE = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/"

# The ebMS3 "test" service and action (ebMS3 core §5.2.2.9): a message to them is a ping, never delivered.
TEST_SERVICE = _CORE + "service"
TEST_ACTION = _CORE + "test"
DEFAULT_INITIATOR_ROLE = _CORE + "initiator"
DEFAULT_RESPONDER_ROLE = _CORE + "responder"
DEFAULT_MPC = _CORE + "defaultMPC"

# Message exchange patterns and their bindings (PMode[].MEP / PMode[].MEPbinding).
MEP_ONE_WAY = _CORE + "oneWay"
MEP_TWO_WAY = _CORE + "twoWay"
MEP_BINDING_PUSH = _CORE + "push"
MEP_BINDING_PULL = _CORE + "pull"
MEP_BINDING_SYNC = _CORE + "sync"
MEP_BINDING_PUSH_AND_PUSH = _CORE + "pushAndPush"

# Four-corner message properties (eDelivery AS4 four-corner enhancement; OOTS requires both).
ORIGINAL_SENDER = "originalSender"
FINAL_RECIPIENT = "finalRecipient"

# Part properties the AS4 profile defines (AS4 §3.1 compression; the names are matched case-insensitively on
# receipt, as phase4 does, because senders differ in spelling).
MIME_TYPE = "MimeType"
COMPRESSION_TYPE = "CompressionType"
CHARACTER_SET = "CharacterSet"
GZIP = "application/gzip"


class SoapVersion(Enum):
    """The SOAP version of an envelope. AS4 uses 1.2; 1.1 is what older ebMS3 peers send."""

    SOAP12 = ("1.2", "http://www.w3.org/2003/05/soap-envelope", "S12", "application/soap+xml", "true")
    SOAP11 = ("1.1", "http://schemas.xmlsoap.org/soap/envelope/", "S11", "text/xml", "1")

    def __init__(self, version: str, namespace: str, prefix: str, media_type: str, must_understand: str) -> None:
        self.version = version
        self.namespace = namespace
        self.prefix = prefix
        self.media_type = media_type
        self.must_understand = must_understand  # the literal each version writes for "true"


def _require(value: str | None, what: str) -> None:
    if not value:
        raise ValueError(f"{what} must not be empty")


def _utc_millis(value: datetime) -> datetime:
    """UTC, truncated to the millisecond: what goes on the wire (see codec), so a round trip is exact."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware (ebMS3 timestamps are UTC)")
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


@dataclass(frozen=True)
class MessageInfo:
    timestamp: datetime
    message_id: str  # without angle brackets (ebMS3 core §5.2.2.1)
    ref_to_message_id: str | None = None

    def __post_init__(self) -> None:
        _require(self.message_id, "MessageId")
        if self.ref_to_message_id == "":
            raise ValueError("RefToMessageId must be None or non-empty")
        object.__setattr__(self, "timestamp", _utc_millis(self.timestamp))


@dataclass(frozen=True)
class PartyId:
    value: str
    type: str | None = None

    def __post_init__(self) -> None:
        _require(self.value, "PartyId")


@dataclass(frozen=True)
class Party:
    """``eb:From`` or ``eb:To``: one party, possibly under several ids (ebMS3 allows more than one)."""

    party_ids: tuple[PartyId, ...]
    role: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "party_ids", tuple(self.party_ids))
        if not self.party_ids:
            raise ValueError("a party needs at least one PartyId")
        _require(self.role, "Role")


@dataclass(frozen=True)
class PartyInfo:
    from_party: Party
    to_party: Party


@dataclass(frozen=True)
class AgreementRef:
    value: str
    type: str | None = None
    pmode: str | None = None


@dataclass(frozen=True)
class Service:
    value: str
    type: str | None = None

    def __post_init__(self) -> None:
        _require(self.value, "Service")


@dataclass(frozen=True)
class CollaborationInfo:
    service: Service
    action: str
    conversation_id: str  # required element; the schema allows it empty
    agreement_ref: AgreementRef | None = None

    def __post_init__(self) -> None:
        _require(self.action, "Action")


@dataclass(frozen=True)
class Property:
    name: str
    value: str
    type: str | None = None  # the OASIS errata attribute OOTS uses on originalSender/finalRecipient

    def __post_init__(self) -> None:
        _require(self.name, "Property name")
        _require(self.value, f"value of property {self.name!r}")


@dataclass(frozen=True)
class Description:
    value: str
    lang: str = "en"  # xml:lang is required on eb:Description


@dataclass(frozen=True)
class PartSchema:
    location: str
    version: str | None = None
    namespace: str | None = None


@dataclass(frozen=True)
class PartInfo:
    """One payload. ``href`` is ``cid:<Content-ID>`` for a MIME part, ``None`` for the SOAP Body itself."""

    href: str | None = None
    part_properties: tuple[Property, ...] = ()
    schema: PartSchema | None = None
    description: Description | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "part_properties", tuple(self.part_properties))
        if self.href == "":
            raise ValueError("PartInfo href must be None or non-empty")

    @property
    def content_id(self) -> str | None:
        """The MIME Content-ID this part refers to, or None when it is not a ``cid:`` reference."""
        if self.href and self.href[:4].lower() == "cid:":
            return self.href[4:]
        return None

    def part_property(self, name: str) -> str | None:
        wanted = name.lower()
        return next((p.value for p in self.part_properties if p.name.lower() == wanted), None)

    @property
    def mime_type(self) -> str | None:
        return self.part_property(MIME_TYPE)

    @property
    def compression_type(self) -> str | None:
        return self.part_property(COMPRESSION_TYPE)

    @property
    def character_set(self) -> str | None:
        return self.part_property(CHARACTER_SET)


@dataclass(frozen=True)
class UserMessage:
    message_info: MessageInfo
    party_info: PartyInfo
    collaboration_info: CollaborationInfo
    message_properties: tuple[Property, ...] = ()
    payload_info: tuple[PartInfo, ...] = ()
    mpc: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "message_properties", tuple(self.message_properties))
        object.__setattr__(self, "payload_info", tuple(self.payload_info))

    @property
    def message_id(self) -> str:
        return self.message_info.message_id

    @property
    def ref_to_message_id(self) -> str | None:
        return self.message_info.ref_to_message_id

    @property
    def timestamp(self) -> datetime:
        return self.message_info.timestamp

    def message_property(self, name: str) -> Property | None:
        return next((p for p in self.message_properties if p.name == name), None)

    @property
    def original_sender(self) -> Property | None:
        return self.message_property(ORIGINAL_SENDER)

    @property
    def final_recipient(self) -> Property | None:
        return self.message_property(FINAL_RECIPIENT)

    @property
    def is_test(self) -> bool:
        """A ping to the ebMS3 test service/action: answered with a receipt, never delivered to a backend."""
        info = self.collaboration_info
        return info.service.value == TEST_SERVICE and info.action == TEST_ACTION


@dataclass(frozen=True)
class Receipt:
    """A receipt signal. ``content`` holds the children of ``eb:Receipt`` (for AS4 non-repudiation, the
    ``ebbp:NonRepudiationInformation``) as exclusive-c14n bytes: opaque here, built and checked by the
    receipts module, and comparable by value after a round trip."""

    message_info: MessageInfo
    content: tuple[bytes, ...] = field(repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "content", tuple(self.content))
        if not self.content:
            raise ValueError("eb:Receipt needs at least one child element")
        if not self.message_info.ref_to_message_id:
            raise ValueError("a receipt must name the message it acknowledges (RefToMessageId)")

    @property
    def message_id(self) -> str:
        return self.message_info.message_id

    @property
    def ref_to_message_id(self) -> str:
        return self.message_info.ref_to_message_id or ""

    @property
    def timestamp(self) -> datetime:
        return self.message_info.timestamp


@dataclass(frozen=True)
class ErrorDetail:
    """One ``eb:Error``. ``detail`` is the ``eb:ErrorDetail`` text, ``description`` the ``eb:Description``."""

    code: str
    severity: str  # "failure" | "warning" (normalised to lower case when received)
    category: str | None = None
    short_description: str | None = None
    description: Description | None = None
    detail: str | None = None
    ref_to_message_in_error: str | None = None
    origin: str | None = None

    def __post_init__(self) -> None:
        _require(self.code, "errorCode")
        _require(self.severity, "severity")


@dataclass(frozen=True)
class EbmsErrorSignal:
    message_info: MessageInfo
    errors: tuple[ErrorDetail, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "errors", tuple(self.errors))
        if not self.errors:
            raise ValueError("an error signal carries at least one eb:Error")

    @property
    def message_id(self) -> str:
        return self.message_info.message_id

    @property
    def ref_to_message_id(self) -> str | None:
        """The message in error: MessageInfo/RefToMessageId, else the first eb:Error@refToMessageInError."""
        if self.message_info.ref_to_message_id:
            return self.message_info.ref_to_message_id
        return next((e.ref_to_message_in_error for e in self.errors if e.ref_to_message_in_error), None)

    @property
    def timestamp(self) -> datetime:
        return self.message_info.timestamp

    @property
    def is_failure(self) -> bool:
        return any(e.severity == "failure" for e in self.errors)


SignalUnit = Receipt | EbmsErrorSignal


@dataclass(frozen=True)
class Messaging:
    """The ``eb:Messaging`` header: at most one UserMessage and at most one signal (the ebMS3 core limit,
    which phase4 enforces too), and at least one of them."""

    user_message: UserMessage | None = None
    signal: SignalUnit | None = None
    soap_version: SoapVersion = SoapVersion.SOAP12

    def __post_init__(self) -> None:
        if self.user_message is None and self.signal is None:
            raise ValueError("eb:Messaging carries a UserMessage, a signal, or both")

    @property
    def units(self) -> tuple[UserMessage | SignalUnit, ...]:
        return tuple(u for u in (self.signal, self.user_message) if u is not None)
