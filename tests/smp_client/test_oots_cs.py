from __future__ import annotations

from collections.abc import Callable

import pytest

from smp_client.errors import SmlError
from smp_client.oots_cs import CommonService, common_service_name, resolve_common_service
from tests.smp_client.dnsmasq import Dnsmasq, DnsZone, Naptr


def test_names() -> None:
    assert common_service_name("LV", "dsd") == "lv.dsd.v1.cs.acc.oots.tech.ec.europa.eu"
    assert common_service_name("ee", CommonService.EVIDENCE_BROKER, major=2, environment="prod") \
        == "ee.eb.v2.cs.prod.oots.tech.ec.europa.eu"
    for bad in (("LVA", "dsd"), ("LV", "xx")):
        with pytest.raises((SmlError, ValueError)):
            common_service_name(*bad)


async def test_resolve_through_dnsmasq(dnsmasq: Callable[[DnsZone], Dnsmasq]) -> None:
    domain = "oots.test.example"
    server = dnsmasq(DnsZone(naptr=[
        Naptr(f"lv.dsd.v1.cs.acc.{domain}", "!.*!https://query.cs.acc.oots.test.example!", service="x-oots:dsd"),
        Naptr(f"lv.eb.v1.cs.acc.{domain}", "!.*!http://plain.example!", service="x-oots:eb"),
    ], local_zones=[domain]))
    found = await resolve_common_service("LV", "dsd", domain=domain, nameserver=server.address)
    assert found.base_url == "https://query.cs.acc.oots.test.example/"
    with pytest.raises(SmlError) as caught:
        await resolve_common_service("LV", "eb", domain=domain, nameserver=server.address)
    assert caught.value.code == "SML_URI_NOT_HTTPS"
    with pytest.raises(SmlError) as caught:
        await resolve_common_service("EE", "dsd", domain=domain, nameserver=server.address)
    assert caught.value.code == "SML_NXDOMAIN"
