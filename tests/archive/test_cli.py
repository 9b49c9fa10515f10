"""search, show, export, stats, reextract: the real CLI against an archive built by a real crawl."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import urllib.request
from typing import Any

import pytest

from tests.archive.helpers import (
    HOSTILE_PATH,
    HOSTILE_QUOTE,
    Crawled,
    run_cli,
    sql,
)
from tests.services import pg_schema

pytestmark = pytest.mark.slow


def _json_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_search_ranks_title_matches_first_with_marked_snippets(crawled: Crawled) -> None:
    proc = run_cli("search", "--config", str(crawled.config), "--json", "harbour dredging")
    assert proc.returncode == 0, proc.stderr
    hits = _json_lines(proc.stdout)
    assert hits[0]["url"] == crawled.site.url(HOSTILE_PATH)
    assert "[dredge]" in hits[0]["snippet_marked"] or "[dredging]" in hits[0]["snippet_marked"]
    assert all(h["rank"] >= hits[-1]["rank"] for h in hits)
    text = run_cli("search", "--config", str(crawled.config), "harbour dredging").stdout
    assert "Harbour dredging to begin in January" in text and "[harbour]" in text


def test_search_filters_by_source_date_language_and_limit(crawled: Crawled) -> None:
    cfg = str(crawled.config)

    def urls(*args: str) -> list[str]:
        proc = run_cli("search", "--config", cfg, "--json", *args)
        assert proc.returncode == 0, proc.stderr
        return [h["url"] for h in _json_lines(proc.stdout)]

    everything = urls("harbour", "--limit", "50")
    assert len(everything) >= 5
    assert len(urls("harbour", "--limit", "2")) == 2
    assert urls("harbour", "--since", "2026-11-20", "--until", "2026-11-20") == [
        crawled.site.url(HOSTILE_PATH)
    ]
    assert urls("harbour", "--until", "2026-11-01") == []
    assert urls("harbour", "--lang", "xx") == []
    proc = run_cli("search", "--config", cfg, "harbour", "--source", "nosuch")
    assert proc.returncode == 2 and "nosuch" in proc.stderr


@pytest.mark.parametrize("query", ['"unbalanced', "title:", "AND", "(harbour", "covid-19 OR flu"])
def test_queries_that_are_not_fts_syntax_are_literal_words(crawled: Crawled, query: str) -> None:
    """issue 20 (13): no syntax error for these, they are searched as the words they hold."""
    proc = run_cli("search", "--config", str(crawled.config), query)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("query", ["*", "(", "^ <"])
def test_a_query_with_nothing_to_search_for_is_a_short_message_and_exit_2(
    crawled: Crawled, query: str
) -> None:
    proc = run_cli("search", "--config", str(crawled.config), query)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2  # on PostgreSQL too, whose web-search syntax takes any text
    assert proc.stderr.startswith("newsvault: nothing to search for")
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_plain_words_with_punctuation_just_work(crawled: Crawled) -> None:
    proc = run_cli("search", "--config", str(crawled.config), "--json", "£3.2 million, dredge!")
    assert proc.returncode == 0, proc.stderr
    assert [h["url"] for h in _json_lines(proc.stdout)] == [crawled.site.url(HOSTILE_PATH)]


def test_show_by_url_and_id_and_raw_html_as_fetched(crawled: Crawled) -> None:
    url = crawled.site.url(HOSTILE_PATH)
    by_url = run_cli("show", "--config", str(crawled.config), url)
    assert by_url.returncode == 0, by_url.stderr
    assert by_url.stdout.startswith("Harbour dredging to begin in January")
    assert "Margaret Quinn" in by_url.stdout and HOSTILE_QUOTE in by_url.stdout
    art_id = next(line.split()[1] for line in by_url.stdout.splitlines() if line.startswith("ID:"))
    assert run_cli("show", "--config", str(crawled.config), art_id).stdout == by_url.stdout
    raw = run_cli("show", "--config", str(crawled.config), url, "--raw")
    with urllib.request.urlopen(url) as resp:
        served = resp.read().decode("utf-8")
    assert raw.stdout == served
    missing = run_cli("show", "--config", str(crawled.config), "https://nowhere.invalid/x")
    assert missing.returncode == 2 and "no article" in missing.stderr
    first = run_cli("show", "--config", str(crawled.config), url, "--revision", "1")
    assert first.returncode == 0, first.stderr
    assert "Revision:    1" in first.stdout, "every stored article has its first revision"


def test_show_revision_reads_an_earlier_revision(archive_copy: Crawled) -> None:
    url = archive_copy.site.url(HOSTILE_PATH)
    with sql(archive_copy.url) as con:
        art_id, sha = con.execute(
            "SELECT id, body_sha256 FROM articles WHERE url = ?", (url,)
        ).fetchone()
        # an earlier version, as a re-crawl of an edited page records it (current one becomes 2)
        con.execute("UPDATE revisions SET number = 2 WHERE article_id = ?", (art_id,))
        con.execute(
            "INSERT INTO revisions (article_id, number, seen_at, title, text, text_hash,"
            " body_sha256, authors, tags) VALUES (?, 1, '2026-11-20 08:00:00', 'Dredging delayed',"
            " 'The first text.', 'h', ?, '[]', '[]')",
            (art_id, sha),
        )
    proc = run_cli("show", "--config", str(archive_copy.config), url, "--revision", "1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Dredging delayed") and "The first text." in proc.stdout
    assert "Revision:    1" in proc.stdout
    absent = run_cli("show", "--config", str(archive_copy.config), url, "--revision", "3")
    assert absent.returncode == 2 and "no revision 3" in absent.stderr
    stats = json.loads(run_cli("stats", "--config", str(archive_copy.config), "--json").stdout)
    assert stats["sources"][0]["revisions"] == 13


def test_export_jsonl_and_csv_hold_the_same_articles(crawled: Crawled, tmp_path: Any) -> None:
    cfg = str(crawled.config)
    jsonl = run_cli("export", "--config", cfg, "--format", "jsonl")
    assert jsonl.returncode == 0, jsonl.stderr
    rows = _json_lines(jsonl.stdout)
    assert len(rows) == 12
    out = tmp_path / "a.csv"
    proc = run_cli("export", "--config", cfg, "--format", "csv", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    table = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert [r["url"] for r in table] == [r["url"] for r in rows]
    for r, c in zip(rows, table, strict=True):
        assert c["text"] == r["text"], "multi-line text survives CSV quoting"
        assert c["authors"] == "; ".join(r["authors"])
    hostile = next(c for c in table if c["url"].endswith(HOSTILE_PATH))
    assert HOSTILE_QUOTE in hostile["text"]
    week = _json_lines(
        run_cli("export", "--config", cfg, "--since", "2026-11-20", "--until", "2026-11-22").stdout
    )
    assert week and all("2026-11-20" <= r["published_at"][:10] <= "2026-11-22" for r in week)
    assert len(week) < len(rows)


def test_stats_counts_articles_runs_failures_and_health(crawled: Crawled) -> None:
    proc = run_cli("stats", "--config", str(crawled.config), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    (row,) = data["sources"]
    assert row["source"] == "gazette" and row["articles"] == 12 and row["runs"] == 1
    assert row["failures"] == 1 and row["fetches"] == 12
    assert row["failure_rate"] == round(1 / 13, 4)
    assert row["first_published"][:10] == "2026-11-12"
    assert row["last_published"][:10] == "2026-11-28"
    assert row["revisions"] == 12, "one revision per article after a first crawl"
    with sql(crawled.url) as con:
        nodate = con.execute("SELECT count(*) FROM articles WHERE published_at IS NULL").fetchone()
        noauth = con.execute(
            "SELECT count(*) FROM articles WHERE CAST(authors AS TEXT) = '[]'"
        ).fetchone()
    assert row["missing_date"] == round(nodate[0] / 12, 4)
    assert row["missing_authors"] == round(noauth[0] / 12, 4)
    size = crawled.db.stat().st_size if crawled.is_sqlite else 1
    assert data["database_bytes"] >= size > 0
    plain = run_cli("stats", "--config", str(crawled.config))
    header, line = plain.stdout.splitlines()
    assert header.split("\t")[:3] == ["source", "articles", "revisions"]
    assert line.split("\t")[:3] == ["gazette", "12", "12"], "not a terminal: TSV"
    assert "database size" in plain.stderr, "a note, not a record: on stderr"


def test_reextract_restores_stale_text_without_network_and_search_follows(
    archive_copy: Crawled,
) -> None:
    url = archive_copy.site.url(HOSTILE_PATH)
    with sql(archive_copy.url) as con:
        good = con.execute("SELECT text FROM articles WHERE url = ?", (url,)).fetchone()[0]
        con.execute("UPDATE articles SET text = 'zanzibar stale text' WHERE url = ?", (url,))
    cfg = str(archive_copy.config)
    found = _json_lines(run_cli("search", "--config", cfg, "--json", "zanzibar").stdout)
    assert [h["url"] for h in found] == [url], "the FTS index follows an UPDATE (trigger)"
    before = len(archive_copy.site.requests)
    proc = run_cli("reextract", "--config", cfg, "--workers", "2")
    assert proc.returncode == 0, proc.stderr
    # the stale text has the stored fingerprint: no new revision, the row is repaired in place
    assert "12 articles re-extracted: 1 changed (0 kept as a new revision), 11" in proc.stdout
    assert len(archive_copy.site.requests) == before, "re-extraction made a network request"
    with sql(archive_copy.url) as con:
        assert con.execute("SELECT text FROM articles WHERE url = ?", (url,)).fetchone()[0] == good
    assert _json_lines(run_cli("search", "--config", cfg, "--json", "zanzibar").stdout) == []
    again = run_cli("reextract", "--config", cfg, "--source", "gazette")
    assert "0 changed (0 kept as a new revision), 12 unchanged" in again.stdout


def test_serve_reports_a_port_in_use_and_a_missing_archive(crawled: Crawled, tmp_path: Any) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = run_cli("serve", "--config", str(crawled.config), "--port", str(port), timeout=30)
    assert proc.returncode == 2 and "cannot listen on 127.0.0.1" in proc.stderr
    with contextlib.ExitStack() as stack:  # a missing SQLite file; a schema with no tables
        if crawled.is_sqlite:
            missing = crawled.url.replace(str(crawled.db), str(tmp_path / "no.db"))
        else:
            missing = stack.enter_context(pg_schema("nv_empty"))
        cfg = tmp_path / "c.yaml"
        cfg.write_text(crawled.config.read_text().replace(crawled.url, missing))
        for args in (("serve",), ("search", "x"), ("stats",), ("export",)):
            proc = run_cli(*args, "--config", str(cfg), timeout=30)
            assert proc.returncode == 3 and "no archive at" in proc.stderr, args
            assert "Traceback" not in proc.stderr


def test_show_and_search_print_no_terminal_escapes(archive_copy: Crawled) -> None:
    url = archive_copy.site.url(HOSTILE_PATH)
    with sql(archive_copy.url) as con:
        con.execute(
            "UPDATE articles SET title = ?, text = text || ? WHERE url = ?",
            ("Dredging \x1b]0;owned\x07news", "\n\nEnd \x1b[2J\x1b[31m zebrafish", url),
        )
    cfg = str(archive_copy.config)
    for proc in (
        run_cli("show", "--config", cfg, url),
        run_cli("search", "--config", cfg, "zebrafish"),
    ):
        assert proc.returncode == 0, proc.stderr
        assert "zebrafish" in proc.stdout and "Dredging" in proc.stdout
        assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout


@pytest.mark.parametrize("crawled", ["postgresql"], indirect=True)
def test_stats_counts_the_archive_not_its_neighbours_in_the_same_postgresql_database(
    crawled: Crawled,
) -> None:
    """On PostgreSQL the archive is one schema of a database others may share: its size is
    its own tables' (with their indexes and TOAST), and another schema's data does not count."""
    from sqlalchemy import create_engine, text

    from tests.services import pg_base

    def size() -> int:
        proc = run_cli("stats", "--config", str(crawled.config), "--json")
        assert proc.returncode == 0, proc.stderr
        return int(json.loads(proc.stdout)["database_bytes"])

    before = size()
    admin = create_engine(pg_base())
    try:
        with admin.begin() as conn:
            conn.execute(text("CREATE SCHEMA nv_neighbour"))
            conn.execute(
                text(
                    "CREATE TABLE nv_neighbour.big AS SELECT g AS n, repeat('x', 500) AS pad"
                    " FROM generate_series(1, 20000) g"
                )
            )
        assert size() == before
        with admin.connect() as conn:
            whole = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
            articles = conn.execute(
                text("SELECT pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n"
                     " ON n.oid = c.relnamespace WHERE c.relname = 'articles'"
                     " AND n.nspname = :schema"),
                {"schema": crawled.url.rsplit("search_path%3D", 1)[1]},
            ).scalar()  # fmt: skip
        assert 0 < articles < before < whole
    finally:
        with admin.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS nv_neighbour CASCADE"))
        admin.dispose()
