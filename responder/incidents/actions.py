"""A person's decisions about incidents: merge, split, override the level, close, reopen.

Each runs in the caller's transaction, checks everything before it changes anything, and
leaves audit rows naming the person and the reason. Escalation re-reads `incident.level` and
`incident.status`, so a raised level or a closing here is picked up by the next notice run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from responder import audit, clock
from responder.accounts import DECIDE_INCIDENTS, require_role
from responder.audit import AuditAction
from responder.errors import DomainError
from responder.incidents.grouping import merge_profiles, profile_within
from responder.incidents.severity import LEVELS
from responder.incidents.triage import TERMS_PER_INCIDENT, refresh, seen_at
from responder.labels import label
from responder.models import Incident, Mention
from responder.plaintext import one_line
from responder.settings import Settings
from responder.statuses import IncidentStatus


class IncidentActionError(DomainError, ValueError):
    """A decision that cannot be carried out; nothing was changed."""


class UnknownIncident(IncidentActionError):
    pass


class InvalidMerge(IncidentActionError):
    pass


class InvalidSplit(IncidentActionError):
    pass


class InvalidLevel(IncidentActionError):
    pass


class MissingReason(IncidentActionError):
    pass


class MissingActor(IncidentActionError):
    pass


class InvalidTransition(IncidentActionError):
    """The incident's status does not allow the decision (closing a closed one, say)."""


class NotPermitted(IncidentActionError):
    """The person is no enabled account whose role may decide on incidents."""


DOING = "处置事件"


def _checked(session: Session, actor: str, reason: str) -> tuple[str, str]:
    """The actor and the reason, stripped; the actor must be an enabled account whose role
    may decide on incidents (accounts.DECIDE_INCIDENTS)."""
    if not actor.strip():
        raise MissingActor("请说明由谁作出此项处置")
    if not reason.strip():
        raise MissingReason("请填写原因")
    require_role(session, actor.strip(), DECIDE_INCIDENTS, DOING, NotPermitted)
    return actor.strip(), reason.strip()


def _get(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise UnknownIncident(f"没有事件 #{incident_id}")
    return incident


def _not_merged(incident: Incident) -> None:
    if incident.status == IncidentStatus.MERGED:
        raise InvalidTransition(f"事件 #{incident.id} 已并入事件 #{incident.merged_into}")


def _mentions(session: Session, incident: Incident) -> list[Mention]:
    return list(
        session.scalars(
            select(Mention)
            .where(Mention.incident_id == incident.id)
            .options(selectinload(Mention.judgements))
            .order_by(Mention.published_at, Mention.id)
        )
    )


def _state(incident: Incident) -> dict[str, Any]:
    return {
        "status": incident.status,
        "mention_count": incident.mention_count,
        "machine_level": incident.machine_level,
        "level": incident.level,
        "score": incident.score,
    }


def _text_of(mentions: list[Mention]) -> str:
    return "\n".join(f"{m.title}\n{m.text}\n{m.author}" for m in mentions)


def _terms_in(terms: Iterable[str], mentions: list[Mention]) -> list[str]:
    """The terms that still occur in these mentions: triage took them from the text."""
    text = _text_of(mentions)
    return [t for t in terms if t in text]


def merge(
    session: Session,
    settings: Settings,
    source_id: int,
    target_id: int,
    actor: str,
    reason: str,
) -> Incident:
    """Move every mention of `source_id` to `target_id`, which is re-assessed; returns it."""
    actor, reason = _checked(session, actor, reason)
    source, target = _get(session, source_id), _get(session, target_id)
    if source.id == target.id:
        raise InvalidMerge(f"事件 #{source.id} 不能并入自身")
    _not_merged(source)
    if target.status != IncidentStatus.OPEN:
        raise InvalidMerge(
            f"只能并入处置中的事件，事件 #{target.id}{label('incident_status', target.status)}"
        )
    source_before, target_before = _state(source), _state(target)
    moved = _mentions(session, source)
    for mention in moved:
        mention.incident = target
    target.terms = [
        t for t, _ in Counter(target.terms + source.terms).most_common(TERMS_PER_INCIDENT)
    ]
    target.profile = merge_profiles(target.profile or {}, source.profile or {})
    source.status = IncidentStatus.MERGED
    source.merged_into = target.id
    refresh(session, settings, source, actor)
    refresh(session, settings, target, actor)
    ids = [m.id for m in moved]
    audit.record(
        session,
        actor,
        AuditAction.INCIDENT_MERGE,
        "incident",
        source.id,
        before=source_before,
        after={**_state(source), "merged_into": target.id, "mentions_moved": ids},
        detail=reason,
    )
    audit.record(
        session,
        actor,
        AuditAction.INCIDENT_MERGE,
        "incident",
        target.id,
        before=target_before,
        after={**_state(target), "merged_from": source.id, "mentions_moved": ids},
        detail=reason,
    )
    return target


def split(
    session: Session,
    settings: Settings,
    incident_id: int,
    mention_ids: Iterable[int],
    actor: str,
    reason: str,
    title: str | None = None,
) -> Incident:
    """Move the given mentions of an open incident into a new incident; returns the new one."""
    actor, reason = _checked(session, actor, reason)
    incident = _get(session, incident_id)
    if incident.status != IncidentStatus.OPEN:
        raise InvalidTransition(
            f"只能拆分处置中的事件，事件 #{incident.id}{label('incident_status', incident.status)}"
        )
    wanted = set(mention_ids)
    if not wanted:
        raise InvalidSplit("请指定要拆出的信息")
    current = _mentions(session, incident)
    foreign = sorted(wanted - {m.id for m in current})
    if foreign:
        listed = "、".join(f"#{n}" for n in foreign)
        raise InvalidSplit(f"信息 {listed} 不属于事件 #{incident.id}")
    if len(wanted) == len(current):
        raise InvalidSplit("不能拆出事件的全部信息")
    moving = [m for m in current if m.id in wanted]
    staying = [m for m in current if m.id not in wanted]
    before = _state(incident)
    categories = Counter(m.judgement.category for m in moving if m.judgement is not None)
    top = max(categories.values(), default=0)
    # A tie keeps the category the incident had; otherwise the most common one.
    category = (
        incident.category
        if categories.get(incident.category, 0) == top
        else categories.most_common(1)[0][0]
    )
    times = [seen_at(m) for m in moving]
    new = Incident(
        title=one_line(title or "") or moving[0].title or one_line(moving[0].text[:40]),
        title_by=actor if one_line(title or "") else None,
        category=category,
        first_seen=min(times),
        last_seen=max(times),
        terms=_terms_in(incident.terms, moving),
        profile=profile_within(incident.profile or {}, _text_of(moving)),
    )
    session.add(new)
    session.flush()  # machine_level takes its default, so refresh sees a rise only past IV
    ids = [m.id for m in moving]
    # Opened before it is assessed, so its history reads like a triaged incident's.
    audit.record(
        session,
        actor,
        AuditAction.INCIDENT_OPEN,
        "incident",
        new.id,
        after={
            "title": new.title,
            "category": new.category,
            "split_from": incident.id,
            "mentions_moved": ids,
        },
        detail=f"由事件 #{incident.id} 拆分：{reason}",
    )
    for mention in moving:
        mention.incident = new
    incident.terms = _terms_in(incident.terms, staying)
    incident.profile = profile_within(incident.profile or {}, _text_of(staying))
    refresh(session, settings, incident, actor)
    refresh(session, settings, new, actor)
    audit.record(
        session,
        actor,
        AuditAction.INCIDENT_SPLIT,
        "incident",
        incident.id,
        before=before,
        after={**_state(incident), "split_into": new.id, "mentions_moved": ids},
        detail=reason,
    )
    return new


def override_level(
    session: Session,
    settings: Settings,
    incident_id: int,
    level: str | None,
    actor: str,
    reason: str,
) -> Incident:
    """Set the level a person decided (None clears it, back to the machine's level)."""
    actor, reason = _checked(session, actor, reason)
    incident = _get(session, incident_id)
    _not_merged(incident)
    if level is not None:
        level = level.strip().upper()
        if level not in LEVELS:
            raise InvalidLevel(f"没有级别 {level}，可选 {'、'.join(LEVELS)}")
        if level == incident.level_override:
            raise InvalidLevel(f"事件 #{incident.id} 已人工定为 {level} 级")
    elif incident.level_override is None:
        raise InvalidLevel(f"事件 #{incident.id} 没有人工定级可清除")
    before = {
        "level_override": incident.level_override,
        "override_reason": incident.override_reason,
        "level": incident.level,
    }
    incident.level_override = level
    incident.override_reason = reason if level is not None else None
    incident.updated_at = clock.now()
    audit.record(
        session,
        actor,
        AuditAction.INCIDENT_LEVEL_OVERRIDE,
        "incident",
        incident.id,
        before=before,
        after={
            "level_override": incident.level_override,
            "override_reason": incident.override_reason,
            "level": incident.level,
            "machine_level": incident.machine_level,
        },
        detail=reason,
    )
    return incident


def close(
    session: Session,
    settings: Settings,
    incident_id: int,
    actor: str,
    reason: str,
    now: datetime | None = None,
) -> Incident:
    """Close an open incident: triage no longer adds mentions to it."""
    actor, reason = _checked(session, actor, reason)
    incident = _get(session, incident_id)
    _not_merged(incident)
    if incident.status != IncidentStatus.OPEN:
        raise InvalidTransition(f"事件 #{incident.id} 已关闭")
    before = {"status": incident.status, "closed_at": None, "close_reason": None}
    incident.status = IncidentStatus.CLOSED
    incident.closed_at = now or clock.now()
    incident.close_reason = reason
    audit.record(
        session,
        actor,
        AuditAction.INCIDENT_CLOSE,
        "incident",
        incident.id,
        before=before,
        after={
            "status": IncidentStatus.CLOSED,
            "closed_at": incident.closed_at.isoformat(),
            "close_reason": reason,
        },
        detail=reason,
    )
    return incident


def reopen(
    session: Session, settings: Settings, incident_id: int, actor: str, reason: str
) -> Incident:
    """Reopen a closed incident; it is re-assessed and takes new mentions again."""
    actor, reason = _checked(session, actor, reason)
    incident = _get(session, incident_id)
    _not_merged(incident)
    if incident.status != IncidentStatus.CLOSED:
        raise InvalidTransition(f"事件 #{incident.id} 未关闭，无需重新打开")
    before = {
        "status": incident.status,
        "closed_at": incident.closed_at.isoformat() if incident.closed_at else None,
        "close_reason": incident.close_reason,
        "level": incident.level,
    }
    incident.status = IncidentStatus.OPEN
    incident.closed_at = None
    incident.close_reason = None
    refresh(session, settings, incident, actor)
    audit.record(
        session,
        actor,
        AuditAction.INCIDENT_REOPEN,
        "incident",
        incident.id,
        before=before,
        after={"status": IncidentStatus.OPEN, "level": incident.level},
        detail=reason,
    )
    return incident
