"""`hotlist` sources: one board (微博热搜, 百度热搜, …) of a self-hosted DailyHotApi-style
service, `GET <url>/<route>` answering `{"code": 200, "data": [{"title", "url", "hot",
"desc"}, …]}` in board order.

Every entry is yielded each crawl, stored or not, with its place and heat: the relevance
pipeline drops those that match none of the office's keyword rules, the save pipeline stores
the new ones and records a sighting of every one that reaches it, so an incident page can say
how high and how long its story stood on the board (`responder.incidents.hotlists`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy.http import Response

from crawlers.spiders.jsonapi import _MISSING, JsonSpider, _count, _text, dig
from responder.settings import HOT_BOARDS


class HotListSpider(JsonSpider):
    name = "hotlist"

    @property
    def board_url(self) -> str:
        return f"{self.source.url.rstrip('/')}/{HOT_BOARDS[self.source.board or '']}"

    async def start(self) -> AsyncIterator[Any]:
        yield self.request(self.board_url, self.parse_board)

    def parse_board(self, response: Response) -> Iterator[Any]:
        answer = self.read_json(response)
        if answer is _MISSING:
            return
        if isinstance(answer, dict) and answer.get("code", 200) != 200:
            # DailyHotApi answers its failures (the platform blocked it) with HTTP 200.
            self.parse_error(
                response.url,
                f"source {self.source.name}: the hot-list service failed: "
                f"code={answer.get('code')} message={str(answer.get('message', ''))[:120]}",
            )
            return
        items = self.listed(response, answer)
        if items is None:
            return
        board = self.source.board or ""
        entries = [(place, item, self.entry(response, item)) for place, item in enumerate(items, 1)]
        if items and not any(entry for _, _, entry in entries):
            self.unreadable(response, len(items))
            return
        self.crawler.stats.inc_value("yuqing/lists")
        self.crawler.stats.inc_value("yuqing/found", len(items))
        for place, item, entry in entries:
            if entry is None:
                continue
            # A hot topic is often a headline of a few characters, shorter than the least text
            # a mention must have: the board's name goes first, which also says where it stood.
            entry.text = "\n".join(
                t for t in (f"{board}：{entry.title}", _text(dig(item, "desc"))) if t
            )
            entry.outlet = entry.outlet or board
            entry.hot_board = board
            entry.hot_rank = place
            entry.hot_heat = _count(dig(item, "hot"))
            yield entry
