"""The demo's partner member state (a simulated German node): a higher-education diploma register whose people
are the test users of the foreign eIDAS simulator (eidas_node/simulator/users.py), so a user who logs in with
a simulated German eID finds a diploma of theirs abroad. Same table layout as the Latvian sample registers (the
SQL adapter and its person query are shared); only the evidence type, the authority and the rows differ."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from oots.dataservice.latvian_registers import NS, PERSON_QUERY, diploma, metadata, person
from oots.dataservice.sql_register import RegisterMapping
from oots.edm.model import Address, Agent, Identifier, Text

__all__ = ["DIPLOMA", "MAPPINGS", "PERSON_QUERY", "create_partner_registers"]

DIPLOMA = "https://sr.oots.tech.ec.europa.eu/evidencetypeclassifications/DE/7c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
AUTHORITY = Agent(Identifier("DE-KMK-0001", "urn:cef.eu:names:identifier:EAS:0204"),
                  (Text("Standing Conference of the Ministers of Education (demo)", "EN"),),
                  Address(admin_unit_level_1="DE"))

MAPPINGS = (
    RegisterMapping(DIPLOMA, (Text("Higher-education diploma (Germany)", "EN"),
                              Text("Augstākās izglītības diploms (Vācija)", "LV")), AUTHORITY,
                    "SELECT record_id, issued_on, institution, programme, degree FROM lv_diploma "
                    "WHERE person_key = :person_key ORDER BY record_id", "Diploma", NS),
)

# The simulator's German users (names, dates of birth) with a diploma each; Johann Strauß has none (TC02-like).
SEED = {
    person: [
        {"key": "de1", "personal_code": None, "family_name": "Mustermann", "given_name": "Erika",
         "date_of_birth": "1964-08-12", "eidas_identifier": None},
        {"key": "de2", "personal_code": None, "family_name": "Müller", "given_name": "Jürgen",
         "date_of_birth": "1970-01-31", "eidas_identifier": None},
        {"key": "de3", "personal_code": None, "family_name": "Strauß", "given_name": "Johann",
         "date_of_birth": "1985-10-25", "eidas_identifier": None},
    ],
    diploma: [
        {"record_id": "DE-HU-1988-0412", "person_key": "de1", "institution": "Humboldt-Universität zu Berlin",
         "programme": "Mathematik", "degree": "Diplom", "issued_on": "1988-07-15"},
        {"record_id": "DE-TUM-1995-1203", "person_key": "de2", "institution": "Technische Universität München",
         "programme": "Maschinenbau", "degree": "Diplom-Ingenieur", "issued_on": "1995-09-30"},
    ],
}


async def create_partner_registers(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: metadata.create_all(sync, tables=list(SEED)))
        for table, rows in SEED.items():
            await conn.execute(table.insert(), rows)
