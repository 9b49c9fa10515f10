"""The one decoder of a page's bytes (:mod:`common.decode`).

The crawl (the spider names the codec, the extraction worker decodes with it), re-extraction
(from the stored body and headers) and ``extract_article(bytes)`` all read a page through it, so
they cannot disagree. Scrapy's own guess (``TextResponse.encoding``) is what the spider passes
as the fallback; without it the decoder must come to the same answer by itself.
"""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse

from common.decode import decode_page, looks_binary, page_encoding
from tests.faultsrv import ENCODED, article_html

_CAFE = (
    "<p>The caf\u00e9 on the quay re-opened on Monday after a \u201cna\u00efve\u201d plan to "
    "turn it into flats was dropped \u2013 to the relief of the regulars, who had collected "
    "three thousand signatures against it over the winter.</p>"
)


def _page(body: str, head: str = "", lang: str = "en") -> str:
    return f"<html lang='{lang}'><head>{head}<title>A page</title></head><body>{body}</body></html>"


def _scrapy_guess(body: bytes, content_type: str) -> str:
    """What the spider passes as ``fallback``."""
    headers = {"Content-Type": content_type} if content_type else {}
    return HtmlResponse("http://a.example/news/1", body=body, headers=headers).encoding


# --- the crawl's rules ----------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(ENCODED))
def test_page_encoding_finds_the_real_encoding(path: str) -> None:
    codec, ctype, sentence = ENCODED[path]
    meta = {"iso-8859-7": "iso-8859-7", "shift_jis": "Shift_JIS"}.get(codec, "")
    body = article_html("A page", sentence, meta).encode(codec)
    found = page_encoding(body, ctype, fallback="cp1252")
    text = body.decode(found)
    assert sentence in text and "\ufffd" not in text
    assert sentence in decode_page(body, ctype)


def test_header_saying_utf8_on_a_windows_1252_page() -> None:
    body = article_html("Prices", "Crème brûlée – €5").encode("cp1252")
    found = page_encoding(body, "text/html; charset=utf-8", fallback="utf-8")
    assert "Crème brûlée – €5" in body.decode(found)


def test_a_utf8_page_served_as_latin1_is_utf8() -> None:
    body = _page("<p>Die Straßenbahn fährt wieder.</p>", "<meta charset='utf-8'>").encode()
    assert page_encoding(body, "text/html; charset=iso-8859-1") == "utf-8"
    assert "Straßenbahn" in decode_page(body, "text/html; charset=iso-8859-1")


def test_binary_sniffing() -> None:
    assert looks_binary(bytes(range(256)) * 8)
    assert not looks_binary(article_html("A page").encode())
    assert not looks_binary("\ufeffUTF-16 page".encode("utf-16"))
    assert not looks_binary(b"")


# --- decode_page (the tests of the former common.decode.decode_html) -------------------------


def test_utf16_bom_is_honoured_and_dropped() -> None:
    text = decode_page(b"\xff\xfe" + _page("<p>Fewer tabs</p>").encode("utf-16-le"))
    assert "Fewer tabs" in text and text.startswith("<html")


def test_utf8_page_with_a_stale_latin1_declaration() -> None:
    data = '<meta charset="iso-8859-1"><p>Caf\u00e9 \u201cna\u00efve\u201d</p>'.encode()
    assert "Caf\u00e9 \u201cna\u00efve\u201d" in decode_page(data)


def test_wrong_declaration_falls_back_to_utf8() -> None:
    data = '<meta charset="utf-8"><p>Stra\u00dfe</p>'.encode()
    assert "Stra\u00dfe" in decode_page(data)
    assert "Stra\u00dfe" in decode_page(data.replace(b"utf-8", b"no-such-charset"))


def test_decode_page_with_the_encoding_found_at_fetch_time() -> None:
    body = _page(_CAFE).encode("cp1252")
    assert "na\u00efve" in decode_page(body, encoding="cp1252")
    assert "na\u00efve" in decode_page(body, encoding="no-such-codec")  # found again instead
    assert decode_page(b"\xef\xbb\xbf<p>x</p>", encoding="utf-8") == "<p>x</p>"


# --- the crawl and re-extraction agree --------------------------------------------------------

_AGREE = {
    "cp1252 declared in the header": (_page(_CAFE).encode("cp1252"), "text/html; charset=cp1252"),
    "cp1252 undeclared": (_page(_CAFE).encode("cp1252"), "text/html"),
    "shift_jis undeclared": (
        _page("<p>東京の港で新しい船が進水しました。</p>" * 3).encode("shift_jis"),
        "",
    ),
    "gb18030 under a lying header": (
        _page("<p>上海港口今天迎来了第一艘新船。</p>" * 3).encode("gb18030"),
        "text/html; charset=iso-8859-7",
    ),
    "cp1251 undeclared": (
        _page("<p>Новый корабль спущен на воду в порту.</p>" * 3, lang="ru").encode("cp1251"),
        "",
    ),
    "utf-8 under a latin-1 header": (
        _page("<p>Straßenbahn</p>").encode(),
        "text/html; charset=latin-1",
    ),
    "utf-16 bom": ("\ufeff<p>Straßenbahn</p>".encode("utf-16-le"), "text/html"),
    "junk": (bytes(range(256)) * 4, "text/html"),
    **{path: (article_html("A page", s).encode(c), t) for path, (c, t, s) in ENCODED.items()},
}


@pytest.mark.parametrize("name", sorted(_AGREE))
def test_without_a_fallback_the_decoder_guesses_as_scrapy_does(name: str) -> None:
    body, ctype = _AGREE[name]
    assert page_encoding(body, ctype) == page_encoding(body, ctype, _scrapy_guess(body, ctype))


# --- cases the former extraction decoder handled, kept ---------------------------------------


def test_a_7bit_iso_2022_jp_page_declared_in_meta() -> None:
    body = _page("<p>東京の港で新しい船が進水しました。</p>", "<meta charset='iso-2022-jp'>")
    data = body.encode("iso-2022-jp")
    assert data.isascii()
    assert page_encoding(data, "text/html", _scrapy_guess(data, "text/html")) == "iso2022_jp"
    assert "東京の港" in decode_page(data, "text/html")


def test_an_ascii_page_declaring_utf16_stays_ascii() -> None:
    data = _page("<p>Plain words.</p>", "<meta charset='utf-16'>").encode()
    assert "Plain words." in decode_page(data)


def test_an_undeclared_western_page_guessed_central_european_is_windows_1252() -> None:
    data = _page(_CAFE).encode("cp1252")
    assert _scrapy_guess(data, "text/html") == "cp1250"  # what makes "naďve" of "naïve"
    assert page_encoding(data, "text/html", "cp1250") == "cp1252"
    text = decode_page(data, "text/html")
    assert "\u201cna\u00efve\u201d" in text and "\u2013" in text


def test_an_undeclared_polish_page_keeps_the_central_european_guess() -> None:
    data = _page("<p>Zażółć gęślą jaźń, powiedział żeglarz.</p>", lang="pl").encode("cp1250")
    assert page_encoding(data, "text/html", "cp1250") == "cp1250"
