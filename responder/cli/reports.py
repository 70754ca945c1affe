"""The daily and weekly reports on demand."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from responder import clock
from responder.cli.app import app, settings_of
from responder.db import Database

report_app = typer.Typer(
    help="The daily (舆情日报) and weekly (舆情周报) reports: write one as HTML or email it",
    no_args_is_help=True,
)
app.add_typer(report_app, name="report")

ReportDate = Annotated[
    str | None,
    typer.Option("--date", help="the issue date, YYYY-MM-DD (default: the newest one due)"),
]
ReportOutput = Annotated[
    Path | None,
    typer.Option("--output", help="HTML file (default without --send: <data>/reports/)"),
]
ReportSend = Annotated[
    bool,
    typer.Option("--send", help="email it to that day's duty officer and recipients.reports"),
]


@report_app.command("daily")
def report_daily(
    ctx: typer.Context,
    date: ReportDate = None,
    output: ReportOutput = None,
    send: ReportSend = False,
) -> None:
    """The daily report issued on --date: the 24 hours before reports.daily_time that day."""
    _report(ctx, "daily", date, output, send)


@report_app.command("weekly")
def report_weekly(
    ctx: typer.Context,
    date: ReportDate = None,
    output: ReportOutput = None,
    send: ReportSend = False,
) -> None:
    """The weekly report issued on --date: the 7 days before reports.weekly_time that day."""
    _report(ctx, "weekly", date, output, send)


def _report(
    ctx: typer.Context, kind: str, when: str | None, output: Path | None, send: bool
) -> None:

    # Lazy: reports load matplotlib (about a second); only report commands need it.
    from responder.reports.build import gather, latest_issue, write_html

    # Lazy: reports load matplotlib (about a second); only report commands need it.
    from responder.reports.delivery import deliver

    settings = settings_of(ctx)
    now = clock.now()
    if when is None:
        issued = latest_issue(settings, kind, now)
    else:
        try:
            issued = date.fromisoformat(when)
        except ValueError:
            typer.echo(
                f"error: --date {when!r}: 不是有效日期，应为 YYYY-MM-DD，如 2026-11-23", err=True
            )
            raise typer.Exit(2) from None
        if issued > now.astimezone(settings.tz).date():
            typer.echo(f"error: --date {issued}: 日期在将来，还没有这期报告", err=True)
            raise typer.Exit(2)
    title = "舆情日报" if kind == "daily" else "舆情周报"
    db = Database(settings)
    try:
        with db.sessions() as session:
            report = gather(session, settings, kind, issued, now)
        typer.echo(
            f"{issued} {title}：信息 {report.total} 条，负面 {report.negative} 条，"
            f"需关注事件 {len(report.attention) + report.more_attention} 起",
            err=True,
        )
        if output is not None or not send:
            path = output or settings.data_dir / "reports" / f"{kind}-{issued}.html"
            try:
                write_html(report, path)
            except OSError as exc:
                typer.echo(f"error: cannot write {path}: {exc}", err=True)
                raise typer.Exit(1) from None
            typer.echo(f"已写入 {path}", err=True)
        if send:
            delivery = deliver(db, settings, report)
            if delivery.enqueued:
                typer.echo(f"已加入发件箱：{'、'.join(delivery.enqueued)}", err=True)
            if delivery.already:
                typer.echo(f"此前已加入发件箱，不再重复：{'、'.join(delivery.already)}", err=True)
            sent = delivery.sent
            typer.echo(
                f"本次送出 {sent.sent} 封"
                + (f"，{sent.deferred} 封暂未送达，调度器将自动重试" if sent.deferred else ""),
                err=True,
            )
    finally:
        db.dispose()
