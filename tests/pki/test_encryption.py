"""XML Encryption with RSA-OAEP key transport and AES-GCM: SAML and AS4 shapes, interop with python-xmlsec."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import xmlsec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519
from lxml import etree

from pki.devpki.operations import init_pki
from pki.keys.file_store import FileKeyStore
from pki.keys.port import KeyPurpose
from pki.xml import algorithms as A
from pki.xml import ns
from pki.xml.decryption import decrypt_document
from pki.xml.encryption import (
    XENC,
    EncryptionError,
    attachment_encrypted_data,
    encrypt_attachment,
    encrypt_element,
    encrypted_key,
    encrypted_key_reference,
    find_in_store,
    new_cek,
)
from pki.xml.keyinfo import token_reference, x509_data
from pki.xml.parser import parse_xml
from tests.pki.attach_parts import MemoryPart

ASSERTION = (b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
             b'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r"><saml:EncryptedAssertion>'
             b'<saml:Assertion ID="_a"><saml:Subject><saml:NameID>LV/DE/123</saml:NameID></saml:Subject>'
             b'<saml:AttributeStatement><saml:Attribute Name="FamilyName">'
             b'<saml:AttributeValue>B\xc4\x93rzi\xc5\x86\xc5\xa1'
             b'</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion>'
             b'</saml:EncryptedAssertion></samlp:Response>')


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> FileKeyStore:
    directory = tmp_path_factory.mktemp("enc") / "pki"
    init_pki(directory, node_id="LV-ENC")
    return FileKeyStore(directory)


_KEY_TYPES = {"rsa": rsa.RSAPublicKey, "ec": ec.EllipticCurvePublicKey, "x25519": x25519.X25519PublicKey}


def _recipient(store: FileKeyStore, purpose: KeyPurpose = KeyPurpose.SAML_ENCRYPTION, family: str = "rsa"):
    return next(c for c in store.published_certificates(purpose) if isinstance(c.public_key(), _KEY_TYPES[family]))


def _saml_encrypted(store: FileKeyStore, policy: A.AlgorithmPolicy = A.EIDAS_1_3) -> bytes:
    root = parse_xml(ASSERTION).getroot()
    assertion = root.find(".//{urn:oasis:names:tc:SAML:2.0:assertion}Assertion")
    recipient = _recipient(store)
    algorithm, cek = new_cek(policy)
    key = encrypted_key(cek, recipient, x509_data([recipient]), policy)
    encrypt_element(assertion, cek, algorithm, key_info=key)
    return etree.tostring(root)


def test_saml_assertion_round_trip(store: FileKeyStore) -> None:
    data = _saml_encrypted(store)
    assert b"LV/DE/123" not in data and b"EncryptedKey" in data
    root = parse_xml(data).getroot()
    result = decrypt_document(root, find_in_store(store, KeyPurpose.SAML_ENCRYPTION), A.EIDAS_1_3)
    assert [el.tag for el in result.elements] == ["{urn:oasis:names:tc:SAML:2.0:assertion}Assertion"]
    assert result.elements[0].getparent().tag.endswith("EncryptedAssertion")
    assert etree.tostring(root) == etree.tostring(parse_xml(ASSERTION).getroot())


def test_fresh_cek_and_iv_per_message(store: FileKeyStore) -> None:
    first, second = _saml_encrypted(store), _saml_encrypted(store)
    values = [parse_xml(d).getroot().findall(f".//{{{XENC}}}CipherValue") for d in (first, second)]
    assert all(a.text != b.text for a, b in zip(values[0], values[1], strict=True))


def _xmlsec_manager(store: FileKeyStore) -> xmlsec.KeysManager:
    recipient = _recipient(store)
    entry = store.find_entry(KeyPurpose.SAML_ENCRYPTION, certificate=recipient)
    key_pem = (store.path(entry.key_file)).read_bytes()
    manager = xmlsec.KeysManager()
    key = xmlsec.Key.from_memory(key_pem, xmlsec.constants.KeyDataFormatPem)
    key.load_cert_from_memory(recipient.public_bytes(serialization.Encoding.PEM), xmlsec.constants.KeyDataFormatCertPem)
    manager.add_key(key)
    return manager


def test_ours_decrypts_in_xmlsec(store: FileKeyStore) -> None:
    """AES-128-GCM + xenc11 RSA-OAEP (MGF1-SHA256, SHA-256), read by libxmlsec1."""
    root = etree.fromstring(_saml_encrypted(store, A.EDELIVERY_AS4_1_15))
    encrypted = root.find(f".//{{{XENC}}}EncryptedData")
    context = xmlsec.EncryptionContext(_xmlsec_manager(store))
    decrypted = context.decrypt(encrypted)
    assert decrypted.tag == "{urn:oasis:names:tc:SAML:2.0:assertion}Assertion"
    assert decrypted.findtext(".//{urn:oasis:names:tc:SAML:2.0:assertion}NameID") == "LV/DE/123"


def test_xmlsec_encryption_decrypts_in_ours(store: FileKeyStore) -> None:
    recipient = _recipient(store)
    root = etree.fromstring(ASSERTION)
    assertion = root.find(".//{urn:oasis:names:tc:SAML:2.0:assertion}Assertion")
    template = xmlsec.template.encrypted_data_create(root, xmlsec.constants.TransformAes128Gcm,
                                                      type=xmlsec.constants.TypeEncElement, ns="xenc")
    key_info = xmlsec.template.encrypted_data_ensure_key_info(template, ns="ds")
    # xenc11 rsa-oaep has no constant: start from rsa-oaep-mgf1p and write the URI, MGF and digest in.
    enc_key = xmlsec.template.add_encrypted_key(key_info, xmlsec.constants.TransformRsaOaep)
    method = enc_key.find(f"{{{XENC}}}EncryptionMethod")
    method.set("Algorithm", A.RSA_OAEP)
    etree.SubElement(method, f"{{{ns.DS}}}DigestMethod", Algorithm=A.SHA256)
    etree.SubElement(method, "{http://www.w3.org/2009/xmlenc11#}MGF", Algorithm=A.MGF1_SHA256)
    xmlsec.template.add_x509_data(xmlsec.template.encrypted_data_ensure_key_info(enc_key))
    for holder in (enc_key, template):  # python-xmlsec's templates leave CipherData empty; libxmlsec1 fills these
        etree.SubElement(holder.find(f"{{{XENC}}}CipherData"), f"{{{XENC}}}CipherValue")
    manager = xmlsec.KeysManager()
    manager.add_key(xmlsec.Key.from_memory(recipient.public_bytes(serialization.Encoding.PEM),
                                           xmlsec.constants.KeyDataFormatCertPem))
    context = xmlsec.EncryptionContext(manager)
    context.key = xmlsec.Key.generate(xmlsec.constants.KeyDataAes, 128, xmlsec.constants.KeyDataTypeSession)
    context.encrypt_xml(template, assertion)
    data = etree.tostring(root)
    assert b"LV/DE/123" not in data

    document = parse_xml(data).getroot()
    result = decrypt_document(document, find_in_store(store, KeyPurpose.SAML_ENCRYPTION), A.EDELIVERY_AS4_1_15)
    assert result.elements[0].findtext(".//{urn:oasis:names:tc:SAML:2.0:assertion}NameID") == "LV/DE/123"


def _as4(store: FileKeyStore, parts: dict[str, MemoryPart]) -> tuple[bytes, dict[str, MemoryPart]]:
    """The AS4 1.15 shape: EncryptedKey with ReferenceList in the Security header, one EncryptedData per part."""
    root = parse_xml(f'<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope"><S:Header>'
                     f'<wsse:Security xmlns:wsse="{ns.WSSE}"/></S:Header><S:Body/></S:Envelope>'.encode()).getroot()
    security = root[0][0]
    recipient = _recipient(store, KeyPurpose.AS4_ENCRYPTION)
    algorithm, cek = new_cek(A.EDELIVERY_AS4_1_15)
    encrypted_parts = {}
    data_elements = []
    key_id = "EK-1"
    for cid, part in parts.items():
        data_el = attachment_encrypted_data(cid, part.headers["Content-Type"], algorithm,
                                            key_info=encrypted_key_reference(key_id))
        data_elements.append(data_el)
        encrypted_parts[cid] = MemoryPart({"Content-Type": "application/octet-stream"},
                                          list(encrypt_attachment(cek, part.chunks())), cid)
    security.append(encrypted_key(cek, recipient, token_reference(issuer_serial_of=recipient), A.EDELIVERY_AS4_1_15,
                                  data_references=[el.get("Id") for el in data_elements], element_id=key_id))
    security.extend(data_elements)
    return etree.tostring(root), encrypted_parts


PARTS = {
    "empty@x": MemoryPart({"Content-Type": "application/octet-stream"}, [], "empty@x"),
    "one@x": MemoryPart({"Content-Type": "text/plain"}, [b"1"], "one@x"),
    "mega@x": MemoryPart({"Content-Type": "application/gzip"}, [os.urandom(1024 * 1024)], "mega@x"),
    "xml@x": MemoryPart({"Content-Type": "application/x-ebrs+xml"}, [b"<q:Query xmlns:q='urn:q'/>"], "xml@x"),
}


def test_as4_attachments_round_trip(store: FileKeyStore) -> None:
    data, encrypted = _as4(store, PARTS)
    root = parse_xml(data).getroot()
    result = decrypt_document(root, find_in_store(store, KeyPurpose.AS4_ENCRYPTION), A.EDELIVERY_AS4_1_15,
                              parts=encrypted.__getitem__)
    try:
        for cid, part in PARTS.items():
            assert result.parts[cid].plaintext.read_all() == b"".join(part.pieces)
            assert result.parts[cid].mime_type == part.headers["Content-Type"]
    finally:
        result.close()


@pytest.mark.parametrize("damage", ["flip", "truncate-tag", "drop-iv"])
def test_damaged_attachment_is_refused(store: FileKeyStore, damage: str) -> None:
    data, encrypted = _as4(store, {"one@x": PARTS["one@x"]})
    content = b"".join(encrypted["one@x"].pieces)
    damaged = {"flip": content[:14] + bytes([content[14] ^ 1]) + content[15:], "truncate-tag": content[:-1],
               "drop-iv": content[12:]}[damage]
    with pytest.raises(EncryptionError) as caught:
        decrypt_document(parse_xml(data).getroot(), find_in_store(store, KeyPurpose.AS4_ENCRYPTION),
                         A.EDELIVERY_AS4_1_15, parts={"one@x": MemoryPart({}, [damaged], "one@x")}.__getitem__)
    assert caught.value.code == "XMLENC_AUTHENTICATION_FAILED"


def test_missing_part_and_wrong_recipient(store: FileKeyStore, tmp_path: Path) -> None:
    data, _ = _as4(store, {"one@x": PARTS["one@x"]})
    with pytest.raises(EncryptionError) as caught:
        decrypt_document(parse_xml(data).getroot(), find_in_store(store, KeyPurpose.AS4_ENCRYPTION),
                         A.EDELIVERY_AS4_1_15, parts={}.__getitem__)
    assert caught.value.code == "XMLENC_REFERENCE_NOT_FOUND"
    init_pki(tmp_path / "other", node_id="XX-OTHER")
    with pytest.raises(EncryptionError) as caught:
        decrypt_document(parse_xml(_saml_encrypted(store)).getroot(),
                         find_in_store(FileKeyStore(tmp_path / "other"), KeyPurpose.SAML_ENCRYPTION), A.EIDAS_1_3)
    assert caught.value.code == "XMLENC_KEY_NOT_FOUND"


def test_flipped_cipher_value_and_wrapped_key(store: FileKeyStore) -> None:
    import base64

    root = parse_xml(_saml_encrypted(store)).getroot()
    values = root.findall(f".//{{{XENC}}}CipherValue")  # [EncryptedKey's, EncryptedData's]
    for index, code in ((1, "XMLENC_AUTHENTICATION_FAILED"), (0, "XMLENC_KEY_DECRYPTION_FAILED")):
        copy = parse_xml(etree.tostring(root)).getroot()
        target = copy.findall(f".//{{{XENC}}}CipherValue")[index]
        raw = bytearray(base64.b64decode(values[index].text))
        raw[len(raw) // 2] ^= 0x40
        target.text = base64.b64encode(bytes(raw)).decode()
        with pytest.raises(EncryptionError) as caught:
            decrypt_document(copy, find_in_store(store, KeyPurpose.SAML_ENCRYPTION), A.EIDAS_1_3)
        assert caught.value.code == code


@pytest.mark.parametrize(("uri", "kind"), [
    ("http://www.w3.org/2001/04/xmlenc#tripledes-cbc", "data"),
    ("http://www.w3.org/2001/04/xmlenc#aes128-cbc", "data"),
    ("http://www.w3.org/2001/04/xmlenc#rsa-1_5", "key transport"),
])
def test_weak_algorithms_are_refused(store: FileKeyStore, uri: str, kind: str) -> None:
    root = parse_xml(_saml_encrypted(store)).getroot()
    methods = root.findall(f".//{{{XENC}}}EncryptionMethod")  # [EncryptedData's, EncryptedKey's]
    methods[0 if kind == "data" else 1].set("Algorithm", uri)
    with pytest.raises(A.AlgorithmRefused) as caught:
        decrypt_document(root, find_in_store(store, KeyPurpose.SAML_ENCRYPTION), A.EIDAS_1_3)
    assert caught.value.uri == uri and caught.value.code == "XMLDSIG_ALGORITHM_REFUSED"


def test_mgf1p_is_read_but_never_written(store: FileKeyStore) -> None:
    policy = A.EIDAS_1_3
    with pytest.raises(A.AlgorithmRefused):
        policy.check_encryption("key_transports", A.RSA_OAEP_MGF1P, writing=True)
    with pytest.raises(A.AlgorithmRefused):  # and AS4 1.15 does not read it at all
        A.EDELIVERY_AS4_1_15.check_encryption("key_transports", A.RSA_OAEP_MGF1P)


@pytest.mark.parametrize(("policy", "family"), [(A.EDELIVERY_AS4_2_0, "x25519"), (A.EDELIVERY_AS4_2_0, "ec"),
                                                (A.EIDAS_1_3, "ec"), (A.EIDAS_1_4, "ec")])
def test_key_agreement_round_trip_through_the_document_layer(store: FileKeyStore, policy, family: str) -> None:
    """AS4 2.0 (X25519 / ECDH-ES + HKDF + kw-aes128) and eIDAS (ECDH-ES + ConcatKDF) end to end."""
    purpose = KeyPurpose.AS4_ENCRYPTION if family == "x25519" else KeyPurpose.SAML_ENCRYPTION
    recipient = _recipient(store, purpose, family)
    messages = []
    for _ in range(2):
        root = parse_xml(ASSERTION).getroot()
        assertion = root.find(".//{urn:oasis:names:tc:SAML:2.0:assertion}Assertion")
        algorithm, cek = new_cek(policy)
        key = encrypted_key(cek, recipient, token_reference(issuer_serial_of=recipient), policy)
        encrypt_element(assertion, cek, algorithm, key_info=key)
        messages.append(etree.tostring(root))
    assert b"AgreementMethod" in messages[0]
    originators = [parse_xml(m).getroot().find(f".//{{{XENC}}}OriginatorKeyInfo") for m in messages]
    assert etree.tostring(originators[0]) != etree.tostring(originators[1])  # a fresh ephemeral key per message
    document = parse_xml(messages[0]).getroot()
    result = decrypt_document(document, find_in_store(store, purpose), policy)
    assert result.elements[0].findtext(".//{urn:oasis:names:tc:SAML:2.0:assertion}NameID") == "LV/DE/123"
    with pytest.raises(A.AlgorithmRefused):  # RSA-only profile refuses key agreement
        decrypt_document(parse_xml(messages[1]).getroot(), find_in_store(store, purpose), A.EDELIVERY_AS4_1_15)
