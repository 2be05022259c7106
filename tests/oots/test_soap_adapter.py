"""The SOAP data-service adapter (zeep + WSDL) against a real SOAP 1.1 register service on loopback serving the
sample Latvian registers (tests/oots/soap_register.py): the same outcomes and codes as the REST adapter, plus
SOAP faults, answers not matching the WSDL, hardened parsing of the WSDL and of answers, and no blocking."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from oots.dataservice import latvian_registers as lv
from oots.dataservice.port import DataServiceError, EvidenceQuery
from oots.dataservice.soap_adapter import DEFAULT_WSDL, SoapRegisterAdapter
from oots.edm.model import Identifier, NaturalPerson
from tests.oots import sample_register, soap_register
from tests.oots.test_rest_adapter import ANNA, TYPES


@pytest.fixture
async def register() -> AsyncIterator[tuple[str, dict[str, Any]]]:
    behaviour: dict[str, Any] = {"mode": "ok"}
    runner = web.AppRunner(soap_register.create_app(behaviour), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}{soap_register.PATH}", behaviour
    await runner.cleanup()


def adapter(url: str, **kwargs: Any) -> SoapRegisterAdapter:
    return SoapRegisterAdapter(url, TYPES, **kwargs)


async def test_unique_match_returns_the_persons_evidence(register) -> None:  # type: ignore[no-untyped-def]
    url, behaviour = register
    docs = await adapter(url).fetch(EvidenceQuery(lv.DIPLOMA, ANNA))
    assert [d.identifier for d in docs] == ["D-LU-2012-0001"]
    assert json.loads(docs[0].content)["institution"] == "Latvijas Universitāte"
    assert docs[0].subject.family_name == "Bērziņa" and docs[0].media_type == "application/json"
    assert docs[0].issuing_date == sample_register.record("D-LU-2012-0001")["issued_on"]  # type: ignore[index]
    assert docs[0].conforms_to == "urn:x-gateway:lv-registers:json"
    assert behaviour["seen"][-1]["evidence_type"] == lv.DIPLOMA


async def test_wsdl_from_a_file_with_the_endpoint_configured(register) -> None:  # type: ignore[no-untyped-def]
    url, _ = register
    docs = await adapter(DEFAULT_WSDL, endpoint=url).fetch(EvidenceQuery(lv.RESIDENCE, ANNA))
    assert json.loads(docs[0].content)["record_id"] == "R-2019-7788"


async def test_no_evidence_for_the_matched_person(register) -> None:  # type: ignore[no-untyped-def]
    url, _ = register
    assert await adapter(url).fetch(EvidenceQuery(lv.VEHICLE, ANNA)) == []


async def test_ambiguous_and_no_match(register) -> None:  # type: ignore[no-untyped-def]
    url, behaviour = register
    soap = adapter(url)
    with pytest.raises(DataServiceError) as amb:
        await soap.fetch(EvidenceQuery(lv.VEHICLE, NaturalPerson("Ozols", "Janis", "1985-05-15")))
    assert amb.value.code == "IDENTITY_AMBIGUOUS" and amb.value.edm_code == "EDM:ERR:0004"
    # The eIDAS identifier (sent in the request) decides between the two namesakes.
    docs = await soap.fetch(EvidenceQuery(lv.BIRTH, NaturalPerson("Ozols", "Janis", "1985-05-15",
                                                                  Identifier("LV/DE/OZOLS-3"))))
    assert [d.identifier for d in docs] == ["B-1985-0420"]
    assert behaviour["seen"][-1]["eidas_identifier"] == "LV/DE/OZOLS-3"
    with pytest.raises(DataServiceError) as none:
        await soap.fetch(EvidenceQuery(lv.BIRTH, NaturalPerson("Nobody", "X", "1990-01-01")))
    assert none.value.code == "IDENTITY_NOT_MATCHED" and none.value.edm_code == "EDM:ERR:0004"


@pytest.mark.parametrize(("mode", "code", "edm"), [("slow", "REGISTRY_TIMEOUT", "EDM:ERR:0005"),
                                                   ("fault", "REGISTRY_FAULT", "EDM:ERR:0008"),
                                                   ("http500", "REGISTRY_ERROR", "EDM:ERR:0008"),
                                                   ("garbage", "REGISTRY_ERROR", "EDM:ERR:0008"),
                                                   ("doctype", "REGISTRY_ERROR", "EDM:ERR:0008"),
                                                   ("bad-base64", "REGISTRY_ERROR", "EDM:ERR:0008"),
                                                   ("not-wsdl-shaped", "REGISTRY_ERROR", "EDM:ERR:0008")])
async def test_register_failures(register, mode: str, code: str, edm: str) -> None:  # type: ignore[no-untyped-def]
    url, behaviour = register
    soap = adapter(url, timeout_s=0.5)
    await soap.service()  # the WSDL is loaded before the register misbehaves
    behaviour["mode"] = mode
    with pytest.raises(DataServiceError) as err:
        await soap.fetch(EvidenceQuery(lv.DIPLOMA, ANNA))
    assert err.value.code == code and err.value.edm_code == edm
    if mode == "fault":  # the fault code is named; the register's own text stays out of the answer
        assert "soap:Server" in err.value.message and "database" not in err.value.message


async def test_the_event_loop_keeps_running_while_the_register_is_slow(register) -> None:  # type: ignore[no-untyped-def]
    url, behaviour = register
    soap = adapter(url, timeout_s=1.0)
    await soap.service()
    behaviour["mode"] = "slow"
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    with pytest.raises(DataServiceError):
        await soap.fetch(EvidenceQuery(lv.DIPLOMA, ANNA))
    task.cancel()
    assert ticks > 20  # about 100 in the second the lookup waited; a blocked loop would give ~0


async def test_unreachable_register_unknown_type_and_failed_wsdl_load_retried(register) -> None:  # type: ignore[no-untyped-def]
    url, _ = register
    with socket.socket() as s:  # an ephemeral port nobody listens on once closed
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}{soap_register.PATH}"
    with pytest.raises(DataServiceError) as err:
        await adapter(dead).fetch(EvidenceQuery(lv.BIRTH, ANNA))
    assert err.value.code == "REGISTRY_ERROR"
    with pytest.raises(DataServiceError) as endpoint_down:
        await adapter(DEFAULT_WSDL, endpoint=dead).fetch(EvidenceQuery(lv.BIRTH, ANNA))
    assert endpoint_down.value.code == "REGISTRY_ERROR"
    with pytest.raises(DataServiceError) as unknown:
        await adapter(url).fetch(EvidenceQuery("urn:x:other", ANNA))
    assert unknown.value.code == "EVIDENCE_TYPE_UNKNOWN"


def _wsdl_with(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def test_hardened_wsdl_loading(tmp_path: Path) -> None:
    wsdl = DEFAULT_WSDL.read_text(encoding="utf-8")
    with_dtd = _wsdl_with(tmp_path, "dtd.wsdl", wsdl.replace(
        "<wsdl:definitions", '<!DOCTYPE wsdl:definitions [<!ENTITY x "y">]>\n<wsdl:definitions', 1))
    secret = _wsdl_with(tmp_path, "secret.xsd", '<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema"/>')
    with_import = _wsdl_with(tmp_path, "import.wsdl", wsdl.replace(
        '<xsd:schema targetNamespace="urn:x-gateway:register-evidence:v1" elementFormDefault="qualified">',
        '<xsd:schema targetNamespace="urn:x-gateway:register-evidence:v1" elementFormDefault="qualified">'
        f'<xsd:import namespace="urn:x:other" schemaLocation="{secret.as_uri()}"/>', 1))
    for path, refused in ((with_dtd, "DTDForbidden"), (with_import, "ExternalReferenceForbidden")):
        with pytest.raises(DataServiceError) as err:
            await adapter(path, endpoint="http://127.0.0.1:9/x").fetch(EvidenceQuery(lv.BIRTH, ANNA))
        assert err.value.code == "REGISTRY_ERROR" and refused in err.value.message, path.name


async def test_concurrent_lookups_share_one_wsdl_load(register) -> None:  # type: ignore[no-untyped-def]
    url, behaviour = register
    soap = adapter(url)
    results = await asyncio.gather(*(soap.fetch(EvidenceQuery(lv.DIPLOMA, ANNA)) for _ in range(10)))
    assert all([d.identifier for d in r] == ["D-LU-2012-0001"] for r in results)
    assert len(behaviour["seen"]) == 10 and behaviour["wsdl_loads"] == 1
