"""The `search` and `weibo` source kinds, crawled as `yuqing crawl` crawls them: a search
engine and a news site, and a Weibo-shaped JSON API, served on 127.0.0.1 for the test.

All seven sources share one crawl run, and a second run checks that nothing is stored or
fetched again; both runs happen once for the module (each costs a subprocess).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from subprocess import CompletedProcess
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from responder.db import Database
from responder.intake.mentions import MentionRecord, canonical_url, store
from responder.models import CrawlRun, Mention, SeenPage
from responder.settings import load_settings
from tests.crawling import LoopbackSite, run_crawl, write_sources

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime.now(SHANGHAI).replace(microsecond=0)
YESTERDAY_1230 = (NOW - timedelta(days=1)).replace(hour=12, minute=30, second=0)
COOKIE = "SUB=_2A25test-only-cookie; SUBP=0033WrSX"
HTML = {"Content-Type": "text/html; charset=utf-8"}
JSON = {"Content-Type": "application/json; charset=utf-8"}

ENGINE_KEYWORD = "临江 统计局"  # a space, so the template must quote_plus it
SITE_KEYWORD = "普查"
WEIBO_KEYWORD = "临江县统计局"


def shanghai(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(SHANGHAI)


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M")


# --- the news site: articles, and its own search (one page, selectors) ----------------------

ARTICLE_A1_TIME = (NOW - timedelta(days=1)).replace(hour=9, minute=30, second=0)


def article(title: str, paragraphs: list[str], published: str = "") -> str:
    when = f'<div class="info">发布时间：{published} 来源：临江日报</div>' if published else ""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title></head><body>"
        f'<div class="nav"><a href="/">首页</a></div>'
        f'<h1>{title}</h1>{when}<div class="content">{body}</div></body></html>'
    )


PRESS_PAGES = {
    "/news/1.html": article(
        "临江县统计局发布第五次经济普查主要数据公报",
        [
            "临江县统计局今天发布第五次全国经济普查主要数据公报，全县共有法人单位一万二千多个。",
            "公报显示，第二产业和第三产业从业人员均比上次普查有所增长，新兴产业发展较快。",
            "县统计局负责人表示，普查数据将为全县制定发展规划提供重要依据，欢迎社会各界监督。",
        ],
        stamp(ARTICLE_A1_TIME),
    ),
    "/news/2.html": article(
        "已经存储的旧闻",
        ["临江县统计局旧闻，这一页早已存储，不应再次抓取。" * 3],
        stamp(NOW - timedelta(days=2)),
    ),
    "/news/3.html": article(
        "江州大桥今日正式通车运营",
        [
            "江州大桥今天上午正式通车，市民出行更加便利，两岸通行时间大大缩短。",
            "大桥全长两千余米，建设历时三年，沿线还配套建设了公园和步道供市民休闲。",
        ],
        stamp(NOW - timedelta(days=1)),
    ),
    # No time on the page: the one listed beside the search result is kept.
    "/news/4.html": article(
        "普查员入户登记工作有序推进",
        [
            "临江县统计局组织的普查员入户登记工作正在有序推进，各乡镇均已完成培训。",
            "普查员佩戴统一证件上门，群众如对身份有疑问，可拨打县统计局公布的电话核实。",
        ],
    ),
    "/news/5.html": article("临江县统计局的旧闻不必再抓", ["临江县统计局旧闻。" * 10]),
    "/local/6.html": article(
        "临江县人口普查宣传进社区",
        [
            "临江县统计局联合各社区开展人口普查宣传活动，发放宣传资料两千余份。",
            "工作人员现场解答群众关心的问题，提醒大家配合普查员如实申报。",
        ],
        stamp(NOW - timedelta(days=3)),
    ),
    "/local/7.html": article("二〇二〇年的普查宣传", ["临江县统计局二〇二〇年的普查宣传。" * 5]),
}


def site_search_page() -> str:
    # Selector-driven: only `ul.hits a` are results; the 下一页 link is never followed
    # because the template has no {page}.
    return (
        "<html><body><h2>站内搜索：普查</h2><ul class='hits'>"
        "<li><a href='/local/6.html'>临江县人口普查宣传进社区</a> "
        f"<span>{stamp(NOW - timedelta(days=3))}</span></li>"
        "<li><a href='/local/7.html'>二〇二〇年的普查宣传</a> <span>2020-03-01</span></li>"
        "</ul><a href='/search?kw=%E6%99%AE%E6%9F%A5&page=2'>下一页</a></body></html>"
    )


# --- the search engine: results on the press site and on itself -----------------------------


def result(href: str, title: str, when: str) -> str:
    return (
        f"<div class='result'><h3><a href='{href}'>{title}</a></h3>"
        "<p class='snippet'>摘要：相关内容节选，供参考。</p>"
        f"<div class='meta'><span>临江日报</span> <span>{when}</span></div></div>"
    )


def engine_page(press: LoopbackSite, page: int) -> str:
    results = {
        1: [
            result(
                press.url("/news/1.html"), "临江县统计局发布第五次经济普查主要数据公报", "1天前"
            ),
            result(press.url("/news/2.html"), "已经存储的旧闻", "2天前"),
            result(press.url("/news/3.html"), "江州大桥今日正式通车运营", "1天前"),
            result("/zixun/8848.html", "临江统计快讯一季度数据解读", "3小时前"),
        ],
        2: [result(press.url("/news/4.html"), "普查员入户登记工作有序推进", "昨天 12:30")],
        3: [result(press.url("/news/5.html"), "临江县统计局的旧闻不必再抓", "2023-01-05")],
        4: [result(press.url("/news/1.html") + "?again=1", "不应请求的第四页结果链接", "1小时前")],
    }[page]
    noise = (
        "<div class='tabs'><a href='/help/about'>高级搜索与帮助说明</a></div>"
        "<div class='related'><a href='/news?q=%E4%B8%B4%E6%B1%9F+%E7%94%B5%E8%AF%9D&p=1'>"
        "临江县统计局电话号码查询</a></div>"
        f"<a href='/news?q=x&p={page + 1}'>下一页</a>"
        f"<div class='footer'><a href='{press.url('/')}'>京ICP备12345678号-1</a></div>"
    )
    return f"<html><body><div id='results'>{''.join(results)}</div>{noise}</body></html>"


ZIXUN = article(
    "临江统计快讯一季度数据解读",
    [
        "一季度临江县地区生产总值平稳增长，县统计局对主要统计数据作了解读。",
        "工业生产稳中有进，消费市场持续回暖，固定资产投资结构进一步优化。",
    ],
    stamp(NOW - timedelta(hours=3)),
)


# --- the Weibo-shaped API -------------------------------------------------------------------


def api_time(when: datetime) -> str:
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return (
        f"{days[when.weekday()]} {months[when.month - 1]} {when.day:02d} "
        f"{when:%H:%M:%S} +0800 {when.year}"
    )


P6002_TIME = (NOW - timedelta(days=1)).replace(hour=19, minute=0, second=0)
P5006_DAY = (NOW - timedelta(days=2)).replace(hour=0, minute=0, second=0)


def mblog(pid: str, text: str, created: str, who: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": pid,
        "bid": f"N{pid}",
        "text": text,
        "created_at": created,
        "source": "iPhone客户端",
        "user": {"id": 7000 + int(pid) % 100, "screen_name": who, "verified": False},
        "reposts_count": 0,
        "comments_count": 0,
        "attitudes_count": 0,
        "pics": [],
        **extra,
    }


def emoji(code: str) -> str:
    return (
        f'<span class="url-icon"><img alt="{code}" src="https://h5.sinaimg.cn/m/e/1.png" '
        'style="width:1em; height:1em;" /></span>'
    )


WEIBO_SEARCH = {
    1: [
        {
            "card_type": 9,
            "mblog": mblog(
                "5001",
                f"临江县统计局今天发布了人口普查结果，数据很详细{emoji('[赞]')}",
                "刚刚",
                "江州观察",
                reposts_count="1万+",
                comments_count=23,
                attitudes_count="100万+",
            ),
        },
        {
            "card_type": 11,
            "card_group": [
                {
                    "card_type": 9,
                    "mblog": mblog(
                        "5002",
                        '今天遇到一件事，说来话长...<a href="/status/5002">全文</a>',
                        "5分钟前",
                        "路人甲",
                        isLongText=True,
                    ),
                },
                {
                    "card_type": 9,
                    "mblog": mblog(
                        "5003",
                        "说得对，支持//<a href='/n/某某'>@某某</a>:顶",
                        "3小时前",
                        "转发者",
                        retweeted_status=mblog(
                            "4999",
                            '关于临江的说明...<a href="/status/4999">全文</a>',
                            "3小时前",
                            "临江发布",
                            isLongText=True,
                        ),
                    ),
                },
                {
                    "card_type": 9,
                    "mblog": mblog(
                        "5004", f"今天天气真好{emoji('[哈哈]')}出去玩", "刚刚", "路人乙"
                    ),
                },
            ],
        },
    ],
    2: [
        {
            "card_type": 9,
            "mblog": mblog(
                "5005",
                f"临江县统计局的调查员冒雨入户登记，辛苦了{emoji('[泪]')}",
                "昨天 12:30",
                "临江生活圈",
            ),
        },
        {
            "card_type": 9,
            "mblog": mblog(
                "5006", "听说临江县统计局在招聘普查员，有人了解吗", f"{P5006_DAY:%m-%d}", "求职者"
            ),
        },
        {"card_type": 9, "mblog": mblog("5007", "临江县统计局的旧帖，早已存储。", "刚刚", "某人")},
        {
            "card_type": 9,
            # Its long text answers 500: the truncated text is stored all the same.
            "mblog": mblog(
                "5008",
                '临江县统计局的长文，后面被截断了...<a href="/status/5008">全文</a>',
                "刚刚",
                "长文作者",
                isLongText=True,
            ),
        },
    ],
}
LONG_TEXTS = {
    "5002": "今天遇到一件事，说来话长。临江县统计局的普查员上门登记，态度很好，耐心解释了每一项。",
    "4999": "关于临江的说明：县统计局表示，近期网传的增速数据不实，请以统计公报为准。",
}
TIMELINE_1001 = {
    1: [
        # A pinned post from long ago: older than the look-back window, yet paging goes on.
        {
            "card_type": 9,
            "mblog": mblog("6001", "临江县统计局置顶：欢迎关注", "2023-11-20", "临江县统计局"),
        },
        {
            "card_type": 9,
            "mblog": mblog(
                "6002",
                "临江县统计局发布：本周开展经济普查入户登记，请配合。",
                api_time(P6002_TIME),
                "临江县统计局",
                reposts_count="15",
                comments_count=3,
                attitudes_count="",
            ),
        },
    ],
    2: [
        {
            "card_type": 9,
            "mblog": mblog("6003", "临江县统计局提醒：谨防假冒普查员。", "5分钟前", "临江县统计局"),
        }
    ],
    3: [
        {
            "card_type": 9,
            "mblog": mblog("6004", "临江县统计局：第三页不应读取。", "刚刚", "临江县统计局"),
        }
    ],
}


def weibo_api(path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], bytes]:
    def answer(payload: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        return 200, JSON, json.dumps(payload, ensure_ascii=False).encode("utf-8")

    no_more = {"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}}
    if path == "/statuses/extend":
        pid = query.get("id", [""])[0]
        if pid == "5008":
            return 500, {"Content-Type": "text/plain"}, b"server error"
        if pid not in LONG_TEXTS:
            return answer({"ok": 0, "msg": "没有这条微博"})
        return answer({"ok": 1, "data": {"ok": 1, "longTextContent": LONG_TEXTS[pid]}})
    page = int(query.get("page", ["1"])[0])
    container = query.get("containerid", [""])[0]
    if container.startswith("100103"):
        keyword = parse_qs(container[len("100103") :]).get("q", [""])[0]
        if keyword == "限流测试":
            return 418, {"Content-Type": "text/plain"}, b""
        if keyword == WEIBO_KEYWORD and page in WEIBO_SEARCH:
            return answer({"ok": 1, "data": {"cards": WEIBO_SEARCH[page]}})
        return answer(no_more)
    uid = query.get("value", [""])[0]
    if uid == "999":
        return answer({"ok": 0, "msg": "请求过于频繁，请稍后再试"})
    if uid == "1001" and container == "1076031001" and page in TIMELINE_1001:
        return answer({"ok": 1, "data": {"cards": TIMELINE_1001[page]}})
    return answer(no_more)


# --- the crawl, twice -----------------------------------------------------------------------


@dataclass
class Crawled:
    engine: LoopbackSite
    press: LoopbackSite
    weibo: LoopbackSite
    first: CompletedProcess[str]
    second: CompletedProcess[str]
    # site → path → queries of the requests the first crawl made
    first_requests: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    first_headers: list[dict[str, str]] = field(default_factory=list)
    mentions: dict[str, Mention] = field(default_factory=dict)
    mentions_after_second: int = 0
    runs: list[tuple[str, CrawlRun]] = field(default_factory=list)
    seen_pages: set[str] = field(default_factory=set)


def sources(engine: LoopbackSite, press: LoopbackSite, weibo: LoopbackSite) -> list[dict]:
    api = weibo.base_url
    return [
        {
            "name": "新闻搜索",
            "kind": "search",
            "url": engine.url("/news?q={keyword}&p={page}"),
            "keywords": [ENGINE_KEYWORD],
        },
        {
            "name": "站内搜索",
            "kind": "search",
            "url": press.url("/search?kw={keyword}"),
            "keywords": [SITE_KEYWORD],
            "selectors": {"links": "ul.hits a"},
        },
        {
            "name": "微博搜索",
            "kind": "weibo",
            "url": api,
            "keywords": [WEIBO_KEYWORD],
            "obey_robots": False,
        },
        {
            "name": "微博用户",
            "kind": "weibo",
            "url": api,
            "users": ["1001"],
            "max_pages": 2,
            "obey_robots": False,
        },
        {
            "name": "微博限流",
            "kind": "weibo",
            "url": api,
            "keywords": ["限流测试"],
            "obey_robots": False,
        },
        {"name": "微博频繁", "kind": "weibo", "url": api, "users": ["999"], "obey_robots": False},
        # No obey_robots: the API's robots.txt forbids everything, so nothing is requested.
        {"name": "微博默认", "kind": "weibo", "url": api, "keywords": ["临江普查"]},
    ]


def by_path(site: LoopbackSite) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for request in site.requests:
        parts = urlsplit(request)
        found.setdefault(parts.path, []).append(parts.query)
    return found


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    root = tmp_path_factory.mktemp("search_weibo")
    data_dir, config_dir = root / "data", root / "config"
    env = {
        "YUQING_DATA": str(data_dir),
        "YUQING_CRAWL__WEIBO_COOKIE": COOKIE,
        # Every server is on 127.0.0.1, one Scrapy slot: no need to pace the test's requests.
        "YUQING_CRAWL__AUTOTHROTTLE": "false",
    }
    engine, press, weibo = LoopbackSite(), LoopbackSite(), LoopbackSite()
    for path, body in PRESS_PAGES.items():
        press.page(path, body)
    press.page("/search", site_search_page())
    engine.route(
        "/news",
        handler=lambda path, query: (
            200,
            HTML,
            (
                engine_page(press, int(query["p"][0]))
                if query.get("q") == [ENGINE_KEYWORD] and query.get("p", [""])[0] in "1234"
                else "<html><body>没有结果</body></html>"
            ).encode("utf-8"),
        ),
    )
    engine.page("/zixun/8848.html", ZIXUN)
    engine.page("/help/about", article("帮助", ["搜索帮助说明页面。" * 5]))
    weibo.page("/robots.txt", "User-agent: *\nDisallow: /\n", content_type="text/plain")
    weibo.route("/api/container/getIndex", handler=weibo_api)
    weibo.route("/statuses/extend", handler=weibo_api)
    for site in (engine, press, weibo):
        site.start()

    write_sources(config_dir, sources(engine, press, weibo))
    settings = load_settings(config_dir, env={"YUQING_DATA": str(data_dir)})
    db = Database(settings)
    with db.transaction() as session:
        for url, text in (
            (press.url("/news/2.html"), "临江县统计局旧闻，这一页早已存储，不应再次抓取。"),
            ("https://m.weibo.cn/detail/5007", "临江县统计局的旧帖，早已存储。"),
        ):
            store(session, MentionRecord(url=url, text=text))
    try:
        first = run_crawl(config_dir, env={**env, "YUQING_LOG_LEVEL": "DEBUG"})
        first_requests = {
            "engine": by_path(engine),
            "press": by_path(press),
            "weibo": by_path(weibo),
        }
        first_headers = list(weibo.request_headers)
        with db.transaction() as session:
            mentions = {m.url: m for m in session.scalars(select(Mention))}
            session.expunge_all()
        for site in (engine, press, weibo):
            site.reset_log()
        second = run_crawl(config_dir, env=env)
        with db.transaction() as session:
            after = len(session.scalars(select(Mention)).all())
            runs = [
                (r.source.name, r) for r in session.scalars(select(CrawlRun).order_by(CrawlRun.id))
            ]
            session.expunge_all()
            seen = set(session.scalars(select(SeenPage.canonical_url)))
        yield Crawled(
            engine=engine,
            press=press,
            weibo=weibo,
            first=first,
            second=second,
            first_requests=first_requests,
            first_headers=first_headers,
            mentions=mentions,
            mentions_after_second=after,
            runs=runs,
            seen_pages=seen,
        )
    finally:
        db.dispose()
        for site in (engine, press, weibo):
            site.stop()


def run_of(crawled: Crawled, name: str, nth: int = 0) -> CrawlRun:
    return [run for source, run in crawled.runs if source == name][nth]


def test_both_crawls_exit_cleanly(crawled: Crawled) -> None:
    assert crawled.first.returncode == 0, crawled.first.stderr[-3000:]
    assert crawled.second.returncode == 0, crawled.second.stderr[-3000:]
    assert "Traceback" not in crawled.first.stderr + crawled.second.stderr


# --- search ---------------------------------------------------------------------------------


def test_search_stores_relevant_results_from_other_sites_and_its_own(crawled: Crawled) -> None:
    press, engine = crawled.press, crawled.engine
    a1 = crawled.mentions[press.url("/news/1.html")]
    assert a1.title == "临江县统计局发布第五次经济普查主要数据公报"
    assert "法人单位一万二千多个" in a1.text
    assert shanghai(a1.published_at) == ARTICLE_A1_TIME
    # The article has no time of its own: the one beside its result ("昨天 12:30") is kept.
    a4 = crawled.mentions[press.url("/news/4.html")]
    assert shanghai(a4.published_at) == YESTERDAY_1230
    zixun = crawled.mentions[engine.url("/zixun/8848.html")]
    assert "主要统计数据作了解读" in zixun.text
    # Irrelevant: read once, set aside, so later crawls skip it as well.
    assert press.url("/news/3.html") not in crawled.mentions
    assert canonical_url(press.url("/news/3.html")) in crawled.seen_pages
    assert press.url("/news/5.html") not in crawled.mentions


def test_search_requests_only_new_results_and_pages_until_the_lookback(crawled: Crawled) -> None:
    engine = crawled.first_requests["engine"]
    press = crawled.first_requests["press"]
    pages = sorted(parse_qs(q)["p"][0] for q in engine["/news"])
    # Page 3 lists only an item older than the look-back window, so page 4 is never asked for;
    # the related-search and 下一页 links (the results page's own path) are not results.
    assert pages == ["1", "2", "3"]
    assert all(parse_qs(q)["q"] == [ENGINE_KEYWORD] for q in engine["/news"])
    assert "/help/about" not in engine  # on the engine, but not article-shaped
    assert "/" not in press  # an off-site home page link (ICP filing) is not a result
    assert "/news/2.html" not in press  # stored already
    assert "/news/5.html" not in press  # listed as older than the look-back window
    assert press["/news/1.html"] == [""] and press["/news/3.html"] == [""]
    assert press["/news/4.html"] == [""]
    assert engine["/zixun/8848.html"] == [""]


def test_site_search_with_a_link_selector_reads_one_page(crawled: Crawled) -> None:
    press = crawled.first_requests["press"]
    assert press["/search"] == ["kw=%E6%99%AE%E6%9F%A5"]  # quote_plus'ed, no page 2
    assert "/local/7.html" not in press  # listed 2020-03-01
    local = crawled.mentions[crawled.press.url("/local/6.html")]
    assert "发放宣传资料两千余份" in local.text
    run = run_of(crawled, "站内搜索")
    assert (run.status, run.found, run.stored, run.failed) == ("ok", 2, 1, 0)


def test_search_run_records(crawled: Crawled) -> None:
    run = run_of(crawled, "新闻搜索")
    # Listed: 4 results on page 1, 1 on page 2, 1 on page 3.
    assert (run.status, run.found, run.stored, run.failed) == ("ok", 6, 3, 0)
    assert run.error is None


# --- weibo ----------------------------------------------------------------------------------


def post(crawled: Crawled, pid: str) -> Mention:
    return crawled.mentions[f"https://m.weibo.cn/detail/{pid}"]


def test_weibo_posts_become_mentions_with_public_urls_and_counts(crawled: Crawled) -> None:
    first = post(crawled, "5001")
    assert (first.author, first.outlet, first.title) == ("江州观察", "微博", "")
    assert (first.reposts, first.comments, first.likes) == (10_000, 23, 1_000_000)
    assert first.text.endswith("[赞]")  # the emoticon image's alt text
    assert first.canonical_url == "https://m.weibo.cn/detail/5001"
    # "刚刚": the crawl's own time, in a test that takes well under ten minutes.
    assert first.published_at is not None
    assert abs(first.published_at - NOW) < timedelta(minutes=10)
    timeline = post(crawled, "6002")
    assert shanghai(timeline.published_at) == P6002_TIME
    assert (timeline.author, timeline.reposts, timeline.comments, timeline.likes) == (
        "临江县统计局",
        15,
        3,
        0,
    )
    rainy = post(crawled, "5005")
    assert shanghai(rainy.published_at) == YESTERDAY_1230
    assert "[泪]" in rainy.text
    assert shanghai(post(crawled, "5006").published_at) == P5006_DAY
    # Every stored URL is the public form, never the API server's.
    weibo = [m for m in crawled.mentions.values() if m.outlet == "微博"]
    assert weibo and all(m.url.startswith("https://m.weibo.cn/detail/") for m in weibo)


def test_weibo_long_texts_and_reposts(crawled: Crawled) -> None:
    long = post(crawled, "5002")
    assert "耐心解释了每一项" in long.text and "全文" not in long.text
    repost = post(crawled, "5003")
    comment, original = repost.text.split("\n//转发 @临江发布: ")
    assert comment.startswith("说得对") and "@某某" in comment
    assert original.startswith("关于临江的说明") and "请以统计公报为准" in original
    assert repost.author == "转发者"
    extends = set(crawled.first_requests["weibo"]["/statuses/extend"])
    assert extends == {"id=4999", "id=5002", "id=5008"}
    cut = post(crawled, "5008")
    assert cut.text == "临江县统计局的长文，后面被截断了..."  # stored as published
    search = run_of(crawled, "微博搜索")
    assert "statuses/extend?id=5008" in (search.error or "")


def test_weibo_stores_only_relevant_new_posts_within_the_lookback(crawled: Crawled) -> None:
    stored = {m.url.rsplit("/", 1)[1] for m in crawled.mentions.values() if m.outlet == "微博"}
    # 5004 irrelevant, 5007 stored before, 6001 too old, 6004 beyond max_pages.
    assert stored == {"5001", "5002", "5003", "5005", "5006", "5008", "6002", "6003"}
    assert "https://m.weibo.cn/detail/5004" in crawled.seen_pages
    search = run_of(crawled, "微博搜索")
    # The long text that failed counts against the run, not the post.
    assert (search.status, search.found, search.stored, search.failed) == ("ok", 8, 6, 1)
    user = run_of(crawled, "微博用户")
    assert (user.status, user.found, user.stored, user.failed) == ("ok", 3, 2, 0)
    pages = [parse_qs(q) for q in crawled.first_requests["weibo"]["/api/container/getIndex"]]
    timeline_pages = sorted(p["page"][0] for p in pages if p.get("value") == ["1001"])
    assert timeline_pages == ["1", "2"]  # max_pages: 2, though page 2 had new posts
    search_pages = sorted(
        p["page"][0] for p in pages if p["containerid"] == [f"100103type=1&q={WEIBO_KEYWORD}"]
    )
    assert search_pages == ["1", "2", "3"]  # page 3 says 这里还没有内容: the end, no error
    assert all(p.get("page_type") == ["searchall"] for p in pages if "value" not in p)


def test_weibo_rate_limits_and_refusals_are_recorded_without_stopping_others(
    crawled: Crawled,
) -> None:
    limited = run_of(crawled, "微博限流")
    assert limited.status == "failed" and limited.stored == 0
    assert "HTTP 418" in (limited.error or "")
    busy = run_of(crawled, "微博频繁")
    assert busy.status == "failed"
    assert "请求过于频繁" in (busy.error or "")


def test_weibo_obeys_robots_txt_unless_the_source_says_otherwise(crawled: Crawled) -> None:
    robots = run_of(crawled, "微博默认")
    assert robots.status == "failed" and "robots.txt" in (robots.error or "")
    asked = [parse_qs(q) for q in crawled.first_requests["weibo"]["/api/container/getIndex"]]
    assert not any("临江普查" in p["containerid"][0] for p in asked)


def test_weibo_cookie_is_sent_and_never_logged(crawled: Crawled) -> None:
    api_headers = [{k.lower(): v for k, v in headers.items()} for headers in crawled.first_headers]
    with_cookie = [h for h in api_headers if h.get("cookie") == COOKIE]
    # Every API request carried it; robots.txt is fetched by Scrapy without it.
    robots = len(crawled.first_requests["weibo"].get("/robots.txt", []))
    assert with_cookie and len(with_cookie) == len(api_headers) - robots
    for output in (crawled.first.stdout, crawled.first.stderr, crawled.second.stderr):
        assert COOKIE not in output and "test-only-cookie" not in output


# --- the second crawl -----------------------------------------------------------------------


def test_second_crawl_stores_nothing_and_fetches_no_known_item(crawled: Crawled) -> None:
    assert crawled.mentions_after_second == len(crawled.mentions)
    press = by_path(crawled.press)
    engine = by_path(crawled.engine)
    weibo = by_path(crawled.weibo)
    # Result pages and API listings are read again (page 1 only); no article or long text is.
    assert [p for p in press if p.startswith(("/news/", "/local/"))] == []
    assert "/zixun/8848.html" not in engine
    assert engine["/news"] == [f"q={'%E4%B8%B4%E6%B1%9F+%E7%BB%9F%E8%AE%A1%E5%B1%80'}&p=1"]
    assert "/statuses/extend" not in weibo
    listings = [parse_qs(q) for q in weibo["/api/container/getIndex"]]
    assert all(p["page"] == ["1"] for p in listings)
    # Page 1 of each listing only: everything on it is stored or set aside.
    listed = {"新闻搜索": 4, "站内搜索": 2, "微博搜索": 4, "微博用户": 2}
    for name, found in listed.items():
        again = run_of(crawled, name, 1)
        assert (again.status, again.found, again.stored, again.failed) == ("ok", found, 0, 0)
