"""Shared material for the pki tests: one dev PKI made per test process and copied per test, small chains.

RSA-3072 generation dominates the cost of ``init_pki`` (five keys), so the PKI is made once and each test
works on its own copy (``shutil.copytree`` keeps the 0600 modes).
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from pki.devpki import init_pki
from pki.devpki.authority import CertificateAuthority, create_root, name
from pki.devpki.profiles import profile_for
from pki.keys.port import KeyPurpose

NODE_ID = "LV-GW-TEST"
HOSTNAMES = ("gw.test.example.lv", "localhost")


@functools.cache
def template_pki() -> Path:
    base = Path(tempfile.mkdtemp(prefix="pki-template-"))
    atexit.register(shutil.rmtree, base, True)
    target = base / "pki"
    init_pki(target, node_id=NODE_ID, hostnames=HOSTNAMES)
    return target


def copy_pki(destination: Path) -> Path:
    shutil.copytree(template_pki(), destination)
    return destination


def write_config(tmp_path: Path, data_dir: Path, node_id: str = NODE_ID) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(f'[node]\nid = "{node_id}"\ndata_dir = "{data_dir}"\n', encoding="utf-8")
    return path


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def foreign_chain(purpose: KeyPurpose = KeyPurpose.AS4_SIGNING, family: str = "ec",
                  org: str = "Other Country CA") -> tuple[CertificateAuthority, x509.Certificate, PrivateKeyTypes]:
    """A root and a leaf directly under it, unrelated to the dev PKI (EC only: fast)."""
    root = create_root(org, "EE", now())
    profile = profile_for(purpose, family)
    key = profile.generate_key()
    leaf = root.issue_leaf(profile, name(f"{org} leaf", org, "EE"), key.public_key(), now())  # type: ignore[arg-type]
    return root, leaf, key


def chain_with_short_intermediate(intermediate_days: int) -> tuple[x509.Certificate, x509.Certificate,
                                                                     x509.Certificate]:
    """root → intermediate living ``intermediate_days`` → leaf living a year (built by hand: the dev CA caps
    a child's lifetime at its issuer's, which is exactly what this chain must not have)."""
    moment = now()
    root = create_root("Short CA", "LT", moment)
    inter_key = ec.generate_private_key(ec.SECP256R1())
    inter = root.issue_ca(name("Short Intermediate", "Short CA", "LT"), inter_key, moment, days=intermediate_days)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    profile = profile_for(KeyPurpose.AS4_SIGNING, "ec")
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name("Short leaf", "Short CA", "LT"))
        .issuer_name(inter.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(moment - timedelta(minutes=5))
        .not_valid_after(moment + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(profile.key_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(inter_key.public_key()), critical=False)
        .sign(inter_key, hashes.SHA256())
    )
    return root.certificate, inter, leaf
