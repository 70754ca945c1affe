"""The sources pages: a crawl of a loopback site sets pages aside for each reason (not
relevant, too old, a duplicate, no text), and the source's page shows every one of them with
its reason in Chinese; a page with no text is read again by the next crawl."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from responder.db import Database
from responder.models import Mention, SeenPage, Source
from responder.settings import Settings, load_settings
from responder.web import create_app
from tests.crawling import LoopbackSite, run_crawl
from tests.webclient import client_as

SH = ZoneInfo("Asia/Shanghai")
CRAWL_ENV = {"YUQING_CRAWL__AUTOTHROTTLE": "false", "YUQING_CRAWL__RETRIES": "0"}
STORY = (
    "临江县统计局今天发布前三季度全县经济运行情况，地区生产总值同比增长百分之五点二，"
    "规模以上工业增加值稳步回升，社会消费品零售总额保持增长。"
)
PAGES = {
    "/news/1001.html": ("临江县统计局发布前三季度经济运行情况", STORY, 0),
    "/news/1002.html": (
        "端午节龙舟赛 <精彩> & 热闹",
        "城关镇今天举行端午龙舟赛，数十支队伍参赛。" * 4,
        0,
    ),
    "/news/1003.html": (
        "县统计局召开去年统计工作会议",
        "县统计局召开统计工作会议，部署普查。" * 4,
        400,
    ),
    "/news/1004.html": ("临江县统计局发布前三季度经济运行情况", STORY, 0),
    "/news/1005.html": ("临江县统计局视频：普查员入户登记", "", 0),
}
REASONS = {
    "/news/1002.html": "不相关",
    "/news/1003.html": "过旧",
    "/news/1005.html": "无正文",
}


def article(title: str, body: str, published: datetime) -> str:
    if not body:  # a page its scripts build in the browser: nothing to read without them
        return (
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}'
            '</title></head><body><div id="app"></div><script src="/app.js"></script>'
            "</body></html>"
        )
    paragraph = f"<p>{html.escape(body)}</p>"
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}_临江新闻网</title></head><body>"
        '<div class="nav"><a href="/">首页</a> <a href="/news/">本地新闻</a></div>'
        f"<h1>{html.escape(title)}</h1>"
        f'<div class="meta">发布时间：{published:%Y-%m-%d %H:%M}　来源：临江新闻网</div>'
        f'<div class="article-content">{paragraph}</div></body></html>'
    )


def listing() -> str:
    links = "".join(f'<li><a href="{path}">{t}</a></li>' for path, (t, _, _) in PAGES.items())
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>本地新闻</title></head>'
        f'<body><ul class="news-list">{links}</ul></body></html>'
    )


@dataclass
class World:
    site: LoopbackSite
    config: Path
    settings: Settings
    db: Database


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("sources")
    env = {"YUQING_DATA": str(root / "data"), **CRAWL_ENV}
    site = LoopbackSite().start()
    now = datetime.now(SH) - timedelta(hours=1)
    for path, (title, body, days_ago) in PAGES.items():
        site.page(path, article(title, body, now - timedelta(days=days_ago)))
    site.page("/news/", listing())
    config = root / "config"
    sources = [{"name": "临江新闻网", "kind": "site", "url": site.url("/news/")}]
    db: Database | None = None
    try:
        done = run_crawl(config, sources, env=env)
        assert done.returncode == 0, done.stderr[-3000:]
        settings = load_settings(config, env=env)
        db = Database(settings, migrate=False)
        yield World(site, config, settings, db)
    finally:
        if db is not None:
            db.dispose()
        site.stop()


def source_id(world: World) -> int:
    with world.db.sessions() as session:
        found = session.scalar(select(Source.id).where(Source.name == "临江新闻网"))
    assert found is not None
    return found


def rows_of(page: str) -> list[str]:
    return re.findall(r"<tr>.*?</tr>", page, flags=re.S)


def test_every_page_set_aside_is_recorded_with_its_reason_title_and_url(world: World) -> None:
    with world.db.sessions() as session:
        seen = {urlpath(p.url): (p.outcome, p.title) for p in session.scalars(select(SeenPage))}
        stored = {urlpath(m.url) for m in session.scalars(select(Mention))}
    assert seen["/news/1002.html"] == ("irrelevant", "端午节龙舟赛 <精彩> & 热闹")
    assert seen["/news/1003.html"] == ("old", "县统计局召开去年统计工作会议")
    assert seen["/news/1005.html"] == ("empty", "临江县统计局视频：普查员入户登记")
    # The two copies of one story: whichever came second is the duplicate.
    copies = {"/news/1001.html", "/news/1004.html"}
    assert len(stored & copies) == 1
    (duplicate,) = copies - stored
    assert seen[duplicate] == ("duplicate", "临江县统计局发布前三季度经济运行情况")


def urlpath(url: str | None) -> str:
    assert url is not None
    return "/" + url.split("/", 3)[3]


def test_the_source_page_shows_each_page_set_aside_with_its_reason_in_chinese(
    world: World,
) -> None:
    client = client_as(world.settings, world.db, role="duty")
    page = client.get(f"/sources/{source_id(world)}")
    assert page.status_code == 200
    rows = rows_of(page.text)
    reasons = dict(REASONS)
    with world.db.sessions() as session:
        stored = {urlpath(m.url) for m in session.scalars(select(Mention))}
    (duplicate,) = {"/news/1001.html", "/news/1004.html"} - stored
    reasons[duplicate] = "重复"
    for path, reason in reasons.items():
        (row,) = [r for r in rows if world.site.url(path) in r]
        assert f">{reason}</span>" in row
        assert html.escape(PAGES[path][0], quote=False) in row
    # Titles are the page's own text, escaped: markup in one is shown, never run.
    assert "端午节龙舟赛 &lt;精彩&gt; &amp; 热闹" in page.text
    assert "<精彩>" not in page.text
    # The crawl run is listed with what it found and stored.
    assert "正常" in page.text


def test_the_trail_filters_by_reason_and_refuses_an_unknown_one(world: World) -> None:
    client = client_as(world.settings, world.db, role="press")
    only_old = client.get(f"/sources/{source_id(world)}?outcome=old").text
    assert world.site.url("/news/1003.html") in only_old
    assert world.site.url("/news/1002.html") not in only_old
    assert client.get(f"/sources/{source_id(world)}?outcome=nope").status_code == 400
    assert client.get(f"/sources/{source_id(world)}?page=0").status_code == 400
    assert client.get("/sources/999999").status_code == 404


def test_sources_are_listed_and_linked_for_any_logged_in_user(world: World) -> None:
    client = client_as(world.settings, world.db, role="leader", name="leader-sources")
    listed = client.get("/sources").text
    assert f'href="/sources/{source_id(world)}"' in listed
    stranger = TestClient(create_app(world.settings, world.db))
    refused = stranger.get(f"/sources/{source_id(world)}", follow_redirects=False)
    assert refused.status_code == 303
    assert refused.headers["location"].startswith("/login")


def test_a_page_with_no_text_is_read_again_and_leaves_the_trail_once_stored(
    world: World,
) -> None:
    site = world.site
    site.reset_log()
    title = PAGES["/news/1005.html"][0]
    site.page("/news/1005.html", article(title, STORY + "普查员将持证入户。", datetime.now(SH)))
    env = {"YUQING_DATA": str(world.settings.data_dir), **CRAWL_ENV}
    done = run_crawl(world.config, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert site.hits("/news/1005.html") == 1
    assert site.hits("/news/1002.html") == site.hits("/news/1003.html") == 0
    with world.db.sessions() as session:
        stored = {urlpath(m.url) for m in session.scalars(select(Mention))}
        outcomes = {urlpath(p.url): p.outcome for p in session.scalars(select(SeenPage))}
    assert "/news/1005.html" in stored
    assert "/news/1005.html" not in outcomes
