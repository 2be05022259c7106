"""The SQL register adapter over the sample Latvian registers, on SQLite and PostgreSQL: unique identity
matching, evidence rendering, no evidence (TC02), register timeout and failure (TC03)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from lxml import etree

from gateway.db.engine import create_engine
from oots.dataservice import latvian_registers as lv
from oots.dataservice.matching import RegisterPerson, match_person, normalise
from oots.dataservice.port import DataServiceError, EvidenceQuery
from oots.dataservice.sql_register import RegisterMapping, SqlRegisterAdapter
from oots.edm.model import Identifier, LegalPerson, NaturalPerson
from tests.conftest import make_settings


@pytest.fixture
async def engine(tmp_path: Path, db_url: str) -> AsyncIterator[object]:
    registers = create_engine(make_settings(tmp_path / "data", db_url))
    await lv.create_sample_registers(registers)
    yield registers
    await registers.dispose()


def adapter(engine, **kwargs) -> SqlRegisterAdapter:  # type: ignore[no-untyped-def]
    return SqlRegisterAdapter(engine, lv.MAPPINGS, person_query=lv.PERSON_QUERY, **kwargs)


ANNA = NaturalPerson("BERZINA", "anna", "1990-01-01", Identifier("LV/DE/ANNA-1", "eidas"), "High")


async def test_diploma_for_a_person_matched_across_transliteration(engine) -> None:  # type: ignore[no-untyped-def]
    (document,) = await adapter(engine).fetch(EvidenceQuery(lv.DIPLOMA, ANNA))
    assert document.identifier == "D-LU-2012-0001" and document.media_type == "application/xml"
    assert document.issuing_date == "2012-06-20" and document.issuing_authority.identifier.value == "90000011588"
    assert document.subject.family_name == "Bērziņa"  # as registered
    root = etree.fromstring(document.content)
    assert root.findtext(f"{{{lv.NS}}}programme") == "Datorzinātnes"


async def test_every_sample_register_answers(engine) -> None:  # type: ignore[no-untyped-def]
    jack = NaturalPerson("Smith", "Jack", "1999-03-01", Identifier("DE/LV/123456789", "eidas"))
    found = {t: await adapter(engine).fetch(EvidenceQuery(t, p)) for t, p in (
        (lv.BIRTH, ANNA), (lv.RESIDENCE, jack), (lv.DIPLOMA, jack),
        (lv.VEHICLE, NaturalPerson("Ozols", "Jānis", "1985-05-15", Identifier("LV/DE/OZOLS-2", "eidas"))))}
    assert {t: len(d) for t, d in found.items() if t != lv.VEHICLE} == {lv.BIRTH: 1, lv.RESIDENCE: 1, lv.DIPLOMA: 1}


async def test_identity_must_match_uniquely(engine) -> None:  # type: ignore[no-untyped-def]
    ozols = NaturalPerson("Ozols", "Jānis", "1985-05-15")
    with pytest.raises(DataServiceError) as ambiguous:
        await adapter(engine).fetch(EvidenceQuery(lv.BIRTH, ozols))
    assert (ambiguous.value.code, ambiguous.value.edm_code) == ("IDENTITY_AMBIGUOUS", "EDM:ERR:0004")
    # The eIDAS identifier the register knows decides: p3 has a birth record, p2 a vehicle.
    (record,) = await adapter(engine).fetch(EvidenceQuery(lv.BIRTH, NaturalPerson(
        "Ozols", "Jānis", "1985-05-15", Identifier("LV/DE/OZOLS-3", "eidas"))))
    assert record.identifier == "B-1985-0420"
    with pytest.raises(DataServiceError) as nobody:
        await adapter(engine).fetch(EvidenceQuery(lv.BIRTH, NaturalPerson("Bērziņa", "Anna", "1990-01-02")))
    assert nobody.value.code == "IDENTITY_NOT_MATCHED"
    with pytest.raises(DataServiceError) as legal:
        await adapter(engine).fetch(EvidenceQuery(lv.BIRTH, LegalPerson("SIA Piemērs")))
    assert legal.value.code == "IDENTITY_NOT_MATCHED"


async def test_no_evidence_for_a_matched_person_is_an_empty_answer(engine) -> None:  # type: ignore[no-untyped-def]
    assert await adapter(engine).fetch(EvidenceQuery(lv.VEHICLE, ANNA)) == []


async def test_register_timeout_and_failure(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DataServiceError) as slow:
        await adapter(engine, timeout_s=0).fetch(EvidenceQuery(lv.DIPLOMA, ANNA))
    assert (slow.value.code, slow.value.edm_code) == ("REGISTRY_TIMEOUT", "EDM:ERR:0005")
    broken = RegisterMapping(lv.DIPLOMA, (), lv.MAPPINGS[0].issuing_authority,
                             "SELECT record_id FROM lv_no_such_table WHERE person_key = :person_key", "X", lv.NS)
    with pytest.raises(DataServiceError) as failed:
        await SqlRegisterAdapter(engine, [broken], person_query=lv.PERSON_QUERY).fetch(EvidenceQuery(lv.DIPLOMA, ANNA))
    assert (failed.value.code, failed.value.edm_code) == ("REGISTRY_ERROR", "EDM:ERR:0008")
    with pytest.raises(DataServiceError) as unknown:
        await adapter(engine).fetch(EvidenceQuery("https://sr.example/other", ANNA))
    assert unknown.value.code == "EVIDENCE_TYPE_UNKNOWN"


def test_name_normalisation_and_matching_rules() -> None:
    assert normalise("Bērziņa-Ozola ") == normalise("berzina ozola") == "berzina ozola"
    a = RegisterPerson("a", "Kalniņš", "Ēriks", "1970-02-02")
    b = RegisterPerson("b", "Kalnins", "Eriks", "1970-02-02", "EE/LV/1")
    request = NaturalPerson("KALNINS", "ERIKS", "1970-02-02", Identifier("EE/LV/1", "eidas"))
    assert match_person(request, [a, b]).key == "b"  # the identifier decides
    with pytest.raises(DataServiceError):
        match_person(NaturalPerson("Kalnins", "Eriks", "1970-02-02"), [a, b])
    other_id = NaturalPerson("Kalnins", "Eriks", "1970-02-02", Identifier("EE/LV/2", "eidas"))
    assert match_person(other_id, [a, b]).key == "a"  # b is known under another identifier
