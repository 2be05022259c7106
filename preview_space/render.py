"""A safe, XSLT-free human-readable view of XML evidence: a list of (element path, value) rows.

XSLT from a partner would be code we run; instead the evidence is parsed with the hardened parser and
flattened into rows the template escapes (Jinja2 autoescape). Namespace URIs are dropped from the paths
(prefix-free local names read better), attributes appear as ``path/@name``, and repeated siblings get an
index so that two addresses do not merge into one row.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from lxml import etree

from pki.xml.parser import parse_xml

MAX_ROWS = 2000  # a bigger evidence is cut: the page must stay usable and bounded in size


_INDEX = re.compile(r"\[(\d+)\]$")
_WORD_BREAK = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|[_\-.]+")


def humanise(step: str) -> str:
    """A label a person reads from the last step of a path: ``placeOfBirth`` / ``place_of_birth`` → "Place of
    birth", ``address[2]`` → "Address (2)", ``@currencyID`` → "Currency ID"."""
    step = step.lstrip("@")
    index = _INDEX.search(step)
    name = _INDEX.sub("", step)
    words = [w for w in _WORD_BREAK.split(name) if w]
    text = " ".join(w if w.isupper() else w.lower() for w in words)
    text = text[:1].upper() + text[1:]
    return f"{text} ({index.group(1)})" if index else text


@dataclass(frozen=True)
class Row:
    path: str
    value: str

    @property
    def label(self) -> str:
        """The human-readable name of the row (the path stays shown beside it: it is what the evidence says)."""
        return humanise(self.path.rsplit("/", 1)[-1])


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def xml_rows(data: bytes, *, max_rows: int = MAX_ROWS) -> tuple[list[Row], bool]:
    """Rows of the document and whether it was truncated. Raises ``pki.xml.parser.XmlRefused`` (with a code)
    for documents the hardened parser refuses."""
    root = parse_xml(data).getroot()
    rows: list[Row] = []

    def walk(element: etree._Element, path: str) -> bool:
        for name, value in element.attrib.items():
            if len(rows) >= max_rows:
                return False
            rows.append(Row(f"{path}/@{_local(name)}", value))
        text = (element.text or "").strip()
        if text:
            if len(rows) >= max_rows:
                return False
            rows.append(Row(path, text))
        children = [child for child in element if isinstance(child.tag, str)]
        counts = Counter(_local(child.tag) for child in children)
        seen: Counter[str] = Counter()
        for child in children:
            name = _local(child.tag)
            seen[name] += 1
            step = f"{name}[{seen[name]}]" if counts[name] > 1 else name
            if not walk(child, f"{path}/{step}"):
                return False
        return True

    complete = walk(root, "/" + _local(root.tag))
    return rows, not complete
