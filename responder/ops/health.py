"""Source health: how each source's recent crawls went, and alerts when one stops working.

A run is bad when it failed, found nothing (except for a watched page: unchanged is normal)
or was interrupted (its process died before
finishing: `responder.intake.crawl_runs.close_abandoned_runs` closes such runs when the next
crawl of the source starts and after every crawl). This module only reads runs; crawl_runs
writes them. After `alert_after_runs` bad runs in a row (per source, else
`crawl.alert_after_runs`) the duty officer is emailed through the outbox, once per streak:
the dedupe key names the streak's first bad run. When the source recovers, a short all-clear
follows, keyed the same way.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from responder import clock
from responder.delivery.outbox import enqueue_for_person
from responder.intake.crawl_runs import BAD, RunStatus
from responder.models import CrawlRun, Mention, OutboxMessage, Source
from responder.notices.duty import on_duty
from responder.rendering import local_time, render_text, split_subject
from responder.settings import Settings
from responder.settings import Source as SourceConfig

log = logging.getLogger(__name__)
RECENT_RUNS = 50
QUIET_IS_FINE = tuple(status for status in BAD if status != RunStatus.EMPTY)


@dataclass
class SourceHealth:
    name: str
    kind: str
    schedule: str
    configured: bool  # False for imports and sources removed from sources.yaml
    enabled: bool
    runs: int
    last_run: datetime | None
    last_status: str  # ok | empty | failed | interrupted | never
    bad_streak: int
    streak_start_run: int | None
    last_stored: datetime | None
    fetched: int
    found: int
    stored: int
    failed: int
    error: str
    alert_after: int
    source_id: int | None = None  # None for a configured source never crawled

    @property
    def alerting(self) -> bool:
        return self.bad_streak >= self.alert_after

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": self.kind,
            "schedule": self.schedule,
            "configured": self.configured,
            "enabled": self.enabled,
            "runs": self.runs,
            "last_run": self.last_run.isoformat() if self.last_run else None,
            "last_status": self.last_status,
            "bad_streak": self.bad_streak,
            "alerting": self.alerting,
            "last_stored": self.last_stored.isoformat() if self.last_stored else None,
            "fetched": self.fetched,
            "found": self.found,
            "stored": self.stored,
            "failed": self.failed,
            "error": self.error,
        }


def _configured(settings: Settings) -> dict[str, SourceConfig]:
    return {s.name: s for s in settings.sources}


def source_health(session: Session, settings: Settings) -> list[SourceHealth]:
    """Every configured source, then any other source with stored runs (imports, removed)."""
    configured = _configured(settings)
    rows = {s.name: s for s in session.scalars(select(Source))}
    names = list(configured) + sorted(n for n in rows if n not in configured)
    report = []
    for name in names:
        config = configured.get(name)
        row = rows.get(name)
        runs: list[CrawlRun] = []
        last_stored = None
        if row is not None:
            runs = list(
                session.scalars(
                    select(CrawlRun)
                    .where(CrawlRun.source_id == row.id, CrawlRun.status != RunStatus.RUNNING.value)
                    .order_by(CrawlRun.id.desc())
                    .limit(RECENT_RUNS)
                )
            )
            last_stored = session.scalar(
                select(func.max(Mention.fetched_at)).where(Mention.source_id == row.id)
            )
        # A watched page that did not change is the normal case, not a source going quiet.
        bad = BAD if not (config and config.kind == "watch") else QUIET_IS_FINE
        streak = 0
        for run in runs:
            if run.status not in bad:
                break
            streak += 1
        last = runs[0] if runs else None
        report.append(
            SourceHealth(
                name=name,
                kind=config.kind if config else (row.kind if row else "?"),
                schedule=(config.schedule or "每轮") if config else "",
                configured=config is not None,
                enabled=bool(config and config.enabled),
                runs=len(runs),
                last_run=last.started_at if last else None,
                last_status=last.status if last else "never",
                bad_streak=streak,
                streak_start_run=runs[streak - 1].id if streak else None,
                last_stored=last_stored,
                fetched=last.fetched if last else 0,
                found=last.found if last else 0,
                stored=last.stored if last else 0,
                failed=last.failed if last else 0,
                error=(last.error or "") if last else "",
                alert_after=(config.alert_after_runs if config else None)
                or settings.crawl.alert_after_runs,
                source_id=row.id if row is not None else None,
            )
        )
    return report


def alert_unhealthy(session: Session, settings: Settings, now: datetime | None = None) -> int:
    """Enqueue an alert for every source whose bad streak reached its threshold; returns how
    many were newly enqueued (an alert already sent for the same streak is not repeated)."""
    now = now or clock.now()
    person = on_duty(session, settings, now.astimezone(settings.tz).date())
    if person is None:
        log.warning("source health: nobody on duty to alert")
        return 0
    added = 0
    for health in source_health(session, settings):
        if not health.configured or not health.enabled:
            continue
        if health.alerting:
            template = "notices/source_down.txt.j2"
            key: str | None = f"source-down:{health.name}:{health.streak_start_run}"
        elif health.last_status == RunStatus.OK:
            template, key = "notices/source_up.txt.j2", _all_clear_key(session, health.name)
        else:
            continue
        if key is None:
            continue
        subject, body = split_subject(
            render_text(
                template,
                recipient=person.name,
                source=health,
                office=settings.office_name,
                sent_at=local_time(now, settings.tz),
                last_run=local_time(health.last_run, settings.tz),
                last_stored=local_time(health.last_stored, settings.tz) or "从未",
            )
        )
        if enqueue_for_person(session, person, key, subject, body, stage="source_health"):
            added += 1
            log.warning("source %s: %s", health.name, subject)
    return added


def _all_clear_key(session: Session, name: str) -> str | None:
    """The all-clear's key for the source's newest down alert; None if it never had one.
    The outbox's dedupe key keeps the all-clear from going out twice."""
    down = session.scalar(
        select(OutboxMessage.dedupe_key)
        .where(OutboxMessage.dedupe_key.startswith(f"source-down:{name}:", autoescape=True))
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    return None if down is None else "source-up:" + down.removeprefix("source-down:")
