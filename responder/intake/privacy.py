"""Masking personal identifiers in mentions stored before masking was switched on.

New mentions are masked by `mentions.clean` as they are stored; this brings older rows (an
upgraded installation, or one that ran with `privacy.mask = false`) to the same state, with the
original kept only when `privacy.keep_original` allows it.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from nlp import pii
from responder import audit
from responder.audit import AuditAction
from responder.intake.mentions import content_hash
from responder.models import Mention
from responder.settings import PrivacySettings

log = logging.getLogger(__name__)


def mask_stored(
    session: Session, privacy: PrivacySettings, actor: str = "cli", batch: int = 500
) -> int:
    """Mask the title and text of every stored mention that still shows an identifier;
    returns how many changed. One audit row records the run (never the identifiers)."""
    changed = 0
    last_id = 0
    while True:
        rows = session.scalars(
            select(Mention).where(Mention.id > last_id).order_by(Mention.id).limit(batch)
        ).all()
        if not rows:
            break
        last_id = rows[-1].id
        for m in rows:
            title, text = pii.mask(m.title, privacy.kinds), pii.mask(m.text, privacy.kinds)
            if (title, text) == (m.title, m.text):
                continue
            if privacy.keep_original and m.original_text is None:
                m.original_title, m.original_text = m.title, m.text
            # The hash follows the stored words, so a later copy of the same story (masked as
            # it arrives) is still recognised as a duplicate.
            m.title, m.text, m.content_hash = title, text, content_hash(title, text)
            changed += 1
        session.flush()
    audit.record(
        session, actor, AuditAction.PRIVACY_MASK_STORED, "mention", "*", after={"masked": changed}
    )
    log.info("masked personal identifiers in %d stored mentions", changed)
    return changed
