"""A page whose callback raised is an error of the run, with its reason.

Without this, an exception in a spider's callback (an article page lxml could not build a
tree of, say) was only logged by Scrapy, and the page was skipped with no error recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scrapy.http import Response


class CallbackErrorMiddleware:
    """Spider middleware: records the exception on the source's run and drops the page."""

    def process_spider_exception(
        self, response: Response, exception: Exception, spider: Any
    ) -> Iterable[Any] | None:
        parse_error = getattr(spider, "parse_error", None)
        if parse_error is None:
            return None  # not one of ours: Scrapy's own handling
        parse_error(response.url, f"could not be read ({type(exception).__name__}: {exception})")
        return ()
