"""The crawler's one door into responder: what is already known, a crawl run opened, batches of
mentions and set-aside pages stored, the run finished.

`crawlers/` parses and hands over; it does not open sessions, query tables or write a run's
status. Everything it needs from the database goes through `Handover` (one per spider or
pipeline, as each holds its own connection pool), and the plain helpers it shares with imports
(cleaning a record, canonical URLs, reading dates and counts, the "host:pid" a run is
owned by) are re-exported here, so the
import contract can forbid every other responder module to crawlers
(`pyproject.toml`, `[tool.importlinter]`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select, union_all

from responder.db import Database
from responder.intake import crawl_runs
from responder.intake.counts import parse_count
from responder.intake.crawl_runs import RunCounts, RunStatus
from responder.intake.dates import parse_time
from responder.intake.mentions import (
    AsidePage,
    MentionRecord,
    aside_title,
    canonical_url,
    clean,
    content_hash,
    forget_retried,
    match_text,
    remember_pages,
    source_for,
    store_many,
)
from responder.intake.watching import (
    PageText,
    Sighting,
    last_text,
    record_sightings,
    remember_texts,
)
from responder.models import RETRIED_OUTCOMES, Mention, SeenPage
from responder.processes import this_process
from responder.settings import Settings, Source

__all__ = [
    "AsidePage",
    "Handover",
    "MentionRecord",
    "PageText",
    "Run",
    "RunCounts",
    "RunStatus",
    "Sighting",
    "aside_title",
    "canonical_url",
    "clean",
    "content_hash",
    "match_text",
    "open",
    "parse_count",
    "parse_time",
    "this_process",
]


@dataclass(frozen=True)
class Run:
    """An open crawl run of one source, as the crawler holds it."""

    id: int
    source_id: int


class Handover:
    """A connection to the database for one crawler component; `close()` when done."""

    def __init__(self, settings: Settings, migrate: bool = False) -> None:
        self.settings = settings
        self.db = Database(settings, migrate=migrate)

    def known(self, canonical: set[str]) -> set[str]:
        """The canonical URLs among `canonical` that need no fetching: stored as mentions, or
        set aside by an earlier crawl for a lasting reason (all outcomes but
        `RETRIED_OUTCOMES`)."""
        if not canonical:
            return set()
        # One statement on a connection, not two through an ORM session: a list page asks
        # this once for its links, and the session's round trips cost more than the lookup.
        with self.db.engine.connect() as connection:
            return set(
                connection.scalars(
                    union_all(
                        select(Mention.canonical_url).where(Mention.canonical_url.in_(canonical)),
                        select(SeenPage.canonical_url).where(
                            SeenPage.canonical_url.in_(canonical),
                            SeenPage.outcome.not_in(RETRIED_OUTCOMES),
                        ),
                    )
                )
            )

    def register_sources(self, sources: Iterable[Source]) -> None:
        """Make sure every source has its row (workers do this under a lock before crawling)."""
        with self.db.transaction() as session:
            for source in sources:
                source_for(session, source.name, source.kind, source.url)

    def open_run(self, cycle_id: str, source: Source) -> Run:
        """Open a run of the source; a run of it whose process died (SIGKILL, a timeout) is
        closed first, so a source never shows two runs going where one is dead."""
        with self.db.transaction() as session:
            row = source_for(session, source.name, source.kind, source.url)
            crawl_runs.close_abandoned_runs(session, self.settings, source_id=row.id)
            return Run(crawl_runs.open_run(session, cycle_id, row.id), row.id)

    def watched_text(self, url: str) -> str | None:
        """A watched page's main text as the last crawl stored it; None before the first."""
        with self.db.transaction() as session:
            return last_text(session, url)

    def store(
        self,
        run: Run,
        records: Sequence[MentionRecord],
        aside: Sequence[AsidePage],
        sightings: Sequence[Sighting] = (),
        texts: Sequence[PageText] = (),
    ) -> int:
        """Store a batch in one transaction: the new mentions, the pages set aside (with the
        batch's duplicates of stored mentions) so later crawls skip them, hot-list sightings
        and watched pages' new texts (with the mentions of their changes, so a crash cannot
        remember a change whose mention was lost); returns how many mentions were stored."""
        with self.db.transaction() as session:
            record_sightings(session, sightings, run.source_id)
            remember_texts(session, texts, run.source_id)
            stored, duplicates = store_many(session, records, run.source_id, run.id)
            pages = [*aside, *(AsidePage(r.url, "duplicate", r.title) for r in duplicates)]
            remember_pages(session, pages, run.source_id)
            # A page once set aside as empty and now stored no longer says it had no text.
            forget_retried(session, [record.url for record in records])
        return stored

    def finish_run(self, run: Run, status: RunStatus, counts: RunCounts, error: str | None) -> None:
        with self.db.transaction() as session:
            crawl_runs.finish_run(session, run.id, status, counts, error)

    def discard_run(self, run: Run) -> None:
        """Forget a run that did nothing (a worker that had no share of a round)."""
        with self.db.transaction() as session:
            crawl_runs.discard_run(session, run.id)

    def close(self) -> None:
        self.db.dispose()


def open(settings: Settings, migrate: bool = False) -> Handover:  # noqa: A001
    """A handover for one crawler component. `migrate=True` (once per crawl process, before
    the spiders start) brings the schema up to date."""
    return Handover(settings, migrate=migrate)
