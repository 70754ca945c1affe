"""The publication time and the outlet (来源) of an article page, found without selectors.

Where a Chinese article page says when and by whom it was published, in order of trust:

1. The byline: the short lines right under the headline ("2024-05-13 08:30 来源：经济日报"),
   read up to the first paragraph of the article, so neither a site header's date (above the
   headline) nor a date in the article's sentences or a sidebar (further down) is taken.
2. Structured metadata: publish meta tags, JSON-LD `datePublished`, WeChat's `ct` /
   `publish_time` script variables, `<meta name="source">`.
3. The URL (`/2024-05/13/`, `/20240513/`, `t20240513_`), for the date only.

A byline without a year ("05-13 17:07", "5月10日") takes the year from 2 or 3; only when
neither has one is it left to `responder.intake.dates.parse_time` ("this year, not in the future").
htmldate, the best single date library on the development pages (90 %), looks at markup and
URL only in the mode that never reads the article text, and took 10 ms a page; the byline
rule is what it cannot know, so it is not used.

The outlet is the value of a 来源-style label in the byline, else the page's source meta tag,
else an element classed `source` in the byline, else the first such label below the headline
(some sites print it at the foot). 来自<province> and 发布于 are IP locations, never outlets.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from htmldate import find_date
from lxml import etree

from crawlers.headline import collapse, text_after

CHINA = timezone(timedelta(hours=8))
_PAGE_TEXT = etree.XPath(
    "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript)]",
    smart_strings=False,
)
_YEAR = r"(?:19|20)\d{2}"
_DATED = re.compile(
    rf"{_YEAR}\s*[年/.\-]\s*\d{{1,2}}\s*[月/.\-]\s*\d{{1,2}}(?:\s*日)?(?:\s*\d{{1,2}}:\d{{2}}(?::\d{{2}})?)?"
    rf"|{_YEAR}\s+\d{{1,2}}/\d{{1,2}}(?:\s+\d{{1,2}}:\d{{2}}(?::\d{{2}})?)?"
    r"|(?<![\d.])\d{2}-\d{1,2}-\d{1,2}\s+\d{1,2}:\d{2}"
)
# Year-less: "05-13 17:07", "5月10日 08:51", "05/09 22:27".
_YEARLESS = re.compile(
    r"(?<![\d.:/-])(\d{1,2})\s*(?:月|-|/)\s*(\d{1,2})\s*日?(?:\s*(\d{1,2}:\d{2}))?(?![\d.:/-])"
)
_META_TIME = etree.XPath(
    "//meta[@property='article:published_time' or @name='article:published_time'"
    " or @property='og:release_date' or @name='pubdate' or @name='PubDate'"
    " or @name='publishdate' or @name='publish_date' or @name='PublishDate'"
    " or @name='publishtime' or @name='PublishTime' or @itemprop='datePublished'"
    " or @name='weibo: article:create_at' or @name='dc.date' or @name='DC.date.issued'"
    " or @name='firstpublishedtime' or @name='release_date']/@content",
    smart_strings=False,
)
_SCRIPT_TIME = re.compile(
    r"\"(?:datePublished|pubDate|publishTime|publish_time|pubtime)\"\s*:\s*\"([^\"]{8,40})\""
    r"|\bvar\s+ct\s*=\s*\"(\d{10})\""
    r"|\bpublish_time\s*=\s*\"([^\"]{8,40})\""
)
_URL_DATE = re.compile(
    rf"(?<!\d)({_YEAR})[-/_]?(0[1-9]|1[0-2])[-/]?([0-3]\d)(?!\d)"
    rf"|(?<!\d)({_YEAR})-(0[1-9]|1[0-2])/([0-3]\d)(?!\d)"
)
_URL_YEAR = re.compile(rf"(?<!\d)({_YEAR})(?:[-/_]?(?:0[1-9]|1[0-2]))(?!\d{{3}})")
_OUTLET_LABEL = re.compile(
    r"(?:(?:信息来源|稿件来源|文章来源|本文来源|新闻来源|来源|來源|出处|来自)\s*[:：]|本文来源于)"
    r"\s*[\[【(（]?\s*([^\s|<>，,；;。:：丨\]】]{2,40})"
)
# Values of a 来源 label that name no outlet.
NOT_OUTLETS = frozenset({"转载文章", "转载", "网络", "本站", "原创", "综合", "未知"})
# A byline token next to the date that names a medium ("光明网", "新华社", "TNW中文站").
_MEDIUM = re.compile(r"^[\w·\-]{2,20}(?:网|报|社|台|站|刊|财经|新闻|杂志|日报|晚报|周刊|客户端)$")
_YEARFUL = re.compile(rf"{_YEAR}\s*[年/.\-]")
# What often follows an outlet without a space: a date, another label.
_OUTLET_END = re.compile(
    rf"{_YEAR}[-年/.]|\d{{1,2}}[-月/]\d|作者|记者|编辑|责编|责任编辑|发布时间|时间|点击|浏览|字号"
)
_SOURCE_META = etree.XPath(
    "//meta[@name='source' or @name='Source' or @name='ContentSource'"
    " or @property='article:source']/@content",
    smart_strings=False,
)
_SOURCE_CLASS = etree.XPath(
    "following::*[contains(@class,'source') or contains(@class,'media-name')"
    " or contains(@id,'source')][position() <= 3]",
    smart_strings=False,
)


_ACCOUNT = etree.XPath("//*[@id='js_name' or contains(@class,'profile_nickname')]")


def byline_text(headline: Any) -> str:
    """The short lines after the headline element, up to the first paragraph."""
    return " ".join(text_after(headline)[0])


def page_text(root: Any) -> str:
    return " ".join(t for t in _PAGE_TEXT(root) if t.strip())


def _from_unix(seconds: str) -> str:
    return datetime.fromtimestamp(int(seconds), CHINA).isoformat()


def metadata_time(root: Any, html: str) -> str:
    """The publication time the page's metadata states, as written (or ISO for timestamps)."""
    for value in _META_TIME(root):
        if value.strip():
            return str(value).strip()
    if m := _SCRIPT_TIME.search(html):
        if m.group(2):
            return _from_unix(m.group(2))
        value = m.group(1) or m.group(3)
        return _from_unix(value) if value.isdigit() and len(value) == 10 else value
    return ""


def url_time(url: str) -> str:
    for m in _URL_DATE.finditer(url):
        y, mo, d = (g for g in m.groups() if g is not None)
        if 1 <= int(d) <= 31:
            return f"{y}-{mo}-{d}"
    return ""


def _year(*texts: str) -> str | None:
    for text in texts:
        if m := re.search(rf"(?<!\d)({_YEAR})(?!\d)", text):
            return m.group(1)
    if texts and (m := _URL_YEAR.search(texts[-1])):
        return m.group(1)
    return None


def find_published(headline: Any, root: Any, html: str, url: str) -> str:
    """The publication time as the page writes it, a year-less byline completed with the
    metadata's or the URL's year; "" when the page states none."""
    byline = byline_text(headline) if headline is not None else ""
    if m := _DATED.search(byline):
        return m.group()
    meta = metadata_time(root, html)
    in_url = url_time(url)
    # A short token only: "5月9日，…" in a photo caption is the event, not the byline.
    tokens = byline.split(" ") if headline is None else text_after(headline)[0]
    m = next((m for t in tokens if len(t) <= 25 and (m := _YEARLESS.search(t))), None)
    if m is not None:
        year = _year(meta, in_url, url)
        if year is not None:
            clock = f" {m.group(3)}" if m.group(3) else ""
            return f"{year}-{int(m.group(1)):02d}-{int(m.group(2)):02d}{clock}"
    if labelled := _labelled_time(root):
        # No byline under the headline (broken markup hides it): a short line that labels a
        # full date and time as the publication's is the byline.
        return labelled
    if found := meta or in_url or (m.group() if m else ""):
        return found
    if headline is None and (posted := _standalone_time(root)):
        # A post with no printed headline (Weibo, forums) shows its time as a link or line of
        # its own above the text ("24-5-13 17:07"); the first one is the post's, later ones
        # are comments'.
        return posted
    return _marked_up(html, url)


_TIME_LABEL = re.compile(r"(?:发布时间|发布日期|发表时间|发稿时间)\s*[:：]\s*")


def _labelled_time(root: Any) -> str:
    for node in _PAGE_TEXT(root):
        token = node.strip()
        if len(token) > 60 or not (label := _TIME_LABEL.search(token)):
            continue
        if (m := _DATED.match(token, label.end())) and ":" in m.group():
            return m.group()
    return ""


def _standalone_time(root: Any) -> str:
    for node in _PAGE_TEXT(root):
        token = node.strip()
        if len(token) <= 25 and (m := _DATED.fullmatch(token)) and ":" in m.group():
            return m.group()
    return ""


def _marked_up(html: str, url: str) -> str:
    """htmldate's reading of the markup (never the article's sentences), for pages whose
    byline, metadata and URL say nothing: 10 ms, so only for them."""
    found = find_date(html, url=url, original_date=True, extensive_search=False)
    return found or ""


def _outlet(value: str) -> str:
    value = _OUTLET_END.split(value, maxsplit=1)[0]
    return value.strip(" -—|:：【】[]()（）")


def _labelled(text: str) -> str:
    for m in _OUTLET_LABEL.finditer(text):
        value = _outlet(m.group(1))
        if len(value) >= 2 and value not in NOT_OUTLETS:
            return value
    return ""


def _beside_date(tokens: list[str]) -> str:
    """A medium's name printed next to the byline's date without a label."""
    for i, token in enumerate(tokens):
        if _YEARFUL.search(token):
            rest = _DATED.sub(" ", token).split()
            near = [*rest, *tokens[i + 1 : i + 3], *tokens[max(i - 2, 0) : i][::-1]]
            for word in (w.strip("·|- 《》") for w in near):
                if _MEDIUM.match(word):
                    return word
            return ""
    return ""


def find_outlet(headline: Any, root: Any, text: str) -> str:
    """The credited source (来源) of the article; "" when the page names none."""
    tokens = text_after(headline)[0] if headline is not None else []
    byline = " ".join(tokens)
    if value := _labelled(byline):
        return value
    for value in _SOURCE_META(root):
        if value.strip():
            return str(value).strip()
    # A WeChat article's account, printed in the byline by the platform's own markup.
    if account := next((collapse(e.text_content()) for e in _ACCOUNT(root)), ""):
        return account
    if headline is not None:
        for element in _SOURCE_CLASS(headline):
            first = next((t.strip() for t in element.itertext() if t.strip()), "")
            value = _outlet(_OUTLET_LABEL.sub(r"\1", first))
            if 2 <= len(value) <= 40 and value not in NOT_OUTLETS:
                return value
    return _beside_date(tokens) or _labelled(text) or _posting_account(root)


# A Weibo post's page is titled "… - @头条新闻的微博 - 微博": the account that posted it.
_WEIBO_TITLE = re.compile(r"@([^@\s]{2,30})的微博\s*-\s*微博\s*$")
_TITLE = etree.XPath("string(//title)")


def _posting_account(root: Any) -> str:
    m = _WEIBO_TITLE.search(str(_TITLE(root)).strip())
    return m.group(1) if m else ""
