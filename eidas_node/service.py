"""The connector's eIDAS back end around the pure checker: finds the pending request and the metadata, runs
every check, then the two that need state shared by all node processes (replay cache, request used once)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from lxml import etree

from eidas_node.checks import ResponseReport
from eidas_node.metadata import IdpMetadata
from eidas_node.response import ResponseChecker
from eidas_node.saml import SAML, EidasError, q
from eidas_node.stores import PendingRequest, PendingRequests, ReplayCache
from pki.xml.parser import XmlRefused, parse_xml
from pki.xml.tree import first_child

_ISSUER = q(SAML, "Issuer")


def lookup_keys(data: bytes) -> tuple[str | None, str | None]:
    """Issuer and InResponseTo, unverified: used only as keys to find the metadata and the pending request;
    the checker then compares the verified values with what was found."""
    return _lookup(_parse(data))


def _parse(data: bytes) -> etree._Element | None:
    try:
        return parse_xml(data).getroot()
    except XmlRefused:
        return None


def _lookup(root: etree._Element | None) -> tuple[str | None, str | None]:
    if root is None:
        return None, None
    issuer = first_child(root, _ISSUER)
    return (issuer.text or "").strip() if issuer is not None else None, root.get("InResponseTo")


async def check_response(checker: ResponseChecker, data: bytes, *, metadata_for: Callable[[str], IdpMetadata],
                         metadata_by_issuer: Callable[[str], IdpMetadata], pending: PendingRequests,
                         replay: ReplayCache, now: datetime) -> tuple[ResponseReport, PendingRequest | None]:
    root = _parse(data)
    issuer, in_response_to = _lookup(root)
    request = await pending.get(in_response_to) if in_response_to else None
    try:
        # The metadata of the country we asked, when we asked; only otherwise the one the response names.
        metadata = metadata_for(request.country) if request else metadata_by_issuer(issuer or "")
    except EidasError as exc:
        report = ResponseReport()
        report.failed("response.issuer", exc.code, exc.message)
        return report, None
    # The parsed tree is handed on (one parse, not two); an unparsable message is re-parsed by the checker,
    # which reports the parser's refusal by name.
    report = checker.check(data if root is None else root, metadata=metadata, pending=request, now=now)
    if not report.ok:
        return report, request
    assert report.assertion_id is not None and report.assertion_expires is not None
    if not await replay.add_once(f"{metadata.entity_id}|{report.assertion_id}", report.assertion_expires, now):
        report.failed("replay.assertion_id", None, f"assertion {report.assertion_id} was already used")
        report.identity = None
        return report, request
    report.passed("replay.assertion_id")
    taken = await pending.take(request.request_id) if request else None
    if taken is None:
        report.failed("request.used_once", None, "the request was already answered")
        report.identity = None
        return report, request
    report.passed("request.used_once")
    return report, taken
