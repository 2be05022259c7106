"""Adapter choice per evidence type: ``[[oots.data_services]]`` configuration (errors with codes), the router,
and the built data services answering one evidence type from a real SOAP register on loopback and the others
from the SQL sample registers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from lxml import etree
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.config import ConfigError, Settings, load_settings
from gateway.oots_dataservices import build_data_services
from oots.dataservice import latvian_registers as lv
from oots.dataservice.port import DataServiceError, EvidenceQuery
from oots.dataservice.rest_adapter import RestRegisterAdapter
from oots.dataservice.soap_adapter import SoapRegisterAdapter
from oots.dataservice.sql_register import SqlRegisterAdapter
from tests.oots import soap_register
from tests.oots.test_rest_adapter import ANNA

OTHER = "https://sr.oots.tech.ec.europa.eu/evidencetypeclassifications/LV/other"


def settings(services: list[dict[str, Any]], **oots: str) -> Settings:
    environ = {"GATEWAY_OOTS__DATA_SERVICES": json.dumps(services)}
    environ.update({f"GATEWAY_OOTS__{k.upper()}": v for k, v in oots.items()})
    return load_settings(environ=environ, default_file=False)


@pytest.mark.parametrize(("services", "code"), [
    ([{"evidence_type": lv.BIRTH, "adapter": "rest"}], "OOTS_DATA_SERVICE_URL"),
    ([{"evidence_type": lv.BIRTH, "adapter": "rest", "url": "ftp://x"}], "OOTS_DATA_SERVICE_URL"),
    ([{"evidence_type": lv.BIRTH, "adapter": "soap", "url": "file:///x"}], "OOTS_DATA_SERVICE_URL"),
    ([{"evidence_type": lv.BIRTH, "adapter": "sql", "wsdl": "x.wsdl"}], "OOTS_DATA_SERVICE_WSDL"),
    ([{"evidence_type": lv.BIRTH, "adapter": "soap", "url": "http://x", "bearer_token_file": "t"}],
     "OOTS_DATA_SERVICE_TOKEN"),
    ([{"evidence_type": lv.BIRTH, "adapter": "soap", "url": "http://x", "title": "T"}],
     "OOTS_DATA_SERVICE_METADATA"),
    ([{"evidence_type": lv.BIRTH, "adapter": "sql"}, {"evidence_type": lv.BIRTH, "adapter": "sql"}],
     "OOTS_DATA_SERVICE_DUPLICATE"),
])
def test_configuration_errors_name_the_entry_and_a_code(services: list[dict[str, Any]], code: str) -> None:
    with pytest.raises(ConfigError) as err:
        settings(services)
    assert err.value.key.startswith("oots.data_services") and code in err.value.problem


def test_unknown_keys_and_adapters_are_refused() -> None:
    with pytest.raises(ConfigError) as err:
        settings([{"evidence_type": lv.BIRTH, "adapter": "ldap"}])
    assert err.value.key == "oots.data_services.0.adapter"
    with pytest.raises(ConfigError) as extra:
        settings([{"evidence_type": lv.BIRTH, "adapter": "sql", "password": "x"}])
    assert extra.value.problem == "unknown key"


@pytest.mark.parametrize(("services", "code"), [
    ([{"evidence_type": lv.BIRTH, "adapter": "sql"}], "OOTS_DATA_SERVICE_URL"),  # no registers_url either
    ([{"evidence_type": OTHER, "adapter": "sql", "url": "sqlite+aiosqlite:///x.db"}], "OOTS_DATA_SERVICE_SQL_TYPE"),
    ([{"evidence_type": OTHER, "adapter": "soap", "url": "http://127.0.0.1:9/x"}], "OOTS_DATA_SERVICE_METADATA"),
    ([{"evidence_type": lv.BIRTH, "adapter": "soap"}], "OOTS_DATA_SERVICE_URL"),  # bundled WSDL, no endpoint
    ([{"evidence_type": lv.BIRTH, "adapter": "rest", "url": "http://127.0.0.1:9",
       "bearer_token_file": "/nonexistent/token"}], "OOTS_DATA_SERVICE_TOKEN"),
])
def test_build_errors_name_the_entry_and_a_code(services: list[dict[str, Any]], code: str) -> None:
    with pytest.raises(ConfigError) as err:
        build_data_services(settings(services).oots)
    assert err.value.key == "oots.data_services[0]" and code in err.value.problem


def test_no_data_services_means_no_provider() -> None:
    assert build_data_services(settings([]).oots) is None


@pytest.fixture
async def soap_url() -> AsyncIterator[tuple[str, dict[str, Any]]]:
    behaviour: dict[str, Any] = {"mode": "ok"}
    runner = web.AppRunner(soap_register.create_app(behaviour), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}{soap_register.PATH}", behaviour
    await runner.cleanup()


async def test_one_type_from_soap_the_others_from_sql(tmp_path: Path, soap_url, ) -> None:  # type: ignore[no-untyped-def]
    url, behaviour = soap_url
    registers = f"sqlite+aiosqlite:///{tmp_path / 'registers.db'}"
    engine = create_async_engine(registers)
    await lv.create_sample_registers(engine)
    await engine.dispose()
    token = tmp_path / "token"
    token.write_text("s3cret\n", encoding="utf-8")
    built = build_data_services(settings([
        {"evidence_type": lv.DIPLOMA, "adapter": "soap", "wsdl": f"{url}?wsdl", "timeout_s": 2},
        {"evidence_type": lv.VEHICLE, "adapter": "rest", "url": "http://127.0.0.1:9", "bearer_token_file": str(token)},
        {"evidence_type": OTHER, "adapter": "soap", "url": url, "title": "Other", "authority_id": "90000000000",
         "authority_name": "Some authority", "level_of_assurance": "Low"},
    ], registers_url=registers).oots)
    assert built is not None
    router = built.router
    try:
        assert isinstance(router.adapter_for(lv.DIPLOMA), SoapRegisterAdapter)
        assert isinstance(router.adapter_for(lv.VEHICLE), RestRegisterAdapter)
        assert isinstance(router.adapter_for(lv.BIRTH), SqlRegisterAdapter)
        assert router.adapter_for("urn:x:unknown") is None
        assert router.evidence_types == {lv.BIRTH, lv.RESIDENCE, lv.VEHICLE, lv.DIPLOMA, OTHER}
        assert router.required_loa[lv.BIRTH] == "High" and router.required_loa[OTHER] == "Low"
        diploma = await router.fetch(EvidenceQuery(lv.DIPLOMA, ANNA))  # SOAP: JSON records
        assert json.loads(diploma[0].content)["record_id"] == "D-LU-2012-0001"
        assert behaviour["seen"][-1]["evidence_type"] == lv.DIPLOMA
        birth = await router.fetch(EvidenceQuery(lv.BIRTH, ANNA))  # SQL: rendered XML
        assert etree.fromstring(birth[0].content).tag == f"{{{lv.NS}}}BirthRecord"
        assert len(behaviour["seen"]) == 1
        with pytest.raises(DataServiceError) as unknown:
            await router.fetch(EvidenceQuery("urn:x:unknown", ANNA))
        assert unknown.value.code == "EVIDENCE_TYPE_UNKNOWN"
        with pytest.raises(DataServiceError) as down:  # the REST register of VEHICLE is down
            await router.fetch(EvidenceQuery(lv.VEHICLE, ANNA))
        assert down.value.code == "REGISTRY_ERROR"
    finally:
        await built.close()
