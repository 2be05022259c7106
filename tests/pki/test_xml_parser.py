"""The hardened parser (pki/xml/parser.py): every refusal with its exact code, and what must still parse.

External-entity tests point the DOCTYPE at a named pipe (FIFO) the test creates: a writer thread notices the
moment anything opens it for reading, so "the file was not read" is observed, not assumed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from pki.xml.parser import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, XmlRefused, parse_xml

SECRET = "TOP-SECRET-7d41c2"


def refused(data: bytes, code: str, **limits: int) -> XmlRefused:
    with pytest.raises(XmlRefused) as caught:
        parse_xml(data, **limits)
    assert caught.value.code == code, caught.value
    return caught.value


def nested(depth: int, name: bytes = b"a") -> bytes:
    return (b"<" + name + b">") * depth + (b"</" + name + b">") * depth


def utf7(text: str) -> bytes:
    """UTF-7 with every markup character encoded, so no '<!DOCTYPE' appears as bytes (the XML declaration
    itself has to stay readable as ASCII, as it does in a real UTF-7 document)."""
    return text.replace("<", "+ADw-").replace(">", "+AD4-").replace("[", "+AFs-").replace("]", "+AF0-").encode("ascii")


LONG_PROLOG = 70_000  # more whitespace before the DOCTYPE than parse_xml's prolog check reads (64 KiB)

ENCODINGS = {
    # name: (declared encoding or None, str -> bytes)
    "utf-8": ("UTF-8", lambda s: s.encode("utf-8")),
    "utf-16-le-bom": ("UTF-16", lambda s: b"\xff\xfe" + s.encode("utf-16-le")),
    "utf-16-be-bom": ("UTF-16", lambda s: b"\xfe\xff" + s.encode("utf-16-be")),
    # whitespace may precede a DOCTYPE when there is no XML declaration
    "utf-8-long-prolog": (None, lambda s: (" " * LONG_PROLOG + s).encode("utf-8")),
    # XML requires a BOM in UTF-16; libxml2 auto-detects these anyway (and UTF-32, and UTF-7 through the
    # declaration). They hide markup from byte-level checks, so parse_xml refuses the encoding itself.
    "utf-16-le-no-bom": ("UTF-16", lambda s: s.encode("utf-16-le")),
    "utf-16-be-no-bom": ("UTF-16", lambda s: s.encode("utf-16-be")),
    "utf-32-le-no-bom": ("UTF-32", lambda s: s.encode("utf-32-le")),
    "utf-32-le-bom": ("UTF-32", lambda s: s.encode("utf-32")),
    "utf-7": ("UTF-7", utf7),
}
VISIBLE = ("utf-8", "utf-16-le-bom", "utf-16-be-bom", "utf-8-long-prolog")
HIDDEN = ("utf-16-le-no-bom", "utf-16-be-no-bom", "utf-32-le-no-bom", "utf-32-le-bom", "utf-7")


def expected_code(encoding: str) -> str:
    return "XML_ENCODING_UNSUPPORTED" if encoding in HIDDEN else "XML_DTD_FORBIDDEN"


def encode(encoding: str, document: str) -> bytes:
    declared, encoder = ENCODINGS[encoding]
    if declared is None:
        return encoder(document)
    declaration = f'<?xml version="1.0" encoding="{declared}"?>'
    if encoding == "utf-7":
        return declaration.encode("ascii") + encoder(document)
    return encoder(declaration + document)


@contextlib.contextmanager
def watched_file(directory: Path, content: str) -> Iterator[tuple[Path, list[int]]]:
    """A FIFO at a fresh path. Whenever something opens it for reading, a writer thread connects, records the
    open and feeds it ``content``. Yields (path, opens)."""
    path = directory / "secret.txt"
    os.mkfifo(path)
    opens: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO:  # ENXIO: nobody has it open for reading
                    raise
                time.sleep(0.0005)
                continue
            opens.append(1)
            try:
                os.write(fd, content.encode())
            finally:
                os.close(fd)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield path, opens
    finally:
        time.sleep(0.05)  # let a late open be seen
        stop.set()
        thread.join(timeout=5)


def test_a_plain_document_parses_into_a_tree() -> None:
    tree = parse_xml(b'<?xml version="1.0"?><r xmlns="urn:x" a="1"><c>text &amp; &lt;more&gt; &#65;</c></r>')
    assert isinstance(tree, etree._ElementTree)
    assert tree.getroot().tag == "{urn:x}r"
    assert tree.getroot()[0].text == "text & <more> A"


# --- DTDs ----------------------------------------------------------------------------------------------

_DOCTYPES = {
    "element-decl": '<!DOCTYPE r [<!ELEMENT r ANY>]><r/>',
    "entity-decl": '<!DOCTYPE r [<!ENTITY x "hello">]><r>&x;</r>',
    "attlist": '<!DOCTYPE r [<!ATTLIST r ID ID #IMPLIED>]><r ID="x"/>',
    "empty-subset": '<!DOCTYPE r []><r/>',
    "bare": '<!DOCTYPE r><r/>',
    "system": '<!DOCTYPE r SYSTEM "http://attacker.example/evil.dtd"><r/>',
    "public": '<!DOCTYPE r PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"><r/>',
}


@pytest.mark.parametrize("encoding", VISIBLE + HIDDEN)
@pytest.mark.parametrize("document", _DOCTYPES.values(), ids=_DOCTYPES.keys())
def test_any_doctype_is_refused(encoding: str, document: str) -> None:
    refused(encode(encoding, document), expected_code(encoding))


def test_doctype_without_xml_declaration_and_after_whitespace_and_comment() -> None:
    refused(b'<!DOCTYPE r [<!ENTITY x "y">]><r/>', "XML_DTD_FORBIDDEN")
    refused(b'\n  <!-- c --><?pi x?><!DOCTYPE r [<!ENTITY x "y">]><r/>', "XML_DTD_FORBIDDEN")
    refused(b'\xef\xbb\xbf<!DOCTYPE r><r/>', "XML_DTD_FORBIDDEN")


@pytest.mark.parametrize("encoding", HIDDEN)
def test_encodings_that_hide_markup_are_refused_even_without_a_doctype(encoding: str) -> None:
    refused(encode(encoding, "<r>plain</r>"), "XML_ENCODING_UNSUPPORTED")


@pytest.mark.parametrize("declared", ["UTF-7", "utf-7", "UTF-32", "UCS-4", "IBM037", "Shift_JIS", "no-such-encoding"])
def test_declared_encodings_that_are_not_ascii_compatible_are_refused(declared: str) -> None:
    refused(f'<?xml version="1.0" encoding="{declared}"?><r/>'.encode("ascii"), "XML_ENCODING_UNSUPPORTED")


@pytest.mark.parametrize(("prefix", "body", "text"), [
    (b'<?xml version="1.0" encoding="UTF-8"?>', "Bērziņa".encode(), "Bērziņa"),
    (b'<?xml version="1.0" encoding="ISO-8859-1"?>', "Bérziña".encode("latin-1"), "Bérziña"),
    (b'<?xml version="1.0" encoding="windows-1257"?>', "Bērziņa".encode("cp1257"), "Bērziņa"),
    (b"\xef\xbb\xbf", "Bērziņa".encode(), "Bērziņa"),
    (b"", "Bērziņa".encode(), "Bērziņa"),
], ids=["utf-8", "latin-1", "windows-1257", "utf-8-bom", "undeclared"])
def test_ascii_compatible_encodings_parse(prefix: bytes, body: bytes, text: str) -> None:
    assert parse_xml(prefix + b"<r>" + body + b"</r>").getroot().text == text


@pytest.mark.parametrize(("bom", "codec"), [(b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")], ids=["le", "be"])
def test_utf16_with_a_byte_order_mark_parses(bom: bytes, codec: str) -> None:
    document = '<?xml version="1.0" encoding="UTF-16"?><r a="ā">Bērziņa 名前</r>'
    root = parse_xml(bom + document.encode(codec)).getroot()
    assert (root.text, root.get("a")) == ("Bērziņa 名前", "ā")


def _billion_laughs() -> str:
    entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return f'<!DOCTYPE lolz [{"".join(entities)}]><lolz>&lol9;</lolz>'


def _quadratic_blowup() -> str:
    return f'<!DOCTYPE r [<!ENTITY a "{"x" * 50_000}">]><r>{"&a;" * 2_000}</r>'


def _bomb_cases() -> list:
    return [
        pytest.param(encoding, attack, id=f"{encoding}-{name}")
        for encoding in VISIBLE + HIDDEN
        for name, attack in (("billion-laughs", _billion_laughs), ("quadratic", _quadratic_blowup))
    ]


@pytest.mark.parametrize(("encoding", "attack"), _bomb_cases())
def test_entity_expansion_bombs_are_refused_quickly_as_dtds(encoding: str, attack) -> None:
    started = time.perf_counter()
    refused(encode(encoding, attack()), expected_code(encoding))
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("prolog", [
    " " * LONG_PROLOG, "<!--" + "x" * LONG_PROLOG + "-->", '<?xml version="1.0"?><?pi ' + "x" * LONG_PROLOG + "?>",
], ids=["whitespace", "comment", "processing-instruction"])
@pytest.mark.parametrize("attack", [_billion_laughs, _quadratic_blowup], ids=["billion-laughs", "quadratic"])
def test_entity_bombs_after_a_long_prolog_are_refused_fast(prolog: str, attack) -> None:
    # the bomb is refused at once and no tree comes back
    started = time.perf_counter()
    with pytest.raises(XmlRefused):
        parse_xml((prolog + attack()).encode())
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("encoding", VISIBLE + HIDDEN)
def test_external_general_entity_is_refused_and_the_file_is_not_read(tmp_path: Path, encoding: str) -> None:
    with watched_file(tmp_path, SECRET) as (path, opens):
        document = f'<!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{path}">]><r>&xxe;</r>'
        error = refused(encode(encoding, document), expected_code(encoding))
    assert opens == []
    assert SECRET not in str(error)


def test_external_entity_to_a_regular_file_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "passwd"
    secret.write_text(SECRET)
    for document in (
        f'<!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{secret}">]><r>&xxe;</r>',
        f'<!DOCTYPE r [<!ENTITY xxe SYSTEM "{secret}">]><r a="&xxe;"/>',
        f'<!DOCTYPE r [<!ENTITY % p SYSTEM "file://{secret}"> %p;]><r/>',
    ):
        error = refused(document.encode(), "XML_DTD_FORBIDDEN")
        assert SECRET not in str(error)


@pytest.mark.parametrize("encoding", VISIBLE + HIDDEN)
@pytest.mark.parametrize("form", ["system-subset", "parameter-entity"])
def test_external_dtd_is_never_opened(tmp_path: Path, encoding: str, form: str) -> None:
    with watched_file(tmp_path, '<!ENTITY x "from the external dtd">') as (path, opens):
        if form == "system-subset":
            document = f'<!DOCTYPE r SYSTEM "file://{path}"><r/>'
        else:
            document = f'<!DOCTYPE r [<!ENTITY % ext SYSTEM "file://{path}"> %ext;]><r/>'
        with pytest.raises(XmlRefused) as caught:
            parse_xml(encode(encoding, document))
    assert opens == [], "the parser opened a file named by the document"
    assert caught.value.code == expected_code(encoding)


@pytest.mark.parametrize("encoding", VISIBLE + HIDDEN)
def test_refusal_does_not_reveal_whether_a_local_file_exists(tmp_path: Path, encoding: str) -> None:
    existing = tmp_path / "exists.txt"
    existing.write_text("not a dtd at all\n")
    codes = set()
    messages = set()
    for path in (existing, tmp_path / "missing.txt", tmp_path):
        with pytest.raises(XmlRefused) as caught:
            parse_xml(encode(encoding, f'<!DOCTYPE r SYSTEM "file://{path}"><r/>'))
        codes.add(caught.value.code)
        messages.add(caught.value.message)
    assert codes == {expected_code(encoding)}
    assert len(messages) == 1


def test_undefined_entity_reference_is_refused() -> None:
    refused(b"<r>&undefined;</r>", "XML_ENTITY_FORBIDDEN")
    refused(b'<r a="&undefined;"/>', "XML_ENTITY_FORBIDDEN")


# --- size and depth ------------------------------------------------------------------------------------

def test_oversized_input_is_refused_before_parsing() -> None:
    document = b"<r>" + b"x" * 100 + b"</r>"
    assert parse_xml(document, max_bytes=len(document)).getroot().text == "x" * 100
    refused(document, "XML_TOO_LARGE", max_bytes=len(document) - 1)
    # the size cap comes first: an oversized document is refused as such even when it is also a DTD bomb
    refused(_billion_laughs().encode() + b" " * 1000, "XML_TOO_LARGE", max_bytes=500)


def test_default_size_limit() -> None:
    half = (DEFAULT_MAX_BYTES - len(b"<r><t></t><t></t></r>")) // 2  # two text nodes, each under libxml2's cap
    document = b"<r><t>" + b"x" * half + b"</t><t>" + b"x" * half + b"</t></r>"
    document += b" " * (DEFAULT_MAX_BYTES - len(document))
    assert len(document) == DEFAULT_MAX_BYTES
    assert len(parse_xml(document).getroot()) == 2
    refused(document + b" ", "XML_TOO_LARGE")


def test_default_depth_limit() -> None:
    assert DEFAULT_MAX_DEPTH == 256
    root = parse_xml(nested(DEFAULT_MAX_DEPTH)).getroot()
    assert len(list(root.iter())) == DEFAULT_MAX_DEPTH
    refused(nested(DEFAULT_MAX_DEPTH + 1), "XML_TOO_DEEP")
    refused(nested(100_000), "XML_TOO_DEEP")
    # a caller cannot raise the cap above the parser's own limit
    refused(nested(DEFAULT_MAX_DEPTH + 1), "XML_TOO_DEEP", max_depth=10_000)


def test_smaller_depth_limit() -> None:
    parse_xml(nested(5), max_depth=5)
    refused(nested(6), "XML_TOO_DEEP", max_depth=5)
    refused(b"<a><b/><c><d><e><f/></e></d></c></a>", "XML_TOO_DEEP", max_depth=4)
    parse_xml(b"<a><b/><c><d><e/></d></c></a>", max_depth=4)
    refused(nested(3), "XML_TOO_DEEP", max_depth=1)
    parse_xml(b"<a>text</a>", max_depth=1)


# --- malformed, empty, wrong type -----------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    b"<a>", b"<a", b"<a></b>", b"<a/><b/>", b"not xml", b"<a b='1' b='2'/>", b"<p:a/>",
    b"<a>\xc3\x28</a>", b"<a>&#0;</a>", b"<a>\x01</a>", b"<a>]]></a>", b"\xff\xfe\x00",
    b"<a xmlns:p=''/>", b"<a>&#x110000;</a>", b"<?xml version='1.0'?>", b"<!-- only a comment -->",
])
def test_malformed_xml_is_refused(data: bytes) -> None:
    refused(data, "XML_MALFORMED")


@pytest.mark.parametrize("data", [b"<a><depth></a>", b"<entity>", b"<r><Entity></r>", b"<entity><depth>"])
def test_malformed_xml_code_does_not_depend_on_element_names(data: bytes) -> None:
    # libxml2's messages quote the document's element names; the refusal code must not follow them
    refused(data, "XML_MALFORMED")


@pytest.mark.parametrize("data", [b"", b" ", b"\n\t \r\n"])
def test_empty_input_is_refused(data: bytes) -> None:
    refused(data, "XML_EMPTY")


@pytest.mark.parametrize("data", ["<r/>", bytearray(b"<r/>"), memoryview(b"<r/>"), None, 42])
def test_non_bytes_input_is_a_type_error(data: object) -> None:
    with pytest.raises(TypeError):
        parse_xml(data)  # type: ignore[arg-type]


# --- comments and processing instructions ---------------------------------------------------------------

def test_comments_are_removed_so_comment_injection_reads_as_the_full_value() -> None:
    tree = parse_xml(b"<NameID>alice@evil.example<!---->.good.example</NameID>")
    assert tree.getroot().text == "alice@evil.example.good.example"
    assert len(tree.getroot()) == 0


def test_comments_are_removed_everywhere() -> None:
    tree = parse_xml(b"<!-- before --><r><!-- a --><c>x<!-- b -->y</c>tail<!-- c -->more</r><!-- after -->")
    root = tree.getroot()
    assert [node for node in root.iter() if isinstance(node, etree._Comment)] == []
    assert root.getprevious() is None and root.getnext() is None
    assert root.text is None
    assert root[0].text == "xy"
    assert root[0].tail == "tailmore"
    assert etree.tostring(root) == b"<r><c>xy</c>tailmore</r>"


def test_processing_instructions_are_still_allowed() -> None:
    tree = parse_xml(b'<?xml version="1.0"?><?xml-stylesheet href="s.xsl"?><r>a<?app do this?>b</r>')
    root = tree.getroot()
    before = root.getprevious()
    assert isinstance(before, etree._ProcessingInstruction) and before.target == "xml-stylesheet"
    inside = root[0]
    assert isinstance(inside, etree._ProcessingInstruction)
    assert (inside.target, inside.text, root.text, inside.tail) == ("app", "do this", "a", "b")


@pytest.mark.parametrize(("data", "text"), [
    (b"<r><![CDATA[<!DOCTYPE html><p>hi</p>]]></r>", "<!DOCTYPE html><p>hi</p>"),
    (b"<r><![CDATA[<!ENTITY x 'y'>]]></r>", "<!ENTITY x 'y'>"),
    (b"<r><!-- see <!DOCTYPE html> -->ok</r>", "ok"),
    (b"<!-- <!DOCTYPE html> --><r>ok</r>", "ok"),
    (b"<?pi <!DOCTYPE r [<!ENTITY y 'z'>]>?><r>ok</r>", "ok"),
    (b"<r>&lt;!DOCTYPE html&gt;</r>", "<!DOCTYPE html>"),
], ids=["cdata-doctype", "cdata-entity", "comment-in-root", "comment-in-prolog", "pi-in-prolog", "escaped"])
def test_doctype_text_that_is_not_a_doctype_is_content(data: bytes, text: str) -> None:
    assert parse_xml(data).getroot().text == text
