"""Who is on duty on a day, and the handover notes between duty officers.

Precedence for a day: an entry recorded in the database (`duty_roster`, set from the web UI
later), then `overrides` in duty.yaml, then the rotation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from responder import audit
from responder.audit import AuditAction
from responder.models import DutyRoster
from responder.settings import DutyPerson, Settings


@dataclass
class DutyDay:
    day: date
    person: DutyPerson | None
    how: str  # rotation | override | roster
    handover_note: str = ""


def rotation(settings: Settings, day: date) -> DutyPerson | None:
    duty = settings.duty
    people = {p.name: p for p in duty.people}
    order = duty.order or list(people)
    if not order:
        return None
    return people.get(order[(day - duty.start).days % len(order)])


def duty_day(session: Session, settings: Settings, day: date) -> DutyDay:
    people = {p.name: p for p in settings.duty.people}
    entry = session.scalar(select(DutyRoster).where(DutyRoster.day == day))
    note = entry.handover_note if entry is not None else ""
    if day in settings.duty.overrides:
        planned = DutyDay(day, people[settings.duty.overrides[day]], "override", note)
    else:
        planned = DutyDay(day, rotation(settings, day), "rotation", note)
    # A handover note also records the day's officer; only a different one is a change.
    if entry is not None and entry.person in people:
        if planned.person is None or entry.person != planned.person.name:
            return DutyDay(day, people[entry.person], "roster", note)
    return planned


def on_duty(session: Session, settings: Settings, day: date) -> DutyPerson | None:
    return duty_day(session, settings, day).person


def schedule(session: Session, settings: Settings, first: date, days: int) -> list[DutyDay]:
    return [duty_day(session, settings, first + timedelta(days=n)) for n in range(days)]


def last_handover(session: Session, before: date) -> DutyRoster | None:
    """The newest handover note written before `before` (for the officer taking over)."""
    return session.scalar(
        select(DutyRoster)
        .where(DutyRoster.day < before, DutyRoster.handover_note != "")
        .order_by(DutyRoster.day.desc())
        .limit(1)
    )


def record_handover(
    session: Session, settings: Settings, day: date, note: str, actor: str
) -> DutyRoster:
    """Store the day's handover note (audited); the day's officer is recorded with it."""
    if not note.strip():
        raise ValueError("the handover note is empty")
    entry = session.scalar(select(DutyRoster).where(DutyRoster.day == day))
    before = {"handover_note": entry.handover_note} if entry is not None else None
    if entry is None:
        person = on_duty(session, settings, day)
        entry = DutyRoster(day=day, person=person.name if person else actor, handover_note="")
        session.add(entry)
    entry.handover_note = note.strip()
    session.flush()
    audit.record(
        session,
        actor,
        AuditAction.DUTY_HANDOVER,
        "duty_roster",
        entry.day.isoformat(),
        before=before,
        after={"person": entry.person, "handover_note": entry.handover_note},
    )
    return entry
