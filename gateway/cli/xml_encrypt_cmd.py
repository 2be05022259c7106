"""``gateway-node xml encrypt|decrypt``: operator tools over pki/'s XML Encryption 1.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from cryptography import x509
from lxml import etree

from gateway.cli.common import EXIT_FAILED, emit, fail, json_option
from pki.keys.memory import InMemoryDecrypter
from pki.xml import algorithms
from pki.xml.decryption import decrypt_document
from pki.xml.encryption import XENC, EncryptionError, encrypt_element, encrypted_key, new_cek
from pki.xml.keyinfo import KeyInfoData, KeyResolutionError, names_certificate, x509_data
from pki.xml.parser import XmlRefused, parse_xml
from pki.xml.references import SignatureError, find_by_id

_ERRORS = (EncryptionError, KeyResolutionError, algorithms.AlgorithmRefused, XmlRefused, SignatureError, ValueError)
_policy_option = click.option(
    "--policy", type=click.Choice(sorted(algorithms.POLICIES)), default="modern", show_default=True,
    help="Algorithm allow-list to enforce.",
)


def _write(data: bytes, out: Path | None) -> None:
    if out:
        out.write_bytes(data)
    else:
        click.echo(data.decode())


@click.command("encrypt")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--cert", "cert_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The recipient's certificate (RSA: RSA-OAEP; EC or X25519: key agreement).")
@click.option("--element-id", help="Encrypt the element with this ID (default: the content of the root element).")
@_policy_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path))
def encrypt_cmd(file: Path, cert_path: Path, element_id: str | None, policy: str, out: Path | None) -> None:
    """Encrypt an element (AES-GCM) with the content key in an inline EncryptedKey (the SAML shape)."""
    try:
        root = parse_xml(file.read_bytes()).getroot()
        recipient = x509.load_pem_x509_certificate(cert_path.read_bytes())
        chosen = algorithms.POLICIES[policy]
        algorithm, cek = new_cek(chosen)
        key = encrypted_key(cek, recipient, x509_data([recipient]), chosen)
        if element_id:
            encrypt_element(find_by_id(root, element_id), cek, algorithm, key_info=key)
        else:
            encrypt_element(root, cek, algorithm, content=True, key_info=key)
    except _ERRORS as exc:
        fail(f"{file}: {exc}")
        return
    _write(etree.tostring(root, xml_declaration=True, encoding="UTF-8"), out)


@click.command("decrypt")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "key_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--cert", "cert_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The key's certificate: EncryptedKeys naming another certificate are refused.")
@_policy_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Decrypted document (default: stdout).")
@json_option
@click.pass_context
def decrypt_cmd(ctx: click.Context, file: Path, key_path: Path, cert_path: Path | None, policy: str,
                out: Path | None, as_json: bool) -> None:
    """Exit 0 only when every EncryptedData decrypts and authenticates; writes the decrypted document."""
    try:
        decrypter = InMemoryDecrypter.from_pem_files(key_path, cert_path)
        root = parse_xml(file.read_bytes()).getroot()
    except _ERRORS as exc:
        fail(f"{file}: {exc}")
        return
    count = sum(1 for _ in root.iter(f"{{{XENC}}}EncryptedData"))

    def find(info: KeyInfoData) -> InMemoryDecrypter:
        named = info.certificates or info.issuer_serial or info.subject_key_identifier
        if decrypter.certificate is not None and named and not names_certificate(info, decrypter.certificate):
            raise EncryptionError("XMLENC_KEY_NOT_FOUND", "the EncryptedKey is for another certificate")
        return decrypter

    report: dict[str, Any] = {"file": str(file), "encrypted_data": count}
    try:
        if count == 0:
            raise EncryptionError("XMLENC_NOTHING_ENCRYPTED", "the document has no xenc:EncryptedData")
        result = decrypt_document(root, find, algorithms.POLICIES[policy])
        report.update(ok=True, decrypted=[root.getroottree().getpath(el) for el in result.elements])
    except _ERRORS as exc:
        report.update(ok=False, code=getattr(exc, "code", "XMLENC_FAILED"), error=str(exc))
    if report["ok"] and (out or not as_json):
        _write(etree.tostring(root, xml_declaration=True, encoding="UTF-8"), out)
    if as_json or not report["ok"]:
        emit(ctx, report, lambda: click.echo(f"decryption FAILED ({report['code']}): {report['error']}", err=True))
    if not report["ok"]:
        ctx.exit(EXIT_FAILED)
