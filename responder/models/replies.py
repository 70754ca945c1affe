"""The template library (应答口径) and the drafts written from it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from responder import clock
from responder.models.base import Base
from responder.statuses import (
    DraftEventKind,
    DraftStatus,
    EnumText,
    TemplateStatus,
)

if TYPE_CHECKING:
    from responder.models.incidents import Incident


class ResponseTemplate(Base):
    """An entry of the 应答口径 library, one per category; its wording lives in versions."""

    __tablename__ = "response_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    versions: Mapped[list[TemplateVersion]] = relationship(
        back_populates="template", order_by="TemplateVersion.version"
    )


class TemplateVersion(Base):
    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("template_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("response_templates.id"))
    version: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    # pending | approved (in force) | retired (replaced by a newer approved one) | rejected |
    # withdrawn (by its author): statuses.TemplateStatus
    status: Mapped[TemplateStatus] = mapped_column(
        EnumText(TemplateStatus), default=TemplateStatus.PENDING
    )
    author: Mapped[str] = mapped_column(String(100))
    approved_by: Mapped[str | None] = mapped_column(String(100))
    approved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    template: Mapped[ResponseTemplate] = relationship(back_populates="versions")


class Draft(Base):
    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    template_version_id: Mapped[int] = mapped_column(ForeignKey("template_versions.id"))
    body: Mapped[str] = mapped_column(Text)
    # pending (new, or edited since its review) | approved | rejected: statuses.DraftStatus
    status: Mapped[DraftStatus] = mapped_column(EnumText(DraftStatus), default=DraftStatus.PENDING)
    # Why it exists: level (the incident's level needs a reply) | misinfo (a misinformation
    # finding) | requested (someone asked on the incident page).
    reason: Mapped[str] = mapped_column(String(20), default="level", server_default="level")
    last_editor: Mapped[str] = mapped_column(String(100), default="system")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    incident: Mapped[Incident] = relationship()
    template_version: Mapped[TemplateVersion] = relationship()
    events: Mapped[list[DraftEvent]] = relationship(order_by="DraftEvent.id")


class DraftEvent(Base):
    """A review event on a draft: created, edited (with diff), approved, rejected, exported,
    emailed (statuses.DraftEventKind)."""

    __tablename__ = "draft_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id"), index=True)
    kind: Mapped[DraftEventKind] = mapped_column(EnumText(DraftEventKind))
    actor: Mapped[str] = mapped_column(String(100))
    comment: Mapped[str] = mapped_column(Text, default="")
    diff: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
