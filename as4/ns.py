"""Namespace URIs and the prefixes AS4 messages are written with.

The prefixes are the ones phase4 puts on the wire (``S12``, ``eb``, ``wsu``, ``wsse``, ``ds``, ``xenc``): a
peer never depends on a prefix, but people comparing our messages with phase4's or Domibus' logs do, and the
exclusive c14n ``InclusiveNamespaces PrefixList="S12"`` phase4 writes assumes that spelling. The WS-Security
and XML-DSig URIs come from pki's one XML-security layer so the two never drift apart.
"""

from __future__ import annotations

from pki.xml.ns import DS, WSSE, WSU

S12 = "http://www.w3.org/2003/05/soap-envelope"
S11 = "http://schemas.xmlsoap.org/soap/envelope/"
EB = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/"
EBBP = "http://docs.oasis-open.org/ebxml-bp/ebbp-signals-2.0"
XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"
XML = "http://www.w3.org/XML/1998/namespace"

# Declared once on the envelope, so elements the security layer adds later reuse these prefixes instead of
# lxml inventing ns0, ns1 ... (exclusive c14n makes the place of a declaration irrelevant to digests).
ENVELOPE_PREFIXES: dict[str, str] = {"eb": EB, "wsu": WSU, "wsse": WSSE, "ds": DS, "xenc": XENC}

__all__ = ["DS", "EB", "EBBP", "ENVELOPE_PREFIXES", "S11", "S12", "WSSE", "WSU", "XENC", "XENC11", "XML", "q"]


def q(ns: str, local: str) -> str:
    """Clark notation ``{ns}local``."""
    return f"{{{ns}}}{local}"
