"""A local network of gateway nodes for tests, benchmarks and the demo: each node a real ``gateway-node serve``
process with its own dev PKI, database and backend client, and PModes for every AS4 profile to each other.

``prepare_pair`` does the offline part (PKIs, certificate exchange, PMode files loaded into each database,
one API client per node whose secret is written to ``client.json``); :class:`NodeProcess` starts, stops and
kills a node. Per profile ``P`` each node has the PMode ``to-<peer>-<P>`` (it sends; the peer's signing and
encryption certificates pinned) and ``from-<peer>-<P>`` (it receives; delivered to its backend client). Each
profile uses its own service (``urn:gateway:devnet:<P>``), so a message is matched to exactly one PMode.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.hazmat.primitives.serialization import Encoding

from as4.profiles import EDELIVERY_1_15, EDELIVERY_2_0, EDELIVERY_2_0_EC, As4Profile
from gateway.as4_pmodes import PModeStore
from gateway.auth.clients import register_client
from gateway.config import load_settings
from gateway.runtime import Node
from pki.devpki import init_pki
from pki.devpki.operations import rollover
from pki.keys.file_store import FileKeyStore
from pki.keys.port import KeyPurpose

UNREGISTERED = "urn:oasis:names:tc:ebcore:partyid-type:unregistered"
INITIATOR = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/initiator"
RESPONDER = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/responder"
DEVNET_PROFILES: tuple[As4Profile, ...] = (EDELIVERY_1_15, EDELIVERY_2_0, EDELIVERY_2_0_EC)
REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def service_for(profile: As4Profile) -> str:
    return f"urn:gateway:devnet:{profile.name}"


@dataclass
class DevNode:
    name: str  # the PartyId, e.g. "LV-GW"
    base_dir: Path
    port: int
    database_url: str = ""  # empty: SQLite in the data dir
    settings_overrides: dict[str, str] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def pki_dir(self) -> Path:
        return self.base_dir / "pki"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environ(self) -> dict[str, str]:
        env = {
            "GATEWAY_NODE__ID": self.name, "GATEWAY_NODE__DATA_DIR": str(self.data_dir),
            "GATEWAY_DATABASE__URL": self.database_url, "GATEWAY_PKI__DIR": str(self.pki_dir),
            "GATEWAY_HTTP__HOST": "127.0.0.1", "GATEWAY_HTTP__PORT": str(self.port),
            "GATEWAY_AS4__SENDER_POLL_S": "0.2", "GATEWAY_AS4__DELIVERY_RETRY_S": "[0.5, 1, 2]",
            # A killed sender's claimed messages come back after timeout + 30 s.
            "GATEWAY_AS4__SENDER_TIMEOUT_S": "10", "GATEWAY_AS4__DELIVERY_TIMEOUT_S": "10",
            "GATEWAY_LOGGING__LEVEL": "WARNING", "GATEWAY_LOGGING__FORMAT": "json",
        }
        env.update({f"GATEWAY_{key.upper()}": value for key, value in self.settings_overrides.items()})
        return env

    def client(self) -> dict[str, str]:
        return json.loads((self.base_dir / "client.json").read_text(encoding="utf-8"))

    async def open(self) -> Node:
        """The node's database and keys in this process (migrations applied), for setup and checks."""
        return await Node.open(load_settings(environ=self.environ(), default_file=False))


def _pem(store: FileKeyStore, purpose: KeyPurpose, family: str) -> bytes:
    if purpose is KeyPurpose.AS4_SIGNING:
        cert = store.signer(purpose, family=family).certificate
    else:
        cert = next(store.certificate(e) for e in store.entries(purpose, live_only=True) if e.family == family)
    assert cert is not None
    return cert.public_bytes(Encoding.PEM)


def _party(name: str, role: str) -> str:
    return f'{{ party_id = "{name}", party_id_type = "{UNREGISTERED}", role = "{role}" }}'


def _pmode_table(pmode_id: str, profile: As4Profile, sender: str, receiver: str, endpoint: str, cert_prefix: str,
                 *, backend: str | None, retry: Sequence[float], ttl_s: int, trust_dir: str | None = None) -> str:
    lines = [
        "[[pmode]]", f'id = "{pmode_id}"', f'profile = "{profile.name}"', 'action = "Deliver"',
        f'endpoint = "{endpoint}"', f"initiator = {_party(sender, INITIATOR)}",
        f"responder = {_party(receiver, RESPONDER)}", f'service = {{ value = "{service_for(profile)}" }}',
        f'signing_certificates = ["{cert_prefix}-signing.pem"]', f'retry = {json.dumps(list(retry))}',
        f"time_to_live_s = {ttl_s}", "max_payload_bytes = 4294967296",
    ]
    if profile.agreement_ref:
        lines.append(f'agreement_ref = "{profile.agreement_ref}"')
    if trust_dir is not None:  # pinned and path-validated (with the peer CA's CRLs) on every message
        lines.append(f'trust_store = "{trust_dir}"')
    if backend is None:
        lines.append(f'encryption_certificate = "{cert_prefix}-encryption.pem"')
    else:
        lines.append(f'backend = "{backend}"')
    return "\n".join(lines) + "\n"


async def prepare_pair(a: DevNode, b: DevNode, *, profiles: Sequence[As4Profile] = DEVNET_PROFILES,
                       retry: Sequence[float] = (1.0, 2.0, 4.0), ttl_s: int = 3600,
                       validate_paths: bool = False) -> None:
    """PKIs, PModes (both directions, every profile) and a backend client on each node. ``validate_paths``:
    besides pinning the peer's certificates, validate their path to the peer's CA (a copy of its trust store)
    on every message and receipt."""
    for node in (a, b):
        node.base_dir.mkdir(parents=True, exist_ok=True)
        init_pki(node.pki_dir, node_id=node.name)
        rollover(node.pki_dir, KeyPurpose.AS4_SIGNING, family="ec")  # the dev PKI has no EC AS4 keys by default
        rollover(node.pki_dir, KeyPurpose.AS4_ENCRYPTION, family="ec")
    clients: dict[str, str] = {}
    for node in (a, b):
        opened = await node.open()
        try:
            created = await register_client(opened, f"{node.name} backend", ("portal", "register"),
                                            with_secret=True, actor="devnet")
        finally:
            await opened.close()
        clients[node.name] = created.client.client_id
        (node.base_dir / "client.json").write_text(json.dumps(
            {"client_id": created.client.client_id, "secret": created.secret}), encoding="utf-8")
        os.chmod(node.base_dir / "client.json", 0o600)
    for node, peer in ((a, b), (b, a)):
        pmode_dir = node.base_dir / "pmodes"
        pmode_dir.mkdir(exist_ok=True)
        peer_keys = FileKeyStore(peer.pki_dir)
        trust_dir = None
        if validate_paths:
            trust_dir = f"{peer.name}-trust"
            shutil.copytree(peer.pki_dir / "trust", pmode_dir / trust_dir, dirs_exist_ok=True)
        tables = []
        for profile in profiles:
            prefix = f"{peer.name}-{profile.name}"
            (pmode_dir / f"{prefix}-signing.pem").write_bytes(
                _pem(peer_keys, KeyPurpose.AS4_SIGNING, profile.signing_family))
            (pmode_dir / f"{prefix}-encryption.pem").write_bytes(
                _pem(peer_keys, KeyPurpose.AS4_ENCRYPTION, profile.encryption_family))
            tables.append(_pmode_table(f"to-{peer.name}-{profile.name}", profile, node.name, peer.name,
                                       f"{peer.url}/as4", prefix, backend=None, retry=retry, ttl_s=ttl_s,
                                       trust_dir=trust_dir))
            tables.append(_pmode_table(f"from-{peer.name}-{profile.name}", profile, peer.name, node.name,
                                       f"{peer.url}/as4", prefix, backend=clients[node.name], retry=retry,
                                       ttl_s=ttl_s, trust_dir=trust_dir))
        path = pmode_dir / "pmodes.toml"
        path.write_text("\n".join(tables), encoding="utf-8")
        opened = await node.open()
        try:
            await PModeStore(opened.engine).load_file(path)
        finally:
            await opened.close()


class NodeProcess:
    """``gateway-node serve`` for a DevNode as a child process."""

    def __init__(self, node: DevNode) -> None:
        self.node = node
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *, timeout_s: float = 60.0) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
        env.update(self.node.environ())
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
        log = (self.node.base_dir / "serve.log").open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "gateway.cli.main", "serve"], cwd=self.node.base_dir,
                                     env=env, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.node.name} exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.node.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.node.name} did not listen within {timeout_s} s: {self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        path = self.node.base_dir / "serve.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self, timeout_s: float = 30.0) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def peak_rss_kb(self) -> int | None:
        """VmHWM of the running process (Linux), in kB."""
        if self.proc is None:
            return None
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        except OSError:
            return None
        return None


class BackendClient:
    """The node's backend API as a national system uses it (OAuth2 client credentials, then bearer calls)."""

    def __init__(self, node: DevNode, http: aiohttp.ClientSession) -> None:
        self.node = node
        self.http = http
        self._token: str | None = None

    async def token(self) -> str:
        if self._token is None:
            creds = self.node.client()
            basic = aiohttp.encode_basic_auth(creds["client_id"], creds["secret"])
            async with self.http.post(f"{self.node.url}/oauth2/token", data={"grant_type": "client_credentials"},
                                      headers={"Authorization": basic}) as resp:
                body = await resp.json()
                if resp.status != 200:
                    raise RuntimeError(f"token refused: {body}")
                self._token = str(body["access_token"])
        return self._token

    async def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token()}"}

    async def submit(self, pmode_id: str, payloads: Sequence[tuple[str, bytes | Any]], **metadata: Any) -> str:
        form = aiohttp.FormData()
        form.add_field("metadata", json.dumps({"pmode_id": pmode_id, **metadata}), content_type="application/json")
        for content_type, data in payloads:
            form.add_field("payload", data, content_type=content_type, filename="payload")
        async with self.http.post(f"{self.node.url}/api/as4/messages", data=form,
                                  headers=await self.headers()) as resp:
            body = await resp.json()
            if resp.status != 202:
                raise RuntimeError(f"submit refused ({resp.status}): {body}")
            return str(body["message_id"])

    async def get(self, path: str) -> tuple[int, Any]:
        async with self.http.get(f"{self.node.url}{path}", headers=await self.headers()) as resp:
            return resp.status, await resp.json()

    async def post(self, path: str, payload: Any = None) -> tuple[int, Any]:
        async with self.http.post(f"{self.node.url}{path}", json=payload, headers=await self.headers()) as resp:
            return resp.status, await resp.json()

    async def wait_for(self, path: str, predicate: Any, *, timeout_s: float = 30.0, every_s: float = 0.1) -> Any:
        deadline = time.monotonic() + timeout_s
        last: Any = None
        while time.monotonic() < deadline:
            status, last = await self.get(path)
            if status == 200 and predicate(last):
                return last
            await asyncio.sleep(every_s)
        raise TimeoutError(f"{path}: condition not met within {timeout_s} s; last answer {last}")
