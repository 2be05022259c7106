"""A common-services simulator: the EB and DSD REST query endpoints over a YAML catalogue, answers signed.

``/eb/rest/search`` and ``/dsd/rest/search`` (the query id picks the query). Like the real services it answers
HTTP 200 for failures too, adds ``SpecificationIdentifier`` only when asked with ``Accept-Version``, and signs
every answer with a detached JWS over the digest header. ``faults`` injects wrong answers for negative tests
of clients (tampered body, unsigned answer, ``alg: none``, HMAC).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from oots.commonservices.catalogue import Catalogue
from oots.commonservices.jws import SIGNATURE_HEADER, sign_detached
from oots.commonservices.model import (
    ACCEPT,
    CS_VERSION,
    DSD_DATA_SERVICES,
    EB_EVIDENCE_TYPES,
    EB_REQUIREMENTS,
    AdditionalInputRequired,
    CommonServicesError,
)
from oots.commonservices.render import render_data_services, render_failure, render_requirements

FAULTS = frozenset({"tamper-body", "unsigned", "alg-none", "hmac"})
_DSD_PARAMETERS = {"queryId", "evidence-type-classification", "country-code", "specification"}


def algorithm_for(key: object) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {256: "ES256", 384: "ES384", 521: "ES512"}[key.curve.key_size]
    if isinstance(key, rsa.RSAPrivateKey):
        return "PS256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "EdDSA"
    raise ValueError(f"no JWS algorithm for {type(key).__name__}")


@dataclass
class SimulatorConfig:
    catalogue: Catalogue
    private_key: object
    chain: list[x509.Certificate]
    faults: set[str] = field(default_factory=set)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


def _forged(body: bytes, digest: str, algorithm: str) -> str:
    header = {"alg": algorithm, "b64": False, "crit": ["b64", "sigD"],
              "sigD": {"mId": "http://uri.etsi.org/19182/HttpHeaders", "pars": ["digest"]}}
    protected = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    return f"{protected}..{'' if algorithm == 'none' else 'AAAA'}"


def _respond(config: SimulatorConfig, body: bytes) -> web.Response:
    signature, digest = sign_detached(body, config.private_key, config.chain,
                                      algorithm=algorithm_for(config.private_key), now=config.clock())
    if "alg-none" in config.faults:
        signature = _forged(body, digest, "none")
    elif "hmac" in config.faults:
        signature = _forged(body, digest, "HS256")
    if "tamper-body" in config.faults:
        body = body.replace(b"<sdg:Name", b"<sdg:Name data-x=\"1\"", 1) if b"<sdg:Name" in body else body + b" "
    headers = {"Content-Type": ACCEPT, "digest": digest}
    if "unsigned" not in config.faults:
        headers[SIGNATURE_HEADER] = signature
    return web.Response(body=body, headers=headers)  # always 200: the status attribute carries the outcome


def _answer(config: SimulatorConfig, request: web.Request, service: str) -> bytes:
    query = request.rel_url.query
    query_id = query.get("queryId")
    with_version = request.headers.get("Accept-Version") == CS_VERSION
    catalogue = config.catalogue
    try:
        if service == "eb" and query_id == EB_REQUIREMENTS:
            return render_requirements(catalogue.requirements_for(query.get("procedure-id"), query.get("country-code")),
                                       with_version=with_version)
        if service == "eb" and query_id == EB_EVIDENCE_TYPES:
            return render_requirements(catalogue.evidence_types_for(query.get("requirement-id"),
                                                                    query.get("country-code")),
                                       with_version=with_version)
        if service == "dsd" and query_id == DSD_DATA_SERVICES:
            answers = {k: v for k, v in query.items() if k not in _DSD_PARAMETERS}
            offers = catalogue.data_services_for(query.get("evidence-type-classification"),
                                                 query.get("country-code"), answers)
            wanted = query.get("specification")
            if wanted:
                offers = [o for o in offers if any(wanted in a.conforms_to for a in o.access_services)]
                if not offers:
                    raise CommonServicesError("DSD:ERR:0001", f"no data service conforms to {wanted}")
            return render_data_services(offers, with_version=with_version)
        raise CommonServicesError("EB:ERR:0007" if service == "eb" else "DSD:ERR:0004", f"unknown query {query_id}")
    except AdditionalInputRequired as exc:
        return render_failure(exc.code, concepts=exc.concepts, evidence_type=exc.evidence_type,
                              with_version=with_version)
    except CommonServicesError as exc:
        return render_failure(exc.code, detail=exc.message, with_version=with_version)


def create_app(config: SimulatorConfig) -> web.Application:
    async def search(request: web.Request) -> web.Response:
        accept = request.headers.get("Accept", "")
        if ACCEPT not in accept and "*/*" not in accept:
            return web.Response(status=406, text=f"only {ACCEPT}")
        return _respond(config, _answer(config, request, request.match_info["service"]))

    app = web.Application()
    app.router.add_get("/{service:eb|dsd}/rest/search", search)
    return app
