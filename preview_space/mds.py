"""Minimum-data-set match: the person who logged in must be the person the evidence request names.

Names are compared with the identity mapping's normalisation (:func:`eidas_node.names.names_match`: case,
diacritics, transliteration); the date of birth must be exactly equal. Identifiers are compared only when both
come from the same eID scheme: an LV personal code from the national login says nothing about a DE eIDAS
identifier, so a mismatch there must not refuse, while a different identifier in the same scheme must.
If anything does not match, the preview space shows nothing (the caller raises :class:`MdsMismatch`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from eidas_node.names import names_match


class MdsMismatch(Exception):
    """The authenticated person is not the request's subject. ``code`` is stable; ``field`` names the first
    attribute that differed (for the audit log only; the user is told nothing about the request's data)."""

    code = "PREVIEW_MDS_MISMATCH"

    def __init__(self, field: str) -> None:
        super().__init__(f"{self.code}: {field} differs")
        self.field = field


@dataclass(frozen=True)
class Mds:
    """A natural person's minimum data set. ``scheme`` names where ``identifier`` comes from
    (e.g. "eidas" for CC/CC/id identifiers, "lv-personal-code" for the national login); None if unknown."""

    family_name: str
    given_name: str
    date_of_birth: date
    identifier: str | None = None
    scheme: str | None = None


def check_mds(requested: Mds, authenticated: Mds) -> None:
    """Raise :class:`MdsMismatch` unless ``authenticated`` is the subject of ``requested``."""
    if requested.date_of_birth != authenticated.date_of_birth:
        raise MdsMismatch("date_of_birth")
    if not names_match(requested.family_name, authenticated.family_name):
        raise MdsMismatch("family_name")
    if not names_match(requested.given_name, authenticated.given_name):
        raise MdsMismatch("given_name")
    same_scheme = requested.scheme is not None and requested.scheme == authenticated.scheme
    if same_scheme and requested.identifier and authenticated.identifier:
        if _norm_id(requested.identifier) != _norm_id(authenticated.identifier):
            raise MdsMismatch("identifier")


def _norm_id(identifier: str) -> str:
    # eIDAS identifiers carry country prefixes in upper case by convention, but registers differ in case and
    # in separators of national codes ("010190-12345" vs "01019012345"); neither changes who is meant.
    return identifier.strip().upper().replace("-", "").replace(" ", "")
