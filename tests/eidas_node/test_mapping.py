"""Identity mapping on the SQL person register (SQLite and PostgreSQL) with the real audit log."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from eidas_node.identity import ForeignIdentity, LegalPerson, NaturalPerson
from eidas_node.mapping import IdentityMapper, MappingRefused, RegisterPerson
from eidas_node.names import name_keys, names_match
from gateway.db.schema import audit_record
from gateway.eidas_register import AuditLogSink, SqlPersonRegister
from gateway.runtime import Node

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
REGISTER = [
    RegisterPerson("010170-10001", "natural", "Mueller", "Juergen", date(1970, 1, 1), "register"),
    RegisterPerson("150679-10002", "natural", "Ivanov", "Ivan", date(1979, 6, 15), "register"),
    RegisterPerson("090482-10003", "natural", "Papadopoulos", "Georgios", date(1982, 4, 9), "register"),
    RegisterPerson("251085-10004", "natural", "Strauss", "Johann", date(1985, 10, 25), "register"),
    # Two people the minimum data set cannot tell apart.
    RegisterPerson("010190-10005", "natural", "Berzina", "Anna", date(1990, 1, 1), "register"),
    RegisterPerson("010190-10006", "natural", "Bērziņa", "Anna", date(1990, 1, 1), "register"),
]


def _person(pid: str, family: str, given: str, born: date, country: str = "DE") -> ForeignIdentity:
    return ForeignIdentity(country, f"https://eidas.{country.lower()}/md", "http://eidas.europa.eu/LoA/high", NOW,
                           pid, natural=NaturalPerson(pid, family, given, born))


async def _setup(node: Node, unmatched: str = "refuse") -> IdentityMapper:
    register = SqlPersonRegister(node.engine)
    for person in REGISTER:
        await register.add(person, NOW)
    return IdentityMapper(register, AuditLogSink(node.audit), unmatched=unmatched)  # type: ignore[arg-type]


async def _audit(node: Node) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    async with node.engine.connect() as conn:
        rows = (await conn.execute(select(audit_record.c.event, audit_record.c.details)
                                   .where(audit_record.c.event.like("eidas.%")).order_by(audit_record.c.seq))).all()
    return [(event, json.loads(details)) for event, details in rows]


def test_name_keys_transliteration() -> None:
    assert names_match("Müller", "Mueller") and names_match("Müller", "Muller")
    assert names_match("Strauß", "STRAUSS") and names_match("Größ", "Gross")
    assert names_match("Иванов", "Ivanov") and names_match("Юлия", "Yuliya") and names_match("Юлия", "Iuliia")
    assert names_match("Παπαδόπουλος", "Papadopoulos") and names_match("Γεώργιος", "georgios")
    assert names_match("Bērziņa", "Berzina") and names_match("Jean-Luc", "Jean Luc")
    assert not names_match("Müller", "Miller") and not names_match("Ivanov", "Ivanova")
    assert name_keys("") == frozenset()


@pytest.mark.parametrize(("family", "given", "born", "expected"), [
    ("Müller", "Jürgen", date(1970, 1, 1), "010170-10001"),
    ("Иванов", "Иван", date(1979, 6, 15), "150679-10002"),
    ("Παπαδόπουλος", "Γεώργιος", date(1982, 4, 9), "090482-10003"),
    ("Strauß", "Johann", date(1985, 10, 25), "251085-10004"),
])
async def test_unique_mds_match_links(node: Node, family: str, given: str, born: date, expected: str) -> None:
    mapper = await _setup(node)
    identity = _person("DE/LV/x1", family, given, born)
    mapped = await mapper.map(identity, NOW, correlation="c-1")
    assert (mapped.national_id, mapped.how) == (expected, "mds")
    # The link now wins, even after a name change abroad.
    renamed = replace(identity, natural=replace(identity.natural, family_name="Schmidt"))  # type: ignore[type-var]
    assert (await mapper.map(renamed, NOW)).how == "link"
    events = await _audit(node)
    assert [e for e, _ in events] == ["eidas.identity.matched", "eidas.identity.matched"]
    assert events[0][1]["how"] == "mds" and events[0][1]["national_id"] == expected


async def test_same_date_other_name_or_other_date_is_no_match(node: Node) -> None:
    mapper = await _setup(node)
    for identity in (_person("DE/LV/x2", "Miller", "Jürgen", date(1970, 1, 1)),
                     _person("DE/LV/x3", "Müller", "Jürgen", date(1970, 1, 2))):
        with pytest.raises(MappingRefused) as refused:
            await mapper.map(identity, NOW)
        assert refused.value.code == "EIDAS_MAPPING_NO_MATCH"
    assert [e for e, _ in await _audit(node)] == ["eidas.identity.refused"] * 2


async def test_no_match_registers_under_register_policy(node: Node) -> None:
    mapper = await _setup(node, "register")
    identity = _person("EE/LV/38001010000", "Tamm", "Mari", date(1995, 12, 1), "EE")
    first = await mapper.map(identity, NOW)
    assert first.how == "registered" and first.national_id.startswith("32")
    again = await mapper.map(identity, NOW)
    assert (again.how, again.national_id) == ("link", first.national_id)
    events = await _audit(node)
    assert [e for e, _ in events] == ["eidas.identity.registered", "eidas.identity.matched"]


async def test_ambiguous_match_refused_and_not_linked(node: Node) -> None:
    for policy in ("refuse", "register"):
        mapper = IdentityMapper(SqlPersonRegister(node.engine), AuditLogSink(node.audit), unmatched=policy)  # type: ignore[arg-type]
        if policy == "refuse":
            mapper = await _setup(node)
        with pytest.raises(MappingRefused) as refused:
            await mapper.map(_person("LT/LV/y1", "BERZINA", "Anna", date(1990, 1, 1), "LT"), NOW)
        assert refused.value.code == "EIDAS_MAPPING_AMBIGUOUS"
        assert await mapper.register.linked("LT/LV/y1") is None
    events = await _audit(node)
    assert [e for e, _ in events] == ["eidas.identity.refused"] * 2
    assert events[0][1]["candidates"] == 2


async def test_legal_person_by_identifier(node: Node) -> None:
    mapper = await _setup(node, "register")
    identity = replace(_person("DE/LV/x9", "Müller", "Jürgen", date(1970, 1, 1)),
                       legal=LegalPerson("DE/LV/HRB-1", "Muster GmbH"))
    mapped = await mapper.map(identity, NOW)
    assert mapped.national_id == "010170-10001" and mapped.legal_national_id
    again = await mapper.map(identity, NOW)
    assert again.legal_national_id == mapped.legal_national_id
    strict = IdentityMapper(mapper.register, mapper.audit, unmatched="refuse")
    with pytest.raises(MappingRefused):
        await strict.map(replace(identity, legal=LegalPerson("DE/LV/HRB-2", "Other GmbH")), NOW)
