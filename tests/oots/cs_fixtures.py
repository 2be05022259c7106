"""The common-services simulator as a fixture (``start``) and a client for it, shared by the OOTS tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from oots.commonservices.catalogue import load_catalogue
from oots.commonservices.client import CommonServicesClient
from oots.commonservices.simulator import SimulatorConfig, create_app
from pki.keys.port import KeyPurpose
from pki.trust.model import RevocationPolicy
from pki.trust.store import TrustStore
from tests.pki.pkihelpers import foreign_chain

REPO = Path(__file__).resolve().parents[2]
CATALOGUE = load_catalogue(REPO / "config" / "oots" / "common-services.yaml")
T2_REQUIREMENT = "https://sr.oots.tech.ec.europa.eu/requirements/f8a6a284-34e9-42c7-9733-63b5c4f4aa42"
DIPLOMA = "https://sr.oots.tech.ec.europa.eu/evidencetypeclassifications/LV/6a1f2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b"
RESIDENCE = "https://sr.oots.tech.ec.europa.eu/evidencetypeclassifications/LV/3d4e5f60-7182-4c9d-8e0f-2a3b4c5d6e7f"
REGION = "6b7c8d9e-0f1a-4b2c-8d3e-4f5a6b7c8d9e"
PURPOSE = KeyPurpose.SMP_SIGNING

EC_CA, EC_LEAF, EC_KEY = foreign_chain(PURPOSE, "ec", org="European Commission CS test")
TRUST = TrustStore("ec-common-services", [EC_CA.certificate], policy=RevocationPolicy(require_crl=False))


Start = Callable[..., "AsyncIterator[str]"]


@pytest.fixture
async def start() -> AsyncIterator[Callable[..., object]]:
    runners: list[web.AppRunner] = []

    async def run(**overrides: object) -> str:
        config = SimulatorConfig(CATALOGUE, EC_KEY, [EC_LEAF, EC_CA.certificate])
        for key, value in overrides.items():
            setattr(config, key, value)
        runner = web.AppRunner(create_app(config))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}"

    yield run
    for runner in runners:
        await runner.cleanup()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


def client(session: aiohttp.ClientSession, base: str, **kwargs: object) -> CommonServicesClient:
    return CommonServicesClient(session, trust=TRUST, eb_url=f"{base}/eb", dsd_url=f"{base}/dsd", **kwargs)  # type: ignore[arg-type]


