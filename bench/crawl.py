"""`python -m bench.crawl`: yuqing's crawl speed against a bare Scrapy spider, in one table.

A local news site is generated (`--pages` article pages, default 2,000, of 200–600 characters
of varied Chinese each, about 10 % of them not about the office; list pages of 20 links with
numbered pagers and a 下一页 link; pages with nav bars, a sidebar, related links, inline CSS and
JavaScript, about 10 KB, served gzipped as most sites do) and served by a small asyncio server
in its own process, pinned to the second core, so it shares neither the crawler's interpreter
nor its core.

On the same site, each crawler in a subprocess pinned to the first core:

1. bare Scrapy: a plain spider that follows the list pages and fetches the article pages, with
   no pipelines and no extraction; it runs with yuqing's own Scrapy settings
   (`crawlers/settings.py` without yuqing's pipelines and middlewares, plus the values the
   runner sets), so the same Scrapy, the same concurrency, no AutoThrottle, no robots.txt;
2. yuqing with CSS selectors: `python -m crawlers --config DIR` on a fresh data directory with
   one `site` source (selectors for links, next page, title, body, time, author, outlet);
   1 and 2 alternate `--repeat` times (default 3), because the machine's speed drifts (a
   shared host), and the table shows the median run of each;
3. yuqing again on the unchanged site and the first run's data directory (incremental);
4. yuqing without selectors (generic link rules and extraction), fresh data directory, also
   taking turns with 1 and 2; with `--baseline REV`, 2 and 4 from the code of git revision REV
   (exported with `git archive`, run with its own `PYTHONPATH`) take turns with them too, so
   "before" and "after" are measured side by side under the same load.

Pages/s = article pages the server answered during the run / the crawl's own seconds, which are
Scrapy's `elapsed_time_seconds` (spider opened → spider closed, from the stats dump every
Scrapy process logs), so interpreter start-up, imports, yuqing's schema migration and its
after-crawl work (reprint grouping, source health) are left out for both; the whole process's
seconds are shown beside it. yuqing has to reach at least half of the bare figure with
selectors, or this exits with status 1. `--profile [css|generic]` adds a cProfile of one more
yuqing crawl, with CSS selectors or without.

The server's capacity is measured too, with a raw asyncio client fetching every article page,
and from the server's own CPU seconds per answer during the crawls.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import io
import json
import os
import platform
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
PER_PAGE = 20
IRRELEVANT_SHARE = 0.1
SPAN_DAYS = 10  # articles reach back this far; the source's look-back is longer
SEED = 20261122
TZ = ZoneInfo("Asia/Shanghai")
CRAWLER_CORE, SERVER_CORE = "0", "1"
CONTROL = "/__bench/"
SELECTORS = {
    "links": "ul.news-list li a",
    "next_page": "a.next",
    "title": "h1.title::text",
    "body": "div.article-content",
    "time": "span.pub-time::text",
    "author": "span.author::text",
    "outlet": "span.source::text",
}


def log(message: str) -> None:
    print(f"[bench.crawl] {message}", file=sys.stderr, flush=True)


# --- the site ---------------------------------------------------------------------------------

TOWNS = "城关镇 河西乡 临江镇 石桥镇 白沙乡 青山镇 柳林乡 东岗镇 南湖街道 北关街道 龙泉乡 新华街道"
INDICATORS = (
    "地区生产总值 规模以上工业增加值 社会消费品零售总额 固定资产投资 城镇居民人均可支配收入 "
    "农村居民人均可支配收入 一般公共预算收入 粮食总产量 城镇新增就业人数 进出口总额"
)
CROPS = "早稻 晚稻 小麦 油菜籽 玉米 柑橘 茶叶 花生"
OUTLETS = "临江新闻网 临江日报 临江县融媒体中心 江州晚报 江州新闻网 临江发布"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华建国红梅志文斌"
CHANNELS = [
    ("/", "首页"),
    ("/news/", "本地要闻"),
    ("/zhengwu/", "政务公开"),
    ("/shehui/", "社会民生"),
    ("/jingji/", "经济"),
    ("/wenlv/", "文旅"),
    ("/tiyu/", "体育"),
    ("/shuju/", "数据发布"),
    ("/zhuanti/", "专题"),
    ("/shipin/", "视频"),
    ("/hudong/", "互动"),
]

RELEVANT_TITLES = [
    "临江县统计局发布{year}年前三季度全县经济运行情况",
    "{town}普查员入户开展第五次全国经济普查登记",
    "网友质疑临江县{indicator}数据 县统计局回应",
    "县统计局开展{month}月统计执法“双随机”检查",
    "临江县召开{year}年统计工作暨经济普查推进会",
    "临江县{indicator}同比增长{pct}%",
    "统计普法宣传走进{town}",
    "临江县统计局开展{crop}产量抽样调查",
    "{town}居民反映普查员上门登记的信息安全问题",
    "临江县统计公报：{indicator}达到{value}亿元",
    "县统计局组织{n}名统计调查员参加业务培训",
    "临江县启动{year}年人口变动情况抽样调查",
    "临江统计：{month}月{indicator}运行平稳",
    "“{town}统计数据造假”传言不实 县统计局发布说明",
]
RELEVANT_SENTENCES = [
    "{day}，临江县统计局在{town}召开专题会议，部署{indicator}相关统计工作。",
    "据临江县统计局介绍，截至{month}月底，全县{indicator}完成{value}亿元，同比增长{pct}%。",
    "县统计局有关负责人表示，统计数据严格按照国家统计制度采集、审核和发布。",
    "{town}共选聘普查员和普查指导员{n}名，已完成{pct}%的普查对象入户登记。",
    "普查员{name}告诉记者，入户时会出示普查员证件，请居民放心配合。",
    "有网友在论坛发帖称，{town}上报的{indicator}明显偏高，引发部分居民讨论。",
    "对此，县统计局回应称，相关数据来自{n}家规模以上企业的联网直报，未发现异常。",
    "县统计局提醒，统计调查不会索要银行卡密码，也不会收取任何费用。",
    "今年以来，县统计局共开展统计执法检查{n}次，立案查处统计违法案件{k}件。",
    "{crop}产量调查共抽选样本{n}个，调查员实地测产后将数据逐级上报。",
    "统计公报显示，全县{indicator}比上年增长{pct}%，增速居全市第{k}位。",
    "会议要求，各乡镇要压实数据质量责任，确保经济普查数据真实准确、完整可靠。",
    "部分企业反映报表填报负担较重，县统计局表示将通过联网直报平台简化流程。",
    "{name}是{town}的一名统计调查员，已经连续{k}年参加住户收支调查。",
    "县统计局通过微信公众号“临江统计”同步发布了本次调查的主要数据。",
    "临江县统计局局长{name}表示，下一步将加强对基层统计人员的业务培训。",
    "普查办工作人员逐项核对了{n}份普查表，对发现的{k}处问题当场要求更正。",
    "据了解，此次人口抽样调查涉及{town}等{k}个乡镇的{n}户居民。",
    "针对群众关心的个人信息保护问题，普查机构承诺普查资料仅用于统计目的。",
    "县统计局表示，欢迎社会各界通过12345热线对统计工作进行监督。",
]
IRRELEVANT_TITLES = [
    "{town}第{k}届柑橘文化节开幕",
    "临江县新建{n}公里农村公路通车",
    "{town}举办老年人广场舞大赛",
    "临江县中小学开展秋季消防演练",
    "{town}{crop}喜获丰收 农户笑开颜",
    "临江县图书馆推出周末亲子阅读活动",
    "本周末临江有小到中雨 气温下降{k}度",
    "临江县篮球联赛{town}队夺冠",
]
IRRELEVANT_SENTENCES = [
    "{day}，{town}文化广场上人头攒动，吸引了{n}余名市民和游客。",
    "活动现场设置了{k}个展区，集中展示了本地特色农产品和手工艺品。",
    "县交通运输局负责人介绍，新路通车后{town}到县城的车程缩短了{k}0分钟。",
    "气象部门提醒，受冷空气影响，未来{k}天全县将出现明显降温。",
    "今年{town}{crop}种植面积达{n}亩，收购价格比去年略有上涨。",
    "比赛吸引了全县{k}支代表队参加，现场观众掌声不断。",
    "图书馆工作人员表示，活动每周六上午举行，免费向市民开放。",
    "学校组织师生{n}余人参加演练，全程用时{k}分钟。",
    "村民{name}说，这几年路修好了，农产品运出去方便多了。",
    "主办方表示，今后将继续举办类似活动，丰富群众的文化生活。",
    "据悉，该项目总投资{value}万元，预计明年{month}月全部完工。",
    "不少市民带着孩子前来参观，现场气氛热烈。",
    "县文旅局负责人表示，将进一步挖掘本地文化资源，打造特色旅游品牌。",
    "记者在现场看到，工作人员正在有序引导车辆和行人通行。",
    "{name}是一名退休教师，每天傍晚都会和老伙伴们一起锻炼身体。",
    "受降雨影响，部分山区道路可能出现落石，请驾驶员注意安全。",
]
FRIENDS = [
    ("http://www.gov.cn/", "中国政府网"),
    ("http://www.xinhuanet.com/", "新华网"),
    ("http://www.people.com.cn/", "人民网"),
    ("http://www.stats.gov.cn/", "国家统计局"),
    ("http://www.jiangzhou.gov.cn/", "江州市人民政府"),
    ("http://www.linjiang.gov.cn/", "临江县人民政府"),
    ("http://news.jiangzhou.cn/", "江州新闻网"),
    ("http://www.12377.cn/", "违法和不良信息举报"),
]

STYLE = (
    "<style>body{margin:0;font:14px/1.8 'Microsoft YaHei',sans-serif;color:#333}"
    ".topbar{background:#f5f5f5;height:30px}.header{width:1200px;margin:0 auto}"
    ".nav li{float:left;padding:0 15px}.main{width:1200px;margin:20px auto;overflow:hidden}"
    ".article{float:left;width:820px}.sidebar{float:right;width:340px}"
    ".title{font-size:26px;text-align:center}.info{color:#999;text-align:center}"
    ".article-content p{text-indent:2em;margin:12px 0}.news-list li{border-bottom:1px dashed"
    " #ddd;padding:8px 0}.news-list .date{float:right;color:#999}.pager a{margin:0 4px}"
    ".footer{background:#2b2b2b;color:#aaa;text-align:center;padding:20px 0}</style>"
)
SCRIPT = (
    "<script>var _hmt=_hmt||[];(function(){var hm=document.createElement('script');"
    "hm.src='https://hm.example.cn/hm.js?5f1e0c9d';var s=document.getElementsByTagName("
    "'script')[0];s.parentNode.insertBefore(hm,s);})();function setFont(n){document."
    "getElementById('content').style.fontSize=n+'px';}</script>"
)


@dataclass
class Article:
    number: int
    path: str
    title: str
    paragraphs: list[str]
    published: datetime
    outlet: str
    author: str
    relevant: bool


@dataclass
class Site:
    pages: dict[str, tuple[str, str]] = field(default_factory=dict)  # path → (kind, html)
    articles: list[Article] = field(default_factory=list)

    @property
    def list_pages(self) -> int:
        return sum(1 for kind, _ in self.pages.values() if kind == "list")


class Writer:
    """Varied Chinese news text from templates and random figures (seeded)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def name(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(self.rng.sample(GIVEN, self.rng.randint(1, 2)))

    def fill(self, template: str, when: datetime) -> str:
        r = self.rng
        return template.format(
            year=when.year - r.randint(0, 1),
            month=r.randint(1, 12),
            day=f"{when.month}月{when.day}日",
            town=r.choice(TOWNS.split()),
            indicator=r.choice(INDICATORS.split()),
            crop=r.choice(CROPS.split()),
            pct=f"{r.uniform(0.3, 12):.1f}",
            value=f"{r.uniform(3, 400):.2f}",
            n=r.randint(12, 3000),
            k=r.randint(2, 9),
            name=self.name(),
        )

    def article(self, number: int, published: datetime, relevant: bool) -> Article:
        titles, sentences = (
            (RELEVANT_TITLES, RELEVANT_SENTENCES)
            if relevant
            else (IRRELEVANT_TITLES, IRRELEVANT_SENTENCES)
        )
        picked = self.rng.sample(
            sentences, self.rng.randint(len(sentences) // 2, len(sentences) - 4)
        )
        paragraphs = []
        while picked:
            take = self.rng.randint(2, 4)
            paragraphs.append("".join(self.fill(s, published) for s in picked[:take]))
            picked = picked[take:]
        if relevant and "统计局" not in paragraphs[0]:
            # Most reports name the office in their lead; keep the relevance rules matching.
            paragraphs[0] = self.fill(RELEVANT_SENTENCES[0], published) + paragraphs[0]
        day = published.strftime("%Y%m%d")
        return Article(
            number=number,
            path=f"/news/{published:%Y%m}/t{day}_{number:06d}.html",
            title=self.fill(self.rng.choice(titles), published),
            paragraphs=paragraphs,
            published=published,
            outlet=self.rng.choice(OUTLETS.split()),
            author=self.name(),
            relevant=relevant,
        )


def _frame(title: str, head: str, main: str, hot: list[Article]) -> str:
    """The chrome every page of the site shares: nav bars, a sidebar, a footer, scripts."""
    nav = "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in CHANNELS)
    towns = "".join(
        f'<a href="/xz/{i:02d}/">{town}</a> ' for i, town in enumerate(TOWNS.split(), 1)
    )
    hot_items = "".join(
        f'<li><span class="num">{i}</span><a href="{a.path}" title="{a.title}">{a.title}</a></li>'
        for i, a in enumerate(hot[:10], 1)
    )
    pictures = "".join(
        f'<li><a href="{a.path}"><img src="/uploads/{a.number:06d}.jpg" alt="{a.title}"></a>'
        f'<p><a href="{a.path}">{a.title}</a></p></li>'
        for a in hot[10:]
    )
    friends = "".join(f'<a href="{href}" target="_blank">{text}</a> ' for href, text in FRIENDS)
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}_临江新闻网</title>\n{head}{STYLE}\n</head>\n<body>\n"
        '<div class="topbar">欢迎访问临江新闻网 <a href="/m/">手机版</a> '
        '<a href="/rss/">订阅</a> <a href="/search/">站内搜索</a></div>\n'
        '<div class="header"><a class="logo" href="/"><img src="/static/logo.png" '
        f'alt="临江新闻网"></a><ul class="nav">{nav}</ul>'
        f'<div class="towns">乡镇频道：{towns}</div></div>\n'
        f'<div class="main">{main}\n<div class="sidebar"><h3>热点排行</h3>'
        f'<ol class="hot">{hot_items}</ol><h3>图片新闻</h3><ul class="pics">{pictures}</ul>'
        '<h3>便民服务</h3><ul><li><a href="/bm/">办事指南</a></li><li><a href="/tq/">天气</a>'
        '</li><li><a href="/jt/">公交查询</a></li><li><a href="/yl/">医疗挂号</a></li></ul>'
        "</div></div>\n"
        f'<div class="friends">友情链接：{friends}</div>\n'
        '<div class="footer"><p>主办：临江县融媒体中心 地址：临江县人民路1号 电话：0000-1234567</p>'
        "<p>版权所有 临江新闻网（基准测试站点，内容为程序生成） 江ICP备00000000号-1</p>"
        '<p><a href="/about/">关于我们</a> <a href="/contact/">联系我们</a></p></div>\n'
        f'<script src="/static/jquery.min.js"></script>{SCRIPT}\n</body>\n</html>\n'
    )


def _list_path(page: int) -> str:
    return "/news/" if page == 1 else f"/news/index_{page - 1}.html"


def _pager(page: int, pages: int) -> str:
    links = [f'<a href="{_list_path(1)}">首页</a>']
    if page > 1:
        links.append(f'<a href="{_list_path(page - 1)}">上一页</a>')
    for p in range(max(1, page - 4), min(pages, page + 4) + 1):
        links.append(f"<span>{p}</span>" if p == page else f'<a href="{_list_path(p)}">{p}</a>')
    if page < pages:
        links.append(f'<a class="next" href="{_list_path(page + 1)}">下一页</a>')
    links.append(f'<a href="{_list_path(pages)}">尾页</a>')
    return f'<div class="pager">{" ".join(links)} 共{pages}页</div>'


def _article_html(article: Article, related: list[Article], hot: list[Article]) -> str:
    body = "".join(f"<p>{p}</p>\n" for p in article.paragraphs)
    related_items = "".join(f'<li><a href="{a.path}">{a.title}</a></li>' for a in related)
    stamp = article.published.strftime("%Y-%m-%d %H:%M")
    head = (
        f'<meta name="keywords" content="临江,{article.title[:8]}">\n'
        f'<meta name="description" content="{article.paragraphs[0][:60]}">\n'
    )
    main = (
        '<div class="article"><div class="crumb">当前位置：<a href="/">首页</a> &gt; '
        '<a href="/news/">本地要闻</a> &gt; 正文</div>\n'
        f'<h1 class="title">{article.title}</h1>\n'
        f'<div class="info">发布时间：<span class="pub-time">{stamp}</span> '
        f'来源：<span class="source">{article.outlet}</span> '
        f'作者：<span class="author">{article.author}</span> '
        '字号：<a href="javascript:setFont(16)">大</a> <a href="javascript:setFont(14)">中</a>'
        "</div>\n"
        f'<div class="article-content" id="content">\n{body}</div>\n'
        f'<div class="editor">责任编辑：{article.author}</div>\n'
        '<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a></div>\n'
        f'<div class="related"><h3>相关阅读</h3><ul>{related_items}</ul></div></div>'
    )
    return _frame(article.title, head, main, hot)


def _list_html(page: int, pages: int, articles: list[Article], hot: list[Article]) -> str:
    items = "".join(
        f'<li><a href="{a.path}" target="_blank">{a.title}</a>'
        f'<span class="date">{a.published:%Y-%m-%d}</span></li>\n'
        for a in articles
    )
    main = (
        '<div class="article"><div class="crumb">当前位置：<a href="/">首页</a> &gt; 本地要闻'
        f'</div>\n<ul class="news-list">\n{items}</ul>\n{_pager(page, pages)}</div>'
    )
    return _frame("本地要闻" if page == 1 else f"本地要闻_第{page}页", "", main, hot)


def build_site(count: int, now: datetime, seed: int = SEED) -> Site:
    """`count` article pages, newest first on the list pages, published over SPAN_DAYS."""
    writer = Writer(seed)
    rng = random.Random(seed + 1)
    step = timedelta(days=SPAN_DAYS) / count
    articles = [
        writer.article(
            number,
            (now - step * (count - number) - timedelta(minutes=rng.randint(0, 30))).replace(
                second=0, microsecond=0
            ),
            relevant=rng.random() >= IRRELEVANT_SHARE,
        )
        for number in range(1, count + 1)
    ]
    newest_first = articles[::-1]
    hot = rng.sample(articles, 16)  # ten most read, six picture stories
    site = Site(articles=newest_first)
    pages = -(-count // PER_PAGE)
    for page in range(1, pages + 1):
        chunk = newest_first[(page - 1) * PER_PAGE : page * PER_PAGE]
        site.pages[_list_path(page)] = ("list", _list_html(page, pages, chunk, hot))
    for i, article in enumerate(newest_first):
        related = newest_first[max(0, i - 3) : i] + newest_first[i + 1 : i + 4]
        site.pages[article.path] = ("article", _article_html(article, related, hot))
    site.pages["/robots.txt"] = ("other", "User-agent: *\nAllow: /\n")
    return site


def write_site(site: Site, root: Path) -> None:
    """Files plus a manifest the server loads: path → (kind, file)."""
    manifest = {}
    for number, (path, (kind, html)) in enumerate(site.pages.items()):
        name = f"{number:06d}.html"
        (root / name).write_text(html, encoding="utf-8")
        manifest[path] = [kind, name]
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


# --- the server (its own process) -------------------------------------------------------------


def serve(root: str) -> None:
    """Answer GETs from memory over keep-alive HTTP/1.1; print the port, run until killed.

    Plain asyncio rather than http.server or a framework, so the site stays far faster than
    any crawler; answers are built (and gzipped) once at start-up.
    """
    folder = Path(root)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    answers: dict[bytes, tuple[str, bytes, bytes]] = {}
    for path, (kind, name) in manifest.items():
        body = (folder / name).read_bytes()
        kind_type = "text/plain" if path.endswith(".txt") else "text/html"
        head = f"HTTP/1.1 200 OK\r\nServer: bench\r\nContent-Type: {kind_type}; charset=utf-8\r\n"
        plain = f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body
        packed = gzip.compress(body, 6)
        zipped = (
            f"{head}Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n"
            f"Content-Length: {len(packed)}\r\n\r\n"
        ).encode() + packed
        answers[path.encode()] = (kind, plain, zipped)
    missing = b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found"
    counts: dict[str, int] = {"list": 0, "article": 0, "other": 0, "missing": 0, "bytes": 0}

    def control(path: bytes) -> bytes:
        if path.endswith(b"reset"):
            for key in counts:
                counts[key] = 0
        body = json.dumps({**counts, "cpu": time.process_time()}).encode()
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)

    class Http(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport: asyncio.Transport = transport  # type: ignore[assignment]
            self.buffer = b""

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
                head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
                line, _, headers = head.partition(b"\r\n")
                path = line.split(b" ")[1].split(b"?")[0]
                lowered = headers.lower()
                if path.startswith(CONTROL.encode()):
                    self.transport.write(control(path))
                    continue
                found = answers.get(path)
                if found is None:
                    counts["missing"] += 1
                    self.transport.write(missing)
                    continue
                kind, plain, zipped = found
                answer = zipped if b"gzip" in lowered else plain
                counts[kind] += 1
                counts["bytes"] += len(answer)
                self.transport.write(answer)
                if b"connection: close" in lowered:
                    self.transport.close()
                    return

    async def run() -> None:
        server = await asyncio.get_running_loop().create_server(Http, "127.0.0.1", 0, backlog=512)
        print(server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    asyncio.run(run())


class Server:
    """The site's server process, started and stopped by the bench."""

    def __init__(self, root: Path) -> None:
        code = "import sys; from bench.crawl import serve; serve(sys.argv[1])"
        self.process = subprocess.Popen(
            [*_pinned(SERVER_CORE), sys.executable, "-c", code, str(root)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        self.base = f"http://127.0.0.1:{self.port}"

    def control(self, what: str) -> dict[str, float]:
        from urllib.request import urlopen

        with urlopen(f"{self.base}{CONTROL}{what}", timeout=10) as answer:
            return json.loads(answer.read())  # type: ignore[no-any-return]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _pinned(core: str) -> list[str]:
    """Pin a process to one core, so the crawler and the server never share one."""
    return ["taskset", "-c", core] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []


async def _load(port: int, paths: list[str], connections: int) -> float:
    """Fetch `paths` over `connections` keep-alive connections; seconds taken."""
    queue = list(reversed(paths))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while queue:
            path = queue.pop()
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip\r\n\r\n".encode()
            )
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"Content-Length: (\d+)", head)[1])  # type: ignore[index]
            await reader.readexactly(length)
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return time.perf_counter() - started


# --- the crawlers -----------------------------------------------------------------------------


def bare_crawl(start_url: str, concurrency: int | str) -> None:
    """The baseline: follow the list pages, fetch the article pages, nothing else."""
    from collections.abc import AsyncIterator, Iterator

    import scrapy
    from scrapy.crawler import CrawlerProcess
    from scrapy.http import Response
    from scrapy.settings import Settings

    class BareSpider(scrapy.Spider):
        name = "bare"

        async def start(self) -> AsyncIterator[Any]:
            yield scrapy.Request(start_url, callback=self.parse_list)

        def parse_list(self, response: Response) -> Iterator[Any]:
            for href in response.css("ul.news-list li a::attr(href)").getall():
                yield response.follow(href, callback=self.parse_article)
            following = response.css("a.next::attr(href)").get()
            if following:
                yield response.follow(following, callback=self.parse_list)

        def parse_article(self, response: Response) -> None:
            return None

    # yuqing's own Scrapy settings (crawlers/settings.py) without yuqing's components, plus the
    # values its runner sets, so that tuning Scrapy speeds up both and only yuqing's own work
    # (extraction, pipelines, database) shows in the ratio.
    settings = Settings()
    settings.setmodule("crawlers.settings", priority="project")
    for name in ("ITEM_PIPELINES", "DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "EXTENSIONS"):
        settings.set(name, {}, priority="cmdline")
    # No spider modules: loading crawlers.spiders would import yuqing into this process.
    settings.set("SPIDER_MODULES", [], priority="cmdline")
    settings.setdict(
        {
            "USER_AGENT": "yuqing/0.1 (public-opinion monitor)",
            "ROBOTSTXT_OBEY": False,
            "AUTOTHROTTLE_ENABLED": False,
            "CONCURRENT_REQUESTS_PER_DOMAIN": int(concurrency),
            "DOWNLOAD_TIMEOUT": 20,
            "DOWNLOAD_MAXSIZE": 10485760,
            "DOWNLOAD_WARNSIZE": 5242880,
            "RETRY_TIMES": 2,
            "LOG_LEVEL": "INFO",
        },
        priority="cmdline",
    )
    process = CrawlerProcess(settings)
    process.crawl(BareSpider)
    process.start()


@dataclass
class Run:
    name: str
    articles: int
    lists: int
    crawl_seconds: float
    process_seconds: float
    cpu_seconds: float
    server_cpu: float
    peak_mb: int
    stored: int | None = None

    @property
    def rate(self) -> float:
        return self.articles / self.crawl_seconds if self.crawl_seconds else 0.0


def measure(
    name: str, argv: list[str], env: dict[str, str], server: Server, work: Path, cwd: Path = ROOT
) -> Run:
    """Run one crawler subprocess on the crawler core; its log is kept in `work`."""
    server.control("reset")
    before = server.control("stats")
    out = work / (re.sub(r"\W+", "-", name) + ".log")
    with out.open("w", encoding="utf-8") as sink:
        started = time.perf_counter()
        process = subprocess.Popen(
            [*_pinned(CRAWLER_CORE), *argv], cwd=cwd, env=env, stdout=sink, stderr=sink
        )
        # wait4 rather than wait: the child's own CPU seconds and peak memory.
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    after = server.control("stats")
    text = out.read_text(encoding="utf-8", errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{name} failed ({process.returncode}):\n{text[-3000:]}")
    found = re.search(r"'elapsed_time_seconds': ([\d.]+)", text)
    if found is None:
        raise RuntimeError(f"{name}: no Scrapy stats dump in its log:\n{text[-3000:]}")
    run = Run(
        name=name,
        articles=int(after["article"]),
        lists=int(after["list"]),
        crawl_seconds=float(found[1]),
        process_seconds=elapsed,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        server_cpu=after["cpu"] - before["cpu"],
        peak_mb=usage.ru_maxrss // 1024,
    )
    log(
        f"{name}: {run.articles} articles, {run.lists} list pages in {run.crawl_seconds:.1f} s"
        f" ({run.rate:.0f}/s), process {elapsed:.1f} s"
    )
    return run


def stored_mentions(data: Path) -> int:
    with sqlite3.connect(data / "yuqing.db") as db:
        return int(db.execute("SELECT count(*) FROM mentions").fetchone()[0])


def yuqing_config(folder: Path, url: str, pages: int, selectors: dict[str, str]) -> Path:
    import yaml

    folder.mkdir(parents=True)
    source: dict[str, Any] = {
        "name": "临江新闻网",
        "kind": "site",
        "url": url,
        "max_pages": pages,
        "lookback_days": SPAN_DAYS * 3,
    }
    if selectors:
        source["selectors"] = selectors
    (folder / "sources.yaml").write_text(
        yaml.safe_dump({"sources": [source]}, allow_unicode=True), encoding="utf-8"
    )
    return folder


def export_revision(revision: str, folder: Path) -> Path:
    """The code of a git revision in `folder` (`git archive`, the work tree untouched)."""
    import tarfile

    folder.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def yuqing_env(data: Path, concurrency: int) -> dict[str, str]:
    env = {
        **os.environ,
        "YUQING_DATA": str(data),
        "YUQING_CRAWL__AUTOTHROTTLE": "false",
        "YUQING_CRAWL__OBEY_ROBOTS": "false",
        "YUQING_CRAWL__CONCURRENT_PER_DOMAIN": str(concurrency),
    }
    env.pop("YUQING_CONFIG", None)
    return env


def profile(config: Path, data: Path, concurrency: int, work: Path, label: str) -> None:
    """cProfile of one yuqing crawl (fresh data directory), printed to stderr."""
    import pstats

    target = work / "yuqing.prof"
    argv = [sys.executable, "-m", "cProfile", "-o", str(target), "-m", "crawlers"]
    subprocess.run(
        [*_pinned(CRAWLER_CORE), *argv, "--config", str(config)],
        cwd=ROOT,
        env=yuqing_env(data, concurrency),
        check=True,
        capture_output=True,
    )
    stats = pstats.Stats(str(target), stream=sys.stderr)
    # yuqing's own functions by the time spent under them, then anything by its own time
    # (Scrapy, asyncio, lxml, SQLAlchemy); cProfile inflates call-heavy code such as asyncio.
    print(f"\n--- cProfile of yuqing ({label}): yuqing's code, cumulative ---", file=sys.stderr)
    stats.sort_stats("cumulative").print_stats(r"/(crawlers|responder|nlp)/", 30)
    print(f"\n--- cProfile of yuqing ({label}): everything, own time ---", file=sys.stderr)
    stats.sort_stats("tottime").print_stats(30)


# --- the bench --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.crawl",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--pages", type=int, default=2000, help="article pages (default 2000)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="alternating bare/yuqing runs, medians (3)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=16, help="requests per domain, both crawlers (16)"
    )
    parser.add_argument(
        "--profile",
        nargs="?",
        const="css",
        choices=("css", "generic"),
        help="also print a cProfile of one yuqing crawl, with CSS selectors (default) or without",
    )
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also crawl with and without selectors with the code of git revision REV, side by"
        " side",
    )
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="yuqing-bench-crawl-"))
    site_dir = work / "site"
    site_dir.mkdir()
    site = build_site(args.pages, datetime.now(TZ))
    write_site(site, site_dir)
    relevant = sum(a.relevant for a in site.articles)
    sizes = [len(html.encode()) for kind, html in site.pages.values() if kind == "article"]
    log(
        f"site: {len(site.articles)} articles ({relevant} about the office), "
        f"{site.list_pages} list pages, article pages {sum(sizes) / len(sizes) / 1024:.1f} KB"
        f" on average, in {work}"
    )
    load_before = os.getloadavg()[0]
    server = Server(site_dir)
    start = f"{server.base}/news/"
    rows: list[Run] = []
    try:
        paths = [a.path for a in site.articles]
        seconds = asyncio.run(_load(server.port, paths, args.concurrency))
        client_rate = len(paths) / seconds
        log(f"server: {client_rate:,.0f} article pages/s to a raw asyncio client")

        code = "import sys; from bench.crawl import bare_crawl; bare_crawl(*sys.argv[1:])"
        bare_argv = [sys.executable, "-c", code, start, str(args.concurrency)]

        baseline = export_revision(args.baseline, work / "baseline") if args.baseline else None

        def yuqing_run(
            label: str, selectors: dict[str, str], tag: str, code: Path = ROOT
        ) -> tuple[Run, list[str]]:
            data = work / f"data-{tag}"
            config = yuqing_config(work / f"config-{tag}", start, site.list_pages + 1, selectors)
            command = [sys.executable, "-m", "crawlers", "--config", str(config)]
            env = yuqing_env(data, args.concurrency)
            if code != ROOT:
                env["PYTHONPATH"] = str(code)
            run = measure(f"yuqing, {label}", command, env, server, work, cwd=code)
            run.stored = stored_mentions(data)
            return run, command

        # The machine's speed drifts (a shared host): bare Scrapy and yuqing take turns, and
        # each row is the median of its repeats.
        bare_runs: list[Run] = []
        css_runs: list[Run] = []
        generic_runs: list[Run] = []
        baseline_runs: list[Run] = []
        baseline_css_runs: list[Run] = []
        second: Run | None = None
        for n in range(args.repeat):
            bare_runs.append(measure("bare Scrapy", bare_argv, dict(os.environ), server, work))
            run, command = yuqing_run("CSS selectors", SELECTORS, f"css-{n}")
            css_runs.append(run)
            if second is None:
                second = measure(
                    "yuqing, CSS selectors, second run",
                    command,
                    yuqing_env(work / f"data-css-{n}", args.concurrency),
                    server,
                    work,
                )
                second.stored = stored_mentions(work / f"data-css-{n}") - (run.stored or 0)
            generic_runs.append(yuqing_run("no selectors", {}, f"generic-{n}")[0])
            if baseline is not None:
                label = f"CSS selectors, at {args.baseline}"
                tag = f"baseline-css-{n}"
                baseline_css_runs.append(yuqing_run(label, SELECTORS, tag, baseline)[0])
                label = f"no selectors, at {args.baseline}"
                baseline_runs.append(yuqing_run(label, {}, f"baseline-{n}", baseline)[0])
        assert second is not None
        rows += [median_run(bare_runs), median_run(css_runs), second, median_run(generic_runs)]
        if baseline_runs:
            rows += [median_run(baseline_css_runs), median_run(baseline_runs)]
        if args.profile:
            log(f"profiling one more yuqing crawl ({args.profile}) under cProfile")
            chosen = SELECTORS if args.profile == "css" else {}
            config = yuqing_config(work / "config-profile", start, site.list_pages + 1, chosen)
            profile(config, work / "data-profile", args.concurrency, work, args.profile)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    reference = rows[0].rate
    every = [*bare_runs, *css_runs, second, *generic_runs, *baseline_css_runs, *baseline_runs]
    served = sum(r.articles + r.lists for r in every)
    server_cpu = sum(r.server_cpu for r in every)
    print(
        f"\nyuqing crawl benchmark, {date.today().isoformat()}, {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, Scrapy "
        f"{_scrapy_version()}; {len(site.articles)} articles ({relevant} relevant), "
        f"{site.list_pages} list pages, concurrency {args.concurrency}; load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after\n"
    )
    print_table(rows, reference)
    for label, ours_runs, theirs in (
        ("With CSS selectors", css_runs, baseline_css_runs),
        ("No selectors", generic_runs, baseline_runs),
    ):
        if theirs:
            now, before = median_run(ours_runs), median_run(theirs)
            print(
                f"\n{label}, this code against {args.baseline}: {now.rate:.0f} against "
                f"{before.rate:.0f} pages/s (×{now.rate / max(before.rate, 1e-9):.2f}), "
                f"{now.cpu_seconds:.1f} against {before.cpu_seconds:.1f} CPU s for the whole "
                "process."
            )
    print(
        f"\nMedians of {args.repeat} alternating runs; pages/s of each: bare "
        f"{', '.join(f'{r.rate:.0f}' for r in bare_runs)}; yuqing (CSS selectors) "
        f"{', '.join(f'{r.rate:.0f}' for r in css_runs)}; yuqing (no selectors) "
        f"{', '.join(f'{r.rate:.0f}' for r in generic_runs)}"
        + (
            f"; at {args.baseline} with selectors "
            f"{', '.join(f'{r.rate:.0f}' for r in baseline_css_runs)}, without "
            f"{', '.join(f'{r.rate:.0f}' for r in baseline_runs)}"
            if baseline_runs
            else ""
        )
        + ". "
        f"Server (own process, own core): {client_rate:,.0f} article pages/s to a raw asyncio "
        f"client with {args.concurrency} connections; during the crawls it spent "
        f"{server_cpu / max(served, 1) * 1e6:.0f} µs of CPU per page "
        f"(≈{served / max(server_cpu, 1e-9):,.0f} pages/s per core)."
    )

    ours = rows[1]
    if ours.rate < reference / 2:
        print(
            f"\nFAILED: yuqing with CSS selectors fetched {ours.rate:.0f} pages/s, below half of "
            f"bare Scrapy's {reference:.0f} ({reference / 2:.0f}).",
            file=sys.stderr,
        )
        return 1
    return 0


def median_run(runs: list[Run]) -> Run:
    """The run with the median speed, so that its other columns describe the same run."""
    return sorted(runs, key=lambda r: r.rate)[(len(runs) - 1) // 2]


def _seconds(value: float) -> str:
    return f"{value:.1f}" if value >= 1 else f"{value:.2f}"


def print_table(rows: list[Run], reference: float) -> None:
    header = (
        "crawler",
        "article pages",
        "list pages",
        "crawl s",
        "pages/s",
        "ratio to bare",
        "process s",
        "CPU s",
        "peak MB",
        "stored",
    )
    table = [
        (
            r.name,
            str(r.articles),
            str(r.lists),
            _seconds(r.crawl_seconds),
            f"{r.rate:.0f}" if r.articles else "",
            f"{r.rate / reference:.2f}" if r.articles else "",
            _seconds(r.process_seconds),
            _seconds(r.cpu_seconds),
            str(r.peak_mb),
            "" if r.stored is None else str(r.stored),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in table:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


def _scrapy_version() -> str:
    import scrapy

    return str(scrapy.__version__)


if __name__ == "__main__":
    sys.exit(main())
