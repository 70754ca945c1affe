"""The operational facts of a running yuqing — what was stored, how the crawls went, how far
classification lags, what waits in the outbox — read from the database, for `/metrics`
(Prometheus text format) and `yuqing status`.

yuqing runs as several processes (the scheduler, a crawl subprocess per crawl, the web UI, the
CLI), so counters kept in one process's memory would see only its own part. Every fact is
read from the rows on each scrape instead; the queries are aggregates over indexed columns and
a day of judgements, cheap at a scrape every 15–60 seconds.

Classification time is the time from a mention being stored to its machine judgement, over
the judgements made in the last 24 hours (mean and max). It is derived from rows that exist
(`mentions.fetched_at`, `judgements.created_at`), so it needs no new column and no process
memory. It includes the wait for the next cycle, which is what matters to the duty officer:
how long a stored mention goes unjudged. The compute time of each classification run is in
the log (`classified N mentions in S s`, with the cycle's run id); `bench/` measures speed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from responder import clock
from responder.db import Database
from responder.incidents.severity import LEVELS
from responder.models import (
    CrawlRun,
    Incident,
    Judgement,
    Mention,
    Notice,
    OutboxMessage,
    Source,
)
from responder.ops.health import source_health
from responder.settings import Settings
from responder.statuses import IncidentStatus, JudgementOrigin, OutboxStatus

__all__ = ["Facts", "FactsCollector", "SourceFacts", "gather", "registry"]

UNSENT = (OutboxStatus.PENDING, OutboxStatus.SENDING)
BACKLOG = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED)
NO_SOURCE = "(无来源)"  # mentions imported without a source


@dataclass
class SourceFacts:
    name: str
    enabled: bool
    stored: int
    stored_24h: int
    runs: dict[str, int]  # crawl runs by status: ok, empty, failed, interrupted, running
    errors: int  # failed requests and items, summed over every run
    last_status: str  # ok | empty | failed | interrupted | never
    last_run: datetime | None
    bad_streak: int
    alerting: bool


@dataclass
class Facts:
    at: datetime
    mentions: int
    mentions_24h: int
    sources: list[SourceFacts]
    unclassified: int
    classified_24h: int
    classification_lag_mean: float | None  # seconds from stored to judged, last 24 h
    classification_lag_max: float | None
    outbox: dict[str, dict[str, int]]  # channel -> status -> messages, for BACKLOG statuses
    oldest_unsent_seconds: float | None
    notices_awaiting_ack: int
    incidents_open: dict[str, int]
    last_crawl: datetime | None
    problems: list[str] = field(default_factory=list)

    @property
    def failed_messages(self) -> int:
        return sum(by_status.get(OutboxStatus.FAILED, 0) for by_status in self.outbox.values())

    @property
    def sources_alerting(self) -> list[SourceFacts]:
        return [s for s in self.sources if s.alerting and s.enabled]

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        data["last_crawl"] = self.last_crawl.isoformat() if self.last_crawl else None
        for source in data["sources"]:
            source["last_run"] = source["last_run"].isoformat() if source["last_run"] else None
        return data


def gather(session: Session, settings: Settings, now: datetime | None = None) -> Facts:
    """Every fact, read now; `problems` lists what needs a person's attention."""
    now = now or clock.now()
    day_ago = now - timedelta(hours=24)
    names = {id_: name for id_, name in session.execute(select(Source.id, Source.name))}

    def by_source(rows: Iterable[tuple[int | None, int]]) -> dict[str, int]:
        return {names.get(id_, NO_SOURCE) if id_ else NO_SOURCE: int(n) for id_, n in rows}

    stored = by_source(
        session.execute(select(Mention.source_id, func.count()).group_by(Mention.source_id))
    )
    stored_24h = by_source(
        session.execute(
            select(Mention.source_id, func.count())
            .where(Mention.fetched_at >= day_ago)
            .group_by(Mention.source_id)
        )
    )
    runs: dict[str, dict[str, int]] = {}
    errors: dict[str, int] = {}
    for source_id, status, count, failed in session.execute(
        select(
            CrawlRun.source_id,
            CrawlRun.status,
            func.count(),
            func.coalesce(func.sum(CrawlRun.failed), 0),
        ).group_by(CrawlRun.source_id, CrawlRun.status)
    ):
        name = names.get(source_id, NO_SOURCE)
        runs.setdefault(name, {})[status] = int(count)
        errors[name] = errors.get(name, 0) + int(failed)

    sources = [
        SourceFacts(
            name=h.name,
            enabled=h.enabled,
            stored=stored.pop(h.name, 0),
            stored_24h=stored_24h.get(h.name, 0),
            runs=runs.get(h.name, {}),
            errors=errors.get(h.name, 0),
            last_status=h.last_status,
            last_run=h.last_run,
            bad_streak=h.bad_streak,
            alerting=h.alerting,
        )
        for h in source_health(session, settings)
    ]
    if NO_SOURCE in stored:  # imported mentions: no crawls, so no health
        sources.append(
            SourceFacts(
                name=NO_SOURCE,
                enabled=False,
                stored=stored[NO_SOURCE],
                stored_24h=stored_24h.get(NO_SOURCE, 0),
                runs={},
                errors=0,
                last_status="never",
                last_run=None,
                bad_streak=0,
                alerting=False,
            )
        )

    judged = select(Judgement.id).where(Judgement.mention_id == Mention.id).exists()
    lags = [
        (judged_at - fetched_at).total_seconds()
        for judged_at, fetched_at in session.execute(
            select(Judgement.created_at, Mention.fetched_at)
            .join(Mention, Judgement.mention_id == Mention.id)
            .where(Judgement.origin == JudgementOrigin.MACHINE, Judgement.created_at >= day_ago)
        )
    ]
    outbox: dict[str, dict[str, int]] = {"email": dict.fromkeys(BACKLOG, 0)}
    for channel, status, count in session.execute(
        select(OutboxMessage.channel, OutboxMessage.status, func.count())
        .where(OutboxMessage.status.in_(BACKLOG))
        .group_by(OutboxMessage.channel, OutboxMessage.status)
    ):
        outbox.setdefault(channel, dict.fromkeys(BACKLOG, 0))[status] = int(count)
    oldest = session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status.in_(UNSENT))
    )
    open_by_level = dict(
        session.execute(
            select(Incident.level, func.count())
            .where(Incident.status == IncidentStatus.OPEN)
            .group_by(Incident.level)
        ).all()
    )
    facts = Facts(
        at=now,
        mentions=session.scalar(select(func.count(Mention.id))) or 0,
        mentions_24h=session.scalar(
            select(func.count(Mention.id)).where(Mention.fetched_at >= day_ago)
        )
        or 0,
        sources=sources,
        unclassified=session.scalar(select(func.count(Mention.id)).where(~judged)) or 0,
        classified_24h=len(lags),
        classification_lag_mean=sum(lags) / len(lags) if lags else None,
        classification_lag_max=max(lags) if lags else None,
        outbox=outbox,
        oldest_unsent_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else None,
        notices_awaiting_ack=session.scalar(
            select(func.count(Notice.id)).where(
                Notice.acknowledged_at.is_(None), Notice.next_step_at.is_not(None)
            )
        )
        or 0,
        incidents_open={lvl: int(open_by_level.get(lvl, 0)) for lvl in reversed(LEVELS)},
        last_crawl=session.scalar(select(func.max(CrawlRun.started_at))),
    )
    facts.problems = problems(facts, settings)
    return facts


def problems(facts: Facts, settings: Settings) -> list[str]:
    """What `yuqing status` flags (and exits 1 for): an enabled source alerting, a message the
    outbox gave up on, a message unsent for longer than `monitoring.unsent_minutes`."""
    found = [
        f"信息源异常：{s.name} 连续 {s.bad_streak} 次抓取失败或无结果"
        for s in facts.sources_alerting
    ]
    if facts.failed_messages:
        found.append(f"发送失败的消息 {facts.failed_messages} 条（outbox failed）")
    limit = settings.monitoring.unsent_minutes * 60
    if facts.oldest_unsent_seconds is not None and facts.oldest_unsent_seconds > limit:
        found.append(f"最早一条待发消息已等待 {facts.oldest_unsent_seconds / 60:.0f} 分钟")
    return found


def _timestamp(value: datetime | None) -> float:
    return value.timestamp() if value else 0.0


def families(facts: Facts) -> Iterator[Metric]:
    """The facts as Prometheus metric families (names start with `yuqing_`)."""
    stored = CounterMetricFamily(
        "yuqing_mentions_stored", "Mentions stored, by source", labels=["source"]
    )
    stored_24h = GaugeMetricFamily(
        "yuqing_mentions_stored_24h", "Mentions stored in the last 24 hours", labels=["source"]
    )
    runs = CounterMetricFamily(
        "yuqing_crawl_runs", "Crawl runs by source and outcome", labels=["source", "status"]
    )
    errors = CounterMetricFamily(
        "yuqing_crawl_errors", "Failed requests and items in crawls, by source", labels=["source"]
    )
    last_run = GaugeMetricFamily(
        "yuqing_source_last_crawl_timestamp_seconds",
        "Start of the source's last finished crawl (0: never)",
        labels=["source"],
    )
    last_status = GaugeMetricFamily(
        "yuqing_source_last_status",
        "1 for the outcome of the source's last crawl",
        labels=["source", "status"],
    )
    streak = GaugeMetricFamily(
        "yuqing_source_bad_streak", "Failed or empty crawls in a row", labels=["source"]
    )
    alerting = GaugeMetricFamily(
        "yuqing_source_alerting", "1 when the source is alerting", labels=["source"]
    )
    for s in facts.sources:
        stored.add_metric([s.name], s.stored)
        stored_24h.add_metric([s.name], s.stored_24h)
        errors.add_metric([s.name], s.errors)
        for status, count in sorted(s.runs.items()):
            runs.add_metric([s.name, status], count)
        if s.name == NO_SOURCE:
            continue
        last_run.add_metric([s.name], _timestamp(s.last_run))
        last_status.add_metric([s.name, s.last_status], 1)
        streak.add_metric([s.name], s.bad_streak)
        alerting.add_metric([s.name], 1 if s.alerting and s.enabled else 0)
    yield from (stored, stored_24h, runs, errors, last_run, last_status, streak, alerting)

    yield GaugeMetricFamily(
        "yuqing_sources_alerting", "Enabled sources alerting", value=len(facts.sources_alerting)
    )
    yield GaugeMetricFamily(
        "yuqing_mentions_unclassified",
        "Stored mentions without a judgement",
        value=facts.unclassified,
    )
    yield GaugeMetricFamily(
        "yuqing_mentions_classified_24h",
        "Machine judgements made in the last 24 hours",
        value=facts.classified_24h,
    )
    lag = GaugeMetricFamily(
        "yuqing_classification_lag_seconds",
        "Seconds from a mention being stored to its machine judgement, last 24 hours",
        labels=["stat"],
    )
    lag.add_metric(["mean"], facts.classification_lag_mean or 0.0)
    lag.add_metric(["max"], facts.classification_lag_max or 0.0)
    yield lag
    outbox = GaugeMetricFamily(
        "yuqing_outbox_messages",
        "Outbox messages not yet sent (pending, sending) or given up (failed)",
        labels=["channel", "status"],
    )
    for channel, by_status in sorted(facts.outbox.items()):
        for status, count in by_status.items():
            outbox.add_metric([channel, status], count)
    yield outbox
    yield GaugeMetricFamily(
        "yuqing_outbox_oldest_unsent_age_seconds",
        "Age of the oldest pending or sending outbox message (0: none)",
        value=facts.oldest_unsent_seconds or 0.0,
    )
    yield GaugeMetricFamily(
        "yuqing_notices_awaiting_ack",
        "Notices still being repeated or escalated for want of an acknowledgement",
        value=facts.notices_awaiting_ack,
    )
    incidents = GaugeMetricFamily("yuqing_incidents_open", "Open incidents", labels=["level"])
    for level, count in facts.incidents_open.items():
        incidents.add_metric([level], count)
    yield incidents
    yield GaugeMetricFamily(
        "yuqing_last_crawl_timestamp_seconds",
        "Start of the newest crawl run of any source (0: never)",
        value=_timestamp(facts.last_crawl),
    )


class FactsCollector(Collector):
    """Reads the facts from the database on every scrape."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db

    def collect(self) -> Iterator[Metric]:
        with self.db.sessions() as session:
            facts = gather(session, self.settings)
        yield from families(facts)


def registry(settings: Settings, db: Database) -> CollectorRegistry:
    """A registry of its own (not prometheus_client's global one, which would be module state
    shared by every app built in the process), holding only the facts collector."""
    built = CollectorRegistry(auto_describe=False)
    built.register(FactsCollector(settings, db))
    return built
