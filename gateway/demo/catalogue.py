"""The demo's common-services catalogue: the node's catalogue (config/oots/common-services.yaml, the Latvian data
services) plus the partner member state: its diploma as an evidence type of the tertiary-education requirement
and its data service behind the partner node's access point."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from oots.commonservices.catalogue import Catalogue, parse_catalogue
from oots.dataservice.demo_partner_registers import DIPLOMA as PARTNER_DIPLOMA

CATALOGUE_FILE = Path(__file__).resolve().parents[2] / "config" / "oots" / "common-services.yaml"
# Procedures of the demo: applying for studies needs a diploma; a foreign registry needs a birth record.
STUDIES = "T2"
BIRTH = "R1"
DIPLOMA_REQUIREMENT = "https://sr.oots.tech.ec.europa.eu/requirements/f8a6a284-34e9-42c7-9733-63b5c4f4aa42"
UNREGISTERED = "urn:oasis:names:tc:ebcore:partyid-type:unregistered"


def demo_catalogue_data(partner_node: str, partner_country: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(CATALOGUE_FILE.read_text(encoding="utf-8"))
    data.pop("_provider", None)
    for requirement in data["requirements"]:
        if requirement["id"] == DIPLOMA_REQUIREMENT:
            requirement["evidence_type_lists"].insert(0, {
                "id": "3f4a5b6c-7d8e-4f90-a1b2-c3d4e5f6a7b8", "name": f"Higher-education diploma ({partner_country})",
                "jurisdiction": partner_country,
                "evidence_types": [{"classification": PARTNER_DIPLOMA,
                                    "title": {"EN": f"Higher-education diploma ({partner_country})",
                                              "LV": f"Augstākās izglītības diploms ({partner_country})"}}]})
    data["data_services"].append({
        "evidence_type": PARTNER_DIPLOMA, "country": partner_country,
        "identifier": "4a5b6c7d-8e9f-4a0b-8c1d-2e3f4a5b6c7d",
        "title": {"EN": f"Higher-education diploma ({partner_country})"},
        "formats": ["application/xml"], "loa": "Substantial", "conforms_to": ["oots-edm:v1.2", "oots-edm:v2.0"],
        "access_service": {"id": partner_node, "scheme": f"{UNREGISTERED}:{partner_country}",
                           "name": f"OOTS gateway {partner_node} (simulated member state)"},
        "publisher": {"id": "DE-KMK-0001", "scheme": "urn:cef.eu:names:identifier:EAS:0204",
                      "name": {"EN": "Standing Conference of the Ministers of Education (demo)"},
                      "country": partner_country}})
    return data


def demo_catalogue(partner_node: str, partner_country: str) -> Catalogue:
    return parse_catalogue(demo_catalogue_data(partner_node, partner_country))
