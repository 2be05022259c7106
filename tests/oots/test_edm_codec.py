"""EDM codec: the EC v1.0 examples parse and rebuild to the same structure; v1.2/v2.0 round trips; errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from lxml import etree

from oots.edm import (
    EDM_ERRORS,
    V1_0,
    V1_2,
    V2_0,
    VERSIONS,
    EdmCodecError,
    ExceptionResponse,
    QueryRequest,
    QueryResponse,
    Text,
    edm_exception,
    parse_message,
    to_bytes,
)
from oots.edm.ns import SEVERITY_ERROR
from pki.xml.parser import parse_xml
from tests.conftest import IN_CI, VECTORS_DIR
from tests.oots import samples

EC_DIR = VECTORS_DIR / "oots-edm-v1.0-ec-examples"
EC_FILES = sorted(EC_DIR.glob("*.xml")) if EC_DIR.is_dir() else []
needs_vectors = pytest.mark.skipif(not EC_FILES and not IN_CI, reason=f"EC examples absent at {EC_DIR}")


def shape(data: bytes) -> list[tuple[str, tuple[tuple[str, str], ...], str]]:
    """Element names, attributes and text in document order: the structure, without layout or comments."""
    root = parse_xml(data).getroot()
    return [(e.tag, tuple(sorted(e.attrib.items())), (e.text or "").strip())
            for e in root.iter() if isinstance(e.tag, str)]


@needs_vectors
def test_all_ec_examples_are_present() -> None:
    assert len(EC_FILES) == 30


@needs_vectors
@pytest.mark.parametrize("path", EC_FILES, ids=lambda p: p.name)
def test_ec_example_parses_and_rebuilds_with_its_structure(path: Path) -> None:
    data = path.read_bytes()
    message = parse_message(data)
    expected = QueryRequest if "Request" in path.name else (QueryResponse, ExceptionResponse)
    assert isinstance(message, expected)
    assert message.specification_id == "oots-edm:v1.0"
    rebuilt = to_bytes(message)
    assert shape(rebuilt) == shape(data)
    assert parse_message(rebuilt) == message


@needs_vectors
def test_ec_preview_exception_reads_preview_slots() -> None:
    message = parse_message((EC_DIR / "TC06_Response_1.xml").read_bytes())
    assert isinstance(message, ExceptionResponse)
    error = message.exception
    assert (error.code, error.exception_type, error.message) == (
        "EDM:ERR:0002", "rs:AuthorizationExceptionType", "Missing Authorization")
    assert error.preview_required and error.preview_method == "GET"
    assert error.preview_location.startswith("https://preview.space.example.com/")  # type: ignore[union-attr]
    assert error.preview_description == (Text("Please select your diploma.", "EN"),)
    second = parse_message((EC_DIR / "TC06_Request_2.xml").read_bytes())
    assert isinstance(second, QueryRequest) and second.preview_location == error.preview_location


@needs_vectors
def test_ec_response_references_the_as4_part() -> None:
    message = parse_message((EC_DIR / "TC01_Response.xml").read_bytes())
    assert isinstance(message, QueryResponse)
    (item,) = message.evidence
    assert item.repository_item is not None
    assert item.repository_item.content_id == "attachment100001@example.oots.eu"
    assert item.metadata.is_about.family_name == "Smith"  # type: ignore[union-attr]
    empty = parse_message((EC_DIR / "TC02_Response.xml").read_bytes())
    assert isinstance(empty, QueryResponse) and empty.evidence == ()


@pytest.mark.parametrize("version", list(VERSIONS.values()), ids=lambda v: v.label)
def test_round_trip_every_version(version) -> None:  # type: ignore[no-untyped-def]
    for message in (samples.request(version), samples.response(version, items=2),
                    samples.exception(version, "EDM:ERR:0005", detail="registry timed out")):
        data = to_bytes(message)
        back = parse_message(data)
        if version is V1_0 and isinstance(message, QueryRequest):
            # The v1.0 SDG profile has no requirement description: the builder leaves it out.
            message = dataclasses.replace(message, requirements=tuple(
                dataclasses.replace(r, descriptions=()) for r in message.requirements))
        assert back == message
        assert VERSIONS[version.specification_id] is back.version


def test_v2_evidence_sits_in_a_classified_package() -> None:
    root = parse_xml(to_bytes(samples.response(V2_0, items=2))).getroot()
    ns = {"rim": "urn:oasis:names:tc:ebxml-regrep:xsd:rim:4.0",
          "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
    (package,) = root.xpath("rim:RegistryObjectList/rim:RegistryObject", namespaces=ns)
    assert package.get("{http://www.w3.org/2001/XMLSchema-instance}type") == "rim:RegistryPackageType"
    nodes = package.xpath("rim:RegistryObjectList/rim:RegistryObject/rim:Classification/@classificationNode",
                          namespaces=ns)
    assert nodes == ["MainEvidence", "Annex"]
    # v2.0 writes Procedure as a plain code
    request_root = parse_xml(to_bytes(samples.request(V2_0))).getroot()
    assert request_root.xpath("rim:Slot[@name='Procedure']/rim:SlotValue/@xsi:type", namespaces=ns) == [
        "rim:StringValueType"]


def test_v1_evidence_is_not_packaged() -> None:
    root = parse_xml(to_bytes(samples.response(V1_2))).getroot()
    types = root.xpath("*[local-name()='RegistryObjectList']/*/@xsi:type",
                       namespaces={"xsi": "http://www.w3.org/2001/XMLSchema-instance"})
    assert types == ["rim:ExtrinsicObjectType"]


def test_v2_additions_are_refused_in_v1() -> None:
    with pytest.raises(EdmCodecError) as caught:
        to_bytes(samples.request(V1_2, return_location="https://portal.example.lv/back"))
    assert caught.value.code == "EDM_NOT_IN_VERSION"
    v2 = parse_message(to_bytes(samples.request(V2_0, return_location="https://portal.example.lv/back")))
    assert isinstance(v2, QueryRequest) and v2.return_location == "https://portal.example.lv/back"


@pytest.mark.parametrize("code", sorted(EDM_ERRORS))
def test_exception_codes_have_their_exact_type_message_and_severity(code: str) -> None:
    error = edm_exception(code, V1_2, timestamp=samples.NOW)
    assert (error.exception_type, error.message) == (EDM_ERRORS[code].exception_type, V1_2.error_message(code))
    assert error.severity == SEVERITY_ERROR and not error.preview_required
    back = parse_message(to_bytes(samples.exception(V1_2, code)))
    assert isinstance(back, ExceptionResponse) and back.exception == error


def test_exception_table_matches_the_notes() -> None:
    assert EDM_ERRORS["EDM:ERR:0008"].exception_type == "query:QueryExceptionType"
    assert EDM_ERRORS["EDM:ERR:0003"].message == "Syntactically or semantically invalid request"
    assert len(EDM_ERRORS) == 8


@pytest.mark.parametrize(("version", "host"), [(V1_0, "urn:sr.oots.tech.europa.eu"),
                                               (V1_2, "urn:sr.oots.tech.ec.europa.eu"),
                                               (V2_0, "urn:sr.oots.tech.ec.europa.eu")])
def test_preview_required_severity_per_version(version, host: str) -> None:  # type: ignore[no-untyped-def]
    error = edm_exception("EDM:ERR:0002", version, timestamp=samples.NOW,
                          preview_location="https://preview.example.lv/p/abc")
    assert error.severity == f"{host}:codes:ErrorSeverity:EDMErrorResponse:PreviewRequired"
    assert error.preview_required and error.preview_method == "GET"


def test_exception_factory_refusals() -> None:
    with pytest.raises(EdmCodecError) as unknown:
        edm_exception("EDM:ERR:0009", V1_2, timestamp=samples.NOW)
    assert unknown.value.code == "EDM_ERROR_CODE_UNKNOWN"
    with pytest.raises(EdmCodecError) as wrong:
        edm_exception("EDM:ERR:0004", V1_2, timestamp=samples.NOW, preview_location="https://x.example/")
    assert wrong.value.code == "EDM_PREVIEW_CODE"
    with pytest.raises(EdmCodecError) as naive:
        edm_exception("EDM:ERR:0004", V1_2, timestamp=samples.NOW.replace(tzinfo=None))
    assert naive.value.code == "EDM_NAIVE_DATETIME"


def _mutate(data: bytes, old: bytes, new: bytes) -> bytes:
    assert old in data
    return data.replace(old, new, 1)


@pytest.mark.parametrize(("old", "new", "code"), [
    (b"oots-edm:v1.2", b"oots-edm:v9.9", "EDM_VERSION_UNKNOWN"),
    (b'name="IssueDateTime"', b'name="IssueDate"', "EDM_MISSING"),
    (b"<rim:Value>true</rim:Value>", b"<rim:Value>yes</rim:Value>", "EDM_BAD_VALUE"),
    (b"2026-11-23T12:00:00+00:00", b"2026-11-23T12:00:00", "EDM_NAIVE_DATETIME"),
    (b'name="PossibilityForPreview"', b'name="SpecificationIdentifier"', "EDM_DUPLICATE_SLOT"),
    (b"<query:QueryRequest", b"<!DOCTYPE x [<!ENTITY a 'b'>]><query:QueryRequest", "XML_DTD_FORBIDDEN"),
    (b"<query:Query ", b"<query:Queryx ", "EDM_MISSING"),
])
def test_broken_requests_are_refused_with_a_code(old: bytes, new: bytes, code: str) -> None:
    data = to_bytes(samples.request(V1_2))
    if old.startswith(b"<query:Query "):
        data = data.replace(b"</query:Query>", b"</query:Queryx>")
    with pytest.raises(EdmCodecError) as caught:
        parse_message(_mutate(data, old, new))
    assert caught.value.code == code
    assert caught.value.edm_code == "EDM:ERR:0003"


def test_not_an_edm_document() -> None:
    with pytest.raises(EdmCodecError) as caught:
        parse_message(etree.tostring(etree.Element("{urn:x}Other")))
    assert caught.value.code == "EDM_NOT_EDM"


def test_failure_without_exactly_one_exception() -> None:
    data = to_bytes(samples.exception(V1_2))
    start, end = data.index(b"<rs:Exception"), data.index(b"</rs:Exception>") + len(b"</rs:Exception>")
    with pytest.raises(EdmCodecError) as caught:
        parse_message(data[:start] + data[end:])
    assert caught.value.code == "EDM_BAD_VALUE"
