"""Child lookups for the hot paths of signature and encryption processing.

Each gives exactly what lxml's ``find(tag)``, ``findall(tag)``, ``find("a/b")`` or ``findtext("a/b")`` give
for plain Clark-notation child tags (no wildcards, predicates or ``//``), but walks the children directly
instead of going through ElementPath, which costs a few times more per call; a response check makes dozens.
"""

from __future__ import annotations

from lxml import etree


def first_child(element: etree._Element | None, tag: str) -> etree._Element | None:
    """``element.find(tag)``; None for a None element (saves the caller a check)."""
    return None if element is None else next(element.iterchildren(tag), None)


def children(element: etree._Element, tag: str) -> list[etree._Element]:
    """``element.findall(tag)``: the children with this tag, in document order."""
    return list(element.iterchildren(tag))


def first_at(element: etree._Element, *tags: str) -> etree._Element | None:
    """``element.find("t1/t2/...")``: the first match in document order, whichever branch it is under."""
    if len(tags) == 1:
        return next(element.iterchildren(tags[0]), None)
    for child in element.iterchildren(tags[0]):
        found = first_at(child, *tags[1:])
        if found is not None:
            return found
    return None


def text_at(element: etree._Element, *tags: str) -> str | None:
    """``element.findtext("t1/t2/...")``: None when absent, "" when present without text."""
    found = first_at(element, *tags)
    return None if found is None else (found.text or "")
