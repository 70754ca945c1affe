"""The configured classifier, built from the settings. Apart from the classification job so
that `yuqing classify` on a file never loads the database layer."""

from __future__ import annotations

from pathlib import Path

import nlp
from responder.settings import Settings


def build_classifier(settings: Settings, model_path: Path | None = None) -> nlp.Classifier:
    """The configured classifier; `model_path` replaces `nlp.model_path` (e.g. `yuqing eval`)."""
    config = settings.nlp
    rumor_path = settings.data_path(config.rumor.model_path)
    return nlp.Classifier(
        backend=nlp.build_backend(
            config.backend,
            model_path or settings.data_path(config.model_path),
            sentiment_model=settings.data_path(config.sentiment.model_path),
            category_model=settings.data_path(config.category.model_path),
            device=config.device,
            max_length=config.max_length,
            batch_size=config.batch_size,
            shipped_dir=settings.data_dir / "models" / "shipped",
        ),
        facts=settings.facts,
        debunks=settings.debunks,
        rules=settings.keywords,
        rumor_model=(
            nlp.RumorModel.load(rumor_path, config.rumor.threshold) if rumor_path else None
        ),
        unsure_margin=config.unsure_margin,
    )
