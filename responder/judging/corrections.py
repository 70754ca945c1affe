"""A person's correction of the machine's judgement of a mention, and which judgement is in force.

A correction is a new `Judgement` row with origin "correction": the machine's judgements stay
as they were, so the page can show both and `yuqing export corrections` can hand the people's
labels to `yuqing train`. The newest correction is in force (`Mention.judgement`; `in_force`
is the same rule in SQL for lists and counts). Every correction leaves an audit row. Its
incident is re-assessed by the caller in the same transaction (`incidents.triage.reassess`):
incidents are the next stage, and judging never reaches forward into them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from nlp import CATEGORIES, SENTIMENTS
from responder import audit
from responder.accounts import CORRECT, require_role
from responder.audit import AuditAction
from responder.errors import DomainError
from responder.labels import label, labels
from responder.models import AuditEntry, Judgement, Mention
from responder.settings import Settings
from responder.statuses import JudgementOrigin

ACTION = AuditAction.JUDGEMENT_CORRECT
MAX_NOTE = 500
# How the web form spells a yes/no answer.
YES_NO = {"yes": True, "no": False}


class CorrectionError(DomainError, ValueError):
    """A correction that cannot be stored; nothing was changed."""


class NotPermitted(CorrectionError):
    """The person is no enabled account whose role may correct judgements."""


def sentiments() -> list[str]:
    """The sentiment codes a person may choose: the classifier's, in the order shown."""
    return [code for code in SENTIMENTS if code in labels()["sentiments"]]


def categories() -> list[str]:
    """The category codes a person may choose: those the classifier learns and people can read."""
    return [code for code in CATEGORIES if code in labels()["categories"]]


def parse_misinfo(value: str) -> bool:
    if value not in YES_NO:
        raise CorrectionError("请选择是否疑似失实（是/否）")
    return YES_NO[value]


def correct(
    session: Session,
    settings: Settings,
    mention_id: int,
    sentiment: str,
    category: str,
    misinfo: bool,
    actor: str,
    note: str = "",
) -> Judgement:
    """Store `actor`'s judgement of the mention, audited (then `triage.reassess` it)."""
    mention = session.scalar(
        select(Mention).where(Mention.id == mention_id).options(selectinload(Mention.judgements))
    )
    if mention is None:
        raise CorrectionError(f"没有信息 #{mention_id}")
    if not actor.strip():
        raise CorrectionError("请说明由谁作出修正")
    require_role(session, actor.strip(), CORRECT, "修正研判结果", NotPermitted)
    if sentiment not in sentiments():
        names = "、".join(label("sentiments", s) for s in sentiments())
        raise CorrectionError(f"未知的情感倾向“{sentiment}”，应为{names}之一")
    if category not in categories():
        raise CorrectionError(f"未知的类别“{category}”，请从列表中选择")
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise CorrectionError(f"说明过长（{len(note)} 字），请控制在 {MAX_NOTE} 字以内")

    current = mention.judgement
    before = _labels(current) if current is not None else None
    after = {"sentiment": sentiment, "category": category, "misinfo": misinfo}
    # Confirming an unsure machine judgement (待研判) as it stands is a person's decision too.
    if before == after and not (current is not None and current.unsure):
        raise CorrectionError("修正后的研判与当前研判相同，未作更改")
    judgement = Judgement(
        mention=mention,
        origin=JudgementOrigin.CORRECTION,
        sentiment=sentiment,
        sentiment_score=1.0,
        category=category,
        category_score=1.0,
        misinfo=misinfo,
        misinfo_reasons=[],
        terms={},
        backend="",
        actor=actor.strip(),
    )
    session.add(judgement)
    session.flush()
    audit.record(
        session,
        actor.strip(),
        ACTION,
        "mention",
        mention.id,
        before=before,
        after=after,
        detail=note,
    )
    return judgement


def history(session: Session, mention_id: int) -> list[AuditEntry]:
    """The corrections of a mention, oldest first, with who made them and why."""
    return list(
        session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.action == ACTION,
                AuditEntry.object_type == "mention",
                AuditEntry.object_id == str(mention_id),
            )
            .order_by(AuditEntry.id)
        )
    )


def machine_judgement(mention: Mention) -> Judgement | None:
    """The newest judgement the classifier made, whatever people corrected since."""
    machine = [j for j in mention.judgements if j.origin != JudgementOrigin.CORRECTION]
    return machine[-1] if machine else None


def in_force(judgement: Any) -> ColumnElement[bool]:
    """`judgement` (an alias of Judgement) is the one in force for its mention: no newer
    correction, and, for a machine judgement, no correction and no newer judgement at all.
    `Mention.judgement` in SQL; ids grow with time, so "newer" is the larger id.

    A NOT EXISTS probe of the mention's few judgements, not a grouping of all of them: a page
    that stops at its fifty newest rows, or a capped count, then reads only what it shows.
    """
    other = aliased(Judgement)
    is_correction = judgement.origin == JudgementOrigin.CORRECTION
    beats = or_(
        and_(other.origin == JudgementOrigin.CORRECTION, ~is_correction),
        and_(
            other.id > judgement.id, or_(other.origin == JudgementOrigin.CORRECTION, ~is_correction)
        ),
    )
    return ~exists().where(other.mention_id == judgement.mention_id, beats)


def _labels(judgement: Judgement) -> dict[str, Any]:
    return {
        "sentiment": judgement.sentiment,
        "category": judgement.category,
        "misinfo": judgement.misinfo,
    }
