"""One node process doing one cached lookup (for the two-process stale-on-outage test). Prints one JSON line."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest

from gateway.config import load_settings
from gateway.db.engine import create_engine
from gateway.db.migrate import upgrade
from gateway.smp_discovery import SmpDiscovery
from smp_client import identifiers
from smp_client.errors import SmpError


async def main(db_url: str, trust: str, dns: str, zone: str, participant: str, doc: str) -> dict[str, object]:
    settings = load_settings(environ={"GATEWAY_DATABASE__URL": db_url, "GATEWAY_SMP__SML_ZONE": zone,
                                      "GATEWAY_SMP__DNS": dns, "GATEWAY_SMP__REQUIRE_HTTPS": "false",
                                      "GATEWAY_SMP__MIN_TTL_S": "0", "GATEWAY_SMP__MAX_TTL_S": "1",
                                      "GATEWAY_SMP__DNS_TIMEOUT_S": "2", "GATEWAY_SMP__HTTP_TIMEOUT_S": "2"},
                             default_file=False)
    engine = create_engine(settings)
    await upgrade(engine)
    registry = CollectorRegistry()
    discovery = SmpDiscovery.from_settings(settings.smp, engine=engine, registry=registry, trust_dir=Path(trust))
    try:
        found = await discovery.lookup(identifiers.participant(participant), identifiers.document_type(doc))
        result: dict[str, object] = {"address": found.endpoint.address, "stale": found.stale}
    except SmpError as exc:
        result = {"error": exc.code}
    finally:
        await discovery.close()
        await engine.dispose()
    stale_lines = [line for line in generate_latest(registry).decode().splitlines()
                   if line.startswith("gateway_smp_stale_answers_total{")]
    result["stale_metric"] = float(stale_lines[0].rsplit(" ", 1)[1]) if stale_lines else 0.0
    return result


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(*sys.argv[1:7]))))
