"""``make run`` / ``gateway-node demo``: the whole cross-border journey on one machine.

Starts, in this order: the common-services simulator (EB + DSD over the demo catalogue, signed answers) and
the procedure portal in this process; the Latvian node and the partner node as ``gateway-node serve`` child
processes (the Latvian one runs the eIDAS connector with the foreign proxy-service simulator). The first start
creates everything under the data directory (gateway/demo/network.py); later starts reuse it. SIGINT/SIGTERM
(Ctrl-C) stops the portal, then both nodes gracefully, then the simulator.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web

from eidas_node.demo_portal import DemoPortal
from gateway.demo.catalogue import demo_catalogue
from gateway.demo.client import ApiClient
from gateway.demo.network import (
    PARTNER_COUNTRY,
    PARTNER_NODE,
    DemoNetwork,
    Ports,
    create,
    describe,
    load_or_none,
    write_run_files,
)
from gateway.demo.portal import ProcedurePortal, start_portal
from gateway.devnet import NodeProcess
from gateway.oots_devnet import pem
from oots.commonservices.devkey import ephemeral_signer
from oots.commonservices.simulator import SimulatorConfig, create_app
from pki.keys.file_store import FileKeyStore
from pki.keys.port import KeyPurpose
from pki.specs import default_specs_dir

log = logging.getLogger("gateway.demo")
DEFAULT_DATA = Path("data/demo")
DEFAULT_BASE_PORT = 8480


def portal_saml(net: DemoNetwork) -> DemoPortal:
    """The portal's SAML side, trusting the LV node's national-IdP signing certificate (eidas.signing_family)."""
    idp_certificate = FileKeyStore(net.lv.pki_dir).signer(KeyPurpose.SAML_SIGNING, family="ec").certificate
    assert idp_certificate is not None
    return DemoPortal(f"{net.lv.url}/eidas/idp/sso", idp_certificate, f"{net.lv.url}/eidas/idp/metadata",
                      base_url=net.portal_url)


def banner(net: DemoNetwork) -> str:
    urls = describe(net)
    return "\n".join([
        "", "The whole cross-border journey is running (development only; Ctrl-C stops everything):",
        f"  Study application portal (LV/EN) ..... {urls['portal']}",
        "      log in with a foreign eID (Germany → erika), request your diploma from Germany, preview it there",
        f"  Foreign registry asking Latvia ........ {urls['registry']}",
        "      request Anna Bērziņa's birth record; preview it in the Latvian preview space (Latvian login → anna)",
        f"  Latvian preview space (access log) .... {urls['preview_space']}",
        "      (https with a self-signed development certificate: accept the browser's warning)",
        f"  Latvian node LV-GW-DEV ................ {urls['lv_node']}  (OpenAPI: /api/oots/openapi.json)",
        f"  Partner node {PARTNER_NODE} ............. {urls['partner_node']}",
        f"  Partner preview space (access log) .... {urls['partner_preview_space']}",
        f"  Common-services simulator (EB, DSD) ... {urls['common_services']}",
        f"  Data (delete to start afresh) ......... {urls['data']}", ""])


async def run_demo(base: Path, ports: Ports, *, stop: asyncio.Event,
                   on_ready: Callable[[DemoNetwork], None] | None = None) -> None:
    net = load_or_none(base)
    first = net is None
    if net is None:
        print(f"first start: creating the demo network under {base} …", flush=True)
        net = await create(base, ports)
    now = datetime.now(UTC)
    cs_key, cs_certificate = ephemeral_signer(now)
    cs_runner = web.AppRunner(create_app(SimulatorConfig(demo_catalogue(PARTNER_NODE, PARTNER_COUNTRY), cs_key,
                                                         [cs_certificate])), access_log=None)
    await cs_runner.setup()
    await web.TCPSite(cs_runner, "127.0.0.1", net.ports.common_services).start()
    saml = portal_saml(net)
    write_run_files(net, pem(cs_certificate), saml.metadata(), pem(saml.key.certificate))
    specs = default_specs_dir()
    for node in net.nodes():  # NodeProcess passes no GATEWAY_* of ours on; the specs' location must reach them
        if specs is not None:
            node.settings_overrides["specs_dir"] = str(specs)
    processes = [NodeProcess(node) for node in net.nodes()]
    portal_runner: web.AppRunner | None = None
    http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
    try:
        await asyncio.gather(*(asyncio.to_thread(p.start, timeout_s=120.0) for p in processes))
        apis = {"lv": ApiClient(net.lv, http), "partner": ApiClient(net.partner, http)}
        portal = ProcedurePortal(saml, apis)
        portal_runner = await start_portal(portal, net.ports.portal)
        print(("" if first else "reusing the demo network under " + str(base)) + banner(net), flush=True)
        if on_ready is not None:
            on_ready(net)
        await stop.wait()
        print("stopping: portal, nodes, common-services simulator …", flush=True)
    finally:
        if portal_runner is not None:
            await portal_runner.cleanup()
        await http.close()
        codes = await asyncio.gather(*(asyncio.to_thread(p.stop) for p in processes))
        await cs_runner.cleanup()
        print(f"stopped (node exit codes {list(codes)})", flush=True)


def main(data_dir: Path = DEFAULT_DATA, ports: Ports | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    data_dir = data_dir.resolve()

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_demo(data_dir, ports or Ports.from_base(DEFAULT_BASE_PORT), stop=stop)

    try:
        asyncio.run(run())
    except (RuntimeError, OSError) as exc:  # a node that does not start, a port in use
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
