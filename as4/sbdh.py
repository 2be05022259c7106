"""Peppol's payload envelope: the business document inside a StandardBusinessDocument (SBDH 1.0).

Peppol AS4 carries exactly one payload, an SBD whose header repeats the routing facts: Sender and Receiver
(which must equal the ``originalSender`` / ``finalRecipient`` message properties, value and scheme) and the
DOCUMENTID, PROCESSID and COUNTRY_C1 scopes. Both sides check it: we do not send what a Peppol access point
refuses, and we do not acknowledge what we would not accept (``EBMS:0004``, as Peppol implementations answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from as4.errors import EbmsError
from as4.model import FINAL_RECIPIENT, ORIGINAL_SENDER, UserMessage
from pki.ids import uuid4_str
from pki.xml.parser import XmlRefused, parse_xml

SBDH = "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader"
PARTICIPANT_SCHEME = "iso6523-actorid-upis"
DOCUMENT_SCHEME = "busdox-docid-qns"
PROCESS_SCHEME = "cenbii-procid-ubl"
REQUIRED_SCOPES = ("DOCUMENTID", "PROCESSID", "COUNTRY_C1")


@dataclass(frozen=True)
class SbdhFacts:
    sender: tuple[str, str]  # (scheme, value)
    receiver: tuple[str, str]
    scopes: dict[str, str]  # scope type -> InstanceIdentifier
    instance_identifier: str


def _split_document_type(document_type: str) -> tuple[str, str, str]:
    """``root-ns::Local##customization::version`` -> (root namespace, local name, version)."""
    syntax, _, rest = document_type.partition("##")
    version = rest.rpartition("::")[2]
    namespace, _, local = syntax.rpartition("::")
    if not (namespace and local and version):
        raise ValueError(f"not a busdox-docid-qns document type: {document_type!r}")
    return namespace, local, version


def wrap(document: bytes, *, sender: str, recipient: str, document_type: str, process: str, country: str,
         instance_id: str | None = None, created: datetime | None = None) -> bytes:
    """The business document wrapped in an SBD whose header agrees with the message properties."""
    namespace, local, version = _split_document_type(document_type)
    sbd = etree.Element(f"{{{SBDH}}}StandardBusinessDocument", nsmap={None: SBDH})
    header = etree.SubElement(sbd, f"{{{SBDH}}}StandardBusinessDocumentHeader")

    def add(parent: etree._Element, name: str, text: str | None = None, **attributes: str) -> etree._Element:
        child = etree.SubElement(parent, f"{{{SBDH}}}{name}", attributes)
        child.text = text
        return child

    add(header, "HeaderVersion", "1.0")
    add(add(header, "Sender"), "Identifier", sender, Authority=PARTICIPANT_SCHEME)
    add(add(header, "Receiver"), "Identifier", recipient, Authority=PARTICIPANT_SCHEME)
    identification = add(header, "DocumentIdentification")
    add(identification, "Standard", namespace)
    add(identification, "TypeVersion", version)
    add(identification, "InstanceIdentifier", instance_id or uuid4_str())
    add(identification, "Type", local)
    add(identification, "CreationDateAndTime",
        (created or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"))
    scopes = add(header, "BusinessScope")
    for scope_type, value, scheme in (("DOCUMENTID", document_type, DOCUMENT_SCHEME),
                                      ("PROCESSID", process, PROCESS_SCHEME), ("COUNTRY_C1", country, None)):
        scope = add(scopes, "Scope")
        add(scope, "Type", scope_type)
        add(scope, "InstanceIdentifier", value)
        if scheme:
            add(scope, "Identifier", scheme)
    sbd.append(parse_xml(document).getroot())
    return etree.tostring(sbd, encoding="UTF-8", xml_declaration=True)


def _refuse(detail: str, user_message: UserMessage) -> EbmsError:
    return EbmsError("EBMS:0004", f"Peppol SBDH: {detail}", ref_to_message_id=user_message.message_id)


def check(payload: bytes, user_message: UserMessage) -> SbdhFacts:
    """Refuse a payload that is not an SBD agreeing with the message (EBMS:0004)."""
    try:
        root = parse_xml(payload).getroot()
    except XmlRefused as exc:
        raise _refuse(f"the payload is not XML we accept ({exc.code})", user_message) from None
    if root.tag != f"{{{SBDH}}}StandardBusinessDocument":
        raise _refuse(f"the payload is {root.tag}, not a StandardBusinessDocument", user_message)
    header = root.find(f"{{{SBDH}}}StandardBusinessDocumentHeader")
    if header is None or len(root) != 2:
        raise _refuse("the SBD needs a StandardBusinessDocumentHeader and exactly one business document",
                      user_message)

    def party(role: str) -> tuple[str, str]:
        identifier = header.find(f"{{{SBDH}}}{role}/{{{SBDH}}}Identifier")
        if identifier is None or not (identifier.text or "").strip():
            raise _refuse(f"the SBDH has no {role}/Identifier", user_message)
        return identifier.get("Authority", ""), identifier.text.strip()

    scopes = {}
    for scope in header.iterfind(f"{{{SBDH}}}BusinessScope/{{{SBDH}}}Scope"):
        scopes[(scope.findtext(f"{{{SBDH}}}Type") or "").strip()] = (
            scope.findtext(f"{{{SBDH}}}InstanceIdentifier") or "").strip()
    missing = [name for name in REQUIRED_SCOPES if not scopes.get(name)]
    if missing:
        raise _refuse(f"the SBDH lacks the scopes {', '.join(missing)}", user_message)
    facts = SbdhFacts(party("Sender"), party("Receiver"), scopes,
                      (header.findtext(f"{{{SBDH}}}DocumentIdentification/{{{SBDH}}}InstanceIdentifier") or ""))
    for role, prop_name, value in (("Sender", ORIGINAL_SENDER, facts.sender),
                                   ("Receiver", FINAL_RECIPIENT, facts.receiver)):
        prop = next((p for p in user_message.message_properties if p.name == prop_name), None)
        if prop is None or (prop.type or "", prop.value) != value:
            raise _refuse(f"the SBDH {role} {value[0]}::{value[1]} does not match the {prop_name} property",
                          user_message)
    return facts
