"""Validate one EDM document: our own rules for its version, then the official artifacts found for it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lxml import etree

from oots.edm import ns
from oots.edm.codec import parse_element
from oots.edm.errors import EdmCodecError
from oots.edm.versions import VERSIONS, EdmVersion
from oots.validation.artifacts import codelists, find_artifacts, schema, search_path
from oots.validation.codelist_checks import check_codelists
from oots.validation.findings import Finding, Report
from oots.validation.rules_common import slot_text
from oots.validation.rules_request import check_request
from oots.validation.rules_response import check_exception, check_response
from oots.validation.schematron import run_schematron
from pki.xml.parser import XmlRefused, parse_xml

OWN_RULES_ONLY = "own rules only"


def message_kind(root: etree._Element) -> str | None:
    if root.tag == ns.query("QueryRequest"):
        return "request"
    if root.tag == ns.query("QueryResponse"):
        return "exception" if root.get("status") == ns.STATUS_FAILURE else "response"
    return None


def validate_bytes(data: bytes, name: str = "<message>", specs: Sequence[Path] = (), *,
                   official: bool = True) -> Report:
    report = Report(name)
    try:
        root = parse_xml(data).getroot()
    except XmlRefused as exc:
        report.findings.append(Finding(exc.code, exc.message, "own"))
        return report
    return validate_element(root, report, specs, official=official)


def validate_element(root: etree._Element, report: Report, specs: Sequence[Path] = (), *,
                     official: bool = True) -> Report:
    kind = report.kind = message_kind(root)
    if kind is None:
        report.findings.append(Finding("OOTS-EDM-001", f"root {root.tag} is not an EDM QueryRequest/QueryResponse",
                                       "own"))
        return report
    spec_id = slot_text(root, "SpecificationIdentifier") or ""
    version: EdmVersion | None = VERSIONS.get(spec_id)
    if version is None:
        report.findings.append(Finding("OOTS-EDM-002", f"SpecificationIdentifier {spec_id!r} is not one of "
                                                       f"{', '.join(sorted(VERSIONS))}", "own"))
        return report
    report.version = version.specification_id
    checks = {"request": check_request, "response": check_response, "exception": check_exception}[kind]
    report.findings += checks(root, version).findings
    try:
        parse_element(root)
    except EdmCodecError as exc:
        report.findings.append(Finding(f"OOTS-PARSE-{exc.code}", exc.message, "own", location=exc.where))
    if not official:
        report.artifacts.append(f"{version.label}: {OWN_RULES_ONLY}")
        return report
    artifacts = find_artifacts(version.label, search_path(specs))
    if artifacts.empty:
        report.artifacts.append(f"{version.label}: {OWN_RULES_ONLY}")
        return report
    report.artifacts += artifacts.used_for(kind)
    if artifacts.xsd is not None:
        xsd = schema(artifacts.xsd.resolve())
        if not xsd.validate(root):
            report.findings += [Finding("XSD", e.message, "xsd", location=f"line {e.line}") for e in xsd.error_log]
    for sch in artifacts.schematron.get(kind, ()):
        report.findings += run_schematron(sch, root)
    if artifacts.codelist_dir is not None:
        findings, _ = check_codelists(root, codelists(artifacts.codelist_dir.resolve()))
        report.findings += findings
    return report


def validate_file(path: Path, specs: Sequence[Path] = ()) -> Report:
    return validate_bytes(path.read_bytes(), str(path), specs)
