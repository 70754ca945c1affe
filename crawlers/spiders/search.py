"""`search` sources: the result pages of a search engine or a site's own search, keyword by
keyword, and the articles the results point to.

The source url is a template: `{keyword}` becomes each of the source's keywords (quote_plus
encoded), `{page}` the 1-based page number. A template without `{page}` is read one page per
keyword.

    - name: 新闻搜索
      kind: search
      url: "https://so.example.cn/news?q={keyword}&p={page}"
      keywords: [临江县统计局, 临江 普查]
      max_pages: 3
      selectors:                        # optional
        links: "div.result h3 a"

Which links are results:
  - with `selectors.links`, exactly the links it selects (article pages are read with the
    other selectors, as for `site` sources);
  - without it, anchors with title-like text (at least MIN_TITLE_CHARS characters, not a
    next-page word). Results of an engine point to other sites, so off-site links count unless
    they point at a site's home page (ICP filing, partner and portal links). On the search
    site itself only article-shaped paths count (the `site` rule), and never the result
    page's own path: other pages, tabs and "related searches" are result pages, not results.
    Engines that link through their own redirector (`/link?url=…`) need `selectors.links`.

Times printed beside a result ("临江日报 2小时前") stop the look-back before anything is
fetched; an article page without a time of its own keeps its listed time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus, urlsplit

from parsel import Selector
from scrapy.http import Response, TextResponse

# The `site` kind's article-path rule, shared so both kinds judge on-site links alike.
from crawlers.extract import (
    ARTICLE_PATH,
    MIN_TITLE_CHARS,
    NEXT_TEXTS,
    article_problem,
    extract_article,
)
from crawlers.items import MentionItem
from crawlers.spiders.base import SourceSpider, redirected_from
from responder.intake.handover import parse_time

# A time beside a result sits in the result's block, rarely more than this far above the link
# (a > h3 > div.result); higher up, blocks hold several results.
RESULT_DEPTH = 3


def _text_of(anchor: Selector) -> str:
    # Joined without spaces: engines split titles with <em> around the matched words.
    return " ".join("".join(anchor.css("::text").getall()).split())


class SearchSpider(SourceSpider):
    name = "search"

    async def start(self) -> AsyncIterator[Any]:
        for keyword in self.source.keywords:
            yield self.request(
                self.page_url(keyword, 1),
                self.parse_results,
                cb_kwargs={"keyword": keyword, "page": 1},
            )

    def page_url(self, keyword: str, page: int) -> str:
        # str.replace, not format: a template may hold other braces (JSON-ish query values).
        return self.source.url.replace("{keyword}", quote_plus(keyword)).replace(
            "{page}", str(page)
        )

    def result_anchors(self, response: TextResponse) -> list[Selector]:
        if "links" in self.selectors:
            return [a for a in response.css(self.selectors["links"]) if a.attrib.get("href")]
        here = urlsplit(response.url)
        found = []
        for anchor in response.css("a[href]"):
            href = urlsplit(response.urljoin(anchor.attrib["href"]))
            text = _text_of(anchor)
            if href.scheme not in ("http", "https"):
                continue
            if len(text) < MIN_TITLE_CHARS or text.strip(" <>›»") in NEXT_TEXTS:
                continue
            if href.netloc == here.netloc:
                if href.path == here.path or not ARTICLE_PATH.search(href.path):
                    continue
            elif href.path in ("", "/") and not href.query:
                continue
            found.append(anchor)
        return found

    def result_times(self, response: TextResponse, anchors: list[Selector]) -> dict[str, datetime]:
        """The time printed in each result's own block: the nearest ancestor whose text, the
        title left out, holds one, as long as that ancestor holds no other result."""
        links = {response.urljoin(a.attrib["href"]) for a in anchors}
        times: dict[str, datetime] = {}
        for anchor in anchors:
            link = response.urljoin(anchor.attrib["href"])
            own = " ".join(anchor.css("::text").getall())
            block = anchor
            for _ in range(RESULT_DEPTH):
                parents = block.xpath("..")
                if not parents:
                    break
                block = parents[0]
                hrefs = {response.urljoin(h) for h in block.css("a::attr(href)").getall()}
                if len(hrefs & links) > 1:
                    break
                around = " ".join(block.css("::text").getall()).replace(own, " ")
                when = parse_time(around, self.yuqing.tz)
                if when is not None:
                    times.setdefault(link, when)
                    break
        return times

    def parse_results(self, response: Response, keyword: str, page: int) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            self.parse_error(response.url, "search result page is not text")
            return
        if self.broken_list(response, "search result page"):
            return
        anchors = self.result_anchors(response)
        titles: dict[str, str] = {}
        for anchor in anchors:
            titles.setdefault(response.urljoin(anchor.attrib["href"]), _text_of(anchor))
        times = self.result_times(response, anchors)
        links = list(titles)
        fresh = [link for link in self.new_links(links) if not self.is_old(times.get(link))]
        for link in fresh:
            yield self.request(
                link,
                self.parse_article,
                cb_kwargs={"listed_title": titles[link], "listed_at": times.get(link)},
            )
        if (
            "{page}" in self.source.url
            and page < self.source.max_pages
            and self.keep_paging(len(links), len(fresh), list(times.values()))
        ):
            yield self.request(
                self.page_url(keyword, page + 1),
                self.parse_results,
                cb_kwargs={"keyword": keyword, "page": page + 1},
            )

    def parse_article(
        self, response: Response, listed_title: str, listed_at: datetime | None
    ) -> Iterator[MentionItem]:
        if not isinstance(response, TextResponse):
            self.parse_error(response.url, "article page is not text")
            return
        if problem := article_problem(response):
            self.parse_error(response.url, f"the article page {problem}")
            return
        found = extract_article(response, self.selectors)
        found["title"] = found.get("title") or listed_title
        item = MentionItem(
            source=self.source.name, url=response.url, aliases=redirected_from(response), **found
        )
        if parse_time(item.published, self.yuqing.tz) is None:
            item.published_at = listed_at
        yield item
