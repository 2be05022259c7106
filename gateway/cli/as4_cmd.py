"""``gateway-node as4 …``: operator tools for AS4 messages (the message handler's commands come with it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from cryptography import x509

from gateway.cli.common import EXIT_FAILED, emit
from pki.keys.port import KeyPurpose


@click.group("as4")
def as4_group() -> None:
    """eDelivery AS4 messages."""


@as4_group.command("inspect")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--content-type", help="The HTTP Content-Type, when FILE is a bare MIME body.")
@click.option("--trust", "trust_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Verify signatures against this trust store (anchors/, intermediates/, crls/).")
@click.option("--cert", "cert_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Verify signatures with this partner certificate (PEM), as a PMode pins it.")
@click.option("--decrypt-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Our private key (PEM) to decrypt the payloads with.")
@click.option("--profile", "profile_name", default="edelivery-1.15", show_default=True,
              help="Profile whose algorithms apply (edelivery-1.15, edelivery-2.0, edelivery-2.0-ec, peppol).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def inspect_cmd(ctx: click.Context, file: Path, content_type: str | None, trust_dir: Path | None,
                cert_path: Path | None, decrypt_key: Path | None, profile_name: str, as_json: bool) -> None:
    """Print the header fields, the parts, which references verified, encryption details, and the ebMS error a
    receiver would raise for FILE (a MIME body, a bare SOAP envelope or an eb:Messaging fragment)."""
    from as4.inspection import inspect
    from as4.profiles import profile
    from pki.keys.memory import InMemoryDecrypter
    from pki.xml.keyinfo import match_candidates, trusted_certificate

    chosen = profile(profile_name)
    resolver = None
    if cert_path:
        resolver = match_candidates([x509.load_pem_x509_certificate(cert_path.read_bytes())])
    elif trust_dir:
        from pki.trust import TrustStore

        store = TrustStore.from_directory(trust_dir)
        resolver = trusted_certificate(lambda leaf, rest: store.validate(leaf, rest, purpose=KeyPurpose.AS4_SIGNING))
    decrypter = None
    if decrypt_key:
        key = InMemoryDecrypter.from_pem_files(decrypt_key)
        decrypter = lambda _info: key  # noqa: E731 - the one key we were given
    report = inspect(file.read_bytes(), content_type=content_type, resolver=resolver, decrypter=decrypter,
                     policy=chosen.policy)
    emit(ctx, report, lambda: _human(report))
    if report["ebms_error"]:
        ctx.exit(EXIT_FAILED)


def _human(report: dict[str, Any]) -> None:
    message = report.get("message") or {}
    click.echo(f"form: {report['form']}; {message.get('kind', '?')} {message.get('message_id', '')}")
    for key in ("timestamp", "ref_to_message_id", "party_info", "collaboration_info", "message_properties",
                "payload_info"):
        if message.get(key):
            click.echo(f"  {key}: {json.dumps(message[key], default=str)}")
    for part in report.get("parts", []):
        click.echo(f"  part {part['content_id']}: {part['content_type']}, {part['bytes']} bytes")
    for item in report.get("encryption", []):
        click.echo(f"  encryption: {json.dumps(item)}")
    for index, signature in enumerate(report.get("signatures", []), 1):
        state = {True: "verified", False: f"FAILED ({signature.get('code')})", None: "not checked (no --trust/--cert)"}
        click.echo(f"  signature {index}: {state[signature['verified']]}; references {signature['references']}")
    error = report["ebms_error"]
    click.echo(f"receiver verdict: {error['code']} {error['detail']}" if error else "receiver verdict: accepted",
               err=bool(error))
