"""The article text read straight from its paragraphs, when the page leaves no doubt where
they are; else None, and trafilatura reads the page (`crawlers.extract._body`).

Most article pages hold the whole article as the `<p>` children of one element (a CMS's
`div.article-content`, `div.TRS_Editor`). trafilatura finds them too, but through several
passes over copies of the tree (cleaning, tag conversion, pruning, then a recall check that
turns the whole page into text again): two thirds of the generic path's extraction time on
`bench.crawl`'s pages, against about a tenth for this reading. It answers only when all hold:

- one element's `<p>` children hold at least `MIN_CHARS` characters and `DOMINANT` of all
  `<p>` text on the page, paragraphs that are mostly a link (a picture's caption, a
  recommended item) left out, so comments and a second article elsewhere lose;
- that element's own text is nearly all in those paragraphs (`SHARE`): an article with a
  table, paragraphs in `<div>`s or lines split by `<br>` outside `<p>`, or a share bar and
  disclaimer of some length inside the container, goes to trafilatura, which knows them;
- the paragraph right under the headline is among them (when one was found), so an article
  whose lead stands in another element is not cut.

On the development set (`python -m bench.extract`) the result is unchanged: where this
answers, its text holds the same snippets trafilatura's did.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from crawlers.headline import key

MIN_CHARS = 200
DOMINANT = 0.6
SHARE = 0.85
# A paragraph that is mostly link text is a recommendation or a pager, not the article.
LINK_SHARE = 0.5
_PARAGRAPHS = etree.XPath("//body//p[not(ancestor::p)]")
_NO_TEXT = frozenset({"script", "style", "noscript", "template"})
_BREAKS = frozenset({"br", "p", "div", "li", "tr"})


def _lines(element: Any) -> tuple[list[str], int]:
    """The element's text as lines (a `<br>` or nested block ends one) and the characters of
    link text in it; script and style left out."""
    lines: list[str] = []
    links = 0
    current: list[str] = []

    def walk(node: Any) -> None:
        nonlocal links
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in _NO_TEXT or not tag:
            pass
        else:
            if tag in _BREAKS:
                current.append("\n")
            if node.text:
                current.append(node.text)
                if tag == "a":
                    links += len(node.text.strip())
            for child in node:
                walk(child)
            if tag in _BREAKS:
                current.append("\n")
        if node.tail:
            current.append(node.tail)

    if element.text:
        current.append(element.text)
    for child in element:
        walk(child)
    for line in "".join(current).splitlines():
        line = " ".join(line.split())
        if line:
            lines.append(line)
    return lines, links


def _own_chars(element: Any) -> int:
    """Characters of visible text in the element, whitespace aside."""
    size = 0
    for node in element.iter():
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in _NO_TEXT:
            continue
        if node.text and tag:
            size += len("".join(node.text.split()))
        if node is not element and node.tail:
            size += len("".join(node.tail.split()))
    # The tails of elements inside a skipped script or style are not visible either; rare
    # enough to leave counted.
    return size


def paragraph_text(root: Any, first: str = "") -> str | None:
    """The article as the lines of the `<p>` children of one element of the page parsed as
    `root`, when the module docstring's rules hold; `first` is the paragraph under the
    headline, or ""."""
    groups: dict[Any, list[str]] = {}
    sizes: dict[Any, int] = {}
    total = 0
    for paragraph in _PARAGRAPHS(root):
        lines, links = _lines(paragraph)
        size = sum(len("".join(line.split())) for line in lines)
        if not size or links > LINK_SHARE * size:
            continue
        total += size
        parent = paragraph.getparent()
        groups.setdefault(parent, []).extend(lines)
        sizes[parent] = sizes.get(parent, 0) + size
    if not sizes:
        return None
    parent = max(sizes, key=lambda element: sizes[element])
    size = sizes[parent]
    if size < MIN_CHARS or size < DOMINANT * total or size < SHARE * _own_chars(parent):
        return None
    text = "\n".join(groups[parent])
    if first and key(first)[:20] not in key(text):
        return None
    return text
