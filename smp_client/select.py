"""Choosing the endpoint to send to (pure, time passed in): process, transport profile, activation dates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urlsplit

from smp_client.errors import SmpDocumentError
from smp_client.identifiers import NO_PROCESS, Identifier
from smp_client.model import DEFAULT_TRANSPORT_PROFILES, Endpoint, EndpointCertificate, ServiceMetadata


def _active(start: datetime | None, end: datetime | None, now: datetime) -> str | None:
    if start is not None and now < start:
        return "NOT_YET_ACTIVE"
    if end is not None and now >= end:
        return "EXPIRED"
    return None


def _process_matches(processes: tuple[Identifier, ...], wanted: Identifier | None) -> bool:
    if wanted is None or not processes:
        return True
    return any(p == wanted or (p.value == NO_PROCESS and wanted.value == NO_PROCESS) for p in processes)


def current_certificates(endpoint: Endpoint, now: datetime) -> tuple[EndpointCertificate, ...]:
    """Certificates within their SMP dates and their X.509 validity at ``now``."""
    return tuple(
        c for c in endpoint.certificates
        if _active(c.activation, c.expiration, now) is None
        and c.certificate.not_valid_before_utc <= now < c.certificate.not_valid_after_utc
    )


def select_endpoint(metadata: ServiceMetadata, *, process: Identifier | None, now: datetime,
                    transport_profiles: Sequence[str] = DEFAULT_TRANSPORT_PROFILES,
                    require_https: bool = True) -> Endpoint:
    """The first usable endpoint for ``process`` in ``transport_profiles`` preference order."""
    if metadata.redirect is not None:
        raise SmpDocumentError("SMP_REDIRECT_UNRESOLVED", "the document is a Redirect; follow it first")
    groups = [g for g in metadata.groups if _process_matches(g.processes, process)]
    if not groups:
        offered = sorted({p.uri for g in metadata.groups for p in g.processes})
        raise SmpDocumentError("SMP_NO_PROCESS", f"process {process} is not offered (offered: {', '.join(offered)})")
    endpoints = [e for g in groups for e in g.endpoints]
    problems: list[str] = []
    for profile in transport_profiles:
        for endpoint in (e for e in endpoints if e.transport_profile == profile):
            state = _active(endpoint.activation, endpoint.expiration, now)
            if state is not None:
                problems.append(state)
                continue
            if not endpoint.address:
                raise SmpDocumentError("SMP_DOCUMENT_INVALID", f"endpoint for {profile} has no address")
            if require_https and urlsplit(endpoint.address).scheme != "https":
                raise SmpDocumentError("SMP_ENDPOINT_NOT_HTTPS", f"endpoint {endpoint.address!r} is not https")
            if endpoint.certificates and not current_certificates(endpoint, now):
                problems.append("CERTIFICATE_EXPIRED")
                continue
            return endpoint
    if problems:
        worst = "EXPIRED" if "EXPIRED" in problems else problems[0]
        raise SmpDocumentError(f"SMP_ENDPOINT_{worst}", f"no endpoint is usable at {now.isoformat()} ({worst})")
    offered = sorted({e.transport_profile for e in endpoints})
    raise SmpDocumentError("SMP_TRANSPORT_PROFILE_UNKNOWN",
                           f"no endpoint with transport profile {', '.join(transport_profiles)} "
                           f"(offered: {', '.join(offered)})")
