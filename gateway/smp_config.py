"""The ``[smp]`` configuration section (kept beside the SMP wiring; :mod:`gateway.config` includes it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class SmpSection(BaseModel):
    """SML/SMP dynamic discovery for one partner network (see smp_client/, gateway/smp_discovery.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)  # as gateway.config's sections

    network: str = Field(default="edelivery", pattern=r"^[A-Za-z0-9._-]{1,64}$")
    sml_zone: str = "acc.edelivery.tech.ec.europa.eu"
    hash_mode: Literal["bdxl", "peppol-naptr", "peppol-cname"] = "bdxl"
    api: Literal["oasis-1", "oasis-2"] = "oasis-1"
    trust_dir: Path | None = None  # SMP signer trust store (pki.trust layout); required for lookups
    as4_trust_dir: Path | None = None  # the network's AS4 trust anchor: dynamically found partners must chain to it
    dns: str | None = None  # HOST:PORT of the resolver to ask; default: the system resolver
    tls_trust_dir: Path | None = None  # CAs for the SMPs' HTTPS (pki.trust layout); default: the system's
    require_https: bool = True  # SML answers and endpoint URLs must be https
    transport_profiles: tuple[str, ...] = ("bdxr-transport-ebms3-as4-v1p0", "peppol-transport-as4-v2_0")
    min_ttl_s: int = Field(default=60, ge=0)
    max_ttl_s: int = Field(default=86_400, ge=1)
    negative_ttl_s: int = Field(default=300, ge=0)
    stale_max_s: int = Field(default=7 * 86_400, ge=0)  # how long the last good answer may serve an outage
    outage_retry_s: int = Field(default=30, ge=0)  # during an outage, how often a process asks DNS/SMP again
    dns_timeout_s: float = Field(default=5.0, gt=0)
    http_timeout_s: float = Field(default=10.0, gt=0)
    max_document_bytes: int = Field(default=2 * 1024 * 1024, gt=0)
    receiver_party_id: str | None = None  # dynamic PModes: the partner's eb:To PartyId (default: certificate CN)
    receiver_party_id_type: str | None = "urn:oasis:names:tc:ebcore:partyid-type:unregistered"
    # Our own eb:From when sending to a discovered partner (default: node.id, type unregistered).
    sender_party_id: str | None = None
    sender_party_id_type: str | None = "urn:oasis:names:tc:ebcore:partyid-type:unregistered"
    # Receiving from senders with no static PMode whose certificate chains to as4_trust_dir: under this profile,
    # delivered to this API client (none: such senders are refused with EBMS:0010 as before).
    inbound_backend: str | None = None
    inbound_profile: str = "edelivery-2.0"
    # More networks: [smp.networks.<name>] tables override any of the keys above for that network.
    networks: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("networks")
    @classmethod
    def _networks_valid(cls, networks: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for name, overrides in networks.items():
            if "networks" in overrides:
                raise ValueError(f"networks.{name}: networks do not nest")
            SmpSection.model_validate({**overrides, "network": name})  # the error names the bad key
        return networks

    @model_validator(mode="after")
    def _ttl_bounds(self) -> SmpSection:
        if self.min_ttl_s > self.max_ttl_s:
            raise ValueError(f"min_ttl_s ({self.min_ttl_s}) is above max_ttl_s ({self.max_ttl_s})")
        return self

    def for_network(self, name: str | None) -> SmpSection:
        """This section (name None or its own) or a named network's keys merged over it."""
        if name is None or name == self.network:
            return self
        from gateway.config import ConfigError  # here, not at the top: gateway.config imports this module

        if name not in self.networks:
            known = ", ".join(sorted([self.network, *self.networks]))
            raise ConfigError("smp.networks", f"no SMP network {name!r} (configured: {known})")
        base = self.model_dump(exclude={"networks"})
        return SmpSection.model_validate({**base, **self.networks[name], "network": name})
