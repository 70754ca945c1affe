"""`yuqing status`: the facts `/metrics` exposes, for a person at a terminal or a cron job."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from responder.cli.app import app, settings_of
from responder.db import Database
from responder.ops.metrics import gather
from responder.rendering import local_time
from responder.settings import Settings
from responder.statuses import OutboxStatus

if TYPE_CHECKING:
    from responder.ops.metrics import Facts

STATUS_LABELS = {
    "ok": "正常",
    "empty": "无结果",
    "failed": "失败",
    "running": "进行中",
    "interrupted": "中断",
    "never": "未抓取",
}


def _minutes(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds:.0f} 秒"
    if seconds < 7200:
        return f"{seconds / 60:.0f} 分钟"
    return f"{seconds / 3600:.1f} 小时"


def describe(facts: Facts, settings: Settings) -> list[str]:
    """The facts as readable lines (Chinese labels, English metric names in brackets)."""

    lines = [
        f"状态时间 (at): {local_time(facts.at, settings.tz)}",
        f"已入库信息 (mentions stored): {facts.mentions}，近24小时 {facts.mentions_24h}",
        f"最近抓取 (last crawl): {local_time(facts.last_crawl, settings.tz) or '从未'}",
        "信息源 (sources):",
    ]
    for s in facts.sources:
        runs = "，".join(f"{STATUS_LABELS.get(k, k)} {v}" for k, v in sorted(s.runs.items()))
        flag = "  ← 告警" if s.alerting and s.enabled else ""
        lines.append(
            f"  {s.name}: 入库 {s.stored}（近24小时 {s.stored_24h}），"
            f"最近 {STATUS_LABELS.get(s.last_status, s.last_status)}，"
            f"连续异常 {s.bad_streak}，抓取错误 {s.errors}"
            + (f"，抓取次数：{runs}" if runs else "")
            + flag
        )
    lines += [
        f"待分类 (unclassified): {facts.unclassified}",
        f"分类耗时 (classification lag, 24 h): 平均 {_minutes(facts.classification_lag_mean)}，"
        f"最长 {_minutes(facts.classification_lag_max)}，共 {facts.classified_24h} 条",
        "待发送 (outbox backlog):",
    ]
    for channel, by_status in sorted(facts.outbox.items()):
        wanted = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED)
        pending, sending, failed = (by_status.get(k, 0) for k in wanted)
        lines.append(f"  {channel}: 待发 {pending}，发送中 {sending}，失败 {failed}")
    lines += [
        f"最早未发消息已等待 (oldest unsent): {_minutes(facts.oldest_unsent_seconds)}",
        f"等待确认的通知 (notices awaiting ack): {facts.notices_awaiting_ack}",
        "未结事件 (open incidents): "
        + "，".join(f"{level}级 {n}" for level, n in facts.incidents_open.items()),
    ]
    if facts.problems:
        lines.append("需要处理 (needs attention):")
        lines += [f"  - {p}" for p in facts.problems]
    else:
        lines.append("一切正常 (all clear)")
    return lines


@app.command()
def status(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of lines")] = False,
) -> None:
    """Print what /metrics exposes: mentions stored, crawls by source, classification lag,
    outbox backlog, notices awaiting acknowledgement, open incidents.

    Exits with status 1 when something needs attention: an enabled source is alerting, the
    outbox gave up on a message, or a message has waited unsent longer than
    `monitoring.unsent_minutes`.
    """

    settings = settings_of(ctx)
    db = Database(settings)
    try:
        with db.sessions() as session:
            facts = gather(session, settings)
    finally:
        db.dispose()
    if as_json:
        typer.echo(json.dumps(facts.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo("\n".join(describe(facts, settings)))
    if facts.problems:
        raise typer.Exit(1)
