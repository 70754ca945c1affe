"""Item pipelines, in order: normalise → watch → relevance → de-duplicate → save.

Each has one job and drops what fails it with a reason. `SavePipeline` is the only writer: it
stores mentions, records the pages set aside (so later crawls skip them) and the source's
crawl-run record with what was fetched, found, stored, skipped and failed.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import time
from dataclasses import fields
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured

from crawlers.items import MentionItem
from nlp.relevance import matches_normalised
from responder.intake import handover
from responder.intake.handover import (
    AsidePage,
    Handover,
    MentionRecord,
    PageText,
    Run,
    RunCounts,
    RunStatus,
    Sighting,
    aside_title,
    canonical_url,
    clean,
    content_hash,
    match_text,
)
from responder.settings import Settings

log = logging.getLogger(__name__)


class SetAside(DropItem):
    """A page read and not stored, recorded with `outcome` (`models.SEEN_OUTCOMES`)
    for the source's trail; later crawls do not fetch it again unless the outcome is one of
    `RETRIED_OUTCOMES` (no text)."""

    def __init__(self, outcome: str, message: str) -> None:
        # Logged at DEBUG: the trail records every page set aside with its reason, and Scrapy's
        # line for a dropped item at its default WARNING carries the whole item, text included
        # (a tenth of the page is not relevant on a typical site).
        super().__init__(message, log_level="DEBUG")
        self.outcome = outcome


def _yuqing(crawler: Crawler) -> Settings:
    settings = crawler.settings.get("YUQING")
    if settings is None:
        raise NotConfigured("YUQING settings object missing")
    return settings  # type: ignore[no-any-return]


RECORD_FIELDS = tuple(f.name for f in fields(MentionRecord))


class NormalisePipeline:
    """Clean the text fields, parse the publication time in the office's time zone, and drop
    items older than the source's look-back window."""

    def __init__(self, crawler: Crawler, settings: Settings) -> None:
        self.crawler = crawler
        self.settings = settings

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalisePipeline:
        return cls(crawler, _yuqing(crawler))

    def process_item(self, item: MentionItem) -> MentionItem:
        if item.unreadable:
            item.title = aside_title(item.title, self.settings.privacy)
            raise SetAside("unreadable", f"{item.url}: {item.unreadable}")
        cleaned = clean(item, self.settings.tz, self.settings.privacy)
        if cleaned is None:
            item.title = aside_title(item.title, self.settings.privacy)
            raise SetAside("empty", f"no text extracted from {item.url}")
        # Cleaned in place: Scrapy's item_dropped signal reports the item the spider yielded,
        # so the later pipelines must go on with that very object, not `clean`'s copy.
        for name in RECORD_FIELDS:
            setattr(item, name, getattr(cleaned, name))
        spider = self.crawler.spider
        configured = getattr(getattr(spider, "source", None), "outlet", None)
        if configured:
            item.outlet = configured
        if spider is not None and spider.is_old(item.published_at):  # type: ignore[attr-defined]
            raise SetAside("old", f"older than the look-back window: {item.url}")
        return item


class Unchanged(DropItem):
    """A watched page that added nothing since the last read (or was read for the first
    time): no mention; the save pipeline still records the page's text as read now."""

    def __init__(self, message: str) -> None:
        # The normal case for a watched page, so not a warning (Scrapy logs drops at WARNING).
        super().__init__(message, log_level="INFO")


def added_lines(before: str, after: str) -> list[str]:
    """The lines of `after` that `before` did not have, in page order. A line that only moved
    (a notice list shifting down as a new one is put on top) is not new."""
    old, new = before.splitlines(), after.splitlines()
    known = {line.strip() for line in old}
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    added = [
        line
        for tag, _, _, start, end in matcher.get_opcodes()
        if tag in ("insert", "replace")
        for line in new[start:end]
    ]
    return [line for line in added if line.strip() and line.strip() not in known]


def change_url(url: str, added: str) -> str:
    """A URL of its own for one change of a watched page: mentions are unique by canonical URL,
    and a fragment would not survive canonicalisation, so the change's digest is a query
    parameter (which sites ignore, so the link still opens the page)."""
    digest = hashlib.sha1(added.encode("utf-8")).hexdigest()[:12]
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("yuqing_change", digest)]
    return urlunsplit(parts._replace(query=urlencode(query)))


class WatchPipeline:
    """For a watched page (`watch` sources): compare its main text, as cleaned and masked, with
    the last read, and let through a mention whose text is the lines added; drop the page when
    nothing was added, or on the first read, which only sets the baseline (a page's whole
    content is not news). Only then does a change count as found, so an unchanged page makes
    an "empty" run (the health check does not count those against a watch source)."""

    def __init__(self, crawler: Crawler, settings: Settings) -> None:
        self.crawler = crawler
        self.settings = settings
        self.handover: Handover | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WatchPipeline:
        return cls(crawler, _yuqing(crawler))

    def process_item(self, item: MentionItem) -> MentionItem:
        if not item.watched:
            return item
        if self.handover is None:
            self.handover = handover.open(self.settings)
        # Keyed by the configured URL: the page may redirect elsewhere some day.
        page = self.crawler.spider.source.url  # type: ignore[union-attr]
        before = self.handover.watched_text(page)
        item.page_text = item.text
        if before is None:
            raise Unchanged(f"first read of {item.url}: its text is the baseline")
        added = added_lines(before, item.text)
        if not added:
            raise Unchanged(f"nothing added to {item.url}")
        self.crawler.stats.inc_value("yuqing/found")  # type: ignore[union-attr]
        item.text = "\n".join(added)
        item.url = change_url(item.url, item.text)
        return item

    def close_spider(self) -> None:
        if self.handover is not None:
            self.handover.close()


class RelevancePipeline:
    """Keep only mentions that match the office's keyword rules, except from a spider whose
    every item concerns the office (`keeps_all`: a letter to its own mailbox)."""

    def __init__(self, crawler: Crawler, settings: Settings) -> None:
        self.crawler = crawler
        self.rules = settings.keywords

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RelevancePipeline:
        return cls(crawler, _yuqing(crawler))

    def process_item(self, item: MentionItem) -> MentionItem:
        # `nlp.is_relevant` then `nlp.match_keywords`, with the text normalised once for them
        # and for the content hash (`match_text`).
        text = match_text(item.title, item.text)
        matched = matches_normalised(text, self.rules)
        keeps_all = getattr(self.crawler.spider, "keeps_all", False)
        excluded = any(word in text for word in self.rules.exclude)
        if not keeps_all and (excluded or not matched):
            raise SetAside("irrelevant", f"not relevant: {item.url}")
        item.keywords_matched = matched
        return item


class DuplicatePipeline:
    """Drop what this run has seen already (same canonical URL or content).

    What the database holds is checked by `SavePipeline` a batch at a time; spiders skip
    stored URLs before fetching, so few duplicates get that far.
    """

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def process_item(self, item: MentionItem) -> MentionItem:
        canonical, digest = canonical_url(item.url), content_hash(item.title, item.text)
        if canonical in self.seen or digest in self.seen:
            raise SetAside("duplicate", f"duplicate in this run: {item.url}")
        self.seen.update((canonical, digest))
        return item


class SavePipeline:
    """Store mentions, set-aside pages and this source's crawl-run record.

    Writes are batched: one transaction per BATCH items or FLUSH_SECONDS, whichever comes
    first, and at the end. A crash loses at most the unsaved batch, whose pages are neither
    stored nor remembered and so are fetched again by the next crawl.
    """

    BATCH = 100
    FLUSH_SECONDS = 5.0

    def __init__(self, crawler: Crawler, settings: Settings) -> None:
        self.crawler = crawler
        self.settings = settings
        self.cycle_id = crawler.settings.get("YUQING_CYCLE_ID", "manual")
        self.handover: Handover | None = None
        self.run: Run | None = None
        self.stored = 0
        self.pending: list[MentionItem] = []
        self.aside: list[AsidePage] = []
        self.sightings: list[Sighting] = []
        self.pages: list[PageText] = []
        self.flushed_at = time.monotonic()
        crawler.signals.connect(self.item_dropped, signal=signals.item_dropped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SavePipeline:
        return cls(crawler, _yuqing(crawler))

    def open_spider(self) -> None:
        self.handover = handover.open(self.settings)
        source = self.crawler.spider.source  # type: ignore[union-attr]
        self.run = self.handover.open_run(self.cycle_id, source)

    def item_dropped(self, item: Any, response: Any, exception: Exception, spider: Any) -> None:
        if isinstance(item, MentionItem) and item.page_text is not None:
            # A watched page read and not stored (unchanged, or its change not relevant):
            # its text as read now is the next read's baseline all the same.
            self.pages.append(PageText(spider.source.url, item.page_text))
        if not isinstance(exception, SetAside) or not isinstance(item, MentionItem):
            return
        if item.url != getattr(spider.source, "url", None):  # else a feed entry without a link
            self.aside.append(AsidePage(item.url, exception.outcome, item.title))
        self.aside += [AsidePage(alias, "redirect") for alias in item.aliases]

    def process_item(self, item: MentionItem) -> MentionItem:
        self.pending.append(item)
        if item.hot_rank is not None:
            self.sightings.append(
                Sighting(item.url, item.title, item.hot_board, item.hot_rank, item.hot_heat)
            )
        if item.page_text is not None:
            page = self.crawler.spider.source.url  # type: ignore[union-attr]
            self.pages.append(PageText(page, item.page_text))
        if (
            len(self.pending) >= self.BATCH
            or time.monotonic() - self.flushed_at >= self.FLUSH_SECONDS
        ):
            self.flush()
        return item

    def flush(self) -> None:
        assert self.handover is not None and self.run is not None
        self.flushed_at = time.monotonic()
        if not (self.pending or self.aside or self.pages):
            return
        for item in self.pending:
            self.aside += [AsidePage(alias, "redirect") for alias in item.aliases]
        self.stored += self.handover.store(
            self.run,
            list(self.pending),
            self.aside,
            sightings=self.sightings,
            texts=self.pages,
        )
        self.pending.clear()
        self.aside.clear()
        self.sightings.clear()
        self.pages.clear()

    def run_status(self, fetched: int, found: int, failed: int, stats: dict[str, Any]) -> RunStatus:
        """failed (nothing fetched, errors and nothing found, or every item tried failed),
        empty (the source listed nothing) or ok; the health check counts failed and empty runs
        against the source."""
        # Items listed but skipped without a request (stored before, too old) cannot fail; when
        # every other one failed (all blocked by robots.txt, say) the run failed.
        fetchable = found - int(stats.get("yuqing/known", 0)) - int(stats.get("yuqing/old", 0))
        if fetched == 0 or (failed and found == 0):
            return RunStatus.FAILED
        if failed and not self.stored and failed >= fetchable:
            return RunStatus.FAILED
        return RunStatus.EMPTY if found == 0 else RunStatus.OK

    def close_spider(self) -> None:
        self.flush()
        assert self.handover is not None and self.run is not None
        spider = self.crawler.spider
        stats: dict[str, Any] = self.crawler.stats.get_stats() if self.crawler.stats else {}
        failed = int(stats.get("yuqing/errors", 0)) + int(stats.get("yuqing/parse_errors", 0))
        # Responses over HTTP, and what a spider read otherwise (letters from a mailbox).
        fetched = int(stats.get("response_received_count", 0)) + int(stats.get("yuqing/fetched", 0))
        found = int(stats.get("yuqing/found", 0))
        errors: list[str] = list(getattr(spider, "errors", []))
        counts = RunCounts(
            fetched=fetched,
            found=found,
            stored=self.stored,
            skipped=max(found - self.stored, 0),
            failed=failed,
        )
        status = self.run_status(fetched, found, failed, stats)
        if getattr(spider, "failing", False):
            status = RunStatus.FAILED
        error = "\n".join(errors) or None
        if status == RunStatus.FAILED and not errors:
            error = f"fetched {fetched} pages, {failed} errors"
        self.handover.finish_run(self.run, status, counts, error)
        log.info(
            "source %s: fetched %d, found %d, stored %d, skipped %d, failed %d",
            self.crawler.spider.source.name,  # type: ignore[union-attr]
            fetched,
            found,
            self.stored,
            counts.skipped,
            failed,
        )
        self.handover.close()
