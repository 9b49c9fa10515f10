"""Cron expressions, read the way cron reads them.

APScheduler 3's ``CronTrigger.from_crontab`` reads weekday 0 as Monday; cron reads it as Sunday
(and 7 as Sunday too). :func:`parse_cron` translates numeric weekdays into names first, so
``0 9 * * 1-5`` means Monday to Friday and ``0 9 * * 0`` means Sunday, as in crontab(5).

When both day-of-month and day-of-week are restricted, cron runs a job on days matching EITHER
(``0 9 1 * 1``: the 1st of each month and every Monday); APScheduler's CronTrigger requires both.
:func:`parse_cron` follows cron: two CronTriggers (one per day field) under an OrTrigger. As in
Vixie cron, a field that starts with ``*`` (``*/2`` too) does not count as restricted, and then
the other field alone decides. ``L`` in day-of-month is the last day of the month.

Five fields are the usual crontab form. A sixth leading field gives seconds (for tests and fast
schedules): ``*/5 * * * * *`` fires every five seconds.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apscheduler.triggers.base import BaseTrigger

__all__ = ["parse_cron"]

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


def _weekday_field(field: str) -> str:
    def name(m: re.Match[str]) -> str:
        n = int(m.group(0))
        if n > 7:
            raise ValueError(f"weekday {n} is out of range 0-7")
        return _DAYS[n]

    out = []
    for part in field.split(","):
        step = ""
        if "/" in part:
            part, step = part.split("/", 1)
            step = "/" + step
        if part == "*":
            out.append(part + step)
            continue
        if re.fullmatch(r"\d+-\d+", part):
            lo, hi = (int(x) for x in part.split("-"))
            if hi == 7 and lo > 0:
                # "5-7" is Friday to Sunday: split so APScheduler never sees sun < fri
                out.append(f"{_DAYS[lo]}-sat{step}")
                out.append("sun")
                continue
            if lo == 0 and hi == 7:
                out.append("*" + step)
                continue
        out.append(re.sub(r"\d+", name, part) + step)
    return ",".join(out)


def _day_field(field: str) -> str:
    """Day-of-month as APScheduler reads it: cron's ``L`` (last day) is its ``last``."""
    return ",".join("last" if part.upper() == "L" else part for part in field.split(","))


def parse_cron(expr: str, timezone: str = "UTC", jitter: int | None = None) -> BaseTrigger:
    """Turn a crontab string into an APScheduler trigger; ValueError names the problem.

    ``jitter``: each fire time is delayed by a random 0 to ``jitter`` seconds.
    """
    from apscheduler.triggers.combining import OrTrigger
    from apscheduler.triggers.cron import CronTrigger

    text = _ALIASES.get(expr.strip().lower(), expr.strip())
    fields = text.split()
    if len(fields) not in (5, 6):
        raise ValueError(
            f"{expr!r} is not a cron expression: expected 5 fields "
            "(minute hour day month weekday), or 6 with seconds first"
        )
    second = "0"
    if len(fields) == 6:
        second, fields = fields[0], fields[1:]
    minute, hour, day, month, weekday = fields
    try:
        common = {"second": second, "minute": minute, "hour": hour, "month": month}
        days, weekdays = _day_field(day), _weekday_field(weekday)
        if day.startswith("*") or weekday.startswith("*"):
            return CronTrigger(
                **common,
                day=days,
                day_of_week=weekdays,
                timezone=timezone,
                jitter=jitter or None,
            )
        either = [
            CronTrigger(**common, day=days, timezone=timezone),
            CronTrigger(**common, day_of_week=weekdays, timezone=timezone),
        ]
        return OrTrigger(either, jitter=jitter or None)
    except ValueError as exc:
        raise ValueError(f"{expr!r} is not a valid cron expression: {exc}") from None
