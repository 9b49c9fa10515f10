"""One way to name an article: show, history and diff take an id, a URL, any variant of the URL
(tracking parameters, AMP, print, case, fragment) or an alias, and find the same article; a
reference to nothing is one line on stderr and the same exit status in every command."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from common.fingerprint import simhash, text_fingerprint
from newsvault.cli import main
from storage.reading import lookup_article
from storage.repository import Archive, ArticleRecord, FetchRecord
from tests.conftest import DATA
from tests.services import has_archive

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
URL = "https://ex.com/news/council-budget/"
COPY = "https://ex.com/2026/11/council-budget-copy/"  # the same text: a content alias
NEAR = "https://ex.com/2026/11/council-budget-near/"  # nearly the same text: a content alias
SHORT = "https://ex.com/s/4711"  # recorded as a redirect to URL
OLD = (DATA / "expected" / "news_council-budget.html.txt").read_text(encoding="utf-8")
NEW = OLD.replace("4.9 per cent", "5.2 per cent")

REFS = [
    URL,
    URL + "?utm_source=feed&utm_medium=rss",
    "https://EX.com:443/news/council-budget/#comments",
    URL + "amp/",
    URL + "?print=1",
    COPY,
    NEAR,
    SHORT,
]
MISSING = [
    "https://ex.com/news/nothing-here/",
    "https://ex.com/news/nothing-here/?utm_source=x",
    "http://[::1",  # not even a URL urllib can parse
]


def _save(archive: Archive, url: str, text: str, at: datetime) -> None:
    record = ArticleRecord(
        source="gazette",
        url=url,
        text=text,
        text_hash=text_fingerprint(text),
        title="Council budget",
        simhash=simhash(text),
    )
    archive.save_article(None, record, FetchRecord(url=url, fetched_at=at, status=200, body=b"x"))


@pytest.fixture
def archived(tmp_path: Path, database_url: str) -> Iterator[tuple[Path, int]]:
    """A config and the id of an article with two revisions, a content alias and a redirect."""
    archive = Archive.open(database_url)
    try:
        _save(archive, URL, OLD, T0)
        _save(archive, URL, NEW, T0 + timedelta(hours=1))
        _save(archive, COPY, NEW, T0 + timedelta(hours=2))
        _save(archive, NEAR, NEW.replace("5.2 per cent", "5.3 per cent"), T0 + timedelta(hours=3))
        assert archive.record_alias(SHORT, URL, "redirect")
        with archive.engine.connect() as con:
            reasons = dict(con.exec_driver_sql("SELECT url, reason FROM aliases").all())
        assert reasons == {COPY: "same-text", NEAR: "near-duplicate", SHORT: "redirect"}
        art = archive.history(URL)
        assert art is not None
        art_id = int(art[0]["id"])
    finally:
        archive.close()
    config = tmp_path / "config.yaml"
    data = {"database": database_url, "sources": [{"name": "gazette", "feeds": [URL]}]}
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    yield config, art_id


def _run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [args[0], "--config", str(config), *args[1:]])


@pytest.mark.parametrize("command", ["show", "history", "diff"])
def test_every_command_finds_the_article_by_id_url_variant_or_alias(
    archived: tuple[Path, int], command: str
) -> None:
    config, art_id = archived
    expected = _run(config, command, URL)
    assert expected.exit_code == 0, expected.output
    assert expected.stdout.strip()
    for ref in [str(art_id), *REFS]:
        result = _run(config, command, ref)
        assert result.exit_code == 0, (ref, result.output)
        assert result.stdout == expected.stdout, ref


@pytest.mark.parametrize("command", ["show", "history", "diff"])
def test_a_reference_to_nothing_is_one_line_and_exit_2_in_every_command(
    archived: tuple[Path, int], command: str
) -> None:
    config, art_id = archived
    for ref in [str(art_id + 1000), *MISSING]:
        result = _run(config, command, ref)
        assert result.exit_code == 2, (ref, result.output)
        assert result.stdout == ""
        assert result.stderr == f"newsvault: no article {ref!r} in the archive\n"


def test_lookup_resolves_every_reference_to_the_one_article(
    archived: tuple[Path, int], database_url: str
) -> None:
    _, art_id = archived
    archive = Archive.open(database_url, readonly=True)
    try:
        for ref in [str(art_id), *REFS]:
            found = lookup_article(archive.engine, ref)
            assert found is not None and found["id"] == art_id, ref
            assert found["url"] == URL and found["body_sha256"]
        for ref in [str(art_id + 1000), *MISSING, "", "٣"]:
            assert lookup_article(archive.engine, ref) is None, ref
    finally:
        archive.close()


def test_lookup_finds_a_url_the_article_was_fetched_at_without_an_alias(
    database_url: str,
) -> None:
    """Archives from before aliases were recorded know some URLs only from their fetches."""
    archive = Archive.open(database_url)
    try:
        record = ArticleRecord(source="gazette", url=URL, text=OLD, text_hash="h")
        fetched = "https://ex.com/?p=4711"
        fetch = FetchRecord(url=fetched, fetched_at=T0, status=200, body=b"x")
        archive.save_article(None, record, fetch)
        with archive.engine.begin() as con:
            con.exec_driver_sql("DELETE FROM aliases")
        found = lookup_article(archive.engine, fetched + "&utm_source=feed")
        assert found is not None and found["url"] == URL
    finally:
        archive.close()


@pytest.mark.parametrize("command", ["show", "history", "diff"])
def test_every_command_reads_without_creating_an_archive(
    tmp_path: Path, database_url: str, command: str
) -> None:
    """A SQLite file that is not there, a PostgreSQL schema without newsvault's tables: the
    message names what the config names."""
    config = tmp_path / "config.yaml"
    data = {"database": database_url, "sources": [{"name": "gazette", "feeds": [URL]}]}
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = _run(config, command, URL)
    assert result.exit_code == 3, result.output
    if database_url.startswith("sqlite"):
        where = database_url.removeprefix("sqlite:///")
    else:
        where = f"{database_url} (no newsvault tables there)"
    assert result.stderr == f"newsvault: no archive at {where}\n"
    assert not has_archive(database_url)
