"""Independent reference implementations and helpers for the Merkle tree tests."""

import hashlib

from gateway.audit.merkle import (
    NodeSource,
    leaf_hash,
)

# --------------------------------------------------------------------------- helpers


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def ref_mth(entries: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH over raw entries, written independently of the module."""
    n = len(entries)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + entries[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return sha256(b"\x01" + ref_mth(entries[:k]) + ref_mth(entries[k:]))


def entries(n: int, tag: bytes = b"e") -> list[bytes]:
    """Distinct entries of varying length; the default set starts with the empty entry."""
    out = [tag + i.to_bytes(2, "big") * (1 + i % 3) for i in range(n)]
    if tag == b"e" and n:
        out[0] = b""
    return out


def hashes(n: int, tag: bytes = b"e") -> list[bytes]:
    return [leaf_hash(e) for e in entries(n, tag)]


def source_for(leaves: list[bytes], size: int | None = None) -> NodeSource:
    return NodeSource(len(leaves) if size is None else size, lambda s, e: leaves[s:e])


def flip(b: bytes, i: int, bit: int = 0x01) -> bytes:
    out = bytearray(b)
    out[i] ^= bit
    return bytes(out)


N = 40
LEAVES = hashes(70)
ROOTS = [ref_mth(entries(70)[:n]) for n in range(71)]
FULL = source_for(LEAVES)

# RFC 6962 / Certificate Transparency reference test data.
CT_ENTRIES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    bytes.fromhex(h)
    for h in (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
CT_INCLUSION = [  # (index, size, proof)
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
CT_CONSISTENCY = [  # (old size, new size, proof)
    (
        2,
        8,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


