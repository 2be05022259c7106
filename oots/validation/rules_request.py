"""Our own rules for query:QueryRequest, per EDM version (ids OOTS-REQ-nnn)."""

from __future__ import annotations

from lxml import etree

from oots.edm.versions import EdmVersion
from oots.validation.rules_common import (
    URN_UUID,
    Checks,
    check_agent,
    check_slots,
    is_date,
    is_datetime,
    path_of,
    slot_text,
    slot_type,
    sr_pattern,
    xp,
)

# Rule ids and what they say (also printed by ``edm validate`` next to each failure).
REQUEST_RULES = {
    "OOTS-REQ-001": "QueryRequest/@id is urn:uuid:<UUID>",
    "OOTS-REQ-002": "every slot the version requires is present",
    "OOTS-REQ-003": "no slot the version does not define",
    "OOTS-REQ-004": "no slot twice",
    "OOTS-REQ-005": "IssueDateTime is an xsd:dateTime with a time zone",
    "OOTS-REQ-006": "PreviewLocation / ReturnLocation are https:// URLs",
    "OOTS-REQ-007": "exactly one of NaturalPerson and LegalPerson",
    "OOTS-REQ-008": "requirement identifiers are Semantic Repository URIs of the version's host",
    "OOTS-REQ-009": "the evidence-type classification is a Semantic Repository URI",
    "OOTS-REQ-010": "EvidenceRequester: one ER agent, any others IP",
    "OOTS-REQ-011": "EvidenceProvider is an Agent with an EAS/ebCore identifier and a name",
    "OOTS-REQ-012": "the person carries the eIDAS minimum data set (names, xsd:date of birth) and an LoA",
    "OOTS-REQ-013": "PossibilityForPreview / ExplicitRequestGiven are booleans",
    "OOTS-REQ-014": "Procedure is a localized string (v1.x) or a code (v2.0)",
    "OOTS-REQ-015": "ResponseOption LeafClassWithRepositoryItem and Query DocumentQuery",
    "OOTS-REQ-016": "EvidenceRequest carries a DataServiceEvidenceType with a distribution format",
    "OOTS-REQ-017": "a request sent with a PreviewLocation allowed preview (PossibilityForPreview true)",
}


def check_request(root: etree._Element, version: EdmVersion) -> Checks:
    checks = Checks()
    c = checks.require
    c("OOTS-REQ-001", bool(URN_UUID.match(root.get("id") or "")), "QueryRequest/@id must be urn:uuid:<UUID>")
    check_slots(checks, root, version.request_required, version.request_optional,
                "OOTS-REQ-002", "OOTS-REQ-003", "OOTS-REQ-004", "query:QueryRequest")
    queries = xp(root, "query:Query")
    body = queries[0] if queries else None
    if body is not None:
        check_slots(checks, body, version.query_required, version.query_optional,
                    "OOTS-REQ-002", "OOTS-REQ-003", "OOTS-REQ-004", "query:Query")
    c("OOTS-REQ-005", is_datetime(slot_text(root, "IssueDateTime")), "IssueDateTime must be an xsd:dateTime with zone")
    for name in ("PreviewLocation", "ReturnLocation"):
        value = slot_text(root, name)
        if value is not None:
            c("OOTS-REQ-006", value.startswith("https://"), f"{name} must start with https://")
    for name in ("PossibilityForPreview", "ExplicitRequestGiven"):
        value = slot_text(root, name)
        if value is not None:
            c("OOTS-REQ-013", value in ("true", "false") and slot_type(root, name) == "BooleanValueType",
              f"{name} must be a rim:BooleanValueType true/false")
    if slot_text(root, "PreviewLocation") is not None:
        c("OOTS-REQ-017", slot_text(root, "PossibilityForPreview") == "true",
          "a second request (with PreviewLocation) must have PossibilityForPreview true")
    procedure_type = slot_type(root, "Procedure")
    if procedure_type is not None:
        wanted = "InternationalStringValueType" if version.procedure_localized else "StringValueType"
        c("OOTS-REQ-014", procedure_type == wanted, f"Procedure must be a rim:{wanted} in {version.label}")
    requirement_pattern = sr_pattern(version.sr_hosts_accepted, "requirements")
    for identifier in xp(root, "rim:Slot[@name='Requirements']//sdg:Requirement/sdg:Identifier"):
        c("OOTS-REQ-008", bool(requirement_pattern.match((identifier.text or "").strip())),
          f"requirement {identifier.text!r} is not https://{version.sr_host}/requirements/<UUID>", path_of(identifier))
    requesters = xp(root, "rim:Slot[@name='EvidenceRequester']/rim:SlotValue//sdg:Agent")
    classes = [(xp(a, "string(sdg:Classification)") or "").strip() for a in requesters]
    c("OOTS-REQ-010", classes.count("ER") == 1 and all(x in ("ER", "IP") for x in classes),
      f"EvidenceRequester agents classified {classes}: exactly one ER, the rest IP")
    for agent in requesters:
        check_agent(checks, agent, "OOTS-REQ-010", None)
    providers = xp(root, "rim:Slot[@name='EvidenceProvider']/rim:SlotValue//sdg:Agent")
    c("OOTS-REQ-011", len(providers) == 1, f"EvidenceProvider holds {len(providers)} agents, not 1")
    for agent in providers:
        check_agent(checks, agent, "OOTS-REQ-011", None)
    if body is not None:
        _check_query(checks, body, version)
    c("OOTS-REQ-015", xp(root, "string(query:ResponseOption/@returnType)") == "LeafClassWithRepositoryItem",
      "query:ResponseOption/@returnType must be LeafClassWithRepositoryItem")
    return checks


def _check_query(checks: Checks, body: etree._Element, version: EdmVersion) -> None:
    c = checks.require
    c("OOTS-REQ-015", body.get("queryDefinition") == "DocumentQuery",
      "query:Query/@queryDefinition must be DocumentQuery")
    natural = xp(body, "rim:Slot[@name='NaturalPerson']/rim:SlotValue/sdg:Person")
    legal = xp(body, "rim:Slot[@name='LegalPerson']/rim:SlotValue/sdg:LegalPerson")
    c("OOTS-REQ-007", len(natural) + len(legal) == 1,
      f"the query names {len(natural)} natural and {len(legal)} legal persons; exactly one is needed")
    for person in natural + xp(body, "rim:Slot[@name='AuthorizedRepresentative']/rim:SlotValue/sdg:Person"):
        where = path_of(person)
        for name in ("FamilyName", "GivenName"):
            c("OOTS-REQ-012", bool((xp(person, f"string(sdg:{name})") or "").strip()), f"sdg:{name} is required", where)
        c("OOTS-REQ-012", is_date(xp(person, "string(sdg:DateOfBirth)").strip()), "sdg:DateOfBirth must be xsd:date",
          where)
    for person in natural + legal:
        c("OOTS-REQ-012", bool(xp(person, "string(sdg:LevelOfAssurance)").strip()),
          "the person's sdg:LevelOfAssurance is required to decide the data service's LoA", path_of(person))
    types = xp(body, "rim:Slot[@name='EvidenceRequest']/rim:SlotValue/sdg:DataServiceEvidenceType")
    if c("OOTS-REQ-016", len(types) == 1, "EvidenceRequest must carry one sdg:DataServiceEvidenceType"):
        c("OOTS-REQ-016", bool(xp(types[0], "sdg:DistributedAs/sdg:Format")),
          "DataServiceEvidenceType needs DistributedAs/Format", path_of(types[0]))
        classification = xp(types[0], "string(sdg:EvidenceTypeClassification)").strip()
        c("OOTS-REQ-009", bool(sr_pattern(version.sr_hosts_accepted, "evidencetypes").match(classification)),
          f"evidence type classification {classification!r} is not "
          f"https://{version.sr_host}/evidencetypeclassifications/<CC>/<UUID>", path_of(types[0]))
