"""Backing up and restoring the database: `yuqing backup --output FILE`, `yuqing restore FILE`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from responder.cli.app import app, settings_of
from responder.ops.backup import BackupError, backup, restore


@app.command("backup")
def backup_command(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", help="backup file to write")],
) -> None:
    """Back up the database (SQLite: online snapshot; PostgreSQL: pg_dump -Fc) into a file."""

    settings = settings_of(ctx)
    typer.echo(f"正在备份数据库到 {output} …", err=True)
    try:
        result = backup(settings, output)
    except BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"已备份（{result.backend}）：{result.tables} 张表，{result.size} 字节 → {result.path}",
        err=True,
    )


@app.command("restore")
def restore_command(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="backup file made by `yuqing backup`")],
    force: Annotated[
        bool, typer.Option("--force", help="overwrite a database that already holds data")
    ] = False,
) -> None:
    """Restore the database from a backup; stop the scheduler and web app first."""

    settings = settings_of(ctx)
    typer.echo(f"正在从 {source} 恢复数据库 …", err=True)
    try:
        result = restore(settings, source, force=force)
    except BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"已恢复（{result.backend}）：{result.tables} 张表，来自 {result.path}", err=True)
