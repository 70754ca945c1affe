"""The classification job: judge every mention that has no judgement yet."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

import nlp
from responder.models import Judgement, Mention
from responder.settings import Settings

log = logging.getLogger(__name__)


def build_classifier(settings: Settings) -> nlp.Classifier:
    model_path = Path(settings.nlp.model_path) if settings.nlp.model_path else None
    return nlp.Classifier(
        backend=nlp.build_backend(settings.nlp.backend, model_path),
        facts=settings.facts,
        debunks=settings.debunks,
        rules=settings.keywords,
    )


def unjudged(session: Session, limit: int) -> list[Mention]:
    return list(
        session.scalars(
            select(Mention)
            .where(~select(Judgement.id).where(Judgement.mention_id == Mention.id).exists())
            .order_by(Mention.id)
            .limit(limit)
        )
    )


def judgement_row(mention: Mention, judgement: nlp.Judgement) -> Judgement:
    return Judgement(
        mention_id=mention.id,
        origin="machine",
        sentiment=judgement.sentiment,
        sentiment_score=judgement.sentiment_score,
        category=judgement.category,
        category_score=judgement.category_score,
        misinfo=judgement.misinfo,
        misinfo_reasons=[r.__dict__ for r in judgement.misinfo_reasons],
        backend=judgement.backend,
    )


def classify_pending(session: Session, classifier: nlp.Classifier, batch_size: int) -> int:
    """Judge unjudged mentions in batches; returns how many were judged."""
    done = 0
    while batch := unjudged(session, batch_size):
        judgements = classifier.classify_many([(m.title, m.text) for m in batch])
        for mention, judgement in zip(batch, judgements, strict=True):
            session.add(judgement_row(mention, judgement))
        session.flush()
        done += len(batch)
    if done:
        log.info("classified %d mentions", done)
    return done
