"""Redirect loops as errors with their reason.

Scrapy's RedirectMiddleware follows a redirect by scheduling a new request; one back to a URL
already in the chain is dropped by the duplicate filter without a word, so a list page in a
loop made a run "empty" with no error, and an article in one simply never arrived. Placed just
before RedirectMiddleware on the way back, this refuses such a redirect with IgnoreRequest,
which reaches the request's errback (`SourceSpider.on_error`) as "redirect loop: …".
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from w3lib.url import safe_url_string

REDIRECTS = {301, 302, 303, 307, 308}


class RedirectLoopMiddleware:
    def process_response(self, request: Request, response: Response, spider: Any = None) -> Any:
        location = response.headers.get(b"Location")
        if response.status not in REDIRECTS or not location:
            return response
        target = safe_url_string(urljoin(request.url, location.decode("latin-1")))
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if target in chain:
            loop = " → ".join([*chain[chain.index(target) :], target])
            raise IgnoreRequest(f"redirect loop: {loop}")
        return response
