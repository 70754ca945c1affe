"""What the crawl and the intake keep: sources, crawl runs, pages read and set aside, mentions
with their judgements, hot-list sightings and watched pages."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    SQLColumnExpression,
    String,
    Text,
    false,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from responder import clock
from responder.models.base import Base
from responder.statuses import (
    EnumText,
    JudgementOrigin,
)

if TYPE_CHECKING:
    from responder.models.incidents import Incident


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class CrawlRun(Base):
    """One crawl of one source: what was fetched, stored, skipped and failed."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[str] = mapped_column(String(40), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    started_at: Mapped[datetime] = mapped_column(default=clock.now)
    finished_at: Mapped[datetime | None]
    # running | ok | empty | failed | interrupted (its process died before finishing); written
    # only by responder.intake.crawl_runs (RunStatus)
    status: Mapped[str] = mapped_column(String(20), default="running")
    fetched: Mapped[int] = mapped_column(default=0)
    # Items the source listed this run, including those skipped as already stored or too old:
    # zero means the source yielded nothing, which the health check counts against it.
    found: Mapped[int] = mapped_column(default=0)
    stored: Mapped[int] = mapped_column(default=0)
    skipped: Mapped[int] = mapped_column(default=0)
    failed: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    # The process that writes the run, "host:pid" (responder.processes): a run left "running"
    # by a process that died is closed as "interrupted"
    # (responder.intake.crawl_runs.close_abandoned_runs).
    worker: Mapped[str | None] = mapped_column(String(300))

    source: Mapped[Source] = relationship()


class SeenPage(Base):
    """An article URL a crawl fetched and did not store, with the reason, the page's URL and
    its title: the source's page in the web UI lists them, so an office sees what it missed.

    Crawls skip the lasting outcomes (not relevant, too old, a duplicate, a redirect to a page
    recorded already) as they skip stored mentions; a page with no text ("empty") is fetched
    again, since the source may be fixed (selectors added) or the page filled in later."""

    __tablename__ = "seen_pages"
    __table_args__ = (Index("ix_seen_pages_source_seen", "source_id", "seen_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    canonical_url: Mapped[str] = mapped_column(String(700), unique=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    outcome: Mapped[str] = mapped_column(String(20))  # SEEN_OUTCOMES
    seen_at: Mapped[datetime] = mapped_column(default=clock.now)
    # The URL as fetched and the title as extracted (masked like a mention's); None on rows
    # recorded before migration 0011.
    url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)


# What a crawl records a page set aside for; "empty" pages are not skipped by later crawls.
# unreadable: a letter whose MIME tree is broken; read again it would only fail again.
SEEN_OUTCOMES = ("irrelevant", "old", "duplicate", "redirect", "empty", "unreadable")
RETRIED_OUTCOMES = ("empty",)


class Mention(Base):
    __tablename__ = "mentions"
    __table_args__ = (Index("ix_mentions_published", "published_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    crawl_run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id"))
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(String(700), unique=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200), default="")
    outlet: Mapped[str] = mapped_column(String(200), default="")
    published_at: Mapped[datetime | None]
    fetched_at: Mapped[datetime] = mapped_column(default=clock.now)
    reposts: Mapped[int] = mapped_column(default=0)
    comments: Mapped[int] = mapped_column(default=0)
    likes: Mapped[int] = mapped_column(default=0)
    keywords_matched: Mapped[list[Any]] = mapped_column(default=list)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    # Set once incident triage has looked at the mention, whether or not it joined an incident.
    triaged: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # Reprints (转载): the first stored mention of the same story; None for an original.
    reprint_of: Mapped[int | None] = mapped_column(ForeignKey("mentions.id"), index=True)
    # MinHash signature of the text; None until reprint grouping has looked at the mention.
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The title and text before personal identifiers were masked; only with
    # `privacy.keep_original`, only when masking changed something, shown to admin only.
    original_title: Mapped[str | None] = mapped_column(Text)
    original_text: Mapped[str | None] = mapped_column(Text)
    # Why triage put the mention in its incident ("同一地点：青石镇；…"); None for the mention
    # that opened it and for mentions triaged before event grouping.
    join_reason: Mapped[str | None] = mapped_column(Text)

    source: Mapped[Source | None] = relationship()
    judgements: Mapped[list[Judgement]] = relationship(
        back_populates="mention", order_by="Judgement.id"
    )
    incident: Mapped[Incident | None] = relationship(back_populates="mentions")

    @property
    def judgement(self) -> Judgement | None:
        """The judgement in force: the newest correction, else the newest machine judgement."""
        if not self.judgements:
            return None
        corrections = [j for j in self.judgements if j.origin == JudgementOrigin.CORRECTION]
        return (corrections or self.judgements)[-1]

    @property
    def engagement(self) -> int:
        return self.reposts + self.comments + self.likes


class HotRank(Base):
    """One sighting of a relevant entry on a hot list (热榜): its rank and heat when a crawl of
    the board saw it. Kept per crawl, so an incident page can say how high and how long a
    story stayed on a board (`responder.incidents.hotlists`); keyed by the entry's canonical
    URL, which is also its mention's."""

    __tablename__ = "hot_ranks"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    board: Mapped[str] = mapped_column(String(40))  # settings.HOT_BOARDS, as written: 微博热搜
    canonical_url: Mapped[str] = mapped_column(String(700), index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    rank: Mapped[int]
    heat: Mapped[int] = mapped_column(default=0)
    seen_at: Mapped[datetime] = mapped_column(default=clock.now)


class WatchedPage(Base):
    """The main text of a watched page (`watch` sources) as last read, masked like a mention's:
    the next crawl stores a mention only for what it adds."""

    __tablename__ = "watched_pages"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    canonical_url: Mapped[str] = mapped_column(String(700), unique=True)
    text: Mapped[str] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(default=clock.now)
    changed_at: Mapped[datetime] = mapped_column(default=clock.now)


class MentionAttachment(Base):
    """A file a person attached when registering a mention (登记舆情): a photo of a letter, a
    recording of a call, a PDF. Kept in the database, so backups hold it; its type is what its
    bytes are (`responder.intake.attachments`), never what the upload claimed."""

    __tablename__ = "mention_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))  # sanitised, for display and download
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(default=clock.now)


# When a mention counts: its publication time, else when it was collected. Lists, the dashboard
# and the date filters order and narrow by it, so it has its own (expression) index: without
# one, every dashboard request scanned all stored mentions.
MENTION_TIME = func.coalesce(Mention.published_at, Mention.fetched_at)
Index("ix_mentions_time", MENTION_TIME)

UNKNOWN_SOURCE = "未知信源"  # a mention with neither outlet, source nor author


def source_name(source: SQLColumnExpression[str]) -> ColumnElement[str]:
    """The name a mention is counted under (as the reports name it in Python), in SQL, given the
    expression for its Source's name: the dashboard groups by it, and the mentions list filters
    by it so that a chart's bar opens the very mentions it counted."""
    return func.coalesce(
        func.nullif(Mention.outlet, ""),
        func.nullif(source, ""),
        func.nullif(Mention.author, ""),
        UNKNOWN_SOURCE,
    )


class Judgement(Base):
    __tablename__ = "judgements"

    id: Mapped[int] = mapped_column(primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id"), index=True)
    origin: Mapped[JudgementOrigin] = mapped_column(
        EnumText(JudgementOrigin), default=JudgementOrigin.MACHINE
    )
    sentiment: Mapped[str] = mapped_column(String(10))
    sentiment_score: Mapped[float] = mapped_column(Float)
    category: Mapped[str] = mapped_column(String(30))
    category_score: Mapped[float] = mapped_column(Float)
    misinfo: Mapped[bool] = mapped_column(Boolean, default=False)
    misinfo_reasons: Mapped[list[Any]] = mapped_column(default=list)
    # The machine could not tell the two likeliest sentiments apart: the duty officer's 待研判
    # list. A correction is a person's judgement and is never unsure.
    unsure: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The passages that decided sentiment and category: {"sentiment": [...], "category": [...]}.
    terms: Mapped[dict[str, Any]] = mapped_column(default=dict)
    backend: Mapped[str] = mapped_column(String(40), default="")
    actor: Mapped[str] = mapped_column(String(100), default="system")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    mention: Mapped[Mention] = relationship(back_populates="judgements")
