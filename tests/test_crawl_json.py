"""The `json`, `hotlist` and `watch` source kinds, crawled as `yuqing crawl` crawls them: a
message board answering JSON (paged by a query parameter), an RSSHub JSON Feed (paged by a
next-page URL), a DailyHotApi-style hot-list service and watched pages, all served on
127.0.0.1, with a bad input of each kind (malformed JSON, an error body, an item without a
URL, a failing board, a page that vanishes).

Two crawls serve the module: between them a watched page gains a notice and the hot list
reorders.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from subprocess import CompletedProcess
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crawlers.pipelines import added_lines
from responder import clock
from responder.db import Database
from responder.intake.crawl_runs import RunStatus
from responder.models import CrawlRun, HotRank, Mention, WatchedPage
from responder.ops.health import source_health
from responder.settings import Settings, Source, load_settings
from tests.crawling import LoopbackSite, run_crawl, write_sources

SHANGHAI = ZoneInfo("Asia/Shanghai")
JSON = {"Content-Type": "application/json; charset=utf-8"}
ENV = {"YUQING_CRAWL__AUTOTHROTTLE": "false", "YUQING_CRAWL__RETRIES": "0"}


def stamp(hours_ago: float) -> str:
    return (
        (clock.now() - timedelta(hours=hours_ago)).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    )


def answer(value: Any) -> tuple[int, dict[str, str], bytes]:
    return 200, JSON, json.dumps(value, ensure_ascii=False).encode("utf-8")


# --- a 领导留言板-style board: {"code": 0, "data": {"list": [...]}}, ?page=N ------------------

BOARD_PAGES: dict[int, list[dict[str, Any]]] = {
    1: [
        {
            "subject": "经济普查员上门时态度恶劣",
            "link": "/board/1001",
            "body": "我家昨天来了两位普查员，登记时态度很差，希望县统计局管一管。",
            "posted": stamp(2),
            "stats": {"replies": "12", "views": 300},
        },
        # An error item: no link. Recorded as a parse error and skipped.
        {"subject": "普查员没有上门", "body": "没有链接的留言"},
        {
            "subject": "小区停车位不足",
            "link": "/board/1002",
            "body": "小区停车位太少，晚上回家没地方停车。",
            "posted": stamp(3),
        },
    ],
    2: [
        {
            "subject": "人口普查登记后接到推销电话",
            "link": "/board/1003",
            "body": "刚做完人口普查登记，就接到好几个推销电话，是不是信息泄露了？",
            # Unix time in milliseconds, as many APIs write it.
            "posted": int((clock.now() - timedelta(hours=5)).timestamp() * 1000),
        }
    ],
}


def board_api(path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
    page = int(query.get("page", ["1"])[0])
    return answer({"code": 0, "data": {"list": BOARD_PAGES.get(page, []), "page": page}})


# --- RSSHub's JSON Feed, paged by next_url --------------------------------------------------

FEEDS = {
    "/feed/1.json": {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "临江发布",
        "next_url": "/feed/2.json",
        "items": [
            {
                "id": "a",
                "url": "/posts/a",
                "title": "临江县统计局发布一季度经济数据",
                "content_html": (
                    "<p>临江县统计局今天发布一季度统计数据，<b>地区生产总值</b>增长5.8%。</p>"
                ),
                "date_published": (clock.now() - timedelta(hours=1)).isoformat(),
            }
        ],
    },
    "/feed/2.json": {
        "version": "https://jsonfeed.org/version/1.1",
        "items": [
            {
                "id": "b",
                "url": "/posts/b",
                "title": "第五次经济普查入户登记进入尾声",
                "content_html": "<p>全县经济普查入户登记工作进入尾声。</p>",
                "date_published": (clock.now() - timedelta(hours=4)).isoformat(),
            }
        ],
    },
}

# --- a DailyHotApi-style hot-list service ---------------------------------------------------

HOT = {
    "weibo": [
        {
            "title": "某明星官宣结婚",
            "url": "https://s.weibo.com/weibo?q=%23明星%23",
            "hot": 5000000,
        },
        {
            "title": "临江县统计局回应普查员被打",
            "desc": "临江县一名普查员入户时被打，县统计局回应。",
            "url": "https://s.weibo.com/weibo?q=%23临江普查员%23",
            "hot": "120万",
        },
        {
            "title": "人口普查数据公布",
            "url": "https://s.weibo.com/weibo?q=%23人口普查%23",
            "hot": 800000,
        },
    ]
}


def hot_api(path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
    board = path.rsplit("/", 1)[-1]
    if board not in HOT:
        # DailyHotApi's failure: HTTP 200 with its own code.
        return answer({"code": 500, "message": "获取失败：平台限制访问"})
    return answer({"code": 200, "name": board, "title": "微博", "data": HOT[board]})


# --- watched pages --------------------------------------------------------------------------

NOTICES = ["关于开展统计执法检查的通知 2026-11-02", "临江县统计局2026年政府信息公开年报 2026-10-15"]
NEW_NOTICE = "关于第五次经济普查入户登记延期的公告 2026-11-20"


def notice_page(notices: list[str]) -> str:
    items = "".join(f"<li><a href='/n/{i}.html'>{n}</a></li>" for i, n in enumerate(notices))
    return (
        "<html><head><title>通知公告-临江县统计局</title><script>var t=1;</script></head><body>"
        "<nav><a href='/'>首页</a></nav>"
        f"<div class='column'><h2>通知公告</h2><ul>{items}</ul></div>"
        "<footer>访问量：12345</footer></body></html>"
    )


REPLY_PAGE = (
    "<html><head><title>12345回复</title></head><body><div class='reply'>"
    "<p>关于普查员身份核验的问题，县统计局答复如下：可拨打热线核实。</p></div></body></html>"
)


def sources(site: LoopbackSite) -> list[dict[str, Any]]:
    return [
        {
            "name": "领导留言板",
            "kind": "json",
            "url": site.url("/api/board"),
            "items": "data.list",
            "fields": {
                "title": "subject",
                "url": "link",
                "text": "body",
                "time": "posted",
                "comments": "stats.replies",
            },
            "page_param": "page",
            "max_pages": 3,
        },
        {
            "name": "临江发布JSON",
            "kind": "json",
            "url": site.url("/feed/1.json"),
            "items": "items",
            "fields": {
                "title": "title",
                "url": "url",
                "text": "content_html",
                "time": "date_published",
            },
            "next_path": "next_url",
        },
        {
            "name": "坏JSON",
            "kind": "json",
            "url": site.url("/api/broken"),
            "items": "data.list",
            "fields": {"title": "t", "url": "u"},
        },
        {
            "name": "报错接口",
            "kind": "json",
            "url": site.url("/api/error"),
            "items": "data.list",
            "fields": {"title": "t", "url": "u"},
        },
        {"name": "微博热搜", "kind": "hotlist", "url": site.url("/hot"), "board": "微博热搜"},
        {"name": "百度热搜", "kind": "hotlist", "url": site.url("/hot/"), "board": "百度热搜"},
        {"name": "通知公告", "kind": "watch", "url": site.url("/notices/")},
        {"name": "12345回复", "kind": "watch", "url": site.url("/reply/")},
        {"name": "已删除页面", "kind": "watch", "url": site.url("/gone/")},
    ]


@dataclass
class Crawled:
    site: LoopbackSite
    first: CompletedProcess[str]
    second: CompletedProcess[str]
    first_mentions: dict[str, Mention]
    mentions: dict[str, Mention]
    runs: list[tuple[str, CrawlRun]]
    ranks: list[HotRank]
    watched: dict[str, WatchedPage]
    db: Database
    settings: Settings

    def run(self, name: str, which: int) -> CrawlRun:
        return [r for n, r in self.runs if n == name][which]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    root = tmp_path_factory.mktemp("json_kinds")
    data_dir, config_dir = root / "data", root / "config"
    env = {**ENV, "YUQING_DATA": str(data_dir)}
    site = LoopbackSite()
    site.route("/api/board", handler=board_api)
    for path, feed in FEEDS.items():
        site.route(path, handler=lambda p, q, feed=feed: answer(feed))
    site.route("/api/broken", status=200, headers=JSON, body=b'{"code": 0, "data": {"list": [')
    site.route("/api/error", handler=lambda p, q: answer({"code": 500, "message": "rate limited"}))
    site.route("/hot/weibo", handler=hot_api)
    site.route("/hot/baidu", handler=hot_api)
    site.page("/notices/", notice_page(NOTICES))
    site.page("/reply/", REPLY_PAGE)
    site.start()
    write_sources(config_dir, sources(site))
    settings = load_settings(config_dir, env={"YUQING_DATA": str(data_dir)})
    db = Database(settings)
    try:
        first = run_crawl(config_dir, env=env)
        with db.transaction() as session:
            first_mentions = {m.url: m for m in session.scalars(select(Mention))}
            session.expunge_all()
        site.page("/notices/", notice_page([NEW_NOTICE, *NOTICES]))
        HOT["weibo"].reverse()
        second = run_crawl(config_dir, env=env)
        with db.transaction() as session:
            mentions = {m.url: m for m in session.scalars(select(Mention))}
            runs = [
                (r.source.name, r) for r in session.scalars(select(CrawlRun).order_by(CrawlRun.id))
            ]
            ranks = list(session.scalars(select(HotRank).order_by(HotRank.id)))
            watched = {w.canonical_url: w for w in session.scalars(select(WatchedPage))}
            session.expunge_all()
        yield Crawled(
            site, first, second, first_mentions, mentions, runs, ranks, watched, db, settings
        )
    finally:
        db.dispose()
        site.stop()


def test_both_crawls_finish(crawled: Crawled) -> None:
    assert crawled.first.returncode == 0, crawled.first.stderr[-3000:]
    assert crawled.second.returncode == 0, crawled.second.stderr[-3000:]


def test_a_json_board_is_paged_and_its_relevant_items_stored_with_fields(crawled: Crawled) -> None:
    site = crawled.site
    complaint = crawled.first_mentions[site.url("/board/1001")]
    assert complaint.title == "经济普查员上门时态度恶劣"
    assert "态度很差" in complaint.text
    assert complaint.comments == 12
    assert complaint.published_at is not None
    leak = crawled.first_mentions[site.url("/board/1003")]
    assert leak.published_at is not None
    assert abs(leak.published_at - (clock.now() - timedelta(hours=5))) < timedelta(minutes=30)
    assert site.url("/board/1002") not in crawled.mentions  # 停车位: not relevant
    # The first crawl reads pages 1-3 (3 lists nothing); the second stops at page 1, whose
    # items are all stored or set aside already.
    assert site.hits("/api/board?page=2") == 1
    assert site.hits("/api/board?page=3") == 1


def test_an_item_without_a_url_is_recorded_and_the_rest_stored(crawled: Crawled) -> None:
    run = crawled.run("领导留言板", 0)
    assert run.status == RunStatus.OK
    assert run.stored == 2
    assert "领导留言板" in (run.error or "") and "without url" in (run.error or "")


def test_a_json_feed_follows_its_next_url_and_reads_html_content(crawled: Crawled) -> None:
    site = crawled.site
    first = crawled.first_mentions[site.url("/posts/a")]
    assert first.text == "临江县统计局今天发布一季度统计数据，地区生产总值增长5.8%。"
    assert site.url("/posts/b") in crawled.first_mentions


def test_malformed_json_and_an_error_body_fail_their_runs_naming_the_source(
    crawled: Crawled,
) -> None:
    broken = crawled.run("坏JSON", 0)
    assert broken.status == RunStatus.FAILED
    assert "坏JSON answered no JSON" in (broken.error or "")
    error = crawled.run("报错接口", 0)
    assert error.status == RunStatus.FAILED
    assert "报错接口" in (error.error or "") and "rate limited" in (error.error or "")


def test_a_second_crawl_stores_nothing_twice(crawled: Crawled) -> None:
    for name in ("领导留言板", "临江发布JSON"):
        assert crawled.run(name, 1).stored == 0
        assert crawled.run(name, 1).status == RunStatus.OK


def test_a_hot_list_keeps_relevant_entries_and_records_rank_and_heat(crawled: Crawled) -> None:
    hot = [m for m in crawled.mentions.values() if m.url.startswith("https://s.weibo.com/")]
    assert sorted(m.title for m in hot) == ["临江县统计局回应普查员被打", "人口普查数据公布"]
    beaten = next(m for m in hot if "被打" in m.title)
    assert "入户时被打" in beaten.text
    assert beaten.outlet == "微博热搜"
    seen = [(r.board, r.title, r.rank, r.heat) for r in crawled.ranks]
    assert seen == [
        ("微博热搜", "临江县统计局回应普查员被打", 2, 1_200_000),
        ("微博热搜", "人口普查数据公布", 3, 800_000),
        # The second crawl: the board reversed; the entries were stored once, seen twice.
        ("微博热搜", "人口普查数据公布", 1, 800_000),
        ("微博热搜", "临江县统计局回应普查员被打", 2, 1_200_000),
    ]
    assert crawled.run("微博热搜", 1).status == RunStatus.OK


def test_a_failing_hot_list_board_fails_its_run_with_the_reason(crawled: Crawled) -> None:
    run = crawled.run("百度热搜", 0)
    assert run.status == RunStatus.FAILED
    assert "平台限制访问" in (run.error or "")


def test_a_watched_page_first_sets_a_baseline_then_stores_what_was_added(
    crawled: Crawled,
) -> None:
    site = crawled.site
    assert not [m for m in crawled.first_mentions.values() if "/notices/" in m.url]
    assert crawled.run("通知公告", 0).status == RunStatus.EMPTY
    changes = [m for m in crawled.mentions.values() if "/notices/" in m.url]
    assert len(changes) == 1
    assert changes[0].text == NEW_NOTICE
    assert changes[0].title == "通知公告-临江县统计局"
    assert changes[0].url.startswith(site.url("/notices/?yuqing_change="))
    assert crawled.run("通知公告", 1).status == RunStatus.OK
    page = crawled.watched[site.url("/notices/")]
    assert NEW_NOTICE in page.text and "访问量" not in page.text


def test_an_unchanged_watched_page_stores_nothing_and_is_not_unhealthy(crawled: Crawled) -> None:
    assert not [m for m in crawled.mentions.values() if "/reply/" in m.url]
    assert [crawled.run("12345回复", i).status for i in (0, 1)] == [RunStatus.EMPTY] * 2
    with crawled.db.transaction() as session:
        health = {h.name: h for h in source_health(session, crawled.settings)}
    assert health["12345回复"].bad_streak == 0
    assert health["已删除页面"].bad_streak == 2


def test_a_watched_page_that_vanishes_fails_its_run(crawled: Crawled) -> None:
    run = crawled.run("已删除页面", 0)
    assert run.status == RunStatus.FAILED
    assert "HTTP 404" in (run.error or "")


# --- configuration and the diff, without a crawl ---------------------------------------------


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"kind": "json", "fields": {"title": "t"}}, "fields needs url and title or text"),
        (
            {"kind": "json", "fields": {"url": "u", "title": "t", "hits": "h"}},
            "unknown fields hits",
        ),
        (
            {
                "kind": "json",
                "fields": {"url": "u", "title": "t"},
                "page_param": "p",
                "next_path": "n",
            },
            "page_param or next_path, not both",
        ),
        ({"kind": "hotlist", "board": "B站热门"}, "board must be one of 微博热搜"),
    ],
)
def test_a_misconfigured_source_is_refused_naming_it(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Source(name="坏配置", url="http://127.0.0.1/api", **entry)


def test_only_added_lines_count_as_a_change() -> None:
    before = "通知公告\n关于A的通知\n关于B的通知\n关于C的通知"
    after = "通知公告\n关于D的通知\n关于A的通知\n关于B的通知"  # D on top, C fell off the page
    assert added_lines(before, after) == ["关于D的通知"]
    assert added_lines(before, "通知公告\n关于C的通知\n关于A的通知\n关于B的通知") == []
    assert added_lines(before, before) == []
