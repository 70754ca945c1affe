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
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

import nlp
from responder.classify import build_classifier, classify_pending
from responder.db import Database
from responder.drafts import draft_missing
from responder.incidents import Triage
from responder.models import CrawlRun, Draft, Incident, Mention, utcnow
from responder.notices import notify
from responder.outbox import drain
from responder.settings import Settings
from responder.severity import LEVELS

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


def crawl_subprocess(settings: Settings, cycle_id: str, sources: list[str] | None = None) -> None:
    """Run `python -m crawlers` with this process's configuration; raise if it fails."""
    argv = [sys.executable, "-m", "crawlers", "--cycle-id", cycle_id]
    if settings.config_dir:
        argv += ["--config", str(settings.config_dir)]
    for name in sources or []:
        argv += ["--source", name]
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
        self.triage = Triage(settings, nlp.Segmenter(settings.userdict, self._dictionary_words()))

    def _dictionary_words(self) -> list[str]:
        words = [self.settings.office_name]
        for fact in self.settings.facts:
            words += [fact.region, *fact.names]
        return words

    def run(self, crawl: bool = True, now: datetime | None = None) -> CycleSummary:
        summary = CycleSummary(cycle_id=uuid.uuid4().hex[:12])
        if crawl:
            crawl_subprocess(self.settings, summary.cycle_id)
        with self.db.transaction() as session:
            classify_pending(session, self.classifier, self.settings.nlp.batch_size)
        with self.db.transaction() as session:
            self.triage.run(session)
        with self.db.transaction() as session:
            draft_missing(session, self.settings)
        with self.db.transaction() as session:
            now = now or utcnow()
            open_incidents = session.scalars(
                select(Incident).where(Incident.status == "open").order_by(Incident.id)
            ).all()
            with_drafts = set(session.scalars(select(Draft.incident_id)))
            for incident in open_incidents:
                notify(session, self.settings, incident, incident.id in with_drafts, now)
        result = drain(self.db.sessions, self.settings.mail)
        summary.emails_sent = result.sent
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
                        func.coalesce(Incident.level_override, Incident.machine_level),
                        func.count(Incident.id),
                    ).group_by(func.coalesce(Incident.level_override, Incident.machine_level))
                ).all()
            )
            summary.incidents = {level: int(by_level.get(level, 0)) for level in reversed(LEVELS)}
        log.info("cycle %s: %s", summary.cycle_id, summary.to_dict())
        return summary
