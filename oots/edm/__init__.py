"""OOTS Exchange Data Model (EDM): typed model and pure codec for oots-edm v1.0, v1.2 and v2.0.

Bytes in, frozen dataclasses out, and back; no I/O, no clock (timestamps are passed in). Version differences
live as data in :mod:`oots.edm.versions`, so one code path serves every version.
"""

from oots.edm.codec import parse_message, to_bytes
from oots.edm.errors import EDM_ERRORS, EdmCodecError
from oots.edm.model import (
    Address,
    Agent,
    ClassificationValue,
    Distribution,
    EdmException,
    EvidenceItem,
    EvidenceMetadata,
    EvidenceTypeRef,
    ExceptionResponse,
    Identifier,
    LegalPerson,
    NaturalPerson,
    QueryRequest,
    QueryResponse,
    Requirement,
    Text,
    edm_exception,
)
from oots.edm.versions import V1_0, V1_2, V2_0, VERSIONS, EdmVersion, version_for

__all__ = [
    "EDM_ERRORS", "V1_0", "V1_2", "V2_0", "VERSIONS", "Address", "Agent", "ClassificationValue", "Distribution",
    "EdmCodecError", "EdmException", "EdmVersion", "EvidenceItem", "EvidenceMetadata", "EvidenceTypeRef",
    "ExceptionResponse", "Identifier", "LegalPerson", "NaturalPerson", "QueryRequest", "QueryResponse",
    "Requirement", "Text", "edm_exception", "parse_message", "to_bytes", "version_for",
]
