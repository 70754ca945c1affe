"""Incident triage: noteworthy mentions open or grow incidents, whose severity is re-assessed.

An incident is one real-world event. A reprint (转载) joins the incident of the story it
reprints, so spread is counted without a new incident. Any other mention joins the open
incident, seen within the window, that tells the same event best by the signals of
`grouping` (place, words, figures, time, category); otherwise it opens one. Each
joining mention keeps the reasons it joined (`join_reason`), shown on the incident page. Only
open incidents take new mentions: a reprint of a story whose incident was merged follows the
merge. `refresh` re-assesses an incident after triage or a person's decision
(responder/incidents/actions.py), and titles it with the most authoritative informative
headline among its mentions (incidents/summary.py) unless a person set its title.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

import nlp
from responder import audit, clock
from responder.audit import AuditAction
from responder.incidents.grouping import (
    Features,
    Grouper,
    Join,
    add_to_profile,
    new_profile,
    profile_features,
)
from responder.incidents.hotlists import best_rank
from responder.incidents.severity import assess, level_rank
from responder.incidents.summary import choose_title
from responder.limits import clip
from responder.models import Incident, Mention
from responder.settings import Settings
from responder.statuses import IncidentStatus

log = logging.getLogger(__name__)
TERMS_PER_INCIDENT = 30


@dataclass
class TriageResult:
    opened: list[Incident] = field(default_factory=list)
    grown: list[Incident] = field(default_factory=list)
    raised: list[Incident] = field(default_factory=list)


def reassess(session: Session, settings: Settings, mention: Mention, actor: str) -> None:
    """After a person corrected `mention`'s judgement: its incident's severity reads the
    judgements of its mentions, so it is refreshed at once; a mention triage passed over as
    unremarkable is looked at again by the next triage run."""
    if mention.incident_id is not None:
        incident = session.get(Incident, mention.incident_id)
        assert incident is not None
        refresh(session, settings, incident, actor.strip())
    elif mention.triaged and noteworthy(mention):
        mention.triaged = False


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
        self.grouper = Grouper(segmenter, self.common, settings.incidents.min_shared_terms)

    @classmethod
    def from_settings(cls, settings: Settings) -> Triage:
        """Triage with a segmenter that knows the office's own names and regions."""
        words = [settings.office_name]
        for fact in settings.facts:
            words += [fact.region, *fact.names]
        return cls(settings, nlp.Segmenter(settings.userdict, words))

    def features(self, mention: Mention) -> Features:
        # The start of a page names its event; segmenting all of a 9 MB page took half a minute.
        read = self.settings.limits.analysed_chars
        return self.grouper.features(
            mention.title[:read], mention.text[:read], mention.author[:read]
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
        candidates = self._candidates(session, pending)
        touched: dict[int, Incident] = {}
        for mention in pending:
            mention.triaged = True
            incident = self._reprinted(session, mention)
            if incident is None and not noteworthy(mention):
                continue
            features = self.features(mention)
            if incident is not None:
                mention.join_reason = f"转载自信息 #{mention.reprint_of}"
            else:
                incident, join = self._match(session, mention, features, candidates)
                mention.join_reason = join.reason if join is not None else None
            if incident is None:
                incident = self._open(session, mention, features, actor)
                result.opened.append(incident)
                candidates.append(incident)
            else:
                incident.profile = add_to_profile(incident.profile or {}, features)
                # Later mentions of this run compare times with the incident as it grows.
                when = seen_at(mention)
                incident.first_seen = min(incident.first_seen, when)
                incident.last_seen = max(incident.last_seen, when)
                if incident not in result.opened and incident not in result.grown:
                    result.grown.append(incident)
            mention.incident = incident
            # The incident's strongest words, for people and merges: half the list, so two
            # merged incidents keep every term of both.
            incident.terms = list(incident.profile.get("vector", {}))[: TERMS_PER_INCIDENT // 2]
            touched[id(incident)] = incident
            session.flush()
        for incident in self._consolidate(session, result.opened, actor):
            result.opened.remove(incident)
            touched.pop(id(incident), None)
        for incident in touched.values():
            if refresh(session, self.settings, incident, actor):
                result.raised.append(incident)
        return result

    def _consolidate(self, session: Session, opened: list[Incident], actor: str) -> list[Incident]:
        """Fold an incident opened in this run into another that, grown since, now tells the
        same event: its first mention came before the mentions that bridge the two. Returns
        the incidents folded away."""
        folded: list[Incident] = []
        window = timedelta(hours=self.settings.incidents.window_hours)
        for incident in sorted(opened, key=lambda i: i.mention_count or 0):
            # Its titles and authors, where a place is named bare (柳湾普查员).
            named = session.execute(
                select(Mention.title, Mention.author).where(Mention.incident_id == incident.id)
            ).all()
            text = "\n".join(f"{title}\n{author}" for title, author in named)
            features = profile_features(incident.profile or {}, text)
            others = session.scalars(
                select(Incident).where(
                    Incident.status == IncidentStatus.OPEN,
                    Incident.id != incident.id,
                    Incident.last_seen >= incident.first_seen - window,
                    Incident.first_seen <= incident.last_seen + window,
                )
            ).all()
            target, join = self._best(features, incident.category, incident.first_seen, others)
            if target is None or join is None:
                continue
            for mention in session.scalars(
                select(Mention).where(Mention.incident_id == incident.id)
            ).all():
                mention.incident = target
                mention.join_reason = (
                    mention.join_reason or f"随事件 #{incident.id} 并入：{join.reason}"
                )
            target.profile = add_to_profile(target.profile or {}, features)
            target.first_seen = min(target.first_seen, incident.first_seen)
            target.last_seen = max(target.last_seen, incident.last_seen)
            incident.status, incident.merged_into = IncidentStatus.MERGED, target.id
            audit.record(
                session,
                actor,
                AuditAction.INCIDENT_MERGE,
                "incident",
                incident.id,
                after={"merged_into": target.id},
                detail=f"同一事件：{join.reason}",
            )
            folded.append(incident)
        return folded

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

    def _candidates(self, session: Session, pending: Sequence[Mention]) -> list[Incident]:
        """The open incidents any of these mentions could join, read once a run rather than
        once a mention; the incidents the run opens are added as it goes."""
        if not pending:
            return []
        window = timedelta(hours=self.settings.incidents.window_hours)
        times = [seen_at(m) for m in pending]
        return list(
            session.scalars(
                select(Incident).where(
                    Incident.status == IncidentStatus.OPEN,
                    Incident.last_seen >= min(times) - window,
                    Incident.first_seen <= max(times) + window,
                )
            ).all()
        )

    def _match(
        self, session: Session, mention: Mention, features: Features, candidates: list[Incident]
    ) -> tuple[Incident | None, Join | None]:
        """The open incident seen within the window that best tells the same event."""
        judgement = mention.judgement
        assert judgement is not None
        when = seen_at(mention)
        window = timedelta(hours=self.settings.incidents.window_hours)
        near = [
            incident
            for incident in candidates
            if incident.last_seen >= when - window and incident.first_seen <= when + window
        ]
        return self._best(features, judgement.category, when, near)

    def _best(
        self, features: Features, category: str, when: datetime, candidates: Sequence[Incident]
    ) -> tuple[Incident | None, Join | None]:
        best: tuple[Incident | None, Join | None] = (None, None)
        for incident in candidates:
            join = self.grouper.score(
                features,
                category,
                when,
                incident.profile or {},
                incident.category,
                incident.first_seen,
                incident.last_seen,
            )
            if join is not None and (best[1] is None or join.score > best[1].score):
                best = (incident, join)
        return best

    def _open(self, session: Session, mention: Mention, features: Features, actor: str) -> Incident:
        judgement = mention.judgement
        assert judgement is not None
        when = seen_at(mention)
        incident = Incident(
            title=clip(mention.title or mention.text[:40], self.settings.limits.field_chars),
            category=judgement.category,
            first_seen=when,
            last_seen=when,
            profile=new_profile(features),
        )
        session.add(incident)
        session.flush()
        audit.record(
            session,
            actor,
            AuditAction.INCIDENT_OPEN,
            "incident",
            incident.id,
            after={"title": incident.title, "category": incident.category},
            detail=f"由信息 #{mention.id} 触发",
        )
        return incident


def surviving(session: Session, incident: Incident | None) -> Incident | None:
    """The open incident that now stands for `incident`: itself, or the end of its merges."""
    seen: set[int] = set()
    while (
        incident is not None
        and incident.status == IncidentStatus.MERGED
        and incident.id not in seen
    ):
        seen.add(incident.id)
        incident = session.get(Incident, incident.merged_into) if incident.merged_into else None
    return incident if incident is not None and incident.status == IncidentStatus.OPEN else None


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
        .order_by(Mention.published_at, Mention.id)
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
    # The title says what happened in the most authoritative source's words; a title a person
    # set is theirs.
    if incident.title_by is None:
        title = choose_title(mentions, settings)
        if title:
            incident.title = clip(title, settings.limits.field_chars)
    rules = settings.severity
    if rules is None:
        return False
    hot_rank = best_rank(session, mentions) if rules.hot_rank else None
    assessment = assess(incident.category, list(mentions), rules, hot_rank)
    before = incident.machine_level
    incident.score = assessment.score
    incident.fired_rules = [f.to_dict() for f in assessment.fired]
    incident.machine_level = assessment.level
    if level_rank(assessment.level) > level_rank(before):
        audit.record(
            session,
            actor,
            AuditAction.INCIDENT_LEVEL,
            "incident",
            incident.id,
            before={"machine_level": before},
            after={"machine_level": assessment.level, "score": assessment.score},
        )
        return True
    return False
