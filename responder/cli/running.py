"""Running yuqing: the demo, one cycle, the scheduler with the web UI, the web UI alone,
and schema migration."""

from __future__ import annotations

import json
from typing import Annotated, Any, NoReturn

import typer

from responder.cli.app import app, settings_of
from responder.db import Database
from responder.running.startup import (
    Listener,
    StartupProblem,
    check_database,
    check_font,
    check_ports,
    check_smtp,
    demo_listeners,
    explain_bind_error,
    web_listener,
)
from responder.settings import Settings


def _start_or_exit(
    listeners: list[Listener],
    settings: Settings,
    charts: bool = True,
    mail: bool = False,
) -> None:
    """Stop here, with one line saying what to change, when a port is taken or the database
    does not answer (exit status 2); warn when the mail server does not (mail waits)."""
    try:
        check_ports(listeners)
        check_database(settings)
    except StartupProblem as exc:
        _exit(exc)
    if mail:
        check_smtp(settings)
    if charts:
        check_font()


def _exit(problem: StartupProblem) -> NoReturn:
    typer.echo(str(problem), err=True)
    raise typer.Exit(2)


def _with_port(settings: Settings, port: int | None) -> Settings:
    if port is None:
        return settings
    return settings.model_copy(update={"web": settings.web.model_copy(update={"port": port})})


@app.command()
def demo(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="run one cycle and exit")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    port: Annotated[int | None, typer.Option(help="web UI port (also YUQING_WEB__PORT)")] = None,
) -> None:
    """Run yuqing on the bundled demo world with a local mail sink and the web UI."""
    # Lazy: the demo world loads the web app and the crawler's test servers.
    from responder.demo.run import Demo

    settings = _with_port(settings_of(ctx), port)
    listeners = demo_listeners(settings)
    if not once:
        listeners.append(web_listener(settings.web.host, settings.web.port))
    # The demo's mail sink is its own and starts with it: no SMTP server to check.
    _start_or_exit(listeners, settings, charts=not once)
    try:
        demo = Demo(settings)  # the demo news site takes its port here
    except OSError as exc:
        problem = explain_bind_error(exc, listeners)
        if problem is None:
            raise
        _exit(problem)
    with demo as running:
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
    # Lazy: the cycle loads the classifier and the scheduler; only running commands need them.
    from responder.running.cycle import CrawlFailed, Cycle

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
def run(ctx: typer.Context) -> None:
    """Run the scheduler and the web UI until stopped (production)."""
    # Lazy: the server loads only for the commands that serve.
    import uvicorn

    # Lazy: the cycle loads the classifier and the scheduler; only running commands need them.
    from responder.running.cycle import Cycle

    # Lazy: the cycle loads the classifier and the scheduler; only running commands need them.
    from responder.running.scheduler import build_scheduler

    # Lazy: the web app (Starlette, templates, charts) loads only for the commands that serve it.
    from responder.web import create_app

    settings = settings_of(ctx)
    _start_or_exit(
        [web_listener(settings.web.host, settings.web.port, option=False)], settings, mail=True
    )
    db = Database(settings)
    scheduler = build_scheduler(settings, Cycle(settings, db))
    scheduler.start()
    try:
        # log_config=None: uvicorn's records go through yuqing's handler (text or JSON).
        uvicorn.run(
            create_app(settings, db),
            host=settings.web.host,
            port=settings.web.port,
            log_config=None,
        )
    finally:
        scheduler.shutdown()


@app.command()
def web(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="listen address")] = None,
    port: Annotated[int | None, typer.Option(help="listen port")] = None,
) -> None:
    """Serve the web UI."""
    # Lazy: the server loads only for the commands that serve.
    import uvicorn

    # Lazy: the web app (Starlette, templates, charts) loads only for the commands that serve it.
    from responder.web import create_app

    settings = settings_of(ctx)
    host, port = host or settings.web.host, port or settings.web.port
    _start_or_exit([web_listener(host, port)], settings)
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,
    )


@app.command("migrate")
def migrate(ctx: typer.Context) -> None:
    """Bring the database schema up to date."""

    Database(settings_of(ctx)).dispose()
    typer.echo("database is up to date", err=True)
