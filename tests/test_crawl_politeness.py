"""Politeness: a crawl never has more requests in flight to one site than
`crawl.concurrent_per_domain`, also when several sources live on that site."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from responder.db import Database
from responder.models import CrawlRun
from responder.settings import load_settings
from tests.crawling import LoopbackSite, run_crawl

PAGES = Path(__file__).parent / "data" / "pages" / "crawl"
LIMIT = 2
ANSWER_SECONDS = 0.3
CRAWL_ENV = {
    "YUQING_CRAWL__CONCURRENT_PER_DOMAIN": str(LIMIT),
    "YUQING_CRAWL__AUTOTHROTTLE": "false",
    "YUQING_CRAWL__RETRIES": "0",
    "YUQING_CRAWL__DOWNLOAD_TIMEOUT": "20",
}


class InFlight:
    """Counts the requests the site is answering at once; `most` is the highest count seen."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0

    def answer(self, body: bytes) -> object:
        def handler(_path: str, _query: object) -> tuple[int, dict[str, str], bytes]:
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
            try:
                time.sleep(ANSWER_SECONDS)
            finally:
                with self.lock:
                    self.now -= 1
            return 200, {"Content-Type": "text/html; charset=utf-8"}, body

        return handler


def article(title: str) -> bytes:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d")
    text = (PAGES / "news_article.html").read_text(encoding="utf-8")
    body = f"<p>{title}。临江县统计局有关负责人表示，将依法依规做好统计工作。</p>"
    values = {"title": title, "body": body, "published": f"{today} 09:00"}
    for key, value in {**values, "outlet": "临江新闻网", "author": "王芳"}.items():
        text = text.replace("{{" + key + "}}", value)
    return text.encode()


def section(site: LoopbackSite, flight: InFlight, prefix: str, count: int) -> None:
    """A list page at `prefix`list.html linking `count` slow articles, every page counted."""
    paths = [f"{prefix}2026/{7000 + n}.html" for n in range(count)]
    rows = "".join(
        f'<li><a href="{p}">临江县统计局{prefix}第{n}号公告</a></li>' for n, p in enumerate(paths)
    )
    listing = f'<html><body><ul class="news-list">{rows}</ul></body></html>'.encode()
    site.route(f"{prefix}list.html", handler=flight.answer(listing))
    for n, path in enumerate(paths):
        site.route(path, handler=flight.answer(article(f"临江县统计局{prefix}第{n}号公告")))


@pytest.mark.slow
def test_requests_in_flight_to_one_site_never_exceed_the_per_domain_limit(
    tmp_path: Path, data_dir: Path
) -> None:
    flight = InFlight()
    site = LoopbackSite().start()
    try:
        # Two sources on one site (two sections of a county portal), crawled by one process.
        section(site, flight, "/news/", 10)
        section(site, flight, "/notice/", 10)
        sources = [
            {"name": "新闻", "kind": "site", "url": site.url("/news/list.html")},
            {"name": "公告", "kind": "site", "url": site.url("/notice/list.html")},
        ]
        done = run_crawl(tmp_path / "config", sources, env=CRAWL_ENV, timeout=90)
    finally:
        site.stop()

    assert done.returncode == 0, done.stderr[-3000:]
    database = Database(load_settings(env={"YUQING_DATA": str(data_dir)}), migrate=False)
    try:
        with database.sessions() as session:
            runs = [(r.status, r.stored) for r in session.scalars(select(CrawlRun))]
    finally:
        database.dispose()
    assert runs == [("ok", 10), ("ok", 10)]
    # Parallel up to the limit (so the count measures something), never beyond it.
    assert flight.most == LIMIT
