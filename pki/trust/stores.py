"""Named trust stores: one per purpose and partner community, e.g. ``as4:oots``, ``smp:peppol``,
``eidas-metadata:DE``, ``tls``.

A partner network's CA must not be able to vouch for an eIDAS metadata signer, nor a TLS CA for an AS4 message:
each store only answers for its own purposes.

Directory layout read by :meth:`TrustStores.from_directory` (each store as in :mod:`pki.trust.store`)::

    tls/anchors/...                    -> "tls"
    as4/<network>/anchors/...          -> "as4:<network>"
    smp/<network>/anchors/...          -> "smp:<network>"
    eidas-metadata/<country>/anchors/  -> "eidas-metadata:<country>"
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from pki.keys.port import KeyPurpose
from pki.trust.model import ValidatedPath
from pki.trust.store import TrustStore, TrustStoreError
from pki.trust.usage import EIDAS_METADATA_SIGNING

# What each kind of store may vouch for, unless its policy.json says otherwise.
KIND_PURPOSES: dict[str, frozenset[str]] = {
    "as4": frozenset({KeyPurpose.AS4_SIGNING, KeyPurpose.AS4_ENCRYPTION}),
    "smp": frozenset({KeyPurpose.SMP_SIGNING}),
    "eidas-metadata": frozenset({EIDAS_METADATA_SIGNING}),
    "tls": frozenset({KeyPurpose.TLS_SERVER, KeyPurpose.TLS_CLIENT}),
}


class TrustStoreNotFound(LookupError):
    code = "PKI_TRUST_STORE_NOT_FOUND"


def store_name(kind: str, community: str | None = None) -> str:
    return f"{kind}:{community}" if community else kind


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TrustStores(Mapping[str, TrustStore]):
    def __init__(self, stores: Mapping[str, TrustStore] | Sequence[TrustStore] = ()) -> None:
        items = stores.values() if isinstance(stores, Mapping) else stores
        self._stores: dict[str, TrustStore] = {store.name: store for store in items}

    def __getitem__(self, name: str) -> TrustStore:
        try:
            return self._stores[name]
        except KeyError:
            known = ", ".join(sorted(self._stores)) or "none"
            raise TrustStoreNotFound(f"no trust store {name!r} (configured: {known})") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._stores)

    def __len__(self) -> int:
        return len(self._stores)

    def __repr__(self) -> str:
        return f"TrustStores({sorted(self._stores)})"

    def add(self, store: TrustStore) -> None:
        self._stores[store.name] = store

    def as4(self, network: str) -> TrustStore:
        return self[store_name("as4", network)]

    def smp(self, network: str) -> TrustStore:
        return self[store_name("smp", network)]

    def eidas_metadata(self, country: str) -> TrustStore:
        return self[store_name("eidas-metadata", country)]

    def tls(self) -> TrustStore:
        return self["tls"]

    def validate(self, name: str, leaf: x509.Certificate, intermediates: Sequence[x509.Certificate] = (), *,
                 purpose: str, at: datetime | None = None) -> ValidatedPath:
        return self[name].validate(leaf, intermediates, purpose=purpose, at=at)

    @classmethod
    def from_directory(cls, root: str | Path, *, clock: Callable[[], datetime] = _utcnow) -> TrustStores:
        """Every store under ``root`` (a directory with ``anchors/``), named by its path (see module doc)."""
        root = Path(root)
        if not root.is_dir():
            raise TrustStoreError(f"{root}: trust directory not found")
        stores = cls()
        for anchors in sorted(root.rglob("anchors")):
            directory = anchors.parent
            if not anchors.is_dir() or directory == root:
                continue
            parts = directory.relative_to(root).parts
            kind = parts[0]
            name = store_name(kind, "/".join(parts[1:]) or None)
            default = None if (directory / "policy.json").exists() else KIND_PURPOSES.get(kind)
            stores.add(TrustStore.from_directory(directory, name=name, purposes=default, clock=clock))
        return stores
