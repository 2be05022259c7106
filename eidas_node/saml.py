"""SAML 2.0 / eIDAS vocabulary shared by every part of the connector: namespaces, URIs, time, the error type."""

from __future__ import annotations

from datetime import UTC, datetime

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
MDATTR = "urn:oasis:names:tc:SAML:metadata:attribute"
ALG = "urn:oasis:names:tc:SAML:metadata:algsupport"
EIDAS = "http://eidas.europa.eu/saml-extensions"
NATURAL = "http://eidas.europa.eu/attributes/naturalperson"
LEGAL = "http://eidas.europa.eu/attributes/legalperson"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XS = "http://www.w3.org/2001/XMLSchema"

NSMAP = {"saml2": SAML, "saml2p": SAMLP, "eidas": EIDAS}

POST_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
REDIRECT_BINDING = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
URI_NAME_FORMAT = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
ENTITY_FORMAT = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
UNSPECIFIED = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
NAME_ID_FORMATS = (PERSISTENT, TRANSIENT, UNSPECIFIED)
BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"

STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
STATUS_REQUESTER = "urn:oasis:names:tc:SAML:2.0:status:Requester"
STATUS_RESPONDER = "urn:oasis:names:tc:SAML:2.0:status:Responder"
STATUS_AUTHN_FAILED = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
STATUS_REQUEST_DENIED = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied"
STATUS_NO_AUTHN_CONTEXT = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext"

LOA_LOW = "http://eidas.europa.eu/LoA/low"
LOA_SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"
LOA_HIGH = "http://eidas.europa.eu/LoA/high"
LOA_RANK = {LOA_LOW: 1, LOA_SUBSTANTIAL: 2, LOA_HIGH: 3}

PROTOCOL_VERSION_ATTR = "http://eidas.europa.eu/entity-attributes/protocol-version"
APPLICATION_ID_ATTR = "http://eidas.europa.eu/entity-attributes/application-identifier"
LOA_ENTITY_ATTR = "http://eidas.europa.eu/LoA"
PROTOCOL_VERSIONS = ("1.4", "1.3", "1.2")
APPLICATION_IDENTIFIER = "gateway-node:eidas-connector:1.0"


class EidasError(ValueError):
    """A refusal with a stable ``code`` (EIDAS_...) and, where SAML has one, the status URI for the portal."""

    def __init__(self, code: str, message: str, *, status: str = STATUS_RESPONDER) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def q(namespace: str, local: str) -> str:
    return f"{{{namespace}}}{local}"


def saml_time(moment: datetime) -> str:
    """xs:dateTime in UTC with millisecond precision and a Z, as every eIDAS node writes it."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_saml_time(text: str | None, what: str) -> datetime:
    if not text:
        raise EidasError("EIDAS_TIME_MISSING", f"{what} is missing")
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise EidasError("EIDAS_TIME_MALFORMED", f"{what} is not an xs:dateTime: {text!r}") from None
    if value.tzinfo is None:  # SAML core 1.3.3: times are UTC even without a zone
        value = value.replace(tzinfo=UTC)
    return value


def loa_at_least(actual: str, minimum: str) -> bool:
    return actual in LOA_RANK and LOA_RANK[actual] >= LOA_RANK[minimum]
