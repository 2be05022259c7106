"""``gateway-node audit …``: verify, export checkpoints, prove inclusion, prune, look up a person."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select

from gateway.audit.keys import PublicKeyRing, load_public_keys
from gateway.audit.proofs import ProofError, prove_inclusion, verify_inclusion_document
from gateway.audit.prune import PruneRefused, prune
from gateway.audit.record import AuditRecord
from gateway.audit.treehead import TreeHead
from gateway.audit.verify import VerifyReport, verify_log
from gateway.cli.common import EXIT_FAILED, emit, fail, json_option, run_with_node, settings_from, wants_json
from gateway.db.schema import audit_record
from gateway.runtime import Node


@click.group()
def audit() -> None:
    """The signed, tamper-evident audit log."""


def _read_json(path: str) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        fail(f"{path}: cannot read JSON: {exc}")
        raise


@audit.command("verify")
@click.option("--checkpoint", type=click.Path(exists=True, dir_okay=False),
              help="An exported tree head: prove the log is consistent with it (detects truncation).")
@json_option
@click.pass_context
def verify_cmd(ctx: click.Context, checkpoint: str | None, as_json: bool) -> None:
    """Re-check every hash, Merkle root and signature; name the first bad record."""
    exported = None
    if checkpoint:
        try:
            exported = TreeHead.from_json(_read_json(checkpoint))
        except ValueError as exc:
            fail(f"{checkpoint}: {exc}")

    async def run(node: Node) -> VerifyReport:
        if wants_json(ctx) or not sys.stderr.isatty():
            return await verify_log(node.engine, node.audit_keys, checkpoint=exported)
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task("verifying audit log", total=None)
            return await verify_log(
                node.engine, node.audit_keys, checkpoint=exported,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )

    report = run_with_node(ctx, run, start_audit=False)

    def human() -> None:
        if report.ok:
            click.echo(f"audit log OK: {report.records_checked} records (from {report.first_seq}), "
                       f"{report.tree_heads_checked} signed tree heads, root {report.root_hash}")
            if report.unsigned_tail:
                click.echo(f"note: the newest {report.unsigned_tail} records are not yet under a signed tree head")
            if report.checkpoint:
                click.echo(f"checkpoint at size {report.checkpoint['tree_size']}: {report.checkpoint.get('status')}")
        else:
            problem = report.problem
            assert problem is not None
            click.echo(f"audit log FAILED: {problem.code} at record {problem.seq}: {problem.message}", err=True)
        for warning in report.warnings:
            click.echo(f"warning: {warning}", err=True)

    emit(ctx, report.to_json(), human)
    if not report.ok:
        ctx.exit(EXIT_FAILED)


@audit.group("checkpoint")
def checkpoint() -> None:
    """Signed tree heads for third parties."""


@checkpoint.command("export")
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file (default: stdout).")
@click.pass_context
def checkpoint_export(ctx: click.Context, out: str | None) -> None:
    """Sign a tree head over everything committed and write it out."""

    async def run(node: Node) -> TreeHead | None:
        head = await node.audit.sign_tree_head(force=True)
        if head is not None:
            await node.audit.append("audit.checkpoint.exported", "operator",
                                    details={"tree_size": head.tree_size, "root_hash": head.root_hash})
        return head

    head = run_with_node(ctx, run)
    if head is None:
        fail("the audit log is empty: nothing to checkpoint")
        return
    text = head.dumps()
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")
        click.echo(f"checkpoint at size {head.tree_size} written to {out}", err=True)
    else:
        click.echo(text)


@audit.command("prove")
@click.argument("seq", type=click.IntRange(min=0))
@click.option("--out", type=click.Path(dir_okay=False), help="Write the proof here (default: stdout).")
@click.pass_context
def prove_cmd(ctx: click.Context, seq: int, out: str | None) -> None:
    """Print an inclusion proof for record SEQ against the latest signed tree head."""

    async def run(node: Node) -> dict[str, Any]:
        try:
            return await prove_inclusion(node.engine, seq)
        except ProofError:
            # A fresh head may cover the record: sign one, then try again.
            await node.audit.sign_tree_head(force=True)
            return await prove_inclusion(node.engine, seq)

    try:
        document = run_with_node(ctx, run)
    except ProofError as exc:
        fail(str(exc))
        return
    text = json.dumps(document, indent=2)
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")
    else:
        click.echo(text)


@audit.command("verify-proof")
@click.argument("proof", type=click.Path(exists=True, dir_okay=False))
@click.option("--keys-dir", type=click.Path(file_okay=False),
              help="Directory with the audit public keys (audit-public/*.pem); default: the node's keys.")
@json_option
@click.pass_context
def verify_proof_cmd(ctx: click.Context, proof: str, keys_dir: str | None, as_json: bool) -> None:
    """Check an inclusion proof offline (no database needed)."""
    directory = Path(keys_dir) if keys_dir else settings_from(ctx).keys_dir
    ring = PublicKeyRing(load_public_keys(directory))
    if not ring.public_keys:
        fail(f"no audit public keys in {directory / 'audit-public'}")

    ok, reason = verify_inclusion_document(_read_json(proof), ring)
    emit(ctx, {"ok": ok, "reason": reason}, lambda: click.echo(("OK: " if ok else "FAILED: ") + reason))
    if not ok:
        ctx.exit(EXIT_FAILED)


@audit.command("prune")
@click.option("--before", "before", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              help="Remove records older than this UTC date (default: audit.retention_days ago).")
@json_option
@click.pass_context
def prune_cmd(ctx: click.Context, before: datetime | None, as_json: bool) -> None:
    """Apply retention, keeping what verification needs; writes a signed prune record."""

    async def run(node: Node):  # type: ignore[no-untyped-def]
        cutoff = before.replace(tzinfo=UTC) if before else datetime.now(UTC) - timedelta(
            days=node.settings.audit.retention_days)
        return await prune(node.engine, node.audit, cutoff)

    try:
        result = run_with_node(ctx, run)
    except PruneRefused as exc:
        fail(f"prune refused, nothing removed: {exc}")
        return
    data = {"removed": result.removed, "first_seq": result.first_seq, "before": result.pruned_before,
            "audit_seq": result.audit_seq}
    emit(ctx, data, lambda: click.echo(
        f"removed {result.removed} records before {result.pruned_before}; the log now starts at {result.first_seq}"))


@audit.command("subject")
@click.argument("person_id")
@json_option
@click.pass_context
def subject_cmd(ctx: click.Context, person_id: str, as_json: bool) -> None:
    """List every record about one person (looked up by keyed hash; the log never holds the id)."""

    async def run(node: Node) -> list[dict[str, Any]]:
        hashed = node.audit.hash_subject(person_id)
        async with node.engine.connect() as conn:
            rows = (await conn.execute(
                select(audit_record).where(audit_record.c.subject_hash == hashed).order_by(audit_record.c.seq)
            )).mappings().all()
        return [AuditRecord.from_row(row).as_dict() for row in rows]

    records = run_with_node(ctx, run, start_audit=False)

    def human() -> None:
        if not records:
            click.echo("no records about this person")
        for record in records:
            click.echo(f"{record['seq']:>8}  {record['ts']}  {record['event']:<32} {record['actor']}  "
                       f"{json.dumps(record['details'], ensure_ascii=False)}")

    emit(ctx, records, human)


@audit.command("tail")
@click.option("-n", "count", default=20, show_default=True, type=click.IntRange(min=1))
@json_option
@click.pass_context
def tail_cmd(ctx: click.Context, count: int, as_json: bool) -> None:
    """Show the newest records."""

    async def run(node: Node) -> list[dict[str, Any]]:
        async with node.engine.connect() as conn:
            rows = (await conn.execute(
                select(audit_record).order_by(audit_record.c.seq.desc()).limit(count)
            )).mappings().all()
        return [AuditRecord.from_row(row).as_dict() for row in reversed(rows)]

    records = run_with_node(ctx, run, start_audit=False)
    emit(ctx, records, lambda: [click.echo(
        f"{r['seq']:>8}  {r['ts']}  {r['event']:<32} {r['actor']}  corr={r['correlation_id']}") for r in records])
