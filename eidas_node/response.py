"""Every check of an eIDAS Response (sans-IO): bytes in, a report of named checks and a neutral identity out.

Order matters. Nothing is read from the document before the Response signature has verified with a
certificate from the proxy service's metadata, and then only from the element that signature covers; the
assertion is read only after it is decrypted and its own signature verified, and only from that element.
The hardened parser drops comments while parsing (text around a comment is joined), so an XML comment
inside a NameID or attribute value cannot truncate what we read. The shell adds the two checks that need
shared state (replay cache, pending request used once): see :mod:`eidas_node.service`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cryptography import x509
from lxml import etree

from eidas_node import attributes as attrs
from eidas_node.checks import CheckFailed, ResponseReport
from eidas_node.identity import ForeignIdentity, LegalPerson, NaturalPerson
from eidas_node.metadata import IdpMetadata
from eidas_node.saml import (
    BEARER,
    LOA_RANK,
    SAML,
    SAMLP,
    STATUS_SUCCESS,
    EidasError,
    loa_at_least,
    parse_saml_time,
    q,
)
from eidas_node.schema import SamlSchema
from eidas_node.stores import PendingRequest
from pki.xml import algorithms as A
from pki.xml import ns as dsns
from pki.xml.algorithms import EIDAS_1_3, AlgorithmPolicy
from pki.xml.encryption import XENC, FindDecrypter, cek_from_encrypted_key, data_algorithm, decrypt_element
from pki.xml.keyinfo import KeyInfoData, KeyResolutionError, ResolvedKey, names_certificate
from pki.xml.parser import XmlRefused, parse_xml
from pki.xml.tree import children, first_at, first_child
from pki.xml.verification import VerifiedSignature, verify

_ERRORS = (EidasError, KeyResolutionError, A.AlgorithmRefused, ValueError)

# Clark names, built once: the checks run per response and look up some fifty elements.
_ISSUER, _ASSERTION, _ENCRYPTED_ASSERTION = q(SAML, "Issuer"), q(SAML, "Assertion"), q(SAML, "EncryptedAssertion")
_SUBJECT, _NAME_ID, _CONDITIONS = q(SAML, "Subject"), q(SAML, "NameID"), q(SAML, "Conditions")
_SUBJECT_CONFIRMATION, _CONFIRMATION_DATA = q(SAML, "SubjectConfirmation"), q(SAML, "SubjectConfirmationData")
_AUDIENCE_RESTRICTION, _AUDIENCE = q(SAML, "AudienceRestriction"), q(SAML, "Audience")
_AUTHN_STATEMENT, _AUTHN_CONTEXT = q(SAML, "AuthnStatement"), q(SAML, "AuthnContext")
_CLASS_REF = q(SAML, "AuthnContextClassRef")
_ATTRIBUTE_STATEMENT, _ATTRIBUTE, _ATTRIBUTE_VALUE = (
    q(SAML, "AttributeStatement"), q(SAML, "Attribute"), q(SAML, "AttributeValue"))
_RESPONSE, _STATUS, _STATUS_CODE, _STATUS_MESSAGE = (
    q(SAMLP, "Response"), q(SAMLP, "Status"), q(SAMLP, "StatusCode"), q(SAMLP, "StatusMessage"))
_SIGNATURE, _KEY_INFO = q(dsns.DS, "Signature"), q(dsns.DS, "KeyInfo")
_ENCRYPTED_DATA, _ENCRYPTED_KEY = q(XENC, "EncryptedData"), q(XENC, "EncryptedKey")


@dataclass(frozen=True)
class ResponseExpectations:
    """What our own metadata publishes, and how strict to be about time."""

    entity_id: str  # the Audience
    acs_url: str  # Destination and Recipient
    policy: AlgorithmPolicy = EIDAS_1_3
    clock_skew: timedelta = timedelta(seconds=60)
    max_age: timedelta = timedelta(minutes=5)  # IssueInstant older than this is refused


def _code(exc: Exception) -> str:
    return getattr(exc, "code", type(exc).__name__)


def _metadata_resolver(certificates: Sequence[x509.Certificate]) -> Callable[[KeyInfoData], ResolvedKey]:
    """The metadata's certificates only: a KeyInfo naming another key is refused (an embedded certificate
    proves nothing by itself). An empty KeyInfo gets the first certificate; :func:`_verify_enveloped` then
    tries the others (a rollover lists several)."""

    def resolve(info: KeyInfoData) -> ResolvedKey:
        named = info.certificates or info.issuer_serial or info.subject_key_identifier or info.public_key
        if not named:
            return ResolvedKey(certificates[0].public_key(), certificates[0])  # type: ignore[arg-type]
        for cert in certificates:
            if names_certificate(info, cert):
                return ResolvedKey(cert.public_key(), cert)  # type: ignore[arg-type]
        raise KeyResolutionError("XMLDSIG_KEY_UNTRUSTED", "signed with a key that is not in the metadata")

    return resolve


def _verify_enveloped(element: etree._Element, what: str, metadata: IdpMetadata,
                      policy: AlgorithmPolicy) -> VerifiedSignature:
    signatures = children(element, _SIGNATURE)
    if not signatures:
        raise CheckFailed(f"EIDAS_{what.upper()}_UNSIGNED", f"the {what} carries no signature")
    if len(signatures) > 1:
        raise CheckFailed(f"EIDAS_{what.upper()}_SIGNATURE", f"the {what} carries {len(signatures)} signatures")
    certificates = metadata.signing_certificates
    key_info = first_child(signatures[0], _KEY_INFO)
    # Without KeyInfo each metadata certificate is tried in turn; with one, only the certificate it names.
    candidates = [certificates[i:] for i in range(len(certificates))] if key_info is None else [certificates]
    for index, listed in enumerate(candidates):
        try:
            # in_place: the enveloped transform without copying the whole Response; we never re-serialise it.
            verified = verify(signatures[0], _metadata_resolver(listed), policy, in_place=True)
            break
        except _ERRORS as exc:
            if index + 1 == len(candidates) or _code(exc) != "XMLDSIG_SIGNATURE_INVALID":
                raise CheckFailed(f"EIDAS_{what.upper()}_SIGNATURE", f"{_code(exc)}: {exc}") from None
    # Signature wrapping: the one reference must be this very element, not a copy elsewhere in the tree.
    if len(verified.references) != 1 or verified.references[0].element is not element:
        raise CheckFailed(f"EIDAS_{what.upper()}_SIGNATURE", f"the signature does not cover this {what}")
    return verified


def _text(element: etree._Element | None) -> str:
    """All the text of an element, children included (comments were dropped by the parser, text around them
    joined). A leaf's text is read directly: the same string, without the itertext walk."""
    if element is None:
        return ""
    if len(element) == 0:
        return (element.text or "").strip()
    return "".join(element.itertext()).strip()


def _status(root: etree._Element, report: ResponseReport) -> None:
    status = first_child(root, _STATUS)
    top = first_child(status, _STATUS_CODE)
    code = top.get("Value", "") if top is not None else ""
    if code == STATUS_SUCCESS:
        return
    second = first_child(top, _STATUS_CODE)
    report.status = code + (f" / {second.get('Value', '')}" if second is not None else "")
    report.status_message = _text(first_child(status, _STATUS_MESSAGE)) if status is not None else None
    raise CheckFailed("EIDAS_STATUS_NOT_SUCCESS", f"{report.status}: {report.status_message or ''}")


def _decrypt(encrypted: etree._Element, find_decrypter: FindDecrypter, policy: AlgorithmPolicy) -> etree._Element:
    data = children(encrypted, _ENCRYPTED_DATA)
    if len(data) != 1:
        raise CheckFailed("EIDAS_DECRYPTION", "EncryptedAssertion must hold exactly one EncryptedData")
    inline = [key for info in children(data[0], _KEY_INFO) for key in info.iterchildren(_ENCRYPTED_KEY)]
    siblings = children(encrypted, _ENCRYPTED_KEY)
    keys = inline + siblings
    if len(keys) != 1:  # one key for us; anything else is ambiguous about what was decrypted with what
        raise CheckFailed("EIDAS_DECRYPTION", f"expected one EncryptedKey, found {len(keys)}")
    try:
        algorithm = data_algorithm(data[0], policy)
        cek = cek_from_encrypted_key(keys[0], find_decrypter, policy, A.GCM_KEY_BYTES[algorithm])
        elements = decrypt_element(data[0], cek, policy)
    except (A.AlgorithmRefused, ValueError) as exc:
        raise CheckFailed("EIDAS_DECRYPTION", f"{_code(exc)}: {exc}") from None
    if (len(elements) != 1 or elements[0].tag != _ASSERTION
            or sum(1 for _ in elements[0].iter(_ASSERTION)) != 1):
        raise CheckFailed("EIDAS_DECRYPTION", "the EncryptedAssertion does not hold exactly one saml:Assertion")
    for sibling in siblings:
        encrypted.remove(sibling)
    return elements[0]


def _attributes(assertion: etree._Element) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    statements = children(assertion, _ATTRIBUTE_STATEMENT)
    for statement in statements:
        for attribute in statement.iterchildren(_ATTRIBUTE):
            name = attribute.get("Name", "")
            if name in found:
                raise CheckFailed("EIDAS_ATTRIBUTE_DUPLICATE", f"attribute {name} appears twice")
            found[name] = tuple(_text(value) for value in attribute.iterchildren(_ATTRIBUTE_VALUE))
    return found


def _single(values: dict[str, tuple[str, ...]], name: str) -> str | None:
    value = values.get(name)
    if not value:
        return None
    if len(value) != 1 or not value[0]:
        raise CheckFailed("EIDAS_ATTRIBUTE_INVALID", f"{name.rsplit('/', 1)[-1]} must have exactly one value")
    return value[0]


def _persons(values: dict[str, tuple[str, ...]]) -> tuple[NaturalPerson | None, LegalPerson | None]:
    natural = legal = None
    pid = _single(values, attrs.PERSON_IDENTIFIER)
    if pid is not None:
        family, given = _single(values, attrs.FAMILY_NAME), _single(values, attrs.GIVEN_NAME)
        born = _single(values, attrs.DATE_OF_BIRTH)
        if not (family and given and born):
            raise CheckFailed("EIDAS_ATTRIBUTE_MISSING", "the natural person minimum data set is incomplete")
        try:
            birth = date.fromisoformat(born)
        except ValueError:
            raise CheckFailed("EIDAS_ATTRIBUTE_INVALID", f"DateOfBirth is not YYYY-MM-DD: {born!r}") from None
        natural = NaturalPerson(pid, family, given, birth)
    lpid = _single(values, attrs.LEGAL_PERSON_IDENTIFIER)
    if lpid is not None:
        name = _single(values, attrs.LEGAL_NAME)
        if not name:
            raise CheckFailed("EIDAS_ATTRIBUTE_MISSING", "LegalName is missing for the legal person")
        legal = LegalPerson(lpid, name)
    return natural, legal


def _identifier_country(identifier: str, expected_origin: str, our_country: str) -> None:
    parts = identifier.split("/", 2)
    if len(parts) != 3 or not parts[2]:
        raise CheckFailed("EIDAS_ATTRIBUTE_INVALID", f"identifier is not CC/CC/id: {identifier!r}")
    if parts[0] != expected_origin:
        raise CheckFailed("EIDAS_COUNTRY_MISMATCH", f"identifier from {parts[0]}, proxy service is {expected_origin}")
    if parts[1] != our_country:
        raise CheckFailed("EIDAS_COUNTRY_MISMATCH", f"identifier is for {parts[1]}, we are {our_country}")


class ResponseChecker:
    """Holds the compiled schema and our expectations; :meth:`check` is pure apart from the clock it is given."""

    def __init__(self, expectations: ResponseExpectations, find_decrypter: FindDecrypter, *,
                 schema: SamlSchema | None = None, our_country: str = "LV") -> None:
        self.expect = expectations
        self.find_decrypter = find_decrypter
        self.schema = schema or SamlSchema()
        self.our_country = our_country

    def check(self, data: bytes | etree._Element, *, metadata: IdpMetadata, pending: PendingRequest | None,
              now: datetime) -> ResponseReport:
        """``data`` is the raw message, or the root :func:`pki.xml.parser.parse_xml` already made of it (so the
        shell that looked up the request by it does not parse twice); the tree is changed (decrypted)."""
        report = ResponseReport()
        name = "xml.parse"
        try:
            for name, step in self._steps(data, metadata, pending, now, report):
                try:
                    step()
                except EidasError as exc:
                    raise CheckFailed(exc.code, exc.message) from None
                report.passed(name)
        except CheckFailed as failure:
            report.failed(name, failure.code, failure.detail)
            report.identity = None
        return report

    def _steps(self, data: bytes | etree._Element, metadata: IdpMetadata, pending: PendingRequest | None, now: datetime,
               report: ResponseReport):  # type: ignore[no-untyped-def]
        expect, skew = self.expect, self.expect.clock_skew
        state: dict[str, etree._Element] = {}

        def parse() -> None:
            if isinstance(data, bytes):
                try:
                    state["root"] = parse_xml(data).getroot()
                except XmlRefused as exc:
                    raise CheckFailed(exc.code, exc.message) from None
            else:
                state["root"] = data
            if state["root"].tag != _RESPONSE:
                raise CheckFailed("EIDAS_NOT_A_RESPONSE", f"expected samlp:Response, got {state['root'].tag}")

        yield "xml.parse", parse
        yield "schema.response", lambda: self._schema(state["root"])

        def issuer() -> None:
            value = _text(first_child(state["root"], _ISSUER))
            if value != metadata.entity_id:
                raise CheckFailed("EIDAS_ISSUER_MISMATCH", f"Issuer {value!r} is not {metadata.entity_id!r}")

        yield "response.issuer", issuer
        yield "response.signature", lambda: _verify_enveloped(state["root"], "response", metadata, expect.policy)

        def destination() -> None:
            if state["root"].get("Destination") != expect.acs_url:
                raise CheckFailed("EIDAS_DESTINATION_MISMATCH", f"Destination {state['root'].get('Destination')!r}")

        yield "response.destination", destination

        def in_response_to() -> None:
            root = state["root"]
            report.response_id = root.get("ID")
            report.in_response_to = value = root.get("InResponseTo")
            if pending is None or value != pending.request_id:
                raise CheckFailed("EIDAS_IN_RESPONSE_TO", f"InResponseTo {value!r} matches no pending request")
            if pending.expires_at <= now:
                raise CheckFailed("EIDAS_REQUEST_EXPIRED", "the request this answers has expired")
            if pending.idp_entity_id != metadata.entity_id or pending.country != metadata.country:
                raise CheckFailed("EIDAS_ISSUER_MISMATCH", "answered by another country than the one asked")

        yield "response.in_response_to", in_response_to
        yield "response.issue_instant", lambda: self._instant(state["root"].get("IssueInstant"), "IssueInstant", now)
        yield "response.status", lambda: _status(state["root"], report)

        def encrypted_only() -> None:
            root = state["root"]
            plain = list(root.iter(_ASSERTION))
            if plain:
                raise CheckFailed("EIDAS_ASSERTION_UNENCRYPTED", f"{len(plain)} unencrypted assertion(s) present")
            encrypted = children(root, _ENCRYPTED_ASSERTION)
            if len(encrypted) != 1 or sum(1 for _ in root.iter(_ENCRYPTED_ASSERTION)) != 1:
                raise CheckFailed("EIDAS_ASSERTION_COUNT", f"{len(encrypted)} EncryptedAssertion, exactly one needed")
            state["encrypted"] = encrypted[0]

        yield "assertion.encrypted_only", encrypted_only

        def decrypt() -> None:
            state["assertion"] = _decrypt(state["encrypted"], self.find_decrypter, expect.policy)

        yield "assertion.decrypt", decrypt
        yield "schema.assertion", lambda: self._schema(state["assertion"])
        yield "assertion.signature", lambda: _verify_enveloped(state["assertion"], "assertion", metadata,
                                                               expect.policy)

        def assertion_issuer() -> None:
            value = _text(first_child(state["assertion"], _ISSUER))
            if value != metadata.entity_id:
                raise CheckFailed("EIDAS_ISSUER_MISMATCH", f"assertion Issuer {value!r}")
            report.assertion_id = state["assertion"].get("ID")

        yield "assertion.issuer", assertion_issuer
        yield "assertion.subject_confirmation", lambda: self._subject(state, pending, now, report)

        def conditions() -> None:
            found = first_child(state["assertion"], _CONDITIONS)
            if found is None:
                raise CheckFailed("EIDAS_CONDITIONS", "the assertion has no Conditions")
            not_before = parse_saml_time(found.get("NotBefore"), "Conditions/@NotBefore")
            not_on_or_after = parse_saml_time(found.get("NotOnOrAfter"), "Conditions/@NotOnOrAfter")
            if now + skew < not_before:
                raise CheckFailed("EIDAS_NOT_YET_VALID", f"assertion valid only from {found.get('NotBefore')}")
            if now - skew >= not_on_or_after:
                raise CheckFailed("EIDAS_EXPIRED", f"assertion expired at {found.get('NotOnOrAfter')}")
            report.assertion_expires = max(not_on_or_after, report.assertion_expires or not_on_or_after)
            state["conditions"] = found

        yield "assertion.conditions", conditions

        def audience() -> None:
            restrictions = children(state["conditions"], _AUDIENCE_RESTRICTION)
            if not restrictions:
                raise CheckFailed("EIDAS_AUDIENCE_MISMATCH", "no AudienceRestriction")
            for restriction in restrictions:  # every restriction must admit us (core §2.5.1.4)
                if expect.entity_id not in (_text(a) for a in restriction.iterchildren(_AUDIENCE)):
                    raise CheckFailed("EIDAS_AUDIENCE_MISMATCH", f"we ({expect.entity_id}) are not the Audience")

        yield "assertion.audience", audience

        def loa() -> None:
            statements = children(state["assertion"], _AUTHN_STATEMENT)
            if len(statements) != 1:
                raise CheckFailed("EIDAS_LOA_TOO_LOW", f"{len(statements)} AuthnStatement, exactly one needed")
            value = _text(first_at(statements[0], _AUTHN_CONTEXT, _CLASS_REF))
            if value not in LOA_RANK:
                raise CheckFailed("EIDAS_LOA_UNKNOWN", f"AuthnContextClassRef {value!r} is not an eIDAS LoA")
            assert pending is not None
            if not loa_at_least(value, pending.loa):
                raise CheckFailed("EIDAS_LOA_TOO_LOW", f"{value} is below the requested {pending.loa}")
            state["loa"] = statements[0]
            state["loa_value"] = value  # type: ignore[assignment]

        yield "assertion.loa", loa

        def attributes() -> None:
            values = _attributes(state["assertion"])
            assert pending is not None
            missing = [n.rsplit("/", 1)[-1] for n in pending.required_attributes if not values.get(n)]
            if missing:
                raise CheckFailed("EIDAS_ATTRIBUTE_MISSING", f"required attributes missing: {', '.join(missing)}")
            natural, legal = _persons(values)
            if natural is None and legal is None:
                raise CheckFailed("EIDAS_ATTRIBUTE_MISSING", "neither a natural nor a legal person identifier")
            authn = state["loa"]
            report.identity = ForeignIdentity(
                country=metadata.country, issuer=metadata.entity_id, loa=state["loa_value"],  # type: ignore[arg-type]
                authn_instant=parse_saml_time(authn.get("AuthnInstant"), "AuthnInstant"),
                name_id=state["name_id"], natural=natural, legal=legal, attributes=values)  # type: ignore[arg-type]

        yield "assertion.attributes", attributes

        def country() -> None:
            identity = report.identity
            assert identity is not None
            for identifier in (identity.natural.person_identifier if identity.natural else None,
                               identity.legal.legal_person_identifier if identity.legal else None):
                if identifier is not None:
                    _identifier_country(identifier, metadata.country, self.our_country)

        yield "assertion.country", country

    def _schema(self, element: etree._Element) -> None:
        errors = self.schema.errors(element)
        if errors:
            raise CheckFailed("EIDAS_SCHEMA_INVALID", "; ".join(errors))

    def _instant(self, text: str | None, what: str, now: datetime) -> None:
        try:
            moment = parse_saml_time(text, what)
        except EidasError as exc:
            raise CheckFailed(exc.code, exc.message) from None
        if moment > now + self.expect.clock_skew:
            raise CheckFailed("EIDAS_ISSUE_INSTANT", f"{what} {text} is in the future")
        if moment < now - self.expect.max_age - self.expect.clock_skew:
            raise CheckFailed("EIDAS_EXPIRED", f"{what} {text} is too old")

    def _subject(self, state: dict, pending: PendingRequest | None, now: datetime,  # type: ignore[type-arg]
                 report: ResponseReport) -> None:
        subject = first_child(state["assertion"], _SUBJECT)
        name_id = first_child(subject, _NAME_ID)
        if name_id is None or not _text(name_id):
            raise CheckFailed("EIDAS_SUBJECT_CONFIRMATION", "the assertion has no NameID")
        confirmations = [c for c in subject.iterchildren(_SUBJECT_CONFIRMATION) if c.get("Method") == BEARER]
        if len(confirmations) != 1:
            raise CheckFailed("EIDAS_SUBJECT_CONFIRMATION", "exactly one bearer SubjectConfirmation is required")
        data = first_child(confirmations[0], _CONFIRMATION_DATA)
        if data is None:
            raise CheckFailed("EIDAS_SUBJECT_CONFIRMATION", "bearer confirmation without SubjectConfirmationData")
        if data.get("Recipient") != self.expect.acs_url:
            raise CheckFailed("EIDAS_RECIPIENT_MISMATCH", f"Recipient {data.get('Recipient')!r} is not our ACS")
        if pending is None or data.get("InResponseTo") != pending.request_id:
            raise CheckFailed("EIDAS_IN_RESPONSE_TO", "SubjectConfirmationData/@InResponseTo does not match")
        try:
            not_on_or_after = parse_saml_time(data.get("NotOnOrAfter"), "SubjectConfirmationData/@NotOnOrAfter")
        except EidasError as exc:
            raise CheckFailed("EIDAS_SUBJECT_CONFIRMATION", exc.message) from None
        if now - self.expect.clock_skew >= not_on_or_after:
            raise CheckFailed("EIDAS_EXPIRED", f"bearer confirmation expired at {data.get('NotOnOrAfter')}")
        if data.get("NotBefore") is not None:  # profiles §4.1.4.2: a bearer confirmation has no NotBefore
            raise CheckFailed("EIDAS_SUBJECT_CONFIRMATION", "bearer SubjectConfirmationData must not have NotBefore")
        report.assertion_expires = not_on_or_after
        state["name_id"] = _text(name_id)
