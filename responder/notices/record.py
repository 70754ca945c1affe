"""What was sent about an incident, as its page shows it: its notices, the outbox messages that
carried them (its own, and the batch alerts and digests that listed it) and how many delivery
attempts each took. Reading only."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from responder.models import DeliveryAttempt, Notice, OutboxMessage


@dataclass(frozen=True)
class Record:
    notices: list[Notice]
    messages: list[OutboxMessage]
    attempts: dict[int, int]  # message id → delivery attempts so far


def record(session: Session, incident_id: int) -> Record:
    notices = list(
        session.scalars(select(Notice).where(Notice.incident_id == incident_id).order_by(Notice.id))
    )
    carriers = select(Notice.carried_by).where(
        Notice.incident_id == incident_id, Notice.carried_by.is_not(None)
    )
    messages = list(
        session.scalars(
            select(OutboxMessage)
            .where(
                (OutboxMessage.incident_id == incident_id) | OutboxMessage.dedupe_key.in_(carriers)
            )
            .order_by(OutboxMessage.id)
        )
    )
    attempts: dict[int, int] = {
        message_id: count
        for message_id, count in session.execute(
            select(DeliveryAttempt.message_id, func.count(DeliveryAttempt.id))
            .where(DeliveryAttempt.message_id.in_([m.id for m in messages]))
            .group_by(DeliveryAttempt.message_id)
        )
    }
    return Record(notices, messages, attempts)


def recent_notices(session: Session, limit: int, waiting: bool = False) -> list[Notice]:
    """The newest notices first; `waiting`: only those still waiting to be acknowledged."""
    query = select(Notice).order_by(Notice.id.desc()).limit(limit)
    if waiting:
        query = query.where(Notice.next_step_at.is_not(None))
    return list(session.scalars(query))
