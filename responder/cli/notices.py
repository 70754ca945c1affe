"""Notices about incidents: deliver them, list them, acknowledge one."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from responder import clock
from responder.accounts import ACKNOWLEDGE
from responder.cli.app import app, settings_of
from responder.cli.roles import require_account
from responder.db import Database
from responder.delivery.outbox import drain
from responder.labels import label
from responder.models import Notice
from responder.notices.acks import acknowledge
from responder.notices.escalation import notify_all
from responder.notices.record import recent_notices
from responder.rendering import local_time


@app.command()
def send(ctx: typer.Context) -> None:
    """Open due notices, repeat or escalate unacknowledged ones, and deliver the outbox once."""

    settings = settings_of(ctx)
    db = Database(settings)
    try:
        with db.transaction() as session:
            notify_all(session, settings, clock.now())
        result = drain(db.sessions, settings.mail, webhooks=settings.webhooks)
    finally:
        db.dispose()
    typer.echo(f"sent {result.sent}, deferred {result.deferred}, failed {result.failed}", err=True)


@app.command("notices")
def list_notices(
    ctx: typer.Context,
    waiting: Annotated[
        bool, typer.Option("--waiting", help="only notices still waiting to be acknowledged")
    ] = False,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Notices sent about incidents, newest first, with who acknowledged them."""

    settings = settings_of(ctx)
    db = Database(settings)
    with db.sessions() as session:
        rows: list[dict[str, Any]] = [
            {
                "id": n.id,
                "incident": n.incident_id,
                "title": n.incident.title,
                "stage": n.stage,
                "level": n.level,
                "step": n.step,
                "sent_at": local_time(n.created_at, settings.tz),
                "acknowledged_by": n.acknowledged_by,
                "acknowledged_at": local_time(n.acknowledged_at, settings.tz) or None,
                "next_step_at": local_time(n.next_step_at, settings.tz) or None,
            }
            for n in recent_notices(session, limit, waiting)
        ]
    db.dispose()
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        if r["acknowledged_by"]:
            state = f"{r['acknowledged_by']} 于 {r['acknowledged_at']} 确认"
        elif r["next_step_at"]:
            state = f"待确认，下一步 {r['next_step_at']}"
        else:
            state = "未确认" if r["stage"] != "final" else ""
        typer.echo(
            f"#{r['id']:<5} {r['sent_at']}  事件#{r['incident']} {label('stages', r['stage'])}"
            f" {label('levels', r['level'])}  第{r['step'] + 1}步  {state}  {r['title']}"
        )


@app.command("ack")
def ack_notice(
    ctx: typer.Context,
    notice_id: Annotated[int, typer.Argument(help="the notice's number (yuqing notices)")],
    by: Annotated[str, typer.Option("--by", help="who acknowledges it")],
) -> None:
    """Acknowledge a notice (e.g. one confirmed by phone): its repeats and escalation stop."""

    settings = settings_of(ctx)
    if not by.strip():
        typer.echo("error: --by must name who acknowledges the notice", err=True)
        raise typer.Exit(2)
    db = Database(settings)
    try:
        with db.transaction() as session:
            notice = session.get(Notice, notice_id)
            if notice is None:
                typer.echo(f"error: there is no notice #{notice_id}", err=True)
                raise typer.Exit(2)
            require_account(session, by.strip(), ACKNOWLEDGE, "acknowledge notices")
            if not acknowledge(session, notice, by.strip(), clock.now(), via="cli"):
                typer.echo(
                    f"notice #{notice_id} was acknowledged already by {notice.acknowledged_by}",
                    err=True,
                )
                return
    finally:
        db.dispose()
    typer.echo(f"notice #{notice_id} acknowledged by {by.strip()}", err=True)
