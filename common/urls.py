"""URL normalisation: one article, one URL.

:func:`canonical_url` removes fragments and tracking parameters (utm_*, fbclid, gclid, ...),
lower-cases scheme and host, drops default ports and sorts the remaining query, so that variants
of one article resolve to one archive key. It also folds AMP variants (``/amp/`` as the first or
last path segment, ``.amp.html``, an ``amp.`` host, ``?amp=1``, ``?outputType=amp``) and print
variants (``/print/`` as the first or last segment, ``?print=1``) into the page they render.
:func:`variant_reason` says which of these made a URL a variant (recorded with its alias).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "LISTING_WORDS",
    "TRACKING_PARAMS",
    "canonical_url",
    "host_in",
    "http_url",
    "prefer_canonical",
    "same_site",
    "variant_reason",
]

TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|yclid|igshid|_ga|_gl"
    r"|ocid|cmpid|icid|ito|xtor|ns_\w+|sr_share|smid|share|ref|ref_src|ref_url|at_\w+"
    r"|__twitter_impression|s_cid|spm|mkt_tok|oly_\w+|rss|taid|partner|campaign_id)$",
    re.IGNORECASE,
)

#: path segments of pages that list, find or gate articles rather than carry one: the crawl
#: does not follow such URLs as articles, and extraction reads them as listing pages
LISTING_WORDS = (
    "tag",
    "tags",
    "category",
    "categories",
    "author",
    "authors",
    "search",
    "login",
    "signin",
    "register",
    "account",
)

_AMP_PARAMS = {"amp": None, "outputtype": "amp", "output": "amp"}
_PRINT_PARAMS = {"print": None, "view": "print"}


def _is_flag(key: str, value: str, table: dict[str, str | None]) -> bool:
    want = table.get(key.lower(), "")
    if want == "":
        return False
    return want is None or value.lower() == want


def _fold_segments(path: str, word: str) -> str:
    """Drop ``word`` as the first or the last path segment; keep a trailing slash."""
    segs = path.split("/")
    # path "/a/amp/" -> ["", "a", "amp", ""]: the last real segment is at -2 with a slash
    if len(segs) > 2 and segs[-1] == "" and segs[-2].lower() == word:
        segs = segs[:-2] + [""]
    elif len(segs) > 2 and segs[-1].lower() == word:
        segs = segs[:-1]
    if len(segs) > 2 and segs[1].lower() == word:
        segs = [""] + segs[2:]
    out = "/".join(segs)
    return out if out.startswith("/") else "/" + out


def _parts(url: str) -> tuple[str, str, str, str, list[tuple[str, str]]]:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    netloc = host if ":" not in host else f"[{host}]"
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        netloc += f":{port}"
    if parts.username:
        netloc = f"{parts.username}{':' + parts.password if parts.password else ''}@{netloc}"
    query = parse_qsl(parts.query, keep_blank_values=True)
    return scheme, netloc, host, parts.path or "/", query


@lru_cache(maxsize=4096)  # a page's URL is folded several times on its way to the archive
def _fold(url: str) -> tuple[str, frozenset[str]]:
    """The canonical form of ``url`` and the kinds of variant folded away to reach it."""
    scheme, netloc, host, path, query = _parts(url)
    why: set[str] = set()
    kept = []
    for k, v in query:
        if TRACKING_PARAMS.match(k):
            why.add("tracking")
        elif _is_flag(k, v, _AMP_PARAMS):
            why.add("amp")
        elif _is_flag(k, v, _PRINT_PARAMS):
            why.add("print")
        else:
            kept.append((k, v))
    kept.sort()
    if host.startswith("amp.") and host.count(".") >= 2:
        netloc = netloc.replace(host, host[4:], 1)
        why.add("amp")
    for word in ("amp", "print"):
        folded = _fold_segments(path, word)
        if folded != path:
            path = folded
            why.add(word)
    low = path.lower()
    for suffix, repl in ((".amp.html", ".html"), (".amp.htm", ".htm"), (".amp", "")):
        if low.endswith(suffix) and len(path) > len(suffix) + 1:
            path = path[: -len(suffix)] + repl
            why.add("amp")
            break
    return urlunsplit((scheme, netloc, path, urlencode(kept, doseq=True), "")), frozenset(why)


def canonical_url(url: str) -> str:
    """Normalise ``url`` for use as an archive key."""
    return _fold(url)[0]


def variant_reason(url: str) -> str | None:
    """Why ``url`` is a variant of :func:`canonical_url` of it: "amp", "print" or "tracking"
    (in that order of precedence), or None when it differs by nothing but form (case, port,
    parameter order, fragment)."""
    why = _fold(url)[1]
    for reason in ("amp", "print", "tracking"):
        if reason in why:
            return reason
    return None


def host_in(host: str | None, domains: Iterable[str]) -> bool:
    """True when ``host`` is one of ``domains`` or a subdomain of one."""
    if not host:
        return False
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in domains)


def http_url(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s) URL with a host, else None: what every URL field
    of an archived article may hold (never ``javascript:``, ``data:``, ``file:``...)."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in url):
        return None
    return url


def same_site(a: str | None, b: str | None) -> bool:
    """True when hosts ``a`` and ``b`` are the same site: equal, or equal but for a leading
    ``www.``. Other subdomains are other sites (a user's page on ``blogs.example.com`` is not
    ``www.example.com``)."""
    if not a or not b:
        return False

    def bare(host: str) -> str:
        host = host.lower().rstrip(".")
        return host[4:] if host.startswith("www.") else host

    return bare(a) == bare(b)


def prefer_canonical(fetched_url: str, declared: str | None, domains: Iterable[str]) -> str:
    """The archive key of a page: its declared ``<link rel=canonical>`` when that is an http(s)
    URL on the source's domains and on the fetched page's own site (:func:`same_site`), else
    the URL it was fetched from; normalised either way."""
    if declared:
        parts = urlsplit(declared)
        if (
            parts.scheme in ("http", "https")
            and host_in(parts.hostname, domains)
            and same_site(parts.hostname, urlsplit(fetched_url).hostname)
        ):
            return canonical_url(declared)
    return canonical_url(fetched_url)
