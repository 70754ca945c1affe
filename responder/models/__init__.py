"""The database schema: every table yuqing keeps, as SQLAlchemy 2.x typed models, one module per
noun; everything is imported from here.

Times are stored as UTC (`UTCDateTime`) and shown in the office's time zone.
"""

from responder.models.base import (
    Base,
    UTCDateTime,
)
from responder.models.incidents import (
    Incident,
    IncidentFact,
    IncidentTask,
)
from responder.models.mentions import (
    MENTION_TIME,
    RETRIED_OUTCOMES,
    SEEN_OUTCOMES,
    UNKNOWN_SOURCE,
    CrawlRun,
    HotRank,
    Judgement,
    Mention,
    MentionAttachment,
    SeenPage,
    Source,
    WatchedPage,
    source_name,
)
from responder.models.notices import (
    DeliveryAttempt,
    Notice,
    OutboxAttachment,
    OutboxMessage,
)
from responder.models.people import (
    AuditEntry,
    DutyRoster,
    User,
)
from responder.models.replies import (
    Draft,
    DraftEvent,
    ResponseTemplate,
    TemplateVersion,
)

__all__ = [
    "AuditEntry",
    "Base",
    "CrawlRun",
    "DeliveryAttempt",
    "Draft",
    "DraftEvent",
    "DutyRoster",
    "HotRank",
    "Incident",
    "IncidentFact",
    "IncidentTask",
    "Judgement",
    "MENTION_TIME",
    "UNKNOWN_SOURCE",
    "source_name",
    "Mention",
    "MentionAttachment",
    "Notice",
    "OutboxAttachment",
    "OutboxMessage",
    "RETRIED_OUTCOMES",
    "ResponseTemplate",
    "SEEN_OUTCOMES",
    "SeenPage",
    "Source",
    "TemplateVersion",
    "UTCDateTime",
    "User",
    "WatchedPage",
]
