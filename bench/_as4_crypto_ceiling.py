"""The crypto-only ceiling of one AS4 round trip on one core (../shared/notes/measured-baselines.md §2): the
primitive operations an AS4 exchange cannot avoid, done with ``cryptography`` directly, nothing else (no XML,
no MIME, no I/O). Used as the baseline of bench/as4_throughput.py.

Per round trip — sender: SHA-256 of the payload, sign SignedInfo, a fresh CEK, AES-128-GCM of the payload,
key transport (RSA-OAEP-SHA256, or X25519 ephemeral-static + HKDF-SHA256 + AES-KW on 2.0); receiver: unwrap
the CEK, decrypt, SHA-256, verify the signature, sign the receipt; sender: verify the receipt.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import aes_key_unwrap, aes_key_wrap

from as4.profiles import As4Profile

SIGNED_INFO = b"<ds:SignedInfo>" + b"r" * 900 + b"</ds:SignedInfo>"  # ~1 KB like ours with 3-4 references


def _hkdf(shared: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 16, salt=None, info=b"eDelivery AS4 2.0").derive(shared)


def _round_trip_2_0(payload: bytes) -> Callable[[], None]:
    sender_sign, receiver_sign = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    receiver_kex = x25519.X25519PrivateKey.generate()
    sender_verify, receiver_verify = sender_sign.public_key(), receiver_sign.public_key()
    receiver_kex_public = receiver_kex.public_key()

    def once() -> None:
        hashes.Hash(hashes.SHA256()).update(payload)
        signature = sender_sign.sign(SIGNED_INFO)
        cek, nonce = os.urandom(16), os.urandom(12)
        ciphertext = AESGCM(cek).encrypt(nonce, payload, None)
        ephemeral = x25519.X25519PrivateKey.generate()
        wrapped = aes_key_wrap(_hkdf(ephemeral.exchange(receiver_kex_public)), cek)
        # receiver
        unwrapped = aes_key_unwrap(_hkdf(receiver_kex.exchange(ephemeral.public_key())), wrapped)
        plain = AESGCM(unwrapped).decrypt(nonce, ciphertext, None)
        hashes.Hash(hashes.SHA256()).update(plain)
        sender_verify.verify(signature, SIGNED_INFO)
        receipt = receiver_sign.sign(SIGNED_INFO)
        # sender
        receiver_verify.verify(receipt, SIGNED_INFO)

    return once


def _round_trip_1_15(payload: bytes, bits: int = 3072) -> Callable[[], None]:
    sender_key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    receiver_key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    pkcs1 = padding.PKCS1v15()

    def once() -> None:
        hashes.Hash(hashes.SHA256()).update(payload)
        signature = sender_key.sign(SIGNED_INFO, pkcs1, hashes.SHA256())
        cek, nonce = os.urandom(16), os.urandom(12)
        ciphertext = AESGCM(cek).encrypt(nonce, payload, None)
        wrapped = receiver_key.public_key().encrypt(cek, oaep)
        # receiver
        plain = AESGCM(receiver_key.decrypt(wrapped, oaep)).decrypt(nonce, ciphertext, None)
        hashes.Hash(hashes.SHA256()).update(plain)
        sender_key.public_key().verify(signature, SIGNED_INFO, pkcs1, hashes.SHA256())
        receipt = receiver_key.sign(SIGNED_INFO, pkcs1, hashes.SHA256())
        # sender
        receiver_key.public_key().verify(receipt, SIGNED_INFO, pkcs1, hashes.SHA256())

    return once


def ceiling_round_trips_per_s(profile: As4Profile, size: int, seconds: float = 2.0) -> float:
    payload = os.urandom(size)
    once = _round_trip_1_15(payload) if profile.signing_family == "rsa" else _round_trip_2_0(payload)
    once()
    count, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < seconds:
        once()
        count += 1
    return count / elapsed
