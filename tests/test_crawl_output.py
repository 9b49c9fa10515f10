"""What a crawl prints: no warnings, a progress bar on a terminal whose last counts are the
summary's, progress lines elsewhere, the reasons of failures, -q/-v; and a fast ``--help``."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from newsvault.cli import main
from newsvault.daemon_log import setup_logging
from newsvault.sitesrv import LocalSite
from tests.conftest import ROOT
from tests.ptyrun import run_in_pty


def _source(site: LocalSite, *extra: str) -> dict[str, Any]:
    return {
        "name": "gazette",
        "feeds": [site.url("/feed.xml")],
        "sitemaps": [site.url("/sitemap_index.xml")],
        "start_urls": [site.url("/"), *(site.url(p) for p in extra)],
    }


def _summary(tsv: str) -> dict[str, str]:
    header, line = tsv.splitlines()
    return dict(zip(header.split("\t"), line.split("\t"), strict=True))


def test_a_normal_crawl_prints_no_warning_and_its_progress_agrees_with_the_summary(
    site: LocalSite,
    write_config,
    cli,  # type: ignore[no-untyped-def]
) -> None:
    config = write_config([_source(site)])
    proc = cli("crawl", "--config", str(config))
    assert proc.returncode == 0, proc.stderr
    problems = [
        ln for ln in proc.stderr.splitlines() if re.search(r"(?i:warning|traceback)|\bERROR\b", ln)
    ]
    assert problems == [], "a normal crawl prints no warning"
    summary = _summary(proc.stdout)  # not a terminal: TSV, progress lines on stderr
    assert summary["source"] == "gazette" and summary["status"] == "ok" and summary["new"] == "12"
    last = proc.stderr.splitlines()[-1]
    counts = ", ".join(
        f"{k} {summary[k]}" for k in ("pages", "new", "updated", "unchanged", "skipped", "errors")
    )
    assert re.fullmatch(rf"\[gazette\] done in [0-9.]+ s: {counts}", last), last


def test_a_crawl_on_a_terminal_shows_a_progress_bar(
    site: LocalSite,
    write_config,  # type: ignore[no-untyped-def]
) -> None:
    config = write_config([_source(site)])
    out = run_in_pty(["-m", "newsvault", "crawl", "--config", str(config)], cols=100)
    assert out.returncode == 0, out.text
    bars = [ln for ln in out.text.splitlines() if ln.startswith("gazette ") and "━" in ln]
    assert bars, out.text
    final = re.search(
        r"pages (\d+), new (\d+), updated 0, unchanged 0, skipped 0, errors 0", bars[-1]
    )
    assert final is not None, bars[-1]
    row = next(ln for ln in out.text.splitlines() if re.match(r"gazette +ok ", ln))
    cells = row.split()
    assert cells[:4] == ["gazette", "ok", final.group(1), final.group(2)], "bar and summary agree"
    assert "[gazette] pages" not in out.text, "the bar replaces the progress lines"


def test_a_failed_page_is_explained_and_quiet_prints_errors_only(
    site: LocalSite,
    write_config,
    cli,  # type: ignore[no-untyped-def]
) -> None:
    config = write_config([_source(site, "/no-such-page/")])
    proc = cli("crawl", "--config", str(config), "--json")
    assert proc.returncode == 0, proc.stderr
    [result] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert result["status"] == "partial" and result["errors"] == 1 and result["run_id"] == 1
    assert (
        "newsvault: gazette: 1 failed: HTTP 404 (1) (see `newsvault failures --run 1`)"
        in proc.stderr.splitlines()
    )
    # a source's first crawl again: another source listing the same pages
    config = write_config([{**_source(site, "/no-such-page/"), "name": "herald"}])
    quiet = cli("crawl", "--config", str(config), "-q")
    assert quiet.returncode == 0
    assert quiet.stdout == "", "no summary"
    assert "[herald]" not in quiet.stderr, "no progress"
    assert quiet.stderr.splitlines() == [
        "newsvault: herald: 1 failed: HTTP 404 (1) (see `newsvault failures --run 2`)"
    ]
    both = cli("crawl", "--config", str(config), "-q", "-v")
    assert both.returncode == 2 and "exclude each other" in both.stderr


def test_verbose_crawl_shows_scrapy_info(site: LocalSite, write_config, cli) -> None:  # type: ignore[no-untyped-def]
    config = write_config([_source(site)])
    proc = cli("crawl", "--config", str(config), "-v", "--limit", "1")
    assert proc.returncode == 0, proc.stderr
    assert "INFO: " in proc.stderr


def test_daemon_log_levels_follow_quiet_and_verbose(tmp_path: Path) -> None:
    log_file = tmp_path / "daemon.log"
    log = setup_logging("text", log_file, logging.WARNING)  # --quiet
    log.info("run started", extra={"event": "run-started"})
    log.warning("run failed", extra={"event": "run-failed"})
    for handler in log.handlers:
        handler.close()
    log = setup_logging("text", log_file, logging.DEBUG)  # --verbose
    log.debug("detail", extra={"event": "d"})
    for handler in log.handlers:
        handler.close()
    lines = log_file.read_text(encoding="utf-8").splitlines()
    assert [ln.split(" ", 2)[2] for ln in lines] == ["run-failed: run failed", "d: detail"]
    help_text = CliRunner().invoke(main, ["daemon", "--help"]).output
    assert "--quiet" in help_text and "--verbose" in help_text


def test_help_starts_without_the_heavy_packages() -> None:
    probe = (
        "import sys\n"
        "from newsvault.cli import main\n"
        "try:\n"
        "    main(['--help'], prog_name='newsvault')\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('scrapy', 'trafilatura', 'sqlalchemy', 'twisted', 'pydantic', 'lxml', 'rich')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "[]"


def test_source_names_are_completed(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "sources:\n"
        "  - {name: harbour-gazette, feeds: ['http://a.example/f']}\n"
        "  - {name: hill-herald, feeds: ['http://b.example/f']}\n"
        "  - {name: town-times, feeds: ['http://c.example/f']}\n",
        encoding="utf-8",
    )
    env = {"_NEWSVAULT_COMPLETE": "bash_complete", "NEWSVAULT_CONFIG": str(config)}
    for words, expected in (
        ("newsvault search --source h", ["harbour-gazette", "hill-herald"]),
        ("newsvault runs --source t", ["town-times"]),
        ("newsvault crawl --source ", ["harbour-gazette", "hill-herald", "town-times"]),
    ):
        cword = str(len(words.split()) - (0 if words.endswith(" ") else 1))
        result = CliRunner().invoke(
            main, [], prog_name="newsvault", env={**env, "COMP_WORDS": words, "COMP_CWORD": cword}
        )
        assert [line.split(",", 1)[1] for line in result.output.splitlines()] == expected
