"""Key and certificate files on disk: private keys written 0600 without races, refused when readable by others.

The same approach as the node's first audit key (create in a private staging file, then link or rename into
place) so that no process ever reads a half-written key and no key is ever briefly world-readable.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

PRIVATE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


class KeyFileError(ValueError):
    """A key file is missing, unreadable, not a key, or not what the manifest says it is."""

    code = "PKI_KEY_FILE"


class KeyFileInsecure(KeyFileError):
    """A private key file other users could read or write: refused, never silently used."""

    code = "PKI_KEY_FILE_MODE"


def private_pem(key: PrivateKeyTypes) -> bytes:
    """Unencrypted PKCS#8 PEM: the file's 0600 mode (or an HSM later) is the protection, not a password."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def certificates_pem(certificates: list[x509.Certificate]) -> bytes:
    return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certificates)


def _write_staging(path: Path, data: bytes, mode: int) -> Path:
    staging = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    return staging


def write_private(path: Path, data: bytes) -> None:
    """Create a 0600 file; refuse to replace an existing one (a key is never overwritten by accident)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    staging = _write_staging(path, data, PRIVATE_MODE)
    try:
        os.link(staging, path)  # fails if the file exists, unlike rename
    except FileExistsError:
        raise KeyFileError(f"{path}: refusing to overwrite an existing private key file") from None
    finally:
        staging.unlink()


def write_public(path: Path, data: bytes) -> None:
    """Atomically write or replace a public file (certificate, chain, CRL, manifest)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = _write_staging(path, data, 0o644)
    os.replace(staging, path)


def check_private_mode(path: Path) -> None:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise KeyFileError(f"{path}: private key file not found") from None
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError(f"{path}: not a regular file")
    if info.st_mode & 0o077:
        raise KeyFileInsecure(
            f"{path}: private key file has mode {stat.S_IMODE(info.st_mode):04o}; it must be readable by its "
            f"owner only (chmod 600 {path})"
        )


def load_private_key(path: Path) -> PrivateKeyTypes:
    """Load an unencrypted PEM private key, refusing files with a mode broader than 0600."""
    check_private_mode(path)
    try:
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        # The library's message never contains key bytes, but keep ours short and file-oriented anyway.
        raise KeyFileError(f"{path}: not an unencrypted PEM private key ({type(exc).__name__})") from None


def load_certificate(path: Path) -> x509.Certificate:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeyFileError(f"{path}: certificate file not found") from None
    try:
        return x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise KeyFileError(f"{path}: not an X.509 certificate ({exc})") from None


def load_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate in a PEM bundle (or the one in a DER file)."""
    data = path.read_bytes()
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise KeyFileError(f"{path}: not X.509 certificates ({exc})") from None
