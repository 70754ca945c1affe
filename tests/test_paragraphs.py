"""The fast reading of an article's paragraphs answers on a plain page and leaves every
doubtful one to trafilatura."""

from __future__ import annotations

from lxml import html

from crawlers.paragraphs import paragraph_text

LINES = [
    "临江县统计局今天发布前三季度全县经济运行情况，地区生产总值同比增长百分之五点二。",
    "规模以上工业增加值稳步回升，社会消费品零售总额保持增长，固定资产投资降幅收窄。",
    "县统计局有关负责人表示，下一步将加强统计监测，为县委县政府决策提供数据支撑。",
    "今年以来，全县新增城镇就业人数四千余人，城乡居民人均可支配收入稳步提高。",
    "农业生产形势较好，秋粮收获基本结束，粮食总产量预计与上年持平略增。",
    "服务业持续恢复，交通运输、住宿餐饮等行业营业收入较快增长，市场活力有所增强。",
]


def page(article: str, extra: str = "") -> object:
    return html.fromstring(
        "<html><head><title>临江县统计局发布前三季度经济运行情况_临江新闻网</title></head><body>"
        '<div class="nav"><a href="/">首页</a></div><h1>临江县统计局发布前三季度经济运行情况</h1>'
        f'<div class="article-content">{article}</div>{extra}'
        '<ul class="pics"><li><p><a href="/n/2.html">临江县统计局开展玉米产量抽样调查</a></p>'
        "</li>"
        '<li><p><a href="/n/3.html">网友质疑临江县地区生产总值数据 县统计局回应</a></p></li></ul>'
        "</body></html>"
    )


def paragraphs(*texts: str) -> str:
    return "".join(f"<p>{t}</p>" for t in texts)


def test_a_plain_article_is_its_paragraphs_with_the_page_characters_kept() -> None:
    assert paragraph_text(page(paragraphs(*LINES)), LINES[0]) == "\n".join(LINES)


def test_a_line_break_inside_a_paragraph_stays_a_line_break() -> None:
    text = paragraph_text(page(paragraphs(f"{LINES[0]}<br>{LINES[1]}", *LINES[2:])))
    assert text == "\n".join(LINES)


def test_captions_that_are_links_do_not_count_against_the_article() -> None:
    captions = "".join(f'<p><a href="/n/{n}.html">{LINES[n][:30]}</a></p>' for n in range(4))
    assert paragraph_text(page(paragraphs(*LINES), f"<div>{captions * 3}</div>")) is not None


def test_an_article_with_a_table_is_left_to_trafilatura() -> None:
    table = "<table>" + "<tr><td>地区生产总值</td><td>同比增长百分之五点二</td></tr>" * 12
    assert paragraph_text(page(paragraphs(*LINES) + table + "</table>")) is None


def test_a_lead_paragraph_outside_the_article_element_is_left_to_trafilatura() -> None:
    lead = "临江县统计局发布三季度数据：全县经济运行稳中有进，主要指标好于预期。"
    assert paragraph_text(page(paragraphs(*LINES)), lead) is None


def test_two_articles_of_like_size_are_left_to_trafilatura() -> None:
    other = f'<div class="comments">{paragraphs(*LINES)}</div>'
    assert paragraph_text(page(paragraphs(*LINES), other)) is None


def test_a_short_text_is_left_to_trafilatura() -> None:
    assert paragraph_text(page(paragraphs(LINES[0]))) is None
