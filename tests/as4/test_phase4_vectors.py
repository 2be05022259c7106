"""phase4's AS4 test files (../shared/vectors/as4-phase4-testfiles) give the verdicts its README records.

Only the structural verdicts are this codec's business. WrongSigningAlgorithm.xml and
WrongSigningDigestAlgorithm.xml are refused by the security layer (EBMS:0101, unknown SignatureMethod /
DigestMethod); here they only have to parse as well-formed, structurally valid user messages. PullPush.xml
and PushPull.xml are payload documents (an SBD), not envelopes: they must parse with the hardened parser and
travel as an attachment.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from as4.codec import default_specs_dir, load_envelope, parse_envelope, validate_against_xsd
from as4.errors import EbmsError
from as4.mime import read_mime, write_mime
from as4.model import EbmsErrorSignal, Receipt, SoapVersion
from as4.parts import Part
from pki.xml.parser import parse_xml
from tests.conftest import VECTORS_DIR

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
VECTORS = VECTORS_DIR / "as4-phase4-testfiles"

# file -> the code this codec must answer with (None: parses). Cross-checked against the README below.
STRUCTURE = {
    "ErrorMessage.xml": None,
    "ErrorMessageNoRefToMessageID.xml": None,
    "ErrorMessageWithFault.xml": None,
    "NoResponder.xml": "EBMS:0009",
    "TestReceipt11.xml": None,
    "TestReceipt12.xml": None,
    "TwoUserMessages.xml": "EBMS:0003",
    "UserMessageNoPartyID.xml": "EBMS:0009",
    "WrongCompression.mime": "EBMS:0003",
    "WrongSigningAlgorithm.xml": None,  # EBMS:0101 in the security layer
    "WrongSigningDigestAlgorithm.xml": None,  # EBMS:0101 in the security layer
}
PAYLOADS = ("PullPush.xml", "PushPull.xml")
SECURITY_VERDICTS = {"WrongSigningAlgorithm.xml", "WrongSigningDigestAlgorithm.xml"}


@pytest.fixture(scope="module")
def vectors() -> Path:
    if not VECTORS.is_dir():
        message = f"{VECTORS} is absent"
        if IN_CI:
            pytest.fail(message + " - under CI the vector tests must run")
        pytest.skip(message)
    return VECTORS


def readme_verdicts(directory: Path) -> dict[str, str]:
    text = (directory.parent / "README.md").read_text(encoding="utf-8")
    section = text.split("## as4-phase4-testfiles/", 1)[1]
    rows = re.findall(r"^\| (\S+\.(?:xml|mime)) \|.*\| ([^|]+) \|$", section, flags=re.MULTILINE)
    return {name: verdict.strip() for name, verdict in rows}


def test_the_table_covers_every_vector_and_agrees_with_the_readme(vectors: Path) -> None:
    files = {p.name for p in vectors.iterdir()}
    assert files == set(STRUCTURE) | set(PAYLOADS)
    verdicts = readme_verdicts(vectors)
    assert set(verdicts) == files
    for name, code in STRUCTURE.items():
        verdict = verdicts[name]
        if name in SECURITY_VERDICTS:
            assert "EBMS:0101" in verdict
        elif code is None:
            assert verdict.startswith("valid")
        else:
            assert verdict.startswith("invalid") and code in verdict


def mime_file(path: Path) -> tuple[str, bytes]:
    """Content-Type and body of a stored MIME message. phase4's .gitattributes checks *.mime out with
    ``eol=crlf``; the stored blob has LF, so put back the CRLFs the message had on the wire."""
    raw = path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    fields = re.split(rb"\r\n(?![ \t])", head)  # header fields, each with its folds (read_mime unfolds)
    values = [f.split(b":", 1)[1] for f in fields if f.lower().startswith(b"content-type:")]
    assert len(values) == 1
    return values[0].decode("latin-1"), body


def verdict(path: Path) -> str | None:
    try:
        if path.suffix == ".mime":
            content_type, body = mime_file(path)
            soap, parts = read_mime(content_type, [body[i:i + 61] for i in range(0, len(body), 61)])
            parse_envelope(load_envelope(soap), parts=parts)
        else:
            parse_envelope(load_envelope(path.read_bytes()))
    except EbmsError as exc:
        return exc.code
    return None


@pytest.mark.parametrize("name", sorted(STRUCTURE))
def test_vector_verdict(vectors: Path, name: str) -> None:
    assert verdict(vectors / name) == STRUCTURE[name]


def test_what_the_valid_vectors_say(vectors: Path) -> None:
    receipt11 = parse_envelope(load_envelope((vectors / "TestReceipt11.xml").read_bytes()))
    assert receipt11.soap_version is SoapVersion.SOAP11 and isinstance(receipt11.signal, Receipt)
    assert receipt11.signal.ref_to_message_id == "ph-as4@2babaddd-282e-461e-b645-730c5abebcce"

    receipt12 = parse_envelope(load_envelope((vectors / "TestReceipt12.xml").read_bytes()))
    assert isinstance(receipt12.signal, Receipt) and receipt12.soap_version is SoapVersion.SOAP12
    assert b"ebbp:NonRepudiationInformation" in receipt12.signal.content[0]
    assert len(receipt12.signal.content) == 2  # phase4 adds its own info element after the NRI

    error = parse_envelope(load_envelope((vectors / "ErrorMessage.xml").read_bytes())).signal
    assert isinstance(error, EbmsErrorSignal)
    assert error.ref_to_message_id == "ph-as4@42ec020f-9553-4b6d-ba8e-265cf1f6fd34"
    assert error.errors[0].code == "EBMS:0001" and error.errors[0].short_description == "ValueNotRecognized"

    no_ref = parse_envelope(load_envelope((vectors / "ErrorMessageNoRefToMessageID.xml").read_bytes())).signal
    assert isinstance(no_ref, EbmsErrorSignal) and no_ref.ref_to_message_id is None

    fault = parse_envelope(load_envelope((vectors / "ErrorMessageWithFault.xml").read_bytes())).signal
    assert isinstance(fault, EbmsErrorSignal) and fault.errors[0].severity == "failure"  # sent as "Failure"
    assert fault.errors[0].description is not None and "revoked" in fault.errors[0].description.value

    signed = parse_envelope(load_envelope((vectors / "WrongSigningAlgorithm.xml").read_bytes())).user_message
    assert signed is not None and signed.original_sender is not None and signed.original_sender.value == "C1-test"
    assert signed.payload_info[0].href is None  # the payload is the SOAP Body


def test_invalid_vectors_name_the_message_in_error(vectors: Path) -> None:
    with pytest.raises(EbmsError) as caught:
        parse_envelope(load_envelope((vectors / "NoResponder.xml").read_bytes()))
    assert caught.value.ref_to_message_id == "2011-921@5209999001264.example.com" and "To" in caught.value.detail
    with pytest.raises(EbmsError) as caught:
        parse_envelope(load_envelope((vectors / "UserMessageNoPartyID.xml").read_bytes()))
    assert caught.value.ref_to_message_id == "UUID-2@receiver.example.com"


def test_wrong_compression_mime_reads_as_phase4_sent_it(vectors: Path) -> None:
    content_type, body = mime_file(vectors / "WrongCompression.mime")
    soap, parts = read_mime(content_type, [body])
    assert soap.startswith(b"<?xml") and soap.endswith(b"</S12:Envelope>")
    assert [p.content_id for p in parts] == ["ph-as4-0026b807-e599-40e2-af67-22f2e6fe4ddd"]
    assert parts[0].read_all()[:2] == b"\x1f\x8b"  # base64 decoded to the gzip stream
    assert parts[0].headers["Content-ID"] == "ph-as4-0026b807-e599-40e2-af67-22f2e6fe4ddd"  # as sent, no <>


def test_schema_agrees_on_the_envelopes(vectors: Path) -> None:
    specs = default_specs_dir()
    if specs is None:
        if IN_CI:
            pytest.fail("../shared/specs is absent - under CI the schema tests must run")
        pytest.skip("../shared/specs is absent")
    for name in ("ErrorMessage.xml", "TestReceipt11.xml", "TestReceipt12.xml", "WrongSigningAlgorithm.xml"):
        assert validate_against_xsd(load_envelope((vectors / name).read_bytes()), specs) == [], name
    for name in ("NoResponder.xml", "UserMessageNoPartyID.xml"):
        assert validate_against_xsd(load_envelope((vectors / name).read_bytes()), specs), name


@pytest.mark.parametrize("name", PAYLOADS)
def test_payload_documents_parse_and_travel_as_attachments(vectors: Path, name: str) -> None:
    data = (vectors / name).read_bytes()
    assert parse_xml(data).getroot().tag.endswith("StandardBusinessDocument")
    with pytest.raises(EbmsError) as caught:  # a payload is not an envelope
        parse_envelope(load_envelope(data))
    assert caught.value.code == "EBMS:0009"
    content_type, body = write_mime(b"<e/>", [Part.from_bytes("sbd@x", "application/xml", data)])
    assert read_mime(content_type, body)[1][0].read_all() == data
