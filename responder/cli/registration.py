"""`yuqing add`: record a mention received by phone, a visit or the mailbox from the command
line, as the web page 登记舆情 does (responder/intake/registration.py)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from responder.cli.app import app, settings_of
from responder.db import Database
from responder.intake.registration import Registration, RegistrationError, register


@app.command("add")
def add_mention(
    ctx: typer.Context,
    channel: Annotated[
        str, typer.Option("--channel", help="phone, visit, mailbox or other")
    ] = "phone",
    by: Annotated[
        str, typer.Option("--by", help="the account recording it (duty, press or admin)")
    ] = "",
    who: Annotated[str, typer.Option("--who", help="the caller, visitor or outlet")] = "",
    time: Annotated[
        str, typer.Option("--time", help="when it was received, office time (default: now)")
    ] = "",
    title: Annotated[str, typer.Option("--title", help="a title (optional)")] = "",
    text: Annotated[
        str | None, typer.Option("--text", help="what was said (default: read from stdin)")
    ] = None,
) -> None:
    """Record a mention received by phone, visit or mail; the next cycle judges it."""

    settings = settings_of(ctx)
    if not by.strip():
        typer.echo(
            "error: --by NAME is required (the account recording the mention); nothing stored",
            err=True,
        )
        raise typer.Exit(2)
    body = text if text is not None else sys.stdin.read()
    db = Database(settings)
    try:
        with db.transaction() as session:
            done = register(
                session,
                settings,
                Registration(channel=channel, text=body, who=who, time=time, title=title),
                by.strip(),
            )
    except RegistrationError as exc:
        typer.echo(f"error: {exc.english}; nothing stored", err=True)
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    if done.duplicate:
        typer.echo(f"already stored as mention {done.mention_id}; nothing new stored")
    else:
        typer.echo(f"stored mention {done.mention_id}; the next cycle judges and triages it")
