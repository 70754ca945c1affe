"""Escalation notices: who hears about an incident, when, and what the report says.

A new incident alerts the duty officer; level II and above also sends the 初报 to leadership
and the upper-level office (level I also to the government list); a later rise, and while the
incident stays open the `followup_hours` cadence, sends a 续报; closing it sends the 终报.

Each notice is a `notices` row whose messages go out in steps (see `advance`): step 0 to its
recipients, then — while nobody has followed an acknowledgement link — `repeats` repeats and
then the escalation chain, one step every `ack_minutes`. Every message is enqueued in the
outbox under a key naming (incident, stage, level, step, recipient), so a repeated run never
sends it twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from responder import audit
from responder.audit import AuditAction
from responder.delivery.outbox import enqueue_for_person
from responder.incidents.facts import take_unreported
from responder.incidents.severity import level_rank
from responder.labels import label
from responder.models import Draft, Incident, Mention, Notice
from responder.notices.acks import ack_link
from responder.notices.batches import OWN, duty_delivery, send_batches
from responder.notices.duty import on_duty
from responder.notices.follow import facts_followup_due, spread_jumped, stages_due
from responder.notices.recipients import (
    audiences,
    escalates,
    first_recipients,
    last_step,
    step_recipients,
)
from responder.notices.report import UNKNOWN, build_report, fitted
from responder.rendering import IncidentView, local_time, render_text
from responder.settings import Recipient, Settings
from responder.statuses import IncidentStatus


def _mentions(session: Session, incident: Incident) -> list[Mention]:
    return list(
        session.scalars(
            select(Mention)
            .where(Mention.incident_id == incident.id)
            .order_by(Mention.published_at, Mention.id)
        )
    )


LEADERSHIP_STAGES = ("initial", "followup", "final")
TEMPLATES = {
    "duty_alert": "notices/duty_alert.txt.j2",
    "initial": "notices/initial.txt.j2",
    "followup": "notices/followup.txt.j2",
    "final": "notices/final.txt.j2",
}


def _send_step(
    session: Session,
    settings: Settings,
    notice: Notice,
    step: int,
    people: list[Recipient],
    now: datetime,
    spread: tuple[int, int] | None = None,
) -> int:
    """Render the notice for each person and enqueue it; returns how many messages are new.
    `spread` is the mention count at the last alert and now, for a re-alert on spread."""
    incident = notice.incident
    has_draft = session.scalar(select(Draft.id).where(Draft.incident_id == incident.id).limit(1))
    report = build_report(
        session,
        settings,
        incident,
        _mentions(session, incident),
        bool(has_draft),
        list(notice.changes or []),
    )
    duty = on_duty(session, settings, now.astimezone(settings.tz).date())
    escalation = settings.duty.escalation
    reminder = None
    if step > 0:
        first = ", ".join(p.name for p in first_recipients(session, settings, notice))
        reminder = {
            "kind": "repeat" if step <= escalation.repeats else "escalate",
            "times": step + 1,
            "first_recipients": first,
            "minutes": f"{escalation.ack_minutes * step:g}",
            "sent_at": local_time(notice.created_at, settings.tz),
        }
    added = 0
    for person in people:
        subject, body = fitted(
            render_text(
                TEMPLATES[notice.stage],
                recipient=person.name,
                office=settings.office_name,
                incident=IncidentView.of(incident, settings.tz),
                close_reason=incident.close_reason or "",
                report=report,
                link=f"{settings.web.base_url.rstrip('/')}/incidents/{incident.id}",
                duty=duty.name if duty else UNKNOWN,
                sent_at=local_time(now, settings.tz),
                ack_link=ack_link(settings, notice.id, person.email),
                ack_hours=f"{settings.web.ack_link_hours:g}",
                reminder=reminder,
                closed_at=local_time(incident.closed_at, settings.tz),
                spread=spread,
            ),
            settings,
        )
        key = (
            f"incident:{incident.id}:{notice.stage}:{notice.level}:{notice.seq}"
            f":step{step}:{person.email}"
        )
        added += enqueue_for_person(
            session,
            person,
            key,
            subject,
            body,
            stage=notice.stage,
            incident_id=incident.id,
            notice_id=notice.id,
            step=step,
            # The duty officer's alerts about one incident form one mail thread.
            thread=f"incident-{incident.id}-duty" if notice.stage == "duty_alert" else None,
        )
    return added


def _open_notice(
    session: Session,
    settings: Settings,
    incident: Incident,
    stage: str,
    people: list[Recipient],
    now: datetime,
    seq: int = 0,
    delivery: str = OWN,
    spread: tuple[int, int] | None = None,
) -> int:
    """Create the notice (once) and send its step 0, unless a batch or digest carries it
    (`alert_batches`); earlier notices of the same stage that still wait for an
    acknowledgement are superseded by it."""
    level = incident.level
    exists = session.scalar(
        select(Notice.id).where(
            Notice.incident_id == incident.id,
            Notice.stage == stage,
            Notice.level == level,
            Notice.seq == seq,
        )
    )
    if exists or not people:
        return 0
    for older in session.scalars(
        select(Notice).where(
            Notice.incident_id == incident.id,
            Notice.stage == stage,
            Notice.next_step_at.is_not(None),
        )
    ):
        older.next_step_at = None
    notice = Notice(
        incident=incident, stage=stage, level=level, seq=seq, created_at=now, delivery=delivery
    )
    if stage in LEADERSHIP_STAGES:
        # The fields people confirmed since the last report travel with this one.
        notice.changes = take_unreported(session, incident)
    session.add(notice)
    session.flush()
    if escalates(settings, notice) and last_step(settings) > 0:
        notice.next_step_at = now + timedelta(minutes=settings.duty.escalation.ack_minutes)
    if delivery != OWN:
        return 0
    return _send_step(session, settings, notice, 0, people, now, spread)


def _leadership_notices(session: Session, incident: Incident) -> list[Notice]:
    return list(
        session.scalars(
            select(Notice)
            .where(Notice.incident_id == incident.id, Notice.stage.in_(("initial", "followup")))
            .order_by(Notice.created_at, Notice.id)
        )
    )


def notify(session: Session, settings: Settings, incident: Incident, now: datetime) -> int:
    """Open the notices the incident's state calls for; returns how many messages are new."""
    if incident.status == IncidentStatus.MERGED:
        return 0
    if incident.status == IncidentStatus.CLOSED:
        return _final(session, settings, incident, now)
    level = incident.level
    added = 0
    stages = stages_due(incident)
    if stages:
        duty = on_duty(session, settings, now.astimezone(settings.tz).date())
        added += _open_notice(
            session,
            settings,
            incident,
            "duty_alert",
            [duty] if duty else [],
            now,
            delivery=duty_delivery(settings, level),
        )
        for stage in stages[1:]:
            added += _open_notice(
                session, settings, incident, stage, audiences(settings, level), now
            )
        audit.record(
            session,
            "system",
            AuditAction.INCIDENT_NOTIFY,
            "incident",
            incident.id,
            before={"notified_level": incident.notified_level},
            after={"notified_level": level, "notices": added},
        )
        incident.notified_level = level
        incident.notified_mentions = incident.mention_count
    elif spread_jumped(incident, settings.alerts):
        added += _spread_alert(session, settings, incident, now)
    elif facts_followup_due(incident):
        added += _open_notice(
            session,
            settings,
            incident,
            "followup",
            audiences(settings, level),
            now,
            seq=_next_seq(session, incident),
        )
    return added + _cadence(session, settings, incident, now)


def _spread_alert(session: Session, settings: Settings, incident: Incident, now: datetime) -> int:
    """The duty officer's alert again at the same level because the incident spread: a
    message of its own in the incident's thread, numbered after the earlier re-alerts."""
    before, count = incident.notified_mentions or 0, incident.mention_count
    duty = on_duty(session, settings, now.astimezone(settings.tz).date())
    seq = 1 + (
        session.scalar(
            select(func.count(Notice.id)).where(
                Notice.incident_id == incident.id,
                Notice.stage == "duty_alert",
                Notice.level == incident.level,
                Notice.seq > 0,
            )
        )
        or 0
    )
    added = _open_notice(
        session,
        settings,
        incident,
        "duty_alert",
        [duty] if duty else [],
        now,
        seq=seq,
        spread=(before, count),
    )
    audit.record(
        session,
        "system",
        AuditAction.INCIDENT_NOTIFY,
        "incident",
        incident.id,
        before={"notified_mentions": before},
        after={"notified_mentions": count, "notices": added, "reason": "spread"},
    )
    incident.notified_mentions = count
    return added


def _next_seq(session: Session, incident: Incident) -> int:
    """The number of the next 续报 that is not a level's first."""
    told = _leadership_notices(session, incident)
    return 1 + sum(1 for n in told if n.seq > 0)


def _cadence(session: Session, settings: Settings, incident: Incident, now: datetime) -> int:
    """The scheduled 续报 of an open incident the leadership has been told about."""
    hours = settings.duty.escalation.followup_hours
    told = _leadership_notices(session, incident)
    if not hours or not told or level_rank(incident.level) < level_rank("II"):
        return 0
    if now - told[-1].created_at < timedelta(hours=hours):
        return 0
    seq = _next_seq(session, incident)
    return _open_notice(
        session,
        settings,
        incident,
        "followup",
        audiences(settings, incident.level),
        now,
        seq=seq,
    )


def _final(session: Session, settings: Settings, incident: Incident, now: datetime) -> int:
    """Closing stops every repeat; the 终报 goes to whoever had the 初报, and the duty officer."""
    for waiting in session.scalars(
        select(Notice).where(Notice.incident_id == incident.id, Notice.next_step_at.is_not(None))
    ):
        waiting.next_step_at = None
    told = _leadership_notices(session, incident)
    if not told:
        return 0
    highest = max((n.level for n in told), key=level_rank)
    duty = on_duty(session, settings, now.astimezone(settings.tz).date())
    people = audiences(settings, highest) + ([duty] if duty else [])
    return _open_notice(session, settings, incident, "final", people, now)


def advance(session: Session, settings: Settings, now: datetime) -> int:
    """Send the next step of every notice whose acknowledgement is overdue; returns how many
    messages are new."""
    added = 0
    due = session.scalars(
        select(Notice)
        .where(
            Notice.next_step_at.is_not(None),
            Notice.next_step_at <= now,
            Notice.acknowledged_at.is_(None),
        )
        .order_by(Notice.next_step_at, Notice.id)
    ).all()
    for notice in due:
        step = notice.step + 1
        if step > last_step(settings):
            notice.next_step_at = None
            continue
        people = step_recipients(session, settings, notice, step)
        added += _send_step(session, settings, notice, step, people, now)
        repeat = step <= settings.duty.escalation.repeats
        audit.record(
            session,
            "system",
            AuditAction.NOTICE_REPEAT if repeat else AuditAction.NOTICE_ESCALATE,
            "notice",
            notice.id,
            before={"step": notice.step},
            after={"step": step, "to": [p.name for p in people]},
            detail=(
                f"事件 #{notice.incident_id} {label('stages', notice.stage)}"
                f" {label('levels', notice.level)} 未在规定时间内确认"
            ),
        )
        notice.step = step
        notice.next_step_at = (
            now + timedelta(minutes=settings.duty.escalation.ack_minutes)
            if step < last_step(settings)
            else None
        )
    return added


def notify_all(session: Session, settings: Settings, now: datetime) -> int:
    """Notify for every open incident and every closed one whose 终报 is still due, then
    advance overdue notices; returns how many messages are new."""
    added = 0
    final_sent = exists().where(Notice.incident_id == Incident.id, Notice.stage == "final")
    told = exists().where(
        Notice.incident_id == Incident.id,
        Notice.stage.in_(("initial", "followup")) | Notice.next_step_at.is_not(None),
    )
    incidents = session.scalars(
        select(Incident)
        .where(
            (Incident.status == IncidentStatus.OPEN)
            | ((Incident.status == IncidentStatus.CLOSED) & told & ~final_sent)
        )
        .order_by(Incident.id)
    ).all()
    for incident in incidents:
        added += notify(session, settings, incident, now)
    return added + advance(session, settings, now) + send_batches(session, settings, now)
