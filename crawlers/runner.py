"""Run one crawl of the configured sources in this process and exit.

Scrapy's reactor cannot be restarted inside one process, so the scheduler and `yuqing crawl`
start this as a subprocess (`python -m crawlers`), one per crawl. A source that another crawl
on this host is still crawling is skipped (an exclusive lock file per source), so a slow run is
never started twice. After the spiders finish, reprints are grouped and source health checked.

`python -m crawlers --worker` crawls through `crawlers.distributed` instead: workers on one or
more hosts share a Redis request queue and duplicate filter per source and round, take no
per-host locks, and the last worker out of a round runs `after_crawl`. That module's docstring
has the design.
"""

from __future__ import annotations

import fcntl
import gc
import hashlib
import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import IO

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings as ScrapySettings

from crawlers.spiders.rss import RssSpider
from crawlers.spiders.search import SearchSpider
from crawlers.spiders.site import SiteSpider
from crawlers.spiders.weibo import WeiboSpider
from responder.db import Database
from responder.intake.reprints import group_reprints
from responder.ops.health import alert_unhealthy, close_abandoned_runs
from responder.settings import Settings, Source

SPIDERS = {"rss": RssSpider, "site": SiteSpider, "search": SearchSpider, "weibo": WeiboSpider}
log = logging.getLogger(__name__)


class UnknownSource(LookupError):
    pass


def scrapy_settings(settings: Settings, cycle_id: str) -> ScrapySettings:
    scrapy_settings = ScrapySettings()
    scrapy_settings.setmodule("crawlers.settings", priority="project")
    crawl = settings.crawl
    scrapy_settings.setdict(
        {
            "USER_AGENT": crawl.user_agent,
            "ROBOTSTXT_OBEY": crawl.obey_robots,
            "DOWNLOAD_TIMEOUT": crawl.download_timeout,
            "DOWNLOAD_MAXSIZE": crawl.max_response_bytes,
            "DOWNLOAD_WARNSIZE": crawl.max_response_bytes // 2,
            "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_per_domain,
            "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
            "RETRY_TIMES": crawl.retries,
            "YUQING_RETRY_BACKOFF": crawl.retry_backoff_seconds,
            "LOG_LEVEL": settings.log_level,
            # With JSON logs, responder.logs' handler (set up by __main__) formats Scrapy's
            # records too, so every line of the crawl is one JSON object.
            "LOG_INSTALL_ROOT_HANDLER": settings.log_format != "json",
            "YUQING": settings,
            "YUQING_CYCLE_ID": cycle_id,
        },
        priority="cmdline",
    )
    return scrapy_settings


def select_sources(settings: Settings, names: list[str]) -> list[Source]:
    enabled = [s for s in settings.sources if s.enabled]
    if not names:
        return enabled
    known = {s.name: s for s in settings.sources}
    missing = [n for n in names if n not in known]
    if missing:
        raise UnknownSource(f"no source named {', '.join(missing)} in sources.yaml")
    return [known[n] for n in names]


@contextmanager
def source_lock(settings: Settings, source: Source) -> Iterator[IO[str] | None]:
    """An exclusive lock on the source for this host; yields None when another crawl has it."""
    directory = settings.data_dir / "locks"
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(source.name.encode("utf-8")).hexdigest()[:16]
    with (directory / f"crawl-{digest}.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        yield handle


def crawl(settings: Settings, names: list[str], cycle_id: str) -> int:
    """Crawl the sources once; returns how many sources were started."""
    sources = select_sources(settings, names)
    db = Database(settings)  # brings the schema up to date before pipelines write
    started = 0
    with ExitStack() as locks:
        process = CrawlerProcess(scrapy_settings(settings, cycle_id))
        for source in sources:
            if locks.enter_context(source_lock(settings, source)) is None:
                log.warning("source %s: still being crawled by another run; skipped", source.name)
                continue
            process.crawl(SPIDERS[source.kind], source=source)
            started += 1
        if started:
            # Everything loaded so far (Scrapy, the keyword rules, jieba's dictionary) lives
            # until exit; frozen, the collector stops rescanning it during the crawl.
            gc.collect()
            gc.freeze()
            process.start()
    after_crawl(settings, db)
    db.dispose()
    return started


def after_crawl(settings: Settings, db: Database) -> None:
    """Close the runs whose process died, group reprints among the new mentions and alert on
    sources that stopped working."""
    with db.transaction() as session:
        close_abandoned_runs(session, settings)
    with db.transaction() as session:
        reprints = group_reprints(session, settings)
    if reprints:
        log.info("%d new mentions grouped as reprints", reprints)
    with db.transaction() as session:
        alert_unhealthy(session, settings)
