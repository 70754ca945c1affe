"""`yuqing purge`: remove what is kept only for a while (see responder/ops/retention.py)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from responder import clock
from responder.cli.app import app, settings_of
from responder.db import Database
from responder.ops.retention import purge as run_purge


@app.command()
def purge(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only say what would go")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Purge set-aside page addresses, old report images, old hot-list sightings and pages no
    longer watched; mentions and the trail stay."""

    settings = settings_of(ctx)
    db = Database(settings)
    try:
        with db.transaction() as session:
            summary = run_purge(session, settings, clock.now(), dry_run=dry_run, actor="cli")
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps({"dry_run": dry_run, **summary.to_dict()}))
        return
    verb = "would remove" if dry_run else "removed"
    typer.echo(
        f"{verb}: {summary.seen_pages} set-aside page addresses "
        f"(older than {settings.retention.seen_pages_days:g} days), "
        f"{summary.report_images} report images and {summary.report_html} report HTML bodies "
        f"(sent more than {settings.retention.report_images_days:g} days ago), "
        f"{summary.hot_ranks} hot-list sightings "
        f"(older than {settings.retention.hot_ranks_days:g} days), "
        f"{summary.watched_pages} texts of pages no longer watched"
    )
