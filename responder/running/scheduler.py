"""The long-running scheduler: one APScheduler process runs the cycle and the source schedules.

Sources without a `schedule` are crawled by the main cycle every `schedule.cycle_minutes`; each
source with one gets its own job, which crawls that source and then processes what is stored.
A job every minute opens due notices, repeats or escalates unacknowledged ones and delivers the
outbox, because acknowledgement deadlines are minutes, not cycles.
Only one scheduler may run against a database: APScheduler job stores must not be shared by
several processes. `max_instances=1` keeps a slow run of a job from overlapping its next one,
and the crawler's per-source lock keeps `yuqing crawl` from crawling a source a job is on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from responder import clock
from responder.ops.retention import purge
from responder.reports.delivery import add_report_jobs
from responder.running.cycle import CrawlFailed, Cycle
from responder.schedules import parse_schedule
from responder.settings import Settings

log = logging.getLogger(__name__)


def _job(cycle: Cycle, sources: list[str], what: str) -> Callable[[], None]:
    def run() -> None:
        try:
            cycle.run(sources=sources)
        except CrawlFailed as exc:
            # The rest of the cycle still ran on what is stored; the next tick retries the crawl.
            log.error("%s: %s", what, exc)

    return run


def _purge(cycle: Cycle, settings: Settings) -> Callable[[], None]:
    def run() -> None:
        with cycle.db.transaction() as session:
            summary = purge(session, settings, clock.now())
        log.info("purge: %s", summary.to_dict())

    return run


def build_scheduler(settings: Settings, cycle: Cycle) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=settings.tz)
    enabled = [s for s in settings.sources if s.enabled]
    every_cycle = [s.name for s in enabled if s.schedule is None]
    # APScheduler compares run times with its own (real) clock, not yuqing's: the first run is
    # due at the real now, so it starts at once even when the clock is shifted.
    now = datetime.now(settings.tz)
    scheduler.add_job(
        _job(cycle, every_cycle, "cycle"),
        IntervalTrigger(minutes=settings.schedule.cycle_minutes, timezone=settings.tz),
        id="cycle",
        name="cycle",
        max_instances=1,
        coalesce=True,
        next_run_time=now,
    )
    scheduler.add_job(
        cycle.tick,
        IntervalTrigger(minutes=1, timezone=settings.tz),
        id="notices",
        name="notices",
        max_instances=1,
        coalesce=True,
    )
    for source in enabled:
        if source.schedule is None:
            continue
        scheduler.add_job(
            _job(cycle, [source.name], f"source {source.name}"),
            parse_schedule(source.schedule, settings.tz),
            id=f"source:{source.name}",
            name=f"crawl {source.name}",
            max_instances=1,
            coalesce=True,
        )
    scheduler.add_job(
        _purge(cycle, settings),
        CronTrigger(hour=3, minute=30, timezone=settings.tz),
        id="purge",
        name="purge aged-out data",
        max_instances=1,
        coalesce=True,
    )
    # The daily and weekly reports, at their local times when enabled.
    add_report_jobs(scheduler, settings, cycle.db)
    return scheduler
