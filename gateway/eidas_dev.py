"""Mounting the connector on the node's app, with the development helpers when configured: the foreign
proxy-service simulator (``eidas.simulator_countries``) and the demo portal (``eidas.demo_portal``), each
on its own loopback port, trusted by pinning their certificates (never in production configurations)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aiohttp import web

from eidas_node.demo_portal import DemoPortal
from eidas_node.metadata import parse_sp_metadata
from eidas_node.saml import EidasError
from eidas_node.simulator.app import Simulator
from gateway.config import ConfigError
from gateway.eidas_connector import Connector, CountryTrust
from gateway.eidas_store import purge_expired
from gateway.eidas_web import add_eidas_routes
from gateway.runtime import Node
from gateway.web.listen import start_site
from gateway.workers import periodic
from pki.keys.port import KeyPurpose

log = logging.getLogger("gateway.eidas")


class _PortalServer:
    def __init__(self, portal: DemoPortal) -> None:
        self.portal = portal
        self.runner = web.AppRunner(portal.app(), access_log=None)

    async def start(self) -> None:
        _, port = await start_site(self.runner, "127.0.0.1", 0)
        self.portal.base_url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        await self.runner.cleanup()


def add_eidas(app: web.Application, node: Node) -> Connector:
    try:
        connector = Connector.create(node)
    except EidasError as exc:  # no schemas, no keys, a portal's metadata refused: the node must not start
        raise ConfigError("eidas", f"{exc.code}: {exc.message}") from None
    add_eidas_routes(app, connector)
    app.cleanup_ctx.append(_purging(connector))
    eidas = node.settings.eidas
    if eidas.simulator_countries or eidas.demo_portal:

        async def start_dev(_app: web.Application) -> None:
            await start_development_parts(connector)

        app.on_startup.append(start_dev)
    return connector


def _purging(connector: Connector, every_s: float = 300.0):  # type: ignore[no-untyped-def]
    """A background task that drops expired connector state every few minutes while the app runs."""

    async def purge() -> None:
        removed = await purge_expired(connector.node.engine, datetime.now(UTC))
        if removed:
            log.info("eidas: purged %d expired rows", removed)

    return periodic("eidas-purge", every_s, purge, log)


async def start_development_parts(connector: Connector) -> None:
    eidas = connector.node.settings.eidas
    if eidas.simulator_countries:
        # Identifiers issued for this node's country (the demo's partner node is not Latvian).
        simulator = Simulator.create(eidas.simulator_countries, destination=connector.node.settings.node.country)
        await simulator.start()
        connector.extras.append(simulator)
        ours = connector.keys.published_certificates(KeyPurpose.SAML_SIGNING)
        simulator.register_sp(connector.sp_metadata(), list(ours))
        for code in eidas.simulator_countries:
            connector.countries[code] = CountryTrust(code, f"{simulator.base_url}/{code}/metadata",
                                                     [simulator.trust_anchor(code)])
        log.warning("eIDAS simulator for %s at %s (development only)", ",".join(eidas.simulator_countries),
                    simulator.base_url)
    if eidas.demo_portal:
        signing = connector.signer().certificate
        assert signing is not None
        portal = DemoPortal(connector.idp_sso_url, signing, connector.idp_entity_id)
        server = _PortalServer(portal)
        await server.start()
        connector.extras.append(server)
        registered = parse_sp_metadata(portal.metadata(), anchors=[portal.key.certificate], now=datetime.now(UTC))
        connector.portals[registered.entity_id] = registered
        log.warning("demo portal at %s/ (development only)", portal.base_url)
