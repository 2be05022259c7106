"""The demo launcher as the tests run it: ``python -m gateway.demo`` as a real child process on four free
loopback ports and a temporary data directory; its output in ``launcher.log``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import astuple
from pathlib import Path

from gateway.demo.network import Ports
from gateway.devnet import REPO, free_port

READY = "The whole cross-border journey is running"


class DemoProcess:
    def __init__(self, data: Path, ports: Ports | None = None) -> None:
        self.data = data
        self.ports = ports or Ports(*(free_port() for _ in range(6)))
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data.parent / f"{data.name}-launcher.log"
        self.offset = 0

    @property
    def portal(self) -> str:
        return f"http://127.0.0.1:{self.ports.portal}"

    def start(self, timeout_s: float = 120.0) -> DemoProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_") or k == "GATEWAY_SPECS_DIR"}
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
        p = self.ports
        self.offset = self.log.stat().st_size if self.log.exists() else 0  # a log shared with an earlier run
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "gateway.demo", "--data", str(self.data), "--ports",
                                          ",".join(str(port) for port in astuple(p))],
                                         cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if READY in self.output(since=self.offset):
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"the launcher exited with {self.proc.returncode}:\n{self.output()}")
            time.sleep(0.2)
        raise RuntimeError(f"the launcher was not ready within {timeout_s} s:\n{self.output()}")

    def output(self, since: int = 0) -> str:
        """The launcher's output (from byte ``since`` on)."""
        return self.log.read_bytes()[since:].decode(errors="replace") if self.log.exists() else ""

    def children(self) -> list[int]:
        """The launcher's child processes (the two nodes), from /proc."""
        assert self.proc is not None
        pids: list[int] = []
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*"):  # nodes are started from worker threads
            try:
                pids += [int(pid) for pid in (task / "children").read_text().split()]
            except OSError:
                continue
        return pids

    def node_pid(self, base_dir: Path) -> int:
        for pid in self.children():
            try:
                if Path(os.readlink(f"/proc/{pid}/cwd")) == base_dir.resolve():
                    return pid
            except OSError:
                continue
        raise LookupError(f"no node process runs in {base_dir}")

    def stop(self, timeout_s: float = 60.0) -> int:
        """Ctrl-C, as a user would stop ``make run``; the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        return self.proc.returncode
