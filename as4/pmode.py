"""PModes: the per-partner agreement (parties, service/action, profile, endpoint, certificates, reliability) as
frozen data, loaded from TOML and validated at load with errors that name the file, the key and the problem.

A file holds one or more ``[[pmode]]`` tables::

    [[pmode]]
    id = "ee-oots"
    profile = "edelivery-2.0"               # a name from as4.profiles.PROFILES: chosen per partner
    action = "ExecuteQueryRequest"
    endpoint = "https://ap.ee.example/as4"
    agreement_ref = "urn:...:agreement"     # optional
    initiator = { party_id = "EE-AP", party_id_type = "urn:oasis:...:unregistered", role = "http://...initiator" }
    responder = { party_id = "LV-GW", role = "http://...responder" }
    service = { value = "urn:eu:europa:ec:oots", type = "urn:oasis:names:tc:ebcore:partyid-type:unregistered" }
    signing_certificates = ["certs/ee-signing.pem"]   # pinned, relative to this file; and/or
    trust_store = "trust/ee"                          # a pki.trust.TrustStore directory
    backend = "c-0123abcd"                  # optional: the API client inbound messages of this PMode go to
    encryption_certificate = "certs/ee-encryption.pem"
    retry = [10, 60, 300]                   # seconds between attempts (phase4 default: one retry after 10 s)
    time_to_live_s = 86400
    max_payload_bytes = 104857600
    duplicate_detection_window_s = 604800

The stored form (:meth:`PMode.to_document`) is the same table with each certificate path replaced by its PEM
text and the trust store path made absolute, so a database copy is self-contained and a changed certificate
file is a changed PMode. The initiator is the sender (eb:From), the responder the receiver (eb:To); a partner
that both sends and receives has one PMode per direction.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509

from as4.errors import PROCESSING_MODE_MISMATCH, EbmsError
from as4.model import UserMessage
from as4.pipeline import Agreement, AgreementFinder
from as4.profiles import PROFILES, As4Profile
from pki.keys.port import KeyPurpose
from pki.trust import TrustStore
from pki.xml.keyinfo import (
    KeyInfoData,
    KeyResolutionError,
    KeyResolver,
    ResolvedKey,
    match_candidates,
    trusted_certificate,
)

DEFAULT_RETRY: tuple[float, ...] = (10.0,)
DEFAULT_TIME_TO_LIVE_S = 24 * 3600
DEFAULT_MAX_PAYLOAD_BYTES = 100 * 1024 * 1024
DEFAULT_DUPLICATE_WINDOW_S = 7 * 24 * 3600


class PModeError(ValueError):
    """A PMode file (or stored PMode) that cannot be used: which file, which key, what is wrong."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        super().__init__(f"{file}: {key}: {problem}" if key else f"{file}: {problem}")

    def to_json(self) -> dict[str, str]:
        return {"file": self.file, "key": self.key, "problem": self.problem}


@dataclass(frozen=True)
class PModeParty:
    party_id: str
    role: str
    party_id_type: str | None = None


@dataclass(frozen=True)
class PModeService:
    value: str
    type: str | None = None


@dataclass(frozen=True)
class PMode:
    id: str
    initiator: PModeParty
    responder: PModeParty
    service: PModeService
    action: str
    profile_name: str
    endpoint: str
    signing_certificates: tuple[x509.Certificate, ...] = ()
    trust_store_dir: Path | None = None
    encryption_certificate: x509.Certificate | None = None
    retry: tuple[float, ...] = DEFAULT_RETRY
    time_to_live_s: int = DEFAULT_TIME_TO_LIVE_S
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    duplicate_detection_window_s: int = DEFAULT_DUPLICATE_WINDOW_S
    agreement_ref: str | None = None
    backend: str | None = None  # the node's API client that inbound messages of this PMode are delivered to
    trust_store: TrustStore | None = field(default=None, compare=False, repr=False)

    @property
    def profile(self) -> As4Profile:
        return PROFILES[self.profile_name]

    def to_document(self) -> dict[str, Any]:
        """The self-contained stored form (certificates as PEM, trust store path absolute)."""
        def party(p: PModeParty) -> dict[str, str]:
            out = {"party_id": p.party_id, "role": p.role}
            if p.party_id_type is not None:
                out["party_id_type"] = p.party_id_type
            return out

        doc: dict[str, Any] = {
            "id": self.id, "profile": self.profile_name, "action": self.action, "endpoint": self.endpoint,
            "initiator": party(self.initiator), "responder": party(self.responder),
            "service": {"value": self.service.value, **({"type": self.service.type} if self.service.type else {})},
            "retry": list(self.retry), "time_to_live_s": self.time_to_live_s,
            "max_payload_bytes": self.max_payload_bytes,
            "duplicate_detection_window_s": self.duplicate_detection_window_s,
        }
        if self.agreement_ref is not None:
            doc["agreement_ref"] = self.agreement_ref
        if self.backend is not None:
            doc["backend"] = self.backend
        if self.signing_certificates:
            doc["signing_certificates"] = [_pem(c) for c in self.signing_certificates]
        if self.trust_store_dir is not None:
            doc["trust_store"] = str(self.trust_store_dir)
        if self.encryption_certificate is not None:
            doc["encryption_certificate"] = _pem(self.encryption_certificate)
        return doc

    def canonical_json(self) -> str:
        return json.dumps(self.to_document(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def summary(self) -> dict[str, Any]:
        """What an operator lists: no certificate bodies."""
        return {
            "id": self.id, "profile": self.profile_name, "endpoint": self.endpoint,
            "initiator": self.initiator.party_id, "responder": self.responder.party_id,
            "service": self.service.value, "action": self.action,
            "signing_certificates": [c.subject.rfc4514_string() for c in self.signing_certificates],
            "trust_store": str(self.trust_store_dir) if self.trust_store_dir else None,
            "backend": self.backend,
        }


def _pem(cert: x509.Certificate) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.PEM).decode("ascii")


# --- loading and validation -----------------------------------------------------------------------------

_PARTY_KEYS = {"party_id": True, "party_id_type": False, "role": True}
_SERVICE_KEYS = {"value": True, "type": False}
_PMODE_KEYS = {
    "id": True, "profile": True, "action": True, "endpoint": True, "initiator": True, "responder": True,
    "service": True, "agreement_ref": False, "signing_certificates": False, "trust_store": False,
    "encryption_certificate": False, "retry": False, "time_to_live_s": False, "max_payload_bytes": False,
    "duplicate_detection_window_s": False, "backend": False,
}

CertReader = Callable[[str, str], x509.Certificate]  # (key, value) -> certificate, raising PModeError


class _Reader:
    """Checks one table against its expected keys; every problem becomes a PModeError naming the key."""

    def __init__(self, file: str, where: str, table: Any, keys: Mapping[str, bool]) -> None:
        self.file, self.where, self.table = file, where, table
        if not isinstance(table, dict):
            self.fail("", f"expected a table (got {_show(table)})")
        for key in table:
            if key not in keys:
                self.fail(key, f"unknown key (expected one of: {', '.join(sorted(keys))})")
        for key, required in keys.items():
            if required and key not in table:
                self.fail(key, "missing required key")

    def fail(self, key: str, problem: str) -> None:
        raise PModeError(self.file, f"{self.where}.{key}" if key else self.where, problem)

    def text(self, key: str, *, optional: bool = False) -> str | None:
        if key not in self.table and optional:
            return None
        value = self.table[key]
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"expected a non-empty string (got {_show(value)})")
        return value.strip()

    def integer(self, key: str, default: int, *, minimum: int = 1) -> int:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.fail(key, f"expected an integer >= {minimum} (got {_show(value)})")
        return value

    def sub(self, key: str, keys: Mapping[str, bool]) -> _Reader:
        return _Reader(self.file, f"{self.where}.{key}", self.table[key], keys)


def _show(value: Any) -> str:
    return repr(value) if not isinstance(value, dict | list) else type(value).__name__


def _party(reader: _Reader, key: str) -> PModeParty:
    sub = reader.sub(key, _PARTY_KEYS)
    return PModeParty(sub.text("party_id"), sub.text("role"), sub.text("party_id_type", optional=True))  # type: ignore[arg-type]


def _endpoint(reader: _Reader) -> str:
    url = reader.text("endpoint")
    assert url is not None
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        reader.fail("endpoint", f"not a valid URL ({exc}): {url!r}")
    if parts.scheme not in ("https", "http") or not host or any(c.isspace() for c in url):
        reader.fail("endpoint", f"expected an http(s) URL with a host (got {url!r})")
    return url


def _parse(raw: Any, file: str, where: str, read_cert: CertReader, trust_dir: Callable[[str], Path]) -> PMode:
    r = _Reader(file, where, raw, _PMODE_KEYS)
    profile_name = r.text("profile")
    if profile_name not in PROFILES:
        r.fail("profile", f"unknown AS4 profile {profile_name!r} (known: {', '.join(sorted(PROFILES))})")
    svc = r.sub("service", _SERVICE_KEYS)
    retry_raw = r.table.get("retry", list(DEFAULT_RETRY))
    if not isinstance(retry_raw, list) or any(
            isinstance(v, bool) or not isinstance(v, int | float) or v <= 0 for v in retry_raw):
        r.fail("retry", f"expected a list of positive numbers (got {_show(retry_raw)})")
    certs_raw = r.table.get("signing_certificates", [])
    if not isinstance(certs_raw, list) or not all(isinstance(v, str) and v for v in certs_raw):
        r.fail("signing_certificates", f"expected a list of certificate files (got {_show(certs_raw)})")
    signing = tuple(read_cert(f"{where}.signing_certificates[{i}]", v) for i, v in enumerate(certs_raw))
    trust_dir_path = trust_store = None
    if (trust_text := r.text("trust_store", optional=True)) is not None:
        trust_dir_path = trust_dir(trust_text)
        if not trust_dir_path.is_dir():
            r.fail("trust_store", f"trust store directory not found: {trust_dir_path}")
        try:
            trust_store = TrustStore.from_directory(trust_dir_path)
        except Exception as exc:  # TrustStoreError and certificate parse errors alike
            r.fail("trust_store", f"unusable trust store: {exc}")
    if not signing and trust_store is None:
        r.fail("signing_certificates",
               "a PMode needs signing_certificates or a trust_store (whose signatures to trust)")
    enc_text = r.text("encryption_certificate", optional=True)
    return PMode(
        id=r.text("id"), initiator=_party(r, "initiator"), responder=_party(r, "responder"),  # type: ignore[arg-type]
        service=PModeService(svc.text("value"), svc.text("type", optional=True)),  # type: ignore[arg-type]
        action=r.text("action"), profile_name=profile_name, endpoint=_endpoint(r),  # type: ignore[arg-type]
        signing_certificates=signing, trust_store_dir=trust_dir_path,
        encryption_certificate=read_cert(f"{where}.encryption_certificate", enc_text) if enc_text else None,
        retry=tuple(float(v) for v in retry_raw),
        time_to_live_s=r.integer("time_to_live_s", DEFAULT_TIME_TO_LIVE_S),
        max_payload_bytes=r.integer("max_payload_bytes", DEFAULT_MAX_PAYLOAD_BYTES),
        duplicate_detection_window_s=r.integer("duplicate_detection_window_s", DEFAULT_DUPLICATE_WINDOW_S, minimum=0),
        agreement_ref=r.text("agreement_ref", optional=True), backend=r.text("backend", optional=True),
        trust_store=trust_store,
    )


def _first_certificate(data: bytes, file: str, key: str, what: str) -> x509.Certificate:
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise PModeError(file, key, f"{what}: not a PEM certificate ({exc})") from None
    return certs[0]  # the leaf; a chain file's CA certificates are never pinned as signers


def _pmodes(doc: Any, file: str, read_cert: CertReader, trust_dir: Callable[[str], Path]) -> list[PMode]:
    for key in doc:
        if key != "pmode":
            raise PModeError(file, key, "unknown key (expected [[pmode]] tables)")
    tables = doc.get("pmode")
    if not isinstance(tables, list) or not tables:
        raise PModeError(file, "pmode", "expected at least one [[pmode]] table")
    pmodes: list[PMode] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(tables):
        pmode = _parse(raw, file, f"pmode[{index}]", read_cert, trust_dir)
        if pmode.id in seen:
            raise PModeError(file, f"pmode[{index}].id", f"duplicate id {pmode.id!r} (also pmode[{seen[pmode.id]}])")
        seen[pmode.id] = index
        pmodes.append(pmode)
    return pmodes


def load_pmode_file(path: str | Path) -> list[PMode]:
    """Every PMode of a TOML file, or a PModeError for its first problem."""
    path = Path(path)
    file = str(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PModeError(file, "", f"cannot read: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PModeError(file, "", f"invalid TOML: {exc}") from None
    base = path.parent

    def read_cert(key: str, value: str) -> x509.Certificate:
        cert_path = base / value
        try:
            data = cert_path.read_bytes()
        except OSError as exc:
            raise PModeError(file, key, f"cannot read certificate file {value!r}: {exc.strerror or exc}") from None
        return _first_certificate(data, file, key, value)

    return _pmodes(doc, file, read_cert, lambda value: (base / value).resolve())


def load_pmode_document(document: Mapping[str, Any], source: str) -> PMode:
    """A PMode from its stored form (:meth:`PMode.to_document`); ``source`` names it in errors."""
    def read_cert(key: str, value: str) -> x509.Certificate:
        return _first_certificate(value.encode("ascii", "replace"), source, key, "stored certificate")

    return _pmodes({"pmode": [dict(document)]}, source, read_cert, Path)[0]


# --- using PModes ---------------------------------------------------------------------------------------

def _party_matches(pmode_party: PModeParty, party: Any) -> bool:
    return party.role == pmode_party.role and any(
        pid.value == pmode_party.party_id and pid.type == pmode_party.party_id_type for pid in party.party_ids)


# ebMS3 core §5.2.2.9: a message to this service and action only tests the exchange; it is answered like any
# other (receipt or error) but never delivered. It travels under the parties' PMode whatever that PMode's
# own service and action are (gateway-node as4 ping).
TEST_SERVICE = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/service"
TEST_ACTION = "http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/test"


def is_test_message(message: UserMessage) -> bool:
    collab = message.collaboration_info
    return collab.service.value == TEST_SERVICE and collab.action == TEST_ACTION


def matches(pmode: PMode, message: UserMessage) -> bool:
    info, collab = message.party_info, message.collaboration_info
    if is_test_message(message):
        return _party_matches(pmode.initiator, info.from_party) and _party_matches(pmode.responder, info.to_party)
    if pmode.agreement_ref is not None and (collab.agreement_ref is None or
                                            collab.agreement_ref.value != pmode.agreement_ref):
        return False
    return (_party_matches(pmode.initiator, info.from_party) and _party_matches(pmode.responder, info.to_party)
            and collab.service.value == pmode.service.value and collab.service.type == pmode.service.type
            and collab.action == pmode.action)


def select_pmode(pmodes: Sequence[PMode], message: UserMessage) -> PMode:
    """The PMode for a message (From = initiator, To = responder, service, action, agreement when set);
    EBMS:0010 ProcessingModeMismatch when none fits."""
    for pmode in pmodes:
        if matches(pmode, message):
            return pmode
    info, collab = message.party_info, message.collaboration_info
    raise EbmsError(
        PROCESSING_MODE_MISMATCH,
        f"no PMode for From {_ids(info.from_party)} ({info.from_party.role}) to {_ids(info.to_party)} "
        f"({info.to_party.role}), service {collab.service.value!r}, action {collab.action!r}",
        ref_to_message_id=message.message_id,
    )


def _ids(party: Any) -> str:
    return ",".join(repr(p.value) for p in party.party_ids)


def signer_resolver(pmode: PMode) -> KeyResolver:
    """Whose signature to accept: a pinned certificate (also path-validated when a trust store is set too), or
    any certificate the trust store accepts for AS4 signing."""
    store = pmode.trust_store

    def validate(leaf: x509.Certificate, others: Sequence[x509.Certificate]) -> None:
        assert store is not None
        store.validate(leaf, others, purpose=KeyPurpose.AS4_SIGNING)

    if not pmode.signing_certificates:
        return trusted_certificate(validate)
    pinned = match_candidates(pmode.signing_certificates)
    if store is None:
        return pinned

    def resolve(info: KeyInfoData) -> ResolvedKey:
        found = pinned(info)
        assert found.certificate is not None
        try:
            validate(found.certificate, info.certificates[1:])
        except Exception as exc:
            raise KeyResolutionError(getattr(exc, "code", "XMLDSIG_KEY_UNTRUSTED"),
                                     f"pinned signing certificate not trusted: {exc}") from exc
        return found

    return resolve


def agreement(pmode: PMode) -> Agreement:
    return Agreement(pmode.profile, signer_resolver(pmode), max_decompressed_bytes=pmode.max_payload_bytes)


def agreement_for(pmodes: Sequence[PMode] | Callable[[], Sequence[PMode]]) -> AgreementFinder:
    """An ``AgreementFinder`` for :func:`as4.pipeline.receive`. Pass a callable (e.g. a store's cached
    ``active``) to see reloaded PModes without a restart."""
    current = pmodes if callable(pmodes) else (lambda: pmodes)

    def find(message: UserMessage) -> Agreement:
        return agreement(select_pmode(current(), message))

    return find
