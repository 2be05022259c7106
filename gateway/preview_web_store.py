"""What the preview pages show about a preview session, kept from request #1 (table oots_preview_context):
the requested person's minimum data set (for the MDS check, and to fetch the evidence from the data service
while the person looks at it), the procedure, the requester's and the evidence type's names. Never evidence:
the evidence is read from the register on each page and never stored by the preview space."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.db.preview_schema import oots_preview_context
from oots.edm.model import Identifier, NaturalPerson, QueryRequest, Text
from oots.preview.machine import PreviewSession
from preview_space.mds import Mds

EIDAS_SCHEME = "eidas"  # identifiers of requests are eIDAS identifiers (CC/CC/id)


def eidas_scheme(identifier: str) -> str:
    """The scheme of an eIDAS identifier ``<origin>/<destination>/<id>``: the origin country issues a different
    identifier for each destination country, so only identifiers of the same pair can be compared (a person
    who logged in at the Latvian node and previews at a German one carries DE/LV/… in the request, DE/DE/… in
    the preview login)."""
    parts = identifier.split("/")
    if len(parts) >= 3 and len(parts[0]) == 2 and len(parts[1]) == 2:
        return f"{EIDAS_SCHEME}:{parts[0].upper()}/{parts[1].upper()}"
    return EIDAS_SCHEME


@dataclass(frozen=True)
class PreviewContext:
    person: NaturalPerson
    procedure: str | None
    requester_names: tuple[Text, ...]
    evidence_titles: tuple[Text, ...]

    @property
    def requested_mds(self) -> Mds:
        identifier = self.person.identifier.value if self.person.identifier else None
        return Mds(self.person.family_name, self.person.given_name, date.fromisoformat(self.person.date_of_birth),
                   identifier, eidas_scheme(identifier) if identifier else None)


def pick(texts: tuple[Text, ...], lang: str, fallback: str = "") -> str:
    """The text in ``lang`` (EDM languages are upper case), else English, else the first."""
    by_lang = {(t.lang or "").lower(): t.value for t in texts}
    return by_lang.get(lang) or by_lang.get("en") or (texts[0].value if texts else fallback)


def _texts(values: tuple[Text, ...]) -> list[list[str | None]]:
    return [[t.value, t.lang] for t in values]


class PreviewContexts:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def save(self, session: PreviewSession, request: QueryRequest) -> None:
        person = request.natural_person
        if person is None:
            return  # legal persons preview through their representative: not offered by these pages yet
        requester = next((a for a in request.evidence_requesters if a.classification == "ER"),
                         request.evidence_requesters[0])
        body: dict[str, Any] = {
            "person": {"family_name": person.family_name, "given_name": person.given_name,
                       "date_of_birth": person.date_of_birth,
                       "identifier": [person.identifier.value, person.identifier.scheme_id]
                       if person.identifier else None, "loa": person.level_of_assurance},
            "procedure": request.procedure.value if request.procedure else None,
            "requester_names": _texts(requester.names),
            "evidence_titles": _texts(request.evidence_request.titles)}
        async with self.engine.begin() as conn:
            await conn.execute(insert(oots_preview_context).values(
                session_id=session.id, created_at=datetime.now(UTC).isoformat(), body=json.dumps(body)))

    async def get(self, session_id: str) -> PreviewContext | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(oots_preview_context.c.body)
                                      .where(oots_preview_context.c.session_id == session_id))).first()
        if row is None:
            return None
        body = json.loads(row.body)
        p = body["person"]
        identifier = Identifier(p["identifier"][0], p["identifier"][1]) if p["identifier"] else None
        person = NaturalPerson(p["family_name"], p["given_name"], p["date_of_birth"], identifier, p["loa"])
        return PreviewContext(person, body["procedure"], tuple(Text(v, lang) for v, lang in body["requester_names"]),
                              tuple(Text(v, lang) for v, lang in body["evidence_titles"]))

    async def purge(self, before: datetime) -> int:
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(oots_preview_context)
                                        .where(oots_preview_context.c.created_at < before.isoformat()))
        return result.rowcount or 0
