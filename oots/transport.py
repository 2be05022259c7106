"""OOTS over AS4, the header side (pure): the ebMS UserMessage that carries an EDM message, and the checks of
a received one against the EDM it carries (the EC validator's "message ↔ ebMS header" pair).

Service ``QueryManager`` (type ``urn:oasis:names:tc:ebcore:ebrs:ebms:binding:1.0``), actions
ExecuteQueryRequest / ExecuteQueryResponse / ExceptionResponse, both parties in role
``http://sdg.europa.eu/edelivery/gateway``, ``originalSender`` / ``finalRecipient`` typed with the agents'
schemes, v2.0 adds ``ExchangeId`` and ``SpecificationId``; the RegRep document is the part of MIME type
``application/x-ebrs+xml`` and evidence travel as further parts. TDD 1.x partners speak eDelivery AS4 1.15,
TDD 2.0 partners AS4 2.0: the profile follows the EDM version of the partner's access service.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from as4.model import (
    MIME_TYPE,
    CollaborationInfo,
    MessageInfo,
    PartInfo,
    Party,
    PartyId,
    PartyInfo,
    Property,
    Service,
    UserMessage,
)
from as4.profiles import EDELIVERY_1_15, EDELIVERY_2_0, As4Profile
from oots.edm.model import Agent, EdmMessage, ExceptionResponse, QueryRequest, QueryResponse
from oots.provider.answers import EvidencePart

SERVICE = Service("QueryManager", "urn:oasis:names:tc:ebcore:ebrs:ebms:binding:1.0")
ROLE = "http://sdg.europa.eu/edelivery/gateway"
REGREP_MIME = "application/x-ebrs+xml"
EXCHANGE_ID, SPECIFICATION_ID = "ExchangeId", "SpecificationId"
ACTIONS = {QueryRequest: "ExecuteQueryRequest", QueryResponse: "ExecuteQueryResponse",
           ExceptionResponse: "ExceptionResponse"}
AS4_PROFILES: dict[str, As4Profile] = {"oots-edm:v1.0": EDELIVERY_1_15, "oots-edm:v1.2": EDELIVERY_1_15,
                                       "oots-edm:v2.0": EDELIVERY_2_0}


class TransportError(ValueError):
    """``code``: OOTS_AS4_* (stable); ``ebms_code`` is the ebMS error to answer a received message with."""

    def __init__(self, code: str, message: str, ebms_code: str = "EBMS:0003") -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.ebms_code = ebms_code


@dataclass(frozen=True)
class Route:
    """Who talks to whom: our and their access point (their id from the DSD AccessService/Identifier, or
    SMP discovery), and the four-corner end points (originalSender, finalRecipient)."""

    our_party: PartyId
    their_party: PartyId
    original_sender: Agent
    final_recipient: Agent


def _corner(name: str, agent: Agent) -> Property:
    return Property(name, agent.identifier.value, agent.identifier.scheme_id)


def user_message_for(message: EdmMessage, route: Route, *, message_id: str, conversation_id: str, now: datetime,
                     regrep_content_id: str, evidence_parts: Sequence[EvidencePart] = (),
                     exchange_id: str | None = None, ref_to_message_id: str | None = None) -> UserMessage:
    version = message.version
    properties = [_corner("originalSender", route.original_sender), _corner("finalRecipient", route.final_recipient)]
    if version.evidence_in_packages:  # v2.0
        if not exchange_id:
            raise TransportError("OOTS_AS4_EXCHANGE_ID", "oots-edm:v2.0 needs an ExchangeId")
        properties += [Property(EXCHANGE_ID, exchange_id), Property(SPECIFICATION_ID, version.specification_id)]
    if isinstance(message, QueryResponse):
        referenced = {i.repository_item.content_id for i in message.evidence if i.repository_item is not None}
        carried = {p.content_id for p in evidence_parts}
        if referenced != carried:
            raise TransportError("OOTS_AS4_PARTS", f"evidence references {sorted(referenced)} but parts carry "
                                                   f"{sorted(carried)}")
    elif evidence_parts:
        raise TransportError("OOTS_AS4_PARTS", f"a {type(message).__name__} carries no evidence")
    payload = [PartInfo(f"cid:{regrep_content_id}", (Property(MIME_TYPE, REGREP_MIME),))]
    payload += [PartInfo(f"cid:{p.content_id}", (Property(MIME_TYPE, p.media_type),)) for p in evidence_parts]
    return UserMessage(
        message_info=MessageInfo(now, message_id, ref_to_message_id),
        party_info=PartyInfo(Party((route.our_party,), ROLE), Party((route.their_party,), ROLE)),
        collaboration_info=CollaborationInfo(SERVICE, ACTIONS[type(message)], conversation_id),
        message_properties=tuple(properties),
        payload_info=tuple(payload),
    )


def regrep_part(user_message: UserMessage) -> PartInfo:
    """The one payload that is the RegRep document."""
    found = [p for p in user_message.payload_info if (p.mime_type or "").split(";")[0].strip() == REGREP_MIME]
    if len(found) != 1:
        raise TransportError("OOTS_AS4_REGREP_PART", f"{len(found)} parts of type {REGREP_MIME}; exactly one needed")
    return found[0]


def check_header(user_message: UserMessage, message: EdmMessage) -> list[str]:
    """Problems of a received UserMessage with the EDM message it carries (empty when consistent)."""
    problems = []
    info = user_message.collaboration_info
    if (info.service.value, info.service.type) != (SERVICE.value, SERVICE.type):
        problems.append(f"service {info.service.value!r} ({info.service.type}) is not QueryManager")
    if info.action != ACTIONS[type(message)]:
        problems.append(f"action {info.action!r} does not carry a {type(message).__name__}")
    for party in (user_message.party_info.from_party, user_message.party_info.to_party):
        if party.role != ROLE:
            problems.append(f"role {party.role!r} is not {ROLE}")
    for name in ("originalSender", "finalRecipient"):
        if user_message.message_property(name) is None:
            problems.append(f"message property {name} is missing")
    version = message.version
    if version.evidence_in_packages:
        if user_message.message_property(EXCHANGE_ID) is None:
            problems.append("oots-edm:v2.0 needs the ExchangeId property")
        spec = user_message.message_property(SPECIFICATION_ID)
        if spec is None or spec.value != version.specification_id:
            problems.append(f"SpecificationId must be {version.specification_id}")
    if isinstance(message, QueryRequest):
        recipient = user_message.final_recipient
        if recipient is not None and recipient.value != message.evidence_provider.identifier.value:
            problems.append(f"finalRecipient {recipient.value!r} is not the EvidenceProvider "
                            f"{message.evidence_provider.identifier.value!r}")
    if isinstance(message, QueryResponse):
        carried = {p.content_id for p in user_message.payload_info}
        for item in message.evidence:
            if item.repository_item is not None and item.repository_item.content_id not in carried:
                problems.append(f"evidence {item.id} refers to {item.repository_item.href}, which is not a part")
    return problems
