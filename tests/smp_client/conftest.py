from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.smp_client.dnsmasq import DNSMASQ, Dnsmasq, DnsZone


@pytest.fixture
def dnsmasq(tmp_path: Path) -> Iterator[Callable[[DnsZone], Dnsmasq]]:
    """Start dnsmasq for a zone: ``server = dnsmasq(DnsZone(naptr=[...]))``; stopped after the test."""
    if not (os.path.exists(DNSMASQ) or shutil.which("dnsmasq")):
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("dnsmasq is required under CI")
        pytest.skip("dnsmasq is not installed")
    started: list[Dnsmasq] = []

    def start(zone: DnsZone) -> Dnsmasq:
        directory = tmp_path / f"dns{len(started)}"
        directory.mkdir()
        server = Dnsmasq(directory, zone).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
