"""A crawl frontier shared by many processes, on Redis (``frontier: redis://...``).

:class:`FrontierScheduler` replaces Scrapy's scheduler. A request a spider yields is not queued in
memory but added to its source's Redis stream; every process crawling that source (``newsvault
worker`` on any machine, and ``newsvault crawl`` itself) reads the stream through one consumer
group, so each entry goes to one process. What Redis guarantees does the work:

- at-least-once delivery: an entry stays in the group's pending list until the process that
  took it acknowledges it, which it does only once the response's callback has run and its
  items went through the item pipelines (stored: the frontier sets the store batch to 1). A
  process that dies leaves its entries pending; after ``VISIBILITY_TIMEOUT`` seconds without a
  heartbeat any other process takes them over (``XAUTOCLAIM``). A live process refreshes its
  entries (``XCLAIM ... JUSTID``) so a slow page is not taken from it;
- the seen set of the run (``SADD``: a URL queued once per run, whichever process found it);
- politeness across processes: per host, a time before which the next request may not start
  (``crawl.download_delay``) and a sorted set of the requests in flight (at most
  ``crawl.concurrency_per_domain``), taken and given back atomically by Lua scripts;
- the run's count of open entries: the seeding ``newsvault crawl`` returns when it is 0.

Requests are stored as JSON (bytes base64-encoded), never pickled: whoever can write to the
Redis server cannot make a worker run code. Keys, for a source ``S`` and a ``prefix``
(``newsvault`` by default): ``{prefix}:src:S:q`` (stream), ``:seen``, ``:open``, ``:stats``;
``{prefix}:host:H:next`` and ``:flight``.

The frontier never opens the archive: which URLs are due is decided, as without a frontier, by
the spider from the state it was handed.
"""

from __future__ import annotations

import base64
import heapq
import json
import logging
import os
import socket
import time
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.core.scheduler import Scheduler
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.request import request_from_dict

from common.errors import ConfigError, StorageError

__all__ = [
    "FRONTIER_META",
    "VISIBILITY_TIMEOUT",
    "Frontier",
    "FrontierScheduler",
    "check_frontier",
    "connect",
    "split_url",
]

log = logging.getLogger(__name__)

GROUP = "workers"
#: seconds an entry taken by a process that stopped refreshing it waits before another takes it
VISIBILITY_TIMEOUT = 60.0
#: request.meta key: the stream entry id a request (or its retry/redirect) came from
FRONTIER_META = "frontier_id"

# KEYS: next, flight; ARGV: delay_ms, max_in_flight, token, ttl_ms. The clock is the server's.
# Returns 0 when the request may start now (and records it), else the ms to wait.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if nxt > now then return nxt - now end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return 50 end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[3])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[4]))
if tonumber(ARGV[1]) > 0 then
  redis.call('SET', KEYS[1], now + tonumber(ARGV[1]), 'PX', tonumber(ARGV[1]) + 1000)
end
return 0
"""

# KEYS: stream, open, flight; ARGV: group, id, requeue (0/1).
# Acknowledge an entry once: XACK answers 1 only for the first acknowledgement, so ``open`` is
# decremented once however many processes finish the same entry. requeue=1 puts it back instead.
_ACK = """
local fields = nil
if ARGV[3] == '1' then
  local e = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
  if #e == 0 then return 0 end
  fields = e[1][2]
end
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('XDEL', KEYS[1], ARGV[2])
if KEYS[3] ~= '' then redis.call('ZREM', KEYS[3], ARGV[2]) end
if fields then
  redis.call('XADD', KEYS[1], '*', unpack(fields))
  return 1
end
redis.call('DECR', KEYS[2])
return 1
"""

# KEYS: seen, stream, open; ARGV: fingerprint ('' = do not filter), field, value.
_PUSH = """
if ARGV[1] ~= '' and redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[2], '*', ARGV[2], ARGV[3])
redis.call('INCR', KEYS[3])
return 1
"""


def split_url(url: str) -> tuple[str, float | None]:
    """(the Redis URL, the visibility timeout given by its ``?visibility=SECONDS``, if any)."""
    parts = urlsplit(url)
    query = [kv for kv in parts.query.split("&") if kv]
    given = [kv for kv in query if kv.startswith("visibility=")]
    rest = "&".join(kv for kv in query if not kv.startswith("visibility="))
    visibility = float(given[-1].partition("=")[2]) if given else None
    return parts._replace(query=rest).geturl(), visibility


def check_frontier(url: str) -> None:
    """Raise ConfigError when redis-py is missing, StorageError when the server does not
    answer: one line for the user, before any fetch."""
    try:
        import redis
    except ImportError as exc:
        raise ConfigError(
            "frontier: needs the redis package: pip install 'newsvault[frontier]'"
        ) from exc
    client = redis.Redis.from_url(split_url(url)[0], socket_connect_timeout=5, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        where = urlsplit(url)
        raise StorageError(
            f"cannot reach the frontier at {where.hostname}:{where.port or 6379}: {exc}"
        ) from exc
    finally:
        client.close()


def connect(url: str) -> Any:
    """A redis-py client for ``url`` that retries a lost connection (a Redis restart)."""
    import redis
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        split_url(url)[0],
        socket_timeout=10,
        socket_connect_timeout=5,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=2.0, base=0.05), 8),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
    )


def _encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$b"}:
            return base64.b64decode(value["$b"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


class Frontier:
    """One source's part of the frontier: its stream, seen set and count of open entries."""

    def __init__(self, client: Any, source: str, *, prefix: str = "newsvault") -> None:
        self.redis = client
        self.prefix = prefix
        base = f"{prefix}:src:{source}"
        self.stream, self.seen, self.open_key = f"{base}:q", f"{base}:seen", f"{base}:open"
        self.stats_key = f"{base}:stats"  # requests handled and Redis round trips, all processes
        self.consumer = f"{socket.gethostname()}:{os.getpid()}"
        self._push = client.register_script(_PUSH)
        self._ack = client.register_script(_ACK)
        self._acquire = client.register_script(_ACQUIRE)
        self.round_trips = 0

    def ensure_group(self) -> None:
        import redis

        self.round_trips += 1
        try:
            self.redis.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def new_run(self) -> bool:
        """Start a run: forget the last run's seen URLs unless entries of it are still open
        (then this run takes them over). True when a fresh run was started."""
        self.round_trips += 1
        if int(self.redis.get(self.open_key) or 0) > 0:
            return False
        self.round_trips += 1
        self.redis.delete(self.seen)
        return True

    def open_count(self) -> int:
        self.round_trips += 1
        return int(self.redis.get(self.open_key) or 0)

    def push(self, data: dict[str, Any], fingerprint: str) -> bool:
        self.round_trips += 1
        body = json.dumps(_encode(data), separators=(",", ":"))
        return bool(
            self._push(keys=[self.seen, self.stream, self.open_key], args=[fingerprint, "r", body])
        )

    def take(self, count: int, *, reclaim_after: float | None) -> list[tuple[str, dict[str, Any]]]:
        """Up to ``count`` entries: first those another process left unacknowledged for
        ``reclaim_after`` seconds, then new ones."""
        out: list[tuple[str, dict[str, Any]]] = []
        if reclaim_after is not None:
            self.round_trips += 1
            res = self.redis.xautoclaim(
                self.stream, GROUP, self.consumer, int(reclaim_after * 1000), "0-0", count=count
            )
            out.extend(self._entries(res[1]))
        if len(out) < count:
            self.round_trips += 1
            res = self.redis.xreadgroup(
                GROUP, self.consumer, {self.stream: ">"}, count=count - len(out)
            )
            for _stream, entries in res or ():
                out.extend(self._entries(entries))
        return out

    @staticmethod
    def _entries(entries: Any) -> list[tuple[str, dict[str, Any]]]:
        out = []
        for entry_id, fields in entries:
            if not fields:  # deleted meanwhile (acknowledged by a slow former owner)
                continue
            eid = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
            out.append((eid, _decode(json.loads(fields[b"r"]))))
        return out

    def ack(self, entry_id: str, host: str | None, *, requeue: bool = False) -> bool:
        self.round_trips += 1
        flight = self.flight_key(host) if host else ""
        keys = [self.stream, self.open_key, flight]
        return bool(self._ack(keys=keys, args=[GROUP, entry_id, "1" if requeue else "0"]))

    def refresh(self, entry_ids: list[str]) -> None:
        """Reset the idle time of entries this process is working on."""
        if entry_ids:
            self.round_trips += 1
            self.redis.xclaim(self.stream, GROUP, self.consumer, 0, entry_ids, justid=True)

    def idle(self) -> bool:
        """Nothing waiting in the stream and nothing taken and unacknowledged."""
        self.round_trips += 1
        return int(self.redis.get(self.open_key) or 0) <= 0

    def flight_key(self, host: str) -> str:
        return f"{self.prefix}:host:{host}:flight"

    def acquire(
        self, host: str, token: str, *, delay: float, max_in_flight: int, ttl: float
    ) -> float:
        """0 when a request to ``host`` may start now (recorded as in flight for at most ``ttl``
        seconds), else seconds to wait. The clock is the Redis server's, the same for every
        process."""
        self.round_trips += 1
        wait = self._acquire(
            keys=[f"{self.prefix}:host:{host}:next", self.flight_key(host)],
            args=[int(delay * 1000), max_in_flight, token, int(ttl * 1000)],
        )
        return float(wait) / 1000


class FrontierScheduler(Scheduler):
    """Scrapy's scheduler, with the shared frontier in place of its queues.

    A request derived from one taken from the frontier (a retry, a redirect) stays in this
    process, in Scrapy's own memory queue, under the same entry: the entry is acknowledged when
    the last of them has been handled. Setting ``NEWSVAULT_FRONTIER_ROLE``: ``seed`` (a crawl:
    its spider's start requests open a run, and it closes when the run's entries are all done)
    or ``work`` (a worker: it never closes by itself; see :class:`~crawler.frontier.WorkerStop`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.frontier: Frontier | None = None
        self.role = "seed"
        self.crawler_: Crawler | None = None
        self.held: list[tuple[float, str, dict[str, Any]]] = []  # (ready at, id, request dict)
        self.taken: list[tuple[str, dict[str, Any]]] = []
        self.active: dict[str, str | None] = {}  # entry id -> host of its politeness slot
        self.retry_pushes: list[tuple[dict[str, Any], str]] = []
        self.retry_acks: list[tuple[str, str | None]] = []
        self.delay = 0.0
        self.max_in_flight = 8
        self.last_work = time.monotonic()
        self._hooked = False
        self._last_refresh = 0.0
        self._last_reclaim = 0.0
        self._open_cache = (0.0, 1)
        self._empty_wait = 0.0
        self._empty_until = 0.0
        self._loop: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierScheduler:
        sched: FrontierScheduler = super().from_crawler(crawler)
        s = crawler.settings
        sched.crawler_ = crawler
        sched.role = s.get("NEWSVAULT_FRONTIER_ROLE", "seed")
        sched.delay = s.getfloat("DOWNLOAD_DELAY")
        sched.max_in_flight = max(1, s.getint("CONCURRENT_REQUESTS_PER_DOMAIN"))
        sched.visibility = s.getfloat("NEWSVAULT_FRONTIER_VISIBILITY", VISIBILITY_TIMEOUT)
        sched._url = s.get("NEWSVAULT_FRONTIER")
        given = split_url(sched._url)[1]
        if given is not None:
            sched.visibility = given
        crawler.signals.connect(sched._idle, signal=signals.spider_idle)
        return sched

    _url: str = ""
    visibility = VISIBILITY_TIMEOUT

    # -- Scrapy's scheduler interface -----------------------------------------------------------

    def open(self, spider: Spider) -> Any:
        from twisted.internet import task

        result = super().open(spider)
        self.spider = spider
        source = getattr(getattr(spider, "source", None), "name", spider.name)
        self.frontier = Frontier(connect(self._url), source)
        self.frontier.ensure_group()
        if self.role == "seed":
            fresh = self.frontier.new_run()
            log.info("%s: %s run in the frontier", source, "new" if fresh else "resuming a")
        self._loop = task.LoopingCall(self._tick)
        self._loop.start(0.2, now=False)
        return result

    def close(self, reason: str) -> Any:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self.frontier is not None:
            # what was taken and not handled goes back to the frontier at once
            for entry_id, host in list(self.active.items()):
                self._safe_ack(entry_id, host, requeue=True)
            for _ready, entry_id, _data in self.held:
                self._safe_ack(entry_id, None, requeue=True)
            for entry_id, _data in self.taken:
                self._safe_ack(entry_id, None, requeue=True)
            self._flush_retries()
            handled = int(self.stats.get_value("frontier/dequeued") or 0) if self.stats else 0
            if self.stats:
                self.stats.set_value("frontier/round_trips", self.frontier.round_trips)
            try:  # what this process cost the frontier, summed over all processes
                self.frontier.redis.hincrby(self.frontier.stats_key, "requests", handled)
                self.frontier.redis.hincrby(
                    self.frontier.stats_key, "round_trips", self.frontier.round_trips
                )
            except Exception as exc:
                log.warning("frontier unreachable: %s", exc)
            self.frontier.redis.close()
        return super().close(reason)

    def has_pending_requests(self) -> bool:
        if super().has_pending_requests() or self.active:
            return True
        if getattr(self.spider, "frontier_stop", False):
            return False  # stopping: what was taken and not started goes back on close
        if self.held or self.taken:
            return True
        if self.role != "seed" or self.frontier is None:
            return False
        at, count = self._open_cache
        if time.monotonic() - at > 0.5:
            try:
                count = self.frontier.open_count()
            except Exception as exc:  # Redis is restarting: the run is not over
                log.warning("frontier unreachable: %s", exc)
            self._open_cache = (time.monotonic(), count)
        return count > 0

    def enqueue_request(self, request: Request) -> bool:
        if FRONTIER_META in request.meta:  # a retry or redirect of an entry held here
            queued = super().enqueue_request(request)
            if not queued:  # filtered: the entry is done
                self._finished(request)
            return queued
        assert self.frontier is not None
        data = request.to_dict(spider=self.spider)
        fp = "" if request.dont_filter else self.df.request_fingerprint(request)  # type: ignore[attr-defined]
        try:
            queued = self.frontier.push(data, fp)
        except Exception as exc:
            log.warning("frontier unreachable, %s kept until it is back: %s", request.url, exc)
            self.retry_pushes.append((data, fp))
            return True
        if self.stats:
            self.stats.inc_value("frontier/enqueued" if queued else "frontier/seen")
        return queued

    def next_request(self) -> Request | None:
        self._hook()
        request = super().next_request()
        if request is not None:
            return request
        if self.frontier is None:
            return None
        try:
            return self._next_from_frontier()
        except Exception as exc:
            log.warning("frontier unreachable: %s", exc)
            return None

    # -- the frontier ---------------------------------------------------------------------------

    def _next_from_frontier(self) -> Request | None:
        assert self.frontier is not None
        now = time.monotonic()
        if self.held and self.held[0][0] <= now:
            _ready, entry_id, data = heapq.heappop(self.held)
            return self._start(entry_id, data)
        if getattr(self.spider, "frontier_stop", False):
            return None  # stopping: take nothing new
        if not self.taken and now >= self._empty_until:
            reclaim = None
            if now - self._last_reclaim > self.visibility / 4:
                self._last_reclaim = now
                reclaim = self.visibility
            self.taken = self.frontier.take(4, reclaim_after=reclaim)
            # an empty stream is asked again after 0.1 s, then less and less often (up to 2 s):
            # an idle worker with many sources costs Redis little
            self._empty_wait = 0.0 if self.taken else min(2.0, max(0.1, self._empty_wait * 2))
            self._empty_until = now + self._empty_wait
        while self.taken:
            entry_id, data = self.taken.pop(0)
            request = self._start(entry_id, data)
            if request is not None:
                return request
        return None

    def _start(self, entry_id: str, data: dict[str, Any]) -> Request | None:
        """The request of an entry, if its host's politeness lets it start now (else the entry
        is held here until then)."""
        assert self.frontier is not None
        host = urlsplit(data["url"]).hostname or ""
        wait = self.frontier.acquire(
            host, entry_id, delay=self.delay, max_in_flight=self.max_in_flight, ttl=self.visibility
        )
        if wait > 0:
            heapq.heappush(self.held, (time.monotonic() + wait, entry_id, data))
            return None
        self.last_work = time.monotonic()
        self.active[entry_id] = host
        request = request_from_dict(data, spider=self.spider)
        request.meta[FRONTIER_META] = entry_id
        if self.stats:
            self.stats.inc_value("frontier/dequeued")
        return request

    def _finished(self, request: Request) -> None:
        entry_id = request.meta.get(FRONTIER_META)
        if entry_id is None or entry_id not in self.active:
            return
        host = self.active.pop(entry_id)
        self._safe_ack(entry_id, host)
        self.last_work = time.monotonic()

    def _safe_ack(self, entry_id: str, host: str | None, *, requeue: bool = False) -> None:
        assert self.frontier is not None
        try:
            self.frontier.ack(entry_id, host, requeue=requeue)
        except Exception as exc:
            if requeue:  # it goes back after the visibility timeout anyway
                return
            log.warning("frontier unreachable, acknowledgement kept: %s", exc)
            self.retry_acks.append((entry_id, host))

    def _flush_retries(self) -> None:
        assert self.frontier is not None
        pushes, self.retry_pushes = self.retry_pushes, []
        for data, fp in pushes:
            try:
                self.frontier.push(data, fp)
            except Exception:
                self.retry_pushes.append((data, fp))
        acks, self.retry_acks = self.retry_acks, []
        for entry_id, host in acks:
            try:
                self.frontier.ack(entry_id, host)
            except Exception:
                self.retry_acks.append((entry_id, host))

    def _tick(self) -> None:
        """Every 0.2 s: retry what Redis refused, keep taken entries ours, wake the engine."""
        if self.frontier is None:
            return
        now = time.monotonic()
        if self.retry_pushes or self.retry_acks:
            self._flush_retries()
        if now - self._last_refresh > self.visibility / 4:
            self._last_refresh = now
            mine = [*self.active, *(e for _r, e, _d in self.held), *(e for e, _d in self.taken)]
            try:
                self.frontier.refresh(mine)
            except Exception as exc:
                log.warning("frontier unreachable: %s", exc)
        engine = self.crawler_.engine if self.crawler_ is not None else None
        slot = getattr(engine, "_slot", None)
        if slot is not None and not slot.closing:
            slot.nextcall.schedule()

    def _hook(self) -> None:
        """Acknowledge an entry when Scrapy has finished with its response: the callback ran,
        its requests were queued and its items went through the item pipelines."""
        if self._hooked or self.crawler_ is None or self.crawler_.engine is None:
            return
        slot = self.crawler_.engine.scraper.slot
        if slot is None:
            return
        finish = slot.finish_response

        def finish_response(result: Any, request: Request) -> None:
            finish(result, request)
            self._finished(request)

        slot.finish_response = finish_response  # type: ignore[method-assign]
        self._hooked = True

    def _idle(self, spider: Spider) -> None:
        if self.role == "work" and not getattr(spider, "frontier_stop", False):
            raise DontCloseSpider
        if self.role == "seed" and self.has_pending_requests():
            raise DontCloseSpider
