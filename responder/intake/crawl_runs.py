"""The one owner of `CrawlRun.status`: every run is opened, finished, closed as abandoned or
discarded here, by crawlers (through `responder.intake.handover`), imports and the cycle.

A run is `running` from `open_run` until `finish_run` (ok, empty or failed) or, when its process
dies first, `close_abandoned_runs` (interrupted). Keeping the transitions in one module keeps
the rule "only a running run changes status, except a live run's own end" in one place: the
health check (`responder.ops.health`) only reads them.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from responder import clock
from responder.models import CrawlRun
from responder.processes import is_dead, on_this_host, this_process
from responder.settings import Settings

log = logging.getLogger(__name__)

# A run left "running" by a process on another host, which cannot be asked whether it lives, is
# closed once it started this many `crawl.timeout_minutes` ago. The scheduler and `yuqing crawl`
# kill a crawl after one timeout; a `--worker` started by other means (cron) is not killed, so
# the margin is wide. Should a live worker's run be closed all the same, its own end overwrites
# the status.
REMOTE_RUN_TIMEOUTS = 4


class RunStatus(enum.StrEnum):
    """The values stored in `crawl_runs.status` (unchanged from when they were bare strings)."""

    RUNNING = "running"
    OK = "ok"
    EMPTY = "empty"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # its process died before finishing


# The outcomes the health check counts against a source.
BAD = (RunStatus.FAILED, RunStatus.EMPTY, RunStatus.INTERRUPTED)


@dataclass
class RunCounts:
    """What a run did, written with its end."""

    fetched: int = 0
    found: int = 0
    stored: int = 0
    skipped: int = 0
    failed: int = 0


def open_run(session: Session, cycle_id: str, source_id: int) -> int:
    """A new `running` run of the source, owned by this process; returns its id."""
    run = CrawlRun(
        cycle_id=cycle_id,
        source_id=source_id,
        worker=this_process(),
        status=RunStatus.RUNNING.value,
    )
    session.add(run)
    session.flush()
    return run.id


def record_counts(session: Session, run_id: int, counts: RunCounts) -> None:
    """The counts so far of a run still going (an import saves them with every batch)."""
    run = _get(session, run_id)
    _write_counts(run, counts)


def finish_run(
    session: Session,
    run_id: int,
    status: RunStatus,
    counts: RunCounts,
    error: str | None,
) -> None:
    """End the run as ok, empty or failed with its counts and error.

    The status is written even when `close_abandoned_runs` already took the run for dead (a live
    run on another host past the remote limit): the run's own end is the truth. The error is set
    even when None, for the same reason.
    """
    if status not in (RunStatus.OK, RunStatus.EMPTY, RunStatus.FAILED):
        raise ValueError(f"a run ends ok, empty or failed, not {status}")
    run = _get(session, run_id)
    _write_counts(run, counts)
    run.finished_at = clock.now()
    run.status = status.value
    run.error = error


def discard_run(session: Session, run_id: int) -> None:
    """Delete a run that did nothing worth recording (a worker with no share of a round)."""
    run = session.get(CrawlRun, run_id)
    if run is not None:
        session.delete(run)


def close_abandoned_runs(
    session: Session, settings: Settings, source_id: int | None = None, now: datetime | None = None
) -> int:
    """Close as "interrupted" the runs (of one source, or all) still "running" whose process is
    gone; returns how many. A run of a process on this host is closed when its pid no longer
    runs, never while it does; a run of another host's process (or of an unrecorded one) once it
    started `REMOTE_RUN_TIMEOUTS` crawl timeouts ago. Several workers may crawl one source at
    once (crawlers.distributed): each closes only what no live process owns."""
    now = now or clock.now()
    remote_limit = timedelta(minutes=REMOTE_RUN_TIMEOUTS * settings.crawl.timeout_minutes)
    query = select(CrawlRun.id, CrawlRun.worker, CrawlRun.started_at).where(
        CrawlRun.status == RunStatus.RUNNING.value
    )
    if source_id is not None:
        query = query.where(CrawlRun.source_id == source_id)
    closed = 0
    for run_id, worker, started_at in session.execute(query).all():
        if is_dead(worker):
            error = f"the crawling process ({worker}) died before finishing"
        elif not on_this_host(worker) and now - started_at > remote_limit:
            hours = remote_limit.total_seconds() / 3600
            error = (
                f"the crawling process ({worker or 'not recorded'}) did not finish within"
                f" {hours:g} hours; taken as dead"
            )
        else:
            continue
        # Only while still running: the run's own process may finish it at this moment.
        result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(CrawlRun)
            .where(CrawlRun.id == run_id, CrawlRun.status == RunStatus.RUNNING.value)
            .values(status=RunStatus.INTERRUPTED.value, finished_at=now, error=error)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:
            closed += 1
            log.warning("crawl run %d closed as interrupted: %s", run_id, error)
    return closed


def runs_of_cycle(session: Session, cycle_id: str) -> list[CrawlRun]:
    """The runs one crawl (or import) filed under its cycle id, in the order they opened."""
    return list(
        session.scalars(select(CrawlRun).where(CrawlRun.cycle_id == cycle_id).order_by(CrawlRun.id))
    )


def _get(session: Session, run_id: int) -> CrawlRun:
    run = session.get(CrawlRun, run_id)
    if run is None:
        raise LookupError(f"no crawl run {run_id}")
    return run


def _write_counts(run: CrawlRun, counts: RunCounts) -> None:
    run.fetched = counts.fetched
    run.found = counts.found
    run.stored = counts.stored
    run.skipped = counts.skipped
    run.failed = counts.failed
