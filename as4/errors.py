"""The ebMS3 / AS4 error catalogue as data, and the one exception every refusal in as4/ raises.

Codes, short names, severities and categories are those of ebMS3 core §6.7.1–6.7.3 and the AS4 profile
§3.5 (EBMS:0301–0303). phase4's ``EEbmsError`` was read alongside; where it departs from the spec tables
(it marks 0005 a warning and 0006 a failure, files 0011 under Processing and spells "ValueInConsistent") we
follow the spec, because peers validate what we send against the spec, not against phase4. Descriptions are
short paraphrases of the spec's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from as4.model import Description, ErrorDetail

FAILURE = "failure"
WARNING = "warning"

# ebMS3 §6.3: where in the processing the error arose.
CONTENT = "Content"
COMMUNICATION = "Communication"
UNPACKAGING = "Unpackaging"
PROCESSING = "Processing"

VALUE_NOT_RECOGNIZED = "EBMS:0001"
FEATURE_NOT_SUPPORTED = "EBMS:0002"
VALUE_INCONSISTENT = "EBMS:0003"
OTHER = "EBMS:0004"
CONNECTION_FAILURE = "EBMS:0005"
EMPTY_MPC = "EBMS:0006"
MIME_INCONSISTENCY = "EBMS:0007"
FEATURE_NOT_SUPPORTED_INCONSISTENCY = "EBMS:0008"
INVALID_HEADER = "EBMS:0009"
PROCESSING_MODE_MISMATCH = "EBMS:0010"
EXTERNAL_PAYLOAD_ERROR = "EBMS:0011"
FAILED_AUTHENTICATION = "EBMS:0101"
FAILED_DECRYPTION = "EBMS:0102"
POLICY_NONCOMPLIANCE = "EBMS:0103"
DYSFUNCTIONAL_RELIABILITY = "EBMS:0201"
DELIVERY_FAILURE = "EBMS:0202"
MISSING_RECEIPT = "EBMS:0301"
INVALID_RECEIPT = "EBMS:0302"
DECOMPRESSION_FAILURE = "EBMS:0303"


@dataclass(frozen=True)
class EbmsErrorType:
    code: str
    short_description: str
    severity: str
    category: str
    origin: str  # the ebMS3 module that reports it: "ebMS", "security" or "reliability"
    description: str


def _types(*rows: tuple[str, str, str, str, str, str]) -> Mapping[str, EbmsErrorType]:
    return MappingProxyType({row[0]: EbmsErrorType(*row) for row in rows})


CATALOGUE: Mapping[str, EbmsErrorType] = _types(
    (VALUE_NOT_RECOGNIZED, "ValueNotRecognized", FAILURE, CONTENT, "ebMS",
     "The message is well formed and schema valid, but an element or attribute holds a value the MSH does "
     "not recognise and so cannot use."),
    (FEATURE_NOT_SUPPORTED, "FeatureNotSupported", WARNING, CONTENT, "ebMS",
     "The message is well formed and schema valid, but a value asks for a feature this MSH does not "
     "support."),
    (VALUE_INCONSISTENT, "ValueInconsistent", FAILURE, CONTENT, "ebMS",
     "The message is well formed and schema valid, but a value is inconsistent with other content, with "
     "the P-Mode, or with the normative rules of ebMS."),
    (OTHER, "Other", FAILURE, CONTENT, "ebMS", "An error occurred that no other ebMS error code describes."),
    (CONNECTION_FAILURE, "ConnectionFailure", FAILURE, COMMUNICATION, "ebMS",
     "The MSH failed, temporarily or permanently, to open a transport connection to the remote MSH."),
    (EMPTY_MPC, "EmptyMessagePartitionChannel", WARNING, COMMUNICATION, "ebMS",
     "No message is available for pulling from this message partition channel at this moment."),
    (MIME_INCONSISTENCY, "MimeInconsistency", FAILURE, UNPACKAGING, "ebMS",
     "The use of MIME does not follow the packaging this specification requires."),
    (FEATURE_NOT_SUPPORTED_INCONSISTENCY, "FeatureNotSupportedInconsistency", FAILURE, UNPACKAGING, "ebMS",
     "The message is well formed and schema valid, but the presence or absence of some element or attribute "
     "does not match the features this MSH supports."),
    (INVALID_HEADER, "InvalidHeader", FAILURE, UNPACKAGING, "ebMS",
     "The ebMS header is not well-formed XML or does not follow the ebMS packaging rules."),
    (PROCESSING_MODE_MISMATCH, "ProcessingModeMismatch", FAILURE, PROCESSING, "ebMS",
     "The ebMS header, or another header the MSH expects (reliability, security), does not match the "
     "P-Mode associated with the message."),
    (EXTERNAL_PAYLOAD_ERROR, "ExternalPayloadError", FAILURE, CONTENT, "ebMS",
     "The MSH cannot resolve a payload reference to a part that is not contained in the ebMS message."),
    (FAILED_AUTHENTICATION, "FailedAuthentication", FAILURE, PROCESSING, "security",
     "The signature in the Security header for the ebms actor could not be validated."),
    (FAILED_DECRYPTION, "FailedDecryption", FAILURE, PROCESSING, "security",
     "The encrypted data referenced from the Security header for the ebms actor could not be decrypted."),
    (POLICY_NONCOMPLIANCE, "PolicyNoncompliance", FAILURE, PROCESSING, "security",
     "The message's security methods, parameters or scope do not satisfy the security policy or agreement."),
    (DYSFUNCTIONAL_RELIABILITY, "DysfunctionalReliability", FAILURE, PROCESSING, "reliability",
     "A reliability function is not operational, or the reliability state of this sequence is invalid."),
    (DELIVERY_FAILURE, "DeliveryFailure", FAILURE, COMMUNICATION, "reliability",
     "Despite resending, the reliability module could not get assurance that the message was delivered."),
    (MISSING_RECEIPT, "MissingReceipt", FAILURE, COMMUNICATION, "ebMS",
     "No receipt arrived for a message this MSH sent earlier."),
    (INVALID_RECEIPT, "InvalidReceipt", FAILURE, COMMUNICATION, "ebMS",
     "A receipt arrived for a message this MSH sent, but it does not match that message (a part not "
     "acknowledged, or a digest that differs from the signed one)."),
    (DECOMPRESSION_FAILURE, "DecompressionFailure", FAILURE, COMMUNICATION, "ebMS",
     "A compressed payload could not be decompressed."),
)


def error_type(code: str) -> EbmsErrorType:
    try:
        return CATALOGUE[code]
    except KeyError:
        raise ValueError(f"unknown ebMS error code {code!r}") from None


class EbmsError(Exception):
    """A refusal with an ebMS error code. ``detail`` says what exactly was wrong (it goes into
    ``eb:ErrorDetail``, so it must never contain secrets); ``ref_to_message_id`` names the message in error
    when it is known; ``origin`` overrides the catalogue's module name (e.g. a profile check)."""

    def __init__(
        self, code: str, detail: str = "", *, ref_to_message_id: str | None = None, origin: str | None = None
    ) -> None:
        self.error_type = error_type(code)
        self.code = code
        self.detail = detail
        self.ref_to_message_id = ref_to_message_id
        self.origin = origin or self.error_type.origin
        super().__init__(code, detail)

    def __str__(self) -> str:
        return f"{self.code} {self.error_type.short_description}: {self.detail}" if self.detail else (
            f"{self.code} {self.error_type.short_description}"
        )

    @property
    def severity(self) -> str:
        return self.error_type.severity

    @property
    def category(self) -> str:
        return self.error_type.category

    @property
    def short_description(self) -> str:
        return self.error_type.short_description

    def to_error_detail(self, *, lang: str = "en") -> ErrorDetail:
        """The ``eb:Error`` to report this refusal to the sender with."""
        return ErrorDetail(
            code=self.code,
            severity=self.severity,
            category=self.category,
            short_description=self.short_description,
            description=Description(self.error_type.description, lang),
            detail=self.detail or None,
            ref_to_message_in_error=self.ref_to_message_id,
            origin=self.origin,
        )
