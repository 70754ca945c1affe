"""The audit trail: one inserted row per state change, in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from responder.models import AuditEntry


def record(
    session: Session,
    actor: str,
    action: str,
    object_type: str,
    object_id: Any,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str = "",
) -> AuditEntry:
    entry = AuditEntry(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=before,
        after=after,
        detail=detail,
    )
    session.add(entry)
    return entry
