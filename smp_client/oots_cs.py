"""OOTS common services (Evidence Broker, Data Service Directory): which instance serves a country.

The EC publishes one U-NAPTR record per country, service and major version at
``<cc>.<eb|dsd>.v<major>.cs.<env>.oots.tech.ec.europa.eu`` (flag ``U``, regexp ``!.*!<base URL>!``); the base
URL is where the RegRep REST queries go (``{base}/rest/search?queryId=…``). oots/ calls :func:`resolve_common_service`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from smp_client.errors import SmlError
from smp_client.naptr import apply_regexp, check_smp_url
from smp_client.sml import naptr_records

OOTS_CS_DOMAIN = "oots.tech.ec.europa.eu"
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")


class CommonService(StrEnum):
    EVIDENCE_BROKER = "eb"
    DATA_SERVICE_DIRECTORY = "dsd"


@dataclass(frozen=True, slots=True)
class CommonServiceInstance:
    service: CommonService
    country: str
    name: str
    base_url: str
    ttl: int


def common_service_name(country: str, service: CommonService | str, *, major: int = 1, environment: str = "acc",
                        domain: str = OOTS_CS_DOMAIN) -> str:
    """``lv.dsd.v1.cs.acc.oots.tech.ec.europa.eu`` and the like."""
    if not _COUNTRY.match(country):
        raise SmlError("OOTS_CS_COUNTRY", f"{country!r} is not a two-letter country code")
    if major < 1:
        raise SmlError("OOTS_CS_VERSION", f"major version {major} is not positive")
    if not re.match(r"^[a-z0-9-]{1,20}$", environment):
        raise SmlError("OOTS_CS_ENVIRONMENT", f"{environment!r} is not an environment label")
    return f"{country.lower()}.{CommonService(service).value}.v{major}.cs.{environment}.{domain.strip('.')}"


async def resolve_common_service(country: str, service: CommonService | str, *, major: int = 1,
                                 environment: str = "acc", domain: str = OOTS_CS_DOMAIN,
                                 nameserver: tuple[str, int] | None = None,
                                 dns_timeout: float = 5.0) -> CommonServiceInstance:
    """The base URL of the common service instance for ``country`` (https only)."""
    name = common_service_name(country, service, major=major, environment=environment, domain=domain)
    records, ttl = await naptr_records(name, nameserver=nameserver, dns_timeout=dns_timeout)
    usable = sorted((r for r in records if r.flags.upper() == "U"), key=lambda r: (r.order, r.preference))
    if not usable:
        raise SmlError("OOTS_CS_NO_RECORD", f"{name}: no U-NAPTR record")
    url = check_smp_url(apply_regexp(usable[0].regexp, name), require_https=True)
    return CommonServiceInstance(CommonService(service), country.upper(), name, url + "/", ttl)
