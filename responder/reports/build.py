"""The daily report (舆情日报) and the weekly report (舆情周报): gathered and rendered (sending
is `report_delivery`).

A report is named by the date it is issued and covers the period that ends at its scheduled
time on that date, in the office's time zone: the 24 hours before `reports.daily_time`, or the
7 days before `reports.weekly_time`. `yuqing report daily --date D` therefore writes the very
report that was emailed on D, and consecutive reports cover time without gaps or overlaps. A
mention counts in the period it was published in (collected in, when its time is unknown).
"""

from __future__ import annotations

import base64
import logging
from bisect import bisect_right
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from responder import clock
from responder.incidents.severity import LEVELS, level_rank
from responder.labels import label
from responder.models import (
    MENTION_TIME,
    UNKNOWN_SOURCE,
    CrawlRun,
    DutyRoster,
    Incident,
    Mention,
)
from responder.notices.duty import on_duty
from responder.ops.health import SourceHealth, source_health
from responder.rendering import report_environment
from responder.reports import charts
from responder.settings import Settings
from responder.statuses import IncidentStatus

log = logging.getLogger(__name__)

KINDS = ("daily", "weekly")
DAYS = {"daily": 1, "weekly": 7}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SENTIMENTS = ("negative", "neutral", "positive", "unjudged")
TOP_SOURCES = 10
MAX_ATTENTION = 20
ATTENTION_LEVEL = level_rank("III")  # open incidents from this level up always need attention
# An open incident below level III needs attention when it grew this much, and faster than
# in the period before.
RISING_MIN = 3


@dataclass(frozen=True)
class Period:
    kind: str
    issued: date
    start: datetime
    end: datetime


def report_time(settings: Settings, kind: str) -> time:
    text = settings.reports.daily_time if kind == "daily" else settings.reports.weekly_time
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def period_for(settings: Settings, kind: str, issued: date) -> Period:
    if kind not in KINDS:
        raise ValueError(f"unknown report kind {kind!r}")
    at = report_time(settings, kind)
    return Period(
        kind,
        issued,
        datetime.combine(issued - timedelta(days=DAYS[kind]), at, tzinfo=settings.tz),
        datetime.combine(issued, at, tzinfo=settings.tz),
    )


def latest_issue(settings: Settings, kind: str, now: datetime) -> date:
    """The issue date of the newest report of this kind due at or before `now`."""
    local = now.astimezone(settings.tz)
    due = local.time() >= report_time(settings, kind)
    if kind == "daily":
        return local.date() if due else local.date() - timedelta(days=1)
    back = (local.weekday() - WEEKDAYS.index(settings.reports.weekly_day)) % 7
    if back == 0 and not due:
        back = 7
    return local.date() - timedelta(days=back)


def boundaries(settings: Settings, period: Period) -> list[datetime]:
    """Bucket edges of the trend: hours for the daily, local days for the weekly."""
    if period.kind == "weekly":
        at = report_time(settings, "weekly")
        first = period.start.date()
        return [
            datetime.combine(first + timedelta(days=n), at, tzinfo=settings.tz) for n in range(8)
        ]
    # In UTC: an hour-by-hour walk in local time would skip or repeat a daylight-saving hour.
    start, end = period.start.astimezone(UTC), period.end.astimezone(UTC)
    hours = round((end - start).total_seconds() / 3600)
    return [(start + timedelta(hours=n)).astimezone(settings.tz) for n in range(hours + 1)]


@dataclass
class Bucket:
    start: datetime
    counts: Counter[str]


@dataclass
class AttentionIncident:
    id: int
    title: str
    level: str
    category: str
    sentiment: str
    misinfo: bool
    mention_count: int
    new_mentions: int
    rising: bool
    last_seen: datetime
    url: str


@dataclass
class Handover:
    day: date
    person: str
    note: str


@dataclass
class Report:
    kind: str
    office: str
    period: Period
    generated_at: datetime
    duty_name: str
    duty_phone: str
    total: int
    previous_total: int
    sentiments: dict[str, int]
    previous_negative: int
    misinfo: int
    reprints: int
    categories: list[tuple[str, int]]
    sources: list[tuple[str, int]]
    source_count: int
    trend: list[Bucket]
    new_by_level: dict[str, int]
    active_by_level: dict[str, int]
    previous_new_incidents: int
    attention: list[AttentionIncident]
    more_attention: int
    handovers: list[Handover]
    source_problems: list[SourceHealth]
    crawl_runs: dict[str, int]
    web_url: str

    @property
    def negative(self) -> int:
        return self.sentiments["negative"]

    @property
    def new_incidents(self) -> int:
        return sum(self.new_by_level.values())

    @property
    def active_incidents(self) -> int:
        return sum(self.active_by_level.values())


def _when(mention: Mention) -> datetime:
    return mention.published_at or mention.fetched_at


def _mentions(session: Session, start: datetime, end: datetime) -> list[Mention]:
    query = (
        select(Mention)
        .where(MENTION_TIME >= start, MENTION_TIME < end)
        .options(selectinload(Mention.judgements), selectinload(Mention.source))
    )
    return list(session.scalars(query))


def _sentiment(mention: Mention) -> str:
    judgement = mention.judgement
    return judgement.sentiment if judgement else "unjudged"


def _source_name(mention: Mention) -> str:
    name = mention.outlet or (mention.source.name if mention.source else "") or mention.author
    return name or UNKNOWN_SOURCE


def gather(
    session: Session, settings: Settings, kind: str, issued: date, now: datetime | None = None
) -> Report:
    """Everything the report shows, read in one session."""
    tz = settings.tz
    period = period_for(settings, kind, issued)
    before = period_for(settings, kind, issued - timedelta(days=DAYS[kind]))
    mentions = _mentions(session, period.start, period.end)
    earlier = _mentions(session, before.start, before.end)

    sentiments = Counter(_sentiment(m) for m in mentions)
    categories = Counter(
        label("categories", m.judgement.category) for m in mentions if m.judgement is not None
    )
    sources = Counter(_source_name(m) for m in mentions)
    edges = boundaries(settings, period)
    trend = [Bucket(edge, Counter()) for edge in edges[:-1]]
    for m in mentions:
        trend[bisect_right(edges, _when(m)) - 1].counts[_sentiment(m)] += 1

    new_here = Counter(m.incident_id for m in mentions if m.incident_id)
    new_before = Counter(m.incident_id for m in earlier if m.incident_id)
    incidents = session.scalars(
        select(Incident).where(
            Incident.status != IncidentStatus.MERGED,
            Incident.first_seen < period.end,
            or_(Incident.last_seen >= period.start, Incident.status == IncidentStatus.OPEN),
        )
    ).all()
    active = [i for i in incidents if i.last_seen >= period.start]
    base_url = settings.web.base_url.rstrip("/")
    attention = []
    for incident in incidents:
        grew = new_here[incident.id]
        rising = grew >= RISING_MIN and grew > new_before[incident.id]
        if incident.status != IncidentStatus.OPEN or (
            level_rank(incident.level) < ATTENTION_LEVEL and not rising
        ):
            continue
        attention.append(
            AttentionIncident(
                id=incident.id,
                title=incident.title,
                level=incident.level,
                category=incident.category,
                sentiment=incident.sentiment,
                misinfo=incident.misinfo,
                mention_count=incident.mention_count,
                new_mentions=grew,
                rising=rising,
                last_seen=incident.last_seen.astimezone(tz),
                url=f"{base_url}/incidents/{incident.id}",
            )
        )
    attention.sort(key=lambda a: (-level_rank(a.level), not a.rising, -a.new_mentions, -a.id))
    previous_new = session.scalar(
        select(func.count(Incident.id)).where(
            Incident.status != IncidentStatus.MERGED,
            Incident.first_seen >= before.start,
            Incident.first_seen < before.end,
        )
    )

    handovers = [
        Handover(entry.day, entry.person, entry.handover_note)
        for entry in session.scalars(
            select(DutyRoster)
            .where(
                DutyRoster.day >= period.start.date(),
                DutyRoster.day < period.end.date(),
                DutyRoster.handover_note != "",
            )
            .order_by(DutyRoster.day)
        )
    ]
    runs = session.execute(
        select(CrawlRun.status, func.count(CrawlRun.id))
        .where(CrawlRun.started_at >= period.start, CrawlRun.started_at < period.end)
        .group_by(CrawlRun.status)
    ).all()
    duty = on_duty(session, settings, issued)
    return Report(
        kind=kind,
        office=settings.office_name,
        period=period,
        generated_at=(now or clock.now()).astimezone(tz),
        duty_name=duty.name if duty else "",
        duty_phone=duty.phone if duty else "",
        total=len(mentions),
        previous_total=len(earlier),
        sentiments={code: sentiments[code] for code in SENTIMENTS},
        previous_negative=sum(1 for m in earlier if _sentiment(m) == "negative"),
        misinfo=sum(1 for m in mentions if m.judgement is not None and m.judgement.misinfo),
        reprints=sum(1 for m in mentions if m.reprint_of is not None),
        categories=categories.most_common(),
        sources=sources.most_common(TOP_SOURCES),
        source_count=len(sources),
        trend=trend,
        new_by_level={
            level: sum(1 for i in active if i.level == level and i.first_seen >= period.start)
            for level in reversed(LEVELS)
        },
        active_by_level={
            level: sum(1 for i in active if i.level == level) for level in reversed(LEVELS)
        },
        previous_new_incidents=previous_new or 0,
        attention=attention[:MAX_ATTENTION],
        more_attention=max(0, len(attention) - MAX_ATTENTION),
        handovers=handovers,
        source_problems=[
            h for h in source_health(session, settings) if h.alerting and h.configured and h.enabled
        ],
        crawl_runs={status: count for status, count in runs},
        web_url=base_url,
    )


def chart_images(report: Report) -> dict[str, bytes]:
    """The report's charts as PNG: "trend" and "sources"."""
    return {
        "trend": charts.trend_chart(
            report.kind, [(b.start, b.counts) for b in report.trend], SENTIMENTS
        ),
        "sources": charts.sources_chart(report.sources, more=report.source_count > TOP_SOURCES),
    }


def render_html(report: Report, images: Mapping[str, str]) -> str:
    """The HTML report; `images` maps each chart name to its `src` (a data: or cid: URL)."""
    template = report_environment(True).get_template("report.html.j2")
    return template.render(r=report, images=images)


def render_text(report: Report) -> tuple[str, str]:
    """The subject and the plain-text report (the email's text part and webhook message)."""
    rendered = report_environment(False).get_template("report.txt.j2").render(r=report)
    first, _, body = rendered.lstrip().partition("\n")
    return first.removeprefix("Subject:").strip(), body.lstrip("\n")


def write_html(report: Report, path: Path) -> Path:
    """A self-contained HTML file: the charts are embedded as data: URLs."""
    sources = {
        name: "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        for name, png in chart_images(report).items()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report, sources), encoding="utf-8")
    return path
