"""Incident triage: noteworthy mentions open or grow incidents, whose severity is re-assessed.

A reprint (转载) joins the incident of the story it reprints, so spread is counted without a
new incident. Any other mention joins the open incident of the same category, seen within the
window, that shares the most distinctive terms with it (at least `min_shared_terms`);
otherwise it opens one. Only open incidents take new mentions: a reprint of a story whose
incident was merged follows the merge. `refresh` re-assesses an incident after triage or a
person's decision (responder/incident_actions.py).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

import nlp
from responder import audit, clock
from responder.limits import clip
from responder.models import Incident, Mention
from responder.settings import Settings
from responder.severity import assess, level_rank

log = logging.getLogger(__name__)
TERMS_PER_MENTION = 10
TERMS_PER_INCIDENT = 30


@dataclass
class TriageResult:
    opened: list[Incident] = field(default_factory=list)
    grown: list[Incident] = field(default_factory=list)
    raised: list[Incident] = field(default_factory=list)


def noteworthy(mention: Mention) -> bool:
    j = mention.judgement
    return j is not None and (j.category != "general" or j.misinfo or j.sentiment == "negative")


def seen_at(mention: Mention) -> datetime:
    return mention.published_at or mention.fetched_at


class Triage:
    def __init__(self, settings: Settings, segmenter: nlp.Segmenter) -> None:
        self.settings = settings
        self.segmenter = segmenter
        regions = {f.region for f in settings.facts}
        short = {re.sub(r"(省|市|县|区)$", "", r) for r in regions}
        # Words every mention shares (the office, its region, the keyword rules) say nothing
        # about which event a mention belongs to.
        self.common = set(settings.keywords.include) | regions | short | {settings.office_name}

    def terms(self, mention: Mention) -> list[str]:
        # The start of a page names its event; segmenting all of a 9 MB page took half a minute.
        read = self.settings.limits.analysed_chars
        return self.segmenter.keywords(
            f"{mention.title[:read]}\n{mention.text[:read]}", TERMS_PER_MENTION, self.common
        )

    def run(self, session: Session, actor: str = "system") -> TriageResult:
        result = TriageResult()
        pending = session.scalars(
            select(Mention)
            .where(Mention.triaged.is_(False))
            .where(Mention.judgements.any())
            .options(selectinload(Mention.judgements))
            .order_by(Mention.published_at, Mention.id)
        ).all()
        # Originals first, so a reprint finds the incident its original has just joined.
        pending = sorted(pending, key=lambda m: m.reprint_of is not None)
        touched: dict[int, Incident] = {}
        for mention in pending:
            mention.triaged = True
            incident = self._reprinted(session, mention)
            if incident is None and not noteworthy(mention):
                continue
            terms = self.terms(mention)
            incident = incident or self._match(session, mention, terms)
            if incident is None:
                incident = self._open(session, mention, terms, actor)
                result.opened.append(incident)
            elif incident not in result.opened and incident not in result.grown:
                result.grown.append(incident)
            mention.incident = incident
            incident.terms = [
                t for t, _ in Counter(incident.terms + terms).most_common(TERMS_PER_INCIDENT)
            ]
            touched[id(incident)] = incident
            session.flush()
        for incident in touched.values():
            if refresh(session, self.settings, incident, actor):
                result.raised.append(incident)
        return result

    def _reprinted(self, session: Session, mention: Mention) -> Incident | None:
        """The open incident of the story this mention reprints, if any.

        A merged incident stands for the one it was merged into. A closed one is not reopened
        by a reprint, since a person decided it was over: the reprint is triaged like any other
        mention, so if noteworthy it joins another open incident or opens a new one, which the
        duty officer hears about.
        """
        if mention.reprint_of is None:
            return None
        original = session.get(Mention, mention.reprint_of)
        if original is None:
            return None
        return surviving(session, original.incident)

    def _match(self, session: Session, mention: Mention, terms: list[str]) -> Incident | None:
        judgement = mention.judgement
        assert judgement is not None
        since = seen_at(mention) - timedelta(hours=self.settings.incidents.window_hours)
        candidates = session.scalars(
            select(Incident).where(
                Incident.status == "open",
                Incident.category == judgement.category,
                Incident.last_seen >= since,
            )
        ).all()
        best, best_shared = None, 0
        for incident in candidates:
            shared = len(set(terms) & set(incident.terms))
            if shared > best_shared:
                best, best_shared = incident, shared
        return best if best_shared >= self.settings.incidents.min_shared_terms else None

    def _open(self, session: Session, mention: Mention, terms: list[str], actor: str) -> Incident:
        judgement = mention.judgement
        assert judgement is not None
        when = seen_at(mention)
        incident = Incident(
            title=clip(mention.title or mention.text[:40], self.settings.limits.field_chars),
            category=judgement.category,
            first_seen=when,
            last_seen=when,
            terms=terms,
        )
        session.add(incident)
        session.flush()
        audit.record(
            session,
            actor,
            "incident.open",
            "incident",
            incident.id,
            after={"title": incident.title, "category": incident.category},
            detail=f"由信息 #{mention.id} 触发",
        )
        return incident


def surviving(session: Session, incident: Incident | None) -> Incident | None:
    """The open incident that now stands for `incident`: itself, or the end of its merges."""
    seen: set[int] = set()
    while incident is not None and incident.status == "merged" and incident.id not in seen:
        seen.add(incident.id)
        incident = session.get(Incident, incident.merged_into) if incident.merged_into else None
    return incident if incident is not None and incident.status == "open" else None


def refresh(
    session: Session, settings: Settings, incident: Incident, actor: str = "system"
) -> bool:
    """Recompute counts and severity from the incident's mentions; True when the machine level
    rose (the rise is audited, and escalation follows the new level)."""
    session.flush()
    mentions = session.scalars(
        select(Mention)
        .where(Mention.incident_id == incident.id)
        .options(selectinload(Mention.judgements))
    ).all()
    incident.mention_count = len(mentions)
    incident.updated_at = clock.now()
    if not mentions:
        return False
    times = [seen_at(m) for m in mentions]
    incident.first_seen, incident.last_seen = min(times), max(times)
    judged = [m.judgement for m in mentions if m.judgement is not None]
    if judged:
        incident.sentiment = Counter(j.sentiment for j in judged).most_common(1)[0][0]
    incident.misinfo = any(j.misinfo for j in judged)
    rules = settings.severity
    if rules is None:
        return False
    assessment = assess(incident.category, list(mentions), rules)
    before = incident.machine_level
    incident.score = assessment.score
    incident.fired_rules = [f.to_dict() for f in assessment.fired]
    incident.machine_level = assessment.level
    if level_rank(assessment.level) > level_rank(before):
        audit.record(
            session,
            actor,
            "incident.level",
            "incident",
            incident.id,
            before={"machine_level": before},
            after={"machine_level": assessment.level, "score": assessment.score},
        )
        return True
    return False
