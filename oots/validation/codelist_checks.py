"""Values of an EDM message checked against the official Genericode lists (rule ids CODELIST-<ShortName>)."""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from oots.validation.findings import Finding
from oots.validation.rules_common import EAS_PREFIX, path_of, xp

_PROCEDURE = "/query:QueryRequest/rim:Slot[@name='Procedure']/rim:SlotValue"
# list ShortName → XPaths (from the root) of the values it governs, and whether comparison ignores case.
_CHECKS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("AgentClassification", ("//sdg:Agent/sdg:Classification",), False),
    ("CountryIdentificationCode", ("//sdg:Address/sdg:AdminUnitLevel1", "//sdg:CurrentAddress/sdg:AdminUnitLevel1",
                                   "//sdg:RegisteredAddress/sdg:AdminUnitLevel1"), False),
    ("Nuts", ("//sdg:Address/sdg:AdminUnitLevel2", "//sdg:CurrentAddress/sdg:AdminUnitLevel2"), False),
    ("LoA", ("//sdg:LevelOfAssurance", "//sdg:AuthenticationLevelOfAssurance"), False),
    ("OOTSMediaTypes", ("//sdg:DistributedAs/sdg:Format", "//sdg:Distribution/sdg:Format"), False),
    ("LanguageCode", ("//sdg:*/@lang", "//rim:LocalizedString/@xml:lang"), True),
    ("EDMErrorCodes", ("/query:QueryResponse/rs:Exception/@code",), False),
    ("ErrorSeverity", ("/query:QueryResponse/rs:Exception/@severity",), False),
    ("Procedures", (f"{_PROCEDURE}/rim:Value/rim:LocalizedString/@value", f"{_PROCEDURE}[not(rim:Value/*)]/rim:Value"),
     False),
)


def _value(node: object) -> tuple[str, str | None]:
    if isinstance(node, etree._Element):
        return (node.text or "").strip(), path_of(node)
    text = str(node).strip()
    parent = node.getparent() if hasattr(node, "getparent") else None  # attribute results ("smart strings")
    return text, path_of(parent) if parent is not None else None


def check_codelists(root: etree._Element, lists: dict[str, frozenset[str]]) -> tuple[list[Finding], list[str]]:
    """Findings, and the list names that were applied (a list absent from the directory is not checked)."""
    findings: list[Finding] = []
    applied: list[str] = []
    for name, paths, fold in _CHECKS:
        codes = lists.get(name)
        if codes is None:
            continue
        applied.append(name)
        allowed = {c.upper() for c in codes} if fold else codes
        for node in (n for path in paths for n in xp(root, path)):
            value, where = _value(node)
            if (value.upper() if fold else value) not in allowed:
                findings.append(Finding(f"CODELIST-{name}", f"{value!r} is not in code list {name}", "codelist",
                                        location=where))
    eas = lists.get("EAS")
    if eas is not None:
        applied.append("EAS")
        findings += _eas(xp(root, "//sdg:Agent/sdg:Identifier | //sdg:IssuingAuthority/sdg:Identifier"), eas)
    return findings, applied


def _eas(identifiers: Iterable[etree._Element], codes: frozenset[str]) -> list[Finding]:
    found = []
    for identifier in identifiers:
        scheme = identifier.get("schemeID") or ""
        if scheme.startswith(EAS_PREFIX) and scheme[len(EAS_PREFIX):] not in codes:
            code = scheme[len(EAS_PREFIX):]
            found.append(Finding("CODELIST-EAS", f"schemeID {scheme!r}: {code!r} is not an EAS code", "codelist",
                                 location=path_of(identifier)))
    return found
