"""``gateway-node xml verify|sign``: operator tools over the pki/ XML-signature layer."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import click
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree

from gateway.cli.common import EXIT_FAILED, emit, fail, json_option
from pki.keys.memory import InMemorySigner
from pki.keys.port import KeyPurpose
from pki.xml import algorithms, ns
from pki.xml.keyinfo import KeyResolutionError, KeyResolver, trusted_certificate, use_certificate, x509_data
from pki.xml.parser import XmlRefused, parse_xml
from pki.xml.references import SignatureError
from pki.xml.signing import ReferenceSpec, SignOptions, sign
from pki.xml.verification import VerifiedSignature, verify

SIGNING_PURPOSES = (KeyPurpose.SAML_SIGNING, KeyPurpose.SMP_SIGNING, KeyPurpose.AS4_SIGNING)
_ERRORS = (SignatureError, KeyResolutionError, algorithms.AlgorithmRefused, XmlRefused, ValueError)


@click.group()
def xml() -> None:
    """Sign and verify XML signatures (XML-DSig)."""


def _policy(name: str) -> algorithms.AlgorithmPolicy:
    return algorithms.POLICIES[name]


_policy_option = click.option(
    "--policy", type=click.Choice(sorted(algorithms.POLICIES)), default="modern", show_default=True,
    help="Algorithm allow-list to enforce.",
)


def _signer_summary(verified: VerifiedSignature) -> dict[str, Any]:
    cert = verified.certificate
    if cert is None:
        return {"key": type(verified.public_key).__name__}
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": str(cert.serial_number),
        "sha256": hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest(),
        "not_after": cert.not_valid_after_utc.isoformat(),
    }


def _describe(verified: VerifiedSignature) -> dict[str, Any]:
    return {
        "signature_algorithm": verified.signature_algorithm,
        "signed_by": _signer_summary(verified),
        "references": [
            {"uri": ref.uri, "element": ref.element.getroottree().getpath(ref.element) if ref.element is not None
             else None, "digest_algorithm": ref.digest_algorithm}
            for ref in verified.references
        ],
    }


def _trust_resolver(trust_dir: Path, purpose: str) -> KeyResolver:
    from pki.trust import TrustStore  # path validation with validity, key usage and CRLs

    store = TrustStore.from_directory(trust_dir)
    return trusted_certificate(lambda leaf, others: store.validate(leaf, others, purpose=purpose))


def _register_encryption_commands() -> None:
    from gateway.cli.xml_encrypt_cmd import decrypt_cmd, encrypt_cmd

    xml.add_command(encrypt_cmd)
    xml.add_command(decrypt_cmd)


@xml.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--cert", "cert_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Verify with this certificate (PEM); the signature must not name another key.")
@click.option("--trust", "trust_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Verify with the certificate the document carries, validated against these anchors.")
@click.option("--purpose", type=click.Choice([p.value for p in SIGNING_PURPOSES]), default="saml-signing",
              show_default=True, help="With --trust: what the signing certificate must be valid for.")
@_policy_option
@json_option
@click.pass_context
def verify_cmd(ctx: click.Context, file: Path, cert_path: Path | None, trust_dir: Path | None, purpose: str,
               policy: str, as_json: bool) -> None:
    """Exit 0 only when every signature in FILE is valid and made by a trusted or given key."""
    if (cert_path is None) == (trust_dir is None):
        fail("give exactly one of --cert or --trust: trust never comes from the document alone", code=2)
    results: list[dict[str, Any]] = []
    ok = True
    try:
        root = parse_xml(file.read_bytes()).getroot()
        resolver = (use_certificate(x509.load_pem_x509_certificate(cert_path.read_bytes())) if cert_path
                    else _trust_resolver(trust_dir, purpose))  # type: ignore[arg-type]
    except _ERRORS as exc:
        fail(f"{file}: {exc}")
        return
    signatures = list(root.iter(f"{{{ns.DS}}}Signature"))
    if not signatures:
        ok = False
        results.append({"valid": False, "code": "XMLDSIG_NO_SIGNATURE", "error": "the document has no ds:Signature"})
    for signature in signatures:
        try:
            results.append({"valid": True, **_describe(verify(signature, resolver, _policy(policy)))})
        except _ERRORS as exc:
            ok = False
            results.append({"valid": False, "code": getattr(exc, "code", "XMLDSIG_INVALID"), "error": str(exc)})

    def human() -> None:
        for index, result in enumerate(results, 1):
            if not result["valid"]:
                click.echo(f"signature {index}: INVALID ({result['code']}): {result['error']}", err=True)
                continue
            by = result["signed_by"]
            click.echo(f"signature {index}: valid, {result['signature_algorithm']}")
            issuer = f" (issuer {by['issuer']})" if "issuer" in by else ""
            click.echo(f"  signed by: {by.get('subject', by.get('key'))}{issuer}")
            for ref in result["references"]:
                click.echo(f"  covers: {ref['uri'] or '(whole document)'} -> {ref['element']}")

    emit(ctx, {"file": str(file), "valid": ok, "signatures": results}, human)
    if not ok:
        ctx.exit(EXIT_FAILED)


def _default_algorithm(signer: InMemorySigner) -> str:
    if signer.family == "ed25519":
        return algorithms.EDDSA_ED25519
    if signer.family == "ec":
        size = signer.public_key.curve.key_size  # type: ignore[union-attr]
        return {256: algorithms.ECDSA_SHA256, 384: algorithms.ECDSA_SHA384}.get(size, algorithms.ECDSA_SHA512)
    return algorithms.RSA_SHA256


@xml.command("sign")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "key_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--cert", "cert_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Certificate to put in KeyInfo (X509Data).")
@click.option("--algorithm", help="SignatureMethod URI (default: from the key type).")
@click.option("--element-id", help="Sign the element with this ID (default: the whole document).")
@_policy_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Output file (default: stdout).")
def sign_cmd(file: Path, key_path: Path, cert_path: Path | None, algorithm: str | None, element_id: str | None,
             policy: str, out: Path | None) -> None:
    """Add an enveloped signature (exclusive c14n) to FILE."""
    try:
        root = parse_xml(file.read_bytes()).getroot()
        signer = InMemorySigner.from_pem_files(key_path, cert_path)
        target = root
        if element_id:
            from pki.xml.references import find_by_id

            target = find_by_id(root, element_id)
        spec = ReferenceSpec.enveloped() if target is root else ReferenceSpec(
            element=target, transforms=ReferenceSpec.enveloped().transforms)
        options = SignOptions(policy=_policy(policy), signature_algorithm=algorithm or _default_algorithm(signer),
                              key_info=x509_data([signer.certificate]) if signer.certificate else None)
        sign(target, [spec], signer, options)
    except _ERRORS as exc:
        fail(f"{file}: {exc}")
        return
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    if out:
        out.write_bytes(data)
    else:
        click.echo(data.decode())



_register_encryption_commands()
