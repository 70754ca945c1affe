"""Reply drafts (应答口径) from the approved template version of the incident's category.

The packaged templates in `templates/replies/` are imported as approved version 1 of each
category's entry the first time they are needed; people version them afterwards.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from responder import audit
from responder.labels import label
from responder.models import (
    Draft,
    DraftEvent,
    Incident,
    Mention,
    ResponseTemplate,
    TemplateVersion,
    utcnow,
)
from responder.paths import TEMPLATES_DIR
from responder.rendering import render_string
from responder.settings import Settings

REPLIES_DIR = TEMPLATES_DIR / "replies"


class NoApprovedTemplate(LookupError):
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
            status="approved",
            author="system",
            approved_by="system",
            approved_at=utcnow(),
        )
        session.add(version)
        session.flush()
        audit.record(
            session,
            "system",
            "template.seed",
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
            .where(ResponseTemplate.category == wanted, TemplateVersion.status == "approved")
            .order_by(TemplateVersion.version.desc())
            .limit(1)
        )
        if version is not None:
            return version
    raise NoApprovedTemplate(f"no approved reply template for category {category!r}")


def draft_context(
    settings: Settings, incident: Incident, mentions: list[Mention]
) -> dict[str, object]:
    reasons = [r for m in mentions if m.judgement for r in m.judgement.misinfo_reasons]
    return {
        "office": settings.office_name,
        "incident": incident,
        "category": label("categories", incident.category),
        "level": label("levels", incident.level),
        "today": datetime.now(settings.tz).strftime("%Y年%m月%d日"),
        "facts_contradicted": [r for r in reasons if r["kind"] == "contradicts_fact"],
        "debunks_matched": [r for r in reasons if r["kind"] == "matches_debunk"],
    }


def create_draft(
    session: Session, settings: Settings, incident: Incident, actor: str = "system"
) -> Draft:
    version = approved_version(session, incident.category)
    mentions = session.scalars(select(Mention).where(Mention.incident_id == incident.id)).all()
    body = render_string(version.body, **draft_context(settings, incident, list(mentions)))
    draft = Draft(
        incident_id=incident.id, template_version_id=version.id, body=body, last_editor=actor
    )
    session.add(draft)
    session.flush()
    session.add(
        DraftEvent(
            draft_id=draft.id, kind="created", actor=actor, comment=f"模板版本 v{version.version}"
        )
    )
    audit.record(
        session,
        actor,
        "draft.create",
        "draft",
        draft.id,
        after={"incident_id": incident.id, "template_version_id": version.id},
    )
    return draft


def draft_missing(session: Session, settings: Settings, actor: str = "system") -> list[Draft]:
    """A draft for every open incident that has none yet."""
    seed_templates(session)
    without = session.scalars(
        select(Incident).where(
            Incident.status == "open",
            ~select(Draft.id).where(Draft.incident_id == Incident.id).exists(),
        )
    ).all()
    return [create_draft(session, settings, incident, actor) for incident in without]
