"""How a person logs in to the preview space: the preview space is a SAML service provider of two IdPs, the
national login (the simulated Latvian IdP in development) and the node's eIDAS connector (its national IdP
side, which logs foreign eIDs in through the country selection). One SP entity per IdP, each with its own
ACS, so a response is always read against the IdP it must come from.

The AuthnRequest goes out by HTTP-Redirect (signed query string, no page, no script). The login state lives in
the database: ``begin`` stores a pending login under a random id (the RelayState), ``finish`` (the ACS, which
gets no SameSite=Lax cookie on the IdP's cross-site POST) checks the Response against that pending login and
stores the verified identity there; the browser then comes back by a top-level GET with its session cookie,
and only the web session that began the login may take the identity.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from cryptography import x509

from eidas_node import attributes as attrs
from eidas_node.metadata import SpMetadata
from eidas_node.national import NATIONAL_ID
from eidas_node.request import (
    AuthnRequestSpec,
    RequestedAttribute,
    ServiceProvider,
    build_authn_request,
    redirect_binding,
)
from eidas_node.saml import LOA_HIGH, LOA_LOW, LOA_SUBSTANTIAL
from eidas_node.sp_response import IdpResponseRefused, read_idp_response
from gateway.preview_sessions import DbWebSessions
from gateway.preview_web_dev import NATIONAL_SCHEME
from gateway.preview_web_store import eidas_scheme
from oots.identity import person_reference
from pki.keys.port import Signer
from preview_space.mds import Mds

Kind = Literal["national", "foreign"]
KINDS: tuple[Kind, ...] = ("national", "foreign")
EDM_LOAS = {"low": LOA_LOW, "substantial": LOA_SUBSTANTIAL, "high": LOA_HIGH}


@dataclass(frozen=True)
class Idp:
    kind: Kind
    sso_url: str
    certificates: Callable[[], Sequence[x509.Certificate]]  # the IdP's signing certificates, read on each use


@dataclass(frozen=True)
class Person:
    """Who logged in: their MDS (with the identifier of their login's scheme) and the audit person reference."""

    mds: Mds
    person_ref: str
    method: Kind

    def to_json(self) -> dict[str, Any]:
        m = self.mds
        return {"family_name": m.family_name, "given_name": m.given_name, "date_of_birth": m.date_of_birth.isoformat(),
                "identifier": m.identifier, "scheme": m.scheme, "person_ref": self.person_ref, "method": self.method}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Person:
        return cls(Mds(value["family_name"], value["given_name"], date.fromisoformat(value["date_of_birth"]),
                       value["identifier"], value["scheme"]), value["person_ref"], value["method"])


class LoginRefused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _one(attributes: dict[str, list[str]], name: str) -> str:
    values = attributes.get(name) or []
    if len(values) != 1 or not values[0].strip():
        raise LoginRefused("PREVIEW_LOGIN_ATTRIBUTES")
    return values[0].strip()


def person_of(kind: Kind, attributes: dict[str, list[str]]) -> Person:
    """The MDS of a verified assertion. The national login names the person by personal code; the connector
    by the foreign eIDAS identifier (its mapped personal code is another scheme's identifier)."""
    family, given = _one(attributes, attrs.FAMILY_NAME), _one(attributes, attrs.GIVEN_NAME)
    try:
        born = date.fromisoformat(_one(attributes, attrs.DATE_OF_BIRTH))
    except ValueError:
        raise LoginRefused("PREVIEW_LOGIN_ATTRIBUTES") from None
    if kind == "national":
        identifier, scheme = _one(attributes, NATIONAL_ID), NATIONAL_SCHEME
    else:
        identifier = _one(attributes, attrs.PERSON_IDENTIFIER)
        scheme = eidas_scheme(identifier)
    return Person(Mds(family, given, born, identifier, scheme), person_reference(family, given, born.isoformat()),
                  kind)


class PreviewLogin:
    def __init__(self, origin: str, signer: Signer, signing_certificates: Sequence[x509.Certificate],
                 sessions: DbWebSessions, idps: dict[Kind, Idp]) -> None:
        self.origin = origin.rstrip("/")
        self.signer = signer
        self.certificates = tuple(signing_certificates)
        self.sessions = sessions  # pending logins are rows of the web-session table (their own random ids)
        self.idps = idps

    def entity_id(self, kind: Kind) -> str:
        return f"{self.origin}/preview-space/saml/{kind}"

    def acs_url(self, kind: Kind) -> str:
        return f"{self.origin}/preview-space/acs/{kind}"

    def sp_metadata(self, kind: Kind, now: datetime) -> SpMetadata:
        """Our SP as the IdP registers it: in process, at every start of the node (both IdPs run in this node or
        beside it), so it is valid as long as the node runs with these keys."""
        return SpMetadata(self.entity_id(kind), self.acs_url(kind), "LV", self.certificates, (),
                          now + timedelta(days=3650))

    async def begin(self, kind: Kind, web_session: str, loa: str | None, now: datetime) -> tuple[str, str]:
        """(the redirect URL to the IdP, the pending login id the web session must remember)."""
        idp = self.idps[kind]
        spec = AuthnRequestSpec(idp.sso_url, EDM_LOAS.get((loa or "").lower(), LOA_SUBSTANTIAL),
                                [RequestedAttribute(attrs.PERSON_IDENTIFIER, True)])
        built = build_authn_request(ServiceProvider(self.entity_id(kind), self.acs_url(kind),
                                                    provider_name="Preview space"), spec, now, signer=None)
        pending = await self.sessions.create({"type": "pending-login", "kind": kind, "request_id": built.request_id,
                                              "web": _fingerprint(web_session)}, now)
        return redirect_binding(built.xml, idp.sso_url, pending, self.signer), pending

    async def finish(self, kind: Kind, relay: str, saml_response: bytes, now: datetime) -> None:
        """The ACS: verify the Response for the pending login ``relay``; keep the outcome there (the identity, or
        the refusal code for the login-error page). Raises LoginRefused when ``relay`` is no pending login."""
        pending = await self.sessions.get(relay, now) if relay else None
        if pending is None or pending.get("type") != "pending-login" or pending.get("kind") != kind \
                or "outcome" in pending:
            raise LoginRefused("PREVIEW_LOGIN_UNKNOWN")
        try:
            who = read_idp_response(saml_response, idp_certificates=self.idps[kind].certificates(),
                                    acs_url=self.acs_url(kind), entity_id=self.entity_id(kind),
                                    solicited=lambda request_id: secrets.compare_digest(
                                        request_id, pending["request_id"]))
            outcome: dict[str, Any] = {"person": person_of(kind, who["attributes"]).to_json()}
        except IdpResponseRefused as exc:
            outcome = {"error": exc.code}
        except LoginRefused as exc:
            outcome = {"error": exc.code}
        await self.sessions.save(relay, {**pending, "outcome": outcome}, now)

    async def take(self, relay: str, web_session: str, now: datetime) -> Person:
        """The identity of a finished login, for the web session that began it (once)."""
        pending = await self.sessions.get(relay, now) if relay else None
        if pending is None or pending.get("type") != "pending-login" \
                or not secrets.compare_digest(pending.get("web", ""), _fingerprint(web_session)):
            raise LoginRefused("PREVIEW_LOGIN_UNKNOWN")
        await self.sessions.end(relay)
        outcome = pending.get("outcome") or {"error": "PREVIEW_LOGIN_UNFINISHED"}
        if "error" in outcome:
            raise LoginRefused(str(outcome["error"]))
        return Person.from_json(outcome["person"])


def _fingerprint(web_session: str) -> str:
    # The pending login row must not hold the web session's cookie value (a bearer credential).
    import hashlib

    return hashlib.sha256(b"preview-login\x00" + web_session.encode()).hexdigest()


def now_utc() -> datetime:
    return datetime.now(UTC)
