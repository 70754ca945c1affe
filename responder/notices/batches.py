"""Duty alerts that go together: the new incidents of one cycle below `alerts.own_message_from`
in one message at once, and those below `alerts.immediate_from` in a digest.

A duty officer who gets thirty mails an hour filters them away and then misses the one that
matters, so only II/I incidents get a message of their own (`notices`). Every duty-alert notice
records the outbox key of the message that carried it (`Notice.carried_by`), set in the same
transaction as the enqueue: a notice is in exactly one message, and one the outbox could not
deliver yet is retried there, so nothing is lost when mail is down.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from responder.delivery.outbox import enqueue_for_person
from responder.incidents.severity import level_rank
from responder.labels import label
from responder.models import Notice, OutboxMessage
from responder.notices.acks import ack_link
from responder.notices.duty import on_duty
from responder.rendering import local_time, render_text, split_subject
from responder.settings import Settings
from responder.statuses import NoticeDelivery

log = logging.getLogger(__name__)
OWN, BATCH, DIGEST = NoticeDelivery.OWN, NoticeDelivery.BATCH, NoticeDelivery.DIGEST


def duty_delivery(settings: Settings, level: str) -> str:
    """How the duty officer hears about an incident at this level."""
    alerts = settings.alerts
    if level_rank(level) >= level_rank(alerts.own_message_from):
        return OWN
    if level_rank(level) >= level_rank(alerts.immediate_from):
        return BATCH
    return DIGEST


def in_quiet_hours(settings: Settings, now: datetime) -> bool:
    if not settings.alerts.quiet_hours:
        return False
    start, end = (time.fromisoformat(t) for t in settings.alerts.quiet_hours.split("-"))
    at = now.astimezone(settings.tz).time()
    # A span like 22:00-07:00 crosses midnight.
    return start <= at < end if start <= end else at >= start or at < end


def _waiting(session: Session, delivery: str) -> list[Notice]:
    return list(
        session.scalars(
            select(Notice)
            .where(
                Notice.stage == "duty_alert",
                Notice.delivery == delivery,
                Notice.carried_by.is_(None),
            )
            .order_by(Notice.id)
        )
    )


def _digest_due(session: Session, settings: Settings, now: datetime) -> bool:
    if in_quiet_hours(settings, now):
        return False
    if settings.alerts.digest_every == "cycle":
        return True
    last = session.scalar(
        select(OutboxMessage.created_at)
        .where(OutboxMessage.stage == "digest")
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    return last is None or now - last >= timedelta(hours=1)


def _items(settings: Settings, notices: list[Notice], email: str) -> list[dict[str, object]]:
    base = settings.web.base_url.rstrip("/")
    return [
        {
            "level": label("levels", n.level),
            "title": n.incident.title,
            "category": label("categories", n.incident.category),
            "mentions": n.incident.mention_count,
            "first_seen": local_time(n.incident.first_seen, settings.tz),
            "link": f"{base}/incidents/{n.incident_id}",
            "ack_link": ack_link(settings, n.id, email),
        }
        for n in notices
    ]


def _since(session: Session, settings: Settings, notices: list[Notice]) -> str:
    last = session.scalar(
        select(OutboxMessage.created_at)
        .where(OutboxMessage.stage == "digest")
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    return local_time(last or min(n.created_at for n in notices), settings.tz)


def send_batches(session: Session, settings: Settings, now: datetime) -> int:
    """Enqueue the batch alert and the digest if anything waits for them; returns how many
    messages are new."""
    person = on_duty(session, settings, now.astimezone(settings.tz).date())
    if person is None:
        return 0
    added = 0
    wanted = [(BATCH, "notices/duty_batch.txt.j2", "duty_alert")]
    if _digest_due(session, settings, now):
        wanted.append((DIGEST, "notices/digest.txt.j2", "digest"))
    for delivery, template, stage in wanted:
        notices = _waiting(session, delivery)
        if not notices:
            continue
        levels = sorted({n.level for n in notices}, key=level_rank, reverse=True)
        subject, body = split_subject(
            render_text(
                template,
                recipient=person.name,
                items=_items(settings, notices, person.email),
                level_names="、".join(label("levels", lv) for lv in levels),
                since=_since(session, settings, notices) if delivery == DIGEST else "",
                incidents_link=f"{settings.web.base_url.rstrip('/')}/incidents",
                ack_hours=f"{settings.web.ack_link_hours:g}",
                office=settings.office_name,
                sent_at=local_time(now, settings.tz),
            )
        )
        key = f"{delivery}:{notices[0].id}-{notices[-1].id}:{person.email}"
        added += enqueue_for_person(session, person, key, subject, body, stage=stage)
        for notice in notices:
            notice.carried_by = key
        log.info("%s: %d incidents in one message to %s", delivery, len(notices), person.name)
    return added
