"""Crawls of loopback sites written for these tests, run as `yuqing crawl` runs them
(`python -m crawlers` in a subprocess), judged by what lands in the database.

One crawl of fifteen sources (good, broken, slow, huge, mis-encoded, forbidden) serves most
tests; a second crawl of the healthy sources checks what an unchanged site costs next time.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from responder.db import Database
from responder.demo.mailsink import free_port
from responder.intake.mentions import tidy
from responder.models import CrawlRun, Mention, SeenPage
from responder.models import Source as SourceRow
from responder.settings import load_settings
from tests.crawling import LoopbackSite, run_crawl, write_sources

SH = ZoneInfo("Asia/Shanghai")
PAGES = Path(__file__).parent / "data" / "pages" / "crawl"
TIMEOUT = 2
# Autothrottle would only space out requests to a server on this machine; no retries, so a
# failure is recorded once and the slow page costs one timeout.
CRAWL_ENV = {
    "YUQING_CRAWL__DOWNLOAD_TIMEOUT": str(TIMEOUT),
    "YUQING_CRAWL__RETRIES": "0",
    "YUQING_CRAWL__AUTOTHROTTLE": "false",
}
GOV_SELECTORS = {
    "links": "ul.list li a",
    "next_page": "div.page a.next",
    "title": "h1.article-title::text",
    "body": "div.TRS_Editor",
    "time": "span.pubtime::text",
    "author": "span.author::text",
    "outlet": "span.source::text",
}
FORUM_SELECTORS = {
    "links": "a.xst",
    "title": "h1.thread-title::text",
    "body": "div.post.first div.post-body",
    "time": "span.post-time::text",
    "author": "span.post-author::text",
}
ENCODED_SELECTORS = {"links": "ul.list a", "title": "h1::text", "body": "div.content"}


# --- pages ---------------------------------------------------------------------------------


def template(name: str, **values: str) -> str:
    text = (PAGES / name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def stored_form(*lines: str) -> str:
    """Text as the normalise pipeline stores it: the page's own characters, whitespace tidied."""
    return "\n".join(tidy(line) for line in lines)


def paragraphs(*texts: str) -> str:
    return "".join(f"<p>{text}</p>" for text in texts)


def listing(
    items: list[tuple[str, str]], extra: str = "", dated: dict[str, str] | None = None
) -> str:
    """A portal list page: navigation, the article links (with dates when given), a pager."""
    rows = "".join(
        f'<li><a href="{href}">{title}</a> <span class="date">{(dated or {}).get(href, "")}</span>'
        "</li>"
        for href, title in items
    )
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>本地新闻</title>'
        '</head><body><div class="nav"><a href="/">首页</a> <a href="/about.html">关于我们</a> '
        '<a href="http://www.people.com.cn/n1/2026/1120/c1001-4001.html">人民网：全国经济普查'
        "工作有序推进</a></div>"
        f'<ul class="news-list">{rows}</ul><div class="pager">{extra}</div></body></html>'
    )


@dataclass
class Article:
    path: str
    title: str
    body: list[str]
    published: str = ""
    outlet: str = "临江新闻网"
    author: str = "王芳"

    def news_page(self, published: str = "") -> str:
        return template(
            "news_article.html",
            title=self.title,
            body=paragraphs(*self.body),
            published=published or self.published,
            outlet=self.outlet,
            author=self.author,
        )


def encoded_page(title: str, body: str, meta: str, published: str) -> str:
    """A small county-portal page in whatever encoding the caller encodes it with."""
    return (
        f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={meta}">'
        f"<title>{title}</title></head><body><h1>{title}</h1>"
        f'<div class="info">{published}</div>'
        f'<div class="content"><p>{body}</p></div></body></html>'
    )


# --- the sites -----------------------------------------------------------------------------


@dataclass
class Clock:
    """Dates the pages print, made at serving time so they fall inside the look-back window."""

    now: datetime

    @property
    def day(self) -> str:
        return self.now.strftime("%Y-%m-%d")


GOV = [
    Article(
        "/tjj/tzgg/202611/t20261120_1001.html",
        "临江县统计局关于开展第五次全国经济普查入户登记的通告",
        [
            "根据《全国经济普查条例》，临江县统计局定于近期组织普查员开展入户登记工作。",
            "普查员入户时将佩戴普查员证，请各单位和个体经营户积极配合，如实申报普查数据。",
        ],
        outlet="临江县统计局",
        author="周敏",
    ),
    Article(
        "/tjj/tzgg/202611/t20261119_1002.html",
        "临江县统计局发布2026年10月份主要经济指标",
        [
            "10月份，全县规模以上工业增加值同比增长百分之六点一，社会消费品零售总额增长百分之四点九。",
            "县统计局表示，全县经济运行保持平稳，主要指标好于预期。",
        ],
        outlet="临江县统计局",
        author="孙丽",
    ),
    Article(
        "/tjj/tzgg/202611/t20261118_1003.html",
        "临江县统计局开展统计法治宣传进企业活动",
        [
            "为提升企业依法统计意识，临江县统计局组织执法人员走进工业园区，开展统计法治宣传。",
            "活动现场发放宣传资料三百余份，解答企业统计人员疑问四十余个。",
        ],
        outlet="临江县统计局",
        author="周敏",
    ),
]

NEWS = {
    "census": Article(
        "/news/2026/1120/8812.html",
        "临江县统计局：经济普查登记进度过半",
        [
            "记者从临江县统计局获悉，截至目前，全县第五次全国经济普查单位清查登记进度已经过半。",
            "县统计局相关负责人介绍，全县共选聘普查员和普查指导员四百余名，分片包干开展入户登记。",
            "该负责人提醒，普查员不会索要银行卡密码等信息，群众如有疑问可拨打县统计局电话核实。",
        ],
    ),
    "tracked": Article(
        "/news/2026/1120/8813.html",
        "临江县统计局召开第四季度统计工作推进会",
        [
            "临江县统计局召开第四季度统计工作推进会，部署年报和一套表单位培训等重点工作。",
            "会议要求各乡镇统计站严把数据质量关，确保统计数据真实、准确、完整、及时。",
        ],
    ),
    "dragon_boat": Article(
        "/news/2026/1120/8814.html",
        "临江县举办第三届龙舟邀请赛 十二支队伍同场竞技",
        [
            "第三届临江龙舟邀请赛在江滨公园水域鸣锣开赛，来自周边县市的十二支队伍同场竞技。",
            "比赛吸引了上万名市民沿江观赛，现场锣鼓喧天、气氛热烈，成为秋季文旅活动的一大亮点。",
        ],
    ),
    "page2": Article(
        "/news/2026/1119/8790.html",
        "网民关注临江县人均可支配收入数据 县统计局作出解释",
        [
            "近日有网民在论坛发帖，称自己的收入“被平均”，质疑临江县统计局公布的人均可支配收入数据。",
            "县统计局解释，人均可支配收入是按全县常住人口计算的平均数，并不代表每个家庭的实际收入。",
        ],
    ),
    "redirected": Article(
        "/news/2026/1119/8830.html",
        "临江县人口普查数据汇编月底正式出版",
        [
            "临江县统计局编印的人口普查数据汇编将于本月底正式出版，供社会各界查阅使用。",
            "汇编收录了全县人口规模、年龄结构、受教育程度等十余类数据，可在县图书馆借阅。",
        ],
    ),
    "page3": Article(
        "/news/2026/1118/8770.html",
        "临江县统计局开展普查员业务培训",
        [
            "临江县统计局举办经济普查员业务培训班，全县三百余名普查员参加培训。",
            "培训围绕普查表填报、电子设备使用和入户沟通技巧展开，并组织了现场考核。",
        ],
    ),
    "page4": Article(
        "/news/2026/1117/8751.html",
        "临江县统计局公布三季度居民消费价格指数",
        [
            "临江县统计局公布三季度居民消费价格数据，全县居民消费价格同比上涨百分之零点八。",
            "其中食品价格有所回落，服务价格稳中有升，物价总体保持平稳运行态势。",
        ],
    ),
    "page5": Article(
        "/news/2026/1116/8740.html",
        "临江县统计局完成统计年报布置工作",
        [
            "临江县统计局完成全县统计年报布置工作，涉及联网直报单位五百余家。",
            "县统计局要求各单位按时报送年报数据，做到应报尽报、不重不漏。",
        ],
    ),
}
TRACKED_QUERY = "?utm_source=weibo&utm_medium=social&spm=a2c4g.11186623.0.0&from=timeline&id=7"

FORUM = {
    "3分钟前": ("/bbs/thread-101-1-1.html", "普查员今天来我们小区登记了，态度很好", "楼下邻居"),
    "昨天 12:30": ("/bbs/thread-102-1-1.html", "县统计局的电话一直打不通怎么回事", "江边老王"),
    "2024年1月2日 08:00": (
        "/bbs/thread-103-1-1.html",
        "临江县统计局公布的工资数据我被平均了",
        "打工人",
    ),
    "01-02": ("/bbs/thread-104-1-1.html", "新年第一天就有普查员上门，辛苦了", "临江小李"),
}

LOOKBACK = {
    "/old/2026/a1.html": ("临江县统计局开展统计执法检查 规范企业统计行为", True),
    "/old/2026/a2.html": ("临江县统计局发布农业普查工作简报第十二期", True),
    "/old/2020/a3.html": ("临江县统计局召开第七次全国人口普查总结会", False),
    "/old/2020/a4.html": ("临江县统计局部署人口普查摸底工作", False),
    "/old/2020/a5.html": ("临江县统计局举办人口普查业务培训", False),
}

BIG5_TITLE = "臨江縣統計局發佈第五次全國經濟普查公報"
BIG5_BODY = (
    "臨江縣統計局今日發佈經濟普查公報，全縣共有法人單位一萬二千個，比上次普查增長百分之十五。"
)
GBK_TITLE = "临江县统计局提醒：警惕冒充普查员诈骗"
GBK_BODY = "近日有群众反映有人冒充普查员上门索要费用，临江县统计局提醒居民普查登记不收取任何费用。"
UTF8_TITLE = "临江县统计局公开征集统计工作意见建议"
UTF8_BODY = "临江县统计局面向社会公开征集对统计工作的意见建议，征集时间为即日起至本月底。"


def serve(site: LoopbackSite, clock: Clock) -> None:
    """Every page of every test site, on one server."""
    day = clock.day
    html = "text/html; charset=utf-8"
    site.page("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")

    # A county government portal read with selectors; one listed link answers with a 302.
    site.page(
        "/tjj/tzgg/index.html",
        '<html><head><meta charset="utf-8"><title>通知公告</title></head><body>'
        '<ul class="list">'
        f'<li><a href="./202611/t20261120_1001.html">{GOV[0].title}</a><span>{day}</span></li>'
        f'<li><a href="/tjj/redirect.jsp?id=1003">{GOV[2].title}</a><span>{day}</span></li>'
        '</ul><div class="page"><a class="next" href="index_1.html">下一页</a></div></body></html>',
    )
    site.page(
        "/tjj/tzgg/index_1.html",
        '<html><head><meta charset="utf-8"><title>通知公告</title></head><body>'
        f'<ul class="list"><li><a href="./202611/t20261119_1002.html">{GOV[1].title}</a></li></ul>'
        "</body></html>",
    )
    site.route("/tjj/redirect.jsp", status=302, headers={"Location": GOV[2].path})
    for article in GOV:
        site.page(
            article.path,
            template(
                "gov_article.html",
                title=article.title,
                body=paragraphs(*article.body),
                published=f"{day} 09:30",
                outlet=article.outlet,
                author=article.author,
            ),
        )

    # A news portal read without selectors: 下一页, numbered, › and » pagers, four pages at most.
    for article in NEWS.values():
        site.page(article.path, article.news_page(published=f"{day} 08:15"))
    n = NEWS
    site.page(
        "/news/index.html",
        listing(
            [
                (n["census"].path, n["census"].title),
                (n["tracked"].path + TRACKED_QUERY, n["tracked"].title),
                (n["dragon_boat"].path, n["dragon_boat"].title),
                ("/news/go/8830", n["redirected"].title),
            ],
            '<span>1</span> <a href="index_2.html">2</a> <a href="index_2.html">下一页</a>',
        ),
    )
    site.page(
        "/news/index_2.html",
        listing(
            [(n["page2"].path, n["page2"].title)],
            '<a href="index.html">1</a> <span>2</span> <a href="index_3.html">3</a> '
            '<a href="index_4.html">4</a>',
        ),
    )
    site.route("/news/go/8830", status=301, headers={"Location": n["redirected"].path})
    site.page(
        "/news/index_3.html",
        listing([(n["page3"].path, n["page3"].title)], '<a href="index_4.html">›</a>'),
    )
    site.page(
        "/news/index_4.html",
        listing([(n["page4"].path, n["page4"].title)], '<a href="index_5.html">»</a>'),
    )
    site.page("/news/index_5.html", listing([(n["page5"].path, n["page5"].title)]))

    # Chinese encodings with headers that lie.
    site.page(
        "/enc/list.html",
        (
            '<html><head><meta charset="gbk"><title>县统计局动态</title></head><body>'
            '<ul class="list"><li><a href="gbk.html">冒充普查员诈骗提醒</a></li>'
            '<li><a href="big5.html">經濟普查公報</a></li>'
            '<li><a href="utf8.html">公开征集意见建议</a></li></ul></body></html>'
        ).encode("gbk"),
        content_type=html,
    )
    site.page(
        "/enc/gbk.html",
        encoded_page(GBK_TITLE, GBK_BODY, "gb2312", f"发布时间：{day} 10:00").encode("gbk"),
        content_type="text/html; charset=ISO-8859-1",
    )
    site.page(
        "/enc/big5.html",
        encoded_page(BIG5_TITLE, BIG5_BODY, "big5", f"發佈時間：{day} 10:00").encode("big5"),
        content_type="text/html; charset=gbk",
    )
    site.page(
        "/enc/utf8.html",
        encoded_page(UTF8_TITLE, UTF8_BODY, "gb2312", f"发布时间：{day} 10:00").encode("utf-8"),
        content_type="text/html",
    )

    # Feeds: Atom with full content, RSS 2.0 with one summary-only entry, one cut short.
    iso = clock.now.replace(microsecond=0).isoformat()
    site.page(
        "/feeds/atom.xml",
        template("atom.xml", base=site.base_url, published=iso),
        content_type="application/atom+xml; charset=utf-8",
    )
    site.page(
        "/rss/feed.xml",
        template("rss.xml", base=site.base_url, published=format_datetime(clock.now)),
        content_type="application/rss+xml; charset=utf-8",
    )
    site.page(
        "/rss/2026/8802.html",
        Article(
            "/rss/2026/8802.html",
            "县统计局提醒：经济普查员上门登记时会出示证件",
            [
                "临江县统计局提醒居民，经济普查员上门时会主动出示证件，居民可以要求查看。",
                "县统计局介绍，普查员证由县经济普查领导小组办公室统一制发，印有姓名、照片和编号。",
                "居民如对普查员身份有疑问，可拨打县统计局公布的咨询电话核实，谨防上当受骗。",
            ],
            published=f"{day} 07:00",
            outlet="江州日报",
            author="陈静",
        ).news_page(),
    )
    site.page(
        "/feeds/broken.xml",
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>临江',
        content_type="application/rss+xml; charset=utf-8",
    )

    # robots.txt forbids /private/: one source obeys it, one is configured not to.
    for letter, number in (("a", 1001), ("b", 1002)):
        site.page(
            f"/robots-{letter}/list.html",
            listing(
                [(f"/private/notice-{letter}/{number}.html", f"临江县统计局内部通知第{number}号")]
            ),
        )
        site.page(
            f"/private/notice-{letter}/{number}.html",
            Article(
                f"/private/notice-{letter}/{number}.html",
                f"临江县统计局内部通知第{number}号",
                [f"临江县统计局各股室：请于本周五前报送第{number}号统计台账，逾期将予以通报。"],
                published=f"{day} 11:00",
            ).news_page(),
        )

    # Failures: a 500 list page, a page slower than the timeout, a 20 MB page.
    site.page("/broken/index.html", "<h1>500 Internal Server Error</h1>", status=500)
    site.page(
        "/slow/list.html",
        listing(
            [
                ("/slow/2026/5001.html", "临江县统计局：数据发布日程表已公布"),
                ("/slow/2026/5002.html", "临江县统计局答复人大代表建议"),
            ]
        ),
    )
    site.page(
        "/slow/2026/5001.html",
        Article(
            "/slow/2026/5001.html",
            "临江县统计局：数据发布日程表已公布",
            ["临江县统计局公布下一年度统计数据发布日程表，月度数据将于次月中旬对外发布。"],
            published=f"{day} 12:00",
        ).news_page(),
    )
    site.route(
        "/slow/2026/5002.html",
        body=b"<html><body>too late</body></html>",
        headers={"Content-Type": html},
        delay=TIMEOUT + 3,
    )
    site.page(
        "/huge/list.html",
        listing(
            [
                ("/huge/2026/6001.html", "临江县统计局统计年鉴全文（超大页面）"),
                ("/huge/2026/6002.html", "临江县统计年鉴2026年卷出版发行"),
            ]
        ),
    )
    filler = "<p>" + "临江县统计局统计年鉴数据表格。" * 64 + "</p>\n"
    site.page("/huge/2026/6001.html", "<html><body>" + filler * 7_000 + "</body></html>")
    site.page(
        "/huge/2026/6002.html",
        Article(
            "/huge/2026/6002.html",
            "临江县统计年鉴2026年卷出版发行",
            ["由临江县统计局编纂的统计年鉴2026年卷正式出版发行，全面反映全县经济社会发展情况。"],
            published=f"{day} 13:00",
        ).news_page(),
    )

    # Broken markup on the list page and the article.
    site.page(
        "/messy/list.html",
        '<html><body><div class="nav"><a href="/">首页</a><ul><li><a href="/messy/2026/7001.html">'
        "临江县统计局回应网民关于常住人口数据的疑问<li><span>热点</ul></div></table>",
    )
    site.page("/messy/2026/7001.html", template("malformed_article.html", published=f"{day} 14:00"))

    # A forum with relative and Chinese times, read with a long look-back window.
    rows = "".join(
        f'<tr><th><a href="{path}" class="s xst">{title}</a></th>'
        f'<td class="by"><cite>{author}</cite><em>{when}</em></td></tr>'
        for when, (path, title, author) in FORUM.items()
    )
    site.page(
        "/bbs/forum-3-1.html",
        f'<html><head><meta charset="utf-8"><title>民生话题 - 临江论坛</title></head><body>'
        f"<table>{rows}</table></body></html>",
    )
    for when, (path, title, author) in FORUM.items():
        body = paragraphs(f"{title}。", f"想问问临江县统计局，{title}，有没有人知道情况？")
        site.page(
            path,
            template("forum_thread.html", title=title, author=author, published=when, body=body),
        )

    # A list dated on the page, its second page only older than the look-back window.
    old_day = "2020-03-01"
    dated = {p: (day if recent else old_day) for p, (_, recent) in LOOKBACK.items()}
    paths = list(LOOKBACK)
    for number, chunk in ((1, paths[:3]), (2, paths[3:])):
        site.page(
            f"/old/list_{number}.html",
            listing(
                [(p, LOOKBACK[p][0]) for p in chunk],
                f'<a href="list_{number + 1}.html">下一页</a>',
                dated=dated,
            ),
        )
    site.page("/old/list_3.html", listing([("/old/2020/a6.html", "临江县统计局旧闻一则标题")]))
    for path, (title, _) in LOOKBACK.items():
        site.page(
            path,
            Article(
                path, title, [f"{title}。临江县统计局相关负责人介绍了有关情况。"], dated[path]
            ).news_page(),
        )


def sources(site: LoopbackSite) -> list[dict[str, Any]]:
    return [
        {
            "name": "gov-portal",
            "kind": "site",
            "url": site.url("/tjj/tzgg/index.html"),
            "selectors": GOV_SELECTORS,
        },
        {
            "name": "news-portal",
            "kind": "site",
            "url": site.url("/news/index.html"),
            "max_pages": 4,
        },
        {
            "name": "encodings",
            "kind": "site",
            "url": site.url("/enc/list.html"),
            "selectors": ENCODED_SELECTORS,
        },
        # A publisher's own feed names itself as the outlet of its items.
        {
            "name": "atom-feed",
            "kind": "rss",
            "url": site.url("/feeds/atom.xml"),
            "outlet": "临江新闻网",
        },
        {"name": "rss-feed", "kind": "rss", "url": site.url("/rss/feed.xml")},
        {"name": "broken-feed", "kind": "rss", "url": site.url("/feeds/broken.xml")},
        {"name": "robots-obeyed", "kind": "site", "url": site.url("/robots-a/list.html")},
        {
            "name": "robots-ignored",
            "kind": "site",
            "url": site.url("/robots-b/list.html"),
            "obey_robots": False,
        },
        {"name": "server-error", "kind": "site", "url": site.url("/broken/index.html")},
        {"name": "slow-article", "kind": "site", "url": site.url("/slow/list.html")},
        {"name": "huge-article", "kind": "site", "url": site.url("/huge/list.html")},
        {"name": "messy-markup", "kind": "site", "url": site.url("/messy/list.html")},
        {
            "name": "forum",
            "kind": "site",
            "url": site.url("/bbs/forum-3-1.html"),
            "selectors": FORUM_SELECTORS,
            "lookback_days": 36500,
        },
        {"name": "dated-list", "kind": "site", "url": site.url("/old/list_1.html")},
        {"name": "unreachable", "kind": "site", "url": f"http://127.0.0.1:{free_port()}/news/"},
    ]


HEALTHY = ["gov-portal", "news-portal", "atom-feed", "rss-feed", "dated-list", "robots-ignored"]


# --- crawling and reading back -------------------------------------------------------------


@dataclass
class Stored:
    source: str
    url: str
    canonical_url: str
    title: str
    text: str
    author: str
    outlet: str
    published_at: datetime | None


@dataclass
class Run:
    """A crawl-run record; `fetched` counts every response, the source's robots.txt included."""

    status: str
    fetched: int
    found: int
    stored: int
    skipped: int
    failed: int
    error: str


@dataclass
class Crawl:
    """One crawl's outcome: the process, what the server was asked for, the database after."""

    process: subprocess.CompletedProcess[str]
    started: datetime
    finished: datetime
    hits: Counter[str]
    mentions: dict[str, Stored]  # by canonical URL
    runs: dict[str, Run]  # the newest run of each source
    seen_pages: dict[str, str]  # canonical URL → outcome


@dataclass
class World:
    site: LoopbackSite
    clock: Clock
    first: Crawl
    second: Crawl

    def mention(self, path: str) -> Stored:
        return self.first.mentions[self.site.url(path)]


def crawl(site: LoopbackSite, config: Path, env: dict[str, str], only: list[str]) -> Crawl:
    site.reset_log()
    started = datetime.now(SH)
    process = run_crawl(config, only=only, env=env, timeout=90)
    finished = datetime.now(SH)
    hits = Counter(urlsplit(p).path for p in site.requests)
    database = Database(load_settings(config, env=env), migrate=False)
    try:
        with database.transaction() as session:
            names = {row.id: row.name for row in session.scalars(select(SourceRow))}
            mentions = {
                m.canonical_url: Stored(
                    source=names.get(m.source_id or 0, ""),
                    url=m.url,
                    canonical_url=m.canonical_url,
                    title=m.title,
                    text=m.text,
                    author=m.author,
                    outlet=m.outlet,
                    published_at=m.published_at,
                )
                for m in session.scalars(select(Mention))
            }
            runs = {
                names[r.source_id]: Run(
                    r.status, r.fetched, r.found, r.stored, r.skipped, r.failed, r.error or ""
                )
                for r in session.scalars(select(CrawlRun).order_by(CrawlRun.id))
            }
            seen = {p.canonical_url: p.outcome for p in session.scalars(select(SeenPage))}
    finally:
        database.dispose()
    return Crawl(process, started, finished, hits, mentions, runs, seen)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("crawl")
    env = {"YUQING_DATA": str(root / "data"), **CRAWL_ENV}
    site = LoopbackSite().start()
    try:
        clock = Clock(datetime.now(SH))
        serve(site, clock)
        config = write_sources(root / "config", sources(site))
        first = crawl(site, config, env, only=[])
        second = crawl(site, config, env, only=HEALTHY)
        yield World(site, clock, first, second)
    finally:
        site.stop()


def run_of(world: World, name: str) -> Run:
    return world.first.runs[name]


def in_office_time(value: datetime | None) -> datetime:
    assert value is not None
    return value.astimezone(SH)


def served_day_at(world: World, hour: int, minute: int) -> datetime:
    """A time the pages print as "<the day they were served> HH:MM", in the office zone."""
    day = world.clock.now
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH)


# --- the crawl as a whole ------------------------------------------------------------------


def test_crawl_exits_cleanly_although_sources_fail(world: World) -> None:
    assert world.first.process.returncode == 0, world.first.process.stderr[-3000:]


def test_every_source_gets_a_crawl_run_record(world: World) -> None:
    assert set(world.first.runs) == {s["name"] for s in sources(world.site)}


def test_failing_sources_do_not_stop_the_others(world: World) -> None:
    failed = {name for name, run in world.first.runs.items() if run.status == "failed"}
    stored = {m.source for m in world.first.mentions.values()}

    # robots-obeyed listed one article and could fetch none of it: a failed run too.
    assert failed == {"server-error", "broken-feed", "unreachable", "robots-obeyed"}
    assert stored >= {
        "gov-portal",
        "news-portal",
        "encodings",
        "atom-feed",
        "rss-feed",
        "robots-ignored",
        "slow-article",
        "huge-article",
        "messy-markup",
        "forum",
        "dated-list",
    }


# --- a site with selectors -----------------------------------------------------------------


def test_site_with_selectors_stores_title_text_time_author_and_outlet(world: World) -> None:
    article = GOV[0]
    stored = world.mention(article.path)

    assert stored.source == "gov-portal"
    assert stored.title == stored_form(article.title)
    assert stored.text == stored_form(*article.body)
    assert stored.author == "周敏"
    assert stored.outlet == "临江县统计局"
    assert stored.published_at == served_day_at(world, 9, 30)


def test_site_with_selectors_follows_a_302_redirect_and_its_next_page(world: World) -> None:
    redirected = world.mention(GOV[2].path)

    assert redirected.url == world.site.url(GOV[2].path)
    assert redirected.title == GOV[2].title
    assert world.first.hits["/tjj/redirect.jsp"] == 1
    assert run_of(world, "gov-portal") == Run("ok", 6, 3, 3, 0, 0, "")


# --- a site without selectors --------------------------------------------------------------


def test_site_without_selectors_finds_articles_and_extracts_them(world: World) -> None:
    article = NEWS["census"]
    stored = world.mention(article.path)

    assert stored.title == stored_form(article.title)
    assert stored.text == stored_form(*article.body)
    assert stored.outlet == "临江新闻网"
    assert stored.author == "王芳"
    assert stored.published_at == served_day_at(world, 8, 15)


def test_site_without_selectors_skips_navigation_and_other_sites(world: World) -> None:
    hits = world.first.hits

    assert hits["/about.html"] == 0
    assert hits["/"] == 0
    # Links in an article's sidebar are not list items: article pages are not crawled for links.
    assert hits["/news/2026/1101/7001.html"] == 0


def test_site_without_selectors_pages_by_next_numbered_and_arrow_links_up_to_max_pages(
    world: World,
) -> None:
    hits = world.first.hits

    assert [hits[f"/news/index{s}.html"] for s in ("", "_2", "_3", "_4")] == [1, 1, 1, 1]
    assert hits["/news/index_5.html"] == 0
    assert hits[NEWS["page5"].path] == 0
    assert world.site.url(NEWS["page4"].path) in world.first.mentions


def test_a_301_from_a_listed_url_stores_the_article_under_its_final_url(world: World) -> None:
    stored = world.mention(NEWS["redirected"].path)

    assert stored.title == NEWS["redirected"].title
    assert world.first.hits["/news/go/8830"] == 1


def test_tracking_parameters_are_stripped_from_the_canonical_url(world: World) -> None:
    stored = world.mention(NEWS["tracked"].path + "?id=7")

    assert stored.title == NEWS["tracked"].title
    assert "utm_source=weibo" in stored.url
    assert not any(p in stored.canonical_url for p in ("utm_", "spm=", "from="))


def test_irrelevant_article_is_set_aside_not_stored(world: World) -> None:
    url = world.site.url(NEWS["dragon_boat"].path)

    assert url not in world.first.mentions
    assert world.first.seen_pages[url] == "irrelevant"
    run = run_of(world, "news-portal")
    assert (run.status, run.found, run.stored, run.skipped, run.failed) == ("ok", 7, 6, 1, 0)


# --- encodings -----------------------------------------------------------------------------


def test_gbk_page_served_as_iso_8859_1_is_stored_in_chinese(world: World) -> None:
    stored = world.mention("/enc/gbk.html")

    assert (stored.title, stored.text) == (stored_form(GBK_TITLE), stored_form(GBK_BODY))
    assert stored.published_at == served_day_at(world, 10, 0)


def test_big5_page_served_as_gbk_is_stored_in_its_own_traditional_characters(
    world: World,
) -> None:
    stored = world.mention("/enc/big5.html")

    # As published; keyword matching reads it through its simplified key (it was relevant).
    assert stored.title == BIG5_TITLE
    assert stored.text.startswith("臨江縣統計局今日發佈經濟普查公報")
    # Labelled in traditional characters: 發佈時間.
    assert stored.published_at == served_day_at(world, 10, 0)


def test_utf8_page_with_a_wrong_meta_tag_is_stored_in_chinese(world: World) -> None:
    stored = world.mention("/enc/utf8.html")

    assert (stored.title, stored.text) == (stored_form(UTF8_TITLE), stored_form(UTF8_BODY))
    assert stored.published_at == served_day_at(world, 10, 0)
    # The list page itself is GBK served as UTF-8: its links were found and followed.
    assert run_of(world, "encodings") == Run("ok", 5, 3, 3, 0, 0, "")


# --- feeds ---------------------------------------------------------------------------------


def test_atom_entry_is_stored_with_author_and_time(world: World) -> None:
    stored = world.mention("/feeds/news/9101.html")

    assert stored.title == "临江县统计局发布前三季度全县经济运行情况"
    assert stored.text.startswith("临江县统计局今日发布前三季度全县经济运行情况。")
    assert stored.text.endswith("为完成全年目标任务打下了坚实基础。")
    assert (stored.author, stored.outlet) == ("李明", "临江新闻网")
    assert in_office_time(stored.published_at) == world.clock.now.replace(microsecond=0)
    assert world.first.hits["/feeds/news/9101.html"] == 0  # full content: no page fetched
    assert run_of(world, "atom-feed") == Run("ok", 2, 1, 1, 0, 0, "")


def test_rss_entry_with_full_content_is_stored_without_fetching_its_page(world: World) -> None:
    stored = world.mention("/rss/2026/8801.html")

    assert stored.title == "临江县统计局召开统计数据质量专项检查部署会"
    assert stored.author == "陈静"
    assert world.first.hits["/rss/2026/8801.html"] == 0


def test_summary_only_rss_entry_is_completed_from_its_linked_page(world: World) -> None:
    stored = world.mention("/rss/2026/8802.html")

    assert stored.title == stored_form("县统计局提醒：经济普查员上门登记时会出示证件")
    assert "普查员证由县经济普查领导小组办公室统一制发" in stored.text
    assert "谨防上当受骗" in stored.text
    assert (stored.author, stored.outlet) == ("", "江州日报·临江频道")  # the entry names no author
    assert world.first.hits["/rss/2026/8802.html"] == 1
    assert run_of(world, "rss-feed") == Run("ok", 3, 2, 2, 0, 0, "")


def test_feed_that_does_not_parse_is_recorded_as_failed(world: World) -> None:
    run = run_of(world, "broken-feed")

    assert (run.status, run.found, run.stored, run.failed) == ("failed", 0, 0, 1)
    assert "/feeds/broken.xml" in run.error
    assert "feed does not parse" in run.error


# --- robots.txt ----------------------------------------------------------------------------


def test_robots_txt_forbids_fetching_the_articles_and_the_run_says_so(world: World) -> None:
    run = run_of(world, "robots-obeyed")

    assert world.first.hits["/private/notice-a/1001.html"] == 0
    assert (run.status, run.found, run.stored, run.failed) == ("failed", 1, 0, 1)
    assert "/private/notice-a/1001.html" in run.error
    assert "robots.txt" in run.error


def test_source_not_obeying_robots_txt_fetches_and_stores(world: World) -> None:
    stored = world.mention("/private/notice-b/1002.html")

    assert stored.title == "临江县统计局内部通知第1002号"
    assert world.first.hits["/private/notice-b/1002.html"] == 1
    assert run_of(world, "robots-ignored") == Run("ok", 2, 1, 1, 0, 0, "")


# --- failures ------------------------------------------------------------------------------


def test_server_error_is_recorded_with_the_url(world: World) -> None:
    run = run_of(world, "server-error")

    assert (run.status, run.fetched, run.found, run.stored, run.failed) == ("failed", 2, 0, 0, 1)
    assert world.site.url("/broken/index.html") in run.error
    assert "500" in run.error


def test_page_slower_than_the_timeout_is_recorded_and_the_rest_stored(world: World) -> None:
    run = run_of(world, "slow-article")

    assert world.site.url("/slow/2026/5001.html") in world.first.mentions
    assert world.site.url("/slow/2026/5002.html") not in world.first.mentions
    assert (run.status, run.fetched, run.found, run.stored, run.failed) == ("ok", 3, 2, 1, 1)
    assert "/slow/2026/5002.html" in run.error
    assert "took longer than" in run.error


def test_page_over_the_size_limit_is_dropped_and_the_rest_stored(world: World) -> None:
    run = run_of(world, "huge-article")

    assert world.site.url("/huge/2026/6002.html") in world.first.mentions
    assert world.site.url("/huge/2026/6001.html") not in world.first.mentions
    assert (run.status, run.fetched, run.found, run.stored, run.failed) == ("ok", 3, 2, 1, 1)
    assert "/huge/2026/6001.html" in run.error
    assert "max size" in run.error


def test_unreachable_source_is_recorded_as_failed(world: World) -> None:
    run = run_of(world, "unreachable")

    assert (run.status, run.fetched, run.stored) == ("failed", 0, 0)
    assert "Connection was refused" in run.error


def test_malformed_html_is_still_extracted(world: World) -> None:
    stored = world.mention("/messy/2026/7001.html")

    assert stored.title == "临江县统计局回应网民关于常住人口数据的疑问"
    assert stored.text.startswith(stored_form("近日，有网民在论坛发帖质疑临江县常住人口数据"))
    assert "相关数据均按国家统一标准核算" in stored.text
    assert "工作人员将在三个工作日内答复" in stored.text
    assert "版权所有" not in stored.text
    assert stored.outlet == "临江发布"
    assert run_of(world, "messy-markup") == Run("ok", 3, 1, 1, 0, 0, "")


# --- times ---------------------------------------------------------------------------------


def forum_time(world: World, when: str) -> datetime:
    return in_office_time(world.mention(FORUM[when][0]).published_at)


def test_forum_threads_are_stored_with_their_authors(world: World) -> None:
    for path, title, author in FORUM.values():
        stored = world.mention(path)
        assert (stored.title, stored.author) == (stored_form(title), author)
    assert run_of(world, "forum") == Run("ok", 6, 4, 4, 0, 0, "")


def test_minutes_ago_is_counted_back_from_the_crawl(world: World) -> None:
    published = forum_time(world, "3分钟前")

    earliest = world.first.started - timedelta(minutes=3, seconds=1)
    latest = world.first.finished - timedelta(minutes=3)
    assert earliest <= published <= latest


def test_yesterday_with_a_time_is_yesterday_in_the_office_time_zone(world: World) -> None:
    published = forum_time(world, "昨天 12:30")

    days = {(t - timedelta(days=1)).date() for t in (world.first.started, world.first.finished)}
    assert published.date() in days
    assert (published.hour, published.minute, published.utcoffset()) == (
        12,
        30,
        timedelta(hours=8),
    )


def test_chinese_full_date_is_read_in_the_office_time_zone(world: World) -> None:
    assert forum_time(world, "2024年1月2日 08:00") == datetime(2024, 1, 2, 8, 0, tzinfo=SH)


def test_month_day_without_a_year_is_this_year(world: World) -> None:
    assert forum_time(world, "01-02") == datetime(world.first.started.year, 1, 2, tzinfo=SH)


# --- look-back window and incremental crawls -----------------------------------------------


def test_listed_items_older_than_the_look_back_window_are_not_fetched(world: World) -> None:
    hits = world.first.hits
    run = run_of(world, "dated-list")

    assert [hits[p] for p in LOOKBACK] == [1, 1, 0, 0, 0]
    assert {world.site.url(p) for p, (_, recent) in LOOKBACK.items() if recent} <= set(
        world.first.mentions
    )
    assert run == Run("ok", 5, 5, 2, 3, 0, "")


def test_paging_stops_at_a_page_listing_only_old_items(world: World) -> None:
    hits = world.first.hits

    assert (hits["/old/list_1.html"], hits["/old/list_2.html"], hits["/old/list_3.html"]) == (
        1,
        1,
        0,
    )


def test_second_crawl_of_an_unchanged_site_stores_nothing_new(world: World) -> None:
    assert world.second.process.returncode == 0, world.second.process.stderr[-3000:]
    assert world.second.mentions.keys() == world.first.mentions.keys()
    for name in HEALTHY:
        run = world.second.runs[name]
        assert (name, run.status, run.stored, run.failed) == (name, "ok", 0, 0)


def test_second_crawl_fetches_list_pages_but_no_article_seen_before(world: World) -> None:
    hits = world.second.hits
    articles = [
        *(a.path for a in GOV),
        *(a.path for a in NEWS.values()),
        *LOOKBACK,
        "/rss/2026/8802.html",
        "/private/notice-b/1002.html",
    ]

    assert hits["/tjj/tzgg/index.html"] == hits["/news/index.html"] == 1
    assert {path: hits[path] for path in articles if hits[path]} == {}


def test_second_crawl_does_not_fetch_an_article_set_aside_as_irrelevant(world: World) -> None:
    assert world.first.hits[NEWS["dragon_boat"].path] == 1
    assert world.second.hits[NEWS["dragon_boat"].path] == 0


def test_second_crawl_stops_paging_at_a_page_of_known_and_old_items(world: World) -> None:
    assert world.first.hits["/old/list_2.html"] == 1
    assert world.second.hits["/old/list_1.html"] == 1
    assert world.second.hits["/old/list_2.html"] == 0


def test_second_crawl_does_not_follow_a_known_redirect_again(world: World) -> None:
    hits = world.second.hits

    assert (hits["/news/go/8830"], hits[NEWS["redirected"].path]) == (0, 0)
    assert (hits["/tjj/redirect.jsp"], hits[GOV[2].path]) == (0, 0)
    # With every item on the first page known, paging stops there.
    assert (hits["/news/index_2.html"], hits["/tjj/tzgg/index_1.html"]) == (0, 0)
