"""Skip what is already known: a spider middleware that answers, for the spiders' listed links,
which are stored as mentions or set aside for good by an earlier crawl
(`responder.intake.handover.Handover.known`), so they are counted as found and not fetched.

It is a middleware rather than a query in the spider so the spiders stay parsers: the database
connection is opened and closed with the spider here, and a spider run without the middleware
(a parser test) simply knows nothing. The spider still decides what a skip means for paging
(`SourceSpider.new_links`, `keep_paging`), which needs the count of new links on the page.
"""

from __future__ import annotations

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawlers.spiders.base import SourceSpider
from responder.intake import handover
from responder.intake.handover import Handover
from responder.settings import Settings


class KnownPagesMiddleware:
    """Gives each `SourceSpider` its `known` lookup, backed by one handover per spider."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.handovers: dict[str, Handover] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> KnownPagesMiddleware:
        settings = crawler.settings.get("YUQING")
        if settings is None:
            raise NotConfigured("YUQING settings object missing")
        middleware = cls(settings)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self, spider: Spider) -> None:
        if isinstance(spider, SourceSpider):
            name = spider.name
            spider.known = lambda canonical: self.known(name, canonical)

    def known(self, spider: str, canonical: set[str]) -> set[str]:
        """The canonical URLs among `canonical` that need no fetching."""
        if not canonical:
            return set()
        if spider not in self.handovers:  # opened on first use: a spider may list nothing
            self.handovers[spider] = handover.open(self.settings)
        return self.handovers[spider].known(canonical)

    def spider_closed(self, spider: Spider) -> None:
        opened = self.handovers.pop(spider.name, None)
        if opened is not None:
            opened.close()
