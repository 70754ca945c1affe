"""Generic extraction (no selectors) on real Chinese article pages: the development set
`../shared/data/real_pages_dev` scored as `python -m bench.extract` scores it, plus broken
pages made from our own saved page. Skips the real pages where `../shared` is absent."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from bench.extract import DEV, MOJIBAKE, judge, load_pages, yuqing
from crawlers.extract import extract_article

PAGES = Path(__file__).parent / "data" / "pages"
real_pages = pytest.mark.skipif(
    not (DEV / "labels.jsonl").is_file(), reason="../shared/data/real_pages_dev not present"
)


@pytest.fixture(scope="module")
def scores() -> dict[str, list[bool]]:
    found: dict[str, list[bool]] = {"all": [], "outlet": [], "mojibake": []}
    for page in load_pages(DEV):
        result = yuqing(page)
        right = judge(result, page.label)
        found["all"].append(right["title"] and right["date"] and right["body"])
        if page.label["outlet"]:
            found["outlet"].append(right["outlet"])
        found["mojibake"].append(bool(MOJIBAKE.search(f"{result.title}{result.text}")))
    return found


@real_pages
def test_title_date_and_body_are_all_right_on_95_percent_of_real_pages(
    scores: dict[str, list[bool]],
) -> None:
    assert sum(scores["all"]) >= 0.95 * len(scores["all"])


@real_pages
def test_outlet_is_right_on_90_percent_of_real_pages_that_show_one(
    scores: dict[str, list[bool]],
) -> None:
    assert sum(scores["outlet"]) >= 0.9 * len(scores["outlet"])


@real_pages
def test_no_real_page_comes_out_as_mojibake(scores: dict[str, list[bool]]) -> None:
    assert not any(scores["mojibake"])


def _article(html: str) -> dict[str, object]:
    response = HtmlResponse(
        url="http://www.linjiang.gov.cn/tjj/202611/t20261120_88.html",
        body=html.encode("utf-8"),
        encoding="utf-8",
    )
    return extract_article(response, {})


PARAGRAPH = (
    "临江县统计局今日发布公报，全县共有法人单位一万二千个，比上次普查增长百分之十五，各项指标平稳。"
)


def test_a_stray_closing_html_tag_before_the_article_loses_nothing() -> None:
    html = (
        "<html><head><title>临江县第五次经济普查公报_临江县人民政府</title></head><body>"
        "<div class='top'>临江县人民政府</div></html>"
        "<h1>临江县第五次经济普查公报</h1><div class='info'>发布时间：2026-11-20 09:30</div>"
        f"<div class='content'><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p></div>"
        "</body></html>"
    )
    found = _article(html)

    assert found["title"] == "临江县第五次经济普查公报"
    assert "全县共有法人单位" in str(found["text"])
    assert str(found["published"]).startswith("2026-11-20")


def test_a_site_name_heading_and_a_header_date_lose_to_the_headline_and_its_byline() -> None:
    html = (
        "<html><head><title>临江县第五次经济普查公报_临江县人民政府</title></head><body>"
        "<h1>临江县人民政府</h1><div class='date'>2026年11月25日 星期三</div>"
        "<h2>临江县第五次经济普查公报</h2><div>2026-11-20 09:30 来源：临江日报</div>"
        f"<div class='content'><p>{PARAGRAPH}</p><p>发布时间：2026年11月22日，{PARAGRAPH}</p>"
        "</div></body></html>"
    )
    found = _article(html)

    assert found["title"] == "临江县第五次经济普查公报"
    assert str(found["published"]).startswith("2026-11-20")
    assert found["outlet"] == "临江日报"


def test_a_year_less_byline_takes_its_year_from_the_metadata() -> None:
    html = (
        "<html><head><title>临江县第五次经济普查公报</title>"
        "<meta name='publishdate' content='2019-05-13'></head><body>"
        "<h1>临江县第五次经济普查公报</h1><div>05-13 17:07 来源：临江日报</div>"
        f"<div class='content'><p>{PARAGRAPH}</p><p>{PARAGRAPH}</p></div></body></html>"
    )
    assert _article(html)["published"] == "2019-05-13 17:07"
