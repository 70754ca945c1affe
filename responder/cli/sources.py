"""Collecting mentions: crawl the sources, show their health, import files."""

from __future__ import annotations

import getpass
import json
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from responder.cli.app import _or_exit, app, settings_of
from responder.db import Database
from responder.intake.columns import parse_mapping
from responder.intake.crawl_runs import runs_of_cycle
from responder.intake.importing import import_table
from responder.intake.tables import UnusableInput, open_file
from responder.judging.classifier import build_classifier
from responder.judging.classify import classify_pending
from responder.ops.health import source_health
from responder.rendering import local_time
from responder.settings import Settings


@app.command()
def crawl(
    ctx: typer.Context,
    source: Annotated[list[str] | None, typer.Option(help="only this source")] = None,
    worker: Annotated[
        bool, typer.Option("--worker", help="share the crawl with other workers through Redis")
    ] = False,
    round_id: Annotated[
        str | None,
        typer.Option("--round", help="with --worker: the round to join (default: the open one)"),
    ] = None,
) -> None:
    """Crawl every enabled source once (or only --source NAME) and exit.

    With --worker, crawl as one of several workers, on this host or others, that share one
    request queue and duplicate filter at `crawl.redis_url` (see crawlers/distributed.py).
    """

    # Lazy: the cycle loads the classifier and the scheduler; only running commands need them.
    from responder.running.aftercrawl import after_crawl

    # Lazy: the cycle loads the classifier and the scheduler; only running commands need them.
    from responder.running.cycle import CrawlFailed, crawl_subprocess

    settings = settings_of(ctx)
    extra: list[str] = []
    if round_id and not worker:
        typer.echo("error: --round needs --worker", err=True)
        raise typer.Exit(2)
    if worker:
        if not settings.crawl.redis_url.strip():
            typer.echo(
                "error: crawl.redis_url is empty: --worker needs the Redis server workers share",
                err=True,
            )
            raise typer.Exit(2)
        extra = ["--worker", *(["--round", round_id] if round_id else [])]
    cycle_id = f"manual-{uuid.uuid4().hex[:8]}"
    failed: CrawlFailed | None = None
    try:
        crawl_subprocess(settings, cycle_id, source or [], extra)
    except CrawlFailed as exc:
        failed = exc
        typer.echo(f"error: {exc}", err=True)
    # Also after a crawl that failed or timed out: its runs are closed as interrupted here.
    db = Database(settings)
    try:
        after_crawl(db, settings)
    finally:
        db.dispose()
    if failed is not None:
        raise typer.Exit(1) from None
    if not worker:  # a worker's runs are filed under its round, summed up by `yuqing sources`
        _print_crawl_runs(settings, cycle_id)


def _print_crawl_runs(settings: Settings, cycle_id: str) -> None:
    db = Database(settings)
    with db.sessions() as session:
        for run in runs_of_cycle(session, cycle_id):
            typer.echo(
                f"{run.source.name}：{STATUS_LABELS.get(run.status, run.status)}，"
                f"请求 {run.fetched}，发现 {run.found}，入库 {run.stored}，"
                f"跳过 {run.skipped}，错误 {run.failed}"
            )
            if run.error and run.status != "ok":
                typer.echo(f"  {run.error.splitlines()[0]}")
    db.dispose()


STATUS_LABELS = {
    "ok": "正常",
    "empty": "无结果",
    "failed": "失败",
    "interrupted": "中断",
    "never": "未抓取",
}


@app.command()
def sources(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Print every source's health: last run, what it fetched, found, stored and failed.

    Exits with status 1 when a source has failed or found nothing for `alert_after_runs` runs.
    """

    settings = settings_of(ctx)
    db = Database(settings)
    with db.sessions() as session:
        report = source_health(session, settings)
    db.dispose()
    if as_json:
        typer.echo(json.dumps([h.to_dict() for h in report], ensure_ascii=False, indent=2))
    else:
        table = Table(title="信息源状态", title_justify="left")
        headers = ("信息源", "类型", "计划", "最近抓取", "状态", "请求", "发现", "入库", "错误")
        for header in headers:
            table.add_column(header, no_wrap=True)
        table.add_column("连续异常", justify="right")
        table.add_column("最近入库")
        for h in report:
            status = STATUS_LABELS.get(h.last_status, h.last_status)
            if h.alerting:
                status = f"[bold red]{status}（已告警）[/]"
            table.add_row(
                h.name + ("（停用）" if h.configured and not h.enabled else ""),
                h.kind,
                h.schedule,
                local_time(h.last_run, settings.tz),
                status,
                str(h.fetched),
                str(h.found),
                str(h.stored),
                str(h.failed),
                str(h.bad_streak),
                local_time(h.last_stored, settings.tz),
            )
        Console(width=200).print(table)
        for h in report:
            if h.error and h.last_status != "ok":
                typer.echo(f"{h.name}: {h.error.splitlines()[0]}")
    if any(h.alerting and h.enabled for h in report):
        raise typer.Exit(1)


@app.command("import")
def import_mentions(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="JSONL, CSV or XLSX of mentions")],
    format: Annotated[
        str | None, typer.Option("--format", help="jsonl, csv or xlsx (default: by extension)")
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="COLUMN=FIELD: read FIELD (url, text, ...) from COLUMN"),
    ] = None,
    sheet: Annotated[str | None, typer.Option("--sheet", help="xlsx: sheet to read")] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="source name (default 导入:<file name>)")
    ] = None,
    keep_all: Annotated[
        bool, typer.Option("--all", help="store every row, relevant to the office or not")
    ] = False,
    no_classify: Annotated[
        bool, typer.Option("--no-classify", help="leave judging to the next cycle")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Import mentions handed over by people: other platforms' exports, the upper office's lists."""

    settings = settings_of(ctx)
    try:
        # Read the header before loading the model, so a wrong mapping is reported at once.
        table = open_file(file, format, parse_mapping(mapping or []), sheet, settings.limits)
    except UnusableInput as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    classifier = None if no_classify else _or_exit(lambda: build_classifier(settings))
    try:
        actor = getpass.getuser()
    except (OSError, KeyError):
        actor = "cli"
    db = Database(settings)
    try:
        summary = import_table(
            settings,
            db,
            table,
            source_name=source,
            relevance=not keep_all,
            actor=actor,
            say=lambda message: typer.echo(message, err=True),
        )
        # Judging is the next stage's work: the imported mentions are classified here, as the
        # cycle would, so the summary can say how many were.
        if classifier is not None and summary.stored:
            with db.transaction() as session:
                summary.classified = classify_pending(
                    session, classifier, settings.nlp.batch_size, settings.limits.field_chars
                )
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), ensure_ascii=False))
        return
    read_as = f"{summary.format}, {summary.encoding}" if summary.encoding else summary.format
    typer.echo(
        f"{summary.file} ({read_as}): {summary.read} rows read, {summary.stored} stored,"
        f" {summary.duplicates} duplicates, {summary.not_relevant} not relevant,"
        f" {summary.bad_rows} bad rows; {summary.classified} classified;"
        f" source {summary.source}, run {summary.cycle_id}"
    )
