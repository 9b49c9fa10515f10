"""What the reading commands print: TSV off a terminal, JSON with --json, tables that fit 100
columns on one, no colour under NO_COLOR, a quiet end on a closed pipe; failures and why; the
articles of a source removed from the config."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.archive.helpers import HOSTILE_PATH, Crawled, add_revisions, run_cli
from tests.conftest import ROOT
from tests.ptyrun import run_in_pty

DEAD = "/2026/11/gone-missing-story/"


def _jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_runs_lists_tsv_and_json_with_the_failure_reason_as_message(crawled: Crawled) -> None:
    plain = run_cli("runs", "--config", str(crawled.config))
    assert plain.returncode == 0, plain.stderr
    header, *lines = plain.stdout.splitlines()
    cols = header.split("\t")
    assert cols[:6] == ["id", "source", "trigger", "started", "took", "status"]
    assert cols[-1] == "message"
    row = dict(zip(cols, lines[0].split("\t"), strict=True))
    assert row["source"] == "gazette" and row["status"] == "partial" and row["errors"] == "1"
    assert row["message"] == "1 failed: HTTP 404 (1)", "runs fills its message column"
    [run] = _jsonl(run_cli("runs", "--config", str(crawled.config), "--json").stdout)
    assert run["message"] == row["message"] and run["errors"] == 1 and run["articles_new"] == 12
    assert run["started_at"].startswith("20") and isinstance(run["seconds"], float)


def test_failures_says_what_failed_and_why(crawled: Crawled) -> None:
    cfg = str(crawled.config)
    [failure] = _jsonl(run_cli("failures", "--config", cfg, "--json").stdout)
    assert failure["url"] == crawled.site.url(DEAD)
    assert (failure["kind"], failure["status"], failure["reason"]) == ("http", 404, "HTTP 404")
    assert failure["source"] == "gazette" and failure["run_id"] == 1
    by_run = run_cli("failures", "--config", cfg, "--run", "1", "--json").stdout
    by_source = run_cli("failures", "--config", cfg, "--source", "gazette", "--json").stdout
    assert _jsonl(by_run) == _jsonl(by_source) == [failure]
    other = run_cli("failures", "--config", cfg, "--run", "99")
    assert other.returncode == 0 and other.stdout == "" and "no failures" in other.stderr
    header, line = run_cli("failures", "--config", cfg).stdout.splitlines()
    assert header == "run\tsource\twhen (UTC)\tkind\tHTTP\treason\turl"
    assert line.endswith(f"\thttp\t404\tHTTP 404\t{crawled.site.url(DEAD)}")


def test_status_show_history_diff_and_stats_speak_json(archive_copy: Crawled) -> None:
    cfg = str(archive_copy.config)
    status = run_cli("status", "--config", cfg, "--json")
    data = json.loads(status.stdout)
    assert data["healthy"] is True and data["daemon"]["running"] is False
    [src] = data["sources"]
    assert src["source"] == "gazette" and src["last_status"] == "partial" and src["healthy"]
    plain = run_cli("status", "--config", cfg)
    assert plain.stdout.splitlines()[0].split("\t")[:2] == ["source", "schedule"]
    assert "daemon: not running" in plain.stderr, "a note, not a record: stderr when not a tty"

    art_id = add_revisions(archive_copy.url, archive_copy.site.url(HOSTILE_PATH))
    shown = json.loads(run_cli("show", "--config", cfg, str(art_id), "--json").stdout)
    assert (
        shown["id"] == art_id and shown["source"] == "gazette" and "£3.2 million" in shown["text"]
    )
    assert run_cli("show", "--config", cfg, str(art_id), "--json", "--raw").returncode == 2
    hist = json.loads(run_cli("history", "--config", cfg, str(art_id), "--json").stdout)
    assert [r["number"] for r in hist["revisions"]] == [1, 2]
    assert hist["revisions"][0]["title"] == "Harbour dredging delayed again"
    assert hist["revisions"][1]["words"] == len(shown["text"].split())
    diff = json.loads(run_cli("diff", "--config", cfg, str(art_id), "--json").stdout)
    assert (diff["from"]["number"], diff["to"]["number"]) == (1, 2)
    assert ["del", "spring"] in diff["text"] and ["ins", "3.2 million"] in diff["text"]
    old = "".join(t for op, t in diff["text"] if op != "ins")
    assert old == hist["revisions"][0]["text"], "the segments rebuild the older text"
    assert any("{+3.2 million+}" in para for para in diff["changed"])
    stats = json.loads(run_cli("stats", "--config", cfg, "--json").stdout)
    assert stats["sources"][0]["articles"] == 12


def test_reextract_prints_its_counts_as_json(archive_copy: Crawled) -> None:
    proc = run_cli("reextract", "--config", str(archive_copy.config), "--json", "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    counts = json.loads(proc.stdout)
    assert counts["examined"] == 12 and counts["failed"] == 0
    assert counts["changed"] + counts["unchanged"] == 12


def test_exports_carry_the_article_id(crawled: Crawled) -> None:
    cfg = str(crawled.config)
    rows = _jsonl(run_cli("export", "--config", cfg).stdout)
    table = list(
        csv.DictReader(io.StringIO(run_cli("export", "--config", cfg, "--format", "csv").stdout))
    )
    assert [r["id"] for r in rows] == [int(r["id"]) for r in table] == sorted(r["id"] for r in rows)
    first = rows[0]
    shown = json.loads(run_cli("show", "--config", cfg, str(first["id"]), "--json").stdout)
    assert shown["url"] == first["url"], "the exported id is the one `show` takes"


def test_a_source_removed_from_the_config_stays_searchable_and_exportable(
    archive_copy: Crawled,
) -> None:
    data = yaml.safe_load(archive_copy.config.read_text(encoding="utf-8"))
    data["sources"][0]["name"] = "another-site"
    archive_copy.config.write_text(yaml.safe_dump(data), encoding="utf-8")
    cfg = str(archive_copy.config)
    hits = _jsonl(
        run_cli("search", "harbour", "--source", "gazette", "--json", "--config", cfg).stdout
    )
    assert hits and {h["source"] for h in hits} == {"gazette"}
    exported = _jsonl(run_cli("export", "--source", "gazette", "--config", cfg).stdout)
    assert len(exported) == 12
    unknown = run_cli("export", "--source", "nowhere", "--config", cfg)
    assert unknown.returncode == 2 and "no source named 'nowhere'" in unknown.stderr
    assert "gazette" in unknown.stderr and "another-site" in unknown.stderr


COMMANDS = [
    ("search", "harbour"),
    ("search", "harbour", "--json"),
    ("export",),
    ("export", "--format", "csv"),
    ("export", "--format", "warc"),
    ("stats",),
    ("stats", "--json"),
    ("runs",),
    ("runs", "--json"),
    ("failures",),
    ("status",),
    ("show", "1"),
    ("show", "1", "--raw"),
    ("history", "1"),
    ("diff", "1"),
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_closed_pipe_ends_every_command_quietly(crawled: Crawled, args: tuple[str, ...]) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first write, as `| head` after its lines
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "newsvault", *args, "--config", str(crawled.config)],
            cwd=ROOT,
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write)
    assert proc.stderr == "", f"{args}: {proc.stderr}"
    assert proc.returncode == 1


def test_tables_fit_100_columns_on_a_wide_terminal(crawled: Crawled) -> None:
    for args in (("runs",), ("stats",), ("failures",), ("status",)):
        out = run_in_pty(["-m", "newsvault", *args, "--config", str(crawled.config)], cols=200)
        lines = out.text.splitlines()
        assert "─" * 50 in out.text and "\t" not in out.text, f"{args}: a table on a terminal"
        assert max(len(line) for line in lines) <= 100, f"{args}:\n{out.text}"


def test_colour_on_a_terminal_unless_no_color(crawled: Crawled) -> None:
    args = ["-m", "newsvault", "search", "harbour", "--config", str(crawled.config)]
    assert "\x1b[" in run_in_pty(args).raw
    assert "\x1b[" not in run_in_pty(args, env={"NO_COLOR": "1"}).raw
    assert "\x1b[" not in run_cli("search", "harbour", "--config", str(crawled.config)).stdout


def test_the_help_examples_work_on_the_demo_archive(tmp_path: Path) -> None:
    """Each example of a reading command's help, run as written against `newsvault demo`'s
    archive (as its config says), exits 0."""
    from click.testing import CliRunner

    from newsvault.cli import main

    demo = run_cli("demo", "--db", str(tmp_path / "demo.db"))
    assert demo.returncode == 0, demo.stderr
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shim = bindir / "newsvault"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m newsvault "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bindir}:{os.environ['PATH']}",
        "NEWSVAULT_CONFIG": str(tmp_path / "demo.yaml"),
        "PYTHONPATH": str(ROOT),
    }
    # they fetch sites (never in a test: their own tests use the local server), run until
    # stopped or need a Redis frontier, write a config, or rebuild the demo
    skip = ("crawl", "daemon", "serve", "demo", "check", "extract", "init", "sources", "worker")
    ran = 0
    for name in sorted(main.commands):  # type: ignore[attr-defined]
        if name in skip:
            continue
        text = CliRunner().invoke(main, [name, "--help"]).output
        examples = [
            line.strip() for line in text.splitlines() if line.strip().startswith("newsvault ")
        ]
        assert examples, f"`newsvault {name} --help` has no example"
        for example in examples:
            proc = subprocess.run(
                ["bash", "-c", example],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert proc.returncode == 0, f"{example}: {proc.stderr}"
            ran += 1
    assert ran >= 20


def test_copy_shows_a_progress_bar_on_a_terminal_and_one_line_elsewhere(
    archive_copy: Crawled, tmp_path: Path
) -> None:
    cfg = ["--config", str(archive_copy.config)]
    out = run_in_pty(["-m", "newsvault", "copy", *cfg, "--to", f"sqlite:///{tmp_path / 'a.db'}"])
    assert out.returncode == 0, out.text
    bar = [ln for ln in out.text.splitlines() if ln.startswith("copying articles")]
    assert bar and "━" in bar[-1] and "12 rows" in bar[-1], out.text
    plain = run_cli("copy", *cfg, "--to", f"sqlite:///{tmp_path / 'b.db'}")
    assert plain.returncode == 0, plain.stderr
    assert plain.stderr == "" and plain.stdout.startswith("copied "), plain.stdout
    assert "articles 12" in plain.stdout


def test_reextract_shows_a_progress_bar_on_a_terminal(archive_copy: Crawled) -> None:
    args = ["-m", "newsvault", "reextract", "--config", str(archive_copy.config), "--workers", "1"]
    out = run_in_pty(args)
    assert out.returncode == 0, out.text
    bar = [ln for ln in out.text.splitlines() if ln.startswith("re-extracting") and "━" in ln]
    assert bar, out.text
    done = re.search(r"(\d+) changed, (\d+) unchanged, 0 failed", bar[-1])
    assert done is not None and int(done[1]) + int(done[2]) == 12, bar[-1]
    assert "12 articles re-extracted" in out.text
