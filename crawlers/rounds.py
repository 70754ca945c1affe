"""A round of `--worker` crawls in Redis: who is in it, who is busy on which source, and when
it closes (the design is in `crawlers.distributed`'s docstring). Every key lives under
`yuqing:crawl:<round>:`; the Lua scripts keep each decision atomic across workers."""

from __future__ import annotations

import logging
import re
import secrets
from urllib.parse import urlsplit, urlunsplit

import redis
from scrapy.settings import BaseSettings

from responder import clock
from responder.settings import Settings

log = logging.getLogger(__name__)

PREFIX = "yuqing:crawl"
POLL_SECONDS = 1.0  # busy marks and heartbeats; how soon an idle spider sees new requests
BUSY_MS = 10_000  # a busy mark not refreshed for this long is a worker gone
HEARTBEAT_MS = 30_000  # a round with no worker heard from for this long is closed
_ROUND_ID = re.compile(r"^[A-Za-z0-9._-]{1,40}$")  # crawl_runs.cycle_id holds 40


class WorkerError(RuntimeError):
    """A worker cannot start: no Redis configured, Redis unreachable, a bad round ID."""


def redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.rsplit("@", 1)[1]
        user = f"{parts.username}:***@" if parts.username else ":***@"
        return urlunsplit(parts._replace(netloc=user + netloc))
    return url


def require_redis_url(settings: Settings) -> str:
    url = settings.crawl.redis_url.strip()
    if not url:
        raise WorkerError(
            "crawl.redis_url is empty: --worker crawls through a shared Redis server; set it in"
            ' settings.toml ([crawl] redis_url = "redis://host:6379/0") or'
            " YUQING_CRAWL__REDIS_URL"
        )
    return url


def connect(url: str) -> redis.Redis:
    """A client for `url`, checked with a PING; WorkerError naming the setting otherwise."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=30)
        client.ping()
    except (redis.RedisError, ValueError, OSError) as exc:
        raise WorkerError(
            f"crawl.redis_url {redacted(url)}: Redis is unreachable ({exc})"
        ) from None
    return client


def new_round_id() -> str:
    return f"{clock.now():%Y%m%dT%H%M%S}-{secrets.token_hex(2)}"


_NOW_MS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""
# KEYS: pointer. ARGV: requested round ('' = join the open one), prefix, new round ID, worker,
# heartbeat ms, key ttl ms. Returns the round joined.
_JOIN = (
    _NOW_MS
    + """
local round = ARGV[1]
if round == '' then
  round = redis.call('GET', KEYS[1])
  if round then
    local members = ARGV[2] .. ':' .. round .. ':workers'
    redis.call('ZREMRANGEBYSCORE', members, '-inf', now)
    if redis.call('ZCARD', members) == 0 then round = false end
  end
  if not round then round = ARGV[3] end
  redis.call('SET', KEYS[1], round, 'PX', ARGV[6])
end
local members = ARGV[2] .. ':' .. round .. ':workers'
redis.call('ZADD', members, now + tonumber(ARGV[5]), ARGV[4])
redis.call('PEXPIRE', members, ARGV[6])
return round
"""
)
# KEYS: members, pointer, then the spider's keys (busy first). ARGV: worker, round, heartbeat
# ms, busy ms, key ttl ms, busy ('1'/'0').
_REFRESH = (
    _NOW_MS
    + """
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('PEXPIRE', KEYS[2], ARGV[5]) end
if ARGV[6] == '1' then redis.call('ZADD', KEYS[3], now + tonumber(ARGV[4]), ARGV[1]) end
for i = 1, #KEYS do
  if i ~= 2 then redis.call('PEXPIRE', KEYS[i], ARGV[5]) end
end
"""
)
# KEYS: busy. ARGV: worker, busy ms, key ttl ms.
_MARK_BUSY = (
    _NOW_MS
    + """
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
"""
)
# KEYS: busy. ARGV: worker. This worker is idle on the spider: how many others are busy?
_IDLE = (
    _NOW_MS
    + """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
"""
)
# KEYS: members, pointer. ARGV: worker, round. Returns 1 for the last worker out.
_LEAVE = (
    _NOW_MS
    + """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) > 0 then return 0 end
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
return 1
"""
)


class Round:
    """One worker's view of a round: its keys and the scripts that keep the round together."""

    def __init__(self, client: redis.Redis, round_id: str, worker: str, key_ttl_ms: int) -> None:
        self.client = client
        self.id = round_id
        self.worker = worker
        self.key_ttl_ms = key_ttl_ms
        self._refresh = client.register_script(_REFRESH)
        self._mark_busy = client.register_script(_MARK_BUSY)
        self._idle = client.register_script(_IDLE)
        self._leave = client.register_script(_LEAVE)

    @classmethod
    def join(
        cls, client: redis.Redis, requested: str | None, worker: str, key_ttl_ms: int
    ) -> Round:
        if requested is not None and not _ROUND_ID.match(requested):
            raise WorkerError(f"round ID {requested!r}: use 1-40 letters, digits, '.', '_', '-'")
        script = client.register_script(_JOIN)
        args: list[str | int] = [
            requested or "",
            PREFIX,
            new_round_id(),
            worker,
            HEARTBEAT_MS,
            key_ttl_ms,
        ]
        joined = script(keys=[f"{PREFIX}:round"], args=args)
        return cls(
            client, joined.decode() if isinstance(joined, bytes) else joined, worker, key_ttl_ms
        )

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> Round:
        client = redis.Redis.from_url(
            settings["REDIS_URL"], socket_connect_timeout=5, socket_timeout=30
        )
        return cls(
            client,
            settings["YUQING_ROUND"],
            settings["YUQING_WORKER"],
            settings.getint("YUQING_ROUND_KEY_TTL_MS"),
        )

    def key(self, *parts: str) -> str:
        return ":".join((PREFIX, self.id, *parts))

    @property
    def members(self) -> str:
        return self.key("workers")

    def refresh(self, spider: str, busy: bool) -> None:
        keys = [
            self.members,
            f"{PREFIX}:round",
            self.key(spider, "busy"),
            self.key(spider, "requests"),
            self.key(spider, "dupefilter"),
            self.key(spider, "reader"),
        ]
        args: list[str | int] = [
            self.worker,
            self.id,
            HEARTBEAT_MS,
            BUSY_MS,
            self.key_ttl_ms,
            int(busy),
        ]
        self._refresh(keys=keys, args=args)

    def mark_busy(self, spider: str) -> None:
        self._mark_busy(
            keys=[self.key(spider, "busy")], args=[self.worker, BUSY_MS, self.key_ttl_ms]
        )

    def claim(self, spider: str) -> bool:
        """True for the one worker of the round that reads the spider's source itself (the
        first to ask, and it again); it keeps the claim until the round's keys expire, so a
        worker joining late does not read the source a second time."""
        key = self.key(spider, "reader")
        if self.client.set(key, self.worker, nx=True, px=self.key_ttl_ms):
            return True
        return self.client.get(key) == self.worker.encode()

    def idle(self, spider: str) -> int:
        """Marks this worker idle on the spider; returns how many other workers are busy."""
        return int(self._idle(keys=[self.key(spider, "busy")], args=[self.worker]))

    def leave(self) -> bool:
        """Leaves the round; True for the last worker out."""
        return bool(
            self._leave(keys=[self.members, f"{PREFIX}:round"], args=[self.worker, self.id])
        )
