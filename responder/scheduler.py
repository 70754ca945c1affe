"""The long-running scheduler: one APScheduler process runs the cycle on its interval.

Only one scheduler may run against a database: APScheduler job stores must not be shared by
several processes, and `max_instances=1` keeps a slow cycle from overlapping the next.
"""

from __future__ import annotations

import logging
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler

from responder.cycle import CrawlFailed, Cycle
from responder.settings import Settings

log = logging.getLogger(__name__)


def build_scheduler(settings: Settings, cycle: Cycle) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone=settings.tz)

    def run_cycle() -> None:
        try:
            cycle.run()
        except CrawlFailed as exc:
            # The rest of the cycle still ran on what is stored; the next tick retries the crawl.
            log.error("cycle: %s", exc)

    scheduler.add_job(
        run_cycle,
        "interval",
        minutes=settings.schedule.cycle_minutes,
        id="cycle",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(settings.tz),
    )
    return scheduler
