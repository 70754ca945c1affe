"""What follows every crawl, once, whoever crawled: close the runs whose process died, group
reprints among the new mentions and alert on sources that stopped working.

The crawl itself (`python -m crawlers`, one worker of a shared round or a plain crawl) only
parses and hands over; it cannot know whether it is the last to write, and a crawl that dies
never gets to its end. So the cycle runs this after its crawl, and `yuqing crawl` after the
crawl subprocess returns; rounds of `--worker` crawls started elsewhere (cron) are picked up by
the next cycle or `yuqing crawl`.
"""

from __future__ import annotations

import logging

from responder.db import Database
from responder.intake.crawl_runs import close_abandoned_runs
from responder.intake.reprints import group_reprints
from responder.ops.health import alert_unhealthy
from responder.settings import Settings

log = logging.getLogger(__name__)


def after_crawl(db: Database, settings: Settings) -> int:
    """Close abandoned runs, group reprints, alert on unhealthy sources; returns how many
    mentions were grouped as reprints. Each step commits on its own, so a failing alert does
    not undo the reprints."""
    with db.transaction() as session:
        close_abandoned_runs(session, settings)
    with db.transaction() as session:
        reprints = group_reprints(session, settings)
    if reprints:
        log.info("%d new mentions grouped as reprints", reprints)
    with db.transaction() as session:
        alert_unhealthy(session, settings)
    return reprints
