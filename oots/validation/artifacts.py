"""Official artifacts (XSD, Schematron, code lists) for one EDM version, found by path in specs directories.

Layout (that of ../shared/specs, and of any ``--specs DIR`` holding newer releases)::

    <dir>/oots-edm/<v1.0|v1.2|v2.0>/xsd/…         schemas; a driver in <dir>/_local/oots-edm-<v>-driver.xsd wins
    <dir>/oots-edm/<v>/sch/EDM-{REQ,RESP,ERR}-{S,C}.sch
    <dir>/oots-edm/<v>/codelists/**/*.gc

Directories are searched in the order given; the first that has ``oots-edm/<version>`` supplies that version.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from oots.validation.codelists import load_directory
from oots.validation.findings import ValidationSetupError
from pki.specs import default_specs_dir

SCHEMATRON_KINDS = {"request": "EDM-REQ", "response": "EDM-RESP", "exception": "EDM-ERR"}




@dataclass(frozen=True)
class Artifacts:
    label: str  # v1.0, v1.2, v2.0
    xsd: Path | None = None
    schematron: dict[str, tuple[Path, ...]] = field(default_factory=dict)  # kind → files
    codelist_dir: Path | None = None

    def used_for(self, kind: str) -> list[str]:
        used = [str(self.xsd)] if self.xsd else []
        used += [str(p) for p in self.schematron.get(kind, ())]
        if self.codelist_dir is not None:
            used.append(f"{self.codelist_dir}/**/*.gc")
        return used

    @property
    def empty(self) -> bool:
        return self.xsd is None and not self.schematron and self.codelist_dir is None


def find_artifacts(label: str, directories: Sequence[Path]) -> Artifacts:
    for directory in directories:
        base = directory / "oots-edm" / label
        if not base.is_dir():
            continue
        driver = directory / "_local" / f"oots-edm-{label}-driver.xsd"
        if not driver.is_file():
            candidates = sorted((base / "xsd").glob("*driver*.xsd")) if (base / "xsd").is_dir() else []
            driver = candidates[0] if candidates else None  # type: ignore[assignment]
        schematron = {}
        for kind, stem in SCHEMATRON_KINDS.items():
            files = tuple(p for p in (base / "sch" / f"{stem}-S.sch", base / "sch" / f"{stem}-C.sch") if p.is_file())
            if files:
                schematron[kind] = files
        codelists = base / "codelists"
        return Artifacts(label, driver, schematron, codelists if codelists.is_dir() else None)
    return Artifacts(label)


def search_path(extra: Sequence[Path] = ()) -> list[Path]:
    default = default_specs_dir()
    return [*extra, *([default] if default is not None else [])]


@functools.lru_cache(maxsize=8)
def schema(path: Path) -> etree.XMLSchema:
    # The schemas are trusted local files with relative imports: parsed from disk, never from the network.
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    try:
        return etree.XMLSchema(etree.parse(str(path), parser))
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError, OSError) as exc:
        raise ValidationSetupError("EDM_SPECS_BROKEN", f"{path} does not compile: {exc}") from None


@functools.lru_cache(maxsize=8)
def codelists(directory: Path) -> dict[str, frozenset[str]]:
    return load_directory(directory)
