"""Run one crawl of the configured sources in this process and exit.

Scrapy's reactor cannot be restarted inside one process, so the scheduler and `yuqing crawl`
start this as a subprocess (`python -m crawlers`), one per crawl.
"""

from __future__ import annotations

import logging

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings as ScrapySettings

from crawlers.spiders.rss import RssSpider
from crawlers.spiders.site import SiteSpider
from responder.db import Database
from responder.settings import Settings, Source

SPIDERS = {"rss": RssSpider, "site": SiteSpider}
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
            "LOG_LEVEL": settings.log_level,
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


def crawl(settings: Settings, names: list[str], cycle_id: str) -> int:
    """Crawl the sources once; returns how many sources were started."""
    sources = select_sources(settings, names)
    Database(settings).dispose()  # bring the schema up to date before pipelines write
    process = CrawlerProcess(scrapy_settings(settings, cycle_id))
    for source in sources:
        process.crawl(SPIDERS[source.kind], source=source)
    process.start()
    return len(sources)
