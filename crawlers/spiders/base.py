"""What every source spider shares: the source it crawls, its requests, error accounting and
the incremental rules (skip what is stored, stop paging at the look-back window)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import scrapy
from scrapy.exceptions import DownloadTimeoutError
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import TCPTimedOutError, TimeoutError
from twisted.python.failure import Failure

from crawlers.extract import page_problem
from responder import clock
from responder.intake.handover import canonical_url
from responder.settings import Settings, Source

log = logging.getLogger(__name__)
# Errors kept per run for the health record; the rest are only counted.
KEPT_ERRORS = 5


def redirected_from(response: Response) -> list[str]:
    """The URLs that redirected to this page. A listing links to `/a?id=1`, which redirects to
    `/news/1.html`; the mention is stored under the final URL, so the listed one is recorded
    too (`MentionItem.aliases`), or every crawl would find it new and fetch it again."""
    return [url for url in response.meta.get("redirect_urls", []) if url != response.url]


def describe_failure(failure: Failure) -> str:
    """What went wrong, in the words a person checking the source needs."""
    if failure.check(HttpError):
        response = getattr(failure.value, "response", None)
        return f"HTTP {response.status}" if response is not None else "HTTP error"
    if failure.check(DownloadTimeoutError, TimeoutError, TCPTimedOutError):
        return f"timed out ({failure.getErrorMessage()})"
    return failure.getErrorMessage() or getattr(failure.type, "__name__", "error")


class SourceSpider(scrapy.Spider):
    """One spider instance per configured source. The class `name` is the source kind (the
    keys of `crawlers.runner.SPIDERS`); an instance is named `<kind>:<source name>`, unique and
    stable, which names its log lines and, for `--worker` crawls, its Redis keys.

    Stats it keeps for the crawl-run record: `yuqing/found` (items the source listed),
    `yuqing/known` (already stored, not fetched again), `yuqing/old` (older than look-back),
    `yuqing/lists` (list pages or feeds read).
    """

    def __init__(self, source: Source, **kwargs: Any) -> None:
        kwargs.setdefault("name", f"{type(self).name}:{source.name}")
        super().__init__(**kwargs)
        self.source = source
        self.selectors = source.selectors
        self.errors: list[str] = []
        # Set by `source_failing`: the run is failed even if it stored something.
        self.failing = False
        self._requested: set[str] = set()
        # The canonical URLs among those given that need no fetching; set by
        # `crawlers.known.KnownPagesMiddleware` when the spider opens. Nothing is known without it.
        self.known: Callable[[set[str]], set[str]] = lambda canonical: set()
        # Whether this process reads the source, for a spider that reads it outside Scrapy's
        # requests (a mailbox over IMAP), which the shared queue of a `--worker` round cannot
        # split: `crawlers.distributed.RoundWorker` gives it to one worker of the round. A
        # crawl of its own always reads it.
        self.claim_source: Callable[[], bool] = lambda: True

    @property
    def yuqing(self) -> Settings:
        return self.crawler.settings.get("YUQING")  # type: ignore[no-any-return]

    @property
    def lookback(self) -> timedelta:
        days = self.source.lookback_days or self.yuqing.crawl.lookback_days
        return timedelta(days=days)

    def request(self, url: str, callback: Callable[..., Any], **kwargs: Any) -> scrapy.Request:
        meta = kwargs.pop("meta", {})
        if self.source.obey_robots is False:
            # robots.txt is per source, so it is switched off per request, not per process.
            meta["dont_obey_robotstxt"] = True
        return scrapy.Request(url, callback=callback, errback=self.on_error, meta=meta, **kwargs)

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        message = f"{request.url if request else '?'}: {describe_failure(failure)}"
        self.crawler.stats.inc_value("yuqing/errors")
        if len(self.errors) < KEPT_ERRORS:
            self.errors.append(message)
        log.warning("source %s: %s", self.source.name, message)

    def parse_error(self, url: str, problem: str) -> None:
        """A page that arrived but could not be read (not HTML, a feed that does not parse)."""
        self.crawler.stats.inc_value("yuqing/parse_errors")
        if len(self.errors) < KEPT_ERRORS:
            self.errors.append(f"{url}: {problem}")
        log.warning("source %s: %s: %s", self.source.name, url, problem)

    def source_failing(self, url: str, problem: str) -> None:
        """The source itself is failing, whatever it listed (a bridge whose login expired
        still serves its old items): recorded like a parse error, and the run fails."""
        self.failing = True
        self.parse_error(url, problem)

    def bad_item(self, url: str, problem: str) -> None:
        """One item of a list that could not be read (an API's item without a URL): noted in the
        run's error, but not counted as a failure, since the list's other items were read and
        the same bad item would otherwise fail every later run of the source."""
        self.crawler.stats.inc_value("yuqing/bad_items")
        if len(self.errors) < KEPT_ERRORS:
            self.errors.append(f"{url}: {problem}")
        log.warning("source %s: %s: %s", self.source.name, url, problem)

    def broken_list(self, response: TextResponse, what: str = "list page") -> bool:
        """True, with a parse error naming the source and the URL, when a page the source lists
        its items on is broken (`crawlers.extract.page_problem`): the source is failing, which
        is not the same as listing nothing today."""
        problem = page_problem(response)
        if problem is None:
            return False
        self.parse_error(response.url, f"the {what} of source {self.source.name} {problem}")
        return True

    def new_links(self, urls: Iterable[str]) -> list[str]:
        """The listed URLs not stored, not set aside by an earlier crawl (`seen_pages`, both
        answered by `crawlers.known`) and not requested already in this run.

        Every listed URL counts as found; the others are skipped without a request.
        """
        listed = {url: canonical_url(url) for url in urls}
        self.crawler.stats.inc_value("yuqing/lists")
        self.crawler.stats.inc_value("yuqing/found", len(listed))
        fresh = {u: c for u, c in listed.items() if c not in self._requested}
        stored = self._stored(set(fresh.values()))
        new = [u for u, c in fresh.items() if c not in stored]
        self._requested.update(fresh[u] for u in new)
        known = len(listed) - len(new)
        if known:
            self.crawler.stats.inc_value("yuqing/known", known)
        return new

    def is_old(self, published: datetime | None) -> bool:
        """True for a time before the look-back window (counted); unknown times are kept."""
        if published is None or published >= clock.now() - self.lookback:
            return False
        self.crawler.stats.inc_value("yuqing/old")
        return True

    def keep_paging(self, listed: int, new: int, dated: list[datetime | None]) -> bool:
        """Page on unless the page listed nothing, only stored items, or only items older
        than the look-back window."""
        if listed == 0 or new == 0:
            return False
        times = [t for t in dated if t is not None]
        oldest_allowed = clock.now() - self.lookback
        return not times or any(t >= oldest_allowed for t in times)

    def _stored(self, canonical: set[str]) -> set[str]:
        return self.known(canonical) if canonical else set()
