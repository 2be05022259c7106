"""Pure parts of the preview pages: who a login names, the person reference, the page policy, the config."""

from __future__ import annotations

from datetime import date

import pytest

from eidas_node import attributes as attrs
from eidas_node.national import NATIONAL_ID
from gateway.config import ConfigError, load_settings
from gateway.preview_web_login import LoginRefused, Person, person_of
from oots.identity import person_reference
from preview_space.http_policy import page_headers
from preview_space.mds import Mds, MdsMismatch, check_mds

ANNA = {attrs.FAMILY_NAME: ["Bērziņa"], attrs.GIVEN_NAME: ["Anna"], attrs.DATE_OF_BIRTH: ["1990-01-01"],
        NATIONAL_ID: ["010190-10001"], attrs.PERSON_IDENTIFIER: ["LV/DE/ANNA-1"]}


def test_national_and_foreign_logins_name_the_person_in_their_own_scheme() -> None:
    national, foreign = person_of("national", ANNA), person_of("foreign", ANNA)
    assert (national.mds.identifier, national.mds.scheme) == ("010190-10001", "lv-personal-code")
    assert (foreign.mds.identifier, foreign.mds.scheme) == ("LV/DE/ANNA-1", "eidas:LV/DE")
    # Both find the same access log: the reference has no identifier, and names are normalised.
    assert national.person_ref == foreign.person_ref == person_reference("BERZINA", "anna", "1990-01-01")
    assert person_reference("Bērziņa", "Anna", "1990-01-02") != national.person_ref
    assert Person.from_json(national.to_json()) == national


def test_the_request_identifier_is_compared_only_within_one_scheme() -> None:
    requested = Mds("Bērziņa", "Anna", date(1990, 1, 1), "LV/DE/ANNA-1", "eidas:LV/DE")
    check_mds(requested, person_of("national", ANNA).mds)  # personal code vs eIDAS id: not compared
    other = dict(ANNA, **{attrs.PERSON_IDENTIFIER: ["LV/DE/SOMEONE-ELSE"]})
    with pytest.raises(MdsMismatch):
        check_mds(requested, person_of("foreign", other).mds)
    # The same person's identifier for another destination country is another scheme: not compared.
    elsewhere = dict(ANNA, **{attrs.PERSON_IDENTIFIER: ["LV/EE/ANNA-9"]})
    check_mds(requested, person_of("foreign", elsewhere).mds)


@pytest.mark.parametrize("broken", [
    {attrs.FAMILY_NAME: []}, {attrs.DATE_OF_BIRTH: ["01.01.1990"]}, {attrs.GIVEN_NAME: ["a", "b"]},
    {NATIONAL_ID: [" "]},
])
def test_incomplete_assertions_are_refused(broken: dict[str, list[str]]) -> None:
    with pytest.raises(LoginRefused) as refused:
        person_of("national", {**ANNA, **broken})
    assert refused.value.code == "PREVIEW_LOGIN_ATTRIBUTES"


def test_forms_may_lead_only_to_the_node_and_the_configured_idps() -> None:
    csp = page_headers(["http://127.0.0.1:9000", "http://127.0.0.1:9000"])["Content-Security-Policy"]
    assert "form-action 'self' https: http://127.0.0.1:9000;" in csp and "frame-ancestors 'none'" in csp
    assert "form-action 'self' https:;" in page_headers()["Content-Security-Policy"]


def test_configuration_from_the_environment() -> None:
    settings = load_settings(environ={"GATEWAY_PREVIEW_SPACE__ENABLED": "true",
                                      "GATEWAY_PREVIEW_SPACE__RETURN_ORIGINS": '{"*": ["https://a.lv"], '
                                                                               '"LV1": ["https://b.lv"]}',
                                      "GATEWAY_PREVIEW_SPACE__NATIONAL_IDP": "simulated"}, default_file=False)
    section = settings.preview_space
    assert section.enabled and section.origins_for("LV1") == ["https://b.lv", "https://a.lv"]
    assert section.origins_for("LV2") == ["https://a.lv"]
    with pytest.raises(ConfigError):
        load_settings(environ={"GATEWAY_PREVIEW_SPACE__NATIONAL_IDP": "real-one"}, default_file=False)
