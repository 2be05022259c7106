"""Streaming AES-GCM for attachments: sizes from 0 bytes to 1 GB in bounded memory; nothing unauthenticated leaks."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.cli.main import cli
from pki.devpki.operations import init_pki
from pki.keys.file_store import FileKeyStore
from pki.keys.port import KeyPurpose
from pki.xml import algorithms as A
from pki.xml.decryption import decrypt_document
from pki.xml.encryption import (
    attachment_encrypted_data,
    encrypt_attachment,
    encrypted_key,
    encrypted_key_reference,
    find_in_store,
    new_cek,
)
from pki.xml.gcm_stream import GcmAuthenticationError, decrypt_stream, encrypt_stream
from pki.xml.keyinfo import token_reference
from pki.xml.parser import parse_xml

MiB = 1024 * 1024


@pytest.mark.parametrize(("size", "chunk"), [
    (size, chunk)
    for size in (0, 1, 15, 16, 17, 65535, 65536, 65537, MiB)
    for chunk in (1, 7, 4096, 10 * MiB)
    if not (chunk == 1 and size > 65537)  # byte by byte over a megabyte only costs time
])
def test_stream_round_trip_matches_one_shot_gcm(size: int, chunk: int) -> None:
    key, iv, data = os.urandom(16), os.urandom(12), os.urandom(size)
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)] or [b""]
    encrypted = b"".join(encrypt_stream(key, pieces, iv=iv))
    assert encrypted == iv + AESGCM(key).encrypt(iv, data, None)  # the XML-Enc 1.1 layout, byte for byte
    cipher_pieces = [encrypted[i:i + chunk] for i in range(0, len(encrypted), chunk)]
    with decrypt_stream(key, cipher_pieces) as plain:
        assert plain.read_all() == data and plain.size == size
        assert plain.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("damage", ["flip-first", "flip-last-cipher", "flip-tag", "truncate-tag", "too-short", "key"])
def test_damaged_streams_release_nothing(damage: str, tmp_path: Path) -> None:
    key, data = os.urandom(16), os.urandom(300_000)
    encrypted = bytearray(b"".join(encrypt_stream(key, [data])))
    if damage == "flip-first":
        encrypted[12] ^= 1
    elif damage == "flip-last-cipher":
        encrypted[-17] ^= 0x80
    elif damage == "flip-tag":
        encrypted[-1] ^= 1
    elif damage == "truncate-tag":
        del encrypted[-1]
    elif damage == "too-short":
        encrypted = encrypted[:27]
    elif damage == "key":
        key = os.urandom(16)
    with pytest.raises(GcmAuthenticationError):
        decrypt_stream(key, [bytes(encrypted)], spool_dir=tmp_path, spool_memory=1024)
    assert list(tmp_path.iterdir()) == []  # the spooled plaintext is gone


def _generated(total: int, block: bytes) -> Iterator[bytes]:
    """``total`` bytes made of a random block with a counter mixed in (not compressible, no RAM needed)."""
    produced, counter = 0, 0
    while produced < total:
        piece = counter.to_bytes(8, "big") + block[8:]
        piece = piece[: total - produced]
        produced += len(piece)
        counter += 1
        yield piece


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> FileKeyStore:
    directory = tmp_path_factory.mktemp("stream") / "pki"
    init_pki(directory, node_id="LV-STREAM")
    return FileKeyStore(directory)


class _Part:
    def __init__(self, content_id: str, chunks: Iterator[bytes]) -> None:
        self.content_id = content_id
        self.headers = {"Content-Type": "application/octet-stream"}
        self._chunks = chunks

    def chunks(self) -> Iterator[bytes]:
        return self._chunks


@pytest.mark.slow
@pytest.mark.parametrize("size", [0, 1, MiB, 1024 * MiB], ids=["0B", "1B", "1MB", "1GB"])
def test_attachment_round_trip_in_bounded_memory(store: FileKeyStore, size: int, tmp_path: Path) -> None:
    recipient = next(c for c in store.published_certificates(KeyPurpose.AS4_ENCRYPTION)
                     if "RSA" in type(c.public_key()).__name__)
    algorithm, cek = new_cek(A.EDELIVERY_AS4_1_15)
    data_el = attachment_encrypted_data("payload@x", "application/gzip", algorithm,
                                        key_info=encrypted_key_reference("EK-1"))
    key_el = encrypted_key(cek, recipient, token_reference(ski_of=recipient), A.EDELIVERY_AS4_1_15,
                           data_references=[data_el.get("Id")], element_id="EK-1")
    from lxml import etree

    security = etree.Element("{urn:x}Security")
    security.extend([key_el, data_el])
    header = parse_xml(etree.tostring(security)).getroot()

    block = os.urandom(MiB)
    source_digest = hashlib.sha256()

    def plaintext() -> Iterator[bytes]:
        for piece in _generated(size, block):
            source_digest.update(piece)
            yield piece

    tracemalloc.start()
    try:
        part = _Part("payload@x", encrypt_attachment(cek, plaintext()))  # ciphertext produced as it is consumed
        result = decrypt_document(header, find_in_store(store, KeyPurpose.AS4_ENCRYPTION), A.EDELIVERY_AS4_1_15,
                                  parts={"payload@x": part}.__getitem__, spool_dir=tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    with result.parts["payload@x"].plaintext as plain:
        assert plain.size == size
        assert plain.sha256 == source_digest.hexdigest()
        check = hashlib.sha256()
        for piece in plain.chunks():
            check.update(piece)
        assert check.hexdigest() == source_digest.hexdigest()  # what the caller reads is what was sent
    assert result.parts["payload@x"].mime_type == "application/gzip"
    assert peak < 16 * MiB, f"peak Python memory {peak / MiB:.1f} MiB"


def test_cli_encrypt_decrypt(store: FileKeyStore, tmp_path: Path) -> None:
    recipient = next(c for c in store.published_certificates(KeyPurpose.SAML_ENCRYPTION)
                     if "RSA" in type(c.public_key()).__name__)
    entry = store.find_entry(KeyPurpose.SAML_ENCRYPTION, certificate=recipient)
    cert_file, key_file = store.path(entry.cert_file), store.path(entry.key_file)
    source = tmp_path / "doc.xml"
    source.write_text('<doc><secret ID="s1">Bērziņš</secret><open>x</open></doc>', encoding="utf-8")
    runner = CliRunner()
    encrypted = tmp_path / "enc.xml"
    result = runner.invoke(cli, ["xml", "encrypt", str(source), "--cert", str(cert_file), "--element-id", "s1",
                                 "--policy", "eidas-1.3", "--out", str(encrypted)], obj={})
    assert result.exit_code == 0, result.output
    assert "Bērziņš" not in encrypted.read_text(encoding="utf-8")
    decrypted = tmp_path / "dec.xml"
    result = runner.invoke(cli, ["xml", "decrypt", str(encrypted), "--key", str(key_file), "--cert", str(cert_file),
                                 "--policy", "eidas-1.3", "--out", str(decrypted), "--json"], obj={})
    assert result.exit_code == 0, result.output
    assert "<secret ID=\"s1\">Bērziņš</secret>" in decrypted.read_text(encoding="utf-8")

    tampered = tmp_path / "tampered.xml"
    text = encrypted.read_text(encoding="utf-8")
    start = text.rindex("<xenc:CipherValue>") + len("<xenc:CipherValue>")
    tampered.write_text(text[:start] + ("A" if text[start] != "A" else "B") + text[start + 1:], encoding="utf-8")
    result = runner.invoke(cli, ["xml", "decrypt", str(tampered), "--key", str(key_file), "--json"], obj={})
    assert result.exit_code == 1 and '"XMLENC_AUTHENTICATION_FAILED"' in result.output

    result = runner.invoke(cli, ["xml", "decrypt", str(source), "--key", str(key_file)], obj={})
    assert result.exit_code == 1 and "XMLENC_NOTHING_ENCRYPTED" in result.output
