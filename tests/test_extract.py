"""Extraction on saved pages: exact text, metadata, non-articles, per-source rules, charsets, junk.

Every page in tests/extraction/ is hand-written (no third-party text): ``name.html`` with
``name.txt``, the exact text expected, and optionally ``name.meta.json``, the expected metadata
(plus the page's URL). Every extraction bug fix starts as a new page here.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.errors import ExtractionError, NotAnArticle
from pipeline.boilerplate import is_boilerplate_line, is_byline, is_dateline
from pipeline.extract import Article, ExtractOptions, extract_article

PAGES = Path(__file__).parent / "extraction"
NAMES = sorted(p.stem for p in PAGES.glob("*.html") if (PAGES / f"{p.stem}.txt").exists())


def _meta(name: str) -> dict[str, object]:
    path = PAGES / f"{name}.meta.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _url(name: str) -> str:
    return str(_meta(name).get("url") or f"https://news.example/2024/01/{name}/")


def test_there_are_pages_in_several_languages() -> None:
    assert len(NAMES) >= 5
    langs = {n.rsplit("_", 1)[-1] for n in NAMES}
    assert {"en", "de", "fr", "es", "zh"} <= langs


@pytest.mark.parametrize("name", NAMES)
def test_text_is_exactly_the_article(name: str) -> None:
    expected = (PAGES / f"{name}.txt").read_text(encoding="utf-8").rstrip("\n")
    art = extract_article((PAGES / f"{name}.html").read_bytes(), _url(name))
    assert art.text == expected


@pytest.mark.parametrize("name", [n for n in NAMES if (PAGES / f"{n}.meta.json").exists()])
def test_metadata(name: str) -> None:
    expected = _meta(name)
    expected.pop("url", None)
    art = extract_article((PAGES / f"{name}.html").read_bytes(), _url(name))
    for key, want in expected.items():
        got = getattr(art, key)
        if isinstance(want, list):
            want = tuple(want)
        assert got == want, key


def test_title_is_not_repeated_and_paragraphs_are_separated_by_one_blank_line() -> None:
    art = extract_article((PAGES / "ghost_blog_en.html").read_bytes(), _url("ghost_blog_en"))
    assert art.title and not art.text.startswith(art.title)
    assert "\n\n\n" not in art.text
    assert all(p.strip() == p and p for p in art.text.split("\n\n"))


# --- not articles -------------------------------------------------------------------------

_TEASERS = "".join(
    f'<li><h2><a href="/2024/01/story-{i}/">Story number {i} about the town council budget '
    f"and the harbour</a></h2></li>"
    for i in range(20)
)
INDEX_PAGE = f"""<html><head><title>Coastline Courier - News from the bay</title>
<meta property="og:type" content="website"></head>
<body><header><a href="/">Coastline Courier</a></header><main><ul class="stories">{_TEASERS}</ul>
</main><footer>About us</footer></body></html>"""

LOGIN_PAGE = """<html><head><title>Log in - Coastline Courier</title></head><body>
<main><h1>Log in to your account</h1><p>Subscribers can read every story and the e-paper.
Enter the email address and the password you chose when you subscribed to the newspaper.</p>
<form method="post" action="/login"><label>Email <input type="email" name="email"></label>
<label>Password <input type="password" name="password"></label><button>Log in</button></form>
<p><a href="/forgot">Forgot your password?</a></p></main></body></html>"""


_SUMMARIES = "".join(
    f'<div class="teaser"><h3><a href="/2024/01/story-{i}/">Headline number {i} about the '
    f'harbour</a></h3><p>Summary {i}: the council met on Tuesday to discuss the harbour wall, the '
    f"ferry timetable and the price of parking on the quay during the summer months.</p></div>"
    for i in range(6)
)
SECTION_PAGE = f"""<html><head><title>Local news</title></head><body>
<header><a href="/">Coastline Courier</a></header><main><h1>Local news</h1>{_SUMMARIES}</main>
</body></html>"""


def test_section_front_with_summaries_is_not_an_article() -> None:
    with pytest.raises(NotAnArticle):
        extract_article(SECTION_PAGE, "https://coastline-courier.example/local/")


def test_short_post_whose_title_links_to_itself_is_an_article() -> None:
    page = SECTION_PAGE.replace(_SUMMARIES, _SUMMARIES.split("</div>")[0] + "</div>")
    page = page.replace("<h1>Local news</h1>", "")
    art = extract_article(page, "https://coastline-courier.example/2024/01/story-0/")
    assert art.text.startswith("Summary 0:")


def test_index_page_is_not_an_article() -> None:
    with pytest.raises(NotAnArticle):
        extract_article(INDEX_PAGE, "https://coastline-courier.example/")


def test_tag_page_is_not_an_article() -> None:
    page = INDEX_PAGE.replace("<main>", "<main><h1>Tag: harbour</h1>")
    with pytest.raises(NotAnArticle):
        extract_article(page, "https://coastline-courier.example/tag/harbour/")


def test_search_page_is_not_an_article() -> None:
    with pytest.raises(NotAnArticle):
        extract_article(INDEX_PAGE, "https://coastline-courier.example/?s=harbour")


def test_login_page_is_not_an_article() -> None:
    with pytest.raises(NotAnArticle):
        extract_article(LOGIN_PAGE, "https://coastline-courier.example/login")


@pytest.mark.parametrize(
    "html",
    ["", "   \n", b"", "<html><head><title>x</title></head><body></body></html>",
     "<html><body><p>Too short to be an article.</p></body></html>"],
)
def test_empty_or_tiny_page_is_not_an_article(html: str | bytes) -> None:
    with pytest.raises(NotAnArticle):
        extract_article(html, "https://coastline-courier.example/2024/01/empty/")


# --- per-source rules -----------------------------------------------------------------------

_PARAS = "".join(
    f"<p>Paragraph {i} of the story tells how the council, the harbour master and the ferry "
    f"company argued for a whole evening about who should pay for the new pontoon.</p>"
    for i in range(4)
)
SOURCE_PAGE = f"""<html><head><title>Pontoon row</title><meta property="og:type" content="article">
</head><body><article><h1>Pontoon row</h1>{_PARAS}
<div class="supporter-box"><p>Our reporting is paid for by readers like you: every monthly
contribution keeps this small newsroom independent for another year.</p></div>
</article></body></html>"""
URL = "https://coastline-courier.example/2024/01/pontoon-row/"


def test_source_rules_default_keeps_the_box() -> None:
    assert "readers like you" in extract_article(SOURCE_PAGE, URL).text


@pytest.mark.parametrize(
    "opts",
    [
        ExtractOptions(drop_xpaths=('//div[@class="supporter-box"]',)),
        ExtractOptions(drop_css=("div.supporter-box",)),
        ExtractOptions(drop_lines=(r"^Our reporting is paid for by readers",)),
    ],
)
def test_source_rules_drop_the_box(opts: ExtractOptions) -> None:
    text = extract_article(SOURCE_PAGE, URL, opts).text
    assert "readers like you" not in text
    assert text.count("Paragraph") == 4


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2024-01-10T08:15:00Z", "2024-01-10T08:15:00+00:00"),
        ("2024-01-10", "2024-01-10"),
        ("Wed, 10 Jan 2024 08:15:00 +0000", "2024-01-10T08:15:00+00:00"),
        ("10.01.2024", "2024-01-10"),
        ("last Tuesday", None),
        ("31.02.2024", None),
    ],
)
def test_dates_are_iso_8601_or_none(raw: str, iso: str | None) -> None:
    from pipeline.metadata import iso_date

    assert iso_date(raw) == iso


def test_min_words() -> None:
    with pytest.raises(NotAnArticle):
        extract_article(SOURCE_PAGE, URL, ExtractOptions(min_words=500))


# --- charsets -------------------------------------------------------------------------------

_CP1252_BODY = (
    "<p>The caf\u00e9 on the quay re-opened on Monday after a \u201cna\u00efve\u201d plan to "
    "turn it into flats was dropped \u2013 to the relief of the regulars, who had collected "
    "three thousand signatures against it over the winter.</p>" * 2
)


def _cp1252_page(meta: str) -> bytes:
    return (
        f"<html><head>{meta}<title>Caf\u00e9 saved</title>"
        '<meta property="og:type" content="article"></head>'
        f"<body><article>{_CP1252_BODY}</article></body></html>"
    ).encode("cp1252")


@pytest.mark.parametrize(
    "meta",
    [
        '<meta charset="windows-1252">',
        '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">',
        "",  # undeclared: not UTF-8, so guessed
    ],
)
def test_windows_1252_bytes_decode_without_mojibake(meta: str) -> None:
    text = extract_article(_cp1252_page(meta), URL).text
    assert "caf\u00e9" in text and "\u201cna\u00efve\u201d" in text and "\u2013" in text
    assert "\ufffd" not in text and "Ã" not in text


def test_utf8_bom_is_honoured_and_dropped() -> None:
    html = (PAGES / "drupal_portal_de.html").read_bytes().replace(b'<meta charset="utf-8">', b"")
    text = extract_article(b"\xef\xbb\xbf" + html, _url("drupal_portal_de")).text
    assert text == (PAGES / "drupal_portal_de.txt").read_text(encoding="utf-8").rstrip("\n")


# --- junk never raises anything but ExtractionError ----------------------------------------

JUNK: list[str | bytes] = [
    b"\x00\x01\x02\x03\xff\xfe\xfd",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "<<<>>>",
    "<?xml version='1.0' encoding='utf-8'?><rss><channel><item>x</item></channel></rss>",
    "<html>" + "<div>" * 3000 + "deep" + "</div>" * 3000 + "</html>",
    "<html><body>\x00\x0b\x0c</body></html>",
    '<script type="application/ld+json">{"@type": "NewsArticle", "articleBody": [1, 2]</script>',
    "plain text, no markup at all, " * 20,
]


@pytest.mark.parametrize("junk", JUNK)
def test_junk_raises_only_extraction_error(junk: str | bytes) -> None:
    try:
        extract_article(junk, "https://news.example/junk")
    except ExtractionError:
        pass


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=400), st.text(max_size=400)))
def test_random_input_raises_only_extraction_error(junk: str | bytes) -> None:
    try:
        extract_article(junk, "https://news.example/random")
    except ExtractionError:
        pass


# --- values cross process boundaries --------------------------------------------------------


def test_article_and_options_are_picklable() -> None:
    art = extract_article((PAGES / "jsonld_newsarticle_fr.html").read_bytes(),
                          _url("jsonld_newsarticle_fr"))
    opts = ExtractOptions(drop_css=("div.x",), drop_lines=("a b",))
    assert pickle.loads(pickle.dumps(art)) == art
    assert pickle.loads(pickle.dumps(opts)) == opts
    assert isinstance(art, Article)


# --- boilerplate phrases --------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Leave a Reply", "No votes yet.", "Your email address will not be published.",
        "Share this:", "Read more: Ferry timetable changes from April",
        "Sign up for our newsletter to get the latest news", "Follow us on Twitter",
        "Lesen Sie auch: Fernwärmenetz wird erweitert", "Ihre E-Mail-Adresse wird nicht "
        "veröffentlicht.", "À lire aussi : Les bus gratuits", "Abonnez-vous à notre newsletter",
        "Deja una respuesta", "Leer más: Qué sembrar en otoño", "Leggi anche: il nuovo piano",
        "Lascia un commento", "Leia também: Novo plano", "Deixe um comentário", "相关阅读",
        "责任编辑：张丽", "分享到：", "Photo: Anna Kovač", "Advertisement",
    ],
)
def test_boilerplate_lines(line: str) -> None:
    assert is_boilerplate_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "Share prices fell by a third after the company cut its forecast for the year.",
        "Read the full report, the minister said, and you will see the figures are sound.",
        "Comments from residents were mostly positive, the council said on Tuesday.",
        "Die Stadtwerke haben in zwanzig Wohnungen Wärmepumpen eingebaut.",
        "1月17日上午，随着最后一段隧道顺利打通，江城地铁五号线实现全线贯通。",
    ],
)
def test_article_lines_are_not_boilerplate(line: str) -> None:
    assert not is_boilerplate_line(line)
    assert not is_dateline(line)


@pytest.mark.parametrize(
    "line",
    ["Updated 18 Nov 2019, 14:05 GMT", "Montag, 18. November 2019, 14:05 Uhr",
     "Publié le 8 novembre 2023 à 06h00", "segunda-feira, 22 de janeiro de 2018 às 0:13",
     "2024-01-18 08:30"],
)
def test_datelines(line: str) -> None:
    assert is_dateline(line)


def test_bylines() -> None:
    assert is_byline("By Megan Hollis")
    assert is_byline("Von Jonas Brandt")
    assert is_byline("Megan Hollis", ("Megan Hollis",))
    assert not is_byline("By the end of the year the ferry will run every hour.")


def test_sign_off_sentences_are_cut_from_the_last_paragraph() -> None:
    from pipeline.clean import clean_text

    text = (
        "The council will meet again in March.\n"
        "The ferry will run every hour. Follow us on Twitter @courier. "
        "Email the reporter at jane@courier.example."
    )
    assert clean_text(text) == (
        "The council will meet again in March.\n\nThe ferry will run every hour."
    )


def test_runs_in_a_process_pool() -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    html = (PAGES / "wordpress_rating_en.html").read_bytes()
    url = _url("wordpress_rating_en")
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        art = pool.submit(extract_article, html, url, ExtractOptions(min_words=10)).result()
    assert art == extract_article(html, url, ExtractOptions(min_words=10))
