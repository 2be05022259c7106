"""SAML metadata: our signed SP metadata, and foreign proxy-service metadata read under per-country trust.

Foreign metadata is accepted only when its signature verifies with a certificate that is one of the
country's configured trust anchors or is issued directly by one (the certificate inside the document alone
proves nothing), and only until its validUntil. What is read afterwards comes from the verified element.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from lxml import etree

from eidas_node.attributes import NATURAL_PERSON
from eidas_node.saml import (
    ALG,
    APPLICATION_ID_ATTR,
    APPLICATION_IDENTIFIER,
    EIDAS,
    LOA_ENTITY_ATTR,
    LOA_RANK,
    MD,
    MDATTR,
    NAME_ID_FORMATS,
    POST_BINDING,
    PROTOCOL_VERSION_ATTR,
    PROTOCOL_VERSIONS,
    REDIRECT_BINDING,
    SAML,
    SAMLP,
    URI_NAME_FORMAT,
    EidasError,
    parse_saml_time,
    q,
    saml_time,
)
from pki.keys.port import Signer
from pki.xml import algorithms as A
from pki.xml import ns as dsns
from pki.xml.algorithms import EIDAS_1_3, AlgorithmPolicy, AlgorithmRefused
from pki.xml.keyinfo import KeyInfoData, KeyResolutionError, ResolvedKey, parse_key_info, x509_data
from pki.xml.parser import XmlRefused, parse_xml
from pki.xml.references import SignatureError
from pki.xml.verification import verify

_DIGESTS = (A.SHA256, A.SHA384, A.SHA512)
_DATA_ENCRYPTION = (A.AES256_GCM, A.AES128_GCM)


def _attribute(parent: etree._Element, name: str, values: Sequence[str]) -> None:
    attribute = etree.SubElement(parent, q(SAML, "Attribute"), Name=name, NameFormat=URI_NAME_FORMAT)
    for value in values:
        etree.SubElement(attribute, q(SAML, "AttributeValue")).text = value


def _key_descriptor(parent: etree._Element, use: str, cert: x509.Certificate, methods: Sequence[str] = ()) -> None:
    descriptor = etree.SubElement(parent, q(MD, "KeyDescriptor"), use=use)
    etree.SubElement(descriptor, q(dsns.DS, "KeyInfo")).append(x509_data([cert]))
    for method in methods:
        etree.SubElement(descriptor, q(MD, "EncryptionMethod"), Algorithm=method)


def _entity(entity_id: str, now: datetime, valid_for: timedelta, policy: AlgorithmPolicy,
            loas: Sequence[str] = ()) -> etree._Element:
    root = etree.Element(q(MD, "EntityDescriptor"), nsmap={
        "md": MD, "saml2": SAML, "ds": dsns.DS, "eidas": EIDAS, "mdattr": MDATTR, "alg": ALG})
    root.set("ID", "_" + entity_id.encode().hex()[:16] + now.strftime("%Y%m%d%H%M%S"))
    root.set("entityID", entity_id)
    root.set("validUntil", saml_time(now + valid_for))
    extensions = etree.SubElement(root, q(MD, "Extensions"))
    entity_attributes = etree.SubElement(extensions, q(MDATTR, "EntityAttributes"))
    _attribute(entity_attributes, PROTOCOL_VERSION_ATTR, PROTOCOL_VERSIONS)
    _attribute(entity_attributes, APPLICATION_ID_ATTR, [APPLICATION_IDENTIFIER])
    if loas:
        _attribute(entity_attributes, LOA_ENTITY_ATTR, loas)
    for digest in _DIGESTS:
        etree.SubElement(extensions, q(ALG, "DigestMethod"), Algorithm=digest)
    for algorithm in sorted(policy.signatures):
        etree.SubElement(extensions, q(ALG, "SigningMethod"), Algorithm=algorithm)
    return root


def _sign_entity(root: etree._Element, signer: Signer, policy: AlgorithmPolicy, algorithm: str | None) -> bytes:
    from eidas_node.request import sign_saml

    sign_saml(root, signer, policy, algorithm, after=None)  # ds:Signature is the EntityDescriptor's first child
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def build_sp_metadata(*, entity_id: str, acs_url: str, country: str, sp_type: str, signer: Signer,
                      signing_certificates: Sequence[x509.Certificate],
                      encryption_certificates: Sequence[x509.Certificate], now: datetime,
                      valid_for: timedelta = timedelta(days=1), policy: AlgorithmPolicy = EIDAS_1_3,
                      signature_algorithm: str | None = None) -> bytes:
    """Our signed SP metadata. Every live key of a rollover is listed; ``signer`` is the current one."""
    root = _entity(entity_id, now, valid_for, policy)
    sp = etree.SubElement(root, q(MD, "SPSSODescriptor"), AuthnRequestsSigned="true", WantAssertionsSigned="true",
                          protocolSupportEnumeration=SAMLP)
    sp_extensions = etree.SubElement(sp, q(MD, "Extensions"))
    etree.SubElement(sp_extensions, q(EIDAS, "SPType")).text = sp_type
    etree.SubElement(sp_extensions, q(EIDAS, "NodeCountry")).text = country
    for cert in signing_certificates:
        _key_descriptor(sp, "signing", cert)
    for cert in encryption_certificates:
        _key_descriptor(sp, "encryption", cert, _DATA_ENCRYPTION)
    for name_id_format in NAME_ID_FORMATS:
        etree.SubElement(sp, q(MD, "NameIDFormat")).text = name_id_format
    etree.SubElement(sp, q(MD, "AssertionConsumerService"), Binding=POST_BINDING, Location=acs_url, index="0",
                     isDefault="true")
    return _sign_entity(root, signer, policy, signature_algorithm)


def build_idp_metadata(*, entity_id: str, sso_url: str, country: str, signer: Signer,
                       signing_certificates: Sequence[x509.Certificate],
                       encryption_certificates: Sequence[x509.Certificate], now: datetime,
                       loas: Sequence[str], valid_for: timedelta = timedelta(days=1),
                       policy: AlgorithmPolicy = EIDAS_1_3) -> bytes:
    """Proxy-service metadata (what foreign countries publish): for the simulator and for tests."""
    root = _entity(entity_id, now, valid_for, policy, loas)
    idp = etree.SubElement(root, q(MD, "IDPSSODescriptor"), WantAuthnRequestsSigned="true",
                           protocolSupportEnumeration=SAMLP)
    etree.SubElement(etree.SubElement(idp, q(MD, "Extensions")), q(EIDAS, "NodeCountry")).text = country
    for cert in signing_certificates:
        _key_descriptor(idp, "signing", cert)
    for cert in encryption_certificates:
        _key_descriptor(idp, "encryption", cert, _DATA_ENCRYPTION)
    for name_id_format in NAME_ID_FORMATS:
        etree.SubElement(idp, q(MD, "NameIDFormat")).text = name_id_format
    for binding in (POST_BINDING, REDIRECT_BINDING):
        etree.SubElement(idp, q(MD, "SingleSignOnService"), Binding=binding, Location=sso_url)
    for attribute in NATURAL_PERSON:
        etree.SubElement(idp, q(SAML, "Attribute"), Name=attribute.name, NameFormat=URI_NAME_FORMAT,
                         FriendlyName=attribute.friendly)
    return _sign_entity(root, signer, policy, None)


@dataclass(frozen=True)
class IdpMetadata:
    entity_id: str
    country: str
    valid_until: datetime
    sso: dict[str, str]  # binding -> location
    signing_certificates: tuple[x509.Certificate, ...]
    encryption_certificates: tuple[x509.Certificate, ...]
    loas: tuple[str, ...]
    want_requests_signed: bool
    metadata_signer: x509.Certificate | None


def anchored_resolver(anchors: Sequence[x509.Certificate], now: datetime):  # type: ignore[no-untyped-def]
    """Key resolver for metadata: the signing certificate is an anchor itself or issued directly by one and
    valid now; without a certificate in KeyInfo, the key must be an anchor's."""

    def resolve(info: KeyInfoData) -> ResolvedKey:
        if not info.certificates:
            for anchor in anchors:
                if info.public_key is not None and anchor.public_key() == info.public_key:
                    return ResolvedKey(anchor.public_key(), anchor)  # type: ignore[arg-type]
            raise KeyResolutionError("EIDAS_METADATA_UNTRUSTED", "metadata signature names no trusted key")
        leaf = info.certificates[0]
        if not (leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc):
            raise KeyResolutionError("EIDAS_METADATA_CERT_EXPIRED", "metadata signing certificate not valid now")
        for anchor in anchors:
            if leaf == anchor:
                return ResolvedKey(leaf.public_key(), leaf)  # type: ignore[arg-type]
            try:
                leaf.verify_directly_issued_by(anchor)
            except (ValueError, TypeError, Exception):
                continue
            return ResolvedKey(leaf.public_key(), leaf)  # type: ignore[arg-type]
        raise KeyResolutionError("EIDAS_METADATA_UNTRUSTED", "metadata signer is not a trust anchor of the country")

    return resolve


def _certificates(role: etree._Element, use: str) -> tuple[x509.Certificate, ...]:
    found: list[x509.Certificate] = []
    for descriptor in role.findall(q(MD, "KeyDescriptor")):
        if descriptor.get("use", use) != use:
            continue
        found.extend(parse_key_info(descriptor.find(q(dsns.DS, "KeyInfo"))).certificates)
    return tuple(found)


def parse_idp_metadata(data: bytes, *, anchors: Sequence[x509.Certificate], country: str, now: datetime,
                       policy: AlgorithmPolicy = EIDAS_1_3) -> IdpMetadata:
    """Verify and read one proxy service's metadata for ``country``; raise EidasError with a code."""
    try:
        root = parse_xml(data).getroot()
    except XmlRefused as exc:
        raise EidasError("EIDAS_METADATA_MALFORMED", f"{exc.code}: {exc.message}") from None
    if root.tag != q(MD, "EntityDescriptor"):
        raise EidasError("EIDAS_METADATA_MALFORMED", f"expected md:EntityDescriptor, got {root.tag}")
    signatures = root.findall(q(dsns.DS, "Signature"))
    if len(signatures) != 1:
        raise EidasError("EIDAS_METADATA_UNSIGNED", f"metadata must carry one signature, found {len(signatures)}")
    try:
        verified = verify(signatures[0], anchored_resolver(anchors, now), policy)
    except (SignatureError, KeyResolutionError, AlgorithmRefused) as exc:
        raise EidasError("EIDAS_METADATA_SIGNATURE", f"{getattr(exc, 'code', '')}: {exc}") from None
    if len(verified.elements) != 1 or verified.elements[0] is not root:
        raise EidasError("EIDAS_METADATA_SIGNATURE", "the signature does not cover the EntityDescriptor")
    valid_until = parse_saml_time(root.get("validUntil"), "validUntil")
    if valid_until <= now:
        raise EidasError("EIDAS_METADATA_EXPIRED", f"metadata expired at {saml_time(valid_until)}")
    roles = root.findall(q(MD, "IDPSSODescriptor"))
    if len(roles) != 1:
        raise EidasError("EIDAS_METADATA_MALFORMED", "expected one IDPSSODescriptor")
    idp = roles[0]
    node_country = idp.findtext(f"{q(MD, 'Extensions')}/{q(EIDAS, 'NodeCountry')}") or root.findtext(
        f"{q(MD, 'Extensions')}/{q(EIDAS, 'NodeCountry')}")
    if node_country != country:
        raise EidasError("EIDAS_METADATA_COUNTRY", f"metadata is for {node_country!r}, configured for {country!r}")
    sso = {el.get("Binding", ""): el.get("Location", "") for el in idp.findall(q(MD, "SingleSignOnService"))}
    if POST_BINDING not in sso and REDIRECT_BINDING not in sso:
        raise EidasError("EIDAS_METADATA_MALFORMED", "no SingleSignOnService with a supported binding")
    signing = _certificates(idp, "signing")
    if not signing:
        raise EidasError("EIDAS_METADATA_MALFORMED", "no signing certificate for the proxy service")
    loas: list[str] = []
    for attribute in root.iterfind(f"{q(MD, 'Extensions')}/{q(MDATTR, 'EntityAttributes')}/{q(SAML, 'Attribute')}"):
        if attribute.get("Name") == LOA_ENTITY_ATTR:
            loas.extend((v.text or "").strip() for v in attribute.findall(q(SAML, "AttributeValue")))
    return IdpMetadata(
        entity_id=root.get("entityID", ""), country=node_country, valid_until=valid_until, sso=sso,
        signing_certificates=signing, encryption_certificates=_certificates(idp, "encryption"),
        loas=tuple(loa for loa in loas if loa in LOA_RANK), metadata_signer=verified.certificate,
        want_requests_signed=idp.get("WantAuthnRequestsSigned") in ("true", "1"))


class MetadataCache:
    """Verified metadata per country, refreshed by the I/O shell when :meth:`due` says so; an expired entry is
    never served, even when refreshing failed."""

    def __init__(self, refresh_every: timedelta = timedelta(hours=1)) -> None:
        self._entries: dict[str, tuple[IdpMetadata, datetime]] = {}
        self.refresh_every = refresh_every

    def put(self, metadata: IdpMetadata, now: datetime) -> None:
        self._entries[metadata.country] = (metadata, now)

    def due(self, country: str, now: datetime) -> bool:
        entry = self._entries.get(country)
        return entry is None or now - entry[1] >= self.refresh_every or entry[0].valid_until <= now

    def has(self, country: str) -> bool:
        return country in self._entries

    def get(self, country: str, now: datetime) -> IdpMetadata:
        entry = self._entries.get(country)
        if entry is None:
            raise EidasError("EIDAS_COUNTRY_UNKNOWN", f"no metadata for country {country!r}")
        if entry[0].valid_until <= now:
            raise EidasError("EIDAS_METADATA_EXPIRED", f"metadata of {country} expired")
        return entry[0]

    def by_entity(self, entity_id: str, now: datetime) -> IdpMetadata:
        for metadata, _ in self._entries.values():
            if metadata.entity_id == entity_id:
                return self.get(metadata.country, now)
        raise EidasError("EIDAS_ISSUER_UNKNOWN", f"no proxy service with entity id {entity_id!r}")

    def countries(self) -> list[str]:
        return sorted(self._entries)


@dataclass(frozen=True)
class SpMetadata:
    entity_id: str
    acs_url: str
    country: str | None
    signing_certificates: tuple[x509.Certificate, ...]
    encryption_certificates: tuple[x509.Certificate, ...]
    valid_until: datetime


def parse_sp_metadata(data: bytes, *, anchors: Sequence[x509.Certificate], now: datetime,
                      policy: AlgorithmPolicy = EIDAS_1_3) -> SpMetadata:
    """A connector's (or portal's) SP metadata, verified the same way as proxy-service metadata."""
    try:
        root = parse_xml(data).getroot()
    except XmlRefused as exc:
        raise EidasError("EIDAS_METADATA_MALFORMED", f"{exc.code}: {exc.message}") from None
    signatures = root.findall(q(dsns.DS, "Signature"))
    if root.tag != q(MD, "EntityDescriptor") or len(signatures) != 1:
        raise EidasError("EIDAS_METADATA_UNSIGNED", "expected a signed md:EntityDescriptor")
    try:
        verified = verify(signatures[0], anchored_resolver(anchors, now), policy)
    except (SignatureError, KeyResolutionError, AlgorithmRefused) as exc:
        raise EidasError("EIDAS_METADATA_SIGNATURE", f"{getattr(exc, 'code', '')}: {exc}") from None
    if verified.elements != (root,):
        raise EidasError("EIDAS_METADATA_SIGNATURE", "the signature does not cover the EntityDescriptor")
    valid_until = parse_saml_time(root.get("validUntil"), "validUntil")
    if valid_until <= now:
        raise EidasError("EIDAS_METADATA_EXPIRED", f"metadata expired at {saml_time(valid_until)}")
    sp = root.find(q(MD, "SPSSODescriptor"))
    acs = sp.find(q(MD, "AssertionConsumerService")) if sp is not None else None
    if sp is None or acs is None:
        raise EidasError("EIDAS_METADATA_MALFORMED", "no SPSSODescriptor with an AssertionConsumerService")
    return SpMetadata(root.get("entityID", ""), acs.get("Location", ""),
                      sp.findtext(f"{q(MD, 'Extensions')}/{q(EIDAS, 'NodeCountry')}"),
                      _certificates(sp, "signing"), _certificates(sp, "encryption"), valid_until)
