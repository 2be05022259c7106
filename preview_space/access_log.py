"""The user's access log as a pure projection of audit records: one entry per request for the person's data.

The audit log is the only source (it is hash-chained, so what the person sees is what the node recorded).
Records are selected by the person's subject hash (the audit log stores only the hash of the subject) and the
``oots.preview.*`` events of one preview session are folded into one entry: when it was opened, by which
requester, for which evidence type and procedure, and the last known state as the decision. Details are read
as JSON text exactly as stored; unknown events are ignored so that new event kinds do not break the page.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Protocol

PREFIX = "oots.preview."


class RecordLike(Protocol):
    ts: str
    event: str
    subject_hash: str | None
    details: str


@dataclass(frozen=True)
class AccessEntry:
    session: str
    when: str  # timestamp of the first record of the session (ISO 8601, as in the audit log)
    requester: str
    evidence_type: str
    procedure: str | None
    decision: str  # the session's last state: awaiting_user, accepted, declined, abandoned, timed_out, ...


def access_log(records: Iterable[RecordLike], subject_hash: str) -> list[AccessEntry]:
    """Entries for ``subject_hash``, newest first."""
    entries: dict[str, AccessEntry] = {}
    for record in records:
        if record.subject_hash != subject_hash or not record.event.startswith(PREFIX):
            continue
        try:
            details = json.loads(record.details)
        except ValueError:
            continue  # a record we cannot read is skipped rather than shown half-understood
        if not isinstance(details, dict) or not isinstance(details.get("session"), str):
            continue
        sid = details["session"]
        state = str(details.get("state", ""))
        known = entries.get(sid)
        if known is None:
            entries[sid] = AccessEntry(session=sid, when=record.ts, requester=str(details.get("requester", "")),
                                       evidence_type=str(details.get("evidence_type", "")),
                                       procedure=_opt(details.get("procedure")), decision=state)
        elif state:
            entries[sid] = replace(known, decision=state,
                                   procedure=known.procedure or _opt(details.get("procedure")))
    return sorted(entries.values(), key=lambda e: e.when, reverse=True)


def _opt(value: object) -> str | None:
    return str(value) if value else None
