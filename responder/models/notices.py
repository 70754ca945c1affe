"""Notices about incidents, and the outbox that delivers every message."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from responder import clock
from responder.models.base import Base
from responder.statuses import (
    AttemptOutcome,
    EnumText,
    NoticeDelivery,
    OutboxStatus,
)

if TYPE_CHECKING:
    from responder.models.incidents import Incident


class Notice(Base):
    """One notice about an incident — duty alert, 初报, 续报 or 终报 — and its acknowledgement.

    Its messages are sent in steps: step 0 to the first recipients, then repeats and then the
    escalation chain, each `ack_minutes` after the last, until someone acknowledges.
    """

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("incident_id", "stage", "level", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    stage: Mapped[str] = mapped_column(String(20))  # duty_alert | initial | followup | final
    level: Mapped[str] = mapped_column(String(4))
    # Follow-ups sent on the cadence are numbered; everything else is 0.
    seq: Mapped[int] = mapped_column(default=0)
    step: Mapped[int] = mapped_column(default=0)  # the last step sent
    # When the next step is due unless acknowledged; None when no step is left.
    next_step_at: Mapped[datetime | None] = mapped_column(index=True)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    # own: its messages are its own | batch: alerted at once together with the cycle's other
    # new incidents | digest: listed in the next digest. `carried_by` is the outbox key of the
    # batch or digest that carried it (None: not yet sent).
    delivery: Mapped[NoticeDelivery] = mapped_column(
        EnumText(NoticeDelivery, 12), default=NoticeDelivery.OWN, server_default=NoticeDelivery.OWN
    )
    carried_by: Mapped[str | None] = mapped_column(String(300))
    # The report fields people completed or changed that this notice carries ("原因：…").
    changes: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")

    incident: Mapped[Incident] = relationship()


class OutboxMessage(Base):
    """A message waiting for, or done with, delivery. `dedupe_key` makes enqueueing idempotent."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    channel: Mapped[str] = mapped_column(String(20), default="email")
    recipient: Mapped[str] = mapped_column(String(300))
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    stage: Mapped[str] = mapped_column(String(30))
    # pending | sending (claimed by a sender) | sent | failed: statuses.OutboxStatus
    status: Mapped[OutboxStatus] = mapped_column(
        EnumText(OutboxStatus), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=clock.now)
    claimed_at: Mapped[datetime | None]
    # "host:pid" of the sender that claimed it, so a restarted sender can tell a dead claim.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    sent_at: Mapped[datetime | None]
    # Messages of one thread (the duty officer's alerts about one incident) answer its first.
    thread: Mapped[str | None] = mapped_column(String(200))
    # An HTML alternative to `body` (reports); its images are attachments referenced by cid.
    html: Mapped[str | None] = mapped_column(Text)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"), index=True)
    step: Mapped[int] = mapped_column(default=0)

    attachments: Mapped[list[OutboxAttachment]] = relationship(order_by="OutboxAttachment.id")


class OutboxAttachment(Base):
    """An inline image of an HTML message, referenced in it as `cid:<cid>`."""

    __tablename__ = "outbox_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id"), index=True)
    cid: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100), default="image/png")
    data: Mapped[bytes] = mapped_column(LargeBinary)


class DeliveryAttempt(Base):
    """One try at delivering an outbox message, whatever came of it."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=clock.now)
    outcome: Mapped[AttemptOutcome] = mapped_column(EnumText(AttemptOutcome))
    error: Mapped[str | None] = mapped_column(Text)
    seconds: Mapped[float] = mapped_column(Float, default=0)
