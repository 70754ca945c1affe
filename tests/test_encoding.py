"""The encoding middleware: pages whose HTTP header and meta tag disagree are decoded with the
encoding that fits their bytes, and correctly declared pages are left alone."""

from __future__ import annotations

import codecs

import pytest
from scrapy.http import HtmlResponse, Request, Response

from crawlers.encoding import EncodingMiddleware, choose_encoding

URL = "http://www.linjiang.gov.cn/tjj/tzgg/202401/t20240102_1024.html"
TITLE = "临江县统计局关于开展第五次全国经济普查入户登记的通告"
BODY = (
    "根据《全国经济普查条例》，临江县统计局将于近期组织普查员入户登记，"
    "请各单位和个体经营户如实填报，感谢广大群众的理解和支持。"
)
TRADITIONAL_TITLE = "臨江縣統計局發佈第五次全國經濟普查公報"
TRADITIONAL_BODY = (
    "臨江縣統計局今日發佈公報，全縣共有法人單位一萬二千個，比上次普查增長百分之十五。"
)


def html(title: str, body: str, meta: str | None) -> str:
    meta_tag = (
        f'<meta http-equiv="Content-Type" content="text/html; charset={meta}">' if meta else ""
    )
    return (
        f"<!DOCTYPE html><html><head>{meta_tag}<title>{title}</title></head>"
        f'<body><h1>{title}</h1><div class="content"><p>{body}</p></div></body></html>'
    )


def respond(body: bytes, content_type: str) -> HtmlResponse:
    """A response as the downloader hands it to the middleware, and as the middleware returns it."""
    response = HtmlResponse(URL, body=body, headers={"Content-Type": content_type})
    processed = EncodingMiddleware(None).process_response(Request(URL), response)
    assert isinstance(processed, HtmlResponse)
    return processed


def page_text(response: Response) -> str:
    assert isinstance(response, HtmlResponse)
    return " ".join(response.css("h1::text, div.content ::text").getall())


def test_gbk_page_served_as_utf8_with_a_gbk_meta_tag_is_read_as_gbk() -> None:
    body = html(TITLE, BODY, meta="gbk").encode("gbk")

    response = respond(body, "text/html; charset=utf-8")

    assert codecs.lookup(response.encoding).name == "gb18030"
    assert page_text(response) == f"{TITLE} {BODY}"


def test_gbk_page_served_as_iso_8859_1_is_read_as_gbk() -> None:
    body = html(TITLE, BODY, meta="gb2312").encode("gbk")

    response = respond(body, "text/html; charset=ISO-8859-1")

    assert page_text(response) == f"{TITLE} {BODY}"


def test_gbk_page_served_as_iso_8859_1_without_a_meta_tag_is_still_read_as_chinese() -> None:
    body = html(TITLE, BODY, meta=None).encode("gbk")

    response = respond(body, "text/html; charset=ISO-8859-1")

    assert page_text(response) == f"{TITLE} {BODY}"


def test_big5_page_with_a_correct_header_is_left_alone() -> None:
    body = html(TRADITIONAL_TITLE, TRADITIONAL_BODY, meta="big5").encode("big5")
    original = HtmlResponse(URL, body=body, headers={"Content-Type": "text/html; charset=big5"})

    response = EncodingMiddleware(None).process_response(Request(URL), original)

    assert response is original
    assert page_text(response) == f"{TRADITIONAL_TITLE} {TRADITIONAL_BODY}"


def test_big5_page_served_as_gbk_with_a_big5_meta_tag_is_read_as_big5() -> None:
    body = html(TRADITIONAL_TITLE, TRADITIONAL_BODY, meta="big5").encode("big5")
    # Big5 bytes are valid GB18030 too, so only the text's coherence tells them apart.
    body.decode("gb18030")

    response = respond(body, "text/html; charset=gbk")

    assert codecs.lookup(response.encoding).name == "big5hkscs"
    assert page_text(response) == f"{TRADITIONAL_TITLE} {TRADITIONAL_BODY}"


def test_utf8_page_with_a_wrong_gb2312_meta_tag_is_read_as_utf8() -> None:
    body = html(TITLE, BODY, meta="gb2312").encode("utf-8")

    response = respond(body, "text/html")

    assert response.encoding == "utf-8"
    assert page_text(response) == f"{TITLE} {BODY}"


def test_utf8_page_that_also_decodes_as_gb18030_is_read_as_utf8() -> None:
    # Two-character runs between ASCII letters make byte pairs GB18030 accepts as well.
    text = "临江a统计b普查c公报d数据e"
    body = f"<html><head><meta charset=gb2312></head><body><h1>{text}</h1></body></html>"
    encoded = body.encode("utf-8")
    encoded.decode("gb18030")

    assert choose_encoding("text/html", encoded) == "utf-8"


def test_gb18030_characters_outside_gbk_survive_a_gbk_declaration() -> None:
    # 𠮷 (U+20BB7) and 䶮 (U+4DAE) are four-byte GB18030 sequences that GBK has no code for.
    title = "临江县统计局：𠮷䶮二字户籍登记说明"
    body = html(title, BODY, meta="gbk").encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        body.decode("gbk")

    response = respond(body, "text/html; charset=utf-8")

    assert page_text(response) == f"{title} {BODY}"


def test_correctly_declared_utf8_page_is_left_alone() -> None:
    original = HtmlResponse(
        URL,
        body=html(TITLE, BODY, meta="utf-8").encode("utf-8"),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )

    assert EncodingMiddleware(None).process_response(Request(URL), original) is original


def test_page_with_a_stray_byte_is_read_with_the_encoding_that_fails_least() -> None:
    # A GBK page cut short in the middle of a character decodes strictly with nothing.
    body = html(TITLE, BODY, meta=None).encode("gbk") + "统".encode("gbk")[:1]

    response = respond(body, "text/html; charset=utf-8")

    assert codecs.lookup(response.encoding).name == "gb18030"
    assert TITLE in page_text(response)


def test_utf8_bom_decides_over_a_gbk_header() -> None:
    body = codecs.BOM_UTF8 + html(TITLE, BODY, meta=None).encode("utf-8")

    response = respond(body, "text/html; charset=gbk")

    assert page_text(response) == f"{TITLE} {BODY}"


def test_a_bom_contradicted_by_the_bytes_after_it_is_dropped() -> None:
    body = codecs.BOM_UTF8 + html(TITLE, BODY, meta="gbk").encode("gbk")

    response = respond(body, "text/html")

    assert not response.body.startswith(codecs.BOM_UTF8)
    assert page_text(response) == f"{TITLE} {BODY}"


def test_pages_without_any_declaration_are_left_to_scrapy() -> None:
    assert choose_encoding("text/html", html(TITLE, BODY, meta=None).encode("gbk")) is None
