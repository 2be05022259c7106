"""OOTS over AS4 end to end: two node processes on loopback (gateway.oots_devnet) and the common-services
simulator; a portal uses the requester API of one node, the other answers from the sample Latvian registers.
Tests are named after the Projectathon cases and run for EDM v1.2 (eDelivery AS4 1.15) and v2.0 (AS4 2.0)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from gateway.devnet import BackendClient, DevNode, NodeProcess, free_port
from gateway.oots_devnet import OotsPair, prepare_oots_pair, write_trust_dir
from tests.oots.oots_net import ANNA, SimulatorThread, create, download, settled

pytestmark = pytest.mark.slow
VERSIONS = ("oots-edm:v1.2", "oots-edm:v2.0")
DIPLOMA = "https://sr.oots.tech.ec.europa.eu/evidencetypeclassifications/LV/6a1f2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimulatorThread]:
    sim = SimulatorThread().start()
    yield sim
    sim.stop()


@pytest.fixture(scope="module", params=VERSIONS)
def net(request: pytest.FixtureRequest, simulator: SimulatorThread, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[tuple[OotsPair, NodeProcess, NodeProcess, str]]:
    version = request.param
    base = tmp_path_factory.mktemp("oots-" + version.replace(":", "-"))
    trust = write_trust_dir(base / "cs-trust", simulator.certificate_pem)
    portal_node = DevNode("DE-GW", base / "de", free_port())
    provider_node = DevNode("LV-GW-DEV", base / "lv", free_port())
    pair = asyncio.run(prepare_oots_pair(portal_node, provider_node, cs_url=simulator.url, cs_trust_dir=trust,
                                         versions=(version,), timeouts={"t1_s": 20, "t2_s": 3, "t3_s": 3,
                                                                        "requester_margin_s": 4},
                                         register_timeout_s=1.5))
    procs = (NodeProcess(portal_node), NodeProcess(provider_node))
    for proc in procs:
        proc.start()
    try:
        yield pair, procs[0], procs[1], version
    finally:
        for proc in procs:
            proc.stop()


@pytest.fixture
async def portal(net) -> AsyncIterator[BackendClient]:  # type: ignore[no-untyped-def]
    async with aiohttp.ClientSession() as http:
        yield BackendClient(net[0].requester, http)


async def test_tc01_request_without_preview_gives_the_evidence(net, portal) -> None:  # type: ignore[no-untyped-def]
    status, created = await create(portal, procedure="T2", country="LV", person=ANNA, preview_allowed=False)
    assert status == 201, created
    done = await settled(portal, created["id"])
    assert done["state"] == "completed", (done["error"], done["exchanges"])
    (exchange,) = done["exchanges"]
    assert exchange["edm_version"] == net[3] and exchange["state"] == "evidence"
    (evidence,) = done["evidence"]
    assert evidence["metadata"]["evidence_type"] == DIPLOMA
    status, body, headers = await download(portal, created["id"], evidence["id"])
    assert status == 200 and b"D-LU-2012-0001" in body and headers["X-Content-SHA256"] == evidence["sha256"]


def _unused(path: Path) -> None:
    return None
