"""Remember the URLs a page was redirected from.

A listing links to `/a?id=1`, which redirects to `/news/1.html`; the mention is stored under
the final URL, so without this the listed URL would look new and be fetched on every crawl.
This spider middleware copies Scrapy's `redirect_urls` onto the items a response yields, and
the save pipeline records them as seen pages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from scrapy.http import Response

from crawlers.items import MentionItem


def _tag(response: Response, result: Any) -> Any:
    aliases = response.meta.get("redirect_urls") or []
    if aliases and isinstance(result, MentionItem):
        result.aliases = [*result.aliases, *(u for u in aliases if u != result.url)]
    return result


class RedirectAliasMiddleware:
    def process_spider_output(
        self, response: Response, result: Iterable[Any], spider: Any = None
    ) -> Iterator[Any]:
        for entry in result:
            yield _tag(response, entry)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any], spider: Any = None
    ) -> AsyncIterator[Any]:
        async for entry in result:
            yield _tag(response, entry)
