"""The `yuqing` command line. Settings are loaded once, by the application's callback, and
passed to what runs; each module of this package adds one group of commands, imported when one
of its commands runs (see `responder.cli.app.LazyCommands`)."""

from __future__ import annotations

import typer

from responder import clock
from responder.cli.app import app
from responder.errors import MigrationError

__all__ = ["app", "main"]


def main() -> None:
    clock.follow_environment()
    try:
        app()
    except MigrationError as exc:
        # Every command migrates when it opens the database; one line says what to do.
        typer.echo(f"database error: {exc}", err=True)
        raise SystemExit(2) from None
