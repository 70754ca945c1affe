"""One cycle of the main job: crawl → classify → incidents → drafts → notices → send.

The crawl runs as a subprocess (`python -m crawlers`): Scrapy's reactor cannot be restarted in
one process, and a crashing spider must not take the scheduler down. Each later step commits
on its own, so a failure leaves earlier work stored and the next cycle picks up the rest.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from responder import clock, logs
from responder.db import Database
from responder.delivery.outbox import drain
from responder.incidents.severity import LEVELS
from responder.incidents.triage import Triage
from responder.judging.classifier import build_classifier
from responder.judging.classify import classify_pending
from responder.models import CrawlRun, Draft, Incident, Mention
from responder.notices.escalation import notify_all
from responder.notices.undelivered import report_undelivered
from responder.replies.drafts import draft_missing
from responder.running.aftercrawl import after_crawl
from responder.settings import Settings
from responder.statuses import IncidentStatus

log = logging.getLogger(__name__)


class CrawlFailed(RuntimeError):
    pass


@dataclass
class CycleSummary:
    cycle_id: str
    mentions: int = 0
    new_mentions: int = 0
    incidents: dict[str, int] = field(default_factory=dict)
    drafts: int = 0
    emails_sent: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "mentions": self.mentions,
            "new_mentions": self.new_mentions,
            "incidents": self.incidents,
            "drafts": self.drafts,
            "emails_sent": self.emails_sent,
        }


def crawl_subprocess(
    settings: Settings,
    cycle_id: str,
    sources: list[str] | None = None,
    extra_args: list[str] | None = None,
) -> None:
    """Run `python -m crawlers` with this process's configuration (and `extra_args`, such as
    `--worker`); raise if it fails."""
    argv = [sys.executable, "-m", "crawlers", "--cycle-id", cycle_id]
    if settings.config_dir:
        argv += ["--config", str(settings.config_dir)]
    for name in sources or []:
        argv += ["--source", name]
    argv += extra_args or []
    env = dict(os.environ, YUQING_DATA=str(settings.data_dir))
    if settings.database.url:
        env["YUQING_DATABASE__URL"] = settings.database.url
    log.info("crawl %s started", cycle_id)
    try:
        done = subprocess.run(
            argv, env=env, timeout=settings.crawl.timeout_minutes * 60, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise CrawlFailed(f"crawl {cycle_id} timed out after {exc.timeout:.0f}s") from None
    if done.returncode != 0:
        raise CrawlFailed(f"crawl {cycle_id} exited with status {done.returncode}")


class Cycle:
    """The main job, built once from the settings and run on every tick of the scheduler."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.classifier = build_classifier(settings)
        self.triage = Triage.from_settings(settings)
        self._steps = threading.Lock()

    def run(
        self, crawl: bool = True, now: datetime | None = None, sources: list[str] | None = None
    ) -> CycleSummary:
        """Crawl (all enabled sources, or `sources`), then process what is stored.

        The scheduler runs several of these at once (one per source schedule); the crawls run
        side by side, the steps after them one at a time.
        """
        summary = CycleSummary(cycle_id=uuid.uuid4().hex[:12])
        # Every record logged during the cycle carries its id as the run id (responder.logs).
        with logs.in_run(summary.cycle_id):
            if crawl and sources != []:
                # With Redis configured, the scheduler's crawl is one worker of the shared round.
                worker = ["--worker"] if self.settings.crawl.redis_url else None
                crawl_subprocess(self.settings, summary.cycle_id, sources, worker)
            with self._steps:
                self._process(summary, now)
            log.info("cycle %s: %s", summary.cycle_id, summary.to_dict())
        return summary

    def tick(self, now: datetime | None = None) -> int:
        """The scheduler's minute job: open due notices, repeat or escalate unacknowledged
        ones, and deliver the outbox; returns how many messages were sent."""
        with self._steps:
            return self._notify_and_send(now or clock.now())

    def _notify_and_send(self, now: datetime) -> int:
        with self.db.transaction() as session:
            notify_all(session, self.settings, now)
        result = drain(self.db.sessions, self.settings.mail, webhooks=self.settings.webhooks)
        sent = result.sent
        if result.failed:
            with self.db.transaction() as session:
                told = report_undelivered(session, self.settings, now)
            if told:
                sent += drain(
                    self.db.sessions, self.settings.mail, webhooks=self.settings.webhooks
                ).sent
        return sent

    def _process(self, summary: CycleSummary, now: datetime | None) -> None:
        # Once per cycle, whoever crawled (this cycle's crawl, a worker round, nobody).
        after_crawl(self.db, self.settings)
        with self.db.transaction() as session:
            classify_pending(
                session,
                self.classifier,
                self.settings.nlp.batch_size,
                self.settings.limits.field_chars,
            )
        with self.db.transaction() as session:
            self.triage.run(session)
        with self.db.transaction() as session:
            draft_missing(session, self.settings)
        summary.emails_sent = self._notify_and_send(now or clock.now())
        with self.db.transaction() as session:
            summary.new_mentions = (
                session.scalar(
                    select(func.coalesce(func.sum(CrawlRun.stored), 0)).where(
                        CrawlRun.cycle_id == summary.cycle_id
                    )
                )
                or 0
            )
            summary.mentions = session.scalar(select(func.count(Mention.id))) or 0
            summary.drafts = session.scalar(select(func.count(Draft.id))) or 0
            by_level = dict(
                session.execute(
                    select(
                        Incident.level,
                        func.count(Incident.id),
                    )
                    .where(Incident.status != IncidentStatus.MERGED)
                    .group_by(Incident.level)
                ).all()
            )
            summary.incidents = {level: int(by_level.get(level, 0)) for level in reversed(LEVELS)}
