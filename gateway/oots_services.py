"""Wiring of the OOTS packages from the node's configuration ([oots] section)."""

from __future__ import annotations

import aiohttp

from gateway.config import ConfigError, Settings
from oots.commonservices.client import CommonServicesClient, Resolver
from pki.trust.store import TrustStore, TrustStoreError


def common_services_client(settings: Settings, session: aiohttp.ClientSession, *,
                           resolve: Resolver | None = None) -> CommonServicesClient:
    """The EB/DSD client: base URLs from [oots] (or the NAPTR ``resolve`` hook), answers verified against the
    trust store in ``oots.common_services_trust_dir``."""
    section = settings.oots
    if section.common_services_trust_dir is None:
        raise ConfigError("oots.common_services_trust_dir", "required: common-services answers are verified")
    try:
        trust = TrustStore.from_directory(section.common_services_trust_dir, name="oots-common-services")
    except TrustStoreError as exc:
        raise ConfigError("oots.common_services_trust_dir", str(exc)) from None
    if not (section.eb_url and section.dsd_url) and resolve is None:
        raise ConfigError("oots.eb_url", "set oots.eb_url and oots.dsd_url, or wire NAPTR discovery")
    return CommonServicesClient(session, trust=trust, eb_url=section.eb_url or None, dsd_url=section.dsd_url or None,
                                resolve=resolve, accept_version=section.accept_version)
