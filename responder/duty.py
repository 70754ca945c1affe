"""Who is on duty on a day: a roster entry for that day wins, else the rotation."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from responder.models import DutyRoster
from responder.settings import DutyPerson, Settings


def rotation(settings: Settings, day: date) -> DutyPerson | None:
    duty = settings.duty
    people = {p.name: p for p in duty.people}
    order = duty.order or list(people)
    if not order:
        return None
    return people.get(order[(day - duty.start).days % len(order)])


def on_duty(session: Session, settings: Settings, day: date) -> DutyPerson | None:
    entry = session.scalar(select(DutyRoster).where(DutyRoster.day == day))
    if entry is not None:
        people = {p.name: p for p in settings.duty.people}
        if entry.person in people:
            return people[entry.person]
    return rotation(settings, day)
