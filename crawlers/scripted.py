"""What a script-built page carries in a JSON blob: its publication time, its account or
outlet, its title and its text, when the markup has none of them.

A Weibo post page (`var $render_data = [{"status": {"created_at": …, "user": {"screen_name":
…}}}]`), a Next.js or Nuxt page (`<script id="__NEXT_DATA__" type="application/json">`,
`window.__INITIAL_STATE__ = {…}`) builds its article in the browser; the crawler sees an
empty shell and a script. The blob is read generically, by the names such blobs use for each
field (`created_at`, `publish_time`, `screen_name`, `nickname`, …), never by the site.

Only a fallback (`crawlers.extract`): on a page whose markup holds the article this is not
run, so its cost is paid only by the pages that need it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from lxml import etree

# A blob: a JSON script, or an object or array assigned in a script.
_JSON_SCRIPTS = etree.XPath(
    "//script[contains(@type, 'json') and not(contains(@type, 'ld+json'))]/text()",
    smart_strings=False,
)
_SCRIPTS = etree.XPath("//script[not(@src)]/text()", smart_strings=False)
_ASSIGNED = re.compile(r"=\s*([\[{])")
MIN_BLOB_CHARS = 100
MAX_BLOB_CHARS = 5_000_000
DEPTH = 12
TIME_KEYS = (
    "created_at", "publish_time", "publishTime", "pub_time", "pubTime", "publish_date",
    "publishDate", "datePublished", "pubDate", "ctime", "create_time", "createTime",
)  # fmt: skip
ACCOUNT_KEYS = ("screen_name", "nickname", "nick_name", "media_name", "source_name", "author")
TITLE_KEYS = ("title", "status_title")
TEXT_KEYS = ("text_raw", "text", "content", "longTextContent", "body")
# Weibo's "Mon May 13 17:07:00 +0800 2024".
_WEIBO_TIME = "%a %b %d %H:%M:%S %z %Y"
_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<\s*(?:br|/p|/div)\s*/?>", re.I)


def _blobs(root: Any) -> Iterator[Any]:
    for text in _JSON_SCRIPTS(root):
        try:
            yield json.loads(text)
        except ValueError:
            continue
    decoder = json.JSONDecoder()
    for text in _SCRIPTS(root):
        if not MIN_BLOB_CHARS <= len(text) <= MAX_BLOB_CHARS:
            continue
        at = 0
        while match := _ASSIGNED.search(text, at):
            try:
                value, at = decoder.raw_decode(text, match.start(1))
            except ValueError:
                at = match.end()
                continue
            if value:
                yield value


def _walk(value: Any, depth: int = 0) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair in the blob, shallow ones first within each object."""
    if depth > DEPTH:
        return
    if isinstance(value, dict):
        yield from value.items()
        for child in value.values():
            if isinstance(child, (dict, list)):
                yield from _walk(child, depth + 1)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child, depth + 1)


def _time(value: Any) -> str:
    """A time as `responder.intake.dates.parse_time` reads it: epoch seconds or milliseconds,
    Weibo's `created_at`, or a date string passed on as written."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
        seconds = float(value)
        if seconds > 1e11:  # milliseconds
            seconds /= 1000
        if not 1e8 < seconds < 1e10:
            return ""
        return datetime.fromtimestamp(seconds, UTC).isoformat()
    if not isinstance(value, str) or not value.strip():
        return ""
    try:
        return datetime.strptime(value.strip(), _WEIBO_TIME).isoformat()
    except ValueError:
        return value.strip()


def _plain(value: str) -> str:
    """A text field's HTML (Weibo's `text` carries links and `<br />`) as plain lines."""
    text = _TAG.sub("", _BREAK.sub("\n", value))
    text = text.replace("&nbsp;", " ").replace("&lt;", "<").replace("&gt;", ">")
    text = text.replace("&quot;", '"').replace("&#39;", "'").replace("&amp;", "&")
    return "\n".join(line.strip() for line in text.splitlines() if line.strip())


def scripted_fields(root: Any) -> dict[str, str]:
    """published, outlet, title and text from the page's JSON blobs; a field not found is
    left out. The longest text wins (a post's full text over a share summary); the first
    time and account found, shallowest first, belong to the main item."""
    found: dict[str, str] = {}
    text = ""
    for blob in _blobs(root):
        for name, value in _walk(blob):
            if name in TIME_KEYS and "published" not in found and (when := _time(value)):
                found["published"] = when
            elif name in ACCOUNT_KEYS and "outlet" not in found:
                account = value.get("name") if isinstance(value, dict) else value
                if isinstance(account, str) and 0 < len(account.strip()) <= 60:
                    found["outlet"] = account.strip()
            elif name in TITLE_KEYS and "title" not in found and isinstance(value, str):
                if 0 < len(value.strip()) <= 200:
                    found["title"] = _plain(value)
            elif name in TEXT_KEYS and isinstance(value, str) and len(value) > len(text):
                text = value
    if text and (plain := _plain(text)):
        found["text"] = plain
    return found
