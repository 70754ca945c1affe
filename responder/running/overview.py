"""The dashboard's read model (工作台): today's mentions and negative share, open incidents by
level, sources with problems, who is on duty with the last handover note, and the last seven
days counted for the charts.

A mention's time is when it was published, else when it was fetched, as in the reports, so the
dashboard's "today" agrees with the daily report and with the mentions list's date filter.
Reading only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from responder.incidents.severity import LEVELS, level_rank
from responder.judging.corrections import in_force
from responder.models import (
    MENTION_TIME,
    DutyRoster,
    Incident,
    Judgement,
    Mention,
    Source,
    source_name,
)
from responder.notices.duty import DutyDay, duty_day, last_handover
from responder.ops.health import SourceHealth
from responder.replies.queue import pending_count
from responder.reports.build import TOP_SOURCES
from responder.running.day import sources_down
from responder.settings import Settings
from responder.statuses import IncidentStatus

DAYS = 7
INCIDENTS_SHOWN = 15
ATTENTION_SHOWN = 8


@dataclass
class Overview:
    today: date
    new_today: int
    negative_today: int
    misinfo_today: int
    open_by_level: dict[str, int]
    open_total: int
    incidents: list[Incident]
    attention: list[Mention]
    problems: list[SourceHealth]
    duty: DutyDay
    handover: DutyRoster | None
    drafts_pending: int

    @property
    def negative_share(self) -> str:
        return f"{self.negative_today * 100 / self.new_today:.0f}%" if self.new_today else "—"


@dataclass
class Week:
    """The last seven local days: sentiment per day, top sources (as `source_name` names
    them), categories (codes)."""

    days: list[tuple[datetime, Counter[str]]] = field(default_factory=list)
    sources: list[tuple[str, int]] = field(default_factory=list)
    source_count: int = 0
    categories: list[tuple[str, int]] = field(default_factory=list)

    @property
    def totals(self) -> list[int]:
        return [sum(counts.values()) for _, counts in self.days]

    @property
    def more_sources(self) -> bool:
        """Some sources are left out of `sources`."""
        return self.source_count > len(self.sources)


def _midnight(day: date, settings: Settings) -> datetime:
    return datetime.combine(day, time(), tzinfo=settings.tz)


def overview(session: Session, settings: Settings, now: datetime) -> Overview:
    today = now.astimezone(settings.tz).date()
    start, end = _midnight(today, settings), _midnight(today + timedelta(days=1), settings)
    judgement = aliased(Judgement)
    todays = (
        select(Mention)
        .outerjoin(judgement, and_(judgement.mention_id == Mention.id, in_force(judgement)))
        .where(MENTION_TIME >= start, MENTION_TIME < end)
    )
    count = func.count(Mention.id)
    new_today = session.scalar(todays.with_only_columns(count)) or 0
    negative = session.scalar(
        todays.with_only_columns(count).where(judgement.sentiment == "negative")
    )
    misinfo = session.scalar(todays.with_only_columns(count).where(judgement.misinfo.is_(True)))
    attention = list(
        session.scalars(
            todays.where((judgement.sentiment == "negative") | judgement.misinfo.is_(True))
            .options(selectinload(Mention.judgements), selectinload(Mention.incident))
            .order_by(MENTION_TIME.desc(), Mention.id.desc())
            .limit(ATTENTION_SHOWN)
        )
    )
    open_incidents = sorted(
        session.scalars(select(Incident).where(Incident.status == IncidentStatus.OPEN)),
        key=lambda i: (-level_rank(i.level), -i.last_seen.timestamp()),
    )
    by_level = Counter(i.level for i in open_incidents)
    return Overview(
        today=today,
        new_today=new_today,
        negative_today=negative or 0,
        misinfo_today=misinfo or 0,
        open_by_level={level: by_level[level] for level in reversed(LEVELS)},
        open_total=len(open_incidents),
        incidents=open_incidents[:INCIDENTS_SHOWN],
        attention=attention,
        problems=sources_down(session, settings),
        duty=duty_day(session, settings, today),
        handover=last_handover(session, today),
        drafts_pending=pending_count(session),
    )


def week(session: Session, settings: Settings, now: datetime) -> Week:
    today = now.astimezone(settings.tz).date()
    first = today - timedelta(days=DAYS - 1)
    edges = [_midnight(first + timedelta(days=n), settings) for n in range(DAYS + 1)]
    judgement = aliased(Judgement)
    # Counted by the database, grouped by local day (the edges are local midnights), source
    # and judgement: a week at a million mentions is some 230,000 rows, and reading them into
    # Python took seconds.
    day = case(*((MENTION_TIME < edge, n) for n, edge in enumerate(edges[1:-1])), else_=DAYS - 1)
    source = source_name(Source.name)
    groups = (day, source, judgement.sentiment, judgement.category)
    rows = session.execute(
        select(*groups, func.count())
        .select_from(Mention)
        .outerjoin(Source, Source.id == Mention.source_id)
        .outerjoin(judgement, and_(judgement.mention_id == Mention.id, in_force(judgement)))
        .where(MENTION_TIME >= edges[0], MENTION_TIME < edges[-1])
        .group_by(*groups)
    ).all()
    result = Week(days=[(edge, Counter()) for edge in edges[:-1]])
    sources: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    for index, name, sentiment, category, count in rows:
        result.days[index][1][sentiment or "unjudged"] += count
        sources[name] += count
        if category:
            categories[category] += count
    result.sources = sources.most_common(TOP_SOURCES)
    result.source_count = len(sources)
    result.categories = categories.most_common()
    return result


class WeekCache:
    """The week the three charts of one dashboard share, worked out once while no mention or
    judgement was added and the local day is the same."""

    def __init__(self) -> None:
        self.key: tuple[object, ...] | None = None
        self.value: Week | None = None

    def get(self, session: Session, settings: Settings, now: datetime) -> Week:
        key = (
            now.astimezone(settings.tz).date(),
            session.scalar(select(func.max(Mention.id))),
            session.scalar(select(func.max(Judgement.id))),
        )
        if self.value is None or key != self.key:
            self.value, self.key = week(session, settings, now), key
        return self.value
