"""A person's decisions on incidents: list, show, merge, split, level, close, reopen."""

from __future__ import annotations

import getpass
import json
import re
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from responder import clock
from responder.accounts import DECIDE_INCIDENTS
from responder.cli import incident_show as show
from responder.cli.app import app, settings_of
from responder.cli.roles import require_account
from responder.db import Database
from responder.incidents import views
from responder.incidents.actions import (
    IncidentActionError,
    close,
    merge,
    override_level,
    reopen,
    split,
)
from responder.incidents.views import level_of
from responder.labels import label
from responder.notices.follow import SOON, follow_change
from responder.rendering import local_time
from responder.settings import Settings
from responder.statuses import IncidentStatus

incident_app = typer.Typer(
    help="Incidents (舆情事件): list and show them; merge, split, set the level, close, reopen",
    no_args_is_help=True,
)
app.add_typer(incident_app, name="incident")


def _actor(by: str | None) -> str:
    """Who made a decision: --by, else the login name."""

    if by is not None:
        return by
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "cli"


def _decide(ctx: typer.Context, by: str | None, decide: Any) -> None:
    """Run `decide(session, settings, actor)` in one transaction; a refused decision changes
    nothing and exits with status 2. The actor (--by, else the login name) must be an enabled
    account whose role may decide on incidents."""

    actor = _actor(by)
    settings = settings_of(ctx)
    db = Database(settings)
    try:
        with db.transaction() as session:
            if actor.strip():  # a blank one is refused by the decision itself
                require_account(session, actor.strip(), DECIDE_INCIDENTS, "decide on incidents")
            message = decide(session, settings, actor)
    except IncidentActionError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    typer.echo(message, err=True)


def _incident_summary(incident: Any) -> str:
    return (
        f"事件 #{incident.id} {label('levels', incident.level)}"
        f" {label('incident_status', incident.status)}，信息 {incident.mention_count} 条"
    )


def _follows(incident: Any, level_before: str | None) -> str:
    """`；notices will follow` when the decision raised the level past what was notified."""

    return f"；{SOON}" if follow_change(incident, level_before) else ""


By = Annotated[str | None, typer.Option("--by", help="who decides (default: the login name)")]
Reason = Annotated[str, typer.Option("--reason", help="why (kept in the audit trail)")]


@incident_app.command("list")
def incident_list(
    ctx: typer.Context,
    show_all: Annotated[bool, typer.Option("--all", help="closed and merged ones too")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Open incidents, most recently seen first."""

    settings = settings_of(ctx)
    db = Database(settings)
    with db.sessions() as session:
        status = "all" if show_all else IncidentStatus.OPEN
        incidents = views.listing(session, status=status, order="recent").incidents
    db.dispose()
    if as_json:
        rows = [
            {
                "id": i.id,
                "level": i.level,
                "machine_level": i.machine_level,
                "level_override": i.level_override,
                "status": i.status,
                "merged_into": i.merged_into,
                "title": i.title,
                "category": i.category,
                "mentions": i.mention_count,
                "last_seen": i.last_seen.isoformat(),
                "rules_fired": len(i.fired_rules),
            }
            for i in incidents
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title="舆情事件", title_justify="left")
    for header in ("编号", "级别", "状态", "标题", "信息", "最近发现", "触发规则"):
        table.add_column(header, no_wrap=header != "标题")
    for i in incidents:
        status = label("incident_status", i.status)
        if i.merged_into:
            status += f"→#{i.merged_into}"
        table.add_row(
            str(i.id),
            label("levels", i.level) + ("（人工）" if i.level_override else ""),
            status,
            i.title,
            str(i.mention_count),
            local_time(i.last_seen, settings.tz),
            str(len(i.fired_rules)),
        )
    Console(width=200).print(table)


@incident_app.command("show")
def incident_show(
    ctx: typer.Context,
    incident_id: Annotated[int, typer.Argument(help="the incident's number")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Everything about one incident: level and why, spread, who posted first and who carried
    it further, mentions, and what people did."""

    settings = settings_of(ctx)
    tz = settings.tz
    db = Database(settings)
    with db.sessions() as session:
        found = views.detail(session, settings, incident_id, clock.now())
    db.dispose()
    if found is None:
        typer.echo(f"error: 没有事件 #{incident_id}", err=True)
        raise typer.Exit(2)
    if as_json:
        typer.echo(json.dumps(show.as_json(found), ensure_ascii=False, indent=2))
    else:
        typer.echo(show.as_text(found, tz))


@incident_app.command("merge")
def incident_merge(
    ctx: typer.Context,
    incident_id: Annotated[int, typer.Argument(help="the incident merged away")],
    into: Annotated[int, typer.Option("--into", help="the incident that keeps the mentions")],
    reason: Reason,
    by: By = None,
) -> None:
    """Merge an incident into another about the same event; its mentions move there."""

    def decide(session: Any, settings: Settings, actor: str) -> str:
        before = level_of(session, into)
        target = merge(session, settings, incident_id, into, actor, reason)
        return f"事件 #{incident_id} 已并入{_incident_summary(target)}" + _follows(target, before)

    _decide(ctx, by, decide)


@incident_app.command("split")
def incident_split(
    ctx: typer.Context,
    incident_id: Annotated[int, typer.Argument(help="the incident to split")],
    mentions: Annotated[
        str, typer.Option("--mentions", help="numbers of the mentions to move out: 3,4,5")
    ],
    reason: Reason,
    title: Annotated[str | None, typer.Option("--title", help="the new incident's title")] = None,
    by: By = None,
) -> None:
    """Move some mentions of an incident into a new incident."""

    parts = [p for p in re.split(r"[,，\s]+", mentions) if p]
    if not parts or not all(p.lstrip("#").isdigit() for p in parts):
        typer.echo(f"error: --mentions 应为信息编号，用逗号分隔：{mentions!r}", err=True)
        raise typer.Exit(2)
    ids = [int(p.lstrip("#")) for p in parts]

    def decide(session: Any, settings: Settings, actor: str) -> str:
        new = split(session, settings, incident_id, ids, actor, reason, title)
        return f"已从事件 #{incident_id} 拆出{_incident_summary(new)}"

    _decide(ctx, by, decide)


@incident_app.command("level")
def incident_level(
    ctx: typer.Context,
    incident_id: Annotated[int, typer.Argument(help="the incident")],
    reason: Reason,
    level: Annotated[str | None, typer.Argument(help="I, II, III or IV")] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="drop the person's level; the machine's counts")
    ] = False,
    by: By = None,
) -> None:
    """Set the incident's level by hand (with a reason), or --clear it."""

    if (level is None) == (not clear):
        typer.echo("error: 请给出级别（I、II、III、IV）或 --clear，二者选一", err=True)
        raise typer.Exit(2)

    def decide(session: Any, settings: Settings, actor: str) -> str:
        before = level_of(session, incident_id)
        incident = override_level(session, settings, incident_id, level, actor, reason)
        how = "已清除人工定级" if clear else "已人工定级"
        return f"{how}：{_incident_summary(incident)}" + _follows(incident, before)

    _decide(ctx, by, decide)


@incident_app.command("close")
def incident_close(
    ctx: typer.Context,
    incident_id: Annotated[int, typer.Argument(help="the incident")],
    reason: Reason,
    by: By = None,
) -> None:
    """Close an incident: triage adds no more mentions to it."""

    def decide(session: Any, settings: Settings, actor: str) -> str:
        incident = close(session, settings, incident_id, actor, reason)
        return f"已关闭{_incident_summary(incident)}"

    _decide(ctx, by, decide)


@incident_app.command("reopen")
def incident_reopen(
    ctx: typer.Context,
    incident_id: Annotated[int, typer.Argument(help="the incident")],
    reason: Reason,
    by: By = None,
) -> None:
    """Reopen a closed incident."""

    def decide(session: Any, settings: Settings, actor: str) -> str:
        incident = reopen(session, settings, incident_id, actor, reason)
        return f"已重新打开{_incident_summary(incident)}"

    _decide(ctx, by, decide)
