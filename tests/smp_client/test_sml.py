from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from smp_client import identifiers
from smp_client.errors import SmlError
from smp_client.hashing import HashMode, dns_name
from smp_client.naptr import NaptrRecord, apply_regexp, smp_url_from_naptr
from smp_client.sml import SmlNetwork, parse_nameserver, resolve_smp
from tests.smp_client.dnsmasq import Dnsmasq, DnsZone, Naptr

ZONE = "sml.test.example"
PARTICIPANT = identifiers.participant("iso6523-actorid-upis::0088:4035811991021")
EBCORE = identifiers.participant("urn:oasis:names:tc:ebcore:partyid-type:iso6523:0088:123456789")
NAME = dns_name(PARTICIPANT, ZONE)

Start = Callable[[DnsZone], Dnsmasq]


async def test_bdxl_naptr_through_dnsmasq(dnsmasq: Start) -> None:
    server = dnsmasq(DnsZone(naptr=[
        Naptr(NAME, "!.*!https://smp.partner.example/!"),
        Naptr(NAME, "!.*!https://other.example/!", service="Meta:Other", order=10),
        Naptr(dns_name(EBCORE, ZONE), "!^.*$!https://smp2.partner.example:8443/bdxr!"),
    ], ttl=321))
    answer = await resolve_smp(PARTICIPANT, SmlNetwork(ZONE), nameserver=server.address)
    assert answer.smp_url == "https://smp.partner.example"
    assert answer.ttl == 321
    assert answer.name == NAME
    ebcore = await resolve_smp(EBCORE, SmlNetwork(ZONE), nameserver=server.address)
    assert ebcore.smp_url == "https://smp2.partner.example:8443/bdxr"


async def test_peppol_cname_through_dnsmasq(dnsmasq: Start) -> None:
    name = dns_name(PARTICIPANT, ZONE, HashMode.PEPPOL_CNAME)
    server = dnsmasq(DnsZone(hosts=[("smp.host.example", "127.0.0.1")], cname=[(name, "smp.host.example")]))
    answer = await resolve_smp(PARTICIPANT, SmlNetwork(ZONE, HashMode.PEPPOL_CNAME, require_https=False),
                               nameserver=server.address)
    assert answer.smp_url == f"http://{name}"
    with pytest.raises(SmlError) as caught:  # the classic scheme is plain http: refused where https is required
        await resolve_smp(PARTICIPANT, SmlNetwork(ZONE, HashMode.PEPPOL_CNAME), nameserver=server.address)
    assert caught.value.code == "SML_URI_NOT_HTTPS"


@pytest.mark.parametrize(("regexp", "code"), [
    ("!.*https://smp.example/", "SML_NAPTR_REGEXP"),
    ("!(!https://smp.example/!", "SML_NAPTR_REGEXP"),
    ("!.*!http://smp.example/!", "SML_URI_NOT_HTTPS"),
    ("!.*!ftp://smp.example/!", "SML_URI_MALFORMED"),
])
async def test_bad_naptr_answers_refused(dnsmasq: Start, regexp: str, code: str) -> None:
    server = dnsmasq(DnsZone(naptr=[Naptr(NAME, regexp)]))
    with pytest.raises(SmlError) as caught:
        await resolve_smp(PARTICIPANT, SmlNetwork(ZONE), nameserver=server.address)
    assert caught.value.code == code


async def test_wrong_flag_and_missing_service(dnsmasq: Start) -> None:
    server = dnsmasq(DnsZone(naptr=[Naptr(NAME, "!.*!https://x.example/!", flags="S")]))
    with pytest.raises(SmlError) as caught:
        await resolve_smp(PARTICIPANT, SmlNetwork(ZONE), nameserver=server.address)
    assert caught.value.code == "SML_NAPTR_FLAGS"
    server2 = dnsmasq(DnsZone(naptr=[Naptr(NAME, "!.*!https://x.example/!", service="Meta:Other")]))
    with pytest.raises(SmlError) as caught:
        await resolve_smp(PARTICIPANT, SmlNetwork(ZONE), nameserver=server2.address)
    assert caught.value.code == "SML_NO_SMP_RECORD"


async def test_nxdomain(dnsmasq: Start) -> None:
    server = dnsmasq(DnsZone(naptr=[Naptr(NAME, "!.*!https://x.example/!")], local_zones=[ZONE]))
    other = identifiers.participant("iso6523-actorid-upis::0088:999")
    with pytest.raises(SmlError) as caught:
        await resolve_smp(other, SmlNetwork(ZONE), nameserver=server.address)
    assert caught.value.code == "SML_NXDOMAIN"


async def test_timeout_against_a_silent_server() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # receives, never answers
        silent.bind(("127.0.0.1", 0))
        with pytest.raises(SmlError) as caught:
            await resolve_smp(PARTICIPANT, SmlNetwork(ZONE), nameserver=silent.getsockname(), dns_timeout=0.5)
    assert caught.value.code == "SML_TIMEOUT"


def test_regexp_backreferences_and_escapes() -> None:
    assert apply_regexp("!^([A-Z0-9]+)\\..*$!https://\\1.smp.example!", "ABC.zone") == "https://ABC.smp.example"
    assert apply_regexp("#.*#https://a.example/x!y#", "n") == "https://a.example/x!y"
    with pytest.raises(SmlError):
        apply_regexp("!^(a)$!https://\\2!", "a")
    with pytest.raises(SmlError):
        apply_regexp("a.*a", "x")
    with pytest.raises(SmlError) as caught:  # catastrophic backtracking shape, from unauthenticated DNS
        apply_regexp("!^(A+)+$!https://x!", "A" * 60 + "!")
    assert "nested" in caught.value.message


def test_lowest_order_wins() -> None:
    records = [NaptrRecord(20, 1, "U", "Meta:SMP", "!.*!https://b.example!"),
               NaptrRecord(10, 5, "u", "meta:smp", "!.*!https://a.example!")]
    assert smp_url_from_naptr(records, "n") == "https://a.example"


def test_nameserver_parsing() -> None:
    assert parse_nameserver("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert parse_nameserver("[::1]:53") == ("::1", 53)
    with pytest.raises(SmlError):
        parse_nameserver("host:port")


async def test_naptr_with_a_replacement_instead_of_a_regexp(dnsmasq: Start) -> None:
    """U-NAPTR for Meta:SMP must carry the URI in its regexp; a record with a replacement name is refused."""
    server = dnsmasq(DnsZone(naptr=[Naptr(NAME, "", replacement="smp.example.")]))
    with pytest.raises(SmlError) as caught:
        await resolve_smp(PARTICIPANT, SmlNetwork(ZONE), nameserver=server.address)
    assert caught.value.code == "SML_NAPTR_REGEXP" and "replacement" in caught.value.message
