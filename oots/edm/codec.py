"""Entry points: bytes → EDM message (through the hardened parser) and message → bytes."""

from __future__ import annotations

from lxml import etree

from oots.edm.errors import EdmCodecError
from oots.edm.model import EdmMessage, ExceptionResponse, QueryRequest, QueryResponse
from oots.edm.ns import query
from oots.edm.request import build_request, parse_request
from oots.edm.response import build_exception, build_response, parse_response
from pki.xml.parser import XmlRefused, parse_xml

Element = etree._Element


def load(data: bytes) -> Element:
    """The root element of untrusted EDM bytes; XML refusals become EDM codec errors with their code."""
    try:
        return parse_xml(data).getroot()
    except XmlRefused as exc:
        raise EdmCodecError(exc.code, exc.message) from None


def parse_element(root: Element) -> EdmMessage:
    if root.tag == query("QueryRequest"):
        return parse_request(root)
    if root.tag == query("QueryResponse"):
        return parse_response(root)
    raise EdmCodecError("EDM_NOT_EDM", f"root {root.tag} is neither query:QueryRequest nor query:QueryResponse")


def parse_message(data: bytes) -> EdmMessage:
    return parse_element(load(data))


def to_element(message: EdmMessage) -> Element:
    if isinstance(message, QueryRequest):
        return build_request(message)
    if isinstance(message, QueryResponse):
        return build_response(message)
    if isinstance(message, ExceptionResponse):
        return build_exception(message)
    raise TypeError(f"not an EDM message: {type(message).__name__}")


def to_bytes(message: EdmMessage) -> bytes:
    return etree.tostring(to_element(message), xml_declaration=True, encoding="UTF-8", pretty_print=True)
