"""The bundled demo news world on 127.0.0.1: a news site, a forum, a self-media feed, a
Weibo-shaped JSON API (the one m.weibo.cn's pages call), a DailyHotApi-style hot list
(`/hot/weibo`, the `hot` channel by heat, which is an item's `likes`), a WeChat bridge's feed
(`/wechat/feed.xml`, summaries only, each linking to an article page shaped like
mp.weixin.qq.com's), the bureau's 通知公告 column (`/tzgg/`, a watched page) and, through
`responder.demo.mailbox`, the letters of its public mailbox (the `mailbox` channel).

Content comes from `world.yaml`; publication times are relative to when the server starts, so
the demo always looks current. Some article pages are served GBK-encoded, as many county sites
still are. The Weibo API answers every keyword with all of the world's posts (they are all
about 临江), newest first, WEIBO_PAGE_SIZE to a page.
"""

from __future__ import annotations

import json
import threading
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

import yaml
from jinja2 import Environment

from responder import clock
from responder.rendering import demo_environment

if TYPE_CHECKING:
    from responder.demo.mailbox import DemoMailbox

WORLD_FILE = Path(__file__).with_name("world.yaml")
PAGE_SIZE = 10
WEIBO_PAGE_SIZE = 10
WEIBO_API = "/api/container/getIndex"
HOT_BOARD = "/hot/weibo"
WECHAT_FEED = "/wechat/feed.xml"
NOTICES = "/tzgg/"
SUMMARY_CHARS = 40
LETTER_DOMAIN = "linjiang-demo.invalid"


@dataclass
class WorldItem:
    id: str
    channel: str
    title: str
    author: str
    outlet: str
    published: datetime
    body: str
    encoding: str = "utf-8"
    reposts: int = 0
    comments: int = 0
    likes: int = 0

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.body.split("\n\n") if p.strip()]


def load_world(now: datetime, path: Path = WORLD_FILE) -> tuple[dict[str, Any], list[WorldItem]]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = [
        WorldItem(
            id=raw["id"],
            channel=raw["channel"],
            title=raw["title"],
            author=raw["author"],
            outlet=raw["outlet"],
            published=now - timedelta(hours=raw["hours_ago"]),
            body=raw["body"],
            encoding=raw.get("encoding", "utf-8"),
            reposts=raw.get("reposts", 0),
            comments=raw.get("comments", 0),
            likes=raw.get("likes", 0),
        )
        for raw in doc["items"]
    ]
    items.sort(key=lambda i: i.published, reverse=True)
    return doc, items


def forum_time(published: datetime, now: datetime) -> str:
    """Forum-style times: "3小时前", "昨天 12:30", else the full date."""
    age = now - published
    if age < timedelta(hours=1):
        return f"{max(int(age.total_seconds() // 60), 1)}分钟前"
    if age < timedelta(hours=24) and published.date() == now.date():
        return f"{int(age.total_seconds() // 3600)}小时前"
    if published.date() == (now - timedelta(days=1)).date():
        return f"昨天 {published:%H:%M}"
    return f"{published:%Y-%m-%d %H:%M}"


def weibo_post(item: WorldItem) -> dict[str, Any]:
    """A world item as the `mblog` object of Weibo's mobile API."""
    screen_name = item.outlet.removeprefix("微博 @").strip()
    return {
        "id": str(4_900_000_000_000_000 + int(item.id[1:])),
        "bid": item.id,
        "created_at": item.published.strftime("%a %b %d %H:%M:%S %z %Y"),
        "text": "<br />".join(item.paragraphs),
        "isLongText": False,
        "source": "微博 weibo.com",
        "user": {"id": zlib.crc32(screen_name.encode("utf-8")), "screen_name": screen_name},
        "reposts_count": item.reposts,
        "comments_count": item.comments,
        "attitudes_count": item.likes,
    }


def letter(item: WorldItem) -> bytes:
    """A `mailbox` item as the letter the office's mailbox received: plain text, the subject
    RFC 2047-encoded in the item's encoding (GB2312 letters come from older mail clients)."""
    message = MIMEText(item.body, "plain", item.encoding)
    message["From"] = formataddr((item.author, f"{item.id}@{LETTER_DOMAIN}"), item.encoding)
    message["To"] = formataddr((item.outlet, f"jzxx@{LETTER_DOMAIN}"), "utf-8")
    message["Subject"] = Header(item.title, item.encoding).encode()
    message["Date"] = format_datetime(item.published)
    message["Message-ID"] = f"<{item.id}@{LETTER_DOMAIN}>"
    return message.as_bytes()


class DemoWorld:
    """Renders every page once at start; the handler only looks them up.

    The 通知公告 column shows every notice; `show_earlier_notices` turns it back to before
    the notices marked `new`, so the demo can read it once as the baseline a watched page needs
    before a change is news."""

    def __init__(self, tz: ZoneInfo, now: datetime | None = None) -> None:
        self.now = (now or clock.now()).astimezone(tz)
        self.doc, self.items = load_world(self.now)
        env = demo_environment()
        env.filters["forum_time"] = lambda t: forum_time(t, self.now)
        env.filters["rfc822"] = format_datetime
        env.filters["summary"] = lambda s: s.replace("\n", "")[:SUMMARY_CHARS] + "……"
        self.pages: dict[str, tuple[str, bytes]] = {}
        self._render(env)
        self._notices = {earlier: self._render_notices(env, earlier) for earlier in (False, True)}
        self.show_earlier_notices(False)

    def show_earlier_notices(self, earlier: bool) -> None:
        self.pages[NOTICES] = self._notices[earlier]

    def letters(self) -> list[tuple[datetime, bytes]]:
        """The public mailbox's letters with the time each arrived, oldest first."""
        return [(item.published, letter(item)) for item in reversed(self._channel("mailbox"))]

    def _render_notices(self, env: Environment, earlier: bool) -> tuple[str, bytes]:
        notices = [
            {"title": n["title"], "date": self.now - timedelta(hours=n["hours_ago"])}
            for n in self.doc["notices"]
            if not (earlier and n.get("new"))
        ]
        html = env.get_template("notices.html").render(
            site=self.doc["sites"]["notices"], notices=notices
        )
        return "text/html; charset=utf-8", html.encode("utf-8")

    def _render_wechat(self, env: Environment) -> None:
        """A bridge's feed as wechat2rss serves one: summaries, no dates; the article page has
        the text in `#js_content` and the time only in its script (`var ct`)."""
        articles = self._channel("wechat")
        site = self.doc["sites"]["wechat"]
        self._add(
            WECHAT_FEED,
            env.get_template("wechat_feed.xml").render(site=site, items=articles, now=self.now),
            kind="application/rss+xml",
        )
        for item in articles:
            self._add(
                f"/wechat/s/{item.id}.html",
                env.get_template("wechat_article.html").render(
                    item=item, ct=int(item.published.timestamp())
                ),
            )

    def _channel(self, name: str) -> list[WorldItem]:
        return [i for i in self.items if i.channel == name]

    def _add(self, path: str, html: str, encoding: str = "utf-8", kind: str = "text/html") -> None:
        self.pages[path] = (f"{kind}; charset={encoding}", html.encode(encoding))

    def _render_weibo(self) -> None:
        posts = self._channel("weibo")
        pages = max(1, -(-len(posts) // WEIBO_PAGE_SIZE))
        for page in range(1, pages + 2):
            chunk = posts[(page - 1) * WEIBO_PAGE_SIZE : page * WEIBO_PAGE_SIZE]
            if chunk:
                answer: dict[str, Any] = {
                    "ok": 1,
                    "data": {"cards": [{"card_type": 9, "mblog": weibo_post(p)} for p in chunk]},
                }
            else:
                answer = {"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}}
            self._add(
                f"{WEIBO_API}#{page}",
                json.dumps(answer, ensure_ascii=False),
                kind="application/json",
            )

    def _render_hot(self) -> None:
        """The `hot` channel as DailyHotApi answers a board: hottest first, linking to the
        platform's search for the topic, as the real service does."""
        entries = sorted(self._channel("hot"), key=lambda i: i.likes, reverse=True)
        answer = {
            "code": 200,
            "name": "weibo",
            "title": "微博",
            "type": "热搜榜",
            "total": len(entries),
            "data": [
                {
                    "id": item.id,
                    "title": item.title,
                    "desc": item.body.strip(),
                    "hot": item.likes,
                    "timestamp": int(item.published.timestamp() * 1000),
                    "url": f"https://s.weibo.com/weibo?q=%23{quote(item.title)}%23",
                }
                for item in entries
            ],
        }
        self._add(HOT_BOARD, json.dumps(answer, ensure_ascii=False), kind="application/json")

    def lookup(self, path: str) -> tuple[str, bytes] | None:
        """The page for a request path; Weibo API pages are chosen by their `page` parameter."""
        parts = urlsplit(path)
        if parts.path == WEIBO_API:
            page = parse_qs(parts.query).get("page", ["1"])[0]
            return self.pages.get(f"{WEIBO_API}#{page}")
        return self.pages.get(parts.path)

    def _render(self, env: Environment) -> None:
        sites = self.doc["sites"]
        for channel, prefix, list_tpl, page_tpl, page_name in (
            ("news", "/news/", "news_list.html", "news_article.html", "{id}.html"),
            ("forum", "/forum/", "forum_list.html", "forum_thread.html", "thread-{id}.html"),
        ):
            items = self._channel(channel)
            pages = max(1, -(-len(items) // PAGE_SIZE))
            for page in range(1, pages + 1):
                chunk = items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
                html = env.get_template(list_tpl).render(
                    site=sites[channel], items=chunk, page=page, pages=pages
                )
                self._add(prefix if page == 1 else f"{prefix}list_{page}.html", html)
            for item in items:
                html = env.get_template(page_tpl).render(
                    site=sites[channel], item=item, encoding=item.encoding
                )
                self._add(prefix + page_name.format(id=item.id), html, item.encoding)
        feed = self._channel("feed")
        self._add(
            "/feed/rss.xml",
            env.get_template("rss.xml").render(site=sites["feed"], items=feed, now=self.now),
            kind="application/rss+xml",
        )
        self._render_weibo()
        self._render_hot()
        self._render_wechat(env)
        for item in feed:
            self._add(
                f"/feed/post/{item.id}.html",
                env.get_template("feed_post.html").render(site=sites["feed"], item=item),
            )
        self._add("/robots.txt", "User-agent: *\nAllow: /\n", kind="text/plain")
        self._add("/", env.get_template("index.html").render(sites=sites))


class DemoWorldServer:
    """Serves a `DemoWorld` on 127.0.0.1 from a background thread, and its letters from an IMAP
    server on `imap_port` unless that is None (0: any free port)."""

    def __init__(
        self,
        world: DemoWorld,
        port: int = 0,
        host: str = "127.0.0.1",
        imap_port: int | None = None,
    ) -> None:
        self.world = world
        self.mailbox: DemoMailbox | None = None
        if imap_port is not None:
            # Lazy: the IMAP server (pymap) loads only where the demo's mailbox is served.
            from responder.demo.mailbox import DemoMailbox

            self.mailbox = DemoMailbox(world.letters(), imap_port, host)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                found = world.lookup(self.path)
                if found is None:
                    self.send_error(404)
                    return
                content_type, body = found
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> DemoWorldServer:
        if self.mailbox is not None:
            self.mailbox.start()
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.mailbox is not None:
            self.mailbox.stop()
