"""Which character encoding a fetched page is really in, so its text is stored without mojibake.

Servers often lie: a charset header of ISO-8859-1 on a UTF-8 page, no charset at all, a BOM that
contradicts the header. :func:`page_encoding` trusts, in order: a byte-order mark; UTF-8 when the
whole body is valid UTF-8 (text in another encoding almost never is, so a wrong header cannot
win over it); the header's charset, then the page's own ``<meta charset>``, then Scrapy's
guess, each only if the body decodes with it; and finally windows-1252, the web's default.
:func:`looks_binary` spots images, archives and junk served as text/html.
"""

from __future__ import annotations

from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

__all__ = ["looks_binary", "page_encoding"]

_CONTROL = bytes([*range(0, 9), 11, *range(14, 32), 127])


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


def page_encoding(body: bytes, content_type: str, fallback: str | None = None) -> str:
    """The Python codec name to decode ``body`` with. Never raises."""
    bom, _ = read_bom(body)
    if bom:
        return resolve_encoding(bom) or "utf-8"
    found = _decodes(body, "utf-8")
    if found:
        return found
    for declared in (
        http_content_type_encoding(content_type),
        html_body_declared_encoding(body[:4096]),
        fallback,
    ):
        if declared and resolve_encoding(declared) != "utf-8":
            found = _decodes(body, declared)
            if found:
                return found
    return "cp1252"  # the web's default for undeclared bytes (WHATWG)


def looks_binary(body: bytes) -> bool:
    """True when the start of ``body`` is mostly control bytes: not a text page at all."""
    sample = body[:4096]
    if not sample or read_bom(sample)[0]:
        return False
    controls = len(sample) - len(sample.translate(None, _CONTROL))  # counted in C
    return controls > len(sample) // 20
