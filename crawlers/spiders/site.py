"""`site` sources: list pages → article pages, with optional selectors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy.http import Response, TextResponse

from crawlers.extract import article_links, extract_article, next_page
from crawlers.items import MentionItem
from crawlers.spiders.base import SourceSpider


class SiteSpider(SourceSpider):
    name = "site"

    async def start(self) -> AsyncIterator[Any]:
        yield self.request(self.source.url, self.parse_list, cb_kwargs={"page": 1})

    def parse_list(self, response: Response, page: int) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            self.crawler.stats.inc_value("yuqing/parse_errors")
            return
        for link in article_links(response, self.selectors):
            yield self.request(link, self.parse_article)
        if page < self.source.max_pages:
            nxt = next_page(response, self.selectors, page)
            if nxt and nxt != response.url:
                yield self.request(nxt, self.parse_list, cb_kwargs={"page": page + 1})

    def parse_article(self, response: Response) -> Iterator[MentionItem]:
        if not isinstance(response, TextResponse):
            self.crawler.stats.inc_value("yuqing/parse_errors")
            return
        found = extract_article(response, self.selectors)
        yield MentionItem(source=self.source.name, url=response.url, **found)
