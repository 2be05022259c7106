"""AuthnRequest (both bindings), our SP metadata, and foreign metadata under per-country trust."""

from __future__ import annotations

import base64
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from lxml import etree

from eidas_node import attributes as attrs
from eidas_node.metadata import MetadataCache, build_idp_metadata, build_sp_metadata, parse_idp_metadata
from eidas_node.request import (
    AuthnRequestSpec,
    RequestedAttribute,
    ServiceProvider,
    build_authn_request,
    check_relay_state,
    inflate,
    post_binding,
    redirect_binding,
)
from eidas_node.saml import EIDAS, LOA_SUBSTANTIAL, MD, SAML, SAMLP, EidasError, q
from eidas_node.schema import SamlSchema
from eidas_node.simulator.keys import make_key
from pki import primitives
from pki.xml import algorithms as A
from pki.xml import ns as dsns
from pki.xml.keyinfo import use_certificate
from pki.xml.parser import parse_xml
from pki.xml.verification import verify
from tests.eidas_node.conftest import ACS, NOW, SP_ENTITY

SCHEMA = SamlSchema()
SPEC = AuthnRequestSpec("https://eidas.de.example/sso", LOA_SUBSTANTIAL,
                        [RequestedAttribute(name, True) for name in attrs.NATURAL_MDS]
                        + [RequestedAttribute(attrs.NATURAL_PERSON[4].name, False)])


@pytest.mark.parametrize("family", ["ec", "rsa"])
def test_signed_authn_request(family: str) -> None:
    key = make_key("sp-signing", family, NOW)
    built = build_authn_request(ServiceProvider(SP_ENTITY, ACS), SPEC, NOW, signer=key.signer)
    root = parse_xml(built.xml).getroot()
    assert SCHEMA.errors(root) == []
    verified = verify(root.find(q(dsns.DS, "Signature")), use_certificate(key.certificate), A.EIDAS_1_3)
    assert verified.elements == (root,)
    assert verified.signature_algorithm == (A.RSA_PSS_SHA256 if family == "rsa" else A.ECDSA_SHA256)
    assert root.get("ForceAuthn") == "true" and root.get("IsPassive") == "false"
    assert root.findtext(f"{q(SAMLP, 'Extensions')}/{q(EIDAS, 'SPType')}") == "public"
    requested = root.findall(f".//{q(EIDAS, 'RequestedAttribute')}")
    assert {(r.get("Name"), r.get("isRequired")) for r in requested} >= {(attrs.PERSON_IDENTIFIER, "true")}
    assert [r.get("isRequired") for r in requested][-1] == "false"
    context = root.find(q(SAMLP, "RequestedAuthnContext"))
    assert context.get("Comparison") == "minimum"
    assert context.findtext(q(SAML, "AuthnContextClassRef")) == LOA_SUBSTANTIAL
    assert root.find(q(SAML, "Issuer")).get("Format") == "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"


def test_requester_id_in_scoping() -> None:
    from dataclasses import replace

    key = make_key("sp-signing", "ec", NOW)
    spec = replace(SPEC, requester_id="https://portal.example.lv/metadata")
    root = parse_xml(build_authn_request(ServiceProvider(SP_ENTITY, ACS), spec, NOW, signer=key.signer).xml).getroot()
    assert SCHEMA.errors(root) == []
    assert root.findtext(f"{q(SAMLP, 'Scoping')}/{q(SAMLP, 'RequesterID')}") == "https://portal.example.lv/metadata"
    with pytest.raises(EidasError):
        build_authn_request(ServiceProvider(SP_ENTITY, ACS), replace(SPEC, requester_id="x" * 1025), NOW, signer=None)


def test_post_binding_form_escapes_and_carries_relay_state() -> None:
    key = make_key("sp-signing", "ec", NOW)
    built = build_authn_request(ServiceProvider(SP_ENTITY, ACS), SPEC, NOW, signer=key.signer)
    page = post_binding(built.xml, 'https://x.example/sso?a="b"', "s3ss10n")
    assert 'name="RelayState" value="s3ss10n"' in page and "&quot;b&quot;" in page
    assert base64.b64encode(built.xml).decode() in page
    with pytest.raises(EidasError) as refused:
        check_relay_state("x" * 81)
    assert refused.value.code == "EIDAS_RELAY_STATE"


def test_redirect_binding_signature_over_query_string() -> None:
    key = make_key("sp-signing", "ec", NOW)
    built = build_authn_request(ServiceProvider(SP_ENTITY, ACS), SPEC, NOW, signer=None)
    url = redirect_binding(built.xml, "https://eidas.de.example/sso", "abc", key.signer)
    query = urlsplit(url).query
    pairs = parse_qsl(query)
    assert [k for k, _ in pairs] == ["SAMLRequest", "RelayState", "SigAlg", "Signature"]
    assert inflate(dict(pairs)["SAMLRequest"]) == built.xml
    signed = query.rsplit("&Signature=", 1)[0].encode()
    signature = base64.b64decode(dict(pairs)["Signature"])
    algorithm = A.SIGNATURES[dict(pairs)["SigAlg"]]
    assert primitives.verify(key.certificate.public_key(), signature, signed, algorithm)
    assert not primitives.verify(key.certificate.public_key(), signature, signed.replace(b"abc", b"abd"), algorithm)
    signed_xml = build_authn_request(ServiceProvider(SP_ENTITY, ACS), SPEC, NOW, signer=key.signer).xml
    with pytest.raises(EidasError):
        redirect_binding(signed_xml, "https://eidas.de.example/sso", None, key.signer)


def test_inflate_caps_expansion() -> None:
    import zlib

    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = base64.b64encode(bomb.compress(b"a" * 10_000_000) + bomb.flush()).decode()
    with pytest.raises(EidasError) as refused:
        inflate(data)
    assert refused.value.code == "EIDAS_BINDING_TOO_LARGE"


def test_sp_metadata_valid_signed_lists_all_keys() -> None:
    old, new, enc = make_key("old", "ec", NOW), make_key("new", "ec", NOW), make_key("enc", "rsa", NOW)
    data = build_sp_metadata(entity_id=SP_ENTITY, acs_url=ACS, country="LV", sp_type="public", signer=new.signer,
                             signing_certificates=[new.certificate, old.certificate],
                             encryption_certificates=[enc.certificate], now=NOW)
    root = parse_xml(data).getroot()
    assert SCHEMA.errors(root) == []
    assert verify(root.find(q(dsns.DS, "Signature")), use_certificate(new.certificate), A.EIDAS_1_3).elements == (root,)
    sp = root.find(q(MD, "SPSSODescriptor"))
    assert len(sp.findall(q(MD, "KeyDescriptor"))) == 3
    assert sp.findtext(f"{q(MD, 'Extensions')}/{q(EIDAS, 'NodeCountry')}") == "LV"
    methods = {m.get("Algorithm") for m in sp.iter(q(MD, "EncryptionMethod"))}
    assert methods == {A.AES256_GCM, A.AES128_GCM}
    names = {a.get("Name") for a in root.iter(q(SAML, "Attribute"))}
    assert "http://eidas.europa.eu/entity-attributes/protocol-version" in names
    assert root.get("validUntil") == "2026-11-24T12:00:00.000Z"
    assert root.find(f"{q(MD, 'AssertionConsumerService')}") is None
    assert sp.find(q(MD, "AssertionConsumerService")).get("Location") == ACS


def _idp_md(key, country: str = "DE", now=NOW, valid_for=timedelta(days=1)) -> bytes:  # type: ignore[no-untyped-def]
    return build_idp_metadata(entity_id="https://eidas.de.example/metadata", sso_url="https://eidas.de.example/sso",
                              country=country, signer=key.signer, signing_certificates=[key.certificate],
                              encryption_certificates=[key.certificate], now=now, loas=[LOA_SUBSTANTIAL],
                              valid_for=valid_for)


def test_foreign_metadata_trusted_expired_tampered_wrong_country() -> None:
    key, other = make_key("de-md", "ec", NOW), make_key("evil", "ec", NOW)
    good = parse_idp_metadata(_idp_md(key), anchors=[key.certificate], country="DE", now=NOW)
    assert good.country == "DE" and good.signing_certificates == (key.certificate,)
    assert good.loas == (LOA_SUBSTANTIAL,)
    cases = [
        (_idp_md(key), [other.certificate], "DE", NOW, "EIDAS_METADATA_SIGNATURE"),  # not the country's anchor
        (_idp_md(key), [key.certificate], "DE", NOW + timedelta(days=2), "EIDAS_METADATA_EXPIRED"),
        (_idp_md(key).replace(b"eidas.de.example/sso", b"evil.example/sso"), [key.certificate], "DE", NOW,
         "EIDAS_METADATA_SIGNATURE"),
        (_idp_md(key), [key.certificate], "FR", NOW, "EIDAS_METADATA_COUNTRY"),
    ]
    for data, anchors, country, now, code in cases:
        with pytest.raises(EidasError) as refused:
            parse_idp_metadata(data, anchors=anchors, country=country, now=now)
        assert refused.value.code == code
    root = etree.fromstring(_idp_md(key))
    root.remove(root.find(q(dsns.DS, "Signature")))
    with pytest.raises(EidasError) as refused:
        parse_idp_metadata(etree.tostring(root), anchors=[key.certificate], country="DE", now=NOW)
    assert refused.value.code == "EIDAS_METADATA_UNSIGNED"


def test_metadata_cache_refresh_and_expiry() -> None:
    key = make_key("de-md", "ec", NOW)
    metadata = parse_idp_metadata(_idp_md(key, valid_for=timedelta(hours=3)), anchors=[key.certificate],
                                  country="DE", now=NOW)
    cache = MetadataCache(refresh_every=timedelta(hours=1))
    assert cache.due("DE", NOW)
    cache.put(metadata, NOW)
    assert not cache.due("DE", NOW + timedelta(minutes=59)) and cache.due("DE", NOW + timedelta(hours=1))
    assert cache.get("DE", NOW + timedelta(hours=2)) is metadata
    with pytest.raises(EidasError) as refused:
        cache.get("DE", NOW + timedelta(hours=3))
    assert refused.value.code == "EIDAS_METADATA_EXPIRED"
