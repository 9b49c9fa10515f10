"""Publication dates read by htmldate's last resort (dateparser), in the page's language."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from lxml import html as lxml_html

from pipeline.metadata import find_date


def _page(lang: str, when: str) -> str:
    return (
        f"<html lang='{lang}'><head><title>Nota</title></head><body><article><h1>Nota</h1>"
        f"<div class='meta'>por Ana Ruiz</div><div class='fecha'>{when}</div>"
        + "<p>Texto de la nota con varias palabras para que sea un artículo.</p>" * 5
        + "</article></body></html>"
    )


def test_a_date_written_in_the_page_language_is_read() -> None:
    tree = lxml_html.fromstring(_page("es", "1 de diciembre de 2017 3:00"))
    assert find_date(tree, "http://example.test/nota", "es") == "2017-12-01"


def test_an_english_date_is_read_on_a_page_in_another_language() -> None:
    tree = lxml_html.fromstring(_page("es", "Dec. 19, 2025"))
    assert find_date(tree, "http://example.test/nota", "es-ES") == "2025-12-19"


def test_dateparser_loads_two_languages_not_all_of_them() -> None:
    # In a fresh process (dateparser's compiled patterns are per process): a string no language
    # reads made dateparser compile the patterns of its 200 languages, 2.2 s of CPU in each
    # extraction worker.
    code = textwrap.dedent(
        """
        from lxml import html
        from dateparser.languages.dictionary import Dictionary
        from pipeline.metadata import find_date
        page = ("<html lang='de'><body><h1>Top 10 Companies Taking the Stage in 2025</h1>"
                "<p>Top 10 eLearning Companies Taking the Stage in 2025</p></body></html>")
        find_date(html.fromstring(page), "http://example.test/a", "de")
        print(sum(len(v) for v in Dictionary._split_regex_cache.values()))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert 1 <= int(out.stdout.strip()) <= 2


def test_pages_in_different_languages_read_in_threads_keep_their_own_dates() -> None:
    # rendered pages are extracted in threads (pipeline.render): each page's date is read
    # with its own language, whatever the other threads are reading
    from concurrent.futures import ThreadPoolExecutor

    pages = [
        ("es", "1 de diciembre de 2017 3:00", "2017-12-01"),
        ("en", "Dec. 19, 2025", "2025-12-19"),
    ]

    def read(i: int) -> bool:
        lang, when, want = pages[i % 2]
        tree = lxml_html.fromstring(_page(lang, when))
        return find_date(tree, f"http://example.test/{i}", lang) == want

    with ThreadPoolExecutor(4) as pool:
        assert all(pool.map(read, range(40)))
