"""The PyPI ``as4`` package (Peppol AS4, https://pypi.org/project/as4/) as an interop peer, in its own virtualenv.

``as4`` 0.2.0 pins ``cryptography<47`` while the project runs on cryptography 50, and its import name clashes
with our own ``as4`` package, so it never enters our environment: :func:`ensure_venv` creates
``<repo>/.cache/as4pkg-venv`` on first use (``python -m venv`` + ``pip install as4==0.2.0``, ~20 s) and reuses
it afterwards; :func:`run_peer` runs ``tests/as4/as4pkg_peer.py`` there in isolated mode (``-I``: no
PYTHONPATH, no script directory on sys.path, so ``import as4`` can only mean the PyPI package).

Used by ``tests/as4/test_interop_as4pkg.py`` and ``bench/as4_codec.py``. ``AS4PKG_VENV`` points elsewhere
(an existing virtualenv with ``as4`` installed is adopted as it is).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

AS4_REQUIREMENT = "as4==0.2.0"
REPO = Path(__file__).resolve().parents[2]
DEFAULT_VENV = REPO / ".cache" / "as4pkg-venv"
PEER_SCRIPT = Path(__file__).resolve().with_name("as4pkg_peer.py")
_MARKER = ".as4pkg-ready"  # written last: a half-made virtualenv is never taken for a ready one
INSTALL_TIMEOUT = 600


class As4PkgUnavailable(RuntimeError):
    """The virtualenv with the PyPI ``as4`` package could not be created or does not work."""


class PeerFailed(RuntimeError):
    """The peer script exited with an error (its stderr is in the message)."""


def venv_dir() -> Path:
    return Path(os.environ.get("AS4PKG_VENV") or DEFAULT_VENV)


def _python(venv: Path) -> Path:
    return venv / "bin" / "python"


def _run(command: list[str], what: str, timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise As4PkgUnavailable(f"{what} failed: {exc}") from exc
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise As4PkgUnavailable(f"{what} failed (exit {result.returncode}): {' '.join(command)}\n{tail}")
    return result


def _probe(python: Path) -> str:
    """The installed ``as4`` version, imported the way the peer imports it."""
    code = "import importlib.metadata as m, as4, as4.peppol; print(m.version('as4'))"
    return _run([str(python), "-I", "-c", code], f"importing as4 in {python.parent.parent}", 120).stdout.strip()


@contextlib.contextmanager
def _locked(venv: Path):
    """One creator at a time (parallel pytest workers, a bench next to a test run)."""
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@functools.cache
def ensure_venv() -> Path:
    """The Python of a virtualenv holding ``as4==0.2.0``, created on first use; raises As4PkgUnavailable."""
    venv = venv_dir()
    try:
        return _ensure(venv)
    except OSError as exc:
        raise As4PkgUnavailable(f"cannot create the as4 virtualenv in {venv}: {exc}") from exc


def _ensure(venv: Path) -> Path:
    python = _python(venv)
    if "AS4PKG_VENV" in os.environ and python.exists() and not (venv / _MARKER).exists():
        _probe(python)  # adopted as it is: the caller made it
        return python
    with _locked(venv):
        if not (venv / _MARKER).exists():
            if venv.exists():
                shutil.rmtree(venv)  # left half-made by an interrupted run
            _run([sys.executable, "-m", "venv", str(venv)], "creating the as4 virtualenv", 300)
            _run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                  "--no-input", AS4_REQUIREMENT], f"pip install {AS4_REQUIREMENT}", INSTALL_TIMEOUT)
            installed = _probe(python)
            if f"as4=={installed}" != AS4_REQUIREMENT:
                raise As4PkgUnavailable(f"{venv}: pip installed as4 {installed}, expected {AS4_REQUIREMENT}")
            (venv / _MARKER).write_text(AS4_REQUIREMENT + "\n")
    return python


def run_peer(*args: str | os.PathLike[str], timeout: float = 300, cwd: Path | None = None) -> dict[str, Any]:
    """Run ``as4pkg_peer.py <args>`` in the as4 virtualenv; its last stdout line is a JSON object, returned."""
    python = ensure_venv()
    command = [str(python), "-I", str(PEER_SCRIPT), *map(str, args)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    if result.returncode != 0 or not lines:
        raise PeerFailed(f"as4 peer {' '.join(map(str, args[:1]))} exited {result.returncode}\n"
                         f"stdout: {result.stdout[-4000:]}\nstderr: {result.stderr[-4000:]}")
    return json.loads(lines[-1])
