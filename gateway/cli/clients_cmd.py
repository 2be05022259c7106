"""``gateway-node clients …``: register, list and revoke the national systems that call the node's APIs."""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from gateway.auth.clients import ROLES, ApiClient, ClientError, ClientStore, register_client, revoke_client
from gateway.cli.common import emit, fail, json_option, run_with_node


def _actor() -> str:
    # The audit record names the operator account that ran the command.
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _show(client: ApiClient) -> None:
    state = f"revoked {client.revoked_at}" if client.revoked else "active"
    credentials = ", ".join(
        part for part in (
            f"cert sha256:{client.cert_sha256}" if client.cert_sha256 else "",
            "secret" if client.has_secret else "",
        ) if part
    )
    click.echo(f"{client.client_id}  {client.name}  roles={','.join(sorted(client.roles))}  "
               f"{credentials}  {state}")


@click.group()
def clients() -> None:
    """API clients: national systems (portals, registers, operators) allowed to call the node's APIs."""


@clients.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(sorted(ROLES)),
              help="A role of the client; repeat for several.")
@click.option("--cert", "cert_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The client's TLS certificate (PEM or DER) for mutual TLS.")
@click.option("--secret", "with_secret", is_flag=True,
              help="Generate a client secret for the OAuth2 token endpoint (printed once, never stored).")
@json_option
@click.pass_context
def add(ctx: click.Context, name: str, roles: tuple[str, ...], cert_file: Path | None, with_secret: bool,
        as_json: bool) -> None:
    """Register a client; prints its client_id (and its secret, once)."""
    cert = cert_file.read_bytes() if cert_file is not None else None
    try:
        created = run_with_node(
            ctx, lambda node: register_client(node, name, roles, cert=cert, with_secret=with_secret, actor=_actor())
        )
    except ClientError as exc:
        fail(str(exc))
        return
    data = {**created.client.as_dict(), "client_secret": created.secret}

    def human() -> None:
        click.echo(f"client_id: {created.client.client_id}")
        if created.secret is not None:
            click.echo(f"client_secret: {created.secret}")
            click.echo("The secret is shown only now; the node keeps only a hash of it.", err=True)

    emit(ctx, data, human)


@clients.command("list")
@json_option
@click.pass_context
def list_clients(ctx: click.Context, as_json: bool) -> None:
    """List registered clients, revoked ones included."""
    found = run_with_node(ctx, lambda node: ClientStore(node.engine).list())

    def human() -> None:
        if not found:
            click.echo("no clients registered")
        for client in found:
            _show(client)

    emit(ctx, {"clients": [client.as_dict() for client in found]}, human)


@clients.command("revoke")
@click.argument("client_id")
@json_option
@click.pass_context
def revoke(ctx: click.Context, client_id: str, as_json: bool) -> None:
    """Revoke a client: its certificate, secret and live tokens stop working at once."""
    try:
        client = run_with_node(ctx, lambda node: revoke_client(node, client_id, actor=_actor()))
    except ClientError as exc:
        fail(str(exc))
        return
    emit(ctx, client.as_dict(), lambda: click.echo(f"revoked {client.client_id} at {client.revoked_at}"))
