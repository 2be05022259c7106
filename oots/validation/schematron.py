"""ISO Schematron (queryBinding xslt2) → XSLT 3 stylesheet, run with Saxon (saxonche).

The EDM Schematron uses XPath 2 (``matches()``), which lxml's XSLT-1 isoschematron cannot run, and no
SchXslt / ISO skeleton ships with the specs; so this module compiles the subset the OOTS files use
(ns, pattern, rule, let, assert, report, value-of, name) itself:

* every pattern is an XSLT mode walking the whole document (elements and attributes); within a pattern the
  first rule whose context matches a node fires (rules get descending priorities), as ISO Schematron says;
* an assert that fails / a report that holds emits one result element with its id, role, location (XPath 3
  ``path()``) and message text.

Untrusted documents never reach Saxon's own parser as received: they are parsed by the hardened
``pki.xml.parser`` first and handed over re-serialised (no DOCTYPE can survive that).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from oots.validation.findings import Finding, ValidationSetupError

SCH = "http://purl.oclc.org/dsdl/schematron"
XSL = "http://www.w3.org/1999/XSL/Transform"
OUT = "urn:x-gateway:schematron-result"
NON_FATAL_ROLES = {"info", "information", "warning", "warn"}


def _x(local: str) -> str:
    return f"{{{XSL}}}{local}"


@dataclass(frozen=True)
class CompiledSchematron:
    path: Path
    xslt: bytes  # the generated stylesheet, kept for debugging (``edm validate`` never prints it)


def compile_schematron(sch_path: Path) -> CompiledSchematron:
    """Translate one Schematron file (trusted: read from the specs directory) to XSLT 3."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    schema = etree.parse(str(sch_path), parser).getroot()
    if schema.tag != f"{{{SCH}}}schema":
        raise ValidationSetupError("EDM_SPECS_BROKEN", f"{sch_path} is not an ISO Schematron schema")
    nsmap = {"xsl": XSL, "svrl": OUT, "err": "http://www.w3.org/2005/xqt-errors"}
    for ns in schema.iterfind(f"{{{SCH}}}ns"):
        nsmap[ns.get("prefix")] = ns.get("uri")
    sheet = etree.Element(_x("stylesheet"), nsmap=nsmap, version="3.0")
    etree.SubElement(sheet, _x("output"), method="xml", indent="no")
    for let in schema.iterfind(f"{{{SCH}}}let"):
        etree.SubElement(sheet, _x("variable"), name=let.get("name"), select=let.get("value"))
    main = etree.SubElement(sheet, _x("template"), match="/")
    results = etree.SubElement(main, f"{{{OUT}}}results")
    for index, pattern in enumerate(schema.iterfind(f"{{{SCH}}}pattern")):
        mode = f"p{index}"
        etree.SubElement(results, _x("apply-templates"), select="/", mode=mode)
        rules = list(pattern.iterfind(f"{{{SCH}}}rule"))
        for order, rule in enumerate(rules):
            _rule_template(sheet, rule, mode, priority=len(rules) - order + 10)
        walk = etree.SubElement(sheet, _x("template"), match="/|@*|node()", mode=mode, priority="-10")
        etree.SubElement(walk, _x("apply-templates"), select="@*|node()", mode=mode)
    return CompiledSchematron(sch_path, etree.tostring(sheet, xml_declaration=True, encoding="UTF-8"))


def _rule_template(sheet: etree._Element, rule: etree._Element, mode: str, priority: int) -> None:
    template = etree.SubElement(sheet, _x("template"), match=rule.get("context") or "/", mode=mode,
                                priority=str(priority))
    for child in rule:
        if not isinstance(child.tag, str):
            continue
        local = etree.QName(child).localname
        if local == "let":
            etree.SubElement(template, _x("variable"), name=child.get("name"), select=child.get("value"))
        elif local in ("assert", "report"):
            # A test that raises a dynamic error under XPath 2 (the v1.0 files compare a node-set with a
            # number in R-EDM-ERR-C022) is evaluated again in XPath 1.0 backwards-compatible mode, as
            # XSLT-1-style engines do; if that fails as well, the rule is reported as not evaluable.
            attempt = etree.SubElement(template, _x("try"))
            _assertion(attempt, child, local)
            fallback = etree.SubElement(etree.SubElement(attempt, _x("catch")), _x("try"))
            _assertion(fallback, child, local, compatible=True)
            unevaluable = etree.SubElement(etree.SubElement(fallback, _x("catch")), f"{{{OUT}}}unevaluable")
            unevaluable.set("id", child.get("id") or "")
            etree.SubElement(unevaluable, _x("value-of"), select="$err:description")
    etree.SubElement(template, _x("apply-templates"), select="@*|node()", mode=mode)


def _assertion(parent: etree._Element, child: etree._Element, local: str, compatible: bool = False) -> None:
    test = child.get("test") or "true()"
    condition = etree.SubElement(parent, _x("if"), test=f"not({test})" if local == "assert" else test)
    if compatible:
        condition.set("version", "1.0")
    result = etree.SubElement(condition, f"{{{OUT}}}{'failed' if local == 'assert' else 'report'}")
    result.set("id", child.get("id") or "")
    result.set("role", child.get("role") or child.get("flag") or "")
    etree.SubElement(result, _x("attribute"), name="location", select="path()")
    _message(result, child)


def _message(target: etree._Element, source: etree._Element) -> None:
    if source.text:
        etree.SubElement(target, _x("text")).text = source.text
    for child in source:
        if isinstance(child.tag, str):
            local = etree.QName(child).localname
            if local == "value-of":
                etree.SubElement(target, _x("value-of"), select=child.get("select") or ".")
            elif local == "name":
                etree.SubElement(target, _x("value-of"), select=f"name({child.get('path') or '.'})")
            elif child.text:
                etree.SubElement(target, _x("text")).text = child.text
        if child.tail:
            etree.SubElement(target, _x("text")).text = child.tail


# --- running ---------------------------------------------------------------------------------------------------

_lock = threading.Lock()  # one Saxon processor per process; calls are serialised (validation is not hot)


@functools.lru_cache(maxsize=1)
def _processor():  # type: ignore[no-untyped-def]
    from saxonche import PySaxonProcessor

    return PySaxonProcessor(license=False)


@functools.lru_cache(maxsize=64)
def _executable(sch_path: Path):  # type: ignore[no-untyped-def]
    compiled = compile_schematron(sch_path)
    compiler = _processor().new_xslt30_processor()
    try:
        return compiler.compile_stylesheet(stylesheet_text=compiled.xslt.decode("utf-8"))
    except Exception as exc:  # saxonche raises PySaxonApiError
        raise ValidationSetupError("EDM_SPECS_BROKEN", f"{sch_path.name} does not compile: {exc}") from None


def run_schematron(sch_path: Path, document: etree._Element) -> list[Finding]:
    """Findings of one Schematron file against an already (hardened-)parsed document."""
    data = etree.tostring(document, encoding="unicode")
    with _lock:
        executable = _executable(sch_path.resolve())
        node = _processor().parse_xml(xml_text=data)
        try:
            output = executable.transform_to_string(xdm_node=node)
        except Exception as exc:
            return [Finding(f"SCHEMATRON-RUNTIME:{sch_path.name}", f"rule evaluation failed: {exc}", "schematron")]
    root = etree.fromstring(output.encode("utf-8"))
    findings = []
    for result in root:
        if etree.QName(result).localname == "unevaluable":
            findings.append(Finding(result.get("id") or sch_path.stem, f"official rule could not be evaluated: "
                                    f"{result.text or ''}", "schematron", "warning"))
            continue
        role = (result.get("role") or "").lower()
        severity = "warning" if role in NON_FATAL_ROLES else "error"
        if etree.QName(result).localname == "report" and role not in ("error", "fatal"):
            severity = "warning" if role != "info" else "info"
        findings.append(Finding(result.get("id") or f"{sch_path.stem}:(no id)", " ".join((result.text or "").split()),
                                "schematron", severity, result.get("location")))
    return findings
