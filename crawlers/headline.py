"""The headline of an article page, found without selectors.

Written here, not taken from a library: on the development pages (`python -m bench.extract`)
the best library title (gne, 89 %) still took a site-name `<h1>`, a recommended item or a
generic `<title>`; trafilatura and readability return `<title>` with its site suffix most of
the time. The rule that works on Chinese sites uses what the page says about itself twice:

1. The `<title>` (and `og:title`) of an article page begins with, or holds, its headline, and
   adds a channel or site name (`标题_栏目_站名`, `标题 - 站名`, `标题|关键词_站名`). A heading
   or title-classed element whose text is the longest piece of that string is the headline;
   a site name (`<h1>松花江网</h1>`) is a shorter piece and a recommended item is no piece.
   An element that extends a cut `og:title` or a `<title>` ending in "..." is taken whole.
2. When nothing on the page matches (a generic `<title>` such as "科普中国-辟谣文章"), the first
   heading or title-classed element (class or id with title/tit/bt/headline/subject, the
   forum label 主题：) inside the page's content is taken; decoy navigation headings are short
   and come first, so the longest of the first few wins.
3. Failing both, the first segment of `<title>` without its suffix.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lxml import etree

MIN_CHARS = 4
# The byline under a headline is shorter than this; the article's first paragraph is a text
# node of PARAGRAPH_CHARS or more with a full stop.
BYLINE_CHARS = 300
PARAGRAPH_CHARS = 40
_ALL_TEXT = etree.XPath("//body//text()[not(ancestor::title or ancestor::script)]")
MAX_CHARS = 100
_SPACE = re.compile(r"\s+")
# Site and section names appended to <title>: "标题_栏目_站名", "标题 - 站名", "标题|站名".
TITLE_SUFFIX = re.compile(r"\s*[_|｜]\s*|\s+[-–—]{1,2}\s*|-{2,}|\s+::\s+")
# A pagination marker forum archivers put in <title>: "(页 1)", "（第2页）".
_PAGE_MARK = re.compile(r"\s*[(（]\s*(?:页|第)\s*\d+\s*页?\s*[)）]\s*$")
_TITLE_CLASS = re.compile(
    r"(?:^|[\s_-])(?:\w*title\w*|\w*tit|bt|\w+_bt|bt_\w+|headline|subject)"
    r"(?:$|[\s_-])",
    re.I,
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_LABEL = re.compile(r"^(?:主题|标题|帖子主题)\s*[:：]\s*")
_CANDIDATES = etree.XPath(
    "//body//*[self::h1 or self::h2 or self::h3 or self::h4 or self::h5 or self::h6"
    " or contains(translate(@class,'TITLEBHADNSUJC','titlebhadnsujc'),'tit')"
    " or contains(translate(@id,'TITLEBHADNSUJC','titlebhadnsujc'),'tit')"
    " or contains(@class,'bt') or contains(@class,'headline') or contains(@class,'subject')"
    " or contains(@class,'large')]"
)


@dataclass
class Headline:
    text: str
    element: Any  # the lxml element it was read from, or None when it came from <title>


def key(text: str) -> str:
    """Matching key: NFKC, no whitespace (the page's own text is never changed by it)."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text))


def collapse(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _text(element: Any) -> str:
    return collapse("".join(element.itertext()))


def title_segment(title: str) -> str:
    """`<title>` without its channel and site suffix."""
    title = collapse(title)
    first = TITLE_SUFFIX.split(title, maxsplit=1)[0].strip() or title
    head, _, tail = first.rpartition("-")
    if len(head) >= 6 and 2 <= len(tail) <= 10:
        first = head  # "标题-站名" with a bare hyphen
    return _PAGE_MARK.sub("", first)


def _is_candidate(element: Any) -> bool:
    if element.tag in _HEADINGS:
        return True
    names = f"{element.get('class') or ''} {element.get('id') or ''}"
    return bool(_TITLE_CLASS.search(names)) or "large" in names


def find_headline(root: Any, title: str, og_title: str = "", page_text: str = "") -> Headline:
    """The headline of the page parsed as `root` (an lxml HTML tree); see the module docstring.
    `page_text` is the page's visible text: a `<title>` segment found nowhere in it is a
    generic title, not the headline."""
    page_key = key(page_text)
    references = [key(t.rstrip(".…")) for t in (title, og_title) if t and key(t)]
    truncated = [
        key(t.rstrip(".…")) for t in (title, og_title) if t.rstrip().endswith(("...", "…"))
    ]
    segment = title_segment(title or og_title)
    whole = collapse(title or og_title)
    if len(key(whole)) > len(key(segment)) and key(whole) in page_key:
        segment = whole  # the page prints its <title> whole: a column prefix, not a site suffix
    best: tuple[int, str, Any] | None = None
    fallback: list[tuple[str, Any]] = []
    for element in _CANDIDATES(root):
        if not isinstance(element.tag, str) or not _is_candidate(element):
            continue
        text = _LABEL.sub("", _text(element))
        if not MIN_CHARS <= len(text) <= MAX_CHARS * 2:
            continue
        own = key(text)
        score, shown = 0, text
        for ref in references:
            if own in ref:
                score = max(score, len(own))
            elif ref in truncated and own.startswith(ref):
                score = max(score, len(ref) + 1)  # a <title> or og:title cut short
        if not score and len(key(segment)) >= 8 and own.startswith(key(segment)):
            # The headline element also holds a subtitle, byline or "播报文章" button.
            score, shown = len(key(segment)), segment
        if score and (
            best is None
            or score > best[0]
            # The same headline in an element inside the best one: its byline follows it.
            or (score == best[0] and best[2] in element.iterancestors())
        ):
            best = (score, shown, element)
        if len(text) <= MAX_CHARS:
            fallback.append((text, element))
    if best is not None and best[0] >= max(MIN_CHARS, len(key(segment)) // 2):
        return Headline(best[1], best[2])
    if segment.endswith(("...", "…")) and page_key:
        lead = _lead(segment.rstrip(".…"), collapse(page_text))
        if lead:
            return Headline(lead, None)
    generic = bool(page_key) and key(segment) not in page_key
    if references and segment and len(key(segment)) >= 8 and not (generic and fallback):
        return Headline(segment, _printed(root, segment))
    # A generic <title>: the title-like element closest above the article's first paragraph
    # (navigation and recommended items are further from it, or lead to no paragraph).
    near: tuple[int, str, Any] | None = None
    for text, element in fallback:
        between, paragraph = text_after(element)
        gap = sum(map(len, between))
        if paragraph and (near is None or gap <= near[0]):
            near = (gap, text, element)
    if near is not None:
        return Headline(near[1], near[2])
    if fallback:
        text, element = max(fallback[:6], key=lambda pair: len(pair[0]))
        return Headline(text, element)
    return Headline(segment, None)


_NO_TEXT = frozenset({"script", "style", "noscript", "template"})


def _texts(element: Any) -> Iterator[str]:
    if isinstance(element.tag, str) and element.tag not in _NO_TEXT:
        if element.text:
            yield element.text
        for child in element:
            yield from _texts(child)
    if element.tail:
        yield element.tail


def _following_text(element: Any) -> Iterator[str]:
    """The text nodes after `element` in document order, lazily: XPath's following:: axis
    builds the whole rest of the page first, for every candidate headline."""
    node = element
    while node is not None:
        if node.tail:
            yield node.tail
        for sibling in node.itersiblings():
            yield from _texts(sibling)
        node = node.getparent()


def text_after(element: Any, limit: int = BYLINE_CHARS) -> tuple[list[str], str]:
    """The short text nodes after `element` in document order, up to `limit` characters, and
    the paragraph (a node of PARAGRAPH_CHARS with a full stop) that ended them, or "" """
    parts: list[str] = []
    size = 0
    for text in _following_text(element):
        stripped = text.strip()
        if not stripped:
            continue
        if len(stripped) >= PARAGRAPH_CHARS and "。" in stripped:
            return parts, stripped
        parts.append(stripped)
        size += len(stripped)
        if size >= limit:
            break
    return parts, ""


def _printed(root: Any, headline: str) -> Any:
    """The element that prints `headline` as its whole text (a `<th><font>` headline), which
    anchors the byline; None when the page does not print it alone."""
    for node in _ALL_TEXT(root):
        if node.strip() and collapse(node) == headline:
            return node.getparent()
    return None


def _lead(prefix: str, page_text: str) -> str:
    """The whole of a headline cut in `<title>` ("【安徽阜阳一动物园2..."): a post's bracketed
    lead 【…】 or first sentence, as the page's text holds it."""
    at = page_text.find(prefix.strip())
    if at < 0:
        return ""
    rest = page_text[at:]
    if rest.startswith("【") and (end := rest.find("】")) > 0:
        return rest[1:end]
    end = min((i for i in (rest.find(c) for c in "。！？!?") if i > 0), default=-1)
    return rest[: end + 1] if 0 < end <= MAX_CHARS else ""
