"""How mentions are read with the judgement in force: the mentions pages' read model (the
filtered list, one mention with its reprints, the sources to filter by).

Reading only; a judgement changes through `judging.corrections`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, and_, cast, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from responder.intake import search
from responder.judging.corrections import in_force
from responder.models import MENTION_TIME, Judgement, Mention, Source, source_name


@dataclass
class MentionQuery:
    """What the list is narrowed to; each field narrows it when set."""

    start: datetime | None = None
    end: datetime | None = None
    source_id: int | None = None
    # The name a mention is counted under on the dashboard and in reports (its outlet, else
    # its source's name, else its author: models.source_name), exactly.
    outlet: str = ""
    sentiment: str = ""  # a sentiment, or "unjudged"
    category: str = ""
    misinfo: bool | None = None
    review: bool = False  # only mentions the machine was unsure of (待研判)
    incident: str = ""  # "" | "yes" | "no" | an incident id
    keyword: str = ""
    terms: list[str] = field(default_factory=list)


def _mention_conditions(f: MentionQuery, dialect: str) -> list[ColumnElement[bool]]:
    """The conditions on the mention itself (not on its judgement)."""
    where: list[ColumnElement[bool]] = []
    if f.start:
        where.append(MENTION_TIME >= f.start)
    if f.end:
        where.append(MENTION_TIME < f.end)
    if f.source_id is not None:
        where.append(Mention.source_id == f.source_id)
    if f.outlet:
        site = select(Source.name).where(Source.id == Mention.source_id).scalar_subquery()
        where.append(source_name(site) == f.outlet)
    if f.incident == "yes":
        where.append(Mention.incident_id.is_not(None))
    elif f.incident == "no":
        where.append(Mention.incident_id.is_(None))
    elif f.incident:
        where.append(Mention.incident_id == int(f.incident))
    if f.keyword:
        # The rules matched are a JSON list; its text holds each rule exactly as json.dumps
        # wrote it (quotes included, so 普查 does not match 人口普查).
        where.append(
            cast(Mention.keywords_matched, Text).contains(json.dumps(f.keyword), autoescape=True)
        )
    where += search.containing(f.terms, dialect)
    return where


def _judgement_conditions(f: MentionQuery, judgement: Any) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.sentiment == "unjudged":
        where.append(judgement.id.is_(None))
    elif f.sentiment:
        where.append(judgement.sentiment == f.sentiment)
    if f.category:
        where.append(judgement.category == f.category)
    if f.misinfo is not None:
        where.append(judgement.misinfo.is_(f.misinfo))
    if f.review:
        where.append(judgement.unsure.is_(True))
    return where


def _with_parts() -> Select[Mention]:
    return select(Mention).options(
        selectinload(Mention.judgements),
        selectinload(Mention.source),
        selectinload(Mention.incident),
    )


def find_mentions(
    session: Session, f: MentionQuery, page: int, page_size: int, count_limit: int
) -> tuple[list[Mention], int]:
    """Page `page` of the mentions matching `f`, newest first, and how many match in all (up
    to `count_limit` + 1, meaning "more than count_limit")."""
    judgement = aliased(Judgement)
    on_mention = _mention_conditions(f, session.get_bind().dialect.name)
    on_judgement = _judgement_conditions(f, judgement)
    ids: Select[Any] = select(Mention.id).where(*on_mention)
    if on_judgement:
        # The judgement in force is looked up only when a filter asks about it.
        ids = ids.outerjoin(
            judgement, and_(judgement.mention_id == Mention.id, in_force(judgement))
        ).where(*on_judgement)
    # Counting stops past count_limit: an exact count of a million matches costs seconds and
    # says no more than "narrow the filters" to the person reading it.
    capped = ids.limit(count_limit + 1).subquery()
    total = session.scalar(select(func.count()).select_from(capped)) or 0
    page_ids = ids.order_by(MENTION_TIME.desc(), Mention.id.desc())
    page_ids = page_ids.limit(page_size).offset((page - 1) * page_size)
    order = list(session.scalars(page_ids))
    rows = {m.id: m for m in session.scalars(_with_parts().where(Mention.id.in_(order)))}
    return [rows[i] for i in order], total


def reprint_counts(session: Session, ids: list[int]) -> dict[int, int]:
    """How many reprints each of these mentions has (those with none are left out)."""
    rows = session.execute(
        select(Mention.reprint_of, func.count(Mention.id))
        .where(Mention.reprint_of.in_(ids))
        .group_by(Mention.reprint_of)
    )
    return {original: count for original, count in rows if original is not None}


def mention(session: Session, mention_id: int) -> Mention | None:
    """The mention with its judgements, source and incident loaded."""
    return session.scalar(_with_parts().where(Mention.id == mention_id))


def reprints(session: Session, original_id: int, limit: int) -> tuple[list[Mention], int]:
    """The first `limit` reprints of a mention, oldest first, and how many it has."""
    shown = session.scalars(
        select(Mention)
        .where(Mention.reprint_of == original_id)
        .order_by(MENTION_TIME, Mention.id)
        .limit(limit)
    ).all()
    count = session.scalar(select(func.count(Mention.id)).where(Mention.reprint_of == original_id))
    return list(shown), count or 0


def source_named(session: Session, name: str) -> int | None:
    return session.scalar(select(Source.id).where(Source.name == name))


def source_names(session: Session) -> list[str]:
    return list(session.scalars(select(Source.name).order_by(Source.name)))
