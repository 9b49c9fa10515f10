"""Turn the bytes of a fetched page into text without mojibake.

Order of evidence: a byte-order mark; bytes that decode as UTF-8 (valid UTF-8 is almost never
an accident); a ``<meta charset>`` / ``http-equiv`` declaration in the first few kilobytes;
charset-normalizer's guess; windows-1252 (which decodes any byte). A declared ``iso-8859-1`` /
``ascii`` is read as windows-1252, as browsers do.

Example::

    text = decode_html(response.body)
"""

from __future__ import annotations

import codecs
import re

__all__ = ["decode_html", "declared_charset"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)""", re.IGNORECASE
)
# browsers read these labels as windows-1252, and real pages rely on it
_ALIASES = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "ascii": "cp1252",
            "us-ascii": "cp1252", "iso8859-1": "cp1252", "gb2312": "gb18030", "gbk": "gb18030"}
_SNIFF_BYTES = 4096
# single-byte guesses that are usually a wrong reading of windows-1252 text: an undeclared
# Western page is windows-1252 (as browsers assume) unless <html lang> says Central European
_WESTERN_LOOKALIKES = {"cp1250", "iso8859-2", "cp1252", "iso8859-1", "iso8859-15", "latin-1",
                       "cp1254", "iso8859-9", "cp1257", "iso8859-13", "mac-roman", "mac-latin2",
                       "cp850", "cp437", "iso8859-3", "iso8859-4", "iso8859-10", "iso8859-14",
                       "iso8859-16"}
_CENTRAL_LANGS = {"pl", "cs", "sk", "hu", "sl", "hr", "ro", "bs", "sr"}
_HTML_LANG = re.compile(rb"""<html[^>]*\slang\s*=\s*["']?([A-Za-z]{2,3})""", re.IGNORECASE)


def declared_charset(data: bytes) -> str | None:
    """The charset a page declares in its first few kilobytes, if Python knows it."""
    m = _META_CHARSET.search(data[:_SNIFF_BYTES])
    if not m:
        return None
    label = m.group(1).decode("ascii", "ignore").strip().lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_html(data: bytes) -> str:
    """Decode page bytes to text (never raises; a BOM is dropped)."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(enc, errors="replace")
    declared = declared_charset(data)
    if not (declared and data.isascii()):  # 7-bit encodings such as ISO-2022-JP stay declared
        try:
            # bytes that are valid UTF-8 and not plain ASCII are UTF-8, whatever the page says
            # (a legacy declaration left in a template converted to UTF-8 is common)
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    if declared:
        # a page that says UTF-8 but is not is common; such a page is tried as below
        try:
            return data.decode(declared)
        except UnicodeDecodeError:
            if declared != "utf-8":
                return data.decode(declared, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    guess = codecs.lookup(best.encoding).name if best is not None and best.encoding else None
    if guess and (guess not in _WESTERN_LOOKALIKES or _central_european(data)):
        return data.decode(guess, errors="replace")
    return data.decode("cp1252", errors="replace")


def _central_european(data: bytes) -> bool:
    m = _HTML_LANG.search(data[:_SNIFF_BYTES])
    return m is not None and m.group(1).decode("ascii", "ignore").lower() in _CENTRAL_LANGS
