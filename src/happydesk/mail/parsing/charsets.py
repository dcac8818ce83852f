"""Robust byte-to-text decoding for mail: declared charset first, then utf-8, cp1252, latin-1.

Mail in the wild lies about its charset; these helpers never raise and record what they had to guess.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import quopri
import re
from email.header import decode_header

__all__ = ["clean_text", "decode_bytes", "decode_header_value", "normalize_newlines"]

# Labels whose real-world meaning is a superset codec (WHATWG encoding standard practice).
_SUPERSETS = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "iso-8859-9": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "big5": "big5hkscs",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    "x-unknown": "",
    "unknown-8bit": "",
    "unknown": "",
    "default": "",
    "charset": "",
    "x-user-defined": "",
}
# Single-byte western labels whose bytes are often really utf-8 (mislabelled by the sending client).
_WESTERN = {"cp1252", "latin-1", "iso8859-1", "ascii"}
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff]")
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
_ENCODED_WORD_RE = re.compile(r"=\?([^?\s]{1,60})\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_WORDS_RE = re.compile(r"(?<=\?=)[ \t\r\n]+(?==\?[^?\s]{1,60}\?[bBqQ]\?)")


def _codec_for(label: str | None) -> str | None:
    """Map a declared charset label to a Python codec name, or None if unknown/absent."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _SUPERSETS.get(label, label)
    if not label:
        return None
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError):
        return None
    # Codecs that are not text encodings (e.g. "base64", "rot13") must never be used for bodies.
    if name in {"base64", "hex", "quopri", "uu", "zlib", "bz2", "rot-13"} or name.endswith("_codec"):
        return None
    if name == "utf-7":
        return name
    return name


def _has_high_bytes(data: bytes) -> bool:
    return not data.isascii()


def decode_bytes(data: bytes, charset: str | None, notes: list[str] | None = None, where: str = "") -> str:
    """Decode `data` trying the declared charset, then utf-8, cp1252 and finally latin-1 (never fails)."""
    codec = _codec_for(charset)
    if codec is None and charset and notes is not None and charset.strip().lower() not in _SUPERSETS:
        notes.append(f"{where}unknown charset {charset.strip()[:40]!r}")
    if codec in _WESTERN and _has_high_bytes(data):
        # Valid multi-byte utf-8 is vanishingly unlikely in genuine latin-1 text: trust the bytes.
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            if notes is not None:
                notes.append(f"{where}declared {charset} but content is utf-8")
            return text
    tried = []
    for candidate in (codec, "utf-8", "cp1252"):
        if not candidate or candidate in tried:
            continue
        tried.append(candidate)
        try:
            text = data.decode(candidate)
        except (UnicodeDecodeError, LookupError, ValueError):
            continue
        if candidate != codec and codec and notes is not None:
            notes.append(f"{where}bytes invalid in declared charset {charset}, decoded as {candidate}")
        return text
    if notes is not None and codec != "latin-1":
        notes.append(f"{where}undecodable bytes, decoded as latin-1")
    return data.decode("latin-1")


def normalize_newlines(text: str) -> str:
    """Convert CRLF and lone CR line endings to LF."""
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def clean_text(text: str) -> str:
    """Normalise newlines and strip NULs and other C0 controls (except tab/newline) from decoded text."""
    text = normalize_newlines(text)
    if _CONTROL_RE.search(text):
        text = _CONTROL_RE.sub("", text)
    if _SURROGATE_RE.search(text):
        text = _SURROGATE_RE.sub("\ufffd", text)
    return text


def fix_surrogates(value: str) -> str:
    """Recover 8-bit header bytes that the stdlib parser smuggled through as surrogate escapes."""
    if not _SURROGATE_RE.search(value):
        return value
    try:
        raw = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return _SURROGATE_RE.sub("\ufffd", value)
    return decode_bytes(raw, None)


def _tolerant_rfc2047(text: str) -> str:
    """Decode encoded words one by one, leaving any that are broken as they are."""

    def word(m: re.Match[str]) -> str:
        charset, encoding, payload = m.groups()
        try:
            if encoding in "bB":
                payload = re.sub(r"[^A-Za-z0-9+/]", "", payload)
                data = base64.b64decode(payload + "=" * (-len(payload) % 4))
            else:
                data = quopri.decodestring(payload.encode("ascii", "replace"), header=True)
        except (binascii.Error, ValueError):
            return m.group(0)
        return decode_bytes(data, charset.split("*", 1)[0])

    return _ENCODED_WORD_RE.sub(word, _BETWEEN_WORDS_RE.sub("", text))


def decode_header_value(value: object) -> str:
    """Decode an RFC 2047 header value (raw str from the parser) into clean single-line text."""
    if value is None:
        return ""
    text = fix_surrogates(str(value))
    try:
        chunks = decode_header(text)
    except Exception:  # malformed encoded words: decode what can be decoded, word by word
        chunks = [(_tolerant_rfc2047(text), None)]
    out: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            if charset is None:
                # decode_header() turns unencoded runs into raw-unicode-escape bytes: undo exactly that.
                try:
                    out.append(chunk.decode("raw-unicode-escape"))
                except UnicodeDecodeError:
                    out.append(decode_bytes(chunk, None))
            else:
                out.append(decode_bytes(chunk, charset))
        else:
            out.append(chunk)
    result = "".join(out)
    result = clean_text(result).replace("\n", " ").replace("\t", " ")
    return " ".join(result.split())
