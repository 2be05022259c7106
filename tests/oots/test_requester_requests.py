"""Requests built from the common services' answers validate, and request #2 cross-checks with #1."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path

import pytest

from oots.commonservices.catalogue import load_catalogue
from oots.edm import to_bytes
from oots.provider.answers import exception_response
from oots.requester.requests import RequestBuildError, choose_version, first_request, second_request
from oots.validation import validate_bytes
from oots.validation.cross import cross_check
from tests.oots import samples
from tests.oots.cs_fixtures import DIPLOMA, REGION, RESIDENCE, T2_REQUIREMENT

CATALOGUE = load_catalogue(Path(__file__).resolve().parents[2] / "config" / "oots" / "common-services.yaml")


def new_id() -> str:
    return str(uuid.uuid4())


def build(classification: str, answers=None, **kwargs):  # type: ignore[no-untyped-def]
    (offer,) = CATALOGUE.data_services_for(classification, "LV", answers or {})
    requirements = CATALOGUE.requirements_for("T2", "LV")
    return first_request(offer=offer, service=offer.access_services[0], requirements=requirements, procedure="T2",
                         person=samples.PERSON, requesters=[samples.REQUESTER, samples.INTERMEDIARY],
                         possibility_for_preview=True, now=samples.NOW, new_id=new_id, answers=answers, **kwargs)


@pytest.mark.parametrize("version", [None, "oots-edm:v1.2"])
def test_request_from_the_directory_validates(version: str | None) -> None:
    request = build(DIPLOMA, version=version)
    assert request.specification_id == (version or "oots-edm:v2.0")  # the newest both sides speak
    assert request.evidence_request.classification == DIPLOMA
    assert request.evidence_provider.identifier.value == "90000011588"
    assert [r.identifier for r in request.requirements] == [T2_REQUIREMENT]
    report = validate_bytes(to_bytes(request))
    assert report.valid, [f.as_dict() for f in report.findings if f.fatal]


def test_additional_input_travels_as_provider_classification() -> None:
    request = build(RESIDENCE, answers={REGION: "LV009"})
    assert request.specification_id == "oots-edm:v1.2"  # that service speaks v1.2 only
    assert [(c.identifier, c.value) for c in request.provider_classifications] == [(REGION, "LV009")]
    assert request.evidence_provider.names[0].value == "Liepāja City Council"
    assert validate_bytes(to_bytes(request)).valid


@pytest.mark.parametrize("version", ["oots-edm:v2.0", "oots-edm:v1.2"])
def test_second_request_repeats_the_first(version: str) -> None:
    first = build(DIPLOMA, version=version)
    exception = exception_response(first, "EDM:ERR:0002", provider=samples.PROVIDER, now=samples.NOW,
                                   new_id=new_id, preview_location="https://preview.de.example/p/abc")
    second = second_request(first, exception, now=samples.NOW, new_id=new_id,
                            return_location="https://portal.gov.lv/oots/return/1")
    assert cross_check(exception, second, first) == []
    assert (second.return_location is not None) == (version == "oots-edm:v2.0")
    assert validate_bytes(to_bytes(second)).valid
    with pytest.raises(RequestBuildError) as wrong:
        second_request(first, dataclasses.replace(exception, exception=exception_response(
            first, "EDM:ERR:0004", provider=samples.PROVIDER, now=samples.NOW, new_id=new_id).exception),
            now=samples.NOW, new_id=new_id)
    assert wrong.value.code == "OOTS_NO_PREVIEW"


def test_refusals() -> None:
    (offer,) = CATALOGUE.data_services_for(DIPLOMA, "LV", {})
    old = dataclasses.replace(offer.access_services[0], conforms_to=("oots-edm:v1.0",))
    with pytest.raises(RequestBuildError) as version:
        choose_version(old)
    assert version.value.code == "OOTS_NO_COMMON_VERSION"
    with pytest.raises(RequestBuildError) as requester:
        first_request(offer=offer, service=offer.access_services[0], requirements=[], procedure="T2",
                      person=samples.PERSON, requesters=[samples.INTERMEDIARY], possibility_for_preview=False,
                      now=samples.NOW, new_id=new_id)
    assert requester.value.code == "OOTS_NO_REQUESTER"
