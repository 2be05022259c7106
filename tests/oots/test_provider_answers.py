"""Provider answers built from the sample registers validate (own rules; v1.0 also official artifacts) and
cross-validate against their requests, for every EDM version."""

from __future__ import annotations

import dataclasses
import itertools
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.db.engine import create_engine
from oots.dataservice import latvian_registers as lv
from oots.dataservice.port import EvidenceQuery
from oots.dataservice.sql_register import SqlRegisterAdapter
from oots.edm import V1_2, V2_0, VERSIONS, Text, parse_message, to_bytes
from oots.edm.model import Identifier, NaturalPerson
from oots.provider.answers import evidence_response, exception_response
from oots.validation import validate_bytes
from oots.validation.cross import cross_check
from tests.conftest import make_settings
from tests.oots import samples

ANNA = NaturalPerson("Berzina", "Anna", "1990-01-01", Identifier("LV/DE/ANNA-1", "eidas"), "High")


@pytest.fixture
async def registers(tmp_path: Path) -> AsyncIterator[SqlRegisterAdapter]:
    engine = create_engine(make_settings(tmp_path / "data", f"sqlite:///{tmp_path / 'registers.db'}"))
    await lv.create_sample_registers(engine)
    yield SqlRegisterAdapter(engine, lv.MAPPINGS, person_query=lv.PERSON_QUERY)
    await engine.dispose()


def ids():  # type: ignore[no-untyped-def]
    counter = itertools.count(1)
    return lambda: str(uuid.UUID(int=next(counter), version=4))


# v1.0's official Schematron accepts only the old sr.oots.tech.europa.eu host (R-EDM-RESP-C017), which the
# register's current classifications do not use: the register answers are checked for v1.2 and v2.0.
@pytest.mark.parametrize("version", [V1_2, V2_0], ids=lambda v: v.label)
async def test_evidence_answer_validates_and_matches_its_request(version, registers) -> None:  # type: ignore[no-untyped-def]
    request = samples.request(version, natural_person=ANNA, evidence_request=dataclasses.replace(
        samples.evidence_type(version), classification=lv.DIPLOMA))
    documents = await registers.fetch(EvidenceQuery(lv.DIPLOMA, ANNA))
    provider = samples.PROVIDER
    response, parts = evidence_response(request, documents, provider=provider, now=samples.NOW, new_id=ids(),
                                        part_domain="gw.example.lv")
    data = to_bytes(response)
    report = validate_bytes(data, version.label)
    assert report.valid, [f.as_dict() for f in report.findings if f.fatal]
    assert cross_check(request, parse_message(data)) == []
    (part,) = parts
    assert response.evidence[0].repository_item.href == f"cid:{part.content_id}"  # type: ignore[union-attr]
    assert part.content == documents[0].content and part.media_type == "application/xml"
    assert (response.evidence[0].classification_node == "MainEvidence") == version.evidence_in_packages


@pytest.mark.parametrize("version", list(VERSIONS.values()), ids=lambda v: v.label)
def test_exception_answers_validate(version) -> None:  # type: ignore[no-untyped-def]
    request = samples.request(version)
    for code, location in (("EDM:ERR:0004", None), ("EDM:ERR:0005", None),
                           ("EDM:ERR:0002", "https://preview.gw.example.lv/p/token")):
        answer = exception_response(request, code, provider=samples.PROVIDER, now=samples.NOW, new_id=ids(),
                                    preview_location=location,
                                    preview_description=(Text("Review your diploma", "EN"),) if location else ())
        data = to_bytes(answer)
        assert validate_bytes(data, version.label).valid
        assert cross_check(request, parse_message(data)) == []
    empty, parts = evidence_response(request, [], provider=samples.PROVIDER, now=samples.NOW, new_id=ids(),
                                     part_domain="gw.example.lv")
    assert parts == [] and validate_bytes(to_bytes(empty)).valid
