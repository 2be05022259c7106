"""The common-services catalogue (YAML) and the answers it gives: what the simulator serves.

    procedures:            {T2: [<requirement id>, ...]}
    requirements:          [{id, name, description?, evidence_type_lists: [{id, name, jurisdiction?,
                              evidence_types: [{classification, title, description?}]}]}]
    data_services:         [{evidence_type: <classification>, country, identifier, title, formats: [...],
                             loa?, conforms_to: [oots-edm:v1.2], access_service: {id, scheme, name?},
                             publisher: {id, scheme, name, country},
                             requires?: {<concept id>: {type, description, values: [...]}},
                             match?: {<concept id>: <value>}}]

A data service with ``match`` is chosen only when the query carries that answer; when the query lacks an
answer some candidate needs, the DSD answers DSD:ERR:0005 with the concepts to ask the user.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from oots.commonservices.model import (
    AccessService,
    AdditionalInputRequired,
    ClassificationConcept,
    CommonServicesError,
    DataServiceOffer,
    EvidenceTypeInfo,
    EvidenceTypeList,
    ReferenceFramework,
    RequirementInfo,
)
from oots.edm.model import Address, Agent, Distribution, EvidenceTypeRef, Identifier, Text


class CatalogueError(ValueError):
    code = "CS_CATALOGUE_INVALID"


@dataclass(frozen=True)
class _Service:
    country: str
    offer: DataServiceOffer
    requires: tuple[ClassificationConcept, ...]
    match: Mapping[str, str]


@dataclass(frozen=True)
class Catalogue:
    procedures: Mapping[str, tuple[str, ...]]
    requirements: Mapping[str, RequirementInfo]
    services: tuple[_Service, ...]

    # --- the three queries ------------------------------------------------------------------------------------
    def requirements_for(self, procedure: str | None, country: str | None) -> list[RequirementInfo]:
        if not procedure:
            raise CommonServicesError("EB:ERR:0003", "procedure-id is required")
        if procedure not in self.procedures:
            raise CommonServicesError("EB:ERR:0005", f"unknown procedure {procedure!r}")
        found = [self._strip_lists(self.requirements[r]) for r in self.procedures[procedure]]
        if not found:
            raise CommonServicesError("EB:ERR:0001", "no requirements")
        return found

    def evidence_types_for(self, requirement: str | None, country: str | None) -> list[RequirementInfo]:
        if not requirement:
            raise CommonServicesError("EB:ERR:0003", "requirement-id is required")
        known = self.requirements.get(requirement)
        if known is None:
            raise CommonServicesError("EB:ERR:0002", f"unknown requirement {requirement!r}")
        lists = tuple(lst for lst in known.evidence_type_lists
                      if country is None or lst.jurisdiction in (None, country))
        if not lists:
            raise CommonServicesError("EB:ERR:0001", f"no evidence types for {country}")
        return [RequirementInfo(known.identifier, known.names, known.descriptions, known.reference_frameworks, lists)]

    def data_services_for(self, classification: str | None, country: str | None,
                          answers: Mapping[str, str]) -> list[DataServiceOffer]:
        if not classification or not country:
            raise CommonServicesError("DSD:ERR:0003", "evidence-type-classification and country-code are required")
        of_type = [s for s in self.services if s.offer.evidence_type.classification == classification]
        if not of_type:
            raise CommonServicesError("DSD:ERR:0002", f"unknown evidence type {classification!r}")
        candidates = [s for s in of_type if s.country == country]
        missing = {c.identifier: c for s in candidates for c in s.requires if c.identifier not in answers}
        if missing:
            raise AdditionalInputRequired("additional user input required", tuple(missing.values()),
                                          candidates[0].offer.evidence_type)
        chosen = [s.offer for s in candidates if all(answers.get(k) == v for k, v in s.match.items())]
        if not chosen:
            raise CommonServicesError("DSD:ERR:0001", f"no data service for {country}")
        return chosen

    @staticmethod
    def _strip_lists(requirement: RequirementInfo) -> RequirementInfo:
        return RequirementInfo(requirement.identifier, requirement.names, requirement.descriptions,
                               requirement.reference_frameworks, ())


def _texts(value: Any) -> tuple[Text, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (Text(value, "EN"),)
    if isinstance(value, dict):
        return tuple(Text(str(v), str(k).upper()) for k, v in value.items())
    raise CatalogueError(f"expected a text or {{lang: text}}, got {value!r}")


def _need(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in data or data[key] in (None, ""):
        raise CatalogueError(f"{where}: {key!r} is required")
    return data[key]


def parse_catalogue(data: Mapping[str, Any]) -> Catalogue:
    requirements: dict[str, RequirementInfo] = {}
    procedures_of: dict[str, list[str]] = {}
    for procedure, ids in (data.get("procedures") or {}).items():
        procedures_of[str(procedure)] = [str(i) for i in ids or []]
    for raw in data.get("requirements") or []:
        rid = str(_need(raw, "id", "requirement"))
        lists = tuple(
            EvidenceTypeList(
                str(_need(lst, "id", rid)), _texts(lst.get("name")),
                tuple(EvidenceTypeInfo(str(_need(t, "classification", rid)), _texts(_need(t, "title", rid)),
                                       _texts(t.get("description"))) for t in lst.get("evidence_types") or []),
                lst.get("jurisdiction"))
            for lst in raw.get("evidence_type_lists") or [])
        frameworks = tuple(ReferenceFramework(f"urn:x-catalogue:procedure:{p}", (), (p,), None)
                           for p, ids in procedures_of.items() if rid in ids)
        requirements[rid] = RequirementInfo(rid, _texts(_need(raw, "name", rid)), _texts(raw.get("description")),
                                            frameworks, lists)
    for procedure, ids in procedures_of.items():
        for rid in ids:
            if rid not in requirements:
                raise CatalogueError(f"procedure {procedure} names unknown requirement {rid}")
    services = tuple(_service(raw) for raw in data.get("data_services") or [])
    return Catalogue({p: tuple(i) for p, i in procedures_of.items()}, requirements, services)


def _service(raw: Mapping[str, Any]) -> _Service:
    where = f"data service {raw.get('identifier')}"
    access, publisher = _need(raw, "access_service", where), _need(raw, "publisher", where)
    country = str(_need(raw, "country", where))
    evidence_type = EvidenceTypeRef(
        str(_need(raw, "identifier", where)), str(_need(raw, "evidence_type", where)),
        _texts(_need(raw, "title", where)),
        tuple(Distribution(str(f)) for f in raw.get("formats") or ["application/pdf"]), _texts(raw.get("description")),
        raw.get("loa"))
    offer = DataServiceOffer(
        evidence_type,
        (AccessService(
            Identifier(str(_need(access, "id", where)), access.get("scheme")), _texts(access.get("name")),
            tuple(str(c) for c in raw.get("conforms_to") or ["oots-edm:v1.2"]),
            Agent(Identifier(str(_need(publisher, "id", where)), publisher.get("scheme")),
                  _texts(_need(publisher, "name", where)),
                  Address(admin_unit_level_1=publisher.get("country", country)), "EP")),),
        raw.get("loa"))
    requires = tuple(ClassificationConcept(str(cid), spec.get("type"), _texts(spec.get("description")),
                                           tuple(str(v) for v in spec.get("values") or []))
                     for cid, spec in (raw.get("requires") or {}).items())
    return _Service(country, offer, requires, {str(k): str(v) for k, v in (raw.get("match") or {}).items()})


def load_catalogue(path: Path) -> Catalogue:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise CatalogueError(f"{path}: expected a mapping at the top")
    return parse_catalogue(data)
