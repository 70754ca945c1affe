"""`wechat` sources: WeChat public accounts (微信公众号) read through the bridge an office runs
(an RSSHub route, wechat2rss, we-mp-rss and the like), which turn an account into a feed.

A bridge is a feed with particulars, handled here on top of `rss`:
- its items often carry only a summary, so the article is fetched from mp.weixin.qq.com, whose
  text is in `#js_content` (hidden until the page's script runs, but present), the account in
  `#js_name` and the publication time only in a script variable (`var ct = "1715590000"`,
  `create_time`);
- a bridge logs in to WeChat with a scanned QR code that expires. Then it either publishes an
  error item ("登录失效，请重新扫码") or simply stops publishing. Both fail the run with a
  reason the duty officer can act on, so source health alerts after `alert_after_runs`,
  instead of the source looking merely quiet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import Response, TextResponse

from crawlers.extract import extract_article
from crawlers.items import MentionItem
from crawlers.spiders.rss import RssSpider, _entry_time, _link
from responder import clock

# What an article page on mp.weixin.qq.com holds where; a source's own selectors win.
ARTICLE_SELECTORS = {
    "title": "#activity-name::text",
    "body": "#js_content",
    "author": "#js_author_name::text",
    "outlet": "#js_name::text",
}
# The publication time, as the page's script sets it (seconds since the epoch).
_SCRIPT_TIME = re.compile(
    r"""(?:\bvar\s+ct\s*=|\bcreate_time\s*[:=]|\bct\s*:)\s*(?:JsDecode\()?\s*['"]?(\d{10})\b"""
)
# The titles bridges give the item they publish instead of articles when their WeChat login
# has expired (wechat2rss, we-mp-rss, RSSHub's wechat routes and their forks).
_LOGIN_EXPIRED = re.compile(
    r"(登录|登陆|授权|cookie|token|会话|session).{0,6}(失效|过期|expired|invalid)"
    r"|请?重新(扫码|登录|登陆|授权)|扫码登录|login\s+(expired|required)",
    re.I,
)
WECHAT_HOST = "mp.weixin.qq.com"


def script_time(html: str) -> datetime | None:
    """The publication time an article page's script carries, or None."""
    match = _SCRIPT_TIME.search(html)
    return datetime.fromtimestamp(int(match.group(1)), UTC) if match else None


def is_error_item(title: str, link: str) -> bool:
    """A bridge's "log in again" notice: such a title on an item that is not an article."""
    return bool(_LOGIN_EXPIRED.search(title)) and urlsplit(link).hostname != WECHAT_HOST


class WechatSpider(RssSpider):
    name = "wechat"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.selectors = {**ARTICLE_SELECTORS, **self.source.selectors}

    def parse_feed(self, response: Response) -> Iterator[Any]:
        feed = self.read_feed(response)
        if feed is None:
            return
        articles = []
        for entry in feed.entries:
            title = str(entry.get("title", "")).strip()
            if is_error_item(title, _link(response, entry)):
                self.source_failing(
                    response.url,
                    f"微信公众号桥接服务登录已失效（订阅源返回「{title}」），"
                    "请在桥接服务中重新扫码登录",
                )
            else:
                articles.append(entry)
        self.check_fresh(response.url, articles)
        yield from self.parse_entries(response, feed, articles)

    def check_fresh(self, url: str, entries: list[Any]) -> None:
        """A bridge that published nothing for `stale_hours` has most likely lost its login."""
        hours = self.source.stale_hours
        times = [t for t in map(_entry_time, entries) if t is not None]
        if not entries:
            self.source_failing(url, "微信公众号订阅源没有任何文章，桥接服务的登录可能已失效")
        elif times and max(times) < clock.now() - timedelta(hours=hours):
            newest = max(times).astimezone(self.yuqing.tz).strftime("%Y-%m-%d %H:%M")
            self.source_failing(
                url,
                f"微信公众号订阅源已超过 {hours:g} 小时没有新文章（最新一篇发布于 {newest}），"
                "桥接服务的登录可能已失效，请检查并重新扫码登录",
            )

    def parse_linked(self, response: Response, item: MentionItem) -> Iterator[MentionItem]:
        if not isinstance(response, TextResponse):
            yield item
            return
        found = extract_article(response, self.selectors)
        if len(found.get("text", "")) > len(item.text):
            item.text = found["text"]
        item.title = item.title or found.get("title", "")
        # The account publishing the article is its outlet (the feed may name the writer).
        if found.get("outlet"):
            item.outlet = found["outlet"]
        if item.published_at is None and not item.published:
            published = script_time(response.text)
            if published is not None:
                item.published_at = published
            else:
                item.published = found.get("published", "")
        yield item
