"""MIME header canonicalisation for the SwA Attachment-Complete-Signature-Transform, as WSS4J does it.

Split out of :mod:`pki.xml.attachments` (whose docstring records the WSS4J and jakarta.mail sources this
reproduces): WSS4J ``AttachmentUtils.canonizeMimeHeaders`` with jakarta.mail's unfolding, comment removal,
RFC 2047 decoding of Content-Description and RFC 2231 parameter handling.
"""

from __future__ import annotations

import codecs
import re
import urllib.parse
from collections.abc import Mapping, Sequence


class AttachmentTransformError(ValueError):
    """An SwA transform could not be applied. ``code`` is stable; ``reason`` says which rule refused."""

    code = "XMLDSIG_ATTACHMENT_TRANSFORM"

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason  # "transforms", "digest", "cid", "header", "xml", "doctype", "too-large"
        super().__init__(message)


# canonizeMimeHeaders's TreeMap order, and the spelling it writes.
SIGNED_HEADERS = ("Content-Description", "Content-Disposition", "Content-ID", "Content-Location", "Content-Type")
_DEFAULT_CONTENT_TYPE = 'text/plain;charset="us-ascii"'
# AttachmentUtils.ALL_PARAMS: parameters whose values WSS4J lower-cases.
_LOWERCASED_PARAMS = frozenset(
    {"charset", "creation-date", "filename", "modification-date", "padding", "read-date", "size", "type"}
)
# jakarta.mail MimeUtility.javaCharset (META-INF/javamail.charset.map): MIME names it decodes as something
# else. Notably "us-ascii" bytes >= 0x80 come out as Latin-1 characters, not as replacement characters.
_MIME_CHARSET_ALIASES = {
    "us-ascii": "iso-8859-1",
    "x-us-ascii": "iso-8859-1",
    "gb2312": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "gbk": "gb18030",
}
_JAVA_TRIM = "".join(chr(c) for c in range(0x21))  # String.trim() strips every char <= U+0020
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_LWSP_TOKENS = re.compile(r"[ \t\r\n]|[^ \t\r\n]+")
_B64_VALUES = {
    byte: value for value, byte in enumerate(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
}
_PAD = -1


def canonical_mime_headers(headers: Mapping[str, str]) -> bytes:
    """The header block the Complete transform puts before the content (WSS4J ``canonizeMimeHeaders``)."""
    return render_signed_headers(signed_header_fields(headers, SIGNED_HEADERS))


# --- MIME header canonicalisation (Complete transform) -------------------------------------------------


def signed_header_fields(headers: Mapping[str, str], names: Sequence[str]) -> dict[str, str]:
    """Lower-cased name -> value for the headers in ``names``, leading whitespace stripped.

    jakarta.mail's parser strips whitespace after the colon before WSS4J sees a value; doing it here makes
    the result independent of whether our MIME layer already did.
    """
    wanted = {name.lower() for name in names}
    fields: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower() if name.isascii() else name
        if key not in wanted:
            continue
        if key in fields:
            # WSS4J would keep whichever its HashMap iterates last: not something to reproduce.
            raise AttachmentTransformError("header", f"MIME header {name!r} given more than once")
        fields[key] = value.lstrip(" \t\r\n")
    return fields


def render_signed_headers(fields: Mapping[str, str]) -> bytes:
    lines = []
    for name in SIGNED_HEADERS:
        raw = fields.get(name.lower())
        if raw is None:
            if name != "Content-Type":
                continue
            value = _DEFAULT_CONTENT_TYPE
        else:
            value = _canonical_header_value(name, raw)
        lines.append(f"{name}:{value}" if value.endswith("\r\n") else f"{name}:{value}\r\n")
    try:
        return "".join(lines).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise AttachmentTransformError("header", f"MIME header value cannot be encoded: {exc}") from exc


def _canonical_header_value(name: str, raw: str) -> str:
    unfolded = _unfold(raw)
    if name == "Content-Description":
        return _uncomment(_decode_rfc2047_text(unfolded))
    value = _uncomment(unfolded.lstrip(" \t"))
    if name in ("Content-Type", "Content-Disposition"):
        return _canonical_parameters(value)
    return value


def _unfold(text: str) -> str:
    """jakarta.mail ``MimeUtility.unfold``."""
    out: list[str] = []
    pos, n = 0, len(text)
    while True:
        brk = _index_of_line_break(text, pos)
        if brk < 0:
            out.append(text[pos:])
            return "".join(out)
        after = brk + 2 if text.startswith("\r\n", brk) else brk + 1
        if brk > pos and text[brk - 1] == "\\":
            out.append(text[pos : brk - 1])  # an escaped break keeps the break, loses the backslash
            out.append(text[brk:after])
        elif after >= n or text[after] in " \t":
            out.append(text[pos:brk])  # a fold: drop the break, keep the whitespace
        else:
            out.append(text[pos:after])  # not a continuation: the break stays
        pos = after


def _index_of_line_break(text: str, start: int) -> int:
    cr, lf = text.find("\r", start), text.find("\n", start)
    return lf if cr < 0 else cr if lf < 0 else min(cr, lf)


def _uncomment(text: str) -> str:
    """``AttachmentUtils.uncomment``: drop (nested) comments outside double quotes."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == '"':
            end = text.find('"', i + 1)  # WSS4J honours no backslash escape here
            if end < 0:
                raise AttachmentTransformError("header", f"unterminated quoted string in MIME header {text!r}")
            out.append(text[i : end + 1])
            i = end + 1
        elif ch == "(":
            depth, j = 0, i
            while j < n:
                if text[j] == "(":
                    depth += 1
                elif text[j] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if j >= n:
                raise AttachmentTransformError("header", f"unterminated comment in MIME header {text!r}")
            i = j + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _canonical_parameters(value: str) -> str:
    """``AttachmentUtils.decodeRfc2184`` for well-formed input; refuses what WSS4J would choke on."""
    if ";" not in value:
        return value
    pieces = value.split(";")
    while pieces and pieces[-1] == "":  # Java String.split drops trailing empty strings
        pieces.pop()
    if not pieces:
        raise AttachmentTransformError("header", f"MIME header value has no type: {value!r}")
    params: dict[str, str] = {}
    charset = "us-ascii"  # RFC 2231 charset, carried over to later extended values as WSS4J does
    pending: tuple[str, str] | None = None  # a continued parameter being joined: (name, value so far)

    def put(name: str, text: str) -> None:
        if name in _LOWERCASED_PARAMS:
            text = text.lower()
        params[name] = _requote(_quote(text, value))

    for piece in pieces[1:]:
        eq = piece.find("=")
        if eq < 0:
            raise AttachmentTransformError("header", f"MIME parameter without '=' in {value!r}")
        name = piece[:eq].strip(_JAVA_TRIM).lower()
        text = piece[eq + 1 :].strip(_JAVA_TRIM)
        if name == "" or name.endswith("*"):
            if name == "":
                raise AttachmentTransformError("header", f"MIME parameter without a name in {value!r}")
            name = name[:-1]
            if "'" in text:
                charset = text[: text.index("'")]
            text = _url_decode(text[text.rfind("'") + 1 :], charset, value)
        star = name.rfind("*")
        if star >= 0:
            base = name[:star].strip(_JAVA_TRIM)
            if pending is None:
                pending = (base, text)
            elif pending[0] == base:
                pending = (base, _join_continuation(pending[1], text, value))
            else:
                raise AttachmentTransformError("header", f"interleaved continued MIME parameters in {value!r}")
        else:
            if pending is not None:
                put(*pending)
                pending = None
            put(name, text)
    if pending is not None:
        put(*pending)
    # TreeMap<String, String>: UTF-16 code unit order.
    ordered = sorted(params.items(), key=lambda item: item[0].encode("utf-16-be"))
    return pieces[0].lower() + "".join(f";{name}={text}" for name, text in ordered)


def _url_decode(text: str, charset: str, header: str) -> str:
    if _BAD_PERCENT.search(text):
        raise AttachmentTransformError("header", f"malformed %-escape in MIME parameter of {header!r}")
    return urllib.parse.unquote_plus(text, encoding=_python_charset(charset, header), errors="replace")


def _join_continuation(first: str, second: str, header: str) -> str:
    if not first or not second:
        raise AttachmentTransformError("header", f"empty continued MIME parameter in {header!r}")
    return first.removesuffix('"') + second.removeprefix('"')


def _quote(text: str, header: str) -> str:
    """``AttachmentUtils.quote``: add whichever double quote is missing at either end."""
    if not text:
        raise AttachmentTransformError("header", f"empty MIME parameter value in {header!r}")
    head = "" if text[0] == '"' else '"'
    tail = "" if text[-1] == '"' else '"'
    return head + text + tail


def _requote(text: str) -> str:
    """``AttachmentUtils.unquoteInnerText``: re-escape the inside of an already quoted value.

    Inner ``\\"``/``\\\\`` pairs are kept, a bare inner ``"`` is escaped, a backslash before anything else is
    dropped. The last character is emitted only when it is a ``"`` closing the value.
    """
    out: list[str] = []
    n = len(text)
    i = 0
    while i < n - 1:
        ch, nxt = text[i], text[i + 1]
        if i == 0 and ch == '"':
            out.append(ch)
        elif ch == "\\" and nxt in '"\\':
            if i != 0 and i != n - 2:
                out.append(ch)
            out.append(nxt)
            i += 1
        elif ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append(nxt)
            i += 1
        else:
            out.append(ch)
            if i == n - 2 and nxt == '"':
                out.append(nxt)
        i += 1
    return "".join(out)


def _decode_rfc2047_text(text: str) -> str:
    """jakarta.mail ``MimeUtility.decodeText`` in its default strict mode."""
    if "=?" not in text:
        return text
    out: list[str] = []
    whitespace: list[str] = []
    previous_encoded = False
    for token in _LWSP_TOKENS.findall(text):
        if token in " \t\r\n":
            whitespace.append(token)
            continue
        decoded = _decode_encoded_word(token, text)
        if decoded is None:
            out.extend(whitespace)
            out.append(token)
            previous_encoded = False
        else:
            if not previous_encoded:  # whitespace between two encoded words is not part of the text
                out.extend(whitespace)
            out.append(decoded)
            previous_encoded = True
        whitespace.clear()
    out.extend(whitespace)
    return "".join(out)


def _decode_encoded_word(word: str, header: str) -> str | None:
    """One ``=?charset?B|Q?...?=`` word (text after ``?=`` kept); ``None`` when it is not one."""
    if not word.startswith("=?"):
        return None
    charset_end = word.find("?", 2)
    if charset_end < 0:
        return None
    encoding_end = word.find("?", charset_end + 1)
    if encoding_end < 0:
        return None
    end = word.find("?=", encoding_end + 1)
    if end < 0:
        return None
    charset = word[2:charset_end].split("*", 1)[0]  # RFC 2231 language suffix
    encoding = word[charset_end + 1 : encoding_end].upper()
    payload = word[encoding_end + 1 : end]
    decoded = ""
    if payload:
        if encoding not in ("B", "Q"):
            raise AttachmentTransformError("header", f"unknown RFC 2047 encoding {encoding!r} in {header!r}")
        raw = bytes(ord(c) & 0xFF for c in payload)  # MimeUtility.getBytes truncates chars to bytes
        octets = _decode_b(raw) if encoding == "B" else _decode_q(raw)
        if octets is None:  # jakarta.mail then treats the word as plain text
            return None
        if octets:
            decoded = octets.decode(_python_charset(charset, header), errors="replace")
    return decoded + word[end + 2 :]


def _decode_b(raw: bytes) -> bytes | None:
    """jakarta.mail ``BASE64DecoderStream``: bytes outside the alphabet are skipped; a short group or
    misplaced padding makes the word undecodable (``None``); decoding stops after the padded group."""
    symbols = [_PAD if b == 0x3D else _B64_VALUES[b] for b in raw if b == 0x3D or b in _B64_VALUES]
    out = bytearray()
    group: list[int] = []
    for index, symbol in enumerate(symbols):
        if symbol != _PAD:
            group.append(symbol)
            if len(group) == 4:
                out += _b64_bits(group).to_bytes(3, "big")
                group = []
            continue
        more = 3 - len(group)  # padding still to come after this "=": "xx==" or "xxx="
        if len(group) < 2 or symbols[index + 1 : index + 1 + more] != [_PAD] * more:
            return None
        out += _b64_bits(group).to_bytes(3, "big")[: len(group) - 1]
        return bytes(out)
    return None if group else bytes(out)


def _b64_bits(group: list[int]) -> int:
    value = 0
    for symbol in group:
        value = value << 6 | symbol
    return value << 6 * (4 - len(group))


def _decode_q(raw: bytes) -> bytes | None:
    out = bytearray()
    i = 0
    while i < len(raw):
        byte = raw[i]
        if byte == 0x5F:  # "_"
            out.append(0x20)
        elif byte == 0x3D:  # "=" HEX HEX
            hex_digits = raw[i + 1 : i + 3]
            if len(hex_digits) != 2 or not all(c in b"0123456789abcdefABCDEF" for c in hex_digits):
                return None
            out.append(int(hex_digits, 16))
            i += 2
        else:
            out.append(byte)
        i += 1
    return bytes(out)


def _python_charset(charset: str, header: str) -> str:
    name = _MIME_CHARSET_ALIASES.get(charset.lower(), charset)
    try:
        return codecs.lookup(name).name
    except LookupError as exc:
        raise AttachmentTransformError("header", f"unknown charset {charset!r} in MIME header {header!r}") from exc
