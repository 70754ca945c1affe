"""The approved version of each category's reply template, and the packaged templates in
`templates/replies/` imported as approved version 1 the first time a category needs one
(people version them afterwards in `responder.replies.library`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from responder import audit, clock
from responder.audit import AuditAction
from responder.errors import DomainError
from responder.labels import label
from responder.models import ResponseTemplate, TemplateVersion
from responder.paths import TEMPLATES_DIR
from responder.statuses import TemplateStatus

REPLIES_DIR = TEMPLATES_DIR / "replies"


class NoApprovedTemplate(DomainError, LookupError):
    pass


def seed_templates(session: Session) -> int:
    """Import packaged reply templates for categories that have no library entry yet."""
    added = 0
    for path in sorted(REPLIES_DIR.glob("[!_]*.txt.j2")):
        category = path.name.removesuffix(".txt.j2")
        if session.scalar(select(ResponseTemplate).where(ResponseTemplate.category == category)):
            continue
        template = ResponseTemplate(
            category=category, name=f"{label('categories', category)}应答口径"
        )
        session.add(template)
        session.flush()
        version = TemplateVersion(
            template_id=template.id,
            version=1,
            body=path.read_text(encoding="utf-8"),
            status=TemplateStatus.APPROVED,
            author="system",
            approved_by="system",
            approved_at=clock.now(),
        )
        session.add(version)
        session.flush()
        audit.record(
            session,
            "system",
            AuditAction.TEMPLATE_SEED,
            "template_version",
            version.id,
            after={"category": category, "version": 1},
            detail=str(path.name),
        )
        added += 1
    return added


def approved_version(session: Session, category: str) -> TemplateVersion:
    for wanted in (category, "general"):
        version = session.scalar(
            select(TemplateVersion)
            .join(ResponseTemplate)
            .where(
                ResponseTemplate.category == wanted,
                TemplateVersion.status == TemplateStatus.APPROVED,
            )
            .order_by(TemplateVersion.version.desc())
            .limit(1)
        )
        if version is not None:
            return version
    raise NoApprovedTemplate(f"no approved reply template for category {category!r}")
