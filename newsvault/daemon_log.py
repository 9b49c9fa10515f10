"""The daemon's log: one line per event, with its time, its source and what happened.

Records carry ``source`` and ``event`` attributes (``extra={"source": ..., "event": ...}``).
Two formats: ``text`` (``2026-11-29T20:01:02Z INFO [example-news] run-started: pid 4242``) and
``json`` (one object per line: time, level, event, source, message, and any other extras such as
``pid``, ``run_id``, ``status``). With a log file the lines go there instead of stderr; the file is
reopened when logrotate moves it.

Example::

    log = setup_logging("json", Path("/var/log/newsvault.log"))
    log.info("run started", extra={"source": "example-news", "event": "run-started", "pid": 42})
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["LOGGER_NAME", "setup_logging"]

LOGGER_NAME = "newsvault.daemon"
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "source", "event"}


def _time(record: logging.LogRecord) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        source = getattr(record, "source", None)
        event = getattr(record, "event", None)
        line = f"{_time(record)} {record.levelname}"
        if source:
            line += f" [{source}]"
        if event:
            line += f" {event}:"
        line += " " + record.getMessage()
        if record.exc_info:
            line += " | " + self.formatException(record.exc_info).replace("\n", " | ")
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname.lower(),
            "event": getattr(record, "event", None) or record.name,
            "source": getattr(record, "source", None),
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["error"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str, ensure_ascii=False)


def setup_logging(fmt: str, log_file: Path | None, level: int = logging.INFO) -> logging.Logger:
    """Send the daemon's (and APScheduler's) log records of ``level`` and above to stderr or
    ``log_file`` (APScheduler's from WARNING, or INFO when ``level`` is DEBUG).

    Raises OSError if the log file cannot be opened.
    """
    handler: logging.Handler
    if log_file is not None:
        handler = logging.handlers.WatchedFileHandler(log_file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    logger = logging.getLogger(LOGGER_NAME)
    aps = logging.getLogger("apscheduler")
    for old in {*logger.handlers, *aps.handlers}:  # a previous setup's log file
        old.close()
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
    aps.handlers[:] = [handler]
    aps.setLevel(logging.INFO if level <= logging.DEBUG else max(level, logging.WARNING))
    aps.propagate = False
    return logger
