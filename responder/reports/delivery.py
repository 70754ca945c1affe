"""Sending the daily and weekly reports: to whom, once per report and address, and when.

The duty officer of the issue date and the leads of `recipients.reports` get the report as an
HTML email with the charts inline (and as text to their group robot); the scheduler sends it
at `reports.daily_time` / `reports.weekly_day` + `weekly_time`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.orm import Session

from responder import clock
from responder.db import Database
from responder.delivery.outbox import SendResult, drain, enqueue_for_person
from responder.notices.duty import on_duty
from responder.reports.build import (
    Report,
    chart_images,
    gather,
    latest_issue,
    render_html,
    render_text,
    report_time,
)
from responder.settings import Recipient, Settings

log = logging.getLogger(__name__)


@dataclass
class Delivery:
    enqueued: list[str]  # names of the people newly sent the report
    already: list[str]  # names of people who had it already
    sent: SendResult


def recipients(session: Session, settings: Settings, issued: date) -> list[Recipient]:
    """The duty officer of the issue date, then the leads of `recipients.reports`."""
    people: list[Recipient] = []
    duty = on_duty(session, settings, issued)
    for person in ([duty] if duty else []) + list(settings.recipients.reports):
        if person.email not in {p.email for p in people}:
            people.append(person)
    return people


def deliver(db: Database, settings: Settings, report: Report) -> Delivery:
    """Email the report to its recipients once (the dedupe key names the report and the
    address), then deliver the outbox at once rather than at the next cycle."""
    subject, body = render_text(report)
    issued = report.period.issued.isoformat()
    pngs = chart_images(report)
    cids = {name: f"{report.kind}-{issued}-{name}" for name in pngs}
    html = render_html(report, {name: f"cid:{cid}" for name, cid in cids.items()})
    images = {cids[name]: png for name, png in pngs.items()}
    enqueued: list[str] = []
    already: list[str] = []
    with db.transaction() as session:
        people = recipients(session, settings, report.period.issued)
        if not people:
            log.warning(
                "%s report %s: nobody on duty and no report recipients", report.kind, issued
            )
        for person in people:
            key = f"report:{report.kind}:{issued}:{person.email}"
            added = enqueue_for_person(
                session,
                person,
                key,
                subject,
                body,
                f"{report.kind}_report",
                html=html,
                images=images,
            )
            (enqueued if added else already).append(person.name)
    sent = drain(db.sessions, settings.mail, webhooks=settings.webhooks)
    return Delivery(enqueued, already, sent)


def send_report(
    db: Database, settings: Settings, kind: str, now: datetime | None = None
) -> Delivery:
    """The scheduled job: the newest report of this kind that is due, sent once."""
    now = now or clock.now()
    issued = latest_issue(settings, kind, now)
    with db.sessions() as session:
        report = gather(session, settings, kind, issued, now)
    delivery = deliver(db, settings, report)
    log.info(
        "%s report %s: sent to %s; %d delivered",
        kind,
        issued,
        ", ".join(delivery.enqueued) or "nobody new",
        delivery.sent.sent,
    )
    return delivery


def send_daily(db: Database, settings: Settings, now: datetime | None = None) -> Delivery:
    return send_report(db, settings, "daily", now)


def send_weekly(db: Database, settings: Settings, now: datetime | None = None) -> Delivery:
    return send_report(db, settings, "weekly", now)


def add_report_jobs(scheduler: BaseScheduler, settings: Settings, db: Database) -> None:
    """Schedule the enabled reports at their local times. A run missed by up to an hour (the
    process was busy or restarting) still goes out; the dedupe keys keep it to one."""
    tz = settings.tz
    jobs = [
        ("daily", send_daily, settings.reports.daily, "*"),
        ("weekly", send_weekly, settings.reports.weekly, settings.reports.weekly_day),
    ]
    for kind, job, enabled, weekday in jobs:
        if not enabled:
            continue
        at = report_time(settings, kind)
        scheduler.add_job(
            job,
            CronTrigger(day_of_week=weekday, hour=at.hour, minute=at.minute, timezone=tz),
            args=(db, settings),
            id=f"report:{kind}",
            name=f"{kind} report",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,
        )
