"""Adapter choice per evidence type, end to end: two node processes on loopback (EDM v1.2) and the
common-services simulator; the provider node answers the diploma from a real SOAP register (our WSDL, in a
thread of this process) and the birth record from its SQL sample registers, both in one portal request
(procedure S1). Then the SOAP register fails (SOAP fault → EDM:ERR:0008) while the SQL type still answers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from lxml import etree

from gateway.devnet import BackendClient, DevNode, NodeProcess, free_port
from gateway.oots_devnet import prepare_oots_pair, write_trust_dir
from oots.dataservice import latvian_registers as lv
from tests.oots import soap_register
from tests.oots.oots_net import ANNA, AppThread, SimulatorThread, create, download, settled

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def soap() -> Iterator[tuple[AppThread, dict[str, Any]]]:
    behaviour: dict[str, Any] = {"mode": "ok"}
    thread = AppThread(lambda: soap_register.create_app(behaviour)).start()
    yield thread, behaviour
    thread.stop()


@pytest.fixture(scope="module")
def nodes(soap: tuple[AppThread, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[DevNode]:
    sim = SimulatorThread().start()
    base = tmp_path_factory.mktemp("oots-data-services")
    trust = write_trust_dir(base / "cs-trust", sim.certificate_pem)
    portal_node = DevNode("DE-GW", base / "de", free_port())
    provider_node = DevNode("LV-GW-DEV", base / "lv", free_port())
    asyncio.run(prepare_oots_pair(portal_node, provider_node, cs_url=sim.url, cs_trust_dir=trust,
                                  versions=("oots-edm:v1.2",), register_timeout_s=3))
    thread, _ = soap
    provider_node.settings_overrides["oots__data_services"] = json.dumps([
        {"evidence_type": lv.DIPLOMA, "adapter": "soap", "wsdl": f"{thread.url}{soap_register.PATH}?wsdl"}])
    procs = (NodeProcess(portal_node), NodeProcess(provider_node))
    for proc in procs:
        proc.start()
    try:
        yield portal_node
    finally:
        for proc in procs:
            proc.stop()
        sim.stop()


@pytest.fixture
async def portal(nodes: DevNode) -> AsyncIterator[BackendClient]:
    async with aiohttp.ClientSession() as http:
        yield BackendClient(nodes, http)


async def _evidence(portal: BackendClient, request_id: str, done: dict[str, Any]) -> dict[str, bytes]:
    out = {}
    for evidence in done["evidence"]:
        status, body, _ = await download(portal, request_id, evidence["id"])
        assert status == 200
        out[evidence["metadata"]["evidence_type"]] = body
    return out


async def test_diploma_from_soap_and_birth_record_from_sql_in_one_request(
        portal: BackendClient, soap: tuple[AppThread, dict[str, Any]]) -> None:
    _, behaviour = soap
    status, created = await create(portal, procedure="S1", country="LV", person=ANNA, preview_allowed=False)
    assert status == 201, created
    done = await settled(portal, created["id"])
    assert done["state"] == "completed", (done["error"], done["exchanges"])
    evidence = await _evidence(portal, created["id"], done)
    assert json.loads(evidence[lv.DIPLOMA])["record_id"] == "D-LU-2012-0001"  # the SOAP register's JSON
    assert etree.fromstring(evidence[lv.BIRTH]).tag == f"{{{lv.NS}}}BirthRecord"  # the SQL register's XML
    assert [s["evidence_type"] for s in behaviour["seen"]] == [lv.DIPLOMA]  # the birth record never went there
    assert behaviour["wsdl_loads"] == 1


async def test_soap_fault_fails_only_the_soap_typed_exchange(portal: BackendClient,
                                                              soap: tuple[AppThread, dict[str, Any]]) -> None:
    _, behaviour = soap
    behaviour["mode"] = "fault"
    try:
        status, created = await create(portal, procedure="S1", country="LV", person=ANNA, preview_allowed=False)
        assert status == 201, created
        done = await settled(portal, created["id"])
    finally:
        behaviour["mode"] = "ok"
    states = {x["evidence_type"]: x for x in done["exchanges"]}
    assert states[lv.BIRTH]["state"] == "evidence"
    assert states[lv.DIPLOMA]["state"] == "failed"
    assert states[lv.DIPLOMA]["error"] == {"code": "EDM:ERR:0008",
                                           "detail": "the register answered SOAP fault soap:Server"}
    assert done["state"] == "failed" and done["error"]["code"] == "EDM:ERR:0008"
    assert [e["metadata"]["evidence_type"] for e in done["evidence"]] == [lv.BIRTH]
