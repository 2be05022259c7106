"""Signature primitives in XML-DSig wire form, on pyca/cryptography.

XML-DSig encodes ECDSA signatures as the raw concatenation r || s (RFC 4050 / RFC 6931), not DER; RSA-PSS uses
MGF1 with the same hash and a salt as long as the hash (RFC 6931 §2.3.10). These helpers are the only place
that knows, so the file key backend and verification agree byte for byte.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa, utils, x25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

from pki.xml.algorithms import SignatureAlgorithm

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256, "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
MIN_RSA_BITS = 2048


class KeyMismatch(ValueError):
    """The key cannot make or check this kind of signature (RSA key for ECDSA, a 1024-bit RSA key, ...)."""

    code = "XMLDSIG_KEY_MISMATCH"


def _hash(algorithm: SignatureAlgorithm) -> hashes.HashAlgorithm:
    assert algorithm.hash_name is not None
    return _HASHES[algorithm.hash_name]()


def _pss(algorithm: SignatureAlgorithm) -> padding.PSS:
    digest = _hash(algorithm)
    return padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)


def key_family(key: PrivateKeyTypes | PublicKeyTypes) -> str:
    if isinstance(key, (rsa.RSAPrivateKey, rsa.RSAPublicKey)):
        return "rsa"
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        return "ec"
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return "ed25519"
    if isinstance(key, (x25519.X25519PrivateKey, x25519.X25519PublicKey)):
        return "x25519"
    return type(key).__name__


def _check_family(key: PrivateKeyTypes | PublicKeyTypes, algorithm: SignatureAlgorithm) -> None:
    expected = {"rsa": "rsa", "rsa-pss": "rsa", "ecdsa": "ec", "ed25519": "ed25519"}[algorithm.family]
    family = key_family(key)
    if family != expected:
        raise KeyMismatch(f"a {family} key cannot make or check {algorithm.uri}")
    if family == "rsa" and key.key_size < MIN_RSA_BITS:  # type: ignore[union-attr]
        raise KeyMismatch(f"RSA keys below {MIN_RSA_BITS} bits are refused (got {key.key_size})")  # type: ignore[union-attr]


def sign(private_key: PrivateKeyTypes, data: bytes, algorithm: SignatureAlgorithm) -> bytes:
    _check_family(private_key, algorithm)
    if algorithm.family == "ed25519":
        return private_key.sign(data)  # type: ignore[union-attr,call-arg]
    if algorithm.family == "rsa":
        return private_key.sign(data, padding.PKCS1v15(), _hash(algorithm))  # type: ignore[union-attr,call-arg]
    if algorithm.family == "rsa-pss":
        return private_key.sign(data, _pss(algorithm), _hash(algorithm))  # type: ignore[union-attr,call-arg]
    der = private_key.sign(data, ec.ECDSA(_hash(algorithm)))  # type: ignore[union-attr,call-arg]
    r, s = utils.decode_dss_signature(der)
    size = (private_key.curve.key_size + 7) // 8  # type: ignore[union-attr]
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def verify(public_key: PublicKeyTypes, signature: bytes, data: bytes, algorithm: SignatureAlgorithm) -> bool:
    """True only for a valid signature; wrong key types raise KeyMismatch (a configuration problem)."""
    _check_family(public_key, algorithm)
    try:
        if algorithm.family == "ed25519":
            public_key.verify(signature, data)  # type: ignore[union-attr,call-arg]
        elif algorithm.family == "rsa":
            public_key.verify(signature, data, padding.PKCS1v15(), _hash(algorithm))  # type: ignore[union-attr,call-arg]
        elif algorithm.family == "rsa-pss":
            public_key.verify(signature, data, _pss(algorithm), _hash(algorithm))  # type: ignore[union-attr,call-arg]
        else:
            size = (public_key.curve.key_size + 7) // 8  # type: ignore[union-attr]
            if len(signature) != 2 * size:
                return False
            der = utils.encode_dss_signature(
                int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
            )
            public_key.verify(der, data, ec.ECDSA(_hash(algorithm)))  # type: ignore[union-attr,call-arg]
    except InvalidSignature:
        return False
    return True


def oaep_decrypt(private_key: PrivateKeyTypes, ciphertext: bytes, hash_name: str, mgf_hash_name: str,
                 key_id: str = "key") -> bytes:
    """RSA-OAEP key transport (no label); cryptography's ValueError on a wrong key or damaged ciphertext."""
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise KeyMismatch(f"key {key_id} is {key_family(private_key)}, not RSA: it cannot unwrap RSA-OAEP")
    try:
        digest, mgf_digest = _HASHES[hash_name](), _HASHES[mgf_hash_name]()
    except KeyError as exc:
        raise KeyMismatch(f"unknown OAEP hash {exc.args[0]!r}") from None
    return private_key.decrypt(ciphertext, padding.OAEP(mgf=padding.MGF1(mgf_digest), algorithm=digest, label=None))


def key_exchange(private_key: PrivateKeyTypes, peer_public_key: PublicKeyTypes, key_id: str = "key") -> bytes:
    """X25519 or ECDH on the same curve; a key of another type or curve is a KeyMismatch."""
    if isinstance(private_key, x25519.X25519PrivateKey) and isinstance(peer_public_key, x25519.X25519PublicKey):
        return private_key.exchange(peer_public_key)
    if isinstance(private_key, ec.EllipticCurvePrivateKey) and isinstance(peer_public_key, ec.EllipticCurvePublicKey):
        if peer_public_key.curve.name != private_key.curve.name:
            raise KeyMismatch(f"key {key_id} is on {private_key.curve.name}; the peer key is on "
                              f"{peer_public_key.curve.name}")
        return private_key.exchange(ec.ECDH(), peer_public_key)
    raise KeyMismatch(f"key {key_id} ({key_family(private_key)}) cannot agree a key with a "
                      f"{key_family(peer_public_key)} key")
