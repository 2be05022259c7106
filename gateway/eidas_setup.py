"""Assembling the connector from settings and the node's key store (shared by the CLI and the web routes)."""

from __future__ import annotations

from datetime import datetime, timedelta

from eidas_node.metadata import build_idp_metadata, build_sp_metadata
from eidas_node.response import ResponseExpectations
from eidas_node.saml import LOA_HIGH, LOA_LOW, LOA_SUBSTANTIAL
from gateway.config import ConfigError, Settings
from pki.keys.port import KeyPurpose, KeyStore
from pki.xml.encryption import FindDecrypter, find_in_store

LOAS = {"low": LOA_LOW, "substantial": LOA_SUBSTANTIAL, "high": LOA_HIGH}


def sp_metadata(settings: Settings, keys: KeyStore | None, now: datetime) -> bytes:
    """Our signed SP metadata: every live SAML signing and encryption key (a rollover keeps both)."""
    if keys is None:
        raise ConfigError("pki.dir", "no PKI: run `gateway-node pki init` (or provision SAML keys)")
    eidas = settings.eidas
    return build_sp_metadata(
        entity_id=eidas.entity_id, acs_url=eidas.acs_url, country=settings.node.country, sp_type=eidas.sp_type,
        signer=keys.signer(KeyPurpose.SAML_SIGNING, family=eidas.signing_family),
        signing_certificates=keys.published_certificates(KeyPurpose.SAML_SIGNING),
        encryption_certificates=keys.published_certificates(KeyPurpose.SAML_ENCRYPTION), now=now,
        valid_for=timedelta(seconds=eidas.metadata_valid_s))


def idp_metadata(settings: Settings, keys: KeyStore | None, now: datetime) -> bytes:
    """Our national IdP's signed metadata, for Latvian portals to register (SSO: <public_url>/eidas/idp/sso)."""
    if keys is None:
        raise ConfigError("pki.dir", "no PKI: run `gateway-node pki init` (or provision SAML keys)")
    base = settings.eidas.public_url.rstrip("/")
    return build_idp_metadata(
        entity_id=base + "/eidas/idp/metadata", sso_url=base + "/eidas/idp/sso", country=settings.node.country,
        signer=keys.signer(KeyPurpose.SAML_SIGNING, family=settings.eidas.signing_family),
        signing_certificates=keys.published_certificates(KeyPurpose.SAML_SIGNING), encryption_certificates=[],
        now=now, loas=[LOA_LOW, LOA_SUBSTANTIAL, LOA_HIGH],
        valid_for=timedelta(seconds=settings.eidas.metadata_valid_s))


def expectations(settings: Settings) -> ResponseExpectations:
    eidas = settings.eidas
    return ResponseExpectations(eidas.entity_id, eidas.acs_url, clock_skew=timedelta(seconds=eidas.clock_skew_s),
                                max_age=timedelta(seconds=eidas.response_max_age_s))


def decrypters(keys: KeyStore) -> FindDecrypter:
    return find_in_store(keys, KeyPurpose.SAML_ENCRYPTION)
