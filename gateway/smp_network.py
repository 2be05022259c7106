"""The ``[smp]`` configuration section → an :class:`smp_client.lookup.Network` (trust store loaded)."""

from __future__ import annotations

from pathlib import Path

from gateway.config import ConfigError, SmpSection
from pki.trust import TrustStore
from smp_client.hashing import HashMode
from smp_client.lookup import Network
from smp_client.sml import SmlNetwork, parse_nameserver


def network_from_settings(section: SmpSection, *, trust_dir: Path | str | None = None, zone: str | None = None,
                          dns: str | None = None, api: str | None = None, mode: str | None = None,
                          require_https: bool | None = None) -> Network:
    """Build the network; keyword arguments (CLI options) override the section."""
    directory = trust_dir or section.trust_dir
    if directory is None:
        raise ConfigError("smp.trust_dir", "an SMP trust store is required: SMP answers are always verified")
    try:
        trust = TrustStore.from_directory(directory, name=f"smp:{section.network}")
    except ValueError as exc:
        raise ConfigError("smp.trust_dir", str(exc)) from None
    https = section.require_https if require_https is None else require_https
    nameserver = dns or section.dns
    return Network(
        name=section.network,
        sml=SmlNetwork(zone or section.sml_zone, HashMode(mode or section.hash_mode), require_https=https),
        trust=trust,
        api=(api or section.api),  # type: ignore[arg-type]
        transport_profiles=tuple(section.transport_profiles),
        require_https_endpoint=https,
        min_ttl_s=section.min_ttl_s, max_ttl_s=section.max_ttl_s,
        max_bytes=section.max_document_bytes,
        dns_timeout_s=section.dns_timeout_s, http_timeout_s=section.http_timeout_s,
        nameserver=parse_nameserver(nameserver) if nameserver else None,
    )
