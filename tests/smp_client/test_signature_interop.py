"""SMP signatures interoperate with an independent implementation (python-xmlsec / libxmlsec1), both ways:
what our publisher signs verifies there, and an SMP document signed there verifies here against the trust store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import xmlsec
from cryptography.hazmat.primitives import serialization
from lxml import etree

from pki.keys.file_store import FileKeyStore
from pki.keys.port import KeyPurpose
from pki.xml import ns
from smp_client import publish
from smp_client.documents import read_service_metadata
from smp_client.errors import SmpDocumentError
from smp_client.model import Flavour
from tests.smp_client.smpfixtures import PARTICIPANT, metadata, smp_keys

FLAVOURS = [Flavour.OASIS_1, Flavour.PEPPOL, Flavour.OASIS_2]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_ours_verifies_in_xmlsec(flavour: Flavour) -> None:
    keys = smp_keys()
    cert = keys.signer.certificate
    assert cert is not None
    root = etree.fromstring(publish.build(metadata(flavour), keys.signer))
    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_memory(cert.public_bytes(serialization.Encoding.PEM),
                                         xmlsec.constants.KeyDataFormatCertPem)
    context.verify(xmlsec.tree.find_node(root, xmlsec.constants.NodeSignature))  # raises when invalid


def _xmlsec_signed(flavour: Flavour, tamper: bool = False) -> bytes:
    smp = FileKeyStore(smp_keys().pki.node_dir.parent / "smp")  # the trusted SMP signer's key directory
    root = etree.fromstring(publish.build(metadata(flavour), None) if flavour is Flavour.OASIS_2 else
                            _unsigned_wrapper(flavour))
    signature = xmlsec.template.create(root, xmlsec.constants.TransformExclC14N, xmlsec.constants.TransformRsaSha256)
    root.append(signature)
    reference = xmlsec.template.add_reference(signature, xmlsec.constants.TransformSha256, uri="")
    xmlsec.template.add_transform(reference, xmlsec.constants.TransformEnveloped)
    xmlsec.template.add_transform(reference, xmlsec.constants.TransformExclC14N)
    xmlsec.template.add_x509_data(xmlsec.template.ensure_key_info(signature))
    rsa_entry = next(e for e in smp.entries(KeyPurpose.SMP_SIGNING) if e.family == "rsa")
    context = xmlsec.SignatureContext()
    context.key = xmlsec.Key.from_file(str(smp.path(rsa_entry.key_file)), xmlsec.constants.KeyDataFormatPem)
    context.key.load_cert_from_file(str(smp.path(rsa_entry.cert_file)), xmlsec.constants.KeyDataFormatPem)
    context.sign(signature)
    data = etree.tostring(root)
    return data.replace(b"ap.partner.example", b"ap.evil.example") if tamper else data


def _unsigned_wrapper(flavour: Flavour) -> bytes:
    """The SignedServiceMetadata wrapper our publisher writes, without its signature."""
    root = etree.fromstring(publish.build(metadata(flavour), smp_keys().signer))
    root.remove(root.find(ns.q(ns.DS, "Signature")))
    return etree.tostring(root)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_xmlsec_signed_verifies_here(flavour: Flavour) -> None:
    keys = smp_keys()
    parsed = read_service_metadata(_xmlsec_signed(flavour), trust=keys.trust, now=datetime.now(UTC))
    assert parsed.participant == PARTICIPANT and parsed.signer == keys.signer.certificate
    with pytest.raises(SmpDocumentError) as caught:
        read_service_metadata(_xmlsec_signed(flavour, tamper=True), trust=keys.trust, now=datetime.now(UTC))
    assert caught.value.code == "SMP_SIGNATURE_INVALID"
