"""The demo's parts without processes: texts in both languages, the evidence view, the demo catalogue, the
partner's register (the eIDAS simulator's German users) and the launcher's command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from eidas_node.simulator.users import default_users
from gateway.demo.__main__ import parse
from gateway.demo.catalogue import DIPLOMA_REQUIREMENT, demo_catalogue
from gateway.demo.evidence import render_evidence
from gateway.demo.network import PARTNER_COUNTRY, PARTNER_NODE, Ports
from gateway.demo.texts import FIELDS, TEXTS
from oots.dataservice.demo_partner_registers import DIPLOMA, MAPPINGS, PERSON_QUERY, create_partner_registers
from oots.dataservice.port import DataServiceError, EvidenceQuery
from oots.dataservice.sql_register import SqlRegisterAdapter
from oots.edm.model import Identifier, NaturalPerson


def test_every_text_in_both_languages() -> None:
    assert set(TEXTS["lv"]) == set(TEXTS["en"])
    assert all(set(labels) == {"lv", "en"} for labels in FIELDS.values())


def test_evidence_view() -> None:
    xml = b'<Diploma xmlns="urn:x"><record_id>D-1</record_id><institution>TU &amp; M</institution></Diploma>'
    meta = {"title": [{"lang": "EN", "value": "Diploma"}, {"lang": "LV", "value": "Diploms"}],
            "issuing_authority": "DE-KMK-0001"}
    assert render_evidence(xml, "application/xml", meta, "lv") == (
        "Diploms", "DE-KMK-0001", [("Ieraksta numurs", "D-1"), ("Izglītības iestāde", "TU & M")])
    assert render_evidence(b"%PDF-1.7", "application/pdf", meta, "en") == ("Diploma", "DE-KMK-0001", [])
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'  # the hardened parser refuses it: no rows, no crash
    assert render_evidence(bomb, "application/xml", {}, "en")[2] == []


def test_demo_catalogue_routes_the_diploma_to_the_partner() -> None:
    catalogue = demo_catalogue(PARTNER_NODE, PARTNER_COUNTRY)
    types = catalogue.evidence_types_for(DIPLOMA_REQUIREMENT, PARTNER_COUNTRY)
    assert types[0].evidence_type_lists[0].jurisdiction == PARTNER_COUNTRY
    offers = catalogue.data_services_for(DIPLOMA, PARTNER_COUNTRY, {})
    assert [s.identifier.value for s in offers[0].access_services] == [PARTNER_NODE]


async def test_partner_register_knows_the_simulators_german_users(tmp_path: Path) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'partner.db'}")
    try:
        await create_partner_registers(engine)
        adapter = SqlRegisterAdapter(engine, MAPPINGS, person_query=PERSON_QUERY)
        users = default_users("DE")
        found = {}
        for name, user in users.items():
            person = NaturalPerson(user.family_name, user.given_name, user.date_of_birth,
                                   Identifier(user.person_identifier, "eidas"), "Substantial")
            try:
                found[name] = [d.identifier for d in await adapter.fetch(EvidenceQuery(DIPLOMA, person))]
            except DataServiceError as exc:
                found[name] = [exc.edm_code]
        assert found["erika"] and found["juergen"], found
        assert found["strauss"] == [], found  # matched, but no diploma of his: nothing to release
    finally:
        await engine.dispose()


def test_command_line() -> None:
    assert parse(["--port", "9000"]) == (Path("data/demo"), Ports(9000, 9001, 9002, 9003, 9004, 9005))
    assert parse(["--data", "x", "--ports", "1,2,3,4,5,6"])[1] == Ports(1, 2, 3, 4, 5, 6)
    with pytest.raises(SystemExit):
        parse(["--ports", "1,2,3"])
