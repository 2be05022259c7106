"""query:QueryResponse: evidence responses (status Success) and exception responses (status Failure)."""

from __future__ import annotations

from lxml import etree

from oots.edm import sdg as S
from oots.edm.errors import EdmCodecError
from oots.edm.model import EdmException, EvidenceItem, ExceptionResponse, QueryResponse, RepositoryItemRef
from oots.edm.ns import (
    EDM_CLASSIFICATION_SCHEME,
    NSMAP,
    STATUS_FAILURE,
    STATUS_SUCCESS,
    XLINK,
    XSI_TYPE,
    local_type,
    q,
    query,
    rim,
    rs,
)
from oots.edm.slots import (
    any_slot,
    collection_element,
    collection_slot,
    datetime_slot,
    localized_slot,
    one,
    parse_datetime,
    read_any,
    read_datetime,
    read_localized,
    read_one_any,
    read_string,
    slots_by_name,
    string_slot,
)
from oots.edm.versions import version_for

Element = etree._Element
HREF, TITLE = q(XLINK, "href"), q(XLINK, "title")


def _registry_object(parent: Element, value_type: str, object_id: str) -> Element:
    element = etree.SubElement(parent, rim("RegistryObject"))
    element.set(XSI_TYPE, f"rim:{value_type}")
    element.set("id", object_id)
    return element


def _add_item(parent: Element, item: EvidenceItem, classified: bool) -> None:
    extrinsic = _registry_object(parent, "ExtrinsicObjectType", item.id)
    S.add_evidence(any_slot(extrinsic, "EvidenceMetadata"), item.metadata)
    if classified:
        if item.classification_node is None or item.classification_id is None:
            raise EdmCodecError("EDM_MISSING", "v2.0 evidence needs a classification node and id", where=item.id)
        etree.SubElement(extrinsic, rim("Classification"), id=item.classification_id,
                         classificationScheme=EDM_CLASSIFICATION_SCHEME, classificationNode=item.classification_node)
    if item.repository_item is not None:
        ref = etree.SubElement(extrinsic, rim("RepositoryItemRef"))
        ref.set(HREF, item.repository_item.href)
        if item.repository_item.title is not None:
            ref.set(TITLE, item.repository_item.title)


def build_response(response: QueryResponse) -> Element:
    version = response.version
    root = etree.Element(query("QueryResponse"), nsmap=NSMAP)
    root.set("status", STATUS_SUCCESS)
    root.set("requestId", response.request_id)
    string_slot(root, "SpecificationIdentifier", version.specification_id)
    string_slot(root, "EvidenceResponseIdentifier", response.response_id)
    datetime_slot(root, "IssueDateTime", response.issue_datetime)
    if response.response_available_datetime is not None:
        datetime_slot(root, "ResponseAvailableDateTime", response.response_available_datetime)
    providers = collection_slot(root, "EvidenceProvider", as_set=version.collections_as_set)
    for agent in response.evidence_providers:
        S.add_agent(collection_element(providers), agent)
    S.add_agent(any_slot(root, "EvidenceRequester"), response.evidence_requester)
    objects = etree.SubElement(root, rim("RegistryObjectList"))
    if not version.evidence_in_packages:
        for item in response.evidence:
            _add_item(objects, item, classified=False)
        return root
    packages: dict[str, Element] = {}
    for item in response.evidence:
        if item.package_id is None:
            raise EdmCodecError("EDM_MISSING", "v2.0 evidence sits in a RegistryPackage: package_id needed",
                                where=item.id)
        if item.package_id not in packages:
            package = _registry_object(objects, "RegistryPackageType", item.package_id)
            packages[item.package_id] = etree.SubElement(package, rim("RegistryObjectList"))
        _add_item(packages[item.package_id], item, classified=True)
    return root


def build_exception(response: ExceptionResponse) -> Element:
    version = response.version
    error = response.exception
    root = etree.Element(query("QueryResponse"), nsmap=NSMAP)
    root.set("requestId", response.request_id)
    root.set("status", STATUS_FAILURE)
    string_slot(root, "SpecificationIdentifier", version.specification_id)
    string_slot(root, "EvidenceResponseIdentifier", response.response_id)
    S.add_agent(any_slot(root, "ErrorProvider"), response.error_provider)
    if response.evidence_requester is not None:
        S.add_agent(any_slot(root, "EvidenceRequester"), response.evidence_requester)
    exception = etree.SubElement(root, rs("Exception"))
    exception.set(XSI_TYPE, error.exception_type)
    exception.set("severity", error.severity)
    exception.set("message", error.message)
    if error.detail is not None:
        exception.set("detail", error.detail)
    exception.set("code", error.code)
    if error.timestamp is not None:
        datetime_slot(exception, "Timestamp", error.timestamp)
    if error.preview_location is not None:
        string_slot(exception, "PreviewLocation", error.preview_location)
    if error.preview_description:
        localized_slot(exception, "PreviewDescription", error.preview_description)
    if error.preview_method is not None:
        string_slot(exception, "PreviewMethod", error.preview_method)
    return root


def _read_item(element: Element, package_id: str | None) -> EvidenceItem:
    item_id = element.get("id") or ""
    metadata_slot = one(slots_by_name(element), "EvidenceMetadata", f"RegistryObject {item_id}")
    ref = element.find(rim("RepositoryItemRef"))
    classification = element.find(rim("Classification"))
    return EvidenceItem(
        id=item_id,
        metadata=S.read_evidence(read_one_any(metadata_slot, "Evidence")),  # type: ignore[arg-type]
        repository_item=None if ref is None else RepositoryItemRef(ref.get(HREF) or "", ref.get(TITLE)),
        package_id=package_id,
        classification_node=None if classification is None else classification.get("classificationNode"),
        classification_id=None if classification is None else classification.get("id"),
    )


def _read_evidence(root: Element) -> tuple[EvidenceItem, ...]:
    items: list[EvidenceItem] = []
    for obj in root.iterfind(f"{rim('RegistryObjectList')}/{rim('RegistryObject')}"):
        if local_type(obj.get(XSI_TYPE)) == "RegistryPackageType":
            for inner in obj.iterfind(f"{rim('RegistryObjectList')}/{rim('RegistryObject')}"):
                items.append(_read_item(inner, obj.get("id")))
        else:
            items.append(_read_item(obj, None))
    return tuple(items)


def parse_response(root: Element) -> QueryResponse | ExceptionResponse:
    where = "query:QueryResponse"
    request_id = root.get("requestId")
    if not request_id:
        raise EdmCodecError("EDM_MISSING", "attribute requestId is required", where=where)
    found = slots_by_name(root)
    version = version_for(read_string(one(found, "SpecificationIdentifier", where)))  # type: ignore[arg-type]
    response_id = read_string(one(found, "EvidenceResponseIdentifier", where))  # type: ignore[arg-type]
    requester_slot = one(found, "EvidenceRequester", where, required=False)
    requester = None if requester_slot is None else S.read_agent(read_one_any(requester_slot, "Agent"))
    status = root.get("status")
    if status == STATUS_FAILURE:
        exceptions = root.findall(rs("Exception"))
        if len(exceptions) != 1:
            raise EdmCodecError("EDM_BAD_VALUE", f"a Failure response holds one rs:Exception, not {len(exceptions)}",
                                where=where)
        provider = one(found, "ErrorProvider", where)
        return ExceptionResponse(
            specification_id=version.specification_id, request_id=request_id, response_id=response_id,
            error_provider=S.read_agent(read_one_any(provider, "Agent")),  # type: ignore[arg-type]
            exception=_read_exception(exceptions[0]), evidence_requester=requester,
        )
    if status != STATUS_SUCCESS:
        raise EdmCodecError("EDM_BAD_VALUE", f"status {status!r} is neither Success nor Failure", where=where)
    if requester is None:
        raise EdmCodecError("EDM_MISSING", "slot 'EvidenceRequester' is required", where=where)
    available = one(found, "ResponseAvailableDateTime", where, required=False)
    return QueryResponse(
        specification_id=version.specification_id, request_id=request_id, response_id=response_id,
        issue_datetime=read_datetime(one(found, "IssueDateTime", where)),  # type: ignore[arg-type]
        evidence_providers=tuple(
            S.read_agent(e) for e in read_any(one(found, "EvidenceProvider", where))),  # type: ignore[arg-type]
        evidence_requester=requester,
        evidence=_read_evidence(root),
        response_available_datetime=None if available is None else read_datetime(available),
    )


def _read_exception(element: Element) -> EdmException:
    where = "rs:Exception"
    found = slots_by_name(element)
    timestamp = one(found, "Timestamp", where, required=False)
    location = one(found, "PreviewLocation", where, required=False)
    description = one(found, "PreviewDescription", where, required=False)
    method = one(found, "PreviewMethod", where, required=False)
    code = element.get("code")
    if not code:
        raise EdmCodecError("EDM_MISSING", "attribute code is required", where=where)
    return EdmException(
        exception_type=element.get(XSI_TYPE) or "",
        code=code,
        message=element.get("message") or "",
        severity=element.get("severity") or "",
        timestamp=None if timestamp is None else parse_datetime(read_string(timestamp), "Timestamp"),
        detail=element.get("detail"),
        preview_location=None if location is None else read_string(location),
        preview_description=() if description is None else read_localized(description),
        preview_method=None if method is None else read_string(method),
    )
