"""What the publisher writes is valid against the official SMP schemas (shared specs); broken documents are not."""

from __future__ import annotations

import os

import pytest
from lxml import etree

from smp_client import publish, schema
from smp_client.model import Flavour, Redirect, ServiceMetadata
from smp_client.parse import read_xml
from tests.conftest import IN_CI
from tests.smp_client.smpfixtures import DOC, PARTICIPANT, metadata, partner_endpoint, smp_keys

if schema.default_specs_dir() is None:  # pragma: no cover - the shared specs are present in CI
    if IN_CI:
        raise RuntimeError("GATEWAY_SPECS_DIR is required under CI")
    pytest.skip(f"no specs directory ({os.environ.get('GATEWAY_SPECS_DIR')})", allow_module_level=True)

FLAVOURS = [Flavour.OASIS_1, Flavour.PEPPOL, Flavour.OASIS_2]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_signed_service_metadata_is_schema_valid(flavour: Flavour) -> None:
    doc = metadata(flavour, partner_endpoint(v2=True) if flavour is Flavour.OASIS_2 else partner_endpoint())
    assert schema.validate(read_xml(publish.build(doc, smp_keys().signer))) == []


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_redirect_and_service_group_are_schema_valid(flavour: Flavour) -> None:
    cert = smp_keys().signer.certificate
    assert cert is not None
    redirect = ServiceMetadata(flavour, PARTICIPANT, DOC, (), Redirect("https://smp2.example/x", "CN=x", (cert,)))
    assert schema.validate(read_xml(publish.build(redirect, smp_keys().signer))) == []
    group = publish.service_group_2(PARTICIPANT, [DOC]) if flavour is Flavour.OASIS_2 else \
        publish.service_group_1(flavour, PARTICIPANT, ["https://smp.example/a"])
    assert schema.validate(read_xml(group)) == []


def test_invalid_document_reported() -> None:
    root = read_xml(publish.build(metadata(Flavour.OASIS_2), None))
    root.remove(root.find("{http://docs.oasis-open.org/bdxr/ns/SMP/2/BasicComponents}SMPVersionID"))
    errors = schema.validate(root)
    assert errors and any("SMPVersionID" in e or "ID" in e for e in errors)
    assert etree.QName(root).localname == "ServiceMetadata"
