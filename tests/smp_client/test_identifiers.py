from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from gateway.cli.main import cli
from smp_client import hashing, identifiers
from smp_client.errors import IdentifierError
from smp_client.identifiers import Kind

ZONE = "edelivery.tech.ec.europa.eu"


def test_iso6523_participant_is_case_insensitive() -> None:
    a = identifiers.participant("ISO6523-ACTORID-UPIS::0088:ABC123")
    b = identifiers.participant("iso6523-actorid-upis::0088:abc123")
    assert a == b
    assert a.uri == "iso6523-actorid-upis::0088:abc123"


def test_document_types_and_processes_keep_case() -> None:
    doc = identifiers.document_type("busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice")
    assert doc.scheme == "busdox-docid-qns"
    assert doc.value == "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice"
    assert identifiers.process("cenbii-procid-ubl::urn:X:Proc").value == "urn:X:Proc"
    assert identifiers.process("cenbii-procid-ubl::urn:X:Proc") != identifiers.process("cenbii-procid-ubl::urn:x:proc")


def test_ebcore_party_id_split_and_printed() -> None:
    ident = identifiers.participant("URN:OASIS:names:tc:ebcore:partyid-type:iso6523:0088:4035811991021")
    assert ident.scheme == "urn:oasis:names:tc:ebcore:partyid-type:iso6523:0088"
    assert ident.value == "4035811991021"
    assert ident.full == "urn:oasis:names:tc:ebcore:partyid-type:iso6523:0088:4035811991021"
    unregistered = identifiers.participant("urn:oasis:names:tc:ebcore:partyid-type:unregistered:oots:LV-GW")
    assert unregistered.scheme == "urn:oasis:names:tc:ebcore:partyid-type:unregistered:oots"
    assert unregistered.value == "LV-GW"


def test_eas_code_is_upper_case() -> None:
    ident = identifiers.participant("urn:cef.eu:names:identifier:eas:em::someone@example.lv")
    assert ident.scheme == "urn:cef.eu:names:identifier:EAS:EM"
    assert identifiers.participant("urn:cef.eu:names:identifier:EAS:9930::LV40003000001").value == "LV40003000001"
    single = identifiers.participant("urn:cef.eu:names:identifier:eas:0204:991-1234512345-06")
    assert (single.scheme, single.value) == ("urn:cef.eu:names:identifier:EAS:0204", "991-1234512345-06")
    with pytest.raises(IdentifierError) as caught:
        identifiers.participant("urn:cef.eu:names:identifier:EAS:0204")
    assert caught.value.code == "SMP_ID_EAS"


@pytest.mark.parametrize(("text", "code"), [
    ("", "SMP_ID_EMPTY"),
    ("   ", "SMP_ID_EMPTY"),
    ("0088:123", "SMP_ID_SCHEME"),
    ("::0088:123", "SMP_ID_SCHEME"),
    ("iso6523-actorid-upis::", "SMP_ID_EMPTY"),
    ("iso6523-actorid-upis::88:123", "SMP_ID_ISO6523"),
    ("iso6523-actorid-upis::0088", "SMP_ID_ISO6523"),
    ("bad scheme::x", "SMP_ID_SCHEME"),
    ("urn:cef.eu:names:identifier:EAS:12345::x", "SMP_ID_EAS"),
    ("urn:oasis:names:tc:ebcore:partyid-type:iso6523:88:1", "SMP_ID_EBCORE"),
    ("urn:oasis:names:tc:ebcore:partyid-type:unregistered", "SMP_ID_EBCORE"),
    ("iso6523-actorid-upis::0088:a\nb", "SMP_ID_MALFORMED"),
    (" iso6523-actorid-upis::0088:1", "SMP_ID_MALFORMED"),
    ("x::" + "a" * 1100, "SMP_ID_TOO_LONG"),
])
def test_bad_participants_refused_with_code(text: str, code: str) -> None:
    with pytest.raises(IdentifierError) as caught:
        identifiers.participant(text)
    assert caught.value.code == code


def test_doc_type_without_scheme_allowed_but_participant_not() -> None:
    assert identifiers.parse("urn:doc", Kind.DOCUMENT).scheme is None
    with pytest.raises(IdentifierError):
        identifiers.parse("urn:doc", Kind.PARTICIPANT)


# --- published vectors ------------------------------------------------------------------------------------

def test_bdxl_vector_ebcore() -> None:
    ident = identifiers.participant("urn:oasis:names:tc:ebcore:partyid-type:iso6523:0088:4035811991021")
    assert hashing.dns_name(ident, ZONE) == f"I3QYB36CTAYRFGTHBYCQZDTOJFHGAZJEGLFOOE7727EGVDWRK5QQ.{ZONE}"


def test_bdxl_vector_peppol_scheme() -> None:
    ident = identifiers.participant("iso6523-actorid-upis::0088:4035811991021")
    expected = f"LZMEDSMZXYD37YC74TZVPYCMUANFCMN667JHGBFQDDRVMSE6NYTA.iso6523-actorid-upis.{ZONE}"
    assert hashing.dns_name(ident, ZONE, "bdxl") == expected
    assert hashing.dns_name(ident, ZONE + ".", "peppol-naptr") == expected


def test_peppol_cname_vector_and_case() -> None:
    upper = identifiers.participant("iso6523-actorid-upis::0088:4035811991021")
    name = hashing.dns_name(upper, "sml.example", "peppol-cname")
    assert name == "B-400b6a292204d43f8eb934e79b896bab.iso6523-actorid-upis.sml.example"
    mixed = identifiers.participant("iso6523-actorid-upis::0088:ABC")
    lower = identifiers.participant("iso6523-actorid-upis::0088:abc")
    assert hashing.dns_name(mixed, "z", "peppol-cname") == hashing.dns_name(lower, "z", "peppol-cname")


def test_hash_refusals() -> None:
    ident = identifiers.participant("iso6523-actorid-upis::0088:1")
    with pytest.raises(IdentifierError) as caught:
        hashing.dns_name(ident, "bad..zone")
    assert caught.value.code == "SML_ZONE_MALFORMED"
    ebcore = identifiers.participant("urn:oasis:names:tc:ebcore:partyid-type:iso6523:0088:1")
    with pytest.raises(IdentifierError) as caught:
        hashing.dns_name(ebcore, "z", "peppol-cname")
    assert caught.value.code == "SMP_ID_SCHEME"
    with pytest.raises(IdentifierError) as caught:
        hashing.dns_name(identifiers.document_type("a::b"), "z")
    assert caught.value.code == "SMP_ID_KIND"


def test_cli_hash() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["smp", "hash", "iso6523-actorid-upis::0088:4035811991021", "--mode", "peppol-cname",
                                 "--zone", "edelivery.tech.ec.europa.eu", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["name"].startswith("B-400b6a292204d43f8eb934e79b896bab.")
    bad = runner.invoke(cli, ["smp", "hash", "nope"])
    assert bad.exit_code != 0
    assert "SMP_ID_SCHEME" in bad.output


# --- properties -------------------------------------------------------------------------------------------


_LOCAL = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters=":"),
                 min_size=1, max_size=40)


@given(icd=st.from_regex(r"\A[0-9]{4}\Z"), local=_LOCAL)
def test_printed_form_parses_back_and_case_folds(icd: str, local: str) -> None:
    ident = identifiers.participant(f"iso6523-actorid-upis::{icd}:{local}")
    assert identifiers.participant(ident.uri) == ident
    assert identifiers.participant(f"ISO6523-ACTORID-UPIS::{icd}:{local.upper()}") == ident
    name = hashing.dns_name(ident, ZONE)
    assert all(0 < len(label) <= 63 for label in name.split("."))


@given(value=_LOCAL)
def test_document_ids_round_trip_exactly(value: str) -> None:
    doc = identifiers.document_type(f"busdox-docid-qns::{value}")
    assert doc.value == value and identifiers.document_type(doc.uri) == doc
