"""`weibo` sources: posts found by keyword search and posts of given users, read through the
JSON API that the mobile site m.weibo.cn calls itself.

    - name: 微博
      kind: weibo
      keywords: [临江县统计局, 临江 普查]
      users: ["1234567890"]        # numeric user ids, the number in weibo.com/u/<id>
      max_pages: 3
      obey_robots: false           # m.weibo.cn's robots.txt disallows everything; see below

What it reads under the source url (default https://m.weibo.cn):
  keyword search   /api/container/getIndex?containerid=100103type%3D1%26q%3D<keyword>
                   &page_type=searchall&page=<n>
  user timeline    /api/container/getIndex?type=uid&value=<uid>&containerid=107603<uid>&page=<n>
  long text        /statuses/extend?id=<post id>   (posts marked isLongText)

Every post (`mblog`, also inside `card_group`s) becomes a mention:
  - url: https://m.weibo.cn/detail/<id>, whatever API base the source uses. The id is the
    post's identity, so a post found by a keyword and in a timeline (or through a mirror) is
    one mention, and the link officers click opens Weibo itself.
  - title empty: posts have none; pages show the text's beginning instead, and a title made
    of the first sentence would count that sentence twice for classifier and exports.
  - text: the post's HTML as text, emoticon images as their codes ([泪]); a repost is the
    reposter's comment, then "//转发 @original author: original text".
  - engagement from reposts_count, comments_count, attitudes_count; Weibo rounds large ones
    to strings such as "1万+", read as their lower bound (10000).
Pictures are not read.

Paging: page n+1 only while page n listed posts not stored yet and not all older than the
look-back window, up to max_pages. An answer `ok: 0` saying there is no more content ends the
listing; any other `ok` other than 1, HTTP 418 (Weibo's rate limit) and non-JSON answers are
recorded as errors of the run, with Weibo's message.

Cookie: `crawl.weibo_cookie` (better YUQING_CRAWL__WEIBO_COOKIE), when set, goes out as the
Cookie header of every API request (Scrapy's cookie handling is off, so the header is sent as
given). It is never logged.

robots.txt: a weibo source obeys robots.txt like any other unless it says
`obey_robots: false`. m.weibo.cn disallows everything, so with the default the run fails with
"Forbidden by robots.txt". Not obeying a site's robots.txt is the office's decision, written
next to the source it concerns, not one the code takes for it; the API is what the site's own
pages call, and the office reads only the keywords and users it configured.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from scrapy.http import Response
from twisted.python.failure import Failure

from crawlers.extract import html_to_text
from crawlers.items import MentionItem
from crawlers.spiders.base import SourceSpider
from responder.intake.handover import parse_count, parse_time

log = logging.getLogger(__name__)

# Public post URLs, independent of the API base a source is configured with.
PUBLIC_POST_URL = "https://m.weibo.cn/detail/{id}"
OUTLET = "微博"
# Answers the callbacks read themselves, so the run record gets a message that says why.
HANDLED_STATUSES = [403, 418, 432]
_STATUS_HINTS = {
    403: "forbidden (the cookie may have expired)",
    418: "Weibo is limiting requests",
    432: "Weibo is limiting requests",
}
# `ok: 0` with one of these messages is the end of a listing, not a failure.
_END_MESSAGES = ("还没有内容", "没有更多", "暂无")
_OK_HINTS = {-100: "login required (set crawl.weibo_cookie)"}

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
# "Sat Jan 02 08:00:00 +0800 2024", read without strptime's locale-dependent %a/%b.
_API_TIME = re.compile(
    r"[A-Za-z]{3} (?P<mon>[A-Za-z]{3}) (?P<d>\d{1,2}) (?P<H>\d{2}):(?P<M>\d{2}):(?P<S>\d{2}) "
    r"(?P<sign>[+-])(?P<oh>\d{2})(?P<om>\d{2}) (?P<y>\d{4})"
)
_IMG_ALT = re.compile(r"<img\b[^>]*?\balt\s*=\s*([\"'])(.*?)\1[^>]*>", re.I | re.S)
# The "全文" link that ends a truncated long post.
_FULL_TEXT_LINK = re.compile(r"<a\b[^>]*>\s*全文\s*</a>", re.I)


def count(value: Any) -> int:
    """An engagement count: 123, "123", "1万+", "1.2万", "100万+", "3亿"; unreadable is 0."""
    try:
        return parse_count(value)
    except ValueError:
        return 0


def created_at(raw: str, tz: Any) -> datetime | None:
    """A post's time: the API's "Sat Jan 02 08:00:00 +0800 2024" or the mobile site's
    "刚刚", "5分钟前", "昨天 12:30", "11-20", "2023-11-20" (read in the office's zone)."""
    m = _API_TIME.search(raw or "")
    if m and m["mon"] in _MONTHS:
        offset = timedelta(hours=int(m["oh"]), minutes=int(m["om"]))
        zone = timezone(offset if m["sign"] == "+" else -offset)
        try:
            return datetime(
                int(m["y"]),
                _MONTHS[m["mon"]],
                int(m["d"]),
                int(m["H"]),
                int(m["M"]),
                int(m["S"]),
                tzinfo=zone,
            )
        except ValueError:
            return None
    return parse_time(raw or "", tz)


def post_text(html: str) -> str:
    """A post's text: emoticon images as their alt codes, the trailing 全文 link dropped."""
    html = _IMG_ALT.sub(lambda m: m.group(2), html or "")
    return html_to_text(_FULL_TEXT_LINK.sub("", html))


def mblogs(cards: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """The posts of a card list, those inside card groups included."""
    for card in cards:
        if not isinstance(card, dict):
            continue
        if isinstance(card.get("mblog"), dict):
            yield card["mblog"]
        yield from mblogs(card.get("card_group") or [])


def post_id(mblog: dict[str, Any]) -> str:
    return str(mblog.get("id") or mblog.get("mid") or "")


class WeiboSpider(SourceSpider):
    name = "weibo"

    @property
    def base(self) -> str:
        return self.source.url.rstrip("/")

    async def start(self) -> AsyncIterator[Any]:
        obeys = self.source.obey_robots
        if obeys or (obeys is None and self.crawler.settings.getbool("ROBOTSTXT_OBEY")):
            log.warning(
                "source %s obeys robots.txt, which m.weibo.cn disallows entirely; "
                "set obey_robots: false on it to read Weibo's API",
                self.source.name,
            )
        for keyword in self.source.keywords:
            yield self.listing(("keyword", keyword), 1)
        for uid in self.source.users:
            yield self.listing(("user", uid), 1)

    def listing_url(self, query: tuple[str, str], page: int) -> str:
        what, value = query
        if what == "keyword":
            # The container id is itself a query string, encoded once as a whole, as the
            # mobile site does: 100103type%3D1%26q%3D%E4%B8%B4…
            container = quote(f"100103type=1&q={value}", safe="")
            return (
                f"{self.base}/api/container/getIndex?containerid={container}"
                f"&page_type=searchall&page={page}"
            )
        uid = quote(value, safe="")
        return (
            f"{self.base}/api/container/getIndex?type=uid&value={uid}"
            f"&containerid=107603{uid}&page={page}"
        )

    def headers(self, referer: str) -> dict[str, str]:
        # What the mobile site's own pages send with their API calls.
        headers = {
            "Accept": "application/json, text/plain, */*",
            "X-Requested-With": "XMLHttpRequest",
            "MWeibo-Pwa": "1",
            "Referer": referer,
        }
        cookie = self.yuqing.crawl.weibo_cookie.strip()
        if cookie:
            headers["Cookie"] = cookie
        return headers

    def listing(self, query: tuple[str, str], page: int) -> Any:
        what, value = query
        referer = (
            f"{self.base}/search?containerid={quote(f'100103type=1&q={value}', safe='')}"
            if what == "keyword"
            else f"{self.base}/u/{quote(value, safe='')}"
        )
        return self.request(
            self.listing_url(query, page),
            self.parse_listing,
            cb_kwargs={"query": query, "page": page},
            headers=self.headers(referer),
            meta={"handle_httpstatus_list": HANDLED_STATUSES},
        )

    def payload(self, response: Response) -> dict[str, Any] | None:
        """The answer's JSON object; None (the problem recorded) for an error status or an
        answer that is not JSON, such as a login page."""
        if response.status != 200:
            hint = _STATUS_HINTS.get(response.status, "unexpected answer")
            self.parse_error(response.url, f"HTTP {response.status}: {hint}")
            return None
        try:
            payload = json.loads(response.body)
        except ValueError:
            self.parse_error(response.url, "answer is not JSON (a login or captcha page?)")
            return None
        if not isinstance(payload, dict):
            self.parse_error(response.url, "answer is not a JSON object")
            return None
        return payload

    @staticmethod
    def refused(payload: dict[str, Any]) -> str:
        ok = payload.get("ok")
        hint = _OK_HINTS.get(ok, "no message") if isinstance(ok, int) else "no message"
        return f"Weibo answered ok={ok}: {payload.get('msg') or hint}"

    def parse_listing(self, response: Response, query: tuple[str, str], page: int) -> Iterator[Any]:
        payload = self.payload(response)
        if payload is None:
            return
        if payload.get("ok") != 1:
            message = str(payload.get("msg") or "")
            if not any(end in message for end in _END_MESSAGES):
                self.parse_error(response.url, self.refused(payload))
            return
        data = payload.get("data")
        if not isinstance(data, dict):
            data = {}
        posts: dict[str, dict[str, Any]] = {}
        for mblog in mblogs(data.get("cards") or []):
            if post_id(mblog):
                posts.setdefault(PUBLIC_POST_URL.format(id=post_id(mblog)), mblog)
        times = {
            url: created_at(str(mblog.get("created_at") or ""), self.yuqing.tz)
            for url, mblog in posts.items()
        }
        fresh = [url for url in self.new_links(posts) if not self.is_old(times[url])]
        for url in fresh:
            yield from self.complete(posts[url], {}, self.long_texts(posts[url]))
        if page < self.source.max_pages and self.keep_paging(
            len(posts), len(fresh), list(times.values())
        ):
            yield self.listing(query, page + 1)

    @staticmethod
    def long_texts(mblog: dict[str, Any]) -> list[tuple[str, str]]:
        """(role, id) of the texts Weibo sent truncated: the post's own and a repost's
        original."""
        pending = []
        if mblog.get("isLongText"):
            pending.append(("own", post_id(mblog)))
        original = mblog.get("retweeted_status")
        if isinstance(original, dict) and original.get("isLongText") and post_id(original):
            pending.append(("original", post_id(original)))
        return pending

    def complete(
        self, mblog: dict[str, Any], texts: dict[str, str], pending: list[tuple[str, str]]
    ) -> Iterator[Any]:
        """The post's item once every long text is in; meanwhile the next long-text request."""
        if not pending:
            yield self.item(mblog, texts)
            return
        role, pid = pending[0]
        request = self.request(
            f"{self.base}/statuses/extend?id={quote(pid, safe='')}",
            self.parse_long_text,
            cb_kwargs={"mblog": mblog, "texts": texts, "pending": pending},
            headers=self.headers(PUBLIC_POST_URL.format(id=pid)),
            meta={"handle_httpstatus_list": HANDLED_STATUSES},
        )
        # A long text that cannot be had still leaves the post's truncated text worth storing.
        yield request.replace(errback=self.long_text_failed)

    def parse_long_text(
        self,
        response: Response,
        mblog: dict[str, Any],
        texts: dict[str, str],
        pending: list[tuple[str, str]],
    ) -> Iterator[Any]:
        payload = self.payload(response)
        if payload is not None:
            data = payload.get("data")
            if not isinstance(data, dict):
                data = {}
            if payload.get("ok") == 1 and data.get("longTextContent"):
                texts = {**texts, pending[0][0]: str(data["longTextContent"])}
            else:
                self.parse_error(response.url, self.refused(payload))
        yield from self.complete(mblog, texts, pending[1:])

    def long_text_failed(self, failure: Failure) -> Iterator[Any]:
        self.on_error(failure)
        kwargs = failure.request.cb_kwargs  # type: ignore[attr-defined]
        yield from self.complete(kwargs["mblog"], kwargs["texts"], kwargs["pending"][1:])

    def item(self, mblog: dict[str, Any], texts: dict[str, str]) -> MentionItem:
        text = post_text(texts.get("own") or str(mblog.get("text") or ""))
        original = mblog.get("retweeted_status")
        if isinstance(original, dict):
            who = (original.get("user") or {}).get("screen_name") or ""
            quoted = post_text(texts.get("original") or str(original.get("text") or ""))
            text = f"{text}\n//转发 @{who}: {quoted}" if who else f"{text}\n//转发: {quoted}"
        raw_time = str(mblog.get("created_at") or "")
        return MentionItem(
            source=self.source.name,
            url=PUBLIC_POST_URL.format(id=post_id(mblog)),
            title="",
            text=text,
            author=str((mblog.get("user") or {}).get("screen_name") or ""),
            outlet=OUTLET,
            published=raw_time,
            published_at=created_at(raw_time, self.yuqing.tz),
            reposts=count(mblog.get("reposts_count")),
            comments=count(mblog.get("comments_count")),
            likes=count(mblog.get("attitudes_count")),
        )
