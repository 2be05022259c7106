"""Test users of the simulated proxy services (names chosen to exercise transliteration in identity mapping)."""

from __future__ import annotations

from eidas_node.simulator.responses import TestUser

_NAMES: dict[str, list[tuple[str, str, str, str]]] = {
    "DE": [("erika", "Mustermann", "Erika", "1964-08-12"), ("juergen", "Müller", "Jürgen", "1970-01-31"),
           ("strauss", "Strauß", "Johann", "1985-10-25")],
    "AT": [("max", "Größ", "Max", "1990-02-03")],
    "BG": [("ivan", "Иванов", "Иван", "1979-06-15")],
    "EL": [("giorgos", "Παπαδόπουλος", "Γεώργιος", "1982-04-09")],
    "EE": [("mari", "Tamm", "Mari", "1995-12-01")],
    "LT": [("jonas", "Jonaitis", "Jonas", "1988-07-07")],
}


def default_users(country: str, destination: str = "LV") -> dict[str, TestUser]:
    """``destination``: the country of the node the identifiers are issued for (eIDAS ``CC/DD/…``)."""
    rows = _NAMES.get(country) or [("test", "Tester", "Test", "1980-01-01")]
    return {username: TestUser(username, f"{country}/{destination}/{country.lower()}-{index:04d}", family, given,
                               born)
            for index, (username, family, given, born) in enumerate(rows, start=1)}
