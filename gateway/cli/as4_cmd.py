"""``gateway-node as4 …``: operator tools for AS4 messages (the message handler's commands come with it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from cryptography import x509

from gateway.cli.common import EXIT_CONFIG, EXIT_FAILED, emit, fail, json_option, run_with_node
from gateway.runtime import Node
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


@as4_group.command("send")
@click.option("--pmode", "pmode_id", required=True, help="The active PMode (partner agreement) to send under.")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--action", help="The ebMS Action (default: the PMode's).")
@click.option("--content-type", default="application/octet-stream", show_default=True,
              help="MIME type of every FILE (.xml files default to application/xml).")
@json_option
@click.pass_context
def send_cmd(ctx: click.Context, pmode_id: str, files: tuple[Path, ...], action: str | None, content_type: str,
             as_json: bool) -> None:
    """Submit FILE... as one AS4 message: stored durably as pending, its MessageId printed; the running node's
    sender worker delivers it."""
    import aiohttp

    from as4.parts import Part
    from gateway.as4_pmodes import PModeStore
    from gateway.as4_receiver import open_payload_store
    from gateway.as4_sender import As4Sender

    parts = [Part.from_file(f"{i}-{f.name.replace(' ', '_')}@gateway",
                            "application/xml" if f.suffix == ".xml" else content_type, f)
             for i, f in enumerate(files, 1)]

    async def run(node: Node) -> str | tuple[int, str]:
        if node.key_store is None:
            return EXIT_CONFIG, "the node has no key store (pki.dir): it cannot send AS4 messages"
        async with aiohttp.ClientSession() as http:  # not used by submit; the sender wants one
            sender = As4Sender(node, PModeStore(node.engine), open_payload_store(node), http)
            try:
                message_id = await sender.submit(pmode_id, parts, action=action)
            except ValueError as exc:
                return EXIT_FAILED, str(exc)
        await node.audit.append("as4.message.submitted", "operator", None,
                                {"message_id": message_id, "pmode_id": pmode_id, "files": [f.name for f in files]})
        return message_id

    outcome = run_with_node(ctx, run)
    if isinstance(outcome, tuple):
        fail(outcome[1], outcome[0])
        return
    emit(ctx, {"message_id": outcome, "pmode_id": pmode_id, "status": "pending"}, lambda: click.echo(outcome))


@as4_group.command("status")
@click.argument("message_id")
@json_option
@click.pass_context
def status_cmd(ctx: click.Context, message_id: str, as_json: bool) -> None:
    """The outbox (or inbox) row of MESSAGE_ID: status, attempts, next attempt, last error."""
    from gateway.as4_sender import message_status

    row = run_with_node(ctx, lambda node: message_status(node.engine, message_id), start_audit=False)
    if row is None:
        fail(f"no AS4 message {message_id!r}")
        return

    def human() -> None:
        click.echo(f"{row['message_id']}: {row['direction']} {row['status']} (pmode {row['pmode_id']})")
        for key, value in row.items():
            if key not in ("message_id", "direction", "status", "pmode_id") and value is not None:
                click.echo(f"  {key}: {value}")

    emit(ctx, row, human)


@as4_group.command("resend")
@click.argument("message_id")
@json_option
@click.pass_context
def resend_cmd(ctx: click.Context, message_id: str, as_json: bool) -> None:
    """Put a failed outbound message back to pending (attempts reset); the sender worker tries it again."""
    from gateway.as4_sender import ResendRefused, resend

    async def run(node: Node) -> str | None:
        try:
            await resend(node, message_id)
        except ResendRefused as exc:
            return str(exc)
        return None

    refused = run_with_node(ctx, run)
    if refused is not None:
        fail(refused)
        return
    emit(ctx, {"message_id": message_id, "status": "pending"}, lambda: click.echo(f"{message_id}: pending"))


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
