"""`yuqing incident show`: one incident as text for a terminal or as JSON, from the read model
`responder.incidents.views.detail`."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from responder.incidents.chain import Chain, Poster
from responder.incidents.views import Detail
from responder.labels import label
from responder.rendering import local_time
from responder.statuses import IncidentStatus


def _changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """The fields an audit row shows changing, as ` (key: old → new; …)`."""
    before = before or {}
    changed = [
        f"{key}: {before[key]} → {value}"
        for key, value in (after or {}).items()
        if key in before and before[key] != value
    ]
    return f"（{'；'.join(changed)}）" if changed else ""


def chain_lines(chain: Chain, tz: ZoneInfo) -> list[str]:
    """首发与扩散: the first poster and the amplifiers with the widest reach, in time order, as
    the incident page shows them."""
    if chain.first is None:
        return []
    lines = ["首发与扩散："]
    for n, p in enumerate([chain.first, *chain.amplifiers]):
        role = "首发" if n == 0 else ("转载" if p.reprint_of else "扩散")
        reach = [
            *([f"转载自 #{p.reprint_of}"] if p.reprint_of else []),
            *([f"{p.hot.board}第{p.hot.rank}位"] if p.hot else []),
            *([f"转评赞 {p.engagement}"] if p.engagement else []),
            *([f"被转载 {p.reprinted} 次"] if p.reprinted else []),
        ]
        lines.append(
            f"  {role} {local_time(p.at, tz)} {p.outlet or '-'}（{label('authority', p.tier)}）"
            f" #{p.mention_id} {p.title}" + (f"：{'；'.join(reach)}" if reach else "")
        )
    if chain.more:
        lines.append(f"  另有 {chain.more} 条扩散信息，见下方信息列表")
    if chain.reprints:
        lines.append(f"  本事件共有转载 {chain.reprints} 条")
    return lines


def _poster(p: Poster) -> dict[str, Any]:
    return {
        "mention_id": p.mention_id,
        "at": p.at.isoformat(),
        "outlet": p.outlet,
        "tier": p.tier,
        "title": p.title,
        "reprint_of": p.reprint_of,
        "reprinted": p.reprinted,
        "engagement": p.engagement,
        "hot": {"board": p.hot.board, "rank": p.hot.rank} if p.hot else None,
    }


def as_json(found: Detail) -> dict[str, Any]:
    incident, mentions, figures, entries = (
        found.incident,
        found.mentions,
        found.spread,
        found.history,
    )
    chain = found.chain
    return {
        "id": incident.id,
        "title": incident.title,
        "category": incident.category,
        "status": incident.status,
        "level": incident.level,
        "machine_level": incident.machine_level,
        "level_override": incident.level_override,
        "override_reason": incident.override_reason,
        "score": incident.score,
        "fired_rules": incident.fired_rules,
        "sentiment": incident.sentiment,
        "misinfo": incident.misinfo,
        "first_seen": incident.first_seen.isoformat(),
        "last_seen": incident.last_seen.isoformat(),
        "mention_count": incident.mention_count,
        "notified_level": incident.notified_level,
        "closed_at": incident.closed_at.isoformat() if incident.closed_at else None,
        "close_reason": incident.close_reason,
        "merged_into": incident.merged_into,
        "terms": incident.terms,
        "spread": figures.to_dict(),
        "chain": {
            "first": _poster(chain.first) if chain.first else None,
            "amplifiers": [_poster(p) for p in chain.amplifiers],
            "amplifier_count": chain.amplifier_count,
            "reprints": chain.reprints,
        },
        "mentions": [
            {
                "id": m.id,
                "published_at": m.published_at.isoformat() if m.published_at else None,
                "outlet": m.outlet,
                "author": m.author,
                "title": m.title,
                "url": m.url,
                "reposts": m.reposts,
                "comments": m.comments,
                "likes": m.likes,
                "reprint_of": m.reprint_of,
            }
            for m in mentions
        ],
        "history": [
            {
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "before": e.before,
                "after": e.after,
                "detail": e.detail,
            }
            for e in entries
        ],
    }


def as_text(found: Detail, tz: ZoneInfo) -> str:
    incident, mentions, figures, entries = (
        found.incident,
        found.mentions,
        found.spread,
        found.history,
    )

    def known(n: int | None) -> str:
        return "未知" if n is None else str(n)

    status = label("incident_status", incident.status)
    if incident.status == IncidentStatus.CLOSED:
        status += f"（{local_time(incident.closed_at, tz)}，原因：{incident.close_reason}）"
    elif incident.status == IncidentStatus.MERGED:
        status += f"（已并入事件 #{incident.merged_into}）"
    lines = [
        f"事件 #{incident.id}  {label('categories', incident.category)}  {status}",
        incident.title,
        f"级别：{label('levels', incident.level)}",
    ]
    if incident.level_override:
        lines[-1] += (
            f"（人工定级，原因：{incident.override_reason}；"
            f"机器定级 {label('levels', incident.machine_level)}）"
        )
    lines += [
        f"评分 {incident.score:g} · 信息 {incident.mention_count} 条"
        f" · 倾向 {label('sentiments', incident.sentiment)}"
        f" · 失实信息 {'有' if incident.misinfo else '无'}",
        f"首次发现 {local_time(incident.first_seen, tz)}"
        f" · 最新 {local_time(incident.last_seen, tz)}",
        f"传播：平均每小时 {figures.per_hour:.1f} 条，"
        f"近{figures.recent_hours}小时 {figures.recent} 条"
        + (
            f"，高峰 {local_time(figures.peak_hour, tz)} 起一小时 {figures.peak_count} 条"
            if figures.peak_hour
            else ""
        ),
        f"互动：转发 {known(figures.reposts)}，评论 {known(figures.comments)}，"
        f"点赞 {known(figures.likes)}（{figures.with_engagement} 条信息有互动数据）",
        f"信源 {figures.outlets} 个"
        + "".join(
            ("：" if n == 0 else "，") + f"{name} {count} 条"
            for n, (name, count) in enumerate(figures.tier_labels)
        ),
        *chain_lines(found.chain, tz),
        "触发的分级规则：",
        *[f"  {r['rule']}（{r['detail']}）+{r['score']:g}" for r in incident.fired_rules],
        "信息：",
        *[
            f"  #{m.id} {local_time(m.published_at or m.fetched_at, tz)}"
            f" {m.outlet or m.author or '-'}  {m.title or m.text[:30]}"
            for m in mentions
        ],
        "处置记录：",
        *[
            f"  {local_time(e.at, tz)} {e.actor} {label('audit_actions', e.action)}"
            + (f"：{e.detail}" if e.detail else "")
            + _changes(e.before, e.after)
            for e in entries
        ],
    ]
    return "\n".join(lines)
