"""Escalation notices: who hears about an incident, when, and what the report says.

A new incident alerts the duty officer; level II and above also sends the 初报 to leadership
and the upper-level office (level I also to the government list); a later rise sends a 续报.
Every notice is enqueued in the outbox under a key naming (incident, stage, level, recipient),
so a repeated cycle never sends it twice.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from responder import audit
from responder.duty import on_duty
from responder.labels import label
from responder.models import Incident, Mention
from responder.outbox import enqueue, enqueue_for_person
from responder.rendering import local_time, render_text, split_subject
from responder.settings import Recipient, Settings
from responder.severity import authority_tier, level_rank

UNKNOWN = "待核实"
_PLACE = re.compile(r"[\u4e00-\u9fff]{2,6}?(?:省|市|县|区|镇|乡|街道|社区|村)")
_LOSS = re.compile(r"[^。！？\n]*(?:万条|受伤|被骗|损失|丢失|泄露|死亡|住院)[^。！？\n]*")
LINKS_IN_REPORT = 10


@dataclass
class Report:
    time: str
    place: str
    cause: str
    details: str
    losses: str
    scope: str
    trend: str
    measures: str
    level: str
    score: float
    rules: list[str]
    official: list[str]
    links: list[str]


def build_report(
    settings: Settings, incident: Incident, mentions: list[Mention], has_draft: bool
) -> Report:
    """The eight required fields, filled from what is known; the rest say 待核实."""
    tz = settings.tz
    text = "\n".join(f"{m.title}\n{m.text}" for m in mentions)
    places = Counter(_PLACE.findall(text)).most_common(3)
    losses = list(dict.fromkeys(s.strip() for s in _LOSS.findall(text)))[:3]
    tiers = (
        Counter(authority_tier(m, settings.severity) for m in mentions)
        if settings.severity
        else Counter()
    )
    outlets = {m.outlet or m.author for m in mentions if m.outlet or m.author}
    engagement = sum(m.engagement for m in mentions)
    recent = [
        m
        for m in mentions
        if (m.published_at or m.fetched_at) >= incident.last_seen - timedelta(hours=6)
    ]
    trend = (
        f"近6小时新增{len(recent)}条，呈上升态势"
        if len(recent) * 2 > len(mentions)
        else f"近6小时新增{len(recent)}条，态势趋缓"
    )
    reasons = [
        r
        for m in mentions
        if m.judgement
        for r in m.judgement.misinfo_reasons
        if r["kind"] != "rumor_cues"
    ]
    first = mentions[0] if mentions else None
    return Report(
        time=(
            f"{local_time(incident.first_seen, tz)} 首次发现，"
            f"最新 {local_time(incident.last_seen, tz)}"
        ),
        place="、".join(p for p, _ in places) or UNKNOWN,
        cause=f"{UNKNOWN}（初步研判为{label('categories', incident.category)}类舆情）",
        details=(f"{incident.title}。{first.text[:160]}……" if first else incident.title),
        losses="；".join(losses) + "（网传，待核实）" if losses else UNKNOWN,
        scope=(
            f"共{len(mentions)}条信息，涉及{len(outlets)}个信源，转评赞合计{engagement}；"
            + "、".join(f"{label('authority', t)}{n}条" for t, n in tiers.most_common())
        ),
        trend=trend,
        measures=("已生成应答口径草稿，待宣传组审核；" if has_draft else "") + f"其他措施{UNKNOWN}",
        level=label("levels", incident.level),
        score=incident.score,
        rules=[f"{r['rule']}（{r['detail']}）+{r['score']:g}" for r in incident.fired_rules],
        official=list(dict.fromkeys(f"{r['detail']}；{r['evidence']}" for r in reasons)),
        links=[m.url for m in mentions[:LINKS_IN_REPORT]],
    )


def _audiences(settings: Settings, level: str) -> list[Recipient]:
    recipients = settings.recipients
    people: list[Recipient] = []
    if level_rank(level) >= level_rank("II"):
        people += recipients.leadership + recipients.upper_office
    if level_rank(level) >= level_rank("I"):
        people += recipients.government
    return people


def notify(
    session: Session, settings: Settings, incident: Incident, has_draft: bool, now: datetime
) -> int:
    """Enqueue the notices the incident's current level calls for; returns how many are new."""
    level = incident.level
    if level_rank(level) <= level_rank(incident.notified_level):
        return 0
    mentions = list(
        session.scalars(
            select(Mention)
            .where(Mention.incident_id == incident.id)
            .order_by(Mention.published_at, Mention.id)
        )
    )
    report = build_report(settings, incident, mentions, has_draft)
    duty = on_duty(session, settings, now.astimezone(settings.tz).date())
    common = {
        "office": settings.office_name,
        "incident": incident,
        "report": report,
        "link": f"{settings.web.base_url.rstrip('/')}/incidents/{incident.id}",
        "duty": duty.name if duty else UNKNOWN,
        "sent_at": local_time(now, settings.tz),
    }
    targets: list[tuple[str, str, Recipient]] = []
    added = 0
    if duty is not None:
        subject, body = split_subject(
            render_text("notices/duty_alert.txt.j2", recipient=duty.name, **common)
        )
        key = f"incident:{incident.id}:duty_alert:{level}:{duty.email}"
        added += enqueue_for_person(
            session, duty, key, subject, body, stage="duty_alert", incident_id=incident.id
        )
    leadership_told = level_rank(incident.notified_level) >= level_rank("II")
    stage = "followup" if leadership_told else "initial"
    for person in _audiences(settings, level):
        targets.append((stage, f"notices/{stage}.txt.j2", person))
    for stage_name, template, person in targets:
        subject, body = split_subject(render_text(template, recipient=person.name, **common))
        key = f"incident:{incident.id}:{stage_name}:{level}:{person.email}"
        if enqueue(
            session,
            key,
            person.email,
            person.name,
            subject,
            body,
            stage=stage_name,
            incident_id=incident.id,
        ):
            added += 1
    audit.record(
        session,
        "system",
        "incident.notify",
        "incident",
        incident.id,
        before={"notified_level": incident.notified_level},
        after={"notified_level": level, "notices": added},
    )
    incident.notified_level = level
    return added
