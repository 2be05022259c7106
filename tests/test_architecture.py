"""Rules of the house that code review alone would miss: dependency direction and module size."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Allowed imports between our packages (DESIGN.md: oots -> as4 -> smp_client -> pki; gateway wires them all).
ALLOWED = {
    "pki": set(),
    "smp_client": {"pki"},
    "as4": {"pki", "smp_client"},
    "eidas_node": {"pki"},
    "oots": {"pki", "smp_client", "as4"},
    "preview_space": {"pki", "oots", "eidas_node"},
    "conformance": {"pki", "smp_client", "as4", "eidas_node", "oots"},
}
OURS = set(ALLOWED) | {"gateway"}


def _imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & OURS


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_packages_only_depend_downward(package: str) -> None:
    offenders = []
    for path in sorted((REPO / package).rglob("*.py")):
        wrong = _imported_packages(path) - ALLOWED[package] - {package}
        if wrong:
            offenders.append(f"{path.relative_to(REPO)} imports {sorted(wrong)}")
    assert not offenders, "packages never import gateway/ or packages above them:\n" + "\n".join(offenders)


def test_modules_stay_small() -> None:
    packages = sorted(OURS)
    big = [
        f"{path.relative_to(REPO)}: {count} lines"
        for package in packages
        for path in (REPO / package).rglob("*.py")
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > 600
    ]
    assert not big, "modules stay under 600 lines (DESIGN.md):\n" + "\n".join(big)
