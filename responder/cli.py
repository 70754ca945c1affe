"""The `yuqing` command line. Settings are loaded once here and passed to what runs."""

from __future__ import annotations

import json
import logging
import sys
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from responder.settings import ConfigError, Settings, load_settings

app = typer.Typer(
    help="yuqing — public-opinion monitoring and response for statistics bureaus",
    no_args_is_help=True,
    add_completion=False,
)
export_app = typer.Typer(help="Export stored data", no_args_is_help=True)
app.add_typer(export_app, name="export")
duty_app = typer.Typer(help="The rotating duty (轮值): who is on duty, handover notes")
app.add_typer(duty_app, name="duty")


def settings_of(ctx: typer.Context) -> Settings:
    return ctx.obj  # type: ignore[no-any-return]


@app.callback()
def main_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Option("--config", help="configuration directory (also YUQING_CONFIG)")
    ] = None,
) -> None:
    try:
        settings = load_settings(config)
    except ConfigError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(2) from None
    logging.basicConfig(
        level=settings.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Alembic reports every plugin and context at INFO on each start; only problems matter.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.root.level))
    ctx.obj = settings


@app.command()
def demo(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="run one cycle and exit")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Run yuqing on the bundled demo world with a local mail sink and the web UI."""
    from responder.demo.run import Demo

    with Demo(settings_of(ctx)) as running:
        if once:
            summary = running.once()
            typer.echo(
                json.dumps(summary.to_dict(), ensure_ascii=False)
                if as_json
                else _describe(summary.to_dict())
            )
            return
        try:
            running.serve()
        except KeyboardInterrupt:
            pass


def _describe(summary: dict[str, Any]) -> str:
    levels = "，".join(f"{k}级 {v}" for k, v in summary["incidents"].items())
    return (
        f"信息 {summary['mentions']} 条（本次新增 {summary['new_mentions']}），事件：{levels}，"
        f"草稿 {summary['drafts']} 份，发送邮件 {summary['emails_sent']} 封"
    )


@app.command()
def cycle(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Run one crawl → classify → incidents → drafts → notices cycle on the configured sources."""
    from responder.cycle import CrawlFailed, Cycle
    from responder.db import Database

    settings = settings_of(ctx)
    try:
        summary = Cycle(settings, Database(settings)).run()
    except CrawlFailed as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        json.dumps(summary.to_dict(), ensure_ascii=False)
        if as_json
        else _describe(summary.to_dict())
    )


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
    import uuid

    from responder.cycle import CrawlFailed, crawl_subprocess

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
    try:
        crawl_subprocess(settings, cycle_id, source or [], extra)
    except CrawlFailed as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if not worker:  # a worker's runs are filed under its round, summed up by `yuqing sources`
        _print_crawl_runs(settings, cycle_id)


def _print_crawl_runs(settings: Settings, cycle_id: str) -> None:
    from sqlalchemy import select

    from responder.db import Database
    from responder.models import CrawlRun

    db = Database(settings)
    with db.sessions() as session:
        runs = session.scalars(
            select(CrawlRun).where(CrawlRun.cycle_id == cycle_id).order_by(CrawlRun.id)
        ).all()
        for run in runs:
            typer.echo(
                f"{run.source.name}：{STATUS_LABELS.get(run.status, run.status)}，"
                f"请求 {run.fetched}，发现 {run.found}，入库 {run.stored}，"
                f"跳过 {run.skipped}，错误 {run.failed}"
            )
            if run.error and run.status != "ok":
                typer.echo(f"  {run.error.splitlines()[0]}")
    db.dispose()


STATUS_LABELS = {"ok": "正常", "empty": "无结果", "failed": "失败", "never": "未抓取"}


@app.command()
def sources(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Print every source's health: last run, what it fetched, found, stored and failed.

    Exits with status 1 when a source has failed or found nothing for `alert_after_runs` runs.
    """
    from rich.console import Console
    from rich.table import Table

    from responder.db import Database
    from responder.health import source_health
    from responder.rendering import local_time

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


@app.command()
def run(ctx: typer.Context) -> None:
    """Run the scheduler and the web UI until stopped (production)."""
    import uvicorn

    from responder.cycle import Cycle
    from responder.db import Database
    from responder.scheduler import build_scheduler
    from responder.web import create_app

    settings = settings_of(ctx)
    db = Database(settings)
    scheduler = build_scheduler(settings, Cycle(settings, db))
    scheduler.start()
    try:
        uvicorn.run(create_app(settings, db), host=settings.web.host, port=settings.web.port)
    finally:
        scheduler.shutdown()


@app.command()
def web(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="listen address")] = None,
    port: Annotated[int | None, typer.Option(help="listen port")] = None,
) -> None:
    """Serve the web UI."""
    import uvicorn

    from responder.web import create_app

    settings = settings_of(ctx)
    uvicorn.run(
        create_app(settings), host=host or settings.web.host, port=port or settings.web.port
    )


@app.command()
def classify(
    ctx: typer.Context,
    input: Annotated[
        Path | None, typer.Option("--input", help="JSONL file (default stdin)")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="JSONL file (default stdout)")
    ] = None,
) -> None:
    """Add sentiment, category and misinformation judgements to JSONL objects with `text`."""
    from responder.classify import build_classifier

    classifier = _or_exit(lambda: build_classifier(settings_of(ctx)))
    source = _open_or_exit(input, "r") if input else sys.stdin
    sink = _open_or_exit(output, "w") if output else sys.stdout
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        judgements = classifier.classify_many([(obj.get("title"), obj["text"]) for obj in batch])
        for obj, judgement in zip(batch, judgements, strict=True):
            obj.update(judgement.to_dict())
            obj.pop("backend", None)
            sink.write(json.dumps(obj, ensure_ascii=False) + "\n")
        batch.clear()

    try:
        for number, line in enumerate(source, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
                    raise TypeError("no string field text")
            except (json.JSONDecodeError, TypeError) as exc:
                typer.echo(f"line {number}: skipped, not a JSON object with text: {exc}", err=True)
                continue
            batch.append(obj)
            if len(batch) == CLASSIFY_BATCH:
                flush()
        if batch:
            flush()
    finally:
        if input:
            source.close()
        if output:
            sink.close()


CLASSIFY_BATCH = 512  # lines judged together: batching is what makes the linear model fast


def _or_exit(make: Any) -> Any:
    """Run `make`; a model or data problem is reported in one line and exits with status 2."""
    from nlp import ModelError

    try:
        return make()
    except (ModelError, ValueError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def _open_or_exit(path: Path, mode: str) -> Any:
    return _or_exit(lambda: path.open(mode, encoding="utf-8"))


class TrainBackend(StrEnum):
    linear = "linear"
    transformers = "transformers"


@app.command()
def train(
    ctx: typer.Context,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="labelled JSONL; without it, rebuild the shipped model"),
    ] = None,
    field: Annotated[
        list[str] | None,
        typer.Option("--field", help="sentiment, category, misinfo or label (repeatable)"),
    ] = None,
    backend: Annotated[TrainBackend, typer.Option("--backend")] = TrainBackend.linear,
    base_model: Annotated[
        Path | None, typer.Option("--base-model", help="transformers: model directory to tune")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="model directory (default <data>/models/)")
    ] = None,
    holdout: Annotated[
        float, typer.Option("--holdout", help="share of rows kept out to score the model")
    ] = 0.15,
    with_corpus: Annotated[
        bool, typer.Option("--with-corpus", help="add the shipped corpus to the data")
    ] = False,
    epochs: Annotated[int, typer.Option("--epochs", help="transformers: passes")] = 3,
    features: Annotated[
        str,
        typer.Option(
            "--features",
            help="linear: chars, chars-nb or chars-words; auto tries each on the held-out rows",
        ),
    ] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Train a sentiment/category/rumour model and save it with a model card."""
    from responder.training import train_file, train_shipped

    settings = settings_of(ctx)
    if data is None:
        if field or backend is not TrainBackend.linear or base_model or with_corpus:
            typer.echo("error: without --data only the shipped linear model is trained", err=True)
            raise typer.Exit(2)
        result = _or_exit(lambda: train_shipped(settings))
        scored_on = "the corpus's held-out domain test set"
    else:
        result = _or_exit(
            lambda: train_file(
                settings,
                data,
                field or [],
                backend=backend.value,
                base_model=base_model,
                output=output,
                holdout=holdout,
                with_corpus=with_corpus,
                epochs=epochs,
                features=features,
                progress=lambda message: typer.echo(message, err=True),
            )
        )
        scored_on = f"a held-out {holdout:.0%} of the data"
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    typer.echo(f"model saved to {result.model_dir} ({result.rows} rows, {result.backend})")
    for name, metrics in result.metrics.items():
        typer.echo(
            f"  {name}: macro-F1 {metrics['macro_f1']:.3f}, accuracy {metrics['accuracy']:.3f}"
            f" on {scored_on} ({metrics['n']} rows)"
        )
    for hint in result.hints:
        typer.echo(f"  to use it: {hint}")


@app.command("eval")
def evaluate(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="JSONL with sentiment/category/misinfo/label")],
    model: Annotated[
        Path | None, typer.Option("--model", help="model directory that judges its own fields")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Score the classifier (or --model) against the labels in a JSONL file."""
    from nlp.evaluation import format_report
    from responder.evaluation import evaluate_file

    def progress(done: int, total: int) -> None:
        if total > 5000:
            typer.echo(f"{done}/{total}", err=True)

    report = _or_exit(lambda: evaluate_file(settings_of(ctx), file, model, progress))
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
        return
    typer.echo(f"{report['file']}: {report['rows']} rows\n")
    for name, result in report["fields"].items():
        typer.echo(f"[{name}] judged by {result['judged_by']}")
        typer.echo(format_report({name: result}))
    for name, why in report["skipped"].items():
        typer.echo(f"[{name}] not scored: {why}")


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
    from responder.db import Database
    from responder.export import mention_rows, write_csv, write_jsonl

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
    from responder.db import Database
    from responder.export import correction_rows, write_jsonl

    db = Database(settings_of(ctx))
    with db.sessions() as session:
        if output:
            with output.open("w", encoding="utf-8") as out:
                count = write_jsonl(correction_rows(session), out)
            typer.echo(f"{count} corrected mentions written to {output}", err=True)
        else:
            write_jsonl(correction_rows(session), sys.stdout)


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
    import getpass

    from responder.classify import build_classifier
    from responder.db import Database
    from responder.importing import UnusableInput, import_table, open_file, parse_mapping

    settings = settings_of(ctx)
    try:
        # Read the header before loading the model, so a wrong mapping is reported at once.
        table = open_file(file, format, parse_mapping(mapping or []), sheet)
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
            classifier=classifier,
            actor=actor,
            say=lambda message: typer.echo(message, err=True),
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
    from responder.db import Database
    from responder.duty import last_handover, schedule
    from responder.models import utcnow

    settings = settings_of(ctx)
    today = utcnow().astimezone(settings.tz).date()
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
    from responder.db import Database
    from responder.duty import on_duty, record_handover
    from responder.models import utcnow

    settings = settings_of(ctx)
    today = utcnow().astimezone(settings.tz).date()
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


@app.command("migrate")
def migrate(ctx: typer.Context) -> None:
    """Bring the database schema up to date."""
    from responder.db import Database

    Database(settings_of(ctx)).dispose()
    typer.echo("database is up to date", err=True)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
