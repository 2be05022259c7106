"""The provider's data services from configuration: the SQL register of ``oots.registers_url`` for every sample
evidence type, and ``[[oots.data_services]]`` entries routing single evidence types to another SQL register, a
REST register or a SOAP register (gateway/oots_config.py). The result is one :class:`DataServiceRouter`.

Errors name the entry and carry an ``OOTS_DATA_SERVICE_*`` code (as :class:`gateway.config.ConfigError`, so the
node stops with one clear line)."""

from __future__ import annotations

import importlib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from gateway.config import ConfigError, OotsSection
from gateway.oots_config import OotsDataService
from oots.dataservice import latvian_registers
from oots.dataservice.remote_register import EvidenceTypeInfo
from oots.dataservice.rest_adapter import RestRegisterAdapter
from oots.dataservice.router import DataServiceRouter, RegisterAdapter
from oots.dataservice.soap_adapter import DEFAULT_WSDL, SoapRegisterAdapter
from oots.dataservice.sql_register import RegisterMapping, SqlRegisterAdapter
from oots.edm.model import Text


@dataclass
class DataServices:
    router: DataServiceRouter
    engines: list[AsyncEngine] = field(default_factory=list)  # disposed when the node stops

    async def close(self) -> None:
        for engine in self.engines:
            await engine.dispose()


def build_data_services(settings: OotsSection) -> DataServices | None:
    """None when the node is no provider (neither registers_url nor data_services)."""
    if not settings.registers_url and not settings.data_services:
        return None
    engines: dict[str, AsyncEngine] = {}
    # The module describing the SQL registers (MAPPINGS, PERSON_QUERY): the Latvian samples by default, the demo's
    # partner member state its own; its mappings are also the "sample evidence types" below.
    registers = importlib.import_module(settings.registers_module)

    def sql(url: str, types: tuple[str, ...] | None, timeout_s: float) -> SqlRegisterAdapter:
        if url not in engines:
            engines[url] = create_async_engine(url)
        mappings = [m for m in registers.MAPPINGS if types is None or m.evidence_type in types]
        return SqlRegisterAdapter(engines[url], mappings, person_query=registers.PERSON_QUERY, timeout_s=timeout_s)

    try:
        default = sql(settings.registers_url, None, settings.register_timeout_s) if settings.registers_url else None
        sample = {m.evidence_type: m for m in registers.MAPPINGS}
        routes = {entry.evidence_type: _adapter(index, entry, settings, sql, sample)
                  for index, entry in enumerate(settings.data_services)}
    except Exception:
        for engine in engines.values():
            engine.sync_engine.dispose()
        raise
    return DataServices(DataServiceRouter(routes, default), list(engines.values()))


SqlFactory = Callable[[str, "tuple[str, ...] | None", float], SqlRegisterAdapter]


def _adapter(index: int, entry: OotsDataService, settings: OotsSection, sql: SqlFactory,
             sample: Mapping[str, RegisterMapping]) -> RegisterAdapter:
    key = f"oots.data_services[{index}]"
    timeout_s = entry.timeout_s or settings.register_timeout_s
    if entry.adapter == "sql":
        url = entry.url or settings.registers_url
        if not url:
            raise ConfigError(key, "OOTS_DATA_SERVICE_URL: adapter 'sql' needs url or oots.registers_url")
        if entry.evidence_type not in sample:
            raise ConfigError(key, f"OOTS_DATA_SERVICE_SQL_TYPE: the SQL register maps only the sample evidence "
                                   f"types, not {entry.evidence_type}")
        return sql(url, (entry.evidence_type,), timeout_s)
    info = _type_info(key, entry, sample)
    if entry.adapter == "rest":
        token = None
        if entry.bearer_token_file is not None:
            try:
                token = entry.bearer_token_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(key, f"OOTS_DATA_SERVICE_TOKEN: cannot read bearer_token_file: "
                                       f"{exc.strerror}") from None
        context = ssl.create_default_context(cafile=str(entry.ca_file)) if entry.ca_file is not None else None
        return RestRegisterAdapter(entry.url, [info], timeout_s=timeout_s, bearer_token=token, ssl_context=context)
    wsdl = entry.wsdl or str(DEFAULT_WSDL)
    if not entry.wsdl and not entry.url:
        raise ConfigError(key, "OOTS_DATA_SERVICE_URL: adapter 'soap' with the bundled WSDL needs url (the endpoint)")
    return SoapRegisterAdapter(wsdl, [info], endpoint=entry.url or None, timeout_s=timeout_s, ca_file=entry.ca_file)


def _type_info(key: str, entry: OotsDataService, sample: Mapping[str, RegisterMapping]) -> EvidenceTypeInfo:
    if entry.title:
        return EvidenceTypeInfo(entry.evidence_type, (Text(entry.title, "EN"),),
                                latvian_registers.authority(entry.authority_id, entry.authority_name),
                                entry.level_of_assurance or "Substantial")
    mapping = sample.get(entry.evidence_type)
    if mapping is None:
        raise ConfigError(key, f"OOTS_DATA_SERVICE_METADATA: {entry.evidence_type} is no sample evidence type: give "
                               "title, authority_id and authority_name")
    return EvidenceTypeInfo(entry.evidence_type, mapping.titles, mapping.issuing_authority,
                            entry.level_of_assurance or mapping.level_of_assurance)
