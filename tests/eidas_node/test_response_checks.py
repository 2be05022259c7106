"""Every check of point 3, positive and negative, on responses built by the simulator's response builder."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from eidas_node import attributes as attrs
from eidas_node.checks import CHECKS, ResponseReport
from eidas_node.saml import LOA_HIGH, LOA_LOW, STATUS_AUTHN_FAILED, STATUS_REQUEST_DENIED
from eidas_node.simulator.keys import make_key
from eidas_node.simulator.responses import NO_FAULTS, Faults, build_response
from pki.xml import algorithms as A
from tests.eidas_node.conftest import NOW, World


def _data(world: World, faults: Faults = NO_FAULTS, *, user=None) -> bytes:  # type: ignore[no-untyped-def]
    return build_response(world.idp, world.request, user or world.user, world.sp_key.certificate, NOW, faults)


def _check(world: World, faults: Faults = NO_FAULTS, **kwargs) -> ResponseReport:  # type: ignore[no-untyped-def]
    data = kwargs.pop("data", None) or _data(world, faults, user=kwargs.pop("user", None))
    return world.checker.check(data, metadata=world.metadata, pending=kwargs.get("pending", world.pending),
                               now=kwargs.get("now", NOW))


def _refused(report: ResponseReport, check: str, code: str, detail: str = "") -> None:
    failure = report.failure
    assert failure is not None, "the response was accepted"
    assert (failure.name, failure.code) == (check, code), failure
    assert detail in failure.detail, failure.detail
    assert report.identity is None
    later = report.checks[report.checks.index(failure) + 1:]
    assert all(c.ok is None for c in later)


@pytest.mark.parametrize("which", ["ec_world", "rsa_world"])
def test_valid_response_passes_every_check(which: str, request: pytest.FixtureRequest) -> None:
    world: World = request.getfixturevalue(which)
    report = _check(world)
    assert report.ok, report.failure
    assert [c.name for c in report.checks] == [n for n in CHECKS if not n.startswith(("replay.", "request."))]
    identity = report.identity
    assert identity is not None and identity.natural is not None
    assert identity.natural.person_identifier == world.user.person_identifier
    assert (identity.natural.family_name, identity.natural.given_name) == ("Mustermann", "Erika")
    assert identity.natural.date_of_birth.isoformat() == "1964-08-12"
    assert identity.loa == LOA_HIGH and identity.country == world.idp.country
    assert report.assertion_id and report.response_id and report.in_response_to == world.request.request_id


@pytest.mark.parametrize("variant", range(1, 9))
def test_xsw_on_response_refused(ec_world: World, variant: int) -> None:
    report = _check(ec_world, Faults(response_xsw=variant))
    failure = report.failure
    assert failure is not None and report.identity is None
    assert failure.name in ("schema.response", "response.signature"), failure
    assert failure.code in ("EIDAS_SCHEMA_INVALID", "EIDAS_RESPONSE_SIGNATURE"), failure


@pytest.mark.parametrize("variant", range(1, 9))
def test_xsw_on_assertion_refused(ec_world: World, variant: int) -> None:
    report = _check(ec_world, Faults(assertion_xsw=variant))
    failure = report.failure
    assert failure is not None and report.identity is None
    assert failure.name in ("assertion.decrypt", "schema.assertion", "assertion.signature"), failure


def test_signature_stripped_from_response(ec_world: World) -> None:
    _refused(_check(ec_world, Faults(unsigned_response=True)), "response.signature", "EIDAS_RESPONSE_UNSIGNED")


def test_unsigned_assertion(ec_world: World) -> None:
    _refused(_check(ec_world, Faults(unsigned_assertion=True)), "assertion.signature", "EIDAS_ASSERTION_UNSIGNED")


def test_plain_assertion_beside_encrypted_one(ec_world: World) -> None:
    _refused(_check(ec_world, Faults(inject_plain_assertion=True)), "assertion.encrypted_only",
             "EIDAS_ASSERTION_UNENCRYPTED")


def test_plain_assertion_injected_after_signing_breaks_the_response_signature(ec_world: World) -> None:
    from lxml import etree

    from eidas_node.saml import SAML, q
    from eidas_node.simulator.responses import build_assertion

    root = etree.fromstring(_data(ec_world))
    root.insert(3, build_assertion(ec_world.idp, ec_world.request, ec_world.user, NOW, Faults()))
    data = etree.tostring(root)
    assert root.find(q(SAML, "Assertion")) is not None
    _refused(_check(ec_world, data=data), "response.signature", "EIDAS_RESPONSE_SIGNATURE", "DIGEST_MISMATCH")


def test_signed_by_a_key_not_in_metadata(ec_world: World) -> None:
    other = make_key("impostor", "ec", NOW)
    _refused(_check(ec_world, Faults(sign_with=other.signer)), "response.signature", "EIDAS_RESPONSE_SIGNATURE",
             "XMLDSIG_KEY_UNTRUSTED")


def test_wrong_issuer(ec_world: World) -> None:
    _refused(_check(ec_world, Faults(issuer="https://eidas.fr.example/metadata")), "response.issuer",
             "EIDAS_ISSUER_MISMATCH")


def test_wrong_assertion_issuer(ec_world: World) -> None:
    _refused(_check(ec_world, Faults(assertion_issuer="https://evil.example/")), "assertion.issuer",
             "EIDAS_ISSUER_MISMATCH")


def test_answer_from_another_country_than_asked(ec_world: World, rsa_world: World) -> None:
    # A correct FR response to a request we sent to DE: the pending request names DE.
    data = build_response(rsa_world.idp, ec_world.request, rsa_world.user, rsa_world.sp_key.certificate, NOW)
    report = rsa_world.checker.check(data, metadata=rsa_world.metadata, pending=ec_world.pending, now=NOW)
    _refused(report, "response.in_response_to", "EIDAS_ISSUER_MISMATCH")


def test_person_identifier_from_wrong_country(ec_world: World) -> None:
    _refused(_check(ec_world, Faults(person_country="FR")), "assertion.country", "EIDAS_COUNTRY_MISMATCH")


def test_unknown_in_response_to(ec_world: World) -> None:
    _refused(_check(ec_world, pending=None), "response.in_response_to", "EIDAS_IN_RESPONSE_TO")
    _refused(_check(ec_world, Faults(in_response_to="_other")), "response.in_response_to", "EIDAS_IN_RESPONSE_TO")


def test_expired_pending_request(ec_world: World) -> None:
    _refused(_check(ec_world, now=NOW + timedelta(minutes=11)), "response.in_response_to", "EIDAS_REQUEST_EXPIRED")


def test_expired_response(ec_world: World) -> None:
    _refused(_check(ec_world, Faults(age=timedelta(minutes=7))), "response.issue_instant", "EIDAS_EXPIRED")


def test_expired_assertion_within_response_age(ec_world: World) -> None:
    # With a lenient response age, the assertion's own validity (5 min + 60 s skew) still ends it.
    from eidas_node.response import ResponseChecker

    lenient = ResponseChecker(replace(ec_world.checker.expect, max_age=timedelta(hours=1)),
                              ec_world.checker.find_decrypter, schema=ec_world.checker.schema)
    report = lenient.check(_data(ec_world), metadata=ec_world.metadata, pending=replace(
        ec_world.pending, expires_at=NOW + timedelta(hours=1)), now=NOW + timedelta(minutes=6, seconds=1))
    _refused(report, "assertion.subject_confirmation", "EIDAS_EXPIRED")


def test_clock_skew_tolerated(ec_world: World) -> None:
    assert _check(ec_world, now=NOW - timedelta(seconds=59)).ok
    _refused(_check(ec_world, now=NOW - timedelta(seconds=61)), "response.issue_instant", "EIDAS_ISSUE_INSTANT")


def test_wrong_destination(ec_world: World) -> None:
    _refused(_check(ec_world, Faults(destination="https://evil.example/acs")), "response.destination",
             "EIDAS_DESTINATION_MISMATCH")


def test_wrong_recipient(ec_world: World) -> None:
    _refused(_check(ec_world, Faults(recipient="https://evil.example/acs")), "assertion.subject_confirmation",
             "EIDAS_RECIPIENT_MISMATCH")


def test_wrong_audience(ec_world: World) -> None:
    _refused(_check(ec_world, Faults(audience="https://other-sp.example/")), "assertion.audience",
             "EIDAS_AUDIENCE_MISMATCH")


def test_loa_below_requested(ec_world: World) -> None:
    _refused(_check(ec_world, Faults(loa=LOA_LOW)), "assertion.loa", "EIDAS_LOA_TOO_LOW")


def test_non_eidas_loa(ec_world: World) -> None:
    _refused(_check(ec_world, Faults(loa="http://example.org/LoA/high")), "assertion.loa", "EIDAS_LOA_UNKNOWN")


def test_required_attribute_missing(ec_world: World) -> None:
    _refused(_check(ec_world, Faults(omit_attribute=attrs.DATE_OF_BIRTH)), "assertion.attributes",
             "EIDAS_ATTRIBUTE_MISSING", "DateOfBirth")


@pytest.mark.parametrize(("faults", "where", "uri"), [
    (Faults(signature_algorithm=A.ECDSA_SHA1), "response.signature", A.ECDSA_SHA1),
    (Faults(digest=A.SHA1), "response.signature", A.SHA1),
    (Faults(data_encryption=A.TRIPLEDES_CBC), "assertion.decrypt", A.TRIPLEDES_CBC),
    (Faults(data_encryption=A.AES128_CBC), "assertion.decrypt", A.AES128_CBC),
])
def test_weak_algorithms_refused(ec_world: World, faults: Faults, where: str, uri: str) -> None:
    report = _check(ec_world, faults)
    failure = report.failure
    assert failure is not None and failure.name == where, failure
    assert "XMLDSIG_ALGORITHM_REFUSED" in failure.detail and uri in failure.detail


def test_rsa_1_5_and_rsa_sha1_refused(rsa_world: World) -> None:
    for faults, where, uri in ((Faults(key_transport=A.RSA_1_5), "assertion.decrypt", A.RSA_1_5),
                               (Faults(signature_algorithm=A.RSA_SHA1), "response.signature", A.RSA_SHA1),
                               (Faults(signature_algorithm=A.RSA_SHA256), "response.signature", A.RSA_SHA256)):
        failure = _check(rsa_world, faults).failure
        assert failure is not None and failure.name == where and uri in failure.detail, failure


def test_xxe_and_entity_expansion_refused(ec_world: World) -> None:
    xxe = (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&x;</samlp:Response>')
    laughs = (b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
              b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&b;</samlp:Response>')
    undeclared = b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&x;</samlp:Response>'
    for data, code in ((xxe, "XML_DTD_FORBIDDEN"), (laughs, "XML_DTD_FORBIDDEN"),
                       (undeclared, "XML_ENTITY_FORBIDDEN")):
        _refused(_check(ec_world, data=data), "xml.parse", code)


def test_comment_in_name_id_does_not_truncate(ec_world: World) -> None:
    report = _check(ec_world, Faults(name_id_comment=True))
    assert report.ok, report.failure
    assert report.identity is not None
    assert report.identity.name_id == ec_world.user.person_identifier + ".evil"


@pytest.mark.parametrize(("status", "code"), [(STATUS_AUTHN_FAILED, "AuthnFailed"),
                                              (STATUS_REQUEST_DENIED, "RequestDenied")])
def test_saml_status_errors_reported(ec_world: World, status: str, code: str) -> None:
    report = _check(ec_world, Faults(status=status))
    _refused(report, "response.status", "EIDAS_STATUS_NOT_SUCCESS", code)
    assert report.status is not None and report.status.endswith(code)
    assert report.status_message


def test_schema_invalid_response_refused(ec_world: World) -> None:
    data = _data(ec_world).replace(b'Version="2.0"', b'Version="2.0" Bogus="1"', 1)
    _refused(_check(ec_world, data=data), "schema.response", "EIDAS_SCHEMA_INVALID")


def test_legal_person_read(ec_world: World) -> None:
    user = replace(ec_world.user, legal_person_identifier="DE/LV/HRB-123", legal_name="Muster GmbH")
    report = _check(ec_world, user=user)
    assert report.ok, report.failure
    assert report.identity is not None and report.identity.legal is not None
    assert report.identity.legal.legal_name == "Muster GmbH"


@pytest.mark.parametrize("variant", range(1, 9))
@pytest.mark.parametrize("target", ["response", "assertion"])
def test_xsw_refused_by_the_signature_layer_alone(ec_world: World, variant: int, target: str) -> None:
    """Defence in depth: even where schema and the one-assertion rule did not apply, the signature check on
    the element the checker reads refuses every wrapping shape (wrong scope, missing or duplicate IDs)."""
    from lxml import etree

    from eidas_node.checks import CheckFailed
    from eidas_node.response import _verify_enveloped
    from eidas_node.saml import SAML, q
    from eidas_node.simulator.responses import _sign, _tamper, build_assertion
    from eidas_node.simulator.xsw import wrap

    if target == "response":
        signed = etree.fromstring(_data(ec_world))
    else:
        holder = etree.Element(q(SAML, "EncryptedAssertion"))
        signed = build_assertion(ec_world.idp, ec_world.request, ec_world.user, NOW, NO_FAULTS)
        _sign(signed, ec_world.idp, NO_FAULTS)
        holder.append(signed)
    before = etree.tostring(signed)
    evil = wrap(signed, variant, _tamper)
    assert evil is not signed and etree.tostring(evil) != before
    if target == "assertion":
        assert evil.findtext(f"{q(SAML, 'Subject')}/{q(SAML, 'NameID')}") == "XX/LV/attacker"
    with pytest.raises(CheckFailed) as refused:
        _verify_enveloped(evil, target, ec_world.metadata, ec_world.checker.expect.policy)
    assert refused.value.code in (f"EIDAS_{target.upper()}_SIGNATURE", f"EIDAS_{target.upper()}_UNSIGNED")


def test_signature_without_key_info_tried_against_every_metadata_certificate(ec_world: World) -> None:
    """A rollover lists two signing certificates; a signature without KeyInfo verifies with the right one,
    and with none of them when signed by a stranger."""
    from lxml import etree

    from eidas_node.checks import CheckFailed
    from eidas_node.response import _verify_enveloped
    from eidas_node.saml import q
    from pki.xml import ns as dsns

    other = make_key("rolled-over", "ec", NOW)
    metadata = replace(ec_world.metadata, signing_certificates=(other.certificate, ec_world.idp_key.certificate))

    def without_key_info(faults: Faults) -> etree._Element:
        root = etree.fromstring(_data(ec_world, faults))
        signature = root.find(q(dsns.DS, "Signature"))
        signature.remove(signature.find(q(dsns.DS, "KeyInfo")))
        return root

    root = without_key_info(NO_FAULTS)
    assert _verify_enveloped(root, "response", metadata, ec_world.checker.expect.policy).certificate == (
        ec_world.idp_key.certificate)
    stranger = without_key_info(Faults(sign_with=make_key("stranger", "ec", NOW).signer))
    with pytest.raises(CheckFailed) as refused:
        _verify_enveloped(stranger, "response", metadata, ec_world.checker.expect.policy)
    assert "XMLDSIG_SIGNATURE_INVALID" in refused.value.detail
