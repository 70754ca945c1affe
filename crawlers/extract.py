"""Finding article links, next-page links and the article itself on a page.

Configured CSS selectors win; without them, generic rules find links and trafilatura extracts
title, body and time.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import trafilatura
from lxml import etree
from parsel import Selector
from parsel.csstranslator import HTMLTranslator
from scrapy.http import TextResponse

from crawlers.byline import find_outlet, find_published
from crawlers.headline import collapse, find_headline, text_after
from crawlers.headline import key as match_key
from crawlers.paragraphs import paragraph_text
from crawlers.scripted import scripted_fields
from responder.intake.handover import parse_time

log = logging.getLogger(__name__)
NEXT_TEXTS = ("下一页", "下页", "›", "»", ">", "后页", "Next", "next")
ARTICLE_PATH = re.compile(r"(\d{3,}|\.s?html?$|/(article|content|detail|thread|post|t)/)", re.I)
_OUTLET = re.compile(r"(?:来源|來源)[:：]\s*([^\s|<>，,]{2,30})")
_AUTHOR = re.compile(r"(?:作者|记者|記者|楼主|樓主)[:：]\s*([^\s|<>，,]{1,30})")
_COUNTS = {
    "reposts": re.compile(r"(?:转发|分享)\s*[:：]?\s*(\d+)"),
    "comments": re.compile(r"(?:评论|回复)\s*[:：]?\s*(\d+)"),
    "likes": re.compile(r"(?:点赞|赞)\s*[:：]?\s*(\d+)"),
}
MIN_TITLE_CHARS = 6
# Less text than this from trafilatura's fast mode sends the page through its full run.
MIN_BODY_CHARS = 200
# Less visible text than this (a page's scripts build it in the browser), or less body text,
# sends the page's JSON blobs through `crawlers.scripted`.
SHELL_CHARS = 50
# A post's bracketed lead, 【…】, its headline when the page has no other.
LEAD = re.compile(r"^【([^】]{4,100})】")
# "作者：周敏" in one text node: selectors cannot cut the label off, so it is removed here.
_FIELD_LABEL = re.compile(
    r"^\s*(?:来源|來源|作者|记者|記者|编辑|編輯|责任编辑|責任編輯|楼主|樓主|发布者|發佈者|发布人)"
    r"\s*[:：]\s*"
)


# What readable text holds next to none of: U+FFFD (bytes no codec could read) and control
# characters other than whitespace. A page with a stray byte or two is readable; random bytes
# read with any Chinese encoding come out a quarter of these.
_NOT_TEXT = re.compile("[\ufffd\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
MAX_NOT_TEXT_SHARE = 0.05
_VISIBLE_TEXT = "//text()[not(ancestor::script or ancestor::style)]"
# Asked as a yes or no: a Selector for each link of a list page cost a millisecond a page.
_HAS_LINK = etree.XPath("boolean(//*[@href][not(self::link or self::base)])")


MAX_DEPTH = 1_000  # lxml gives up past 256 levels (2,048 with huge_tree); pages need ~30
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)[^>]*?(/?)>")
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())


def nesting_depth(html: str) -> int:
    """How deep the page's elements nest, read from its tags (the parser may have given up)."""
    depth = deepest = 0
    # findall's tuples and plain comparisons: a match object and two max() calls per tag
    # took half as long again.
    for closing, name, self_closing in _TAG.findall(html):
        if closing:
            if depth:
                depth -= 1
        elif not self_closing and name.lower() not in _VOID:
            depth += 1
            if depth > deepest:
                deepest = depth
    return deepest


def article_problem(response: TextResponse) -> str | None:
    """Why an article page cannot be read, or None: nested deeper than the HTML parser goes
    (the tree it builds stops there, and the text below is lost)."""
    html = response.text
    # A page nests no deeper than it has tags, and most have fewer than the limit: settled
    # without walking the tags, which cost as much as parsing the page.
    if html.count("<") <= MAX_DEPTH:
        return None
    depth = nesting_depth(html)
    if depth > MAX_DEPTH:
        return f"is nested {depth} elements deep (more than {MAX_DEPTH}); it cannot be parsed"
    return None


def page_problem(response: TextResponse) -> str | None:
    """Why a page a source lists its items on (a list or search result page) is broken, or
    None. Broken is either of:

    - not readable text: more than `MAX_NOT_TEXT_SHARE` of its characters are undecodable bytes
      or control characters (random bytes, a binary file, an encoding nothing reads);
    - nothing in it: no text and no link (a blank page, or one cut short before any content).

    A readable page with something in it but no link to an article ("今天没有新闻", or only
    the site's navigation) is the source listing nothing today ("empty"), not a broken one.
    """
    text = response.text
    unreadable = len(_NOT_TEXT.findall(text))
    if unreadable > MAX_NOT_TEXT_SHARE * len(text):
        return (
            f"is not readable text ({unreadable} of its {len(text)} characters are"
            " undecodable bytes or control characters)"
        )
    if not _HAS_LINK(response.selector.root) and not any(
        text.strip() for text in response.xpath(_VISIBLE_TEXT).getall()
    ):
        return "has nothing in it: no text, no link (blank, or cut short before any content)"
    return None


def _same_site(base: str, link: str) -> bool:
    return urlsplit(base).netloc == urlsplit(link).netloc


def _anchors(response: TextResponse, selectors: dict[str, str]) -> list[Selector]:
    if "links" in selectors:
        return [a for a in response.css(selectors["links"]) if a.attrib.get("href")]
    found = []
    for anchor in response.css("a[href]"):
        href = response.urljoin(anchor.attrib["href"])
        text = " ".join(anchor.css("::text").getall()).strip()
        if (
            _same_site(response.url, href)
            and len(text) >= MIN_TITLE_CHARS
            and text not in NEXT_TEXTS
            and ARTICLE_PATH.search(urlsplit(href).path)
            and href.split("#")[0] != response.url
        ):
            found.append(anchor)
    return found


def article_links(response: TextResponse, selectors: dict[str, str]) -> list[str]:
    """Links to article pages on a list page."""
    return list(listed_articles(response, selectors))


def listed_articles(
    response: TextResponse, selectors: dict[str, str], tz: ZoneInfo | None = None
) -> dict[str, datetime | None]:
    """Article links on a list page, in page order, with the publication time printed beside
    each (`<li><a>…</a><span>2024-01-02</span></li>`) when `tz` is given and there is one, for
    stopping at the look-back window before fetching."""
    listed: dict[str, datetime | None] = {}
    for anchor in _anchors(response, selectors):
        url = response.urljoin(anchor.attrib["href"])
        if listed.get(url) is None:
            listed[url] = _time_beside(anchor, tz) if tz is not None else None
    return listed


def _time_beside(anchor: Selector, tz: ZoneInfo) -> datetime | None:
    # lxml directly: parsel builds a Selector per step, a tenth of a list page's cost.
    parent = anchor.root.getparent()
    if parent is None or len(parent.xpath(".//a[@href]")) != 1:
        return None  # a shared container's text belongs to no single link
    own = " ".join(anchor.root.itertext())
    return parse_time(" ".join(parent.itertext()).replace(own, " "), tz)


def next_page(response: TextResponse, selectors: dict[str, str], page: int) -> str | None:
    """The next list page: a configured selector, rel=next, a 下一页-style anchor or page+1."""
    if "next_page" in selectors:
        href = response.css(selectors["next_page"]).xpath("@href").get()
        return response.urljoin(href) if href else None
    rel = response.css("a[rel=next]::attr(href)").get()
    if rel:
        return response.urljoin(rel)
    numbered = None
    for anchor in response.css("a[href]"):
        text = " ".join(anchor.css("::text").getall()).strip()
        # "下一页 >" and "下一页»" are as common as the bare word.
        if text in NEXT_TEXTS or text.strip(" <>›»") in NEXT_TEXTS:
            return response.urljoin(anchor.attrib["href"])
        if text == str(page + 1):
            numbered = response.urljoin(anchor.attrib["href"])
    return numbered


_BLOCK_TAG = re.compile(
    r"<\s*/?\s*(?:br|p|div|li|tr|h[1-6]|blockquote|section|article|pre)\b[^>]*>", re.I
)


def html_to_text(html: str) -> str:
    """Text of an HTML fragment: one line per block element, inline markup kept in its line."""
    if not html:
        return ""
    marked = _BLOCK_TAG.sub("\n", html)
    text = Selector(text=f"<div>{marked}</div>").xpath("string(//div)").get() or ""
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


_BLOCK_NAMES = frozenset("br p div li tr h1 h2 h3 h4 h5 h6 blockquote section article pre".split())
_NO_TEXT = frozenset({"script", "style", "noscript", "template"})


def element_text(element: Any) -> str:
    """Text of a parsed element, one line per block element, like `html_to_text`; walking
    the tree already parsed costs a fraction of serialising and parsing it again."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        tag = node.tag.lower() if isinstance(node.tag, str) else ""
        block = tag in _BLOCK_NAMES
        if block:
            parts.append("\n")
        if tag and tag not in _NO_TEXT:
            if node.text:
                parts.append(node.text)
            for child in node:
                walk(child)
        if block:
            parts.append("\n")
        if node.tail:
            parts.append(node.tail)

    text = element.text or ""
    parts.append(text)
    for child in element:
        walk(child)
    joined = "".join(parts)
    return "\n".join(line.strip() for line in joined.splitlines() if line.strip())


# Plain strings, compiled once: a parsel Selector, or even lxml's "smart" string, per text node
# was most of the cost of extraction.
# Not <title>: a page saved with a wrapper before <html> has its head parsed into the body.
_BODY_TEXT = etree.XPath(
    "//body//text()[not(ancestor::script or ancestor::style or ancestor::title)]",
    smart_strings=False,
)


@lru_cache(maxsize=512)
def _xpath(css: str) -> etree.XPath:
    """A configured selector compiled once: through parsel's Selector objects, the five
    selectors of an article page cost as much as parsing the page."""
    return etree.XPath(HTMLTranslator().css_to_xpath(css), smart_strings=False)


def _first(selector: Selector, css: str) -> str:
    found = _xpath(css)(selector.root)
    if css.endswith("::text") or "::attr(" in css:
        return " ".join(t.strip() for t in found if t.strip())
    return "\n".join(element_text(element) for element in found)


def _body(root: Any, html: str, url: str, first: str) -> str:
    """The article text: the paragraphs of one element when the page makes them plain
    (`crawlers.paragraphs`, about a tenth of trafilatura's cost); else trafilatura, first its
    fast mode on the tree already parsed, then, when that finds next to nothing or misses
    `first` (the paragraph right under the headline), its full run with the readability and
    jusText fallbacks (three times slower, needed on forum and WeChat pages; see
    `bench.extract`)."""
    plain = paragraph_text(root, first)
    if plain is not None:
        return plain
    doc = trafilatura.bare_extraction(
        root, url=url, with_metadata=False, include_comments=False, fast=True
    )
    text: str = getattr(doc, "text", None) or ""
    if len(text) >= MIN_BODY_CHARS and (not first or match_key(first)[:20] in match_key(text)):
        return text
    log.debug("%s: trafilatura's fast mode missed the article, running it in full", url)
    doc = trafilatura.bare_extraction(html, url=url, with_metadata=False, include_comments=False)
    fuller: str = getattr(doc, "text", None) or ""
    return fuller if len(fuller) > len(text) else text


def _meta(root: Any, *names: str) -> str:
    for name in names:
        for value in root.xpath(f"//meta[@property='{name}' or @name='{name}']/@content"):
            if value.strip():
                return str(value).strip()
    return ""


def _generic(response: TextResponse, page_text: str) -> dict[str, Any]:
    root = response.selector.root
    # The first <title> only: a second one in the body is a template's leftover.
    title = next((collapse(t.text_content()) for t in root.iter("title")), "")
    head = find_headline(root, title, _meta(root, "og:title"), page_text)
    found: dict[str, Any] = {
        "title": head.text,
        "published": find_published(head.element, root, response.text, response.url),
        "outlet": find_outlet(head.element, root, page_text),
    }
    # A shell built by script, or a post whose time is only in its data: the JSON blob the
    # page builds itself from (read before trafilatura prunes the tree's scripts).
    shell = len(page_text.strip()) < SHELL_CHARS
    scripted = scripted_fields(root) if shell or not found["published"] else {}
    # Last: trafilatura prunes the tree it is given.
    first = text_after(head.element)[1] if head.element is not None else ""
    found["text"] = _body(root, response.text, response.url, collapse(first))
    # A blob without a text is a page's settings, not its article: its times are not the post's.
    for name in ("published", "outlet") if scripted.get("text") else ():
        if not found[name] and scripted.get(name):
            found[name] = scripted[name]
    if len(found["text"].strip()) < SHELL_CHARS and scripted.get("text"):
        found["text"] = scripted["text"]
        lead = LEAD.match(found["text"])
        found["title"] = scripted.get("title") or (lead[1] if lead else found["title"])
    return found


_HTML_END = re.compile(r"</\s*html\s*>", re.I)
_END_TAGS = re.compile(r"</\s*(?:html|body)\s*>", re.I)
_CONTENT_TAG = re.compile(r"<\s*(?:p|div|h[1-6]|table|article|section)\b", re.I)


def repaired(response: TextResponse) -> TextResponse:
    """The page with stray `</html>`/`</body>` tags removed when content follows them: libxml2
    drops everything after `</html>`, where browsers go on (a government portal's template
    closes the page before its article)."""
    html = response.text
    end = _HTML_END.search(html)
    if end is None or not _CONTENT_TAG.search(html, end.end()):
        return response
    fixed = _END_TAGS.sub("", html)
    return response.replace(body=fixed.encode("utf-8"), encoding="utf-8")


def extract_article(response: TextResponse, selectors: dict[str, str]) -> dict[str, Any]:
    """title, text, published (raw), author, outlet and engagement counts of an article page."""
    response = repaired(response)
    page_text = " ".join(_BODY_TEXT(response.selector.root))
    found: dict[str, Any] = {}
    if selectors.get("body"):
        found["title"] = _first(response.selector, selectors.get("title", "h1::text"))
        found["text"] = _first(response.selector, selectors["body"])
        if not selectors.get("time"):
            # The byline under the configured title, as on a page without selectors.
            heading = _xpath(selectors.get("title", "h1::text").split("::")[0])(
                response.selector.root
            )
            found["published"] = find_published(
                heading[0] if heading else None,
                response.selector.root,
                response.text,
                response.url,
            )
    else:
        found = _generic(response, page_text)
    for key in ("time", "author", "outlet"):
        if selectors.get(key):
            value = _first(response.selector, selectors[key])
            if key != "time":
                value = _FIELD_LABEL.sub("", value)
            if value:
                found["published" if key == "time" else key] = value
    if not found.get("outlet") and (m := _OUTLET.search(page_text)):
        found["outlet"] = m.group(1)
    if not found.get("author") and (m := _AUTHOR.search(page_text)):
        found["author"] = m.group(1)
    for key, pattern in _COUNTS.items():
        if m := pattern.search(page_text):
            found[key] = int(m.group(1))
    title = found.get("title") or ""
    text = found.get("text") or ""
    if title and text.startswith(title):
        found["text"] = text[len(title) :].lstrip()
    return found
