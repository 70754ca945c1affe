"""Messages the outbox gave up on, told to the duty officer by the other channel: a failed
email through their robot webhook, a failed webhook post by email. An alert nobody received
must not fail silently; the outbox's dedupe key sends each of these once."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from responder.delivery.outbox import enqueue
from responder.models import OutboxMessage
from responder.notices.duty import on_duty
from responder.plaintext import one_line
from responder.rendering import local_time, render_text, split_subject
from responder.settings import Settings
from responder.statuses import OutboxStatus

log = logging.getLogger(__name__)
STAGE = "delivery_failed"
# Failures older than this were reported already (or predate this check); the window only
# bounds the scan.
LOOK_BACK = timedelta(days=2)
CHANNELS = {"email": "邮件", "webhook": "群机器人"}


def report_undelivered(session: Session, settings: Settings, now: datetime) -> int:
    """Queue one alert per message that failed for good; returns how many are new."""
    person = on_duty(session, settings, now.astimezone(settings.tz).date())
    if person is None:
        return 0
    failed = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.FAILED,
            OutboxMessage.stage != STAGE,  # never an alert about an alert
            OutboxMessage.created_at >= now - LOOK_BACK,
        )
    ).all()
    added = 0
    for message in failed:
        # The other channel: a robot for a failed email, an email for a failed robot post.
        if message.channel == "email":
            if not person.webhook:
                continue
            channel, recipient = "webhook", person.webhook
        else:
            channel, recipient = "email", person.email
        subject, body = split_subject(
            render_text(
                "notices/delivery_failed.txt.j2",
                recipient=person.name,
                subject=one_line(message.subject)[:120],
                target=message.recipient,
                channel=CHANNELS.get(message.channel, message.channel),
                error=one_line(message.last_error or "")[:500],
                created_at=local_time(message.created_at, settings.tz),
                office=settings.office_name,
                sent_at=local_time(now, settings.tz),
            )
        )
        if enqueue(
            session,
            f"{STAGE}:{message.id}",
            recipient,
            person.name,
            subject,
            body,
            STAGE,
            message.incident_id,
            channel=channel,
        ):
            added += 1
            log.error("outbox %d failed for good; duty officer told by %s", message.id, channel)
    return added
