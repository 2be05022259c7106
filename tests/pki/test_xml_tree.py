"""pki.xml.tree's child lookups give what lxml's ElementPath gives for the same plain paths."""

from __future__ import annotations

import pytest

from pki.xml.parser import parse_xml
from pki.xml.tree import children, first_at, first_child, text_at

DOCUMENT = (b'<r xmlns="urn:x" xmlns:y="urn:y"><a/><a><b>1</b><b>2</b></a><c/><a><b/></a><?p x?>'
            b"<b>top</b><y:b>other namespace</y:b><a><c><b>deep</b></c></a></r>")
A, B, C, Z, YB = "{urn:x}a", "{urn:x}b", "{urn:x}c", "{urn:x}z", "{urn:y}b"
PATHS = [(A,), (B,), (C,), (Z,), (YB,), (A, B), (C, B), (A, Z), (A, C, B), (A, C), (YB, B)]


@pytest.mark.parametrize("path", PATHS)
def test_lookups_match_elementpath(path: tuple[str, ...]) -> None:
    root = parse_xml(DOCUMENT).getroot()
    for element in root.iter("{urn:x}*"):  # from every element, not only the root
        joined = "/".join(path)
        assert first_at(element, *path) is element.find(joined)
        assert text_at(element, *path) == element.findtext(joined)
        if len(path) == 1:
            assert first_child(element, path[0]) is element.find(joined)
            assert children(element, path[0]) == element.findall(joined)


def test_present_without_text_is_empty_and_absent_is_none() -> None:
    root = parse_xml(DOCUMENT).getroot()
    assert text_at(root[3], B) == ""
    assert text_at(root[2], B) is None
    assert first_child(None, A) is None
