"""AS4 profiles as data: one code path in security/compression/codec, one profile object per partner community.

A profile names the pki algorithm policy (what we accept), what we produce (signature, digest, encryption,
key transport or agreement), which key reference forms we send and accept, the compression rule and the
ebMS header rules (required message properties, party id type, agreement, service type). Nothing here runs
cryptography; :mod:`as4.security` and :mod:`as4.compression` read these objects.

Sources (phax/phase4 @ d4505cc8ddfeceff17970898435d7ae21299b5a7):

* ``phase4-profile-cef/.../CEFPMode.java``: eDelivery 1.x: RSA-SHA256, SHA-256, AES-128-GCM.
* ``phase4-profile-edelivery2/.../EDelivery2PMode.java``: 2.0: EdDSA-Ed25519 or ECDSA-SHA256, AES-128-GCM.
* ``phase4-lib/.../crypto/AS4CryptParams.java``: key transport RSA-OAEP (xenc11) + MGF1-SHA256 + SHA-256 by
  default; ``setEDelivery2KeyAgreementX25519`` / ``...ECDHES`` = agreement + HKDF + kw-aes128; the key
  identifier defaults to ``BST_DIRECT_REFERENCE`` for both signing (AS4SigningParams) and encryption.
* ``phase4-lib/.../messaging/crypto/AS4Signer.java``: attachments are signed in mode "Content", i.e. with the
  SwA Attachment-Content-Signature-Transform.
* ``phase4-profile-peppol/.../PeppolPMode.java``: party id type ``urn:fdc:peppol.eu:2017:identifiers:ap``,
  agreement ``urn:fdc:peppol.eu:2017:agreements:tia:ap_provider``;
  ``phase4-peppol-client/.../Phase4PeppolSender.java``: originalSender / finalRecipient carry the participant
  identifier scheme in ``@type``; Service is the process id (``@type`` = its scheme, ``cenbii-procid-ubl``);
  Action is the URI-encoded document type identifier.
* Domibus ships policies for BST, issuer/serial and SKI references (``eDeliveryAS4Policy*.xml``), which is why
  receivers accept all three.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from pki.xml import algorithms as A
from pki.xml.key_agreement import AgreementSpec

GZIP = "application/gzip"

# MIME types whose content is already compressed: gzip would cost CPU and gain nothing. ``type/*`` entries
# match a whole top-level type; ``+xml`` types (image/svg+xml) are XML text and compress well.
DEFAULT_SKIP_COMPRESSION: frozenset[str] = frozenset({
    "application/gzip", "application/x-gzip", "application/zip", "application/x-zip-compressed",
    "application/pdf", "application/x-7z-compressed", "application/x-bzip2", "application/x-xz",
    "application/zstd", "application/vnd.rar", "application/java-archive",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.text", "application/vnd.etsi.asic-e+zip", "application/vnd.etsi.asic-s+zip",
    "image/*", "audio/*", "video/*",
})


class KeyReference(StrEnum):
    """How a wsse:SecurityTokenReference names a certificate (WSS X.509 token profile 1.1)."""

    BST = "bst"  # wsse:Reference to a wsse:BinarySecurityToken (X509v3) in the same header
    ISSUER_SERIAL = "issuer-serial"  # ds:X509Data/ds:X509IssuerSerial
    SKI = "ski"  # wsse:KeyIdentifier ValueType ...#X509SubjectKeyIdentifier


ALL_KEY_REFERENCES = frozenset(KeyReference)


@dataclass(frozen=True)
class CompressionRule:
    """When the sender gzips a payload part (AS4 CompressionType ``application/gzip``).

    ``level``: phase4 uses ``GZIPOutputStream``'s default (zlib level 6); the PyPI ``as4`` package uses 9.
    ``required``: every payload must be compressed (the caller refuses to send otherwise).
    """

    enabled: bool = True
    compression_type: str = GZIP
    level: int = 6
    skip_mime_types: frozenset[str] = DEFAULT_SKIP_COMPRESSION
    required: bool = False

    def applies_to(self, mime_type: str | None) -> bool:
        """Should a part of this MIME type (parameters ignored) be compressed?"""
        if self.required:
            return True
        if not self.enabled:
            return False
        essence = (mime_type or "application/octet-stream").split(";", 1)[0].strip().lower()
        if essence in self.skip_mime_types:
            return False
        top = essence.split("/", 1)[0]
        return not (f"{top}/*" in self.skip_mime_types and not essence.endswith("+xml"))


@dataclass(frozen=True)
class RequiredProperty:
    """An eb:MessageProperties/eb:Property the profile requires; ``typed``: it must carry ``@type``."""

    name: str
    typed: bool = False


ORIGINAL_SENDER = "originalSender"
FINAL_RECIPIENT = "finalRecipient"
FOUR_CORNER = (RequiredProperty(ORIGINAL_SENDER), RequiredProperty(FINAL_RECIPIENT))


@dataclass(frozen=True)
class As4Profile:
    name: str
    policy: A.AlgorithmPolicy  # what we accept (and the defaults pki falls back on)
    signing_family: str  # key family of our signing key (FileKeyStore / Signer.family): rsa, ed25519, ec
    signature_algorithm: str
    digest_algorithm: str
    encryption_family: str  # key family of the recipient's encryption certificate: rsa, x25519, ec
    data_encryption: str = A.AES128_GCM
    key_transport: str | None = None  # RSA-OAEP (xenc11, MGF1-SHA256, SHA-256) for 1.x
    key_agreement: AgreementSpec | None = None  # X25519 / ECDH-ES + HKDF + kw-aes128 for 2.0
    c14n: str = A.EXC_C14N
    attachment_transform: str = A.ATTACHMENT_CONTENT_TRANSFORM
    sign_required: bool = True
    encrypt_required: bool = True
    signing_key_reference: KeyReference = KeyReference.BST  # what we send (phase4 default)
    encryption_key_reference: KeyReference = KeyReference.BST  # how our EncryptedKey names the recipient
    accepted_key_references: frozenset[KeyReference] = ALL_KEY_REFERENCES  # what we accept for signatures
    compression: CompressionRule = CompressionRule()
    required_properties: tuple[RequiredProperty, ...] = FOUR_CORNER
    party_id_type: str | None = None  # None: any @type (or a URI party id)
    agreement_ref: str | None = None
    service_type: str | None = None
    action_rule: str = "any"  # documentation for the codec/PMode layer: how Action is chosen
    payload_envelope: str | None = None  # "sbdh": the payload is an SBD with a StandardBusinessDocumentHeader
    mpc: str = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/defaultMPC"

    def with_changes(self, **changes: object) -> As4Profile:
        """A copy with some fields replaced (a partner that sends issuer/serial, a different gzip level...)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    def missing_properties(self, properties: Iterable[tuple[str, str | None]]) -> list[str]:
        """Names of required properties absent from ``(name, type)`` pairs (or present without a required type)."""
        given: dict[str, list[str | None]] = {}
        for name, type_ in properties:
            given.setdefault(name, []).append(type_)
        missing = []
        for required in self.required_properties:
            types = given.get(required.name)
            if not types or (required.typed and not any(types)):
                missing.append(required.name)
        return missing


_OAEP = A.RSA_OAEP
_HKDF_X25519 = AgreementSpec(A.X25519, A.HKDF, A.KW_AES128)
_HKDF_ECDH = AgreementSpec(A.ECDH_ES, A.HKDF, A.KW_AES128)

EDELIVERY_1_15 = As4Profile(
    name="edelivery-1.15", policy=A.EDELIVERY_AS4_1_15, signing_family="rsa", signature_algorithm=A.RSA_SHA256,
    digest_algorithm=A.SHA256, encryption_family="rsa", key_transport=_OAEP,
)
EDELIVERY_2_0 = As4Profile(
    name="edelivery-2.0", policy=A.EDELIVERY_AS4_2_0, signing_family="ed25519", signature_algorithm=A.EDDSA_ED25519,
    digest_algorithm=A.SHA256, encryption_family="x25519", key_agreement=_HKDF_X25519,
)
EDELIVERY_2_0_EC = As4Profile(
    name="edelivery-2.0-ec", policy=A.EDELIVERY_AS4_2_0, signing_family="ec", signature_algorithm=A.ECDSA_SHA256,
    digest_algorithm=A.SHA256, encryption_family="ec", key_agreement=_HKDF_ECDH,
)
PEPPOL = As4Profile(
    name="peppol", policy=A.PEPPOL_AS4, signing_family="rsa", signature_algorithm=A.RSA_SHA256,
    digest_algorithm=A.SHA256, encryption_family="rsa", key_transport=_OAEP,
    # One payload part, the SBD (XML): the default rule gzips it, as phase4's Peppol sender does by default
    # (Phase4PeppolSender.DEFAULT_COMPRESS_PAYLOAD = true).
    required_properties=(RequiredProperty(ORIGINAL_SENDER, typed=True), RequiredProperty(FINAL_RECIPIENT, typed=True)),
    party_id_type="urn:fdc:peppol.eu:2017:identifiers:ap",
    agreement_ref="urn:fdc:peppol.eu:2017:agreements:tia:ap_provider",
    service_type="cenbii-procid-ubl",
    action_rule="document type identifier, URI-encoded (scheme::value)",
    payload_envelope="sbdh",
)

PROFILES: dict[str, As4Profile] = {p.name: p for p in (EDELIVERY_1_15, EDELIVERY_2_0, EDELIVERY_2_0_EC, PEPPOL)}


def profile(name: str) -> As4Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown AS4 profile {name!r} (known: {', '.join(sorted(PROFILES))})") from None
