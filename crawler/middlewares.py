"""Downloader middlewares.

:class:`RedirectLoopMiddleware` turns a redirect back to a URL already in the chain into a
recorded failure (Scrapy's duplicate filter would otherwise drop it without a word), and refuses,
as a recorded failure too, a redirect to a URL that is not http(s) (``javascript:``, ``file:``,
``ftp:``...) or that leaves the scheme and port the chain started on (a default port, 80 for
http or 443 for https, is always allowed: ``http://host/`` may move to ``https://host/``).

:class:`SafetyMiddleware` is the crawler's guard: only http and https, only the source's own
domains (redirects included, as every redirect passes through it again), and no loopback,
private, link-local, multicast or reserved addresses unless ``NEWSVAULT_ALLOW_PRIVATE_NETWORKS``
is true, checked on the addresses a name resolves to, so a page cannot turn the crawler against
the network it runs in.

:class:`SafeResolver` (Scrapy's ``TWISTED_DNS_RESOLVER``) repeats the address check on the very
lookup the connection uses, IPv4 and IPv6 answers alike, so a name that resolved to a public address
for the middleware and to a private one a moment later (DNS rebinding), or whose AAAA record
points at ``::1`` or ``fd00::/8``, is still refused before any connection.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.resolver import CachingHostnameResolver

from common.urls import host_in

__all__ = [
    "BlockedRequest",
    "RedirectLoop",
    "RedirectLoopMiddleware",
    "RefusedRedirect",
    "SafeResolver",
    "SafetyMiddleware",
    "is_public_address",
    "redirect_problem",
]

log = logging.getLogger(__name__)


class BlockedRequest(IgnoreRequest):
    """Raised by :class:`SafetyMiddleware` for a request it refuses; the message says why."""


class RedirectLoop(IgnoreRequest):
    """Raised by :class:`RedirectLoopMiddleware` when a redirect leads back into its chain."""


class RefusedRedirect(IgnoreRequest):
    """Raised by :class:`RedirectLoopMiddleware` for a redirect target it refuses (another
    scheme than http(s), or another port than the chain's own or a default one)."""


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _port(scheme: str, port: int | None) -> int | None:
    return port if port is not None else _DEFAULT_PORTS.get(scheme)


def redirect_problem(origin: str, target: str) -> str | None:
    """Why a redirect from a chain that started at ``origin`` to ``target`` is refused, or None.
    Only http(s) targets, on the origin's scheme and port or a default port."""
    o, t = urlsplit(origin), urlsplit(target)
    scheme = t.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return f"target scheme {scheme or 'none'!r} is not fetched"
    try:
        port = _port(scheme, t.port)
        home = (o.scheme.lower(), _port(o.scheme.lower(), o.port))
    except ValueError:
        return "target has an invalid port"
    if (scheme, port) != home and port != _DEFAULT_PORTS[scheme]:
        return f"target port {port} is not the source's ({home[1]}) or a default port"
    return None


def _strip_fragment(url: str) -> str:
    return url.split("#", 1)[0]


class RedirectLoopMiddleware:
    """Fails a request whose redirect points at a URL already visited in its redirect chain.

    It sits after (numerically above) Scrapy's RedirectMiddleware, so it sees the 3xx first.
    """

    def process_response(self, request: Request, response: Response) -> Response:
        location = response.headers.get(b"Location")
        if not (300 <= response.status < 400 and location):
            return response
        target = _strip_fragment(urljoin(request.url, location.decode("latin-1")))
        chain = [*request.meta.get("redirect_urls", []), request.url]
        problem = redirect_problem(chain[0], target)
        if problem:
            raise RefusedRedirect(f"redirect refused: {target[:300]}: {problem}")
        if target in {_strip_fragment(u) for u in chain}:
            raise RedirectLoop("redirect loop: " + " -> ".join([*chain, target]))
        return response


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def is_public_address(addr: str) -> bool:
    """True for a globally routable unicast address. IPv6 forms that embed an IPv4 address
    (IPv4-mapped, 6to4, NAT64) are judged by the address they embed. Raises ValueError for a
    string that is not an IP address."""
    ip = ipaddress.ip_address(addr.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        elif ip.sixtofour:
            ip = ip.sixtofour
        elif ip in _NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


class SafetyMiddleware:
    def __init__(self, *, allow_private: bool, stats: Any = None, crawler: Crawler | None = None):
        self.allow_private = allow_private
        self.stats = stats
        self.crawler = crawler
        self._verdicts: dict[str, str | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SafetyMiddleware:
        return cls(
            allow_private=crawler.settings.getbool("NEWSVAULT_ALLOW_PRIVATE_NETWORKS"),
            stats=crawler.stats,
            crawler=crawler,
        )

    def _address_problem(self, host: str) -> str | None:
        if host in self._verdicts:
            return self._verdicts[host]
        verdict: str | None = None
        try:
            addrs = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
        except (socket.gaierror, UnicodeError):
            addrs = set()  # unresolvable: let the downloader report the DNS error
        for addr in sorted(addrs):
            if not is_public_address(addr):
                verdict = f"{host} resolves to non-public address {addr}"
                break
        self._verdicts[host] = verdict
        return verdict

    def _refuse(self, request: Request, why: str) -> None:
        if self.stats is not None:
            self.stats.inc_value("newsvault/blocked")
        raise BlockedRequest(f"refused {request.url}: {why}")

    def process_request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https"):
            self._refuse(request, f"scheme {parts.scheme!r} is not fetched")
        host = (parts.hostname or "").lower()
        spider = self.crawler.spider if self.crawler is not None else None
        domains = tuple(getattr(spider, "allowed_domains", None) or ())
        if domains and not host_in(host, domains):
            self._refuse(request, f"{host} is outside the source's domains")
        if not self.allow_private:
            problem = self._address_problem(host)
            if problem:
                self._refuse(request, problem + " (set crawl.allow_private_networks to allow)")
        return None


class _CheckedReceiver:
    """Holds back a lookup's answers until it is complete, then passes them all on if every
    one is public (A and AAAA alike), or none of them: the connection then fails as a DNS
    error, and nothing is contacted."""

    def __init__(self, receiver: Any, name: str) -> None:
        self.receiver = receiver
        self.name = name
        self.addresses: list[Any] = []

    def resolutionBegan(self, resolution: Any) -> None:  # noqa: N802
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address: Any) -> None:  # noqa: N802
        self.addresses.append(address)

    def resolutionComplete(self) -> None:  # noqa: N802
        bad = [a.host for a in self.addresses if not is_public_address(a.host)]
        if bad:
            log.warning("%s resolves to non-public address %s; refused", self.name, bad[0])
        else:
            for address in self.addresses:
                self.receiver.addressResolved(address)
        self.receiver.resolutionComplete()


class SafeResolver(CachingHostnameResolver):
    """Scrapy's caching resolver of IPv4 and IPv6 names, refusing a name when any of its
    answers (A or AAAA) is not public, unless private networks are allowed
    (``NEWSVAULT_ALLOW_PRIVATE_NETWORKS``)."""

    allow_private = False

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> SafeResolver:
        resolver: SafeResolver = super().from_crawler(crawler, reactor)
        resolver.allow_private = crawler.settings.getbool("NEWSVAULT_ALLOW_PRIVATE_NETWORKS")
        return resolver

    def resolveHostName(  # noqa: N802
        self,
        resolutionReceiver: Any,  # noqa: N803
        hostName: str,  # noqa: N803
        portNumber: int = 0,  # noqa: N803
        addressTypes: Any = None,  # noqa: N803
        transportSemantics: str = "TCP",  # noqa: N803
    ) -> Any:
        if not self.allow_private:
            resolutionReceiver = _CheckedReceiver(resolutionReceiver, hostName)
        return super().resolveHostName(
            resolutionReceiver, hostName, portNumber, addressTypes, transportSemantics
        )
