"""Item pipelines, in order: normalise → relevance → de-duplicate → save.

Each has one job and drops what fails it with a reason; `SavePipeline` is the only writer.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from sqlalchemy import select

import nlp
from crawlers.dates import parse_time
from crawlers.items import MentionItem
from responder.db import Database
from responder.mentions import MentionRecord, canonical_url, content_hash, is_stored, source_for
from responder.mentions import store as store_mention
from responder.models import CrawlRun, utcnow
from responder.settings import Settings

log = logging.getLogger(__name__)
MIN_TEXT_CHARS = 10


def _yuqing(crawler: Crawler) -> Settings:
    settings = crawler.settings.get("YUQING")
    if settings is None:
        raise NotConfigured("YUQING settings object missing")
    return settings  # type: ignore[no-any-return]


class NormalisePipeline:
    """Clean the text fields and parse the publication time in the office's time zone."""

    def __init__(self, settings: Settings) -> None:
        self.tz = settings.tz

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalisePipeline:
        return cls(_yuqing(crawler))

    def process_item(self, item: MentionItem) -> MentionItem:
        item.title = nlp.normalise(item.title)
        item.text = "\n".join(
            nlp.normalise(line) for line in item.text.splitlines() if line.strip()
        )
        item.author, item.outlet = item.author.strip(), item.outlet.strip()
        if len(item.text) < MIN_TEXT_CHARS:
            raise DropItem(f"no text extracted from {item.url}")
        if item.published_at is None:
            item.published_at = parse_time(item.published, self.tz)
        return item


class RelevancePipeline:
    """Keep only mentions that match the office's keyword rules."""

    def __init__(self, settings: Settings) -> None:
        self.rules = settings.keywords

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RelevancePipeline:
        return cls(_yuqing(crawler))

    def process_item(self, item: MentionItem) -> MentionItem:
        text = f"{item.title}\n{item.text}"
        if not nlp.is_relevant(text, self.rules):
            raise DropItem(f"not relevant: {item.url}")
        item.keywords_matched = nlp.match_keywords(text, self.rules)
        return item


class DuplicatePipeline:
    """Drop what this run has seen or the database holds (same canonical URL or content)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.seen: set[str] = set()
        self.db: Database | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DuplicatePipeline:
        return cls(_yuqing(crawler))

    def open_spider(self) -> None:
        self.db = Database(self.settings, migrate=False)

    def close_spider(self) -> None:
        if self.db is not None:
            self.db.dispose()

    def process_item(self, item: MentionItem) -> MentionItem:
        assert self.db is not None
        canonical, digest = canonical_url(item.url), content_hash(item.title, item.text)
        if canonical in self.seen or digest in self.seen:
            raise DropItem(f"duplicate in this run: {item.url}")
        self.seen.update((canonical, digest))
        with self.db.transaction() as session:
            if is_stored(session, canonical, digest):
                raise DropItem(f"already stored: {item.url}")
        return item


class SavePipeline:
    """Store mentions and this source's crawl run record, with what was fetched and dropped."""

    def __init__(self, crawler: Crawler, settings: Settings) -> None:
        self.crawler = crawler
        self.settings = settings
        self.cycle_id = crawler.settings.get("YUQING_CYCLE_ID", "manual")
        self.db: Database | None = None
        self.run_id: int | None = None
        self.source_id: int | None = None
        self.stored = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SavePipeline:
        return cls(crawler, _yuqing(crawler))

    def open_spider(self) -> None:
        self.db = Database(self.settings, migrate=False)
        source = self.crawler.spider.source  # type: ignore[union-attr]
        with self.db.transaction() as session:
            row = source_for(session, source.name, source.kind, source.url)
            run = CrawlRun(cycle_id=self.cycle_id, source_id=row.id)
            session.add(run)
            session.flush()
            self.run_id, self.source_id = run.id, row.id

    def process_item(self, item: MentionItem) -> MentionItem:
        assert self.db is not None
        record = MentionRecord(
            url=item.url,
            text=item.text,
            title=item.title,
            author=item.author,
            outlet=item.outlet,
            published_at=item.published_at,
            reposts=item.reposts,
            comments=item.comments,
            likes=item.likes,
            keywords_matched=item.keywords_matched,
        )
        with self.db.transaction() as session:
            if store_mention(session, record, self.source_id, self.run_id) is None:
                raise DropItem(f"already stored: {item.url}")
        self.stored += 1
        return item

    def close_spider(self) -> None:
        assert self.db is not None
        stats: dict[str, Any] = self.crawler.stats.get_stats() if self.crawler.stats else {}
        failed = sum(
            v
            for k, v in stats.items()
            if k.startswith(("downloader/exception_type_count", "spider_exceptions/"))
            or k in ("httperror/response_ignored_count", "yuqing/parse_errors")
        )
        fetched = int(stats.get("response_received_count", 0))
        with self.db.transaction() as session:
            run = session.scalar(select(CrawlRun).where(CrawlRun.id == self.run_id))
            assert run is not None
            run.finished_at = utcnow()
            run.fetched = fetched
            run.stored = self.stored
            run.skipped = int(stats.get("item_dropped_count", 0))
            run.failed = int(failed)
            run.status = (
                "failed"
                if fetched == 0 or (failed and not self.stored and not run.skipped)
                else "ok"
            )
            if run.status == "failed":
                run.error = f"fetched {fetched} pages, {failed} errors"
        log.info(
            "source %s: fetched %d, stored %d, skipped %d, failed %d",
            self.crawler.spider.source.name,  # type: ignore[union-attr]
            fetched,
            self.stored,
            run.skipped,
            failed,
        )
        self.db.dispose()
