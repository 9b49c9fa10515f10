"""WARC export: the archived HTTP responses, as fetched, for replay in standard WARC tools.

One ``warcinfo`` record opens the file; then, for each stored fetch, a ``response`` record
(status line, the stored headers, the raw body), a ``request`` record (the GET that was made) and
a ``metadata`` record (JSON: the newsvault source and the article's canonical URL, so a reader can
tell which archived article each response belongs to), all dated with the fetch time.

The stored body is the decoded one (Scrapy removes transfer and content encodings), so
``Content-Encoding``, ``Transfer-Encoding`` and ``Content-Length`` are moved to
``X-Archive-Orig-*`` headers and ``Content-Length`` is set to the stored body: the record then
replays as what was archived. Records are gzipped one by one (``.warc.gz``) unless
``gzip=False``.

Example::

    with open("archive.warc.gz", "wb") as out:
        n = write_warc(iter_fetches(engine), out)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC
from http import HTTPStatus
from io import BytesIO
from typing import BinaryIO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

from storage.reading import FetchRow

__all__ = ["write_warc"]

_MOVED = {"content-encoding", "transfer-encoding", "content-length"}


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _http_headers(fetch: FetchRow) -> StatusAndHeaders:
    headers: list[tuple[str, str]] = []
    for name, value in fetch.headers.items():
        if name.lower() in _MOVED:
            headers.append((f"X-Archive-Orig-{name}", str(value)))
        else:
            headers.append((name, str(value)))
    headers.append(("Content-Length", str(len(fetch.body))))
    return StatusAndHeaders(f"{fetch.status} {_reason(fetch.status)}", headers, protocol="HTTP/1.1")


def _request_headers(url: str) -> StatusAndHeaders:
    parts = urlsplit(url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return StatusAndHeaders(f"GET {path} HTTP/1.1", [("Host", parts.netloc)], is_http_request=True)


def write_warc(
    fetches: Iterable[FetchRow], out: BinaryIO, *, gzip: bool = True, software: str = "newsvault"
) -> int:
    """Write a warcinfo record, then response, request and metadata per fetch; returns the count.

    Streams: one fetch is held in memory at a time. Raises OSError when ``out`` cannot be
    written and :class:`~common.errors.StorageError` when the archive cannot be read.
    """
    writer = WARCWriter(out, gzip=gzip, warc_version="1.1")
    info = writer.create_warcinfo_record(
        "newsvault-export.warc", {"software": software, "format": "WARC File Format 1.1"}
    )
    writer.write_record(info)
    n = 0
    for fetch in fetches:
        when = datetime_to_iso_date(
            fetch.fetched_at.astimezone(UTC).replace(tzinfo=None), use_micros=True
        )
        response = writer.create_warc_record(
            fetch.url,
            "response",
            payload=BytesIO(fetch.body),
            length=len(fetch.body),
            http_headers=_http_headers(fetch),
            warc_headers_dict={"WARC-Date": when},
        )
        request = writer.create_warc_record(
            fetch.url,
            "request",
            http_headers=_request_headers(fetch.url),
            warc_headers_dict={"WARC-Date": when},
        )
        request.rec_headers.add_header(
            "WARC-Concurrent-To", response.rec_headers.get_header("WARC-Record-ID")
        )
        meta = json.dumps(
            {
                "source": fetch.source,
                "article_url": fetch.article_url,
                "status": fetch.status,
                "paywalled": fetch.paywalled,
                "rendered": fetch.rendered,
            },
            ensure_ascii=False,
        ).encode("utf-8")
        metadata = writer.create_warc_record(
            fetch.url,
            "metadata",
            payload=BytesIO(meta),
            length=len(meta),
            warc_content_type="application/json",
            warc_headers_dict={"WARC-Date": when},
        )
        response_id = response.rec_headers.get_header("WARC-Record-ID")
        metadata.rec_headers.add_header("WARC-Refers-To", response_id)
        writer.write_record(response)
        writer.write_record(request)
        writer.write_record(metadata)
        n += 1
    return n
