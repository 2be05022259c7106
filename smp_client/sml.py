"""The SML step's I/O shell: one DNS query through dnspython, its TTL, and errors with codes.

``SmlNetwork`` is the per-network configuration (zone, hash mode, whether the SMP URL must be https). The
resolver is built per call from ``nameserver`` (host, port) so tests and operators can point it at any
server (``--dns HOST:PORT``); without it the system resolver is used.
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.rdatatype
import dns.resolver

from smp_client.errors import SmlError
from smp_client.hashing import HashMode, dns_name
from smp_client.identifiers import Identifier
from smp_client.naptr import META_SMP, NaptrRecord, check_smp_url, smp_url_from_naptr


@dataclass(frozen=True, slots=True)
class SmlNetwork:
    zone: str
    mode: HashMode = HashMode.BDXL
    require_https: bool = True
    service: str = META_SMP


@dataclass(frozen=True, slots=True)
class SmlAnswer:
    name: str  # the queried name
    smp_url: str  # base URL, no trailing slash
    ttl: int  # seconds, from the DNS answer


def _resolver(nameserver: tuple[str, int] | None, timeout: float) -> dns.asyncresolver.Resolver:
    if nameserver is None:
        resolver = dns.asyncresolver.Resolver()
    else:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [nameserver[0]]
        resolver.port = nameserver[1]
    resolver.lifetime = timeout
    resolver.timeout = timeout
    resolver.cache = None  # our own cache decides, with TTL bounds and stale-on-outage
    return resolver


async def _query(name: str, rdtype: str, nameserver: tuple[str, int] | None, dns_timeout: float) -> dns.resolver.Answer:
    try:
        return await _resolver(nameserver, dns_timeout).resolve(name + ".", rdtype, search=False)
    except dns.resolver.NXDOMAIN:
        raise SmlError("SML_NXDOMAIN", f"{name}: no such name in the SML (participant not registered)") from None
    except dns.resolver.NoAnswer:
        raise SmlError("SML_NO_SMP_RECORD", f"{name}: no {rdtype} record") from None
    except dns.exception.Timeout:
        raise SmlError("SML_TIMEOUT", f"{name}: DNS did not answer within {dns_timeout} s") from None
    except dns.resolver.NoNameservers as exc:
        raise SmlError("SML_DNS_FAILURE", f"{name}: DNS servers failed ({exc})") from None
    except dns.exception.DNSException as exc:
        raise SmlError("SML_DNS_FAILURE", f"{name}: {type(exc).__name__}: {exc}") from None


async def resolve_smp(participant: Identifier, network: SmlNetwork, *, nameserver: tuple[str, int] | None = None,
                      dns_timeout: float = 5.0) -> SmlAnswer:
    """Participant → SMP base URL through the network's SML."""
    name = dns_name(participant, network.zone, network.mode)
    if network.mode is HashMode.PEPPOL_CNAME:
        # Classic Peppol: the name itself is the SMP host (a CNAME to it); its existence is the answer.
        answer = await _query(name, "A", nameserver, dns_timeout)
        url = check_smp_url(f"http://{name}", require_https=network.require_https)
        return SmlAnswer(name, url, int(answer.rrset.ttl) if answer.rrset is not None else 0)
    records, ttl = await naptr_records(name, nameserver=nameserver, dns_timeout=dns_timeout)
    url = smp_url_from_naptr(records, name, service=network.service, require_https=network.require_https)
    return SmlAnswer(name, url, ttl)


async def naptr_records(name: str, *, nameserver: tuple[str, int] | None = None,
                        dns_timeout: float = 5.0) -> tuple[list[NaptrRecord], int]:
    """The NAPTR records at ``name`` and their TTL (SmlError with a code for every DNS failure)."""
    answer = await _query(name, "NAPTR", nameserver, dns_timeout)
    records = [
        NaptrRecord(r.order, r.preference, r.flags.decode("ascii", "replace"), r.service.decode("ascii", "replace"),
                    r.regexp.decode("utf-8", "replace"), r.replacement.to_text(omit_final_dot=True) or ".")
        for r in answer
    ]
    return records, int(answer.rrset.ttl) if answer.rrset is not None else 0


def parse_nameserver(text: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``HOST`` (port 53); IPv6 as ``[::1]:5353``."""
    host, port = text, "53"
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":") or "53"
    elif text.count(":") == 1:
        host, port = text.split(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SmlError("SML_DNS_SERVER", f"{text!r} is not HOST:PORT")
    return host, int(port)
