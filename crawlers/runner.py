"""Run one crawl of the configured sources in this process and exit.

Scrapy's reactor cannot be restarted inside one process, so the scheduler and `yuqing crawl`
start this as a subprocess (`python -m crawlers`), one per crawl. A source that another crawl
on this host is still crawling is skipped (an exclusive lock file per source), so a slow run is
never started twice. What follows a crawl (reprints, source health) is not done here: the cycle
and `yuqing crawl` do it once, whoever crawled (`responder.running.aftercrawl`).

`python -m crawlers --worker` crawls through `crawlers.distributed` instead: workers on one or
more hosts share a Redis request queue and duplicate filter per source and round and take no
per-host locks. That module's docstring has the design.
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

from crawlers.spiders.hotlist import HotListSpider
from crawlers.spiders.jsonapi import JsonSpider
from crawlers.spiders.mailbox import MailboxSpider
from crawlers.spiders.rss import RssSpider
from crawlers.spiders.search import SearchSpider
from crawlers.spiders.site import SiteSpider
from crawlers.spiders.watch import WatchSpider
from crawlers.spiders.wechat import WechatSpider
from crawlers.spiders.weibo import WeiboSpider
from responder.intake import handover
from responder.settings import Settings, Source

SPIDERS = {
    "rss": RssSpider,
    "site": SiteSpider,
    "search": SearchSpider,
    "weibo": WeiboSpider,
    "mailbox": MailboxSpider,
    "wechat": WechatSpider,
    "json": JsonSpider,
    "hotlist": HotListSpider,
    "watch": WatchSpider,
}
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


def skip_records_below(level: str) -> None:
    """Scrapy's root handler filters by LOG_LEVEL but puts the root logger at NOTSET (again for
    each crawler), so every page's DEBUG lines ("Crawled (200)", "Scraped from" with the whole
    item) were built and thrown away; with the level on Scrapy's own logger they are not built.
    """
    logging.getLogger("scrapy").setLevel(level.upper())


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
    # Brings the schema up to date before the pipelines write.
    handover.open(settings, migrate=True).close()
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
            skip_records_below(settings.log_level)
            # Everything loaded so far (Scrapy, the keyword rules, jieba's dictionary) lives
            # until exit; frozen, the collector stops rescanning it during the crawl.
            gc.collect()
            gc.freeze()
            process.start()
    return started
