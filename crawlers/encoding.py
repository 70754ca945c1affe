"""Choosing the encoding of an HTML page whose declarations disagree or do not fit its bytes.

Scrapy decodes a page with the first encoding declared in the order w3lib (and the HTML
standard) uses: byte-order mark, then the `Content-Type` header's charset, then
`<meta charset>`; it guesses only when nothing is declared, and never checks a declaration
against the bytes. That order trusts the server most, which suits a well-run server and
fails on many Chinese government and news sites: the web server stamps its default
`charset=utf-8` or `ISO-8859-1` on pages the CMS writes in GBK with a correct meta tag, and
the reverse happens when an old template says gb2312 over a CMS that now writes UTF-8.
w3lib then decodes with replacement characters without a word, and the title and text
arrive as mojibake that no keyword rule matches.

The rule `choose_encoding` applies to HTML with non-ASCII bytes:

1. Candidates are the BOM's, the meta tag's and the header's encodings, each resolved the
   way w3lib resolves labels (gbk/gb2312 → gb18030, big5 → big5hkscs, iso-8859-1 → cp1252),
   so a page is never read with a narrower codec than Scrapy would use. UTF-8, GB18030 and
   Big5 join them when the header names a Western single-byte charset the meta tag does not
   confirm (that is a server default, not a statement about the page) or when no declared
   encoding decodes the body.
2. When the declarations agree (or only one exists), it decodes the body strictly and the
   body is not also valid UTF-8, the page is left to Scrapy. Valid UTF-8 is a candidate
   whatever is declared: text in another encoding almost never happens to be valid UTF-8.
3. A BOM whose encoding decodes the rest strictly decides. Otherwise each candidate decodes
   the body strictly; when one succeeds it is chosen, when several do charset_normalizer,
   restricted to them, picks the least chaotic text (CJK bytes read as cp1252, or GBK read
   as Big5, come out chaotic). If it declines, the first success wins in the order meta,
   header, UTF-8, GB18030, Big5: the meta tag was written with the page, the header by
   whoever configured the server.
4. When none decodes strictly (a page cut short, a stray byte), the candidate with the fewest
   undecodable bytes is chosen.

The choice is applied with `response.replace(encoding=...)`, which overrides every
declaration; a BOM that lost is removed from the body, since w3lib would honour it anyway.
"""

from __future__ import annotations

import codecs
import logging
from collections.abc import Iterable
from typing import Any

from charset_normalizer import from_bytes
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Request, Response
from scrapy.statscollectors import StatsCollector
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

log = logging.getLogger(__name__)

# What servers send when nobody configured a charset (w3lib reads ISO-8859-1 and ASCII as cp1252).
WESTERN_DEFAULTS = frozenset({"cp1252", "iso8859-1", "ascii"})
# Encodings Chinese sites write in, tried when the declarations are not to be believed.
CHINESE_ENCODINGS = ("utf-8", "gb18030", "big5hkscs")


def _resolved(label: str | None) -> str | None:
    return resolve_encoding(label) if label else None


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        codecs.decode(body, encoding, "strict")
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _undecodable(body: bytes, encoding: str) -> int:
    return codecs.decode(body, encoding, "replace").count("\ufffd")


def _unique(names: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(n for n in names if n))


def _least_chaotic(body: bytes, encodings: list[str]) -> str | None:
    best = from_bytes(body, cp_isolation=encodings).best()
    if best is None:
        return None
    name = codecs.lookup(best.encoding).name
    return next((e for e in encodings if codecs.lookup(e).name == name), None)


def choose_encoding(content_type: str | None, body: bytes) -> str | None:
    """The encoding an HTML body should be decoded with, or None when Scrapy's own choice
    (BOM, header, meta, detection) stands. See the module docstring for the rule."""
    if body.isascii():
        return None  # every candidate reads ASCII alike
    bom, mark = read_bom(body)
    if bom is not None and mark is not None and _decodes(body[len(mark) :], bom):
        return None  # w3lib decodes by the BOM whatever else is declared
    text = body[len(mark) :] if mark else body
    header = _resolved(http_content_type_encoding(content_type))
    meta = _resolved(html_body_declared_encoding(text))
    declared = header or meta
    if declared is None and bom is None:
        return None  # nothing declared: Scrapy detects the encoding itself
    server_default = header in WESTERN_DEFAULTS and meta != header
    agreed = header is None or meta is None or header == meta
    # Text in another encoding that happens to be valid UTF-8 is vanishingly rare, so valid
    # UTF-8 always gets a say, even against declarations that agree.
    utf8 = declared != "utf-8" and _decodes(text, "utf-8")
    settled = agreed and not server_default and not utf8
    if bom is None and declared is not None and settled and _decodes(text, declared):
        return None
    candidates = _unique([bom, meta, header, "utf-8" if utf8 else None])
    if server_default or not any(_decodes(text, c) for c in candidates):
        candidates = _unique([*candidates, *CHINESE_ENCODINGS])
    decoding = [c for c in candidates if _decodes(text, c)]
    if len(decoding) == 1:
        chosen = decoding[0]
    elif decoding:
        chosen = _least_chaotic(text, decoding) or decoding[0]
    else:
        chosen = min(candidates, key=lambda c: _undecodable(text, c))
    if bom is None and chosen == declared:
        return None
    return chosen


class EncodingMiddleware:
    """Downloader middleware re-decoding HTML responses with `choose_encoding`'s choice.

    It must see the body after decompression: its order number sits below
    HttpCompressionMiddleware's (590), whose responses reach it first.
    """

    def __init__(self, stats: StatsCollector | None) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EncodingMiddleware:
        return cls(crawler.stats)

    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, HtmlResponse):
            return response
        content_type = response.headers.get(b"Content-Type")
        header = content_type.decode("latin-1") if content_type else None
        chosen = choose_encoding(header, response.body)
        if chosen is None:
            return response
        log.debug("decoding %s as %s (declared: %s)", response.url, chosen, header)
        if self.stats is not None:
            self.stats.inc_value("yuqing/encoding_corrected")
        changes: dict[str, Any] = {"encoding": chosen}
        bom, mark = read_bom(response.body)
        if mark is not None and bom != chosen:
            changes["body"] = response.body[len(mark) :]
        return response.replace(**changes)
