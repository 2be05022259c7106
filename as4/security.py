"""WS-Security for AS4 (SOAP 1.2 + SwA), per profile, through pki's one XML-security layer.

Outbound (:func:`secure_outbound`): the caller has compressed; we SIGN (detached XML-DSig over eb:Messaging,
the SOAP Body and every MIME part), then ENCRYPT every MIME part (AES-GCM, one EncryptedData per part with a
CipherReference, one EncryptedKey for all). Inbound (:func:`process_inbound`): decrypt first (the parts were
encrypted after signing), then verify, then require that the signature covers eb:Messaging, the Body and
every part. Nothing here does cryptography or canonicalisation itself: pki.xml does.

Wire format, as phase4 produces it (phax/phase4 @ d4505cc8ddfeceff17970898435d7ae21299b5a7,
``phase4-lib/.../messaging/crypto/AS4Signer.java`` and ``AS4Encryptor.java``, both through Apache WSS4J,
apache/ws-wss4j @ b975a69754835a21a9f717aeb60e1e5b364786e7):

* ``wsse:Security`` is the first child of ``S12:Header``, declares ``wsse`` and ``wsu`` and carries
  ``S12:mustUnderstand="true"`` (WSSecHeader.insertSecurityHeader; AS4Signer sets mustUnderstand).
* Element order inside it. WSS4J *prepends* everything: ``WSSecSignature.build`` prepends the Signature, then
  the BinarySecurityToken; ``WSSecEncrypt.build`` then prepends each attachment's EncryptedData in part order
  (``addAttachmentEncryptedDataElements``), then the EncryptedKey (``prependToHeader``), then the recipient's
  BinarySecurityToken (``prependBSTElementToHeader``). So a signed and encrypted message reads::

      BST(recipient's encryption certificate)  EncryptedKey  EncryptedData(part n) … EncryptedData(part 1)
      BST(sender's signing certificate)  ds:Signature

  (the CEF sample phase4 keeps in ``docs/CEF/sample5.txt`` has the same EncryptedKey, EncryptedData…, BST,
  Signature sequence). We write exactly that order; when reading, order does not matter.
* Key references: phase4's default for both signing and encryption is ``BST_DIRECT_REFERENCE``
  (AS4SigningParams / AS4CryptParams.DEFAULT_KEY_IDENTIFIER_TYPE): the certificate travels in a
  ``wsse:BinarySecurityToken`` (X509v3) that a ``wsse:SecurityTokenReference/wsse:Reference`` names; in the
  EncryptedKey that reference sits in ds:KeyInfo (RSA-OAEP) or in AgreementMethod/RecipientKeyInfo (X25519,
  ECDH-ES). Ids: ``X509-``, ``SIG-``, ``KI-``, ``STR-``, ``EK-``, ``ED-`` + UUID, as WSS4J names them. Receivers
  accept BST, issuer/serial and SKI references (profile.accepted_key_references); issuer/serial and SKI carry
  no certificate, so they need a resolver that knows the partner's certificate (``match_candidates``).
* References, in this order: eb:Messaging, S12:Body, then every part (``cid:``) with the SwA
  Attachment-Content-Signature-Transform (AS4Signer signs attachments in mode "Content").
* Exclusive c14n ``InclusiveNamespaces PrefixList``: WSS4J's ``addInclusivePrefixes`` (on by default), rule of
  ``SignatureUtils.getInclusivePrefixes``: for SignedInfo, every prefix declared on an ancestor of
  wsse:Security; for a referenced element, every prefix declared on its ancestors minus the ones it declares
  itself, uses in an attribute name, or uses for its own name (``#default`` for the default namespace). On
  phase4's envelope (only ``S12`` declared on the Envelope) that gives SignedInfo ``S12``, eb:Messaging none
  (it uses ``S12:mustUnderstand``) and Body none; see ``TestReceipt12.xml``. An empty list is written as no
  InclusiveNamespaces element, as phase4 does.
* Encrypted parts: EncryptedData ``Type=…#Attachment-Content-Only``, ``MimeType`` = the part's type before
  encryption, ``ds:KeyInfo/wsse:SecurityTokenReference`` (wsse11:TokenType …#EncryptedKey) to the
  EncryptedKey, CipherReference ``cid:`` with the Attachment-Ciphertext-Transform; the new part's
  Content-Type is ``application/octet-stream`` (WSS4J Encryptor.encryptAttachment; AS4Encryptor overwrites it
  too). Its content is IV || ciphertext || tag, streamed; each iteration of it uses a fresh IV (equally valid).

Error mapping (EbmsError):

* EBMS:0103 PolicyNoncompliance: no wsse:Security, no ds:Signature, or a part left unencrypted, where the
  profile requires them; several Security headers or signatures; a key reference form the profile does not
  accept; a valid signature that does not cover eb:Messaging, the Body or every part (the signature is
  fine, its *scope* breaks the agreement: ebMS3 §6.7.2 puts scope under 0103).
* EBMS:0101 FailedAuthentication: the signature does not verify (digest or value), an untrusted, expired,
  unknown or wrong certificate, a refused signature/digest/c14n/transform algorithm, a malformed signature.
* EBMS:0102 FailedDecryption: anything that stops decryption: not encrypted for any of our keys, wrong key,
  altered ciphertext or tag, a refused encryption algorithm, a malformed EncryptedKey/EncryptedData.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519
from lxml import etree

from as4.errors import FAILED_AUTHENTICATION, FAILED_DECRYPTION, MIME_INCONSISTENCY, POLICY_NONCOMPLIANCE, EbmsError
from as4.ns import EB, S11, S12, WSSE, WSU
from as4.parts import Part
from as4.profiles import As4Profile, KeyReference
from pki.ids import uuid4_str
from pki.keys.port import KeyPurpose, KeyStore, Signer
from pki.trust.model import CertificateRejected
from pki.trust.store import time_problem
from pki.xml import ns as dsns
from pki.xml.algorithms import EXC_C14N
from pki.xml.decryption import DecryptionResult, decrypt_document
from pki.xml.encryption import (
    XENC,
    DecryptedPart,
    attachment_encrypted_data,
    encrypt_attachment,
    encrypted_key,
    encrypted_key_reference,
    find_in_store,
    new_cek,
)
from pki.xml.keyinfo import (
    KeyInfoData,
    KeyResolutionError,
    KeyResolver,
    ResolvedKey,
    binary_security_token,
    token_reference,
)
from pki.xml.ns import q
from pki.xml.references import Transform
from pki.xml.signing import ReferenceSpec, SignOptions, sign
from pki.xml.verification import VerifiedSignature, covers, verify

OCTET_STREAM = "application/octet-stream"
_ROLE_ATTRIBUTES = (q(S12, "role"), q(S11, "actor"))
_ULTIMATE_RECEIVER = "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver"
_KEY_TYPES = {"rsa": rsa.RSAPublicKey, "x25519": x25519.X25519PublicKey, "ec": ec.EllipticCurvePublicKey}


@dataclass
class InboundSecurityResult:
    """What the security layer established about a received message.

    ``verified``: the verified signature (None only where the profile does not require signing and none was
    sent); ``parts``: the decrypted parts (plaintext streams, same order and Content-IDs as received);
    ``signed_references``: the signature's ds:Reference elements, for the receipt. Call :meth:`close` when
    the parts have been stored (it removes spooled plaintext), or use it as a context manager.
    """

    verified: VerifiedSignature | None
    parts: list[Part]
    signed_references: tuple[etree._Element, ...] = ()
    decryption: DecryptionResult | None = field(default=None, repr=False)

    @property
    def certificate(self) -> x509.Certificate | None:
        return self.verified.certificate if self.verified is not None else None

    def close(self) -> None:
        if self.decryption is not None:
            self.decryption.close()

    def __enter__(self) -> InboundSecurityResult:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


# --- the envelope --------------------------------------------------------------------------------------

def _soap(envelope: etree._Element) -> str:
    namespace = etree.QName(envelope).namespace
    if etree.QName(envelope).localname != "Envelope" or namespace not in (S12, S11):
        raise ValueError(f"not a SOAP envelope: {envelope.tag}")
    return namespace  # type: ignore[return-value]


def _child(parent: etree._Element, tag: str, what: str) -> etree._Element:
    found = parent.findall(tag)
    if len(found) != 1:
        raise ValueError(f"expected one {what}, found {len(found)}")
    return found[0]


def _parts_of(envelope: etree._Element) -> tuple[str, etree._Element, etree._Element, etree._Element]:
    soap = _soap(envelope)
    header = _child(envelope, q(soap, "Header"), "SOAP Header")
    body = _child(envelope, q(soap, "Body"), "SOAP Body")
    messaging = _child(header, q(EB, "Messaging"), "eb:Messaging header")
    return soap, header, body, messaging


def _ours(element: etree._Element) -> bool:
    role = next((element.get(a) for a in _ROLE_ATTRIBUTES if element.get(a) is not None), None)
    return role is None or role == _ULTIMATE_RECEIVER


def _security_headers(header: etree._Element) -> list[etree._Element]:
    return [child for child in header.findall(q(WSSE, "Security")) if _ours(child)]


def _security_for_writing(header: etree._Element, soap: str, must_understand: bool) -> etree._Element:
    existing = _security_headers(header)
    if len(existing) > 1:
        raise ValueError("the envelope already holds several wsse:Security headers")
    if existing:
        return existing[0]
    security = etree.Element(q(WSSE, "Security"), nsmap={"wsse": WSSE, "wsu": WSU})
    header.insert(0, security)
    # Set after insertion, so lxml reuses the envelope's SOAP prefix (S12) instead of declaring a new one.
    value = ("true" if must_understand else "false") if soap == S12 else ("1" if must_understand else "0")
    security.set(q(soap, "mustUnderstand"), value)
    return security


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid4_str()}"


def _ensure_id(element: etree._Element) -> None:
    if not any(element.get(attribute) for attribute in dsns.ID_ATTRIBUTES):
        element.set(q(WSU, "Id"), _new_id("id"))


def _declared(nsmap: dict[str | None, str], inherited: dict[str | None, str]) -> list[str]:
    return ["#default" if prefix is None else prefix
            for prefix, uri in nsmap.items() if inherited.get(prefix) != uri]


def inclusive_prefixes(target: etree._Element, *, exclude_visible: bool) -> tuple[str, ...]:
    """WSS4J's InclusiveNamespaces PrefixList for ``target`` (see the module docstring)."""
    # Each element's in-scope namespaces, target first, then its ancestors up to the root: lxml computes an
    # nsmap by walking to the root, so each is computed once and compared with its parent's.
    chain = [target, *target.iterancestors()]
    nsmaps = [element.nsmap for element in chain] + [{}]
    result: dict[str, None] = {}  # ordered set: nearest ancestor first, like WSS4J's LinkedHashSet
    for position in range(1, len(chain)):
        for prefix in _declared(nsmaps[position], nsmaps[position + 1]):
            result.setdefault(prefix)
    if exclude_visible:
        for prefix in _declared(nsmaps[0], nsmaps[1]):
            result.pop(prefix, None)
        by_uri: dict[str, list[str]] = {}
        for prefix, uri in nsmaps[0].items():
            by_uri.setdefault(uri, []).append("#default" if prefix is None else prefix)
        for name in target.attrib:
            namespace = etree.QName(name).namespace
            for prefix in by_uri.get(namespace, []) if namespace else []:
                if prefix != "#default":
                    result.pop(prefix, None)
        result.pop(target.prefix if target.prefix is not None else "#default", None)
    return tuple(result)


def _parts_by_id(parts: Sequence[Part], ref: str | None = None) -> dict[str, Part]:
    found: dict[str, Part] = {}
    for part in parts:
        if part.content_id in found:
            raise EbmsError(MIME_INCONSISTENCY, f"two MIME parts share the Content-ID {part.content_id!r}",
                            ref_to_message_id=ref)
        found[part.content_id] = part
    return found


def signed_references(envelope: etree._Element) -> list[etree._Element]:
    """The ds:Reference elements of the signature in our wsse:Security header (what :func:`check_receipt`
    compares a receipt with)."""
    _, header, _, _ = _parts_of(envelope)
    securities = _security_headers(header)
    if len(securities) != 1:
        raise ValueError(f"expected one wsse:Security header, found {len(securities)}")
    signature = _child(securities[0], q(dsns.DS, "Signature"), "ds:Signature")
    return signature.findall(f"{q(dsns.DS, 'SignedInfo')}/{q(dsns.DS, 'Reference')}")


# --- outbound ------------------------------------------------------------------------------------------

def _reference_to(cert: x509.Certificate, form: KeyReference) -> tuple[etree._Element, etree._Element | None]:
    """(SecurityTokenReference, BinarySecurityToken or None) naming ``cert`` in the given form."""
    if form is KeyReference.BST:
        token_id = _new_id("X509")
        return token_reference(token_id=token_id), binary_security_token(cert, token_id)
    if form is KeyReference.ISSUER_SERIAL:
        return token_reference(issuer_serial_of=cert), None
    return token_reference(ski_of=cert), None


def sign_envelope(envelope: etree._Element, parts: Sequence[Part], profile: As4Profile, signer: Signer, *,
                  key_reference: KeyReference | None = None, must_understand: bool = True) -> etree._Element:
    """Sign eb:Messaging, the Body and every part (detached, in wsse:Security); returns the ds:Signature.

    Usable alone, e.g. for receipts and errors (signal messages have no parts).
    """
    if signer.family != profile.signing_family:
        raise ValueError(f"profile {profile.name} signs with a {profile.signing_family} key, "
                         f"the signer {signer.key_id} is {signer.family}")
    soap, header, body, messaging = _parts_of(envelope)
    by_id = _parts_by_id(parts)
    form = key_reference or profile.signing_key_reference
    certificate = signer.certificate
    if certificate is None:
        raise ValueError(f"signer {signer.key_id} has no certificate to reference")
    for element in (messaging, body):
        _ensure_id(element)
    security = _security_for_writing(header, soap, must_understand)
    reference, token = _reference_to(certificate, form)
    specs = [
        ReferenceSpec(element=element, transforms=(Transform(EXC_C14N, inclusive_prefixes(element,
                                                                                           exclude_visible=True)),),
                      digest=profile.digest_algorithm)
        for element in (messaging, body)
    ]
    specs += [ReferenceSpec(uri=f"cid:{part.content_id}", transforms=(Transform(profile.attachment_transform),),
                            digest=profile.digest_algorithm) for part in parts]
    options = SignOptions(
        policy=profile.policy, signature_algorithm=profile.signature_algorithm,
        c14n_prefixes=inclusive_prefixes(security, exclude_visible=False), key_info=reference,
        signature_id=_new_id("SIG"), attachments=by_id.__getitem__,
    )
    # WSS4J: the Signature is prepended, then its BST in front of it.
    signature = sign(security, specs, signer, options, index=0)
    if token is not None:
        security.insert(0, token)
    key_info = signature.find(q(dsns.DS, "KeyInfo"))
    key_info.set("Id", _new_id("KI"))  # KeyInfo is outside SignedInfo: ids added after signing change nothing
    key_info[0].set(q(WSU, "Id"), _new_id("STR"))
    return signature


def _encrypting(cek: bytes, part: Part) -> Callable[[], Iterator[bytes]]:
    return lambda: encrypt_attachment(cek, part.chunks())


def encrypt_parts(envelope: etree._Element, parts: Sequence[Part], profile: As4Profile,
                  recipient: x509.Certificate, *, key_reference: KeyReference | None = None,
                  must_understand: bool = True) -> list[Part]:
    """Encrypt every part for ``recipient``; adds EncryptedKey and EncryptedData to wsse:Security and returns
    the parts to send (ciphertext, ``application/octet-stream``). No parts: nothing to do."""
    if not parts:
        return []
    wanted = _KEY_TYPES.get(profile.encryption_family)
    if wanted is None or not isinstance(recipient.public_key(), wanted):
        raise ValueError(f"profile {profile.name} encrypts for {profile.encryption_family} keys; the recipient "
                         f"certificate {recipient.subject.rfc4514_string()} holds another key type")
    soap, header, _, _ = _parts_of(envelope)
    _parts_by_id(parts)
    security = _security_for_writing(header, soap, must_understand)
    algorithm, cek = new_cek(profile.policy, profile.data_encryption)
    key_id = _new_id("EK")
    data_elements = [
        attachment_encrypted_data(part.content_id, part.content_type, algorithm, element_id=_new_id("ED"),
                                  key_info=encrypted_key_reference(key_id))
        for part in parts
    ]
    reference, token = _reference_to(recipient, key_reference or profile.encryption_key_reference)
    key = encrypted_key(cek, recipient, reference, profile.policy, element_id=key_id,
                        data_references=[element.get("Id") for element in data_elements],
                        agreement=profile.key_agreement)
    for element in data_elements:  # WSS4J prepends each, so the last part's EncryptedData comes first
        security.insert(0, element)
    security.insert(0, key)
    if token is not None:
        security.insert(0, token)
    return [Part(part.content_id, OCTET_STREAM, _encrypting(cek, part), dict(part.extra_headers)) for part in parts]


def secure_outbound(envelope: etree._Element, parts: Sequence[Part], profile: As4Profile, signer: Signer | None,
                    recipient_cert: x509.Certificate | None, *, signing_key_reference: KeyReference | None = None,
                    encryption_key_reference: KeyReference | None = None,
                    must_understand: bool = True) -> tuple[etree._Element, list[Part]]:
    """Sign, then encrypt, as the profile says; returns the envelope (changed in place) and the parts to send.

    The caller compresses first (:mod:`as4.compression`) and keeps :func:`signed_references` of the result
    to check the receipt with.
    """
    parts = list(parts)
    if signer is not None:
        sign_envelope(envelope, parts, profile, signer, key_reference=signing_key_reference,
                      must_understand=must_understand)
    elif profile.sign_required:
        raise ValueError(f"profile {profile.name} requires signing and no signer was given")
    if recipient_cert is not None:
        parts = encrypt_parts(envelope, parts, profile, recipient_cert, key_reference=encryption_key_reference,
                              must_understand=must_understand)
    elif profile.encrypt_required and parts:
        raise ValueError(f"profile {profile.name} requires encryption and no recipient certificate was given")
    return envelope, parts


# --- inbound -------------------------------------------------------------------------------------------

class _FormRefused(Exception):
    pass


def _form(info: KeyInfoData) -> KeyReference | None:
    if info.token_id is not None:
        return KeyReference.BST
    if info.issuer_serial is not None:
        return KeyReference.ISSUER_SERIAL
    if info.subject_key_identifier is not None:
        return KeyReference.SKI
    return None


def _checked_resolver(resolver: KeyResolver, profile: As4Profile, at: datetime) -> KeyResolver:
    def resolve(info: KeyInfoData) -> ResolvedKey:
        form = _form(info)
        if form is None or form not in profile.accepted_key_references:
            raise _FormRefused(f"the signature's KeyInfo names its key by {form or 'no WSS token reference'}; "
                               f"profile {profile.name} accepts {', '.join(sorted(profile.accepted_key_references))}")
        resolved = resolver(info)
        if resolved.certificate is not None:
            problem = time_problem(resolved.certificate, at)
            if problem is not None:
                raise KeyResolutionError(problem.code, problem.message)
        return resolved

    return resolve


def _decrypted(part: Part, decrypted: DecryptedPart) -> Part:
    extra = {k: v for k, v in part.extra_headers.items() if k.lower() != "content-type"}
    return Part(part.content_id, decrypted.mime_type or part.content_type, decrypted.plaintext.chunks, extra)


def _fail(code: str, detail: str, ref: str | None) -> EbmsError:
    return EbmsError(code, detail, ref_to_message_id=ref)


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _decrypt(envelope: etree._Element, by_id: dict[str, Part], profile: As4Profile, key_store: KeyStore,
             ref: str | None, spool: dict[str, object]) -> DecryptionResult | None:
    if next(envelope.iter(q(XENC, "EncryptedData")), None) is None:
        return None
    try:
        return decrypt_document(envelope, find_in_store(key_store, KeyPurpose.AS4_ENCRYPTION), profile.policy,
                                parts=by_id.__getitem__, **spool)
    except EbmsError:
        raise
    except (ValueError, LookupError) as exc:  # EncryptionError, KeyAgreementError, AlgorithmRefused, KeyNotFound…
        raise _fail(FAILED_DECRYPTION, f"cannot decrypt: {_describe(exc)}", ref) from exc


def process_inbound(envelope: etree._Element, parts: Sequence[Part], profile: As4Profile, *, key_store: KeyStore,
                    signer_resolver: KeyResolver, at: datetime | None = None,
                    ref_to_message_id: str | None = None, **spool_options: object) -> InboundSecurityResult:
    """Decrypt, verify and check the scope of a received message's WS-Security (see the module docstring).

    ``key_store`` holds our AS4 decryption keys; ``signer_resolver`` decides whose signature we trust
    (``match_candidates([pmode_cert])`` or ``trusted_certificate(trust_store_validate)`` from
    pki.xml.keyinfo); ``at`` is the time certificate validity is judged at (default now).
    ``spool_options`` (``spool_dir``, ``spool_memory``) go to pki's decryption spool.
    """
    ref = ref_to_message_id
    at = at or datetime.now(UTC)
    try:
        _, header, body, messaging = _parts_of(envelope)
    except ValueError as exc:
        raise _fail(POLICY_NONCOMPLIANCE, f"cannot locate the secured elements: {exc}", ref) from None
    by_id = _parts_by_id(parts, ref)
    securities = _security_headers(header)
    if len(securities) > 1:
        raise _fail(POLICY_NONCOMPLIANCE, "more than one wsse:Security header is addressed to us", ref)
    if not securities:
        if profile.sign_required or (profile.encrypt_required and parts):
            raise _fail(POLICY_NONCOMPLIANCE, f"no wsse:Security header; profile {profile.name} requires "
                                              "signed (and encrypted) messages", ref)
        return InboundSecurityResult(None, list(parts))
    security = securities[0]

    decryption = _decrypt(envelope, by_id, profile, key_store, ref, spool_options)
    try:
        decrypted = decryption.parts if decryption is not None else {}
        if profile.encrypt_required:
            clear = [cid for cid in by_id if cid not in decrypted]
            if clear:
                raise _fail(POLICY_NONCOMPLIANCE, f"parts {clear} are not encrypted; profile {profile.name} "
                                                  "requires every payload to be", ref)
        plain = [_decrypted(part, decrypted[part.content_id]) if part.content_id in decrypted else part
                 for part in parts]
        verified = _verify(security, plain, profile, signer_resolver, at, ref)
        if verified is not None:
            _check_scope(verified, messaging, body, plain, ref)
        references = tuple(r.reference for r in verified.references) if verified is not None else ()
        return InboundSecurityResult(verified, plain, references, decryption)
    except BaseException:
        if decryption is not None:
            decryption.close()
        raise


def _verify(security: etree._Element, parts: Sequence[Part], profile: As4Profile, resolver: KeyResolver,
            at: datetime, ref: str | None) -> VerifiedSignature | None:
    signatures = security.findall(q(dsns.DS, "Signature"))
    if not signatures:
        if profile.sign_required:
            raise _fail(POLICY_NONCOMPLIANCE, f"no ds:Signature in wsse:Security; profile {profile.name} requires "
                                              "signed messages", ref)
        return None
    if len(signatures) > 1:
        raise _fail(POLICY_NONCOMPLIANCE, f"{len(signatures)} signatures in wsse:Security, expected one", ref)
    by_id = {part.content_id: part for part in parts}
    try:
        return verify(signatures[0], _checked_resolver(resolver, profile, at), profile.policy,
                      attachments=by_id.__getitem__)
    except _FormRefused as exc:
        raise _fail(POLICY_NONCOMPLIANCE, str(exc), ref) from None
    except EbmsError:
        raise
    except (ValueError, LookupError, CertificateRejected) as exc:  # SignatureError, AlgorithmRefused, KeyMismatch…
        raise _fail(FAILED_AUTHENTICATION, f"signature not accepted: {_describe(exc)}", ref) from exc


def _check_scope(verified: VerifiedSignature, messaging: etree._Element, body: etree._Element,
                 parts: Sequence[Part], ref: str | None) -> None:
    for element, name in ((messaging, "eb:Messaging"), (body, "the SOAP Body")):
        if not covers(verified, element):
            raise _fail(POLICY_NONCOMPLIANCE, f"the signature does not cover {name}", ref)
    signed = set(verified.content_ids)
    unsigned = [part.content_id for part in parts if part.content_id not in signed]
    if unsigned:
        raise _fail(POLICY_NONCOMPLIANCE, f"the signature does not cover the parts {unsigned}", ref)
