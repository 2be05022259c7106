"""AS4 with partners found by SML/SMP discovery, plugged into the node's sender and receiver.

Sending: a backend submits to a participant identifier (plus document type and process) instead of a PMode id.
:meth:`DynamicRouting.pmode_for` looks the participant up (gateway.smp_discovery: cached, stale-on-outage,
signature-checked), refuses partners whose certificates do not chain to the network's AS4 trust anchor, builds
the PMode (endpoint, profile from the certificates, pinned signing and encryption certificates) and stores it
like a loaded one under ``dyn:<network>:<digest of the ids>`` (a new version only when the SMP answer changed).
The outbox then treats it exactly as a static PMode: retries, receipts checked against the pinned certificate,
and the trust store validated on every receipt.

Receiving: with ``[smp] as4_trust_dir`` and ``inbound_backend`` set, a sender that no static PMode knows is
accepted when its signing certificate chains to that anchor (``as4.dynamic_pmode.dynamic_agreement``), under
``[smp] inbound_profile``, and delivered to ``inbound_backend``; anyone else still gets EBMS:0010.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from as4.pipeline import AgreementFinder
from as4.pmode import DEFAULT_DUPLICATE_WINDOW_S, PModeParty
from as4.profiles import PROFILES
from gateway.as4_pmodes import PModeStore
from gateway.runtime import Node

if TYPE_CHECKING:
    from gateway.smp_discovery import SmpDiscovery

# The SMP client (dnspython, SMP parsing) is imported only by nodes that use discovery: every node process
# keeps its memory flat, and most have no SMP configured.

INITIATOR_ROLE = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/initiator"


class DiscoveryUnavailable(Exception):
    """Discovery is not configured for this network (``code`` says which part is missing)."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code


@dataclass(frozen=True)
class DynamicInbound:
    pmode_id: str
    backend: str | None
    duplicate_window_s: int = DEFAULT_DUPLICATE_WINDOW_S


class DynamicRouting:
    def __init__(self, node: Node, pmodes: PModeStore) -> None:
        self.node = node
        self.pmodes = pmodes
        self._discoveries: dict[str, SmpDiscovery] = {}  # one per network: its in-process cache lives on
        node.closers.append(self.close)

    async def close(self) -> None:
        for discovery in self._discoveries.values():
            await discovery.close()
        self._discoveries.clear()

    def _discovery(self, network: str | None) -> SmpDiscovery:
        from gateway.smp_discovery import open_discovery

        section = self.node.settings.smp.for_network(network)
        if section.network not in self._discoveries:
            discovery = open_discovery(self.node, network)
            if discovery is None:
                raise DiscoveryUnavailable("discovery-not-configured",
                                           f"no SMP trust store configured for network {section.network!r}")
            self._discoveries[section.network] = discovery
        return self._discoveries[section.network]

    async def pmode_for(self, *, participant: str, document_type: str, process: str | None,
                        network: str | None = None, action: str | None = None) -> str:
        """The id of a stored PMode to the participant's access point (SmpError with a code when discovery
        refuses: unknown participant, bad signature, untrusted partner, SML or SMP unreachable with no
        last good answer)."""
        section = self.node.settings.smp.for_network(network)
        if section.as4_trust_dir is None:
            raise DiscoveryUnavailable("discovery-not-configured",
                                       f"no AS4 trust anchor (smp.as4_trust_dir) for network {section.network!r}")
        from gateway.smp_discovery import discover_agreement

        discovery = self._discovery(network)
        initiator = PModeParty(section.sender_party_id or self.node.settings.node.id, INITIATOR_ROLE,
                               section.sender_party_id_type)
        pmode, _found = await discover_agreement(discovery, participant=participant, document_type=document_type,
                                                 process=process, initiator=initiator,
                                                 as4_trust=section.as4_trust_dir, action=action)
        digest = hashlib.sha256("\n".join((participant, document_type, process or "", action or "")).encode())
        pmode = replace(pmode, id=f"dyn:{section.network}:{digest.hexdigest()[:24]}")
        await self.pmodes.store_pmode(pmode, f"smp:{section.network}")
        return pmode.id


@dataclass(frozen=True)
class InboundDiscovery:
    """Senders no static PMode knows, accepted when they chain to the network's anchor (loaded once)."""

    trust: Any  # pki.trust.TrustStore
    meta: DynamicInbound
    profile_name: str

    @classmethod
    def from_node(cls, node: Node) -> InboundDiscovery | None:
        section = node.settings.smp
        if section.as4_trust_dir is None or section.inbound_backend is None:
            return None
        from gateway.smp_discovery import load_as4_trust

        return cls(load_as4_trust(section), DynamicInbound(f"dyn:{section.network}:inbound", section.inbound_backend),
                   section.inbound_profile)

    def finder(self, static: AgreementFinder) -> AgreementFinder:
        from as4.dynamic_pmode import dynamic_agreement

        return dynamic_agreement(static, self.trust, PROFILES[self.profile_name])
