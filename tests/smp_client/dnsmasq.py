"""A real DNS server for tests: Debian's dnsmasq on a loopback ephemeral port, serving NAPTR and CNAME records."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dns.message
import dns.query

DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"


@dataclass(frozen=True)
class Naptr:
    name: str
    regexp: str
    service: str = "Meta:SMP"
    flags: str = "U"
    order: int = 100
    preference: int = 10
    replacement: str | None = None


@dataclass
class DnsZone:
    naptr: list[Naptr] = field(default_factory=list)
    cname: list[tuple[str, str]] = field(default_factory=list)  # alias, target
    hosts: list[tuple[str, str]] = field(default_factory=list)  # name, IPv4
    ttl: int = 300
    local_zones: list[str] = field(default_factory=list)  # answered authoritatively: unknown names are NXDOMAIN


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (dnsmasq binds both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
        return port
    raise RuntimeError("no free port")


def _config_lines(zone: DnsZone) -> Sequence[str]:
    lines = [f"local-ttl={zone.ttl}", *(f"local=/{name}/" for name in zone.local_zones)]
    for record in zone.naptr:
        line = (f"naptr-record={record.name},{record.order},{record.preference},{record.flags},"
                f"{record.service},{record.regexp}")
        lines.append(line + (f",{record.replacement}" if record.replacement else ""))
    for name, address in zone.hosts:
        lines.append(f"host-record={name},{address}")
    for alias, target in zone.cname:
        lines.append(f"cname={alias},{target}")
    return lines


class Dnsmasq:
    def __init__(self, directory: Path, zone: DnsZone) -> None:
        self.directory = directory
        self.zone = zone
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def start(self) -> Dnsmasq:
        conf = self.directory / "dnsmasq.conf"
        conf.write_text("\n".join(_config_lines(self.zone)) + "\n", encoding="utf-8")
        last_error = ""
        for _ in range(5):  # the port may be taken between free_port() and dnsmasq's bind
            self.port = free_port()
            self.process = subprocess.Popen(
                [DNSMASQ, "--no-daemon", f"--port={self.port}", "--listen-address=127.0.0.1", "--bind-interfaces",
                 "--no-resolv", "--no-hosts", f"--conf-file={conf}", "--pid-file=", "--log-facility=-",
                 # as root dnsmasq would switch to "nobody", who cannot read a config under a private tmp dir
                 *(["--user=root"] if os.geteuid() == 0 else [])],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            )
            if self._wait_ready():
                return self
            self.process.kill()
            last_error = self.process.communicate()[1].decode(errors="replace")
        raise RuntimeError(f"dnsmasq did not start: {last_error}")

    def _wait_ready(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + 10
        probe = dns.message.make_query("ready.invalid.", "A")
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                dns.query.udp(probe, "127.0.0.1", port=self.port, timeout=0.2)
                return True
            except Exception:
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
