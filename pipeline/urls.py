"""URL normalisation: one article, one URL.

:func:`canonical_url` removes fragments and tracking parameters (utm_*, fbclid, gclid, ...),
lower-cases scheme and host, drops default ports and sorts the remaining query, so that variants
of one article resolve to one archive key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["TRACKING_PARAMS", "canonical_url", "host_in", "prefer_canonical"]

TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|yclid|igshid|_ga|_gl"
    r"|ocid|cmpid|icid|ito|xtor|ns_\w+|sr_share|smid|share|ref|ref_src|ref_url|at_\w+"
    r"|__twitter_impression|s_cid|spm|mkt_tok|oly_\w+|rss|taid|partner|campaign_id)$",
    re.IGNORECASE,
)


def canonical_url(url: str) -> str:
    """Normalise ``url`` for use as an archive key."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    netloc = host if ":" not in host else f"[{host}]"
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        netloc += f":{port}"
    if parts.username:
        netloc = f"{parts.username}{':' + parts.password if parts.password else ''}@{netloc}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not TRACKING_PARAMS.match(k)
    ]
    query.sort()
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


def host_in(host: str | None, domains: Iterable[str]) -> bool:
    """True when ``host`` is one of ``domains`` or a subdomain of one."""
    if not host:
        return False
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in domains)


def prefer_canonical(fetched_url: str, declared: str | None, domains: Iterable[str]) -> str:
    """The archive key of a page: its declared ``<link rel=canonical>`` when that is an http(s)
    URL on the source's domains, else the URL it was fetched from; normalised either way."""
    if declared:
        parts = urlsplit(declared)
        if parts.scheme in ("http", "https") and host_in(parts.hostname, domains):
            return canonical_url(declared)
    return canonical_url(fetched_url)
