"""The database schema: every table yuqing keeps, as SQLAlchemy 2.x typed models.

Times are stored as UTC (`UTCDateTime`) and shown in the office's time zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from responder import clock
from responder.statuses import (
    AttemptOutcome,
    DraftEventKind,
    DraftStatus,
    EnumText,
    IncidentStatus,
    JudgementOrigin,
    NoticeDelivery,
    OutboxStatus,
    TemplateStatus,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


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


# When a mention counts: its publication time, else when it was collected. Lists, the dashboard
# and the date filters order and narrow by it, so it has its own (expression) index: without
# one, every dashboard request scanned all stored mentions.
MENTION_TIME = func.coalesce(Mention.published_at, Mention.fetched_at)
Index("ix_mentions_time", MENTION_TIME)


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


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(30))
    status: Mapped[IncidentStatus] = mapped_column(
        EnumText(IncidentStatus), default=IncidentStatus.OPEN
    )
    machine_level: Mapped[str] = mapped_column(String(4), default="IV")
    level_override: Mapped[str | None] = mapped_column(String(4))
    override_reason: Mapped[str | None] = mapped_column(Text)
    score: Mapped[float] = mapped_column(Float, default=0)
    fired_rules: Mapped[list[Any]] = mapped_column(default=list)
    terms: Mapped[list[Any]] = mapped_column(default=list)
    # What the incident's mentions say about its event (incidents/grouping.py): summed term
    # weights, places and figures, so a new mention is compared without reading the others.
    profile: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sentiment: Mapped[str] = mapped_column(String(10), default="neutral")
    misinfo: Mapped[bool] = mapped_column(Boolean, default=False)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    mention_count: Mapped[int] = mapped_column(default=0)
    notified_level: Mapped[str | None] = mapped_column(String(4))
    # Its mention count when the duty officer was last alerted (None: never, or before 0014).
    notified_mentions: Mapped[int | None]
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(Text)
    # Set when a person merged this incident into another; its mentions moved there.
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    # Who set the title by hand (a split's title, say); the machine never overwrites it.
    title_by: Mapped[str | None] = mapped_column(String(200))
    # A person completed or changed a report field after the leadership was told: the next
    # notice run sends a 续报 carrying it (notices/follow.py).
    facts_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    mentions: Mapped[list[Mention]] = relationship(
        back_populates="incident", foreign_keys="Mention.incident_id"
    )
    facts: Mapped[list[IncidentFact]] = relationship(
        back_populates="incident", order_by="IncidentFact.id"
    )

    @hybrid_property
    def level(self) -> str:
        """The level in force: a person's override, else the machine's. The one definition,
        read on an incident and in SQL (select, where, group_by, order_by)."""
        return self.level_override or self.machine_level

    @level.inplace.expression
    @classmethod
    def _level_expression(cls) -> ColumnElement[str]:
        return func.coalesce(cls.level_override, cls.machine_level)


class IncidentFact(Base):
    """One report field (时间、地点、原因…) of an incident as a person confirmed it; fields
    without a row are the machine's (incidents/facts.py). Every change is audited."""

    __tablename__ = "incident_facts"
    __table_args__ = (UniqueConstraint("incident_id", "field"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    field: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    # Not yet carried by a 初报, 续报 or 终报.
    unreported: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")

    incident: Mapped[Incident] = relationship(back_populates="facts")


class IncidentTask(Base):
    """Something to do about an incident (成立核查组、联系媒体、发布回应): what, who, by when;
    done tasks count among its 处置措施 (incidents/tasks.py)."""

    __tablename__ = "incident_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    what: Mapped[str] = mapped_column(Text)
    assignee: Mapped[str] = mapped_column(String(200))
    due: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(200))


class ResponseTemplate(Base):
    """An entry of the 应答口径 library, one per category; its wording lives in versions."""

    __tablename__ = "response_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    versions: Mapped[list[TemplateVersion]] = relationship(
        back_populates="template", order_by="TemplateVersion.version"
    )


class TemplateVersion(Base):
    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("template_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("response_templates.id"))
    version: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    # pending | approved (in force) | retired (replaced by a newer approved one) | rejected |
    # withdrawn (by its author): statuses.TemplateStatus
    status: Mapped[TemplateStatus] = mapped_column(
        EnumText(TemplateStatus), default=TemplateStatus.PENDING
    )
    author: Mapped[str] = mapped_column(String(100))
    approved_by: Mapped[str | None] = mapped_column(String(100))
    approved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    template: Mapped[ResponseTemplate] = relationship(back_populates="versions")


class Draft(Base):
    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    template_version_id: Mapped[int] = mapped_column(ForeignKey("template_versions.id"))
    body: Mapped[str] = mapped_column(Text)
    # pending (new, or edited since its review) | approved | rejected: statuses.DraftStatus
    status: Mapped[DraftStatus] = mapped_column(EnumText(DraftStatus), default=DraftStatus.PENDING)
    # Why it exists: level (the incident's level needs a reply) | misinfo (a misinformation
    # finding) | requested (someone asked on the incident page).
    reason: Mapped[str] = mapped_column(String(20), default="level", server_default="level")
    last_editor: Mapped[str] = mapped_column(String(100), default="system")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    incident: Mapped[Incident] = relationship()
    template_version: Mapped[TemplateVersion] = relationship()
    events: Mapped[list[DraftEvent]] = relationship(order_by="DraftEvent.id")


class DraftEvent(Base):
    """A review event on a draft: created, edited (with diff), approved, rejected, exported,
    emailed (statuses.DraftEventKind)."""

    __tablename__ = "draft_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), index=True)
    kind: Mapped[DraftEventKind] = mapped_column(EnumText(DraftEventKind))
    actor: Mapped[str] = mapped_column(String(100))
    comment: Mapped[str] = mapped_column(Text, default="")
    diff: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class Notice(Base):
    """One notice about an incident — duty alert, 初报, 续报 or 终报 — and its acknowledgement.

    Its messages are sent in steps: step 0 to the first recipients, then repeats and then the
    escalation chain, each `ack_minutes` after the last, until someone acknowledges.
    """

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("incident_id", "stage", "level", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    stage: Mapped[str] = mapped_column(String(20))  # duty_alert | initial | followup | final
    level: Mapped[str] = mapped_column(String(4))
    # Follow-ups sent on the cadence are numbered; everything else is 0.
    seq: Mapped[int] = mapped_column(default=0)
    step: Mapped[int] = mapped_column(default=0)  # the last step sent
    # When the next step is due unless acknowledged; None when no step is left.
    next_step_at: Mapped[datetime | None] = mapped_column(index=True)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    # own: its messages are its own | batch: alerted at once together with the cycle's other
    # new incidents | digest: listed in the next digest. `carried_by` is the outbox key of the
    # batch or digest that carried it (None: not yet sent).
    delivery: Mapped[NoticeDelivery] = mapped_column(
        EnumText(NoticeDelivery, 12), default=NoticeDelivery.OWN, server_default=NoticeDelivery.OWN
    )
    carried_by: Mapped[str | None] = mapped_column(String(300))
    # The report fields people completed or changed that this notice carries ("原因：…").
    changes: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")

    incident: Mapped[Incident] = relationship()


class OutboxMessage(Base):
    """A message waiting for, or done with, delivery. `dedupe_key` makes enqueueing idempotent."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    channel: Mapped[str] = mapped_column(String(20), default="email")
    recipient: Mapped[str] = mapped_column(String(300))
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    stage: Mapped[str] = mapped_column(String(30))
    # pending | sending (claimed by a sender) | sent | failed: statuses.OutboxStatus
    status: Mapped[OutboxStatus] = mapped_column(
        EnumText(OutboxStatus), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=clock.now)
    claimed_at: Mapped[datetime | None]
    # "host:pid" of the sender that claimed it, so a restarted sender can tell a dead claim.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    sent_at: Mapped[datetime | None]
    # Messages of one thread (the duty officer's alerts about one incident) answer its first.
    thread: Mapped[str | None] = mapped_column(String(200))
    # An HTML alternative to `body` (reports); its images are attachments referenced by cid.
    html: Mapped[str | None] = mapped_column(Text)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"), index=True)
    step: Mapped[int] = mapped_column(default=0)

    attachments: Mapped[list[OutboxAttachment]] = relationship(order_by="OutboxAttachment.id")


class OutboxAttachment(Base):
    """An inline image of an HTML message, referenced in it as `cid:<cid>`."""

    __tablename__ = "outbox_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id"), index=True)
    cid: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100), default="image/png")
    data: Mapped[bytes] = mapped_column(LargeBinary)


class DeliveryAttempt(Base):
    """One try at delivering an outbox message, whatever came of it."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=clock.now)
    outcome: Mapped[AttemptOutcome] = mapped_column(EnumText(AttemptOutcome))
    error: Mapped[str | None] = mapped_column(Text)
    seconds: Mapped[float] = mapped_column(Float, default=0)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str] = mapped_column(String(300), default="")
    role: Mapped[str] = mapped_column(String(20))  # duty | press | leader | admin
    password_hash: Mapped[str] = mapped_column(String(300), default="")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Failed logins in a row, and until when the account refuses logins after too many.
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    # Sessions carry the epoch they were issued in; raising it (disable, new password) ends
    # every session of the user at once.
    session_epoch: Mapped[int] = mapped_column(default=0)
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class DutyRoster(Base):
    """A day's duty officer when it differs from the rotation, and that day's handover note."""

    __tablename__ = "duty_roster"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    person: Mapped[str] = mapped_column(String(100))
    handover_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)


class AuditEntry(Base):
    """Who did what to which object, with before and after. Rows are only ever inserted."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=clock.now, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(40))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    detail: Mapped[str] = mapped_column(Text, default="")


__all__ = [
    "AuditEntry",
    "Base",
    "CrawlRun",
    "DeliveryAttempt",
    "DraftEvent",
    "Draft",
    "DutyRoster",
    "Incident",
    "Judgement",
    "Mention",
    "Notice",
    "OutboxAttachment",
    "OutboxMessage",
    "ResponseTemplate",
    "SeenPage",
    "SEEN_OUTCOMES",
    "RETRIED_OUTCOMES",
    "Source",
    "TemplateVersion",
    "User",
]
