"""The sample Latvian registers as a remote register answers (shared by the REST and SOAP register services of
the tests): the candidates for a date of birth, and each candidate's records of one evidence type."""

from __future__ import annotations

from typing import Any

from oots.dataservice import latvian_registers as lv

TABLES = {lv.BIRTH: lv.birth, lv.RESIDENCE: lv.residence, lv.VEHICLE: lv.vehicle, lv.DIPLOMA: lv.diploma}
PERSON_FIELDS = ("key", "family_name", "given_name", "date_of_birth", "eidas_identifier")


def lookup(evidence_type: str, date_of_birth: str) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """The register's honest answer: candidates by date of birth, and their records by person key."""
    persons = [{k: p[k] for k in PERSON_FIELDS} for p in lv.SEED[lv.person] if p["date_of_birth"] == date_of_birth]
    keys = {p["key"] for p in persons}
    records: dict[str, list[dict[str, Any]]] = {}
    for row in lv.SEED[TABLES[evidence_type]]:
        if row["person_key"] in keys:
            records.setdefault(row["person_key"], []).append(row)
    return persons, records


def record(record_id: str) -> dict[str, Any] | None:
    for table in TABLES.values():
        for row in lv.SEED[table]:
            if row["record_id"] == record_id:
                return dict(row)
    return None
