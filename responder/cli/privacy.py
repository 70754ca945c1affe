"""`yuqing privacy mask-stored`: mask personal identifiers in mentions stored earlier."""

from __future__ import annotations

import typer

from responder.cli.app import app, settings_of
from responder.db import Database
from responder.intake.privacy import mask_stored

privacy_app = typer.Typer(help="Personal identifiers in stored mentions", no_args_is_help=True)
app.add_typer(privacy_app, name="privacy")


@privacy_app.command("mask-stored")
def mask_stored_command(ctx: typer.Context) -> None:
    """Mask identifiers in mentions stored before masking was on (see [privacy])."""

    settings = settings_of(ctx)
    db = Database(settings)
    try:
        with db.transaction() as session:
            changed = mask_stored(session, settings.privacy)
    finally:
        db.dispose()
    typer.echo(f"已脱敏 {changed} 条信息", err=True)
