"""The states a row can be in, as string enums, and the column type that stores them.

Each enum is a `StrEnum`: a member *is* its string ("open" == IncidentStatus.OPEN), so the
rows stored before the enums existed read the same, and the columns stay plain strings (no
migration). `EnumText` is a `String` column that refuses to write a value the enum does not
know and reads stored values back as members.

Crawl runs (`CrawlRun.status`) and the pages a crawl set aside (`SeenPage.outcome`) keep their
own strings, next to the crawlers that write them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import String, TypeDecorator

E = TypeVar("E", bound=StrEnum)


class IncidentStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    MERGED = "merged"  # a person or triage merged it into another incident (`merged_into`)


class DraftStatus(StrEnum):
    """A reply draft's review state; an edited draft goes back to pending."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class DraftEventKind(StrEnum):
    """What happened to a reply draft (`DraftEvent.kind`)."""

    CREATED = "created"
    EDITED = "edited"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPORTED = "exported"
    EMAILED = "emailed"


class TemplateStatus(StrEnum):
    """A version of a reply template (应答口径): approving one retires the one in force."""

    PENDING = "pending"
    APPROVED = "approved"
    RETIRED = "retired"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a sender
    SENT = "sent"
    FAILED = "failed"


class AttemptOutcome(StrEnum):
    """What came of one try at delivering an outbox message (`DeliveryAttempt.outcome`)."""

    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"
    # The sender died between claiming and recording: the message may or may not have gone.
    IN_DOUBT = "in_doubt"


class NoticeDelivery(StrEnum):
    """How a notice's messages go out (`Notice.delivery`)."""

    OWN = "own"  # its messages are its own
    BATCH = "batch"  # alerted at once with the cycle's other new incidents
    DIGEST = "digest"  # listed in the next digest


class JudgementOrigin(StrEnum):
    MACHINE = "machine"
    CORRECTION = "correction"  # a person's judgement, in force over the machine's


class EnumText(TypeDecorator[E]):
    """A `String(length)` column holding members of `enum`.

    Writing a value the enum does not know raises ValueError, naming the enum. A stored value
    it does not know (written by hand, or by a newer version) is read back as the plain
    string rather than failing the whole query.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int = 20) -> None:
        super().__init__(length)
        self.enum = enum
        self.length = length

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        try:
            return self.enum(value).value
        except ValueError:
            known = ", ".join(m.value for m in self.enum)
            raise ValueError(
                f"{value!r} is not a value of {self.enum.__name__} (one of: {known})"
            ) from None

    def process_result_value(self, value: Any, dialect: Any) -> E | None:
        if value is None:
            return None
        try:
            return self.enum(value)
        except ValueError:
            return value  # type: ignore[no-any-return]

    @property
    def python_type(self) -> type[E]:
        return self.enum

    def __repr__(self) -> str:
        return f"EnumText({self.enum.__name__}, length={self.length})"


__all__ = [
    "AttemptOutcome",
    "DraftEventKind",
    "DraftStatus",
    "EnumText",
    "IncidentStatus",
    "JudgementOrigin",
    "NoticeDelivery",
    "OutboxStatus",
    "TemplateStatus",
]
