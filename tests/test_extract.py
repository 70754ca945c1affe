"""Article links, next pages and articles found on saved pages under tests/data/pages/."""

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from scrapy.http import HtmlResponse

from crawlers.extract import article_links, extract_article, html_to_text, next_page
from responder.intake.dates import parse_time

PAGES = Path(__file__).parent / "data" / "pages"
SITE = "http://news.example.cn"
FORUM_SELECTORS = {
    "title": "h1.thread-title::text",
    "body": "div.post-body",
    "time": "span.post-time::text",
    "author": "span.post-author::text",
}


def page(name: str, url: str, encoding: str | None = "utf-8") -> HtmlResponse:
    body = (PAGES / name).read_bytes()
    if encoding is None:
        return HtmlResponse(url=url, body=body)
    return HtmlResponse(url=url, body=body, encoding=encoding)


@pytest.fixture
def list_page() -> HtmlResponse:
    return page("list_with_next.html", f"{SITE}/news/")


@pytest.fixture
def pager_page() -> HtmlResponse:
    return page("list_numbered_pager.html", f"{SITE}/news/index_2.html")


@pytest.fixture
def forum_thread() -> HtmlResponse:
    return page("forum_thread.html", f"{SITE}/forum/thread/1024")


@pytest.fixture
def labelled_article() -> HtmlResponse:
    return page("article_labelled.html", f"{SITE}/news/2026/1120/8812.html")


# --- article_links -------------------------------------------------------------------------


def test_article_links_finds_same_site_articles_once_each_in_page_order(
    list_page: HtmlResponse,
) -> None:
    assert article_links(list_page, {}) == [
        f"{SITE}/news/2026/1120/8812.html",
        f"{SITE}/news/2026/1119/8790.html",
        f"{SITE}/article/3456",
    ]


def test_article_links_skips_home_nav_pager_and_short_links(list_page: HtmlResponse) -> None:
    links = article_links(list_page, {})

    assert f"{SITE}/" not in links
    assert f"{SITE}/about.html" not in links
    assert f"{SITE}/special/census/" not in links
    assert f"{SITE}/news/2026/sitemap.html" not in links
    assert not any("index_" in link for link in links)
    assert not any("#comments" in link for link in links)


def test_article_links_skips_a_long_titled_link_back_to_the_list_itself(
    list_page: HtmlResponse,
) -> None:
    assert f"{SITE}/news/" not in article_links(list_page, {})


def test_article_links_skips_other_sites(list_page: HtmlResponse) -> None:
    links = article_links(list_page, {})

    assert all(link.startswith(f"{SITE}/") for link in links)


def test_article_links_resolves_relative_hrefs_against_the_page(list_page: HtmlResponse) -> None:
    assert f"{SITE}/news/2026/1119/8790.html" in article_links(list_page, {})


def test_configured_links_selector_wins_over_generic_rules(list_page: HtmlResponse) -> None:
    links = article_links(list_page, {"links": "div.links a"})

    assert links == [
        "http://www.jiangzhou.example.cn/news/2026/1120/5521.html",
        "https://weibo.example.com/status/4987654321",
    ]


# --- next_page -----------------------------------------------------------------------------


def test_next_page_follows_the_next_page_anchor(list_page: HtmlResponse) -> None:
    assert next_page(list_page, {}, page=1) == f"{SITE}/news/index_2.html"


def test_next_page_without_next_anchor_follows_page_plus_one(pager_page: HtmlResponse) -> None:
    assert next_page(pager_page, {}, page=2) == f"{SITE}/news/index_3.html"


def test_next_page_on_the_last_numbered_page_is_none(pager_page: HtmlResponse) -> None:
    assert next_page(pager_page, {}, page=4) is None


def test_next_page_prefers_rel_next() -> None:
    body = (
        '<html><body><a href="/p/9">2</a><a rel="next" href="/p/2">更多</a></body></html>'
    ).encode()
    response = HtmlResponse(url=f"{SITE}/p/1", body=body, encoding="utf-8")

    assert next_page(response, {}, page=1) == f"{SITE}/p/2"


def test_configured_next_page_selector_wins(list_page: HtmlResponse) -> None:
    assert next_page(list_page, {"next_page": "div.pager a.next"}, page=1) == (
        f"{SITE}/news/index_2.html"
    )


def test_configured_next_page_selector_that_finds_nothing_gives_none(
    list_page: HtmlResponse,
) -> None:
    # A configured selector is trusted: no fallback to the generic 下一页 rule.
    assert next_page(list_page, {"next_page": "a.no-such-link"}, page=1) is None


# --- extract_article: generic rules --------------------------------------------------------


def test_extract_article_reads_title_and_body(labelled_article: HtmlResponse) -> None:
    found = extract_article(labelled_article, {})

    assert found["title"] == "临江县发布2025年国民经济和社会发展统计公报"
    assert found["text"].startswith("11月20日，临江县统计局发布")
    assert "常住人口52.3万人" in found["text"]
    assert "欢迎社会各界监督" in found["text"]


def test_extract_article_leaves_navigation_and_footer_out_of_the_text(
    labelled_article: HtmlResponse,
) -> None:
    text = extract_article(labelled_article, {})["text"]

    assert "首页" not in text
    assert "版权所有" not in text


def test_extract_article_reads_labelled_publication_time(labelled_article: HtmlResponse) -> None:
    published = extract_article(labelled_article, {})["published"]

    assert published.strip() == "2026-11-20 09:30"
    assert parse_time(published, ZoneInfo("Asia/Shanghai")) == parse_time(
        "2026-11-20T09:30:00+08:00", ZoneInfo("Asia/Shanghai")
    )


def test_extract_article_reads_outlet_and_author_labels(labelled_article: HtmlResponse) -> None:
    found = extract_article(labelled_article, {})

    assert found["outlet"] == "江州日报"
    assert found["author"] == "李文"


def test_extract_article_reads_engagement_counts(labelled_article: HtmlResponse) -> None:
    found = extract_article(labelled_article, {})

    assert (found["reposts"], found["comments"], found["likes"]) == (8, 5, 21)


def test_byline_time_under_the_headline_wins_over_meta_and_meta_serves_without_one() -> None:
    html = (PAGES / "article_labelled.html").read_text(encoding="utf-8")
    meta = '<head><meta property="article:published_time" content="2026-11-18T01:30:00+00:00">'
    with_meta = html.replace("<head>", meta)
    response = HtmlResponse(url=f"{SITE}/news/a.html", body=with_meta.encode(), encoding="utf-8")

    assert extract_article(response, {})["published"].strip() == "2026-11-20 09:30"

    no_byline = with_meta.replace("2026-11-20 09:30", "")
    response = HtmlResponse(url=f"{SITE}/news/a.html", body=no_byline.encode(), encoding="utf-8")
    assert extract_article(response, {})["published"] == "2026-11-18T01:30:00+00:00"


# --- extract_article: GBK page -------------------------------------------------------------


def test_gbk_page_is_not_valid_utf8_on_disk() -> None:
    raw = (PAGES / "article_gbk.html").read_bytes()

    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


@pytest.mark.parametrize("encoding", ["gbk", None], ids=["declared", "from-meta-charset"])
def test_gbk_article_text_decodes_correctly(encoding: str | None) -> None:
    response = page(
        "article_gbk.html", "http://www.jiangzhou.example.cn/a/2026/1122/77.html", encoding
    )

    found = extract_article(response, {})

    assert found["title"] == "临江县统计局提醒：警惕冒充普查员诈骗"
    assert "普查登记不收取任何费用" in found["text"]
    assert found["outlet"] == "江州在线"
    assert found["published"].strip() == "2026年11月22日 10:05"


# --- extract_article: configured selectors (forum) -----------------------------------------


def test_forum_selectors_read_title_author_and_time(forum_thread: HtmlResponse) -> None:
    found = extract_article(forum_thread, FORUM_SELECTORS)

    assert found["title"] == "普查员上门问存款，这正常吗？"
    assert found["author"] == "江边老王"
    assert found["published"] == "2026-11-21 20:15"


def test_forum_body_is_the_post_without_the_title_repeated(forum_thread: HtmlResponse) -> None:
    text = extract_article(forum_thread, FORUM_SELECTORS)["text"]

    assert text.startswith("今天下午有人自称普查员")
    assert "这正常吗" not in text
    # Replies are outside div.post-body.
    assert "小心是骗子" not in text


def test_forum_stats_line_gives_engagement_counts(forum_thread: HtmlResponse) -> None:
    found = extract_article(forum_thread, FORUM_SELECTORS)

    assert found["comments"] == 12
    assert found["reposts"] == 34
    assert found["likes"] == 56


def test_forum_body_keeps_inline_markup_in_one_sentence(forum_thread: HtmlResponse) -> None:
    text = extract_article(forum_thread, FORUM_SELECTORS)["text"]

    assert "他说不报就罚款。" in text


def test_html_to_text_keeps_one_block_per_line() -> None:
    assert html_to_text("<p>第一段</p>\n<p> 第二段 </p><p></p>") == "第一段\n第二段"
    assert html_to_text("") == ""


@pytest.mark.parametrize("label", ["下一页&gt;", "下一页 »"])
def test_next_page_recognises_next_anchor_with_an_arrow(label: str) -> None:
    body = f'<html><body><a href="/list/2">{label}</a></body></html>'.encode()
    response = HtmlResponse(url=f"{SITE}/list/1", body=body, encoding="utf-8")

    assert next_page(response, {}, page=1) == f"{SITE}/list/2"


def test_a_post_without_a_printed_headline_takes_its_own_time_and_account() -> None:
    """A Weibo post page: the time is a link above the text, with a two-digit year; comments
    below carry later times; the posting account is in the page title."""
    html = """<html><head><title>【临江县普查员冒充事件... - @临江日报的微博 - 微博</title></head>
    <body><div class="head"><a class="name">临江日报</a>
    <a class="time" href="/1/abc"> 24-5-13 17:07 </a> 来自 微博网页版</div>
    <div class="text">【临江县普查员冒充事件】临江县统计局通报，
    近日有人冒充普查员入户登记，骗取居民个人信息。
    统计局提醒居民核实普查员证件，发现可疑情况及时报警。</div>
    <div class="comment">网友：太可怕了 <span>24-5-13 18:20</span> 来自福建</div></body></html>"""
    response = HtmlResponse(url="https://weibo.com/1/abc", body=html.encode(), encoding="utf-8")
    found = extract_article(response, {})
    assert found["published"] == "24-5-13 17:07"
    assert found["outlet"] == "临江日报"
