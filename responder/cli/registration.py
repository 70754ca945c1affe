"""`yuqing add`: record a mention received by phone, a visit or the mailbox from the command
line, as the web page 登记舆情 does (responder/intake/registration.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from responder.cli.app import app, settings_of
from responder.db import Database
from responder.intake.attachments import Upload, byte_limit
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
    attach: Annotated[
        list[Path] | None,
        typer.Option(
            "--attach",
            help="a file to attach: a photo or scan (JPG, PNG, GIF, WEBP, PDF) or a recording"
            " (MP3, M4A, WAV, AMR, OGG); repeat for more",
        ),
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
    try:
        uploads = tuple(
            _read(path, byte_limit(settings.limits.attachment_mb)) for path in attach or []
        )
    except OSError as exc:
        typer.echo(f"error: cannot read {exc.filename}: {exc.strerror}; nothing stored", err=True)
        raise typer.Exit(2) from None
    body = text if text is not None else sys.stdin.read()
    db = Database(settings)
    try:
        with db.transaction() as session:
            done = register(
                session,
                settings,
                Registration(
                    channel=channel,
                    text=body,
                    who=who,
                    time=time,
                    title=title,
                    attachments=uploads,
                ),
                by.strip(),
            )
    except RegistrationError as exc:
        typer.echo(f"error: {exc.english}; nothing stored", err=True)
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    files = f", {done.attached} attachment(s) added" if done.attached else ""
    if done.duplicate:
        typer.echo(f"already stored as mention {done.mention_id}; nothing new stored{files}")
    else:
        typer.echo(f"stored mention {done.mention_id}{files}; the next cycle judges and triages it")


def _read(path: Path, limit: int) -> Upload:
    """The file's name and its bytes, at most one past the limit (enough to refuse it)."""
    with path.open("rb") as handle:
        return Upload(path.name, handle.read(limit + 1))
