"""`wechat` sources: a WeChat bridge's feeds (wechat2rss / RSSHub style) and article pages shaped
like mp.weixin.qq.com's, served on loopback and crawled as `yuqing crawl` crawls them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from crawlers.spiders.wechat import is_error_item, script_time
from responder import clock
from tests.crawling import CrawlState, LoopbackSite, crawl_state, run_crawl, write_sources

ENV = {"YUQING_CRAWL__DOWNLOAD_TIMEOUT": "5", "YUQING_CRAWL__RETRIES": "0"}


def feed(title: str, items: list[dict[str, str]]) -> str:
    entries = "".join(
        "<item><title>{title}</title><link>{link}</link>{date}"
        "<description><![CDATA[{summary}]]></description></item>".format(
            title=item["title"],
            link=item["link"],
            summary=item.get("summary", ""),
            date=f"<pubDate>{item['date']}</pubDate>" if item.get("date") else "",
        )
        for item in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://mp.weixin.qq.com</link>"
        f"<description>{title}</description>{entries}</channel></rss>"
    )


def article(title: str, account: str, body: str, created: datetime) -> str:
    # As mp.weixin.qq.com serves it: the text hidden until the script runs, the time only in
    # the script.
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head>
<body><div id="page-content"><h1 class="rich_media_title" id="activity-name">{title}</h1>
<div id="meta_content"><span id="js_author_name">本报记者</span>
<a id="js_name" href="javascript:void(0);">{account}</a><em id="publish_time"></em></div>
<div class="rich_media_content" id="js_content" style="visibility: hidden;">{body}</div></div>
<script>var nickname = "{account}"; var ct = "{int(created.timestamp())}";
var create_time = "{int(created.timestamp())}" * 1;</script></body></html>"""


BODY = "".join(
    f"<p>{line}</p>"
    for line in (
        "近日，临江县统计局召开第五次全国经济普查入户登记工作推进会。",
        "会议要求各乡镇普查机构严格执行普查方案，杜绝代填代报、漏登错登现象。",
        "县统计局提醒群众：普查员入户时会出示普查员证，不会索要银行卡密码和验证码。",
    )
)


class World:
    def __init__(self, site: LoopbackSite, config: Path, env: dict[str, str]) -> None:
        self.site, self.config, self.env = site, config, env
        self.process = run_crawl(config, env=env)
        self.state: CrawlState = crawl_state(config, env)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("wechat")
    site = LoopbackSite().start()
    now = clock.now()
    created = now - timedelta(hours=3)
    site.page(
        "/feeds/linjiang.xml",
        feed(
            "临江发布",
            [
                # Summary only, no date: the page gives the text and the script the time.
                {
                    "title": "县统计局部署经济普查入户登记",
                    "link": site.url("/s/AbC123"),
                    "summary": "近日，临江县统计局召开……",
                },
            ],
        ),
        content_type="application/rss+xml",
    )
    site.page("/s/AbC123", article("县统计局部署经济普查入户登记", "临江发布", BODY, created))
    site.page(
        "/feeds/expired.xml",
        feed(
            "wechat2rss",
            [
                {
                    "title": "登录失效，请重新扫码登录",
                    "link": site.url("/login"),
                    "summary": "cookie 已过期",
                    "date": format_datetime(now),
                }
            ],
        ),
        content_type="application/rss+xml",
    )
    old = now - timedelta(hours=100)
    site.page(
        "/feeds/stale.xml",
        feed(
            "临江统计",
            [
                {
                    "title": "统计公报发布",
                    "link": site.url("/s/Old1"),
                    "date": format_datetime(old),
                    "summary": BODY * 3,
                }
            ],
        ),
        content_type="application/rss+xml",
    )
    config = write_sources(
        root / "config",
        [
            {"name": "公众号·临江发布", "kind": "wechat", "url": site.url("/feeds/linjiang.xml")},
            {
                "name": "公众号·登录失效",
                "kind": "wechat",
                "url": site.url("/feeds/expired.xml"),
                "alert_after_runs": 1,
            },
            {
                "name": "公众号·停更",
                "kind": "wechat",
                "url": site.url("/feeds/stale.xml"),
                "stale_hours": 48,
                "lookback_days": 30,
            },
        ],
    )
    env = {**ENV, "YUQING_DATA": str(root / "data")}
    try:
        yield World(site, config, env)
    finally:
        site.stop()


def test_wechat_crawl_exits_cleanly(world: World) -> None:
    assert world.process.returncode == 0, world.process.stderr[-3000:]


def test_summary_only_item_is_completed_from_the_article_page(world: World) -> None:
    stored = world.state.mentions[world.site.url("/s/AbC123")]

    assert "不会索要银行卡密码" in stored.text
    assert stored.outlet == "临江发布"
    assert stored.title == "县统计局部署经济普查入户登记"


def test_article_time_comes_from_the_page_script(world: World) -> None:
    stored = world.state.mentions[world.site.url("/s/AbC123")]
    expected = int((clock.now() - timedelta(hours=3)).timestamp())

    assert stored.published_at is not None
    assert abs(stored.published_at.replace(tzinfo=UTC).timestamp() - expected) < 120


def test_bridge_error_item_fails_the_run_with_a_clear_reason_and_is_not_stored(
    world: World,
) -> None:
    run = world.state.runs["公众号·登录失效"][0]

    assert run.status == "failed"
    assert "登录已失效" in (run.error or "") and "重新扫码" in (run.error or "")
    assert world.site.url("/login") not in world.state.mentions


def test_stale_bridge_fails_the_run_rather_than_looking_quiet(world: World) -> None:
    run = world.state.runs["公众号·停更"][0]

    assert run.status == "failed"
    assert "48 小时没有新文章" in (run.error or "")


def test_expired_bridge_alerts_the_duty_officer_after_alert_after_runs(world: World) -> None:
    from sqlalchemy import select

    from responder.db import Database
    from responder.models import OutboxMessage
    from responder.settings import load_settings

    database = Database(load_settings(world.config, env=world.env), migrate=False)
    try:
        with database.sessions() as session:
            subjects = [m.subject for m in session.scalars(select(OutboxMessage))]
    finally:
        database.dispose()

    assert any("公众号·登录失效" in s for s in subjects), subjects
    assert not any("公众号·临江发布" in s for s in subjects)
    assert world.state.runs["公众号·临江发布"][0].status == "ok"


@pytest.mark.parametrize(
    ("title", "link", "error"),
    [
        ("登录失效，请重新扫码", "http://bridge.local/", True),
        ("Cookie 已过期", "http://bridge.local/x", True),
        ("token expired", "", True),
        ("警惕冒充统计局扫码登录诈骗", "https://mp.weixin.qq.com/s/abc", False),
        ("统计公报发布", "http://bridge.local/x", False),
    ],
)
def test_error_items_are_told_from_articles(title: str, link: str, error: bool) -> None:
    assert is_error_item(title, link) is error


def test_script_time_reads_the_ct_variable() -> None:
    assert script_time('var ct = "1715590000";') == datetime.fromtimestamp(1715590000, UTC)
    assert script_time("create_time: '1715590000',") is not None
    assert script_time("<p>no time here</p>") is None
