"""A local SMP publisher for tests and the demo (``gateway-node smp serve --dir D``).

It signs, once at start, an OASIS SMP 1.0 (or Peppol) and an OASIS SMP 2.0 document for every configured
service, and serves them over HTTP on the standard REST paths:

    GET /{participant}                                   SMP 1.0 ServiceGroup
    GET /{participant}/services/{document type}          SMP 1.0 SignedServiceMetadata
    GET /bdxr-smp-2/{participant}                        SMP 2.0 ServiceGroup
    GET /bdxr-smp-2/{participant}/services/{doc type}    SMP 2.0 ServiceMetadata (signed)

``D/publisher.toml``::

    signing_key_dir = "smp-keys"          # a key directory (pki) holding an smp-signing key
    flavour_1 = "oasis-smp-1.0"           # or "peppol-smp": what the 1.0 paths serve
    max_age_s = 300                       # Cache-Control max-age on every answer
    [[service]]
    participant = "iso6523-actorid-upis::0088:4035811991021"
    document_type = "busdox-docid-qns::urn:...::Invoice"
    process = "cenbii-procid-ubl::urn:..."
    [[service.endpoint]]
    transport_profile = "bdxr-transport-ebms3-as4-v1p0"
    address = "https://ap.example/as4"
    certificates = [{ file = "certs/ap-signing.pem", type_code = "signing" },
                    { file = "certs/ap-enc.pem", type_code = "encryption" }]
    # activation / expiration = "2026-01-01T00:00:00Z" (optional)
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from pki.keys.file_store import FileKeyStore
from pki.keys.files import load_certificates
from pki.keys.port import KeyPurpose, Signer
from smp_client import identifiers, publish
from smp_client.identifiers import Identifier
from smp_client.model import Endpoint, EndpointCertificate, Flavour, ProcessGroup, ServiceMetadata
from smp_client.parse import certificate_use

CONTENT_TYPE = "application/xml"


class PublisherConfigError(ValueError):
    code = "SMP_PUBLISHER_CONFIG"


@dataclass(frozen=True)
class Published:
    """Pre-built documents by URL path (unquoted), and the Cache-Control lifetime."""

    documents: dict[str, bytes]
    max_age_s: int


def _key(identifier: Identifier) -> str:
    return identifier.uri


def build_documents(services: Sequence[ServiceMetadata], signer: Signer, *, flavour_1: Flavour = Flavour.OASIS_1,
                    max_age_s: int = 300) -> Published:
    documents: dict[str, bytes] = {}
    by_participant: dict[str, list[ServiceMetadata]] = {}
    for service in services:
        by_participant.setdefault(_key(service.participant), []).append(service)
        assert service.document_type is not None
        doc_key = _key(service.document_type)
        one = ServiceMetadata(flavour_1, service.participant, service.document_type, service.groups,
                              service.redirect)
        two = ServiceMetadata(Flavour.OASIS_2, service.participant, service.document_type, service.groups,
                              service.redirect)
        documents[f"/{_key(service.participant)}/services/{doc_key}"] = publish.build(one, signer)
        documents[f"/bdxr-smp-2/{_key(service.participant)}/services/{doc_key}"] = publish.build(two, signer)
    for participant, items in by_participant.items():
        ident = items[0].participant
        hrefs = [f"/{publish.path_segment(ident)}/services/{publish.path_segment(s.document_type)}"  # type: ignore[arg-type]
                 for s in items]
        documents[f"/{participant}"] = publish.service_group_1(flavour_1, ident, hrefs)
        documents[f"/bdxr-smp-2/{participant}"] = publish.service_group_2(
            ident, [s.document_type for s in items if s.document_type is not None])
    return Published(documents, max_age_s)


def _canonical_path(raw_path: str) -> str | None:
    """Re-canonicalise the identifiers in a request path so case-insensitive participant ids still match."""
    parts = [unquote(p) for p in raw_path.split("/") if p]
    prefix = ""
    if parts and parts[0] == "bdxr-smp-2":
        prefix, parts = "/bdxr-smp-2", parts[1:]
    try:
        if len(parts) == 1:
            return f"{prefix}/{_key(identifiers.participant(parts[0]))}"
        if len(parts) == 3 and parts[1] == "services":
            return (f"{prefix}/{_key(identifiers.participant(parts[0]))}/services/"
                    f"{_key(identifiers.document_type(parts[2]))}")
    except identifiers.IdentifierError:
        return None
    return None


def publisher_app(published: Published) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        path = _canonical_path(request.raw_path.split("?", 1)[0])
        body = published.documents.get(path) if path else None
        if body is None:
            return web.Response(status=404, text="not found")
        return web.Response(body=body, content_type=CONTENT_TYPE,
                            headers={"Cache-Control": f"public, max-age={published.max_age_s}"})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    return app


# --- configuration file -----------------------------------------------------------------------------------

def _fail(file: Path, key: str, problem: str) -> PublisherConfigError:
    return PublisherConfigError(f"{file}: {key}: {problem}")


def _when(value: Any, file: Path, key: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise _fail(file, key, f"{value!r} is not an ISO date-time") from None


def _endpoint(raw: dict[str, Any], base: Path, file: Path, where: str) -> Endpoint:
    certs = []
    for i, entry in enumerate(raw.get("certificates", [])):
        try:
            cert = load_certificates(base / entry["file"])[0]
        except (KeyError, OSError, ValueError) as exc:
            raise _fail(file, f"{where}.certificates[{i}]", str(exc)) from None
        type_code = entry.get("type_code")
        certs.append(EndpointCertificate(cert, certificate_use(type_code, None), type_code))
    if not certs:
        raise _fail(file, where, "an endpoint needs at least one certificate")
    try:
        return Endpoint(raw["transport_profile"], raw["address"], tuple(certs),
                        _when(raw.get("activation"), file, f"{where}.activation"),
                        _when(raw.get("expiration"), file, f"{where}.expiration"), description=raw.get("description"))
    except KeyError as exc:
        raise _fail(file, where, f"missing {exc}") from None


def load_publisher(directory: str | Path) -> tuple[list[ServiceMetadata], Signer, Flavour, int]:
    base = Path(directory)
    file = base / "publisher.toml"
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PublisherConfigError(f"{file}: {exc}") from None
    try:
        signer = FileKeyStore(base / raw.get("signing_key_dir", "smp-keys")).signer(KeyPurpose.SMP_SIGNING)
    except Exception as exc:
        raise _fail(file, "signing_key_dir", str(exc)) from None
    services = []
    for i, service in enumerate(raw.get("service", [])):
        where = f"service[{i}]"
        try:
            participant = identifiers.participant(service["participant"])
            document = identifiers.document_type(service["document_type"])
            process = identifiers.process(service.get("process", "busdox:noprocess"))
        except KeyError as exc:
            raise _fail(file, where, f"missing {exc}") from None
        except identifiers.IdentifierError as exc:
            raise _fail(file, where, str(exc)) from None
        endpoints = tuple(_endpoint(e, base, file, f"{where}.endpoint[{j}]")
                          for j, e in enumerate(service.get("endpoint", [])))
        services.append(ServiceMetadata(Flavour.OASIS_1, participant, document, (ProcessGroup((process,), endpoints),)))
    return services, signer, Flavour(raw.get("flavour_1", Flavour.OASIS_1.value)), int(raw.get("max_age_s", 300))
