"""The classification job: judge every mention that has no judgement yet."""

from __future__ import annotations

import logging
import time

from sqlalchemy import select
from sqlalchemy.orm import Session

import nlp
from responder.limits import clip
from responder.models import Judgement, Mention
from responder.settings import LimitsSettings
from responder.statuses import JudgementOrigin

log = logging.getLogger(__name__)


def unjudged(session: Session, limit: int) -> list[Mention]:
    return list(
        session.scalars(
            select(Mention)
            .where(~select(Judgement.id).where(Judgement.mention_id == Mention.id).exists())
            .order_by(Mention.id)
            .limit(limit)
        )
    )


def judgement_row(
    mention: Mention, judgement: nlp.Judgement, field_chars: int = LimitsSettings().field_chars
) -> Judgement:
    # A reason quotes the sentence it found; from a hostile page that sentence can be millions
    # of characters, and the reasons go into notices and reply drafts.
    reasons = [
        {k: clip(v, field_chars) if isinstance(v, str) else v for k, v in r.__dict__.items()}
        for r in judgement.misinfo_reasons
    ]
    return Judgement(
        mention_id=mention.id,
        origin=JudgementOrigin.MACHINE,
        sentiment=judgement.sentiment,
        sentiment_score=judgement.sentiment_score,
        category=judgement.category,
        category_score=judgement.category_score,
        misinfo=judgement.misinfo,
        misinfo_reasons=reasons,
        unsure=judgement.unsure,
        terms={"sentiment": judgement.sentiment_terms, "category": judgement.category_terms},
        backend=judgement.backend,
    )


def classify_pending(
    session: Session,
    classifier: nlp.Classifier,
    batch_size: int,
    field_chars: int = LimitsSettings().field_chars,
) -> int:
    """Judge unjudged mentions in batches; returns how many were judged."""
    started = time.monotonic()
    done = 0
    while batch := unjudged(session, batch_size):
        judgements = classifier.classify_many([(m.title, m.text) for m in batch])
        for mention, judgement in zip(batch, judgements, strict=True):
            session.add(judgement_row(mention, judgement, field_chars))
        session.flush()
        done += len(batch)
    if done:
        log.info("classified %d mentions in %.2f s", done, time.monotonic() - started)
    return done
