"""Our own rules for query:QueryResponse: evidence responses (OOTS-RESP-nnn) and exceptions (OOTS-ERR-nnn)."""

from __future__ import annotations

from lxml import etree

from oots.edm import ns
from oots.edm.errors import EDM_ERRORS
from oots.edm.versions import EdmVersion
from oots.validation.rules_common import (
    BARE_OR_URN_UUID,
    URN_UUID,
    Checks,
    check_agent,
    check_slots,
    is_datetime,
    path_of,
    slot_text,
    sr_pattern,
    xp,
)

RESPONSE_RULES = {
    "OOTS-RESP-001": "QueryResponse/@requestId is urn:uuid:<UUID>",
    "OOTS-RESP-002": "every slot the version requires is present, no other, none twice",
    "OOTS-RESP-003": "EvidenceResponseIdentifier is a UUID",
    "OOTS-RESP-004": "IssueDateTime is an xsd:dateTime with a time zone",
    "OOTS-RESP-005": "EvidenceProvider agents are classified EP",
    "OOTS-RESP-006": "evidence objects are rim:ExtrinsicObjects (v1.x) or sit in rim:RegistryPackages (v2.0)",
    "OOTS-RESP-007": "each evidence has EvidenceMetadata/sdg:Evidence and a cid: RepositoryItemRef",
    "OOTS-RESP-008": "v2.0: each package has exactly one MainEvidence (scheme urn:fdc:oots:classification:edm)",
    "OOTS-RESP-009": "the evidence classification is a Semantic Repository URI",
    "OOTS-RESP-010": "registry object ids are unique urn:uuid values",
    "OOTS-RESP-011": "structured evidence (XML, JSON) names its data model in Distribution/ConformsTo",
}
EXCEPTION_RULES = {
    "OOTS-ERR-001": "QueryResponse/@requestId is urn:uuid:<UUID>",
    "OOTS-ERR-002": "slots: SpecificationIdentifier, EvidenceResponseIdentifier, ErrorProvider (+ EvidenceRequester)",
    "OOTS-ERR-003": "EvidenceResponseIdentifier is a UUID",
    "OOTS-ERR-004": "ErrorProvider is an Agent classified IP, EP or ERRP (never ER)",
    "OOTS-ERR-005": "exactly one rs:Exception",
    "OOTS-ERR-006": "the code is one of EDM:ERR:0001-0008 and xsi:type is that code's type",
    "OOTS-ERR-007": "the message is the code's fixed message",
    "OOTS-ERR-008": "PreviewRequired severity only with EDM:ERR:0002 and a PreviewLocation; else Error severity",
    "OOTS-ERR-009": "EDM:ERR:0002 with a PreviewLocation has PreviewRequired severity",
    "OOTS-ERR-010": "PreviewLocation is https://, PreviewMethod GET or POST",
    "OOTS-ERR-011": "a Timestamp slot with an xsd:dateTime",
}
_ERR_REQUIRED = frozenset({"SpecificationIdentifier", "EvidenceResponseIdentifier", "ErrorProvider"})
_ERR_OPTIONAL = frozenset({"EvidenceRequester"})


def check_response(root: etree._Element, version: EdmVersion) -> Checks:
    checks = Checks()
    c = checks.require
    c("OOTS-RESP-001", bool(URN_UUID.match(root.get("requestId") or "")), "requestId must be urn:uuid:<UUID>")
    check_slots(checks, root, version.response_required, version.response_optional,
                "OOTS-RESP-002", "OOTS-RESP-002", "OOTS-RESP-002", "query:QueryResponse")
    c("OOTS-RESP-003", bool(BARE_OR_URN_UUID.match(slot_text(root, "EvidenceResponseIdentifier") or "")),
      "EvidenceResponseIdentifier must be a UUID")
    c("OOTS-RESP-004", is_datetime(slot_text(root, "IssueDateTime")), "IssueDateTime must be an xsd:dateTime with zone")
    for agent in xp(root, "rim:Slot[@name='EvidenceProvider']/rim:SlotValue//sdg:Agent"):
        check_agent(checks, agent, "OOTS-RESP-005", ("EP",))
    top = xp(root, "rim:RegistryObjectList/rim:RegistryObject")
    items: list[etree._Element] = []
    for obj in top:
        kind = ns.local_type(obj.get(ns.XSI_TYPE))
        if version.evidence_in_packages:
            if c("OOTS-RESP-006", kind == "RegistryPackageType", f"{kind} at top level; v2.0 wants RegistryPackageType",
                 path_of(obj)):
                inner = xp(obj, "rim:RegistryObjectList/rim:RegistryObject")
                main = xp(obj, "rim:RegistryObjectList/rim:RegistryObject/rim:Classification"
                               f"[@classificationScheme='{ns.EDM_CLASSIFICATION_SCHEME}'][@classificationNode='MainEvidence']")
                c("OOTS-RESP-008", len(main) == 1, f"package has {len(main)} MainEvidence objects", path_of(obj))
                for item in inner:
                    c("OOTS-RESP-008", bool(xp(item, "rim:Classification[@classificationScheme="
                                                     f"'{ns.EDM_CLASSIFICATION_SCHEME}']/@classificationNode")),
                      "every object in a package is classified (MainEvidence, annex, translation)", path_of(item))
                items += inner
        else:
            c("OOTS-RESP-006", kind == "ExtrinsicObjectType", f"{kind} where rim:ExtrinsicObjectType is expected",
              path_of(obj))
            items.append(obj)
    ids = [o.get("id") or "" for o in (top + items if version.evidence_in_packages else top)]
    c("OOTS-RESP-010", all(URN_UUID.match(i) for i in ids) and len(set(ids)) == len(ids),
      "registry object ids must be unique urn:uuid values")
    pattern = sr_pattern(version.sr_hosts_accepted, "evidencetypes")
    for item in items:
        where = path_of(item)
        evidence = xp(item, "rim:Slot[@name='EvidenceMetadata']/rim:SlotValue/sdg:Evidence")
        refs = xp(item, "rim:RepositoryItemRef/@xlink:href")
        c("OOTS-RESP-007", len(evidence) == 1, "EvidenceMetadata must hold one sdg:Evidence", where)
        c("OOTS-RESP-007", len(refs) == 1 and str(refs[0]).startswith("cid:"),
          "RepositoryItemRef must point to an AS4 part (cid:)", where)
        for value in evidence:
            media = xp(value, "string(sdg:Distribution/sdg:Format)").strip()
            if media in ("application/xml", "application/json"):
                c("OOTS-RESP-011", bool(xp(value, "string(sdg:Distribution/sdg:ConformsTo)").strip()),
                  f"{media} evidence needs sdg:Distribution/sdg:ConformsTo", where)
            classification = xp(value, "string(sdg:IsConformantTo/sdg:EvidenceTypeClassification)").strip()
            c("OOTS-RESP-009", bool(pattern.match(classification)),
              f"evidence classification {classification!r} is not a Semantic Repository URI", where)
    return checks


def check_exception(root: etree._Element, version: EdmVersion) -> Checks:
    checks = Checks()
    c = checks.require
    c("OOTS-ERR-001", bool(URN_UUID.match(root.get("requestId") or "")), "requestId must be urn:uuid:<UUID>")
    check_slots(checks, root, _ERR_REQUIRED, _ERR_OPTIONAL, "OOTS-ERR-002", "OOTS-ERR-002", "OOTS-ERR-002",
                "query:QueryResponse")
    c("OOTS-ERR-003", bool(BARE_OR_URN_UUID.match(slot_text(root, "EvidenceResponseIdentifier") or "")),
      "EvidenceResponseIdentifier must be a UUID")
    for agent in xp(root, "rim:Slot[@name='ErrorProvider']/rim:SlotValue//sdg:Agent"):
        check_agent(checks, agent, "OOTS-ERR-004", ("IP", "EP", "ERRP"))
    exceptions = xp(root, "rs:Exception")
    if not c("OOTS-ERR-005", len(exceptions) == 1, f"{len(exceptions)} rs:Exception elements; exactly one needed"):
        return checks
    exception = exceptions[0]
    code = exception.get("code") or ""
    known = EDM_ERRORS.get(code)
    declared = exception.get(ns.XSI_TYPE) or ""
    if c("OOTS-ERR-006", known is not None, f"code {code!r} is not one of EDM:ERR:0001-0008"):
        assert known is not None
        c("OOTS-ERR-006", ns.local_type(declared) == ns.local_type(known.exception_type),
          f"{code} has xsi:type {known.exception_type}, not {declared!r}")
        message = exception.get("message") or ""
        c("OOTS-ERR-007", version.accepts_error_message(code, message),
          f"{code} has the fixed message {version.error_message(code)!r}, not {message!r}")
    severity = exception.get("severity") or ""
    location = slot_text(exception, "PreviewLocation")
    preview_required = severity == version.preview_required_severity
    c("OOTS-ERR-008", preview_required or severity == ns.SEVERITY_ERROR,
      f"severity {severity!r} is neither Error nor {version.preview_required_severity}")
    if preview_required:
        c("OOTS-ERR-008", code == "EDM:ERR:0002" and location is not None,
          "PreviewRequired severity goes only with EDM:ERR:0002 and a PreviewLocation")
    if code == "EDM:ERR:0002" and location is not None:
        c("OOTS-ERR-009", preview_required, "EDM:ERR:0002 with a PreviewLocation must have PreviewRequired severity")
    if location is not None:
        c("OOTS-ERR-010", location.startswith("https://"), "PreviewLocation must start with https://")
    method = slot_text(exception, "PreviewMethod")
    if method is not None:
        c("OOTS-ERR-010", method in ("GET", "POST"), f"PreviewMethod {method!r} is neither GET nor POST")
    c("OOTS-ERR-011", is_datetime(slot_text(exception, "Timestamp")), "rs:Exception needs a Timestamp xsd:dateTime")
    return checks
