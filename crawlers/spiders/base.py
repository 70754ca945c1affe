"""What every source spider shares: the source it crawls, its requests and error accounting."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import scrapy
from twisted.python.failure import Failure

from responder.settings import Source

log = logging.getLogger(__name__)


class SourceSpider(scrapy.Spider):
    """One spider instance per configured source; the spider name is the source kind."""

    def __init__(self, source: Source, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source = source
        self.selectors = source.selectors

    def request(self, url: str, callback: Callable[..., Any], **kwargs: Any) -> scrapy.Request:
        meta = kwargs.pop("meta", {})
        if self.source.obey_robots is False:
            # robots.txt is per source, so it is switched off per request, not per process.
            meta["dont_obey_robotstxt"] = True
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta=meta, **kwargs)

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        log.warning(
            "source %s: %s failed: %s",
            self.source.name,
            request.url if request else "?",
            failure.getErrorMessage(),
        )
