"""Cron expressions fire when cron would fire them (crontab(5), Vixie cron/cronie).

The expected times are what cron gives, worked out by hand from the calendar (2026-12-02 is a
Wednesday). The rule most often got wrong: when both day-of-month and day-of-week are
restricted (neither starts with ``*``), cron runs the job on days matching EITHER; when one of
them starts with ``*`` (``*/2`` included), only the other one restricts.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from common.cron import parse_cron

START = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # a Wednesday


def fires(expr: str, n: int) -> list[str]:
    trigger = parse_cron(expr)
    out: list[str] = []
    prev = None
    now = START
    for _ in range(n):
        nxt = trigger.get_next_fire_time(prev, now)
        assert nxt is not None
        out.append(nxt.strftime("%Y-%m-%d %H:%M"))
        prev, now = nxt, nxt
    return out


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        # the 1st of the month OR every Monday (the example)
        (
            "0 9 1 * 1",
            ["2026-12-07 09:00", "2026-12-14 09:00", "2026-12-21 09:00", "2026-12-28 09:00"]
            + ["2027-01-01 09:00", "2027-01-04 09:00", "2027-01-11 09:00"],
        ),
        # the 13th OR any Friday
        ("0 0 13 * 5", ["2026-12-04 00:00", "2026-12-11 00:00", "2026-12-13 00:00"]),
        # days 1-7 OR Mondays: every day of the first week, then Mondays
        (
            "30 8 1-7 * mon",
            ["2026-12-02 08:30", "2026-12-03 08:30", "2026-12-04 08:30", "2026-12-05 08:30"]
            + ["2026-12-06 08:30", "2026-12-07 08:30", "2026-12-14 08:30"],
        ),
        # day-of-month starts with '*': the two AND (odd days that are Mondays)
        ("0 9 */2 * 1", ["2026-12-07 09:00", "2026-12-21 09:00", "2027-01-11 09:00"]),
        # day-of-week is '*': only the day of month restricts
        ("0 9 1 * *", ["2027-01-01 09:00", "2027-02-01 09:00", "2027-03-01 09:00"]),
        # L: the last day of the month
        ("0 0 L * *", ["2026-12-31 00:00", "2027-01-31 00:00", "2027-02-28 00:00"]),
        # the last day of the month OR Fridays
        (
            "0 9 L * 5",
            ["2026-12-04 09:00", "2026-12-11 09:00", "2026-12-18 09:00", "2026-12-25 09:00"]
            + ["2026-12-31 09:00", "2027-01-01 09:00"],
        ),
        # 7 is Sunday, as 0 is
        ("0 12 * * 7", ["2026-12-06 12:00", "2026-12-13 12:00"]),
        ("0 12 * * 0", ["2026-12-06 12:00", "2026-12-13 12:00"]),
        # the 15th OR Saturday and Sunday written 6-7
        ("0 6 15 * 6-7", ["2026-12-05 06:00", "2026-12-06 06:00", "2026-12-12 06:00"]),
        # aliases
        ("@weekly", ["2026-12-06 00:00", "2026-12-13 00:00", "2026-12-20 00:00"]),
        ("@monthly", ["2027-01-01 00:00", "2027-02-01 00:00"]),
        ("@daily", ["2026-12-02 00:00", "2026-12-03 00:00"]),
    ],
)
def test_next_runs_are_crons(expr: str, expected: list[str]) -> None:
    assert fires(expr, len(expected)) == expected


def test_a_seconds_field_still_works_with_both_days_restricted() -> None:
    assert fires("*/30 0 0 1 * 1", 3) == ["2026-12-07 00:00"] * 2 + ["2026-12-14 00:00"]


def test_jitter_applies_to_either_day() -> None:
    trigger = parse_cron("0 9 1 * 1", jitter=60)
    nxt = trigger.get_next_fire_time(None, START)
    assert nxt is not None
    assert datetime(2026, 12, 7, 9, 0, tzinfo=UTC) <= nxt <= datetime(2026, 12, 7, 9, 1, tzinfo=UTC)
