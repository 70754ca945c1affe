"""The duty officer's day in one list: what waits for a person right now, each with its count
and the filtered list that shows it, so nothing needs an email to be found.

One read model over the stages (judging, incidents, notices, drafts, source health), so the
dashboard, and anything else that wants the list, asks one place. There is no task model yet;
when one exists its due tasks belong here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from responder.judging.corrections import in_force
from responder.models import Draft, Incident, Judgement, Notice
from responder.notices.duty import last_handover
from responder.ops.health import SourceHealth, source_health
from responder.settings import Settings
from responder.statuses import DraftStatus, IncidentStatus

# Counting stops here: an exact count of a million unsure mentions costs seconds, and "more
# than ten thousand" says as much to a person.
COUNT_LIMIT = 10_000
# The stage whose notice asks nobody to act (终报 closes the incident).
NO_ACK_STAGE = "final"


@dataclass(frozen=True)
class Item:
    """One line of the day: what waits, how many, and where the list of them is."""

    key: str  # review | incidents | acks | drafts | sources (the page words them)
    count: int
    link: str

    @property
    def more(self) -> bool:
        return self.count > COUNT_LIMIT


@dataclass
class Day:
    today: date
    since: datetime  # local time  # new incidents are those first seen from here on
    items: list[Item]
    sources_down: list[SourceHealth]

    @property
    def waiting(self) -> int:
        return sum(1 for item in self.items if item.count)


def review_count(session: Session) -> int:
    """How many mentions wait for a person because the machine was unsure (待研判), up to
    COUNT_LIMIT + 1; a correction takes a mention off the list."""
    judgement = aliased(Judgement)
    unsure = (
        select(judgement.mention_id)
        .where(in_force(judgement), judgement.unsure.is_(True))
        .limit(COUNT_LIMIT + 1)
        .subquery()
    )
    return session.scalar(select(func.count()).select_from(unsure)) or 0


def shift_start(session: Session, settings: Settings, today: date) -> datetime:
    """Where the officer's "new" begins: the last handover when it was written since the start
    of yesterday (the previous officer handed over then), else the office's midnight."""
    midnight = datetime.combine(today, time(), tzinfo=settings.tz)
    handover = last_handover(session, today)
    if handover is not None and handover.day >= today - timedelta(days=1):
        return min(handover.created_at.astimezone(settings.tz), midnight)
    return midnight


def unacknowledged_notices() -> Select[Notice]:
    """Notices of open incidents nobody has acknowledged yet (a 终报 asks for none)."""
    return (
        select(Notice)
        .join(Incident, Incident.id == Notice.incident_id)
        .where(
            Notice.acknowledged_at.is_(None),
            Notice.stage != NO_ACK_STAGE,
            Incident.status == IncidentStatus.OPEN,
        )
    )


def waiting_acks(session: Session) -> int:
    waiting = unacknowledged_notices().with_only_columns(Notice.id).subquery()
    return session.scalar(select(func.count()).select_from(waiting)) or 0


def sources_down(session: Session, settings: Settings) -> list[SourceHealth]:
    """Configured, enabled sources whose bad runs in a row reached their alert threshold."""
    return [
        h for h in source_health(session, settings) if h.alerting and h.configured and h.enabled
    ]


def day(
    session: Session, settings: Settings, now: datetime, down: list[SourceHealth] | None = None
) -> Day:
    """The list; `down` spares reading source health again when the caller has it."""
    today = now.astimezone(settings.tz).date()
    # To the minute, as the link to the list says it.
    since = shift_start(session, settings, today).astimezone(settings.tz)
    since = since.replace(second=0, microsecond=0)
    new_incidents = (
        session.scalar(select(func.count(Incident.id)).where(Incident.first_seen >= since)) or 0
    )
    drafts = (
        session.scalar(select(func.count(Draft.id)).where(Draft.status == DraftStatus.PENDING)) or 0
    )
    down = sources_down(session, settings) if down is None else down
    since_text = since.isoformat(timespec="minutes")
    items = [
        Item("review", review_count(session), "/mentions?review=yes"),
        Item(
            "incidents",
            new_incidents,
            "/incidents?" + urlencode({"status": "all", "since": since_text}),
        ),
        Item("acks", waiting_acks(session), "/incidents?waiting=ack"),
        Item("drafts", drafts, "/drafts?status=pending"),
        Item("sources", len(down), "/sources?trouble=yes"),
    ]
    return Day(today=today, since=since, items=items, sources_down=down)
