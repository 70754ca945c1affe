"""The report a notice carries (初报、续报、终报): the incident's eight fields, its level and
reasons, and links to its mentions, fitted to what a message may hold."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from responder.incidents.facts import CONFIRMED, Fact, sheet
from responder.incidents.facts import UNKNOWN as UNKNOWN_FACT
from responder.labels import label
from responder.limits import clip
from responder.models import Incident, Mention
from responder.rendering import split_subject
from responder.settings import Settings

UNKNOWN = UNKNOWN_FACT
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
    # The fields people completed or changed since the last report ("原因：…（张三核实）").
    changes: list[str] = field(default_factory=list)


def _shown(fact: Fact) -> str:
    if fact.state == CONFIRMED:
        return f"{fact.value}（已核实，{fact.author}）"
    return fact.value


def build_report(
    session: Session,
    settings: Settings,
    incident: Incident,
    mentions: list[Mention],
    has_draft: bool,
    changes: list[str] | None = None,
) -> Report:
    """The eight required fields from the incident's fact sheet: what people confirmed, else
    what the machine found, else 待核实."""
    facts = {f.field: _shown(f) for f in sheet(session, settings, incident, mentions, has_draft)}
    reasons = [
        r
        for m in mentions
        if m.judgement
        for r in m.judgement.misinfo_reasons
        if r["kind"] != "rumor_cues"
    ]
    # Every field quoting crawled text is cut to `limits.field_chars`: a 9 MB page of one
    # sentence with 泄露 once made 损失情况 three million characters long, the mail server
    # refused the alert, and it was never sent.
    cap, items = settings.limits.field_chars, settings.limits.field_items
    return Report(
        **{key: clip(value, cap) for key, value in facts.items()},
        level=label("levels", incident.level),
        score=incident.score,
        rules=[
            clip(f"{r['rule']}（{r['detail']}）+{r['score']:g}", cap)
            for r in incident.fired_rules[:items]
        ],
        official=list(dict.fromkeys(clip(f"{r['detail']}；{r['evidence']}", cap) for r in reasons))[
            :items
        ],
        links=[clip(m.url, cap) for m in mentions[:LINKS_IN_REPORT]],
        changes=[clip(c, cap) for c in (changes or [])],
    )


def fitted(rendered: str, settings: Settings) -> tuple[str, str]:
    """Subject and body, cut to what a mail server takes whatever the template put in."""
    subject, body = split_subject(rendered)
    return clip(subject, settings.limits.field_chars), clip(body, settings.limits.message_chars)
