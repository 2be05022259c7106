"""Namespaces of the EDM (RegRep 4 + SDG profile) and Clark-notation helpers."""

from __future__ import annotations

QUERY = "urn:oasis:names:tc:ebxml-regrep:xsd:query:4.0"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:4.0"
RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:4.0"
SDG = "http://data.europa.eu/p4s"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XLINK = "http://www.w3.org/1999/xlink"
XMIME = "http://www.w3.org/2005/05/xmlmime"
XML = "http://www.w3.org/XML/1998/namespace"

# The prefixes the EC examples use; xsi:type values are written with them ("rim:StringValueType").
NSMAP = {"xsi": XSI, "rs": RS, "sdg": SDG, "rim": RIM, "query": QUERY, "xlink": XLINK}
REQUEST_NSMAP = {"xsi": XSI, "rs": RS, "sdg": SDG, "xmime": XMIME, "rim": RIM, "query": QUERY, "xlink": XLINK}

STATUS_SUCCESS = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"
STATUS_FAILURE = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"
COLLECTION_SET = "urn:oasis:names:tc:ebxml-regrep:CollectionType:Set"
SEVERITY_ERROR = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"
EDM_CLASSIFICATION_SCHEME = "urn:fdc:oots:classification:edm"


def q(namespace: str, local: str) -> str:
    return f"{{{namespace}}}{local}"


def rim(local: str) -> str:
    return q(RIM, local)


def sdg(local: str) -> str:
    return q(SDG, local)


def query(local: str) -> str:
    return q(QUERY, local)


def rs(local: str) -> str:
    return q(RS, local)


XSI_TYPE = q(XSI, "type")
XML_LANG = q(XML, "lang")


def local_type(value: str | None) -> str:
    """``rim:StringValueType`` → ``StringValueType``: senders bind the RIM namespace to any prefix, and the
    value space of xsi:type here is the RIM type name (the EC Schematron compares the part after ':' too)."""
    if not value:
        return ""
    return value.split(":", 1)[1] if ":" in value else value
