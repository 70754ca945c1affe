"""The rotating duty (轮值): who is on duty, handover notes."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated

import typer

from responder import clock
from responder.cli.app import app, settings_of
from responder.db import Database
from responder.notices.duty import last_handover, on_duty, record_handover, schedule

duty_app = typer.Typer(help="The rotating duty (轮值): who is on duty, handover notes")
app.add_typer(duty_app, name="duty")


WEEKDAYS = "一二三四五六日"
DUTY_HOW = {"rotation": "轮值", "override": "调班", "roster": "排班记录"}


@duty_app.callback(invoke_without_command=True)
def duty_show(
    ctx: typer.Context,
    days: Annotated[int, typer.Option("--days", min=1, help="days to show from today")] = 15,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Who is on duty today and on the next 14 days, and the last handover note."""
    if ctx.invoked_subcommand is not None:
        return

    settings = settings_of(ctx)
    today = clock.today(settings.tz)
    db = Database(settings)
    with db.sessions() as session:
        plan = schedule(session, settings, today, days)
        handover = last_handover(session, today + timedelta(days=1))
    db.dispose()
    if as_json:
        rows = [
            {
                "day": d.day.isoformat(),
                "name": d.person.name if d.person else None,
                "phone": d.person.phone if d.person else None,
                "how": d.how,
                "handover_note": d.handover_note,
            }
            for d in plan
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for d in plan:
        who = f"{d.person.name} {d.person.phone}".strip() if d.person else "（无人值班）"
        mark = "今天 " if d.day == today else "     "
        typer.echo(
            f"{mark}{d.day.isoformat()} 周{WEEKDAYS[d.day.weekday()]}  {who}  {DUTY_HOW[d.how]}"
        )
    if handover is not None:
        typer.echo(f"\n交班记录（{handover.day.isoformat()} {handover.person}）：")
        typer.echo(handover.handover_note)


@duty_app.command("handover")
def duty_handover(
    ctx: typer.Context,
    note: Annotated[str, typer.Option("--note", help="what the next officer needs to know")],
    by: Annotated[
        str | None, typer.Option("--by", help="who writes it (default: today's officer)")
    ] = None,
) -> None:
    """Record today's handover note, shown to the next officer and in the daily report."""

    settings = settings_of(ctx)
    today = clock.today(settings.tz)
    db = Database(settings)
    try:
        with db.transaction() as session:
            officer = on_duty(session, settings, today)
            actor = by or (officer.name if officer else "duty")
            record_handover(session, settings, today, note, actor)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    typer.echo(f"{today.isoformat()} 交班记录已保存", err=True)
