"""The demo's two member states on one machine, as data on disk (``<base>/``, default ``data/demo``):

* ``lv/``      the Latvian node ``LV-GW-DEV``: eIDAS connector with the foreign proxy-service simulator, OOTS
               requester (for the procedure portal) and provider (the sample Latvian registers);
* ``partner/`` the simulated partner node ``DE-GW-DEMO`` (country DE): OOTS provider of its diploma register
               (the eIDAS simulator's German users) with its own preview space (login: its eIDAS connector with
               a simulated German proxy service), and requester of a foreign registry asking Latvia;
* ``cs-trust/`` the anchor of this run's common-services simulator; ``portal/`` the portal's SAML metadata;
* ``*/preview-tls/`` the self-signed loopback certificates of the preview spaces' https listeners;
* ``demo.json`` ports and each node's settings, written by the first start and read by every later one.

The first start builds everything through gateway.oots_devnet (PKIs, pinned certificates, static PModes in
both directions, API clients, registers); later starts reuse it. Each node is a ``gateway-node serve`` process
configured by environment variables plus a generated TOML file (the ``[eidas]`` tables that the environment
cannot express).
"""

from __future__ import annotations

import asyncio
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import create_async_engine

from gateway.devnet import DevNode
from gateway.oots_devnet import REQUESTER_ID, prepare_oots_pair, routes_for, write_trust_dir
from gateway.preview_web_dev import dev_settings, write_dev_tls
from oots.dataservice.demo_partner_registers import create_partner_registers
from oots.dataservice.latvian_registers import create_sample_registers

LV_NODE = "LV-GW-DEV"  # the access service of the Latvian data services in config/oots/common-services.yaml
PARTNER_NODE = "DE-GW-DEMO"
PARTNER_COUNTRY = "DE"
PARTNER_REQUESTER = "DE-STANDESAMT-BERLIN"  # the foreign registry asking Latvia for a birth record
VERSIONS = ("oots-edm:v1.2",)
SIMULATOR_COUNTRIES = ("AT", "BE", "BG", "CZ", "DE", "EE", "EL", "ES", "HR", "IT", "LT", "LU", "NL", "PT")
STATE_FILE = "demo.json"


@dataclass(frozen=True)
class Ports:
    lv: int
    partner: int
    portal: int
    common_services: int
    lv_preview: int  # the preview spaces' own https listeners
    partner_preview: int

    @classmethod
    def from_base(cls, base: int) -> Ports:
        return cls(base, base + 1, base + 2, base + 3, base + 4, base + 5)


@dataclass
class DemoNetwork:
    base: Path
    ports: Ports
    lv: DevNode
    partner: DevNode

    @property
    def state_path(self) -> Path:
        return self.base / STATE_FILE

    @property
    def portal_dir(self) -> Path:
        return self.base / "portal"

    @property
    def portal_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.portal}"

    @property
    def common_services_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.common_services}"

    def nodes(self) -> tuple[DevNode, DevNode]:
        return self.lv, self.partner


def _nodes(base: Path, ports: Ports) -> tuple[DevNode, DevNode]:
    return DevNode(LV_NODE, base / "lv", ports.lv), DevNode(PARTNER_NODE, base / "partner", ports.partner)


def load_or_none(base: Path) -> DemoNetwork | None:
    path = base / STATE_FILE
    if not path.exists():
        return None
    state = json.loads(path.read_text(encoding="utf-8"))
    ports = Ports(**state["ports"])
    lv, partner = _nodes(base, ports)
    lv.settings_overrides.update(state["lv"])
    partner.settings_overrides.update(state["partner"])
    return DemoNetwork(base, ports, lv, partner)


def _fresh_directories(base: Path) -> None:
    for part in ("lv", "partner", "portal", "cs-trust"):
        shutil.rmtree(base / part, ignore_errors=True)
    (base / "cs-trust").mkdir(parents=True)


async def create(base: Path, ports: Ports) -> DemoNetwork:
    """First start: both nodes' PKIs, databases, PModes, clients and registers; the state file last, so an
    interrupted first start is simply done again (the half-made directories are removed first)."""
    await asyncio.to_thread(_fresh_directories, base)
    lv, partner = _nodes(base, ports)
    net = DemoNetwork(base, ports, lv, partner)
    cs_trust = base / "cs-trust"
    # The LV node asks the partner for diplomas (the pair's requester → provider direction) ...
    await prepare_oots_pair(lv, partner, cs_url=net.common_services_url, cs_trust_dir=cs_trust, versions=VERSIONS)
    partner_registers = partner.base_dir / "registers.db"
    partner_registers.unlink(missing_ok=True)  # prepare_oots_pair seeds Latvian data there: the partner has its own
    lv_registers = lv.base_dir / "registers.db"
    for path, seed in ((partner_registers, create_partner_registers), (lv_registers, create_sample_registers)):
        engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await seed(engine)
        finally:
            await engine.dispose()
    # ... and the reverse direction on the same PModes: the partner's registry asks Latvia (birth record).
    partner.settings_overrides.update({
        "node__country": PARTNER_COUNTRY, "oots__registers_url": f"sqlite+aiosqlite:///{partner_registers}",
        "oots__registers_module": "oots.dataservice.demo_partner_registers",
        "eidas__enabled": "true", "eidas__public_url": partner.url, "eidas__simulator_countries": PARTNER_COUNTRY,
        **preview_space_settings(partner, ports.partner_preview, net.portal_url, national_login=False),
        "oots__requester_id": PARTNER_REQUESTER, "oots__requester_name": "Standesamt Berlin (demo)",
        "oots__routes": json.dumps(routes_for(lv, VERSIONS)), "as4__message_id_domain": "de-gw.demo"})
    lv.settings_overrides.update({
        "oots__registers_url": f"sqlite+aiosqlite:///{lv_registers}",
        "oots__requesters": json.dumps([PARTNER_REQUESTER]), "oots__intermediaries": json.dumps([PARTNER_NODE]),
        "config": str(lv.base_dir / "demo.toml"),
        **preview_space_settings(lv, ports.lv_preview, net.portal_url, national_login=True)})
    for node in (lv, partner):
        node.settings_overrides.update({"logging__level": "WARNING", "logging__format": "text",
                                        # a person previewing evidence needs minutes, not the test timeouts
                                        "oots__t2_s": "900", "oots__t3_s": "1800"})
    net.state_path.write_text(json.dumps({
        "ports": ports.__dict__, "lv": lv.settings_overrides, "partner": partner.settings_overrides,
        "requester_id": REQUESTER_ID}, indent=1), encoding="utf-8")
    return net


def preview_space_settings(node: DevNode, port: int, portal_url: str, *, national_login: bool) -> dict[str, str]:
    """A development preview space (gateway/preview_web_dev.py) on its own https listener; logins: the foreign eID
    through the node's connector, and on the Latvian node the simulated Latvian login; users are sent back only
    to the demo portal."""
    settings = dev_settings(node.base_dir / "preview-tls", port, return_origins={"*": [portal_url]})
    if not national_login:
        settings["preview_space__national_idp"] = ""
    return settings


def write_run_files(net: DemoNetwork, cs_certificate_pem: bytes, portal_metadata: bytes,
                    portal_anchor_pem: bytes) -> None:
    """What changes on every start: the common-services simulator's anchor, the portal's metadata (its key is
    made per run), the LV node's ``[eidas]`` configuration registering that portal, and the preview spaces'
    development certificates (valid for days only, so every start makes new ones)."""
    for node in net.nodes():
        write_dev_tls(node.base_dir / "preview-tls")
    write_trust_dir(net.base / "cs-trust", cs_certificate_pem)
    net.portal_dir.mkdir(parents=True, exist_ok=True)
    (net.portal_dir / "metadata.xml").write_bytes(portal_metadata)
    (net.portal_dir / "anchor.pem").write_bytes(portal_anchor_pem)
    toml = "\n".join([
        "# Written by the demo launcher on every start (gateway/demo/network.py).",
        "[eidas]", "enabled = true", f'public_url = "{net.lv.url}"', 'default_loa = "substantial"',
        'unmatched = "register"', f"simulator_countries = {json.dumps(list(SIMULATOR_COUNTRIES))}",
        "demo_portal = false", "", "[eidas.portals.studies]",
        f'metadata = "{net.portal_dir / "metadata.xml"}"', f'trust_anchor = "{net.portal_dir / "anchor.pem"}"', ""])
    (net.lv.base_dir / "demo.toml").write_text(toml, encoding="utf-8")


def describe(net: DemoNetwork) -> dict[str, Any]:
    return {"portal": net.portal_url + "/", "registry": net.portal_url + "/registry",
            "preview_space": f"https://127.0.0.1:{net.ports.lv_preview}/preview-space/log",
            "partner_preview_space": f"https://127.0.0.1:{net.ports.partner_preview}/preview-space/log",
            "lv_node": net.lv.url, "partner_node": net.partner.url, "common_services": net.common_services_url,
            "data": str(net.base)}
