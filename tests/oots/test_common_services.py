"""Common-services client against the real simulator over HTTP on loopback: EB and DSD queries, HTTP 200
failures, DSD:ERR:0005 additional input, and detached-JWS verification with its refusals."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from oots.commonservices.catalogue import CatalogueError, parse_catalogue
from oots.commonservices.client import CommonServicesClient
from oots.commonservices.jws import sign_detached, verify_detached
from oots.commonservices.model import EB_REQUIREMENTS, AdditionalInputRequired, CommonServicesError
from tests.oots.cs_fixtures import (
    DIPLOMA,
    EC_CA,
    EC_KEY,
    EC_LEAF,
    PURPOSE,
    REGION,
    RESIDENCE,
    T2_REQUIREMENT,
    TRUST,
    client,
)
from tests.pki.pkihelpers import foreign_chain, now


async def test_evidence_broker_and_directory_happy_path(start, session) -> None:  # type: ignore[no-untyped-def]
    cs = client(session, await start())
    (requirement,) = await cs.requirements("T2", "LV")
    assert requirement.identifier == T2_REQUIREMENT and requirement.evidence_type_lists == ()
    assert "T2" in requirement.reference_frameworks[0].procedures
    (typed,) = await cs.evidence_types(T2_REQUIREMENT, "LV")
    assert [lst.evidence_types[0].classification for lst in typed.evidence_type_lists] == [
        DIPLOMA, "https://sr.oots.tech.ec.europa.eu/evidencetypeclassifications/EU/b6a49e54-8b3c-4688-acad-380440dc5962"]
    (offer,) = await cs.data_services(DIPLOMA, "LV", specification="oots-edm:v2.0")
    (service,) = offer.access_services
    assert offer.evidence_type.classification == DIPLOMA and offer.level_of_assurance == "Substantial"
    assert service.identifier.value == "LV-GW-DEV" and "oots-edm:v2.0" in service.conforms_to
    assert service.publisher.identifier.value == "90000011588" and service.publisher.classification == "EP"


async def test_failures_come_with_http_200_and_their_code(start, session) -> None:  # type: ignore[no-untyped-def]
    base = await start()
    async with session.get(f"{base}/eb/rest/search", params={"queryId": EB_REQUIREMENTS, "procedure-id": "ZZ"},
                           headers={"Accept": "application/x-ebrs+xml"}) as raw:
        assert raw.status == 200 and b"EB:ERR:0005" in await raw.read()
    cs = client(session, base)
    for call, code in ((cs.requirements("ZZ"), "EB:ERR:0005"),
                       (cs.evidence_types("https://sr.oots.tech.ec.europa.eu/requirements/unknown"), "EB:ERR:0002"),
                       (cs.data_services("https://example.org/unknown-type", "LV"), "DSD:ERR:0002"),
                       (cs.data_services(DIPLOMA, "EE"), "DSD:ERR:0001"),
                       (cs.data_services(DIPLOMA, "LV", specification="oots-edm:v9.9"), "DSD:ERR:0001")):
        with pytest.raises(CommonServicesError) as caught:
            await call
        assert caught.value.code == code


async def test_additional_input_then_second_query(start, session) -> None:  # type: ignore[no-untyped-def]
    cs = client(session, await start())
    with pytest.raises(AdditionalInputRequired) as caught:
        await cs.data_services(RESIDENCE, "LV")
    assert caught.value.code == "DSD:ERR:0005"
    (concept,) = caught.value.concepts
    assert concept.identifier == REGION and concept.type == "NUTS3" and "LV009" in concept.supported_values
    assert caught.value.evidence_type is not None and caught.value.evidence_type.classification == RESIDENCE
    (riga,) = await cs.data_services(RESIDENCE, "LV", additional={REGION: "LV006"})
    (liepaja,) = await cs.data_services(RESIDENCE, "LV", additional={REGION: "LV009"})
    assert riga.access_services[0].publisher.names[0].value == "Riga City Council"
    assert liepaja.access_services[0].publisher.names[0].value == "Liepāja City Council"
    with pytest.raises(CommonServicesError) as none:
        await cs.data_services(RESIDENCE, "LV", additional={REGION: "LV007"})
    assert none.value.code == "DSD:ERR:0001"


async def test_accept_version_selects_the_shape(start, session) -> None:  # type: ignore[no-untyped-def]
    base = await start()
    params = {"queryId": EB_REQUIREMENTS, "procedure-id": "T2"}
    async with session.get(f"{base}/eb/rest/search", params=params,
                           headers={"Accept": "application/x-ebrs+xml", "Accept-Version": "oots-cs:v2.0"}) as r:
        assert b"oots-cs:v2.0" in await r.read()
    async with session.get(f"{base}/eb/rest/search", params=params, headers={"Accept": "application/x-ebrs+xml"}) as r:
        assert b"SpecificationIdentifier" not in await r.read()
    async with session.get(f"{base}/eb/rest/search", params=params, headers={"Accept": "text/html"}) as r:
        assert r.status == 406


@pytest.mark.parametrize(("faults", "code"), [({"tamper-body"}, "CS_DIGEST_MISMATCH"), ({"unsigned"}, "CS_SIG_MISSING"),
                                              ({"alg-none"}, "CS_SIG_ALG_REFUSED"), ({"hmac"}, "CS_SIG_ALG_REFUSED")])
async def test_bad_signatures_are_refused(start, session, faults: set[str], code: str) -> None:  # type: ignore[no-untyped-def]
    cs = client(session, await start(faults=faults))
    with pytest.raises(CommonServicesError) as caught:
        await cs.requirements("T2")
    assert caught.value.code == code


async def test_signer_outside_the_trust_store_is_refused(start, session) -> None:  # type: ignore[no-untyped-def]
    forger_ca, forger_leaf, forger_key = foreign_chain(PURPOSE, "ec", org="Forger CA")
    cs = client(session, await start(private_key=forger_key, chain=[forger_leaf, forger_ca.certificate]))
    with pytest.raises(CommonServicesError) as caught:
        await cs.requirements("T2")
    assert caught.value.code == "CS_SIG_UNTRUSTED"


async def test_unreachable_and_unconfigured(session) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommonServicesError) as caught:
        await client(session, "http://127.0.0.1:9", timeout_s=2).requirements("T2")
    assert caught.value.code == "CS_UNREACHABLE"
    with pytest.raises(CommonServicesError) as missing:
        await CommonServicesClient(session, trust=TRUST).requirements("T2")
    assert missing.value.code == "CS_NO_BASE_URL"


async def test_naptr_hook_supplies_the_base_url(start, session) -> None:  # type: ignore[no-untyped-def]
    base = await start()
    asked: list[str] = []

    async def resolve(service: str) -> str:
        asked.append(service)
        return f"{base}/{service}"

    cs = CommonServicesClient(session, trust=TRUST, resolve=resolve)
    assert await cs.requirements("T2") and await cs.data_services(DIPLOMA, "LV")
    await cs.requirements("R1")
    assert asked == ["eb", "dsd"]  # resolved once per service


def test_jws_refusals_offline() -> None:
    body = b"<answer/>"
    moment = now()
    signature, digest = sign_detached(body, EC_KEY, [EC_LEAF, EC_CA.certificate], algorithm="ES256", now=moment)
    assert verify_detached(signature, digest, body, trust=TRUST, purpose=PURPOSE, now=moment).algorithm == "ES256"
    head, _, sig = signature.split(".")
    broken = f"{head}..{'A' if sig[0] != 'A' else 'B'}{sig[1:]}"
    cases = [
        (broken, digest, body, "CS_SIG_INVALID"),
        (signature, digest, body + b" ", "CS_DIGEST_MISMATCH"),
        (signature, "MD5=abc", body, "CS_DIGEST_MISMATCH"),
        (f"{head}.cGF5bG9hZA.{sig}", digest, body, "CS_SIG_MALFORMED"),
        ("not-a-jws", digest, body, "CS_SIG_MALFORMED"),
    ]
    for sig_value, dig, data, code in cases:
        with pytest.raises(CommonServicesError) as caught:
            verify_detached(sig_value, dig, data, trust=TRUST, purpose=PURPOSE, now=moment)
        assert caught.value.code == code, code
    with pytest.raises(CommonServicesError) as late:
        verify_detached(signature, digest, body, trust=TRUST, purpose=PURPOSE, now=moment + timedelta(days=3650))
    assert late.value.code == "CS_SIG_UNTRUSTED"
    with pytest.raises(CommonServicesError) as weak:
        sign_detached(body, EC_KEY, [EC_LEAF], algorithm="HS256", now=moment)
    assert weak.value.code == "CS_SIG_ALG_REFUSED"


def test_catalogue_errors_have_a_code() -> None:
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue({"procedures": {"T2": ["https://sr.example/requirements/x"]}})
    assert caught.value.code == "CS_CATALOGUE_INVALID"
    with pytest.raises(CatalogueError):
        parse_catalogue({"data_services": [{"identifier": "x"}]})


async def test_client_from_node_configuration(start, session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization

    from gateway.config import ConfigError
    from gateway.oots_services import common_services_client
    from tests.conftest import make_settings

    base = await start()
    trust_dir = tmp_path / "cs-trust" / "anchors"
    trust_dir.mkdir(parents=True)
    (trust_dir / "ec.pem").write_bytes(EC_CA.certificate.public_bytes(serialization.Encoding.PEM))
    (trust_dir.parent / "policy.json").write_text('{"require_crl": false}')
    settings = make_settings(tmp_path / "data", f"sqlite:///{tmp_path / 'db.sqlite'}", oots__eb_url=f"{base}/eb",
                             oots__dsd_url=f"{base}/dsd", oots__common_services_trust_dir=str(trust_dir.parent))
    cs = common_services_client(settings, session)
    assert (await cs.requirements("T2"))[0].identifier == T2_REQUIREMENT
    unverified = make_settings(tmp_path / "data", f"sqlite:///{tmp_path / 'db.sqlite'}", oots__eb_url=f"{base}/eb")
    with pytest.raises(ConfigError):
        common_services_client(unverified, session)
