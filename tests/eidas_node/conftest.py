"""Shared pieces for the connector tests: a proxy service (simulated), our SP keys, a checker."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from eidas_node import attributes as attrs
from eidas_node.metadata import IdpMetadata, build_idp_metadata, parse_idp_metadata
from eidas_node.response import ResponseChecker, ResponseExpectations
from eidas_node.saml import LOA_HIGH, LOA_LOW, LOA_SUBSTANTIAL
from eidas_node.schema import SamlSchema
from eidas_node.simulator.keys import KeyPair, make_key
from eidas_node.simulator.responses import ProxyService, RequestInfo, TestUser
from eidas_node.stores import PendingRequest

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
SP_ENTITY = "https://node.example.lv/eidas/metadata"
ACS = "https://node.example.lv/eidas/acs"
USER = TestUser("erika", "DE/LV/1234567890", "Mustermann", "Erika", "1964-08-12")


@dataclass
class World:
    idp: ProxyService
    idp_key: KeyPair
    sp_key: KeyPair
    metadata: IdpMetadata
    checker: ResponseChecker
    request: RequestInfo
    pending: PendingRequest
    user: TestUser


_schema: SamlSchema | None = None


def make_world(family: str = "ec", country: str = "DE", loa: str = LOA_SUBSTANTIAL) -> World:
    global _schema
    _schema = _schema or SamlSchema()
    idp_key = make_key(f"proxy-service-{country}", family, NOW)
    sp_key = make_key("node-encryption", family, NOW)
    entity = f"https://eidas.{country.lower()}.example/metadata"
    md = build_idp_metadata(entity_id=entity, sso_url=f"https://eidas.{country.lower()}.example/sso",
                            country=country, signer=idp_key.signer, signing_certificates=[idp_key.certificate],
                            encryption_certificates=[idp_key.certificate], now=NOW,
                            loas=[LOA_LOW, LOA_SUBSTANTIAL, LOA_HIGH])
    metadata = parse_idp_metadata(md, anchors=[idp_key.certificate], country=country, now=NOW)
    checker = ResponseChecker(ResponseExpectations(SP_ENTITY, ACS), lambda info: sp_key.decrypter, schema=_schema)
    request = RequestInfo("_req" + country + family, ACS, SP_ENTITY, loa)
    pending = PendingRequest(request.request_id, country, entity, loa, attrs.NATURAL_MDS, NOW,
                             NOW + timedelta(minutes=10))
    return World(ProxyService(entity, country, idp_key.signer), idp_key, sp_key, metadata, checker, request,
                 pending, replace(USER, person_identifier=f"{country}/LV/1234567890"))


@pytest.fixture(scope="session")
def ec_world() -> World:
    return make_world("ec")


@pytest.fixture(scope="session")
def rsa_world() -> World:
    return make_world("rsa", "FR")
