"""`rss` sources: RSS 2.0 and Atom feeds (RSSHub routes included).

An entry that carries only a summary is completed from its linked page.
"""

from __future__ import annotations

from calendar import timegm
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import feedparser
from scrapy.http import Response, TextResponse

from crawlers.extract import extract_article, html_to_text
from crawlers.items import MentionItem
from crawlers.spiders.base import SourceSpider

# Shorter than this, an entry's content is taken for a summary and the linked page is fetched.
SUMMARY_CHARS = 120


def _first_of(entry: Any, *keys: str) -> Any:
    """The first of these fields the entry has and is not empty. `entry.get("updated")` on an
    entry without one answers `published` with a DeprecationWarning (feedparser issue 310),
    so a field is read only when the entry has it."""
    return next((entry[key] for key in keys if key in entry and entry[key]), None)


def _entry_time(entry: Any) -> datetime | None:
    parsed = _first_of(entry, "published_parsed", "updated_parsed")
    try:
        return datetime.fromtimestamp(timegm(parsed), UTC) if parsed else None
    except (ValueError, OverflowError):
        return None  # "9999-12-31T23:59:59-23:59" is past year 9999 in UTC


def _link(response: Response, entry: Any) -> str:
    """The entry's absolute link; "" for none or one that cannot be fetched ("javascript:",
    "mailto:", a malformed host), which would otherwise end the whole feed's parsing."""
    try:
        link = response.urljoin(entry["link"]) if entry.get("link") else ""
    except ValueError:
        return ""
    return link if link.startswith(("http://", "https://")) else ""


class RssSpider(SourceSpider):
    name = "rss"

    async def start(self) -> AsyncIterator[Any]:
        yield self.request(self.source.url, self.parse_feed)

    def read_feed(self, response: Response) -> Any:
        """The parsed feed, or None (with a parse error recorded) when it does not parse."""
        try:
            feed = feedparser.parse(response.body)
        except (ValueError, LookupError) as exc:
            # feedparser itself raises on a garbled XML encoding declaration
            # (encoding='\x80utf-8' → UnicodeDecodeError, '\x00' → ValueError).
            self.parse_error(response.url, f"feed does not parse: {type(exc).__name__}: {exc}")
            return None
        if feed.bozo and not feed.entries:
            self.parse_error(response.url, f"feed does not parse: {feed.get('bozo_exception')}")
            return None
        return feed

    def parse_feed(self, response: Response) -> Iterator[Any]:
        feed = self.read_feed(response)
        if feed is not None:
            yield from self.parse_entries(response, feed, feed.entries)

    def parse_entries(self, response: Response, feed: Any, entries: list[Any]) -> Iterator[Any]:
        links = {id(entry): _link(response, entry) for entry in entries}
        new = set(self.new_links(link for link in links.values() if link))
        for entry in entries:
            link = links[id(entry)]
            if link and link not in new:
                continue
            if not link:
                self.crawler.stats.inc_value("yuqing/found")
            published_at = _entry_time(entry)
            if self.is_old(published_at):
                continue
            content = entry.get("content", [{}])[0].get("value") or entry.get("summary", "")
            item = MentionItem(
                source=self.source.name,
                url=link or response.url,
                title=html_to_text(entry.get("title", "")),
                text=html_to_text(content),
                author=entry.get("author", ""),
                # An aggregator names each item's outlet (<source>, or <author> as RSSHub
                # and our demo feed do); a publisher's own feed is its outlet. A source's
                # `outlet` setting overrides both in the normalise pipeline.
                outlet=entry.get("source", {}).get("title", "")
                or entry.get("author", "")
                or feed.feed.get("title", ""),
                published=_first_of(entry, "published", "updated") or "",
                published_at=published_at,
            )
            if len(item.text) < SUMMARY_CHARS and link:
                yield self.request(link, self.parse_linked, cb_kwargs={"item": item})
            else:
                yield item

    def parse_linked(self, response: Response, item: MentionItem) -> Iterator[MentionItem]:
        if isinstance(response, TextResponse):
            found = extract_article(response, self.selectors)
            if len(found.get("text", "")) > len(item.text):
                item.text = found["text"]
            for key in ("reposts", "comments", "likes"):
                setattr(item, key, found.get(key, 0))
            item.published = item.published or found.get("published", "")
        yield item
