"""Shared helpers of our own EDM rules: a finding collector and XPath over the EDM namespaces."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from lxml import etree

from oots.edm import ns
from oots.validation.findings import Finding

NS = {"query": ns.QUERY, "rim": ns.RIM, "rs": ns.RS, "sdg": ns.SDG, "xsi": ns.XSI, "xlink": ns.XLINK}
UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
URN_UUID = re.compile(rf"^urn:uuid:{UUID}$")
BARE_OR_URN_UUID = re.compile(rf"^(urn:uuid:)?{UUID}$")
EAS_PREFIX = "urn:cef.eu:names:identifier:EAS:"
UNREGISTERED_PREFIX = "urn:oasis:names:tc:ebcore:partyid-type:unregistered"

Element = etree._Element


@dataclass
class Checks:
    findings: list[Finding] = field(default_factory=list)

    def require(self, rule: str, ok: bool, message: str, location: str | None = None,
                severity: str = "error") -> bool:
        if not ok:
            self.findings.append(Finding(rule, message, "own", severity, location))
        return ok


def xp(element: Element, path: str) -> list:  # type: ignore[type-arg]
    return element.xpath(path, namespaces=NS)  # type: ignore[return-value]


def path_of(element: Element) -> str:
    return element.getroottree().getpath(element)


def slot_names(parent: Element) -> list[str]:
    return [s.get("name") or "" for s in xp(parent, "rim:Slot")]


def slot_text(parent: Element, name: str) -> str | None:
    values = xp(parent, f"rim:Slot[@name='{name}']/rim:SlotValue/rim:Value")
    return (values[0].text or "").strip() if values else None


def slot_type(parent: Element, name: str) -> str | None:
    values = xp(parent, f"rim:Slot[@name='{name}']/rim:SlotValue/@xsi:type")
    return ns.local_type(str(values[0])) if values else None


def is_datetime(text: str | None) -> bool:
    if not text or "T" not in text:
        return False
    try:
        return datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False


def is_date(text: str | None) -> bool:
    try:
        date.fromisoformat(text or "")
        return True
    except ValueError:
        return False


def check_slots(checks: Checks, parent: Element, required: frozenset[str], allowed: frozenset[str],
                rule_missing: str, rule_unknown: str, rule_duplicate: str, where: str) -> None:
    names = slot_names(parent)
    for name in sorted(required - set(names)):
        checks.require(rule_missing, False, f"{where}: slot {name!r} is required", where)
    for name in sorted(set(names) - required - allowed):
        checks.require(rule_unknown, False, f"{where}: slot {name!r} is not allowed in this version", where)
    for name in sorted({n for n in names if names.count(n) > 1}):
        checks.require(rule_duplicate, False, f"{where}: slot {name!r} appears more than once", where)


def check_agent(checks: Checks, agent: Element, rule: str, allowed_classes: tuple[str, ...] | None) -> None:
    where = path_of(agent)
    identifier = xp(agent, "sdg:Identifier")
    checks.require(rule, bool(identifier) and bool((identifier[0].text or "").strip()),
                   "an Agent needs an sdg:Identifier value", where)
    if identifier:
        scheme = identifier[0].get("schemeID") or ""
        checks.require(rule, scheme.startswith(EAS_PREFIX) or scheme.startswith(UNREGISTERED_PREFIX),
                       f"Agent identifier schemeID {scheme!r} is neither an EAS URN nor ebCore unregistered", where)
    checks.require(rule, bool(xp(agent, "sdg:Name")), "an Agent needs at least one sdg:Name", where)
    if allowed_classes is not None:
        value = (xp(agent, "string(sdg:Classification)") or "").strip()
        checks.require(rule, value in allowed_classes,
                       f"Agent classification {value or '(none)'!r} is not one of {', '.join(allowed_classes)}", where)


def sr_pattern(hosts: tuple[str, ...], kind: str) -> re.Pattern[str]:
    host = "|".join(re.escape(h) for h in hosts)
    if kind == "requirements":
        return re.compile(rf"^https://({host})/requirements/{UUID}$")
    return re.compile(rf"^https://({host})/evidencetypeclassifications/[A-Z]{{2}}/{UUID}$")
