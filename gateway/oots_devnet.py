"""Two gateway nodes that exchange OOTS evidence over AS4 (tests, benchmarks, the demo), on top of
gateway.devnet: a requester node (portal side) and a provider node (the Latvian registers, named after the
access service of the common-services catalogue, ``LV-GW-DEV``).

``prepare_oots_pair`` runs ``prepare_pair`` (PKIs, pinned certificates, the devnet PModes and a backend client
each), then adds on both nodes an OOTS service client and the OOTS PModes: service ``QueryManager``
(``urn:oasis:names:tc:ebcore:ebrs:ebms:binding:1.0``), role ``http://sdg.europa.eu/edelivery/gateway``, one PMode
per action (ExecuteQueryRequest, ExecuteQueryResponse, ExceptionResponse), direction and AS4 profile (eDelivery
1.15 for TDD 1.x partners, 2.0 for TDD 2.0). Inbound OOTS PModes deliver to the service client, which the node's
OOTS service consumes. The node settings go into each DevNode's ``settings_overrides``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy.ext.asyncio import create_async_engine

from as4.profiles import EDELIVERY_1_15, EDELIVERY_2_0, As4Profile
from gateway.as4_pmodes import PModeStore
from gateway.auth.clients import register_client
from gateway.devnet import UNREGISTERED, DevNode, prepare_pair
from oots.dataservice.latvian_registers import create_sample_registers
from oots.transport import AS4_PROFILES, ROLE, SERVICE

OOTS_ACTIONS = ("ExecuteQueryRequest", "ExecuteQueryResponse", "ExceptionResponse")
OOTS_PROFILES: tuple[As4Profile, ...] = (EDELIVERY_1_15, EDELIVERY_2_0)
REQUESTER_ID = "LV40003011203"  # the portal's organisation (EvidenceRequester ER)


def oots_pmode_id(direction: str, peer: str, profile: As4Profile, action: str) -> str:
    return f"oots-{direction}-{peer}-{profile.name}-{action}"


def _party(name: str) -> str:
    return f'{{ party_id = "{name}", party_id_type = "{UNREGISTERED}", role = "{ROLE}" }}'


def oots_pmodes_toml(node: str, peer: str, peer_url: str, *, backend: str, cert_prefix: str,
                     profiles: Sequence[As4Profile] = OOTS_PROFILES, retry: Sequence[float] = (0.5, 0.5, 1.0),
                     ttl_s: int = 3600) -> str:
    """The OOTS PModes of ``node`` towards ``peer`` (certificate files ``<cert_prefix>-<profile>-*.pem`` as
    gateway.devnet writes them)."""
    tables = []
    for profile in profiles:
        for action in OOTS_ACTIONS:
            for direction, sender, receiver in (("to", node, peer), ("from", peer, node)):
                lines = [
                    "[[pmode]]", f'id = "{oots_pmode_id(direction, peer, profile, action)}"',
                    f'profile = "{profile.name}"', f'action = "{action}"', f'endpoint = "{peer_url}/as4"',
                    f"initiator = {_party(sender)}", f"responder = {_party(receiver)}",
                    f'service = {{ value = "{SERVICE.value}", type = "{SERVICE.type}" }}',
                    f'signing_certificates = ["{cert_prefix}-{profile.name}-signing.pem"]',
                    f"retry = {json.dumps(list(retry))}", f"time_to_live_s = {ttl_s}",
                ]
                if profile.agreement_ref:
                    lines.append(f'agreement_ref = "{profile.agreement_ref}"')
                if direction == "to":
                    lines.append(f'encryption_certificate = "{cert_prefix}-{profile.name}-encryption.pem"')
                else:
                    lines.append(f'backend = "{backend}"')
                tables.append("\n".join(lines) + "\n")
    return "\n".join(tables)


@dataclass(frozen=True)
class OotsPair:
    requester: DevNode
    provider: DevNode
    registers_db: Path


def routes_for(provider: DevNode, versions: Sequence[str]) -> dict[str, dict[str, str]]:
    """The requester's routes to ``provider`` for the EDM versions it may use (AS4 profile per version)."""
    return {provider.name: {v: oots_pmode_id("to", provider.name, AS4_PROFILES[v], "ExecuteQueryRequest")
                            for v in versions}}


async def prepare_oots_pair(requester: DevNode, provider: DevNode, *, cs_url: str, cs_trust_dir: Path,
                            versions: Sequence[str] = ("oots-edm:v1.2",),
                            retry: Sequence[float] = (0.5, 0.5, 1.0), timeouts: dict[str, float] | None = None,
                            register_timeout_s: float = 10.0) -> OotsPair:
    # One AS4 profile per partner (as the TDD has it): the receiver tells PModes apart by parties, service and
    # action, so two profiles between the same pair would be ambiguous.
    profiles = tuple(dict.fromkeys(AS4_PROFILES[v] for v in versions))
    if len(profiles) != 1:
        raise ValueError(f"EDM versions {list(versions)} need different AS4 profiles: use one per partner pair")
    await prepare_pair(requester, provider, profiles=profiles, retry=retry)
    services: dict[str, str] = {}
    for node in (requester, provider):
        opened = await node.open()
        try:
            created = await register_client(opened, f"{node.name} OOTS service", ("register",), with_secret=True,
                                            actor="oots-devnet")
        finally:
            await opened.close()
        services[node.name] = created.client.client_id
    for node, peer in ((requester, provider), (provider, requester)):
        pmode_dir = node.base_dir / "pmodes"
        path = pmode_dir / "oots-pmodes.toml"
        path.write_text(oots_pmodes_toml(node.name, peer.name, peer.url, backend=services[node.name],
                                         cert_prefix=peer.name, profiles=profiles, retry=retry),
                        encoding="utf-8")
        opened = await node.open()
        try:
            await PModeStore(opened.engine).load_file(path)
        finally:
            await opened.close()
    registers = provider.base_dir / "registers.db"
    engine = create_async_engine(f"sqlite+aiosqlite:///{registers}")
    try:
        await create_sample_registers(engine)
    finally:
        await engine.dispose()
    common = {"oots__eb_url": f"{cs_url}/eb", "oots__dsd_url": f"{cs_url}/dsd",
              "oots__common_services_trust_dir": str(cs_trust_dir)}
    common.update({f"oots__{k}": str(v) for k, v in (timeouts or {}).items()})
    requester.settings_overrides.update({
        **common, "oots__service_client": services[requester.name], "oots__requester_id": REQUESTER_ID,
        "oots__requester_name": "Latvijas Universitāte",
        "oots__routes": json.dumps(routes_for(provider, versions))})
    provider.settings_overrides.update({
        **common, "oots__service_client": services[provider.name],
        "oots__registers_url": f"sqlite+aiosqlite:///{registers}",
        "oots__register_timeout_s": str(register_timeout_s),
        "oots__requesters": json.dumps([REQUESTER_ID]), "oots__intermediaries": json.dumps([requester.name]),
        "oots__preview_base_url": "https://preview.lv-gw.example/p"})
    return OotsPair(requester, provider, registers)


def write_trust_dir(directory: Path, certificate_pem: bytes) -> Path:
    """A trust store directory for the common-services answers (anchor = the simulator's certificate)."""
    (directory / "anchors").mkdir(parents=True, exist_ok=True)
    (directory / "anchors" / "cs.pem").write_bytes(certificate_pem)
    (directory / "policy.json").write_text('{"require_crl": false}', encoding="utf-8")
    return directory


def pem(certificate: object) -> bytes:
    return certificate.public_bytes(Encoding.PEM)  # type: ignore[attr-defined]
