"""How incidents are read: the one read model the web pages and the `yuqing incident` commands
share, so that a list filter or an incident's mentions mean the same in both.

Reading only; every change goes through `incidents.actions`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session, selectinload

from responder.incidents.chain import Chain, chain_of
from responder.incidents.severity import LEVELS
from responder.incidents.spread import Spread, spread
from responder.models import AuditEntry, Incident, Mention, Notice
from responder.settings import Settings
from responder.statuses import IncidentStatus

STATUSES = tuple(IncidentStatus)
# "urgent": what needs attention first (open, then by level, then newest), the web list's
# order; "recent": most recently seen first, the command line's.
Order = Literal["urgent", "recent"]

_level_order = case(
    {lvl: n for n, lvl in enumerate(reversed(LEVELS))}, value=Incident.level, else_=9
)
_status_order = case({s: n for n, s in enumerate(STATUSES)}, value=Incident.status, else_=9)
_ORDERS = {
    "urgent": (_status_order, _level_order, Incident.last_seen.desc()),
    "recent": (Incident.last_seen.desc(), Incident.id.desc()),
}


@dataclass(frozen=True)
class Listing:
    incidents: list[Incident]
    total: int
    page: int
    pages: int


def listing(
    session: Session,
    status: str = IncidentStatus.OPEN,
    level: str = "",
    category: str = "",
    since: datetime | None = None,
    where: Sequence[ColumnElement[bool]] = (),
    order: Order = "urgent",
    page: int = 1,
    page_size: int | None = None,
) -> Listing:
    """The incidents with `status` ("all" for every one), `level` and `category` ("" for any),
    first seen `since`, meeting the conditions `where`, in `order`; one page of `page_size` of
    them, or all."""
    query = select(Incident).where(*where)
    if status != "all":
        query = query.where(Incident.status == status)
    if level:
        query = query.where(Incident.level == level)
    if category:
        query = query.where(Incident.category == category)
    if since is not None:
        query = query.where(Incident.first_seen >= since)
    query = query.order_by(*_ORDERS[order])
    if page_size is None:
        rows = list(session.scalars(query))
        return Listing(rows, len(rows), 1, 1)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, math.ceil(total / page_size))
    page = min(max(page, 1), pages)
    rows = list(session.scalars(query.offset((page - 1) * page_size).limit(page_size)))
    return Listing(rows, total, page, pages)


@dataclass(frozen=True)
class Detail:
    incident: Incident
    mentions: list[Mention]  # in the order they were published
    spread: Spread
    chain: Chain  # who posted first and who carried it further
    history: list[AuditEntry]


def detail(session: Session, settings: Settings, incident_id: int, now: datetime) -> Detail | None:
    """One incident with its mentions, how it spread (as at `now`), who posted it first and who
    carried it further, and what people did."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        return None
    mentions = list(
        session.scalars(
            select(Mention)
            .where(Mention.incident_id == incident.id)
            .options(selectinload(Mention.judgements))
            .order_by(Mention.published_at, Mention.id)
        )
    )
    return Detail(
        incident,
        mentions,
        spread(mentions, settings.severity, now),
        chain_of(session, settings.severity, mentions),
        history(session, incident.id),
    )


def merge_candidates(
    session: Session, incident_id: int, since: datetime, limit: int
) -> list[Incident]:
    """Open incidents other than this one seen since `since`, most recently seen first: what a
    merge form offers."""
    return list(
        session.scalars(
            select(Incident)
            .where(
                Incident.status == IncidentStatus.OPEN,
                Incident.id != incident_id,
                Incident.last_seen >= since,
            )
            .order_by(Incident.last_seen.desc())
            .limit(limit)
        )
    )


def level_of(session: Session, incident_id: int) -> str | None:
    """The level in force, before a decision changes it (to tell whether notices follow)."""
    found = session.get(Incident, incident_id)
    return found.level if found else None


def history(session: Session, incident_id: int) -> list[AuditEntry]:
    """Every audit row about the incident and its notices (repeats, escalations,
    acknowledgements), oldest first."""
    notice_ids = [
        str(n) for n in session.scalars(select(Notice.id).where(Notice.incident_id == incident_id))
    ]
    return list(
        session.scalars(
            select(AuditEntry)
            .where(
                (
                    (AuditEntry.object_type == "incident")
                    & (AuditEntry.object_id == str(incident_id))
                )
                | ((AuditEntry.object_type == "notice") & AuditEntry.object_id.in_(notice_ids))
            )
            .order_by(AuditEntry.id)
        )
    )


def reported(session: Session, incident_id: int) -> bool:
    """Whether leadership was sent the incident's 初报 (a change to its report then makes a
    续报)."""
    found = session.scalar(
        select(Notice.id).where(Notice.incident_id == incident_id, Notice.stage == "initial")
    )
    return found is not None
