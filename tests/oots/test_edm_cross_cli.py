"""Cross-validation of pairs and the ``gateway-node edm`` commands."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli.main import cli
from oots.edm import V1_2, V2_0, QueryRequest, parse_message, to_bytes
from oots.validation.cross import cross_check
from tests.oots import samples

PAIRS = [("TC01_Request.xml", "TC01_Response.xml"), ("TC02_Request.xml", "TC02_Response.xml"),
         ("TC03_Request.xml", "TC03_Response_alt1_timeout_in_connection_to_base_registry.xml"),
         ("TC06_Request_2.xml", "TC06_Response_2.xml"), ("TC07_Request_2_EP2.xml", "TC07_Response_2_EP2.xml")]


@pytest.mark.parametrize(("request_file", "response_file"), PAIRS)
def test_ec_pairs_are_consistent(request_file: str, response_file: str, ec_dir: Path) -> None:
    first, second = (parse_message((ec_dir / n).read_bytes()) for n in (request_file, response_file))
    assert cross_check(first, second) == []


def test_ec_preview_exception_and_second_request(ec_dir: Path) -> None:
    first, exception, second = (parse_message((ec_dir / n).read_bytes())
                                for n in ("TC06_Request_1.xml", "TC06_Response_1.xml", "TC06_Request_2.xml"))
    assert cross_check(exception, second, first) == []  # type: ignore[arg-type]
    # The EC example's exception names requester "NL22233223", the request "NL222332239": a real mismatch.
    assert [f.rule for f in cross_check(first, exception)] == ["OOTS-X-003"]


def test_mismatched_pairs_name_the_rule() -> None:
    request = samples.request(V1_2)
    response = samples.response(V1_2)
    assert cross_check(request, response) == []
    assert {f.rule for f in cross_check(request, dataclasses.replace(
        response, request_id="urn:uuid:00000000-0000-4000-8000-000000000000"))} == {"OOTS-X-001"}
    other = dataclasses.replace(request, natural_person=dataclasses.replace(request.natural_person,
                                                                            date_of_birth="1990-01-01"))
    assert {f.rule for f in cross_check(other, response)} == {"OOTS-X-005"}
    assert {f.rule for f in cross_check(samples.request(V2_0), response)} >= {"OOTS-X-002"}


def test_second_request_must_carry_the_preview_location_and_repeat_the_first() -> None:
    first = samples.request(V1_2)
    exception = samples.exception(V1_2, "EDM:ERR:0002", preview_location="https://preview.example.lv/p/abc")
    second = dataclasses.replace(first, id="urn:uuid:cb6b247f-232a-4163-87ce-c3e49b148e0a",
                                 preview_location="https://preview.example.lv/p/abc")
    assert cross_check(exception, second, first) == []
    assert {f.rule for f in cross_check(exception, dataclasses.replace(
        second, preview_location="https://preview.example.lv/p/other"), first)} == {"OOTS-X-011"}
    assert {f.rule for f in cross_check(exception, dataclasses.replace(second, id=first.id), first)} == {"OOTS-X-013"}
    assert {f.rule for f in cross_check(exception, dataclasses.replace(
        second, procedure=None), first)} == {"OOTS-X-012"}
    plain = samples.exception(V1_2, "EDM:ERR:0004")
    assert {f.rule for f in cross_check(plain, second)} == {"OOTS-X-010"}


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), obj={})
    return result.exit_code, result.output


def test_cli_validate_ec_examples(ec_dir: Path, specs_dir: Path) -> None:
    files = [str(p) for p in sorted(ec_dir.glob("TC0[16]*.xml"))]
    code, out = _run("edm", "validate", *files, "--specs", str(specs_dir), "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["valid"] and len(data["files"]) == len(files)
    assert all(any(a.endswith("EDM-REQ-C.sch") or a.endswith("EDM-RESP-C.sch") or a.endswith("EDM-ERR-C.sch")
                   for a in f["artifacts"]) for f in data["files"])


def test_cli_validate_fails_naming_each_rule(tmp_path: Path, ec_dir: Path) -> None:
    good = ec_dir / "TC01_Request.xml"
    bad = tmp_path / "bad.xml"
    bad.write_bytes(good.read_bytes().replace(b">High<", b">Highest<").replace(b"requirements/f8a6", b"reqs/f8a6"))
    code, out = _run("edm", "validate", str(good), str(bad))
    assert code == 1
    assert f"{good}: valid" in out and f"{bad}: INVALID" in out
    for rule in ("CODELIST-LoA", "R-EDM-REQ-C037", "OOTS-REQ-008"):
        assert f"✗ {rule}" in out


def test_cli_validate_v12_says_own_rules_only(tmp_path: Path) -> None:
    path = tmp_path / "v12.xml"
    path.write_bytes(to_bytes(samples.request(V1_2)))
    code, out = _run("edm", "validate", str(path))
    assert code == 0 and "v1.2: own rules only" in out


def test_cli_inspect_and_cross(tmp_path: Path) -> None:
    request, response = tmp_path / "req.xml", tmp_path / "resp.xml"
    request.write_bytes(to_bytes(samples.request(V2_0)))
    response.write_bytes(to_bytes(samples.response(V2_0)))
    code, out = _run("edm", "inspect", str(response), "--json")
    data = json.loads(out)
    assert code == 0 and data["type"] == "QueryResponse"
    assert data["evidence"][0]["classification_node"] == "MainEvidence"
    assert data["evidence"][0]["repository_item"]["href"].startswith("cid:")
    code, out = _run("edm", "inspect", str(request), "--json")
    parsed = json.loads(out)
    assert parsed["natural_person"]["family_name"] == "Smith" and parsed["issue_datetime"].startswith("2026-11-23")
    assert _run("edm", "cross", str(request), str(response))[0] == 0
    other = tmp_path / "other.xml"
    req = parse_message(request.read_bytes())
    assert isinstance(req, QueryRequest)
    other.write_bytes(to_bytes(dataclasses.replace(req, id="urn:uuid:00000000-0000-4000-8000-000000000001")))
    code, out = _run("edm", "cross", str(other), str(response), "--json")
    assert code == 1 and json.loads(out)["findings"][0]["rule"] == "OOTS-X-001"
    garbage = tmp_path / "garbage.xml"
    garbage.write_bytes(b"<x/>")
    assert _run("edm", "inspect", str(garbage))[0] == 1


def test_cli_cross_preview_pair_with_original(ec_dir: Path) -> None:
    first, exception, second = (str(ec_dir / n) for n in ("TC06_Request_1.xml", "TC06_Response_1.xml",
                                                            "TC06_Request_2.xml"))
    assert _run("edm", "cross", exception, second, "--original", first)[0] == 0
    code, out = _run("edm", "cross", exception, first, "--original", first)  # request #1 reused as #2
    assert code == 1 and "OOTS-X-011" in out
