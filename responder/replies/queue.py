"""How drafts are read: the review queue, one draft with what its page shows, an incident's
drafts and the count waiting for review. Reading only; every change goes through
`replies.drafts`."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from responder.models import Draft, DraftEvent, TemplateVersion
from responder.statuses import DraftStatus


def _with_parts() -> Select[Draft]:
    # A draft's page and the queue show its incident and the template version it was made from.
    return select(Draft).options(
        selectinload(Draft.incident),
        selectinload(Draft.template_version).selectinload(TemplateVersion.template),
    )


def queue(session: Session, status: str | None, limit: int) -> list[Draft]:
    """The newest `limit` drafts, of `status` only when one is given."""
    query = _with_parts()
    if status is not None:
        query = query.where(Draft.status == status)
    return list(session.scalars(query.order_by(Draft.id.desc()).limit(limit)))


def find(session: Session, draft_id: int) -> Draft | None:
    return session.scalar(_with_parts().where(Draft.id == draft_id))


def events(session: Session, draft_id: int) -> list[DraftEvent]:
    """The draft's history, oldest first."""
    return list(
        session.scalars(
            select(DraftEvent).where(DraftEvent.draft_id == draft_id).order_by(DraftEvent.id)
        )
    )


def of_incident(session: Session, incident_id: int) -> list[Draft]:
    return list(session.scalars(select(Draft).where(Draft.incident_id == incident_id)))


def pending_count(session: Session) -> int:
    """Drafts waiting for review (the dashboard's 待审核)."""
    count = session.scalar(select(func.count(Draft.id)).where(Draft.status == DraftStatus.PENDING))
    return count or 0
