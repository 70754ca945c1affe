"""Crawling on several hosts: `python -m crawlers --worker` / `yuqing crawl --worker`.

Workers on one or more hosts split a crawl through Redis (`crawl.redis_url`) with scrapy-redis:
a shared request queue and a shared duplicate filter per source, so every page of a round is
fetched by exactly one worker, whichever of them found the link.

Rounds. Every key lives under `yuqing:crawl:<round>:`, so fingerprints persisted by one round
never stop the next one from fetching the sources' list pages again:

- `--round ID` names the round: every worker started with the same ID works on it (a cron line
  on each host can pass e.g. `--round $(date +%Y%m%d%H%M)`).
- Without `--round` a worker joins the round that is open, or opens one (`yuqing:crawl:round`
  points at it; an atomic Redis script decides, so workers started together share one). The
  round closes when its last worker leaves, or when no worker of it has been alive for
  `HEARTBEAT_MS` (a crashed worker cannot keep it open); the next worker opens a new round.

Within a round (keys per source spider, named `<kind>:<source name>` by `SourceSpider`):

- `<spider>:requests` is the shared priority queue, `<spider>:dupefilter` the shared request
  fingerprints. Every worker yields each source's start request; the first one to reach the
  duplicate filter queues it, the others' copies are filtered, so the list pages and articles
  are fetched once in total. Requests are serialised with their callbacks by name and their
  `cb_kwargs`/`meta` pickled; only the value types requests carry (`crawlers.items`, dates,
  time zones, ...) may be loaded back (`RequestPickle`), since whoever can write to the Redis
  server could otherwise run code in the workers: keep Redis on a private network with a
  password all the same.
- A worker's spider closes when the shared queue is empty and no other worker is busy on the
  source (`<spider>:busy`: who is downloading or parsing, kept alive every `POLL_SECONDS`), and
  not in the first `START_GRACE_SECONDS`, so a worker that lost the start request still waits
  for the links the winner is about to queue. Requests only ever come from a worker that is
  still open, and a spider never closes while the queue holds requests, so nothing queued is
  left behind when a worker leaves early. Queues and fingerprints are never flushed when a
  worker closes (SCHEDULER_PERSIST): the others still use them. They expire
  `2 × crawl.timeout_minutes` after the round's last activity.
- A source read without requests (a `mailbox`: one IMAP session lists and fetches the letters)
  cannot be split through the queue, and two workers reading it would both fetch every letter
  and record it twice in the round's runs. The first worker to start it claims it
  (`<spider>:reader`, `Round.claim`) and reads it all; the others leave it at once and record
  no run for it. A claimant that dies midway leaves the rest to the next round, which lists
  those letters as new.
- No blocking pop (SCHEDULER_IDLE_BEFORE_CLOSE stays 0): one process crawls every source, and a
  blocking Redis call would stall all of them.

The round's bookkeeping in Redis (members, busy marks, the scripts) is `crawlers.rounds`.

Per-host source locks (`crawlers.runner.source_lock`) are not taken: two workers on one host
share a source by design. The database schema and the sources' rows are brought up to date
under a Redis lock before crawling, so workers starting together on a fresh database do not
race. Each worker writes one `crawl_runs` row per source it had a share of, with the round ID
as cycle ID (a round's rows sum to the round); a worker that fetched nothing of a source, because
the others had it all, writes none. A worker that only fetched articles listed by another is
`ok` (or `failed` when every fetch failed): whether the source lists nothing is judged by the
worker that read the list page. Workers group no reprints and check no source health: the next
cycle or `yuqing crawl` does, once, whoever crawled (`responder.running.aftercrawl`).

Redis Cluster is not supported (the scripts build key names).
"""

from __future__ import annotations

import io
import logging
import pickle
import time
from typing import Any
from zoneinfo import ZoneInfo

import redis
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.settings import Settings as ScrapySettings
from scrapy.utils.asyncio import create_looping_call
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler

from crawlers.pipelines import SavePipeline
from crawlers.rounds import (
    POLL_SECONDS,
    PREFIX,
    Round,
    WorkerError,
    connect,
    redacted,
    require_redis_url,
)
from crawlers.runner import SPIDERS, scrapy_settings, select_sources, skip_records_below
from crawlers.spiders.base import SourceSpider
from responder.intake import handover
from responder.intake.handover import Handover, RunStatus
from responder.settings import Settings, Source

__all__ = ["PREFIX", "Round", "WorkerError", "crawl_as_worker"]

log = logging.getLogger(__name__)

START_GRACE_SECONDS = 3.0
SETUP_LOCK_SECONDS = 300


class RequestPickle:
    """scrapy-redis serializer: pickle, but loading back only the value types that requests of
    our spiders carry in `cb_kwargs` and `meta` (see the module docstring)."""

    ALLOWED = {
        ("builtins", "set"),
        ("builtins", "frozenset"),
        ("builtins", "bytearray"),
        ("builtins", "complex"),
        ("collections", "OrderedDict"),
        ("datetime", "datetime"),
        ("datetime", "date"),
        ("datetime", "time"),
        ("datetime", "timedelta"),
        ("datetime", "timezone"),
        ("decimal", "Decimal"),
        ("zoneinfo", "ZoneInfo"),
    }
    ALLOWED_MODULES = {"crawlers.items"}

    class _Pickler(pickle.Pickler):
        def reducer_override(self, obj: Any) -> Any:
            # A ZoneInfo pickles through getattr(ZoneInfo, "_unpickle"); getattr is not loaded.
            if isinstance(obj, ZoneInfo):
                return ZoneInfo, (obj.key,)
            return NotImplemented

    class _Unpickler(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            if (module, name) in RequestPickle.ALLOWED or module in RequestPickle.ALLOWED_MODULES:
                return super().find_class(module, name)
            raise pickle.UnpicklingError(f"{module}.{name} may not be loaded from a queued request")

    @staticmethod
    def dumps(obj: Any) -> bytes:
        out = io.BytesIO()
        RequestPickle._Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
        return out.getvalue()

    @staticmethod
    def loads(data: bytes) -> Any:
        return RequestPickle._Unpickler(io.BytesIO(data)).load()


class RoundScheduler(Scheduler):  # type: ignore[misc]
    """scrapy-redis's scheduler with the round's keys, a busy mark when a request is taken,
    and without the stats calls Scrapy 2.13+ deprecates."""

    crawler: Crawler
    round: Round

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RoundScheduler:
        instance = cls.from_settings(crawler.settings)
        instance.stats = crawler.stats
        instance.crawler = crawler
        instance.round = Round.from_settings(crawler.settings)
        return instance  # type: ignore[no-any-return]

    def open(self, spider: Spider) -> None:
        self.spider = spider
        # scrapy-redis formats the queue key with `%` once more: keep a '%' in a name literal.
        requests_key = self.round.key(spider.name, "requests").replace("%", "%%")
        self.queue = PriorityQueue(
            server=self.server, spider=spider, key=requests_key, serializer=self.serializer
        )
        self.df = RFPDupeFilter(
            self.server,
            key=self.round.key(spider.name, "dupefilter"),
            debug=spider.settings.getbool("DUPEFILTER_DEBUG"),
        )
        if len(self.queue):
            log.info(
                "%s: joining round %s, %d requests queued",
                spider.name,
                self.round.id,
                len(self.queue),
            )

    def close(self, reason: str) -> None:
        """Keeps the queue and fingerprints: other workers still use them (SCHEDULER_PERSIST)."""

    def enqueue_request(self, request: Request) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def next_request(self) -> Request | None:
        while True:
            try:
                request = self.queue.pop()
            except (pickle.UnpicklingError, ValueError, AttributeError, TypeError) as exc:
                log.error("%s: a queued request cannot be read, skipped: %s", self.spider.name, exc)
                continue
            if request is None:
                return None
            if self.stats:
                self.stats.inc_value("scheduler/dequeued/redis")
            self.round.mark_busy(self.spider.name)
            return request  # type: ignore[no-any-return]


class RoundWorker:
    """Extension: keeps this worker's busy mark and the round's heartbeat fresh, and keeps an
    idle spider open while other workers may still queue requests for its source."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.round = Round.from_settings(crawler.settings)
        self.opened = 0.0
        self.waiting = False
        self.task: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RoundWorker:
        if not crawler.settings.get("YUQING_ROUND"):
            raise NotConfigured("not a worker crawl")
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider: Spider) -> None:
        self.opened = time.monotonic()
        engine = self.crawler.engine
        # The engine looks at the scheduler (and asks an idle spider's handlers again) every
        # heartbeat, 5 s by default: too slow to pick up requests another worker queued.
        if engine is not None and hasattr(engine, "_SLOT_HEARTBEAT_INTERVAL"):
            engine._SLOT_HEARTBEAT_INTERVAL = POLL_SECONDS
        self.task = create_looping_call(self.refresh, spider)
        self.task.start(POLL_SECONDS, now=True)
        if isinstance(spider, SourceSpider):
            spider.claim_source = lambda: self.claim(spider)

    def claim(self, spider: SourceSpider) -> bool:
        """Whether this worker reads a source that no request of the shared queue reads."""
        try:
            claimed = self.round.claim(spider.name)
        except redis.RedisError as exc:
            # Read it all the same: the database stores each item once whoever else reads it.
            log.warning("%s: Redis: %s; reading the source here", spider.name, exc)
            return True
        if not claimed:
            log.info("%s: read by another worker of round %s", spider.name, self.round.id)
        return claimed

    def refresh(self, spider: Spider) -> None:
        engine = self.crawler.engine
        try:
            busy = engine is not None and not engine.spider_is_idle()
        except RuntimeError:  # closing
            busy = False
        try:
            self.round.refresh(spider.name, busy)
        except redis.RedisError as exc:
            log.warning("%s: Redis: %s", spider.name, exc)

    def spider_idle(self, spider: Spider) -> None:
        try:
            others = self.round.idle(spider.name)
        except redis.RedisError as exc:
            log.warning("%s: Redis: %s; closing", spider.name, exc)
            return
        if others or time.monotonic() - self.opened < START_GRACE_SECONDS:
            if others and not self.waiting:
                log.info("%s: queue empty, waiting for %d other worker(s)", spider.name, others)
            self.waiting = bool(others)
            raise DontCloseSpider

    def spider_closed(self, spider: Spider) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        try:
            self.round.idle(spider.name)
        except redis.RedisError:
            pass


class WorkerSavePipeline(SavePipeline):
    """SavePipeline for a worker's share of a source (see the module docstring)."""

    def run_status(self, fetched: int, found: int, failed: int, stats: dict[str, Any]) -> RunStatus:
        if not stats.get("yuqing/lists"):
            # Only pages another worker listed: whether the source lists nothing is judged there.
            return RunStatus.FAILED if failed and failed >= fetched else RunStatus.OK
        return super().run_status(fetched, found, failed, stats)

    def close_spider(self) -> None:
        stats: dict[str, Any] = self.crawler.stats.get_stats() if self.crawler.stats else {}
        failed = int(stats.get("yuqing/errors", 0)) + int(stats.get("yuqing/parse_errors", 0))
        # robots.txt is fetched by every worker, outside the shared queue: not a share. What a
        # spider read otherwise (the folder of the mailbox it claimed) is.
        pages = (
            int(stats.get("response_received_count", 0))
            - int(stats.get("robotstxt/response_count", 0))
            + int(stats.get("yuqing/fetched", 0))
        )
        no_share = pages <= 0 and not failed and not self.stored
        super().close_spider()
        if no_share and self.handover is not None and self.run is not None:
            self.handover.discard_run(self.run)
            self.handover.close()
            log.info("source %s: no share of this round; no run recorded", self._source_name())

    def _source_name(self) -> str:
        return getattr(getattr(self.crawler.spider, "source", None), "name", "?")


def worker_settings(settings: Settings, round_: Round, redis_url: str) -> ScrapySettings:
    """The usual Scrapy settings plus scrapy-redis with this round's keys."""
    result = scrapy_settings(settings, round_.id)
    pipelines = dict(result.getdict("ITEM_PIPELINES"))
    pipelines["crawlers.pipelines.SavePipeline"] = None
    pipelines["crawlers.distributed.WorkerSavePipeline"] = 900
    extensions = dict(result.getdict("EXTENSIONS"))
    extensions["crawlers.distributed.RoundWorker"] = 100
    result.setdict(
        {
            "SCHEDULER": "crawlers.distributed.RoundScheduler",
            "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_IDLE_BEFORE_CLOSE": 0,
            "SCHEDULER_SERIALIZER": RequestPickle,
            # Take from the shared queue only what can be downloaded now (one crawler per
            # source): the queue, not one worker's downloader, holds the backlog.
            "CONCURRENT_REQUESTS": settings.crawl.concurrent_per_domain,
            "REDIS_URL": redis_url,
            "REDIS_PARAMS": {"socket_connect_timeout": 5, "socket_timeout": 30},
            "ITEM_PIPELINES": pipelines,
            "EXTENSIONS": extensions,
            "YUQING_ROUND": round_.id,
            "YUQING_WORKER": round_.worker,
            "YUQING_ROUND_KEY_TTL_MS": round_.key_ttl_ms,
        },
        priority="cmdline",
    )
    return result


def prepare_database(settings: Settings, client: redis.Redis, sources: list[Source]) -> None:
    """Schema and source rows, one worker at a time (workers may start on a fresh database)."""
    lock = client.lock(
        f"{PREFIX}:setup", timeout=SETUP_LOCK_SECONDS, blocking_timeout=SETUP_LOCK_SECONDS
    )
    with lock:
        opened: Handover = handover.open(settings, migrate=True)
        try:
            opened.register_sources(sources)
        finally:
            opened.close()


def crawl_as_worker(settings: Settings, names: list[str], round_id: str | None = None) -> int:
    """Crawl the sources as one worker of a round; returns how many sources it crawled."""
    url = require_redis_url(settings)
    client = connect(url)
    sources = select_sources(settings, names)
    key_ttl_ms = 2 * settings.crawl.timeout_minutes * 60_000
    try:
        prepare_database(settings, client, sources)
        round_ = Round.join(client, round_id, handover.this_process(), key_ttl_ms)
    except redis.RedisError as exc:
        raise WorkerError(f"crawl.redis_url {redacted(url)}: {exc}") from None
    last = False
    try:
        # Creating the process sets up logging, so the first message comes after it.
        process = CrawlerProcess(worker_settings(settings, round_, url))
        log.info("worker %s: round %s, %d sources", round_.worker, round_.id, len(sources))
        for source in sources:
            process.crawl(SPIDERS[source.kind], source=source)
        if sources:
            skip_records_below(settings.log_level)
            process.start()
    finally:
        try:
            last = round_.leave()
        except redis.RedisError as exc:
            log.warning("worker %s: could not leave round %s: %s", round_.worker, round_.id, exc)
    if last:
        # Reprints and source health follow in the next cycle or `yuqing crawl`
        # (responder.running.aftercrawl), whoever crawled.
        log.info("round %s: last worker out; the round is closed", round_.id)
    else:
        log.info("round %s: other workers still crawling", round_.id)
    return len(sources)
