"""`json` sources: APIs that answer a list of items (a self-hosted hot-list service, a message
board answering JSON, RSSHub's JSON Feed). sources.yaml says where the list is (`items`) and
where each mention field is in an item (`fields`), as dotted paths; paging is a page query
parameter or the next page's URL in the answer.

An answer that is not JSON, or that has no list where `items` says (an API's error body:
`{"code": 500, "message": "..."}`), is a parse error naming the source and what was wrong.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scrapy.http import Response

from crawlers.extract import html_to_text
from crawlers.items import MentionItem
from crawlers.spiders.base import SourceSpider
from responder.intake.handover import parse_count

_MISSING = object()
_HTML = re.compile(r"<[a-zA-Z/!]")
# Where APIs put the reason in an error body; shown in the run's error.
_REASON_KEYS = ("message", "msg", "error", "errmsg", "code", "status")


def dig(value: Any, path: str) -> Any:
    """The value at a dotted path ("data.list", "items.0.url"); `_MISSING` when absent."""
    for part in path.split(".") if path else []:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def _text(value: Any) -> str:
    if value is _MISSING or value is None or isinstance(value, dict | list):
        return ""
    text = str(value).strip()
    return html_to_text(text) if _HTML.search(text) else text


def _count(value: Any) -> int:
    try:
        return parse_count(None if value is _MISSING else value)
    except ValueError:
        return 0  # a count an API writes as "—" is unknown, not an error of the item


def _time(value: Any) -> tuple[str, datetime | None]:
    """(as written, parsed) for a string; a number is Unix time in seconds or milliseconds."""
    if isinstance(value, bool) or value is _MISSING or value is None:
        return "", None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return "", datetime.fromtimestamp(seconds, UTC)
        except (ValueError, OverflowError, OSError):
            return "", None
    return str(value), None


def reason(answer: Any) -> str:
    """What an error body says, for the run's error ("code=500 message=…"), or ""."""
    if not isinstance(answer, dict):
        return ""
    said = [f"{k}={str(answer[k])[:120]}" for k in _REASON_KEYS if k in answer]
    return " ".join(said)


def with_page(url: str, parameter: str, page: int) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != parameter]
    query.append((parameter, str(page)))
    return urlunsplit(parts._replace(query=urlencode(query)))


class JsonSpider(SourceSpider):
    name = "json"

    async def start(self) -> AsyncIterator[Any]:
        yield self.request(self.source.url, self.parse_page, cb_kwargs={"page": 1})

    def read_json(self, response: Response) -> Any:
        """The answer as JSON; `_MISSING`, with a parse error, when it is not JSON."""
        try:
            return json.loads(response.body)
        except (ValueError, UnicodeDecodeError) as exc:
            start = response.body[:60].decode("utf-8", "replace")
            self.parse_error(
                response.url,
                f"source {self.source.name} answered no JSON ({exc}); it starts {start!r}",
            )
            return _MISSING

    def listed(self, response: Response, answer: Any) -> list[Any] | None:
        """The answer's list of items, or None with a parse error (an error body, say)."""
        items = dig(answer, self.source.items)
        if isinstance(items, list):
            return items
        where = f"at {self.source.items!r}" if self.source.items else "as the answer"
        said = reason(answer)
        self.parse_error(
            response.url,
            f"source {self.source.name}: no list of items {where}"
            + (f"; the answer says {said}" if said else ""),
        )
        return None

    def entry(self, response: Response, item: Any) -> MentionItem | None:
        """The mention an item of the list describes; None (noted as a bad item) without a
        usable URL or any text."""
        fields = self.source.fields
        field = {name: dig(item, path) for name, path in fields.items()}
        link = _text(field.get("url", _MISSING))
        try:
            url = response.urljoin(link) if link else ""
        except ValueError:
            url = ""
        title, text = _text(field.get("title", _MISSING)), _text(field.get("text", _MISSING))
        if not url.startswith(("http://", "https://")) or not (title or text):
            shown = json.dumps(item, ensure_ascii=False)[:120]
            self.bad_item(
                response.url, f"source {self.source.name}: an item without url or text: {shown}"
            )
            return None
        published, published_at = _time(field.get("time", _MISSING))
        return MentionItem(
            source=self.source.name,
            url=url,
            title=title,
            text=text or title,
            author=_text(field.get("author", _MISSING)),
            outlet=_text(field.get("outlet", _MISSING)),
            published=published,
            published_at=published_at,
            reposts=_count(field.get("reposts", _MISSING)),
            comments=_count(field.get("comments", _MISSING)),
            likes=_count(field.get("likes", _MISSING)),
        )

    def parse_page(self, response: Response, page: int) -> Iterator[Any]:
        answer = self.read_json(response)
        if answer is _MISSING:
            return
        items = self.listed(response, answer)
        if items is None:
            return
        entries = [e for e in (self.entry(response, i) for i in items) if e is not None]
        if items and not entries:
            self.unreadable(response, len(items))
            return
        by_url = {e.url: e for e in entries}
        new = self.new_links(by_url)
        fresh = [by_url[url] for url in new if not self.is_old(by_url[url].published_at)]
        yield from fresh
        if page >= self.source.max_pages or not self.keep_paging(
            len(by_url), len(fresh), [e.published_at for e in entries]
        ):
            return
        nxt = self.next_url(response, answer, page)
        if nxt and nxt != response.url:
            yield self.request(nxt, self.parse_page, cb_kwargs={"page": page + 1})

    def unreadable(self, response: Response, count: int) -> None:
        """Not one item of a list could be read: the `fields` no longer fit the API."""
        fields = ", ".join(f"{k}: {v}" for k, v in self.source.fields.items())
        self.parse_error(
            response.url,
            f"source {self.source.name}: none of its {count} items has a url and a title or"
            f" text where `fields` says ({fields})",
        )

    def next_url(self, response: Response, answer: Any, page: int) -> str | None:
        if self.source.page_param:
            return with_page(response.url, self.source.page_param, page + 1)
        if self.source.next_path:
            link = dig(answer, self.source.next_path)
            if isinstance(link, str) and link.strip():
                try:
                    return response.urljoin(link.strip())
                except ValueError:
                    return None
        return None
