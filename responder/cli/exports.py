"""Exports: stored mentions with their judgements, and the judgements people corrected."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from responder.cli.app import app, settings_of
from responder.db import Database
from responder.intake.export import correction_rows, mention_rows, write_csv, write_jsonl

export_app = typer.Typer(help="Export stored data", no_args_is_help=True)
app.add_typer(export_app, name="export")


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


@export_app.command("mentions")
def export_mentions(
    ctx: typer.Context,
    format: Annotated[ExportFormat, typer.Option("--format")] = ExportFormat.jsonl,
    output: Annotated[Path | None, typer.Option("--output", help="file (default stdout)")] = None,
) -> None:
    """Write stored mentions with their judgements."""

    db = Database(settings_of(ctx))
    write = write_csv if format is ExportFormat.csv else write_jsonl
    encoding = "utf-8-sig" if format is ExportFormat.csv else "utf-8"
    with db.sessions() as session:
        if output:
            with output.open("w", encoding=encoding, newline="") as out:
                count = write(mention_rows(session), out)
            typer.echo(f"{count} mentions written to {output}", err=True)
        else:
            if format is ExportFormat.csv:
                sys.stdout.write("\ufeff")
            write(mention_rows(session), sys.stdout)


@export_app.command("corrections")
def export_corrections(
    ctx: typer.Context,
    output: Annotated[Path | None, typer.Option("--output", help="file (default stdout)")] = None,
) -> None:
    """Write the judgements people corrected as labelled JSONL for `yuqing train --data`."""

    db = Database(settings_of(ctx))
    with db.sessions() as session:
        if output:
            with output.open("w", encoding="utf-8") as out:
                count = write_jsonl(correction_rows(session), out)
            typer.echo(f"{count} corrected mentions written to {output}", err=True)
        else:
            write_jsonl(correction_rows(session), sys.stdout)
