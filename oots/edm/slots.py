"""rim:Slot ↔ Python values: the RegRep 4 slot value types the EDM uses."""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from oots.edm.errors import EdmCodecError
from oots.edm.model import Text
from oots.edm.ns import COLLECTION_SET, SDG, XML_LANG, XSI_TYPE, local_type, rim

Element = etree._Element


# --- writing -------------------------------------------------------------------------------------------------

def _slot(parent: Element, name: str, value_type: str) -> Element:
    slot = etree.SubElement(parent, rim("Slot"), name=name)
    value = etree.SubElement(slot, rim("SlotValue"))
    value.set(XSI_TYPE, f"rim:{value_type}")
    return value


def string_slot(parent: Element, name: str, value: str) -> None:
    etree.SubElement(_slot(parent, name, "StringValueType"), rim("Value")).text = value


def datetime_slot(parent: Element, name: str, value: datetime) -> None:
    etree.SubElement(_slot(parent, name, "DateTimeValueType"), rim("Value")).text = format_datetime(value)


def boolean_slot(parent: Element, name: str, value: bool) -> None:
    etree.SubElement(_slot(parent, name, "BooleanValueType"), rim("Value")).text = "true" if value else "false"


def localized_slot(parent: Element, name: str, values: tuple[Text, ...]) -> None:
    holder = etree.SubElement(_slot(parent, name, "InternationalStringValueType"), rim("Value"))
    for text in values:
        localized = etree.SubElement(holder, rim("LocalizedString"))
        if text.lang is not None:
            localized.set(XML_LANG, text.lang)
        localized.set("value", text.value)


def any_slot(parent: Element, name: str) -> Element:
    """The SlotValue (rim:AnyValueType) to append one sdg element to."""
    return _slot(parent, name, "AnyValueType")


def collection_slot(parent: Element, name: str, *, as_set: bool = True) -> Element:
    value = _slot(parent, name, "CollectionValueType")
    if as_set:
        value.set("collectionType", COLLECTION_SET)
    return value


def collection_element(collection: Element) -> Element:
    element = etree.SubElement(collection, rim("Element"))
    element.set(XSI_TYPE, "rim:AnyValueType")
    return element


def format_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise EdmCodecError("EDM_NAIVE_DATETIME", "timestamps need a time zone")
    return value.isoformat()


# --- reading -------------------------------------------------------------------------------------------------

def slots_by_name(parent: Element) -> dict[str, list[Element]]:
    found: dict[str, list[Element]] = {}
    for slot in parent.findall(rim("Slot")):
        found.setdefault(slot.get("name") or "", []).append(slot)
    return found


def one(found: dict[str, list[Element]], name: str, where: str, *, required: bool = True) -> Element | None:
    slots = found.get(name, [])
    if len(slots) > 1:
        raise EdmCodecError("EDM_DUPLICATE_SLOT", f"slot {name!r} appears {len(slots)} times", where=where)
    if not slots:
        if required:
            raise EdmCodecError("EDM_MISSING", f"slot {name!r} is required", where=where)
        return None
    return slots[0]


def slot_value(slot: Element) -> Element:
    value = slot.find(rim("SlotValue"))
    if value is None:
        raise EdmCodecError("EDM_MISSING", "rim:SlotValue is required", where=f"Slot {slot.get('name')}")
    return value


def read_string(slot: Element) -> str:
    value = slot_value(slot).find(rim("Value"))
    text = (value.text or "").strip() if value is not None else ""
    if not text:
        raise EdmCodecError("EDM_MISSING", "rim:Value is empty", where=f"Slot {slot.get('name')}")
    return text


def read_boolean(slot: Element) -> bool:
    text = read_string(slot)
    if text not in ("true", "false", "1", "0"):
        raise EdmCodecError("EDM_BAD_VALUE", f"{text!r} is not an xsd:boolean", where=f"Slot {slot.get('name')}")
    return text in ("true", "1")


def parse_datetime(text: str, where: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise EdmCodecError("EDM_BAD_VALUE", f"{text!r} is not an xsd:dateTime", where=where) from None
    if value.tzinfo is None:
        raise EdmCodecError("EDM_NAIVE_DATETIME", f"{text!r} has no time zone", where=where)
    return value


def read_datetime(slot: Element) -> datetime:
    return parse_datetime(read_string(slot), f"Slot {slot.get('name')}")


def read_localized(slot: Element) -> tuple[Text, ...]:
    """InternationalStringValueType (v1.x) or a plain StringValueType code (v2.0) as texts."""
    value = slot_value(slot)
    if local_type(value.get(XSI_TYPE)) == "StringValueType":
        return (Text(read_string(slot)),)
    return tuple(
        Text(s.get("value") or "", s.get(XML_LANG))
        for s in value.iterfind(f"{rim('Value')}/{rim('LocalizedString')}")
    )


def read_any(slot: Element) -> list[Element]:
    """The sdg elements a slot carries, directly (AnyValueType) or one per collection element."""
    value = slot_value(slot)
    if local_type(value.get(XSI_TYPE)) == "CollectionValueType":
        return [c for e in value.findall(rim("Element")) for c in e if _is_sdg(c)]
    return [c for c in value if _is_sdg(c)]


def read_one_any(slot: Element, local: str) -> Element:
    found = [e for e in read_any(slot) if etree.QName(e).localname == local]
    if len(found) != 1:
        raise EdmCodecError("EDM_BAD_VALUE", f"expected one sdg:{local}, found {len(found)}",
                            where=f"Slot {slot.get('name')}")
    return found[0]


def _is_sdg(element: Element) -> bool:
    return isinstance(element.tag, str) and element.tag.startswith("{" + SDG + "}")
