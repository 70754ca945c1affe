"""When notices follow a change in an incident: the one rule.

A rise in level opens the duty alert (and, from II, the leadership's 初报 or 续报); a jump in
spread since the last alert (`alerts.spread_factor` times the mentions, at least
`alerts.spread_min_new` new) alerts the duty officer again at the same level. The minute job
(`escalation.notify`) opens the notices it names, and whoever changed a level by hand (the
web's decisions, the CLI's `incident level` and `incident merge`) is told from the same rule
that notices will follow.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from responder.incidents.severity import level_rank
from responder.models import Incident, Notice
from responder.settings import AlertSettings

# From this level on the leadership hears of an incident (初报, then 续报), not only duty.
LEADERSHIP_LEVEL = "II"
# What a person who raised a level is told when notices follow.
SOON = "按新级别的通知将在一分钟内发出"


def stages_due(incident: Incident) -> tuple[str, ...]:
    """The notices the incident's level in force calls for that were not sent yet: none
    unless it is open and above the level last notified; then the duty officer's alert and,
    from level II, the 初报 (the 续报 when the leadership was already told)."""
    level = incident.level
    if incident.status != "open" or level_rank(level) <= level_rank(incident.notified_level):
        return ()
    if level_rank(level) < level_rank(LEADERSHIP_LEVEL):
        return ("duty_alert",)
    told = level_rank(incident.notified_level) >= level_rank(LEADERSHIP_LEVEL)
    return ("duty_alert", "followup" if told else "initial")


def follow_change(incident: Incident, level_before: str | None) -> tuple[str, ...]:
    """The notices the minute job will send because a decision (a level set by hand, a merge)
    changed the incident's level from `level_before`: none unless the level rose."""
    if level_rank(incident.level) <= level_rank(level_before):
        return ()
    return stages_due(incident)


def final_follows(session: Session, incident_id: int) -> bool:
    """Whether closing the incident sends a 终报: only to those who had the 初报 or a 续报
    (`escalation` sends it), so only when there was one."""
    told = session.scalar(
        select(Notice.id)
        .where(Notice.incident_id == incident_id, Notice.stage.in_(("initial", "followup")))
        .limit(1)
    )
    return told is not None


def spread_jumped(incident: Incident, alerts: AlertSettings) -> bool:
    """Whether the incident spread enough since the duty officer's last alert to alert again
    at the same level: only for an open incident alerted at once (a digest lists new
    incidents, not growth), never before its first alert."""
    before = incident.notified_mentions
    if not alerts.spread_factor or before is None or incident.status != "open":
        return False
    if level_rank(incident.level) < level_rank(alerts.immediate_from):
        return False
    now = incident.mention_count
    return now - before >= alerts.spread_min_new and now >= before * alerts.spread_factor


def facts_followup_due(incident: Incident) -> bool:
    """Whether a 续报 is due because people completed or changed report fields of an open
    incident the leadership was already told about (incidents/facts.py marks it)."""
    return (
        incident.status == "open"
        and incident.facts_pending
        and level_rank(incident.notified_level) >= level_rank(LEADERSHIP_LEVEL)
    )
