"""The pure pieces of the node's OOTS service: portal input checks, the redirect URL, the four-corner
properties, and the [oots] configuration from the environment."""

from __future__ import annotations

import pytest

from gateway.config import ConfigError, load_settings
from gateway.oots_node import OotsError, corner_properties
from gateway.oots_requester import RequesterError, person_from, redirect_url
from tests.oots import samples

MDS = {"family_name": "Bērziņa", "given_name": "Anna", "date_of_birth": "1990-01-01", "identifier": "LV/DE/A-1",
       "level_of_assurance": "Substantial"}


def test_person_from_portal_mds() -> None:
    person = person_from(MDS)
    assert (person.family_name, person.level_of_assurance, person.identifier.scheme_id) == (  # type: ignore[union-attr]
        "Bērziņa", "Substantial", "eidas")
    for bad, code in (([], "OOTS_REQ_PERSON"), ({**MDS, "given_name": ""}, "OOTS_REQ_PERSON"),
                      ({**MDS, "date_of_birth": "01.01.1990"}, "OOTS_REQ_PERSON"),
                      ({**MDS, "level_of_assurance": "http://eidas.europa.eu/LoA/high"}, "OOTS_REQ_LOA")):
        with pytest.raises(RequesterError) as refused:
            person_from(bad)
        assert refused.value.code == code and refused.value.status == 400


def test_redirect_url_carries_the_return_url() -> None:
    assert redirect_url("https://p.example/x/tok", None) == "https://p.example/x/tok"
    assert redirect_url("https://p.example/x/tok", "https://portal.lv/back?a=1&b=2") == (
        "https://p.example/x/tok?returnurl=https%3A%2F%2Fportal.lv%2Fback%3Fa%3D1%26b%3D2")
    assert redirect_url("https://p.example/x?s=tok", "https://portal.lv/") == (
        "https://p.example/x?s=tok&returnurl=https%3A%2F%2Fportal.lv%2F")


def test_corner_properties_per_version() -> None:
    v12 = corner_properties(samples.REQUESTER, samples.PROVIDER, "oots-edm:v1.2", None)
    assert [(p.name, p.value, p.type) for p in v12] == [
        ("originalSender", "LV40003011203", "urn:cef.eu:names:identifier:EAS:9939"),
        ("finalRecipient", "02-SchoolAuthority-34", "urn:cef.eu:names:identifier:EAS:0204")]
    v20 = corner_properties(samples.REQUESTER, samples.PROVIDER, "oots-edm:v2.0", "ex-1")
    assert [(p.name, p.value) for p in v20[2:]] == [("ExchangeId", "ex-1"), ("SpecificationId", "oots-edm:v2.0")]
    with pytest.raises(OotsError) as missing:
        corner_properties(samples.REQUESTER, samples.PROVIDER, "oots-edm:v2.0", None)
    assert missing.value.code == "OOTS_NODE_EXCHANGE_ID"


def test_oots_settings_from_the_environment() -> None:
    settings = load_settings(environ={
        "GATEWAY_OOTS__ROUTES": '{"LV-GW": {"oots-edm:v1.2": "oots-to-LV-GW"}}',
        "GATEWAY_OOTS__REQUESTERS": '["LV40003011203"]', "GATEWAY_OOTS__T3_S": "60"}, default_file=False)
    assert settings.oots.routes == {"LV-GW": {"oots-edm:v1.2": "oots-to-LV-GW"}}
    assert settings.oots.requesters == ["LV40003011203"] and settings.oots.t3_s == 60
    assert settings.oots.service_client == ""  # the OOTS service is off by default
    with pytest.raises(ConfigError) as bad:
        load_settings(environ={"GATEWAY_OOTS__ROUTES": "{not json"}, default_file=False)
    assert bad.value.key == "oots.routes"
    with pytest.raises(ConfigError) as negative:
        load_settings(environ={"GATEWAY_OOTS__T1_S": "0"}, default_file=False)
    assert negative.value.key == "oots.t1_s"
