"""Retention: what yuqing keeps only for a while, and `purge`, which removes it.

yuqing stores no raw HTML: a crawl keeps the extracted mention and, for pages it set aside, only
their address (`seen_pages`, so they are not fetched again). Those addresses, the HTML and
chart images of report emails already sent, the bulk of old hot-list sightings (`hot_ranks`)
and the last text of pages no source watches any more (`watched_pages`) are what ages out.
Mentions, judgements, incidents, drafts, notices with their delivery log, and the audit trail
are never purged; nor is the baseline of a page a `watch` source reads, however old, since the
next crawl compares with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session

from responder import audit
from responder.audit import AuditAction
from responder.intake.mentions import canonical_url
from responder.models import HotRank, OutboxAttachment, OutboxMessage, SeenPage, WatchedPage
from responder.settings import Settings
from responder.statuses import OutboxStatus


@dataclass
class PurgeSummary:
    seen_pages: int
    report_images: int
    report_html: int
    hot_ranks: int = 0
    watched_pages: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "seen_pages": self.seen_pages,
            "report_images": self.report_images,
            "report_html": self.report_html,
            "hot_ranks": self.hot_ranks,
            "watched_pages": self.watched_pages,
        }


def _thinned_sightings(before: datetime) -> Select[tuple[int]]:
    """Sightings older than `before` that are neither the first, the last, the best placed nor
    the hottest of their entry on its board: what the incident page shows (`hot_listings`:
    best place, first and last sighting, top heat) is the same after they go."""
    entry = (HotRank.board, HotRank.canonical_url)

    def nth(*order: Any) -> Any:
        return func.row_number().over(partition_by=entry, order_by=order)

    ranked = select(
        HotRank.id,
        HotRank.seen_at,
        nth(HotRank.seen_at, HotRank.id).label("first"),
        nth(HotRank.seen_at.desc(), HotRank.id.desc()).label("last"),
        nth(HotRank.rank, HotRank.id).label("best"),
        nth(HotRank.heat.desc(), HotRank.id).label("hottest"),
    ).subquery()
    return select(ranked.c.id).where(
        ranked.c.seen_at < before,
        ranked.c.first > 1,
        ranked.c.last > 1,
        ranked.c.best > 1,
        ranked.c.hottest > 1,
    )


def _watched_urls(settings: Settings) -> list[str]:
    return [canonical_url(s.url) for s in settings.sources if s.kind == "watch" and s.enabled]


def purge(
    session: Session,
    settings: Settings,
    now: datetime,
    dry_run: bool = False,
    actor: str = "system",
) -> PurgeSummary:
    """Remove (or with `dry_run` only count) what has aged out; audited when anything went."""
    keep = settings.retention
    pages_before = now - timedelta(days=keep.seen_pages_days)
    reports_before = now - timedelta(days=keep.report_images_days)
    old_pages = SeenPage.seen_at < pages_before
    # Only messages already delivered: an unsent report still needs its images.
    old_reports = select(OutboxMessage.id).where(
        OutboxMessage.status == OutboxStatus.SENT,
        OutboxMessage.sent_at < reports_before,
        OutboxMessage.stage.in_(("daily_report", "weekly_report")),
    )
    images = OutboxAttachment.message_id.in_(old_reports)
    html = OutboxMessage.id.in_(old_reports) & OutboxMessage.html.is_not(None)
    ranks_before = now - timedelta(days=keep.hot_ranks_days)
    sightings = HotRank.id.in_(_thinned_sightings(ranks_before))
    unwatched = WatchedPage.checked_at < now - timedelta(days=keep.watched_pages_days)
    unwatched &= WatchedPage.canonical_url.not_in(_watched_urls(settings))
    summary = PurgeSummary(
        seen_pages=session.scalar(select(func.count(SeenPage.id)).where(old_pages)) or 0,
        report_images=session.scalar(select(func.count(OutboxAttachment.id)).where(images)) or 0,
        report_html=session.scalar(select(func.count(OutboxMessage.id)).where(html)) or 0,
        hot_ranks=session.scalar(select(func.count(HotRank.id)).where(sightings)) or 0,
        watched_pages=session.scalar(select(func.count(WatchedPage.id)).where(unwatched)) or 0,
    )
    if dry_run or not any(summary.to_dict().values()):
        return summary
    session.execute(delete(SeenPage).where(old_pages))
    session.execute(delete(OutboxAttachment).where(images))
    session.execute(update(OutboxMessage).where(html).values(html=None))
    session.execute(delete(HotRank).where(sightings))
    session.execute(delete(WatchedPage).where(unwatched))
    audit.record(
        session,
        actor,
        AuditAction.RETENTION_PURGE,
        "database",
        "retention",
        after=summary.to_dict(),
        detail=(
            f"早于 {pages_before:%Y-%m-%d} 的已略过页面，"
            f"早于 {reports_before:%Y-%m-%d} 的已发报告图片，"
            f"早于 {ranks_before:%Y-%m-%d} 的热榜记录（保留每条的首次、末次、最高名次和最高热度），"
            "不再监测的页面文本"
        ),
    )
    return summary
