"""The `yuqing` command line. Settings are loaded once, by the application's callback, and
passed to what runs; each module below adds one group of commands."""

from __future__ import annotations

from importlib import import_module

import typer

from responder import clock
from responder.cli.app import app
from responder.db import MigrationError

# Importing a module registers its commands; this order is the order of `yuqing --help`.
COMMAND_MODULES = (
    "running",
    "sources",
    "registration",
    "judgements",
    "duty",
    "incidents",
    "notices",
    "reports",
    "users",
    "status",
    "backup",
    "purge",
    "privacy",
)
for _name in COMMAND_MODULES:
    import_module(f"responder.cli.{_name}")

__all__ = ["app", "main"]


def main() -> None:
    clock.follow_environment()
    try:
        app()
    except MigrationError as exc:
        # Every command migrates when it opens the database; one line says what to do.
        typer.echo(f"database error: {exc}", err=True)
        raise SystemExit(2) from None
