"""Sample Latvian registers for the SQL adapter (demo and tests): persons, birth records (PMLP), declared
residence (municipalities), vehicle registrations (CSDD) and higher-education diplomas (IZM). Tables are
prefixed ``lv_`` and live in the register's own database; dates are ISO strings (portable SQLite/PostgreSQL).
The evidence-type classifications match config/oots/common-services.yaml."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from oots.dataservice.sql_register import RegisterMapping
from oots.edm.model import Address, Agent, Identifier, Text

_ET = "https://sr.oots.tech.ec.europa.eu/evidencetypeclassifications/LV/"
BIRTH = _ET + "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d"
RESIDENCE = _ET + "3d4e5f60-7182-4c9d-8e0f-2a3b4c5d6e7f"
VEHICLE = _ET + "5f607182-93a4-4e1f-8a2b-4c5d6e7f8091"
DIPLOMA = _ET + "6a1f2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"
NS = "urn:x-gateway:lv-registers"
_EAS_LV = "urn:cef.eu:names:identifier:EAS:9939"

metadata = sa.MetaData()
_S = sa.String
person = sa.Table("lv_person", metadata, sa.Column("key", _S(32), primary_key=True),
                  sa.Column("personal_code", _S(16)), sa.Column("family_name", _S(100), nullable=False),
                  sa.Column("given_name", _S(100), nullable=False), sa.Column("date_of_birth", _S(10), nullable=False),
                  sa.Column("eidas_identifier", _S(256)), sa.Index("ix_lv_person_dob", "date_of_birth"))
birth = sa.Table("lv_birth_record", metadata, sa.Column("record_id", _S(32), primary_key=True),
                 sa.Column("person_key", _S(32), nullable=False), sa.Column("place_of_birth", _S(100)),
                 sa.Column("mother", _S(200)), sa.Column("father", _S(200)), sa.Column("issued_on", _S(10)))
residence = sa.Table("lv_declared_residence", metadata, sa.Column("record_id", _S(32), primary_key=True),
                     sa.Column("person_key", _S(32), nullable=False), sa.Column("address", _S(300)),
                     sa.Column("municipality", _S(100)), sa.Column("nuts3", _S(8)), sa.Column("issued_on", _S(10)))
vehicle = sa.Table("lv_vehicle_registration", metadata, sa.Column("record_id", _S(32), primary_key=True),
                   sa.Column("person_key", _S(32), nullable=False), sa.Column("plate", _S(10)),
                   sa.Column("vin", _S(17)), sa.Column("make", _S(50)), sa.Column("model", _S(50)),
                   sa.Column("issued_on", _S(10)))
diploma = sa.Table("lv_diploma", metadata, sa.Column("record_id", _S(32), primary_key=True),
                   sa.Column("person_key", _S(32), nullable=False), sa.Column("institution", _S(200)),
                   sa.Column("programme", _S(200)), sa.Column("degree", _S(100)), sa.Column("issued_on", _S(10)))

PERSON_QUERY = ("SELECT key, family_name, given_name, date_of_birth, eidas_identifier FROM lv_person "
                "WHERE date_of_birth = :date_of_birth")


def authority(code: str, en: str, lv: str | None = None) -> Agent:
    """A Latvian authority by its register code (EAS 9939), named in English and, when given, Latvian."""
    names = (Text(en, "EN"),) + ((Text(lv, "LV"),) if lv else ())
    return Agent(Identifier(code, _EAS_LV), names, Address(admin_unit_level_1="LV"))


MAPPINGS = (
    RegisterMapping(BIRTH, (Text("Birth record", "EN"), Text("Dzimšanas reģistra ieraksts", "LV")),
                    authority("90000012869", "Office of Citizenship and Migration Affairs",
                               "Pilsonības un migrācijas lietu pārvalde"),
                    "SELECT record_id, issued_on, place_of_birth, mother, father FROM lv_birth_record "
                    "WHERE person_key = :person_key ORDER BY record_id", "BirthRecord", NS, "High"),
    RegisterMapping(RESIDENCE, (Text("Declared place of residence", "EN"), Text("Deklarētā dzīvesvieta", "LV")),
                    authority("90011524360", "Riga City Council", "Rīgas domes"),
                    "SELECT record_id, issued_on, address, municipality, nuts3 FROM lv_declared_residence "
                    "WHERE person_key = :person_key ORDER BY record_id", "DeclaredResidence", NS),
    RegisterMapping(VEHICLE, (Text("Vehicle registration certificate", "EN"),),
                    authority("40003345834", "Road Traffic Safety Directorate", "Ceļu satiksmes drošības direkcija"),
                    "SELECT record_id, issued_on, plate, vin, make, model FROM lv_vehicle_registration "
                    "WHERE person_key = :person_key ORDER BY record_id", "VehicleRegistration", NS),
    RegisterMapping(DIPLOMA, (Text("Higher-education diploma", "EN"), Text("Augstākās izglītības diploms", "LV")),
                    authority("90000011588", "Ministry of Education and Science",
                               "Izglītības un zinātnes ministrija"),
                    "SELECT record_id, issued_on, institution, programme, degree FROM lv_diploma "
                    "WHERE person_key = :person_key ORDER BY record_id", "Diploma", NS),
)

# Made-up people. Two "Jānis Ozols" share a birthday (an ambiguous match unless an eIDAS id decides);
# Anna Bērziņa studied and lives in Riga; Jack Smith is a foreign resident known by his eIDAS identifier.
SEED = {
    person: [
        {"key": "p1", "personal_code": "010190-10001", "family_name": "Bērziņa", "given_name": "Anna",
         "date_of_birth": "1990-01-01", "eidas_identifier": None},
        {"key": "p2", "personal_code": "150585-10002", "family_name": "Ozols", "given_name": "Jānis",
         "date_of_birth": "1985-05-15", "eidas_identifier": None},
        {"key": "p3", "personal_code": "150585-10003", "family_name": "Ozols", "given_name": "Jānis",
         "date_of_birth": "1985-05-15", "eidas_identifier": "LV/DE/OZOLS-3"},
        {"key": "p4", "personal_code": "320399-10004", "family_name": "Smith", "given_name": "Jack",
         "date_of_birth": "1999-03-01", "eidas_identifier": "DE/LV/123456789"},
    ],
    birth: [{"record_id": "B-1990-0001", "person_key": "p1", "place_of_birth": "Rīga", "mother": "Ilze Bērziņa",
             "father": "Pēteris Bērziņš", "issued_on": "1990-01-05"},
            {"record_id": "B-1985-0420", "person_key": "p3", "place_of_birth": "Liepāja", "mother": "Dace Ozola",
             "father": "Andris Ozols", "issued_on": "1985-05-20"}],
    residence: [{"record_id": "R-2019-7788", "person_key": "p1", "address": "Brīvības iela 1, Rīga, LV-1010",
                 "municipality": "Rīga", "nuts3": "LV006", "issued_on": "2019-09-01"},
                {"record_id": "R-2024-0101", "person_key": "p4", "address": "Valdemāra iela 5, Rīga, LV-1010",
                 "municipality": "Rīga", "nuts3": "LV006", "issued_on": "2024-02-01"}],
    vehicle: [{"record_id": "V-AB1234", "person_key": "p2", "plate": "AB-1234", "vin": "WVWZZZ1JZXW000001",
               "make": "Volkswagen", "model": "Golf", "issued_on": "2015-06-01"}],
    diploma: [{"record_id": "D-LU-2012-0001", "person_key": "p1", "institution": "Latvijas Universitāte",
               "programme": "Datorzinātnes", "degree": "Bakalaurs", "issued_on": "2012-06-20"},
              {"record_id": "D-RTU-2021-0099", "person_key": "p4", "institution": "Rīgas Tehniskā universitāte",
               "programme": "Computer Systems", "degree": "Master", "issued_on": "2021-06-18"}],
}


async def create_sample_registers(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        for table, rows in SEED.items():
            await conn.execute(table.insert(), rows)
