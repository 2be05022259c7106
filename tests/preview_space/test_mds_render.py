from datetime import date

import pytest

from pki.xml.parser import XmlRefused
from preview_space.mds import Mds, MdsMismatch, check_mds
from preview_space.render import xml_rows

REQ = Mds("Bērziņa", "Anna", date(1990, 1, 1), "LV/LV/010190-12345", "eidas")


def test_mds_matches_with_normalised_names() -> None:
    check_mds(REQ, Mds("BERZINA", "anna", date(1990, 1, 1), "lv/lv/01019012345", "eidas"))


def test_mds_identifier_ignored_across_schemes() -> None:
    check_mds(REQ, Mds("Berzina", "Anna", date(1990, 1, 1), "999999-99999", "lv-personal-code"))


@pytest.mark.parametrize(("other", "field"), [
    (Mds("Berzina", "Anna", date(1990, 1, 2), REQ.identifier, "eidas"), "date_of_birth"),
    (Mds("Ozola", "Anna", date(1990, 1, 1), REQ.identifier, "eidas"), "family_name"),
    (Mds("Berzina", "Ilze", date(1990, 1, 1), REQ.identifier, "eidas"), "given_name"),
    (Mds("Berzina", "Anna", date(1990, 1, 1), "LV/LV/020290-12345", "eidas"), "identifier"),
])
def test_mds_mismatch(other: Mds, field: str) -> None:
    with pytest.raises(MdsMismatch) as err:
        check_mds(REQ, other)
    assert err.value.code == "PREVIEW_MDS_MISMATCH"
    assert err.value.field == field


def test_xml_rows_paths_attributes_and_repeats() -> None:
    doc = (b'<b:Birth xmlns:b="urn:x"><b:Child id="7"><b:Name>Anna &lt;script&gt;</b:Name></b:Child>'
           b"<b:Parent>A</b:Parent><b:Parent>B</b:Parent></b:Birth>")
    rows, truncated = xml_rows(doc)
    assert not truncated
    assert [(r.path, r.value) for r in rows] == [
        ("/Birth/Child/@id", "7"), ("/Birth/Child/Name", "Anna <script>"),
        ("/Birth/Parent[1]", "A"), ("/Birth/Parent[2]", "B")]


def test_rows_carry_labels_a_person_reads() -> None:
    doc = (b'<Diploma><record_id>1</record_id><placeOfBirth>R</placeOfBirth><Amount currencyID="EUR">3</Amount>'
           b"<address>a</address><address>b</address><HTTPSLink>h</HTTPSLink></Diploma>")
    rows, _ = xml_rows(doc)
    assert [r.label for r in rows] == ["Record id", "Place of birth", "Currency ID", "Amount", "Address (1)",
                                       "Address (2)", "HTTPS link"]


def test_xml_rows_truncates() -> None:
    doc = b"<a>" + b"<b>x</b>" * 10 + b"</a>"
    rows, truncated = xml_rows(doc, max_rows=3)
    assert len(rows) == 3 and truncated


def test_xml_rows_refuses_entities() -> None:
    with pytest.raises(XmlRefused) as err:
        xml_rows(b'<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>')
    assert err.value.code
