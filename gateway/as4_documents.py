"""The stored (JSON) form of an ebMS UserMessage: the outbox rebuilds each attempt's message from it, the inbox
hands it to backends. Plain JSON values only, so PostgreSQL and SQLite keep the same text."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from as4.model import (
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


def party_document(party: Party) -> dict[str, Any]:
    return {"ids": [[p.value, p.type] for p in party.party_ids], "role": party.role}


def _party(doc: dict[str, Any]) -> Party:
    return Party(tuple(PartyId(value, kind) for value, kind in doc["ids"]), doc["role"])


def message_document(message: UserMessage) -> dict[str, Any]:
    collab = message.collaboration_info
    ref = collab.agreement_ref
    return {
        "message_id": message.message_id, "timestamp": message.timestamp.isoformat(),
        "ref_to_message_id": message.message_info.ref_to_message_id,
        "from": party_document(message.party_info.from_party), "to": party_document(message.party_info.to_party),
        "service": [collab.service.value, collab.service.type], "action": collab.action,
        "conversation_id": collab.conversation_id,
        "agreement_ref": [ref.value, ref.type, ref.pmode] if ref is not None else None,
        "properties": [[p.name, p.value, p.type] for p in message.message_properties],
    }


def message_from_document(doc: dict[str, Any]) -> UserMessage:
    ref = doc["agreement_ref"]
    return UserMessage(
        MessageInfo(datetime.fromisoformat(doc["timestamp"]), doc["message_id"], doc.get("ref_to_message_id")),
        PartyInfo(_party(doc["from"]), _party(doc["to"])),
        CollaborationInfo(Service(*doc["service"]), doc["action"], doc["conversation_id"],
                          AgreementRef(*ref) if ref is not None else None),
        tuple(Property(*p) for p in doc["properties"]),
    )


def pmode_party(party: Any) -> Party:
    """The Party a PModeParty names (one PartyId)."""
    return Party((PartyId(party.party_id, party.party_id_type),), party.role)


def backend_view(message: UserMessage) -> dict[str, Any]:
    """What a backend sees of a received message's header (JSON for the API and webhooks)."""
    info, collab = message.party_info, message.collaboration_info
    return {
        "message_id": message.message_id, "timestamp": message.timestamp.isoformat(),
        "ref_to_message_id": message.message_info.ref_to_message_id,
        "from": party_document(info.from_party), "to": party_document(info.to_party),
        "service": {"value": collab.service.value, "type": collab.service.type}, "action": collab.action,
        "conversation_id": collab.conversation_id,
        "agreement_ref": collab.agreement_ref.value if collab.agreement_ref is not None else None,
        "properties": [{"name": p.name, "value": p.value, "type": p.type} for p in message.message_properties],
    }
