"""`watch` sources: a page without a list of articles to follow (a 通知公告 column, a 12345 reply
page), read each crawl as a whole.

The spider only reads the page's main text (the `body` selector's, else the page's text
without scripts, navigation, header and footer) and yields it as one item marked `watched`;
`crawlers.pipelines.WatchPipeline` compares it with the last read and lets through a mention
of what was added, if anything. A page that is gone (404, a timeout) is an error of the run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from copy import deepcopy
from typing import Any

from scrapy.http import Response, TextResponse

from crawlers.extract import element_text, extract_article, repaired
from crawlers.items import MentionItem
from crawlers.spiders.base import SourceSpider

# Parts of a page that change without saying anything new (menus, clocks, visitor counters).
_CHROME = "//script|//style|//noscript|//nav|//header|//footer|//iframe|//form"


def main_text(response: TextResponse, selectors: dict[str, str]) -> tuple[str, str]:
    """(title, text) of the watched page."""
    if selectors.get("body"):
        found = extract_article(response, selectors)
        return found.get("title", ""), found.get("text", "")
    root = deepcopy(repaired(response).selector.root)
    for element in root.xpath(_CHROME):
        parent = element.getparent()
        if parent is None:
            continue
        # Keep the text that follows the element (lxml stores it on the element as its tail).
        if element.tail:
            previous = element.getprevious()
            if previous is not None:
                previous.tail = (previous.tail or "") + element.tail
            else:
                parent.text = (parent.text or "") + element.tail
        parent.remove(element)
    title = " ".join(root.xpath("//title//text()")).strip()
    body = root.xpath("//body")
    return title, element_text(body[0]) if body else ""


class WatchSpider(SourceSpider):
    name = "watch"

    async def start(self) -> AsyncIterator[Any]:
        yield self.request(self.source.url, self.parse_page)

    def parse_page(self, response: Response) -> Iterator[MentionItem]:
        if not isinstance(response, TextResponse):
            self.parse_error(response.url, f"the page of source {self.source.name} is not text")
            return
        if self.broken_list(response, "watched page"):
            return
        title, text = main_text(response, self.selectors)
        yield MentionItem(
            source=self.source.name, url=response.url, title=title, text=text, watched=True
        )
