"""`site` sources: list pages → article pages, with optional selectors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy.http import Response, TextResponse

from crawlers.extract import article_problem, extract_article, listed_articles, next_page
from crawlers.items import MentionItem
from crawlers.spiders.base import SourceSpider, redirected_from


class SiteSpider(SourceSpider):
    name = "site"

    async def start(self) -> AsyncIterator[Any]:
        yield self.request(self.source.url, self.parse_list, cb_kwargs={"page": 1})

    def parse_list(self, response: Response, page: int) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            self.parse_error(response.url, "list page is not text")
            return
        if self.broken_list(response):
            return
        listed = listed_articles(response, self.selectors, self.yuqing.tz)
        fresh = [link for link in self.new_links(listed) if not self.is_old(listed[link])]
        for link in fresh:
            yield self.request(link, self.parse_article)
        if page < self.source.max_pages and self.keep_paging(
            len(listed), len(fresh), list(listed.values())
        ):
            nxt = next_page(response, self.selectors, page)
            if nxt and nxt != response.url:
                yield self.request(nxt, self.parse_list, cb_kwargs={"page": page + 1})

    def parse_article(self, response: Response) -> Iterator[MentionItem]:
        if not isinstance(response, TextResponse):
            self.parse_error(response.url, "article page is not text")
            return
        if problem := article_problem(response):
            self.parse_error(response.url, f"the article page {problem}")
            return
        found = extract_article(response, self.selectors)
        yield MentionItem(
            source=self.source.name, url=response.url, aliases=redirected_from(response), **found
        )
