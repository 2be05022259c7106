"""XML Encryption figures for bench/xmlsec_bench.py: per-suite encrypt/decrypt rates against the raw
primitives, and 1 GB stream throughput and peak memory against raw streaming AES-GCM."""

from __future__ import annotations

import copy
import os
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from lxml import etree

from pki.devpki.operations import init_pki
from pki.keys.file_store import FileKeyStore
from pki.keys.port import KeyPurpose
from pki.xml import algorithms as A
from pki.xml.decryption import decrypt_document
from pki.xml.encryption import encrypt_element, encrypted_key, find_in_store, new_cek
from pki.xml.gcm_stream import decrypt_stream, encrypt_stream
from pki.xml.keyinfo import token_reference
from pki.xml.parser import parse_xml

MiB = 1024 * 1024
SUITES = [  # name, policy, recipient key type name fragment
    ("as4_1_15_rsa_oaep", A.EDELIVERY_AS4_1_15, KeyPurpose.AS4_ENCRYPTION, "RSA"),
    ("as4_2_0_x25519_hkdf", A.EDELIVERY_AS4_2_0, KeyPurpose.AS4_ENCRYPTION, "X25519"),
    ("eidas_ecdh_es_concatkdf", A.EIDAS_1_3, KeyPurpose.SAML_ENCRYPTION, "EC"),
]


def _document(size: int) -> bytes:
    text = os.urandom(size // 2).hex()
    return f'<r xmlns:p="urn:payload"><p:Evidence ID="e1">{text}</p:Evidence></r>'.encode()


def _suite_rates(rate: Callable[[Callable[[], object]], float], store: FileKeyStore, policy: A.AlgorithmPolicy,
                 purpose: KeyPurpose, key_type: str, size: int) -> dict[str, float]:
    recipient = next(c for c in store.published_certificates(purpose)
                     if type(c.public_key()).__name__.startswith(key_type))
    template = parse_xml(_document(size)).getroot()

    def encrypt() -> bytes:
        root = copy.deepcopy(template)
        algorithm, cek = new_cek(policy)
        key = encrypted_key(cek, recipient, token_reference(issuer_serial_of=recipient), policy)
        encrypt_element(root[0], cek, algorithm, key_info=key)
        return etree.tostring(root)

    message = encrypt()
    find = find_in_store(store, purpose)
    figures = {"encrypt_per_s": rate(encrypt),
               "decrypt_per_s": rate(lambda: decrypt_document(parse_xml(message).getroot(), find, policy))}
    payload = etree.tostring(template[0])
    cek = os.urandom(16)
    if isinstance(recipient.public_key(), rsa.RSAPublicKey):
        oaep = padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)
        private = store.decrypter_for(purpose, certificate=recipient)
        wrapped = recipient.public_key().encrypt(cek, oaep)
        sealed = os.urandom(12) + AESGCM(cek).encrypt(b"\0" * 12, payload, None)
        figures["primitive_encrypt_per_s"] = rate(
            lambda: (recipient.public_key().encrypt(cek, oaep), AESGCM(cek).encrypt(os.urandom(12), payload, None)))
        figures["primitive_decrypt_per_s"] = rate(
            lambda: (private.decrypt_oaep(wrapped, "sha256", "sha256"),
                     AESGCM(cek).decrypt(b"\0" * 12, sealed[12:], None)))
    else:  # the key agreement itself: generate + exchange + KDF is what our layer adds around AES
        from pki.xml.key_agreement import AgreementSpec, agree_for_recipient

        enc = policy.encryption
        agreement = A.X25519 if key_type == "X25519" else A.ECDH_ES
        spec = AgreementSpec(agreement, enc.default_key_derivation, enc.default_key_wrap)  # type: ignore[arg-type]
        reference = token_reference(issuer_serial_of=recipient)
        figures["primitive_encrypt_per_s"] = rate(
            lambda: (agree_for_recipient(recipient, spec, policy, reference),
                     AESGCM(cek).encrypt(os.urandom(12), payload, None)))
        figures["primitive_decrypt_per_s"] = figures["primitive_encrypt_per_s"]
    figures["encrypt_overhead_vs_primitive"] = figures["primitive_encrypt_per_s"] / figures["encrypt_per_s"]
    figures["decrypt_overhead_vs_primitive"] = figures["primitive_decrypt_per_s"] / figures["decrypt_per_s"]
    return figures


def _stream(total: int, block: bytes) -> Iterator[bytes]:
    for offset in range(0, total, len(block)):
        yield block[: min(len(block), total - offset)]


def stream_figures(total: int = 1024 * MiB) -> dict[str, float]:
    key, block = os.urandom(16), os.urandom(MiB)
    started = time.perf_counter()
    encryptor = Cipher(algorithms.AES(key), modes.GCM(os.urandom(12))).encryptor()
    for chunk in _stream(total, block):
        encryptor.update(chunk)
    encryptor.finalize()
    raw = total / MiB / (time.perf_counter() - started)
    with tempfile.TemporaryDirectory(prefix="gw-bench-") as spool:
        # The spool (plaintext held back until the tag verifies) goes to disk: its write speed is the floor.
        started = time.perf_counter()
        with tempfile.TemporaryFile(dir=spool) as handle:
            for chunk in _stream(total, block):
                handle.write(chunk)
        disk = total / MiB / (time.perf_counter() - started)
        tracemalloc.start()
        started = time.perf_counter()
        with decrypt_stream(key, encrypt_stream(key, _stream(total, block)), spool_dir=Path(spool)) as plain:
            elapsed = time.perf_counter() - started
            assert plain.size == total
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    ours = total / MiB / elapsed
    return {"stream_1gb_encrypt_decrypt_mb_per_s": ours, "stream_raw_aes_gcm_encrypt_mb_per_s": raw,
            "stream_spool_disk_write_mb_per_s": disk, "stream_1gb_peak_python_mb": peak / MiB,
            "stream_overhead_vs_raw_encrypt": raw / ours, "stream_overhead_vs_disk_write": disk / ours}


def encryption_figures(rate: Callable[[Callable[[], object]], float]) -> dict[str, float]:
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="gw-bench-pki-") as directory:
        init_pki(Path(directory) / "pki", node_id="LV-BENCH")
        store = FileKeyStore(Path(directory) / "pki")
        for name, policy, purpose, key_type in SUITES:
            for size, label in ((1024, "1kb"), (100 * 1024, "100kb")):
                row = _suite_rates(rate, store, policy, purpose, key_type, size)
                print(f"{name:<26} {label:>5}  encrypt {row['encrypt_per_s']:>7,.0f}/s  decrypt "
                      f"{row['decrypt_per_s']:>7,.0f}/s  (primitive {row['primitive_encrypt_per_s']:>7,.0f}/s, "
                      f"{row['primitive_decrypt_per_s']:>7,.0f}/s)")
                figures.update({f"enc_{name}_{label}_{key}": value for key, value in row.items()})
    stream = stream_figures()
    print(f"1 GB stream: {stream['stream_1gb_encrypt_decrypt_mb_per_s']:,.0f} MB/s encrypt+decrypt+spool "
          f"(raw AES-GCM encrypt {stream['stream_raw_aes_gcm_encrypt_mb_per_s']:,.0f} MB/s, "
          f"spool disk write {stream['stream_spool_disk_write_mb_per_s']:,.0f} MB/s), "
          f"peak Python memory {stream['stream_1gb_peak_python_mb']:.1f} MB")
    figures.update(stream)
    return figures
