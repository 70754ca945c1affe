"""Retention: what yuqing keeps only for a while, and `purge`, which removes it.

yuqing stores no raw HTML: a crawl keeps the extracted mention and, for pages it set aside, only
their address (`seen_pages`, so they are not fetched again). Those addresses, and the HTML and
chart images of report emails already sent, are what ages out. Mentions, judgements, incidents,
drafts, notices with their delivery log, and the audit trail are never purged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from responder import audit
from responder.audit import AuditAction
from responder.models import OutboxAttachment, OutboxMessage, SeenPage
from responder.settings import Settings
from responder.statuses import OutboxStatus


@dataclass
class PurgeSummary:
    seen_pages: int
    report_images: int
    report_html: int

    def to_dict(self) -> dict[str, int]:
        return {
            "seen_pages": self.seen_pages,
            "report_images": self.report_images,
            "report_html": self.report_html,
        }


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
    summary = PurgeSummary(
        seen_pages=session.scalar(select(func.count(SeenPage.id)).where(old_pages)) or 0,
        report_images=session.scalar(select(func.count(OutboxAttachment.id)).where(images)) or 0,
        report_html=session.scalar(select(func.count(OutboxMessage.id)).where(html)) or 0,
    )
    if dry_run or not any(summary.to_dict().values()):
        return summary
    session.execute(delete(SeenPage).where(old_pages))
    session.execute(delete(OutboxAttachment).where(images))
    session.execute(update(OutboxMessage).where(html).values(html=None))
    audit.record(
        session,
        actor,
        AuditAction.RETENTION_PURGE,
        "database",
        "retention",
        after=summary.to_dict(),
        detail=(
            f"早于 {pages_before:%Y-%m-%d} 的已略过页面，"
            f"早于 {reports_before:%Y-%m-%d} 的已发报告图片"
        ),
    )
    return summary
