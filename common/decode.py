"""The one decoder of a fetched page's bytes, so its text is archived without mojibake.

The crawl (the spider names the codec with :func:`page_encoding`, the extraction worker decodes
with it), re-extraction (from the stored body and headers) and ``extract_article(bytes)`` all
read a page through this module, so they cannot disagree.

Servers often lie: a charset header of ISO-8859-1 on a UTF-8 page, no charset at all, a BOM that
contradicts the header. :func:`page_encoding` trusts, in order:

1. a byte-order mark;
2. a 7-bit encoding (ISO-2022-JP, -KR, -CN, HZ) that the header or ``<meta>`` declares for a
   body of ASCII bytes only (such a body is also valid UTF-8, so step 3 would misread it);
3. UTF-8 when the whole body is valid UTF-8 (text in another encoding almost never is, so a
   wrong header cannot win over it);
4. the header's charset, then the page's own ``<meta charset>``, each only if the body decodes
   with it;
5. a guess from the bytes, only if the body decodes with it: the caller's (the spider passes
   Scrapy's ``TextResponse.encoding``), else made here as Scrapy makes it, with
   charset-normalizer when nothing is declared. A guess of a single-byte Western or Central
   European look-alike (windows-1250, ISO-8859-15, Mac Roman...) is read as windows-1252, unless
   ``<html lang>`` names a Central European language: such guesses are mostly a misreading of
   windows-1252 text;
6. windows-1252, the web's default for undeclared bytes (WHATWG).

Declared labels are resolved as browsers do (``iso-8859-1`` and ``ascii`` are windows-1252,
``gb2312`` is GB18030, UTF-7 is refused). :func:`looks_binary` spots images, archives and junk
served as text/html.

Example::

    codec = page_encoding(response.body, content_type)  # at fetch time
    text = decode_page(body, encoding=codec)             # later, anywhere
    text = decode_page(stored_body, stored_content_type)  # the same text
"""

from __future__ import annotations

import re

from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

__all__ = ["decode_page", "looks_binary", "page_encoding"]

_CONTROL = bytes([*range(0, 9), 11, *range(14, 32), 127])
_SNIFF_BYTES = 4096
# a character reference to a C0 control character (U+0000-U+001F): HTML forbids them, and some
# (&#1;, &#7;, &#8;, &#x1b;) make lxml drop the whole text; tab, LF and CR are kept
_C0_REF = re.compile(r"&#(?:[xX]0*([01]?[0-9a-fA-F])(?![0-9a-fA-F])|0*([12]?[0-9]|3[01])(?!\d));?")
# encodings whose bytes are all 7-bit, yet which are not ASCII
_SEVEN_BIT = ("iso2022_", "hz")
# single-byte guesses that are usually a wrong reading of windows-1252 text: an undeclared
# Western page is windows-1252 (as browsers assume) unless <html lang> says Central European
_WESTERN_LOOKALIKES = {"cp1250", "iso8859-2", "cp1252", "iso8859-1", "iso8859-15", "latin-1",
                       "cp1254", "iso8859-9", "cp1257", "iso8859-13", "mac-roman", "mac-latin2",
                       "cp850", "cp437", "iso8859-3", "iso8859-4", "iso8859-10", "iso8859-14",
                       "iso8859-16"}  # fmt: skip
_CENTRAL_LANGS = {"pl", "cs", "sk", "hu", "sl", "hr", "ro", "bs", "sr"}
_HTML_LANG = re.compile(rb"""<html[^>]*\slang\s*=\s*["']?([A-Za-z]{2,3})""", re.IGNORECASE)


def _decodes(body: bytes, encoding: str | None) -> str | None:
    if not encoding:
        return None
    codec = resolve_encoding(encoding)
    if codec is None:
        return None
    try:
        body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None
    return codec


def page_encoding(body: bytes, content_type: str | None, fallback: str | None = None) -> str:
    """The Python codec name to decode ``body`` with (see the module doc). Never raises.

    ``content_type``: the response's Content-Type header, if any. ``fallback``: a guess from the
    bytes already made (Scrapy's ``TextResponse.encoding``); without it the same guess is made
    here when it is needed."""
    bom, _ = read_bom(body)
    if bom:
        return resolve_encoding(bom) or "utf-8"
    header = http_content_type_encoding(content_type)
    if body.isascii():
        for declared in (header, html_body_declared_encoding(body[:_SNIFF_BYTES])):
            codec = resolve_encoding(declared) if declared else None
            if codec and codec.startswith(_SEVEN_BIT) and _decodes(body, codec):
                return codec
        return "utf-8"
    found = _decodes(body, "utf-8")
    if found:
        return found
    meta = html_body_declared_encoding(body[:_SNIFF_BYTES])
    for declared in (header, meta):
        if declared and resolve_encoding(declared) != "utf-8":
            found = _decodes(body, declared)
            if found:
                return found
    if fallback is None and header is None and meta is None:
        fallback = _guess(body)
    if fallback and resolve_encoding(fallback) != "utf-8":
        if resolve_encoding(fallback) in _WESTERN_LOOKALIKES and not _central_european(body):
            return "cp1252"
        found = _decodes(body, fallback)
        if found:
            return found
    return "cp1252"


def decode_page(
    body: bytes, content_type: str | None = None, *, encoding: str | None = None
) -> str:
    """``body`` as text, never failing; a byte-order mark is dropped.

    Decoded with ``encoding`` when given (the codec :func:`page_encoding` named at fetch time),
    else with what :func:`page_encoding` finds from ``body`` and its ``content_type``. Bytes
    that do not decode become U+FFFD. Character references to C0 control characters
    (``&#x1b;``, ``&#7;``...) are dropped; tab, line feed and carriage return are kept."""
    codec = encoding or page_encoding(body, content_type)
    try:
        text = body.decode(codec, errors="replace")
    except LookupError:
        text = body.decode(page_encoding(body, content_type), errors="replace")
    if "&#" in text:
        text = _C0_REF.sub(_drop_control_ref, text)
    return text.removeprefix("\ufeff")


def _drop_control_ref(m: re.Match[str]) -> str:
    value = int(m.group(1), 16) if m.group(1) is not None else int(m.group(2))
    return m.group(0) if value in (9, 10, 13) else ""


def looks_binary(body: bytes) -> bool:
    """True when the start of ``body`` is mostly control bytes: not a text page at all."""
    sample = body[:_SNIFF_BYTES]
    if not sample or read_bom(sample)[0]:
        return False
    controls = len(sample) - len(sample.translate(None, _CONTROL))  # counted in C
    return controls > len(sample) // 20


def _guess(body: bytes) -> str | None:
    """The encoding Scrapy infers for an undeclared body that is not UTF-8 (its
    ``TextResponse._auto_detect_fun``, through w3lib's ``html_to_unicode``)."""
    from charset_normalizer import from_bytes

    best = from_bytes(body).best()
    guess = resolve_encoding(best.encoding) if best is not None else None
    return f"{guess}-be" if guess in ("utf-16", "utf-32") else guess


def _central_european(body: bytes) -> bool:
    m = _HTML_LANG.search(body[:_SNIFF_BYTES])
    return m is not None and m.group(1).decode("ascii", "ignore").lower() in _CENTRAL_LANGS
