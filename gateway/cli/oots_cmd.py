"""``gateway-node oots simulate-common-services``: the EB/DSD simulator over a YAML catalogue (tests, demos)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import click
from cryptography.hazmat.primitives import serialization

from gateway.cli.common import EXIT_CONFIG
from oots.commonservices.catalogue import CatalogueError, load_catalogue
from oots.commonservices.devkey import ephemeral_signer
from oots.commonservices.simulator import SimulatorConfig, create_app
from pki.keys.files import KeyFileError, load_certificates, load_private_key


@click.group("oots")
def oots_group() -> None:
    """OOTS evidence exchange tools."""


@oots_group.command("simulate-common-services")
@click.option("--catalogue", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="YAML catalogue: procedures, requirements, evidence types, data services.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8490, show_default=True, help="0 picks a free port.")
@click.option("--key", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="PEM private key that signs the answers (file mode 0600).")
@click.option("--cert", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="PEM certificate chain of --key, leaf first.")
@click.option("--cert-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Without --key: where to write the ephemeral signer's certificate (the clients' trust anchor).")
@click.pass_context
def simulate(ctx: click.Context, catalogue: Path, host: str, port: int, key: Path | None, cert: Path | None,
             cert_out: Path | None) -> None:
    """Serve /eb/rest/search and /dsd/rest/search with signed answers until interrupted."""
    try:
        loaded = load_catalogue(catalogue)
        if key is not None:
            if cert is None:
                raise click.UsageError("--key needs --cert")
            private_key, chain = load_private_key(key), load_certificates(cert)
        else:
            private_key, certificate = ephemeral_signer(datetime.now(UTC))
            chain = [certificate]
            if cert_out is not None:
                cert_out.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    except (CatalogueError, KeyFileError) as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_CONFIG)
        return
    asyncio.run(_serve(SimulatorConfig(loaded, private_key, chain), host, port))


async def _serve(config: SimulatorConfig, host: str, port: int) -> None:
    from gateway.web.listen import start_site

    runner, bound = await start_site(create_app(config), host, port)
    click.echo(f"common services listening on http://{host}:{bound} (EB: /eb, DSD: /dsd)", err=False)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
