"""Who a notice goes to: the audiences by level, the people an acknowledgement link may name,
and the escalation chain's steps."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from responder.incidents.severity import level_rank
from responder.models import Notice, OutboxMessage
from responder.notices.batches import OWN
from responder.settings import Recipient, Settings


def audiences(settings: Settings, level: str) -> list[Recipient]:
    recipients = settings.recipients
    people: list[Recipient] = []
    if level_rank(level) >= level_rank("II"):
        people += recipients.leadership + recipients.upper_office
    if level_rank(level) >= level_rank("I"):
        people += recipients.government
    return people


def known_people(settings: Settings) -> dict[str, Recipient]:
    """Everyone the configuration names, by email, so a repeat reaches their robot too."""
    r = settings.recipients
    people: dict[str, Recipient] = {}
    for person in [
        *r.government,
        *r.upper_office,
        *r.leadership,
        *settings.duty.escalation.chain,
        *settings.duty.people,
    ]:
        people[person.email] = person
    return people


def first_recipients(session: Session, settings: Settings, notice: Notice) -> list[Recipient]:
    """Who step 0 went to: a repeat goes to the same people even after the duty day turned."""
    known = known_people(settings)
    # A notice carried by a batch alert went out in that message, under the batch's key.
    carried = (
        OutboxMessage.dedupe_key == notice.carried_by
        if notice.delivery != OWN
        else (OutboxMessage.notice_id == notice.id) & (OutboxMessage.step == 0)
    )
    rows = session.execute(
        select(OutboxMessage.recipient, OutboxMessage.recipient_name)
        .where(carried, OutboxMessage.channel == "email")
        .order_by(OutboxMessage.id)
    ).all()
    return [known.get(email) or Recipient(name=name, email=email) for email, name in rows]


def escalates(settings: Settings, notice: Notice) -> bool:
    """Whether an unacknowledged notice is repeated and escalated (the 终报 only informs)."""
    escalation = settings.duty.escalation
    return notice.stage != "final" and level_rank(notice.level) >= level_rank(escalation.from_level)


def last_step(settings: Settings) -> int:
    escalation = settings.duty.escalation
    return escalation.repeats + min(escalation.max_rounds, len(escalation.chain))


def step_recipients(
    session: Session, settings: Settings, notice: Notice, step: int
) -> list[Recipient]:
    """Step 0 and the repeats go to the notice's recipients; each later step to the next
    person of the escalation chain."""
    escalation = settings.duty.escalation
    if step <= escalation.repeats:
        return first_recipients(session, settings, notice)
    return [escalation.chain[step - escalation.repeats - 1]]
