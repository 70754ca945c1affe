"""Script-built pages: the post's time, account and text read from the JSON blob the page
builds itself from, when its markup is an empty shell."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from lxml import html
from scrapy.http import HtmlResponse

from crawlers.extract import extract_article
from crawlers.scripted import scripted_fields
from responder.intake.dates import parse_time

SH = ZoneInfo("Asia/Shanghai")
POSTED = (datetime.now(SH) - timedelta(hours=3)).replace(microsecond=0)
LEAD = "临江县统计局：网传普查员上门收费系谣言"
TEXT = (
    f"【{LEAD}】今天有网友发帖称，普查员入户登记时要求居民缴纳费用。"
    "<br />临江县统计局回应称，经济普查不向居民收取任何费用，请勿轻信。"
    '<a href="https://weibo.cn/sinaurl?u=x">网页链接</a>'
)


def weibo_page() -> str:
    status = {
        "status": {
            "id": "5033",
            "created_at": POSTED.strftime("%a %b %d %H:%M:%S %z %Y"),
            "text": TEXT,
            "reposts_count": 12,
            "user": {"id": 1618051664, "screen_name": "临江发布", "verified": True},
        },
        "call": "updateStatus",
    }
    blob = json.dumps([status], ensure_ascii=False)
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>微博</title></head><body>'
        '<div id="app"></div><script src="/js/app.js"></script>'
        f"<script>var $render_data = {blob}[0] || {{}};</script></body></html>"
    )


def test_a_weibo_like_blob_gives_time_account_and_text() -> None:
    found = scripted_fields(html.fromstring(weibo_page()))
    assert parse_time(found["published"], SH) == POSTED
    assert found["outlet"] == "临江发布"
    assert found["text"].splitlines() == [
        f"【{LEAD}】今天有网友发帖称，普查员入户登记时要求居民缴纳费用。",
        "临江县统计局回应称，经济普查不向居民收取任何费用，请勿轻信。网页链接",
    ]


def test_a_next_data_script_and_epoch_milliseconds_are_read() -> None:
    data = {
        "props": {
            "pageProps": {
                "article": {
                    "title": LEAD,
                    "publishTime": int(POSTED.timestamp() * 1000),
                    "author": {"name": "江州晚报"},
                    "content": "<p>临江县统计局回应称，经济普查不向居民收取任何费用。</p>",
                }
            }
        }
    }
    page = (
        "<html><body><div id=__next></div>"
        '<script id="__NEXT_DATA__" type="application/json">'
        f"{json.dumps(data, ensure_ascii=False)}</script></body></html>"
    )
    found = scripted_fields(html.fromstring(page))
    assert parse_time(found["published"], SH) == POSTED
    assert (found["outlet"], found["title"]) == ("江州晚报", LEAD)
    assert found["text"] == "临江县统计局回应称，经济普查不向居民收取任何费用。"


def test_a_page_without_a_blob_gives_nothing() -> None:
    page = "<html><body><script>var a = 1; function f(x) { return {b: x}; }</script></body></html>"
    assert scripted_fields(html.fromstring(page)) == {}


def test_the_crawler_stores_a_script_built_post_with_its_time_and_account() -> None:
    response = HtmlResponse(
        url="https://weibo.example/1618051664/Oe6wIynDn",
        body=weibo_page().encode("utf-8"),
        encoding="utf-8",
    )
    found = extract_article(response, {})
    assert found["title"] == LEAD
    assert parse_time(found["published"], SH) == POSTED
    assert found["outlet"] == "临江发布"
    assert "经济普查不向居民收取任何费用" in found["text"]
