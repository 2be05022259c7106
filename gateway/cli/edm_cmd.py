"""``gateway-node edm validate|inspect|cross``: OOTS EDM messages checked against our rules and the official
artifacts (XSD, Schematron, code lists) found by path."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from gateway.cli.common import EXIT_CONFIG, EXIT_FAILED, json_option
from oots.edm import EdmCodecError, parse_message
from oots.edm.model import EdmMessage, QueryRequest
from oots.validation import ValidationSetupError, validate_file
from oots.validation.cross import CROSS_RULES, cross_check
from oots.validation.findings import Report


@click.group()
def edm() -> None:
    """OOTS evidence messages (EDM): validate, inspect, cross-check pairs."""


def _human(report: Report) -> None:
    what = " ".join(x for x in (report.version, report.kind) if x) or "not an EDM message"
    click.echo(f"{report.name}: {'valid' if report.valid else 'INVALID'} ({what})")
    click.echo(f"  checked against: {'; '.join(report.artifacts) or 'own rules only'}")
    for finding in report.findings:
        if finding.fatal:
            where = f" [{finding.location}]" if finding.location else ""
            click.echo(f"  ✗ {finding.rule} ({finding.source}): {finding.message}{where}")
    warnings = sum(1 for f in report.findings if not f.fatal)
    if warnings:
        click.echo(f"  ({warnings} informational findings; --json lists them)")


@edm.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--specs", "specs", multiple=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Directory of newer official artifacts (layout of ../shared/specs: oots-edm/<version>/...); "
                   "searched before $GATEWAY_SPECS_DIR. Repeatable.")
@json_option
@click.pass_context
def validate(ctx: click.Context, files: tuple[Path, ...], specs: tuple[Path, ...], as_json: bool) -> None:
    """Validate EDM messages. Exit 0 only if every file is valid."""
    try:
        reports = [validate_file(path, specs) for path in files]
    except ValidationSetupError as exc:
        click.echo(f"error: {exc}", err=True)
        ctx.exit(EXIT_CONFIG)
        return
    if as_json:
        click.echo(json.dumps({"valid": all(r.valid for r in reports), "files": [r.as_dict() for r in reports]},
                              indent=2))
    else:
        for report in reports:
            _human(report)
    ctx.exit(0 if all(r.valid for r in reports) else EXIT_FAILED)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v not in (None, (), [])}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def message_as_json(message: EdmMessage) -> dict[str, Any]:
    data = _plain(dataclasses.asdict(message))
    return {"type": type(message).__name__, **data}


def _read(ctx: click.Context, path: Path) -> EdmMessage:
    try:
        return parse_message(path.read_bytes())
    except EdmCodecError as exc:
        click.echo(f"error: {path}: {exc}", err=True)
        ctx.exit(EXIT_FAILED)
        raise


@edm.command("inspect")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
@click.pass_context
def inspect(ctx: click.Context, file: Path, as_json: bool) -> None:
    """Print the parsed message: ids, slots, persons, evidence."""
    data = message_as_json(_read(ctx, file))
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    for key, value in data.items():
        click.echo(f"{key}: {json.dumps(value, ensure_ascii=False)}")


@edm.command("cross")
@click.argument("first", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("second", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--original", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Request #1, when FIRST is its preview exception and SECOND request #2.")
@json_option
@click.pass_context
def cross(ctx: click.Context, first: Path, second: Path, original: Path | None, as_json: bool) -> None:
    """Cross-validate a pair: REQUEST RESPONSE, or EXCEPTION REQUEST#2 [--original REQUEST#1]."""
    one, two = _read(ctx, first), _read(ctx, second)
    request_1 = _read(ctx, original) if original is not None else None
    findings = cross_check(one, two, request_1 if isinstance(request_1, QueryRequest) else None)
    if as_json:
        click.echo(json.dumps({"valid": not findings, "findings": [f.as_dict() for f in findings]}, indent=2))
    else:
        click.echo(f"{first} → {second}: {'consistent' if not findings else 'INCONSISTENT'}")
        for finding in findings:
            click.echo(f"  ✗ {finding.rule}: {finding.message} ({CROSS_RULES.get(finding.rule, '')})")
    ctx.exit(0 if not findings else EXIT_FAILED)
