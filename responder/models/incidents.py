"""Incidents (舆情事件), their confirmed report fields and their tasks."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from responder import clock
from responder.models.base import Base
from responder.statuses import (
    EnumText,
    IncidentStatus,
)

if TYPE_CHECKING:
    from responder.models.mentions import Mention


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(30))
    status: Mapped[IncidentStatus] = mapped_column(
        EnumText(IncidentStatus), default=IncidentStatus.OPEN
    )
    machine_level: Mapped[str] = mapped_column(String(4), default="IV")
    level_override: Mapped[str | None] = mapped_column(String(4))
    override_reason: Mapped[str | None] = mapped_column(Text)
    score: Mapped[float] = mapped_column(Float, default=0)
    fired_rules: Mapped[list[Any]] = mapped_column(default=list)
    terms: Mapped[list[Any]] = mapped_column(default=list)
    # What the incident's mentions say about its event (incidents/grouping.py): summed term
    # weights, places and figures, so a new mention is compared without reading the others.
    profile: Mapped[dict[str, Any]] = mapped_column(default=dict)
    sentiment: Mapped[str] = mapped_column(String(10), default="neutral")
    misinfo: Mapped[bool] = mapped_column(Boolean, default=False)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    mention_count: Mapped[int] = mapped_column(default=0)
    notified_level: Mapped[str | None] = mapped_column(String(4))
    # Its mention count when the duty officer was last alerted (None: never, or before 0014).
    notified_mentions: Mapped[int | None]
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(Text)
    # Set when a person merged this incident into another; its mentions moved there.
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    # Who set the title by hand (a split's title, say); the machine never overwrites it.
    title_by: Mapped[str | None] = mapped_column(String(200))
    # A person completed or changed a report field after the leadership was told: the next
    # notice run sends a 续报 carrying it (notices/follow.py).
    facts_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    mentions: Mapped[list[Mention]] = relationship(
        back_populates="incident", foreign_keys="Mention.incident_id"
    )
    facts: Mapped[list[IncidentFact]] = relationship(
        back_populates="incident", order_by="IncidentFact.id"
    )

    @hybrid_property
    def level(self) -> str:
        """The level in force: a person's override, else the machine's. The one definition,
        read on an incident and in SQL (select, where, group_by, order_by)."""
        return self.level_override or self.machine_level

    @level.inplace.expression
    @classmethod
    def _level_expression(cls) -> ColumnElement[str]:
        return func.coalesce(cls.level_override, cls.machine_level)


class IncidentFact(Base):
    """One report field (时间、地点、原因…) of an incident as a person confirmed it; fields
    without a row are the machine's (incidents/facts.py). Every change is audited."""

    __tablename__ = "incident_facts"
    __table_args__ = (UniqueConstraint("incident_id", "field"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    field: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
    # Not yet carried by a 初报, 续报 or 终报.
    unreported: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")

    incident: Mapped[Incident] = relationship(back_populates="facts")


class IncidentTask(Base):
    """Something to do about an incident (成立核查组、联系媒体、发布回应): what, who, by when;
    done tasks count among its 处置措施 (incidents/tasks.py)."""

    __tablename__ = "incident_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    what: Mapped[str] = mapped_column(Text)
    assignee: Mapped[str] = mapped_column(String(200))
    due: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(200))
