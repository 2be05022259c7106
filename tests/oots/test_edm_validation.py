"""EDM validation: EC examples valid against our rules and the official v1.0 artifacts; mutations name the rule;
own-rules-only for v1.2/v2.0 until artifacts are supplied; a supplied specs directory is used the same way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from oots.edm import V1_0, V1_2, V2_0, VERSIONS, to_bytes
from oots.validation import validate_bytes
from oots.validation.schematron import compile_schematron, run_schematron
from pki.xml.parser import parse_xml
from tests.oots import samples
from tests.oots.conftest import EC_DIR

EC_FILES = sorted(EC_DIR.glob("*.xml")) if EC_DIR.is_dir() else []


@pytest.mark.parametrize("name", [p.name for p in EC_FILES] or ["(absent)"])
def test_every_ec_example_validates_against_the_official_artifacts(name: str, ec_dir: Path, specs_dir: Path) -> None:
    report = validate_bytes((ec_dir / name).read_bytes(), name, [specs_dir])
    assert report.valid, [f.as_dict() for f in report.findings if f.fatal]
    assert report.version == "oots-edm:v1.0"
    used = "\n".join(report.artifacts)
    assert "oots-edm-v1.0-driver.xsd" in used and ".sch" in used and "codelists" in used


# (file, bytes to replace, replacement, rules that must be named)
MUTATIONS = [
    ("TC06_Request_2.xml", b"<rim:Value>https://preview", b"<rim:Value>http://preview",
     {"OOTS-REQ-006", "R-EDM-REQ-C005"}),
    ("TC01_Request.xml", b' schemeID="urn:cef.eu:names:identifier:EAS:0190"', b"",
     {"OOTS-REQ-010", "R-EDM-REQ-C010"}),
    ("TC01_Request.xml", b"<sdg:Classification>ER<", b"<sdg:Classification>XX<",
     {"OOTS-REQ-010", "CODELIST-AgentClassification", "R-EDM-REQ-C014"}),
    ("TC01_Request.xml", b"oots-edm:v1.0", b"oots-edm:v1.1", {"OOTS-EDM-002"}),
    ("TC01_Request.xml", b'id="urn:uuid:4ffb5281-179d-4578-adf2-39fd13ccc797"', b'id="urn:uuid:not-a-uuid"',
     {"OOTS-REQ-001", "R-EDM-REQ-S004"}),
    ("TC01_Request.xml", b"<sdg:DateOfBirth>1999-03-01", b"<sdg:DateOfBirth>01.03.1999",
     {"OOTS-REQ-012", "XSD"}),
    ("TC01_Request.xml", b">High<", b">Highest<", {"CODELIST-LoA", "R-EDM-REQ-C037"}),
    ("TC01_Request.xml", b"<sdg:Format>application/pdf", b"<sdg:Format>application/x-foo",
     {"CODELIST-OOTSMediaTypes"}),
    ("TC01_Request.xml", b"requirements/f8a6a284", b"reqs/f8a6a284", {"OOTS-REQ-008"}),
    ("TC06_Response_1.xml",
     b'severity="urn:sr.oots.tech.europa.eu:codes:ErrorSeverity:EDMErrorResponse:PreviewRequired"',
     b'severity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"', {"OOTS-ERR-009", "R-EDM-ERR-C015"}),
    ("TC03_Response_alt1_timeout_in_connection_to_base_registry.xml", b'message="Exceeding timeout period"',
     b'message="Timeout"', {"OOTS-ERR-007"}),
    ("TC03_Response_alt1_timeout_in_connection_to_base_registry.xml", b"rs:TimeoutExceptionType",
     b"rs:ObjectNotFoundExceptionType", {"OOTS-ERR-006"}),
    ("TC03_Response_alt1_timeout_in_connection_to_base_registry.xml", b'code="EDM:ERR:0005"',
     b'code="EDM:ERR:0042"', {"OOTS-ERR-006", "CODELIST-EDMErrorCodes", "R-EDM-ERR-C017"}),
    ("TC01_Response.xml", b'xlink:href="cid:', b'xlink:href="http:', {"OOTS-RESP-007"}),
    ("TC01_Response.xml", b"<sdg:Classification>EP<", b"<sdg:Classification>ER<", {"OOTS-RESP-005"}),
    ("TC01_Response.xml", b"<sdg:AdminUnitLevel1>DE<", b"<sdg:AdminUnitLevel1>XY<",
     {"CODELIST-CountryIdentificationCode"}),
    ("TC01_Request.xml", b"<rim:Value>true</rim:Value>", b"<rim:Value>yes</rim:Value>",
     {"OOTS-REQ-013", "OOTS-PARSE-EDM_BAD_VALUE"}),
]


@pytest.mark.parametrize(("name", "old", "new", "rules"), MUTATIONS, ids=lambda v: str(v)[:40])
def test_mutated_ec_example_fails_naming_the_rule(name: str, old: bytes, new: bytes, rules: set[str],
                                                   ec_dir: Path, specs_dir: Path) -> None:
    data = (ec_dir / name).read_bytes()
    assert old in data
    report = validate_bytes(data.replace(old, new, 1), name, [specs_dir])
    assert not report.valid
    assert rules <= set(report.failed_rules), report.failed_rules
    assert all(f.message for f in report.findings if f.fatal)


@pytest.mark.parametrize("version", list(VERSIONS.values()), ids=lambda v: v.label)
def test_messages_we_build_validate(version, specs_dir: Path) -> None:  # type: ignore[no-untyped-def]
    for message in (samples.request(version), samples.response(version, items=2),
                    samples.exception(version, "EDM:ERR:0004"),
                    samples.exception(version, "EDM:ERR:0002", preview_location="https://preview.example.lv/p/x")):
        report = validate_bytes(to_bytes(message), version.label, [specs_dir])
        assert report.valid, [f.as_dict() for f in report.findings if f.fatal]
        if version is V1_0:
            assert any(a.endswith(".sch") for a in report.artifacts)
        else:
            assert report.artifacts == [f"{version.label}: own rules only"]


def test_version_specific_slots() -> None:
    without_procedure = samples.request(V1_0, procedure=None, requirements=())
    assert validate_bytes(to_bytes(without_procedure), official=False).valid  # 0..1 in v1.0
    report = validate_bytes(to_bytes(samples.request(V1_2, procedure=None)), official=False)
    assert "OOTS-REQ-002" in report.failed_rules  # 1..1 from v1.1 on
    v2 = to_bytes(samples.request(V2_0, return_location="https://portal.example.lv/return"))
    assert validate_bytes(v2, official=False).valid
    smuggled = v2.replace(b"oots-edm:v2.0", b"oots-edm:v1.2")
    assert "OOTS-REQ-003" in validate_bytes(smuggled, official=False).failed_rules


def test_both_person_kinds_is_refused() -> None:
    data = to_bytes(samples.request(V1_2))
    legal = (b'<rim:Slot name="LegalPerson"><rim:SlotValue xsi:type="rim:AnyValueType"><sdg:LegalPerson>'
             b"<sdg:LegalName>SIA Piemers</sdg:LegalName></sdg:LegalPerson></rim:SlotValue></rim:Slot>")
    anchor = b'<rim:Slot name="EvidenceRequest">'
    report = validate_bytes(data.replace(anchor, legal + anchor), official=False)
    assert "OOTS-REQ-007" in report.failed_rules


def test_v2_package_needs_main_evidence() -> None:
    data = to_bytes(samples.response(V2_0, items=2)).replace(b'classificationNode="MainEvidence"',
                                                             b'classificationNode="Annex"')
    assert "OOTS-RESP-008" in validate_bytes(data, official=False).failed_rules
    flat = to_bytes(samples.response(V1_2)).replace(b"oots-edm:v1.2", b"oots-edm:v2.0")
    assert "OOTS-RESP-006" in validate_bytes(flat, official=False).failed_rules


def test_xml_refusals_and_foreign_documents() -> None:
    assert validate_bytes(b"<!DOCTYPE x><x/>").failed_rules == ["XML_DTD_FORBIDDEN"]
    assert validate_bytes(b"<a xmlns='urn:x'/>").failed_rules == ["OOTS-EDM-001"]


SCH = """<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2">
  <sch:ns prefix="query" uri="urn:oasis:names:tc:ebxml-regrep:xsd:query:4.0"/>
  <sch:ns prefix="rim" uri="urn:oasis:names:tc:ebxml-regrep:xsd:rim:4.0"/>
  <sch:ns prefix="xs" uri="http://www.w3.org/2001/XMLSchema"/>
  <sch:pattern>
    <sch:rule context="query:QueryRequest">
      <sch:let name="n" value="count(rim:Slot)"/>
      <sch:assert test="$n &gt; 100" id="T-001">only <sch:value-of select="$n"/> slots</sch:assert>
      <sch:assert test="false()" role="info" id="T-002">informational</sch:assert>
      <sch:report test="matches(@id, '^urn:uuid:')" id="T-003">reported</sch:report>
      <sch:assert test="xs:date(string(@id)) = current-date()" id="T-004">cannot be evaluated</sch:assert>
    </sch:rule>
    <sch:rule context="query:QueryRequest">
      <sch:assert test="false()" id="T-999">never: the first matching rule of a pattern wins</sch:assert>
    </sch:rule>
  </sch:pattern>
</sch:schema>"""


def test_schematron_compiler_semantics(tmp_path: Path) -> None:
    sch = tmp_path / "EDM-REQ-C.sch"
    sch.write_text(SCH)
    assert b"xsl:stylesheet" in compile_schematron(sch).xslt
    findings = {f.rule: f for f in run_schematron(sch, parse_xml(to_bytes(samples.request(V1_2))).getroot())}
    assert re.fullmatch(r"only \d+ slots", findings["T-001"].message) and findings["T-001"].fatal
    assert findings["T-001"].location == "/Q{urn:oasis:names:tc:ebxml-regrep:xsd:query:4.0}QueryRequest[1]"
    assert not findings["T-002"].fatal
    assert "T-003" in findings and not findings["T-003"].fatal
    assert not findings["T-004"].fatal and "could not be evaluated" in findings["T-004"].message
    assert "T-999" not in findings


def test_supplied_specs_directory_is_used_the_same_way(tmp_path: Path) -> None:
    base = tmp_path / "oots-edm" / "v1.2"
    (base / "sch").mkdir(parents=True)
    (base / "codelists").mkdir()
    (base / "sch" / "EDM-REQ-C.sch").write_text(SCH.replace('id="T-004"', 'id="T-004" role="info"')
                                               .replace("xs:date(string(@id)) = current-date()", "true()"))
    (base / "codelists" / "LoA.gc").write_text(
        '<gc:CodeList xmlns:gc="http://docs.oasis-open.org/codelist/ns/genericode/1.0/"><Identification>'
        "<ShortName>LoA</ShortName></Identification><ColumnSet><Key><ColumnRef Ref='code'/></Key></ColumnSet>"
        "<SimpleCodeList><Row><Value ColumnRef='code'><SimpleValue>Substantial</SimpleValue></Value></Row>"
        "</SimpleCodeList></gc:CodeList>")
    report = validate_bytes(to_bytes(samples.request(V1_2)), "v12", [tmp_path])
    assert str(base / "sch" / "EDM-REQ-C.sch") in report.artifacts
    assert {"T-001", "CODELIST-LoA"} <= set(report.failed_rules)  # the person's LoA is High


def test_structured_evidence_names_its_data_model(ec_dir: Path, specs_dir: Path) -> None:
    data = (ec_dir / "TC01_Response.xml").read_bytes().replace(
        b"<sdg:Format>application/pdf</sdg:Format>\n                    </sdg:Distribution>",
        b"<sdg:Format>application/xml</sdg:Format>\n                    </sdg:Distribution>")
    report = validate_bytes(data, "xml-evidence", [specs_dir])
    assert {"OOTS-RESP-011", "R-EDM-RESP-C044a"} <= set(report.failed_rules)
